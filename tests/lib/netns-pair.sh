# shellcheck shell=bash
# Two hosts for tests that need a real network between two daemons:
# namespaces ${NS}a and ${NS}b joined by a veth pair (${NS}x in a,
# ${NS}y in b) with 198.51.100.1/24 in a and 198.51.100.2/24 in b, lo up.
# Source after tests/lib/common.sh:
#
#   NS=pt$$; . "$SRCDIR/tests/lib/netns-pair.sh"   # creates, traps cleanup
#   pair_start a [PLUTO OPTIONS...]                 # pluto in a, listening
#   pair_stop a                                     # SIGTERM, status in STOPPED_STATUS
#
# pair_start runs "$PLUTO --nofork --stderrlog --rundir $T/SIDE/run
# --ctlbase $T/SIDE/sock --secretsfile $T/SIDE/ipsec.secrets OPTIONS",
# logging to $T/SIDE.log, and tells it to --listen.

: "${NS:?set NS to a short unique prefix before sourcing netns-pair.sh}"
command -v ip >/dev/null || skip_all "no ip(8)"
A=${NS}a
B=${NS}b
ip netns add "$A" 2>/dev/null || skip_all "cannot create network namespaces"
ip netns add "$B"
declare -A PID
STOPPED_STATUS=

pair_stop() {
	local side=$1
	[ -n "${PID[$side]:-}" ] || return 0
	kill -TERM "${PID[$side]}" 2>/dev/null
	wait "${PID[$side]}" 2>/dev/null
	STOPPED_STATUS=$?
	PID[$side]=
}

_pair_cleanup() {
	pair_stop a
	pair_stop b
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	_cleanup
}
trap _pair_cleanup EXIT

ip link add "${NS}x" netns "$A" type veth peer name "${NS}y" netns "$B"
ip -n "$A" link set lo up
ip -n "$B" link set lo up
ip -n "$A" addr add 198.51.100.1/24 dev "${NS}x"
ip -n "$B" addr add 198.51.100.2/24 dev "${NS}y"
ip -n "$A" link set "${NS}x" up
ip -n "$B" link set "${NS}y" up

pair_start() {
	local side=$1; shift
	mkdir -p "$T/$side"
	rm -rf "$T/$side/run"
	ip netns exec "${NS}$side" "$PLUTO" --nofork --stderrlog \
		--rundir "$T/$side/run" --ctlbase "$T/$side/sock" --secretsfile "$T/$side/ipsec.secrets" \
		"$@" >>"$T/$side.log" 2>&1 &
	PID[$side]=$!
	_pids+=("${PID[$side]}")
	wait_for 10 test -S "$T/$side/sock" || { echo "# pluto $side did not start" >&2; return 1; }
	"$WHACK" --ctlbase "$T/$side/sock" --listen >/dev/null
}
