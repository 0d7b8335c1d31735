# shellcheck shell=bash
# The NetworkManager harness of the `nm` suite: a REAL NetworkManager 1.42
# (Debian's) and nmcli, the plugin service of this build, a pluto client
# daemon of this build on NM's bus, and real gateways (pluto, strongSwan) in
# other network namespaces. Source it from a test run by meson; it sources
# tests/lib/scenario.sh (so $T, ok/fail/check*, wait_for, done_testing, the
# gateways of tests/lib/peer-*.sh and their cleanup come with it).
#
# The address plan (sides as in scenario.sh; L is NetworkManager's machine):
#
#  netns <P>L: NetworkManager,            netns <P>R: gateway 1      netns <P>Q: gateway 2
#  dbus-daemon, pluto (client), plugin    (pluto or strongSwan)      (pluto; nm_gateway2)
#  <P>LR 192.0.2.1/24 (NM's profile "base",
#        default route via R) <- veth -> <P>RL 192.0.2.2/24
#                                         <P>RQ 198.18.0.1/24 <- veth -> <P>QR 198.18.0.2/24
#  R forwards between L and Q (Q's default route is R), so both gateways
#  are reached from the one default route NM configured: left=%defaultroute
#  is right for both VPNs of nm_gateway2.
#
# Inside L everything runs in one mount namespace as a desktop would have it
# (nm-lab's recipe, ../shared/nm-lab/README.md): a holder process made by
# `ip netns exec <P>L unshare --mount --propagation private` mounts a tmpfs
# on /run (the private bus lives at the standard /run/dbus/system_bus_socket,
# so NM, nmcli, the plugin and pluto all find it without being told),
# remounts /sys read-only (else NM waits for udev and leaves the veth
# unmanaged), and bind-mounts the test's own etc/ on /etc/NetworkManager and
# var/ on /var/lib/NetworkManager; the host's are never touched and NM never
# sees the host's interfaces. Every daemon is then started with
# `nsenter --target HOLDER --mount --net` (nm_exec), as a child of the test
# script, so its PID is known.
#
# The bus (nm_bus_conf) is a system bus with the default policy of Debian's
# system.conf plus the REAL policy files: pluto's data/dbus-1, the plugin's
# data/nm, and NetworkManager's own from /usr/share/dbus-1/system.d; its
# service directory ($NMD/services) is empty unless a test puts a .service
# file there (bus activation of pluto).
#
# Files: $NMD = $T/nm (etc/ var/ bus.conf services/ nm.log, the plugin's
# stderr goes to nm.log too since NM spawns it with its own stdout/stderr;
# asan.* sanitizer reports of the plugin), pluto client as side L of
# peer-pluto.sh: socket $T/L/run/org.freeswan.pluto (pluto_ctl L ... works
# from outside: a path-bound AF_UNIX socket ignores network namespaces),
# secrets $T/L/ipsec.secrets (empty: NM gives the secrets), config
# $T/L/ipsec.conf (only `config setup`, so pluto listens at start), log
# $T/L-pluto.log.
#
# What it offers: nm_require (root, tools, the plugin built; else skip),
# nm_start [--no-pluto] (everything in L, the base profile up),
# nm_start_pluto, nm_exec / nmc / nm_busctl / nm_bus_has (commands inside),
# nm_spawn, nm_add_vpn / nm_up / nm_down, nm_active_state / nm_vpn_state /
# nm_is_active / nm_is_inactive / nm_shown / nm_ip4 (NM's view),
# nm_log_mark / nm_log_since, nm_plugin_pids, nm_pluto_conns /
# nm_pluto_has_nm_conn (pluto's view), nm_stop_nm, nm_check_clean; the
# gateways nm_gateway pluto|strongswan (remote access on R), nm_gateway_s2s
# (site to site on R), nm_gateway2 (remote access on Q), nm_ra_data (a
# client's vpn.data).
#
# Names: namespaces <P><SIDE> with P = NM_NS_PREFIX (default pnm<PID of the
# test>; nmb-<PID> while developing by hand), veths <P><SIDE><PEER>; all of
# them made and deleted by this test only.
#
# Cleanup (trap on EXIT, TERM, INT; also after a failure or a timeout):
# every process in the namespace L (all ours: the namespace is) gets TERM,
# then KILL, dbus-daemon and the holder last; then the gateways and the
# namespaces (scenario.sh). Nothing is left in /run or /etc of the host.

# shellcheck source=tests/lib/scenario.sh
. "$SRCDIR/tests/lib/scenario.sh"

IO_NS_PREFIX=${NM_NS_PREFIX:-pnm$$}
NS_L=${IO_NS_PREFIX}L NS_R=${IO_NS_PREFIX}R
NMD=$T/nm
NM_IF=$(if_of L R)        # NM's device (L's end of the veth to R)
Q_IP=198.18.0.2 RQ_IP=198.18.0.1 Q_NET=198.51.100.0/24
NM_HOLDER=
# the program and editor plugin NM runs: the build's (nm_name_file)
NM_SERVICE_NAME=org.freedesktop.NetworkManager.pluto
NM_PLUGIN_PROG=${NM_PLUGIN_PROG:-$BUILDDIR/clients/nm/nm-pluto-service}
NM_EDITOR_SO=${NM_EDITOR_SO:-$BUILDDIR/clients/nm/editor/libnm-vpn-plugin-pluto.so}
NM_NAME_IN=${NM_NAME_IN:-$BUILDDIR/data/nm-pluto-service.name}
NM_PLUGIN_POLICY=${NM_PLUGIN_POLICY:-$SRCDIR/data/nm/nm-pluto-service.conf}
NM_PLUTO_POLICY=$SRCDIR/data/dbus-1/org.freeswan.pluto1.conf
NM_NM_POLICY=/usr/share/dbus-1/system.d/org.freedesktop.NetworkManager.conf
# how long one `nmcli connection up` may take (pluto's whole retransmission
# schedule for a silent gateway fits, with a margin for a loaded machine)
NM_UP_TIMEOUT=${NM_UP_TIMEOUT:-60}

# --- prerequisites ---
# nm_require: root, the tools, NetworkManager, the plugin built; else skip
nm_require() {
	local tool
	[ "$(id -u)" -eq 0 ] || skip_all "nm tests need root (network and mount namespaces)"
	for tool in ip nsenter unshare dbus-daemon NetworkManager nmcli busctl jq; do
		command -v "$tool" >/dev/null || skip_all "no $tool (tests/run.sh installs network-manager)"
	done
	[ -f "$NM_NM_POLICY" ] || skip_all "no $NM_NM_POLICY (package network-manager)"
	[ -x "$NM_PLUGIN_PROG" ] || skip_all "the plugin service $NM_PLUGIN_PROG is not built (meson option nm)"
	[ -f "$NM_PLUGIN_POLICY" ] || skip_all "no bus policy $NM_PLUGIN_POLICY"
	nm_reap_stale
}

# namespaces of earlier runs killed before their cleanup (only ours:
# pnm<PID><SIDE> whose test is gone and that hold no process)
nm_reap_stale() {
	local ns pid
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		[[ $ns =~ ^pnm([0-9]+)[A-Z]$ ]] || continue
		pid=${BASH_REMATCH[1]}
		kill -0 "$pid" 2>/dev/null && continue
		[ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && ip netns del "$ns" 2>/dev/null
	done
}

# --- running things in NM's namespaces ---
# nm_exec COMMAND...: run COMMAND in L's network and mount namespace (the
# private /run, the bus, the test's /etc/NetworkManager)
nm_exec() { nsenter --target "$NM_HOLDER" --mount --net -- "$@"; }
# nmc ARGS...: nmcli inside, bounded
nmc() { nm_exec timeout "${NMC_TIMEOUT:-30}" nmcli "$@"; }
# nm_busctl ARGS...: busctl on the private system bus
nm_busctl() { nm_exec timeout 10 busctl --system --no-pager "$@"; }
# nm_bus_has NAME: NAME has an owner on the private bus (busctl status
# cannot read a peer's credentials here)
nm_bus_has() {
	nm_busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
		NameHasOwner s "$1" 2>/dev/null | grep -qx 'b true'
}

# nm_spawn NAME COMMAND...: start COMMAND inside L in the background, output
# appended to $NMD/NAME.log, PID in $NMD/NAME.pid. Daemons get no inherited
# descriptor above 2: `flock /tmp/pluto-heavy.lock meson test ...` passes
# the lock as fd 3, and a daemon that outlived its test would hold the lock
# for every other test on the machine.
nm_spawn() {
	local name=$1
	shift
	# nsenter itself in the background (not nm_exec: a backgrounded shell
	# function is a subshell, and $! would be its PID, not the daemon's)
	nsenter --target "$NM_HOLDER" --mount --net -- "$@" >>"$NMD/$name.log" 2>&1 </dev/null \
		3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
	echo $! >"$NMD/$name.pid"
}
nm_pid() { cat "$NMD/$1.pid" 2>/dev/null; }

# --- files ---
# nm_name_file: the build's data/nm .name file with program= and plugin=
# pointing into the build tree (plugin= only when the editor is built)
nm_name_file() {
	[ -f "$NM_NAME_IN" ] || { echo "# no $NM_NAME_IN in the build" >&2; return 1; }
	sed -e "s|^program=.*|program=$NM_PLUGIN_PROG|" \
	    -e "s|^plugin=.*|plugin=$NM_EDITOR_SO|" "$NM_NAME_IN" |
		if [ -f "$NM_EDITOR_SO" ]; then cat; else grep -v '^plugin='; fi
}

nm_write_etc() {
	mkdir -p "$NMD"/{etc/VPN,etc/system-connections,etc/conf.d,var,services}
	cat >"$NMD/etc/NetworkManager.conf" <<EOF
# written by tests/nm/lib.sh: keyfiles only, no polkit (root runs nmcli),
# no DNS or hostname management (the host's resolv.conf is never touched)
[main]
plugins=keyfile
auth-polkit=false
dns=none
rc-manager=unmanaged
hostname-mode=none
systemd-resolved=false
no-auto-default=*
[keyfile]
unmanaged-devices=none
[logging]
# TRACE for the VPN domains: the log the secrets test searches
level=DEBUG
domains=ALL,VPN:TRACE,VPN_PLUGIN:TRACE
EOF
	nm_name_file >"$NMD/etc/VPN/nm-pluto-service.name" || return 1
	chmod 644 "$NMD/etc/VPN/nm-pluto-service.name" "$NMD/etc/NetworkManager.conf"
	chmod 700 "$NMD/etc/system-connections"
	# NM, running as root, reads these through $T (mode 700, ours)
}

# nm_bus_conf: the private system bus (see the head of this file)
nm_bus_conf() {
	cat <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<!-- written by tests/nm/lib.sh: Debian's system.conf default policy (deny
     owning and method calls unless a policy file allows them), the REAL
     policy files of pluto, the plugin and NetworkManager, and a service
     directory for bus activation. -->
<busconfig>
  <type>system</type>
  <listen>unix:path=/run/dbus/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <servicedir>$NMD/services</servicedir>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus" send_member="UpdateActivationEnvironment"/>
  </policy>
  <policy user="root">
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Monitoring"/>
  </policy>
  <include>$NM_PLUTO_POLICY</include>
  <include>$NM_PLUGIN_POLICY</include>
  <include>$NM_NM_POLICY</include>
</busconfig>
EOF
}

# --- start and stop ---
# nm_netns_up: the namespaces and veths of the plan (Q only with nm_gateway2)
nm_netns_up() {
	io_ns_add L && io_ns_add R || return 1
	# L's end gets no address: NetworkManager configures it (profile "base")
	ip -n "$NS_L" link add "$NM_IF" type veth peer name "$(if_of R L)" netns "$NS_R" &&
	ip -n "$NS_R" addr add "$R_IP/24" dev "$(if_of R L)" &&
	ip -n "$NS_R" link set "$(if_of R L)" up &&
	ip -n "$NS_R" addr add "$R_CLIENT/32" dev lo
}

# nm_start [--no-pluto]: namespaces, the holder, dbus-daemon, NetworkManager,
# the base profile up on the veth, and (unless --no-pluto) pluto
nm_start() {
	local with_pluto=1
	[ "${1:-}" = --no-pluto ] && with_pluto=
	nm_netns_up || { fail "namespaces and veth up"; return 1; }
	nm_write_etc || { fail "NetworkManager's configuration written"; return 1; }
	nm_bus_conf >"$NMD/bus.conf"
	# NM's log (with the plugin's stderr) among the logs common.sh prints
	# when a test fails
	ln -sf nm/nm.log "$T/nm.log"
	# the holder: the mount namespace every daemon of L joins
	ip netns exec "$NS_L" unshare --mount --propagation private sh -c '
		set -e
		mount -t tmpfs -o mode=755 tmpfs /run
		mkdir -p /run/dbus /run/NetworkManager
		mount -o remount,ro /sys
		mount --bind "$1/etc" /etc/NetworkManager
		mount --bind "$1/var" /var/lib/NetworkManager
		touch "$1/holder.ready"
		exec sleep 100000' sh "$NMD" >"$NMD/holder.log" 2>&1 </dev/null 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
	NM_HOLDER=$!
	echo "$NM_HOLDER" >"$NMD/holder.pid"
	wait_for 10 test -f "$NMD/holder.ready" ||
		{ fail "mount namespace for NetworkManager set up"; cat "$NMD/holder.log" >&2; return 1; }
	nm_exec ip link set lo up
	nm_spawn dbus dbus-daemon --config-file="$NMD/bus.conf" --nofork --nopidfile
	wait_for 10 nm_exec test -S /run/dbus/system_bus_socket ||
		{ fail "private system bus up"; return 1; }
	# the plugin inherits NM's environment: its sanitizer reports go to
	# files of their own (nm_check_clean looks for them)
	nm_spawn nm env ASAN_OPTIONS="detect_leaks=1:log_path=$NMD/asan" \
		UBSAN_OPTIONS="print_stacktrace=1:log_path=$NMD/ubsan" \
		NetworkManager --no-daemon --debug
	wait_for 20 nmc -t general status ||
		{ fail "NetworkManager answers on the private bus"; return 1; }
	nmc connection add type ethernet ifname "$NM_IF" con-name base \
		ipv4.method manual ipv4.addresses "$L_IP/24" ipv4.gateway "$R_IP" \
		ipv6.method disabled >"$NMD/base.out" 2>&1 &&
	NMC_TIMEOUT=40 nmc --wait 30 connection up base >>"$NMD/base.out" 2>&1 ||
		{ fail "NetworkManager activates the base profile on $NM_IF"; sed 's/^/#   /' "$NMD/base.out"; return 1; }
	wait_for 5 nm_exec ping -c1 -W1 "$R_IP" || { fail "$L_IP reaches the gateway $R_IP"; return 1; }
	[ -z "$with_pluto" ] || nm_start_pluto
}

# nm_pluto_cmd: pluto's command line as the client daemon of L (on the
# private bus; kernel none: this kernel has no ESP; the config file only
# says `config setup`, so it listens at start like a system pluto)
nm_pluto_cmd() {
	echo "$PLUTO" --nofork --stderrlog --rundir "$T/L/run" --ctlbase "$(pluto_sock L)" \
		--secretsfile "$T/L/ipsec.secrets" --config "$T/L/ipsec.conf" --kernel none --debug-all
}
nm_pluto_files() {
	mkdir -p "$T/L"
	rm -rf "$T/L/run"
	mkdir -p "$T/L/run"
	[ -f "$T/L/ipsec.secrets" ] || { : >"$T/L/ipsec.secrets"; chmod 600 "$T/L/ipsec.secrets"; }
	printf 'config setup\n' >"$T/L/ipsec.conf"
}

# nm_start_pluto: pluto in L, on NM's bus, listening
nm_start_pluto() {
	nm_pluto_files
	# shellcheck disable=SC2046 # the command line, as words
	nsenter --target "$NM_HOLDER" --mount --net -- env ASAN_OPTIONS="${ASAN_OPTIONS:-}" \
		$(nm_pluto_cmd) >>"$T/L-pluto.log" 2>&1 </dev/null 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
	echo $! >"$T/L/pluto.pid"
	IMPL[L]=pluto
	wait_for 10 test -S "$(pluto_sock L)" &&
	wait_for 10 nm_bus_has org.freeswan.pluto1 ||
		{ fail "pluto (client) up on NetworkManager's bus"; tail -20 "$T/L-pluto.log" >&2; return 1; }
}

# nm_stop_nm: TERM NetworkManager and wait for it (a test of what the plugin
# does when NM goes away)
nm_stop_nm() {
	local pid
	pid=$(nm_pid nm)
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	wait_for 15 sh -c '! kill -0 "$1" 2>/dev/null' sh "$pid" || kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$NMD/nm.pid"
}

# nm_plugin_pids: the plugin processes alive in L (by their program path)
nm_plugin_pids() {
	local pid
	for pid in $(ip netns pids "$NS_L" 2>/dev/null); do
		[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$(readlink -f "$NM_PLUGIN_PROG")" ] && echo "$pid"
	done
}

# nm_no_plugin: no plugin process left (for wait_for)
nm_no_plugin() { [ -z "$(nm_plugin_pids)" ]; }

# nm_cleanup: every process in L (all ours) TERMed, then KILLed; the bus
# and the holder last (quiet; the assertions are nm_check_clean's)
nm_cleanup() {
	local pid pids=() i keep
	[ -n "$NM_HOLDER" ] || return 0
	keep=" $(nm_pid dbus) $NM_HOLDER "
	for pid in $(ip netns pids "$NS_L" 2>/dev/null); do
		[[ $keep == *" $pid "* ]] || pids+=("$pid")
	done
	[ ${#pids[@]} -eq 0 ] || kill -TERM "${pids[@]}" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		local alive=0
		for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
		[ $alive -eq 0 ] && break
		sleep 0.1
	done
	for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
	for pid in $(nm_pid dbus) "$NM_HOLDER"; do kill -TERM "$pid" 2>/dev/null; done
	sleep 0.2
	for pid in $(ip netns pids "$NS_L" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
	wait 2>/dev/null
	NM_HOLDER=
	# pluto_stop must not run again on L (its PID is gone)
	rm -f "$T/L/pluto.pid"
}
trap 'nm_cleanup; io_cleanup; _cleanup' EXIT

# --- NetworkManager's view ---
# nm_add_vpn NAME DATA [SECRETS] [nmcli SETTING VALUE...]: a VPN profile of
# type pluto (vpn.data DATA, vpn.secrets SECRETS when not empty)
nm_add_vpn() {
	local name=$1 data=$2 secrets=${3:-}
	shift 3 2>/dev/null || shift $#
	nmc connection add type vpn vpn-type pluto con-name "$name" ifname '*' \
		vpn.data "$data" ${secrets:+vpn.secrets "$secrets"} "$@"
}
# nm_up NAME [--OPTION...] [ARG...]: `nmcli [--OPTION...] connection up NAME
# [ARG...]` (e.g. nm_up vpn --ask passwd-file F), bounded; output in
# $T/up.out, exit status nmcli's
nm_up() {
	local name=$1 opts=()
	shift
	while [ $# -gt 0 ] && [[ $1 == --* ]]; do opts+=("$1"); shift; done
	NMC_TIMEOUT=$((NM_UP_TIMEOUT + 10)) nmc --wait "$NM_UP_TIMEOUT" "${opts[@]}" connection up "$name" "$@" \
		>"$T/up.out" 2>&1 </dev/null
}
nm_down() { nmc --wait 20 connection down "$1" >"$T/down.out" 2>&1; }
# nm_active_state NAME: GENERAL.STATE of NAME's active connection
# (activated, activating, deactivating; empty when not active)
nm_active_state() { nm_shown "$1" GENERAL.STATE; }
# nm_shown NAME FIELD: the value(s) of FIELD in `nmcli -t connection show
# NAME`, one a line: FIELD is a property of the profile (vpn.data) or of the
# active connection (GENERAL.STATE, VPN.BANNER, IP4.ADDRESS: every
# IP4.ADDRESS[N]). (-g cannot name the active connection's VPN group: it
# takes VPN.X for the setting "vpn".)
nm_shown() {
	nmc -t connection show "$1" 2>/dev/null |
		awk -v f="$2" '{ i = index($0, ":"); k = substr($0, 1, i - 1); sub(/\[[0-9]+\]$/, "", k) }
			k == f { print substr($0, i + 1) }'
}
# nm_vpn_state NAME: VPN.VPN-STATE ("5 - VPN connected"; empty when not active)
nm_vpn_state() { nm_shown "$1" VPN.VPN-STATE; }
# nm_is_active NAME / nm_is_inactive NAME: for wait_for
nm_is_active() { [ "$(nm_active_state "$1")" = activated ]; }
nm_is_inactive() { [ -z "$(nm_active_state "$1")" ]; }
# nm_ip4 DEVICE: nmcli -f IP4 device show DEVICE
nm_ip4() { nmc -f IP4 device show "${1:-$NM_IF}"; }
# nm_log_since MARK: NM's log (with the plugin's stderr) from line MARK on
nm_log_mark() { wc -l <"$NMD/nm.log"; }
nm_log_since() { tail -n +"$(($1 + 1))" "$NMD/nm.log"; }

# nm_check_clean WHAT: the assertions of a clean end: no sanitizer report
# from the plugin, no connection or secret-bearing state left in pluto
nm_check_clean() {
	local what=$1 reports
	mapfile -t reports < <(ls "$NMD"/asan.* "$NMD"/ubsan.* 2>/dev/null)
	if [ ${#reports[@]} -eq 0 ]; then ok "$what: no sanitizer report from the plugin"
	else fail "$what: no sanitizer report from the plugin"; head -50 "${reports[@]}" | sed 's/^/#   /'; fi
}

# nm_pluto_conns: the names of pluto's (client) connections, one a line
nm_pluto_conns() { pluto_ctl L status --json 2>/dev/null | jq -r '(.connections // [])[] | .name' | sort; }
# nm_pluto_has_nm_conn: pluto holds an nm-* connection
nm_pluto_has_nm_conn() { nm_pluto_conns | grep -q '^nm-'; }
nm_no_pluto_conn() { ! nm_pluto_has_nm_conn; }

# --- gateways ---
# nm_gateway KIND: a remote-access gateway (PSK + XAUTH + Mode Config) on R,
# pluto or strongswan, as the interop remote-access cases run it
# (tests/lib/peer-*.sh, IO_RA[R]=gateway: pool IO_RA_POOL, DNS IO_RA_DNS,
# domain IO_RA_DOMAIN, banner IO_RA_BANNER, split include R_NET, users
# IO_RA_USER/IO_RA_PASSWORD and IO_RA_USER2/IO_RA_PASSWORD2, PSK $PSK)
nm_gateway() {
	local kind=$1
	io_case psk-aes
	io_side R "$kind"
	IO_RA[R]=gateway
	[ "$kind" = strongswan ] && { io_require_peers || return 1; }
	io_start R || return 1
	[ "$kind" = pluto ] && io_skip_unless_engine R
	return 0
}
# io_require without its netns reaping of pio* names (we are pnm*): the
# interop peers installed
io_require_peers() {
	"$IO_DIR/setup.sh" >"$T/setup.out" 2>&1 && return 0
	sed 's/^/#   /' "$T/setup.out"
	skip_all "interop peers are not installed and tests/interop/setup.sh could not install them"
}

# nm_gateway_s2s: a site-to-site pluto gateway on R without Mode Config or
# XAUTH: protects R_NET for the client host L_IP (ids are the addresses)
nm_gateway_s2s() {
	io_case psk-aes
	io_side R pluto
	pluto_conf R
	pluto_launch R || return 1
	io_skip_unless_engine R
	pluto_ctl R add s2s left="$L_IP" right="$R_IP" leftid="$L_IP" rightid="$R_IP" \
		rightsubnet="$R_NET" ike=aes128-sha1-modp2048 esp=aes128-sha1 phase2=esp \
		pfs=no authby=secret keyingtries=1 >"$T/R/add.out" 2>&1 ||
		{ sed 's/^/#   /' "$T/R/add.out"; return 1; }
}

# nm_gateway2: a second remote-access pluto gateway on Q (198.18.0.2, behind
# R, which forwards), its own pool 10.98.0.10-10.98.0.20, subnet Q_NET, the
# same users and PSK
nm_gateway2() {
	local d=$T/Q
	io_ns_add Q || return 1
	ip -n "$NS_R" link add "$(if_of R Q)" type veth peer name "$(if_of Q R)" netns "$(ns_of Q)" &&
	ip -n "$NS_R" addr add "$RQ_IP/24" dev "$(if_of R Q)" &&
	ip -n "$(ns_of Q)" addr add "$Q_IP/24" dev "$(if_of Q R)" &&
	ip -n "$NS_R" link set "$(if_of R Q)" up &&
	ip -n "$(ns_of Q)" link set "$(if_of Q R)" up &&
	ip -n "$(ns_of Q)" route add default via "$RQ_IP" &&
	ip netns exec "$NS_R" sysctl -qw net.ipv4.ip_forward=1 || return 1
	wait_for 5 nm_exec ping -c1 -W1 "$Q_IP" || { echo "# $L_IP does not reach $Q_IP" >&2; return 1; }
	io_side Q pluto
	mkdir -p "$d"
	{ echo "$Q_IP %any : PSK \"$PSK\""
	  printf '@%s : XAUTH "%s"\n' "$IO_RA_USER" "$IO_RA_PASSWORD" "$IO_RA_USER2" "$IO_RA_PASSWORD2"
	} >"$d/ipsec.secrets"
	chmod 600 "$d/ipsec.secrets"
	pluto_launch Q || return 1
	pluto_ctl Q add lab right="$Q_IP" rightid="$Q_IP" rightsubnet="$Q_NET" \
		rightxauthserver=yes rightmodecfgserver=yes left=%any leftid=%any \
		leftxauthclient=yes leftmodecfgclient=yes leftaddresspool=10.98.0.10-10.98.0.20 \
		xauthby=file modecfgdns=10.98.1.53 modecfgdomains=two.example.test \
		ike=aes128-sha1-modp2048 esp=aes128-sha1 phase2=esp pfs=no authby=secret \
		keyingtries=1 >"$d/add.out" 2>&1 || { sed 's/^/#   /' "$d/add.out"; return 1; }
}

# nm_ra_data [RIGHT]: vpn.data of a remote-access client to the gateway at
# RIGHT (default R_IP) as user IO_RA_USER, in the section-1 vocabulary
nm_ra_data() {
	local right=${1:-$R_IP}
	echo "right=$right, rightid=$right, leftid=%any, leftxauthclient=yes, leftmodecfgclient=yes, leftusername=$IO_RA_USER, rightxauthserver=yes, rightmodecfgserver=yes, ike=aes128-sha1-modp2048, esp=aes128-sha1, phase2=esp, pfs=no, authby=secret, keyingtries=1"
}

# --- the bus as NetworkManager and the plugin see it ---
# nm_monitor_start: every message on the private bus, as JSON lines, in
# $NMD/monitor.log (busctl monitor; root may BecomeMonitor, nm_bus_conf).
# Method calls carry secrets by design (NM's Connect to the plugin, the
# plugin's SetSecret to pluto): only the signals are searched for them.
nm_monitor_start() {
	nm_spawn monitor busctl --system monitor --json=short
	sleep 0.3
}
# nm_signals INTERFACE MEMBER: the payloads (JSON arrays) of those signals
# (from monitor line NM_MON_FROM on, default all)
nm_signals() {
	tail -n +"$((${NM_MON_FROM:-0} + 1))" "$NMD/monitor.log" | grep '^{' | jq -c --arg i "$1" --arg m "$2" \
		'select(.type == "signal" and .interface == $i and .member == $m) | .payload.data' 2>/dev/null
}
# the names NetworkManager 1.42 gives the numbers (libnm's nm-dbus-interface.h
# and nm-vpn-dbus-interface.h)
NM_REASONS=(UNKNOWN NONE USER_DISCONNECTED DEVICE_DISCONNECTED SERVICE_STOPPED IP_CONFIG_INVALID
	CONNECT_TIMEOUT SERVICE_START_TIMEOUT SERVICE_START_FAILED NO_SECRETS LOGIN_FAILED
	CONNECTION_REMOVED DEPENDENCY_FAILED DEVICE_REALIZE_FAILED DEVICE_REMOVED)
NM_VPN_STATES=(UNKNOWN PREPARE NEED_AUTH CONNECT IP_CONFIG_GET ACTIVATED FAILED DISCONNECTED)
NM_PLUGIN_FAILURES=(LOGIN_FAILED CONNECT_FAILED BAD_IP_CONFIG)
NM_SERVICE_STATES=(UNKNOWN INIT SHUTDOWN STARTING STARTED STOPPING STOPPED)
# nm_vpn_transitions: NM's VpnStateChanged signals as "STATE/REASON", one a line
nm_vpn_transitions() {
	local s r
	nm_signals org.freedesktop.NetworkManager.VPN.Connection VpnStateChanged | tr -d '[]' |
		while IFS=, read -r s r; do echo "${NM_VPN_STATES[$s]:-$s}/${NM_REASONS[$r]:-$r}"; done
}
# nm_vpn_failed_reason: the reason of NM's last VPN state FAILED (empty if none)
nm_vpn_failed_reason() { nm_vpn_transitions | grep '^FAILED/' | tail -1 | cut -d/ -f2; }
# nm_plugin_failures: the plugin's Failure signals, by name, one a line
nm_plugin_failures() {
	local f
	nm_signals org.freedesktop.NetworkManager.VPN.Plugin Failure | tr -d '[]' |
		while read -r f; do echo "${NM_PLUGIN_FAILURES[$f]:-$f}"; done
}
# nm_plugin_states: the plugin's StateChanged signals, by name, one a line
nm_plugin_states() {
	local s
	nm_signals org.freedesktop.NetworkManager.VPN.Plugin StateChanged | tr -d '[]' |
		while read -r s; do echo "${NM_SERVICE_STATES[$s]:-$s}"; done
}
# nm_calls MEMBER: how many method calls MEMBER went to a VPN plugin
# (from monitor line NM_MON_FROM on)
nm_calls() {
	tail -n +"$((${NM_MON_FROM:-0} + 1))" "$NMD/monitor.log" | grep '^{' | jq -c --arg m "$1" \
		'select(.type == "method_call" and .interface == "org.freedesktop.NetworkManager.VPN.Plugin" and .member == $m)' \
		2>/dev/null | wc -l
}
# nm_monitor_mark: where the signal history is now; the _since variants
# look only at what came after MARK (one activation of several)
nm_monitor_mark() { wc -l <"$NMD/monitor.log"; }
nm_vpn_transitions_since() { NM_MON_FROM=$1 nm_vpn_transitions; }
nm_plugin_failures_since() { NM_MON_FROM=$1 nm_plugin_failures; }
nm_plugin_states_since() { NM_MON_FROM=$1 nm_plugin_states; }
# nm_vpn_failed_since MARK: NM reported a VPN state FAILED after MARK
nm_vpn_failed_since() { nm_vpn_transitions_since "$1" | grep -q '^FAILED/'; }

# nm_uuid NAME: the profile's UUID; pluto's connection is nm-<UUID>
nm_uuid() { nmc -g connection.uuid connection show "$1"; }

# nm_properties: every property now on the bus, as text: pluto's objects
# (GetManagedObjects), NetworkManager's (GetManagedObjects of
# /org/freedesktop), and every VPN plugin's (GetAll)
nm_properties() {
	local n
	nm_busctl --json=short call org.freeswan.pluto1 /org/freeswan/pluto1 \
		org.freedesktop.DBus.ObjectManager GetManagedObjects 2>&1
	nm_busctl --json=short call org.freedesktop.NetworkManager /org/freedesktop \
		org.freedesktop.DBus.ObjectManager GetManagedObjects 2>&1
	for n in $(nm_busctl list --no-legend 2>/dev/null | awk '{print $1}' | grep "^$NM_SERVICE_NAME"); do
		nm_busctl --json=short call "$n" /org/freedesktop/NetworkManager/VPN/Plugin \
			org.freedesktop.DBus.Properties GetAll s org.freedesktop.NetworkManager.VPN.Plugin 2>&1
	done
}

# nm_check_secrets_absent WHAT SECRET...: none of the SECRETs appears in
# NM's log (TRACE for VPN, with the plugin's stderr), pluto's log
# (--debug-all), any signal seen on the bus, any property now on the bus,
# or nmcli's view of the profile without --show-secrets
nm_check_secrets_absent() {
	local what=$1 s where found
	shift
	nm_properties >"$NMD/properties.now"
	grep '^{' "$NMD/monitor.log" | jq -c 'select(.type == "signal")' >"$NMD/signals.now" 2>/dev/null
	for where in "NetworkManager's log:$NMD/nm.log" "pluto's log:$T/L-pluto.log" \
		"the bus signals:$NMD/signals.now" "the bus properties:$NMD/properties.now"; do
		found=
		for s in "$@"; do grep -qF -- "$s" "${where#*:}" && found=1; done
		if [ -z "$found" ]; then ok "$what: no secret in ${where%%:*}"
		else fail "$what: no secret in ${where%%:*}"; fi
	done
	[ -s "$NMD/properties.now" ] || fail "$what: the bus properties were read"
}

# nm_probe_xauth RIGHT: a probe connection like a VPN's to the gateway
# RIGHT, given the gateway's PSK (not the XAUTH password), initiated; prints
# what pluto said, and takes the probe and the PSK back
nm_probe_xauth() {
	local right=$1
	# shellcheck disable=SC2046 # the words of vpn.data
	pluto_ctl L add nm-probe left=%defaultroute $(nm_ra_data "$right" | tr -d ' ' | tr ',' ' ') 2>&1 || return
	printf "%s" "$PSK" | pluto_ctl L secrets set psk "$right" >/dev/null
	IO_NEGOTIATE_TIMEOUT=20 pluto_initiate L nm-probe 2>&1
	pluto_ctl L delete nm-probe >/dev/null 2>&1
	pluto_ctl L secrets delete psk "$right" >/dev/null 2>&1
}

# nm_check_pluto_forgot WHAT RIGHT [psk-only]: pluto holds no nm-* connection and no
# secret for the gateway RIGHT: a probe connection like the VPN's (no
# secret given) is refused for want of a PSK; given a PSK, its XAUTH finds
# no password for IO_RA_USER (when XAUTH=1). The probe and its PSK go after.
nm_check_pluto_forgot() {
	local what=$1 right=$2 out
	check_eq "$what: pluto holds no nm-* connection" "" "$(nm_pluto_conns | grep '^nm-')"
	# shellcheck disable=SC2046 # the words of vpn.data
	pluto_ctl L add nm-probe left=%defaultroute $(nm_ra_data "$right" | tr -d ' ' | tr ',' ' ') \
		>"$T/probe.out" 2>&1 || { fail "$what: add the probe connection"; sed 's/^/#   /' "$T/probe.out"; return; }
	out=$(IO_NEGOTIATE_TIMEOUT=20 pluto_initiate L nm-probe 2>&1)
	check_contains "$what: pluto holds no PSK for $right" "no preshared key" "$out"
	# a silent gateway never gets as far as XAUTH
	if [ "${3:-}" = psk-only ]; then pluto_ctl L delete nm-probe >/dev/null 2>&1; return; fi
	printf "%s" "$PSK" | pluto_ctl L secrets set psk "$right" >/dev/null
	out=$(IO_NEGOTIATE_TIMEOUT=20 pluto_initiate L nm-probe 2>&1)
	check_contains "$what: pluto holds no XAUTH password for $IO_RA_USER" \
		"no password for user \"$IO_RA_USER\"" "$out"
	pluto_ctl L delete nm-probe >/dev/null 2>&1
	pluto_ctl L secrets delete psk "$right" >/dev/null 2>&1
}
