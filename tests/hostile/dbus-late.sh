#!/bin/bash
# A daemon that heals (issue 14, point 6), the other ways to be off the
# bus: no bus at start (pluto retries with back-off instead of giving up,
# and takes its name once dbus-daemon is up), the name held by someone
# else (at start, and again after a bus restart: pluto retries until it
# is free), and --nodbus (no D-Bus at all, never retried).
source "$SRCDIR/tests/lib/common.sh"

for tool in dbus-daemon busctl; do
	command -v "$tool" >/dev/null || skip_all "$tool not installed"
done
/usr/bin/python3 -c 'import dbus' 2>/dev/null || skip_all "needs python3-dbus (the name squatter)"

DEST=org.freeswan.pluto1
LOG=$T/pluto.log
owned() { busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" status "$DEST" >/dev/null 2>&1; }
# the name's owner: its process id
owner_pid() { busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" status "$DEST" 2>/dev/null | sed -n 's/^PID=//p'; }
bus_up() {
	rm -f "$T/bus/socket"
	dbus-daemon --config-file="$T/bus/bus.conf" --nofork --nopidfile >>"$T/dbus.log" 2>&1 &
	BUS_PID=$!
	_pids+=("$BUS_PID")
	wait_for 10 test -S "$T/bus/socket"
}
# squat: another client takes org.freeswan.pluto1 (root may own it)
squat() {
	/usr/bin/python3 -c 'import dbus, sys, time
b = dbus.bus.BusConnection(sys.argv[1])
r = b.request_name(sys.argv[2], dbus.bus.NAME_FLAG_DO_NOT_QUEUE)
print("owned" if r == dbus.bus.REQUEST_NAME_REPLY_PRIMARY_OWNER else "refused", flush=True)
time.sleep(60)' "$DBUS_SYSTEM_BUS_ADDRESS" "$DEST" >"$T/squat.out" 2>&1 &
	SQUAT_PID=$!
	_pids+=("$SQUAT_PID")
	wait_for 10 grep -q owned "$T/squat.out"
}

# --- 1. no bus at start: pluto runs, says so, and takes its name later ---
start_bus || { fail "private bus started"; done_testing; }
BUS_PID=${_pids[-1]}
kill -TERM "$BUS_PID"
wait "$BUS_PID" 2>/dev/null
rm -f "$T/bus/socket"
# systemd's STATUS= says pluto is off the bus (a receiver as sd-notify.sh's)
N=$T/notify.records
export NOTIFY_SOCKET=$T/notify.sock
: >"$N"
/usr/bin/python3 "$SRCDIR/tests/lib/dgram-recv.py" "$NOTIFY_SOCKET" "$N" 2>"$T/recv.log" &
_pids+=($!)
wait_for 10 test -S "$NOTIFY_SOCKET" || fail "notify receiver"
last_status() { grep '^STATUS=' "$N" | tail -1; }
status_says() { [[ "$(last_status)" == *"$1"* ]]; }
mkdir -p "$T/run"
SOCK=$T/run/org.freeswan.pluto
export PLUTO_SOCKET=$SOCK
: >"$T/ipsec.secrets"
spawn_pluto unshare -n sh -c 'ip link set lo up; exec "$@"' sh "$PLUTO" --nofork --stderrlog --debug-control --rundir "$T/run" --ctlbase "$SOCK" \
	--secretsfile "$T/ipsec.secrets"
check "pluto starts without a bus and serves Varlink" wait_for 10 test -S "$SOCK"
check "pluto says why it is off the bus, and that it tries again" wait_for 5 grep -q \
	"D-Bus: cannot connect to the system bus: No such file or directory (system bus at $DBUS_SYSTEM_BUS_ADDRESS): trying again in" "$LOG"
check_contains "AddConnection over Varlink while off the bus" '"parameters"' "$(add_conn early)"
check "STATUS= says pluto is off the bus" wait_for 5 status_says "1 connection, 0 states, not listening (need whack --listen); off the system bus, reconnecting"
check "pluto tries again (a second attempt)" wait_for 5 grep -q "attempt 2 failed" "$LOG"
bus_up || fail "dbus-daemon started late"
check "the late bus sees org.freeswan.pluto1 within 10 s" wait_for 10 owned
check "STATUS= no longer says so" wait_for 5 sh -c "grep '^STATUS=' '$N' | tail -1 | grep -qvF 'off the system bus'"
check "pluto logs that it is on the bus" \
	grep -q "D-Bus: connected to the system bus after [0-9.]* s ([2-9] failed attempts): serving $DEST$" "$LOG"
check_contains "GetManagedObjects lists the connection added before" '"/org/freeswan/pluto1/connection/early"' \
	"$(busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" call "$DEST" /org/freeswan/pluto1 org.freedesktop.DBus.ObjectManager GetManagedObjects 2>&1)"

# --- 2. after a bus restart the name is taken: pluto waits for it ---
kill -KILL "$BUS_PID"
wait "$BUS_PID" 2>/dev/null
check "pluto logs the lost bus" wait_for 5 grep -q "D-Bus: lost the system bus" "$LOG"
# the squatter must win the race: the bus comes back only after pluto's
# first attempt failed, so that its next one is a second away
cannot_connect() { [ "$(grep -c "^D-Bus: cannot connect to the system bus: .*trying again" "$LOG")" -ge "$1" ]; }
check "pluto's first attempt fails" wait_for 5 cannot_connect 2
bus_up || fail "dbus-daemon started again"
check "another client takes org.freeswan.pluto1" squat
check "pluto says the name is taken" wait_for 10 grep -q "D-Bus: cannot own the name $DEST: File exists" "$LOG"
check_eq "the squatter owns the name" "$SQUAT_PID" "$(owner_pid)"
kill -TERM "$SQUAT_PID"
check "pluto takes its name once it is free" wait_for 10 sh -c "busctl --address='$DBUS_SYSTEM_BUS_ADDRESS' status $DEST 2>/dev/null | grep -qx PID=$PLUTO_PID"
check "pluto logs that it is back" grep -q "D-Bus: reconnected to the system bus after" "$LOG"
check "a method works" busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" call "$DEST" /org/freeswan/pluto1 org.freeswan.pluto1.Manager Status
check_eq "pluto exits 0" 0 "$(stop_pluto)"
check_not_contains "no sanitizer report" "Sanitizer" "$(cat "$LOG")"
check_not_contains "no UBSan report" "runtime error" "$(cat "$LOG")"

# --- 3. --nodbus: no D-Bus at all, never retried, even with a bus there ---
mv "$LOG" "$T/pluto-1.log"
spawn_pluto unshare -n "$PLUTO" --nofork --stderrlog --rundir "$T/run" --ctlbase "$SOCK" \
	--secretsfile "$T/ipsec.secrets" --nodbus
check "pluto --nodbus starts" wait_for 10 test -S "$SOCK"
sleep 1.5
check_fails "with --nodbus pluto does not take the name" owned
check_not_contains "with --nodbus pluto says nothing of D-Bus" "D-Bus" "$(cat "$LOG")"
check_eq "pluto --nodbus exits 0" 0 "$(stop_pluto)"

done_testing
