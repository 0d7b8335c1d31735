# shellcheck shell=bash
# The load generator's network, shared by tests/bench/handshakes.sh and
# tests/integration/loadgen.sh: two namespaces joined by a veth pair,
#   $LG_NS_R  responder, 10.0.0.1/24 (LG_RESPONDER) on lgr
#   $LG_NS_I  pluto-loadgen, 10.0.0.2/24 on lgi, and N source addresses
#             10.1.0.1, 10.1.0.2, ... (LG_FIRST, at most 65,000) as /32s
# The responder reaches the sources through ONE route via 10.0.0.2: with
# the sources on its link it would need a neighbour entry for each, and
# past the neighbour table's limit (gc_thresh3, 1024) the kernel drops
# packets, which a benchmark would count as the daemon's lost answers.
# Names start with "lg-" and carry the caller's pid; lg_netns_down
# deletes them.
LG_RESPONDER=10.0.0.1
LG_FIRST=10.1.0.1

# lg_netns_up TAG N: both namespaces (LG_NS_I, LG_NS_R set) and N sources
lg_netns_up() {
	LG_NS_I=lg-$1-i LG_NS_R=lg-$1-r
	[ "$2" -le 65000 ] || { echo "lg_netns_up: at most 65000 sources" >&2; return 1; }
	lg_netns_down
	ip netns add "$LG_NS_I" && ip netns add "$LG_NS_R" || return 1
	ip -n "$LG_NS_I" link add lgi type veth peer name lgr netns "$LG_NS_R" || return 1
	ip -n "$LG_NS_I" link set lo up && ip -n "$LG_NS_R" link set lo up
	ip -n "$LG_NS_R" addr add "$LG_RESPONDER/24" dev lgr
	ip -n "$LG_NS_I" addr add 10.0.0.2/24 dev lgi
	# one "ip -batch" for all: N separate ip processes take minutes at 50,000
	awk -v n="$2" 'BEGIN { base = 10 * 16777216 + 1 * 65536 + 1
		for (i = 0; i < n; i++) { a = base + i
			printf "addr add %d.%d.%d.%d/32 dev lgi\n", int(a / 16777216), int(a / 65536) % 256, int(a / 256) % 256, a % 256 } }' |
		ip -n "$LG_NS_I" -batch - || return 1
	ip -n "$LG_NS_I" link set lgi up && ip -n "$LG_NS_R" link set lgr up || return 1
	ip -n "$LG_NS_R" route add 10.1.0.0/16 via 10.0.0.2 dev lgr
}

lg_netns_down() {
	local ns
	for ns in ${LG_NS_I:-} ${LG_NS_R:-}; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
	done
	return 0
}
