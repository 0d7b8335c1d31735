#!/bin/bash
# What packet.c emits, read by an independent decoder: the emit_* helper
# (tests/unit/packet-emit-pcap) writes MM1/MM3/MM5-like, Quick Mode-like
# and informational messages (Notify, Delete) into a pcap; tshark must
# decode all of them as ISAKMP without "Malformed" or error expert infos,
# with the fields pluto meant (tests/lib/tshark-check.sh).
# shellcheck source=../lib/common.sh
. "$SRCDIR/tests/lib/common.sh"

command -v tshark >/dev/null || skip_all "tshark is not installed"
emitter=$BUILDDIR/tests/unit/packet-emit-pcap
[ -x "$emitter" ] || skip_all "$emitter not built"

check "packet-emit-pcap writes the messages" "$emitter" "$T/emitted.pcap"
check "tshark-check finds nothing malformed" "$SRCDIR/tests/lib/tshark-check.sh" "$T/emitted.pcap"

tshark -n -r "$T/emitted.pcap" -V >"$T/decoded.txt" 2>&1
decoded=$(cat "$T/decoded.txt")
frames=$(grep -c '^Frame [0-9]*:' "$T/decoded.txt")
check_eq "every message is a frame" "$frames" 8
check_eq "every frame is ISAKMP" "$(grep -c '^Internet Security Association and Key Management Protocol' "$T/decoded.txt")" 8
check_contains "TLV Life-Duration 86400" "(t=12,l=4): Life-Duration: 86400" "$decoded"
check_contains "TV Life-Duration 3600" "(t=12,l=2): Life-Duration: 3600" "$decoded"
check_contains "kilobyte lifetime as TLV" "(t=2,l=4): SA-Life-Duration: 4608000" "$decoded"
check_contains "second transform" "Transform number: 2" "$decoded"
check_contains "IPCOMP proposal" "Protocol ID: IPCOMP (4)" "$decoded"
check_contains "NAT-D" "NAT-D (RFC 3947) (20)" "$decoded"
check_contains "INITIAL-CONTACT" "INITIAL-CONTACT" "$decoded"
check_contains "R-U-THERE" "R-U-THERE" "$decoded"
check_contains "two ESP SPIs deleted" "Number of SPIs: 2" "$decoded"
check_contains "NO-PROPOSAL-CHOSEN" "NO-PROPOSAL-CHOSEN" "$decoded"

# the checker itself must be able to fail: a message with a bad length
python_bad() {
	/usr/bin/python3 - "$T/emitted.pcap" "$T/bad.pcap" <<'PY'
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
# first frame: pcap header 24 + record 16 + Ethernet 14 + IP 20 + UDP 8 = 82;
# ISAKMP header 28, then the SA payload's length field at +2
off = 82 + 28 + 2
b[off:off + 2] = b'\xff\xf0'
open(sys.argv[2], 'wb').write(b)
PY
}
python_bad
check_fails "tshark-check refuses a broken payload length" "$SRCDIR/tests/lib/tshark-check.sh" "$T/bad.pcap"

done_testing
