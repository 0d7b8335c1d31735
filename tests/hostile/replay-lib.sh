# shellcheck shell=bash
# Shared by the replay tests (issue 14 point 3): two plutos, a
# (198.51.100.1) initiating conn "c" to b (198.51.100.2) with a PSK,
# --kernel none; tcpdump in b's namespace records what a sends, so that
# its real, authenticated datagrams can be sent to b again later, from
# a's address and port 500 (isakmp-replay.py). Sourced by replay-*.sh
# after tests/lib/scenario.sh.

A=198.51.100.1 B=198.51.100.2
REPLAY_PY=$SRCDIR/tests/hostile/isakmp-replay.py
PCAP=$T/b.pcap
BLOG=$T/b-pluto.log

# replay_start: namespaces, both plutos (secrets: $T/a/ipsec.secrets and
# $T/b/ipsec.secrets when the script wrote them, else one PSK for a and
# b), tcpdump running; a skip when there are no namespaces
replay_start() {
	io_require_netns jq tcpdump python3
	io_side a pluto
	io_side b pluto
	io_link a "$A/24" b "$B/24" || skip_all "cannot create network namespaces"
	wait_for 5 ip netns exec "$(ns_of a)" ping -c1 -W1 "$B" >/dev/null || fail "a reaches b"
	local s
	for s in a b; do
		mkdir -p "$T/$s"
		[ -f "$T/$s/ipsec.secrets" ] || echo "$A $B : PSK \"replay test $$\"" >"$T/$s/ipsec.secrets"
		chmod 600 "$T/$s/ipsec.secrets"
		pluto_launch "$s" --kernel none --nodbus --debug-all || { fail "pluto $s started"; io_finish; }
	done
	# --immediate-mode -U: every packet is in the file when it is read
	ip netns exec "$(ns_of b)" tcpdump -i "$(if_of b a)" --immediate-mode -U -n -w "$PCAP" \
		udp port 500 >"$T/tcpdump.out" 2>&1 &
	_pids+=($!)
	wait_for 5 grep -q "listening on" "$T/tcpdump.out" || fail "tcpdump captures in b's namespace"
}

# replay_setup [a's extra key=value words]: replay_start, then conn c
# (host to host with subnets) added on both
replay_setup() {
	replay_start
	local conn=(left="$A" right="$B" leftsubnet=10.1.0.0/24 rightsubnet=10.2.0.0/24
		    authby=secret keyingtries=1)
	check "conn c added on a" pluto_ctl a add c "${conn[@]}" "$@"
	check "conn c added on b" pluto_ctl b add c "${conn[@]}"
}

# b_states FILTER: b's states (ipsecctl status --json) that jq FILTER
# selects, as "serial kind name established" lines
b_states() {
	pluto_ctl b status --json | jq -r ".states[] | select($1) | \"\(.serial) \(.kind) \(.name) \(.established)\""
}
b_ipsec() { b_states '.kind == "ipsec"'; }
b_isakmp() { b_states '.kind == "isakmp"'; }
a_ipsec_serial() {
	pluto_ctl a status --json | jq -r '[.states[] | select(.kind == "ipsec" and .established) | .serial] | max // empty'
}

# up: a Quick Mode from a (over the ISAKMP SA when there is one)
up() { timeout 30 "$IPSECCTL" --socket "$(pluto_sock a)" up c >"$T/up.out" 2>&1; }
# b_has_ipsec: b has an established IPsec SA
b_has_ipsec() { [ -n "$(b_states '.kind == "ipsec" and .established')" ]; }
b_no_ipsec() { [ -z "$(b_ipsec)" ]; }
b_has_two_ipsec() { [ "$(b_states '.kind == "ipsec" and .established' | wc -l)" -ge 2 ]; }

# a_datagrams EXCHANGE: what a sent in exchange EXCHANGE (2, 5, 32, ...),
# as isakmp-replay.py lists them (EXCHANGE MSGID LENGTH HEX), in order
a_datagrams() { "$REPLAY_PY" list "$PCAP" "$A" | awk -v x="$1" '$1 == x'; }
# b_datagrams EXCHANGE: the same for what b sent
b_datagrams() { "$REPLAY_PY" list "$PCAP" "$B" | awk -v x="$1" '$1 == x'; }

# replay HEX: sent to b from a's address and port 500
replay() { ip netns exec "$(ns_of a)" "$REPLAY_PY" send "$A" "$B" "$1"; }

# b_logged_replay MSGID: b logged the drop of a replay of MSGID (8 hex digits)
b_logged_replay() { grep -q "replayed .* message ID 0x$1 was already used" "$BLOG"; }
# b_logged_replays MSGID: how many times; b_logged_replays_more MSGID N: more than N
b_logged_replays() { grep -c "replayed .* message ID 0x$1 was already used" "$BLOG"; }
b_logged_replays_more() { [ "$(b_logged_replays "$1")" -gt "$2" ]; }

# replay_finish: tcpdump stopped (before the namespaces go), both plutos
# stopped, the plan printed
replay_finish() {
	local pid
	for pid in "${_pids[@]}"; do io_kill "$pid" 5; done
	io_finish
}
