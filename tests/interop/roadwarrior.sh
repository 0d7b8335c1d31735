#!/bin/bash
# Road warriors against real peers (pluto on side L, the peer on side R).
#
#   roadwarrior.sh PEER ROLE
#     PEER  strongswan | libreswan
#     ROLE  resp  the peer is the road warrior: pluto answers through a
#                 %any template ("192.0.2.1 %any : PSK"); the SAs land on an
#                 instance "rw+N" linked to it (Status instanceOf). With
#                 strongSwan, which sends INITIAL-CONTACT in MM5, pluto logs
#                 honouring it; then charon is killed with SIGKILL and
#                 started again, and its new INITIAL-CONTACT makes pluto drop
#                 the stale SAs (only the new ones remain).
#           init  pluto is the road warrior, the peer a %any responder
#                 (IO_REMOTE_ANY=1); pluto sends INITIAL-CONTACT in MI3, and
#                 strongSwan's log shows it parsed, libreswan's that it
#                 ignores it (28 bytes: SPI = both cookies).
. "$SRCDIR/tests/interop/lib.sh"
PEER=${1:?usage: roadwarrior.sh PEER ROLE} ROLE=${2:?usage: roadwarrior.sh PEER ROLE}
[[ $PEER == strongswan || $PEER == libreswan ]] || { echo "# PEER: strongswan or libreswan" >&2; exit 2; }
[[ $ROLE == init || $ROLE == resp ]] || { echo "# ROLE must be init or resp" >&2; exit 2; }
io_require
io_case psk-aes
io_side L pluto
io_side R "$PEER"
check "namespaces and veth up" io_netns_up || done_testing

# pluto's status: "CONNECTION:KIND" of the established states, sorted
pluto_sas() {
	pluto_ctl L status --json | jq -r '[.states[] | select(.established) | "\(.connection):\(.kind)"] | sort | join(" ")'
}
pluto_log_text() { cat "$(pluto_log L)"; }

if [ "$ROLE" = resp ]; then
	# pluto: a %any template and the one PSK for every road warrior
	pluto_conf L
	echo "$L_IP %any : PSK \"$PSK\"" >"$T/L/ipsec.secrets"
	pluto_launch L || { fail "start pluto on L"; done_testing; }
	io_skip_unless_engine L
	check "pluto: add the %any template" pluto_ctl L add rw left="$L_IP" right=%any leftsubnet="$L_NET" \
		rightsubnet="$R_NET" ike="${IKE_ENC}-${IKE_HASH}-${IKE_GROUP}" esp="$P2_ENC-$P2_INTEG" pfs=no \
		authby=secret
	io_start R || done_testing
	what="${IMPL[R]} road warrior to pluto's %any template"
	if io_initiate R; then ok "$what: the road warrior reports success"
	else fail "$what: the road warrior reports success"; sed 's/^/#   /' "$T/initiate.out" | tail -20; fi
	io_check_established R "$what"
	inst=$(pluto_ctl L status --json | jq -r '[.connections[] | select(.instanceOf == "rw") | .name] | join(" ")')
	check "pluto: one instance of rw ($inst)" test "$(wc -w <<<"$inst")" -eq 1
	check_contains "pluto: the instance is named rw+N" "rw+" "$inst"
	if wait_for 5 test "$(pluto_sas)" == "$inst:ipsec $inst:isakmp"; then ok "pluto: ISAKMP and IPsec SA on $inst"
	else fail "pluto: ISAKMP and IPsec SA on $inst"; echo "#   $(pluto_sas)"; fi
	check_contains "pluto: logs the instantiation" "instantiated from template \"rw\" for peer $R_IP" "$(pluto_log_text)"
	if [ "$PEER" = strongswan ]; then
		check_contains "pluto: honours strongSwan's INITIAL-CONTACT in MM5" \
			"received INITIAL_CONTACT in MI3 from peer id $R_IP at $R_IP" "$(pluto_log_text)"
		old=$(pluto_ctl L status --json | jq -r '[.states[] | .serial] | sort | join(" ")')
		# the road warrior dies without a Delete and comes back
		pid=$(cat "$T/R/charon.pid")
		io_pid_ours "$pid" && kill -KILL "$pid"
		wait_for 5 sh -c "! kill -0 $pid"
		rm -f "$T/R/charon.pid"
		check_eq "pluto: still holds the dead road warrior's SAs" "$inst:ipsec $inst:isakmp" "$(pluto_sas)"
		check "strongSwan restarted" strongswan_start R
		if io_initiate R; then ok "restarted strongSwan: the road warrior reports success"
		else fail "restarted strongSwan: the road warrior reports success"; sed 's/^/#   /' "$T/initiate.out" | tail -20; fi
		check_eq "pluto: INITIAL-CONTACT honoured twice" 2 \
			"$(pluto_log_text | grep -c "received INITIAL_CONTACT in MI3 from peer id $R_IP")"
		check_eq "pluto: both stale SAs deleted (one line each)" 2 \
			"$(pluto_log_text | grep -c 'INITIAL_CONTACT: deleting older')"
		wait_for 5 test "$(pluto_sas | wc -w)" -eq 2
		check "pluto: only one ISAKMP and one IPsec SA remain" test "$(pluto_sas | wc -w)" -eq 2
		new=$(pluto_ctl L status --json | jq -r '[.states[] | .serial] | sort | join(" ")')
		for s in $old; do check_not_contains "pluto: stale state #$s is gone" " $s " " $new "; done
		io_check_established R "$what, after the restart"
	fi
else
	IO_REMOTE_ANY=1 io_start R || done_testing
	io_start L || done_testing
	io_skip_unless_engine L
	what="pluto road warrior to ${IMPL[R]}'s %any responder"
	if io_initiate L; then ok "$what: pluto reports success"
	else fail "$what: pluto reports success"; sed 's/^/#   /' "$T/initiate.out" | tail -20; fi
	io_check_established L "$what"
	io_check_established R "$what"
	check_contains "pluto: sent INITIAL_CONTACT in MI3" "sending INITIAL_CONTACT in MI3" "$(pluto_log_text)"
	if [ "$PEER" = strongswan ]; then
		check "strongSwan parsed pluto's INITIAL-CONTACT in MM5" \
			grep -qE 'parsed ID_PROT request .*N\(INITIAL_CONTACT\)' "$(peer log R)"
	else
		# 28 bytes: the payload header, DOI, protocol/SPI size/type and
		# the 16-byte SPI (both cookies)
		check "libreswan received pluto's INITIAL-CONTACT (and ignores it, as it does in IKEv1)" \
			grep -qE 'ignoring informational payload IPSEC_INITIAL_CONTACT, msgid=00000000, length=28' "$(peer log R)"
	fi
fi
io_finish
