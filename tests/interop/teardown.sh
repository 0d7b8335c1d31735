#!/bin/bash
# Tearing a tunnel down tells the other side (Delete payloads), both ways.
#
#   teardown.sh PEER ACTION
#     PEER    strongswan | libreswan (side R; pluto on L initiates)
#     ACTION  terminate  ipsecctl down (Terminate) on pluto
#             delete     ipsecctl delete (DeleteConnection) on pluto
#             shutdown   pluto is stopped (SIGTERM)
#             peer       the peer terminates (swanctl --terminate /
#                        whack --terminate): pluto removes its states
# Passes when the side that did nothing has no ISAKMP SA and no IPsec SA
# left, and its log shows the Deletes it received.
# shellcheck source=tests/lib/scenario.sh
. "$SRCDIR/tests/lib/scenario.sh"
PEER=${1:?usage: teardown.sh PEER ACTION} ACTION=${2:?usage: teardown.sh PEER ACTION}
io_case psk-aes
io_require
io_pluto_vs "$PEER"

what="$ACTION against $PEER"
check "$what: pluto initiates" io_initiate L
io_check_established R "$what"

# nothing_left SIDE: the peer reports no SA of conn lab at all
nothing_left() {
	case ${IMPL[$1]} in
	strongswan) ! swanctl_on "$1" --list-sas 2>/dev/null | grep -q "lab:" ;;
	libreswan) ! libreswan_whack "$1" --showstates 2>/dev/null | grep -q "STATE_" ;;
	pluto) [ "$(pluto_ctl "$1" status --json | jq '[.states[] | select(.connection == "lab")] | length')" = 0 ] ;;
	esac
}
case $ACTION in
terminate) check "$what: Terminate" pluto_ctl L down lab ;;
delete) check "$what: DeleteConnection" pluto_ctl L delete lab ;;
shutdown) io_stop L ;;
peer)
	case $PEER in
	strongswan) check "$what: swanctl --terminate --ike lab" swanctl_on R --terminate --ike lab --timeout 10 ;;
	libreswan) check "$what: whack --terminate" libreswan_whack R --name lab --terminate ;;
	esac ;;
*) echo "# unknown ACTION" >&2; exit 2 ;;
esac

if [ "$ACTION" = peer ]; then
	if wait_for 10 nothing_left L; then ok "$what: pluto removed its states"
	else fail "$what: pluto removed its states"; pluto_ctl L status | sed 's/^/#   /' | head; fi
	log=$(cat "$(pluto_log L)")
	check_contains "$what: pluto received the IPsec SA's Delete" "received Delete SA(0x" "$log"
	check_contains "$what: pluto received the ISAKMP SA's Delete" "received Delete SA payload: deleting ISAKMP State" "$log"
else
	if wait_for 10 nothing_left R; then ok "$what: the peer has no SA left"
	else fail "$what: the peer has no SA left"; peer status R | sed 's/^/#   /' | head -20; fi
	log=$(cat "$(peer log R)")
	case $PEER in
	strongswan)
		check_contains "$what: strongSwan received the ESP Delete" "received DELETE for ESP CHILD_SA" "$log"
		check_contains "$what: strongSwan received the ISAKMP Delete" "received DELETE for IKE_SA" "$log" ;;
	libreswan)
		check_contains "$what: libreswan received the IPsec SA's Delete" "received Delete SA(0x" "$log"
		check_contains "$what: libreswan deleted its ISAKMP SA" "deleting state (STATE_MAIN_R3)" "$log" ;;
	esac
fi
io_finish
