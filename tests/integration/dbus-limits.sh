#!/bin/bash
# GetManagedObjects against a bus with a small message limit (issue 13
# point 6). A bus disconnects a sender whose message is bigger than its
# max_message_size (dbus-daemon: 32 MiB by default, which some 40,000
# connections and states pass), so pluto refuses a reply that would not
# fit with org.freedesktop.DBus.Error.LimitsExceeded naming the counts,
# stays on the bus, and answers again once the objects fit. The limit
# here is 16 KiB on both sides (the bus's max_message_size and pluto
# --dbus-max-message), so 24 connections are too many.
source "$SRCDIR/tests/lib/common.sh"

for tool in dbus-daemon busctl gdbus; do
	command -v "$tool" >/dev/null || skip_all "$tool not installed"
done

LIMIT=16384
# start_bus, with the limit: the test's own bus.conf
mkdir -p "$T/bus"
chmod 755 "$T" "$T/bus"
sed -e "s|@SOCKET@|$T/bus/socket|" -e "s|@POLICYDIR@|$SRCDIR/data/dbus-1|" \
	-e "s|</busconfig>|  <limit name=\"max_message_size\">$LIMIT</limit>\n</busconfig>|" \
	"$SRCDIR/tests/dbus/bus.conf.in" >"$T/bus/bus.conf"
dbus-daemon --config-file="$T/bus/bus.conf" --nofork --nopidfile >"$T/dbus.log" 2>&1 &
_pids+=($!)
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/bus/socket"
wait_for 10 test -S "$T/bus/socket" || { fail "private bus started"; done_testing; }
start_pluto --dbus-max-message "$LIMIT" || { fail "pluto started"; done_testing; }
ok "pluto with --dbus-max-message $LIMIT owns org.freeswan.pluto1 on a bus limited to $LIMIT bytes"

DEST=org.freeswan.pluto1
ROOT=/org/freeswan/pluto1
BUSCTL=(busctl --address="$DBUS_SYSTEM_BUS_ADDRESS")
gmo() { "${BUSCTL[@]}" call "$DEST" "$ROOT" org.freedesktop.DBus.ObjectManager GetManagedObjects 2>&1; }
# the error NAME, which busctl does not print: from gdbus
gmo_error() {
	gdbus call --system --dest "$DEST" --object-path "$ROOT" \
		--method org.freedesktop.DBus.ObjectManager.GetManagedObjects 2>&1 |
		sed -n 's/.*GDBus\.Error:\([^:]*\): \(.*\)/\1: \2/p'
}

# 24 connections in one Varlink batch: about 1,300 bytes each on D-Bus
for i in $(seq 1 24); do
	printf 'conn c%d\n\tleft=127.0.0.1\n\tright=192.0.2.%d\n' "$i" "$i"
done >"$T/batch.conf"
check "24 connections added" "$IPSECCTL" --socket "$SOCK" add --file "$T/batch.conf"

err=$(gmo_error)
check_contains "GetManagedObjects too big for the bus: LimitsExceeded" \
	"org.freedesktop.DBus.Error.LimitsExceeded: GetManagedObjects: 24 connections and 0 states" "$err"
check_contains "... which names the limit" "($LIMIT bytes, pluto --dbus-max-message)" "$err"
check_contains "... and says where to read them instead" "Varlink Status (ipsecctl status --json)" "$err"
check_eq "pluto is still on the bus (not disconnected by an oversized reply)" \
	"s \"$("$PLUTO" --version | sed 's/^pluto //')\"" \
	"$("${BUSCTL[@]}" get-property "$DEST" "$ROOT" org.freeswan.pluto1.Manager Version 2>&1)"
check_contains "one object is still read whole" '"Name" s "c24"' \
	"$("${BUSCTL[@]}" call "$DEST" "$ROOT/connection/c24" org.freedesktop.DBus.Properties GetAll s \
		org.freeswan.pluto1.Connection 2>&1)"

# down to 4: they fit again
for i in $(seq 5 24); do "$IPSECCTL" --socket "$SOCK" delete "c$i" >/dev/null 2>&1; done
out=$(gmo)
check_contains "with 4 connections GetManagedObjects answers" 'a{oa{sa{sv}}} 4 ' "$out"
check_contains "... with each object's interfaces and properties" \
	'"/org/freeswan/pluto1/connection/c1" 4 "org.freedesktop.DBus.Peer" 0 "org.freedesktop.DBus.Introspectable" 0 "org.freedesktop.DBus.Properties" 0 "org.freeswan.pluto1.Connection" ' \
	"$out"
check "pluto is still running" kill -0 "$PLUTO_PID"
check "the bus never dropped pluto for a big message" \
	bash -c "! grep -q 'max_message_size\\|message too large\\|exceeded' '$T/dbus.log'"

done_testing
