#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""ICMP or ICMPv6 messages of a chosen type and code, for the tests of how flowmeta names them.

  icmp_send.py DST TYPE CODE COUNT [PAYLOAD]

Sends COUNT messages to DST (ICMPv6 when DST is an IPv6 address) from a raw socket: the 8-octet
ICMP header (type, code, checksum, 4 zero octets) and PAYLOAD zero octets (default 0). The kernel
computes the ICMPv6 checksum (RFC 3542); the ICMPv4 one is computed here. IPv6 hop limit 255, so a
neighbour discovery message is one a receiver would accept. Prints "packets=N octets=M" with the
octets counted as a meter must (IP header + ICMP message).
"""
import socket
import struct
import sys


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def main(argv):
    if len(argv) not in (5, 6):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    dst, icmp_type, code, count = argv[1], int(argv[2]), int(argv[3]), int(argv[4])
    payload = bytes(int(argv[5]) if len(argv) == 6 else 0)
    v6 = ":" in dst
    if v6:
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
        msg = struct.pack("!BBHI", icmp_type, code, 0, 0) + payload
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        head = struct.pack("!BBHI", icmp_type, code, 0, 0) + payload
        msg = struct.pack("!BBHI", icmp_type, code, checksum(head), 0) + payload
    for _ in range(count):
        s.sendto(msg, (dst, 0))
    print(f"packets={count} octets={count * ((40 if v6 else 20) + len(msg))}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
