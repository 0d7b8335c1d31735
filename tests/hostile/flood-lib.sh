# shellcheck shell=bash
# A flood of Main Mode first messages (issue 14 points 1 and 2) against a
# pluto responder while a configured pluto peer negotiates with it. Sourced
# by flood-one-source.sh and flood-forged.sh, which set FLOOD_MODE:
#   one-source  every MI1 from 10.200.0.1 (only the %any template admits it)
#   forged      MI1s from random addresses of 10.200.0.0/16, and every
#               10th from the configured peer's own address, forged
#   forged-peer every MI1 from the configured peer's address: its pool
#               (256) turns over every 256 ms, the peer's own state must
#               live through it
# Three namespaces (hf<PID>r, hf<PID>p, hf<PID>f):
#   responder R  192.0.2.1 on the veth to P, 10.9.0.1 on the veth to F;
#                conn "peer" right=192.0.2.2, conn "rw" right=%any (PSK)
#   peer P       192.0.2.2, pluto, conn "peer" right=192.0.2.1
#   flooder F    10.9.0.2, pluto-loadgen --flood (IP_TRANSPARENT: any source)
# R routes 10.200.0.0/16 to F (its answers to the forged sources go there
# and die) and has rp_filter off, so a datagram from 192.0.2.2 that came
# in from F is taken, as from an attacker on another path.
# FLOOD_RATE (default 1000) MI1s a second, FLOOD_COUNT (default 10000) in
# all: the issue's full case, 10 s. Asserted:
#   - the flood was sent (the load generator's line);
#   - 4 s into it (the slots full), P's "ipsecctl up peer" succeeds within
#     5 s, and R has the ISAKMP and IPsec SA with P, while the flood goes on;
#   - R keeps to its limits: half-open states of the flood at most 5 from
#     one address (one-source) or at most 1024 in all (forged);
#   - R's peak RSS grows by less than FLOOD_RSS_MB (default 64) MB;
#   - R logs a bounded number of lines (FLOOD_LOG_MAX, default 400, for
#     10,000 MI1s): one-source, the overload lines (one a second) add up
#     to the refused MI1s; forged, the admitted MI1s' lines are limited
#     and "N similar messages ... suppressed" lines say how many were not
#     written;
#   - R runs on, and exits 0 on SIGTERM (no sanitizer report).
# shellcheck source=tests/lib/common.sh
. "$SRCDIR/tests/lib/common.sh"
: "${FLOOD_MODE:?set by the test script}"
FLOOD_RATE=${FLOOD_RATE:-1000}
FLOOD_COUNT=${FLOOD_COUNT:-10000}
FLOOD_RSS_MB=${FLOOD_RSS_MB:-64}
FLOOD_LOG_MAX=${FLOOD_LOG_MAX:-400}
LOADGEN=${LOADGEN:-$BUILDDIR/tests/bench/loadgen/pluto-loadgen}
IPSECCTL=${IPSECCTL:?run through meson test}

[ "$(id -u)" = 0 ] || skip_all "needs root for network namespaces"
[ -x "$LOADGEN" ] || skip_all "no pluto-loadgen (build with -Dtests=true)"

# the options' bad values are refused, naming the option
if [ "$FLOOD_MODE" = one-source ]; then
	check_contains "--half-open-per-source 0 is refused, named" "pluto: --half-open-per-source '0'" \
		"$("$PLUTO" --half-open-per-source 0 --nofork 2>&1)"
	check_contains "--half-open-max 2 is refused, named" "pluto: --half-open-max '2'" \
		"$("$PLUTO" --half-open-max 2 --nofork 2>&1)"
fi

NS_R=hf$$r NS_P=hf$$p NS_F=hf$$f
R_IP=192.0.2.1 P_IP=192.0.2.2
PSK="flood test secret $$"
# shellcheck disable=SC2317 # called by the EXIT trap
flood_down() {
	local ns
	for ns in $NS_R $NS_P $NS_F; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	return 0
}
trap 'flood_down; _cleanup' EXIT

flood_netns_up() {
	ip netns add "$NS_R" && ip netns add "$NS_P" && ip netns add "$NS_F" || return 1
	ip -n "$NS_R" link add rp type veth peer name pr netns "$NS_P" || return 1
	ip -n "$NS_R" link add rf type veth peer name fr netns "$NS_F" || return 1
	local ns
	for ns in $NS_R $NS_P $NS_F; do ip -n "$ns" link set lo up; done
	ip -n "$NS_R" addr add $R_IP/24 dev rp && ip -n "$NS_R" addr add 10.9.0.1/24 dev rf
	ip -n "$NS_P" addr add $P_IP/24 dev pr && ip -n "$NS_F" addr add 10.9.0.2/24 dev fr
	ip -n "$NS_R" link set rp up && ip -n "$NS_R" link set rf up
	ip -n "$NS_P" link set pr up && ip -n "$NS_F" link set fr up
	ip -n "$NS_R" route add 10.200.0.0/16 via 10.9.0.2
	ip -n "$NS_F" route add $R_IP/32 via 10.9.0.1
	ip netns exec "$NS_R" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.rf.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0
}
flood_netns_up || skip_all "cannot create network namespaces"

# start_side NAME NS CONF: pluto in NS with ipsec.conf CONF, the PSK for all
start_side() {
	local name=$1 ns=$2 d=$T/$1
	mkdir -p "$d/run"
	printf '%s\n' "$3" >"$d/ipsec.conf"
	echo "%any %any : PSK \"$PSK\"" >"$d/ipsec.secrets"
	chmod 600 "$d/ipsec.secrets"
	# AddressSanitizer keeps freed memory in a quarantine (256 MB by
	# default) that a flood's churn of states fills: RSS would measure it,
	# not pluto
	ip netns exec "$ns" env ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=16" "$PLUTO" --nofork --stderrlog --nodbus --kernel none --nhelpers 1 \
		--rundir "$d/run" --ctlbase "$d/run/ctl" --config "$d/ipsec.conf" \
		--secretsfile "$d/ipsec.secrets" >"$T/$name.log" 2>&1 &
	echo $! >"$d/pid"
	_pids+=("$!")
	wait_for 10 test -S "$d/run/ctl" || return 1
	"$IPSECCTL" --socket "$d/run/ctl" listen >/dev/null 2>&1
}
ctl() { local s=$1; shift; "$IPSECCTL" --socket "$T/$s/run/ctl" "$@"; }

start_side responder "$NS_R" "conn peer
	left=$R_IP
	right=$P_IP
	authby=secret
	ike=aes128-sha1-modp2048
	esp=aes128-sha1
	auto=add
conn rw
	left=$R_IP
	right=%any
	authby=secret
	ike=aes128-sha1-modp2048
	esp=aes128-sha1
	auto=add" || { fail "the responder starts"; done_testing; }
start_side peer "$NS_P" "conn peer
	left=$P_IP
	right=$R_IP
	authby=secret
	ike=aes128-sha1-modp2048
	esp=aes128-sha1
	keyingtries=0
	auto=add" || { fail "the peer starts"; done_testing; }
R_PID=$(cat "$T/responder/pid")

rss_kb() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }
RSS_BEFORE=$(rss_kb "$R_PID" VmRSS)
LINES_BEFORE=$(wc -l <"$T/responder.log")

case $FLOOD_MODE in
one-source) FLOOD_ARGS=(-s 10.200.0.1 --sources 1) ;;
forged) FLOOD_ARGS=(-s 10.200.0.1 --sources 65000 --forge "$P_IP" --forge-every 10) ;;
forged-peer) FLOOD_ARGS=(-s "$P_IP" --sources 1) ;;
*) fail "unknown FLOOD_MODE $FLOOD_MODE"; done_testing ;;
esac
ip netns exec "$NS_F" "$LOADGEN" -d "$R_IP" -n "$FLOOD_COUNT" --flood "$FLOOD_RATE" "${FLOOD_ARGS[@]}" \
	>"$T/flood.out" 2>&1 &
FLOOD_PID=$!
_pids+=("$FLOOD_PID")

# 4 s into the flood: its slots are as full as they get (forged: the
# configured peers' 256 fill at 100 forged MI1s a second in 2.6 s)
sleep 4
START=$(date +%s%N)
timeout 10 "$IPSECCTL" --socket "$T/peer/run/ctl" up peer >"$T/up.out" 2>&1
UP_STATUS=$?
END=$(date +%s%N)
UP_MS=$(((END - START) / 1000000))
FLOOD_STILL_ON=no
kill -0 "$FLOOD_PID" 2>/dev/null && FLOOD_STILL_ON=yes
echo "# the peer's negotiation took $UP_MS ms during the flood"
check_eq "the configured peer's ipsecctl up succeeds during the flood" 0 "$UP_STATUS"
check "... within 5 s ($UP_MS ms)" test "$UP_MS" -lt 5000
check_eq "... while the flood still runs" yes "$FLOOD_STILL_ON"
ctl responder status --json >"$T/status-during.json" 2>/dev/null
check "the responder has an established ISAKMP and IPsec SA with the peer" \
	jq -e --arg p "$P_IP" '[.states[] | select(.connection == "peer" and .established)] |
		(any(.kind == "isakmp") and any(.kind == "ipsec"))' "$T/status-during.json"
# the flood's half-open states: those of rw's instances and, forged, of
# conn peer that are not established
HALF=$(jq '[.states[] | select(.established | not)] | length' "$T/status-during.json")
echo "# half-open states during the flood: $HALF"
if [ "$FLOOD_MODE" = one-source ]; then
	check "one source holds at most 5 half-open states ($HALF)" test "$HALF" -le 5
elif [ "$FLOOD_MODE" = forged-peer ]; then
	check "the forged peer address holds at most the configured peers' 256 slots ($HALF)" \
		test "$HALF" -le 256
	check "... and does fill them: the flood reached the responder ($HALF)" test "$HALF" -ge 200
else
	check "forged sources hold at most 1024 half-open states ($HALF)" test "$HALF" -le 1024
	check "forged sources do get some ($HALF): the flood reached the responder" test "$HALF" -gt 5
	PEER_HALF=$(jq '[.states[] | select(.connection == "peer" and (.established | not))] | length' \
		"$T/status-during.json")
	echo "# half-open states of conn peer (forged, and perhaps the peer's own): $PEER_HALF"
	check "the forged peer address holds at most the configured peers' 256 slots ($PEER_HALF)" \
		test "$PEER_HALF" -le 256
fi

wait "$FLOOD_PID"
sed 's/^/# /' "$T/flood.out"
check "the flood was sent: $FLOOD_COUNT MI1s" grep -q "^FLOOD sent=$FLOOD_COUNT " "$T/flood.out"
# the last flood packets handled, and one report period of the limiter
sleep 6
check "the responder still runs" kill -0 "$R_PID"
check "... and answers" ctl responder status
RSS_PEAK=$(rss_kb "$R_PID" VmHWM)
GROWTH_MB=$(((RSS_PEAK - RSS_BEFORE) / 1024))
echo "# responder RSS: $((RSS_BEFORE / 1024)) MB before, peak $((RSS_PEAK / 1024)) MB"
check "its peak RSS grew by less than $FLOOD_RSS_MB MB ($GROWTH_MB MB)" test "$GROWTH_MB" -lt "$FLOOD_RSS_MB"
LINES=$(($(wc -l <"$T/responder.log") - LINES_BEFORE))
SUPPRESSED=$(grep -c "similar messages from unauthenticated peers suppressed" "$T/responder.log")
echo "# responder log: $LINES lines for $FLOOD_COUNT MI1s, $SUPPRESSED of them \"suppressed\" lines"
grep "suppressed\|overloaded" "$T/responder.log" | head -3 | sed 's/^/#   /'
check "the responder logged at most $FLOOD_LOG_MAX lines ($LINES)" test "$LINES" -le "$FLOOD_LOG_MAX"
# the refused MI1s are said in the overload lines, at most one a second,
# which add up to every refusal
REFUSED=$(sed -n 's/.*refused, \([0-9]*\) refused in the last second.*/\1/p' "$T/responder.log" |
	awk '{ n += $1 } END { print n + 0 }')
echo "# refused MI1s, as the overload lines add up: $REFUSED"
if [ "$FLOOD_MODE" = one-source ]; then
	check "the overload lines name the per-source limit" \
		grep -q "overloaded (5 half-open Main Mode negotiations from this address)" "$T/responder.log"
	check "... and add up to all but a few of the $FLOOD_COUNT MI1s ($REFUSED)" \
		test "$REFUSED" -ge $((FLOOD_COUNT - 100))
elif [ "$FLOOD_MODE" = forged-peer ]; then
	# a configured peer's MI1 is never refused while its pool has an
	# unproven state to replace: 10,000 admitted, 256 kept
	check_eq "none of the forged peer's MI1s refused: each replaced the oldest" 0 "$REFUSED"
	check "... with \"N similar messages ... suppressed\" lines ($SUPPRESSED)" test "$SUPPRESSED" -ge 1
else
	# each admitted MI1 of the flood is one line ("responding to Main
	# Mode"), and one more when it times out or is replaced: limited
	check "... among them \"N similar messages ... suppressed\" lines ($SUPPRESSED)" test "$SUPPRESSED" -ge 1
fi

kill -TERM "$R_PID"
wait "$R_PID"
check_eq "the responder exits 0 on SIGTERM (no sanitizer report)" 0 "$?"
done_testing
