#!/bin/sh
# include-boundary.sh must catch what it is there to catch: on a small
# tree with one planted upward include per rule it fails (exit 1), names
# every planted file, and lets the allowed includes (main.c, engine.h
# from the engine, log.h from klips) pass.
set -u
check=$(dirname "$0")/include-boundary.sh
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree/src/daemon/ikev1" "$tree/src/daemon/wire" "$tree/src/daemon/crypto" "$tree/src/klips" "$tree/src/bus"
plant() { printf '#include "%s"\n' "$2" >"$tree/$1"; }
# planted offences, one per rule
plant src/daemon/ikev1/dpd.c daemon/control.h
plant src/klips/routing.c daemon/engine.h
plant src/klips/kernel.c daemon/crypto/crypto.h
plant src/daemon/control.c daemon/ikev1/dpd.h
plant src/bus/dbus.c daemon/ikev1/ikev1.h
plant src/daemon/wire/packet.c daemon/ikev1/ike_sa.h
# allowed
plant src/daemon/main.c daemon/ikev1/ikev1.h
plant src/daemon/ikev1/ikev1.c daemon/engine.h
plant src/klips/updown.c daemon/log.h
plant src/daemon/crypto/crypto.c policy/algs.h

out=$(sh "$check" "$tree" 2>&1)
rc=$?
echo "$out"
fail=0
[ "$rc" -eq 1 ] || { echo "FAIL: exit $rc, want 1"; fail=1; }
for f in src/daemon/ikev1/dpd.c src/klips/routing.c src/klips/kernel.c src/daemon/control.c \
	 src/bus/dbus.c src/daemon/wire/packet.c; do
	echo "$out" | grep -q "^$f:" || { echo "FAIL: $f not named"; fail=1; }
done
for f in src/daemon/main.c src/daemon/ikev1/ikev1.c src/klips/updown.c src/daemon/crypto/crypto.c; do
	echo "$out" | grep -q "^$f:" && { echo "FAIL: allowed $f named"; fail=1; }
done
[ "$fail" -eq 0 ] && echo "include-boundary-selftest: ok"
exit "$fail"
