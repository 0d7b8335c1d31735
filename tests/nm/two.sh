#!/bin/bash
# Issue 12, point 5: two VPN connections active at once through one pluto,
# each with its own gateway (a pluto gateway on R, another on Q behind R):
# two plugin processes (supports-multiple-connections: Connection_N names),
# two nm-* connections in the one pluto, each VPN with the address of its
# own gateway's pool; bringing one down leaves the other up -- in NM, in
# pluto, and at its gateway.
# shellcheck source=tests/nm/lib.sh
. "$SRCDIR/tests/nm/lib.sh"

nm_require
nm_start || done_testing
nm_monitor_start
check "pluto remote-access gateway 1 on R ($R_IP)" nm_gateway pluto || done_testing
check "pluto remote-access gateway 2 on Q ($Q_IP)" nm_gateway2 || done_testing
secrets="pskvalue=$PSK, xauthpassword=$IO_RA_PASSWORD"
check "add VPN one" nm_add_vpn one "$(nm_ra_data "$R_IP")" "$secrets"
check "add VPN two" nm_add_vpn two "$(nm_ra_data "$Q_IP")" "$secrets"
u1=$(nm_uuid one) u2=$(nm_uuid two)

check "VPN one comes up" nm_up one
check "VPN two comes up while one is up" nm_up two
check "NM shows one activated" nm_is_active one
check "NM shows two activated" nm_is_active two
check_eq "connection show --active lists both VPNs" "one two" \
	"$(nmc -t -f NAME,TYPE connection show --active | awk -F: '$2 == "vpn" { print $1 }' | sort | xargs)"
check_eq "two plugin processes" 2 "$(nm_plugin_pids | wc -l)"
names=$(nm_busctl list --no-legend 2>/dev/null | awk '{print $1}' | grep "^$NM_SERVICE_NAME\.Connection_" | wc -l)
check_eq "two plugin names $NM_SERVICE_NAME.Connection_N on the bus" 2 "$names"
check "pluto: nm-$u1 established" pluto_established L "nm-$u1"
check "pluto: nm-$u2 established" pluto_established L "nm-$u2"
a1=$(nm_shown one IP4.ADDRESS | grep '^10\.99\.') a2=$(nm_shown two IP4.ADDRESS | grep '^10\.98\.')
check "VPN one has an address of gateway 1's pool ($a1)" test -n "$a1"
check "VPN two has an address of gateway 2's pool ($a2)" test -n "$a2"
check_contains "VPN two's route to gateway 2's subnet" "dst = $Q_NET" "$(nmc -f IP4 connection show two)"
check_contains "VPN two's domain" "two.example.test" "$(nm_shown two IP4.DOMAIN)"

# one goes down, two stays
check "VPN one goes down" nm_down one
check "NM shows one down" wait_for 10 nm_is_inactive one
sleep 1
check_eq "NM still shows two activated" activated "$(nm_active_state two)"
check_eq "two's VPN state" "5 - VPN connected" "$(nm_vpn_state two)"
check_eq "pluto holds only nm-$u2" "nm-$u2" "$(nm_pluto_conns | grep '^nm-')"
check "pluto: nm-$u2 still established" pluto_established L "nm-$u2"
gw2_up() { pluto_established Q lab; }
check "gateway 2 still has its SAs" gw2_up
check_contains "gateway 1 received the Deletes" "received Delete SA payload: deleting ISAKMP State" \
	"$(cat "$(pluto_log R)")"
check_not_contains "gateway 2 received no Delete" "received Delete" "$(cat "$(pluto_log Q)")"
check "two's address is still on $NM_IF" \
	sh -c "nsenter --target $NM_HOLDER --net ip -4 addr show dev $NM_IF | grep -qF ' ${a2%/*}/'"
check_eq "one plugin process left" 1 "$(nm_plugin_pids | wc -l)"
# both VPNs log in as the same user: pluto keeps one XAUTH password per
# user, so one going down must not take two's password away (a probe to
# gateway 1, given only the PSK, still logs in as that user)
check_contains "one down: the XAUTH password two logs in with is still in pluto" \
	"user \"$IO_RA_USER\" authenticated by the gateway" "$(nm_probe_xauth "$R_IP")"

check "VPN two goes down" nm_down two
check "NM shows two down" wait_for 10 nm_is_inactive two
check "pluto holds no nm-* connection" wait_for 10 nm_no_pluto_conn
check "no plugin process left" wait_for 15 nm_no_plugin
nm_check_pluto_forgot "both down" "$R_IP"
nm_check_pluto_forgot "both down" "$Q_IP"
nm_check_clean two
pluto_stop L
io_finish
