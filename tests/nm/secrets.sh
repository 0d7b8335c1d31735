#!/bin/bash
# Issue 12, point 4: where the plugin gets its secrets, and where they never
# show up.
#   - saved secrets (vpn.secrets, flags 0): NM hands them over at Connect
#     (ra.sh covers the whole remote-access run with them);
#   - agent-owned (pskvalue-flags=1) and not-saved (xauthpassword-flags=2)
#     secrets: not in NM's keyfile; with an agent that cannot ask (nmcli
#     without --ask) the activation fails (NO_SECRETS) after the plugin
#     asked for them (SecretsRequired); `nmcli --ask connection up NAME
#     passwd-file F` answers as the agent and the VPN comes up;
#   - no secret in NM's log (TRACE for VPN), pluto's log (--debug-all), any
#     signal on the bus, any property on the bus, nmcli's view of the
#     profile; a positive control shows the search finds a secret where
#     one is meant to be (nmcli --show-secrets of a saved profile).
# shellcheck source=tests/nm/lib.sh
. "$SRCDIR/tests/nm/lib.sh"

nm_require
nm_start || done_testing
nm_monitor_start
check "pluto remote-access gateway on R" nm_gateway pluto || done_testing
PSK_AGENT="$PSK" PW_AGENT="$IO_RA_PASSWORD"

# --- flags: agent-owned PSK, not-saved password ---
check "add a profile whose secrets belong to the agent" \
	nm_add_vpn agent "$(nm_ra_data), pskvalue-flags=1, xauthpassword-flags=2" ""
kf=$(grep -lF "id=agent" "$NMD"/etc/system-connections/* 2>/dev/null | head -1)
check "the profile's keyfile exists" test -n "$kf"
check_contains "the keyfile records the flags" "pskvalue-flags=1" "$(cat "$kf" 2>/dev/null)"
mark=$(nm_monitor_mark)
SECONDS=0
if nm_up agent; then fail "agent-owned secrets, nmcli without --ask: nmcli connection up fails"
else ok "agent-owned secrets, nmcli without --ask: nmcli connection up fails ($SECONDS s)"; fi
echo "# observed: nmcli says: $(tr '\n' ' ' <"$T/up.out")"
wait_for 5 nm_vpn_failed_since "$mark"
r=$(nm_vpn_transitions_since "$mark" | tail -1)
echo "# observed: without --ask: NM: $(nm_vpn_transitions_since "$mark" | tr '\n' ' ')"
echo "# observed: without --ask: calls NeedSecrets $(NM_MON_FROM=$mark nm_calls NeedSecrets), Connect $(NM_MON_FROM=$mark nm_calls Connect), ConnectInteractive $(NM_MON_FROM=$mark nm_calls ConnectInteractive), NewSecrets $(NM_MON_FROM=$mark nm_calls NewSecrets); SecretsRequired: $(NM_MON_FROM=$mark nm_signals org.freedesktop.NetworkManager.VPN.Plugin SecretsRequired | tr '\n' ' ')"
check_contains "without --ask: NM's reason is NO_SECRETS" "/NO_SECRETS" "$r"
check_contains "without --ask: the plugin asked with SecretsRequired naming the password" \
	'"xauthpassword"' "$(NM_MON_FROM=$mark nm_signals org.freedesktop.NetworkManager.VPN.Plugin SecretsRequired)"
check "without --ask: pluto holds no nm-* connection" nm_no_pluto_conn

# the agent: nmcli --ask with a password file
printf 'vpn.secrets.pskvalue:%s\nvpn.secrets.xauthpassword:%s\n' "$PSK_AGENT" "$PW_AGENT" >"$T/passwd"
chmod 600 "$T/passwd"
mark=$(nm_monitor_mark)
SECONDS=0
if nm_up agent --ask passwd-file "$T/passwd"; then
	ok "nmcli --ask connection up agent passwd-file F: the VPN comes up ($SECONDS s)"
else
	fail "nmcli --ask connection up agent passwd-file F: the VPN comes up"
	sed 's/^/#   /' "$T/up.out"
fi
echo "# observed: with --ask: the plugin's states: $(nm_plugin_states_since "$mark" | tr '\n' ' '); calls NeedSecrets $(NM_MON_FROM=$mark nm_calls NeedSecrets), ConnectInteractive $(NM_MON_FROM=$mark nm_calls ConnectInteractive), NewSecrets $(NM_MON_FROM=$mark nm_calls NewSecrets)"
check_eq "agent: NM called ConnectInteractive, then NewSecrets with what the agent gave" "1 1" \
	"$(NM_MON_FROM=$mark nm_calls ConnectInteractive) $(NM_MON_FROM=$mark nm_calls NewSecrets)"
check "agent: NM shows the VPN activated" nm_is_active agent
check "agent: pluto's connection is established" pluto_established L "nm-$(nm_uuid agent)"
check_not_contains "agent: the keyfile holds no PSK" "$PSK_AGENT" "$(cat "$kf")"
check_not_contains "agent: the keyfile holds no password" "$PW_AGENT" "$(cat "$kf")"
check_not_contains "agent: nmcli connection show shows no secret" "$PW_AGENT" \
	"$(nmc connection show agent)"
nm_check_secrets_absent "agent, up" "$PSK_AGENT" "$PW_AGENT"
check "agent: the VPN goes down" nm_down agent
check "agent: NM shows it down" wait_for 10 nm_is_inactive agent
nm_check_pluto_forgot "agent, after down" "$R_IP"

# --- saved secrets: the positive control of the search ---
check "add a profile with saved secrets" nm_add_vpn saved "$(nm_ra_data)" \
	"pskvalue=$PSK, xauthpassword=$IO_RA_PASSWORD"
check_contains "control: nmcli --show-secrets shows the saved password" "$IO_RA_PASSWORD" \
	"$(nmc --show-secrets connection show saved)"
check_not_contains "saved: nmcli connection show (no --show-secrets) hides it" "$IO_RA_PASSWORD" \
	"$(nmc connection show saved)"
check "saved: the VPN comes up" nm_up saved
check "saved: NM shows the VPN activated" nm_is_active saved
nm_check_secrets_absent "saved, up" "$PSK" "$IO_RA_PASSWORD"
check "saved: the VPN goes down" nm_down saved
nm_check_pluto_forgot "saved, after down" "$R_IP"
nm_check_secrets_absent "the end" "$PSK" "$IO_RA_PASSWORD"
nm_check_clean secrets
pluto_stop L
io_finish
