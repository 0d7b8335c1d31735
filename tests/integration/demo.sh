#!/bin/bash
# The README's main job, demo/run.sh (pluto <-> pluto), run as a user would
# but on the build under test (BUILD=$BUILDDIR: nothing is built again).
# It broke once unnoticed when the harness it sources moved; this keeps it
# working: exit 0, the tunnel established on both sides, both status
# tables shown, and no namespace left behind.
# shellcheck source=tests/lib/common.sh
source "$SRCDIR/tests/lib/common.sh"
[ "$(id -u)" -eq 0 ] || skip_all "the demo makes network namespaces: needs root"
for ns in pluto-west pluto-east; do
	ip netns list | awk '{print $1}' | grep -qx "$ns" &&
		skip_all "namespace $ns exists: a demo/run.sh is running on this machine"
done

out=$(BUILD=$BUILDDIR "$SRCDIR/demo/run.sh" 2>&1)
rc=$?
echo "$out" >"$T/demo.out"
check_eq "demo/run.sh exits 0" 0 "$rc"
check_contains "the tunnel is established on both sides" \
	"established on both sides (pluto <-> pluto)" "$out"
check_contains "west's status shows the initiator's IPsec SA" "STATE_QUICK_I2" "$out"
check_contains "east's status shows the responder's IPsec SA" "STATE_QUICK_R2" "$out"
check_not_contains "no namespace of the demo is left" "pluto-west" "$(ip netns list)"
done_testing
