#!/bin/bash
# The bus refuses pluto its name (issue 15 point 1): the usual cause is a
# policy file the bus does not read (installed under /usr/local before
# the install paths came from the system). pluto says so as an error that
# names the policy file it was installed with (config.h's
# PLUTO_DBUS_POLICY_FILE, from the dbus_policy_dir option) - on stderr AND
# in syslog (authpriv.err) although it logs to stderr - once, not at every
# retry; once the policy is installed and the bus reloaded it takes the
# name by itself.
# A bus of the test's own whose policy directory is empty at first; /dev/log
# is a receiver of the test's own in a private mount namespace (as
# journal.sh).
if [ -z "${PLUTO_POLICY_TEST_NS:-}" ]; then
	[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP needs root: a mount namespace for /dev/log"; exit 77; }
	unshare -m --propagation private true 2>/dev/null ||
		{ echo "1..0 # SKIP needs root: cannot create a mount namespace"; exit 77; }
	PLUTO_POLICY_TEST_NS=1 exec unshare -m --propagation private "$0" "$@"
fi
# shellcheck source=tests/lib/common.sh
source "$(dirname "$0")/../lib/common.sh"
: "${BUILDDIR:?run through meson test}"
[ -x /usr/bin/python3 ] || skip_all "needs /usr/bin/python3"
command -v dbus-daemon >/dev/null || skip_all "no dbus-daemon"
POLICY_FILE=$(sed -n 's/^#define PLUTO_DBUS_POLICY_FILE "\(.*\)"$/\1/p' "$BUILDDIR/config.h")
[ -n "$POLICY_FILE" ] || { fail "config.h defines PLUTO_DBUS_POLICY_FILE"; done_testing; }

# --- /dev/log: a /dev of our own with the few device nodes bound in ---
private_dev
S=$T/syslog.records
: >"$S"
/usr/bin/python3 "$SRCDIR/tests/lib/dgram-recv.py" /dev/log "$S" 2>>"$T/recv.log" &
_pids+=($!)
wait_for 10 test -S /dev/log || { fail "syslog receiver on /dev/log"; done_testing; }

# --- a bus without pluto's policy ---
mkdir -p "$T/bus/policy"
chmod 755 "$T" "$T/bus"
sed -e "s|@SOCKET@|$T/bus/socket|" -e "s|@POLICYDIR@|$T/bus/policy|" \
	"$SRCDIR/tests/dbus/bus.conf.in" >"$T/bus/bus.conf"
dbus-daemon --config-file="$T/bus/bus.conf" --nofork --nopidfile >"$T/dbus.log" 2>&1 &
BUS_PID=$!
_pids+=("$BUS_PID")
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/bus/socket"
wait_for 10 test -S "$T/bus/socket" || { fail "dbus-daemon started"; done_testing; }

mkdir -p "$T/run"
SOCK=$T/run/org.freeswan.pluto
: >"$T/ipsec.secrets"
spawn_pluto unshare -n sh -c 'ip link set lo up; exec "$@"' sh \
	"$PLUTO" --nofork --stderrlog --rundir "$T/run" --ctlbase "$SOCK" --secretsfile "$T/ipsec.secrets"
check "pluto starts (Varlink serves without the bus name)" wait_for 10 test -S "$SOCK"
LINE="refused pluto the name org.freeswan.pluto1 (Permission denied): is its policy $POLICY_FILE installed"
check "stderr: the refusal names the policy file" wait_for 5 grep -qF "$LINE" "$T/pluto.log"
check "syslog: the same line arrives although pluto logs to stderr" wait_for 5 grep -qF "$LINE" "$S"
# authpriv (10) * 8 + err (3)
check_eq "syslog: at authpriv.err" "<83>" "$(grep -F "$LINE" "$S" | head -n 1 | cut -c1-4)"
# 0.5 s, 1 s, 2 s: at least two more attempts, not logged again
sleep 2.5
check_eq "once, not at every retry" 1 "$(grep -cF "refused pluto the name" "$T/pluto.log")"

# --- the policy installed, the bus reloaded: pluto takes its name ---
cp "$SRCDIR/data/dbus-1/org.freeswan.pluto1.conf" "$T/bus/policy/"
kill -HUP "$BUS_PID"
check "pluto owns org.freeswan.pluto1 after the bus reloads" \
	wait_for 40 busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" status org.freeswan.pluto1
check "pluto says it is on the bus, after retries" \
	grep -Eq "D-Bus: connected to the system bus after [0-9.]+ s \([2-9][0-9]* failed attempts\)" "$T/pluto.log"
check_eq "pluto exits 0" 0 "$(stop_pluto)"
check_not_contains "no sanitizer report" "Sanitizer" "$(cat "$T/pluto.log")"

done_testing
