#!/bin/bash
# The main job: build pluto, start two pluto daemons in two network
# namespaces joined by a veth pair, describe the tunnel on both sides,
# negotiate it with progress shown, print `ipsecctl status` on both sides,
# and clean up. Run as root on Debian 12: `demo/run.sh`.
#
#   netns pluto-west                         netns pluto-east
#   lo: 10.1.0.1 (client)                    lo: 10.2.0.1 (client)
#   west0: 198.51.100.1/24 <---- veth ---->  east0: 198.51.100.2/24
set -u
cd "$(dirname "$0")/.."
TOP=$PWD
BUILD=${BUILD:-$TOP/build-demo}
WORK=$(mktemp -d /tmp/pluto-demo.XXXXXX)
W=pluto-west E=pluto-east

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

install_deps() {
	local need=() p
	for p in meson ninja-build pkg-config gcc libsystemd-dev libjson-c-dev libssl-dev \
		 libglib2.0-dev iproute2 util-linux socat dbus-daemon; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need+=("$p")
	done
	if [ ${#need[@]} -gt 0 ]; then
		say "installing ${need[*]}"
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
	fi
}

cleanup() {
	for ns in $W $E; do
		[ -f "$WORK/$ns/run/pluto.pid" ] && kill -TERM "$(cat "$WORK/$ns/run/pluto.pid")" 2>/dev/null
	done
	sleep 0.5
	ip netns del $W 2>/dev/null
	ip netns del $E 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || { echo "demo/run.sh: run as root (network namespaces)" >&2; exit 1; }
install_deps
say "building pluto in $BUILD"
[ -d "$BUILD" ] || meson setup "$BUILD" -Dtests=false >/dev/null || exit 1
ninja -C "$BUILD" >/dev/null || exit 1

say "network namespaces $W and $E"
ip netns del $W 2>/dev/null; ip netns del $E 2>/dev/null
ip netns add $W && ip netns add $E
ip link add west0 netns $W type veth peer name east0 netns $E
ip -n $W addr add 198.51.100.1/24 dev west0 && ip -n $W link set west0 up && ip -n $W link set lo up
ip -n $E addr add 198.51.100.2/24 dev east0 && ip -n $E link set east0 up && ip -n $E link set lo up
ip -n $W addr add 10.1.0.1/32 dev lo
ip -n $E addr add 10.2.0.1/32 dev lo

PSK='demo shared secret, change me'
for ns in $W $E; do
	mkdir -p "$WORK/$ns/run"
	printf '198.51.100.1 198.51.100.2 : PSK "%s"\n' "$PSK" >"$WORK/$ns/ipsec.secrets"
	chmod 600 "$WORK/$ns/ipsec.secrets"
	ip netns exec $ns "$BUILD/pluto" --rundir "$WORK/$ns/run" --secretsfile "$WORK/$ns/ipsec.secrets" \
		--stderrlog --nodbus 2>"$WORK/$ns/pluto.log" || { cat "$WORK/$ns/pluto.log"; exit 1; }
done

ctl() { local ns=$1; shift; PLUTO_SOCKET=$WORK/$ns/run/org.freeswan.pluto "$BUILD/clients/ipsecctl/ipsecctl" "$@"; }
whack() { local ns=$1; shift; PLUTO_SOCKET=$WORK/$ns/run/org.freeswan.pluto "$BUILD/clients/whack/whack" "$@"; }

say "describing the tunnel 10.1.0.0/16 <-> 10.2.0.0/16 on both sides"
for ns in $W $E; do
	ctl $ns add west-east left=198.51.100.1 leftsubnet=10.1.0.0/16 \
		right=198.51.100.2 rightsubnet=10.2.0.0/16 authby=secret \
		ike=aes128-sha1-modp2048 esp=aes128-sha1 || exit 1
	ctl $ns listen || exit 1
done

say "whack --initiate --name west-east (in $W)"
whack $W --name west-east --initiate
rc=$?
echo "whack exit status: $rc"

for ns in $W $E; do
	say "ipsecctl status ($ns)"
	ctl $ns status
done
exit $rc
