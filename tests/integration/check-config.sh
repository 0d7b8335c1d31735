#!/bin/bash
# pluto --check-config and ipsecctl check (issue 10 point 4) as an
# unprivileged user, with no daemon, bus or run directory: a clean file
# (with an include and a %file: key) exits 0 with its summary (conns counted
# with the auto=ignore ones); a file with
# an error of each kind exits 1 and lists EVERY error as FILE:LINE: what,
# in file order, included files at their place.
. "$SRCDIR/tests/lib/common.sh"

command -v setpriv >/dev/null || skip_all "setpriv (util-linux) is needed to drop to nobody"
[ "$(id -u)" = 0 ] || skip_all "must start as root to show the check needs no root"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
IPSECCTL=${IPSECCTL:-$BUILDDIR/clients/ipsecctl/ipsecctl}

chmod 755 "$T"
mkdir -p "$T/good.d" "$T/bad.d" "$T/empty.d"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/peer.key" 2>/dev/null
openssl pkey -in "$T/peer.key" -pubout -out "$T/peer.pub" 2>/dev/null

cat >"$T/good.conf" <<CONF
version 2
config setup
	uniqueids=yes
	plutodebug="control"   # a comment after a value

conn %default
	keyingtries=%forever

conn office
	left=192.0.2.1
	leftsubnet=10.1.0.0/16
	right=198.51.100.7
	rightsubnet=10.2.0.0/16
	authby=secret
	auto=start

include good.d/*.conf
include empty.d/*.conf
CONF
cat >"$T/good.d/rsa.conf" <<CONF
conn rsa-base
	left=192.0.2.1
	authby=rsasig
	auto=ignore

conn laptop
	also=rsa-base
	right=%any
	rightrsasigkey=%file:$T/peer.pub
CONF

cat >"$T/bad.conf" <<'CONF'
# one error of each kind
config setup
	uniqueids=perhaps
	nat_traversal=yes
conn a
	left=192.0.2.1
	right=192.0.2.2
	ikev2=no
	pfs=yes
	pfs=no
	esp=rot13-crc
conn b
	also=missing
	broken line
include bad.d/*.conf
conn a
	leftupdown="/bin/true
CONF
printf 'conn c\n\tleft=%%any\n\tright=%%any\n' >"$T/bad.d/x.conf"
chmod 644 "$T"/*.conf "$T"/*.d/*.conf "$T/peer.pub"

expected_bad="$T/bad.conf:3: invalid value 'perhaps' for 'uniqueids': must be yes or no
$T/bad.conf:4: unknown keyword 'nat_traversal'
$T/bad.conf:8: unknown keyword 'ikev2'
$T/bad.conf:10: 'pfs' given twice in conn a (first at line 9)
$T/bad.conf:11: invalid value 'rot13-crc' for option 'esp': unknown cipher 'rot13'
$T/bad.conf:13: also=missing: no conn 'missing'
$T/bad.conf:14: 'broken line' is not key=value: no '='
$T/bad.d/x.conf:1: conn c: inconsistent options: left and right cannot both be %any
$T/bad.conf:16: conn a defined twice (first at $T/bad.conf:5)
$T/bad.conf:17: the file ends inside a quoted value"

check_eq "the checks run as nobody" 65534 "$(as_nobody id -u)"

# pluto --check-config: no rundir needed (a missing one is neither used nor made)
rc=0
out=$(as_nobody "$PLUTO" --check-config --rundir "$T/no-rundir" --config "$T/good.conf" 2>"$T/err") || rc=$?
check_eq "pluto --check-config: a clean file exits 0" 0 "$rc"
check_eq "and prints its summary" "$T/good.conf: 3 conns OK" "$out"
check_eq "and nothing on stderr" "" "$(cat "$T/err")"
check_fails "no run directory was made" test -e "$T/no-rundir"

rc=0
out=$(as_nobody "$PLUTO" --check-config --config "$T/bad.conf" 2>"$T/err") || rc=$?
check_eq "pluto --check-config: a bad file exits 1" 1 "$rc"
check_eq "every error, FILE:LINE, in file order" "$expected_bad" "$(cat "$T/err")"
check_eq "and no summary" "" "$out"

# ipsecctl check: the same through the client, output and status passed on
export PLUTO_BIN=$PLUTO
rc=0
out=$(as_nobody env PLUTO_BIN="$PLUTO" "$IPSECCTL" check "$T/good.conf" 2>"$T/err") || rc=$?
check_eq "ipsecctl check: a clean file exits 0" 0 "$rc"
check_eq "with pluto's summary" "$T/good.conf: 3 conns OK" "$out"
rc=0
as_nobody env PLUTO_BIN="$PLUTO" "$IPSECCTL" check "$T/bad.conf" >"$T/out" 2>"$T/err" || rc=$?
check_eq "ipsecctl check: a bad file exits 1" 1 "$rc"
check_eq "ipsecctl check lists every error" "$expected_bad" "$(cat "$T/err")"

# a file nobody may read, and a missing one: named, exit 1
printf 'conn x\n\tleft=192.0.2.1\n\tright=192.0.2.2\n' >"$T/secret.conf"
chmod 600 "$T/secret.conf"
rc=0
as_nobody env PLUTO_BIN="$PLUTO" "$IPSECCTL" check "$T/secret.conf" >"$T/out" 2>"$T/err" || rc=$?
check_eq "an unreadable file exits 1" 1 "$rc"
check_eq "and says why" "$T/secret.conf: Permission denied" "$(cat "$T/err")"
rc=0
as_nobody "$PLUTO" --check-config --config "$T/nope.conf" >"$T/out" 2>"$T/err" || rc=$?
check_eq "a missing file exits 1" 1 "$rc"
check_eq "and is named" "$T/nope.conf: No such file or directory" "$(cat "$T/err")"

# a usage error of the client is not a check result
rc=0
"$IPSECCTL" check a b >"$T/out" 2>&1 || rc=$?
check_eq "ipsecctl check with two files is a usage error (2)" 2 "$rc"
rc=0
PLUTO_BIN=$T/no-such-pluto "$IPSECCTL" check "$T/good.conf" >"$T/out" 2>&1 || rc=$?
check_eq "ipsecctl check without pluto exits 3" 3 "$rc"
check_contains "and names the missing program" "cannot run $T/no-such-pluto" "$(cat "$T/out")"

done_testing
