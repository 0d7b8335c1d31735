#!/bin/bash
# Dead Peer Detection (RFC 3706) between pluto (side L) and a real peer
# (side R), pluto initiating, case psk-aes.
#
#   dpd.sh PEER SCENARIO
#     PEER      strongswan | libreswan
#     SCENARIO  answer        the peer asks (its DPD on), pluto answers every
#                             R-U-THERE; the peer keeps the SAs and logs the ACKs
#               ask           pluto asks (dpddelay=1), the peer answers;
#                             nobody is declared dead
#               restart       pluto has dpdaction=restart; the peer daemon is
#                             SIGKILLed and started again with the same
#                             configuration: pluto declares it dead, initiates
#                             again, and both sides are established again
#                             without any command
#               peer-restart  the reverse: the peer watches (its restart
#                             action), pluto is SIGKILLed and started again;
#                             the peer brings the tunnel back
. "$SRCDIR/tests/interop/lib.sh"
PEER=${1:?usage: dpd.sh PEER SCENARIO} SCENARIO=${2:?usage: dpd.sh PEER SCENARIO}
[[ $PEER == strongswan || $PEER == libreswan ]] || { echo "# PEER must be strongswan or libreswan" >&2; exit 2; }
io_case psk-aes
io_require

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
pluto_log_text() { cat "$T/L-pluto.log"; }
count_in() { grep -c -- "$1" <<<"$2"; }

# hard_kill SIDE: SIGKILL the daemon of SIDE (no Delete, nothing cleaned up)
hard_kill() {
	local s=$1 f pid
	for f in charon.pid pluto.pid; do
		[ -f "$T/$s/$f" ] || continue
		pid=$(cat "$T/$s/$f")
		io_pid_ours "$pid" && kill -KILL "$pid"
		wait "$pid" 2>/dev/null
		rm -f "$T/$s/$f"
	done
	# pluto_start would take a stale socket for a running pluto, and a new
	# pluto refuses to start while the lock file of the killed one is there
	[ "${IMPL[$s]}" = pluto ] && rm -f "$(pluto_sock "$s")" "$T/$s/run/pluto.pid"
	return 0
}

# both_up WHAT: pluto and the peer established (polls)
both_up() { io_check_established L "$1"; io_check_established R "$1"; }

io_side L pluto
io_side R "$PEER"
check "namespaces and veth up" io_netns_up || done_testing

case $SCENARIO in
answer)
	peer_dpd_on
	IO_PLUTO_CONN='' io_start L || done_testing
	io_skip_unless_engine L
	io_start R || done_testing
	check "pluto initiates" io_initiate L
	both_up "before DPD"
	sleep 5
	pl=$(pluto_log_text) lg=$(peer_log)
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
	IO_PLUTO_CONN=$PLUTO_DPD io_start L || done_testing
	io_skip_unless_engine L
	io_start R || done_testing
	check "pluto initiates" io_initiate L
	both_up "before DPD"
	sleep 5
	pl=$(pluto_log_text) lg=$(peer_log)
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
	IO_PLUTO_CONN=$PLUTO_DPD io_start L || done_testing
	io_skip_unless_engine L
	io_start R || done_testing
	check "pluto initiates" io_initiate L
	both_up "before the peer dies"
	hard_kill R
	SECONDS=0
	wait_for 10 grep -q "peer declared dead" "$T/L-pluto.log"
	check_contains "pluto declares the peer dead" "DPD: no response from peer for 4 s: peer declared dead; dpdaction=restart" "$(pluto_log_text)"
	check "... within the timeout (+2 s, took ${SECONDS} s)" test "$SECONDS" -le 6
	check_contains "pluto initiates again by itself" "DPD: restarting the connection" "$(pluto_log_text)"
	check "the peer starts again (same configuration)" peer start R
	SECONDS=0
	both_up "after the peer's restart, no command given"
	wait_for 20 peer established R
	check "... within 20 s (took ${SECONDS} s)" test "$SECONDS" -le 20
	;;
peer-restart)
	peer_dpd_on
	IO_PLUTO_CONN='' io_start L || done_testing
	io_skip_unless_engine L
	io_start R || done_testing
	check "pluto initiates" io_initiate L
	both_up "before pluto dies"
	hard_kill L
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
io_finish
