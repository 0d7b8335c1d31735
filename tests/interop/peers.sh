#!/bin/bash
# Harness self-check: strongSwan and libreswan negotiate CASE with each
# other, each as initiator once, with no pluto involved. It proves the
# namespaces, configurations, xfrm stub and status checks that the pluto
# cases rely on; when it fails, the pluto cases' failures mean nothing.
#
#   peers.sh CASE      (a case of io_case in tests/lib/scenario.sh, e.g. psk-aes)
# shellcheck source=tests/lib/scenario.sh
. "$SRCDIR/tests/lib/scenario.sh"
io_require
io_case "${1:?usage: peers.sh CASE}" || exit 2
io_side L strongswan
io_side R libreswan
check "namespaces and veth up" io_netns_up || done_testing

for init in L R; do
	what="$CASE, ${IMPL[$init]} initiates"
	io_start L R || break
	io_check_initiate "$init" "$what"
	io_check_established L "$what"
	io_check_established R "$what"
	io_check_shown L "$what"
	io_check_shown R "$what"
	io_stop L R
done
io_finish
