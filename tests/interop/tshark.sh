#!/bin/bash
# Wireshark's IKEv1 dissector reads pluto's messages without complaint:
# pluto (side L, or L_IMPL) negotiates CASE with strongSwan (side R) while tcpdump
# captures in R's namespace; tshark -V must then decode every packet with
# no "Malformed" and no error-level expert info, all on UDP 500 (no NAT-T float).
# The encrypted part (MM5/MM6 and Quick Mode) is decrypted with the phase-1
# key Ka that charon logs at ike level 4, so the encrypted payloads are
# checked too (the assertion that Identification and Hash payloads were
# decoded proves the decryption worked).
#
#   tshark.sh CASE [init|resp [L_IMPL]]   (default: side L initiates)
# L_IMPL (default pluto) = libreswan makes it a self-check of the capture
# and decryption steps with two reference peers.
# Skipped (exit 77) while pluto has no IKE engine.
# shellcheck source=tests/lib/scenario.sh
. "$SRCDIR/tests/lib/scenario.sh"
io_case "${1:?usage: tshark.sh CASE [init|resp [L_IMPL]]}" || exit 2
ROLE=${2:-init} L_IMPL=${3:-pluto}
io_require
command -v tshark >/dev/null && command -v tcpdump >/dev/null ||
	skip_all "tshark or tcpdump is not installed (tests/interop/setup.sh installs them)"
io_side L "$L_IMPL"
io_side R strongswan
check "namespaces and veth up" io_netns_up || done_testing
io_start L || done_testing
[ "$L_IMPL" = pluto ] && io_skip_unless_engine L
io_start R || done_testing

PCAP=$T/ike.pcap
# --immediate-mode: without it tcpdump's TPACKET_V3 ring hands packets over
# only when a block fills or times out, and SIGTERM loses them (seen here:
# "9 packets received by filter", "0 packets captured")
ip netns exec "$NS_R" tcpdump -i "${NS_R}0" --immediate-mode -U -n -w "$PCAP" udp port 500 or udp port 4500 \
	>"$T/tcpdump.out" 2>&1 &
TCPDUMP=$!
wait_for 5 grep -q "listening on" "$T/tcpdump.out" || fail "tcpdump starts capturing"

if [ "$ROLE" = init ]; then init=L; else init=R; fi
what="$CASE, ${IMPL[$init]} initiates"
io_initiate "$init" && ok "$what: the initiator reports success" ||
	{ fail "$what: the initiator reports success"; sed 's/^/#   /' "$T/initiate.out" | tail -20; }
io_check_established L "$what"
io_check_established R "$what"
sleep 0.3      # the last Quick Mode message is on the wire
io_kill "$TCPDUMP" 5
wait "$TCPDUMP" 2>/dev/null

# charon's "encryption key Ka => N bytes" hexdump (16 bytes a line)
ka=$(awk '/encryption key Ka =>/ { n = $(NF - 3); want = int((n + 15) / 16); key = ""; next }
	want > 0 && /[0-9]+: [0-9A-F][0-9A-F] / {
		sub(/.*[0-9]+: /, ""); key = key substr($0, 1, 47); want--
		if (!want) { gsub(/ /, "", key); last = tolower(substr(key, 1, 2 * n)) } }
	END { print last }' "$(peer log R)")
icookie=$(tshark -r "$PCAP" -Y isakmp -T fields -e isakmp.ispi -c 1 2>/dev/null | tr -d ':')
uat=()
if [ -n "$ka" ] && [ -n "$icookie" ]; then
	# hex fields without quotes (with quotes tshark says the cookie is not 8 octets)
	uat=(-o "uat:ikev1_decryption_table:$icookie,$ka")
	ok "found the phase-1 encryption key in charon's log"
else
	fail "found the phase-1 encryption key in charon's log (Ka '${ka}', icookie '${icookie}')"
fi
tshark -r "$PCAP" "${uat[@]}" -V >"$T/ike.txt" 2>"$T/tshark.err"
tshark -r "$PCAP" "${uat[@]}" >"$T/ike.summary" 2>>"$T/tshark.err"
sed 's/^/#   /' "$T/ike.summary"

n=$(grep -c . "$T/ike.summary")
[ "$n" -ge 9 ] && ok "the capture holds Main Mode and Quick Mode ($n packets)" ||
	fail "the capture holds Main Mode and Quick Mode (>= 9 packets, got $n)"
# the wire-format helper when the tree has it, else the same test inline
if [ -x "$SRCDIR/tests/lib/tshark-check.sh" ]; then
	check "tshark finds nothing malformed (tests/lib/tshark-check.sh)" \
		"$SRCDIR/tests/lib/tshark-check.sh" "$PCAP" "${uat[@]}"
elif grep -n -E "Malformed|Expert Info \(Error" "$T/ike.txt" >"$T/bad.txt"; then
	fail "tshark finds nothing malformed"; head -20 "$T/bad.txt" | sed 's/^/#   /'
else
	ok "tshark finds nothing malformed"
fi
check_eq "every IKE packet is on UDP port 500" "" \
	"$(tshark -r "$PCAP" -T fields -e udp.srcport -e udp.dstport 2>/dev/null | grep -v -x -P '500\t500')"
for payload in "Identification" "Hash"; do
	check "the encrypted part was decrypted: $payload payloads decoded" \
		grep -q "Payload: $payload" "$T/ike.txt"
done
io_finish
