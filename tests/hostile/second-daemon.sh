#!/bin/bash
# Issue 14 point 5: a second pluto with another --rundir but the same
# --ctlbase used to unlink the first one's control socket, bind its own and
# delete it on exit, leaving the first unreachable. Now the socket path is
# claimed (an flock()ed PATH.lock and nobody answering on PATH): the second
# exits at once naming the socket, and the first's socket still answers
# after it is gone. A socket left by a pluto that died is still replaced.
. "$SRCDIR/tests/lib/common.sh"
command -v socat >/dev/null || skip_all "socat is missing"

start_pluto
first=$PLUTO_PID
ino=$(stat -c %i "$SOCK")

# the second: same socket, its own rundir, its own network namespace
mkdir -p "$T/run2"
start=$(date +%s)
status=$(status_of timeout 20 unshare -n "$PLUTO" --nofork --stderrlog --rundir "$T/run2" \
	--ctlbase "$SOCK" --secretsfile "$T/ipsec.secrets" --nodbus)
out=$(cat "$T/last.out")
check "the second pluto refuses to start (exit $status)" test "$status" -ne 0 -a "$status" -ne 124
check "it refuses at once" test $(($(date +%s) - start)) -lt 5
check_contains "the message names the socket" "control socket \"$SOCK\" is in use" "$out"
check_contains "the message names the holder's pid" "(pid $first)" "$out"
check "the first one's socket still exists" test -S "$SOCK"
check_eq "it is the same socket file" "$ino" "$(stat -c %i "$SOCK")"
check_contains "the first pluto still answers" '"vendor"' \
	"$(varlink_call '{"method":"org.varlink.service.GetInfo"}')"
check "the second left no pid file behind" test ! -e "$T/run2/pluto.pid"

# a live listener that is not pluto and took no lock (here: socat) is
# not replaced either
check_eq "the first pluto exits cleanly" 0 "$(stop_pluto)"
check "its socket and lock file are gone" test ! -e "$SOCK" -a ! -e "$SOCK.lock"
socat "UNIX-LISTEN:$SOCK,fork" /dev/null &
_pids+=($!)
wait_for 5 test -S "$SOCK"
status=$(status_of timeout 20 unshare -n "$PLUTO" --nofork --stderrlog --rundir "$T/run2" \
	--ctlbase "$SOCK" --secretsfile "$T/ipsec.secrets" --nodbus)
out=$(cat "$T/last.out")
check "pluto refuses a socket another process listens on (exit $status)" test "$status" -ne 0 -a "$status" -ne 124
check_contains "and says so, naming the socket" "control socket \"$SOCK\" is in use: a live process" "$out"
check "the other process's socket is left alone" test -S "$SOCK"
kill "${_pids[-1]}"
wait_for 5 sh -c "! kill -0 ${_pids[-1]}"

# a socket nobody answers on (a pluto killed with SIGKILL) is replaced
rm -f "$SOCK"
/usr/bin/python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$SOCK"
check "a dead socket file is there" test -S "$SOCK"
start_pluto   # returns at once: the dead socket file is there already
wait_for 10 grep -q "varlink: serving" "$T/pluto.log"
check_contains "a pluto replaces a dead socket" '"vendor"' \
	"$(varlink_call '{"method":"org.varlink.service.GetInfo"}')"
check_eq "and exits cleanly" 0 "$(stop_pluto)"
done_testing
