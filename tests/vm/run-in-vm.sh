#!/bin/bash
# tests/vm/run-in-vm.sh CMD [ARGS...] - run CMD as root in a throw-away qemu
# VM running the Debian kernel tests/vm/setup.sh prepared (it has ESP, AH,
# IPComp, which the machine's own kernel may lack).
#
#  * the host's / is the guest's / (virtio-9p, read-only, under a tmpfs
#    overlay: the guest writes anywhere, nothing reaches the host)
#  * PLUTO_VM_WORKDIR (default $PWD) is shared read-write at the same path:
#    the one place where the guest's files reach the host
#  * /tmp, /run, /var/tmp are fresh tmpfs in the guest
#  * CMD's stdout and stderr stream to ours (serial ports ttyS1 and ttyS2);
#    the kernel console (ttyS0) goes to a file (PLUTO_VM_CONSOLE keeps it)
#  * the exit status is CMD's; 124 = timeout, 125 = the VM itself failed
#
# Environment (all optional):
#   PLUTO_VM_CACHE    setup.sh's cache (default /var/cache/pluto-vm)
#   PLUTO_VM_ACCEL    auto|kvm|tcg (auto: KVM only when it is hardware
#                     VT-x/AMD-V KVM; PVM "KVM" cannot run a stock kernel)
#   PLUTO_VM_MEM      guest RAM (default 1024M)
#   PLUTO_VM_SMP      guest CPUs (default: host CPUs, at most 4)
#   PLUTO_VM_TIMEOUT  seconds before the VM is killed (default 840)
#   PLUTO_VM_WORKDIR  host directory shared read-write ("" = none)
#   PLUTO_VM_MODULES  modules loaded before CMD (default: the IPsec set below)
#   PLUTO_VM_PASSENV  names of environment variables passed to CMD
#   PLUTO_VM_CONSOLE  file to copy the kernel console log to
#   PLUTO_VM_VERBOSE=1  print boot timings and the console log
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${PLUTO_VM_CACHE:-/var/cache/pluto-vm}
die() { echo "run-in-vm: $*" >&2; exit 125; }

[ $# -gt 0 ] || die "usage: run-in-vm.sh CMD [ARGS...]"
[ -f "$CACHE/current.env" ] || die "$CACHE/current.env missing: run tests/vm/setup.sh first"
# shellcheck disable=SC1091
. "$CACHE/current.env"
# guest/* newer than the initramfs: rebuild it (no downloads)
if [ "$HERE/guest/init" -nt "$PLUTO_VM_INITRD" ] || [ "$HERE/guest/stage2" -nt "$PLUTO_VM_INITRD" ]; then
	PLUTO_VM_NO_APT=1 "$HERE/setup.sh" >&2 || die "setup.sh failed"
fi
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not installed (tests/vm/setup.sh)"

MEM=${PLUTO_VM_MEM:-1024M}
ncpu=$(nproc)
[ "$ncpu" -gt 4 ] && ncpu=4
SMP=${PLUTO_VM_SMP:-$ncpu}
TIMEOUT=${PLUTO_VM_TIMEOUT:-840}
WORKDIR=${PLUTO_VM_WORKDIR-$PWD}
if [ -n "$WORKDIR" ]; then
	[ -d "$WORKDIR" ] || die "PLUTO_VM_WORKDIR $WORKDIR is not a directory"
	WORKDIR=$(cd "$WORKDIR" && pwd -P)
	# a read-write / would hand the guest the whole host
	[ "$WORKDIR" != / ] || die "refusing to share / read-write"
	case $WORKDIR in *,*) die "qemu cannot share a path containing ',': $WORKDIR" ;; esac
fi
# the IPsec transforms and the crypto the tests negotiate, veth for the
# namespaces; loaded with one modprobe before CMD (autoloading works too)
MODULES=${PLUTO_VM_MODULES-"xfrm_user xfrm_algo esp4 ah4 ipcomp xfrm4_tunnel tunnel4 xfrm_ipcomp \
esp6 ah6 veth authenc echainiv seqiv cbc hmac md5 sha1 sha256 sha512 aesni_intel des3_ede des_generic deflate"}

accel=${PLUTO_VM_ACCEL:-auto}
if [ "$accel" = auto ]; then
	accel=tcg
	if [ -r /dev/kvm ] && [ -w /dev/kvm ] && ! [ -d /sys/module/kvm_pvm ] &&
		{ [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; }; then
		accel=kvm
	fi
fi
case $accel in
kvm) accel_args=(-accel kvm -cpu host) ;;
# one host thread per vCPU; -cpu max has AES-NI and friends
tcg) accel_args=(-accel tcg,thread=multi,tb-size=256 -cpu max) ;;
*) die "PLUTO_VM_ACCEL must be auto, kvm or tcg" ;;
esac

kernel=${PLUTO_VM_VMLINUX:-}
[ -n "$kernel" ] && [ -f "$kernel" ] || kernel=$PLUTO_VM_VMLINUZ
# panic=-1 with -no-reboot: a guest panic ends qemu at once.
# cryptomgr.notests: no self-test per crypto module load (~3 s under TCG).
cmdline="console=ttyS0 quiet loglevel=4 panic=-1 mitigations=off i8042.noaux i8042.nokbd i8042.nopnp cryptomgr.notests"

run=$(mktemp -d /tmp/pluto-vm-run.XXXXXX) || die "mktemp failed"
mkdir "$run/share"
qpid=
cleanup() {
	[ -n "$qpid" ] && kill "$qpid" 2>/dev/null
	rm -rf -- "$run"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

q() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }   # POSIX sh quoting
{
	echo "PLUTO_VM_WORKDIR=$(q "$WORKDIR")"
	echo "PLUTO_VM_MODDIR=$(q "$PLUTO_VM_MODDIR")"
	echo "PLUTO_VM_MODULES=$(q "$MODULES")"
} >"$run/share/config"
{
	echo "export PLUTO_VM_GUEST=1"
	for v in ${PLUTO_VM_PASSENV:-}; do
		[ -n "${!v+x}" ] && echo "export $v=$(q "${!v}")"
	done
	echo "cd $(q "${WORKDIR:-/}") || exit 125"
	printf 'exec'
	for a in "$@"; do printf ' %s' "$(q "$a")"; done
	echo
} >"$run/share/cmd.sh"

fsdevs=(
	-fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap"
	-device "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot"
	-fsdev "local,id=ctl,path=$run/share,security_model=none"
	-device "virtio-9p-pci,fsdev=ctl,mount_tag=plutovmctl"
)
[ -z "$WORKDIR" ] || fsdevs+=(
	-fsdev "local,id=work,path=$WORKDIR,security_model=none,multidevs=remap"
	-device "virtio-9p-pci,fsdev=work,mount_tag=plutovmwork")

: >"$run/stdout"
: >"$run/stderr"
# -nodefaults: no VGA, NIC or option ROMs; the guest has no network at all
timeout -k 5 "$TIMEOUT" qemu-system-x86_64 -nodefaults -no-user-config -machine pc "${accel_args[@]}" \
	-smp "$SMP" -m "$MEM" -display none -no-reboot \
	-kernel "$kernel" -initrd "$PLUTO_VM_INITRD" -append "$cmdline" \
	-chardev "file,id=con,path=$run/console.log" -serial chardev:con \
	-chardev "file,id=out,path=$run/stdout" -serial chardev:out \
	-chardev "file,id=err,path=$run/stderr" -serial chardev:err \
	"${fsdevs[@]}" </dev/null >"$run/qemu.log" 2>&1 &
qpid=$!
tail -s 0.2 -n +1 -f --pid=$qpid "$run/stdout" &
t1=$!
tail -s 0.2 -n +1 -f --pid=$qpid "$run/stderr" >&2 &
t2=$!
wait $qpid
qrc=$?
qpid=
wait $t1 $t2 2>/dev/null

[ -z "${PLUTO_VM_CONSOLE:-}" ] || cp "$run/console.log" "$PLUTO_VM_CONSOLE"
if [ "${PLUTO_VM_VERBOSE:-0}" = 1 ]; then
	{
		echo "--- pluto-vm: accel=$accel smp=$SMP mem=$MEM qemu rc=$qrc; guest uptime at:"
		sed 's/^/    /' "$run/share/timing" 2>/dev/null
		echo "--- console:"
		cat "$run/console.log"
	} >&2
fi
[ ! -f "$run/share/rc" ] || exit "$(cat "$run/share/rc")"
{
	if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
		echo "run-in-vm: timeout after ${TIMEOUT}s"
	else
		echo "run-in-vm: the guest produced no exit status (qemu rc=$qrc)"
	fi
	cat "$run/share/init-error" "$run/qemu.log" 2>/dev/null
	echo "--- last console lines:"
	tail -n 30 "$run/console.log"
} >&2
{ [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; } && exit 124
exit 125
