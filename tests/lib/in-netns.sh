#!/bin/sh
# Run a test program in a fresh network namespace with only lo (127.0.0.1,
# ::1) up, so results never depend on the addresses of the machine running
# the tests (CI hosts may have any address, even the documentation ones).
#
#   in-netns.sh PROGRAM ARGS...
#       the test needs the namespace (it binds UDP/IKE sockets on lo, talks
#       XFRM netlink or reads the interfaces): where one cannot be made
#       (a normal user: unshare -n needs root) it is skipped (exit 77)
#       with the reason;
#   in-netns.sh --optional PROGRAM ARGS...
#       the test opens no such socket: the namespace only keeps it
#       hermetic, so without one it runs as it is.
# tests/unit/meson.build says which tests are which, and README.md
# ("Running the tests without root") what a normal user gets.
optional=
if [ "${1:-}" = --optional ]; then
	optional=1
	shift
fi
if unshare -n true 2>/dev/null; then
	exec unshare -n sh -c 'ip link set lo up && exec "$@"' sh "$@"
fi
[ -z "$optional" ] || exec "$@"
# TAP's skip line: meson shows it, the count says "skipped"
echo "1..0 # SKIP needs root: $(basename "$1") runs in its own network namespace (unshare -n: $(unshare -n true 2>&1 | sed 's/^unshare: //'))"
exit 77
