#!/bin/bash
# tests/bench/control-scale.sh [N]: the control plane at scale (issue 13
# point 6), for pluto:
#   file_ms     start-up with --config of N connections (+ one %any template),
#               from exec to the "loaded FILE: ... connections" line
#   reload_ms   ipsecctl reload of the same file, nothing changed
#   vl_batch_ms ipsecctl add --file BATCH: the same N connections in one
#               Varlink AddConnections call (a fresh daemon)
#   db_batch_ms the same through one D-Bus AddConnections call
#               (pluto-dbus-bench add, a fresh daemon)
#   signals     D-Bus messages pluto sent during a burst of BURST tunnels
#               (default 1000; counted with busctl monitor on a private bus)
#   status_ms   ipsecctl status --json > /dev/null (wall time, median of 3)
#               with the N connections, TUNNELS road-warrior instances and
#               their 2 x TUNNELS states; status_cpu the daemon's CPU for it
#   gmo_ms      GetManagedObjects, whole reply received (pluto-dbus-bench
#               objects, median of 3); gmo_cpu the daemon's CPU for it;
#               busctl_ms the same call through busctl (it prints the reply)
# The states come from pluto-loadgen (tests/bench/loadgen): TUNNELS
# (default 10000) Main Mode + Quick Mode tunnels against the template, so
# each is an instance connection with an ISAKMP and an IPsec state.
#
# Not part of the suite: a measurement (tests/bench/README.md). Runs as
# root; each daemon in the load generator's namespaces (loadgen/lg-netns.sh),
# a private dbus-daemon, pluto from BUILD (default build-bench/; set it to
# another tree's build to compare). Logs in $BENCH_DIR (default
# /tmp/pluto-bench-control). Side by side with strongSwan and libreswan for
# loading: config-load.sh.
set -euo pipefail
N=${1:-10000}
TUNNELS=${TUNNELS:-10000}
BURST=${BURST:-1000}
C=${C:-8}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
B=${BENCH_DIR:-/tmp/pluto-bench-control}
BUILD=${BUILD:-$SRC/build-bench}
[ "$(id -u)" = 0 ] || { echo "control-scale.sh: run as root (network namespaces)" >&2; exit 2; }
[ "$BURST" -le "$TUNNELS" ] || BURST=$TUNNELS

rm -rf "$B"; mkdir -p "$B"
OWN=$SRC/build-bench
if [ ! -f "$OWN/build.ninja" ]; then
	meson setup --buildtype=release -Dbench=true "$OWN" "$SRC" >"$B/meson.log"
fi
ninja -C "$OWN" >"$B/ninja.log"
[ "$BUILD" = "$OWN" ] || ninja -C "$BUILD" >>"$B/ninja.log"
PLUTO=$BUILD/pluto IPSECCTL=$BUILD/clients/ipsecctl/ipsecctl
# the clients that only exist in this tree
LOADGEN=$OWN/tests/bench/loadgen/pluto-loadgen DBUSBENCH=$OWN/tests/bench/dbus/pluto-dbus-bench
NEW_IPSECCTL=$OWN/clients/ipsecctl/ipsecctl

# shellcheck source=tests/bench/bench-lib.sh
. "$SRC/tests/bench/bench-lib.sh"
# shellcheck source=tests/bench/loadgen/lg-netns.sh
. "$SRC/tests/bench/loadgen/lg-netns.sh"
PSK="bench control secret"
RPID= BUSPID= MONPID=
cleanup() {
	[ -z "$MONPID" ] || kill "$MONPID" 2>/dev/null || true
	[ -z "$RPID" ] || kill "$RPID" 2>/dev/null || true
	[ -z "$BUSPID" ] || kill "$BUSPID" 2>/dev/null || true
	lg_netns_down
}
trap cleanup EXIT
lg_netns_up "D$$" "$TUNNELS"

# --- a private system bus: the project's policy, and monitoring for root ---
mkdir -p "$B/bus"; chmod 755 "$B" "$B/bus"
sed -e "s|@SOCKET@|$B/bus/socket|" -e "s|@POLICYDIR@|$SRC/data/dbus-1|" \
	-e 's|</policy>|  <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Monitoring"/>\n  </policy>|' \
	"$SRC/tests/dbus/bus.conf.in" >"$B/bus/bus.conf"
dbus-daemon --config-file="$B/bus/bus.conf" --nofork --nopidfile >"$B/dbus.log" 2>&1 &
BUSPID=$!
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$B/bus/socket"
wait_until 10 test -S "$B/bus/socket"
BUSCTL=(busctl --address="$DBUS_SYSTEM_BUS_ADDRESS")

# --- the configurations: N connections, as a file and as a batch ---
# conn i: 10.0.0.1 <-> 192.0.x.y (never negotiated), subnets 10.128.x.y/32
# <-> 172.16.x.y/32; conn lg: the %any template pluto-loadgen talks to.
awk_peers='function peer(i) { return sprintf("192.%d.%d.%d", 100 + int(i/65536), int(i/256)%256, i%256) }
           function sub1(i) { return sprintf("10.%d.%d.%d/32", 128 + int(i/65536), int(i/256)%256, i%256) }
           function sub2(i) { return sprintf("172.%d.%d.%d/32", 16 + int(i/65536), int(i/256)%256, i%256) }'
awk -v n="$N" -v me="$LG_RESPONDER" "$awk_peers"'
BEGIN {
	printf "conn %%default\n\tleft=%s\n\tauthby=secret\n\tauto=add\n\n", me
	printf "conn lg\n\tright=%%any\n\n"
	for (i = 1; i <= n; i++)
		printf "conn c%d\n\tright=%s\n\tleftsubnet=%s\n\trightsubnet=%s\n\n", i, peer(i), sub1(i), sub2(i)
}' >"$B/ipsec.conf"
awk -v n="$N" -v me="$LG_RESPONDER" "$awk_peers"'
BEGIN {
	for (i = 1; i <= n; i++)
		printf "conn c%d\n\tleft=%s\n\tright=%s\n\tleftsubnet=%s\n\trightsubnet=%s\n\tauthby=secret\n", i, me, peer(i), sub1(i), sub2(i)
}' >"$B/batch.conf"
echo "$LG_RESPONDER %any : PSK \"$PSK\"" >"$B/ipsec.secrets"; chmod 600 "$B/ipsec.secrets"

declare -A R
cpu_ms() { awk '{ printf "%d\n", ($14 + $15) * 1000 / '"$(getconf CLK_TCK)"' }' "/proc/$1/stat"; }
ms_since() { echo $(( $(now_ms) - $1 )); }
median3() { printf '%s\n' "$@" | sort -n | sed -n 2p; }

# pluto_start NAME [OPTIONS...]: a daemon in the responder's namespace, on the bus
pluto_start() {
	local d=$B/$1; shift
	mkdir -p "$d/run"
	ip netns exec "$LG_NS_R" "$PLUTO" --nofork --stderrlog --kernel none \
		--rundir "$d/run" --ctlbase "$d/run/ctl" --secretsfile "$B/ipsec.secrets" "$@" \
		>"$d/pluto.log" 2>&1 &
	RPID=$!
	CTL=$d/run/ctl
}
pluto_stop() { kill "$RPID" 2>/dev/null; wait "$RPID" 2>/dev/null || true; RPID=; }
on_bus() { "${BUSCTL[@]}" status org.freeswan.pluto1 >/dev/null 2>&1; }

# --- from the file, then the states ---
t0=$(now_ms)
pluto_start file --config "$B/ipsec.conf"
wait_until 120 grep -q "loaded $B/ipsec.conf: $((N + 1)) connection" "$B/file/pluto.log" ||
	{ echo "pluto did not load $((N + 1)) connections (see $B/file/pluto.log)" >&2; exit 1; }
R[file]=$(ms_since "$t0")
wait_until 20 on_bus
t0=$(now_ms)
"$IPSECCTL" --socket "$CTL" reload >"$B/reload.out"
R[reload]=$(ms_since "$t0")

# busctl monitor: every message on the bus; count those pluto sends
owner=$("${BUSCTL[@]}" call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
	GetNameOwner s org.freeswan.pluto1 | awk '{ print $2 }' | tr -d '"')
"${BUSCTL[@]}" monitor >"$B/monitor.log" 2>&1 &
MONPID=$!
sleep 1
lg() {   # lg FIRST_SOURCE COUNT TAG
	ip netns exec "$LG_NS_I" "$LOADGEN" -s "$1" -d "$LG_RESPONDER" -n "$2" -c "$C" -k "$PSK" \
		-P "$RPID" -o "$B/tunnels-$3.csv" >"$B/loadgen-$3.log" 2>&1 || true
	grep '^RESULT ' "$B/loadgen-$3.log" || echo "RESULT (none: see $B/loadgen-$3.log)"
}
lg "$LG_FIRST" "$BURST" burst
sleep 1   # the last coalesced signals: at most 100 ms late
kill "$MONPID"; wait "$MONPID" 2>/dev/null || true; MONPID=
R[signals]=$(awk -v me="$owner" '/^‣ Type=/ { type = $2 } /Sender=/ {
	for (i = 1; i <= NF; i++) if ($i == "Sender=" me && type == "Type=signal") n++ } END { print n + 0 }' "$B/monitor.log")
R[est_burst]=$(sed -n 's/^RESULT established=\([0-9]*\).*/\1/p' "$B/loadgen-burst.log")
if [ "$TUNNELS" -gt "$BURST" ]; then
	first=$(awk -v ip="$LG_FIRST" -v k="$BURST" 'BEGIN { split(ip, o, "."); a = ((o[1] * 256 + o[2]) * 256 + o[3]) * 256 + o[4] + k
		printf "%d.%d.%d.%d", int(a / 16777216), int(a / 65536) % 256, int(a / 256) % 256, a % 256 }')
	lg "$first" $((TUNNELS - BURST)) rest
fi
sleep 1
"$IPSECCTL" --socket "$CTL" status --json >"$B/status.json"
R[conns]=$(jq '.connections | length' "$B/status.json")
R[states]=$(jq '.states | length' "$B/status.json")
st=() sc=() gm=() gc=() bc=()
for _ in 1 2 3; do
	c0=$(cpu_ms "$RPID"); t0=$(now_ms)
	"$IPSECCTL" --socket "$CTL" status --json >/dev/null
	st+=("$(ms_since "$t0")"); sc+=($(( $(cpu_ms "$RPID") - c0 )))
	c0=$(cpu_ms "$RPID")
	# a refusal (LimitsExceeded: the reply would pass the bus's message
	# size limit) or a lost bus is a result too: "-", the error in the log
	if out=$("$DBUSBENCH" objects 2>>"$B/gmo.err"); then
		gm+=("$(echo "$out" | awk '{ printf "%d", $3 }')")
		R[objects]=$(echo "$out" | awk '{ print $2 }')
	else
		gm+=(-)
	fi
	gc+=($(( $(cpu_ms "$RPID") - c0 )))
	t0=$(now_ms)
	if "${BUSCTL[@]}" call org.freeswan.pluto1 /org/freeswan/pluto1 org.freedesktop.DBus.ObjectManager \
		GetManagedObjects >/dev/null 2>>"$B/gmo.err"; then
		bc+=("$(ms_since "$t0")")
	else
		bc+=(-)
	fi
done
if [ -n "${HOLD:-}" ]; then
	# HOLD=FILE: keep this daemon (with its connections and states) until
	# FILE is removed, to profile it (perf record -p PID) or call it by hand
	touch "$HOLD"
	echo "holding pluto $RPID: ipsecctl --socket $CTL; DBUS_SYSTEM_BUS_ADDRESS=$DBUS_SYSTEM_BUS_ADDRESS; rm $HOLD to go on" >&2
	while [ -e "$HOLD" ]; do sleep 1; done
fi
R[status]=$(median3 "${st[@]}") R[status_cpu]=$(median3 "${sc[@]}")
R[gmo]=$(median3 "${gm[@]}") R[gmo_cpu]=$(median3 "${gc[@]}") R[busctl]=$(median3 "${bc[@]}")
R[rss]=$(rss_kb "$RPID")
pluto_stop

# --- one batch, Varlink then D-Bus, each into a fresh daemon ---
pluto_start vl
wait_until 20 test -S "$CTL"
t0=$(now_ms)
if "$NEW_IPSECCTL" --socket "$CTL" add --file "$B/batch.conf" >"$B/vl-batch.out" 2>&1; then
	R[vl_batch]=$(ms_since "$t0")
fi
pluto_stop
pluto_start db
wait_until 20 on_bus
if "$DBUSBENCH" add "$B/batch.conf" >"$B/db-batch.out" 2>&1; then
	R[db_batch]=$(awk '{ printf "%d", $3 }' "$B/db-batch.out")
fi
pluto_stop

printf '%s connections, %s tunnels (%s and %s in the burst established), %s, %s\n' "$N" "$TUNNELS" \
	"${R[est_burst]:-?}" "$BURST" "$(uname -r)" "$(date -u +%FT%TZ)"
printf 'status saw %s connections, %s states; GetManagedObjects %s objects; RSS %s kB\n' \
	"${R[conns]}" "${R[states]}" "${R[objects]:-?}" "${R[rss]}"
printf '%8s %9s %11s %11s %8s %9s %10s %6s %7s %9s\n' file_ms reload_ms vl_batch_ms db_batch_ms signals \
	status_ms status_cpu gmo_ms gmo_cpu busctl_ms
printf '%8s %9s %11s %11s %8s %9s %10s %6s %7s %9s\n' "${R[file]}" "${R[reload]}" "${R[vl_batch]:--}" \
	"${R[db_batch]:--}" "${R[signals]}" "${R[status]}" "${R[status_cpu]}" "${R[gmo]}" "${R[gmo_cpu]}" \
	"${R[busctl]}"
