#!/bin/bash
# tests/vm/vm.sh - the meson test 'vm-kernel-e2e' (suite vm): boots the
# Debian kernel once under qemu (tests/vm/run-in-vm.sh) and runs every
# scenario of tests/vm/e2e.sh inside it against this build tree, which the
# guest sees through the shared host root.
#
# Passes when the guest printed its plan, every line is "ok" and the guest
# exited 0. Exit 77 (skipped) only when the VM cannot be had at all: qemu
# or the kernel package cannot be installed (tests/vm/setup.sh says why).
# A VM that is there but fails to boot is a failure.
#
# The guest's per-case logs land in a host directory, printed and kept
# when something failed (KEEP_TEST_DIR=1 keeps it always).
set -u
: "${SRCDIR:?run through meson test}" "${PLUTO:?run through meson test}"
: "${IPSECCTL:?run through meson test}" "${WHACK:?run through meson test}"
VM=$SRCDIR/tests/vm

skip() { echo "1..0 # SKIP $*"; exit 77; }

# --- the VM: qemu, kernel, initramfs (about 1 s when cached) ---
if ! "$VM/setup.sh" --check; then
	if ! out=$("$VM/setup.sh" 2>&1); then
		echo "$out" | sed 's/^/# /'
		skip "no VM: tests/vm/setup.sh could not prepare qemu and the Debian kernel"
	fi
fi
# the peers (strongSwan, libreswan) come from the interop setup; without
# them the guest reports those cases as skipped
[ "$(id -u)" -ne 0 ] || "$SRCDIR/tests/interop/setup.sh" >/dev/null 2>&1 ||
	echo "# warning: tests/interop/setup.sh failed; peer cases will be skipped"

# The guest sees the host's / read-only, but with fresh tmpfs on /tmp,
# /run and /var/tmp, so a checkout there (CI clones anywhere) would be
# invisible: share the tree read-write at its own path instead. The
# source tree when the build is inside it (as tests/run.sh builds), else
# the build tree (the source must then be outside those tmpfs dirs).
case "$BUILDDIR/" in
"$SRCDIR/"*) WORK=$SRCDIR ;;
*) WORK=$BUILDDIR ;;
esac
case "$SRCDIR/" in
"$WORK/"*) ;;
/tmp/* | /run/* | /var/tmp/*)
	skip "the source tree $SRCDIR is under a directory the guest replaces with tmpfs; build inside the source tree" ;;
esac
OUT=$(mktemp -d "$BUILDDIR/vm-out.XXXXXX")
export E2E_OUT=$OUT
export PLUTO_VM_WORKDIR=$WORK
export PLUTO_VM_PASSENV="SRCDIR BUILDDIR PLUTO WHACK IPSECCTL E2E_OUT E2E_ONLY ASAN_OPTIONS UBSAN_OPTIONS \
IO_NEGOTIATE_TIMEOUT KEEP_TEST_DIR E2E_TRACE"
t0=$(date +%s.%N)
"$VM/run-in-vm.sh" bash "$VM/e2e.sh" >"$OUT/tap.txt" 2>"$OUT/stderr.txt"
rc=$?
secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
cat "$OUT/tap.txt"

passed=$(grep -c '^ok ' "$OUT/tap.txt")
failed=$(grep -c '^not ok ' "$OUT/tap.txt")
skipped=$(grep -c '^ok .*# SKIP' "$OUT/tap.txt")
plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$OUT/tap.txt" | tail -1)
echo "# vm: $((passed - skipped)) passed, $failed failed, $skipped skipped, plan ${plan:-missing}," \
	"guest exit $rc, ${secs} s with the boot"

status=0
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ] && [ -n "$plan" ] && [ "$plan" -eq $((passed + failed)) ] || status=1
case $rc in
124) echo "# the VM timed out (PLUTO_VM_TIMEOUT)" ;;
125) echo "# the VM failed (not the tests):"; sed 's/^/#   /' "$OUT/stderr.txt" | tail -40 ;;
esac
if [ $status -ne 0 ] || [ -n "${KEEP_TEST_DIR:-}" ]; then
	[ $status -ne 0 ] && [ "$rc" -ne 125 ] && sed 's/^/# stderr: /' "$OUT/stderr.txt" | tail -40
	echo "# guest logs kept in $OUT"
	[ $status -eq 0 ] || for f in "$OUT"/*/*-pluto.log; do
		[ -f "$f" ] || continue
		grep -q . "$f" || continue
		echo "# ---- $f (klips lines, last 15)"
		grep -i 'klips\|xfrm\|kernel' "$f" | tail -n 15 | sed 's/^/#   /'
	done
else
	rm -rf -- "$OUT"
fi
exit $status
