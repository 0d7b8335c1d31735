#!/bin/bash
# Issue 12, point 1: the plugin as a D-Bus service, and its lifetime.
#   - org.freedesktop.NetworkManager.VPN.Plugin with every method, signal
#     and the State property (introspection of a plugin started by hand
#     with --bus-name ...Connection_99, as NM starts it);
#   - the bus policy (data/nm, loaded into the test bus as shipped) uses
#     own_prefix / send_destination_prefix: root owns and calls a
#     Connection_N name, nobody may do neither;
#   - bad vpn.data: an unknown keyword is refused, the message names it;
#   - the plugin SIGTERMed while its VPN is up: pluto's connection and
#     secrets are removed, NM marks the VPN down;
#   - NetworkManager SIGKILLed while a VPN is up (it drops the plugin
#     without Disconnect): the plugin notices, removes the connection and
#     the secrets from pluto (the gateway gets the Deletes) and exits.
# shellcheck source=tests/nm/lib.sh
. "$SRCDIR/tests/nm/lib.sh"
IFACE=org.freedesktop.NetworkManager.VPN.Plugin
OPATH=/org/freedesktop/NetworkManager/VPN/Plugin
NAME99=$NM_SERVICE_NAME.Connection_99

nm_require
nm_start || done_testing
nm_monitor_start

# --- the interface ---
nm_spawn plugin99 "$NM_PLUGIN_PROG" --bus-name "$NAME99"
check "the plugin takes $NAME99 (root may own the prefix)" wait_for 10 nm_bus_has "$NAME99"
intro=$(nm_busctl introspect "$NAME99" "$OPATH" "$IFACE" 2>&1)
# member kind signature (busctl's columns; "-" for none)
while read -r member kind sig; do
	if awk -v m=".$member" -v k="$kind" -v s="$sig" '$1 == m && $2 == k && $3 == s { f = 1 } END { exit !f }' <<<"$intro"
	then ok "introspection: $kind $member $sig"
	else fail "introspection: $kind $member $sig"; fi
done <<'EOF'
Connect method a{sa{sv}}
ConnectInteractive method a{sa{sv}}a{sv}
NeedSecrets method a{sa{sv}}
NewSecrets method a{sa{sv}}
Disconnect method -
SetConfig method a{sv}
SetIp4Config method a{sv}
SetIp6Config method a{sv}
SetFailure method s
State property u
StateChanged signal u
SecretsRequired signal sas
Config signal a{sv}
Ip4Config signal a{sv}
Ip6Config signal a{sv}
LoginBanner signal s
Failure signal u
EOF
check_eq "NeedSecrets returns a string" s "$(awk '$1 == ".NeedSecrets" { print $4 }' <<<"$intro")"
check_eq "State is INIT (1) before Connect" "u 1" "$(nm_busctl get-property "$NAME99" "$OPATH" "$IFACE" State 2>&1)"

# --- the bus policy, as shipped ---
check "the policy file allows by prefix (own_prefix)" grep -q 'own_prefix="org.freedesktop.NetworkManager.pluto"' "$NM_PLUGIN_POLICY"
check "the policy file allows by prefix (send_destination_prefix)" \
	grep -q 'send_destination_prefix="org.freedesktop.NetworkManager.pluto"' "$NM_PLUGIN_POLICY"
as_nobody() { nm_exec setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
out=$(as_nobody busctl --system call "$NAME99" "$OPATH" "$IFACE" Disconnect 2>&1)
check_contains "nobody may not call the plugin" "Access denied" "$out"
out=$(as_nobody /usr/bin/python3 -c 'import dbus, sys; dbus.SystemBus().request_name(sys.argv[1])' \
	"$NM_SERVICE_NAME.Connection_77" 2>&1)
check_contains "nobody may not own a Connection_N name" "AccessDenied" "$out"
check_fails "nobody's attempt left no owner" nm_bus_has "$NM_SERVICE_NAME.Connection_77"
kill -TERM "$(nm_pid plugin99)" 2>/dev/null
check "the hand-started plugin exits on SIGTERM" wait_for 10 sh -c '! kill -0 "$1" 2>/dev/null' sh "$(nm_pid plugin99)"

# --- bad vpn.data ---
check "pluto remote-access gateway on R" nm_gateway pluto || done_testing
check "add a profile with an unknown keyword" nm_add_vpn bad "$(nm_ra_data), bogusword=1" \
	"pskvalue=$PSK, xauthpassword=$IO_RA_PASSWORD"
mark=$(nm_monitor_mark)
check_fails "the VPN with an unknown keyword does not come up" nm_up bad
echo "# observed: nmcli says: $(tr '\n' ' ' <"$T/up.out")"
echo "# observed: unknown keyword: NM: $(nm_vpn_transitions_since "$mark" | tr '\n' ' ')"
check "the plugin's message names the keyword" grep -q "nm-pluto-service.*bogusword" "$NMD/nm.log"
check "pluto holds no nm-* connection" nm_no_pluto_conn
check "the refused profile's plugin exits (NM called Disconnect)" wait_for 10 nm_no_plugin

# --- the plugin SIGTERMed while up ---
secrets="pskvalue=$PSK, xauthpassword=$IO_RA_PASSWORD"
check "add the profile" nm_add_vpn vpn "$(nm_ra_data)" "$secrets"
check "the VPN comes up" nm_up vpn
pid=$(nm_plugin_pids)
check "one plugin process" test "$(echo "$pid" | wc -w)" -eq 1
mark=$(nm_monitor_mark)
kill -TERM "$pid"
check "SIGTERM: the plugin exits" wait_for 15 nm_no_plugin
check "SIGTERM: pluto's connection is gone" wait_for 10 nm_no_pluto_conn
check "SIGTERM: NM marks the VPN down" wait_for 10 nm_is_inactive vpn
echo "# observed: plugin SIGTERMed: NM: $(nm_vpn_transitions_since "$mark" | tr '\n' ' ')"
nm_check_pluto_forgot "SIGTERM" "$R_IP"

# --- NetworkManager gone ---
check "the VPN comes up again" nm_up vpn
pid=$(nm_plugin_pids)
dels=$(grep -c "received Delete SA payload: deleting ISAKMP State" "$(pluto_log R)")
kill -KILL "$(nm_pid nm)"
wait "$(nm_pid nm)" 2>/dev/null
SECONDS=0
check "NM gone: the plugin exits" wait_for 15 nm_no_plugin
# pluto answers DeleteConnection and DeleteSecret within milliseconds: the
# plugin has no reason to wait for its cleanup timer (CLEANUP_USEC, 5 s)
check "NM gone: the plugin exits once pluto answered its cleanup (within 3 s, took $SECONDS s)" \
	test "$SECONDS" -le 3
check_fails "NM gone: the plugin does not report its cleanup unanswered" \
	grep -q "nm-pluto-service.*did not answer the cleanup" "$NMD/nm.log"
check "NM gone: pluto's connection is gone" wait_for 10 nm_no_pluto_conn
check "NM gone: the gateway got the ISAKMP SA's Delete" \
	test "$(grep -c "received Delete SA payload: deleting ISAKMP State" "$(pluto_log R)")" -gt "$dels"
check "NM gone: the plugin logged why" grep -q "nm-pluto-service.*NetworkManager left the bus" "$NMD/nm.log"
nm_check_pluto_forgot "NM gone" "$R_IP"
nm_check_secrets_absent "plugin" "$PSK" "$IO_RA_PASSWORD"
nm_check_clean plugin
pluto_stop L
io_finish
