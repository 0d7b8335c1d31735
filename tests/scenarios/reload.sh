#!/bin/bash
# Start-up from the configuration file and Reload (pluto(8) START-UP AND
# RELOAD, API.md section 5): pluto against another pluto or strongSwan
# (tests/lib/scenario.sh), the peer kind first.
#
#   reload.sh pluto        pluto <-> pluto (namespaces a and b,
#                          198.51.100.1/.2, kernel backend none), both
#                          started with --config and nothing else
#   reload.sh strongswan   pluto (side L, --config, auto=start) against
#   reload.sh libreswan    strongSwan or libreswan (side R), case psk-aes
#
# pluto <-> pluto:
#  1. start-up: a's auto=start conns come up with no command; one summary
#     line; each connection's Source is FILE:LINE of its conn section;
#     config setup interfaces= limits the sockets (and, gone from the file,
#     is logged as needing a restart), listen=no stays deaf, plutodebug
#     applies; a broken file: exit 1 with every error as FILE:LINE.
#  2. ipsecctl reload with one conn unchanged (moved two lines), one
#     changed, one removed, one added: the unchanged one keeps its ISAKMP
#     and IPsec serials on both sides and b's log has no Delete for it; the
#     removed one sends Deletes and its eroute goes; the added one and the
#     replacement come up by their auto=start.
#  3. Varlink Reload (socat) of the same file: nothing to do.
#  4. an API connection: ipsecctl replace with the same options keeps its
#     SAs; it survives every reload.
#  5. SIGHUP reloads; 6. D-Bus Reload (busctl) and the Source property;
#     D-Bus ReplaceConnection with changed options replaces (Deletes sent).
#  7. a broken file: InvalidConfig "FILE:LINE: ..." through ipsecctl and
#     D-Bus, and nothing changes (same serials, same connections).
#  8. races: a reload while an unchanged conn is negotiating loses nothing;
#     a reload that changes a conn mid-negotiation replaces it cleanly (no
#     leftover state; pluto exits 0 under the sanitizers).
#
# Against strongSwan and libreswan: pluto comes up from its file alone and
# establishes with auto=start; a reload with that conn unchanged leaves the
# peer's SAs up (same ids and SPIs, no delete in its log); the
# counter-check: changed, it is replaced, the peer logs the Deletes and the
# replacement comes up.
# shellcheck source=tests/lib/scenario.sh
. "$SRCDIR/tests/lib/scenario.sh"
usage() { echo "usage: reload.sh pluto | strongswan | libreswan" >&2; exit 2; }
PEER=${1:-}

# launch SIDE [OPTION...]: pluto with its file $T/SIDE/ipsec.conf and
# nothing else: no Listen, no connection is added by us
launch() {
	local s=$1 d=$T/$1
	shift
	rm -rf "$d/run"
	mkdir -p "$d/run"
	ip netns exec "$(ns_of "$s")" "$PLUTO" --nofork --stderrlog --rundir "$d/run" \
		--ctlbase "$(pluto_sock "$s")" --secretsfile "$d/ipsec.secrets" --kernel none \
		--config "$d/ipsec.conf" "$@" >>"$T/$s-pluto.log" 2>&1 </dev/null &
	echo $! >"$d/pluto.pid"
	wait_for 10 test -S "$(pluto_sock "$s")"
}
log_of() { cat "$(pluto_log "$1")"; }
# serials SIDE CONN: "newest-ISAKMP newest-IPsec" serials of CONN
serials() {
	pluto_ctl "$1" status --json | jq -r --arg c "$2" \
		'.connections[] | select(.name == $c) | "\(.newestIsakmpState) \(.newestIpsecState)"'
}
conn_names() { pluto_ctl "$1" status --json | jq -r '[.connections[].name] | sort | join(" ")'; }
source_of() { pluto_ctl "$1" status --json | jq -r --arg c "$2" '.connections[] | select(.name == $c) | .source'; }
# states_of SIDE CONN: how many states CONN has
states_of() { pluto_ctl "$1" status --json | jq --arg c "$2" '[.states[] | select(.connection == $c)] | length'; }
# deletes_for SIDE CONN: Delete payloads SIDE received for CONN's SAs
deletes_for() { grep -c "\"$2\" #[0-9]*: received Delete" "$(pluto_log "$1")"; }
# in_flight SIDE CONN: at SIDE's last reload summary line, CONN's last
# negotiation had started (STATE_MAIN_I1) and not yet ended (STATE_QUICK_I2)
in_flight() {
	awk -v c="\"$2\" #" '
		index($0, c) == 1 && /STATE_MAIN_I1: initiate/ { started = 1; done = 0 }
		index($0, c) == 1 && /STATE_QUICK_I2:/ { done = 1 }
		/^reload: / { ok = started && !done }
		END { exit !ok }' "$(pluto_log "$1")"
}
all_up() { local s=$1 c; shift; for c in "$@"; do pluto_established "$s" "$c" || return 1; done; }

# ============================ pluto <-> pluto ============================
# conn_text NAME N AUTO [KEY=VALUE...]: a conn section between a and b
# protecting 10.1.N.0/24 <-> 10.2.N.0/24. keep has its own pair of
# addresses: a responder picks the conn of a Main Mode by the addresses,
# so on b an ISAKMP SA of another conn between .1 and .2 may be shown as
# keep's; with its own pair every SA b shows for keep is keep's.
conn_text() {
	local name=$1 n=$2 auto=$3 kv l=198.51.100.1 r=198.51.100.2
	shift 3
	[ "$name" = keep ] && l=198.51.100.11 r=198.51.100.12
	printf 'conn %s\n\tleft=%s\n\tright=%s\n' "$name" "$l" "$r"
	printf '\tleftsubnet=10.1.%s.0/24\n\trightsubnet=10.2.%s.0/24\n\tauthby=secret\n\tauto=%s\n' "$n" "$n" "$auto"
	for kv; do printf '\t%s\n' "$kv"; done
	echo
}
api_opts() { echo "left=198.51.100.1 right=198.51.100.2 leftsubnet=10.1.4.0/24 rightsubnet=10.2.4.0/24 authby=secret $*"; }
varlink_a() { printf '%s\0' "$1" | socat -t 5 - "UNIX-CONNECT:$(pluto_sock a)" | tr -d '\0'; }
bus() { busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" "$@"; }
MGR=(org.freeswan.pluto1 /org/freeswan/pluto1 org.freeswan.pluto1.Manager)

reload_pluto_pluto() {
	io_require_netns jq socat busctl dbus-daemon
	io_side a pluto
	io_side b pluto
	io_link a 198.51.100.1/24 b 198.51.100.2/24 || skip_all "cannot create network namespaces"
	ip -n "$(ns_of a)" addr add 198.51.100.11/24 dev "$(if_of a b)" || skip_all "cannot add an address"
	ip -n "$(ns_of b)" addr add 198.51.100.12/24 dev "$(if_of b a)" || skip_all "cannot add an address"
	for s in a b; do
		printf '%s\n' '198.51.100.1 198.51.100.2 : PSK "reload test secret"' \
			'198.51.100.11 198.51.100.12 : PSK "reload test secret for keep"' >"$T/$s/ipsec.secrets"
		chmod 600 "$T/$s/ipsec.secrets"
	done
	start_bus || skip_all "cannot start a private dbus-daemon"
	local conf=$T/a/ipsec.conf
	{ conn_text keep 0 add; conn_text change 1 add; conn_text gone 2 add; conn_text new 3 add
	  conn_text api 4 add; } >"$T/b/ipsec.conf"
	{ printf 'config setup\n\tinterfaces=%s\n\n' "$(if_of a b)"
	  conn_text keep 0 start; conn_text change 1 start; conn_text gone 2 start; } >"$conf"
	# a broken file: every error logged as FILE:LINE, exit 1, never up
	mkdir -p "$T/broken/run"
	printf 'conn x\n\tleft=198.51.100.2\n\tright=198.51.100.9\n\tpfs=perhaps\nconn y\n\tleft=198.51.100.2\n\tbogus=1\n' >"$T/broken/ipsec.conf"
	out=$(ip netns exec "$(ns_of b)" timeout 20 "$PLUTO" --nofork --stderrlog --nodbus --kernel none \
		--rundir "$T/broken/run" --ctlbase "$T/broken/run/sock" --config "$T/broken/ipsec.conf" 2>&1)
	check_eq "start-up with a broken file: exit 1" 1 "$?"
	check_contains "... the first error as FILE:LINE" "$T/broken/ipsec.conf:4: " "$out"
	check_contains "... and the second" "$T/broken/ipsec.conf:7: " "$out"
	check_fails "... the control socket never appeared" test -e "$T/broken/run/sock"
	# config setup listen=no: loaded and routed, deaf until Listen
	mkdir -p "$T/deaf/run"
	printf 'config setup\n\tlisten=no\n\tplutodebug=control\nconn x\n\tleft=198.51.100.2\n\tright=198.51.100.9\n\tauto=start\n' \
		>"$T/deaf/ipsec.conf"
	ip netns exec "$(ns_of b)" "$PLUTO" --nofork --stderrlog --nodbus --kernel none --rundir "$T/deaf/run" \
		--ctlbase "$T/deaf/run/sock" --secretsfile "$T/b/ipsec.secrets" --config "$T/deaf/ipsec.conf" \
		>"$T/deaf.log" 2>&1 </dev/null &
	local deaf=$!
	wait_for 10 test -S "$T/deaf/run/sock"
	check_contains "listen=no: loaded, routed, not started, deaf" \
		"loaded $T/deaf/ipsec.conf: 1 connection (1 routed, 0 started); 2 secrets; not listening (config setup listen=no)" \
		"$(cat "$T/deaf.log")"
	check_eq "... Status says not listening, debug control from config setup" "false control" \
		"$("$IPSECCTL" --socket "$T/deaf/run/sock" status --json | jq -r '"\(.listening) \(.debugClasses | join(","))"')"
	kill "$deaf"
	wait "$deaf"
	check_eq "... and exits 0 on SIGTERM" 0 "$?"
	launch b --nodbus
	check "a starts with --config alone" launch a --debug-control

	# --- 1. start-up ---
	check "auto=start: keep, change and gone are up without any command" wait_for 20 all_up a keep change gone
	check_contains "one summary line" \
		"loaded $conf: 3 connections (3 routed, 3 started); 2 secrets; listening on $(if_of a b)/" "$(log_of a)"
	check_not_contains "config setup interfaces: only that interface" "lo/127.0.0.1:500" \
		"$(grep "^loaded $conf" "$(pluto_log a)")"
	check_contains "b loaded all five and listens" "loaded $T/b/ipsec.conf: 5 connections (0 routed, 0 started)" "$(log_of b)"
	check "the secrets were read before the first auto=start" \
		awk '/loaded 2 secrets from/ { s = NR } /STATE_MAIN_I1: initiate/ && !i { i = NR } END { exit !(s && i && s < i) }' "$(pluto_log a)"
	check_not_contains "no auto=start failure" "auto=start:" "$(log_of a)"
	check_eq "Source is FILE:LINE of the conn section" "$conf:12" "$(source_of a change)"

	# --- 2. reload: keep unchanged (moved), change changed, gone removed, new added ---
	local keep_a keep_b change_a out
	keep_a=$(serials a keep) keep_b=$(serials b keep) change_a=$(serials a change)
	{ echo "# two lines"; echo "# above keep now"; conn_text keep 0 start
	  conn_text change 1 start keyingtries=5; conn_text new 3 start; } >"$conf"
	# a monitor sees keep's Source change (and only that of keep)
	pluto_ctl a monitor --json >"$T/monitor.out" 2>&1 &
	local monitor=$!
	wait_for 5 grep -q '"property":"Monitor"' "$T/monitor.out"
	out=$(pluto_ctl a reload)
	check "Monitor: keep's Source changed" wait_for 5 grep -q '"connectionName":"keep".*"fields":\["source"\]' "$T/monitor.out"
	kill "$monitor" 2>/dev/null
	wait "$monitor" 2>/dev/null
	check_eq "ipsecctl reload prints added, changed, removed" $'added: new\nchanged: change\nremoved: gone' "$out"
	check_contains "one summary line" "reload: 1 added, 1 changed, 1 removed, 1 unchanged" "$(log_of a)"
	check_contains "config setup interfaces gone: applies at the next restart" \
		"config setup interfaces changed: it takes effect when pluto is restarted" "$(log_of a)"
	check_eq "keep kept its ISAKMP and IPsec serials on a" "$keep_a" "$(serials a keep)"
	check "gone: b received its Deletes" wait_for 5 test "$(deletes_for b gone)" -ge 1
	check "change: b received the old SAs' Deletes" wait_for 5 test "$(deletes_for b change)" -ge 1
	check_eq "keep: no Delete reached b" 0 "$(deletes_for b keep)"
	check_eq "keep kept its serials on b" "$keep_b" "$(serials b keep)"
	check_eq "keep's Source follows its conn" "$conf:3" "$(source_of a keep)"
	check_eq "gone is gone" "change keep new" "$(conn_names a)"
	check_not_contains "gone's eroute is removed" "10.1.2.0/24" "$(pluto_whack a --status | grep '^kernel')"
	check "new comes up by its auto=start" wait_for 20 pluto_established a new
	check "the replaced change comes up by its auto=start" wait_for 20 pluto_established a change
	check "... with new SAs" test "$(serials a change)" != "$change_a"

	# --- 3. Varlink, the same file: nothing to do ---
	out=$(varlink_a '{"method":"org.freeswan.pluto.Reload"}')
	check_eq "Varlink Reload: nothing added, changed or removed" '{"added":[],"changed":[],"removed":[]}' \
		"$(jq -c .parameters <<<"$out")"
	check_eq "keep still has the same serials" "$keep_a" "$(serials a keep)"

	# --- 4. an API connection; ipsecctl replace with the same options ---
	# shellcheck disable=SC2046 # a list of words
	pluto_ctl a add api $(api_opts) >/dev/null
	check "api comes up" timeout 30 "$IPSECCTL" --socket "$(pluto_sock a)" up api
	local api_s
	api_s=$(serials a api)
	# shellcheck disable=SC2046
	check "ipsecctl replace, the same options (spelled out): ok" pluto_ctl a replace api $(api_opts pfs=no)
	check_eq "... SAs kept" "$api_s" "$(serials a api)"
	check_contains "... and said so" '"api": replace: options unchanged' "$(log_of a)"
	check_eq "api's Source is api" "api" "$(source_of a api)"

	# --- 5. SIGHUP ---
	conn_text hup 6 add >>"$conf"
	kill -HUP "$(cat "$T/a/pluto.pid")"
	check "SIGHUP reloads" wait_for 5 grep -q "reload: 1 added, 0 changed, 0 removed, 3 unchanged" "$(pluto_log a)"
	check_eq "the API connection survives" "api change hup keep new" "$(conn_names a)"

	# --- 6. D-Bus: Reload, Source, ReplaceConnection changed ---
	{ echo "# two lines"; echo "# above keep now"; conn_text keep 0 start
	  conn_text change 1 start keyingtries=5; conn_text new 3 start; } >"$conf"
	check_eq "D-Bus Reload returns (added, changed, removed)" 'asasas 0 0 1 "hup"' "$(bus call "${MGR[@]}" Reload)"
	check_eq "D-Bus Source property" "s \"$conf:3\"" \
		"$(bus get-property org.freeswan.pluto1 /org/freeswan/pluto1/connection/keep org.freeswan.pluto1.Connection Source)"
	check_eq "api survived the reloads with its SAs" "$api_s" "$(serials a api)"
	out=$(bus call "${MGR[@]}" ReplaceConnection 'sa{ss}' api 6 left 198.51.100.1 right 198.51.100.2 \
		leftsubnet 10.1.4.0/24 rightsubnet 10.2.4.0/24 authby secret keyingtries 7)
	check_eq "D-Bus ReplaceConnection, changed options: the object" 'o "/org/freeswan/pluto1/connection/api"' "$out"
	check "... the old SAs are deleted (b received Deletes)" wait_for 5 test "$(deletes_for b api)" -ge 1
	check_eq "... and the replacement has none (auto=add)" 0 "$(states_of a api)"
	check_eq "... keyingtries is the new one" 7 "$(pluto_ctl a status --json | jq -r '.connections[] | select(.name == "api") | .options.keyingtries')"

	# --- 7. a broken file changes nothing ---
	local good
	good=$(cat "$conf")
	{ echo "$good"; printf 'conn broken\n\tleft=198.51.100.1\n\tright=198.51.100.2\n\tpfs=perhaps\n'; } >"$conf"
	local bad_line
	bad_line=$(grep -n 'pfs=perhaps' "$conf" | cut -d: -f1)
	keep_a=$(serials a keep)
	local before
	before=$(conn_names a)
	out=$(pluto_ctl a reload 2>&1)
	check_eq "ipsecctl reload of a broken file exits 1" 1 "$(status_of pluto_ctl a reload)"
	check_contains "InvalidConfig names FILE:LINE" "InvalidConfig: $conf:$bad_line: " "$out"
	out=$(bus call "${MGR[@]}" Reload 2>&1)
	check_contains "D-Bus Reload of a broken file: InvalidConfig" "$conf:$bad_line: " "$out"
	check_eq "nothing changed: the same connections" "$before" "$(conn_names a)"
	check_eq "nothing changed: keep's serials" "$keep_a" "$(serials a keep)"
	check "nothing changed: new still up" pluto_established a new
	echo "$good" >"$conf"

	# --- 8. races ---
	# b is stopped (SIGSTOP) while a initiates, so the negotiation is
	# surely in flight when the reload comes; SIGCONT lets it go on
	local b_pid
	b_pid=$(cat "$T/b/pluto.pid")
	# a reload while keep (unchanged) negotiates: the negotiation completes
	pluto_ctl a down keep >/dev/null
	wait_for 5 test "$(states_of a keep)" -eq 0
	kill -STOP "$b_pid"
	pluto_whack a --name keep --initiate --asynchronous >/dev/null
	out=$(pluto_ctl a reload)
	kill -CONT "$b_pid"
	check_eq "reload during keep's negotiation: nothing to do" $'added: none\nchanged: none\nremoved: none' "$out"
	check "... and keep was negotiating at the time (log order)" in_flight a keep
	check "keep's negotiation completes" wait_for 20 pluto_established a keep
	check_eq "... with exactly its two SAs" 2 "$(states_of a keep)"
	# a reload that changes change in mid-negotiation replaces it cleanly
	pluto_ctl a down change >/dev/null
	wait_for 5 test "$(states_of a change)" -eq 0
	{ echo "# two lines"; echo "# above keep now"; conn_text keep 0 start
	  conn_text change 1 start keyingtries=9; conn_text new 3 start; } >"$conf"
	kill -STOP "$b_pid"
	pluto_whack a --name change --initiate --asynchronous >/dev/null
	out=$(pluto_ctl a reload)
	kill -CONT "$b_pid"
	check_eq "reload during change's negotiation replaces it" $'added: none\nchanged: change\nremoved: none' "$out"
	check "... and change was negotiating at the time (log order)" in_flight a change
	check "the replacement comes up by its auto=start" wait_for 20 pluto_established a change
	sleep 1
	check_eq "... with exactly its two SAs (nothing left of the old one)" 2 "$(states_of a change)"
	check "a is still alive" io_alive a
	io_stop a b
}

# ====================== pluto <-> strongSwan / libreswan ======================
# What each peer shows of its SAs (ids and SPIs: the same text before and
# after a reload that must not touch them) and the line its log has when a
# Delete arrives.
peer_sa_ids() {
	case $PEER in
	strongswan) swanctl_on R --list-sas | grep -oE '(#[0-9]+|(in|out) +[0-9a-f]{8})' | tr -s ' ' ;;
	libreswan) libreswan_whack R --showstates | grep -oE '#[0-9]+: "lab"|(esp|ah)\.[0-9a-f]+@' | sort ;;
	esac
}
peer_log() { if [ "$PEER" = strongswan ]; then strongswan_log R; else libreswan_log R; fi; }
peer_delete_line() { if [ "$PEER" = strongswan ]; then echo "received DELETE"; else echo "received Delete SA"; fi; }

reload_peer() {
	io_require
	io_case psk-aes
	io_side L pluto
	io_side R "$PEER"
	check "namespaces and veth up" io_netns_up || done_testing
	io_start R || done_testing
	pluto_conf L
	{
		echo "conn lab"
		pluto_options | sed 's/^/\t/'
		printf '\tauto=start\n'
	} >"$T/L/ipsec.conf"
	check "pluto starts with --config alone" launch L --nodbus --debug-all
	io_check_established L "auto=start, no command"
	io_check_established R "auto=start, no command"
	local before out
	before=$(peer_sa_ids)
	check "$PEER shows its SAs" test -n "$before"
	out=$(pluto_ctl L reload)
	check_eq "reload, the file unchanged: nothing to do" $'added: none\nchanged: none\nremoved: none' "$out"
	sleep 1
	check_eq "$PEER's SAs are the same (ids and SPIs)" "$before" "$(peer_sa_ids)"
	check_not_contains "$PEER received no delete" "$(peer_delete_line)" "$(cat "$(peer_log)")"
	io_check_established R "after the reload"
	# the counter-check: changed, the conn is replaced and the peer hears it
	printf '\trekeyfuzz=50%%\n' >>"$T/L/ipsec.conf"
	out=$(pluto_ctl L reload)
	check_eq "reload, the conn changed: replaced" $'added: none\nchanged: lab\nremoved: none' "$out"
	check "$PEER received the Deletes of the old SAs" wait_for 5 grep -q "$(peer_delete_line)" "$(peer_log)"
	io_check_established L "the replacement, by its auto=start"
	io_stop_all
}

case $PEER in
pluto) reload_pluto_pluto ;;
strongswan|libreswan) reload_peer ;;
*) usage ;;
esac
done_testing
