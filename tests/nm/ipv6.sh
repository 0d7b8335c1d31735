#!/bin/bash
# Issue 12, points 1 and 2 for IPv6: Mode Config from an IPv6 pool over IPv4
# IKE (a pluto gateway on R protecting 2001:db8:2::/48): the plugin's
# Config says has-ip6 and its Ip6Config carries the address, the DNS
# server, the domain and the subnet as a route; NM shows them (IP6.*) and
# puts them on the device. The base profile gets IPv6 link-local for this
# (the other tests disable IPv6 on it).
# shellcheck source=tests/nm/lib.sh
. "$SRCDIR/tests/nm/lib.sh"
NET6=2001:db8:2::/48 POOL6=2001:db8:99::10-2001:db8:99::20 DNS6=2001:db8:2::53

nm_require
nm_start || done_testing
nm_monitor_start
check "base profile with IPv6 link-local" sh -c \
	"nsenter --target $NM_HOLDER --mount --net nmcli connection modify base ipv6.method link-local &&
	 nsenter --target $NM_HOLDER --mount --net timeout 40 nmcli --wait 30 connection up base"
io_case psk-aes
io_side R pluto
IO_RA[R]=gateway
pluto_conf R
check "pluto gateway on R" pluto_launch R || done_testing
io_skip_unless_engine R
check "its IPv6 remote-access connection" pluto_ctl R add ra6 right="$R_IP" rightid="$R_IP" \
	rightsubnet="$NET6" rightxauthserver=yes rightmodecfgserver=yes left=%any leftid=%any \
	leftxauthclient=yes leftmodecfgclient=yes leftaddresspool="$POOL6" xauthby=file \
	modecfgdns="$DNS6" modecfgdomains=six.example.test ike=aes128-sha1-modp2048 \
	esp=aes128-sha1 phase2=esp pfs=no authby=secret keyingtries=1
check "add the profile" nm_add_vpn vpn "$(nm_ra_data), rightsubnet=$NET6" \
	"pskvalue=$PSK, xauthpassword=$IO_RA_PASSWORD" ipv4.method disabled ipv6.method auto
if nm_up vpn; then ok "the VPN comes up"; else fail "the VPN comes up"; sed 's/^/#   /' "$T/up.out"; fi
check_eq "NM's VPN state" "5 - VPN connected" "$(nm_vpn_state vpn)"
check_contains "the plugin's Config says has-ip6" '"has-ip6":{"type":"b","data":true}' \
	"$(nm_signals org.freedesktop.NetworkManager.VPN.Plugin Config)"
check_eq "the plugin sent one Ip6Config" 1 "$(nm_signals org.freedesktop.NetworkManager.VPN.Plugin Ip6Config | wc -l)"
addrs=$(nm_shown vpn IP6.ADDRESS)
v6=$(grep -E '^2001:db8:99::(1[0-9a-f]|20)/128$' <<<"$addrs")
check "NM shows an address of the IPv6 pool (${v6:-none})" test -n "$v6"
check_eq "NM shows the IPv6 DNS server" "$DNS6" "$(nm_shown vpn IP6.DNS)"
check_eq "NM shows the domain" six.example.test "$(nm_shown vpn IP6.DOMAIN)"
check_contains "NM shows the route to $NET6" "dst = $NET6" "$(nm_shown vpn IP6.ROUTE)"
check "the address is on $NM_IF" \
	sh -c "nsenter --target $NM_HOLDER --net ip -6 addr show dev $NM_IF | grep -qF ' ${v6%/*}/128'"
check "the kernel routes $NET6 through $NM_IF" \
	sh -c "nsenter --target $NM_HOLDER --net ip -6 route show $NET6 | grep -q 'dev $NM_IF'"
check "the VPN goes down" nm_down vpn
check "NM shows it down" wait_for 10 nm_is_inactive vpn
check "the IPv6 route is gone" \
	sh -c "! nsenter --target $NM_HOLDER --net ip -6 route show $NET6 | grep -q ."
check "pluto holds no nm-* connection" wait_for 10 nm_no_pluto_conn
nm_check_secrets_absent ipv6 "$PSK" "$IO_RA_PASSWORD"
nm_check_clean ipv6
pluto_stop L
io_finish
