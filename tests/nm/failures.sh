#!/bin/bash
# Issue 12, point 3: failures reach NetworkManager with the right reason and
# a readable message, and leave nothing behind in pluto.
#
#   failures.sh login        wrong PSK, then wrong XAUTH password, against a
#                            pluto gateway: the plugin's Failure is
#                            LOGIN_FAILED, NM's VPN state FAILED/LOGIN_FAILED
#   failures.sh login-strongswan   the same against a strongSwan gateway
#                            (which goes silent after a wrong PSK's MI3)
#   failures.sh gateway-delete   the gateway deletes the tunnel while it is
#                            up: NM marks the VPN down, pluto forgets it
#   failures.sh connect      a silent gateway (its IKE packets dropped): the
#                            plugin's Failure is CONNECT_FAILED within pluto's
#                            retransmission schedule (14 s with keyingtries=1)
#   failures.sh killed       pluto SIGKILLed while the VPN is up: NM marks the
#                            VPN down (the plugin leaves the bus: NM 1.42
#                            says DISCONNECTED, reason SERVICE_STOPPED);
#                            pluto restarted, the VPN comes up again
#   failures.sh activation   pluto not running, a bus activation file for it:
#                            the VPN comes up with the pluto the bus started,
#                            or fails saying pluto is not running
#
# What NetworkManager 1.42 shows (src/core/vpn/nm-vpn-connection.c): a
# plugin Failure(LOGIN_FAILED) becomes the reason LOGIN_FAILED, a
# Failure(BAD_IP_CONFIG) IP_CONFIG_INVALID, and anything else -- also
# Failure(CONNECT_FAILED) -- the reason UNKNOWN (NM logs "failure:
# connect-failed"); a plugin that leaves the bus while the VPN is up gives
# SERVICE_STOPPED. The reasons observed are printed as "# observed:" lines.
# shellcheck source=tests/nm/lib.sh
. "$SRCDIR/tests/nm/lib.sh"
CASE_NAME=${1:?usage: failures.sh login|login-strongswan|connect|gateway-delete|killed|activation}

# up_fails WHAT NAME: nmcli connection up NAME fails; prints the seconds it took
up_fails() {
	local what=$1 name=$2
	SECONDS=0
	if nm_up "$name"; then fail "$what: nmcli connection up fails"
	else ok "$what: nmcli connection up fails ($SECONDS s)"; fi
	echo "# observed: nmcli says: $(tr '\n' ' ' <"$T/up.out")"
	check "$what: NM shows the VPN not active" wait_for 10 nm_is_inactive "$name"
}
# reasons_since WHAT MARK WANT_FAILURE WANT_NM_REASON: the plugin's Failure
# and NM's FAILED reason of the activation after monitor line MARK
reasons_since() {
	local what=$1 mark=$2 want_f=$3 want_r=$4 f r
	wait_for 5 nm_vpn_failed_since "$mark"
	f=$(nm_plugin_failures_since "$mark" | tr '\n' ' ')
	r=$(nm_vpn_transitions_since "$mark" | grep '^FAILED/' | tail -1 | cut -d/ -f2)
	echo "# observed: $what: plugin Failure: ${f:-none}; NM: FAILED/${r:-none}"
	check_eq "$what: the plugin's Failure" "$want_f" "${f% }"
	check_eq "$what: NM's reason" "$want_r" "$r"
}

nm_require
case $CASE_NAME in
login | login-strongswan)
	gw=pluto
	[ "$CASE_NAME" = login-strongswan ] && gw=strongswan
	nm_start || done_testing
	nm_monitor_start
	check "$gw remote-access gateway on R" nm_gateway "$gw" || done_testing
	# wrong PSK: the gateway cannot decrypt MI3 and says AUTHENTICATION_FAILED
	check "add a profile with a wrong PSK" nm_add_vpn wrongpsk "$(nm_ra_data)" \
		"pskvalue=not the PSK, xauthpassword=$IO_RA_PASSWORD"
	mark=$(nm_monitor_mark)
	up_fails "wrong PSK" wrongpsk
	reasons_since "wrong PSK" "$mark" LOGIN_FAILED LOGIN_FAILED
	# pluto says AUTHENTICATION_FAILED; strongSwan cannot decrypt MI3 and
	# goes silent, which the plugin reads as the PSK refused
	check "wrong PSK: the plugin's message in NM's log says why" \
		grep -qiE 'nm-pluto-service.*(AUTHENTICATION_FAILED|authentication|PSK)' "$NMD/nm.log"
	nm_check_pluto_forgot "wrong PSK" "$R_IP"
	# wrong XAUTH password: the gateway refuses it (three tries, then fail)
	check "add a profile with a wrong XAUTH password" nm_add_vpn wrongpw "$(nm_ra_data)" \
		"pskvalue=$PSK, xauthpassword=not the password"
	mark=$(nm_monitor_mark)
	logmark=$(nm_log_mark)
	up_fails "wrong XAUTH password" wrongpw
	reasons_since "wrong XAUTH password" "$mark" LOGIN_FAILED LOGIN_FAILED
	check "wrong XAUTH password: the plugin's message in NM's log says why" \
		sh -c 'tail -n +"$1" "$2" | grep -qiE "nm-pluto-service.*XAUTH"' sh "$logmark" "$NMD/nm.log"
	check "wrong XAUTH password: the gateway's log names the user" \
		grep -qiE "$IO_RA_USER.*fail|fail.*$IO_RA_USER" "$(peer log R)"
	nm_check_pluto_forgot "wrong XAUTH password" "$R_IP"
	nm_check_secrets_absent "failures" "not the PSK" "not the password" "$PSK" "$IO_RA_PASSWORD"
	;;
connect)
	command -v nft >/dev/null || skip_all "no nft (package nftables): no silent gateway"
	nm_start || done_testing
	nm_monitor_start
	# a silent gateway: 192.0.2.3 on R, every IKE packet to it dropped
	silent=192.0.2.3
	ip -n "$NS_R" addr add "$silent/24" dev "$(if_of R L)"
	ip netns exec "$NS_R" nft -f - <<-EOF
	table inet nmsilent {
		chain in {
			type filter hook input priority 0;
			ip daddr $silent udp dport { 500, 4500 } counter drop
		}
	}
	EOF
	check "the silent gateway answers ping" nm_exec ping -c1 -W2 "$silent"
	check "add a profile to the silent gateway" nm_add_vpn silent "$(nm_ra_data "$silent")" \
		"pskvalue=$PSK, xauthpassword=$IO_RA_PASSWORD"
	mark=$(nm_monitor_mark)
	up_fails "silent gateway" silent
	check "silent gateway: given up within pluto's schedule (14 s) and a margin" test "$SECONDS" -le 25
	check "silent gateway: pluto retransmitted" grep -q "retransmi" "$T/L-pluto.log"
	check "silent gateway: the IKE packets reached the gateway and were dropped" \
		sh -c "ip netns exec $NS_R nft list table inet nmsilent | grep -qE 'counter packets [1-9]'"
	reasons_since "silent gateway" "$mark" CONNECT_FAILED UNKNOWN
	check "silent gateway: NM logged the plugin's failure" grep -q "failure: connect-failed" "$NMD/nm.log"
	nm_check_pluto_forgot "silent gateway" "$silent" psk-only
	;;
gateway-delete)
	# the gateway ends the tunnel (its Deletes): NM must not keep showing
	# a VPN that is gone
	nm_start || done_testing
	nm_monitor_start
	check "pluto remote-access gateway on R" nm_gateway pluto || done_testing
	check "add the profile" nm_add_vpn vpn "$(nm_ra_data)" "pskvalue=$PSK, xauthpassword=$IO_RA_PASSWORD"
	check "the VPN comes up" nm_up vpn
	inst=$(pluto_ctl R list-names | grep '^lab+' | head -1)
	mark=$(nm_monitor_mark)
	check "the gateway deletes its connection instance $inst (Deletes sent)" pluto_ctl R delete "$inst"
	check "gateway's Delete: NM marks the VPN down" wait_for 15 nm_is_inactive vpn
	echo "# observed: gateway's Delete: plugin Failure: $(nm_plugin_failures_since "$mark" | xargs); NM: $(nm_vpn_transitions_since "$mark" | xargs)"
	check "gateway's Delete: pluto's connection is gone" wait_for 10 nm_no_pluto_conn
	check "gateway's Delete: the plugin exits" wait_for 15 nm_no_plugin
	check_contains "gateway's Delete: pluto received it" "received Delete" "$(cat "$T/L-pluto.log")"
	nm_check_pluto_forgot "gateway's Delete" "$R_IP"
	;;
killed)
	nm_start || done_testing
	nm_monitor_start
	check "pluto remote-access gateway on R" nm_gateway pluto || done_testing
	check "add the profile" nm_add_vpn vpn "$(nm_ra_data)" "pskvalue=$PSK, xauthpassword=$IO_RA_PASSWORD"
	check "the VPN comes up" nm_up vpn
	check "NM shows it activated" nm_is_active vpn
	mark=$(nm_monitor_mark)
	kill -KILL "$(cat "$T/L/pluto.pid")"
	wait "$(cat "$T/L/pluto.pid")" 2>/dev/null
	rm -f "$T/L/pluto.pid"
	check "pluto killed: NM marks the VPN down" wait_for 15 nm_is_inactive vpn
	check "pluto killed: the plugin exits" wait_for 15 nm_no_plugin
	# the plugin leaves the bus; NM 1.42 then sets the VPN DISCONNECTED
	# with the reason SERVICE_STOPPED
	r=$(nm_vpn_transitions_since "$mark" | tail -1)
	echo "# observed: pluto killed: NM: $(nm_vpn_transitions_since "$mark" | tr '\n' ' ')"
	check_eq "pluto killed: NM's VPN state and reason" DISCONNECTED/SERVICE_STOPPED "$r"
	check "pluto killed: the plugin logged why" grep -q "nm-pluto-service.*pluto left the bus" "$NMD/nm.log"
	check "pluto killed: NM saw the plugin's name go" \
		grep -qE "name owner for $NM_SERVICE_NAME.Connection_[0-9]+ disappeared" "$NMD/nm.log"
	# pluto comes back (as systemd would restart it): the VPN works again
	nm_start_pluto
	check "pluto restarted: the VPN comes up again" nm_up vpn
	check "pluto restarted: NM shows it activated" nm_is_active vpn
	check "pluto restarted: the VPN goes down" nm_down vpn
	nm_check_pluto_forgot "after the restart" "$R_IP"
	;;
activation)
	nm_start --no-pluto || done_testing
	nm_monitor_start
	check "pluto remote-access gateway on R" nm_gateway pluto || done_testing
	# the bus starts pluto (this build's, with the test's files) on the
	# first call to org.freeswan.pluto1; its output goes to L-pluto.log
	nm_pluto_files
	cat >"$NMD/services/org.freeswan.pluto1.service" <<-EOF
	[D-BUS Service]
	Name=org.freeswan.pluto1
	Exec=/bin/sh -c 'exec $(nm_pluto_cmd) >>$T/L-pluto.log 2>&1'
	User=root
	EOF
	nm_busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig >/dev/null
	check_fails "pluto is not running" nm_bus_has org.freeswan.pluto1
	check "add the profile" nm_add_vpn vpn "$(nm_ra_data)" "pskvalue=$PSK, xauthpassword=$IO_RA_PASSWORD"
	if nm_up vpn; then
		ok "pluto not running: the VPN comes up"
		check "pluto was started by bus activation" nm_bus_has org.freeswan.pluto1
		check "pluto's log shows its start" grep -q "D-Bus: serving org.freeswan.pluto1" "$T/L-pluto.log"
		check "NM shows the VPN activated" nm_is_active vpn
		check "the VPN goes down" nm_down vpn
		nm_check_pluto_forgot "after down" "$R_IP"
	else
		echo "# observed: nmcli says: $(tr '\n' ' ' <"$T/up.out")"
		fail "pluto not running: the VPN comes up (bus activation)"
		check "pluto not running: the plugin says so clearly" \
			grep -qiE "nm-pluto-service.*pluto.*(not running|not on the bus|no such name|activat)" "$NMD/nm.log"
	fi
	;;
*) echo "unknown case $CASE_NAME" >&2; exit 2 ;;
esac
nm_check_clean "$CASE_NAME"
pluto_stop L
io_finish
