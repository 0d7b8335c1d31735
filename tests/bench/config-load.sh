#!/bin/bash
# tests/bench/config-load.sh [N]: how long a configuration of N connections
# (default 10000) takes to load and to reload, and how much memory it holds,
# for pluto side by side with strongSwan (swanctl --load-conns) and
# libreswan (pluto --config, which runs "addconn --autoall") in the same run.
#
# Not part of the suite: it is a measurement, not a test (tests/bench/README.md).
# Runs as root, each daemon in a network namespace of its own, with a release
# build of pluto in build-bench/ (no sanitizers: they would measure ASan).
#
# What is measured, per daemon, on the same machine in the same minute:
#   check   pluto --check-config: parse + validate the file, nothing applied
#   load    from exec to "N connections loaded" (pluto: the start-up summary
#           line; strongSwan: swanctl --load-conns returns; libreswan: its log
#           says "added IKEv1 connection" N times)
#   reload  the same file again with nothing changed (pluto: ipsecctl reload;
#           strongSwan: swanctl --load-conns again; libreswan: none: its
#           "ipsec auto --replace" is per connection, so it is not listed)
#   reload1 one connection changed (pluto only)
#   batch   the same N connections through one AddConnections call into a
#           fresh daemon (pluto: ipsecctl add --file; strongSwan's
#           swanctl --load-conns is one VICI batch already, its "load"
#           column; libreswan has none)
#   rss     VmRSS of the daemon after load (kB), and after the reloads
# Output: one table on stdout; logs in $BENCH_DIR (default /tmp/pluto-bench).
set -euo pipefail
N=${1:-10000}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
B=${BENCH_DIR:-/tmp/pluto-bench}
INTEROP_ROOT=${INTEROP_ROOT:-/opt/pluto-interop}
LSBIN=$INTEROP_ROOT/libreswan/usr/libexec/ipsec
[ "$(id -u)" = 0 ] || { echo "config-load.sh: run as root (network namespaces)" >&2; exit 2; }

rm -rf "$B"; mkdir -p "$B"
BUILD=$SRC/build-bench
if [ ! -f "$BUILD/build.ninja" ]; then
	meson setup --buildtype=release -Dtests=false "$BUILD" "$SRC" >"$B/meson.log"
fi
ninja -C "$BUILD" >"$B/ninja.log"
PLUTO=$BUILD/pluto IPSECCTL=$BUILD/clients/ipsecctl/ipsecctl

# shellcheck source=tests/bench/bench-lib.sh
. "$SRC/tests/bench/bench-lib.sh"
# each daemon's namespace has the conns' local address, 192.0.2.1
netns() {
	ip netns del "bench-$1" 2>/dev/null || true
	ip netns add "bench-$1"
	ip -n "bench-$1" link set lo up
	ip -n "bench-$1" addr add 192.0.2.1/32 dev lo
}
cleanup() {
	local ns
	for ns in pluto strongswan libreswan; do
		ip netns pids "bench-$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
		ip netns del "bench-$ns" 2>/dev/null || true
	done
}
trap cleanup EXIT

# The same N connections in each dialect: conn i is 192.0.2.1 <-> 10.a.b.c
# (one distinct peer each), subnets 10.128.x.y/32 <-> 172.16.x.y/32, PSK.
peer_of() { echo "10.$(( $1 / 65536 )).$(( $1 / 256 % 256 )).$(( $1 % 256 ))"; }
awk_peers='function peer(i) { return sprintf("10.%d.%d.%d", int(i/65536), int(i/256)%256, i%256) }
           function sub1(i) { return sprintf("10.%d.%d.%d/32", 128 + int(i/65536), int(i/256)%256, i%256) }
           function sub2(i) { return sprintf("172.%d.%d.%d/32", 16 + int(i/65536), int(i/256)%256, i%256) }'

awk -v n="$N" "$awk_peers"'
BEGIN {
	print "config setup\n\tlisten=no\n\nconn %default\n\tleft=192.0.2.1\n\tauthby=secret\n\tauto=add\n"
	for (i = 1; i <= n; i++)
		printf "conn c%d\n\tright=%s\n\tleftsubnet=%s\n\trightsubnet=%s\n\n", i, peer(i), sub1(i), sub2(i)
}' >"$B/pluto-ipsec.conf"
echo '192.0.2.1 %any : PSK "bench-secret"' >"$B/ipsec.secrets"; chmod 600 "$B/ipsec.secrets"

awk -v n="$N" "$awk_peers"'
BEGIN {
	print "config setup\n\tikev1-policy=accept\n\nconn %default\n\tikev2=no\n\tleft=192.0.2.1\n\tauthby=secret\n\tleftupdown=%disabled\n\tauto=add\n"
	for (i = 1; i <= n; i++)
		printf "conn c%d\n\tright=%s\n\tleftsubnet=%s\n\trightsubnet=%s\n\n", i, peer(i), sub1(i), sub2(i)
}' >"$B/libreswan-ipsec.conf"

mkdir -p "$B/swanctl"
awk -v n="$N" "$awk_peers"'
BEGIN {
	print "connections {"
	for (i = 1; i <= n; i++)
		printf "  c%d {\n    version = 1\n    local_addrs = 192.0.2.1\n    remote_addrs = %s\n    local { auth = psk }\n    remote { auth = psk }\n    children { c%d { local_ts = %s\n      remote_ts = %s } }\n  }\n", i, peer(i), i, sub1(i), sub2(i)
	print "}\nsecrets { ike-1 { secret = bench-secret } }"
}' >"$B/swanctl/swanctl.conf"

declare -A R   # R[daemon,metric]
ms_since() { echo $(( $(now_ms) - $1 )); }

# --- pluto ---
bench_pluto() {
	netns pluto
	local t0 pid
	t0=$(now_ms)
	"$PLUTO" --check-config --config "$B/pluto-ipsec.conf" >"$B/pluto-check.out" 2>&1
	R[pluto,check]=$(ms_since "$t0")
	mkdir -p "$B/pluto-run"
	t0=$(now_ms)
	ip netns exec bench-pluto "$PLUTO" --nofork --stderrlog --nodbus --kernel none \
		--rundir "$B/pluto-run" --ctlbase "$B/pluto-run/ctl" --config "$B/pluto-ipsec.conf" \
		--secretsfile "$B/ipsec.secrets" >"$B/pluto.log" 2>&1 &
	pid=$!
	wait_until 120 grep -q "loaded $B/pluto-ipsec.conf: $N connections" "$B/pluto.log" ||
		{ echo "pluto did not report $N connections loaded (see $B/pluto.log)" >&2; return 1; }
	R[pluto,load]=$(ms_since "$t0")
	R[pluto,rss]=$(rss_kb "$pid")
	t0=$(now_ms)
	"$IPSECCTL" --socket "$B/pluto-run/ctl" reload >"$B/pluto-reload.out"
	R[pluto,reload]=$(ms_since "$t0")
	sed -i "0,/rightsubnet=172.16.0.1\/32/s//rightsubnet=172.31.0.1\/32/" "$B/pluto-ipsec.conf"
	t0=$(now_ms)
	"$IPSECCTL" --socket "$B/pluto-run/ctl" reload >"$B/pluto-reload1.out"
	R[pluto,reload1]=$(ms_since "$t0")
	grep -q c1 "$B/pluto-reload1.out" || { echo "pluto: the changed conn c1 is not reported" >&2; return 1; }
	R[pluto,rss2]=$(rss_kb "$pid")
	kill "$pid"; wait "$pid" || true
	# one batch: the conns of the file as "conn NAME" sections with every key
	awk '/^config setup/ { d = 2; next } /^conn %default/ { d = 1; next } /^conn / { d = 0; print; print defaults; next }
	     /^\t/ { if (d == 1) defaults = defaults (defaults ? "\n" : "") $0; else if (d == 0) print; next }' \
		"$B/pluto-ipsec.conf" >"$B/pluto-batch.conf"
	rm -rf "$B/pluto-run"; mkdir -p "$B/pluto-run"
	ip netns exec bench-pluto "$PLUTO" --nofork --stderrlog --nodbus --kernel none \
		--rundir "$B/pluto-run" --ctlbase "$B/pluto-run/ctl" \
		--secretsfile "$B/ipsec.secrets" >"$B/pluto-batch.log" 2>&1 &
	pid=$!
	wait_until 20 test -S "$B/pluto-run/ctl"
	t0=$(now_ms)
	"$IPSECCTL" --socket "$B/pluto-run/ctl" add --file "$B/pluto-batch.conf" >"$B/pluto-batch.out" 2>&1 &&
		R[pluto,batch]=$(ms_since "$t0")
	kill "$pid"; wait "$pid" || true
}

# --- strongSwan (charon-systemd + swanctl over VICI) ---
bench_strongswan() {
	netns strongswan
	local t0 pid
	cat >"$B/strongswan.conf" <<EOF
charon-systemd {
  load_modular = no
  load = random nonce openssl aes sha1 sha2 hmac kdf kernel-netlink socket-default vici
  filelog { bench { path = $B/charon.log
    default = 0 } }
  journal { default = -1 }
  syslog { daemon { default = -1 } }
  plugins { vici { socket = unix://$B/charon.vici } }
}
swanctl { socket = unix://$B/charon.vici
  load = openssl random }
EOF
	STRONGSWAN_CONF=$B/strongswan.conf ip netns exec bench-strongswan /usr/sbin/charon-systemd \
		>"$B/charon.out" 2>&1 &
	pid=$!
	wait_until 20 test -S "$B/charon.vici" || { echo "charon did not start" >&2; return 1; }
	t0=$(now_ms)
	STRONGSWAN_CONF=$B/strongswan.conf SWANCTL_DIR=$B/swanctl swanctl --load-conns >"$B/swanctl-load.out" 2>&1
	R[strongswan,load]=$(ms_since "$t0")
	R[strongswan,rss]=$(rss_kb "$pid")
	t0=$(now_ms)
	STRONGSWAN_CONF=$B/strongswan.conf SWANCTL_DIR=$B/swanctl swanctl --load-conns >"$B/swanctl-reload.out" 2>&1
	R[strongswan,reload]=$(ms_since "$t0")
	R[strongswan,rss2]=$(rss_kb "$pid")
	kill "$pid"; wait "$pid" || true
}

# --- libreswan 4.10 (unpacked by tests/interop/setup.sh) ---
bench_libreswan() {
	[ -x "$LSBIN/pluto" ] || { echo "libreswan not unpacked: run tests/interop/setup.sh" >&2; return 1; }
	netns libreswan
	local t0 pid
	mkdir -p "$B/ls/run" "$B/ls/nss" "$B/ls/ipsec.d"
	certutil -N -d "sql:$B/ls/nss" --empty-password
	# as tests/lib/peer-libreswan.sh: addconn lives under /usr/libexec/ipsec
	t0=$(now_ms)
	LSBIN=$LSBIN D=$B ip netns exec bench-libreswan unshare -m --propagation private sh -c '
		mount -t tmpfs bench-libexec /usr/libexec && ln -s "$LSBIN" /usr/libexec/ipsec &&
		mount -t tmpfs bench-run /run && mkdir -p /run/pluto || exit 1
		exec "$LSBIN/pluto" --config "$D/libreswan-ipsec.conf" --secretsfile "$D/ipsec.secrets" \
			--ipsecdir "$D/ls/ipsec.d" --nssdir "$D/ls/nss" --rundir "$D/ls/run" --nofork --stderrlog' \
		>"$B/libreswan.log" 2>&1 &
	pid=$!
	libreswan_count() { [ "$(grep -c ': added IKEv1 connection' "$B/libreswan.log")" -ge "$N" ]; }
	wait_until 300 libreswan_count || { echo "libreswan did not load $N conns in 300 s" >&2; R[libreswan,load]=">300000"; }
	[ -n "${R[libreswan,load]:-}" ] || R[libreswan,load]=$(ms_since "$t0")
	local lpid
	lpid=$(cat "$B/ls/run/pluto.pid" 2>/dev/null || echo "$pid")
	R[libreswan,rss]=$(rss_kb "$lpid" 2>/dev/null || echo "?")
	kill "$pid" 2>/dev/null; wait "$pid" || true
}

bench_pluto
bench_strongswan || echo "strongSwan run failed (see $B)" >&2
bench_libreswan || echo "libreswan run failed (see $B)" >&2

printf '%s connections, %s, %s\n' "$N" "$(uname -r)" "$(date -u +%FT%TZ)"
printf '%-11s %10s %10s %10s %10s %10s %12s %12s\n' daemon check_ms load_ms reload_ms reload1_ms batch_ms rss_kB rss_after_kB
for d in pluto strongswan libreswan; do
	printf '%-11s %10s %10s %10s %10s %10s %12s %12s\n' "$d" "${R[$d,check]:--}" "${R[$d,load]:--}" \
		"${R[$d,reload]:--}" "${R[$d,reload1]:--}" "${R[$d,batch]:--}" "${R[$d,rss]:--}" "${R[$d,rss2]:--}"
done
