#!/bin/bash
# Rekeying against a real peer, with lifetimes of seconds.
#
#   rekey.sh PEER MODE
#     PEER  strongswan | libreswan (side R; pluto on L)
#     MODE  init  pluto initiates (salifetime 20 s, ikelifetime 30 s,
#                 rekeymargin 8 s, fuzz 0): pluto replaces its IPsec SA and
#                 its ISAKMP SA before they expire, the peer takes the
#                 replacements;
#           resp  the peer initiates with a short IPsec lifetime and
#                 rekeys it itself: pluto answers the replacement;
#           rr    the peer initiates with a short lifetime and does not
#                 rekey: pluto replaces the peer's SA at half its
#                 rekeymargin with roles reversed.
# In every mode pluto has an established IPsec SA at every 0.5 s sample
# (the tunnel is never down), the peer reports the SA established at the
# end, and the SPI pluto receives on in its newest IPsec SA is one the peer
# sends on (the peer uses the replacement).
. "$SRCDIR/tests/interop/lib.sh"
PEER=${1:?usage: rekey.sh PEER MODE} MODE=${2:?usage: rekey.sh PEER MODE}
io_case psk-aes
io_require
case $MODE in
init)
	IO_PLUTO_CONN="ikelifetime=30 salifetime=20 rekeymargin=8 rekeyfuzz=0%"
	init=L window=44 ;;
resp)
	IO_PLUTO_CONN="rekeymargin=8"
	IO_SS_CHILD_EXTRA="rekey_time = 12s
        life_time = 20s
        rand_time = 0s"
	IO_LS_EXTRA="salifetime=20s
    rekeymargin=8s
    rekeyfuzz=0%"
	# charon rekeys a CHILD_SA when the kernel says its soft lifetime
	# ran out; with kernel-netlink and the xfrm stub no kernel SA exists
	# to say so, so strongSwan runs its userspace libipsec here (which
	# floats to UDP 4500: NAT-T is part of this case)
	[ "$PEER" = strongswan ] && export IO_SS_BACKEND=libipsec
	init=R window=36 ;;
rr)
	IO_PLUTO_CONN="rekeymargin=8"
	IO_SS_CHILD_EXTRA="rekey_time = 0s
        life_time = 20s
        rand_time = 0s"
	IO_LS_EXTRA="salifetime=20s
    rekey=no"
	init=R window=30 ;;
*) echo "# MODE must be init, resp or rr" >&2; exit 2 ;;
esac
export IO_PLUTO_CONN IO_SS_CHILD_EXTRA IO_LS_EXTRA

io_pluto_vs "$PEER"

what="rekey $MODE against $PEER"
io_check_initiate "$init" "$what"
io_check_established L "$what"

# pluto's IPsec SAs: "serial established initiator inbound-spi"
ipsec_sas() {
	pluto_ctl L status --json | /usr/bin/python3 -c '
import json, sys
for s in json.load(sys.stdin).get("states", []):
    if s["kind"] == "ipsec":
        print(s["serial"], str(s["established"]).lower(), str(s["initiator"]).lower(),
              "%x" % s["inboundSpis"][0] if s.get("inboundSpis") else "-")'
}
first=$(ipsec_sas | awk '$2 == "true" {print $1; exit}')
down=0 seen_new=0
for _ in $(seq 1 $((window * 2))); do
	n=$(ipsec_sas | awk '$2 == "true"' | wc -l)
	[ "$n" -ge 1 ] || down=$((down + 1))
	ipsec_sas | awk -v f="$first" '$2 == "true" && $1 > f' | grep -q . && seen_new=1
	sleep 0.5
done
check_eq "$what: pluto has an established IPsec SA at every sample" 0 "$down"
check_eq "$what: a replacement IPsec SA was established" 1 "$seen_new"
log=$(cat "$(pluto_log L)")
case $MODE in
init)
	check_contains "$what: pluto replaced its IPsec SA" "initiating rekey to replace IPsec SA #$first (we initiated it)" "$log"
	check_contains "$what: pluto replaced its ISAKMP SA" "initiating rekey to replace ISAKMP SA" "$log"
	# it expires, or the peer deletes it once it has the replacement (libreswan)
	check_eq "$what: the superseded IPsec SA #$first is gone" "" "$(ipsec_sas | awk -v f="$first" '$1 == f')" ;;
resp)
	check_not_contains "$what: pluto did not need to rekey itself" "initiating rekey to replace IPsec SA #$first" "$log" ;;
rr)
	check_contains "$what: pluto replaced the peer's SA, roles reversed" \
		"initiating rekey to replace IPsec SA #$first (the peer initiated it: roles reversed)" "$log"
	newest=$(ipsec_sas | awk '$2 == "true"' | sort -n | tail -1)
	check_contains "$what: the replacement is pluto's own" " true true " "$newest" ;;
esac
io_check_established R "$what"
spi=$(ipsec_sas | awk '$2 == "true"' | sort -n | tail -1 | awk '{print $4}')
status=$(peer status R 2>&1)
check_contains "$what: the peer sends on pluto's newest inbound SPI ($spi)" "$spi" "$status"
io_finish
