#!/bin/bash
# Replayed protected Informationals (issue 14 point 3, RFC 2408 3.1): a
# watches b with DPD (an R-U-THERE a second), then deletes its IPsec SA
# (a Delete that makes b delete its own). Captured on the wire, a's first
# R-U-THERE and its Delete are sent to b again from a's address and port
# 500, and one of b's own R-U-THERE-ACKs is reflected back to it: b must
# log each as a replay and drop it (no R-U-THERE answered twice, the
# ISAKMP SA untouched), while DPD goes on and a new Quick Mode over the
# same ISAKMP SA still works (and its SA survives a second replay of the
# Delete).
# shellcheck source=tests/lib/scenario.sh
. "$SRCDIR/tests/lib/scenario.sh"
# shellcheck source=tests/hostile/replay-lib.sh
. "$SRCDIR/tests/hostile/replay-lib.sh"

replay_setup dpddelay=1 dpdtimeout=30 dpdaction=clear

r_u_there_seen() { grep -c "received R-U-THERE seq" "$BLOG"; }
# no R-U-THERE sequence number was answered twice by b
# b answered more than N R-U-THEREs
r_u_there_more() { [ "$(r_u_there_seen)" -gt "$1" ]; }
no_seq_twice() { [ -z "$(grep -o "received R-U-THERE seq [0-9]*" "$BLOG" | sort | uniq -d)" ]; }

check "a's Quick Mode is established" up
wait_for 10 b_has_ipsec || fail "b has the IPsec SA"
isakmp_before=$(b_isakmp)
check_contains "b has one established ISAKMP SA" "isakmp STATE_MAIN_R3 true" "$isakmp_before"
wait_for 10 r_u_there_more 0 && ok "a's DPD: b answers an R-U-THERE" ||
	fail "a's DPD: b answers an R-U-THERE"

first=$(a_ipsec_serial)
check "a deletes IPsec SA #$first" "$WHACK" --ctlbase "$(pluto_sock a)" --deletestate "$first"
wait_for 10 b_no_ipsec || fail "b deleted its IPsec SA on a's Delete"

# a's Informationals: R-U-THEREs and the Delete, whose payload is 16
# bytes shorter (D with one 4-byte SPI against N with the 16-byte ISAKMP
# SPI and the sequence number; same HASH, so after the padding too)
mapfile -t info < <(a_datagrams 5 | sort -k3,3n -s)
[ "${#info[@]}" -ge 2 ] && ok "the capture holds a's R-U-THERE and Delete (${#info[@]} Informationals)" ||
	fail "the capture holds a's R-U-THERE and Delete (got ${#info[@]})"
read -r _ del_id del_len del <<<"${info[0]}"
read -r _ dpd_id dpd_len dpd <<<"${info[${#info[@]}-1]}"
check_eq "the Delete is one cipher block shorter than an R-U-THERE" "$((del_len + 16))" "$dpd_len"
read -r _ ack_id _ ack <<<"$(b_datagrams 5 | head -1)"
[ -n "$ack" ] && ok "the capture holds b's R-U-THERE-ACK" || fail "the capture holds b's R-U-THERE-ACK"

seen=$(r_u_there_seen)
replay "$dpd"
wait_for 5 b_logged_replay "$dpd_id" && ok "b logs the replayed R-U-THERE (message ID 0x$dpd_id) and drops it" ||
	fail "b logs the replayed R-U-THERE (message ID 0x$dpd_id) and drops it"
replay "$del"
wait_for 5 b_logged_replay "$del_id" && ok "b logs the replayed Delete (message ID 0x$del_id) and drops it" ||
	fail "b logs the replayed Delete (message ID 0x$del_id) and drops it"
replay "$ack"
wait_for 5 b_logged_replay "$ack_id" &&
	ok "b logs its own R-U-THERE-ACK reflected back (message ID 0x$ack_id) and drops it" ||
	fail "b logs its own R-U-THERE-ACK reflected back (message ID 0x$ack_id) and drops it"
sleep 0.5
check "b answered no R-U-THERE sequence number twice" no_seq_twice
check_eq "b's ISAKMP SA is untouched, no other state" "$isakmp_before" "$(b_isakmp; b_ipsec)"
wait_for 5 r_u_there_more "$seen" && ok "a's new R-U-THEREs are still answered" ||
	fail "a's new R-U-THEREs are still answered"

check "a new Quick Mode over the same ISAKMP SA works" up
wait_for 10 b_has_ipsec || fail "b has the new IPsec SA"
second=$(b_ipsec)
n=$(grep -c "message ID 0x$del_id was already used" "$BLOG")
replay "$del"
wait_for 5 b_logged_replays_more "$del_id" "$n" &&
	ok "the Delete replayed again is dropped again" || fail "the Delete replayed again is dropped again"
sleep 0.5
check_eq "b's ISAKMP SA and new IPsec SA are untouched" "$isakmp_before
$second" "$(b_isakmp; b_ipsec)"
check "still no R-U-THERE sequence number answered twice" no_seq_twice
replay_finish
