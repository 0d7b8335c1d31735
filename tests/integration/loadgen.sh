#!/bin/bash
# pluto-loadgen (tests/bench/loadgen) itself: 20 tunnels, 4 in flight,
# against a pluto road-warrior responder (--kernel none) in a namespace,
# with PSK and with RSA + PFS. Each run must report all 20 established,
# and pluto must agree: 20 IPsec SAs established, one per source address.
# Each with --nhelpers 0 and 2 (crypto inline or in helper threads).
# A wrong PSK must fail all of them, counted as an authentication failure
# or the responder's notification, never as established. With --delete
# (two rounds of up and down against one pluto) pluto must delete every
# state and instance each round, and exit without a leak report.
# Overload (issue 13 point 3): 400 tunnels, 200 in flight, retransmitting
# after 100 ms, against --nhelpers 0 and 2: more than the event loop of
# this (sanitized) build does in time. Every tunnel must end established
# on BOTH sides (the load generator's count equals pluto's established
# IPsec SAs) or cleanly refused (failed waiting for MR1: pluto dropped its
# MI1s); none half up, nothing failed later in the handshake.
# Args: the pluto-loadgen binary.
# shellcheck source=tests/lib/common.sh
. "$SRCDIR/tests/lib/common.sh"
# shellcheck source=tests/bench/loadgen/lg-netns.sh
. "$SRCDIR/tests/bench/loadgen/lg-netns.sh"
LOADGEN=$1
[ "$(id -u)" = 0 ] || skip_all "needs root for network namespaces"
trap 'lg_netns_down; _cleanup' EXIT
OVERLOAD_N=400
lg_netns_up "$$" "$OVERLOAD_N" || skip_all "cannot create network namespaces"
N=20

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/resp.key" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/lg.key" 2>/dev/null
openssl pkey -in "$T/resp.key" -pubout -out "$T/resp.pub" 2>/dev/null
openssl pkey -in "$T/lg.key" -pubout -out "$T/lg.pub" 2>/dev/null

# run_case NAME AUTH-LINES LOADGEN-ARGS...: pluto with conn lg, N tunnels
run_case() {
	local name=$1 auth=$2; shift 2
	mkdir -p "$T/$name/run"
	cat >"$T/$name/ipsec.conf" <<CONF
conn lg
	left=$LG_RESPONDER
	right=%any
	$auth
	auto=add
CONF
	ip netns exec "$LG_NS_R" "$PLUTO" --nofork --stderrlog --nodbus --kernel none \
		--rundir "$T/$name/run" --ctlbase "$T/$name/run/ctl" --config "$T/$name/ipsec.conf" \
		--secretsfile "$T/$name/ipsec.secrets" --nhelpers "$HELPERS" >"$T/$name-pluto.log" 2>&1 &
	local pid=$!
	_pids+=("$pid")
	wait_for 10 test -S "$T/$name/run/ctl" || { fail "$name: pluto did not start"; return; }
	ip netns exec "$LG_NS_I" "$LOADGEN" -s "$LG_FIRST" -d "$LG_RESPONDER" -n "$N" -c 4 -r 1000 \
		--linger 1000 -P "$pid" -o "$T/$name.csv" "$@" >"$T/$name-loadgen.log" 2>&1
	echo $? >"$T/$name.status"
	sed 's/^/# /' "$T/$name-loadgen.log"
	"$IPSECCTL" --socket "$T/$name/run/ctl" status --json >"$T/$name-status.json"
	kill "$pid"; wait "$pid"
	check_eq "$name: pluto exits 0" 0 "$?"
}

# pluto's established IPsec SAs with distinct peers, from status --json
ipsec_peers() {
	jq -r '[.states[] | select(.kind == "ipsec" and .established) | .peerAddress] | unique | length' "$1"
}

# --nhelpers 0: crypto in the event loop; --nhelpers 2: in helper threads,
# each message parked until its job is back and run again
for HELPERS in 0 2; do
	H=-h$HELPERS
	echo "$LG_RESPONDER %any : PSK \"loadgen test\"" >"$T/psk$H-secrets.txt"
	mkdir -p "$T/psk$H" && cp "$T/psk$H-secrets.txt" "$T/psk$H/ipsec.secrets"
	run_case psk$H "authby=secret
		ike=aes128-sha1-modp2048
		esp=aes128-sha1" -k "loadgen test"
	check_eq "psk$H: loadgen exits 0" 0 "$(cat "$T/psk$H.status")"
	check_contains "psk$H: all $N established" "established $N of $N" "$(cat "$T/psk$H-loadgen.log")"
	check_eq "psk$H: every source address once in the CSV" "$N" \
		"$(awk -F, 'NR > 1 && $3 == "established" { print $2 }' "$T/psk$H.csv" | sort -u | wc -l)"
	check_eq "psk$H: pluto has $N established IPsec SAs, one per peer" "$N" "$(ipsec_peers "$T/psk$H-status.json")"

	mkdir -p "$T/rsa$H"
	echo "$LG_RESPONDER : RSA $T/resp.key" >"$T/rsa$H/ipsec.secrets"
	run_case rsa$H "authby=rsasig
		leftrsasigkey=%file:$T/resp.pub
		rightrsasigkey=%file:$T/lg.pub
		ike=aes256-sha2_256-ecp256
		esp=aes256-sha2_256
		pfs=yes
		pfsgroup=modp2048" -a rsa --key "$T/lg.key" --peer-key "$T/resp.pub" \
		-i aes256-sha2_256-ecp256 -e aes256-sha2_256 -g modp2048
	check_eq "rsa+pfs$H: loadgen exits 0" 0 "$(cat "$T/rsa$H.status")"
	check_contains "rsa+pfs$H: all $N established" "established $N of $N" "$(cat "$T/rsa$H-loadgen.log")"
	check_eq "rsa+pfs$H: pluto has $N established IPsec SAs, one per peer" "$N" "$(ipsec_peers "$T/rsa$H-status.json")"

	mkdir -p "$T/wrong$H" && cp "$T/psk$H-secrets.txt" "$T/wrong$H/ipsec.secrets"
	run_case wrong$H "authby=secret" -k "not the secret" -t 2
	check_eq "wrong psk$H: loadgen exits 1" 1 "$(cat "$T/wrong$H.status")"
	check_contains "wrong psk$H: none established" "established 0 of $N" "$(cat "$T/wrong$H-loadgen.log")"
	check_eq "wrong psk$H: pluto has no IPsec SA" 0 "$(ipsec_peers "$T/wrong$H-status.json")"
done

# overload: the load generator's own count against pluto's (est == resp),
# and every failure a refused MI1
for HELPERS in 0 2; do
	name=overload-h$HELPERS
	mkdir -p "$T/$name" && cp "$T/psk-h0-secrets.txt" "$T/$name/ipsec.secrets"
	N=$OVERLOAD_N run_case "$name" "authby=secret" -k "loadgen test" -n "$OVERLOAD_N" -c 200 -r 100 -t 4
	est=$(sed -n 's/^RESULT established=\([0-9]*\) .*/\1/p' "$T/$name-loadgen.log")
	failed=$(sed -n 's/^RESULT .* failed=\([0-9]*\) .*/\1/p' "$T/$name-loadgen.log")
	refused=$({ grep -o 'refused, [0-9]* refused in the last second' "$T/$name-pluto.log" || true; } |
		awk '{ n += $2 } END { print n + 0 }')
	echo "# $name: $est established, $failed failed (MI1 never answered); pluto refused $refused MI1s"
	check_eq "$name: every tunnel ends" "$OVERLOAD_N" "$((est + failed))"
	check_eq "$name: pluto's established IPsec SAs = the load generator's (none half up)" "$est" \
		"$(ipsec_peers "$T/$name-status.json")"
	check_eq "$name: every failure is a refused MI1 (timeout waiting for MR1)" "" \
		"$(grep '^failed: ' "$T/$name-loadgen.log" | grep -v '^failed: timeout waiting for MR1: ' || true)"
	if [ "$failed" -gt 0 ]; then
		check_eq "$name: pluto says it refused new Main Modes" 1 "$((refused > 0))"
	fi
	check_eq "$name: pluto has no Quick Mode waiting for its QI2" 0 \
		"$(jq '[.states[] | select(.kind == "ipsec" and (.established | not))] | length' "$T/$name-status.json")"
done

# --delete, two rounds against one pluto: after each, no state and only
# the template left (instances go with their last state)
mkdir -p "$T/del/run" && cp "$T/psk-h0-secrets.txt" "$T/del/ipsec.secrets"
printf 'conn lg\n\tleft=%s\n\tright=%%any\n\tauthby=secret\n\tauto=add\n' "$LG_RESPONDER" >"$T/del/ipsec.conf"
ip netns exec "$LG_NS_R" "$PLUTO" --nofork --stderrlog --nodbus --kernel none \
	--rundir "$T/del/run" --ctlbase "$T/del/run/ctl" --config "$T/del/ipsec.conf" \
	--secretsfile "$T/del/ipsec.secrets" >"$T/del-pluto.log" 2>&1 &
del_pid=$!
_pids+=("$del_pid")
del_counts() {
	"$IPSECCTL" --socket "$T/del/run/ctl" status --json >"$T/del-status.json" &&
		jq -r '"\(.states | length) \(.connections | length)"' "$T/del-status.json"
}
del_done() { test "$(del_counts)" = "0 1"; }
if wait_for 10 test -S "$T/del/run/ctl"; then
	for round in 1 2; do
		ip netns exec "$LG_NS_I" "$LOADGEN" -s "$LG_FIRST" -d "$LG_RESPONDER" -n "$N" -c 4 -r 1000 \
			-k "loadgen test" --delete >"$T/del-$round.log" 2>&1
		check_eq "delete round $round: loadgen exits 0" 0 "$?"
		check_contains "delete round $round: all $N established" "established $N of $N" \
			"$(cat "$T/del-$round.log")"
		check_contains "delete round $round: all $N deleted" "DELETED tunnels=$N failed=0" \
			"$(cat "$T/del-$round.log")"
		wait_for 10 del_done
		check_eq "delete round $round: pluto has no state and only the template" "0 1" "$(del_counts)"
	done
	kill "$del_pid"; wait "$del_pid"
	check_eq "delete: pluto exits 0" 0 "$?"
	check_eq "delete: no leak report" 0 "$(grep -c LeakSanitizer "$T/del-pluto.log")"
else
	fail "delete: pluto did not start"
fi
done_testing
