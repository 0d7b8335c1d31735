#!/bin/bash
# pluto.service under a real systemd as PID 1: "systemctl start" gives a
# fully working daemon, and so does a reboot with no command at all.
#
# This machine has no systemd as PID 1, so the test boots one: the host's
# own OS in a container (systemd-nspawn --boot --volatile=yes: a tmpfs
# root, the host's /usr read-only, no network but lo), with
#   /usr/local  this build, installed by "meson install --destdir"
#               (pluto in /usr/local/sbin); the units, D-Bus policy and
#               tmpfiles entry land in the system's directories (README.md
#               "Install paths": /lib/systemd/system, /usr/share/dbus-1),
#               which the container has read-only from the host, so the
#               test puts them in its /etc instead (/etc/systemd/system,
#               /etc/dbus-1/system.d), where systemd and the bus read too;
#   /etc        the host's /etc under an overlay whose upper layer is the
#               test's own directory: what the admin writes there
#               (/etc/ipsec.conf, /etc/ipsec.secrets, "systemctl enable")
#               survives the reboot, nothing reaches the host's /etc.
# Boot 1: "systemctl enable --now pluto", then the checks; then
# "systemctl reboot" inside (systemd-nspawn exits with 133, as it does for
# a reboot) and boot 2 from the same /etc with no command but the checks:
# the unit is active, pluto listens on port 500 and has the file's
# connections, auto=route applied, the secrets read.
#
# Boot 1 also checks the unit's ExecStartPre (pluto --check-config) and
# that "systemctl reload" (ExecReload: SIGHUP = Reload) adds a conn written
# into /etc/ipsec.conf without restarting pluto.
#
# Skipped (77) when not root, without systemd-nspawn (Debian package
# systemd-container), or when the container cannot boot here (the reason
# is printed from its console log).
# shellcheck source=tests/lib/common.sh
# shellcheck disable=SC2317 # the helpers are called through check and wait_for
source "$SRCDIR/tests/lib/common.sh"

[ "$(id -u)" -eq 0 ] || skip_all "booting a container needs root"
for tool in systemd-nspawn nsenter meson jq; do
	command -v "$tool" >/dev/null || skip_all "no $tool (systemd-nspawn: apt package systemd-container)"
done
[ -x /usr/lib/systemd/systemd ] || skip_all "the host OS has no systemd to boot (/usr/lib/systemd/systemd)"
: "${BUILDDIR:?run through meson test}"


DEST=$T/dest
UPPER=$T/etc
mkdir -p "$UPPER"
meson install -C "$BUILDDIR" --destdir "$DEST" --no-rebuild --quiet >"$T/install.log" 2>&1 ||
	{ fail "meson install --destdir"; sed 's/^/#   /' "$T/install.log"; done_testing; }
# where the build put them (its *_dir options): found, not assumed
installed() { find "$DEST" -path "*/$1" -type f | head -n 1; }
UNIT=$(installed systemd/system/pluto.service)
POLICY=$(installed dbus-1/system.d/org.freeswan.pluto1.conf)
check "pluto.service is installed (${UNIT#"$DEST"})" test -n "$UNIT"
check "the bus policy is installed (${POLICY#"$DEST"})" test -n "$POLICY"
[ -n "$UNIT" ] && [ -n "$POLICY" ] || done_testing

# --- what the admin puts into /etc before the first boot ---
PSK="systemd-boot test psk $$"
cat >"$UPPER/ipsec.conf" <<EOF
# written for tests/integration/systemd-boot.sh
config setup
	uniqueids=yes

conn %default
	authby=secret
	left=127.0.0.1

conn office
	right=192.0.2.2
	auto=add

conn branch
	right=192.0.2.3
	rightsubnet=10.3.0.0/16
	auto=route
EOF
echo "127.0.0.1 192.0.2.2 : PSK \"$PSK\"" >"$UPPER/ipsec.secrets"
chmod 600 "$UPPER/ipsec.secrets"
# the container's own machine id (the host's would make its journal clash)
od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$UPPER/machine-id"
echo >>"$UPPER/machine-id"
# the system-wide files, into the container's writable /etc (its /usr is
# the host's, read-only)
mkdir -p "$UPPER/dbus-1/system.d" "$UPPER/systemd/system"
cp "$POLICY" "$UPPER/dbus-1/system.d/"
cp "${UNIT%.service}.service" "${UNIT%.service}.socket" "$UPPER/systemd/system/"
# the host's other IKE daemons would take port 500 in the container
for unit in strongswan.service strongswan-starter.service ipsec.service; do
	ln -sf /dev/null "$UPPER/systemd/system/$unit"
done
# A sanitizer build's leak check stops the world with ptrace, which the
# unit's SystemCallFilter refuses: LeakSanitizer would fail the exit. The
# leak check is the other tests' job (pluto_stop); here it is switched off.
if grep -qa AddressSanitizer "$DEST/usr/local/sbin/pluto"; then
	mkdir -p "$UPPER/systemd/system/pluto.service.d"
	printf '[Service]\nEnvironment=ASAN_OPTIONS=detect_leaks=0\n' \
		>"$UPPER/systemd/system/pluto.service.d/sanitizer.conf"
fi

# --- the container ---
MACHINE=pluto-boot-$$
CT_PID='' CT_INIT=''
# boot N: start the container (console log $T/bootN.log); CT_PID is
# systemd-nspawn, CT_INIT the container's PID 1 as the host sees it
boot() {
	systemd-nspawn --quiet --directory=/ --volatile=yes --private-network \
		--register=no --keep-unit --machine="$MACHINE" --console=passive \
		--bind-ro="$DEST/usr/local:/usr/local" --overlay="/etc:$UPPER:/etc" \
		--boot >"$T/boot$1.log" 2>&1 &
	CT_PID=$!
	_pids+=("$CT_PID")
	CT_INIT=
	wait_for 20 find_init && wait_for 60 booted
}
find_init() { CT_INIT=$(pgrep -P "$CT_PID" -x systemd | head -1); [ -n "$CT_INIT" ]; }
# ct COMMAND...: run COMMAND in the container (all its namespaces)
ct() { nsenter --target "$CT_INIT" --all "$@"; }
booted() { case $(ct systemctl is-system-running 2>/dev/null) in running | degraded) return 0 ;; esac; return 1; }
# halt_with VERB: systemctl VERB inside; CT_EXIT: systemd-nspawn's exit
# status (not in $(...): only this shell can wait for its child)
halt_with() {
	ct systemctl "$1" >/dev/null 2>&1
	local i
	for ((i = 0; i < 300; i++)); do kill -0 "$CT_PID" 2>/dev/null || break; sleep 0.1; done
	wait "$CT_PID"
	CT_EXIT=$?
}
ipsecctl_ct() { ct /usr/local/sbin/ipsecctl "$@"; }
status_json() { ipsecctl_ct status --json 2>/dev/null; }
listening() { [ "$(status_json | jq -r .listening)" = true ]; }
conns() { status_json | jq -r '[.connections[].name] | sort | join(" ")'; }
conns_are() { [ "$(conns)" = "$1" ]; }
routing_of() { status_json | jq -r --arg c "$1" '.connections[] | select(.name == $c) | .routing'; }
# pluto's UDP socket on port 500 in the container (ss is in iproute2)
udp500() { ct ss -Hlunp 'sport = :500' | grep -q pluto; }
secrets_loaded() { ct journalctl -b -u pluto --no-pager -o cat | grep -q "loaded 1 secrets from /etc/ipsec.secrets"; }

# the connections the file has (sorted)
WANT_CONNS="branch office"
# what a working daemon shows, after a start and after a boot (WHEN says which)
working_daemon() {
	local when=$1
	# for the reader of a failure: pluto's journal and status so far
	{ ct journalctl -b -u pluto --no-pager -o short-monotonic; ipsecctl_ct status; } \
		>"$T/pluto-${when// /-}.log" 2>&1
	check_eq "$when: pluto.service is active" active "$(ct systemctl is-active pluto.service)"
	check_eq "$when: started once, no restart" "0" "$(ct systemctl show -P NRestarts pluto.service)"
	check "$when: Varlink answers at /run/pluto/org.freeswan.pluto" ipsecctl_ct status
	check "$when: pluto owns org.freeswan.pluto1 on the system bus" \
		ct busctl status org.freeswan.pluto1
	check "$when: listening with no command" listening
	check "$when: pluto's UDP socket on port 500" udp500
	check "$when: pluto read /etc/ipsec.conf, its default (pluto(8) FILES)" \
		grep -q "loaded /etc/ipsec.conf: " "$T/pluto-${when// /-}.log"
	check "$when: the connections of /etc/ipsec.conf are loaded ($WANT_CONNS)" \
		test "$(conns)" = "$WANT_CONNS"
	check "$when: auto=route applied (branch is prospective)" \
		test "$(routing_of branch)" = prospective
	check "$when: /etc/ipsec.secrets read (journal)" secrets_loaded
}

# since T0: seconds from T0 (an EPOCHREALTIME) to now, one decimal
since() { awk -v a="$1" -v b="${EPOCHREALTIME/,/.}" 'BEGIN { printf "%.1f", b - a }'; }
t0=${EPOCHREALTIME/,/.}
if ! boot 1; then
	why=$(grep -m3 -iE 'fail|error|refus|not supported|cannot' "$T/boot1.log" | tr '\n' ' ')
	skip_all "systemd-nspawn cannot boot this host's OS here: ${why:-no systemd came up within 80 s}"
fi
boot1_secs=$(since "$t0")
ok "boot 1: systemd is up in the container (${boot1_secs} s)"

# --- boot 1: the admin enables and starts the unit, once ---
check_eq "the unit is found and not enabled yet" disabled "$(ct systemctl is-enabled pluto.service)"
check "systemctl enable --now pluto" ct systemctl enable --now pluto.service
working_daemon "after systemctl start"
check "ExecStartPre runs pluto --check-config" \
	grep -q -- '--check-config' <<<"$(ct systemctl show -P ExecStartPre pluto.service)"
# systemctl reload = SIGHUP = Reload: a conn added to the file appears,
# the unchanged ones stay (pluto keeps its PID: no restart)
pid=$(ct systemctl show -P MainPID pluto.service)
ct sh -c 'printf "\nconn home\n\tright=192.0.2.4\n\tauto=add\n" >>/etc/ipsec.conf'
check "systemctl reload pluto" ct systemctl reload pluto.service
WANT_CONNS="branch home office"
check "after the reload the new conn is there" wait_for 5 conns_are "$WANT_CONNS"
check_eq "the reload kept the process" "$pid" "$(ct systemctl show -P MainPID pluto.service)"
halt_with reboot
check_eq "systemctl reboot: systemd-nspawn exits 133 (reboot)" 133 "$CT_EXIT"

# --- boot 2: nothing but the checks ---
t0=${EPOCHREALTIME/,/.}
boot 2 || fail "boot 2: systemd is up in the container again"
boot2_secs=$(since "$t0")
check_eq "boot 2: pluto.service enabled (the overlay kept /etc)" enabled "$(ct systemctl is-enabled pluto.service)"
working_daemon "after the reboot"
# a clean stop: SIGTERM, pluto exits 0
check "systemctl stop pluto" ct systemctl stop pluto.service
ct journalctl -b -u pluto --no-pager -o short-monotonic >"$T/pluto-stop.log" 2>&1
check_eq "pluto stopped cleanly (Result=success)" success "$(ct systemctl show -P Result pluto.service)"
halt_with poweroff
check_eq "systemctl poweroff: systemd-nspawn exits 0" 0 "$CT_EXIT"
echo "# boot 1 took ${boot1_secs} s, boot 2 ${boot2_secs} s"
done_testing
