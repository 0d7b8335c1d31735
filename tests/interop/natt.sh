#!/bin/bash
# NAT traversal (RFC 3947 / RFC 3948) against real peers.
#
#   natt.sh strongswan init|resp
#     pluto (L) against strongSwan 5.9.8 with kernel-libipsec (R), which
#     always fakes a NAT (random NAT-D hashes) and floats to UDP 4500 in
#     MM5. Both sides established, the exchange moved to 4500 (swanctl shows
#     [4500], pluto's status says NAT-T and the kernel record has the UDP
#     encapsulation), Encapsulation Mode 3 on the wire, and every datagram
#     on 4500 carries the non-ESP marker (tshark decodes ISAKMP over
#     udpencap, nothing malformed).
#
#   natt.sh forced pluto
#     No NAT, pluto <-> pluto, the initiator (L) with encapsulation=yes: it
#     sends a random NAT-D hash for itself, so R finds "peer behind NAT", L
#     acts as if it were behind one, and both float and use mode 3.
#
#   natt.sh nat pluto|libreswan
#     A real NAT: three namespaces, pluto in L behind a router N that
#     masquerades (nftables) towards R, where pluto or libreswan 4.10
#     answers. L must find "we are behind NAT", R "peer behind NAT"; both
#     float to 4500 with Encapsulation Mode 3; L sends keepalives
#     (--keep-alive 1 here), counted on the router.
#
#  netns pio<PID>L              netns pio<PID>N (router)            netns pio<PID>R
#  100.64.0.2/24  <-- veth -->  100.64.0.1 | 192.0.2.1  <-- veth -->  192.0.2.2
#  lo 198.51.100.1              masquerade out of the R side          lo 203.0.113.1
# shellcheck source=tests/lib/scenario.sh
. "$SRCDIR/tests/lib/scenario.sh"
MODE=${1:?usage: natt.sh strongswan init|resp | forced pluto | nat pluto|libreswan} ARG=${2:?usage: natt.sh MODE ARG}
io_case psk-aes || exit 2
io_require
command -v tshark >/dev/null && command -v tcpdump >/dev/null ||
	skip_all "tshark or tcpdump is not installed (tests/interop/setup.sh installs them)"

NS_N=pio$$N
# the router namespace is ours too: removed with the others
natt_cleanup() {
	ip netns list 2>/dev/null | awk '{print $1}' | grep -qx -- "$NS_N" && ip netns del "$NS_N"
	return 0
}
trap 'io_cleanup; natt_cleanup; _cleanup' EXIT
# routers of earlier runs killed before their cleanup (io_reap_stale only
# knows [LR]): only ours, whose test process is gone and which are empty
for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
	[[ $ns =~ ^pio([0-9]+)N$ ]] || continue
	kill -0 "${BASH_REMATCH[1]}" 2>/dev/null && continue
	[ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && ip netns del "$ns" 2>/dev/null
done

# capture_start SIDE IFACE: tcpdump of IKE/NAT-T on IFACE in SIDE's namespace
capture_start() {
	PCAP=$T/natt.pcap
	ip netns exec "$1" tcpdump -i "$2" --immediate-mode -U -n -w "$PCAP" udp port 500 or udp port 4500 \
		>"$T/tcpdump.out" 2>&1 &
	TCPDUMP=$!
	wait_for 5 grep -q "listening on" "$T/tcpdump.out" || fail "tcpdump starts capturing"
}
capture_stop() {
	sleep 0.3
	io_kill "$TCPDUMP" 5
	wait "$TCPDUMP" 2>/dev/null
	tshark -r "$PCAP" -V >"$T/natt.txt" 2>"$T/tshark.err"
	tshark -r "$PCAP" >"$T/natt.summary" 2>>"$T/tshark.err"
	sed 's/^/#   /' "$T/natt.summary"
}

# check_capture: what went over 4500 is IKE behind the marker, and Quick
# Mode on it proposed Encapsulation Mode 3 -- only readable where the
# capture is decrypted, so the mode is checked on the ends' status instead
check_capture() {
	local n4500 marked
	n4500=$(tshark -r "$PCAP" -Y 'udp.port == 4500 && isakmp' 2>/dev/null | grep -c .)
	[ "$n4500" -ge 5 ] && ok "MM5/MM6 and Quick Mode went over UDP 4500 ($n4500 IKE packets)" ||
		fail "MM5/MM6 and Quick Mode went over UDP 4500 (>= 5 IKE packets, got $n4500)"
	marked=$(tshark -r "$PCAP" -Y 'udp.port == 4500 && udpencap && isakmp' -V 2>/dev/null |
		grep -c "Non-ESP Marker")
	check_eq "every IKE packet on 4500 carries the non-ESP marker" "$n4500" "$marked"
	check_eq "Main Mode starts on UDP 500 (MM1-MM4)" 4 \
		"$(tshark -r "$PCAP" -Y 'udp.srcport == 500 && udp.dstport == 500 && isakmp' 2>/dev/null | grep -c .)"
	if grep -n -E "Malformed|Expert Info \(Error" "$T/natt.txt" >"$T/bad.txt"; then
		fail "tshark finds nothing malformed"; head -20 "$T/bad.txt" | sed 's/^/#   /'
	else
		ok "tshark finds nothing malformed"
	fi
	check "NAT-D payloads were exchanged (type 20)" grep -q "Payload: NAT-D (RFC 3947) (20)" "$T/natt.txt"
}

# check_pluto_natt SIDE WHO: pluto's status says NAT-T and who is behind
# NAT, and its kernel record has the SAs UDP-encapsulated
check_pluto_natt() {
	local s=$1 who=$2 st
	st=$(pluto_whack "$s" --status 2>&1)
	echo "$st" >"$T/$s-status.txt"
	check_eq "pluto on $s: ISAKMP SA says NAT-T: $who, port 4500" 1 \
		"$(grep "ISAKMP SA established)" "$T/$s-status.txt" | grep -cF "; NAT-T: $who, port 4500")" ||
		grep -E "^#[0-9]+:" <<<"$st" | sed 's/^/#   /'
	check_eq "pluto on $s: both SAs of the IPsec SA are ESP in UDP (kernel record)" 2 \
		"$(grep -c -E '^(000 )?kernel sa esp .* tunnel #[0-9]+ encap espinudp [0-9]+->[0-9]+$' <<<"$st")"
	check_contains "pluto on $s: the IPsec SA is tunnel mode" "IPsec SA established); ESP aes128-sha1 tunnel" "$st"
}

case $MODE in
strongswan)
	[[ $ARG == init || $ARG == resp ]] || { echo "# ROLE must be init or resp" >&2; exit 2; }
	ls /usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so >/dev/null 2>&1 ||
		skip_all "strongSwan's kernel-libipsec plugin is not installed"
	export IO_SS_BACKEND=libipsec
	io_side L pluto
	io_side R strongswan
	check "namespaces and veth up" io_netns_up || done_testing
	io_start L || done_testing
	io_skip_unless_engine L
	io_start R || done_testing
	capture_start "$NS_R" "${NS_R}0"
	if [ "$ARG" = init ]; then init=L; else init=R; fi
	what="NAT-T, ${IMPL[$init]} initiates"
	io_initiate "$init" && ok "$what: the initiator reports success" ||
		{ fail "$what: the initiator reports success"; sed 's/^/#   /' "$T/initiate.out" | tail -20; }
	wait_for 5 pluto_established L && ok "$what: pluto has ISAKMP SA and IPsec SA established" ||
		fail "$what: pluto has ISAKMP SA and IPsec SA established"
	ss=""
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		ss=$(swanctl_on R --list-sas 2>/dev/null)
		grep -q "INSTALLED, TUNNEL-in-UDP, ESP:" <<<"$ss" && break
		sleep 0.5
	done
	echo "$ss" | sed 's/^/#   /'
	check_contains "$what: strongSwan has the IKE SA established" "ESTABLISHED, IKEv1" "$ss"
	check_contains "$what: strongSwan's IKE SA moved to 4500" "${R_IP}[4500]" "$ss"
	check_contains "$what: strongSwan sees pluto on 4500" "${L_IP}[4500]" "$ss"
	check_contains "$what: strongSwan's CHILD_SA is UDP-encapsulated (mode 3)" "INSTALLED, TUNNEL-in-UDP, ESP:" "$ss"
	# strongSwan's NAT-D for itself is random: pluto sees it behind NAT
	check_pluto_natt L "peer behind NAT"
	check "pluto logged the NAT-D result" grep -q "NAT-T: NAT-D from $R_IP:500: peer behind NAT" "$T/L-pluto.log"
	capture_stop
	check_capture
	io_finish
	;;
forced)
	io_side L pluto
	io_side R pluto
	check "namespaces and veth up" io_netns_up || done_testing
	IO_PLUTO_CONN="encapsulation=yes" io_start L || done_testing
	io_skip_unless_engine L
	io_start R || done_testing
	capture_start "$NS_R" "${NS_R}0"
	what="encapsulation=yes without a NAT"
	io_initiate L && ok "$what: the initiator reports success" ||
		{ fail "$what: the initiator reports success"; sed 's/^/#   /' "$T/initiate.out" | tail -20; }
	io_check_established L "$what"
	io_check_established R "$what"
	check_pluto_natt L "we are behind NAT (forced)"
	check_pluto_natt R "peer behind NAT"
	check "L says it pretends" grep -q "NAT-T: encapsulation=yes: acting as if we were behind a NAT" "$T/L-pluto.log"
	check_eq "the option shows in L's connection (status --json)" yes \
		"$(pluto_ctl L status --json | jq -r '.connections[] | select(.name == "lab") | .options.encapsulation')"
	check_eq "R's connection says auto (the default)" auto \
		"$(pluto_ctl R status --json | jq -r '.connections[] | select(.name == "lab") | .options.encapsulation')"
	capture_stop
	check_capture
	io_finish
	;;
nat)
	[[ $ARG == pluto || $ARG == libreswan ]] || { echo "# PEER must be pluto or libreswan" >&2; exit 2; }
	# addresses: L is behind the router; R sees only the router's 192.0.2.1
	L_IP=100.64.0.2 L_GW=100.64.0.1 N_IP=192.0.2.1
	io_side L pluto
	io_side R "$ARG"
	setup_nat() {
		local ns
		for ns in "$NS_L" "$NS_N" "$NS_R"; do
			ip netns add "$ns" || return 1
			ip -n "$ns" link set lo up
		done
		ip -n "$NS_L" link add "${NS_L}0" type veth peer name "${NS_N}l" netns "$NS_N" || return 1
		ip -n "$NS_R" link add "${NS_R}0" type veth peer name "${NS_N}r" netns "$NS_N" || return 1
		ip -n "$NS_L" addr add "$L_IP/24" dev "${NS_L}0"
		ip -n "$NS_N" addr add "$L_GW/24" dev "${NS_N}l"
		ip -n "$NS_N" addr add "$N_IP/24" dev "${NS_N}r"
		ip -n "$NS_R" addr add "$R_IP/24" dev "${NS_R}0"
		ip -n "$NS_L" addr add "$L_CLIENT/32" dev lo
		ip -n "$NS_R" addr add "$R_CLIENT/32" dev lo
		for l in "$NS_L ${NS_L}0" "$NS_N ${NS_N}l" "$NS_N ${NS_N}r" "$NS_R ${NS_R}0"; do
			set -- $l
			ip -n "$1" link set "$2" up
		done
		ip -n "$NS_L" route add default via "$L_GW"
		ip netns exec "$NS_N" sysctl -qw net.ipv4.ip_forward=1
		# masquerade towards R; count the 1-byte keepalives L sends
		ip netns exec "$NS_N" nft -f - <<EOF || return 1
table ip natt {
  counter keepalives { }
  chain postnat {
    type nat hook postrouting priority 100;
    oifname "${NS_N}r" masquerade
  }
  chain forwarded {
    type filter hook forward priority 0;
    iifname "${NS_N}l" udp dport 4500 udp length 9 counter name "keepalives"
  }
}
EOF
		wait_for 5 ip netns exec "$NS_L" ping -c1 -W1 "$R_IP" ||
			{ echo "# no connectivity $L_IP -> $R_IP through the NAT" >&2; return 1; }
	}
	check "three namespaces with a masquerading router" setup_nat || done_testing
	# L: an ordinary pluto connection (ids are the host addresses, L's is
	# its private one); keepalives every second to see them in the test
	echo "$L_IP $R_IP : PSK \"$PSK\"" >"$T/L/ipsec.secrets"
	chmod 600 "$T/L/ipsec.secrets"
	IO_PLUTO_EXTRA="--keep-alive 1" pluto_launch L || { fail "start pluto on L"; done_testing; }
	io_skip_unless_engine L
	mapfile -t opts < <(pluto_options)
	pluto_ctl L add lab "${opts[@]}" >"$T/L/add.out" 2>&1 || { sed 's/^/#   /' "$T/L/add.out"; fail "add lab on L"; }
	if [ "$ARG" = pluto ]; then
		# R: the peer's address is whatever the NAT makes of it
		echo "$R_IP $L_IP : PSK \"$PSK\"" >"$T/R/ipsec.secrets"
		chmod 600 "$T/R/ipsec.secrets"
		pluto_launch R || { fail "start pluto on R"; done_testing; }
		pluto_ctl R add lab left=%any leftid="$L_IP" leftsubnet="$L_NET" right="$R_IP" rightid="$R_IP" \
			rightsubnet="$R_NET" ike="${IKE_ENC}-${IKE_HASH}-${IKE_GROUP}" esp="$P2_ENC-$P2_INTEG" \
			authby=secret pfs=no >"$T/R/add.out" 2>&1 || { sed 's/^/#   /' "$T/R/add.out"; fail "add lab on R"; }
	else
		IO_REMOTE_ANY=1 io_start R || done_testing
	fi
	capture_start "$NS_R" "${NS_R}0"
	what="NAT-T through a NAT, pluto initiates to $ARG"
	io_initiate L && ok "$what: the initiator reports success" ||
		{ fail "$what: the initiator reports success"; sed 's/^/#   /' "$T/initiate.out" | tail -20; }
	wait_for 5 pluto_established L && ok "$what: pluto on L established" || fail "$what: pluto on L established"
	check_pluto_natt L "we are behind NAT"
	check "L logged the NAT-D result" grep -q "NAT-T: NAT-D from $R_IP:500: we are behind NAT" "$T/L-pluto.log"
	if [ "$ARG" = pluto ]; then
		# R answers on an instance of its %any template
		r_established() {
			local st
			st=$(pluto_whack R --status 2>/dev/null)
			grep -q "STATE_MAIN_R3 (ISAKMP SA established)" <<<"$st" &&
				grep -q "STATE_QUICK_R2 (IPsec SA established)" <<<"$st"
		}
		wait_for 5 r_established && ok "$what: pluto on R established" || fail "$what: pluto on R established"
		check_pluto_natt R "peer behind NAT"
		check "R logged the NAT-D result" grep -qE "NAT-T: NAT-D from $N_IP:[0-9]+: peer behind NAT" "$T/R-pluto.log"
		check "R has the peer at the NAT's address and port" \
			grep -qE "\"lab[^\"]*\" $N_IP:[0-9]+ STATE_MAIN_R3" "$T/R-status.txt"
	else
		wait_for 5 libreswan_established R && ok "$what: libreswan on R established" ||
			fail "$what: libreswan on R established"
		ls_st=$(libreswan_whack R --status 2>&1)
		grep -E "NAT|STATE_" <<<"$ls_st" | head -12 | sed 's/^/#   /'
		check_contains "libreswan: the IKE SA is on 4500 with the NAT's address" "$N_IP:4500" \
			"$(grep 'STATE_MAIN_R3' <<<"$ls_st")"
		check "libreswan: the IPsec SA is ESP in UDP (tunnel mode), to the NAT's 4500" \
			grep -qE "IPsec SA established tunnel mode \{ESPinUDP=>.* NATD=$N_IP:4500" "$T/R-libreswan.log"
	fi
	sleep 2.5    # at least two keepalives at --keep-alive 1
	ka=$(ip netns exec "$NS_N" nft list counter ip natt keepalives | awk '/packets/ { print $2 }')
	[ "${ka:-0}" -ge 2 ] && ok "L sent NAT-T keepalives through the router ($ka)" ||
		fail "L sent NAT-T keepalives through the router (>= 2, got ${ka:-none})"
	capture_stop
	n=$(tshark -r "$PCAP" -Y "ip.src == $N_IP && udp.dstport == 4500 && udp.length == 9" 2>/dev/null |
		grep -c "NAT-keepalive")
	[ "$n" -ge 2 ] && ok "R receives the keepalives from the NAT (1-byte NAT-keepalive on 4500: $n)" ||
		fail "R receives the keepalives from the NAT (1-byte NAT-keepalive on 4500: >= 2, got $n)"
	check_capture
	io_finish
	;;
*) echo "# unknown mode $MODE" >&2; exit 2 ;;
esac
