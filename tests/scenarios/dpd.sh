#!/bin/bash
# Dead Peer Detection (RFC 3706): pluto against another pluto or a real peer
# (tests/lib/scenario.sh), the peer kind first.
#
#   dpd.sh pluto                 pluto <-> pluto (namespaces a and b,
#                                198.51.100.1/.2, kernel backend none);
#                                every scenario below in one run
#   dpd.sh PEER SCENARIO         pluto (side L) against PEER (side R:
#                                strongswan | libreswan), case psk-aes
#
# pluto <-> pluto: a initiates with dpddelay=1 dpdtimeout=4; b only answers
# (dpddelay=0).
#   1. R-U-THERE / R-U-THERE-ACK are exchanged and the SAs stay up.
#   2. b is SIGKILLed: a declares it dead within the timeout and applies
#      dpdaction: clear (no states, unrouted), hold (no states, the TRAP
#      eroute: prospective), restart (initiates again at once).
#   3. restart: b comes back with the same configuration and the tunnel is
#      established again without any command to a.
#   4. the reverse: b (the responder) watches a with dpdaction=restart; a is
#      SIGKILLed and started again; b re-initiates by itself.
#   5. a road-warrior instance cannot initiate: every action is clear.
# Bad option values are refused with InvalidOption naming them.
#
# Against a real peer, SCENARIO is
#   answer        the peer asks (its DPD on), pluto answers every
#                 R-U-THERE; the peer keeps the SAs and logs the ACKs
#   ask           pluto asks (dpddelay=1), the peer answers; nobody is
#                 declared dead
#   restart       pluto has dpdaction=restart; the peer daemon is SIGKILLed
#                 and started again with the same configuration: pluto
#                 declares it dead, initiates again, and both sides are
#                 established again without any command
#   peer-restart  the reverse: the peer watches (its restart action),
#                 pluto is SIGKILLed and started again; the peer brings the
#                 tunnel back
# shellcheck source=tests/lib/scenario.sh
. "$SRCDIR/tests/lib/scenario.sh"
usage() { echo "usage: dpd.sh pluto | dpd.sh strongswan|libreswan SCENARIO" >&2; exit 2; }
PEER=${1:-}

# count_in TEXT STRING: lines of STRING matching the regular expression TEXT
count_in() { grep -c -- "$1" <<<"$2"; }
# log_text SIDE: pluto's log on SIDE
log_text() { cat "$(pluto_log "$1")"; }
# status_lacks SIDE TEXT: pluto's status on SIDE does not show TEXT
status_lacks() { ! pluto_ctl "$1" status | grep -qF -- "$2"; }

# ============================ pluto <-> pluto ============================
dpd_pluto_pluto() {
	io_require_netns jq
	io_side a pluto
	io_side b pluto
	io_link a 198.51.100.1/24 b 198.51.100.2/24 || skip_all "cannot create network namespaces"
	HOSTS="left=198.51.100.1 right=198.51.100.2"
	PSK='198.51.100.1 198.51.100.2 : PSK "dpd test secret"'
	for s in a b; do echo "$PSK" >"$T/$s/ipsec.secrets"; done
	dpd_pluto_pluto_body
}
# start SIDE: a fresh pluto; its log starts empty (the earlier one is kept
# in SIDE-old.txt for the sanitizer check)
start() {
	[ -f "$(pluto_log "$1")" ] && cat "$(pluto_log "$1")" >>"$T/$1-old.txt" && : >"$(pluto_log "$1")"
	pluto_launch "$1" --nodbus --kernel none --debug-all
}
stop_all() { io_stop a b; }
# routing SIDE CONN: the connection's routing state from whack --status
routing() { pluto_whack "$1" --status | grep -F "\"$2\": " | head -1 | awk -F'; ' '{print $2}'; }
# count SIDE TEXT: lines of SIDE's log containing TEXT
count() { grep -cF -- "$2" "$(pluto_log "$1")"; }
up_a="STATE_MAIN_I4:true STATE_QUICK_I2:true"
up_b="STATE_MAIN_R3:true STATE_QUICK_R2:true"

# setup ACTION: fresh daemons, a watches b with ACTION, established
setup() {
	local action=$1 extra=${2:-}
	stop_all
	start a
	start b
	pluto_ctl b add c $HOSTS authby=secret $extra >/dev/null
	pluto_ctl a add c $HOSTS authby=secret dpddelay=1 dpdtimeout=4 dpdaction="$action" $extra >/dev/null
	check_eq "$action: initiate exits 0" 0 "$(status_of timeout 30 "$WHACK" --ctlbase "$(pluto_sock a)" --name c --initiate)"
	wait_for 5 pluto_states_are b "$up_b"
	check_eq "$action: both established" "$up_a|$up_b" "$(pluto_states a)|$(pluto_states b)"
}

dpd_pluto_pluto_body() {
	# --- options: bad values and the timeout/delay check ---
	start a
	out=$(pluto_ctl a add bad $HOSTS dpddelay=soon 2>&1)
	check_contains "dpddelay=soon refused naming keyword and value" "invalid value 'soon' for option 'dpddelay'" "$out"
	out=$(pluto_ctl a add bad $HOSTS dpdaction=reboot 2>&1)
	check_contains "dpdaction=reboot refused naming keyword and value" "invalid value 'reboot' for option 'dpdaction'" "$out"
	out=$(pluto_ctl a add bad $HOSTS dpddelay=10 dpdtimeout=10 2>&1)
	check_contains "dpdtimeout <= dpddelay refused naming both" "dpdtimeout (10s) must be longer than dpddelay (10s)" "$out"
	check_contains "... as InvalidOption" "InvalidOption" "$out"
	check_eq "nothing half-added" "" "$(pluto_whack a --status | grep -F '"bad"')"
	pluto_ctl a add shown $HOSTS dpddelay=1m dpdtimeout=5m dpdaction=restart >/dev/null
	out=$(pluto_ctl a status --json)
	check_contains "normalised Options show dpddelay" '"dpddelay": "60s"' "$(pluto_ctl a status --json | jq '.connections[] | select(.name=="shown") | .options')"
	check_contains "normalised Options show dpdtimeout" '"dpdtimeout": "300s"' "$(pluto_ctl a status --json | jq '.connections[] | select(.name=="shown") | .options')"
	check_contains "normalised Options show dpdaction" '"dpdaction": "restart"' "$(pluto_ctl a status --json | jq '.connections[] | select(.name=="shown") | .options')"
	io_stop a

	# --- 1. R-U-THERE answered, the SAs stay up ---
	setup clear
	check_contains "a says DPD is active on its ISAKMP SA" "DPD: active, delay 1 s, timeout 4 s, action clear" "$(cat "$(pluto_log a)")"
	sleep 3.5
	n_sent=$(count a "sending notification R_U_THERE")
	n_sent=$((n_sent - $(count a "sending notification R_U_THERE_ACK")))
	n_ack=$(count b "sending notification R_U_THERE_ACK")
	check "a sent R-U-THERE while idle ($n_sent)" test "$n_sent" -ge 2
	check "b answered with R-U-THERE-ACK ($n_ack)" test "$n_ack" -ge 2
	check "a accepted the ACKs (debug log)" grep -q "DPD: #[0-9]*: received R-U-THERE-ACK seq" "$(pluto_log a)"
	check_not_contains "no unexpected ACK" "we are not waiting for" "$(cat "$(pluto_log a)")"
	check_not_contains "b does not ask (dpddelay=0)" "DPD: active" "$(cat "$(pluto_log b)")"
	check_not_contains "a did not declare b dead" "declared dead" "$(cat "$(pluto_log a)")"
	check_eq "SAs still established after idle time" "$up_a|$up_b" "$(pluto_states a)|$(pluto_states b)"
	check_contains "whack --status shows DPD on a's ISAKMP SA" "DPD: active, delay 1 s, timeout 4 s, action clear" "$(pluto_whack a --status)"
	check_not_contains "... and not on b's (it only answers)" "DPD: active" "$(pluto_whack b --status)"

	# --- 2. clear: the peer dies -> no states, unrouted ---
	io_kill_hard b
	SECONDS=0
	wait_for 10 grep -q "peer declared dead" "$(pluto_log a)"
	check_contains "clear: dead peer logged" "DPD: no response from peer for 4 s: peer declared dead" "$(cat "$(pluto_log a)")"
	check "clear: declared dead within the timeout (+ 2 s slack, took ${SECONDS}s)" test "$SECONDS" -le 6
	check_eq "clear: no states left" "" "$(pluto_states a)"
	check_eq "clear: connection unrouted" "unrouted" "$(routing a c)"

	# clear on an auto=route connection: back to prospective
	setup clear auto=route
	io_kill_hard b
	wait_for 10 grep -q "peer declared dead" "$(pluto_log a)"
	check_eq "clear with auto=route: no states left" "" "$(pluto_states a)"
	check_eq "clear with auto=route: back to prospective" "prospective" "$(routing a c)"

	# --- hold: no states, the TRAP eroute stays ---
	setup hold
	io_kill_hard b
	wait_for 10 grep -q "peer declared dead" "$(pluto_log a)"
	check_contains "hold: dead peer logged" "peer declared dead; dpdaction=hold" "$(cat "$(pluto_log a)")"
	check_eq "hold: no states left" "" "$(pluto_states a)"
	check_eq "hold: connection prospective (TRAP eroute)" "prospective" "$(routing a c)"
	check_contains "hold: the kernel record keeps the TRAP policy" "policy out" "$(pluto_whack a --status | grep -i kernel)"

	# --- 3. restart: re-initiates at once; b comes back, the tunnel too ---
	setup restart
	io_kill_hard b
	wait_for 10 grep -q "peer declared dead" "$(pluto_log a)"
	check_contains "restart: dead peer logged" "peer declared dead; dpdaction=restart" "$(cat "$(pluto_log a)")"
	check_contains "restart: a initiates again by itself" "DPD: restarting the connection" "$(cat "$(pluto_log a)")"
	check_contains "restart: a new Main Mode is under way" "STATE_MAIN_I1" "$(pluto_states a)"
	start b
	pluto_ctl b add c $HOSTS authby=secret >/dev/null
	wait_for 30 pluto_states_are b "$up_b"
	check_eq "restart: b (restarted) established again without a command to a" "$up_b" "$(pluto_states b)"
	wait_for 5 pluto_states_are a "$up_a"
	check_eq "restart: a established again" "$up_a" "$(pluto_states a)"
	# and DPD watches the new ISAKMP SA
	check "restart: DPD active again on the new SA" test "$(count a "DPD: active")" -ge 2

	# --- 4. the reverse: the responder watches with dpdaction=restart ---
	stop_all
	start a
	start b
	pluto_ctl a add c $HOSTS authby=secret >/dev/null
	pluto_ctl b add c $HOSTS authby=secret dpddelay=1 dpdtimeout=4 dpdaction=restart >/dev/null
	check_eq "reverse: initiate exits 0" 0 "$(status_of timeout 30 "$WHACK" --ctlbase "$(pluto_sock a)" --name c --initiate)"
	wait_for 5 pluto_states_are b "$up_b"
	check_eq "reverse: both established" "$up_a|$up_b" "$(pluto_states a)|$(pluto_states b)"
	io_kill_hard a
	wait_for 10 grep -q "peer declared dead" "$(pluto_log b)"
	check_contains "reverse: b declares a dead" "peer declared dead; dpdaction=restart" "$(cat "$(pluto_log b)")"
	start a
	pluto_ctl a add c $HOSTS authby=secret >/dev/null
	wait_for 30 pluto_states_are b "$up_a"
	check_eq "reverse: b re-initiated and is established as initiator" "$up_a" "$(pluto_states b)"
	wait_for 5 pluto_states_are a "$up_b"
	check_eq "reverse: a (restarted) established as responder" "$up_b" "$(pluto_states a)"

	# --- 5. a road-warrior instance cannot initiate: every action is clear ---
	stop_all
	echo ': PSK "road warrior"' >"$T/a/ipsec.secrets"
	echo ': PSK "road warrior"' >"$T/b/ipsec.secrets"
	start a
	start b
	pluto_ctl a add rw $HOSTS authby=secret >/dev/null
	pluto_ctl b add rw left=%any right=198.51.100.2 authby=secret dpddelay=1 dpdtimeout=4 dpdaction=restart >/dev/null
	check_eq "instance: initiate exits 0" 0 "$(status_of timeout 30 "$WHACK" --ctlbase "$(pluto_sock a)" --name rw --initiate)"
	wait_for 5 pluto_states_are b "$up_b"
	check_contains "instance: b watches its instance" "DPD: active" "$(pluto_whack b --status)"
	io_kill_hard a
	wait_for 10 grep -q "peer declared dead" "$(pluto_log b)"
	check_contains "instance: restart becomes clear" "dpdaction=restart (an instance: clear)" "$(cat "$(pluto_log b)")"
	wait_for 5 pluto_states_are b ""
	check_eq "instance: no states left" "" "$(pluto_states b)"
	wait_for 5 status_lacks b rw+
	check_not_contains "instance: the instance is gone" "rw+" "$(pluto_ctl b status)"
	check_not_contains "instance: no new Main Mode from b" "STATE_MAIN_I1" "$(cat "$(pluto_log b)")"

	stop_all
	check_not_contains "no sanitizer report (a)" "Sanitizer" "$(cat "$T/a-old.txt" "$(pluto_log a)")"
	check_not_contains "no sanitizer report (b)" "Sanitizer" "$(cat "$T/b-old.txt" "$(pluto_log b)")"
}

# ========================= pluto <-> a real peer =========================
# the peer's DPD settings (its own vocabulary): delay 1 s, timeout 5 s
peer_dpd_on() {
	if [ "$PEER" = strongswan ]; then
		export IO_SS_DPD_DELAY=1s IO_SS_CONN_EXTRA="dpd_timeout = 5s" IO_SS_CHILD_EXTRA="dpd_action = restart"
	else
		export IO_LS_EXTRA="dpddelay=1
    dpdtimeout=5
    dpdaction=restart"
	fi
}
# libreswan logs R-U-THERE / ACK only with debugging on
export IO_LS_PLUTODEBUG=all
# pluto's R-U-THERE settings for the scenarios where it asks
PLUTO_DPD="dpddelay=1 dpdtimeout=4 dpdaction=restart"

peer_log() { cat "$(peer log R)"; }

# both_up WHAT: pluto and the peer established (polls)
both_up() { io_check_established L "$1"; io_check_established R "$1"; }
# up_with_peer PLUTO_CONN_OPTIONS WHEN: pluto in L (skipped without an
# engine) and the peer in R, pluto initiates, both are up WHEN
up_with_peer() {
	IO_PLUTO_CONN=$1 io_start L || done_testing
	io_skip_unless_engine L
	io_start R || done_testing
	check "pluto initiates" io_initiate L
	both_up "$2"
}

dpd_pluto_peer() {
	io_side L pluto
	io_side R "$PEER"
	check "namespaces and veth up" io_netns_up || done_testing

	case $SCENARIO in
	answer)
		peer_dpd_on
		up_with_peer '' "before DPD"
		sleep 5
		pl=$(log_text L) lg=$(peer_log)
		n=$(count_in "sending notification R_U_THERE_ACK" "$pl")
		check "pluto answered the peer's R-U-THERE ($n ACKs)" test "$n" -ge 2
		check_not_contains "pluto does not ask (dpddelay=0)" "DPD: active" "$pl"
		check_not_contains "pluto ignored no R-U-THERE" "DPD: R-U-THERE" "$pl"
		if [ "$PEER" = strongswan ]; then
			n=$(count_in "generating INFORMATIONAL_V1 request .*\[ HASH N(DPD) \]" "$lg")
			check "strongSwan sent R-U-THERE ($n)" test "$n" -ge 2
			n=$(count_in "parsed INFORMATIONAL_V1 request .*\[ HASH N(DPD_ACK) \]" "$lg")
			check "strongSwan received the ACKs ($n)" test "$n" -ge 2
			check_eq "strongSwan did not time out" 0 "$(grep -cE 'DPD check timed out|enforcing DPD action' <<<"$lg")"
		else
			n=$(grep -c 'DPD: R_U_THERE_ACK, seqno received: \([0-9]*\) expected: \1 ' <<<"$lg")
			check "libreswan received the ACKs with the expected sequence ($n)" test "$n" -ge 2
			check_not_contains "libreswan did not declare pluto dead" "declaring peer dead" "$lg"
		fi
		both_up "after 5 s of DPD by the peer"
		;;
	ask)
		up_with_peer "$PLUTO_DPD" "before DPD"
		sleep 5
		pl=$(log_text L) lg=$(peer_log)
		check_contains "pluto: DPD active (the peer announced DPD)" "DPD: active, delay 1 s, timeout 4 s, action restart" "$pl"
		n=$(count_in "sending notification R_U_THERE\$" "$pl")
		check "pluto sent R-U-THERE ($n)" test "$n" -ge 2
		n=$(count_in "DPD: #[0-9]*: received R-U-THERE-ACK seq" "$pl")
		check "pluto accepted the peer's ACKs ($n)" test "$n" -ge 2
		check_not_contains "pluto did not declare the peer dead" "declared dead" "$pl"
		check_not_contains "no ACK pluto did not wait for" "not waiting for" "$pl"
		if [ "$PEER" = strongswan ]; then
			n=$(count_in "parsed INFORMATIONAL_V1 request .*\[ HASH N(DPD) \]" "$lg")
			check "strongSwan received R-U-THERE ($n)" test "$n" -ge 2
		else
			n=$(count_in "DPD: received R_U_THERE seq:" "$lg")
			check "libreswan received R-U-THERE ($n)" test "$n" -ge 2
		fi
		both_up "after 5 s of DPD by pluto"
		;;
	restart)
		up_with_peer "$PLUTO_DPD" "before the peer dies"
		io_kill_hard R
		SECONDS=0
		wait_for 10 grep -q "peer declared dead" "$(pluto_log L)"
		check_contains "pluto declares the peer dead" "DPD: no response from peer for 4 s: peer declared dead; dpdaction=restart" "$(log_text L)"
		check "... within the timeout (+2 s, took ${SECONDS} s)" test "$SECONDS" -le 6
		check_contains "pluto initiates again by itself" "DPD: restarting the connection" "$(log_text L)"
		check "the peer starts again (same configuration)" peer start R
		SECONDS=0
		both_up "after the peer's restart, no command given"
		wait_for 20 peer established R
		check "... within 20 s (took ${SECONDS} s)" test "$SECONDS" -le 20
		;;
	peer-restart)
		peer_dpd_on
		up_with_peer '' "before pluto dies"
		io_kill_hard L
		if [ "$PEER" = strongswan ]; then dead="DPD check timed out, enforcing DPD action"
		else dead="DPD action - restarting all connections that share this peer"; fi
		SECONDS=0
		wait_for 15 grep -qF "$dead" "$(peer log R)"
		check_contains "the peer declares pluto dead" "$dead" "$(peer_log)"
		check "... within its timeout (5 s + 3 s, took ${SECONDS} s)" test "$SECONDS" -le 8
		check "pluto starts again (same configuration)" peer start L
		SECONDS=0
		wait_for 30 peer established L
		both_up "after pluto's restart, the peer restarted the tunnel"
		check "... within 30 s (took ${SECONDS} s)" test "$SECONDS" -le 30
		;;
	*)
		echo "# unknown scenario $SCENARIO" >&2
		exit 2
		;;
	esac
}

case $PEER in
pluto)
	dpd_pluto_pluto
	done_testing ;;
strongswan | libreswan)
	SCENARIO=${2:-}
	[ -n "$SCENARIO" ] || usage
	io_case psk-aes
	io_require
	dpd_pluto_peer
	io_finish ;;
*) usage ;;
esac
