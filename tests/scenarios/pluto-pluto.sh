#!/bin/bash
# pluto against pluto (tests/lib/scenario.sh), in two forms:
#
#   pluto-pluto.sh [cases]    the negotiation cases and failures below
#                             (namespaces a and b, 198.51.100.1/.2 and
#                             2001:db8:1::1/::2, kernel backend none)
#   pluto-pluto.sh esp|ah     the algorithm matrix below (the interop plan,
#                             sides L and R)
#
# The cases:
# Two plutos negotiating IKEv1 with each other: each in its own network
# namespace, joined by a veth pair (198.51.100.1/.2, 2001:db8:1::1/::2),
# kernel backend "none". For every case both daemons must report Phase 1
# and Phase 2 established in their own status (STATE_MAIN_I4/R3,
# STATE_QUICK_I2/R2) and whack --initiate must exit 0 with the 004 line.
# Then the failures: wrong PSK, no proposal chosen (phase 1 and 2), a
# silent peer (retransmission limit), Terminate sending Deletes, garbage
# and truncated messages to port 500.
#
# The matrix:
# pluto against pluto for every combination of the seed's algorithms:
# IKE 3DES with MD5/SHA1 x MODP1024/MODP1536, and for Quick Mode
#
#   pluto-pluto.sh esp    ESP 3DES-MD5 and 3DES-SHA1
#   pluto-pluto.sh ah     AH MD5 and SHA1
#
# Each combination is its own connection (added on both sides, deleted
# after), negotiated once, the initiator alternating between L and R; each
# is asserted on both sides. Skipped (exit 77) while pluto has no IKE engine.
# shellcheck source=tests/lib/scenario.sh
. "$SRCDIR/tests/lib/scenario.sh"
usage() { echo "usage: pluto-pluto.sh [cases] | pluto-pluto.sh esp|ah" >&2; exit 2; }
WHAT=${1:-cases}

# ================================ the cases ================================
# start SIDE: a fresh pluto in namespace SIDE with $T/SIDE/ipsec.secrets
# shellcheck disable=SC2086 # PLUTO_DEBUG: a list of options
start() { pluto_launch "$1" --nodbus --kernel none ${PLUTO_DEBUG:-}; }

PP_SECRETS='198.51.100.1 198.51.100.2 : PSK "pluto-pluto test secret"
2001:db8:1::1 2001:db8:1::2 : PSK "pluto-pluto v6 secret"'

# run_case NAME "OPTIONS A" "OPTIONS B" [EXPECTED STATES]: fresh daemons,
# the same connection on both sides (orientation picks the end), initiate
# from a, both sides established.
HOSTS4="left=198.51.100.1 right=198.51.100.2"
run_case() {
	local name=$1 opts_a=$2 opts_b=$3 hosts=${4:-$HOSTS4}
	local want_a="STATE_MAIN_I4:true STATE_QUICK_I2:true" want_b="STATE_MAIN_R3:true STATE_QUICK_R2:true"
	if [[ "$opts_a" == *phase2=none* ]]; then want_a="STATE_MAIN_I4:true"; want_b="STATE_MAIN_R3:true"; fi
	io_stop a b
	start a
	start b
	pluto_ctl a add c $hosts $opts_a >/dev/null
	pluto_ctl b add c $hosts $opts_b >/dev/null
	local rc
	rc=$(status_of timeout 60 "$WHACK" --ctlbase "$(pluto_sock a)" --name c --initiate)
	local out
	out=$(cat "$T/last.out")
	check_eq "$name: whack --initiate exits 0" 0 "$rc"
	check_contains "$name: whack prints the 004 line" "004 " "$out"
	check_eq "$name: initiator states" "$want_a" "$(pluto_states a)"
	wait_for 5 pluto_states_are b "$want_b"
	check_eq "$name: responder states" "$want_b" "$(pluto_states b)"
}

pluto_pluto_cases() {
	io_require_netns jq
	io_side a pluto
	io_side b pluto
	io_link a 198.51.100.1/24 b 198.51.100.2/24 || skip_all "cannot create network namespaces"
	ip -n "$(ns_of a)" addr add 2001:db8:1::1/64 dev "$(if_of a b)" nodad
	ip -n "$(ns_of b)" addr add 2001:db8:1::2/64 dev "$(if_of b a)" nodad
	for s in a b; do echo "$PP_SECRETS" >"$T/$s/ipsec.secrets"; done

	run_case "PSK aes128-sha1-modp2048" "authby=secret ike=aes128-sha1-modp2048 esp=aes128-sha1" \
		"authby=secret ike=aes128-sha1-modp2048 esp=aes128-sha1"
	run_case "PSK 3des-md5-modp1024" "authby=secret ike=3des-md5-modp1024 esp=3des-md5" \
		"authby=secret ike=3des-md5-modp1024 esp=3des-md5"
	run_case "PSK 3des-sha1-modp1536" "authby=secret ike=3des-sha1-modp1536 esp=3des-md5" \
		"authby=secret ike=3des-sha1-modp1536 esp=3des-md5"
	run_case "PFS with subnets" "authby=secret pfs=yes leftsubnet=10.1.0.0/16 rightsubnet=10.2.0.0/16" \
		"authby=secret pfs=yes leftsubnet=10.1.0.0/16 rightsubnet=10.2.0.0/16"
	check_contains "PFS: the group is in the IPsec SA" "PFS" "$(pluto_ctl a status --json)"
	run_case "AH" "authby=secret phase2=ah ah=sha1" "authby=secret phase2=ah ah=sha1"
	run_case "IPComp, transport mode" "authby=secret compress=yes type=transport" \
		"authby=secret compress=yes type=transport"
	run_case "phase2=none" "authby=secret phase2=none" "authby=secret phase2=none"
	run_case "IPv6 hosts" "authby=secret" "authby=secret" "left=2001:db8:1::1 right=2001:db8:1::2"
	V6NETS="leftsubnet=2001:db8:a::/48 rightsubnet=2001:db8:b::/64"
	run_case "IPv6 client subnets" "authby=secret $V6NETS" "authby=secret $V6NETS" \
		"left=2001:db8:1::1 right=2001:db8:1::2"
	check_contains "IPv6 subnets: the IPsec SA is established" '"STATE_QUICK_I2"' "$(pluto_ctl a status --json)"
	run_case "SHA2 and AES256, ESP sha2_256" "authby=secret ike=aes256-sha2_256-modp3072 esp=aes256-sha2_256" \
		"authby=secret ike=aes256-sha2_256-modp3072 esp=aes256-sha2_256"

	# RSA signatures with raw keys: PEM private key in ipsec.secrets, the
	# peer's public key from a file
	if openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/a.pem" 2>/dev/null &&
	   openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/b.pem" 2>/dev/null; then
		openssl pkey -in "$T/a.pem" -pubout -out "$T/a.pub"
		openssl pkey -in "$T/b.pem" -pubout -out "$T/b.pub"
		echo ": RSA $T/a.pem" >"$T/a/ipsec.secrets"
		echo ": RSA $T/b.pem" >"$T/b/ipsec.secrets"
		keys="authby=rsasig leftrsasigkey=%file:$T/a.pub rightrsasigkey=%file:$T/b.pub"
		run_case "RSA signatures" "$keys" "$keys"
		check_contains "RSA: status names the method" "RSASIG" "$(pluto_ctl b status --json)"
	else
		fail "openssl genpkey works"
	fi
	for s in a b; do echo "$PP_SECRETS" >"$T/$s/ipsec.secrets"; done

	# --- Terminate sends Deletes: the peer's states vanish ---
	run_case "before terminate" "authby=secret" "authby=secret"
	check_eq "terminate exits 0" 0 "$(status_of pluto_whack a --name c --terminate)"
	check_eq "initiator has no states after terminate" "" "$(pluto_states a)"
	wait_for 5 pluto_states_are b ""
	check_eq "responder's states deleted by the Deletes" "" "$(pluto_states b)"
	check_contains "responder logged the IPsec Delete" "deleting IPsec State" "$(cat "$(pluto_log b)")"
	check_contains "responder logged the ISAKMP Delete" "deleting ISAKMP State" "$(cat "$(pluto_log b)")"

	# --- wrong PSK: the responder cannot decrypt MI3 and says AUTHENTICATION_FAILED ---
	io_stop a b
	echo '198.51.100.1 198.51.100.2 : PSK "something else"' >"$T/b/ipsec.secrets"
	start a
	start b
	pluto_ctl a add c $HOSTS4 authby=secret >/dev/null
	pluto_ctl b add c $HOSTS4 authby=secret >/dev/null
	SECONDS=0
	rc=$(status_of timeout 60 "$WHACK" --ctlbase "$(pluto_sock a)" --name c --initiate)
	check_eq "wrong PSK: whack exits 224 (the AUTHENTICATION_FAILED line ends it)" 224 "$rc"
	check_contains "wrong PSK: whack shows AUTHENTICATION_FAILED (224)" "224 " "$(cat "$T/last.out")"
	check "wrong PSK: fails within the retransmission limit (14 s)" test "$SECONDS" -le 15
	check_eq "wrong PSK: no states left on the initiator" "" "$(pluto_states a)"
	echo "$PP_SECRETS" >"$T/b/ipsec.secrets"

	# --- no proposal chosen in Main Mode and in Quick Mode ---
	io_stop a b
	start a
	start b
	pluto_ctl a add c $HOSTS4 authby=secret ike=aes128-sha1-modp2048 esp=aes128-sha1 >/dev/null
	pluto_ctl b add c $HOSTS4 authby=secret ike=3des-md5-modp1024 esp=aes128-sha1 >/dev/null
	rc=$(status_of timeout 60 "$WHACK" --ctlbase "$(pluto_sock a)" --name c --initiate)
	check_eq "MM no proposal: whack exits 214 (NO_PROPOSAL_CHOSEN)" 214 "$rc"
	check_contains "MM no proposal: NO_PROPOSAL_CHOSEN (214) shown" "214 " "$(cat "$T/last.out")"
	pluto_ctl a delete c >/dev/null
	pluto_ctl b delete c >/dev/null
	pluto_ctl a add c $HOSTS4 authby=secret esp=aes128-sha1 >/dev/null
	pluto_ctl b add c $HOSTS4 authby=secret esp=3des-md5 >/dev/null
	rc=$(status_of timeout 60 "$WHACK" --ctlbase "$(pluto_sock a)" --name c --initiate)
	check_eq "QM no proposal: whack exits 214 (NO_PROPOSAL_CHOSEN)" 214 "$rc"
	check_contains "QM no proposal: NO_PROPOSAL_CHOSEN (214) shown" "214 " "$(cat "$T/last.out")"
	check_eq "QM no proposal: only the ISAKMP SA remains" "STATE_MAIN_I4:true" "$(pluto_states a)"

	# --- road warrior: a %any template on the responder is instantiated ---
	io_stop a b
	echo ': PSK "road warrior"' >"$T/a/ipsec.secrets"
	echo ': PSK "road warrior"' >"$T/b/ipsec.secrets"
	start a
	start b
	pluto_ctl a add rw $HOSTS4 authby=secret >/dev/null
	pluto_ctl b add rw left=%any right=198.51.100.2 authby=secret >/dev/null
	rc=$(status_of timeout 60 "$WHACK" --ctlbase "$(pluto_sock a)" --name rw --initiate)
	check_eq "road warrior: whack exits 0" 0 "$rc"
	wait_for 5 pluto_states_are b "STATE_MAIN_R3:true STATE_QUICK_R2:true"
	check_eq "road warrior: responder established" "STATE_MAIN_R3:true STATE_QUICK_R2:true" "$(pluto_states b)"
	check_contains "road warrior: an instance exists" "rw+" "$(pluto_ctl b status)"
	pluto_whack a --name rw --terminate >/dev/null
	wait_for 5 pluto_states_are b ""
	wait_for 5 sh -c "! \"$IPSECCTL\" --socket \"$(pluto_sock b)\" status | grep -q 'rw+'"
	check_not_contains "road warrior: the instance goes with its last state" "rw+" "$(pluto_ctl b status)"
	for s in a b; do echo "$PP_SECRETS" >"$T/$s/ipsec.secrets"; done

	# --- a silent peer: three sends, then "031 max number of retransmissions" ---
	io_stop a b
	start a
	pluto_ctl a add c $HOSTS4 authby=secret >/dev/null
	SECONDS=0
	rc=$(status_of timeout 60 "$WHACK" --ctlbase "$(pluto_sock a)" --name c --initiate)
	check_eq "silent peer: whack exits 31" 31 "$rc"
	check_contains "silent peer: the man page's message" "max number of retransmissions (2) reached STATE_MAIN_I1" \
		"$(cat "$T/last.out")"
	check "silent peer: gave up after about 14 s" test "$SECONDS" -ge 13 -a "$SECONDS" -le 17

	# --- garbage and a truncated message to port 500: nobody crashes ---
	start b
	pluto_ctl b add c $HOSTS4 authby=secret >/dev/null
	rc=$(status_of timeout 60 "$WHACK" --ctlbase "$(pluto_sock a)" --name c --initiate)
	check_eq "negotiation before the garbage" 0 "$rc"
	send_udp() { ip netns exec "$(ns_of a)" /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(bytes.fromhex(sys.argv[1]), ("198.51.100.2", 500))' "$1"; }
	send_udp "00"
	send_udp "$(head -c 300 /dev/urandom | od -An -tx1 | tr -d ' \n')"
	# an MI1-looking header with a length larger than the datagram, then one
	# whose SA payload is cut short
	send_udp "0102030405060708000000000000000001100200000000000000ffff"
	send_udp "01020304050607080000000000000000011002000000000000000030000000300000000100000001"
	send_udp "0102030405060708000000000000000001100400000000000000001c"
	sleep 0.5
	check "responder survives garbage" io_alive b
	check "initiator is alive" io_alive a
	check_eq "established states untouched" "STATE_MAIN_R3:true STATE_QUICK_R2:true" "$(pluto_states b)"
	check_contains "the garbage was logged" "dropping" "$(cat "$(pluto_log b)")"
	check_contains "Aggressive Mode refused with a log line" "Aggressive Mode" "$(cat "$(pluto_log b)")"

	# --- auto=route and auto=start act right after the add ---
	io_stop a b
	start a
	start b
	pluto_ctl b add c $HOSTS4 authby=secret >/dev/null
	pluto_ctl a add r $HOSTS4 authby=secret leftsubnet=10.1.0.0/24 rightsubnet=10.2.0.0/24 auto=route >/dev/null
	check_contains "auto=route: routed right after the add" "prospective" "$(pluto_whack a --status | grep -F '"r": ' | head -1)"
	pluto_ctl a add c $HOSTS4 authby=secret auto=start >/dev/null
	wait_for 10 pluto_states_are b "STATE_MAIN_R3:true STATE_QUICK_R2:true"
	check_eq "auto=start: negotiated without an initiate" "STATE_MAIN_R3:true STATE_QUICK_R2:true" "$(pluto_states b)"
	# auto=start added before Listen starts at the Listen
	io_stop a b
	start a
	start b
	pluto_ctl b add c $HOSTS4 authby=secret >/dev/null
	pluto_whack a --unlisten >/dev/null
	pluto_ctl a add c $HOSTS4 authby=secret auto=start >/dev/null
	check_eq "auto=start before Listen: nothing yet" "" "$(pluto_states b)"
	pluto_whack a --listen >/dev/null
	wait_for 10 pluto_states_are b "STATE_MAIN_R3:true STATE_QUICK_R2:true"
	check_eq "auto=start: negotiated at the Listen" "STATE_MAIN_R3:true STATE_QUICK_R2:true" "$(pluto_states b)"

	# --- shutdown sends Deletes ---
	io_stop a
	wait_for 5 pluto_states_are b ""
	check_eq "peer's states deleted when pluto shuts down" "" "$(pluto_states b)"
	check_not_contains "no sanitizer report (a)" "Sanitizer" "$(cat "$(pluto_log a)")"
	io_stop b
	check_not_contains "no sanitizer report (b)" "Sanitizer" "$(cat "$(pluto_log b)")"

}

# ================================ the matrix ================================
pluto_pluto_matrix() {
	case $P2 in
	esp) p2_algs=(3des-md5 3des-sha1) ;;
	ah) p2_algs=(md5 sha1) ;;
	esac
	io_require
	io_case psk-aes
	io_side L pluto
	io_side R pluto
	check "namespaces and veth up" io_netns_up || done_testing
	CASE='' io_start L R || done_testing     # daemons only; connections below
	io_skip_unless_engine L

	init=R
	for hash in md5 sha1; do
		for group in modp1024 modp1536; do
			for p2 in "${p2_algs[@]}"; do
				io_set IKE_ENC=3des IKE_HASH="$hash" IKE_GROUP="$group" PHASE2="$P2"
				if [ "$P2" = esp ]; then io_set P2_ENC="${p2%-*}" P2_INTEG="${p2#*-}"; else io_set P2_INTEG="$p2"; fi
				name=3des-$hash-$group--$P2-$p2
				init=$(other "$init")
				what="ike=3des-$hash-$group $P2=$p2, pluto on $init initiates"
				mapfile -t opts < <(pluto_options)
				if ! pluto_ctl L add "$name" "${opts[@]}" >"$T/add.out" 2>&1 ||
				   ! pluto_ctl R add "$name" "${opts[@]}" >>"$T/add.out" 2>&1; then
					fail "$what: add the connection on both sides"
					sed 's/^/#   /' "$T/add.out"
					continue
				fi
				if pluto_initiate "$init" "$name" >"$T/initiate.out" 2>&1; then
					ok "$what: the initiator reports success"
				else
					fail "$what: the initiator reports success"
					sed 's/^/#   /' "$T/initiate.out" | tail -20
				fi
				for s in L R; do
					if wait_for 5 pluto_established "$s" "$name"; then
						ok "$what: pluto on $s has ISAKMP SA and IPsec SA established"
					else
						fail "$what: pluto on $s has ISAKMP SA and IPsec SA established"
						pluto_status "$s" 2>&1 | sed 's/^/#   /' | head -30
					fi
				done
				# the next combination starts from nothing
				pluto_ctl L delete "$name" >/dev/null 2>&1
				pluto_ctl R delete "$name" >/dev/null 2>&1
			done
		done
	done
}

case $WHAT in
cases)
	pluto_pluto_cases
	done_testing ;;
esp | ah)
	P2=$WHAT
	pluto_pluto_matrix
	io_finish ;;
*) usage ;;
esac
