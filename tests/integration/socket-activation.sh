#!/bin/bash
# Socket activation (pluto.socket: FileDescriptorName=varlink): pluto takes
# the listening socket named "varlink" from $LISTEN_FDS/$LISTEN_FDNAMES and
# serves Varlink on it; without one, or with a socket of another name, it
# creates its own. Also checks the shipped unit files.
source "$(dirname "$0")/../lib/common.sh"
command -v systemd-socket-activate >/dev/null || skip_all "needs systemd-socket-activate"

mkdir -p "$T/run" "$T/act"
: >"$T/ipsec.secrets"
ASOCK=$T/act/varlink.sock   # the "socket unit's" socket
OWN=$T/run/own.sock         # where pluto would create its own

# activate [ACTIVATOR OPTIONS...]: systemd-socket-activate (which execs pluto
# on the first connection) in a network namespace of its own
activate() {
	rm -f "$ASOCK" "$OWN"
	spawn_pluto unshare -n sh -c 'ip link set lo up; exec "$@"' sh \
		systemd-socket-activate -l "$ASOCK" "$@" \
		"$PLUTO" --nofork --stderrlog --nodbus --rundir "$T/run" --ctlbase "$OWN" \
		--secretsfile "$T/ipsec.secrets"
	wait_for 10 test -S "$ASOCK"
}
getinfo() { varlink_call '{"method":"org.varlink.service.GetInfo"}'; }

# --- activated with the name "varlink" ---
check "activator listens" activate --fdname=varlink
check "pluto is not started before the first connection" test ! -e "$T/run/pluto.pid"
SOCK=$ASOCK
check_contains "GetInfo through the passed socket (the connection starts pluto)" '"interfaces"' "$(getinfo)"
check_eq "pluto runs under the activator's pid" "$PLUTO_PID" "$(tr -d ' \n' <"$T/run/pluto.pid" 2>/dev/null)"
check "pluto says it uses the passed socket" grep -q 'using the Varlink socket passed by systemd.*"varlink"' "$T/pluto.log"
check "pluto does not create a socket of its own" test ! -e "$OWN"
check_contains "a second call works too" '"connections"' \
	"$(varlink_call '{"method":"org.freeswan.pluto.Status"}')"
check_eq "SIGTERM: exit 0" 0 "$(stop_pluto)"
check "the passed socket's file is left to its owner" test -S "$ASOCK"

# --- one socket without a name (LISTEN_FDNAMES unset): taken as ours ---
check "activator without --fdname listens" activate
check_contains "GetInfo through an unnamed passed socket" '"interfaces"' "$(getinfo)"
check "unnamed: no socket of its own" test ! -e "$OWN"
check_eq "unnamed: exit 0" 0 "$(stop_pluto)"

# --- a socket with another name: ignored, pluto creates its own ---
check "activator with --fdname=bogus listens" activate --fdname=bogus
timeout 5 socat -t 1 /dev/null "UNIX-CONNECT:$ASOCK" >/dev/null 2>&1
check "bad name: pluto creates its own socket" wait_for 10 test -S "$OWN"
SOCK=$OWN
check_contains "bad name: GetInfo on its own socket" '"interfaces"' "$(getinfo)"
check "bad name: the passed socket is ignored, and says so" grep -q 'ignoring passed socket.*"bogus"' "$T/pluto.log"
check_eq "bad name: exit 0" 0 "$(stop_pluto)"

# --- not activated: pluto creates its own socket, mode 0666 ---
start_pluto || fail "pluto starts without LISTEN_FDS"
check_contains "no LISTEN_FDS: GetInfo on its own socket" '"interfaces"' "$(getinfo)"
check_eq "no LISTEN_FDS: the socket is mode 0666" 666 "$(stat -c %a "$SOCK")"
check_eq "no LISTEN_FDS: exit 0" 0 "$(stop_pluto)"
check "no LISTEN_FDS: pluto removes its own socket" test ! -e "$SOCK"
check_not_contains "no sanitizer report" "Sanitizer" "$(cat "$T/pluto.log")"

# --- the unit files as built ---
svc=$BUILDDIR/data/pluto.service
sock=$BUILDDIR/data/pluto.socket
check "pluto.service: Type=notify" grep -qx 'Type=notify' "$svc"
check "pluto.service: ExecStart runs pluto --nofork from sbindir" grep -Eqx 'ExecStart=/.*/pluto --nofork' "$svc"
check "pluto.service: no placeholder left" test -z "$(grep -o '@[a-z]*@' "$svc" "$sock")"
check "pluto.service: Restart=on-failure" grep -qx 'Restart=on-failure' "$svc"
check "pluto.service: RuntimeDirectory=pluto" grep -qx 'RuntimeDirectory=pluto' "$svc"
check "pluto.service: ExecReload sends SIGHUP (= Reload)" grep -qx 'ExecReload=/bin/kill -HUP \$MAINPID' "$svc"
check "pluto.service: --check-config runs after the stale lock file is removed" \
	awk '/^ExecStartPre=.*rm -f/ { rm = NR } /^ExecStartPre=\/.*\/pluto --check-config$/ { cc = NR } END { exit !(rm && cc > rm) }' "$svc"
# the unit's ExecStartPre on a host without the default file (as here,
# unless someone put one there): exit 0 with a note
rc=$(status_of "$PLUTO" --check-config)
if grep -q "no configuration file" "$T/last.out"; then
	check_eq "pluto --check-config without the default file: exit 0" 0 "$rc"
fi
check "pluto.socket: ListenStream" grep -qx 'ListenStream=/run/pluto/org.freeswan.pluto' "$sock"
check "pluto.socket: SocketMode=0666" grep -qx 'SocketMode=0666' "$sock"
check "pluto.socket: FileDescriptorName=varlink" grep -qx 'FileDescriptorName=varlink' "$sock"
check "pluto.socket: Service=pluto.service" grep -qx 'Service=pluto.service' "$sock"
if command -v systemd-analyze >/dev/null; then
	# the binaries are not installed here: only that complaint is expected
	problems=$(cd "$BUILDDIR/data" && systemd-analyze verify --man=no ./pluto.service ./pluto.socket 2>&1 |
		grep -v 'is not executable' | grep -v 'Failed to parse system call, ignoring')
	check_eq "systemd-analyze verify finds no problem in the units" "" "$problems"
fi

done_testing
