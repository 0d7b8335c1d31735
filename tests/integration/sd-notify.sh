#!/bin/bash
# sd_notify (pluto.service is Type=notify): READY=1 once pluto serves its
# control socket, STATUS= kept current as connections come and go and as
# pluto starts and stops listening, STOPPING=1 on shutdown.
source "$(dirname "$0")/../lib/common.sh"
RECV="$SRCDIR/tests/lib/dgram-recv.py"
[ -x /usr/bin/python3 ] || skip_all "needs /usr/bin/python3"

N=$T/notify.records
export NOTIFY_SOCKET=$T/notify.sock
: >"$N"
/usr/bin/python3 "$RECV" "$NOTIFY_SOCKET" "$N" 2>"$T/recv.log" &
_pids+=($!)
wait_for 10 test -S "$NOTIFY_SOCKET" || { fail "notify receiver"; done_testing; }

has() { grep -qF -- "$1" "$N"; }
last_status() { grep '^STATUS=' "$N" | tail -1; }
status_is() { [ "$(last_status)" == "STATUS=$1" ]; }

# a start that fails never says READY=1
: >"$T/not-a-dir"
"$PLUTO" --nofork --stderrlog --nodbus --rundir "$T/failrun" --ctlbase "$T/not-a-dir/sock" >"$T/fail.log" 2>&1; rc=$?
check_fails "a pluto that cannot create its socket fails" test "$rc" -eq 0
check_not_contains "... and never sends READY=1" "READY=1" "$(cat "$N")"

start_pluto || { fail "pluto starts"; done_testing; }
check "READY=1 arrives" wait_for 5 has "READY=1"
check "the first STATUS=: no connections, not listening" \
	wait_for 5 status_is "0 connections, 0 states, not listening (need whack --listen)"
check_contains "Varlink answers once READY=1 was sent" '"interfaces"' \
	"$(varlink_call '{"method":"org.varlink.service.GetInfo"}')"

add_conn n1 >/dev/null
check "AddConnection: STATUS= counts 1 connection" \
	wait_for 5 status_is "1 connection, 0 states, not listening (need whack --listen)"
add_conn n2 192.0.2.3 >/dev/null
check "a second AddConnection: 2 connections" \
	wait_for 5 status_is "2 connections, 0 states, not listening (need whack --listen)"
varlink_call '{"method":"org.freeswan.pluto.Listen"}' >/dev/null
check "Listen: STATUS= says listening" wait_for 5 status_is "2 connections, 0 states, listening"
varlink_call '{"method":"org.freeswan.pluto.DeleteConnection","parameters":{"name":"n1"}}' >/dev/null
check "DeleteConnection: 1 connection" wait_for 5 status_is "1 connection, 0 states, listening"
varlink_call '{"method":"org.freeswan.pluto.Unlisten"}' >/dev/null
check "Unlisten: not listening again" \
	wait_for 5 status_is "1 connection, 0 states, not listening (need whack --listen)"
check_eq "READY=1 is sent once" 1 "$(grep -c '^READY=1$' "$N")"

check_eq "SIGTERM: exit 0" 0 "$(stop_pluto)"
check "SIGTERM: STOPPING=1 arrives" has "STOPPING=1"
check_not_contains "no sanitizer report" "Sanitizer" "$(cat "$T/pluto.log")"

# without NOTIFY_SOCKET pluto runs just the same (and sends nothing)
: >"$N"
unset NOTIFY_SOCKET
start_pluto || fail "pluto starts without NOTIFY_SOCKET"
check_contains "without NOTIFY_SOCKET: Varlink answers" '"interfaces"' \
	"$(varlink_call '{"method":"org.varlink.service.GetInfo"}')"
check_eq "without NOTIFY_SOCKET: nothing was sent" "" "$(cat "$N")"
check_eq "without NOTIFY_SOCKET: exit 0" 0 "$(stop_pluto)"

done_testing
