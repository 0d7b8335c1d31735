#!/bin/bash
# tests/bench/memory.sh [N] [ROUNDS]: a responder's memory over ROUNDS
# (default 10) rounds of N tunnels (default 1000) up and down, for pluto
# side by side with strongSwan and libreswan in the same run. Each round
# pluto-loadgen --delete negotiates N tunnels (PSK MODP2048, as
# handshakes.sh's psk-modp2048 case; C in flight), holds them while the
# responder is measured, then deletes each as its peer would
# (Informational Delete of the IPsec SA, then of the ISAKMP SA); the
# responder must then hold no SA any more (pluto: no state, and only the
# template connection: its instances went with their states).
#
# Not part of the suite: a measurement (tests/bench/README.md). The same
# set-up as handshakes.sh (which it sources): root, namespaces lg-PID-*,
# pluto from build-bench/, strongSwan and libreswan from
# tests/interop/setup.sh.
#
# Per daemon and round, one row:
#   est       tunnels the load generator saw established / N
#   up        SAs the responder lists with the tunnels up (IPsec SAs)
#   left      what it still holds after the deletes (pluto: states and
#             connections, "0+1" = nothing but the template; strongSwan:
#             IKE SAs; libreswan: states): must be 0 / 0+1
#   up_kB     VmRSS with the N tunnels up
#   down_kB   VmRSS after the deletes
#   kB/tun    (up_kB - the VmRSS before this round) / est
# and a summary per daemon: idle_kB (connection loaded, before round 1),
# kB/tun of round 1, growth = down_kB of the last round - of round 1.
# Environment: C (default 8), DAEMONS, BENCH_DIR (default
# /tmp/pluto-bench-memory), HOLD_MS (how long the tunnels stay up for the
# measurement, default 2000), DELETE_RATE (tunnels deleted a second,
# default 250: a Delete is not answered, and what a busy responder's
# socket buffer cannot hold is lost).
set -euo pipefail
N=${1:-1000}
ROUNDS=${2:-10}
HOLD_MS=${HOLD_MS:-2000}
DELETE_RATE=${DELETE_RATE:-250}
export BENCH_DIR=${BENCH_DIR:-/tmp/pluto-bench-memory}
HANDSHAKES_SETUP_ONLY=1
# shellcheck source=tests/bench/handshakes.sh
. "$(dirname "$0")/handshakes.sh" "$N"
case_row psk-modp2048

pluto_left() {
	"$IPSECCTL" --socket "$B/$CASE-pluto/run/ctl" status --json |
		jq -r '"\(.states | length)+\(.connections | length)"'
}
strongswan_left() {
	local d=$B/$CASE-strongswan
	STRONGSWAN_CONF=$d/strongswan.conf swanctl --list-sas 2>/dev/null | grep -c "ESTABLISHED" || true
}
libreswan_left() {
	"$LSBIN/whack" --rundir "$B/$CASE-libreswan/run" --showstates 2>/dev/null | grep -c "STATE_" || true
}
# what "nothing left" reads as
declare -A EMPTY=([pluto]="0+1" [strongswan]="0" [libreswan]="0")
left_is_empty() { [ "$("${1}_left")" = "${EMPTY[$1]}" ]; }

declare -A R    # R[daemon,round,column], R[daemon,column]
rounds_of() {
	local dm=$1 d=$B/$CASE-$1 r before up down est lg
	PLUTO_DIR=$d PLUTO_HELPERS=   # handshakes.sh's pluto_start reads them
	mkdir -p "$d"
	ip -n "$LG_NS_R" xfrm policy flush; ip -n "$LG_NS_R" xfrm state flush
	if ! "${dm}_start" >"$d/start.log" 2>&1; then
		echo "$dm: the responder did not start (see $d)" >&2
		[ -n "$RPID" ] && stop_pid "$RPID"; RPID=
		return 0
	fi
	sleep 1
	R[$dm,idle]=$(rss_kb "$RPID")
	before=${R[$dm,idle]}
	for r in $(seq "$ROUNDS"); do
		lg=$d/loadgen-$r.log
		ip netns exec "$LG_NS_I" "$LOADGEN" -s "$LG_FIRST" -d "$LG_RESPONDER" -n "$N" -c "$C" \
			-i "$IKE" -e "$ESP" -k "$PSK" --delete --hold "$HOLD_MS" --delete-rate "$DELETE_RATE" >"$lg" 2>&1 &
		local lpid=$!
		# measured while the load generator holds the tunnels up
		wait_until 600 grep -q '^RESULT ' "$lg" || true
		sleep 0.2
		up=$(rss_kb "$RPID")
		R[$dm,$r,up]="$("${dm}_established" 2>/dev/null || echo "?")"
		wait "$lpid" || true
		# Deletes are not answered: wait for the responder to act on them
		wait_until 60 left_is_empty "$dm" || true
		# pluto gives freed heap back a second after a burst of deletions
		# (src/daemon/heap.h): measure after that
		sleep 3
		down=$(rss_kb "$RPID")
		est=$(sed -n 's/^RESULT established=\([0-9]*\).*/\1/p' "$lg")
		R[$dm,$r,est]="${est:-0}/$N"
		R[$dm,$r,left]=$("${dm}_left" 2>/dev/null || echo "?")
		R[$dm,$r,up_kB]=$up
		R[$dm,$r,down_kB]=$down
		[ "${est:-0}" -gt 0 ] &&
			R[$dm,$r,pertun]=$(awk -v a="$up" -v b="$before" -v n="$est" 'BEGIN { printf "%.1f", (a - b) / n }')
		before=$down
	done
	stop_pid "$RPID"; RPID=
}

for dm in $DAEMONS; do
	rounds_of "$dm"
done

{
printf 'Memory: %s rounds of %s tunnels up and down (PSK MODP2048, %s in flight), %s, %s cores, %s\n' \
	"$ROUNDS" "$N" "$C" "$(uname -r)" "$(nproc)" "$(date -u +%FT%TZ)"
printf '%-10s %5s %11s %6s %6s %8s %8s %7s\n' daemon round est up left up_kB down_kB kB/tun
for dm in $DAEMONS; do
	for r in $(seq "$ROUNDS"); do
		printf '%-10s %5s %11s %6s %6s %8s %8s %7s\n' "$dm" "$r" "${R[$dm,$r,est]:--}" "${R[$dm,$r,up]:--}" \
			"${R[$dm,$r,left]:--}" "${R[$dm,$r,up_kB]:--}" "${R[$dm,$r,down_kB]:--}" "${R[$dm,$r,pertun]:--}"
	done
done
echo
printf '%-10s %8s %7s %8s\n' daemon idle_kB kB/tun growth_kB
for dm in $DAEMONS; do
	g=-
	[ -n "${R[$dm,1,down_kB]:-}" ] && [ -n "${R[$dm,$ROUNDS,down_kB]:-}" ] &&
		g=$(( R[$dm,$ROUNDS,down_kB] - R[$dm,1,down_kB] ))
	printf '%-10s %8s %7s %8s\n' "$dm" "${R[$dm,idle]:--}" "${R[$dm,1,pertun]:--}" "$g"
done
} | sed 's/ *$//'
