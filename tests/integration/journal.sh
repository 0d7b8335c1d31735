#!/bin/bash
# Logging targets (pluto(8) LOGGING): the journal's native protocol with
# structured fields when run by systemd ($INVOCATION_ID), syslog otherwise.
# No journald or syslogd runs here, so in a private mount namespace this
# test puts its own receiver where pluto sends: /run/systemd/journal/socket
# and /dev/log. (STATE_SERIAL= needs a state object: tests/unit/test-log.c.)
if [ -z "${PLUTO_JOURNAL_TEST_NS:-}" ]; then
	unshare -m --propagation private true 2>/dev/null ||
		{ echo "1..0 # SKIP needs root: cannot create a mount namespace"; exit 77; }
	PLUTO_JOURNAL_TEST_NS=1 exec unshare -m --propagation private "$0" "$@"
fi
source "$(dirname "$0")/../lib/common.sh"
RECV="$SRCDIR/tests/lib/dgram-recv.py"
[ -x /usr/bin/python3 ] || skip_all "needs /usr/bin/python3"

# MESSAGE_ID of the start-up message: published, so it must never change
STARTUP_ID=42661d3d96ce4a7f8d8844ff0a057233

start_receiver() {   # start_receiver SOCKET OUTFILE
	rm -f "$1"
	: >"$2"
	/usr/bin/python3 "$RECV" "$1" "$2" 2>>"$T/recv.log" &
	_pids+=($!)
	wait_for 10 test -S "$1" || { echo "# receiver on $1 did not start" >&2; return 1; }
}
# record FILE TEXT: the first record (datagram) of FILE containing TEXT
record() { awk -v RS= -v pat="$2" 'index($0, pat) { print; exit }' "$1"; }
# field NAME RECORD: the value of NAME= in a journal record
field() { sed -n "s/^$1=//p" <<<"$2" | head -1; }
has_record() { [ -n "$(record "$1" "$2")" ]; }

# --- journal: /run/systemd/journal/socket in a tmpfs of our own ---
mkdir -p /run/systemd
mount -t tmpfs -o mode=755 tmpfs /run/systemd || skip_all "cannot mount a tmpfs on /run/systemd"
mkdir /run/systemd/journal
J=$T/journal.records
start_receiver /run/systemd/journal/socket "$J" || { fail "journal receiver"; done_testing; }

unset JOURNAL_STREAM NOTIFY_SOCKET
if ! PLUTO_LOG_OPTION='' INVOCATION_ID=0123456789abcdef0123456789abcdef \
	start_pluto --secretsfile "$T/missing.secrets"; then
	fail "pluto starts with INVOCATION_ID set"
	done_testing
fi
check_contains "AddConnection jc" '"parameters"' "$(add_conn jc)"
check_contains "AddConnection jd" '"parameters"' "$(add_conn jd)"
varlink_call '{"method":"org.freeswan.pluto.Listen"}' >/dev/null
varlink_call '{"method":"org.freeswan.pluto.SetDebug","parameters":{"classes":["control"],"connection":"jd"}}' >/dev/null
check "journal: the connection-added message arrives" wait_for 5 has_record "$J" 'MESSAGE="jd": added connection'
check "journal: the debug line arrives" wait_for 5 has_record "$J" 'MESSAGE=| "jd": event'

start=$(record "$J" "MESSAGE=Starting pluto")
check_contains "journal: start-up message" "MESSAGE=Starting pluto" "$start"
check_eq "journal: start-up PRIORITY=6 (info)" 6 "$(field PRIORITY "$start")"
check_eq "journal: start-up MESSAGE_ID is the published one" "$STARTUP_ID" "$(field MESSAGE_ID "$start")"
check_eq "journal: SYSLOG_IDENTIFIER=pluto" pluto "$(field SYSLOG_IDENTIFIER "$start")"
check_eq "journal: no CONNECTION= without a connection" "" "$(field CONNECTION "$start")"

jc=$(record "$J" 'MESSAGE="jc": added connection')
jd=$(record "$J" 'MESSAGE="jd": added connection')
check_eq "journal: CONNECTION=jc" jc "$(field CONNECTION "$jc")"
check_eq "journal: CONNECTION=jd" jd "$(field CONNECTION "$jd")"
check_eq "journal: connection-added PRIORITY=6" 6 "$(field PRIORITY "$jc")"
id=$(field MESSAGE_ID "$jc")
check "journal: MESSAGE_ID is 32 hex digits" grep -Eqx '[0-9a-f]{32}' <<<"$id"
check_eq "journal: MESSAGE_ID is the same for the same kind of message" "$id" "$(field MESSAGE_ID "$jd")"
check_fails "journal: MESSAGE_ID differs between kinds of message" test "$id" = "$STARTUP_ID"
check_eq "journal: no STATE_SERIAL= without a state" "" "$(field STATE_SERIAL "$jc")"

secrets=$(record "$J" "missing.secrets")
check_eq "journal: a missing secrets file is PRIORITY=4 (warning)" 4 "$(field PRIORITY "$secrets")"
dbg=$(record "$J" 'MESSAGE=| "jd": event')
check_eq "journal: debug lines are PRIORITY=7" 7 "$(field PRIORITY "$dbg")"
check_eq "journal: debug lines carry CONNECTION=" jd "$(field CONNECTION "$dbg")"
check_not_contains "journal: nothing logged to stderr" "added connection" "$(cat "$T/pluto.log")"
check_eq "journal: pluto exits 0" 0 "$(stop_pluto)"
check "journal: the shutdown message arrives" has_record "$J" "MESSAGE=pluto exiting"

# --- syslog: /dev/log on a /dev of our own (the real /dev stays untouched:
# the new tmpfs gets bind mounts of the few device nodes, then is moved) ---
private_dev
S=$T/syslog.records
start_receiver /dev/log "$S" || { fail "syslog receiver"; done_testing; }
if ! PLUTO_LOG_OPTION='' start_pluto --debug-control; then
	fail "pluto starts without INVOCATION_ID (syslog)"
	done_testing
fi
add_conn sc >/dev/null
check "syslog: the connection-added message arrives" wait_for 5 has_record "$S" '"sc": added connection'
line=$(record "$S" '"sc": added connection')
check "syslog: authpriv.info, tagged pluto[pid]" grep -Eq "^<86>.*pluto\[$PLUTO_PID\]: \"sc\": added connection description" <<<"$line"
check "syslog: the start-up message" grep -Eq "^<86>.*pluto\[$PLUTO_PID\]: Starting pluto" <<<"$(record "$S" "Starting pluto")"
check "syslog: debug lines are authpriv.debug and start with \"| \"" \
	grep -Eq "^<87>.*pluto\[$PLUTO_PID\]: \| \"sc\": event: connection added" <<<"$(record "$S" '| "sc": event')"
check_not_contains "syslog: no journal fields" "MESSAGE_ID=" "$(cat "$S")"
check_not_contains "syslog: nothing logged to stderr" "added connection" "$(cat "$T/pluto.log")"
check_eq "syslog: pluto exits 0" 0 "$(stop_pluto)"
check_not_contains "no sanitizer report" "Sanitizer" "$(cat "$T/pluto.log")"

done_testing
