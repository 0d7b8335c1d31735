#!/bin/bash
# ipsecctl against a real pluto over Varlink: every subcommand, tables and
# --json (parsed with python's json), monitor streams, daemon errors shown
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
	"$(json_get 'all(k in d for k in ("version","listening","interfaces","kernelBackend","debugClasses","connections","states","text"))' <"$T/status.json")"

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

# --- shutdown: the monitors end too ---
check_eq "shutdown exits 0" 0 "$(status_of c shutdown)"
if wait_for 10 sh -c "! kill -0 $PLUTO_PID 2>/dev/null"; then ok "pluto exits after shutdown"; else fail "pluto exits after shutdown"; fi
if wait_for 10 sh -c "! kill -0 $MON1 2>/dev/null"; then ok "monitor ends when pluto goes"; else fail "monitor ends when pluto goes"; fi
wait "$MON1"
check_eq "monitor reports the lost daemon with exit 3" 3 "$?"
check_eq "status after shutdown exits 3" 3 "$(status_of c status)"

done_testing
