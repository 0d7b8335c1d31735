#!/bin/bash
# tests/bench/flood.sh [COUNT] [RATE]: what a flood of Main Mode first
# messages (MI1s with fresh cookies, issue 14) costs a responder, for
# pluto side by side with strongSwan and libreswan in the same run.
# pluto-loadgen --flood sends COUNT MI1s (default 10000) at RATE a second
# (default 1000) to each responder in turn, once from ONE source address
# and once from random forged sources (65,000 addresses of 10.1.0.0/16;
# their answers go back to the load generator's namespace and die there).
# Each responder has the road-warrior connection of handshakes.sh's
# psk-modp2048 case (right=%any, PSK), which admits every MI1.
#
# Not part of the suite: a measurement (tests/bench/README.md). The same
# set-up as handshakes.sh (which it sources): root, namespaces lg-PID-*,
# pluto from build-bench/ (release), strongSwan and libreswan from
# tests/interop/setup.sh with the xfrm stub.
#
# Per daemon and mode, one row:
#   sent       MI1s the load generator sent
#   cpu_ms     responder CPU (utime+stime, children included) from 1 s
#              before the flood to 2 s after its last MI1
#   us/pkt     cpu_ms / sent, in microseconds
#   idle_kB    VmRSS before the flood
#   peak_kB    VmHWM (the peak RSS) after it
#   lines      lines the responder logged meanwhile (pluto: its stderr;
#              strongSwan: charon's file log at level 1; libreswan: its stderr)
#   half_open  (pluto only) its half-open Main Modes after the flood
# Environment: DAEMONS (default "pluto strongswan libreswan"), MODES
# (default "one-source random"), BENCH_DIR (default /tmp/pluto-bench-flood),
# PLUTO_ARGS (more pluto options), FLOOD_PLUTO (another pluto binary in
# place of build-bench's, e.g. a release build of an older tree, to
# compare before and after in the same minute).
set -euo pipefail
COUNT=${1:-10000}
RATE=${2:-1000}
MODES=${MODES:-one-source random}
export DAEMONS=${DAEMONS:-pluto strongswan libreswan}
export BENCH_DIR=${BENCH_DIR:-/tmp/pluto-bench-flood}
HANDSHAKES_SETUP_ONLY=1
# shellcheck source=tests/bench/handshakes.sh
. "$(dirname "$0")/handshakes.sh" 1
case_row psk-modp2048
PLUTO=${FLOOD_PLUTO:-$PLUTO}

# cpu_ticks PID: utime + stime + cutime + cstime (clock ticks)
cpu_ticks() { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
log_of() {
	case $1 in
	pluto) echo "$B/$CASE-pluto/pluto.log" ;;
	strongswan) echo "$B/$CASE-strongswan/charon.log" ;;
	libreswan) echo "$B/$CASE-libreswan/pluto.log" ;;
	esac
}
lines_of() { local f; f=$(log_of "$1"); [ -f "$f" ] && wc -l <"$f" || echo 0; }

printf '%-11s %-10s %6s %7s %7s %8s %8s %7s %9s\n' daemon mode sent cpu_ms us/pkt idle_kB peak_kB lines half_open |
	tee "$B/results.txt"
for dm in $DAEMONS; do
	for mode in $MODES; do
		d=$B/$CASE-$dm
		PLUTO_DIR=$d PLUTO_HELPERS=
		rm -rf "$d"; mkdir -p "$d"
		if ! "${dm}_start" >"$B/$dm-$mode-start.log" 2>&1; then
			echo "$dm: the responder did not start (see $B/$dm-$mode-start.log)" >&2
			[ -n "$RPID" ] && stop_pid "$RPID"; RPID=
			continue
		fi
		sleep 1
		idle=$(rss_kb "$RPID") lines0=$(lines_of "$dm") cpu0=$(cpu_ticks "$RPID")
		case $mode in
		one-source) src=(-s "$LG_FIRST" --sources 1) ;;
		random) src=(-s "$LG_FIRST" --sources 65000) ;;
		esac
		ip netns exec "$LG_NS_I" "$LOADGEN" -d "$LG_RESPONDER" -n "$COUNT" --flood "$RATE" "${src[@]}" \
			>"$B/$dm-$mode-flood.log" 2>&1
		sleep 2
		cpu1=$(cpu_ticks "$RPID") peak=$(hwm_kb "$RPID") lines1=$(lines_of "$dm")
		sent=$(sed -n 's/^FLOOD sent=\([0-9]*\).*/\1/p' "$B/$dm-$mode-flood.log")
		half=-
		[ "$dm" = pluto ] && half=$("$IPSECCTL" --socket "$d/run/ctl" status --json |
			jq '[.states[] | select(.established | not)] | length')
		cpu_ms=$(( (cpu1 - cpu0) * 1000 / HZ ))
		printf '%-11s %-10s %6s %7s %7s %8s %8s %7s %9s\n' "$dm" "$mode" "${sent:-0}" "$cpu_ms" \
			"$(awk -v c="$cpu_ms" -v n="${sent:-0}" 'BEGIN { printf "%.1f", n ? c * 1000 / n : 0 }')" \
			"$idle" "$peak" "$((lines1 - lines0))" "$half" | tee -a "$B/results.txt"
		stop_pid "$RPID"; RPID=
	done
done
