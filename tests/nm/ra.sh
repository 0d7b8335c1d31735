#!/bin/bash
# Issue 12, point 2 (and the saved-secrets half of point 4): a VPN profile
# of type pluto made with nmcli, brought up and down by the real
# NetworkManager through the plugin and the pluto client daemon.
#
#   ra.sh pluto | strongswan    remote access, PSK + XAUTH + Mode Config,
#                               against a pluto or a strongSwan gateway on R:
#                               NM activated with the address from the pool,
#                               the DNS servers, the domain, the banner and
#                               the split include as a route; down: pluto's
#                               connection and secrets gone, the gateway got
#                               the Deletes, nothing left routed or addressed
#   ra.sh s2s                   site to site without Mode Config or XAUTH
#                               against pluto: activated with the local
#                               address and rightsubnet as a route
# shellcheck source=tests/nm/lib.sh
. "$SRCDIR/tests/nm/lib.sh"
KIND=${1:?usage: ra.sh pluto|strongswan|s2s}

nm_require
nm_start || done_testing
nm_monitor_start
if [ "$KIND" = s2s ]; then
	check "pluto site-to-site gateway on R" nm_gateway_s2s || done_testing
	data="right=$R_IP, rightid=$R_IP, rightsubnet=$R_NET, ike=aes128-sha1-modp2048, esp=aes128-sha1, phase2=esp, pfs=no, authby=secret, keyingtries=1"
	secrets="pskvalue=$PSK"
else
	check "$KIND remote-access gateway on R" nm_gateway "$KIND" || done_testing
	data=$(nm_ra_data)
	secrets="pskvalue=$PSK, xauthpassword=$IO_RA_PASSWORD"
fi
what="$KIND"

# --- up ---
check "nmcli connection add type vpn vpn-type pluto" nm_add_vpn vpn "$data" "$secrets"
uuid=$(nm_uuid vpn)
SECONDS=0
if nm_up vpn; then ok "$what: nmcli connection up succeeds ($SECONDS s)"
else fail "$what: nmcli connection up succeeds"; sed 's/^/#   /' "$T/up.out"; fi
check_eq "$what: NM shows the VPN activated" activated "$(nm_active_state vpn)"
check_eq "$what: NM's VPN state" "5 - VPN connected" "$(nm_vpn_state vpn)"
active=$(nmc connection show --active)
check "$what: connection show --active lists it as a vpn on $NM_IF" \
	grep -qE "^vpn +$uuid +vpn +$NM_IF" <<<"$active"
check "$what: pluto's connection nm-$uuid is established" pluto_established L "nm-$uuid"
dev=$(nm_ip4)
con_ip4=$(nmc -f IP4 connection show vpn)
addrs=$(nm_shown vpn IP4.ADDRESS)
if [ "$KIND" = s2s ]; then
	check_contains "$what: the VPN's address is the local address" "$L_IP/" "$addrs"
	check_contains "$what: the VPN's route to rightsubnet" "dst = $R_NET" "$con_ip4"
	check_contains "$what: the device shows the route to $R_NET" "dst = $R_NET" "$dev"
	check "$what: the kernel routes $R_NET through $NM_IF" \
		sh -c "nsenter --target $NM_HOLDER --net ip -4 route show $R_NET | grep -q 'dev $NM_IF'"
else
	vip=
	for a in $addrs; do io_ra_in_pool "$a" && vip=${a%/*}; done
	if [ -n "$vip" ]; then ok "$what: the VPN has an address from the gateway's pool ($vip)"
	else fail "$what: the VPN has an address from the gateway's pool (got: $(echo $addrs))"; fi
	check_eq "$what: pluto got that address by Mode Config" "$vip" "$(pluto_ra_vip L "nm-$uuid" | cut -d/ -f1)"
	check_eq "$what: the gateway lent that address" "$vip" "$(peer ra_vip R | cut -d/ -f1)"
	check_eq "$what: the gateway's XAUTH user" "$IO_RA_USER" "$(peer ra_user R)"
	check_contains "$what: nmcli -f IP4 device show: the address" "$vip/" "$dev"
	for d in ${IO_RA_DNS//,/ }; do
		check_contains "$what: nmcli -f IP4 device show: DNS $d" "$d" "$(grep IP4.DNS <<<"$dev")"
	done
	check_eq "$what: the VPN's DNS servers" "$(io_ra_dns_sorted)" "$(nm_shown vpn IP4.DNS | sort)"
	check_contains "$what: nmcli -f IP4 device show: the domain" "$IO_RA_DOMAIN" "$(grep IP4.DOMAIN <<<"$dev")"
	check_contains "$what: the split include $R_NET is a route of the VPN" "dst = $R_NET" "$con_ip4"
	check_eq "$what: NM shows the gateway's banner" "$IO_RA_BANNER" "$(nm_shown vpn VPN.BANNER)"
	check "$what: the address is on $NM_IF" \
		sh -c "nsenter --target $NM_HOLDER --net ip -4 addr show dev $NM_IF | grep -qF ' $vip/'"
fi
check_eq "$what: the plugin's states" "$(printf 'STARTING\nSTARTED')" "$(nm_plugin_states)"
check_eq "$what: no Failure from the plugin" "" "$(nm_plugin_failures)"
check_contains "$what: NM's VPN states" "$(printf 'CONNECT/NONE\nIP_CONFIG_GET/NONE\nACTIVATED/NONE')" "$(nm_vpn_transitions)"
nm_check_secrets_absent "$what, up" "$PSK" "$IO_RA_PASSWORD"

# --- down ---
if nm_down vpn; then ok "$what: nmcli connection down succeeds"
else fail "$what: nmcli connection down succeeds"; sed 's/^/#   /' "$T/down.out"; fi
check "$what: NM shows the VPN down" wait_for 10 nm_is_inactive vpn
check "$what: pluto's nm-* connection is deleted" wait_for 10 nm_no_pluto_conn
check_eq "$what: nmcli shows no active VPN" "" "$(nmc -g TYPE connection show --active | grep -x vpn)"
routes=$(nsenter --target "$NM_HOLDER" --net ip -4 route show)
check_not_contains "$what: nothing routed to $R_NET any more" "$R_NET" "$routes"
if [ "$KIND" != s2s ]; then
	check_not_contains "$what: the virtual address is gone from $NM_IF" " $vip/" \
		"$(nsenter --target "$NM_HOLDER" --net ip -4 addr show dev "$NM_IF")"
fi
glog=$(cat "$(peer log R)")
case ${IMPL[R]} in
pluto)
	check_contains "$what: the gateway received the IPsec SA's Delete" "received Delete SA(0x" "$glog"
	check_contains "$what: the gateway received the ISAKMP SA's Delete" "received Delete SA payload: deleting ISAKMP State" "$glog" ;;
strongswan)
	check_contains "$what: strongSwan received the ESP Delete" "received DELETE for ESP CHILD_SA" "$glog"
	check_contains "$what: strongSwan received the ISAKMP Delete" "received DELETE for IKE_SA" "$glog" ;;
esac
gw_idle() { ! peer established R; }
check "$what: the gateway has no SA left" wait_for 10 gw_idle
check_eq "$what: the plugin's last state" STOPPED "$(nm_plugin_states | tail -1)"
check_contains "$what: NM's VPN state after down" "DISCONNECTED/USER_DISCONNECTED" "$(nm_vpn_transitions)"
[ "$KIND" = s2s ] || nm_check_pluto_forgot "$what, after down" "$R_IP"
check "$what: the plugin process exits after down" wait_for 15 nm_no_plugin
nm_check_secrets_absent "$what, down" "$PSK" "$IO_RA_PASSWORD"
nm_check_clean "$what"
pluto_stop L
io_finish
