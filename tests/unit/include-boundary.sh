#!/bin/sh
# The layer boundary of issue 9, as include lines: every dependency points
# one way, down LAYER_ORDER at the top of tools/depgraph.py (common < policy
# < log < model < klips < wire < crypto < config < io < engine < control <
# bus < main); the engine and klips reach the core above them only through
# hooks it registers. Fails naming each offending file and line.
#
#   include-boundary.sh [TREE]     (default: $SRCDIR, else the tree around this script)
#
# tools/depgraph.py --check (unit-layers) checks the whole include + call
# graph against that order; this is the cheap part of it that needs no
# build and names the line.
set -u
root=${1:-${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}}
cd "$root" || exit 2
bad=0

# check WHO (find arguments) FORBIDDEN (extended regexp of include paths) WHY
check() {
	files=$1 forbidden=$2 why=$3
	for f in $files; do
		[ -f "$f" ] || continue
		hits=$(grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]*\"([^\"]*/)?($forbidden)" "$f") || continue
		echo "$hits" | while IFS= read -r hit; do
			echo "$f:$hit: $why"
		done
		bad=1
	done
}

engine=$(find src/daemon/ikev1 -name '*.[ch]' | sort)
klips=$(find src/klips -name '*.[ch]' | sort)
core=$(find src/daemon -maxdepth 1 -name '*.[ch]' ! -name main.c | sort; find src/bus -name '*.[ch]' | sort)
below_engine=$(find src/daemon/wire src/daemon/crypto -name '*.[ch]' | sort)

check "$engine" 'daemon/control\.h' \
	"the engine reaches the control core only through daemon/engine.h (hooks the core registers)"
check "$klips" 'daemon/control\.h|daemon/engine\.h|(daemon/)?ikev1/|(daemon/)?wire/|(daemon/)?crypto/' \
	"src/klips sits below the control core, the engine, wire/ and crypto/ (routing_hooks for what it needs from above)"
check "$core" '(daemon/)?ikev1/' \
	"outside main.c the control core sees the engine only through daemon/engine.h"
check "$below_engine" 'daemon/control\.h|daemon/engine\.h|(daemon/)?ikev1/|klips/' \
	"wire/ and crypto/ sit below the engine and the control core"

if [ -z "$engine" ] || [ -z "$klips" ] || [ -z "$core" ]; then
	echo "include-boundary: $root does not look like the pluto tree" >&2
	exit 2
fi
if [ "$bad" -ne 0 ]; then
	echo "include-boundary: FAILED: dependencies above point the wrong way" >&2
	exit 1
fi
echo "include-boundary: ok ($(echo $engine $klips $core $below_engine | wc -w) files)"
