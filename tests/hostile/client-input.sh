#!/bin/bash
# Issue 14 point 7: files a client is told to read. `ipsecctl add NAME
# --file /dev/zero` never returned; a FIFO blocked whack --optionsfrom. Now
# every such option takes only a regular file of at most 16 MiB and says
# which file and why otherwise, at once (timeout 10: a hang fails the test
# instead of blocking it). pluto's own --optionsfrom uses the same reader.
. "$SRCDIR/tests/lib/common.sh"
command -v truncate >/dev/null || skip_all "truncate (coreutils) is missing"

mkfifo "$T/fifo"
mkdir "$T/dir"
truncate -s 17M "$T/sparse"          # a hole: costs no disk
printf 'left=127.0.0.1\nright=192.0.2.2\n' >"$T/good"

# refused TOOL OPTION FILE REASON...: TOOL ... OPTION FILE fails within 10 s
# (not by the timeout) with an error naming FILE and REASON
refused() {
	local what=$1 file=$2 reason=$3; shift 3
	local start=$SECONDS status
	status=$(status_of timeout 10 "$@")
	local out
	out=$(cat "$T/last.out")
	if [ "$status" -ne 0 ] && [ "$status" -ne 124 ] && [ $((SECONDS - start)) -lt 5 ] &&
		[[ "$out" == *"$file"* ]] && [[ "$out" == *"$reason"* ]]; then
		ok "$what: $file refused ($reason)"
	else
		fail "$what: $file: exit $status after $((SECONDS - start)) s"
		echo "#   output: $out"
	fi
}

for tool in ipsecctl-add ipsecctl-batch whack pluto; do
	for f in /dev/zero "$T/fifo" "$T/dir" "$T/sparse"; do
		case $f in
		/dev/zero) reason="not a regular file (a character device)" ;;
		*/fifo) reason="not a regular file (a FIFO)" ;;
		*/dir) reason="not a regular file (a directory)" ;;
		*) reason="larger than 16 MiB" ;;
		esac
		case $tool in
		ipsecctl-add) refused "ipsecctl add NAME --file" "$f" "$reason" "$IPSECCTL" add x --file "$f" ;;
		ipsecctl-batch) refused "ipsecctl add --file" "$f" "$reason" "$IPSECCTL" add --file "$f" ;;
		whack) refused "whack --optionsfrom" "$f" "$reason" "$WHACK" --optionsfrom "$f" ;;
		pluto) refused "pluto --optionsfrom" "$f" "$reason" "$PLUTO" --optionsfrom "$f" ;;
		esac
	done
done

# standard input is read up to the same limit, not forever
refused "ipsecctl --file - < /dev/zero" "standard input" "larger than 16 MiB" \
	sh -c 'exec "$1" add x --file - </dev/zero' sh "$IPSECCTL"

# a good file still works (read; then no daemon to talk to)
status=$(status_of timeout 10 "$IPSECCTL" --socket "$T/nosocket" add x --file "$T/good")
check_contains "a regular small file is read (the error is about the daemon)" "cannot connect" "$(cat "$T/last.out")"


# ipsec.conf and its includes: a FIFO used to block the open
refused "pluto --check-config --config" "$T/fifo" "not a regular file" \
	"$PLUTO" --check-config --config "$T/fifo"
printf 'include %s\n' "$T/fifo" >"$T/include.conf"
refused "ipsec.conf include" "include $T/fifo" "not a regular file" \
	"$PLUTO" --check-config --config "$T/include.conf"

# pluto's own readers: an RSA key file in ipsec.secrets and a %file: public
# key that are FIFOs must not hang the daemon (nobody ever writes to them)
printf 'conn hostile\n\tleft=127.0.0.1\n\tright=192.0.2.2\n\tauthby=rsasig\n\tleftrsasigkey=%%file:%s\n\trightrsasigkey=%%file:%s\n' \
	"$T/fifo" "$T/dir" >"$T/ipsec.conf"
status=$(status_of timeout 10 unshare -n "$PLUTO" --nofork --stderrlog --rundir "$T/run" --ctlbase "$T/ctl" \
	--secretsfile /dev/null --nodbus --config "$T/ipsec.conf")
log=$(cat "$T/last.out")
check "pluto refuses the configuration at once (exit $status)" test "$status" -ne 0 -a "$status" -ne 124
check_contains "a %file: key that is a FIFO is refused by name" "$T/fifo: not a regular file (a FIFO)" "$log"
check_contains "a %file: key that is a directory is refused by name" "$T/dir: not a regular file (a directory)" "$log"

printf '@west : RSA %s\n' "$T/fifo" >"$T/ipsec.secrets"
start_pluto
reply=$(timeout 10 socat -t 8 - "UNIX-CONNECT:$SOCK" < <(printf '{"method":"org.freeswan.pluto.ReloadSecrets"}\0') | tr -d '\0')
check_contains "an RSA key file that is a FIFO is refused by name" "$T/fifo: not a regular file (a FIFO)" "$reply"
check_contains "pluto still answers" '"vendor"' "$(varlink_call '{"method":"org.varlink.service.GetInfo"}')"
check_eq "pluto exits cleanly" 0 "$(stop_pluto)"
done_testing
