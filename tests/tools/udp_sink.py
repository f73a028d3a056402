#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Receive UDP datagrams and write each one to a pcap file, for tshark to decode afterwards.

  udp_sink.py ADDR PORT PCAP

Prints "ready" once bound. Each datagram becomes one pcap record (link type RAW: an IPv4 or IPv6
header, a UDP header from the sender's address and port to ADDR:PORT, the payload), written and
flushed as it arrives; SIGTERM or SIGINT ends it. Unlike a packet capture (dumpcap), nothing can
be left in a kernel ring buffer when the test stops it: every datagram the socket took is in the
file.
"""
import signal
import socket
import struct
import sys
import time

LINKTYPE_RAW = 101


def ip_udp_header(src, sport, dst, dport, length):
    udp = struct.pack("!HHHH", sport, dport, 8 + length, 0)
    if ":" in dst:
        s, d = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
        return struct.pack("!IHBB", 6 << 28, 8 + length, 17, 64) + s + d + udp
    s, d = socket.inet_aton(src), socket.inet_aton(dst)
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28 + length, 0, 0x4000, 64, 17, 0, s, d) + udp


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    addr, port, path = argv[1], int(argv[2]), argv[3]
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    sock = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, 33, 32 << 20)  # SO_RCVBUFFORCE: never drop a burst
    sock.bind((addr, port))
    sock.settimeout(0.1)
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, LINKTYPE_RAW))
        out.flush()
        print("ready", flush=True)
        while not stop:
            try:
                data, peer = sock.recvfrom(65535)
            except socket.timeout:
                continue
            write(out, addr, port, data, peer)
        # What the socket still holds was received before the stop: keep it too.
        sock.setblocking(False)
        while True:
            try:
                data, peer = sock.recvfrom(65535)
            except BlockingIOError:
                break
            write(out, addr, port, data, peer)
    return 0


def write(out, addr, port, data, peer):
    pkt = ip_udp_header(peer[0], peer[1], addr, port, len(data)) + data
    now = time.time()
    out.write(struct.pack("<IIII", int(now), int(now % 1 * 1e6), len(pkt), len(pkt)) + pkt)
    out.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
