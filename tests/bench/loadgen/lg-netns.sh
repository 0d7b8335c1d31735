# shellcheck shell=bash
# The load generator's network, shared by tests/bench/handshakes.sh and
# tests/integration/loadgen.sh: two namespaces joined by a veth pair,
#   $LG_NS_R  responder, 10.0.0.1/8 (LG_RESPONDER)
#   $LG_NS_I  pluto-loadgen, N addresses 10.1.0.1, 10.1.0.2, ... (LG_FIRST)
# all in 10/8, so the responder reaches every source on the link. Names
# start with "lg-" and carry the caller's pid; lg_netns_down deletes them.
LG_RESPONDER=10.0.0.1
LG_FIRST=10.1.0.1

# lg_netns_up TAG N: both namespaces (LG_NS_I, LG_NS_R set) and N sources
lg_netns_up() {
	LG_NS_I=lg-$1-i LG_NS_R=lg-$1-r
	lg_netns_down
	ip netns add "$LG_NS_I" && ip netns add "$LG_NS_R" || return 1
	ip -n "$LG_NS_I" link add lgi type veth peer name lgr netns "$LG_NS_R" || return 1
	ip -n "$LG_NS_I" link set lo up && ip -n "$LG_NS_R" link set lo up
	ip -n "$LG_NS_R" addr add "$LG_RESPONDER/8" dev lgr
	# one "ip -batch" for all: N separate ip processes take minutes at 50,000
	awk -v n="$2" 'BEGIN { base = 10 * 16777216 + 1 * 65536 + 1
		for (i = 0; i < n; i++) { a = base + i
			printf "addr add %d.%d.%d.%d/8 dev lgi\n", int(a / 16777216), int(a / 65536) % 256, int(a / 256) % 256, a % 256 } }' |
		ip -n "$LG_NS_I" -batch - || return 1
	ip -n "$LG_NS_I" link set lgi up && ip -n "$LG_NS_R" link set lgr up
}

lg_netns_down() {
	local ns
	for ns in ${LG_NS_I:-} ${LG_NS_R:-}; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
	done
	return 0
}
