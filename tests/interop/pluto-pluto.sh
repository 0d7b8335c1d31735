#!/bin/bash
# pluto against pluto for every combination of the seed's algorithms:
# IKE 3DES with MD5/SHA1 x MODP1024/MODP1536, and for Quick Mode
#
#   pluto-pluto.sh esp    ESP 3DES-MD5 and 3DES-SHA1
#   pluto-pluto.sh ah     AH MD5 and SHA1
#
# Each combination is its own connection (added on both sides, deleted
# after), negotiated once, the initiator alternating between L and R; each
# is asserted on both sides. Skipped (exit 77) while pluto has no IKE engine.
. "$SRCDIR/tests/interop/lib.sh"
P2=${1:?usage: pluto-pluto.sh esp|ah}
case $P2 in
esp) p2_algs=(3des-md5 3des-sha1) ;;
ah) p2_algs=(md5 sha1) ;;
*) echo "# usage: pluto-pluto.sh esp|ah" >&2; exit 2 ;;
esac
io_require
io_case psk-aes
io_side L pluto
io_side R pluto
check "namespaces and veth up" io_netns_up || done_testing
CASE= io_start L R || done_testing     # daemons only; connections below
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
io_finish
