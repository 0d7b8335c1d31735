#!/usr/bin/python3
# dgram-recv.py SOCKET OUTFILE: receive datagrams on a unix socket (the
# journal's native socket, /dev/log, or $NOTIFY_SOCKET) and append each one
# to OUTFILE as a record: its lines, then an empty line.
#
# Journal native protocol: "KEY=value\n", or for values with newlines
# "KEY\n" + 64-bit little-endian length + value + "\n"; large entries come
# as a sealed memfd passed with SCM_RIGHTS. Both are decoded to KEY=value.
# syslog and sd_notify datagrams are plain text and pass through unchanged.
import array
import os
import socket
import struct
import sys


def decode_journal(data):
    fields, i = [], 0
    while i < len(data):
        nl = data.find(b"\n", i)
        if nl < 0:
            nl = len(data)
        line = data[i:nl]
        if b"=" in line or nl + 9 > len(data):
            fields.append(line)
            i = nl + 1
        else:
            n = struct.unpack("<Q", data[nl + 1:nl + 9])[0]
            fields.append(line + b"=" + data[nl + 9:nl + 9 + n])
            i = nl + 9 + n + 1
    return b"\n".join(fields)


def main():
    path, out = sys.argv[1], sys.argv[2]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    os.chmod(path, 0o666)
    with open(out, "ab", buffering=0) as f:
        while True:
            data, anc, _, _ = sock.recvmsg(1 << 20, socket.CMSG_SPACE(64))
            for level, kind, cdata in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds = array.array("i")
                    fds.frombytes(cdata[:len(cdata) - len(cdata) % fds.itemsize])
                    for fd in fds:
                        data = os.pread(fd, 1 << 20, 0)
                        os.close(fd)
            if not data.startswith(b"<"):      # not syslog: journal or notify
                data = decode_journal(data)
            f.write(data.rstrip(b"\n") + b"\n\n")


if __name__ == "__main__":
    main()
