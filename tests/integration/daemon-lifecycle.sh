#!/bin/bash
# The daemon's process lifecycle (API.md section 5, pluto(8)): command line,
# --optionsfrom, the lock file, the daemon fork, signals, and debug classes
# at start-up and at run time (globally and per connection).
source "$(dirname "$0")/../lib/common.sh"

set_debug() { # set_debug CLASSES_JSON [CONNECTION]
	local conn=
	[ -n "${2:-}" ] && conn=',"connection":"'"$2"'"'
	varlink_call '{"method":"org.freeswan.pluto.SetDebug","parameters":{"classes":'"$1$conn"'}}'
}
# debug lines of the current log that name connection $1 ("| "name": ...")
debug_lines_for() { grep -c "^| \"$1\"" "$T/pluto.log"; }
lock_file_gone() { [ ! -e "$T/run/pluto.pid" ]; }
process_gone() { ! kill -0 "$1" 2>/dev/null; }

# --- command line without a daemon ---
out=$("$PLUTO" --help 2>&1); rc=$?
check_eq "--help exits 0" 0 "$rc"
check_contains "--help prints the usage" "Usage: pluto" "$out"
check_contains "--help lists the debug classes" "lifecycle" "$out"
version=$(sed -n "s/^ *version: '\([^']*\)'.*/\1/p" "$SRCDIR/meson.build" | head -1)
out=$("$PLUTO" --version 2>&1); rc=$?
check_eq "--version exits 0" 0 "$rc"
check_eq "--version prints the project version" "pluto $version" "$out"

out=$("$PLUTO" --no-such-option 2>&1); rc=$?
check_eq "unknown option: exit 1" 1 "$rc"
check_contains "unknown option: named" "'--no-such-option'" "$out"
out=$("$PLUTO" --debug-nonsense 2>&1); rc=$?
check_eq "unknown debug class: exit 1" 1 "$rc"
check_contains "unknown debug class: named" "--debug-nonsense" "$out"
out=$("$PLUTO" --ikeport 70000 2>&1); rc=$?
check_eq "bad --ikeport value: exit 1" 1 "$rc"
check_contains "bad --ikeport value: named" "--ikeport '70000'" "$out"
out=$("$PLUTO" --kernel klips9 2>&1); rc=$?
check_eq "bad --kernel value: exit 1" 1 "$rc"
check_contains "bad --kernel value: named" "'klips9'" "$out"
out=$("$PLUTO" --nofork --rundir 2>&1); rc=$?
check_eq "missing argument: exit 1" 1 "$rc"
check_contains "missing argument: option named" "--rundir" "$out"
out=$("$PLUTO" --nofork stray 2>&1); rc=$?
check_eq "stray argument: exit 1" 1 "$rc"
check_contains "stray argument: named" "'stray'" "$out"

printf -- '# a comment\n--nofork --bogus-from-file\n' >"$T/bad.opts"
out=$("$PLUTO" --optionsfrom "$T/bad.opts" 2>&1); rc=$?
check_eq "--optionsfrom: bad option in the file: exit 1" 1 "$rc"
check_contains "--optionsfrom: the file's option is named" "--bogus-from-file" "$out"
out=$("$PLUTO" --optionsfrom "$T/no-such.opts" 2>&1); rc=$?
check_eq "--optionsfrom: missing file: exit 1" 1 "$rc"
check_contains "--optionsfrom: missing file named" "$T/no-such.opts" "$out"
check_eq "no lock file left by refused starts" "" "$(ls "$T/run" 2>/dev/null)"

# --- a daemon in the foreground: --debug-all, a missing secrets file ---
if ! start_pluto --debug-all --secretsfile "$T/missing.secrets"; then
	fail "pluto starts with --debug-all and a missing secrets file"
	done_testing
fi
ok "pluto starts with --debug-all and a missing secrets file"
check_contains "Varlink answers (GetInfo)" '"interfaces"' "$(varlink_call '{"method":"org.varlink.service.GetInfo"}')"
check_eq "the lock file holds the daemon's pid" "$PLUTO_PID" "$(tr -d ' \n' <"$T/run/pluto.pid")"
# (no configuration file on a test host: the classic behaviour, said once)
if ! "$PLUTO" --check-config | grep -q "no configuration file"; then
	ok "# SKIP a default configuration file exists on this host"
else
	check_eq "no default configuration file: logged once, waiting for Listen" 1 \
		"$(grep -c 'no configuration file .*ipsec.conf: waiting for Listen' "$T/pluto.log")"
	check_contains "... and not listening" '"listening":false' "$(varlink_call '{"method":"org.freeswan.pluto.Status"}')"
fi

out=$("$PLUTO" --nofork --stderrlog --nodbus --rundir "$T/run" --ctlbase "$T/second.sock" 2>&1); rc=$?
check_fails "second instance: exits non-zero" test "$rc" -eq 0
check_contains "second instance: names the lock file" "$T/run/pluto.pid" "$out"
check "second instance: the first one's lock file is still there" test -s "$T/run/pluto.pid"
check "second instance: the first one still runs" kill -0 "$PLUTO_PID"

check_contains "AddConnection a" '"parameters"' "$(add_conn a)"
check "--debug-all: a Varlink call logs \"| \" control lines" wait_for 5 grep -q '^| "a": event: connection added' "$T/pluto.log"
check_not_contains "no debug line without the \"| \" prefix" "event: connection added" \
	"$(grep -v '^| ' "$T/pluto.log")"
varlink_call '{"method":"org.freeswan.pluto.Listen"}' >/dev/null
check "a missing secrets file is reported" wait_for 5 grep -q "missing.secrets" "$T/pluto.log"
check "a missing secrets file does not stop pluto" kill -0 "$PLUTO_PID"

# --- run-time SetDebug, globally and per connection ---
check_contains "SetDebug none (global)" '"parameters"' "$(set_debug '["none"]')"
add_conn b >/dev/null
check_eq "debug off: no debug line for b" 0 "$(debug_lines_for b)"
check_contains "SetDebug control for connection a" '"parameters"' "$(set_debug '["control"]' a)"
check "per-connection debug: a's change is traced" wait_for 5 grep -q '^| "a": event: connection changed' "$T/pluto.log"
add_conn c >/dev/null
varlink_call '{"method":"org.freeswan.pluto.Route","parameters":{"name":"a"}}' >/dev/null
varlink_call '{"method":"org.freeswan.pluto.Route","parameters":{"name":"c"}}' >/dev/null
check "per-connection debug: a's Route is traced" wait_for 5 grep -q '^| "a": event: connection changed: Routing' "$T/pluto.log"
check_eq "per-connection debug: nothing for c" 0 "$(debug_lines_for c)"
status=$(varlink_call '{"method":"org.freeswan.pluto.Status"}')
check_eq "Status shows a's debug classes" '["control"]' \
	"$(echo "$status" | jq -c '.parameters.connections[] | select(.name == "a") | .debugClasses')"
check_eq "Status shows no global debug classes" '[]' "$(echo "$status" | jq -c '.parameters.debugClasses')"
check_contains "SetDebug control (global)" '"parameters"' "$(set_debug '["control"]')"
add_conn d >/dev/null
check "global debug on again: d is traced" wait_for 5 grep -q '^| "d": event: connection added' "$T/pluto.log"
check_contains "SetDebug with an unknown class fails" "InvalidOption" "$(set_debug '["nonsense"]')"
check_contains "SetDebug for an unknown connection fails" "UnknownName" "$(set_debug '["all"]' nosuch)"
set_debug '["none"]' >/dev/null
add_conn e >/dev/null
varlink_call '{"method":"org.freeswan.pluto.Route","parameters":{"name":"e"}}' >/dev/null
check_eq "global debug off again: nothing for e" 0 "$(debug_lines_for e)"

# --- signals ---
kill -HUP "$PLUTO_PID"
check "SIGHUP reloads the configuration file (logged)" wait_for 5 grep -q 'SIGHUP received: reloading /.*ipsec.conf' "$T/pluto.log"
check "SIGHUP without a configuration file: the reload fails, logged with the file" \
	wait_for 5 grep -q 'SIGHUP: reload failed: /.*ipsec.conf' "$T/pluto.log"
check "SIGHUP does not stop pluto" kill -0 "$PLUTO_PID"
check_eq "SIGTERM: exit status 0" 0 "$(stop_pluto)"
check "SIGTERM: the lock file is removed" lock_file_gone
check "SIGTERM: logged" grep -q "SIGTERM received" "$T/pluto.log"
check_not_contains "no sanitizer report" "Sanitizer" "$(cat "$T/pluto.log")"

# --- daemon fork (no --nofork): the parent exits 0 once the child is ready ---
rm -f "$SOCK"
# (timeout: a parent that never exits fails here instead of hanging; the
# daemon is out of timeout's reach in a session of its own)
timeout 20 unshare -n sh -c 'ip link set lo up; exec "$@"' sh "$PLUTO" --stderrlog --nodbus \
	--rundir "$T/run" --ctlbase "$SOCK" --secretsfile "$T/ipsec.secrets" >"$T/fork.log" 2>&1
rc=$?
check_eq "fork: the parent exits 0" 0 "$rc"
daemon=$(tr -d ' \n' <"$T/run/pluto.pid" 2>/dev/null)
[ -n "$daemon" ] && _pids+=("$daemon")
check "fork: the socket exists when the parent has exited" test -S "$SOCK"
check "fork: the daemon keeps running" kill -0 "${daemon:-999999999}"
# the forked child leads a session of its own (setsid); the parent did not
check_eq "fork: the pid file holds the forked child" "${daemon:-999999999}" \
	"$(awk '{ print $6 }' "/proc/${daemon:-999999999}/stat" 2>/dev/null)"
check_contains "fork: the pid file's process is pluto" "pluto" "$(tr '\0' ' ' <"/proc/${daemon:-999999999}/cmdline" 2>/dev/null)"
check_contains "fork: Varlink answers" '"interfaces"' "$(varlink_call '{"method":"org.varlink.service.GetInfo"}')"
kill -TERM "${daemon:-999999999}"
check "fork: SIGTERM stops the daemon" wait_for 10 process_gone "${daemon:-999999999}"
check "fork: the lock file is removed" lock_file_gone
check "fork: the daemon logged its exit" grep -q "pluto exiting" "$T/fork.log"
check_not_contains "fork: no sanitizer report" "Sanitizer" "$(cat "$T/fork.log")"

# a start-up failure in the child shows in the parent's exit status
: >"$T/not-a-dir"
timeout 20 "$PLUTO" --stderrlog --nodbus --rundir "$T/run" --ctlbase "$T/not-a-dir/sock" >"$T/fork-fail.log" 2>&1
rc=$?
check_fails "fork: a child that cannot start makes the parent fail" test "$rc" -eq 0
check "fork: the failed child removed its lock file" lock_file_gone

done_testing
