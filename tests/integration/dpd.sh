#!/bin/bash
# Dead Peer Detection (RFC 3706) between two plutos in two network
# namespaces (kernel backend none). a initiates with dpddelay=1
# dpdtimeout=4; b only answers (dpddelay=0).
#   1. R-U-THERE / R-U-THERE-ACK are exchanged and the SAs stay up.
#   2. b is SIGKILLed: a declares it dead within the timeout and applies
#      dpdaction: clear (no states, unrouted), hold (no states, the TRAP
#      eroute: prospective), restart (initiates again at once).
#   3. restart: b comes back with the same configuration and the tunnel is
#      established again without any command to a.
#   4. the reverse: b (the responder) watches a with dpdaction=restart; a is
#      SIGKILLed and started again; b re-initiates by itself.
# Bad option values are refused with InvalidOption naming them.
. "$SRCDIR/tests/lib/common.sh"
: "${WHACK:?run through meson test}" "${IPSECCTL:?run through meson test}"

NS=pd$$
. "$SRCDIR/tests/lib/netns-pair.sh"

HOSTS="left=198.51.100.1 right=198.51.100.2"
PSK='198.51.100.1 198.51.100.2 : PSK "dpd test secret"'
for s in a b; do mkdir -p "$T/$s"; echo "$PSK" >"$T/$s/ipsec.secrets"; done

ctl() { local side=$1; shift; "$IPSECCTL" --socket "$T/$side/sock" "$@"; }
wh() { local side=$1; shift; "$WHACK" --ctlbase "$T/$side/sock" "$@"; }
# start SIDE: a fresh pluto; its log starts empty (the earlier one is kept
# in SIDE-old.txt for the sanitizer check)
start() {
	[ -f "$T/$1.log" ] && cat "$T/$1.log" >>"$T/$1-old.txt" && : >"$T/$1.log"
	rm -f "$T/$1/sock"
	pair_start "$1" --nodbus --kernel none --debug-all
}
# hard stop: no Deletes, no cleanup -- a crashed or powered-off peer
kill_hard() {
	kill -KILL "${PID[$1]}" 2>/dev/null
	wait "${PID[$1]}" 2>/dev/null
	PID[$1]=
}
stop_all() { pair_stop a; pair_stop b; }

# states SIDE: "NAME:established" of every state, sorted
states() {
	ctl "$1" status --json | /usr/bin/python3 -c '
import json, sys
st = json.load(sys.stdin)
sts = st.get("states", st.get("parameters", {}).get("states", []))
print(" ".join(sorted("%s:%s" % (s["name"], str(s["established"]).lower()) for s in sts)))'
}
# states_are SIDE WANT: for wait_for (the states are read at every try)
states_are() { [ "$(states "$1")" == "$2" ]; }
# routing SIDE CONN: the connection's routing state from whack --status
routing() { wh "$1" --status | grep -F "\"$2\": " | head -1 | awk -F'; ' '{print $2}'; }
# count SIDE TEXT: lines of SIDE's log containing TEXT
count() { grep -cF -- "$2" "$T/$1.log"; }
up_a="STATE_MAIN_I4:true STATE_QUICK_I2:true"
up_b="STATE_MAIN_R3:true STATE_QUICK_R2:true"

# --- options: bad values and the timeout/delay check ---
start a
out=$(ctl a add bad $HOSTS dpddelay=soon 2>&1)
check_contains "dpddelay=soon refused naming keyword and value" "invalid value 'soon' for option 'dpddelay'" "$out"
out=$(ctl a add bad $HOSTS dpdaction=reboot 2>&1)
check_contains "dpdaction=reboot refused naming keyword and value" "invalid value 'reboot' for option 'dpdaction'" "$out"
out=$(ctl a add bad $HOSTS dpddelay=10 dpdtimeout=10 2>&1)
check_contains "dpdtimeout <= dpddelay refused naming both" "dpdtimeout (10s) must be longer than dpddelay (10s)" "$out"
check_contains "... as InvalidOption" "InvalidOption" "$out"
check_eq "nothing half-added" "" "$(wh a --status | grep -F '"bad"')"
ctl a add shown $HOSTS dpddelay=1m dpdtimeout=5m dpdaction=restart >/dev/null
out=$(ctl a status --json)
check_contains "normalised Options show dpddelay" '"dpddelay": "60s"' "$(ctl a status --json | jq '.connections[] | select(.name=="shown") | .options')"
check_contains "normalised Options show dpdtimeout" '"dpdtimeout": "300s"' "$(ctl a status --json | jq '.connections[] | select(.name=="shown") | .options')"
check_contains "normalised Options show dpdaction" '"dpdaction": "restart"' "$(ctl a status --json | jq '.connections[] | select(.name=="shown") | .options')"
pair_stop a

# setup ACTION: fresh daemons, a watches b with ACTION, established
setup() {
	local action=$1 extra=${2:-}
	stop_all
	start a
	start b
	ctl b add c $HOSTS authby=secret $extra >/dev/null
	ctl a add c $HOSTS authby=secret dpddelay=1 dpdtimeout=4 dpdaction="$action" $extra >/dev/null
	check_eq "$action: initiate exits 0" 0 "$(status_of timeout 30 "$WHACK" --ctlbase "$T/a/sock" --name c --initiate)"
	wait_for 5 states_are b "$up_b"
	check_eq "$action: both established" "$up_a|$up_b" "$(states a)|$(states b)"
}

# --- 1. R-U-THERE answered, the SAs stay up ---
setup clear
check_contains "a says DPD is active on its ISAKMP SA" "DPD: active, delay 1 s, timeout 4 s, action clear" "$(cat "$T/a.log")"
sleep 3.5
n_sent=$(count a "sending notification R_U_THERE")
n_sent=$((n_sent - $(count a "sending notification R_U_THERE_ACK")))
n_ack=$(count b "sending notification R_U_THERE_ACK")
check "a sent R-U-THERE while idle ($n_sent)" test "$n_sent" -ge 2
check "b answered with R-U-THERE-ACK ($n_ack)" test "$n_ack" -ge 2
check "a accepted the ACKs (debug log)" grep -q "DPD: #[0-9]*: received R-U-THERE-ACK seq" "$T/a.log"
check_not_contains "no unexpected ACK" "we are not waiting for" "$(cat "$T/a.log")"
check_not_contains "b does not ask (dpddelay=0)" "DPD: active" "$(cat "$T/b.log")"
check_not_contains "a did not declare b dead" "declared dead" "$(cat "$T/a.log")"
check_eq "SAs still established after idle time" "$up_a|$up_b" "$(states a)|$(states b)"
check_contains "whack --status shows DPD on a's ISAKMP SA" "DPD: active, delay 1 s, timeout 4 s, action clear" "$(wh a --status)"
check_not_contains "... and not on b's (it only answers)" "DPD: active" "$(wh b --status)"

# --- 2. clear: the peer dies -> no states, unrouted ---
kill_hard b
SECONDS=0
wait_for 10 grep -q "peer declared dead" "$T/a.log"
check_contains "clear: dead peer logged" "DPD: no response from peer for 4 s: peer declared dead" "$(cat "$T/a.log")"
check "clear: declared dead within the timeout (+ 2 s slack, took ${SECONDS}s)" test "$SECONDS" -le 6
check_eq "clear: no states left" "" "$(states a)"
check_eq "clear: connection unrouted" "unrouted" "$(routing a c)"

# clear on an auto=route connection: back to prospective
setup clear auto=route
kill_hard b
wait_for 10 grep -q "peer declared dead" "$T/a.log"
check_eq "clear with auto=route: no states left" "" "$(states a)"
check_eq "clear with auto=route: back to prospective" "prospective" "$(routing a c)"

# --- hold: no states, the TRAP eroute stays ---
setup hold
kill_hard b
wait_for 10 grep -q "peer declared dead" "$T/a.log"
check_contains "hold: dead peer logged" "peer declared dead; dpdaction=hold" "$(cat "$T/a.log")"
check_eq "hold: no states left" "" "$(states a)"
check_eq "hold: connection prospective (TRAP eroute)" "prospective" "$(routing a c)"
check_contains "hold: the kernel record keeps the TRAP policy" "policy out" "$(wh a --status | grep -i kernel)"

# --- 3. restart: re-initiates at once; b comes back, the tunnel too ---
setup restart
kill_hard b
wait_for 10 grep -q "peer declared dead" "$T/a.log"
check_contains "restart: dead peer logged" "peer declared dead; dpdaction=restart" "$(cat "$T/a.log")"
check_contains "restart: a initiates again by itself" "DPD: restarting the connection" "$(cat "$T/a.log")"
check_contains "restart: a new Main Mode is under way" "STATE_MAIN_I1" "$(states a)"
start b
ctl b add c $HOSTS authby=secret >/dev/null
wait_for 30 states_are b "$up_b"
check_eq "restart: b (restarted) established again without a command to a" "$up_b" "$(states b)"
wait_for 5 states_are a "$up_a"
check_eq "restart: a established again" "$up_a" "$(states a)"
# and DPD watches the new ISAKMP SA
check "restart: DPD active again on the new SA" test "$(count a "DPD: active")" -ge 2

# --- 4. the reverse: the responder watches with dpdaction=restart ---
stop_all
start a
start b
ctl a add c $HOSTS authby=secret >/dev/null
ctl b add c $HOSTS authby=secret dpddelay=1 dpdtimeout=4 dpdaction=restart >/dev/null
check_eq "reverse: initiate exits 0" 0 "$(status_of timeout 30 "$WHACK" --ctlbase "$T/a/sock" --name c --initiate)"
wait_for 5 states_are b "$up_b"
check_eq "reverse: both established" "$up_a|$up_b" "$(states a)|$(states b)"
kill_hard a
wait_for 10 grep -q "peer declared dead" "$T/b.log"
check_contains "reverse: b declares a dead" "peer declared dead; dpdaction=restart" "$(cat "$T/b.log")"
start a
ctl a add c $HOSTS authby=secret >/dev/null
wait_for 30 states_are b "$up_a"
check_eq "reverse: b re-initiated and is established as initiator" "$up_a" "$(states b)"
wait_for 5 states_are a "$up_b"
check_eq "reverse: a (restarted) established as responder" "$up_b" "$(states a)"

# --- 5. a road-warrior instance cannot initiate: every action is clear ---
stop_all
echo ': PSK "road warrior"' >"$T/a/ipsec.secrets"
echo ': PSK "road warrior"' >"$T/b/ipsec.secrets"
start a
start b
ctl a add rw $HOSTS authby=secret >/dev/null
ctl b add rw left=%any right=198.51.100.2 authby=secret dpddelay=1 dpdtimeout=4 dpdaction=restart >/dev/null
check_eq "instance: initiate exits 0" 0 "$(status_of timeout 30 "$WHACK" --ctlbase "$T/a/sock" --name rw --initiate)"
wait_for 5 states_are b "$up_b"
check_contains "instance: b watches its instance" "DPD: active" "$(wh b --status)"
kill_hard a
wait_for 10 grep -q "peer declared dead" "$T/b.log"
check_contains "instance: restart becomes clear" "dpdaction=restart (an instance: clear)" "$(cat "$T/b.log")"
wait_for 5 states_are b ""
check_eq "instance: no states left" "" "$(states b)"
wait_for 5 sh -c "! \"$IPSECCTL\" --socket \"$T/b/sock\" status | grep -q 'rw+'"
check_not_contains "instance: the instance is gone" "rw+" "$(ctl b status)"
check_not_contains "instance: no new Main Mode from b" "STATE_MAIN_I1" "$(cat "$T/b.log")"

stop_all
check_not_contains "no sanitizer report (a)" "Sanitizer" "$(cat "$T/a-old.txt" "$T/a.log")"
check_not_contains "no sanitizer report (b)" "Sanitizer" "$(cat "$T/b-old.txt" "$T/b.log")"
done_testing
