#!/bin/bash
# A long fuzzing run of one target:
#
#     tests/fuzz/campaign.sh TARGET SECONDS
#
# runs build-test/tests/fuzz/fuzz-TARGET (ASan + UBSan, built by
# tests/run.sh or ninja -C build-test) with nice -n 19 for SECONDS over the
# committed corpus tests/fuzz/corpus/TARGET, writing the new inputs it
# finds into a scratch directory, never into the tree:
#
#     $SCRATCH/TARGET/corpus     new inputs (libFuzzer's first corpus directory)
#     $SCRATCH/TARGET/artifacts  crash-*, leak-*, timeout-*, oom-* inputs
#     $SCRATCH/TARGET/log        libFuzzer's output (fuzz-*.log per job with -fork)
#
# SCRATCH defaults to /tmp/pluto-fuzz. libFuzzer runs with -fork=JOBS
# (JOBS default 1: the machine is shared): the jobs share the corpus, and a
# crash or leak does not end the campaign (-ignore_crashes=1), so one run
# collects several. The last lines
# say what to do next: how to merge the new inputs back (minimised, with
# -merge=1) and how to reproduce an artifact.
set -u
[ $# -eq 2 ] || { echo "usage: $0 TARGET SECONDS" >&2; exit 2; }
target=$1 seconds=$2
cd "$(dirname "$0")/../.." || exit 2
BUILDDIR=${BUILDDIR:-build-test}
SCRATCH=${SCRATCH:-/tmp/pluto-fuzz}
JOBS=${JOBS:-1}
exe=$BUILDDIR/tests/fuzz/fuzz-$target
seeds=tests/fuzz/corpus/$target
[ -x "$exe" ] || { echo "$0: no $exe: build with tests/run.sh (or ninja -C $BUILDDIR)" >&2; exit 2; }
[ -d "$seeds" ] || { echo "$0: no corpus $seeds" >&2; exit 2; }
# absolute, so a BUILDDIR outside the tree (a copy that a rebuild cannot
# replace under a running campaign) works as well as build-test
exe=$(realpath "$exe") seeds=$(realpath "$seeds")
dir=$SCRATCH/$target
mkdir -p "$dir/corpus" "$dir/artifacts" "$dir/log"

args=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=25 -print_final_stats=1
      -artifact_prefix="$dir/artifacts/"
      -fork="$JOBS" -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1)
# as in meson.build: the entropic scheduler costs fuzz-ikev1 three quarters
# of its time (tens of thousands of features per input)
[ "$target" = ikev1 ] && args+=(-entropic=0)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
start=$(date +%s)
(cd "$dir/log" && nice -n 19 "$exe" "${args[@]}" "$dir/corpus" "$seeds") \
	>"$dir/log/campaign.log" 2>&1
rc=$?
end=$(date +%s)
echo "$target: ran $((end - start)) s, exit $rc"
grep -E '^#[0-9]+.*(cov|DONE)|stat::number_of_executed_units|stat::peak_rss_mb' "$dir/log/campaign.log" | tail -n 3
ls "$dir/artifacts" | sed 's/^/artifact: /'
cat <<EOF
new inputs: $(ls "$dir/corpus" | wc -l) in $dir/corpus
merge them back (only the inputs that add coverage, minimised):
    $exe -merge=1 $seeds $dir/corpus
reproduce an artifact (FUZZ_IKEV1_VERBOSE=1 shows the daemon's log for ikev1):
    $exe $dir/artifacts/crash-...
EOF
