#!/bin/bash
# A daemon that heals (issue 14, point 6), the journal: pluto logs to
# /run/systemd/journal/socket (run by systemd: $INVOCATION_ID); here, in a
# private mount namespace, a receiver of our own sits there (as in
# tests/integration/journal.sh) and goes away in the three ways a journal
# can: nobody bound to the socket (ECONNREFUSED), no socket at all
# (ENOENT: sd_journal_sendv called that a success and lost the lines),
# and bound but not reading (a stopped journald: sd_journal_sendv blocked
# the whole daemon once the queue was full). Each time the lines go to
# stderr with a <priority> prefix, pluto says once that the journal is
# unreachable, keeps answering, and says once, in the journal, that it
# is back.
if [ -z "${PLUTO_JOURNAL_TEST_NS:-}" ]; then
	unshare -m --propagation private true 2>/dev/null ||
		{ echo "1..0 # SKIP cannot create a mount namespace"; exit 77; }
	PLUTO_JOURNAL_TEST_NS=1 exec unshare -m --propagation private "$0" "$@"
fi
source "$(dirname "$0")/../lib/common.sh"
RECV="$SRCDIR/tests/lib/dgram-recv.py"
[ -x /usr/bin/python3 ] || skip_all "needs /usr/bin/python3"

JSOCK=/run/systemd/journal/socket
J=$T/journal.records
LOG=$T/pluto.log
mkdir -p /run/systemd
mount -t tmpfs -o mode=755 tmpfs /run/systemd || skip_all "cannot mount a tmpfs on /run/systemd"
mkdir /run/systemd/journal

receiver_up() {
	rm -f "$JSOCK"
	/usr/bin/python3 "$RECV" "$JSOCK" "$J" 2>>"$T/recv.log" &
	RECV_PID=$!
	_pids+=("$RECV_PID")
	wait_for 10 test -S "$JSOCK"
}
receiver_down() {   # SIGKILL: the socket file stays, nobody bound to it
	kill -KILL "$RECV_PID"
	wait "$RECV_PID" 2>/dev/null
}
in_journal() { grep -qF -- "$1" "$J"; }
in_stderr()  { grep -qF -- "$1" "$LOG"; }
count_stderr() { grep -cF -- "$1" "$LOG"; }
UNREACHABLE="pluto: the journal does not take log lines ($JSOCK:"
BACK="the journal takes log lines again after"

: >"$J"
receiver_up || { fail "journal receiver started"; done_testing; }
unset JOURNAL_STREAM NOTIFY_SOCKET
PLUTO_LOG_OPTION='' INVOCATION_ID=0123456789abcdef0123456789abcdef start_pluto ||
	{ fail "pluto starts logging to the journal"; done_testing; }
add_conn a1 >/dev/null
check "a line reaches the journal" wait_for 5 in_journal 'MESSAGE="a1": added connection'
check_fails "... and not stderr" in_stderr '"a1": added connection'

# --- 1. nobody bound to the socket ---
receiver_down
check_contains "AddConnection answers with the journal gone" '"parameters"' "$(add_conn b1)"
check "the line goes to stderr, with its priority" in_stderr '<6>"b1": added connection'
check "pluto says the journal is unreachable, and why" in_stderr "<3>$UNREACHABLE Connection refused): they go to stderr until it does"
add_conn b2 >/dev/null

# --- 2. no socket at all ---
rm -f "$JSOCK"
add_conn c1 >/dev/null
check "with no socket the line goes to stderr too (not lost)" in_stderr '<6>"c1": added connection'
check_eq "the journal is said unreachable once" 1 "$(count_stderr "$UNREACHABLE")"

# --- 3. back ---
receiver_up || fail "journal receiver started again"
add_conn d1 >/dev/null
check "pluto says in the journal that it is back" wait_for 5 in_journal "MESSAGE=$BACK"
check "... counting the lines that went to stderr" \
	grep -Eq "MESSAGE=$BACK [0-9.]+ s; ([3-9]|[1-9][0-9]+) went to stderr meanwhile" "$J"
check_fails "... and only there (not on stderr: under systemd the journal's stream)" in_stderr "$BACK"
check "the next line is in the journal" wait_for 5 in_journal 'MESSAGE="d1": added connection'
check_fails "... and not on stderr" in_stderr '"d1": added connection'
check_fails "lines of the outage are not in the journal" in_journal '"b1": added connection'

# --- 4. bound but not reading: a stopped journald ---
receiver_down
rm -f "$JSOCK"
/usr/bin/python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
time.sleep(120)' "$JSOCK" &
STUCK_PID=$!
_pids+=("$STUCK_PID")
wait_for 10 test -S "$JSOCK" || fail "a journal that does not read"
start=$(date +%s%N)
for i in $(seq 1 40); do add_conn "e$i" >/dev/null; done
ms=$((($(date +%s%N) - start) / 1000000))
echo "# 40 AddConnection calls against a journal that does not read: $ms ms"
check "pluto keeps answering: 40 calls in under 10 s" test "$ms" -lt 10000
check_contains "... and Status answers" '"parameters"' \
	"$(varlink_call '{"method":"org.freeswan.pluto.Status"}')"
check "the lines the queue had no room for go to stderr" in_stderr '<6>"e40": added connection'
check "pluto says the journal is unreachable (no room)" in_stderr "<3>$UNREACHABLE Resource temporarily unavailable)"
check_eq "once per outage" 2 "$(count_stderr "$UNREACHABLE")"
kill -KILL "$STUCK_PID"
wait "$STUCK_PID" 2>/dev/null
receiver_up || fail "journal receiver started a third time"
add_conn f1 >/dev/null
check "pluto says in the journal that it is back again" wait_for 5 sh -c "[ \$(grep -c 'MESSAGE=$BACK' '$J') -eq 2 ]"
check "the next line is in the journal" wait_for 5 in_journal 'MESSAGE="f1": added connection'

check "pluto is still running" kill -0 "$PLUTO_PID"
check_eq "pluto exits 0" 0 "$(stop_pluto)"
check "the shutdown message is in the journal" wait_for 5 in_journal "MESSAGE=pluto exiting"
check_not_contains "no sanitizer report" "Sanitizer" "$(cat "$LOG")"
check_not_contains "no UBSan report" "runtime error" "$(cat "$LOG")"

done_testing
