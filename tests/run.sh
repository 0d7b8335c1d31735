#!/bin/bash
# The test command: on a Debian 12 machine, as root,
#
#     tests/run.sh
#
# installs what the build and the tests need (only what is missing), builds
# pluto with clang, AddressSanitizer + UBSan and the libFuzzer targets in
# build-test/, compiles it once more as Debian would (gcc, release,
# dpkg-buildflags) in build-release/, both with -Werror, runs every meson
# test suite (unit, integration, hostile, fuzz, interop, vm, nm, package) and
# ends with exactly one line "N passed, N failed[, N skipped]" counted from
# build-test/meson-logs/testlog.json. Exit status 0 only when nothing failed.
#
# Environment: BUILDDIR (default build-test), RELEASEDIR (default
# build-release), MESON_TEST_ARGS (extra
# arguments for meson test, e.g. "--suite unit" while developing).
set -u
cd "$(dirname "$0")/.." || exit 2
BUILDDIR=${BUILDDIR:-build-test}
RELEASEDIR=${RELEASEDIR:-build-release}

say() { echo "tests/run.sh: $*" >&2; }

# --- 1. packages: the build, then what the tests call ---
packages=(
	meson ninja-build pkg-config clang libclang-rt-14-dev
	# the release build: Debian's compiler flags (dpkg-buildflags)
	dpkg-dev
	libsystemd-dev libjson-c-dev libssl-dev libglib2.0-dev
	dbus-daemon socat iproute2 util-linux systemd nftables
	# integration-systemd-boot boots the host's OS under systemd-nspawn
	systemd-container
	# integration-completion: the completions install into bash-completion's
	# own directory (its pkg-config file), as a package build does
	bash-completion
	# the tests: JSON on the command line, datagram receivers and D-Bus
	# clients (/usr/bin/python3), test keys, gdbus, ping
	jq python3 python3-dbus python3-gi openssl libglib2.0-bin iputils-ping procps tshark
	# the interop suite's peers and tools (libreswan: tests/interop/setup.sh below)
	charon-systemd strongswan-swanctl libstrongswan-standard-plugins libstrongswan-extra-plugins libcharon-extra-plugins libnss3-tools tcpdump xxd gcc
	# the vm suite: qemu boots a Debian kernel with ESP (tests/vm/setup.sh below)
	qemu-system-x86 kmod
	# the nm suite: the real NetworkManager and nmcli (run only inside the
	# tests' namespaces, see tests/nm/lib.sh); libnm for the editor plugin
	network-manager libnm-dev
	# the package suite: clean Debian roots, the package build's checker
	mmdebstrap lintian
)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		say "missing packages (run as root to install them): ${missing[*]}"
		exit 2
	fi
	say "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# Installing network-manager must not start NetworkManager on this
	# machine: its postinst would start the service, which takes over the
	# host's interfaces (the tests run their own NM in a namespace). A
	# policy-rc.d that exits 101 ("action forbidden") makes invoke-rc.d and
	# deb-systemd-invoke skip every start during this apt-get; it is removed
	# afterwards, also when apt-get fails or is interrupted. One already there
	# is left alone.
	policy_rc=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		policy_rc=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\n# tests/run.sh: no service starts while it installs packages\nexit 101\n' >"$policy_rc"
		chmod 755 "$policy_rc"
		# also when apt-get is interrupted
		trap 'rm -f "$policy_rc"' EXIT
		trap 'exit 130' INT TERM
	fi
	{ apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"; } >&2
	apt_rc=$?
	[ -z "$policy_rc" ] || { rm -f "$policy_rc"; trap - EXIT INT TERM; }
	if [ "$apt_rc" -ne 0 ]; then
		say "apt-get failed"
		exit 2
	fi
	# the postinst also enabled the service: it would start at the next
	# boot and take over the interfaces; the tests never need it enabled
	if [[ " ${missing[*]} " == *" network-manager "* ]] && command -v systemctl >/dev/null; then
		systemctl disable NetworkManager.service NetworkManager-wait-online.service \
			NetworkManager-dispatcher.service >/dev/null 2>&1 || true
	fi
fi
[ "$(id -u)" -eq 0 ] || say "warning: not root; tests that need namespaces will fail or skip"
[ "$(id -u)" -ne 0 ] || tests/interop/setup.sh || say "warning: libreswan not unpacked; the interop tests will skip"
[ "$(id -u)" -ne 0 ] || tests/vm/setup.sh || say "warning: no VM kernel; the vm suite will skip"

# configure_and_build DIR CC WHAT OPTION...: configure DIR with CC and the
# options (reconfigure when DIR was set up with the same compiler, a clean
# setup otherwise), then build it; WHAT names the build in error messages.
# The compiler is read from build.ninja's C compile rule.
configure_and_build() {
	local dir=$1 cc=$2 what=$3
	shift 3
	if [ -f "$dir/meson-private/coredata.dat" ] &&
		grep -q "^ command = $cc " "$dir/build.ninja" 2>/dev/null; then
		meson setup --reconfigure "$@" "$dir" >&2 ||
			{ say "meson setup --reconfigure of the $what failed"; exit 2; }
	else
		# a fresh directory, or one configured with another compiler
		local wipe=()
		[ -d "$dir/meson-private" ] && wipe=(--wipe)
		CC=$cc meson setup "${wipe[@]}" "$@" "$dir" >&2 ||
			{ say "meson setup of the $what failed"; exit 2; }
	fi
	ninja -C "$dir" >&2 || { say "$what failed: see above"; exit 2; }
}

# --- 2. configure and build: clang, ASan + UBSan, fuzz targets ---
configure_and_build "$BUILDDIR" clang "test build (clang, ASan/UBSan, -Werror)" \
	"-Db_sanitize=address,undefined" -Db_lundef=false -Dfuzz=true -Dtests=true --buildtype=debug -Dwerror=true

# --- 2b. compile only, as Debian builds the package: gcc, optimised,
# _FORTIFY_SOURCE, stack protector, format checks; -O2 finds warnings the
# debug build cannot (e.g. -Wstringop-overflow), and werror makes them fail ---
configure_and_build "$RELEASEDIR" gcc "release build (gcc, --buildtype=release, dpkg-buildflags, -Werror)" \
	--buildtype=release -Dwerror=true -Dtests=false -Dfuzz=false \
	"-Dc_args=$(dpkg-buildflags --get CPPFLAGS) $(dpkg-buildflags --get CFLAGS)" \
	"-Dc_link_args=$(dpkg-buildflags --get LDFLAGS)"

# --- 3. every suite ---
rm -f "$BUILDDIR/meson-logs/testlog.json"
# shellcheck disable=SC2086 # MESON_TEST_ARGS is a list of words
meson test -C "$BUILDDIR" --no-rebuild --print-errorlogs ${MESON_TEST_ARGS:-} >&2
log=$BUILDDIR/meson-logs/testlog.json
[ -s "$log" ] || { say "meson test wrote no $log"; exit 2; }

# --- 4. the summary line ---
# meson's results: OK and EXPECTEDFAIL pass; SKIP is skipped; FAIL, ERROR,
# TIMEOUT and UNEXPECTEDPASS fail.
read -r passed failed skipped < <(jq -r '.result' "$log" | awk '
	/^(OK|EXPECTEDFAIL)$/ { p++; next }
	/^SKIP$/ { s++; next }
	{ f++ }
	END { printf "%d %d %d\n", p, f, s }')
line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line+=", $skipped skipped"
echo "$line"
[ "$failed" -eq 0 ]
