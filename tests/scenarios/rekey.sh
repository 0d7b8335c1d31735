#!/bin/bash
# Lifetimes and rekeying with lifetimes of seconds: pluto against another
# pluto or a real peer (tests/lib/scenario.sh), the peer kind first.
#
#   rekey.sh pluto         pluto <-> pluto (namespaces a and b,
#                          198.51.100.1/.2, kernel backend none)
#   rekey.sh PEER MODE     pluto (side L) against PEER (side R:
#                          strongswan | libreswan), case psk-aes
#
# pluto <-> pluto:
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
#
# Against a real peer, MODE is
#     PEER  strongswan | libreswan (side R; pluto on L)
#     MODE  init  pluto initiates (salifetime 20 s, ikelifetime 30 s,
#                 rekeymargin 8 s, fuzz 0): pluto replaces its IPsec SA and
#                 its ISAKMP SA before they expire, the peer takes the
#                 replacements;
#           resp  the peer initiates with a short IPsec lifetime and
#                 rekeys it itself: pluto answers the replacement;
#           rr    the peer initiates with a short lifetime and does not
#                 rekey: pluto replaces the peer's SA at half its
#                 rekeymargin with roles reversed.
# In every mode pluto has an established IPsec SA at every 0.5 s sample
# (the tunnel is never down), the peer reports the SA established at the
# end, and the SPI pluto receives on in its newest IPsec SA is one the peer
# sends on (the peer uses the replacement).
# shellcheck source=tests/lib/scenario.sh
. "$SRCDIR/tests/lib/scenario.sh"
usage() { echo "usage: rekey.sh pluto | rekey.sh strongswan|libreswan init|resp|rr" >&2; exit 2; }
PEER=${1:-}

# established IPsec / ISAKMP SAs of pluto on SIDE
n_ipsec() { pluto_sa_table "$1" | awk '$2 == "ipsec" && $4 == "true"' | wc -l; }
n_isakmp() { pluto_sa_table "$1" | awk '$2 == "isakmp" && $4 == "true"' | wc -l; }
log_of() { cat "$(pluto_log "$1")"; }

# ============================ pluto <-> pluto ============================
start() { pluto_launch "$1" --nodbus --kernel none; }
stop_all() { io_stop a b; }
fresh() {   # fresh OPTS_A OPTS_B: both daemons, connection c added
	stop_all
	: >"$(pluto_log a)"; : >"$(pluto_log b)"
	start a; start b
	pluto_ctl a add c $HOSTS $1 >/dev/null
	pluto_ctl b add c $HOSTS $2 >/dev/null
}
rekey_pluto_pluto() {
	io_require_netns jq
	io_side a pluto
	io_side b pluto
	io_link a 198.51.100.1/24 b 198.51.100.2/24 || skip_all "cannot create network namespaces"
	for s in a b; do echo '198.51.100.1 198.51.100.2 : PSK "rekey test secret"' >"$T/$s/ipsec.secrets"; done
	HOSTS="left=198.51.100.1 right=198.51.100.2 leftsubnet=10.1.0.0/24 rightsubnet=10.2.0.0/24"

	# --- 1. RekeyAt follows the man page's formula ---
	fresh "ikelifetime=200 salifetime=100 rekeymargin=20 rekeyfuzz=0%" \
	      "ikelifetime=200 salifetime=100 rekeymargin=20 rekeyfuzz=0%"
	check "initiate" timeout 30 "$WHACK" --ctlbase "$(pluto_sock a)" --name c --initiate
	wait_for 5 test "$(n_ipsec b)" -eq 1
	margin_of() {   # margin_of SIDE KIND: seconds between rekeyAt and expiresAt
		pluto_sa_table "$1" | awk -v k="$2" '$2 == k && $4 == "true" { printf "%d\n", ($6 - $7) / 1000000 + 0.5; exit }'
	}
	check_eq "initiator IPsec SA: RekeyAt = ExpiresAt - rekeymargin" 20 "$(margin_of a ipsec)"
	check_eq "initiator ISAKMP SA: RekeyAt = ExpiresAt - rekeymargin" 20 "$(margin_of a isakmp)"
	check_eq "responder IPsec SA: RekeyAt = ExpiresAt - rekeymargin/2" 10 "$(margin_of b ipsec)"
	check_eq "responder ISAKMP SA: RekeyAt = ExpiresAt - rekeymargin/2" 10 "$(margin_of b isakmp)"
	life_left() { pluto_sa_table "$1" | awk -v k="$2" -v now="$(date +%s)" '$2 == k && $4 == "true" { printf "%d\n", $6 / 1000000 - now + 0.5; exit }'; }
	l=$(life_left a ipsec)
	check "IPsec SA lives salifetime (100 s, got $l)" test "$l" -ge 97 -a "$l" -le 101
	st=$(pluto_whack a --status)
	check_contains "status: the IPsec SA's replacement event" "EVENT_SA_REPLACE in 7" "$st"
	check_contains "status: ... its expiry and that it is the newest" "EVENT_SA_EXPIRE in 9" "$st"
	check_contains "status: ... newest IPSEC" "; newest IPSEC" "$st"

	fresh "salifetime=100 rekeymargin=20 rekeyfuzz=100%" "salifetime=100 rekeymargin=20"
	check "initiate (rekeyfuzz 100%)" timeout 30 "$WHACK" --ctlbase "$(pluto_sock a)" --name c --initiate
	m=$(margin_of a ipsec)
	check "rekeyfuzz 100%: margin between 20 and 40 s (got $m)" test "$m" -ge 20 -a "$m" -le 40

	# --- 2. RESPONDER-LIFETIME and a capped ikelifetime ---
	fresh "ikelifetime=300 salifetime=200 rekeymargin=20" "ikelifetime=150 salifetime=60 rekeymargin=20"
	check "initiate (responder has shorter lifetimes)" timeout 30 "$WHACK" --ctlbase "$(pluto_sock a)" --name c --initiate
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
	check "initiate (short lifetimes)" timeout 30 "$WHACK" --ctlbase "$(pluto_sock a)" --name c --initiate
	first=$(pluto_sa_table a | awk '$2 == "ipsec" && $4 == "true" {print $1; exit}')
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
	if { grep -q "IPsec SA expired (hard lifetime)" "$(pluto_log a)" && grep -q "received Delete SA(0x" "$(pluto_log b)"; } ||
	   { grep -q "IPsec SA expired (hard lifetime)" "$(pluto_log b)" && grep -q "received Delete SA(0x" "$(pluto_log a)"; }; then
		ok "the old IPsec SA expired on one side, the other received its Delete"
	else
		fail "the old IPsec SA expired on one side, the other received its Delete"
	fi
	check_not_contains "IPsec SA #$first is gone" "$first ipsec" "$(pluto_sa_table a)"
	# the replacement proposed only what the old SA used (aes128-sha1): a
	# responder that prefers 3des-md5 would have picked it from a full list
	now=$(pluto_sa_table a | awk '$2 == "ipsec" && $4 == "true"' | tail -1)
	check_contains "replacement uses the old SA's algorithms" "ESP aes128-sha1" "$now"
	check "initiator has 1-2 ISAKMP SAs, not a pile ($(n_isakmp a))" test "$(n_isakmp a)" -le 2 -a "$(n_isakmp a)" -ge 1

	# --- 4. roles reversed: the initiator has rekey=no, the responder replaces ---
	fresh "salifetime=16 rekeymargin=8 rekey=no" "salifetime=16 rekeymargin=8"
	check "initiate (initiator rekey=no)" timeout 30 "$WHACK" --ctlbase "$(pluto_sock a)" --name c --initiate
	wait_for 5 test "$(n_ipsec b)" -eq 1
	check_eq "rekey=no: RekeyAt is 0 on the initiator" 0 "$(pluto_sa_table a | awk '$2 == "ipsec" {print $7; exit}')"
	# responder: replaced at 16 - 4 = 12 s
	wait_for 20 grep -q "initiating rekey to replace IPsec SA .*roles reversed" "$(pluto_log b)"
	check_contains "responder replaces the peer's SA with roles reversed" "the peer initiated it: roles reversed" "$(log_of b)"
	wait_for 8 test "$(pluto_sa_table b | awk '$2 == "ipsec" && $4 == "true" && $5 == "true"' | wc -l)" -ge 1
	check "the replacement on b is b's own (Initiator true)" test "$(pluto_sa_table b | awk '$2 == "ipsec" && $4 == "true" && $5 == "true"' | wc -l)" -ge 1

	# --- 5. rekey=no on both: the SA just expires ---
	fresh "salifetime=6 rekeymargin=2 rekey=no" "salifetime=6 rekeymargin=2 rekey=no"
	check "initiate (rekey=no both)" timeout 30 "$WHACK" --ctlbase "$(pluto_sock a)" --name c --initiate
	wait_for 12 test "$(n_ipsec a)" -eq 0
	check_eq "rekey=no: IPsec SA gone after its lifetime, not replaced" 0 "$(n_ipsec a)"
	check_not_contains "rekey=no: no rekey started" "initiating rekey" "$(log_of a)$(log_of b)"

	# --- 6. keyingtries against a silent peer ---
	stop_all
	: >"$(pluto_log a)"
	start a
	pluto_ctl a add c $HOSTS keyingtries=2 >/dev/null
	rc=$(status_of timeout 60 "$WHACK" --ctlbase "$(pluto_sock a)" --name c --initiate)
	out=$(cat "$T/last.out")
	check_eq "keyingtries=2: whack exits 31 after the first attempt" 31 "$rc"
	check_contains "whack shows the retransmission limit" "031 \"c\" #1: max number of retransmissions (2) reached STATE_MAIN_I1" "$out"
	check_contains "whack is released while attempt 2 starts" "starting keying attempt 2 of at most 2, but releasing whack" "$out"
	wait_for 20 grep -q "deleting state\|max number of retransmissions (2) reached STATE_MAIN_I1" "$(pluto_log a)"
	sleep 16
	check_eq "keyingtries=2: after the 2nd attempt nothing is left" "" "$(pluto_sa_table a)"
	check_not_contains "keyingtries=2: no 3rd attempt" "starting keying attempt 3" "$(log_of a)"
	check_eq "keyingtries=2: the limit is reported twice (once per attempt)" 2 \
		"$(grep -c 'max number of retransmissions (2) reached STATE_MAIN_I1' "$(pluto_log a)")"

	pluto_ctl a delete c >/dev/null
	pluto_ctl a add c $HOSTS keyingtries=%forever >/dev/null
	rc=$(status_of timeout 60 "$WHACK" --ctlbase "$(pluto_sock a)" --name c --initiate)
	check_contains "keyingtries=%forever: unlimited attempts" "starting keying attempt 2 of an unlimited number" "$(cat "$T/last.out")"
	wait_for 40 grep -q "starting keying attempt 3 of an unlimited number" "$(pluto_log a)"
	check_contains "keyingtries=%forever: a 3rd attempt" "starting keying attempt 3 of an unlimited number" "$(log_of a)"
	# and the peer coming up ends the attempts with an SA
	start b
	pluto_ctl b add c $HOSTS >/dev/null
	wait_for 30 test "$(n_ipsec a)" -ge 1
	check "keyingtries=%forever: the peer comes up and the tunnel with it" test "$(n_ipsec a)" -ge 1
	pluto_ctl a delete c >/dev/null
	check_eq "DeleteConnection ends the attempts" "" "$(pluto_sa_table a)"

}

# ========================= pluto <-> a real peer =========================
# pluto's IPsec SAs: "serial established initiator inbound-spi"
ipsec_sas() { pluto_sa_table L | awk '$2 == "ipsec" { print $1, $4, $5, $8 }'; }

rekey_pluto_peer() {
	case $MODE in
	init)
		IO_PLUTO_CONN="ikelifetime=30 salifetime=20 rekeymargin=8 rekeyfuzz=0%"
		init=L window=44 ;;
	resp)
		IO_PLUTO_CONN="rekeymargin=8"
		IO_SS_CHILD_EXTRA="rekey_time = 12s
        life_time = 20s
        rand_time = 0s"
		IO_LS_EXTRA="salifetime=20s
    rekeymargin=8s
    rekeyfuzz=0%"
		# charon rekeys a CHILD_SA when the kernel says its soft lifetime
		# ran out; with kernel-netlink and the xfrm stub no kernel SA exists
		# to say so, so strongSwan runs its userspace libipsec here (which
		# floats to UDP 4500: NAT-T is part of this case)
		[ "$PEER" = strongswan ] && export IO_SS_BACKEND=libipsec
		init=R window=36 ;;
	rr)
		IO_PLUTO_CONN="rekeymargin=8"
		IO_SS_CHILD_EXTRA="rekey_time = 0s
        life_time = 20s
        rand_time = 0s"
		IO_LS_EXTRA="salifetime=20s
    rekey=no"
		init=R window=30 ;;
	*) echo "# MODE must be init, resp or rr" >&2; exit 2 ;;
	esac
	export IO_PLUTO_CONN IO_SS_CHILD_EXTRA IO_LS_EXTRA

	io_pluto_vs "$PEER"

	what="rekey $MODE against $PEER"
	io_check_initiate "$init" "$what"
	io_check_established L "$what"

	first=$(ipsec_sas | awk '$2 == "true" {print $1; exit}')
	down=0 seen_new=0
	# sample for `window` seconds of wall clock, not a count of samples:
	# on a loaded machine each sample costs more than its 0.5 s sleep, and
	# a counted loop ran past the moment the peer deletes an SA (rr: 20 s
	# after pluto's replacement), reading a state the test does not judge
	end=$((SECONDS + window))
	while [ "$SECONDS" -lt "$end" ]; do
		n=$(ipsec_sas | awk '$2 == "true"' | wc -l)
		[ "$n" -ge 1 ] || down=$((down + 1))
		ipsec_sas | awk -v f="$first" '$2 == "true" && $1 > f' | grep -q . && seen_new=1
		sleep 0.5
	done
	check_eq "$what: pluto has an established IPsec SA at every sample" 0 "$down"
	check_eq "$what: a replacement IPsec SA was established" 1 "$seen_new"
	log=$(cat "$(pluto_log L)")
	case $MODE in
	init)
		check_contains "$what: pluto replaced its IPsec SA" "initiating rekey to replace IPsec SA #$first (we initiated it)" "$log"
		check_contains "$what: pluto replaced its ISAKMP SA" "initiating rekey to replace ISAKMP SA" "$log"
		# it expires, or the peer deletes it once it has the replacement (libreswan)
		check_eq "$what: the superseded IPsec SA #$first is gone" "" "$(ipsec_sas | awk -v f="$first" '$1 == f')" ;;
	resp)
		check_not_contains "$what: pluto did not need to rekey itself" "initiating rekey to replace IPsec SA #$first" "$log" ;;
	rr)
		check_contains "$what: pluto replaced the peer's SA, roles reversed" \
			"initiating rekey to replace IPsec SA #$first (the peer initiated it: roles reversed)" "$log"
		newest=$(ipsec_sas | awk '$2 == "true"' | sort -n | tail -1)
		check_contains "$what: the replacement is pluto's own" " true true " "$newest" ;;
	esac
	io_check_established R "$what"
	spi=$(ipsec_sas | awk '$2 == "true"' | sort -n | tail -1 | awk '{print $4}')
	status=$(peer status R 2>&1)
	check_contains "$what: the peer sends on pluto's newest inbound SPI ($spi)" "$spi" "$status"
}

case $PEER in
pluto)
	rekey_pluto_pluto
	done_testing ;;
strongswan | libreswan)
	MODE=${2:-}
	[ -n "$MODE" ] || usage
	io_case psk-aes
	io_require
	rekey_pluto_peer
	io_finish ;;
*) usage ;;
esac
