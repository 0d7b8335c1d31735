#!/bin/bash
# whack's exit status when pluto negotiates with a live peer (pluto(8):
# the code of the last progress line that was neither LOG nor COMMENT,
# SUCCESS counting as 0; 1 only for whack's own problems).
#
#   whack-exit.sh PEER MODE
#     PEER  strongswan | libreswan   (side R; pluto on side L initiates)
#     MODE  established   same PSK and proposals: exit status 0 and the SAs
#                         established on both sides
#           wrong-psk     pluto has another PSK than the peer
#           no-proposal   pluto proposes only 3DES-MD5-MODP1024, the peer
#                         accepts only AES128-SHA1-MODP2048
#           In both failure modes whack must end with the failing code (not
#           0, not 1, equal to its last non-log line) within
#           $IO_WHACK_LIMIT seconds (keyingtries=1: one keying attempt
#           and its retransmissions), and the peer must have no SA.
# shellcheck source=tests/lib/scenario.sh
. "$SRCDIR/tests/lib/scenario.sh"
PEER=${1:?usage: whack-exit.sh PEER MODE} MODE=${2:?usage: whack-exit.sh PEER MODE}
IO_WHACK_LIMIT=${IO_WHACK_LIMIT:-150}
# what each peer logs when it refuses (seen on these peers, see README.md)
declare -A PEER_SAYS=(
	[libreswan,wrong-psk]="probable authentication failure"
	[libreswan,no-proposal]="no acceptable Oakley Transform"
	[strongswan,wrong-psk]="decryption failed|message parsing failed"
	[strongswan,no-proposal]="no proposal found"
)
io_require
io_case psk-aes
io_side L pluto
io_side R "$PEER"
check "namespaces and veth up" io_netns_up || done_testing
case $MODE in
established) io_start L ;;
wrong-psk) PSK="not the peer's secret" io_start L ;;
no-proposal) IKE_ENC=3des IKE_HASH=md5 IKE_GROUP=modp1024 io_start L ;;
*) echo "# unknown MODE $MODE" >&2; exit 2 ;;
esac || done_testing
io_skip_unless_engine L
io_start R || done_testing

t0=$(date +%s)
timeout "$IO_WHACK_LIMIT" "$WHACK" --ctlbase "$(pluto_sock L)" --name lab --initiate >"$T/whack.out" 2>&1
rc=$?
secs=$(( $(date +%s) - t0 ))
sed 's/^/#   /' "$T/whack.out" | tail -15
# the code whack should have returned, from its own output
expect=$(awk '/^[0-9][0-9][0-9] / { c = $1 + 0; if (c != 0 && c != 2 && c != 3) last = (c == 4 ? 0 : c) }
	END { print last + 0 }' "$T/whack.out")

if [ "$MODE" = established ]; then
	check_eq "whack --initiate exits 0 once the IPsec SA is established" 0 "$rc"
	io_check_established L "$MODE"
	io_check_established R "$MODE"
else
	[ "$rc" -ne 124 ] && ok "$MODE: whack returns within ${IO_WHACK_LIMIT}s (took ${secs}s)" ||
		fail "$MODE: whack returns within ${IO_WHACK_LIMIT}s (killed after ${secs}s)"
	[ "$rc" -ne 0 ] && [ "$rc" -ne 1 ] && [ "$rc" -ne 124 ] &&
		ok "$MODE: whack exits with a failing code from pluto (status $rc)" ||
		fail "$MODE: whack exits with a failing code from pluto (status $rc)"
	check_eq "$MODE: the status is the code of whack's last non-log line" "$expect" "$rc"
	# the peer really got pluto's messages and rejected them for this reason
	if grep -qE "${PEER_SAYS[$PEER,$MODE]}" "$(peer log R)"; then
		ok "$MODE: ${IMPL[R]} logged why it refused (${PEER_SAYS[$PEER,$MODE]})"
	else
		fail "$MODE: ${IMPL[R]} logged why it refused (${PEER_SAYS[$PEER,$MODE]})"
	fi
	if peer established R; then fail "$MODE: ${IMPL[R]} has no IPsec SA"; else ok "$MODE: ${IMPL[R]} has no IPsec SA"; fi
	if pluto_established L; then fail "$MODE: pluto has no IPsec SA"; else ok "$MODE: pluto has no IPsec SA"; fi
fi
io_finish
