#!/bin/bash
# Line coverage of the daemon reached by the fuzz corpora:
#
#     tests/fuzz/coverage.sh [TARGET...]        (default: every target)
#
# builds the libFuzzer targets with clang's source-based coverage
# (-fprofile-instr-generate -fcoverage-mapping, no sanitizers: the numbers
# are about what the inputs reach, not about bugs) in $COVDIR (default
# build-cov), runs each target once over its committed corpus
# tests/fuzz/corpus/TARGET (-runs=0: no new inputs, so the numbers are
# those of the tree), merges the profiles and prints the per-file line
# coverage of the IKEv1 handlers and the wire parsers (the table in
# tests/fuzz/README.md), then the total of src/daemon.
#
# Environment: COVDIR (build directory), CORPUS (a directory holding one
# directory per target, default tests/fuzz/corpus: point it at a campaign's
# scratch directories to see what they add), FILES (an egrep pattern of the
# source paths to list).
set -u
cd "$(dirname "$0")/../.." || exit 2
COVDIR=${COVDIR:-build-cov}
CORPUS=${CORPUS:-tests/fuzz/corpus}
FILES=${FILES:-'src/daemon/(ikev1/(quick_mode|informational|xauth|modecfg|transaction|main_mode)|wire/[^/]*)\.c$'}
say() { echo "coverage.sh: $*" >&2; }

# the tools of the compiler's own version: a newer llvm-cov cannot read
# an older clang's profiles
ver=$(clang --version | sed -n 's/.*clang version \([0-9]*\)\..*/\1/p' | head -n 1)
profdata=llvm-profdata-$ver cov=llvm-cov-$ver
command -v "$profdata" >/dev/null || profdata=llvm-profdata
command -v "$cov" >/dev/null || cov=llvm-cov

if [ $# -eq 0 ]; then
	set -- $(sed -n "s/^  '\([a-z0-9-]*\)': \['fuzz-.*/\1/p" tests/fuzz/meson.build)
fi

if [ ! -f "$COVDIR/build.ninja" ]; then
	flags="-fprofile-instr-generate -fcoverage-mapping"
	CC=clang meson setup -Dfuzz=true -Dtests=true -Db_lundef=false --buildtype=debug \
		"-Dc_args=$flags" "-Dc_link_args=$flags" "$COVDIR" >&2 || { say "meson setup failed"; exit 2; }
fi
targets=()
for t in "$@"; do targets+=("tests/fuzz/fuzz-$t"); done
# (a generator the build runs is instrumented too: its profile goes nowhere)
LLVM_PROFILE_FILE=/dev/null nice -n 10 ninja -C "$COVDIR" "${targets[@]}" >&2 || { say "build failed"; exit 2; }

prof=$COVDIR/fuzz-coverage
rm -rf "$prof"
mkdir -p "$prof"
objects=()
for t in "$@"; do
	exe=$COVDIR/tests/fuzz/fuzz-$t
	[ -d "$CORPUS/$t" ] || { say "no corpus $CORPUS/$t"; continue; }
	# one profile per process (%p): libFuzzer may fork for -merge
	LLVM_PROFILE_FILE="$prof/$t-%p.profraw" "$exe" -runs=0 -rss_limit_mb=2048 "$CORPUS/$t" \
		>"$prof/$t.log" 2>&1 || say "$t failed on its corpus: see $prof/$t.log"
	say "$t: $(grep -c . <(ls "$CORPUS/$t")) inputs, $(grep -o 'cov: [0-9]* ft: [0-9]*' "$prof/$t.log" | tail -n 1)"
	objects+=(-object "$exe")
done
"$profdata" merge -sparse "$prof"/*.profraw -o "$prof/all.profdata" || { say "llvm-profdata failed"; exit 2; }
# the first object is the positional one
first=${objects[1]}
rest=("${objects[@]:2}")
report=$("$cov" report -instr-profile="$prof/all.profdata" "$first" "${rest[@]}" 2>/dev/null)
# columns of llvm-cov report: name, regions (3), functions (3), lines (3), branches (3)
echo "$report" | awk -v pat="$FILES" -v root="$PWD/" '
	{ name = $1; sub(root, "", name); sub(/^(\.\.\/)+/, "", name) }
	name ~ pat { printf "%-40s %6s lines, %5s missed, %7s covered\n", name, $8, $9, $10 }'
echo "$report" | awk -v root="$PWD/" '
	{ name = $1; sub(root, "", name); sub(/^(\.\.\/)+/, "", name) }
	name ~ /^src\/daemon\// { l += $8; m += $9 }
	END { if (l) printf "%-40s %6d lines, %5d missed, %6.2f%% covered\n", "src/daemon (all)", l, m, 100 * (l - m) / l }'
