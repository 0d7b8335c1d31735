#!/bin/bash
# pluto against a real peer: one case, one role.
#
#   pluto-peer.sh PEER CASE ROLE
#     PEER  strongswan | libreswan   (runs on side R; pluto runs on side L)
#     CASE  a case of io_case in tests/lib/scenario.sh (psk-aes, psk-3des, rsa-raw, ...)
#     ROLE  init (pluto initiates) | resp (the peer initiates)
#
# Passes when the initiator reports success and both pluto (ipsecctl status
# --json: STATE_MAIN_I4/R3 + STATE_QUICK_I2/R2, established) and the peer
# (its own status command) show the ISAKMP SA and the IPsec SA. Skipped
# (exit 77) while pluto has no IKE engine.
# shellcheck source=tests/lib/scenario.sh
. "$SRCDIR/tests/lib/scenario.sh"
PEER=${1:?usage: pluto-peer.sh PEER CASE ROLE} ROLE=${3:?usage: pluto-peer.sh PEER CASE ROLE}
io_case "${2:?usage: pluto-peer.sh PEER CASE ROLE}" || exit 2
[[ " $PEERS " == *" $PEER "* ]] || { echo "# $PEER cannot run case $CASE" >&2; exit 2; }
[[ $ROLE == init || $ROLE == resp ]] || { echo "# ROLE must be init or resp" >&2; exit 2; }
io_require
io_pluto_vs "$PEER"

if [ "$ROLE" = init ]; then init=L; else init=R; fi
what="$CASE, ${IMPL[$init]} initiates"
io_check_initiate "$init" "$what"
io_check_established L "$what"
io_check_established R "$what"
io_check_shown L "$what"
io_check_shown R "$what"
io_finish
