#!/bin/bash
# AddConnections (API.md sections 2 and 3): many connections in one call,
# all or nothing, over D-Bus (busctl, error names from gdbus), over Varlink
# (socat) and through ipsecctl add --file; and the coalesced change
# signals: a watcher (gdbus monitor) still sees every object and the
# final property values.
source "$SRCDIR/tests/lib/common.sh"

for tool in dbus-daemon busctl gdbus socat jq; do
	command -v "$tool" >/dev/null || skip_all "$tool not installed"
done

start_bus || { fail "private bus started"; done_testing; }
start_pluto || { fail "pluto started"; done_testing; }

DEST=org.freeswan.pluto1
ROOT=/org/freeswan/pluto1
MGR=org.freeswan.pluto1.Manager
BUSCTL=(busctl --address="$DBUS_SYSTEM_BUS_ADDRESS")
P=org.freeswan.pluto

gdbus monitor --system --dest "$DEST" >"$T/monitor.log" 2>&1 &
_pids+=($!)
wait_for 10 grep -q "is owned by" "$T/monitor.log" || fail "gdbus monitor started"

names() { "$IPSECCTL" --socket "$SOCK" list-names | sort | paste -sd, -; }
add_dbus() { "${BUSCTL[@]}" call "$DEST" "$ROOT" "$MGR" AddConnections 'a(sa{ss})' "$@" 2>&1; }
# error_of GDBUS-VARIANT: the error name and message of AddConnections
error_of() {
	gdbus call --system --dest "$DEST" --object-path "$ROOT" --method "$MGR.AddConnections" "$1" 2>&1 |
		sed -n 's/.*GDBus\.Error:\([^:]*\): \(.*\)/\1: \2/p'
}
vcall() { varlink_call "{\"method\":\"$P.$1\",\"parameters\":$2}"; }
opts() { echo "{\"left\":\"127.0.0.1\",\"right\":\"$1\"}"; }

# --- D-Bus ---
check_eq "introspection: AddConnections takes a(sa{ss}) and returns ao" "a(sa{ss}) ao" \
	"$("${BUSCTL[@]}" introspect "$DEST" "$ROOT" "$MGR" | awk '$1 == ".AddConnections" { print $3, $4 }')"
check_eq "AddConnections returns the object paths in order" \
	'ao 2 "/org/freeswan/pluto1/connection/d1" "/org/freeswan/pluto1/connection/d2"' \
	"$(add_dbus 2 d1 2 left 127.0.0.1 right 192.0.2.11 d2 3 left 127.0.0.1 right 192.0.2.12 auto route)"
check_eq "both are there" "d1,d2" "$(names)"
check_eq "d2's auto=route applied" 's "prospective"' \
	"$("${BUSCTL[@]}" get-property "$DEST" "$ROOT/connection/d2" org.freeswan.pluto1.Connection Routing)"

check_eq "a bad key: InvalidOption naming the entry and the key" \
	"org.freeswan.pluto1.Error.InvalidOption: entry 1 (connection \"d4\"): unknown option keyword 'rightx'" \
	"$(error_of "[('d3', {'left': '127.0.0.1', 'right': '192.0.2.13'}), ('d4', {'left': '127.0.0.1', 'rightx': '192.0.2.14'})]")"
check_eq "a bad value: InvalidOption naming the entry, key and value" \
	"org.freeswan.pluto1.Error.InvalidOption: entry 0 (connection \"d5\"): invalid value 'nowhere..' for option 'right': not an IP address" \
	"$(error_of "[('d5', {'left': '127.0.0.1', 'right': 'nowhere..'}), ('d6', {'left': '127.0.0.1', 'right': '192.0.2.16'})]")"
check_eq "a name twice in the batch: DuplicateName" \
	"org.freeswan.pluto1.Error.DuplicateName: entry 1: connection \"d7\" is also entry 0 of the batch" \
	"$(error_of "[('d7', {'left': '127.0.0.1', 'right': '192.0.2.17'}), ('d7', {'left': '127.0.0.1', 'right': '192.0.2.18'})]")"
check_eq "a name already defined: DuplicateName" \
	"org.freeswan.pluto1.Error.DuplicateName: entry 1: attempt to redefine connection \"d1\"" \
	"$(error_of "[('d8', {'left': '127.0.0.1', 'right': '192.0.2.19'}), ('d1', {'left': '127.0.0.1', 'right': '192.0.2.11'})]")"
check_eq "all or nothing: none of the failed batches' good entries was added" "d1,d2" "$(names)"
check_eq "an empty batch adds nothing" "ao 0" "$(add_dbus 0)"

# --- Varlink ---
r=$(vcall AddConnections "{\"connections\":[{\"name\":\"v1\",\"options\":$(opts 192.0.2.21)},{\"name\":\"v2\",\"options\":$(opts 192.0.2.22)}]}")
check_eq "Varlink AddConnections replies {}" '{"parameters":{}}' "$(jq -c . <<<"$r")"
check_eq "both are there" "d1,d2,v1,v2" "$(names)"
r=$(vcall AddConnections "{\"connections\":[{\"name\":\"v3\",\"options\":$(opts 192.0.2.23)},{\"name\":\"v4\",\"options\":{\"left\":\"127.0.0.1\",\"right\":\"192.0.2.24\",\"ike\":\"rot13\"}}]}")
check_eq "Varlink: a bad entry is $P.InvalidOption" "$P.InvalidOption" "$(jq -r .error <<<"$r")"
check_contains "Varlink: the message names the entry and the key" "entry 1 (connection \"v4\")" \
	"$(jq -r .parameters.message <<<"$r")"
check_contains "Varlink: ... and the option" "ike" "$(jq -r .parameters.message <<<"$r")"
r=$(vcall AddConnections "{\"connections\":[{\"name\":\"v5\",\"options\":$(opts 192.0.2.25)},{\"name\":\"v1\",\"options\":$(opts 192.0.2.21)}]}")
check_eq "Varlink: an existing name is $P.DuplicateName" "$P.DuplicateName" "$(jq -r .error <<<"$r")"
r=$(vcall AddConnections '{"connections":[{"name":"v6"}]}')
check_eq "Varlink: an entry without options is InvalidParameter" \
	"org.varlink.service.InvalidParameter connections" "$(jq -r '.error + " " + .parameters.parameter' <<<"$r")"
check_eq "all or nothing over Varlink too" "d1,d2,v1,v2" "$(names)"

# --- ipsecctl add --file ---
printf '# two\nconn f1\n\tleft=127.0.0.1\n\tright=192.0.2.31\n\nconn f2\n left=127.0.0.1\n right=192.0.2.32\n' >"$T/batch"
check_eq "ipsecctl add --file: one batch" "added 2 connections" "$("$IPSECCTL" --socket "$SOCK" add --file "$T/batch" 2>&1)"
printf 'conn f3\n\tleft=127.0.0.1\n\tright=192.0.2.33\nconn f4\n\tleft=127.0.0.1\n\tright=192.0.2.34\n\tauthby=telepathy\n' >"$T/bad"
out=$("$IPSECCTL" --socket "$SOCK" add --file "$T/bad" 2>&1); rc=$?
check_eq "ipsecctl add --file: a bad entry exits 1" 1 "$rc"
check_contains "... naming the entry and the option" "entry 1 (connection \"f4\")" "$out"
check_contains "... and the key" "authby" "$out"
printf 'left=127.0.0.1\nconn f5\n' >"$T/nosection"
out=$("$IPSECCTL" --socket "$SOCK" add --file "$T/nosection" 2>&1); rc=$?
check_eq "ipsecctl add --file: options before a conn line are a usage error" 2 "$rc"
check_contains "... naming file and line" "$T/nosection:1:" "$out"
check_eq "nothing of the bad files was added" "d1,d2,f1,f2,v1,v2" "$(names)"

# --- the watcher: coalesced signals, final values ---
check "the monitor saw d2 appear" wait_for 5 grep -q "InterfacesAdded (objectpath '/org/freeswan/pluto1/connection/d2'" "$T/monitor.log"
check_contains "its InterfacesAdded carries the final Routing (auto=route applied in the same call)" \
	"'Routing': <'prospective'>" "$(grep "InterfacesAdded (objectpath '/org/freeswan/pluto1/connection/d2'" "$T/monitor.log")"
check_eq "no PropertiesChanged for d2 (nothing changed after it was announced)" 0 \
	"$(grep -c "^/org/freeswan/pluto1/connection/d2: org.freedesktop.DBus.Properties.PropertiesChanged" "$T/monitor.log")"
check_eq "no failed batch entry was ever announced" 0 \
	"$(grep -cE "connection/(d3|d5|d7|d8|v3|v5|f3|f4)'" "$T/monitor.log")"
# change d1 twice at once in the daemon's eyes: route then unroute; the last value is what a reader gets
"${BUSCTL[@]}" call "$DEST" "$ROOT/connection/d1" org.freeswan.pluto1.Connection Route >/dev/null
"${BUSCTL[@]}" call "$DEST" "$ROOT/connection/d1" org.freeswan.pluto1.Connection Unroute >/dev/null
check "the watcher sees d1 back to unrouted" \
	wait_for 5 sh -c "grep '^/org/freeswan/pluto1/connection/d1: org.freedesktop.DBus.Properties.PropertiesChanged' '$T/monitor.log' | tail -1 | grep -q \"'Routing': <'unrouted'>\""
"${BUSCTL[@]}" call "$DEST" "$ROOT" "$MGR" DeleteConnection s v2 >/dev/null
check "the watcher sees v2 go" wait_for 5 grep -q "InterfacesRemoved (objectpath '/org/freeswan/pluto1/connection/v2'" "$T/monitor.log"

stop_pluto
done_testing
