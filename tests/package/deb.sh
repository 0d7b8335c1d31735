#!/bin/bash
# The Debian packages, built and installed as a distribution would (issue
# 15): dpkg-buildpackage -b in a clean Debian 12 build root (debootstrap'd
# buildd + exactly debian/control's Build-Depends, so a missing one fails
# the build), lintian with no error, then the .debs installed with apt into
# a clean Debian 12 root, where the autopkgtests of debian/tests/ run:
# smoke (pluto --version, systemd-analyze verify on the units, pluto
# --check-config, conffiles) and tunnel (two installed plutos negotiate a
# tunnel between two network namespaces).
#
# The roots come from mmdebstrap and Debian's archive (the mirror of
# /etc/apt/sources.list.d/debian.sources) and are cached as tarballs in
# $PLUTO_PKG_CACHE (default /var/cache/pluto-tests), made again when older
# than $PLUTO_PKG_ROOT_DAYS days (default 7) or, for the build root, when
# the Build-Depends change. Each run unpacks fresh copies under $T, so
# nothing of a previous run is left in them. Commands run in a root through
# in_root: chroot inside a private mount namespace (unshare) with /proc,
# /sys, /dev and an empty /run, all gone when the command ends.
# shellcheck source=tests/lib/common.sh
source "$SRCDIR/tests/lib/common.sh"
[ "$(id -u)" -eq 0 ] || skip_all "chroot, mounts and network namespaces need root"
for tool in mmdebstrap dpkg-buildpackage lintian unshare chroot; do
	command -v "$tool" >/dev/null || skip_all "no $tool (tests/run.sh installs it)"
done
[ -f "$SRCDIR/debian/control" ] || skip_all "no debian/ in $SRCDIR"

CACHE=${PLUTO_PKG_CACHE:-/var/cache/pluto-tests}
MAX_AGE_DAYS=${PLUTO_PKG_ROOT_DAYS:-7}
mkdir -p "$CACHE" || skip_all "cannot create the cache directory $CACHE"

# Debian's archive as this machine's apt reaches it: the main and the
# security URIs of debian.sources (deb.debian.org if there is none)
sources=/etc/apt/sources.list.d/debian.sources
MIRROR=$(awk '/^URIs:/ && $2 !~ /security/ { print $2; exit }' "$sources" 2>/dev/null)
SECURITY=$(awk '/^URIs:/ && $2 ~ /security/ { print $2; exit }' "$sources" 2>/dev/null)
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY=${SECURITY:-http://deb.debian.org/debian-security}
APT_LINES=("deb $MIRROR bookworm main" "deb $MIRROR bookworm-updates main"
	   "deb $SECURITY bookworm-security main")

# debian/control's Build-Depends, one line (for apt-get satisfy)
BUILD_DEPS=$(sed -n '/^Build-Depends:/,/^[^ ]/p' "$SRCDIR/debian/control" |
	sed '$!b; /^[^ ]/d' | sed 's/^Build-Depends://' | tr -s ' \n' ' ' | sed 's/^ //; s/ $//')

# cached_root NAME MMDEBSTRAP-ARGS...: $CACHE/NAME.tar, made with mmdebstrap
# when missing or older than MAX_AGE_DAYS; prints its path. One maker of
# each root at a time (flock on .NAME.lock): a second run waits and then
# uses the new tarball; the two roots are made side by side.
cached_root() {
	# the new one is NAME.new.tar: mmdebstrap picks its output format from
	# the file name's ending
	local name=$1 tar=$CACHE/$1.tar new=$CACHE/$1.new.tar
	shift
	(
		flock 9
		if [ -f "$tar" ] && [ -s "$tar" ] && [ -z "$(find "$tar" -mtime +"$MAX_AGE_DAYS")" ]; then
			exit 0
		fi
		echo "# making $tar with mmdebstrap (cache missing or older than $MAX_AGE_DAYS days)" >&2
		# its working tree in $ROOTS too (see there)
		TMPDIR=$ROOTS nice -n 10 mmdebstrap --quiet "$@" bookworm "$new" "${APT_LINES[@]}" >"$T/mmdebstrap-$name.log" 2>&1 &&
			mv "$new" "$tar"
	) 9>"$CACHE/.$name.lock" || { rm -f "$new"; return 1; }
	echo "$tar"
}

# unpack TAR DIR: a fresh root, with the host's resolver for apt
unpack() {
	mkdir -p "$2" && tar -C "$2" -xf "$1" && cp -L /etc/resolv.conf "$2/etc/resolv.conf"
}

# in_root ROOT COMMAND...: COMMAND chrooted into ROOT in a private mount
# namespace; its mounts (and network namespaces made inside) die with it
in_root() {
	local root=$1
	shift
	# shellcheck disable=SC2016 # $1 and $r are the inner shell's
	unshare --mount --propagation private -- /bin/sh -c '
		r=$1; shift
		# the root a mount point of its own: ip netns add marks "/" a slave
		mount --bind "$r" "$r" &&
		mount -t proc proc "$r/proc" && mount -t sysfs sysfs "$r/sys" &&
		mount --rbind /dev "$r/dev" && mount -t tmpfs -o mode=0755 tmpfs "$r/run" || exit 1
		exec chroot "$r" "$@"' in_root "$root" "$@"
}

# shown FILE: FILE's lines as TAP comments
shown() { sed 's/^/#   /' "$1"; }
started=$SECONDS

# The two unpacked roots (about 1.2 GB) live in RAM when /dev/shm has room:
# on a disk mounted with "discard" (these VMs) deleting them afterwards
# costs 75 s of synchronous discards, in tmpfs nothing.
ROOTS=$T
if [ "$(df --output=avail -k /dev/shm 2>/dev/null | tail -n 1)" -gt $((4 * 1024 * 1024)) ] 2>/dev/null; then
	ROOTS=$(mktemp -d -p /dev/shm)
	trap '_cleanup; [ -n "${KEEP_TEST_DIR:-}" ] || rm -rf "$ROOTS"' EXIT
fi

# Both roots are throwaway trees that end up in a tarball: dpkg need not
# fsync every file it unpacks (force-unsafe-io: 88 s instead of 113 s for
# the build root here).
# The clean root for step 3, made (or found) meanwhile: on a cold cache
# this hides its minute or two behind the build root and the build
( cached_root bookworm-root --variant=minbase --skip=cleanup/apt/lists --dpkgopt=force-unsafe-io --include=systemd,iproute2 \
	>"$T/run-root.path" ) &
run_root_maker=$!
_pids+=("$run_root_maker")   # stopped on an early exit (common.sh)

# --- 1. the build, in a root with only the Build-Depends ---
deps_key=$(printf '%s' "$BUILD_DEPS" | sha1sum | cut -c1-12)
# shellcheck disable=SC2016 # "$1" is mmdebstrap's hook argument (the root)
build_tar=$(cached_root "bookworm-build-$deps_key" --variant=buildd --skip=cleanup/apt/lists --dpkgopt=force-unsafe-io \
	--customize-hook='chroot "$1" apt-get satisfy -y -q --no-install-recommends "'"$BUILD_DEPS"'"')
[ -n "$build_tar" ] || { shown "$T"/mmdebstrap-bookworm-build-*.log; skip_all "mmdebstrap could not make the build root (archive unreachable?)"; }
BR=$ROOTS/build-root
unpack "$build_tar" "$BR" || { fail "unpack $build_tar"; done_testing; }
mkdir -p "$BR/build/pluto"
# the source as git sees it (tracked and untracked, not ignored: no build
# directories), else the tree without build*/
if git -C "$SRCDIR" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$SRCDIR" ls-files -z -co --exclude-standard |
		tar -C "$SRCDIR" --null -T - -cf - | tar -C "$BR/build/pluto" -xf -
else
	tar -C "$SRCDIR" --exclude='./build*' -cf - . | tar -C "$BR/build/pluto" -xf -
fi
echo "# roots ready after $((SECONDS - started)) s"
t0=$SECONDS
in_root "$BR" nice -n 10 /bin/sh -c 'cd /build/pluto && dpkg-buildpackage -b -us -uc' >"$T/build.log" 2>&1
rc=$?
check_eq "dpkg-buildpackage -b in a root with only the Build-Depends exits 0 ($((SECONDS - t0)) s)" 0 "$rc"
[ "$rc" -eq 0 ] || { tail -n 40 "$T/build.log" | sed 's/^/#   /'; done_testing; }
debs=()
for p in pluto network-manager-pluto; do
	f=$(ls "$BR"/build/"${p}"_*.deb 2>/dev/null | head -1)
	check "the build made the package $p" test -n "$f"
	[ -n "$f" ] && debs+=("$f")
done
check "dh_missing: every installed file is in a package" \
	bash -c "! grep -q 'dh_missing: warning' '$T/build.log'"

# --- 2. lintian: no error (the warnings are listed in the log) ---
changes=$(ls "$BR"/build/pluto_*.changes | head -1)
nice -n 10 lintian --fail-on error -I "$changes" >"$T/lintian.log" 2>&1
rc=$?
shown "$T/lintian.log"
check_eq "lintian reports no error" 0 "$rc"

# --- 3. installed into a clean root, the autopkgtests ---
wait "$run_root_maker"
run_tar=$(cat "$T/run-root.path")
[ -n "$run_tar" ] || { shown "$T/mmdebstrap-bookworm-root.log"; fail "mmdebstrap makes the clean root"; done_testing; }
RR=$ROOTS/run-root
unpack "$run_tar" "$RR" || { fail "unpack $run_tar"; done_testing; }
mkdir -p "$RR/tmp/debs" "$RR/tmp/tests"
cp "${debs[@]}" "$RR/tmp/debs/"
cp "$SRCDIR"/debian/tests/* "$RR/tmp/tests/"
# apt resolves the Depends from the archive, as on a user's machine (the
# lists are refreshed: the cached ones may name superseded versions)
t0=$SECONDS
in_root "$RR" /bin/sh -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends /tmp/debs/*.deb' \
	>"$T/install.log" 2>&1
rc=$?
check_eq "apt-get install of the .debs into a clean Debian 12 root exits 0 ($((SECONDS - t0)) s)" 0 "$rc"
[ "$rc" -eq 0 ] || { tail -n 30 "$T/install.log" | sed 's/^/#   /'; done_testing; }
check "dpkg --audit finds nothing half-installed" test -z "$(in_root "$RR" dpkg --audit 2>&1)"

for t in smoke tunnel; do
	in_root "$RR" /bin/bash "/tmp/tests/$t" >"$T/$t.log" 2>&1
	rc=$?
	shown "$T/$t.log"
	check_eq "autopkgtest $t passes in the clean root" 0 "$rc"
done
echo "# total $((SECONDS - started)) s"
done_testing
