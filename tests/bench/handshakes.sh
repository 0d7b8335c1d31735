#!/bin/bash
# tests/bench/handshakes.sh [N]: what one IKEv1 handshake (Main Mode +
# Quick Mode) costs a responder, for pluto side by side with strongSwan
# and libreswan in the same run: pluto-loadgen (tests/bench/loadgen)
# negotiates N tunnels (default 1000) from N source addresses, C in flight
# (closed loop), against each responder in turn, for each case.
#
# Not part of the suite: a measurement, not a test (tests/bench/README.md).
# Runs as root, the responders in network namespaces named lg-PID-r, the
# load generator in lg-PID-i, pluto from a release build in build-bench/
# (no sanitizers), strongSwan and libreswan as tests/interop/setup.sh
# installs them, SAs faked by the interop xfrm stub (this kernel has no
# ESP; pluto runs --kernel none, and pluto_xfrm --kernel xfrm with the
# stub). Nothing is judged by time.
#
# Per case and daemon, one row:
#   est        tunnels pluto-loadgen saw established (QR1 authenticated,
#              QI2 sent) / N
#   resp       IPsec SAs the responder itself lists as established: must
#              equal est (a tunnel half up on one side shows here)
#   cpu_ms/hs  responder CPU (utime+stime, children included, from
#              /proc/PID/stat) over the run / established tunnels
#   hs/s       established tunnels / seconds from the first MI1 to the last QI2
#   idle_kB    VmRSS with the connection loaded, before the run
#   kB/tun     (VmRSS after the run - idle) / established tunnels
#   flat       CPU per handshake of the last 1,000 over the first 1,000
#              (the load generator's /proc samples every 1,000 finished
#              handshakes); only when N >= 2000
#   p50_ms     median handshake latency seen by the initiator
#   refused    (pluto only) new Main Modes pluto refused as overloaded
#              (its "overloaded (...): ... N refused in the last second"
#              log lines, which add up to every refusal; daemon/rxload.h)
#   drops      datagrams the kernel dropped on the responder's IKE sockets
#              (ports 500 and 4500) for want of room: /proc/net/udp{,6}'s
#              drops column in the responder's namespace, before it stops
#   probe      (PROBE=1, pluto only) worst latency in ms of `ipsecctl
#              status` / a D-Bus property read (busctl get-property of the
#              Manager's Version on a private dbus-daemon), each run every
#              ~200 ms during the burst: the event loop's responsiveness
# Environment: C (in flight, default 8), CASES (default "psk-modp2048 pfs
# ecp256 rsa"), DAEMONS (default "pluto pluto_xfrm strongswan libreswan";
# pluto_xfrm is pluto with --kernel xfrm, see pluto_xfrm_start),
# PLUTO_XFRM_UPDOWN (pluto_xfrm's --updown command; default none: the
# built-in default), BENCH_DIR (default /tmp/pluto-bench-handshakes: logs,
# configurations, CSVs), PLUTO_ARGS (more pluto options), NHELPERS (e.g.
# "0 1 2": pluto runs once per value with --nhelpers N, rows pluto/hN),
# PROBE=1 (the probe column; pluto then runs with its D-Bus front end on a
# private bus), LG_ARGS (more pluto-loadgen options, e.g. a short retransmit).
set -euo pipefail
N=${1:-1000}
C=${C:-8}
CASES=${CASES:-psk-modp2048 pfs ecp256 rsa}
DAEMONS=${DAEMONS:-pluto pluto_xfrm strongswan libreswan}
PLUTO_ARGS=${PLUTO_ARGS:-}
NHELPERS=${NHELPERS:-}
PROBE=${PROBE:-0}
LG_ARGS=${LG_ARGS:-}
# NHELPERS: "pluto" becomes one pluto/hN per value
if [ -n "$NHELPERS" ]; then
	expanded=
	for dm in $DAEMONS; do
		if [ "$dm" = pluto ]; then
			for h in $NHELPERS; do expanded+=" pluto/h$h"; done
		else
			expanded+=" $dm"
		fi
	done
	DAEMONS=$expanded
fi
SRC=$(cd "$(dirname "$0")/../.." && pwd)
B=${BENCH_DIR:-/tmp/pluto-bench-handshakes}
INTEROP_ROOT=${INTEROP_ROOT:-/opt/pluto-interop}
LSBIN=$INTEROP_ROOT/libreswan/usr/libexec/ipsec
PSK="bench handshakes secret"
FQDN=loadgen.bench          # the load generator's ID with RSA: one public key by name
[ "$(id -u)" = 0 ] || { echo "handshakes.sh: run as root (network namespaces)" >&2; exit 2; }
# shellcheck source=tests/bench/bench-lib.sh
. "$SRC/tests/bench/bench-lib.sh"
# shellcheck source=tests/bench/loadgen/lg-netns.sh
. "$SRC/tests/bench/loadgen/lg-netns.sh"

rm -rf "$B"; mkdir -p "$B/keys"
BUILD=$SRC/build-bench
if [ ! -f "$BUILD/build.ninja" ]; then
	meson setup --buildtype=release -Dtests=false -Dbench=true "$BUILD" "$SRC" >"$B/meson.log"
else
	meson configure -Dbench=true "$BUILD" >"$B/meson.log"
fi
ninja -C "$BUILD" >"$B/ninja.log"
PLUTO=$BUILD/pluto IPSECCTL=$BUILD/clients/ipsecctl/ipsecctl
LOADGEN=$BUILD/tests/bench/loadgen/pluto-loadgen
STUB=$B/xfrm-stub.so
gcc -shared -fPIC -O2 -Wall -o "$STUB" "$SRC/tests/interop/xfrm-stub.c" -ldl

# RSA keys: PEM for pluto, strongSwan and the load generator, RFC 3110
# ("0s...": exponent length, exponent 65537, modulus) for libreswan
for k in resp lg; do
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$B/keys/$k.key" 2>/dev/null
	openssl pkey -in "$B/keys/$k.key" -pubout -out "$B/keys/$k.pub"
	echo "0s$( { printf '03010001'; openssl rsa -pubin -in "$B/keys/$k.pub" -noout -modulus |
		cut -d= -f2; } | tr -d '\n' | xxd -r -p | base64 -w0)" >"$B/keys/$k.rfc3110"
done

# stop_pid PID: SIGTERM, then SIGKILL after 30 s (charon deletes 50,000 SAs slowly)
stop_pid() {
	kill "$1" 2>/dev/null || return 0
	local i
	for i in $(seq 300); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
RPID= BUSPID=
cleanup() {
	[ -n "$RPID" ] && stop_pid "$RPID"
	[ -n "$BUSPID" ] && stop_pid "$BUSPID"
	lg_netns_down
}
trap cleanup EXIT

echo "# $N source addresses in $(date +%s)" >"$B/setup.log"
lg_netns_up "$$" "$N"

# The cases, in each daemon's spelling (one row each; "-" = none):
# case auth ike/esp/pfsgroup (pluto and pluto-loadgen) | strongSwan
# proposals, esp_proposals | libreswan ike=, phase2alg=
CASE_TABLE="
psk-modp2048 psk aes128-sha1-modp2048   aes128-sha1     -        aes128-sha1-modp2048 aes128-sha1          aes128-sha1;modp2048 aes128-sha1
pfs          psk aes128-sha1-modp2048   aes128-sha1     modp2048 aes128-sha1-modp2048 aes128-sha1-modp2048 aes128-sha1;modp2048 aes128-sha1;modp2048
ecp256       psk aes128-sha2_256-ecp256 aes128-sha2_256 -        aes128-sha256-ecp256 aes128-sha256        aes128-sha2_256;dh19 aes128-sha2_256
rsa          rsa aes128-sha1-modp2048   aes128-sha1     -        aes128-sha1-modp2048 aes128-sha1          aes128-sha1;modp2048 aes128-sha1
"
case_row() {
	read -r CASE AUTH IKE ESP PFS SS_IKE SS_ESP LS_IKE LS_ESP < <(awk -v c="$1" '$1 == c' <<<"$CASE_TABLE")
	[ -n "${CASE:-}" ] || { echo "handshakes.sh: no case $1" >&2; exit 2; }
}

# --- pluto: a road-warrior responder, --kernel none ---
# (pluto_xfrm: the same with --kernel xfrm and the xfrm stub, below)
pluto_start() { pluto_run --kernel none; }
# pluto_run ARGS...: the responder in $PLUTO_DIR with these options;
# PLUTO_DIR, PLUTO_HELPERS: the variant (pluto, pluto/hN, pluto_xfrm) one_run set
pluto_run() {
	local d=$PLUTO_DIR auth helpers=() bus=(--nodbus)
	[ -n "$PLUTO_HELPERS" ] && helpers=(--nhelpers "$PLUTO_HELPERS")
	[ "$PROBE" = 1 ] && bus=()
	mkdir -p "$d/run"
	if [ "$AUTH" = rsa ]; then
		auth="authby=rsasig
	leftrsasigkey=%file:$B/keys/resp.pub
	rightid=@$FQDN
	rightrsasigkey=%file:$B/keys/lg.pub"
		echo "$LG_RESPONDER : RSA $B/keys/resp.key" >"$d/ipsec.secrets"
	else
		auth="authby=secret"
		echo "$LG_RESPONDER %any : PSK \"$PSK\"" >"$d/ipsec.secrets"
	fi
	cat >"$d/ipsec.conf" <<CONF
conn lg
	left=$LG_RESPONDER
	right=%any
	$auth
	ike=$IKE
	esp=$ESP
	pfs=$([ "$PFS" = - ] && echo no || echo "yes
	pfsgroup=$PFS")
	auto=add
CONF
	# shellcheck disable=SC2086
	ip netns exec "$LG_NS_R" ${PRELOAD:+env LD_PRELOAD="$PRELOAD"} "$PLUTO" --nofork --stderrlog "${bus[@]}" "$@" \
		--rundir "$d/run" --ctlbase "$d/run/ctl" --config "$d/ipsec.conf" \
		--secretsfile "$d/ipsec.secrets" "${helpers[@]}" $PLUTO_ARGS >"$d/pluto.log" 2>&1 &
	RPID=$!
	wait_until 20 test -S "$d/run/ctl"
}
pluto_established() {
	"$IPSECCTL" --socket "$PLUTO_DIR/run/ctl" status --json |
		jq '[.states[] | select(.kind == "ipsec" and .established)] | length'
}

# --- pluto --kernel xfrm: SAs through the xfrm stub (this kernel has no
# ESP), policies real in the namespace's kernel; for each SA the routing
# and updown work of a real install. The updown is the default one (in
# this tree: in-process), or PLUTO_XFRM_UPDOWN's command (--updown), e.g.
# the shipped script data/updown/pluto-updown as external command ---
pluto_xfrm_start() {
	PRELOAD=$STUB pluto_run --kernel xfrm ${PLUTO_XFRM_UPDOWN:+--updown "$PLUTO_XFRM_UPDOWN"}
}
pluto_xfrm_established() { pluto_established; }

# --- strongSwan: charon-systemd, kernel-netlink with the xfrm stub ---
strongswan_start() {
	local d=$B/$CASE-strongswan loc rem
	mkdir -p "$d"/swanctl/{private,pubkey}
	cat >"$d/strongswan.conf" <<CONF
charon-systemd {
  load_modular = no
  load = random nonce openssl aes sha1 sha2 hmac kdf pem pkcs1 pkcs8 pubkey kernel-netlink socket-default vici
  filelog { bench { path = $d/charon.log
    default = 1 } }
  journal { default = -1 }
  syslog { daemon { default = -1 } }
  plugins { vici { socket = unix://$d/charon.vici } }
}
swanctl { socket = unix://$d/charon.vici
  load = pem pkcs1 pkcs8 pubkey openssl random }
CONF
	if [ "$AUTH" = rsa ]; then
		cp "$B/keys/resp.key" "$d/swanctl/private/"
		cp "$B/keys/resp.pub" "$B/keys/lg.pub" "$d/swanctl/pubkey/"
		loc="auth = pubkey
      pubkeys = resp.pub" rem="auth = pubkey
      pubkeys = lg.pub
      id = @$FQDN"
	else
		loc="auth = psk" rem="auth = psk
      id = %any"
	fi
	cat >"$d/swanctl/swanctl.conf" <<CONF
connections {
  lg {
    version = 1
    local_addrs = $LG_RESPONDER
    proposals = $SS_IKE
    local {
      $loc
      id = $LG_RESPONDER
    }
    remote {
      $rem
    }
    children {
      lg {
        esp_proposals = $SS_ESP
        mode = tunnel
      }
    }
  }
}
secrets { ike-lg { id = $LG_RESPONDER
  secret = "$PSK" } }
CONF
	ip netns exec "$LG_NS_R" env STRONGSWAN_CONF="$d/strongswan.conf" SWANCTL_DIR="$d/swanctl" \
		LD_PRELOAD="$STUB" /usr/sbin/charon-systemd >"$d/charon.out" 2>&1 &
	RPID=$!
	wait_until 20 test -S "$d/charon.vici"
	STRONGSWAN_CONF=$d/strongswan.conf SWANCTL_DIR=$d/swanctl swanctl --load-all --noprompt >"$d/load.out" 2>&1
}
strongswan_established() {
	local d=$B/$CASE-strongswan
	STRONGSWAN_CONF=$d/strongswan.conf swanctl --list-sas 2>/dev/null | grep -c "INSTALLED, TUNNEL" || true
}

# --- libreswan 4.10: unpacked pluto in a private mount namespace, the xfrm stub ---
libreswan_start() {
	local d=$B/$CASE-libreswan auth rightid=%any
	[ -x "$LSBIN/pluto" ] || { echo "libreswan not unpacked: run tests/interop/setup.sh" >&2; return 1; }
	mkdir -p "$d/run" "$d/nss" "$d/ipsec.d"
	certutil -N -d "sql:$d/nss" --empty-password
	if [ "$AUTH" = rsa ]; then
		# NSS takes private keys from PKCS#12, which wants a certificate (never used)
		openssl req -x509 -key "$B/keys/resp.key" -subj "/CN=bench-resp" -days 2 -out "$d/own.crt" 2>/dev/null
		openssl pkcs12 -export -inkey "$B/keys/resp.key" -in "$d/own.crt" -name bench-resp \
			-passout pass:bench -out "$d/own.p12"
		pk12util -i "$d/own.p12" -d "sql:$d/nss" -W bench >/dev/null
		auth="authby=rsasig
    leftrsasigkey=$(cat "$B/keys/resp.rfc3110")
    rightrsasigkey=$(cat "$B/keys/lg.rfc3110")"
		rightid=@$FQDN
		echo "# RSA keys are in $d/nss" >"$d/ipsec.secrets"
	else
		auth="authby=secret"
		echo "$LG_RESPONDER %any : PSK \"$PSK\"" >"$d/ipsec.secrets"
	fi
	cat >"$d/ipsec.conf" <<CONF
config setup
    ikev1-policy=accept
    uniqueids=no

conn lg
    ikev2=no
    left=$LG_RESPONDER
    leftid=$LG_RESPONDER
    right=%any
    rightid=$rightid
    $auth
    ike=$LS_IKE
    phase2=esp
    phase2alg=$LS_ESP
    pfs=$([ "$PFS" = - ] && echo no || echo yes)
    leftupdown=%disabled
    auto=add
CONF
	# as tests/lib/peer-libreswan.sh: addconn lives under /usr/libexec/ipsec
	LSBIN=$LSBIN D=$d STUB=$STUB ip netns exec "$LG_NS_R" unshare -m --propagation private sh -c '
		mount -t tmpfs lg-libexec /usr/libexec && ln -s "$LSBIN" /usr/libexec/ipsec &&
		mount -t tmpfs lg-run /run && mkdir -p /run/pluto || exit 1
		export LD_PRELOAD="$STUB"
		exec "$LSBIN/pluto" --config "$D/ipsec.conf" --secretsfile "$D/ipsec.secrets" \
			--ipsecdir "$D/ipsec.d" --nssdir "$D/nss" --rundir "$D/run" --dumpdir "$D/run" \
			--nofork --stderrlog' >"$d/pluto.log" 2>&1 &
	RPID=$!
	wait_until 20 test -S "$d/run/pluto.ctl"
	wait_until 20 sh -c '"$1" --rundir "$2" --status | grep -q "\"lg\":"' sh "$LSBIN/whack" "$d/run"
}
libreswan_established() {
	"$LSBIN/whack" --rundir "$B/$CASE-libreswan/run" --showstates 2>/dev/null | grep -c "STATE_QUICK_R2" || true
}

# ike_drops: the kernel's drop counts of the IKE sockets (local port 500
# = 01F4, 4500 = 1194) in the responder's namespace
ike_drops() {
	{ ip netns exec "$LG_NS_R" cat /proc/net/udp /proc/net/udp6 2>/dev/null || true; } |
		awk '$2 ~ /:(01F4|1194)$/ { d += $NF } END { print d + 0 }'
}
# pluto_refused DIR: the new Main Modes pluto refused as overloaded
pluto_refused() {
	{ grep -o 'refused, [0-9]* refused in the last second' "$1/pluto.log" || true; } |
		awk '{ n += $2 } END { print n + 0 }'
}

# tests/bench/memory.sh sources this file for the set-up and the
# responders above, then runs its own rounds
[ -n "${HANDSHAKES_SETUP_ONLY:-}" ] && return 0
# --- the probe (PROBE=1): a private system bus for pluto's D-Bus front end,
# and a loop timing `ipsecctl status` and a property read every ~200 ms ---
if [ "$PROBE" = 1 ]; then
	mkdir -p "$B/bus"; chmod 755 "$B" "$B/bus"
	sed -e "s|@SOCKET@|$B/bus/socket|" -e "s|@POLICYDIR@|$SRC/data/dbus-1|" \
		"$SRC/tests/dbus/bus.conf.in" >"$B/bus/bus.conf"
	dbus-daemon --config-file="$B/bus/bus.conf" --nofork --nopidfile >"$B/dbus.log" 2>&1 &
	BUSPID=$!
	export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$B/bus/socket"
	wait_until 10 test -S "$B/bus/socket"
fi
# probe_loop DIR OUT: until DIR/stop-probe exists, "status_ms bus_ms" lines
probe_loop() {
	local t0 t1 t2
	while [ ! -e "$1/stop-probe" ]; do
		t0=$(now_ms)
		"$IPSECCTL" --socket "$1/run/ctl" status >/dev/null 2>&1 || true
		t1=$(now_ms)
		busctl --system get-property org.freeswan.pluto1 /org/freeswan/pluto1 \
			org.freeswan.pluto1.Manager Version >/dev/null 2>&1 || echo bus-failed >>"$2.err"
		t2=$(now_ms)
		echo "$((t1 - t0)) $((t2 - t1))" >>"$2"
		sleep 0.2
	done
}

declare -A R    # R[case,daemon,column]
# one_run DAEMON: start it, measure idle, run the load generator, measure, stop
one_run() {
	local dm=$1 d idle after est resp res args=() probe_pid=
	d=$B/$CASE-$(tr / - <<<"$dm")
	local start=$dm
	PLUTO_DIR=$d PLUTO_HELPERS=
	if [[ $dm == pluto/h* ]]; then start=pluto PLUTO_HELPERS=${dm#pluto/h}; fi
	mkdir -p "$d"
	ip -n "$LG_NS_R" xfrm policy flush; ip -n "$LG_NS_R" xfrm state flush
	if ! "${start}_start" >"$d/start.log" 2>&1; then
		echo "$CASE $dm: the responder did not start (see $d)" >&2
		[ -n "$RPID" ] && stop_pid "$RPID"; RPID=
		return 0
	fi
	sleep 1
	idle=$(rss_kb "$RPID")
	[ "$AUTH" = rsa ] && args=(-a rsa --key "$B/keys/lg.key" --peer-key "$B/keys/resp.pub" --id "$FQDN")
	[ "$AUTH" = psk ] && args=(-k "$PSK")
	[ "$PFS" != - ] && args+=(-g "$PFS")
	if [ "$PROBE" = 1 ] && [ "$start" = pluto ]; then
		rm -f "$d/stop-probe" "$d/probe.txt"
		probe_loop "$d" "$d/probe.txt" &
		probe_pid=$!
	fi
	# shellcheck disable=SC2086
	ip netns exec "$LG_NS_I" "$LOADGEN" -s "$LG_FIRST" -d "$LG_RESPONDER" -n "$N" -c "$C" \
		-i "$IKE" -e "$ESP" -P "$RPID" -b 1000 -o "$d/tunnels.csv" "${args[@]}" $LG_ARGS >"$d/loadgen.log" 2>&1 || true
	if [ -n "$probe_pid" ]; then
		touch "$d/stop-probe"; wait "$probe_pid" || true
		R[$CASE,$dm,probe]=$(awk '$1 > s { s = $1 } $2 > b { b = $2 } END { printf "%d/%d", s, b }' "$d/probe.txt")
		if [ -s "$d/probe.txt.err" ]; then R[$CASE,$dm,probe]+="(bus-failed)"; fi
	fi
	sleep 1
	after=$(rss_kb "$RPID" 2>/dev/null || echo 0)
	resp=$("${start}_established" 2>/dev/null || echo "?")
	R[$CASE,$dm,drops]=$(ike_drops)
	stop_pid "$RPID"; RPID=
	if [ "$start" = pluto ]; then R[$CASE,$dm,refused]=$(pluto_refused "$d"); fi
	res=$(grep '^RESULT ' "$d/loadgen.log" || echo "RESULT established=0 failed=$N elapsed_ms=0 cpu_ms=0 p50_ms=0 batch_cpu_ms=-")
	val() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$res"; }
	est=$(val established)
	R[$CASE,$dm,est]="$est/$N"
	R[$CASE,$dm,resp]=$resp
	R[$CASE,$dm,idle]=$idle
	R[$CASE,$dm,p50]=$(val p50_ms)
	R[$CASE,$dm,fail]=$(grep '^failed: ' "$d/loadgen.log" | sed 's/^failed: //' | paste -sd ';' - || true)
	if [ "${est:-0}" -gt 0 ]; then
		R[$CASE,$dm,cpu]=$(awk -v c="$(val cpu_ms)" -v n="$est" 'BEGIN { printf "%.2f", c / n }')
		R[$CASE,$dm,rate]=$(awk -v e="$(val elapsed_ms)" -v n="$est" 'BEGIN { printf "%.0f", (e > 0 ? n * 1000 / e : 0) }')
		R[$CASE,$dm,pertun]=$(awk -v a="$after" -v i="$idle" -v n="$est" 'BEGIN { printf "%.1f", (a - i) / n }')
	fi
	# flatness: the last whole batch of 1,000 over the first
	if [ "$N" -ge 2000 ]; then
		R[$CASE,$dm,flat]=$(val batch_cpu_ms | awk -F, 'NF >= 2 && $1 > 0 { printf "%.2f", $NF / $1 }')
	fi
}

for c in $CASES; do
	case_row "$c"
	for dm in $DAEMONS; do
		one_run "$dm"
	done
done

{
printf 'IKEv1 Main Mode + Quick Mode, %s tunnels, %s in flight, %s, %s cores, %s\n' "$N" "$C" \
	"$(uname -r)" "$(nproc)" "$(date -u +%FT%TZ)"
printf '%-13s %-10s %11s %6s %7s %6s %9s %6s %8s %7s %5s %7s %9s  %s\n' case daemon est resp refused drops \
	cpu_ms/hs hs/s idle_kB kB/tun flat p50_ms probe failures
for c in $CASES; do
	for dm in $DAEMONS; do
		printf '%-13s %-10s %11s %6s %7s %6s %9s %6s %8s %7s %5s %7s %9s  %s\n' "$c" "$dm" "${R[$c,$dm,est]:--}" \
			"${R[$c,$dm,resp]:--}" "${R[$c,$dm,refused]:--}" "${R[$c,$dm,drops]:--}" "${R[$c,$dm,cpu]:--}" "${R[$c,$dm,rate]:--}" "${R[$c,$dm,idle]:--}" \
			"${R[$c,$dm,pertun]:--}" "${R[$c,$dm,flat]:--}" "${R[$c,$dm,p50]:--}" "${R[$c,$dm,probe]:--}" \
			"${R[$c,$dm,fail]:-}"
	done
done
} | sed 's/ *$//'
