#!/bin/bash
# Install the two reference IKEv1 peers the interop tests run pluto against.
#
#   tests/interop/setup.sh           install what is missing (root, apt); a
#                                    no-op taking ~0.1 s when all is present
#   tests/interop/setup.sh --check   report only; exit 0 when complete
#
# strongSwan 5.9.8 comes from apt as usual (charon-systemd, swanctl and the
# plugin packages; kernel-libipsec is in libcharon-extra-plugins, kept so a
# developer can switch the backend by hand, the tests use kernel-netlink).
#
# libreswan 4.10 cannot be installed next to strongSwan (both provide the
# virtual package ike-server and conflict), so its .deb is fetched with
# "apt-get download" and unpacked with "dpkg -x" into $INTEROP_ROOT/libreswan
# (default /opt/pluto-interop/libreswan). Only its shared-library
# dependencies are installed with apt. Nothing of it is configured on the
# host: libreswan-peer runs it in a private mount namespace.
#
# Concurrent callers (parallel meson tests) serialise on a lock file, so apt
# never runs twice at once.
set -euo pipefail
INTEROP_ROOT=${INTEROP_ROOT:-/opt/pluto-interop}
LSROOT=$INTEROP_ROOT/libreswan
LSBIN=$LSROOT/usr/libexec/ipsec
CHECK=0
[[ ${1:-} == --check ]] && CHECK=1

say() { echo "interop/setup.sh: $*" >&2; }

# charon + swanctl + plugins (openssl, gmp, pem/pkcs1/pkcs8, curve25519),
# and what the harness calls: NSS tools for libreswan's key db, the capture
# tools, gcc for the xfrm stub, xxd for RFC 3110 keys
PKGS=(charon-systemd strongswan-swanctl libstrongswan libstrongswan-standard-plugins
      libstrongswan-extra-plugins libcharon-extra-plugins libcharon-extauth-plugins
      libnss3-tools tshark tcpdump gcc libc6-dev xxd openssl iproute2 util-linux jq)

missing_pkgs() {
	local p
	for p in "${PKGS[@]}"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
	done
}

libreswan_ok() {
	[[ -x $LSBIN/pluto && -x $LSBIN/whack && -x $LSBIN/addconn ]] || return 1
	! ldd "$LSBIN/pluto" "$LSBIN/whack" "$LSBIN/addconn" 2>/dev/null | grep -q "not found"
}

complete() { [[ -z $(missing_pkgs) ]] && libreswan_ok; }

if [[ $CHECK == 1 ]]; then
	m=$(missing_pkgs | tr '\n' ' ')
	echo "apt packages missing: ${m:-none}"
	if libreswan_ok; then echo "libreswan: $("$LSBIN/pluto" --version 2>&1 | head -1) in $LSROOT"
	else echo "libreswan: missing or unresolved libraries in $LSROOT"; fi
	complete
	exit
fi

complete && exit 0      # the fast path, no lock needed
[[ $(id -u) == 0 ]] || { say "must run as root to install the interop peers"; exit 2; }

mkdir -p "$INTEROP_ROOT"
exec 9>"$INTEROP_ROOT/.setup.lock"
flock 9
complete && exit 0      # someone else finished while we waited

export DEBIAN_FRONTEND=noninteractive
mapfile -t missing < <(missing_pkgs)
if [[ ${#missing[@]} -gt 0 ]]; then
	say "installing ${missing[*]}"
	# tshark asks whether non-root users may capture: they may not
	echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
	apt-get update -q >&2
	apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi

if ! libreswan_ok; then
	tmp=$(mktemp -d /tmp/pluto-interop-setup.XXXXXX)
	trap 'rm -rf -- "$tmp"' EXIT
	(cd "$tmp" && apt-get download libreswan >&2)
	deb=$(ls "$tmp"/libreswan_*.deb)
	# its Depends, minus what would change the host's network setup or
	# pull in a package that conflicts with strongSwan
	deps=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed -E 's/\(.*\)//; s/\|.*//; s/^ +| +$//g' |
		grep -v -E '^(debconf|iptables|iproute2?|bind9-host|host|init-system-helpers)$' | grep -v '^$' || true)
	if [[ -n $deps ]]; then
		say "installing libreswan's libraries: $(tr '\n' ' ' <<<"$deps")"
		# shellcheck disable=SC2086 # a list of package names
		apt-get install -y -q --no-install-recommends $deps >&2
	fi
	rm -rf -- "$LSROOT"
	mkdir -p "$LSROOT"
	dpkg -x "$deb" "$LSROOT"
	say "unpacked $(basename "$deb") into $LSROOT"
fi

if ! complete; then
	say "setup incomplete:"
	"$0" --check >&2 || true
	exit 1
fi
say "ready: strongSwan $(dpkg-query -W -f='${Version}' charon-systemd), $("$LSBIN/pluto" --version 2>&1 | head -1)"
