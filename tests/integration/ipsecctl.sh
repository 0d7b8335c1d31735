#!/bin/bash
# ipsecctl against a real pluto over Varlink: every subcommand, tables and
# --json (parsed with python's json), monitor streams with timestamps,
# show NAME, list-algs (each spelling tried on the daemon), per-command
# help, clear connect errors, daemon errors shown
# as "ipsecctl: <ErrorName>: <message>" (exit 1), usage errors (exit 2),
# an unreachable daemon (exit 3).
. "$SRCDIR/tests/lib/common.sh"
: "${IPSECCTL:?run through meson test}"

c() { "$IPSECCTL" "$@"; }
PY=/usr/bin/python3
# json_get EXPR: evaluate EXPR on the JSON document on stdin (bound to d)
json_get() { $PY -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

# --- usage and help, no daemon needed ---
check_eq "--help exits 0" 0 "$(status_of c --help)"
check_contains "--help lists keys add" "keys add ID KEY" "$(cat "$T/last.out")"
check_eq "--version exits 0" 0 "$(status_of c --version)"
check_contains "--version names the version" "0.1.0" "$(cat "$T/last.out")"
check_eq "no command exits 2" 2 "$(status_of c)"
check_eq "unknown command exits 2" 2 "$(status_of c frobnicate)"
check_contains "unknown command is named" '"frobnicate"' "$(cat "$T/last.out")"
check_eq "unknown option exits 2" 2 "$(status_of c status --bogus)"
check_contains "unknown option is named" "--bogus" "$(cat "$T/last.out")"
check_eq "missing argument exits 2" 2 "$(status_of c up)"
check_eq "extra argument exits 2" 2 "$(status_of c delete a b)"
check_contains "extra argument is named" '"b"' "$(cat "$T/last.out")"
check_eq "--json on delete exits 2" 2 "$(status_of c delete a --json)"
check_eq "--socket without value exits 2" 2 "$(status_of c status --socket)"
check_eq "add without options exits 2" 2 "$(status_of c add x)"
check_eq "add with a non key=value word exits 2" 2 "$(status_of c add x left)"
check_contains "bad word is named" '"left"' "$(cat "$T/last.out")"
check_eq "add with a key twice exits 2" 2 "$(status_of c add x left=1.1.1.1 left=1.1.1.2)"
check_eq "add with a missing --file exits 2" 2 "$(status_of c add x --file "$T/none")"
check_eq "unreachable daemon exits 3" 3 "$(status_of c --socket "$T/nosock" status)"
check_contains "unreachable socket is named" "$T/nosock" "$(cat "$T/last.out")"
check_contains "no socket: asks whether pluto runs" "no such socket: is pluto running?" "$(cat "$T/last.out")"
# a socket file nobody listens on (a pluto that died)
$PY -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$T/deadsock"
check_eq "dead socket exits 3" 3 "$(status_of c --socket "$T/deadsock" status)"
check_contains "dead socket: nobody is listening" "nobody is listening: is pluto running?" "$(cat "$T/last.out")"

# --- per-command help ---
check_eq "help exits 0" 0 "$(status_of c help)"
cp "$T/last.out" "$T/help.txt"
check "help lists show with its summary" grep -Eq '^  show NAME \[--json\] +Show everything about one connection\.$' "$T/help.txt"
check_eq "--help is the same as help" "$(c help)" "$(c --help)"
check_eq "show --help exits 0" 0 "$(status_of c show --help)"
check_contains "show --help: usage" "Usage: ipsecctl [--socket PATH] show NAME [--json]" "$(cat "$T/last.out")"
check_contains "show --help: description" "SPIs, and the time left" "$(cat "$T/last.out")"
check_contains "show --help: its option --json" "--json" "$(cat "$T/last.out")"
check_eq "help show is show --help" "$(c show --help)" "$(c help show)"
check_eq "help keys add (two words) exits 0" 0 "$(status_of c help keys add)"
check_contains "help keys add: usage" "keys add ID KEY" "$(cat "$T/last.out")"
check_eq "help keys: the keys commands" "$(c help keys add)" "$(c help keys)"
check_eq "help keys frob exits 2" 2 "$(status_of c help keys frob)"
check_not_contains "delete --help lists no --json" "--json" "$(c delete --help)"
check_eq "help of an unknown command exits 2" 2 "$(status_of c help frobnicate)"
check_contains "help of an unknown command: named" '"frobnicate"' "$(cat "$T/last.out")"
check_contains "help of an unknown command: the list" "list-algs" "$(cat "$T/last.out")"
check_eq "unknown command: the list follows" "1" "$(c frobnicate 2>&1 | grep -c '^  monitor')"
# every row of the table has its help, and the man page names every command
cmds=$(c help | awk '/^  [a-z]/ { if ($2 ~ /^[a-z-]+$/) print $1 "_" $2; else print $1 }')
check "help lists at least 19 commands" test "$(echo "$cmds" | wc -l)" -ge 19
for cmd in $cmds; do
	cmd=${cmd/_/ }
	# shellcheck disable=SC2086
	check_eq "help $cmd exits 0" 0 "$(status_of c help $cmd)"
	# roff writes a dash as \-
	check "ipsecctl(8) documents $cmd" grep -Eq "^\.B[IR]? .*\b${cmd//-/'\\-'}\b" "$SRCDIR/man/ipsecctl.8"
done

# --- list-algs: pluto's algorithm table, no daemon needed ---
check_eq "list-algs exits 0 without a daemon" 0 "$(status_of c --socket "$T/nosock" list-algs)"
cp "$T/last.out" "$T/algs.txt"
check "list-algs: IKE DH groups with spellings" grep -Eq '^  modp2048 +modp2048, dh14$' "$T/algs.txt"
check "list-algs: AES-GCM with key sizes" grep -Eq '^  aes_gcm +aes_gcm\[KEY\].*; keys 128 \(default\), 192, 256$' "$T/algs.txt"
check "list-algs: AH integrity section" grep -q '^AH integrity (ah=):$' "$T/algs.txt"
c list-algs --json >"$T/algs.json"
check_eq "list-algs --json: every kind present" "aead,cipher,dh,hash" \
	"$(json_get '",".join(sorted({a["kind"] for a in d["algorithms"]}))' <"$T/algs.json")"
check_eq "list-algs --json: defaults" "True" "$(json_get '"ike" in d["defaults"] and "esp" in d["defaults"]' <"$T/algs.json")"
# every spelling listed, written with and without each key size, is one the daemon takes
$PY - "$T/algs.json" >"$T/algs.cases" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
for a in d["algorithms"]:
    for sp in a["spellings"]:
        words = [sp.replace("[KEY]", "")] + [sp.replace("[KEY]", str(k)) for k in a["keySizes"] if "[KEY]" in sp]
        for w in words:
            for use in a["uses"]:
                opts = {("cipher", "ike"): "ike=%s-sha1-modp2048", ("hash", "ike"): "ike=aes-%s-modp2048",
                        ("dh", "ike"): "ike=aes-sha1-%s", ("cipher", "esp"): "esp=%s-sha1",
                        ("aead", "esp"): "esp=%s", ("hash", "esp"): "esp=aes-%s",
                        ("hash", "ah"): "phase2=ah ah=%s"}[(a["kind"], use)]
                print(opts % w)
PYEOF
check "list-algs: at least 60 spellings to try" test "$(wc -l <"$T/algs.cases")" -ge 60

start_pluto || { fail "pluto starts"; done_testing; }

# monitor runs through the whole test, text and JSON
c monitor >"$T/monitor.txt" 2>&1 &
MON1=$!
c monitor --json >"$T/monitor.json" 2>&1 &
MON2=$!
_pids+=("$MON1" "$MON2")
wait_for 10 grep -q "managerChanged" "$T/monitor.txt" || fail "monitor (text) goes live"
wait_for 10 grep -q "managerChanged" "$T/monitor.json" || fail "monitor (json) goes live"

# --- add ---
check_eq "add with key=value exits 0" 0 "$(status_of c add west left=127.0.0.1 right=192.0.2.2 leftid=@west)"
cat >"$T/conn.conf" <<'CONF'
# a connection from a file
left = 127.0.0.1
right=192.0.2.3
leftupdown="/bin/true with args"

authby=secret
CONF
check_eq "add --file exits 0" 0 "$(status_of c add east --file "$T/conn.conf")"
check_eq "duplicate add exits 1" 1 "$(status_of c add west left=127.0.0.1 right=192.0.2.2)"
check_contains "DuplicateName error shown" "ipsecctl: DuplicateName: " "$(cat "$T/last.out")"
check_eq "invalid option exits 1" 1 "$(status_of c add bad left=127.0.0.1 right=192.0.2.2 bogus=1)"
check_contains "InvalidOption names the keyword" "ipsecctl: InvalidOption: " "$(cat "$T/last.out")"
check_contains "InvalidOption message names bogus" "bogus" "$(cat "$T/last.out")"
printf 'left=127.0.0.1\nnot a pair\n' >"$T/bad.conf"
check_eq "add --file with a bad line exits 2" 2 "$(status_of c add x --file "$T/bad.conf")"
check_contains "bad line is located" "bad.conf:2" "$(cat "$T/last.out")"

# --- status: table and JSON ---
check_eq "status exits 0" 0 "$(status_of c status)"
cp "$T/last.out" "$T/status.txt"
check "table header for connections" grep -Eq '^NAME +LEFT +RIGHT +ROUTING +STATES$' "$T/status.txt"
check "table header for states" grep -Eq '^SERIAL +CONNECTION +KIND +NAME +ESTABLISHED +PEER$' "$T/status.txt"
check "west row" grep -Eq '^west +127\.0\.0\.1 +192\.0\.2\.2 +unrouted +-$' "$T/status.txt"
check_contains "not listening shown" "Listening:   no" "$(cat "$T/status.txt")"
# columns line up: RIGHT starts at the same offset in the header and the rows
hdr=$(grep '^NAME' "$T/status.txt"); row=$(grep '^east' "$T/status.txt")
pre_hdr=${hdr%%RIGHT*}; pre_row=${row%%192.0.2.3*}
check_eq "RIGHT column aligned" "${#pre_hdr}" "${#pre_row}"
c status --json >"$T/status.json"
check_eq "status --json parses, listening false" "False" "$(json_get 'd["listening"]' <"$T/status.json")"
check_eq "status --json has west's right" "192.0.2.2" \
	"$(json_get '[x for x in d["connections"] if x["name"]=="west"][0]["options"]["right"]' <"$T/status.json")"
check_eq "add --file kept the quoted updown" "/bin/true with args" \
	"$(json_get '[x for x in d["connections"] if x["name"]=="east"][0]["options"]["leftupdown"]' <"$T/status.json")"
check_eq "status --json field names from the IDL" "True" \
	"$(json_get 'all(k in d for k in ("version","listening","interfaces","kernelBackend","debugClasses","connections","states"))' <"$T/status.json")"
check_eq "status --json leaves the whack text out (Status(text: false))" "False" \
	"$(json_get '"text" in d' <"$T/status.json")"
c status --json --text >"$T/status-text.json"
check_contains "status --json --text carries it" "pluto " "$(json_get 'd["text"]' <"$T/status-text.json")"
check_eq "... and the same connections" "$(json_get 'd["connections"]' <"$T/status.json")" \
	"$(json_get 'd["connections"]' <"$T/status-text.json")"
check_eq "--text without --json: a usage error" "2" "$(c status --text >/dev/null 2>&1; echo $?)"

# --- every spelling list-algs shows is accepted ---
refused=
while read -r opts; do
	# shellcheck disable=SC2086
	c add algtest left=127.0.0.1 right=192.0.2.9 $opts >"$T/alg.out" 2>&1 || refused="$refused [$opts: $(cat "$T/alg.out")]"
	c delete algtest >/dev/null 2>&1
done <"$T/algs.cases"
check_eq "every list-algs spelling is accepted by AddConnection" "" "$refused"

# --- show ---
check_eq "show exits 0" 0 "$(status_of c show west)"
cp "$T/last.out" "$T/show.txt"
check "show: the name" grep -qx 'Connection:  west' "$T/show.txt"
check "show: routing" grep -qx 'Routing:     unrouted' "$T/show.txt"
check "show: an option" grep -Eq '^  right +192\.0\.2\.2$' "$T/show.txt"
check "show: the leftid option" grep -Eq '^  leftid +@west$' "$T/show.txt"
check "show: no states" grep -qx 'States: none' "$T/show.txt"
if c status --json | json_get '"source" in [x for x in d["connections"] if x["name"]=="west"][0]' | grep -q True; then
	check "show: the source when the daemon gives it" grep -Eq '^Source: +api$' "$T/show.txt"
else
	check_not_contains "show: no Source line when the daemon gives none" "Source:" "$(cat "$T/show.txt")"
fi
c show east --json >"$T/show.json"
check_eq "show --json: the connection" "east" "$(json_get 'd["connection"]["name"]' <"$T/show.json")"
check_eq "show --json: its options" "/bin/true with args" "$(json_get 'd["connection"]["options"]["leftupdown"]' <"$T/show.json")"
check_eq "show --json: its states" "[]" "$(json_get 'd["states"]' <"$T/show.json")"
check_eq "show unknown exits 1" 1 "$(status_of c show nope)"
check_contains "show unknown: the daemon's UnknownName" 'ipsecctl: UnknownName: no connection named "nope"' "$(cat "$T/last.out")"
check_eq "show without a name exits 2" 2 "$(status_of c show)"
check_eq "list-names: the daemon's connections" "east west" "$(c list-names | sort | xargs)"
check_eq "list-names without a daemon: nothing, exit 3" "3:" "$(c --socket "$T/nosock" list-names 2>&1; echo "$?:")"

# --- route / unroute ---
check_eq "route exits 0" 0 "$(status_of c route west)"
check "routing prospective in table" grep -Eq '^west .* prospective ' <(c status)
check_eq "unroute exits 0" 0 "$(status_of c unroute west)"
check_eq "route unknown exits 1" 1 "$(status_of c route nope)"
check_contains "UnknownName shown" "ipsecctl: UnknownName: " "$(cat "$T/last.out")"
check_eq "unroute unknown exits 1" 1 "$(status_of c unroute nope)"

# --- up / down / listen ---
check_eq "up before listen exits 1" 1 "$(status_of c up west)"
check_contains "NotListening shown" "ipsecctl: NotListening: " "$(cat "$T/last.out")"
check_eq "listen exits 0" 0 "$(status_of c listen)"
check_eq "status --json says listening" "True" "$(c status --json | json_get 'd["listening"]')"
# no secret for the peer (empty secrets file): Initiate refused with NoKey
check_eq "up with no secret exits 1" 1 "$(status_of c up west)"
check_contains "NoKey shown" "ipsecctl: NoKey: " "$(cat "$T/last.out")"
check_eq "down exits 0" 0 "$(status_of c down west)"
check_eq "down unknown exits 1" 1 "$(status_of c down nope)"
check_eq "unlisten exits 0" 0 "$(status_of c unlisten)"
check_eq "status --json says not listening" "False" "$(c status --json | json_get 'd["listening"]')"

# --- keys, secrets, debug ---
openssl genrsa -out "$T/key.pem" 2048 2>/dev/null
mod=$(openssl rsa -in "$T/key.pem" -noout -modulus 2>/dev/null | sed 's/^Modulus=//')
check_eq "keys add exits 0" 0 "$(status_of c keys add @east "0x03010001$mod")"
check_eq "keys add bad key exits 1" 1 "$(status_of c keys add @east 0sAQ)"
check_contains "InvalidOption for the key" "ipsecctl: InvalidOption: " "$(cat "$T/last.out")"
check_eq "keys without add exits 2" 2 "$(status_of c keys @east x)"
echo ': PSK "not-shown-anywhere"' >"$T/ipsec.secrets"
check_eq "secrets reload exits 0" 0 "$(status_of c secrets reload)"
check_eq "debug all exits 0" 0 "$(status_of c debug all)"
check_contains "global debug includes crypt" "crypt" "$(c status --json | json_get 'd["debugClasses"]')"
check_eq "debug none exits 0" 0 "$(status_of c debug none)"
check_eq "global debug empty" "[]" "$(c status --json | json_get 'd["debugClasses"]')"
check_eq "debug for a connection exits 0" 0 "$(status_of c debug raw --connection west)"
check_eq "connection debug raw" "['raw']" \
	"$(c status --json | json_get '[x for x in d["connections"] if x["name"]=="west"][0]["debugClasses"]')"
check_eq "debug unknown class exits 1" 1 "$(status_of c debug nonsense)"
check_eq "debug unknown connection exits 1" 1 "$(status_of c debug raw --connection nope)"
check_eq "debug without class exits 2" 2 "$(status_of c debug)"

# --- delete ---
check_eq "delete exits 0" 0 "$(status_of c delete east)"
check_eq "deleted connection gone from JSON" "False" \
	"$(c status --json | json_get 'any(x["name"]=="east" for x in d["connections"])')"
check_eq "delete again exits 1" 1 "$(status_of c delete east)"

# --- what monitor saw ---
wait_for 10 grep -q "connectionRemoved connection=east" "$T/monitor.txt"
m=$(cat "$T/monitor.txt")
check_contains "monitor: connectionAdded line" "connectionAdded connection=west" "$m"
check_contains "monitor: routing change line" "connectionChanged connection=west routing=prospective" "$m"
check_contains "monitor: connectionRemoved line" "connectionRemoved connection=east" "$m"
check_eq "monitor --json: every line is a JSON Change" "ok" "$($PY -c '
import json, sys
events = [json.loads(l)["event"] for l in open(sys.argv[1]) if l.strip()]
need = {"managerChanged", "connectionAdded", "connectionRemoved", "connectionChanged"}
print("ok" if need <= set(events) else "missing %s in %s" % (need - set(events), events))' "$T/monitor.json")"
check_not_contains "no secret in monitor output" "not-shown-anywhere" "$m$(cat "$T/monitor.json")"
TS='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}'
check_eq "monitor: every line starts with a local ISO 8601 time with milliseconds" "" \
	"$(grep -Ev "^$TS [a-zA-Z]+( |$)" "$T/monitor.txt")"
check "monitor: the time is today's" grep -q "^$(date +%Y-%m-%dT)" "$T/monitor.txt"
check_eq "monitor --json: every change has a timestamp" "ok" "$($PY -c '
import json, re, sys
bad = [l for l in open(sys.argv[1]) if l.strip() and not re.fullmatch(sys.argv[2], json.loads(l).get("timestamp", ""))]
print("ok" if not bad else bad)' "$T/monitor.json" "$TS")"

# --- shutdown: the monitors end too ---
check_eq "shutdown exits 0" 0 "$(status_of c shutdown)"
if wait_for 10 sh -c "! kill -0 $PLUTO_PID 2>/dev/null"; then ok "pluto exits after shutdown"; else fail "pluto exits after shutdown"; fi
if wait_for 10 sh -c "! kill -0 $MON1 2>/dev/null"; then ok "monitor ends when pluto goes"; else fail "monitor ends when pluto goes"; fi
wait "$MON1"
check_eq "monitor reports the lost daemon with exit 3" 3 "$?"
check_eq "status after shutdown exits 3" 3 "$(status_of c status)"

done_testing
