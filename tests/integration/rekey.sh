#!/bin/bash
# Lifetimes, rekeying and keyingtries between two plutos (namespaces a and
# b, kernel backend none), with lifetimes of seconds:
#  - RekeyAt follows the man page: ExpiresAt - rekeymargin (rekeyfuzz 0%)
#    for SAs we initiated, ExpiresAt - rekeymargin/2 for the peer's; with
#    rekeyfuzz 100% between ExpiresAt - 2*margin and ExpiresAt - margin;
#  - the initiator replaces its IPsec and ISAKMP SAs before they expire,
#    proposing only what the old SA uses; the old SAs live on until their
#    hard expiry and then go (Deletes sent); the tunnel is never down
#    (an established IPsec SA on both sides at every sample);
#  - rekey=no on the initiator: the responder replaces at half margin with
#    roles reversed; rekey=no on both: the SAs just expire;
#  - RESPONDER-LIFETIME: a responder with a shorter salifetime caps and
#    says so, the initiator adopts it; a shorter ikelifetime is capped;
#  - keyingtries against a silent peer: "starting keying attempt N of at
#    most M", whack released after the first attempt, attempts end at M;
#    keyingtries=0 goes on ("of an unlimited number").
. "$SRCDIR/tests/lib/common.sh"
: "${WHACK:?run through meson test}" "${IPSECCTL:?run through meson test}"

NS=rk$$
. "$SRCDIR/tests/lib/netns-pair.sh"

start() { pair_start "$1" --nodbus --kernel none; }
stop_all() { pair_stop a; pair_stop b; }
ctl() { local side=$1; shift; "$IPSECCTL" --socket "$T/$side/sock" "$@"; }
log_of() { cat "$T/$1.log"; }

cat >"$T/psk" <<'EOF'
198.51.100.1 198.51.100.2 : PSK "rekey test secret"
EOF
mkdir -p "$T/a" "$T/b"
cp "$T/psk" "$T/a/ipsec.secrets"
cp "$T/psk" "$T/b/ipsec.secrets"
HOSTS="left=198.51.100.1 right=198.51.100.2 leftsubnet=10.1.0.0/24 rightsubnet=10.2.0.0/24"

# sa SIDE FIELD...: one line per state: "serial kind name established initiator expiresAt rekeyAt"
sa() {
	ctl "$1" status --json | /usr/bin/python3 -c '
import json, sys
st = json.load(sys.stdin)
for s in sorted(st.get("states", []), key=lambda s: s["serial"]):
    print(s["serial"], s["kind"], s["name"], str(s["established"]).lower(), str(s["initiator"]).lower(),
          s["expiresAt"], s["rekeyAt"], s.get("algorithms", ""))'
}
# established IPsec SAs of SIDE
n_ipsec() { sa "$1" | awk '$2 == "ipsec" && $4 == "true"' | wc -l; }
n_isakmp() { sa "$1" | awk '$2 == "isakmp" && $4 == "true"' | wc -l; }

fresh() {   # fresh OPTS_A OPTS_B: both daemons, connection c added
	stop_all
	: >"$T/a.log"; : >"$T/b.log"
	start a; start b
	ctl a add c $HOSTS $1 >/dev/null
	ctl b add c $HOSTS $2 >/dev/null
}

# --- 1. RekeyAt follows the man page's formula ---
fresh "ikelifetime=200 salifetime=100 rekeymargin=20 rekeyfuzz=0%" \
      "ikelifetime=200 salifetime=100 rekeymargin=20 rekeyfuzz=0%"
check "initiate" timeout 30 "$WHACK" --ctlbase "$T/a/sock" --name c --initiate
wait_for 5 test "$(n_ipsec b)" -eq 1
margin_of() {   # margin_of SIDE KIND: seconds between rekeyAt and expiresAt
	sa "$1" | awk -v k="$2" '$2 == k && $4 == "true" { printf "%d\n", ($6 - $7) / 1000000 + 0.5; exit }'
}
check_eq "initiator IPsec SA: RekeyAt = ExpiresAt - rekeymargin" 20 "$(margin_of a ipsec)"
check_eq "initiator ISAKMP SA: RekeyAt = ExpiresAt - rekeymargin" 20 "$(margin_of a isakmp)"
check_eq "responder IPsec SA: RekeyAt = ExpiresAt - rekeymargin/2" 10 "$(margin_of b ipsec)"
check_eq "responder ISAKMP SA: RekeyAt = ExpiresAt - rekeymargin/2" 10 "$(margin_of b isakmp)"
life_left() { sa "$1" | awk -v k="$2" -v now="$(date +%s)" '$2 == k && $4 == "true" { printf "%d\n", $6 / 1000000 - now + 0.5; exit }'; }
l=$(life_left a ipsec)
check "IPsec SA lives salifetime (100 s, got $l)" test "$l" -ge 97 -a "$l" -le 101
st=$("$WHACK" --ctlbase "$T/a/sock" --status)
check_contains "status: the IPsec SA's replacement event" "EVENT_SA_REPLACE in 7" "$st"
check_contains "status: ... its expiry and that it is the newest" "EVENT_SA_EXPIRE in 9" "$st"
check_contains "status: ... newest IPSEC" "; newest IPSEC" "$st"

fresh "salifetime=100 rekeymargin=20 rekeyfuzz=100%" "salifetime=100 rekeymargin=20"
check "initiate (rekeyfuzz 100%)" timeout 30 "$WHACK" --ctlbase "$T/a/sock" --name c --initiate
m=$(margin_of a ipsec)
check "rekeyfuzz 100%: margin between 20 and 40 s (got $m)" test "$m" -ge 20 -a "$m" -le 40

# --- 2. RESPONDER-LIFETIME and a capped ikelifetime ---
fresh "ikelifetime=300 salifetime=200 rekeymargin=20" "ikelifetime=150 salifetime=60 rekeymargin=20"
check "initiate (responder has shorter lifetimes)" timeout 30 "$WHACK" --ctlbase "$T/a/sock" --name c --initiate
wait_for 5 test "$(n_ipsec b)" -eq 1
l=$(life_left b ipsec)
check "responder caps the IPsec SA at its salifetime (60 s, got $l)" test "$l" -ge 57 -a "$l" -le 61
l=$(life_left a ipsec)
check "initiator adopts RESPONDER-LIFETIME (60 s, got $l)" test "$l" -ge 57 -a "$l" -le 61
check_contains "responder says it sent RESPONDER-LIFETIME" "capped at 60s (RESPONDER-LIFETIME sent)" "$(log_of b)"
check_contains "initiator logs the accepted responder lifetime" "responder lifetime 60s accepted" "$(log_of a)"
l=$(life_left b isakmp)
check "responder caps the ISAKMP SA at its ikelifetime (150 s, got $l)" test "$l" -ge 147 -a "$l" -le 151

# --- 3. the initiator rekeys; the tunnel is never down ---
# salifetime 16 s, margin 6 s (fuzz 0): replaced at 10 s, old expires at 16 s.
# ikelifetime 24 s: the ISAKMP SA is replaced at 18 s.
fresh "ikelifetime=24 salifetime=16 rekeymargin=6 rekeyfuzz=0% esp=aes128-sha1,3des-md5" \
      "ikelifetime=60 salifetime=60 rekeymargin=6 esp=aes128-sha1,3des-md5"
check "initiate (short lifetimes)" timeout 30 "$WHACK" --ctlbase "$T/a/sock" --name c --initiate
first=$(sa a | awk '$2 == "ipsec" && $4 == "true" {print $1; exit}')
down=0 max_a=0
for _ in $(seq 1 56); do     # 28 s in 0.5 s samples
	na=$(n_ipsec a); nb=$(n_ipsec b)
	[ "$na" -ge 1 ] && [ "$nb" -ge 1 ] || down=$((down + 1))
	[ "$na" -gt "$max_a" ] && max_a=$na
	sleep 0.5
done
check_eq "an established IPsec SA on both sides at every sample" 0 "$down"
check "old and new IPsec SA coexisted on the initiator (max $max_a)" test "$max_a" -ge 2
log=$(log_of a)
check_contains "initiator: replacement of the IPsec SA started" "initiating rekey to replace IPsec SA #$first (we initiated it)" "$log"
check_contains "initiator: replacement of the ISAKMP SA started" "initiating rekey to replace ISAKMP SA" "$log"
# the ISAKMP SA's replacement is phase 1 only: every Quick Mode is the
# first one or an IPsec SA's replacement
r=$(grep -c "initiating rekey to replace IPsec SA" <<<"$log")
q=$(grep -c "STATE_QUICK_I1: initiate" <<<"$log")
check_eq "initiator: Quick Modes = 1 + IPsec replacements ($r)" $((r + 1)) "$q"
# both ends time the old SA out at the same moment: whichever is first
# deletes it and tells the other (a Delete)
if { grep -q "IPsec SA expired (hard lifetime)" "$T/a.log" && grep -q "received Delete SA(0x" "$T/b.log"; } ||
   { grep -q "IPsec SA expired (hard lifetime)" "$T/b.log" && grep -q "received Delete SA(0x" "$T/a.log"; }; then
	ok "the old IPsec SA expired on one side, the other received its Delete"
else
	fail "the old IPsec SA expired on one side, the other received its Delete"
fi
check_not_contains "IPsec SA #$first is gone" "$first ipsec" "$(sa a)"
# the replacement proposed only what the old SA used (aes128-sha1): a
# responder that prefers 3des-md5 would have picked it from a full list
now=$(sa a | awk '$2 == "ipsec" && $4 == "true"' | tail -1)
check_contains "replacement uses the old SA's algorithms" "ESP aes128-sha1" "$now"
check "initiator has 1-2 ISAKMP SAs, not a pile ($(n_isakmp a))" test "$(n_isakmp a)" -le 2 -a "$(n_isakmp a)" -ge 1

# --- 4. roles reversed: the initiator has rekey=no, the responder replaces ---
fresh "salifetime=16 rekeymargin=8 rekey=no" "salifetime=16 rekeymargin=8"
check "initiate (initiator rekey=no)" timeout 30 "$WHACK" --ctlbase "$T/a/sock" --name c --initiate
wait_for 5 test "$(n_ipsec b)" -eq 1
check_eq "rekey=no: RekeyAt is 0 on the initiator" 0 "$(sa a | awk '$2 == "ipsec" {print $7; exit}')"
# responder: replaced at 16 - 4 = 12 s
wait_for 20 grep -q "initiating rekey to replace IPsec SA .*roles reversed" "$T/b.log"
check_contains "responder replaces the peer's SA with roles reversed" "the peer initiated it: roles reversed" "$(log_of b)"
wait_for 8 test "$(sa b | awk '$2 == "ipsec" && $4 == "true" && $5 == "true"' | wc -l)" -ge 1
check "the replacement on b is b's own (Initiator true)" test "$(sa b | awk '$2 == "ipsec" && $4 == "true" && $5 == "true"' | wc -l)" -ge 1

# --- 5. rekey=no on both: the SA just expires ---
fresh "salifetime=6 rekeymargin=2 rekey=no" "salifetime=6 rekeymargin=2 rekey=no"
check "initiate (rekey=no both)" timeout 30 "$WHACK" --ctlbase "$T/a/sock" --name c --initiate
wait_for 12 test "$(n_ipsec a)" -eq 0
check_eq "rekey=no: IPsec SA gone after its lifetime, not replaced" 0 "$(n_ipsec a)"
check_not_contains "rekey=no: no rekey started" "initiating rekey" "$(log_of a)$(log_of b)"

# --- 6. keyingtries against a silent peer ---
stop_all
: >"$T/a.log"
start a
ctl a add c $HOSTS keyingtries=2 >/dev/null
rc=$(status_of timeout 60 "$WHACK" --ctlbase "$T/a/sock" --name c --initiate)
out=$(cat "$T/last.out")
check_eq "keyingtries=2: whack exits 31 after the first attempt" 31 "$rc"
check_contains "whack shows the retransmission limit" "031 \"c\" #1: max number of retransmissions (2) reached STATE_MAIN_I1" "$out"
check_contains "whack is released while attempt 2 starts" "starting keying attempt 2 of at most 2, but releasing whack" "$out"
wait_for 20 grep -q "deleting state\|max number of retransmissions (2) reached STATE_MAIN_I1" "$T/a.log"
sleep 16
check_eq "keyingtries=2: after the 2nd attempt nothing is left" "" "$(sa a)"
check_not_contains "keyingtries=2: no 3rd attempt" "starting keying attempt 3" "$(log_of a)"
check_eq "keyingtries=2: the limit is reported twice (once per attempt)" 2 \
	"$(grep -c 'max number of retransmissions (2) reached STATE_MAIN_I1' "$T/a.log")"

ctl a delete c >/dev/null
ctl a add c $HOSTS keyingtries=%forever >/dev/null
rc=$(status_of timeout 60 "$WHACK" --ctlbase "$T/a/sock" --name c --initiate)
check_contains "keyingtries=%forever: unlimited attempts" "starting keying attempt 2 of an unlimited number" "$(cat "$T/last.out")"
wait_for 40 grep -q "starting keying attempt 3 of an unlimited number" "$T/a.log"
check_contains "keyingtries=%forever: a 3rd attempt" "starting keying attempt 3 of an unlimited number" "$(log_of a)"
# and the peer coming up ends the attempts with an SA
start b
ctl b add c $HOSTS >/dev/null
wait_for 30 test "$(n_ipsec a)" -ge 1
check "keyingtries=%forever: the peer comes up and the tunnel with it" test "$(n_ipsec a)" -ge 1
ctl a delete c >/dev/null
check_eq "DeleteConnection ends the attempts" "" "$(sa a)"

done_testing
