#!/bin/bash
# Install paths from the system (issue 15 point 1, README.md "Install
# paths"): a --prefix=/usr/local build installs its D-Bus policy and
# activation file, systemd units and tmpfiles entry where the system's bus
# and systemd read them (the pkg-config variables of dbus-1 and systemd,
# not redefined under the prefix), not under /usr/local; each path follows
# its meson option, and pkg-config is really asked.
#   1. "meson install --destdir" of this build: the files are where the
#      system's .pc files (or the documented fallbacks) say, none under
#      /usr/local/share/dbus-1 or /usr/local/lib/systemd;
#   2. a fresh "meson setup" (no build: "meson introspect --installed")
#      with a dbus-1.pc of the test's own on PKG_CONFIG_PATH and
#      -Dsystemd_system_unit_dir: the policy follows the .pc file, the
#      units the option, config.h names the policy file pluto logs.
# no root needed: everything is written under the test's directory
NONROOT_OK=1
# shellcheck source=tests/lib/common.sh
source "$SRCDIR/tests/lib/common.sh"

for tool in meson jq pkg-config; do
	command -v "$tool" >/dev/null || skip_all "no $tool"
done
: "${BUILDDIR:?run through meson test}"
# meson install writes its log into the build dir
[ -w "$BUILDDIR/meson-logs" ] || skip_all "cannot write $BUILDDIR/meson-logs (meson install logs there): run it in a build dir of your own"

# an option's value in a configured build dir ('' when unset)
option_of() { meson introspect --buildoptions "$1" | jq -r --arg n "$2" '.[] | select(.name == $n) | .value'; }
# what the system's .pc file says, else the fallback meson.build uses
pc_or() { local v; v=$(pkg-config --variable="$2" "$1" 2>/dev/null); echo "${v:-$3}"; }
# the option if set, else the default
opt_or() { local v; v=$(option_of "$BUILDDIR" "$1"); echo "${v:-$2}"; }

PREFIX=$(option_of "$BUILDDIR" prefix)
dbus_datadir=$(pc_or dbus-1 datadir /usr/share)
POLICY_DIR=$(opt_or dbus_policy_dir "$dbus_datadir/dbus-1/system.d")
SERVICES_DIR=$(opt_or dbus_system_services_dir "$(pc_or dbus-1 system_bus_services_dir /usr/share/dbus-1/system-services)")
UNIT_DIR=$(opt_or systemd_system_unit_dir "$(pc_or systemd systemdsystemunitdir "$PREFIX/lib/systemd/system")")
TMPFILES_DIR=$(opt_or tmpfiles_dir "$(pc_or systemd tmpfilesdir "$PREFIX/lib/tmpfiles.d")")

# --- 1. this build, installed ---
DEST=$T/dest
meson install -C "$BUILDDIR" --destdir "$DEST" --no-rebuild --quiet >"$T/install.log" 2>&1 ||
	{ fail "meson install --destdir"; sed 's/^/#   /' "$T/install.log"; done_testing; }
echo "# prefix $PREFIX; installed:"
(cd "$DEST" && find . -type f | sort | sed 's/^\./#   /')
check "the bus policy is in $POLICY_DIR" test -f "$DEST$POLICY_DIR/org.freeswan.pluto1.conf"
check "the activation file is in $SERVICES_DIR" test -f "$DEST$SERVICES_DIR/org.freeswan.pluto1.service"
check "pluto.service is in $UNIT_DIR" test -f "$DEST$UNIT_DIR/pluto.service"
check "pluto.socket is in $UNIT_DIR" test -f "$DEST$UNIT_DIR/pluto.socket"
check "the tmpfiles entry is in $TMPFILES_DIR" test -f "$DEST$TMPFILES_DIR/pluto.conf"
check_eq "the tmpfiles entry makes /run/pluto 0755 root root" "d /run/pluto 0755 root root -" \
	"$(grep -v '^#' "$DEST$TMPFILES_DIR/pluto.conf" 2>/dev/null)"
if [ "$(option_of "$BUILDDIR" nm)" != disabled ] && [ -f "$BUILDDIR/data/nm-pluto-service.name" ]; then
	check "NetworkManager's policy is beside pluto's" test -f "$DEST$POLICY_DIR/nm-pluto-service.conf"
fi
if [ "$PREFIX" = /usr/local ]; then
	check_eq "nothing under /usr/local where the bus or systemd does not look" "" \
		"$(cd "$DEST" && ls -d usr/local/share/dbus-1 usr/local/lib/systemd 2>/dev/null)"
fi
check "the unit runs pluto from the prefix" grep -qx "ExecStart=$PREFIX/sbin/pluto --nofork" "$DEST$UNIT_DIR/pluto.service"

# --- 2. pkg-config asked, options obeyed (configure only) ---
mkdir -p "$T/pc"
cat >"$T/pc/dbus-1.pc" <<PC
datadir=$T/fake-share
system_bus_services_dir=$T/fake-share/dbus-1/system-services
Name: dbus-1
Description: a dbus-1.pc for tests/integration/install-paths.sh
Version: 1.14.0
PC
PKG_CONFIG_PATH="$T/pc${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}" \
	meson setup "$T/b" "$SRCDIR" --prefix=/usr/local -Dtests=false -Dbench=false -Dfuzz=false \
	-Dnm=disabled -Dsystemd_system_unit_dir=/opt/pluto-units >"$T/setup.log" 2>&1 ||
	{ fail "meson setup with a dbus-1.pc and an option"; sed 's/^/#   /' "$T/setup.log"; done_testing; }
meson introspect --installed "$T/b" >"$T/installed.json"
# where the build would install a file, by its name
dest_of() { jq -r --arg f "/$1" 'to_entries[] | select(.key | endswith($f)) | .value' "$T/installed.json"; }
check_eq "the policy follows dbus-1.pc's datadir" "$T/fake-share/dbus-1/system.d/org.freeswan.pluto1.conf" \
	"$(dest_of org.freeswan.pluto1.conf)"
check_eq "the activation file follows dbus-1.pc's system_bus_services_dir" \
	"$T/fake-share/dbus-1/system-services/org.freeswan.pluto1.service" "$(dest_of org.freeswan.pluto1.service)"
check_eq "-Dsystemd_system_unit_dir moves the units" "/opt/pluto-units/pluto.service" "$(dest_of pluto.service)"
check "config.h names the policy file pluto logs about" \
	grep -qF "#define PLUTO_DBUS_POLICY_FILE \"$T/fake-share/dbus-1/system.d/org.freeswan.pluto1.conf\"" "$T/b/config.h"

done_testing
