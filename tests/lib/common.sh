# shellcheck shell=bash
# Shared helpers for the integration tests. Source it from a test script.
#
# Every test gets its own temporary directory ($T), and every pluto it starts
# runs in its own network namespace (unshare -n) so tests can run in parallel
# without fighting over UDP ports. Assertions print TAP-style lines; the
# script exits 1 if any failed, 77 (meson's "skipped") after skip_all.
#
# Environment from meson: PLUTO, WHACK, IPSECCTL, SRCDIR, BUILDDIR.

set -u
: "${SRCDIR:?run through meson test}"
: "${PLUTO:?run through meson test}"

T=$(mktemp -d /tmp/pluto-test.XXXXXX)
# shellcheck disable=SC2034 # for the scripts
TEST_NAME=$(basename "$0" .sh)
_n=0
_failed=0
_pids=()

_cleanup() {
	local pid
	for pid in "${_pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${_pids[@]}"; do
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null
	done
	if [ "$_failed" -ne 0 ] || [ -n "${KEEP_TEST_DIR:-}" ]; then
		echo "# test directory kept: $T" >&2
		for f in "$T"/*.log; do
			[ -f "$f" ] || continue
			echo "# ---- $f (last 40 lines)" >&2
			tail -n 40 "$f" | sed 's/^/# /' >&2
		done
	else
		rm -rf "$T"
	fi
}
trap _cleanup EXIT

ok()   { _n=$((_n + 1)); echo "ok $_n - $*"; }
fail() { _n=$((_n + 1)); _failed=$((_failed + 1)); echo "not ok $_n - $*"; }
skip_all() { echo "1..0 # SKIP $*"; exit 77; }

# Run as a normal user, a test that starts pluto (network namespaces,
# privileged ports, /run) is skipped with the reason, counted as skipped
# by meson, instead of failing on "unshare: Operation not permitted". A
# script that needs no root says so before sourcing this file:
#     NONROOT_OK=1 (install-paths.sh, nonroot-suite.sh)
if [ "$(id -u)" -ne 0 ] && [ -z "${NONROOT_OK:-}" ]; then
	skip_all "needs root: $TEST_NAME starts pluto in network namespaces (unshare -n) and binds privileged ports"
fi

# check DESCRIPTION COMMAND...: passes when COMMAND exits 0
check() {
	local d=$1; shift
	if "$@" >"$T/last.out" 2>&1; then ok "$d"; else fail "$d"; sed 's/^/#   /' "$T/last.out"; fi
}
# check_fails DESCRIPTION COMMAND...: passes when COMMAND exits non-zero
check_fails() {
	local d=$1; shift
	if "$@" >"$T/last.out" 2>&1; then fail "$d (unexpectedly succeeded)"; sed 's/^/#   /' "$T/last.out"; else ok "$d"; fi
}
# check_eq DESCRIPTION EXPECTED ACTUAL
check_eq() {
	if [ "$2" == "$3" ]; then ok "$1"; else fail "$1"; echo "#   expected: $2"; echo "#   actual:   $3"; fi
}
# check_contains DESCRIPTION NEEDLE HAYSTACK
check_contains() {
	if [[ "$3" == *"$2"* ]]; then ok "$1"; else fail "$1"; echo "#   expected to find: $2"; echo "#   in: $3" | head -20; fi
}
check_not_contains() {
	if [[ "$3" != *"$2"* ]]; then ok "$1"; else fail "$1"; echo "#   did not expect: $2"; fi
}
# exit status of a command, with its output kept in $T/last.out
status_of() { "$@" >"$T/last.out" 2>&1; echo $?; }

# wait_for SECONDS COMMAND...: poll until COMMAND succeeds
wait_for() {
	local secs=$1; shift
	local i
	for ((i = 0; i < secs * 20; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}

# private_dev: a /dev of the test's own, so that /dev/log can be a receiver
# of the test's: a tmpfs with bind mounts of the few device nodes the tests
# use, moved onto /dev. Only in a private mount namespace (unshare -m, as
# journal.sh re-executes itself): the real /dev stays untouched. Skips the
# test when it cannot mount.
private_dev() {
	local n
	mkdir "$T/dev"
	mount -t tmpfs -o mode=755 tmpfs "$T/dev" || skip_all "cannot mount a tmpfs"
	for n in null zero full random urandom tty; do
		[ -e "/dev/$n" ] || continue
		: >"$T/dev/$n"
		mount --bind "/dev/$n" "$T/dev/$n"
	done
	ln -s /proc/self/fd "$T/dev/fd"
	mount --move "$T/dev" /dev || skip_all "cannot move a mount onto /dev"
}

# start_bus: a private dbus-daemon using tests/dbus/bus.conf plus the
# project's own policy file; exports DBUS_SYSTEM_BUS_ADDRESS.
start_bus() {
	mkdir -p "$T/bus"
	chmod 755 "$T" "$T/bus"
	sed -e "s|@SOCKET@|$T/bus/socket|" -e "s|@POLICYDIR@|$SRCDIR/data/dbus-1|" \
		"$SRCDIR/tests/dbus/bus.conf.in" >"$T/bus/bus.conf"
	dbus-daemon --config-file="$T/bus/bus.conf" --nofork --nopidfile >"$T/dbus.log" 2>&1 &
	_pids+=($!)
	export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/bus/socket"
	wait_for 10 test -S "$T/bus/socket" || { echo "# dbus-daemon did not start" >&2; return 1; }
}

# start_pluto [EXTRA PLUTO OPTIONS...]: pluto in its own network namespace,
# Varlink socket at $SOCK, run directory $T/run, secrets $T/ipsec.secrets.
# Without a bus (start_bus first) it runs with --nodbus. PLUTO_LOG_OPTION=
# (empty) drops --stderrlog, for tests of journal and syslog logging.
start_pluto() {
	mkdir -p "$T/run"
	SOCK=$T/run/org.freeswan.pluto
	export PLUTO_SOCKET=$SOCK
	[ -f "$T/ipsec.secrets" ] || : >"$T/ipsec.secrets"
	local busopt=--nodbus
	[ -n "${DBUS_SYSTEM_BUS_ADDRESS:-}" ] && busopt=
	spawn_pluto unshare -n sh -c 'ip link set lo up; exec "$@"' sh \
		"$PLUTO" --nofork ${PLUTO_LOG_OPTION---stderrlog} --rundir "$T/run" --ctlbase "$SOCK" \
		--secretsfile "$T/ipsec.secrets" $busopt "$@"
	wait_for 10 test -S "$SOCK" || { echo "# pluto did not create $SOCK" >&2; cat "$T/pluto.log" >&2; return 1; }
	if [ -z "$busopt" ]; then
		wait_for 10 busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" status org.freeswan.pluto1 ||
			{ echo "# pluto did not take its bus name" >&2; return 1; }
	fi
}

# spawn_pluto COMMAND...: run COMMAND (which must end by exec'ing pluto, so
# it keeps its pid) in the background with output to $T/pluto.log; sets
# PLUTO_PID. A waiter writes the exit status to $T/pluto.status, so that
# stop_pluto works inside $(...), where the shell's wait cannot.
spawn_pluto() {
	rm -f "$T/pluto.status" "$T/pluto.cpid"
	( "$@" >"$T/pluto.log" 2>&1 &
	  echo $! >"$T/pluto.cpid"
	  wait $!
	  echo $? >"$T/pluto.status.tmp" && mv "$T/pluto.status.tmp" "$T/pluto.status" ) &
	wait_for 5 test -s "$T/pluto.cpid"
	PLUTO_PID=$(cat "$T/pluto.cpid")
	_pids+=("$PLUTO_PID")
}

# stop_pluto: SIGTERM and wait; echoes the exit status ("timeout" if none)
stop_pluto() {
	kill -TERM "$PLUTO_PID" 2>/dev/null
	if wait_for 30 test -s "$T/pluto.status"; then cat "$T/pluto.status"; else echo timeout; fi
}

# varlink_call JSON: one request over socat, prints the reply (NUL stripped)
varlink_call() {
	printf '%s\0' "$1" | socat -t 5 - "UNIX-CONNECT:$SOCK" | tr -d '\0'
}

# add_conn NAME [RIGHT]: AddConnection over Varlink of a connection oriented
# on the loopback address (left 127.0.0.1, right RIGHT, default 192.0.2.2);
# prints the reply
add_conn() {
	varlink_call '{"method":"org.freeswan.pluto.AddConnection","parameters":{"name":"'"$1"'","options":{"left":"127.0.0.1","right":"'"${2:-192.0.2.2}"'"}}}'
}

# done_testing: print the plan and exit with the right status
done_testing() {
	echo "1..$_n"
	[ "$_failed" -eq 0 ] || exit 1
	exit 0
}
