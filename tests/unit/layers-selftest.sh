#!/bin/sh
# tools/depgraph.py --check must catch what it is there to catch: on a
# small tree with one planted offence per rule (an include pointing up
# LAYER_ORDER, a module in no layer, a cycle across folders) it fails
# (exit 1) naming each, and lets the allowed dependencies (down the order,
# a cycle inside one folder) pass; without the offences it passes.
set -u
depgraph=${1:?usage: layers-selftest.sh path/to/depgraph.py}
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree/src/daemon/ikev1" "$tree/src/klips" "$tree/src/common" "$tree/clients/a" "$tree/clients/b"
plant() { printf '#include "%s"\n' "$2" >>"$tree/$1"; }
# allowed: down the order, and a cycle inside the engine's folder
for h in src/daemon/log.h src/daemon/state.h src/daemon/control.h src/common/util.h; do : >"$tree/$h"; done
plant src/daemon/state.c daemon/log.h
plant src/daemon/log.c common/util.h
plant src/klips/routing.c daemon/state.h
plant src/daemon/ikev1/a.h daemon/ikev1/b.h
plant src/daemon/ikev1/b.h daemon/ikev1/a.h
plant src/daemon/ikev1/a.c daemon/state.h

python3 "$depgraph" --check --src "$tree" >"$tree/ok.out" 2>&1
rc=$?
cat "$tree/ok.out"
fail=0
[ "$rc" -eq 0 ] || { echo "FAIL: the clean tree exits $rc, want 0"; fail=1; }

# planted offences
plant src/daemon/log.c daemon/state.h          # log -> model: up
plant src/klips/routing.c daemon/control.h     # klips -> control: up
plant src/daemon/newthing.c daemon/log.h       # in no layer
plant clients/a/x.c clients/b/y.h              # clients/a <-> clients/b
plant clients/b/y.c clients/a/x.h
: >"$tree/clients/a/x.h"; : >"$tree/clients/b/y.h"

out=$(python3 "$depgraph" --check --src "$tree" 2>&1)
rc=$?
echo "$out"
[ "$rc" -eq 1 ] || { echo "FAIL: exit $rc, want 1"; fail=1; }
for want in 'points up: src/daemon/log (log) -> src/daemon/state (model)' \
	    'points up: src/klips/routing (klips) -> src/daemon/control (control)' \
	    'no layer: src/daemon/newthing' \
	    'cycle across folders (clients/a, clients/b)'; do
	echo "$out" | grep -qF "$want" || { echo "FAIL: not reported: $want"; fail=1; }
done
for allowed in 'src/daemon/state (model) ->' 'src/klips/routing (klips) -> src/daemon/state' \
	       'src/daemon/ikev1/a'; do
	echo "$out" | grep -F "$allowed" | grep -v '^layering:' && { echo "FAIL: reported: $allowed"; fail=1; }
done
exit $fail
