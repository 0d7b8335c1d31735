#!/bin/bash
# Bash completion of ipsecctl and whack (data/bash-completion/) against a
# real pluto: bash loads each file, the completion function runs on a
# COMP_WORDS line as bash would give it, and COMPREPLY must hold the
# commands, a connection name the daemon has, the option keywords after
# "add NAME", the options of a command, whack's flags and --name values.
# Without a daemon the names are simply absent (no error output). The
# install rule puts both files where bash-completion finds them.
. "$SRCDIR/tests/lib/common.sh"
: "${IPSECCTL:?run through meson test}" "${WHACK:?run through meson test}"

# complete FILE FUNCTION WORD...: COMPREPLY, one a line, for the line WORD...
# whose last word is the one being completed; the programs are the built ones
complete_line() {
	local file=$1 fn=$2; shift 2
	PATH="$(dirname "$IPSECCTL"):$(dirname "$WHACK"):$PATH" bash --norc --noprofile -c '
		file=$1 fn=$2; shift 2
		source "$file" || exit 1
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		"$fn"
		printf "%s\n" "${COMPREPLY[@]}"' bash "$file" "$fn" "$@"
}
ctl() { complete_line "$SRCDIR/data/bash-completion/ipsecctl" _ipsecctl "$@"; }
wh() { complete_line "$SRCDIR/data/bash-completion/whack" _whack "$@"; }
has() { # DESCRIPTION WORD OUTPUT: WORD is one of OUTPUT's lines
	if grep -qxF -- "$2" <<<"$3"; then ok "$1"; else fail "$1"; echo "$3" | sed 's/^/#   got: /'; fi
}

for f in ipsecctl whack; do
	check "bash parses $f's completion" bash -n "$SRCDIR/data/bash-completion/$f"
done

# --- without a daemon: commands yes, names quietly none ---
export PLUTO_SOCKET=$T/nosock
out=$(ctl ipsecctl "")
for cmd in status show add delete up down monitor list-algs help keys secrets; do
	has "ipsecctl: command $cmd" "$cmd" "$out"
done
check_eq "ipsecctl sh<TAB>: show, shutdown" "show shutdown" "$(ctl ipsecctl sh | sort | xargs)"
check_eq "no daemon: no names, no noise" "" "$(ctl ipsecctl up "" 2>&1)"

start_pluto || { fail "pluto starts"; done_testing; }
check "add west" "$IPSECCTL" add west left=127.0.0.1 right=192.0.2.2
check "add east-1" "$IPSECCTL" add east-1 left=127.0.0.1 right=192.0.2.3

# --- ipsecctl ---
has "ipsecctl up <TAB>: west" west "$(ctl ipsecctl up "")"
has "ipsecctl show <TAB>: east-1" east-1 "$(ctl ipsecctl show "")"
check_eq "ipsecctl show e<TAB>: east-1 only" "east-1" "$(ctl ipsecctl show e)"
check_eq "ipsecctl show west <TAB>: one name only" "" "$(ctl ipsecctl show west "")"
has "ipsecctl --json show <TAB> (option first): west" west "$(ctl ipsecctl --json show "")"
has "ipsecctl --socket PATH delete <TAB>: that daemon's names" west \
	"$(PLUTO_SOCKET=$T/nosock ctl ipsecctl --socket "$SOCK" delete "")"
has "ipsecctl debug all --connection <TAB>: west" west "$(ctl ipsecctl debug all --connection "")"
out=$(ctl ipsecctl add west2 "")
has "ipsecctl add NAME <TAB>: left=" "left=" "$out"
has "ipsecctl add NAME <TAB>: rightsubnet=" "rightsubnet=" "$out"
has "ipsecctl add NAME <TAB>: ike=" "ike=" "$out"
has "ipsecctl add NAME <TAB>: dpdaction=" "dpdaction=" "$out"
check_eq "keywords are pluto's own table" "$("$IPSECCTL" list-keywords | sed 's/$/=/' | sort)" "$(sort <<<"$out")"
check_eq "ipsecctl add NAME leftsu<TAB>" "leftsubnet=" "$(ctl ipsecctl add west2 left=1.2.3.4 leftsu)"
check_eq "ipsecctl add <TAB> (the new name): no keyword" "" "$(ctl ipsecctl add "")"
check_eq "ipsecctl keys <TAB>: add" "add" "$(ctl ipsecctl keys "")"
check_eq "ipsecctl secrets <TAB>: delete reload set" "delete reload set" "$(ctl ipsecctl secrets "" | sort | xargs)"
check_eq "ipsecctl status --<TAB>: its options" "--help --json --socket --text" "$(ctl ipsecctl status -- | sort | xargs)"
has "ipsecctl debug x --<TAB>: --connection" --connection "$(ctl ipsecctl debug x --)"
has "ipsecctl help <TAB>: list-algs" list-algs "$(ctl ipsecctl help "")"

# --- whack ---
out=$(wh whack --)
for o in --name --status --initiate --listen --debug-all --debug-control --ctlbase; do
	has "whack --<TAB>: $o" "$o" "$out"
done
check_eq "whack: no half option (--debug-)" "" "$(grep -x -- '--debug-' <<<"$out")"
check_eq "whack: rejected options are not offered" "" "$(grep -x -- '--addkey' <<<"$out")"
has "whack --name <TAB>: west" west "$(wh whack --name "")"
check_eq "whack --initiate --name ea<TAB>" "east-1" "$(wh whack --initiate --name ea)"
has "whack --ctlbase PATH --name <TAB>: that daemon's names" east-1 \
	"$(PLUTO_SOCKET=$T/nosock wh whack --ctlbase "$SOCK" --name "")"

# --- installed where bash-completion looks ---
intro=$(meson introspect --installed "$BUILDDIR" 2>/dev/null)
for f in ipsecctl whack; do
	check_contains "$f's completion is installed under bash-completion/completions" \
		"/bash-completion/completions/$f\"" "$intro"
done

check_eq "SIGTERM: exit 0" 0 "$(stop_pluto)"
done_testing
