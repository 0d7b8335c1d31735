# shellcheck shell=bash
# Helpers of demo/run.sh. Source it at the top level (not from a function):
# it sources the scenario harness, tests/lib/scenario.sh, whose peer table
# is a global associative array.
#
# The demo is the harness's "psk-aes" case (PSK, aes128-sha1-modp2048,
# esp aes128-sha1) on the demo's own addresses and namespace names; the
# harness starts, stops and cleans up every daemon, and its EXIT/TERM/INT
# traps delete the namespaces and the work directory ($T) on every exit.

TOP=${TOP:?set TOP before sourcing demo/lib.sh}
BUILD=${BUILD:-$TOP/build-demo}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() { echo "demo/run.sh: $*" >&2; exit 1; }

# what building and running the demo needs (Debian 12 package names); the
# peers' packages are the harness's business (tests/interop/setup.sh)
DEMO_PKGS=(meson ninja-build pkg-config gcc libsystemd-dev libjson-c-dev libssl-dev
	   libglib2.0-dev iproute2 util-linux socat dbus-daemon jq iputils-ping)

demo_install_deps() {
	local need=() p
	for p in "${DEMO_PKGS[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need+=("$p")
	done
	[ ${#need[@]} -eq 0 ] && return 0
	say "installing ${need[*]}"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
}

# demo_build: quiet unless it fails; a set-up that failed half-way (no
# build.ninja) is set up again
demo_build() {
	local wipe=()
	say "building pluto in $BUILD"
	if [ ! -f "$BUILD/build.ninja" ]; then
		[ -d "$BUILD/meson-private" ] && wipe=(--wipe)
		meson setup "${wipe[@]}" "$BUILD" -Dtests=false >"$T/meson.out" 2>&1 ||
			{ tail -n 30 "$T/meson.out" >&2; return 1; }
	fi
	ninja -C "$BUILD" >"$T/ninja.out" 2>&1 || { tail -n 40 "$T/ninja.out" >&2; return 1; }
}

# strongSwan (apt) and libreswan (apt-get download, unpacked under
# /opt/pluto-interop): the harness's own installer, a quick no-op when done
demo_install_peers() {
	say "installing the interop peers (tests/interop/setup.sh)"
	"$TOP/tests/interop/setup.sh" || return 1
	"$TOP/tests/interop/setup.sh" --check | sed 's/^/   /'
}

# --- the harness, on the demo's addresses ---
export SRCDIR=$TOP BUILDDIR=$BUILD PLUTO=$BUILD/pluto
export WHACK=$BUILD/clients/whack/whack IPSECCTL=$BUILD/clients/ipsecctl/ipsecctl
# shellcheck source=SCRIPTDIR/../tests/lib/scenario.sh
. "$TOP/tests/lib/scenario.sh"

#   netns pluto-west (side L)                 netns pluto-east (side R)
#   lo: 10.1.0.1 (client)                     lo: 10.2.0.1 (client)
#   pluto-west0: 198.51.100.1/24 <-- veth --> pluto-east0: 198.51.100.2/24
NS_L=pluto-west NS_R=pluto-east
L_IP=198.51.100.1 R_IP=198.51.100.2
L_NET=10.1.0.0/16 R_NET=10.2.0.0/16
# shellcheck disable=SC2034 # read by the harness
L_CLIENT=10.1.0.1 R_CLIENT=10.2.0.1
CONN=west-east
# the harness names namespaces by side (prefix + L/R): the demo's are fixed
ns_of() { [ "$1" = L ] && echo "$NS_L" || echo "$NS_R"; }
# SIGHUP (closed terminal) leaves through the harness's EXIT trap as well
trap 'exit 129' HUP

# demo_netns_up: the namespaces have fixed names, so a run killed with
# SIGKILL leaves them behind: delete them when empty, refuse when a process
# still lives there (another demo running, or a daemon of the killed one)
demo_netns_up() {
	local ns pids
	for ns in "$NS_L" "$NS_R"; do
		ip netns list | awk '{print $1}' | grep -qx -- "$ns" || continue
		pids=$(ip netns pids "$ns" | tr '\n' ' ')
		if [ -n "$pids" ]; then
			NS_L="" NS_R="" # not ours: keep the EXIT trap off them
			die "namespace $ns is in use by pid(s) $pids(another demo/run.sh?)"
		fi
		ip netns del "$ns"
	done
	say "network namespaces $NS_L ($L_IP) and $NS_R ($R_IP)"
	echo "   files in $T (removed at exit unless KEEP_TEST_DIR=1)"
	io_netns_up
}

# demo_start SIDE: configure and start SIDE's implementation; a pluto gets
# the connection under the demo's name, the peers use the harness's "lab"
demo_start() {
	local s=$1 opts
	if [ "${IMPL[$s]}" = pluto ]; then
		pluto_conf "$s" && pluto_launch "$s" || return 1
		mapfile -t opts < <(pluto_options)
		echo "   ipsecctl add $CONN ${opts[*]}"
		pluto_ctl "$s" add "$CONN" "${opts[@]}"
	else
		echo "   ${IMPL[$s]}: conn lab, $L_NET <-> $R_NET, PSK, $IKE_ENC-$IKE_HASH-$IKE_GROUP, $PHASE2 $P2_ENC-$P2_INTEG"
		peer conf "$s" && peer start "$s"
	fi
}

# demo_established SIDE: ISAKMP SA and IPsec SA up on SIDE (the responder
# finishes a moment after the initiator, hence the polling)
demo_established() {
	if [ "${IMPL[$1]}" = pluto ]; then wait_for 5 pluto_established "$1" "$CONN"
	else wait_for 5 peer established "$1"; fi
}

# demo_status_command SIDE: what `peer status SIDE` runs, for the heading
demo_status_command() {
	case ${IMPL[$1]} in
	pluto) echo "ipsecctl status" ;;
	strongswan) echo "swanctl --list-sas" ;;
	libreswan) echo "whack --showstates" ;;
	esac
}

# demo_show_logs: the last lines of pluto's logs, where a failure is
# explained (the peers' logs are kept with KEEP_TEST_DIR=1: charon's has
# key material at the level the harness logs)
demo_show_logs() {
	local s
	for s in L R; do
		[ "${IMPL[$s]}" = pluto ] || continue
		say "last lines of $(ns_of "$s")'s pluto log"
		tail -n 25 "$(pluto_log "$s")"
	done
	echo "(KEEP_TEST_DIR=1 demo/run.sh ... keeps every log, the peer's too)"
}
