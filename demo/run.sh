#!/bin/bash
# The main job: build pluto, start two network namespaces joined by a veth
# pair, pluto in the west one and pluto (or strongSwan, or libreswan) in the
# east one, describe the tunnel 10.1.0.0/16 <-> 10.2.0.0/16 on both sides,
# negotiate it from the west with whack (progress shown), print the status
# of both sides and clean up. Run as root on Debian 12.
#
# The namespaces, daemons and peer configurations come from the interop
# harness (tests/lib/scenario.sh, through demo/lib.sh).
set -u

usage() {
	cat <<'EOF'
usage: demo/run.sh [--peer pluto|strongswan|libreswan] [--help]

Builds pluto (in build-demo/), starts namespaces pluto-west and pluto-east,
runs pluto in the west and the chosen peer in the east, negotiates the
tunnel 10.1.0.0/16 <-> 10.2.0.0/16 (PSK, IKE aes128-sha1-modp2048, ESP
aes128-sha1) with `whack --initiate` from the west, prints `ipsecctl status`
of the west pluto and the east side's own status (ipsecctl status,
swanctl --list-sas, or libreswan's whack --showstates), and removes the
namespaces, daemons and files on every exit. Needs root; installs missing
Debian packages with apt (the peers through tests/interop/setup.sh).

  --peer pluto        east runs pluto (the default)
  --peer strongswan   east runs strongSwan's charon, configured with swanctl
  --peer libreswan    east runs libreswan's pluto
  -h, --help          this text

Environment: BUILD (build directory, default build-demo), KEEP_TEST_DIR=1
(keep the work directory and print the daemons' logs at the end).
Exit status: 0 when both sides have the ISAKMP SA and the IPsec SA.
EOF
}

PEER=pluto
while [ $# -gt 0 ]; do
	case $1 in
	--peer) [ $# -ge 2 ] || { usage >&2; exit 2; }; PEER=$2; shift 2 ;;
	--peer=*) PEER=${1#--peer=}; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "demo/run.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
	esac
done
case $PEER in
pluto|strongswan|libreswan) ;;
*) echo "demo/run.sh: --peer must be pluto, strongswan or libreswan, not '$PEER'" >&2; exit 2 ;;
esac
[ "$(id -u)" -eq 0 ] || { echo "demo/run.sh: run as root (network namespaces)" >&2; exit 1; }

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
# from here on the harness's traps clean up whatever exists
# shellcheck source=SCRIPTDIR/lib.sh
. "$TOP/demo/lib.sh"

demo_install_deps || die "could not install the build dependencies"
demo_build || die "the build failed"
[ "$PEER" = pluto ] || demo_install_peers || die "tests/interop/setup.sh could not install the peers"

io_case psk-aes
io_side L pluto
io_side R "$PEER"
demo_netns_up || die "could not set up the namespaces"

say "east ($NS_R): $PEER"
demo_start R || die "could not start $PEER in $NS_R"
say "west ($NS_L): pluto"
demo_start L || die "could not start pluto in $NS_L"

say "whack --name $CONN --initiate (in $NS_L)"
# bounded: an unanswered negotiation would otherwise take pluto's whole
# retransmission schedule; "&&": a ^C that kills the $(...) must not leave
# whack with an empty --ctlbase (which means the system's pluto)
sock=$(pluto_sock L) &&
	timeout "$IO_NEGOTIATE_TIMEOUT" "$WHACK" --ctlbase "$sock" --name "$CONN" --initiate
rc=$?
echo "whack exit status: $rc"

say "ipsecctl status ($NS_L, pluto)"
pluto_ctl L status
demo_established R # the responder's last step comes a moment later
say "$(demo_status_command R) ($NS_R, $PEER)"
peer status R

if [ "$rc" -eq 0 ] && demo_established L && demo_established R; then
	say "tunnel $L_NET <-> $R_NET established on both sides (pluto <-> $PEER)"
	exit 0
fi
say "the tunnel is NOT established on both sides"
demo_show_logs
exit 1
