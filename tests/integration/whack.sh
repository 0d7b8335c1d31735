#!/bin/bash
# whack (API.md section 4) against a real pluto over Varlink: every form,
# the "NNN text" output, and the exit statuses: 1 for whack's own problems,
# else the code of the last significant line (20 DUPNAME, 21 UNKNOWN_NAME,
# 24 DEAF, 30 BADWHACKMESSAGE, 31 NORETRANSMISSION), 0 on success.
. "$SRCDIR/tests/lib/common.sh"
: "${WHACK:?run through meson test}"

w() { "$WHACK" "$@"; }
# conn_field NAME FIELD: a connection's field (or option with options.X) from Status
conn_field() {
	varlink_call '{"method":"org.freeswan.pluto.Status"}' | /usr/bin/python3 -c '
import json, sys
st = json.load(sys.stdin)["parameters"]
name, path = sys.argv[1], sys.argv[2].split(".")
for c in st["connections"]:
    if c["name"] == name:
        v = c
        for p in path:
            v = v[p]
        print(",".join(v) if isinstance(v, list) else v)
        sys.exit(0)
print("<no connection %s>" % name)' "$1" "$2"
}
global_debug() {
	varlink_call '{"method":"org.freeswan.pluto.Status"}' |
		/usr/bin/python3 -c 'import json,sys; print(",".join(json.load(sys.stdin)["parameters"]["debugClasses"]))'
}

# --- whack's own problems, before any daemon exists: exit 1 ---
check_eq "--help exits 0" 0 "$(status_of w --help)"
check_contains "--help lists --initiate" "--initiate" "$(cat "$T/last.out")"
check_eq "--version exits 0" 0 "$(status_of w --version)"
check_contains "--version names the version" "0.1.0" "$(cat "$T/last.out")"
check_eq "unknown flag exits 1" 1 "$(status_of w --bogus)"
check_contains "unknown flag is named" 'unknown flag "--bogus"' "$(cat "$T/last.out")"
check_eq "no action exits 1" 1 "$(status_of w --name x)"
check_eq "--initiate without --name exits 1" 1 "$(status_of w --initiate)"
check_eq "unhonoured --dnskeyondemand exits 1" 1 \
	"$(status_of w --name c --host 127.0.0.1 --dnskeyondemand --to --host 192.0.2.2)"
check_contains "--dnskeyondemand says why" "DNS" "$(cat "$T/last.out")"
check_eq "unhonoured --addkey exits 1" 1 "$(status_of w --keyid @x --addkey --pubkeyrsa 0sAQAB)"
check_eq "--label prefixes whack's diagnostics" 1 "$(status_of w --label my-label --bogus)"
check_contains "diagnostic carries the label" "whack error: my-label " "$(cat "$T/last.out")"
check_eq "daemon not running exits 1" 1 "$(status_of w --ctlbase "$T/no-such-socket" --status)"
check_contains "unreachable socket is named" "$T/no-such-socket" "$(cat "$T/last.out")"
check_eq "PLUTO_SOCKET is honoured" 1 "$(PLUTO_SOCKET="$T/env-socket" status_of w --status)"
check_contains "PLUTO_SOCKET path is named" "$T/env-socket" "$(cat "$T/last.out")"

start_pluto || { fail "pluto starts"; done_testing; }

# --- status: every line "000 text" ---
check_eq "--status exits 0" 0 "$(status_of w --status)"
out=$(cat "$T/last.out")
check_contains "--status shows the daemon" "000 pluto" "$out"
check_eq "every --status line starts with 000" "" "$(grep -v '^000 ' "$T/last.out")"
check_eq "--ctlbase overrides PLUTO_SOCKET" 0 "$(PLUTO_SOCKET=/nonexistent status_of w --ctlbase "$SOCK" --status)"

# --- connection form ---
check_eq "adding a connection exits 0" 0 "$(status_of w --name west --id @west --host 127.0.0.1 \
	--client 10.0.1.0/24 --ikeport 500 --to --id @east --host 192.0.2.2 --client 10.0.2.0/24 \
	--psk --encrypt --tunnel --pfs --ikelifetime 3600 --ipseclifetime 7200 --rekeymargin 60 \
	--rekeyfuzz 50 --keyingtries 5)"
check_eq "no output on success" "" "$(cat "$T/last.out")"
check_eq "left from --host" "127.0.0.1" "$(conn_field west options.left)"
check_eq "rightid from --id after --to" "@east" "$(conn_field west options.rightid)"
check_eq "leftsubnet from --client" "10.0.1.0/24" "$(conn_field west options.leftsubnet)"
check_eq "authby from --psk" "secret" "$(conn_field west options.authby)"
check_eq "phase2 from --encrypt" "esp" "$(conn_field west options.phase2)"
check_eq "type from --tunnel" "tunnel" "$(conn_field west options.type)"
check_eq "pfs from --pfs" "yes" "$(conn_field west options.pfs)"
check_eq "keyingtries from --keyingtries" "5" "$(conn_field west options.keyingtries)"
check_eq "rekeyfuzz from --rekeyfuzz" "50%" "$(conn_field west options.rekeyfuzz)"

check_eq "duplicate name exits 20" 20 "$(status_of w --name west --host 127.0.0.1 --to --host 192.0.2.2)"
check_contains "duplicate name prints 020" "020 " "$(cat "$T/last.out")"
check_eq "bad value exits 30 (InvalidOption)" 30 "$(status_of w --name bad --host 1.2.3 --to --host 192.0.2.2)"
check_contains "bad value is named" "1.2.3" "$(cat "$T/last.out")"

# transport mode without flags, --dontrekey, --authenticate
check_eq "transport connection exits 0" 0 \
	"$(status_of w --name tr --host 127.0.0.1 --to --host 192.0.2.3 --authenticate --dontrekey)"
check_eq "no --tunnel means transport" "transport" "$(conn_field tr options.type)"
check_eq "--authenticate means AH" "ah" "$(conn_field tr options.phase2)"
check_eq "--dontrekey means rekey=no" "no" "$(conn_field tr options.rekey)"

# --optionsfrom, with quoting and comments
cat >"$T/opts" <<'OPTS'
# a connection description from a file
--name "from-file" --host 127.0.0.1
--to --host 192.0.2.4 --rsasig
OPTS
check_eq "--optionsfrom exits 0" 0 "$(status_of w --optionsfrom "$T/opts")"
check_eq "--optionsfrom connection exists" "192.0.2.4" "$(conn_field from-file options.right)"
check_eq "--optionsfrom --rsasig" "rsasig" "$(conn_field from-file options.authby)"
check_eq "missing --optionsfrom file exits 1" 1 "$(status_of w --optionsfrom "$T/nonexistent")"
check_eq "--label on a daemon form exits 0" 0 "$(status_of w --label lbl --status)"

# --- unknown names: 21 ---
check_eq "--route unknown exits 21" 21 "$(status_of w --route --name nope)"
check_contains "unknown name prints 021" "021 " "$(cat "$T/last.out")"
check_contains "unknown name message names it" "nope" "$(cat "$T/last.out")"
check_eq "--delete unknown exits 21" 21 "$(status_of w --delete --name nope)"
check_eq "--terminate unknown exits 21" 21 "$(status_of w --terminate --name nope)"
check_eq "--deletestate unknown serial exits 21" 21 "$(status_of w --deletestate 999)"

# --- route / unroute ---
check_eq "--route exits 0" 0 "$(status_of w --route --name west)"
check_eq "routed: prospective" "prospective" "$(conn_field west routing)"
check_eq "--unroute exits 0" 0 "$(status_of w --unroute --name west)"
check_eq "unrouted" "unrouted" "$(conn_field west routing)"

# --- initiate / listen ---
check_eq "--initiate before --listen exits 24" 24 "$(status_of w --initiate --name west)"
check_contains "initiate before listen prints 024" "024 " "$(cat "$T/last.out")"
check_eq "--listen exits 0" 0 "$(status_of w --listen)"
# No secret for this pair of ids (the secrets file is empty): the engine
# refuses at once with NoKey, whack code 028. Negotiations with a live
# peer are tested in pluto-pluto.sh and tests/interop/.
check_eq "--initiate with no secret exits 28 (NoKey)" 28 "$(status_of w --initiate --name west)"
check_contains "initiate failure prints 028 naming the missing secret" "028 " "$(cat "$T/last.out")"
check_contains "and says which ids have no secret" "no preshared key" "$(cat "$T/last.out")"
check_eq "--initiate --asynchronous exits 28 too (fails at once)" 28 \
	"$(status_of w --initiate --name west --asynchronous)"
check_eq "--initiate unknown name exits 21" 21 "$(status_of w --initiate --name nope)"
check_eq "--terminate exits 0" 0 "$(status_of w --terminate --name west)"
check_eq "--unlisten exits 0" 0 "$(status_of w --unlisten)"
check_eq "--initiate after --unlisten exits 24" 24 "$(status_of w --initiate --name west)"

# --- public keys ---
openssl genrsa -out "$T/key.pem" 2048 2>/dev/null
mod=$(openssl rsa -in "$T/key.pem" -noout -modulus 2>/dev/null | sed 's/^Modulus=//')
check_eq "--keyid --pubkeyrsa exits 0" 0 "$(status_of w --keyid @east --pubkeyrsa "0x03010001$mod")"
check_eq "bad --pubkeyrsa exits 30 (InvalidOption)" 30 "$(status_of w --keyid @east --pubkeyrsa 0sAQ)"

# --- debug ---
check_eq "--debug-all exits 0" 0 "$(status_of w --debug-all)"
check_contains "global debug includes raw" "raw" "$(global_debug)"
check_eq "--debug-none exits 0" 0 "$(status_of w --debug-none)"
check_eq "global debug empty after --debug-none" "" "$(global_debug)"
check_eq "--debug-raw --debug-crypt exits 0" 0 "$(status_of w --debug-raw --debug-crypt)"
check_eq "global debug raw,crypt" "raw,crypt" "$(global_debug)"
check_eq "--debug-control --name west exits 0" 0 "$(status_of w --name west --debug-control)"
check_eq "connection debug control" "control" "$(conn_field west debugClasses)"
check_eq "global debug unchanged by --name" "raw,crypt" "$(global_debug)"
check_eq "--debug-* for an unknown connection exits 21" 21 "$(status_of w --name nope --debug-all)"

# --- delete ---
check_eq "--delete exits 0" 0 "$(status_of w --delete --name tr)"
check_eq "deleted connection is gone" "<no connection tr>" "$(conn_field tr name)"
check_eq "second --delete exits 21" 21 "$(status_of w --delete --name tr)"

# --- shutdown ---
check_eq "--shutdown exits 0" 0 "$(status_of w --shutdown)"
if wait_for 10 sh -c "! kill -0 $PLUTO_PID 2>/dev/null"; then ok "pluto exits after --shutdown"; else fail "pluto exits after --shutdown"; fi
check_eq "whack after shutdown exits 1" 1 "$(status_of w --status)"

done_testing
