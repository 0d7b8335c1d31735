#!/bin/bash
# Road warriors: pluto against other plutos or a real peer
# (tests/lib/scenario.sh), the peer kind first.
#
#   roadwarrior.sh pluto        plutos only (namespaces a, b, c)
#   roadwarrior.sh PEER ROLE    pluto (side L) against PEER (side R:
#                               strongswan | libreswan), case psk-aes
#
# Road warriors as the man page describes them, pluto <-> pluto: the
# responder b (198.51.100.2, on a private D-Bus) has %any templates and one
# PSK for every road warrior ("198.51.100.2 %any : PSK"); the road
# warriors are pluto a (198.51.100.1 .4 .5, on the veth of the pair) and
# pluto c (203.0.113.3, a third namespace behind b: a second host, since
# one host cannot route two connections to the same peer client through
# two of its addresses). Checked: a temporary instance "name+N" per road warrior, shown
# on D-Bus (InterfacesAdded, InstanceOf naming the template) and Varlink
# (instanceOf); ID switching to a connection with the peer's rightid after
# the ID payload; Quick Mode subnet switching; rejection at MI3 with
# INVALID_ID_INFORMATION; the instance vanishing with its last SA
# (InterfacesRemoved), also after its template was deleted; --uniqueids replacing the SAs of the same identity
# from another address (and their absence without it); INITIAL-CONTACT
# after a road warrior restarts without Deletes (kill -9).
#
# Against a real peer, ROLE is
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
# shellcheck source=tests/lib/scenario.sh
. "$SRCDIR/tests/lib/scenario.sh"
usage() { echo "usage: roadwarrior.sh pluto | roadwarrior.sh strongswan|libreswan resp|init" >&2; exit 2; }
PEER=${1:-}

# ============================ pluto <-> pluto ============================
DEST=org.freeswan.pluto1
CONN_IF=org.freeswan.pluto1.Connection
PREFIX=/org/freeswan/pluto1/connection

# a: the road warriors (no bus); b: the responder (on the bus)
start_a() { DBUS_SYSTEM_BUS_ADDRESS='' pluto_launch a --nodbus --kernel none --debug-control; }
start_c() { DBUS_SYSTEM_BUS_ADDRESS='' pluto_launch c --nodbus --kernel none --debug-control; }
start_b() {
	pluto_launch b --kernel none "$@" || return 1
	wait_for 10 busctl --address="$BUS" status "$DEST" >/dev/null
}
up() { status_of timeout 60 "$WHACK" --ctlbase "$(pluto_sock "${2:-a}")" --name "$1" --initiate; }

# states SIDE: "CONNECTION:NAME" of every established state, sorted
states() {
	pluto_ctl "$1" status --json | jq -r '[.states[] | select(.established) | "\(.connection):\(.name)"] | sort | join(" ")'
}
# instances TEMPLATE: the names of b's instances of TEMPLATE (Varlink), sorted
instances() {
	pluto_ctl b status --json | jq -r --arg t "$1" '[.connections[] | select(.instanceOf == $t) | .name] | sort | join(" ")'
}
# path_of NAME: the D-Bus object path of connection NAME (sd_bus_path_encode)
path_of() {
	local enc; enc=$(/usr/bin/python3 -c '
import sys
n = sys.argv[1]
print("".join(c if c.isalnum() else "_%02x" % ord(c) for c in n) if n else "_")' "$1"); echo "$PREFIX/$enc"; }
instance_of_prop() { busctl --address="$BUS" get-property "$DEST" "$(path_of "$1")" "$CONN_IF" InstanceOf; }
monitor_has() { wait_for 5 grep -qF -- "$1" "$T/monitor.log"; }
b_log_has() { wait_for 5 grep -qF -- "$1" "$(pluto_log b)"; }

SECRET='"one secret for every road warrior"'

# b's connections: written from the road warrior's side (left), b orients
add_b_conns() {
	pluto_ctl b add rw left=%any right=198.51.100.2 authby=secret >/dev/null &&
	pluto_ctl b add rw1 left=%any leftid=@rw1 right=198.51.100.2 rightsubnet=10.2.1.0/24 authby=secret >/dev/null &&
	pluto_ctl b add rw1net2 left=%any leftid=@rw1 right=198.51.100.2 rightsubnet=10.2.2.0/24 authby=secret >/dev/null
}


roadwarrior_pluto_pluto() {
	io_require_netns jq
	command -v gdbus >/dev/null || skip_all "no gdbus"
	io_side a pluto
	io_side b pluto
	io_side c pluto
	io_link a 198.51.100.1/24 b 198.51.100.2/24 || skip_all "cannot create network namespaces"
	for x in 4 5; do ip -n "$(ns_of a)" addr add "198.51.100.$x/24" dev "$(if_of a b)"; done
	# the third host: c, 203.0.113.3, reaching b's 198.51.100.2 over a
	# second veth (b answers ARP for any of its addresses)
	io_link b 203.0.113.2/24 c 203.0.113.3/24 || fail "c linked to b"
	ip -n "$(ns_of c)" route add 198.51.100.0/24 via 203.0.113.2
	wait_for 5 ip netns exec "$(ns_of c)" ping -c1 -W1 198.51.100.2 >/dev/null || fail "c reaches b"
	start_bus || fail "private bus started"
	BUS=$DBUS_SYSTEM_BUS_ADDRESS
	echo ": PSK $SECRET" >"$T/a/ipsec.secrets"
	echo ": PSK $SECRET" >"$T/c/ipsec.secrets"
	echo "198.51.100.2 %any : PSK $SECRET" >"$T/b/ipsec.secrets"

	# ================= part 1: instances, switching, rejection =================
	start_a || fail "pluto a started"
	start_c || fail "pluto c started"
	start_b || fail "pluto b started on the bus"
	gdbus monitor --system --dest "$DEST" >"$T/monitor.log" 2>&1 &
	_pids+=($!)
	wait_for 10 grep -q "is owned by" "$T/monitor.log" || fail "gdbus monitor started"
	check "b: templates added" add_b_conns
	pluto_ctl a add w1 left=198.51.100.1 right=198.51.100.2 authby=secret >/dev/null
	pluto_ctl c add w3 left=203.0.113.3 right=198.51.100.2 authby=secret >/dev/null

	# --- two road warriors from two addresses: one instance each ---
	check_eq "rw .1: whack --initiate exits 0" 0 "$(up w1)"
	check_eq "rw 203.0.113.3: whack --initiate exits 0" 0 "$(up w3 c)"
	wait_for 5 test "$(instances rw | wc -w)" -eq 2
	inst=$(instances rw)
	read -r i1 i3 <<<"$inst"
	check "two instances of rw, named rw+N" test "$(instances rw | grep -cE '^rw\+[0-9]+ rw\+[0-9]+$')" -eq 1
	check_contains "b logs the instantiation for .1" "instantiated from template \"rw\" for peer 198.51.100.1" "$(cat "$(pluto_log b)")"
	check_contains "b logs the instantiation for 203.0.113.3" "instantiated from template \"rw\" for peer 203.0.113.3" "$(cat "$(pluto_log b)")"
	check_eq "each instance has its ISAKMP and IPsec SA" \
		"$i1:STATE_MAIN_R3 $i1:STATE_QUICK_R2 $i3:STATE_MAIN_R3 $i3:STATE_QUICK_R2" "$(states b)"
	check_eq "the template itself has no state" "" "$(pluto_ctl b status --json | jq -r '.states[] | select(.connection == "rw") | .serial')"
	check "D-Bus: InterfacesAdded for $i1" monitor_has "InterfacesAdded (objectpath '$(path_of "$i1")'"
	check "D-Bus: InterfacesAdded for $i3" monitor_has "InterfacesAdded (objectpath '$(path_of "$i3")'"
	check "D-Bus: InterfacesAdded carries InstanceOf" monitor_has "'InstanceOf': <objectpath '$PREFIX/rw'>"
	check_eq "D-Bus: $i1 InstanceOf is the template" "o \"$PREFIX/rw\"" "$(instance_of_prop "$i1")"
	check_eq "D-Bus: the template's InstanceOf is /" 'o "/"' "$(instance_of_prop rw)"
	check_eq "Varlink: the template has no instanceOf" "null" \
		"$(pluto_ctl b status --json | jq -c '.connections[] | select(.name == "rw") | .instanceOf')"
	check_eq "D-Bus: the instance's peer address is in its Options" "203.0.113.3" \
		"$(busctl --address="$BUS" --json=short get-property "$DEST" "$(path_of "$i3")" "$CONN_IF" Options | jq -r '.data.left')"

	# --- the instance vanishes with its last SA ---
	pluto_whack a --name w1 --terminate >/dev/null
	wait_for 5 test -z "$(instances rw | grep -F "$i1")"
	check_eq "after terminate only the other instance remains" "$i3" "$(instances rw)"
	check "D-Bus: InterfacesRemoved for $i1" monitor_has "InterfacesRemoved (objectpath '$(path_of "$i1")'"
	check_contains "b logs why the instance went" "deleting instance: its last state is gone" "$(cat "$(pluto_log b)")"

	# --- ID switching: @rw1 from .4 starts on an instance of rw, ends on rw1 ---
	pluto_ctl a add w4 left=198.51.100.4 leftid=@rw1 right=198.51.100.2 rightsubnet=10.2.1.0/24 authby=secret >/dev/null
	check_eq "rw @rw1: whack --initiate exits 0" 0 "$(up w4)"
	wait_for 5 test -n "$(instances rw1)"
	r1=$(instances rw1)
	check "an instance of rw1 serves @rw1" test -n "$r1"
	check_contains "b logs the switch to the rw1 instance" "to \"$r1\" for peer id @rw1" "$(cat "$(pluto_log b)")"
	wait_for 5 sh -c "[ \"\$(\"$IPSECCTL\" --socket \"$(pluto_sock b)\" status --json | jq -r '[.states[] | select(.established and .connection == \"$r1\")] | length')\" = 2 ]"
	check_eq "@rw1's ISAKMP and IPsec SA are on $r1" "$r1:STATE_MAIN_R3 $r1:STATE_QUICK_R2" \
		"$(states b | tr ' ' '\n' | grep -F "$r1:" | tr '\n' ' ' | sed 's/ $//')"
	check_eq "D-Bus: $r1 InstanceOf is rw1" "o \"$PREFIX/rw1\"" "$(instance_of_prop "$r1")"
	check_eq "the rw instance made for .4 before the ID payload is gone" "$i3" "$(instances rw)"
	check_contains "b: the peer id of the state is @rw1" '"peerId":"@rw1"' "$(pluto_ctl b status --json | jq -c '.states[]')"

	# --- Quick Mode subnet switching: the second Quick Mode wants 10.2.2.0/24 ---
	pluto_ctl a add w4b left=198.51.100.4 leftid=@rw1 right=198.51.100.2 rightsubnet=10.2.2.0/24 authby=secret >/dev/null
	check_eq "rw @rw1, second subnet: whack --initiate exits 0" 0 "$(up w4b)"
	wait_for 5 test -n "$(instances rw1net2)"
	n2=$(instances rw1net2)
	check "an instance of rw1net2 serves the second subnet" test -n "$n2"
	wait_for 5 sh -c "\"$IPSECCTL\" --socket \"$(pluto_sock b)\" status --json | jq -e '[.states[] | select(.established and .connection == \"$n2\" and .kind == \"ipsec\")] | length == 1'"
	check_eq "the IPsec SA for 10.2.2.0/24 is on $n2" "$n2:STATE_QUICK_R2" \
		"$(states b | tr ' ' '\n' | grep -F "$n2:" | tr '\n' ' ' | sed 's/ $//')"
	check_contains "b logs the Quick Mode switch" "Quick Mode uses connection \"$n2\" for 10.2.2.0/24===198.51.100.4/32" "$(cat "$(pluto_log b)")"
	check_eq "D-Bus: $n2 InstanceOf is rw1net2" "o \"$PREFIX/rw1net2\"" "$(instance_of_prop "$n2")"
	check_contains "w4b: a has an ISAKMP SA with b, so no INITIAL_CONTACT" "no INITIAL_CONTACT" \
		"$(grep -F '"w4b"' "$(pluto_log a)")"
	check_eq "b received INITIAL_CONTACT from @rw1 once (w4's first contact)" 1 \
		"$(grep -c 'received INITIAL_CONTACT in MI3 from peer id @rw1' "$(pluto_log b)")"

	# --- deleting a template: its instance stays, unlinked, until its last SA goes ---
	check "delete the template rw1net2" pluto_ctl b delete rw1net2
	check_eq "D-Bus: $n2 InstanceOf is / once its template is gone" 'o "/"' "$(instance_of_prop "$n2")"
	check_eq "$n2 still holds its IPsec SA" "$n2:STATE_QUICK_R2" \
		"$(states b | tr ' ' '\n' | grep -F "$n2:" | tr '\n' ' ' | sed 's/ $//')"
	pluto_ctl b down "$n2" >/dev/null   # only its own state goes: nothing else triggers a collection
	wait_for 5 sh -c "! \"$IPSECCTL\" --socket \"$(pluto_sock b)\" status --json | jq -e '.connections[] | select(.name == \"$n2\")' >/dev/null"
	check_eq "the unlinked instance goes with its last SA" "" \
		"$(pluto_ctl b status --json | jq -r --arg n "$n2" '.connections[] | select(.name == $n) | .name')"
	check "D-Bus: InterfacesRemoved for $n2" monitor_has "InterfacesRemoved (objectpath '$(path_of "$n2")'"

	# --- rejection at MI3: an identity no connection accepts ---
	pluto_ctl a add w5 left=198.51.100.5 leftid=@nobody right=198.51.100.2 authby=secret >/dev/null
	rc=$(up w5)
	check_eq "unknown id: whack exits 218 (INVALID_ID_INFORMATION)" 218 "$rc"
	check_contains "unknown id: whack shows INVALID_ID_INFORMATION" "INVALID_ID_INFORMATION" "$(cat "$T/last.out")"
	check_contains "b logs the rejection" "no connection is known for peer id @nobody" "$(cat "$(pluto_log b)")"
	wait_for 5 test "$(instances rw)" == "$i3"
	check_eq "the instance made for the rejected peer is gone" "$i3" "$(instances rw)"
	check_eq "a has no state for the rejected connection" "" \
		"$(pluto_ctl a status --json | jq -r '.states[] | select(.connection == "w5") | .serial')"

	# --- without --uniqueids: @rw1 from a second host keeps the first's SAs ---
	n_r1() { pluto_ctl b status --json | jq "[.states[] | select(.established and .connection == \"$r1\")] | length"; }
	before=$(n_r1)
	pluto_ctl c add w6 left=203.0.113.3 leftid=@rw1 right=198.51.100.2 rightsubnet=10.2.1.0/24 authby=secret >/dev/null
	check_eq "@rw1 from 203.0.113.3: whack --initiate exits 0" 0 "$(up w6 c)"
	sleep 1
	check "no uniqueids: $r1 had its SAs ($before)" test "$before" -ge 2
	check_eq "no uniqueids: @rw1's SAs from .4 stay" "$before" "$(n_r1)"
	check_eq "no uniqueids: rw1 has two instances" 2 "$(instances rw1 | wc -w)"
	check_not_contains "no uniqueids: nothing replaced" "uniqueids: replacing" "$(cat "$(pluto_log b)")"

	# ================= part 2: --uniqueids =================
	io_stop a b c
	start_a || fail "pluto a restarted"
	start_c || fail "pluto c restarted"
	start_b --uniqueids || fail "pluto b started with --uniqueids"
	mark_b=$(wc -l <"$(pluto_log b)")
	add_b_conns
	pluto_ctl a add w4 left=198.51.100.4 leftid=@rw1 right=198.51.100.2 rightsubnet=10.2.1.0/24 authby=secret >/dev/null
	pluto_ctl a add w1 left=198.51.100.1 right=198.51.100.2 authby=secret >/dev/null
	pluto_ctl c add w6 left=203.0.113.3 leftid=@rw1 right=198.51.100.2 rightsubnet=10.2.1.0/24 authby=secret >/dev/null
	check_eq "uniqueids: @rw1 from .4 established" 0 "$(up w4)"
	check_eq "uniqueids: .1 (another identity) established" 0 "$(up w1)"
	old=$(instances rw1)
	check_eq "uniqueids: @rw1 from 203.0.113.3 established" 0 "$(up w6 c)"
	wait_for 5 test "$(instances rw1 | wc -w)" -eq 1 -a "$(instances rw1)" != "$old"
	new=$(instances rw1)
	check "uniqueids: the old instance $old is replaced by $new" test -n "$new" -a "$new" != "$old"
	check_eq "uniqueids: b keeps the new @rw1 SAs and the other identity's" \
		"$(instances rw):STATE_MAIN_R3 $(instances rw):STATE_QUICK_R2 $new:STATE_MAIN_R3 $new:STATE_QUICK_R2" "$(states b)"
	check_eq "uniqueids: one line per replaced state" 2 "$(tail -n +"$((mark_b + 1))" "$(pluto_log b)" | grep -c 'uniqueids: replacing older')"
	check_contains "uniqueids: the replaced ISAKMP SA is logged" "uniqueids: replacing older ISAKMP SA" "$(cat "$(pluto_log b)")"
	wait_for 5 test -z "$(pluto_ctl a status --json | jq -r '.states[] | select(.connection == "w4") | .serial')"
	check_eq "uniqueids: the old SAs were deleted with Deletes (a dropped w4's)" \
		"w1:STATE_MAIN_I4 w1:STATE_QUICK_I2" "$(states a)"
	check_eq "uniqueids: the new road warrior keeps its SAs" "w6:STATE_MAIN_I4 w6:STATE_QUICK_I2" "$(states c)"

	# ================= part 3: INITIAL-CONTACT, without --uniqueids =================
	io_stop a b c
	start_a || fail "pluto a restarted"
	start_b || fail "pluto b restarted without --uniqueids"
	add_b_conns
	# log_since SIDE: the lines of SIDE's log written in this part
	mark_a=$(wc -l <"$(pluto_log a)") mark_b=$(wc -l <"$(pluto_log b)")
	log_since() { local m=$mark_a; [ "$1" = b ] && m=$mark_b; tail -n +"$((m + 1))" "$(pluto_log "$1")"; }
	pluto_ctl a add w4 left=198.51.100.4 leftid=@rw1 right=198.51.100.2 rightsubnet=10.2.1.0/24 authby=secret >/dev/null
	check_eq "IC: @rw1 from .4 established" 0 "$(up w4)"
	check_contains "IC: a sent INITIAL_CONTACT on its first contact" "sending INITIAL_CONTACT in MI3" "$(log_since a)"
	check "IC: b honoured the first INITIAL_CONTACT" b_log_has "received INITIAL_CONTACT in MI3 from peer id @rw1 at 198.51.100.4"
	first=$(pluto_ctl b status --json | jq -r '[.states[] | select(.established) | .serial] | sort | join(" ")')
	# the road warrior dies without a word and comes back
	io_kill_hard a
	check_eq "IC: b still has the dead road warrior's SAs" 2 "$(states b | wc -w)"
	start_a || fail "pluto a restarted after kill -9"
	pluto_ctl a add w4 left=198.51.100.4 leftid=@rw1 right=198.51.100.2 rightsubnet=10.2.1.0/24 authby=secret >/dev/null
	check_eq "IC: @rw1 from .4 established again" 0 "$(up w4)"
	check_eq "IC: a sent INITIAL_CONTACT again" 2 "$(log_since a | grep -c 'sending INITIAL_CONTACT in MI3')"
	check_eq "IC: b honoured it twice" 2 "$(log_since b | grep -c 'received INITIAL_CONTACT in MI3 from peer id @rw1')"
	check_eq "IC: one line per stale state" 2 "$(log_since b | grep -c 'INITIAL_CONTACT: deleting older')"
	wait_for 5 test "$(states b | wc -w)" -eq 2
	now=$(pluto_ctl b status --json | jq -r '[.states[] | select(.established) | .serial] | sort | join(" ")')
	check_eq "IC: b has only the new ISAKMP and IPsec SA" 2 "$(wc -w <<<"$now")"
	for s in $first; do
		check_not_contains "IC: stale state #$s is gone" " $s " " $now "
	done
	check_not_contains "IC: stale states deleted without uniqueids" "uniqueids: replacing" "$(log_since b)"

	io_stop a
	check_eq "a exits cleanly" 0 "$IO_STOPPED_STATUS"
	io_stop b
	check_eq "b exits cleanly" 0 "$IO_STOPPED_STATUS"
	check_not_contains "no sanitizer report (a)" "Sanitizer" "$(cat "$(pluto_log a)")"
	check_not_contains "no sanitizer report (b)" "Sanitizer" "$(cat "$(pluto_log b)")"
}

# ========================= pluto <-> a real peer =========================
# pluto's status: "CONNECTION:KIND" of the established states, sorted
pluto_sas() {
	pluto_ctl L status --json | jq -r '[.states[] | select(.established) | "\(.connection):\(.kind)"] | sort | join(" ")'
}
pluto_log_text() { cat "$(pluto_log L)"; }

roadwarrior_pluto_peer() {
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
			io_kill_hard R
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
}

case $PEER in
pluto)
	roadwarrior_pluto_pluto
	done_testing ;;
strongswan | libreswan)
	ROLE=${2:-}
	[[ $ROLE == init || $ROLE == resp ]] || usage
	io_require
	io_case psk-aes
	io_side L pluto
	io_side R "$PEER"
	check "namespaces and veth up" io_netns_up || done_testing
	roadwarrior_pluto_peer
	io_finish ;;
*) usage ;;
esac
