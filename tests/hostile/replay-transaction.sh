#!/bin/bash
# Replayed Transaction exchanges (XAUTH, Mode Config; issue 14 point 3,
# RFC 2408 3.1): b is a remote-access gateway (XAUTH with the password
# from its secrets, Mode Config from a pool), a its client alice (Mode
# Config pull). After a is established, its XAUTH REPLY and ACK are sent
# to b again from a's address and port 500, and b's own XAUTH REQUEST is
# reflected back to it: b must log each as a replay and drop it (no new
# XAUTH round, no new lease, the ISAKMP SA untouched); the last exchange's
# request sent again is still a retransmission, answered with the same
# REPLY as before; and a new Quick Mode over the same ISAKMP SA works.
# shellcheck source=tests/lib/scenario.sh
. "$SRCDIR/tests/lib/scenario.sh"
# shellcheck source=tests/hostile/replay-lib.sh
. "$SRCDIR/tests/hostile/replay-lib.sh"

mkdir -p "$T/a" "$T/b"
printf '%s %s : PSK "replay ra %s"\n@alice : XAUTH "alice-%s"\n' "$A" "$B" $$ $$ >"$T/a/ipsec.secrets"
printf '%s %%any : PSK "replay ra %s"\n@alice : XAUTH "alice-%s"\n' "$B" $$ $$ >"$T/b/ipsec.secrets"
replay_start
ra=(rightsubnet=10.2.0.0/16 authby=secret keyingtries=1 leftxauthclient=yes leftmodecfgclient=yes
    rightxauthserver=yes rightmodecfgserver=yes modecfgpull=yes)
check "gateway conn c added on b" pluto_ctl b add c left=%any right="$B" "${ra[@]}" \
	leftaddresspool=10.9.0.1-10.9.0.20 xauthby=file
check "client conn c added on a" pluto_ctl a add c left="$A" right="$B" "${ra[@]}" leftusername=alice

check "a (alice) is established through XAUTH and Mode Config" up
wait_for 10 b_has_ipsec || fail "b has the IPsec SA"
isakmp_before=$(b_isakmp)
check_contains "b has one ISAKMP SA, past XAUTH and Mode Config" "isakmp STATE_MODE_CFG_R1 true" "$isakmp_before"
xauth_lines() { grep -c 'XAUTH: user "alice" authenticated' "$BLOG"; }
lease_lines() { grep -c 'Mode Config: lent' "$BLOG"; }
n_xauth=$(xauth_lines) n_lease=$(lease_lines)
check_eq "b authenticated alice once" 1 "$n_xauth"
check_eq "b lent alice an address once" 1 "$n_lease"

# a's Transaction datagrams: XAUTH REPLY, XAUTH ACK, Mode Config REQUEST;
# b's: XAUTH REQUEST, XAUTH STATUS, Mode Config REPLY
mapfile -t tx_a < <(a_datagrams 6)
mapfile -t tx_b < <(b_datagrams 6)
[ "${#tx_a[@]}" -eq 3 ] && [ "${#tx_b[@]}" -eq 3 ] &&
	ok "the capture holds the three exchange pairs" ||
	fail "the capture holds the three exchange pairs (a sent ${#tx_a[@]}, b ${#tx_b[@]})"
read -r _ reply_id _ reply <<<"${tx_a[0]}"
read -r _ ack_id _ ack <<<"${tx_a[1]}"
read -r _ req_id _ req <<<"${tx_a[2]}"
read -r _ xreq_id _ xreq <<<"${tx_b[0]}"
read -r _ _ _ cfg_reply <<<"${tx_b[2]}"
check_eq "XAUTH REQUEST and REPLY share a message ID" "$xreq_id" "$reply_id"

replay "$reply"
wait_for 5 b_logged_replay "$reply_id" && ok "b logs the replayed XAUTH REPLY (0x$reply_id) and drops it" ||
	fail "b logs the replayed XAUTH REPLY (0x$reply_id) and drops it"
replay "$ack"
wait_for 5 b_logged_replay "$ack_id" && ok "b logs the replayed XAUTH ACK (0x$ack_id) and drops it" ||
	fail "b logs the replayed XAUTH ACK (0x$ack_id) and drops it"
n=$(b_logged_replays "$xreq_id")
replay "$xreq"
wait_for 5 b_logged_replays_more "$xreq_id" "$n" &&
	ok "b logs its own XAUTH REQUEST reflected back and drops it" ||
	fail "b logs its own XAUTH REQUEST reflected back and drops it"

# the current exchange's request again: a retransmission, not a replay
n_b=$(b_datagrams 6 | wc -l)
replay "$req"
b_answered_again() { [ "$(b_datagrams 6 | wc -l)" -gt "$n_b" ]; }
wait_for 5 b_answered_again && ok "the Mode Config REQUEST sent again is answered again" ||
	fail "the Mode Config REQUEST sent again is answered again"
check_eq "... with the same REPLY" "$cfg_reply" "$(b_datagrams 6 | tail -1 | cut -d' ' -f4)"
check_eq "... and not taken for a replay" 0 "$(b_logged_replays "$req_id")"

sleep 0.5
check_eq "b ran no new XAUTH round" "$n_xauth" "$(xauth_lines)"
check_eq "b lent nothing more" "$n_lease" "$(lease_lines)"
check_eq "b's ISAKMP SA is untouched" "$isakmp_before" "$(b_isakmp)"

first=$(a_ipsec_serial)
check "a deletes IPsec SA #$first" "$WHACK" --ctlbase "$(pluto_sock a)" --deletestate "$first"
wait_for 10 b_no_ipsec || fail "b deleted its IPsec SA on a's Delete"
check "a new Quick Mode over the same ISAKMP SA works" up
wait_for 10 b_has_ipsec || fail "b has the new IPsec SA"
check_eq "b's ISAKMP SA is the same one" "$isakmp_before" "$(b_isakmp)"
replay_finish
