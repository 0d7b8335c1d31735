#!/bin/bash
# Replayed Quick Mode messages (issue 14 point 3, RFC 2408 3.1): a and b
# negotiate; a deletes the IPsec SA (b deletes its own on a's Delete) and
# a second Quick Mode makes a new one over the same ISAKMP SA. The first
# Quick Mode's QI1 and QI2, captured on the wire, are then sent to b
# again from a's address and port 500: b must log each as a replay and
# drop it -- no new state, no inbound SA, the ISAKMP SA and the second
# IPsec SA untouched -- and a third Quick Mode over the same ISAKMP SA
# must still work.
# shellcheck source=tests/lib/scenario.sh
. "$SRCDIR/tests/lib/scenario.sh"
# shellcheck source=tests/hostile/replay-lib.sh
. "$SRCDIR/tests/hostile/replay-lib.sh"

replay_setup

check "a's first Quick Mode is established" up
wait_for 10 b_has_ipsec || fail "b has the IPsec SA"
isakmp_before=$(b_isakmp)
check_contains "b has one established ISAKMP SA" "isakmp STATE_MAIN_R3 true" "$isakmp_before"

# the first IPsec SA goes: a's Delete makes b delete its own
first=$(a_ipsec_serial)
check "a deletes IPsec SA #$first" "$WHACK" --ctlbase "$(pluto_sock a)" --deletestate "$first"
wait_for 10 b_no_ipsec || fail "b deleted its IPsec SA on a's Delete"

check "a's second Quick Mode is established" up
wait_for 10 b_has_ipsec || fail "b has the second IPsec SA"
second=$(b_ipsec)

mapfile -t qm < <(a_datagrams 32)
[ "${#qm[@]}" -ge 4 ] && ok "the capture holds a's two QI1 and QI2 (${#qm[@]} Quick Mode datagrams)" ||
	fail "the capture holds a's two QI1 and QI2 (got ${#qm[@]})"
read -r _ qi1_id _ qi1 <<<"${qm[0]}"
read -r _ qi2_id _ qi2 <<<"${qm[1]}"
check_eq "QI1 and QI2 of the first Quick Mode share a message ID" "$qi1_id" "$qi2_id"

r1_before=$(grep -c "STATE_QUICK_R1" "$BLOG")
replay "$qi1"
wait_for 5 b_logged_replay "$qi1_id" && ok "b logs the replayed QI1 (message ID 0x$qi1_id) and drops it" ||
	fail "b logs the replayed QI1 (message ID 0x$qi1_id) and drops it"
n=$(b_logged_replays "$qi1_id")
replay "$qi2"
wait_for 5 b_logged_replays_more "$qi1_id" "$n" &&
	ok "b logs the replayed QI2 and drops it" || fail "b logs the replayed QI2 and drops it"

sleep 0.5   # what b would have done with them is done
check_eq "no new state on b: the ISAKMP SA and the second IPsec SA only" "$isakmp_before
$second" "$(b_isakmp; b_ipsec)"
check_eq "b never reached STATE_QUICK_R1 again for the replays" "$r1_before" "$(grep -c "STATE_QUICK_R1" "$BLOG")"

check "a third Quick Mode over the same ISAKMP SA works" up
wait_for 10 b_has_two_ipsec ||
	fail "b has the third IPsec SA beside the second"
check_eq "b's ISAKMP SA is the same one" "$isakmp_before" "$(b_isakmp)"
check_contains "the second IPsec SA is untouched" "$second" "$(b_ipsec)"
replay_finish
