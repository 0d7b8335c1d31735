# shellcheck shell=bash
# The scenario harness: two (or more) daemons in network namespaces joined
# by veths, each side running one implementation -- pluto (this build),
# strongSwan 5.9.8 or libreswan 4.10. The integration tests (pluto <-> pluto)
# and the interop tests (pluto <-> a real peer) both use it; the scripts in
# tests/scenarios/ take the peer kind as their first argument. Source it
# from a script run by meson; it sources tests/lib/common.sh for $T,
# ok/fail/check*, wait_for, skip_all and done_testing.
#
# The interop address plan (io_netns_up):
#  netns pio<PID>L                              netns pio<PID>R
#  lo: 198.51.100.1/32 (client)                 lo: 203.0.113.1/32 (client)
#  pio<PID>L0: 192.0.2.1/24  <---- veth ---->   pio<PID>R0: 192.0.2.2/24
#  protected: 198.51.100.0/24  <==== tunnel ====>  203.0.113.0/24
# Any other plan: io_link SIDE ADDR SIDE ADDR (sides are single letters:
# the pluto <-> pluto scenarios use a, b, c on 198.51.100.0/24).
#
# Each side runs one implementation: io_side SIDE strongswan|libreswan|pluto.
# The implementations are tests/lib/peer-<impl>.sh, one file each, each
# defining <impl>_conf/_start/_initiate/_established/_stop/_status/_log;
# peer VERB SIDE dispatches. pluto_launch SIDE [OPTIONS] starts a bare pluto
# with the options a test wants (peer-pluto.sh).
#
# What it offers (details at each function): namespaces and veths
# (io_netns_up, io_link, io_netns_down), the case table (io_case, io_set),
# RSA keys (io_keys), daemons (io_start, io_stop, io_kill_hard, io_pid,
# io_alive), negotiation and checks (io_initiate, io_check_initiate,
# io_check_established, pluto_states, pluto_sa_table), prerequisites
# (io_require for the peers, io_require_netns for pluto only, the engine
# probe io_skip_unless_engine), cleanup by trap (every daemon stopped,
# every namespace deleted, the logs printed on failure by common.sh).
#
# Safety: namespaces are named pio<PID of the test><SIDE> (nothing else is
# ever created or deleted), every file lives under the test's own $T
# (/tmp/pluto-test.*), and daemons are signalled only by the PID we recorded
# when we started them, after checking /proc/PID/cmdline or environ still
# names our $T (so a recycled PID is never hit).

IO_DIR=$SRCDIR/tests/interop
IO_LIB=$SRCDIR/tests/lib
# shellcheck source=tests/lib/common.sh
. "$IO_LIB/common.sh"
: "${IPSECCTL:?run through meson test}" "${WHACK:?run through meson test}"

INTEROP_ROOT=${INTEROP_ROOT:-/opt/pluto-interop}
LSBIN=$INTEROP_ROOT/libreswan/usr/libexec/ipsec
CHARON=${CHARON:-/usr/sbin/charon-systemd}

# the interop plan and the case's secret: a script must not reuse these
# names (nor the case table's: CASE AUTH PHASE2 ...) for its own values
L_IP=192.0.2.1   R_IP=192.0.2.2
L_NET=198.51.100.0/24 R_NET=203.0.113.0/24
L_CLIENT=198.51.100.1 R_CLIENT=203.0.113.1
IO_NS_PREFIX=pio$$
NS_L=${IO_NS_PREFIX}L NS_R=${IO_NS_PREFIX}R
IO_NETNS=()
PSK="interop shared secret $$"
declare -A IMPL=()

# how long one negotiation may take (a Main Mode + Quick Mode takes well
# under a second; the margin covers a loaded 2-core CI machine)
IO_NEGOTIATE_TIMEOUT=${IO_NEGOTIATE_TIMEOUT:-20}

# shellcheck source=tests/lib/peer-strongswan.sh
. "$IO_LIB/peer-strongswan.sh"
# shellcheck source=tests/lib/peer-libreswan.sh
. "$IO_LIB/peer-libreswan.sh"
# shellcheck source=tests/lib/peer-pluto.sh
. "$IO_LIB/peer-pluto.sh"

ns_of()   { echo "$IO_NS_PREFIX$1"; }
ip_of()   { [ "$1" = L ] && echo "$L_IP" || echo "$R_IP"; }
net_of()  { [ "$1" = L ] && echo "$L_NET" || echo "$R_NET"; }
other()   { [ "$1" = L ] && echo R || echo L; }
dir_of()  { echo "$T/$1"; }
io_info() { echo "# $*"; }

# --- the cases: one table row per case (API.md section 1 vocabulary) ---
# io_case NAME sets AUTH (psk|rsa), IKE_ENC IKE_HASH IKE_GROUP, PHASE2
# (esp|ah), P2_ENC P2_INTEG ("" for an AEAD cipher), PFSGROUP ("" = no
# PFS), COMPRESS (yes|no) and PEERS (the implementations that can run it).
# P2_ENC_OF[impl]: that implementation's spelling of P2_ENC when it has its
# own; P2_SHOWN[impl]: the text its status shows for the negotiated ESP SA
# (checked by io_check_shown when set); P2_XFRM: for an AEAD, the kernel's
# "NAME KEY_BYTES ICV_BITS" of the SA (tests/vm, key bytes with the salt).
declare -A P2_ENC_OF=() P2_SHOWN=()
# shellcheck disable=SC1007,SC2034 # empty values; read by the peers and scripts
io_case() {
	CASE=$1 AUTH=psk PHASE2=esp PFSGROUP= COMPRESS=no PEERS="strongswan libreswan pluto"
	IKE_ENC=aes128 IKE_HASH=sha1 IKE_GROUP=modp2048 P2_ENC=aes128 P2_INTEG=sha1
	P2_ENC_OF=() P2_SHOWN=() P2_XFRM=
	case $1 in
	psk-aes) ;;
	psk-3des)            # libreswan 4.10 (Debian) has no MODP1024 at all
		IKE_ENC=3des IKE_HASH=sha1 IKE_GROUP=modp1536 P2_ENC=3des P2_INTEG=md5 ;;
	psk-3des-modp1024)
		IKE_ENC=3des IKE_HASH=md5 IKE_GROUP=modp1024 P2_ENC=3des P2_INTEG=md5
		PEERS="strongswan pluto" ;;
	rsa-raw) AUTH=rsa ;;
	pfs) PFSGROUP=modp2048 ;;
	# strongSwan can do AH and IPComp here because it runs with
	# kernel-netlink and the xfrm stub (libipsec has neither)
	ah) PHASE2=ah P2_ENC= ;;
	ipcomp) COMPRESS=yes ;;
	# ESP AES-GCM (RFC 4106), each peer in its own words; pluto is given
	# ours, libreswan's and strongSwan's spelling in turn
	gcm) P2_ENC=aes_gcm128 P2_INTEG= P2_XFRM="rfc4106(gcm(aes)) 20 128"
		P2_ENC_OF=([strongswan]=aes128gcm16 [libreswan]=aes_gcm128)
		P2_SHOWN=([pluto]="ESP aes_gcm128 tunnel" [strongswan]="ESP:AES_GCM_16-128"
			  [libreswan]="ESP algorithm newest: AES_GCM_16_128-NONE") ;;
	gcm256) P2_ENC=aes_gcm_c-256 P2_INTEG= P2_XFRM="rfc4106(gcm(aes)) 36 128"
		P2_ENC_OF=([strongswan]=aes256gcm16 [libreswan]=aes_gcm_c-256)
		P2_SHOWN=([pluto]="ESP aes_gcm256 tunnel" [strongswan]="ESP:AES_GCM_16-256"
			  [libreswan]="ESP algorithm newest: AES_GCM_16_256-NONE") ;;
	gcm12-pfs) P2_ENC=aes128gcm12 P2_INTEG= PFSGROUP=modp2048 P2_XFRM="rfc4106(gcm(aes)) 20 96"
		P2_ENC_OF=([strongswan]=aes128gcm12 [libreswan]=aes_gcm_b-128)
		P2_SHOWN=([pluto]="ESP aes_gcm12_128 tunnel PFS modp2048"
			  [strongswan]="ESP:AES_GCM_12-128/MODP_2048"
			  [libreswan]="ESP algorithm newest: AES_GCM_12_128-NONE") ;;
	*) echo "# unknown interop case '$1'" >&2; return 1 ;;
	esac
}
# io_set NAME=VALUE...: override table values (pluto<->pluto combinations)
io_set() { local kv; for kv in "$@"; do printf -v "${kv%%=*}" '%s' "${kv#*=}"; done; }

# --- remote access: XAUTH + Mode Config (issue 11; API.md section 1) ---
# IO_RA[SIDE]=gateway|client makes SIDE's conn "lab" a remote-access one
# (every peer kind; unset: the site-to-site conn of the case). The gateway
# protects its own subnet (net_of: sent as the split include), takes any
# peer address, proves itself with the case's AUTH (io_case psk-aes or
# rsa-raw: psk|rsa), asks for XAUTH and lends from IO_RA_POOL; the client
# gets its inner address by Mode Config and proves IO_RA_USER.
#   IO_RA_USER / IO_RA_PASSWORD     the user the gateway knows (and the
#                                   client's, unless IO_RA_CLIENT_PASSWORD
#                                   says otherwise: the wrong-password cases)
#   IO_RA_USER2 / IO_RA_PASSWORD2   a second user the gateway knows
#   IO_RA_POOL                      A-B range the gateway lends from
#   IO_RA_DNS                       comma list of DNS servers it sends
#   IO_RA_DOMAIN, IO_RA_BANNER      the Unity default domain and banner
#   IO_RA_PUSH=1                    the gateway pushes (SET/ACK) instead of
#                                   answering the client's REQUEST (pull)
#   IO_RA_SECOND=1                  a strongSwan client also runs "lab2"
#                                   from IO_RA_SECOND_IP as IO_RA_USER2
# Each peer reads its own view: <impl>_ra_vip SIDE (the address a client
# got / a gateway lent), <impl>_ra_user SIDE, <impl>_ra_dns SIDE (a
# client's DNS servers, one a line, sorted); peer ra_vip SIDE dispatches.
declare -A IO_RA=()
IO_RA_USER=alice IO_RA_PASSWORD="alice's password $$" IO_RA_CLIENT_PASSWORD=
IO_RA_USER2=bob IO_RA_PASSWORD2="bob's password $$"
IO_RA_POOL=10.99.0.10-10.99.0.20
IO_RA_DNS=10.99.1.53,10.99.1.54
IO_RA_DOMAIN=ra.example.test
IO_RA_BANNER="interop gateway banner"
IO_RA_PUSH= IO_RA_SECOND= IO_RA_SECOND_IP=192.0.2.3

# io_ip2int ADDR: an IPv4 address as a number
io_ip2int() { local IFS=.; read -r a b c d <<<"$1"; echo $(((a << 24) + (b << 16) + (c << 8) + d)); }
# io_ra_in_pool ADDR: ADDR (a prefix length allowed) lies in IO_RA_POOL
io_ra_in_pool() {
	local a=${1%%/*} lo hi
	[[ $a =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || return 1
	lo=$(io_ip2int "${IO_RA_POOL%-*}") hi=$(io_ip2int "${IO_RA_POOL#*-}") a=$(io_ip2int "$a")
	[ "$a" -ge "$lo" ] && [ "$a" -le "$hi" ]
}
# io_ra_dns_sorted: IO_RA_DNS one a line, sorted (what <impl>_ra_dns prints)
io_ra_dns_sorted() { tr ',' '\n' <<<"$IO_RA_DNS" | tr -d ' ' | sort; }

# --- prerequisites ---
# io_require_netns [TOOL...]: root, ip(8) and the TOOLs, for scenarios
# with plutos only
io_require_netns() {
	local tool
	for tool in ip "$@"; do command -v "$tool" >/dev/null || skip_all "no $tool"; done
	[ "$(id -u)" -eq 0 ] || skip_all "scenario tests need root (network namespaces)"
	io_reap_stale
}
# io_require: that, and the interop peers installed (setup.sh)
io_require() {
	[ "$(id -u)" -eq 0 ] || skip_all "interop tests need root (network namespaces)"
	if ! "$IO_DIR/setup.sh" >"$T/setup.out" 2>&1; then
		sed 's/^/#   /' "$T/setup.out"
		skip_all "interop peers are not installed and tests/interop/setup.sh could not install them"
	fi
	io_reap_stale
}

# namespaces of earlier runs that were killed before their cleanup: only
# ours (pio<PID><SIDE>) whose test process is gone
io_reap_stale() {
	local ns pid
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		[[ $ns =~ ^pio([0-9]+)[A-Za-z]$ ]] || continue
		pid=${BASH_REMATCH[1]}
		kill -0 "$pid" 2>/dev/null && continue
		[ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && ip netns del "$ns" 2>/dev/null
	done
}

# --- the xfrm stub (see xfrm-stub.c): built once per build directory,
# without the sanitizers of the pluto build, since it is preloaded into
# charon and libreswan's pluto ---
io_stub() {
	local so=$BUILDDIR/tests/interop/xfrm-stub.so src=$IO_DIR/xfrm-stub.c
	mkdir -p "$BUILDDIR/tests/interop"
	(
		flock 8
		if [ ! -f "$so" ] || [ "$src" -nt "$so" ]; then
			gcc -shared -fPIC -O2 -Wall -Wextra -o "$so.tmp.$$" "$src" -ldl >&2 &&
				mv "$so.tmp.$$" "$so"
		fi
	) 8>"$BUILDDIR/tests/interop/.stub.lock"
	[ -f "$so" ] || { echo "# cannot build $so" >&2; return 1; }
	echo "$so"
}

# --- namespaces ---
# io_ns_add SIDE: SIDE's namespace with lo up (once; deleted at the end)
io_ns_add() {
	local ns
	ns=$(ns_of "$1")
	[[ " ${IO_NETNS[*]} " == *" $ns "* ]] && return 0
	ip netns add "$ns" || return 1
	IO_NETNS+=("$ns")
	ip -n "$ns" link set lo up
}
# if_of SIDE PEER: the name of SIDE's end of the veth to PEER (io_link)
if_of() { echo "$(ns_of "$1")$2"; }
# io_link SIDE1 ADDR1/LEN SIDE2 ADDR2/LEN [IF1 IF2]: a veth between the
# namespaces of SIDE1 and SIDE2 (made if needed), addressed and up; the
# interfaces are named IF1 and IF2, by default if_of SIDE1 SIDE2 and
# if_of SIDE2 SIDE1
io_link() {
	local s1=$1 a1=$2 s2=$3 a2=$4
	local if1=${5:-$(if_of "$1" "$3")} if2=${6:-$(if_of "$3" "$1")}
	io_ns_add "$s1" && io_ns_add "$s2" || return 1
	ip -n "$(ns_of "$s1")" link add "$if1" type veth peer name "$if2" netns "$(ns_of "$s2")" || return 1
	ip -n "$(ns_of "$s1")" addr add "$a1" dev "$if1" &&
	ip -n "$(ns_of "$s2")" addr add "$a2" dev "$if2" &&
	ip -n "$(ns_of "$s1")" link set "$if1" up &&
	ip -n "$(ns_of "$s2")" link set "$if2" up
}

# io_netns_up: the interop plan (the picture at the top)
io_netns_up() {
	io_link L "$L_IP/24" R "$R_IP/24" "${NS_L}0" "${NS_R}0" || return 1
	ip -n "$NS_L" addr add "$L_CLIENT/32" dev lo
	ip -n "$NS_R" addr add "$R_CLIENT/32" dev lo
	# wait for the veth to carry traffic, so the first IKE packet is not lost
	wait_for 5 ip netns exec "$NS_L" ping -c1 -W1 "$R_IP" ||
		{ echo "# no connectivity $L_IP -> $R_IP" >&2; return 1; }
}

# io_netns_down: delete every namespace of this test (also L and R when a
# script made them by hand, as natt.sh does)
io_netns_down() {
	local ns
	for ns in $(printf '%s\n' "${IO_NETNS[@]}" "$NS_L" "$NS_R" | sort -u); do
		ip netns list 2>/dev/null | awk '{print $1}' | grep -qx -- "$ns" || continue
		[ -z "$(ip netns pids "$ns" 2>/dev/null)" ] ||
			echo "# warning: processes still in $ns: $(ip netns pids "$ns" | tr '\n' ' ')" >&2
		ip netns del "$ns"
	done
	IO_NETNS=()
}

# --- our own processes ---
# io_pid_ours PID: true if PID is alive and its command line or environment
# names our test directory
io_pid_ours() {
	local pid=$1
	[[ $pid =~ ^[0-9]+$ ]] && [ -r "/proc/$pid/cmdline" ] || return 1
	{ tr '\0' '\n' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF -- "$T" && return 0
	{ tr '\0' '\n' <"/proc/$pid/environ"; } 2>/dev/null | grep -qF -- "$T" && return 0
	return 1
}
# io_kill PID [SECONDS]: TERM, wait, then KILL -- only if io_pid_ours
io_kill() {
	local pid=$1 secs=${2:-5} i
	io_pid_ours "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < secs * 10; i++)); do io_pid_ours "$pid" || return 0; sleep 0.1; done
	echo "# pid $pid did not exit on SIGTERM, sending SIGKILL" >&2
	kill -KILL "$pid" 2>/dev/null
	sleep 0.2
}

# io_pid SIDE: the recorded PID of SIDE's daemon (empty if none)
io_pid() { cat "$T/$1/pluto.pid" "$T/$1/charon.pid" 2>/dev/null | head -1; }
# io_alive SIDE: SIDE's daemon is running (a zombie is not)
io_alive() { io_pid_ours "$(io_pid "$1")"; }
# io_kill_hard SIDE: SIGKILL SIDE's daemon -- a crash or a power cut: no
# Delete is sent, nothing cleaned up; its socket and lock file are removed
# so that it can be started again
io_kill_hard() {
	local s=$1 f pid
	for f in charon.pid pluto.pid; do
		[ -f "$T/$s/$f" ] || continue
		pid=$(cat "$T/$s/$f")
		io_pid_ours "$pid" && kill -KILL "$pid"
		wait "$pid" 2>/dev/null
		rm -f "$T/$s/$f"
	done
	[ "${IMPL[$s]:-}" = pluto ] && rm -f "$(pluto_sock "$s")" "$T/$s/run/pluto.pid"
	return 0
}

# --- the generic peer interface ---
# io_side SIDE IMPL: this side runs IMPL
io_side() { IMPL[$1]=$2; mkdir -p "$T/$1"; }
# peer VERB SIDE [ARGS]: dispatch to <impl>_VERB
peer() { local verb=$1 s=$2; shift 2; "${IMPL[$s]}_$verb" "$s" "$@"; }

# io_keys: RSA keys for both sides (PEM private, PEM public, RFC 3110 "0s")
io_keys() {
	local s
	mkdir -p "$T/keys"
	for s in L R; do
		[ -f "$T/keys/$s.key" ] && continue
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/keys/$s.key" 2>/dev/null &&
		openssl pkey -in "$T/keys/$s.key" -pubout -out "$T/keys/$s.pub" || return 1
		# RFC 3110: exponent length, exponent 65537, modulus
		echo "0s$( { printf '03010001'; openssl rsa -pubin -in "$T/keys/$s.pub" -noout -modulus |
			cut -d= -f2; } | tr -d '\n' | xxd -r -p | base64 -w0)" >"$T/keys/$s.rfc3110"
	done
}

# io_start SIDE...: write each side's configuration for the current case
# and start its daemon (a failure is an assertion failure)
io_start() {
	local s
	[ "$AUTH" = rsa ] && { io_keys || { fail "generate RSA keys"; return 1; }; }
	for s in "$@"; do
		peer conf "$s" || { fail "configure ${IMPL[$s]} on $s"; return 1; }
		peer start "$s" || { fail "start ${IMPL[$s]} on $s"; return 1; }
	done
}

# io_pluto_vs PEER: pluto on L and PEER on R, namespaces up, both started
# (pluto first, so its engine probe runs before the peer exists); a
# failure ends the test
io_pluto_vs() {
	io_side L pluto
	io_side R "$1"
	check "namespaces and veth up" io_netns_up || done_testing
	io_start L || done_testing
	io_skip_unless_engine L
	io_start R || done_testing
}

# io_initiate SIDE: negotiate from SIDE; output in $T/initiate.out
io_initiate() { peer initiate "$1" >"$T/initiate.out" 2>&1; }
# io_check_initiate SIDE WHAT: io_initiate as an assertion (the output
# shown when it fails)
io_check_initiate() {
	if io_initiate "$1"; then
		ok "$2: the initiator reports success"
	else
		fail "$2: the initiator reports success"
		sed 's/^/#   /' "$T/initiate.out" | tail -20
	fi
}

# io_check_established SIDE WHAT: assert that SIDE reports an established
# ISAKMP SA and IPsec SA for the current case (polls a little: the
# responder finishes after the initiator)
io_check_established() {
	local s=$1 what=$2
	if wait_for 5 peer established "$s"; then
		ok "$what: ${IMPL[$s]} on $s has ISAKMP SA and IPsec SA established"
	else
		fail "$what: ${IMPL[$s]} on $s has ISAKMP SA and IPsec SA established"
		peer status "$s" 2>&1 | sed 's/^/#   /' | head -40
	fi
}

# io_p2_enc IMPL: the ESP cipher as IMPL spells it, joined to the
# integrity algorithm when there is one ("aes128-sha1", "aes128gcm16")
io_p2_enc() { echo "${P2_ENC_OF[$1]:-$P2_ENC}${P2_INTEG:+-$P2_INTEG}"; }

# io_check_shown SIDE WHAT: SIDE's own status shows the ESP algorithm the
# case expects (P2_SHOWN); nothing to check when the case names none
io_check_shown() {
	local s=$1 what=$2 want=${P2_SHOWN[${IMPL[$1]}]:-}
	[ -n "$want" ] || return 0
	if peer algs "$s" 2>&1 | grep -qF -- "$want"; then
		ok "$what: ${IMPL[$s]} on $s shows '$want'"
	else
		fail "$what: ${IMPL[$s]} on $s shows '$want'"
		peer algs "$s" 2>&1 | sed 's/^/#   /' | head -40
	fi
}

# io_stop SIDE... (pluto's exit status is an assertion, see pluto_stop)
io_stop() { local s; for s in "$@"; do [ -n "${IMPL[$s]:-}" ] && peer stop "$s"; done; return 0; }

# io_stop_all: stop every side, L and R first (pluto's exit status is an
# assertion)
io_stop_all() {
	local s
	io_stop L R
	for s in $(printf '%s\n' "${!IMPL[@]}" | sort); do [[ $s == [LR] ]] || io_stop "$s"; done
}
# io_finish: stop every side, print the plan and exit
io_finish() { io_stop_all; done_testing; }

io_cleanup() {
	local s
	IO_QUIET=1
	for s in "${!IMPL[@]}"; do
		[ -n "${IMPL[$s]:-}" ] || continue
		peer stop "$s" >/dev/null 2>&1
	done
	io_netns_down
}
trap 'io_cleanup; _cleanup' EXIT
# meson's timeout sends SIGTERM, ^C sends SIGINT: exit through the EXIT trap
# so no daemon or namespace is left behind; a closed stdout (| head) must
# not kill the script before its cleanup either
trap 'exit 143' TERM
trap 'exit 130' INT
trap '' PIPE

# io_skip_unless_engine SIDE: the pluto on SIDE must have an IKE engine,
# else the whole test is skipped (counted by meson, never a pass).
# Probe: an asynchronous Initiate of a throw-away connection to an address
# nobody has; without an engine it fails at once with NegotiationFailed
# "... no IKE engine built in".
io_skip_unless_engine() {
	local s=$1 out
	pluto_ctl "$s" add engine-probe left="$(ip_of "$s")" right=192.0.2.99 authby=secret \
		keyingtries=1 >/dev/null || { fail "add the engine probe connection"; return 1; }
	out=$(pluto_whack "$s" --name engine-probe --initiate --asynchronous 2>&1)
	pluto_ctl "$s" down engine-probe >/dev/null 2>&1
	pluto_ctl "$s" delete engine-probe >/dev/null 2>&1
	# IO_IGNORE_NO_ENGINE=1 runs on regardless (to debug the harness itself)
	if [[ $out == *"no IKE engine"* && -z ${IO_IGNORE_NO_ENGINE:-} ]]; then
		echo "# $out"
		skip_all "pluto has no IKE engine yet"
	fi
}
