#!/bin/bash
# Issue 14 point 4: idle Varlink clients beyond the descriptor limit. pluto
# runs with a soft limit of 32 and a hard limit of 64: it must raise the
# soft one to 64, take clients up to its budget (the limit less what is
# open less a reserve for IKE, netlink and logging), refuse the rest at
# once with one log line, and never spin. Then its limit is lowered under
# its feet (prlimit --pid) so that accept() itself fails with EMFILE: it
# must stop accepting with one log line, stay idle, and serve again once
# clients leave. The old code wrote a line per failed accept, in a loop.
. "$SRCDIR/tests/lib/common.sh"
command -v prlimit >/dev/null || skip_all "prlimit (util-linux) is missing"
command -v socat >/dev/null || skip_all "socat is missing"

mkdir -p "$T/run"
SOCK=$T/run/org.freeswan.pluto
export PLUTO_SOCKET=$SOCK
: >"$T/ipsec.secrets"
spawn_pluto prlimit --nofile=32:64 -- unshare -n sh -c 'ip link set lo up; exec "$@"' sh \
	"$PLUTO" --nofork --stderrlog --rundir "$T/run" --ctlbase "$SOCK" \
	--secretsfile "$T/ipsec.secrets" --nodbus
wait_for 10 test -S "$SOCK" || { cat "$T/pluto.log" >&2; exit 1; }

check_contains "the soft limit was raised to the hard limit (log)" \
	"file descriptor limit raised from 32 to 64" "$(cat "$T/pluto.log")"
check_eq "the soft limit was raised to the hard limit (/proc)" 64 \
	"$(awk '/^Max open files/ {print $4}' "/proc/$PLUTO_PID/limits")"
budget=$(sed -n 's/.*varlink: up to \([0-9]*\) clients.*/\1/p' "$T/pluto.log")
check "the client budget is logged and below the limit" test "${budget:-999}" -lt 64

# cpu_ticks: utime + stime of pluto, in clock ticks
cpu_ticks() { awk '{print $14 + $15}' "/proc/$PLUTO_PID/stat"; }
tick_hz=$(getconf CLK_TCK)

# clients.py N RELEASE OUT: open N connections, note which the daemon
# closed at once (refused) and which stay open (accepted); ask the first
# accepted one for GetInfo while the others are held; hold them until the
# file RELEASE exists.
cat >"$T/clients.py" <<'PY'
import os, select, socket, sys, time
n, release, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
path = os.environ["SOCK"]
conns = []
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect(path)
    except OSError:
        s.close()
        continue
    conns.append(s)
# the daemon closes the refused ones as it gets to them: classify until
# two looks half a second apart agree (at most 5 s)
accepted, refused, last = conns, 0, -1
deadline = time.time() + 5
while refused != last and time.time() < deadline:
    last = refused
    time.sleep(0.5)
    still = []
    for s in accepted:
        r, _, _ = select.select([s], [], [], 0)
        if r:
            try:
                data = s.recv(1)
            except OSError:
                data = b""
            if data == b"":
                refused += 1
                s.close()
                continue
        still.append(s)
    accepted = still
served = 0
if accepted:
    s = accepted[0]
    s.settimeout(3)
    try:
        s.sendall(b'{"method":"org.varlink.service.GetInfo"}\0')
        if b"vendor" in s.recv(65536):
            served = 1
    except OSError:
        pass
with open(out + ".tmp", "w") as f:
    f.write("%d %d %d\n" % (len(conns), refused, served))
os.rename(out + ".tmp", out)
while not os.path.exists(release):
    time.sleep(0.05)
PY
export SOCK

# --- 1. more clients than the budget: the rest are refused at once ---
/usr/bin/python3 "$T/clients.py" 100 "$T/release1" "$T/counts1" &
_pids+=($!)
py1=$!
wait_for 20 test -s "$T/counts1"
read -r connected refused served <"$T/counts1"
check_eq "100 clients connected" 100 "$connected"
check_eq "clients beyond the budget are refused (connection closed)" $((100 - budget)) "$refused"
check_eq "a connected client is served while others are refused" 1 "$served"
before=$(cpu_ticks)
sleep 3
after=$(cpu_ticks)
check "pluto stays idle with $budget idle clients (cpu $((after - before)) ticks in 3 s)" \
	test $((after - before)) -lt $((tick_hz / 2))
status=$(status_of timeout 10 "$IPSECCTL" status)
check_eq "ipsecctl beyond the budget fails (exit 3: no daemon)" 3 "$status"
check_contains "and says pluto closed the connection" "pluto at $SOCK closed the connection" "$(cat "$T/last.out")"
n=$(grep -c "refusing new clients" "$T/pluto.log")
check_eq "one log line for the refused clients" 1 "$n"
touch "$T/release1"
wait "$py1"
wait_for 5 grep -q "accepting clients again" "$T/pluto.log"
check_contains "a new client is served once they left" '"vendor"' \
	"$(varlink_call '{"method":"org.varlink.service.GetInfo"}')"

# --- 2. accept() itself fails (EMFILE): pause, one line, no spinning ---
open_now=$(ls "/proc/$PLUTO_PID/fd" | wc -l)
prlimit --pid "$PLUTO_PID" --nofile=$((open_now + 3)):64
/usr/bin/python3 "$T/clients.py" 20 "$T/release2" "$T/counts2" &
_pids+=($!)
py2=$!
wait_for 20 test -s "$T/counts2"
before=$(cpu_ticks)
sleep 3
after=$(cpu_ticks)
check "pluto does not spin on EMFILE (cpu $((after - before)) ticks in 3 s)" \
	test $((after - before)) -lt $((tick_hz / 2))
n=$(grep -c "out of file descriptors" "$T/pluto.log")
check_eq "one log line for EMFILE" 1 "$n"
lines=$(wc -l <"$T/pluto.log")
check "the log stays short ($lines lines)" test "$lines" -lt 60
touch "$T/release2"
wait "$py2"
prlimit --pid "$PLUTO_PID" --nofile=64:64
check_contains "a new client is served once the clients left" '"vendor"' \
	"$(varlink_call '{"method":"org.varlink.service.GetInfo"}')"
check_eq "pluto exits cleanly" 0 "$(stop_pluto)"
done_testing
