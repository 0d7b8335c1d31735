#!/bin/bash
# tshark-check.sh FILE.pcap [tshark options...]
#
# Decodes every packet of FILE with Wireshark's dissectors (tshark -V) and
# fails when any part is "Malformed" or carries an error-level expert info:
# an independent opinion on what pluto puts on the wire. Extra arguments go
# to tshark (e.g. -o uat:ikev1_decryption_table:ICOOKIE,KEY to decrypt).
# Exit: 0 clean, 1 problems found (printed with the frame they are in),
# 2 usage / tshark missing or failing, 77 (skip) when tshark is absent and
# TSHARK_CHECK_SKIP_MISSING=1.
set -u
if [ $# -lt 1 ] || [ ! -r "$1" ]; then
	echo "usage: $0 FILE.pcap [tshark options...]" >&2
	exit 2
fi
file=$1
shift
if ! command -v tshark >/dev/null 2>&1; then
	echo "tshark-check: tshark is not installed" >&2
	[ "${TSHARK_CHECK_SKIP_MISSING:-0}" = 1 ] && exit 77
	exit 2
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# -o: no name resolution, and every packet decoded in full
if ! tshark -n -r "$file" -V "$@" >"$out" 2>&1; then
	echo "tshark-check: tshark failed on $file:" >&2
	head -20 "$out" >&2
	exit 2
fi
frames=$(grep -c '^Frame [0-9]*:' "$out")
# the problems, each with the number of the frame it belongs to
problems=$(awk '/^Frame [0-9]+:/ { frame = $2 }
	/Malformed|Expert Info \(Error/ { printf "frame %s %s\n", frame, $0 }' "$out")
if [ -n "$problems" ]; then
	echo "tshark-check: $file: problems in $frames frames:" >&2
	echo "$problems" >&2
	exit 1
fi
echo "tshark-check: $file: $frames frames, none malformed"
exit 0
