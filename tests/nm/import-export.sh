#!/bin/bash
# Issue 12 point 6: `nmcli connection import type pluto file F` and
# `nmcli connection export NAME OUT` with the REAL nmcli and NetworkManager,
# through the editor plugin of this build (clients/nm/editor, named by the
# plugin= key of the test's .name file, tests/nm/lib.sh nm_name_file):
# - an ipsec.conf with comments, quotes, conn %default, also= and an
#   auto=ignore fragment becomes the profile "office" whose vpn.data is the
#   resolved conn (API.md section 1 keywords, right = the gateway);
# - export gives back the section (tests/data/nm/roadwarrior.expected), to
#   a file and to stdout, and the exported file imports to the same data;
# - a profile made with nmcli (secret in vpn.secrets) exports without the
#   secret, left=%defaultroute made explicit;
# - a bad file is refused naming FILE:LINE and adds nothing.
# Needs no pluto and no gateway: import and export are NetworkManager's
# settings and the plugin library loaded into nmcli.
. "$SRCDIR/tests/nm/lib.sh"

nm_require
command -v nm >/dev/null || skip_all "no nm (binutils): the plugin's symbols are checked"
[ -f "$NM_EDITOR_SO" ] || skip_all "the editor plugin $NM_EDITOR_SO is not built (needs libnm, meson option nm)"

DATA=$SRCDIR/tests/data/nm
SERVICE=org.freedesktop.NetworkManager.pluto

# nmcli with the editor plugin; output (stdout and stderr) in $T/nmcli.out,
# all of it in $T/nmcli-all.out
nmc_ed() {
	nmc "$@" >"$T/nmcli.out" 2>&1
	local r=$?
	cat "$T/nmcli.out" >>"$T/nmcli-all.out"
	return $r
}
out() { cat "$T/nmcli.out"; }

# vpn.data as nmcli shows it ("key = value, ..." sorted by key) from the
# lines of an exported section
data_of_section() {
	sed -n 's/^\t\([^=]*\)=\(.*\)$/\1 = \2/p' "$1" | sed 's/= "\(.*\)"$/= \1/' | paste -sd, - | sed 's/,/, /g'
}
# one setting of a profile, as `nmcli -g` prints it
field() { nmc -g "$2" connection show "$1" 2>/dev/null; }
pluto_profiles() { nmc -t -f NAME,TYPE connection show | grep -c ':vpn$'; }

# nmcli has no sanitizer runtime: the module is built without (its
# meson.build), else dlopen() fails on the first __asan_ symbol
check_eq "the editor plugin needs no sanitizer runtime (nmcli has none)" "" \
	"$(nm -D --undefined-only "$NM_EDITOR_SO" | grep -E '__(asan|ubsan|sancov|sanitizer)' | head -3)"

nm_start --no-pluto || { done_testing; exit 1; }
check_contains "the test's .name file names the build's editor plugin" "plugin=$NM_EDITOR_SO" \
	"$(cat "$NMD/etc/VPN/nm-pluto-service.name")"

# --- import ---
check "nmcli connection import type pluto file roadwarrior.conf" \
	nmc_ed connection import type pluto file "$DATA/roadwarrior.conf"
check_contains "nmcli says the profile 'office' (the conn's name) was added" "Connection 'office'" "$(out)"
check_eq "vpn.service-type is pluto's" "$SERVICE" "$(field office vpn.service-type)"
expected_data=$(data_of_section "$DATA/roadwarrior.expected")
check_eq "vpn.data is the conn with %default and also= applied, auto= dropped" \
	"$expected_data" "$(field office vpn.data)"
check_contains "the gateway is right" "right = 192.0.2.1" "$(field office vpn.data)"
check_contains "the quoted value keeps its blank" \
	"leftupdown = /etc/ipsec.d/office-updown --verbose" "$(field office vpn.data)"

# --- export ---
check "nmcli connection export office FILE" nmc_ed connection export office "$T/office.conf"
check_eq "the exported section is the conn, keys sorted" "$(cat "$DATA/roadwarrior.expected")" \
	"$(cat "$T/office.conf" 2>/dev/null)"
check "nmcli connection export office (to stdout)" nmc_ed connection export office
check_contains "stdout holds the section" "$(cat "$DATA/roadwarrior.expected")" "$(out)"

# --- round trip: the exported file imports to the same data ---
nmc connection delete office >/dev/null 2>&1
check "the exported file imports again" nmc_ed connection import type pluto file "$T/office.conf"
check_eq "round trip: vpn.data unchanged" "$expected_data" "$(field office vpn.data)"
check "the re-imported profile exports again" nmc_ed connection export office "$T/office2.conf"
check "round trip: the same text" cmp "$T/office.conf" "$T/office2.conf"

# --- a profile made with nmcli: no secret in the file ---
secret="import-export-secret-$$"
check "nmcli connection add type vpn vpn-type pluto (a secret in vpn.secrets)" \
	nmc connection add type vpn vpn-type pluto con-name hq ifname '*' \
	vpn.data 'right=198.18.0.9, authby=secret, pfs=no' vpn.secrets "pskvalue=$secret"
check "nmcli connection export hq" nmc_ed connection export hq "$T/hq.conf"
check_eq "the section of a profile made with nmcli (left made explicit)" \
	"$(printf 'conn hq\n\tauthby=secret\n\tleft=%%defaultroute\n\tpfs=no\n\tright=198.18.0.9')" \
	"$(cat "$T/hq.conf" 2>/dev/null)"
check_not_contains "no secret in the exported file" "$secret" "$(cat "$T/hq.conf" 2>/dev/null)"
check_not_contains "no secret key in the exported file" "pskvalue" "$(cat "$T/hq.conf" 2>/dev/null)"

# --- refused files ---
before=$(pluto_profiles)
check_fails "a file with an unknown keyword is refused" \
	nmc_ed connection import type pluto file "$DATA/bad-keyword.conf"
check_contains "the message names the file, the line and the keyword" \
	"$DATA/bad-keyword.conf:5: unknown keyword 'rightsubnett'" "$(out)"
sed 's/^/# nmcli says: /' "$T/nmcli.out"
check_fails "a file with two conns to import is refused" \
	nmc_ed connection import type pluto file "$DATA/two-conns.conf"
check_contains "the message names the second conn's line" "$DATA/two-conns.conf:5: conn second" "$(out)"
check_eq "nothing was added by the refused files" "$before" "$(pluto_profiles)"
check_not_contains "nmcli never failed to load the plugin" "failed to load" "$(cat "$T/nmcli-all.out" 2>/dev/null)"

done_testing
