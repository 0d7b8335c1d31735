# shellcheck shell=bash
# Helpers of the benchmarks in tests/bench (sourced): a clock, a daemon's
# memory, polling.
now_ms() { date +%s%3N; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# wait_until SECONDS CMD...: poll CMD every 20 ms
wait_until() {
	local end=$(( $(now_ms) + $1 * 1000 )); shift
	until "$@" >/dev/null 2>&1; do
		[ "$(now_ms)" -lt "$end" ] || return 1
		sleep 0.02
	done
}
