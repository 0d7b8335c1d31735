#!/bin/bash
# tests/vm/setup.sh - prepare the throw-away VM that runs the kernel
# end-to-end test (tests/vm/README.md). Idempotent; about 1 s when cached.
#
#   1. apt-get install qemu-system-x86 and kmod when missing (root only)
#   2. a static busybox: /bin/busybox when it is static, else the
#      busybox-static .deb fetched with "apt-get download" and unpacked into
#      the cache (the host's busybox, if any, is left alone)
#   3. the Debian kernel package linux-image-amd64 depends on: "apt-get
#      download" + "dpkg -x" into $PLUTO_VM_CACHE/<kver>/ (never installed
#      on the host), depmod on its module tree, the uncompressed vmlinux
#   4. the initramfs: busybox + guest/init + guest/stage2 + the modules
#      needed to reach the host root over virtio-9p
#   5. $PLUTO_VM_CACHE/current.env, read by run-in-vm.sh
#
#   tests/vm/setup.sh --check    exit 0 when everything is ready, else 1
#                                (no apt, no downloads, no writes)
#
# Environment:
#   PLUTO_VM_CACHE       cache directory (default /var/cache/pluto-vm; outside
#                        the repository: about 450 MB)
#   PLUTO_VM_KERNEL_PKG  kernel package (default: what linux-image-amd64
#                        depends on; mirrors only carry the current ABI, so
#                        keep the cache, or set this to what is in it)
#   PLUTO_VM_NO_APT=1    never run apt-get install
#
# Exit status: 0 ready, 1 something could not be prepared (the message says
# what), 2 usage.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${PLUTO_VM_CACHE:-/var/cache/pluto-vm}
PATH=$PATH:/usr/sbin:/sbin
say() { echo "vm/setup.sh: $*" >&2; }
die() { echo "vm/setup.sh: ERROR: $*" >&2; exit 1; }

# modules the initramfs loads to mount the host root (virtio-9p + overlayfs);
# everything else is modprobe'd in the guest from the shared module tree
INITRD_MODULES="virtio_pci 9pnet_virtio 9p overlay"

case ${1:-} in
--check)
	[ -f "$CACHE/current.env" ] || exit 1
	# shellcheck disable=SC1091
	. "$CACHE/current.env"
	command -v qemu-system-x86_64 >/dev/null && [ -f "$PLUTO_VM_INITRD" ] &&
		[ -f "$PLUTO_VM_VMLINUZ" ] && [ ! "$HERE/guest/init" -nt "$PLUTO_VM_INITRD" ] &&
		[ ! "$HERE/guest/stage2" -nt "$PLUTO_VM_INITRD" ]
	exit ;;
"") ;;
*) echo "usage: tests/vm/setup.sh [--check]" >&2; exit 2 ;;
esac

mkdir -p "$CACHE" || die "cannot create $CACHE (run as root, or set PLUTO_VM_CACHE)"
# parallel callers (meson tests, CI jobs) sharing one cache wait for each other
exec 9>"$CACHE/.lock"
flock 9

# ------------------------------------------------------------ 1. packages
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v depmod >/dev/null || need+=(kmod)
if [ ${#need[@]} -gt 0 ]; then
	[ "${PLUTO_VM_NO_APT:-0}" != 1 ] || die "missing packages: ${need[*]}"
	[ "$(id -u)" = 0 ] || die "missing packages (${need[*]}): run as root to install them"
	say "installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q --no-install-recommends "${need[@]}" >&2 ||
		{ apt-get update -q >&2 && apt-get install -y -q --no-install-recommends "${need[@]}" >&2; } ||
		die "apt-get install ${need[*]} failed"
fi

# --------------------------------------------------------- 2. static busybox
# the initramfs has no libraries, so its busybox must be static
is_static_busybox() {
	[ -x "$1" ] && "$1" --list 2>/dev/null | grep -qx switch_root && ! ldd "$1" >/dev/null 2>&1
}
# apt-get download runs as the calling user (no "_apt cannot access" warning)
apt_download() { (cd "$1" && apt-get -q -o APT::Sandbox::User="$(id -un)" download "$2" >/dev/null); }
if is_static_busybox /bin/busybox; then
	BUSYBOX=/bin/busybox
else
	BUSYBOX=$CACHE/busybox-static/bin/busybox
	if ! is_static_busybox "$BUSYBOX"; then
		say "fetching busybox-static into $CACHE"
		rm -rf "$CACHE/busybox-static" "$CACHE/bb.dl"
		mkdir -p "$CACHE/bb.dl"
		apt_download "$CACHE/bb.dl" busybox-static || die "apt-get download busybox-static failed"
		dpkg -x "$CACHE"/bb.dl/*.deb "$CACHE/busybox-static"
		rm -rf "$CACHE/bb.dl"
	fi
fi
is_static_busybox "$BUSYBOX" || die "$BUSYBOX is not a static busybox"

# ---------------------------------------------------------------- 3. kernel
kernel_pkg() { apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }'; }
pkg=${PLUTO_VM_KERNEL_PKG:-}
if [ -z "$pkg" ] && [ -f "$CACHE/current.env" ]; then
	# a kernel already in the cache keeps being used: the mirror may have
	# moved on to a new ABI, and the test must not need the network
	pkg=linux-image-$(. "$CACHE/current.env"; echo "${PLUTO_VM_KVER:-}")
	[ -f "$CACHE/${pkg#linux-image-}/.extracted" ] || pkg=
fi
if [ -z "$pkg" ]; then
	pkg=$(kernel_pkg)
	if [ -z "$pkg" ] && [ "$(id -u)" = 0 ]; then
		apt-get update -q >&2
		pkg=$(kernel_pkg)
	fi
	[ -n "$pkg" ] || die "no kernel package found (apt-cache depends linux-image-amd64 names none)"
fi
kver=${pkg#linux-image-}
kdir=$CACHE/$kver
mkdir -p "$kdir"
if ! [ -f "$kdir/.extracted" ]; then
	say "downloading $pkg (about 70 MB)"
	rm -rf "$kdir/dl" "$kdir/root"
	mkdir -p "$kdir/dl" "$kdir/root"
	apt_download "$kdir/dl" "$pkg" || die "apt-get download $pkg failed"
	say "unpacking $(basename "$kdir"/dl/*.deb)"
	dpkg -x "$kdir"/dl/*.deb "$kdir/root"
	rm -rf "$kdir/dl"
	touch "$kdir/.extracted"
fi
moddir=$kdir/root/lib/modules/$kver
[ -d "$moddir" ] || moddir=$kdir/root/usr/lib/modules/$kver     # usrmerged packages
[ -d "$moddir" ] || die "no module tree in $kdir/root"
vmlinuz=$kdir/root/boot/vmlinuz-$kver
[ -f "$vmlinuz" ] || die "no $vmlinuz in $pkg"
[ -f "$moddir/modules.dep.bin" ] || depmod -b "${moddir%/lib/modules/*}" "$kver" ||
	die "depmod $kver failed"

# The uncompressed vmlinux boots through its PVH entry (CONFIG_PVH=y in
# Debian): under TCG that skips the emulated BIOS path and the in-guest
# decompression, about 5 s per boot. Found like the kernel's own
# scripts/extract-vmlinux: try every compressed-stream magic in the bzImage.
vmlinux=$kdir/vmlinux
if ! [ -f "$vmlinux" ]; then
	for fmt in $'\xfd7zXZ:xz -dc' $'\x28\xb5\x2f\xfd:zstd -dc' $'\x1f\x8b\x08:gzip -dc'; do
		magic=${fmt%%:*} cmd=${fmt#*:}
		command -v "${cmd%% *}" >/dev/null || continue
		for off in $(LC_ALL=C grep -abo "$magic" "$vmlinuz" | cut -d: -f1); do
			# trailing data after the stream makes the decompressor fail: normal
			tail -c +$((off + 1)) "$vmlinuz" | $cmd >"$vmlinux.tmp" 2>/dev/null || true
			if [ "$(head -c 4 "$vmlinux.tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
				mv "$vmlinux.tmp" "$vmlinux"
				break 2
			fi
		done
	done
	rm -f "$vmlinux.tmp"
	[ -f "$vmlinux" ] || say "warning: no vmlinux inside $vmlinuz; booting the bzImage (slower)"
fi
[ -f "$vmlinux" ] || vmlinux=

# ------------------------------------------------------------ 4. initramfs
initrd=$kdir/initramfs.cpio.gz
if ! [ -f "$initrd" ] || [ "$HERE/guest/init" -nt "$initrd" ] || [ "$HERE/guest/stage2" -nt "$initrd" ] ||
	[ "$HERE/setup.sh" -nt "$initrd" ]; then
	say "building the initramfs"
	tmp=$(mktemp -d /tmp/pluto-vm-initrd.XXXXXX)
	trap 'rm -rf -- "$tmp"' EXIT
	mkdir -p "$tmp"/{bin,dev,proc,sys,mods,lower,upper,newroot}
	cp "$BUSYBOX" "$tmp/bin/busybox"
	install -m 755 "$HERE/guest/init" "$tmp/init"
	install -m 755 "$HERE/guest/stage2" "$tmp/stage2"
	# the modules and their dependencies, in load order
	for m in $INITRD_MODULES; do
		modprobe -d "${moddir%/lib/modules/*}" -S "$kver" --show-depends "$m" ||
			die "modprobe --show-depends $m"
	done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' >"$tmp/mods.paths"
	: >"$tmp/mods/load.order"
	while read -r p; do
		cp "$p" "$tmp/mods/"
		basename "$p" >>"$tmp/mods/load.order"
	done <"$tmp/mods.paths"
	rm "$tmp/mods.paths"
	(cd "$tmp" && find . | LC_ALL=C sort | "$BUSYBOX" cpio -o -H newc 2>/dev/null | gzip -1 >"$initrd.new")
	mv "$initrd.new" "$initrd"
fi

# --------------------------------------------------------------- 5. env file
cat >"$CACHE/current.env.new" <<EOT
# written by tests/vm/setup.sh
PLUTO_VM_KVER=$kver
PLUTO_VM_VMLINUZ=$vmlinuz
PLUTO_VM_VMLINUX=$vmlinux
PLUTO_VM_INITRD=$initrd
PLUTO_VM_MODDIR=$moddir
EOT
mv "$CACHE/current.env.new" "$CACHE/current.env"
say "ready: kernel $kver in $CACHE"
