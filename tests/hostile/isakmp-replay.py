#!/usr/bin/python3
"""The replay tests' packet tool (tests/hostile/replay-*.sh).

  isakmp-replay.py list PCAP SRC
      the ISAKMP datagrams (UDP port 500, no NAT-T marker) SRC sent in a
      tcpdump capture, one a line: EXCHANGE MSGID LENGTH HEX, where
      EXCHANGE is the ISAKMP exchange type (2 Main Mode, 5
      Informational, 6 Transaction, 32 Quick Mode) and MSGID eight hex
      digits
  isakmp-replay.py send SRC DST HEX
      sends HEX (a datagram's payload as listed) from SRC port 500 to DST
      port 500 through a raw socket (run it in SRC's namespace): the
      address and port of the peer whose message it was, whatever
      daemon holds that port

Reads classic pcap files (Ethernet or Linux cooked link types), IPv4 only.
"""
import socket
import struct
import sys


def datagrams(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if linktype == 1:        # Ethernet
            if len(frame) < 14 or frame[12:14] != b"\x08\x00":
                continue
            ip = frame[14:]
        elif linktype == 113:    # Linux cooked (tcpdump -i any)
            if len(frame) < 16 or frame[14:16] != b"\x08\x00":
                continue
            ip = frame[16:]
        elif linktype == 101:    # raw IP
            ip = frame
        else:
            sys.exit("unsupported link type %d" % linktype)
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        ihl = (ip[0] & 15) * 4
        src = socket.inet_ntoa(ip[12:16])
        udp = ip[ihl:]
        sport, dport, ulen = struct.unpack(">HHH", udp[:6])
        yield src, sport, dport, udp[8:ulen]


def cmd_list(path, src):
    for s, sport, dport, payload in datagrams(path):
        if s != src or sport != 500 or dport != 500 or len(payload) < 28:
            continue
        xchg = payload[18]
        msgid = struct.unpack(">I", payload[20:24])[0]
        print("%d %08x %d %s" % (xchg, msgid, len(payload), payload.hex()))


def cmd_send(src, dst, hexdata):
    payload = bytes.fromhex(hexdata)
    # UDP checksum 0: none (RFC 768), the kernel builds the IP header
    udp = struct.pack(">HHHH", 500, 500, 8 + len(payload), 0) + payload
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
    s.bind((src, 0))
    s.sendto(udp, (dst, 0))
    s.close()


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "list":
        cmd_list(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "send":
        cmd_send(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
