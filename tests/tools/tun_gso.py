#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Write GSO super-packets into a tun device the way wireguard-go and Tailscale do with TUN
offloads: the device opened with IFF_VNET_HDR, TUNSETOFFLOAD set, every packet preceded by a
virtio_net_hdr (gso_type, gso_size, NEEDS_CSUM with the checksum start and offset). The kernel
takes such a packet as one skb with gso_size set and gso_segs 0, to be cut into
ceil(payload / gso_size) segments.

  tun_gso.py IFNAME KIND SRC DST SPORT DPORT GSO_SIZE PAYLOAD [KIND SRC ... PAYLOAD]...

KIND: tcp4 (GSO_TCPV4), tcp6 (GSO_TCPV6), udp4 or udp6 (GSO_UDP_L4, USO). IFNAME must exist (ip
tuntap add ... mode tun vnet_hdr). Prints, per packet, "segments=N octets=M": what the segments
carry at the IP layer (each repeats the IP and transport headers).
"""
import fcntl
import ipaddress
import os
import struct
import sys

TUNSETIFF = 0x400454CA
TUNSETOFFLOAD = 0x400454D0
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
IFF_VNET_HDR = 0x4000
TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6, TUN_F_USO4, TUN_F_USO6 = 0x01, 0x02, 0x04, 0x20, 0x40
VIRTIO_NET_HDR_F_NEEDS_CSUM = 1
GSO_TYPES = {"tcp4": 1, "tcp6": 4, "udp4": 5, "udp6": 5}  # TCPV4, TCPV6, UDP_L4


def ip_checksum(header):
    total = sum(struct.unpack("!%dH" % (len(header) // 2), header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def super_packet(kind, src, dst, sport, dport, payload):
    """The IP packet of one super-packet and the length of its IP and transport headers."""
    tcp = kind.startswith("tcp")
    proto = 6 if tcp else 17
    data = bytes((0x41 + i % 26) for i in range(payload))
    if tcp:
        # ACK|PSH, window 65535, checksum left for the segmentation (NEEDS_CSUM)
        l4 = struct.pack("!HHIIBBHHH", sport, dport, 1, 1, 5 << 4, 0x18, 65535, 0, 0)
    else:
        l4 = struct.pack("!HHHH", sport, dport, 8 + payload, 0)
    if kind.endswith("4"):
        total = 20 + len(l4) + payload
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 1, 0, 64, proto, 0,
                          ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed)
        hdr = hdr[:10] + struct.pack("!H", ip_checksum(hdr)) + hdr[12:]
    else:
        hdr = struct.pack("!IHBB16s16s", 6 << 28, len(l4) + payload, proto, 64,
                          ipaddress.IPv6Address(src).packed, ipaddress.IPv6Address(dst).packed)
    return hdr + l4 + data, len(hdr), len(l4)


def main(argv):
    if len(argv) < 9 or (len(argv) - 2) % 7:
        sys.exit(__doc__)
    fd = os.open("/dev/net/tun", os.O_RDWR)
    ifr = struct.pack("16sH", argv[1].encode(), IFF_TUN | IFF_NO_PI | IFF_VNET_HDR)
    fcntl.ioctl(fd, TUNSETIFF, ifr)
    fcntl.ioctl(fd, TUNSETOFFLOAD,
                TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_USO4 | TUN_F_USO6)
    args = argv[2:]
    while args:
        kind, src, dst, sport, dport, gso_size, payload = args[:7]
        args = args[7:]
        sport, dport, gso_size, payload = int(sport), int(dport), int(gso_size), int(payload)
        pkt, ip_len, l4_len = super_packet(kind, src, dst, sport, dport, payload)
        vnet = struct.pack("<BBHHHH", VIRTIO_NET_HDR_F_NEEDS_CSUM, GSO_TYPES[kind],
                           ip_len + l4_len, gso_size, ip_len, 16 if kind.startswith("tcp") else 6)
        os.write(fd, vnet + pkt)
        segments = -(-payload // gso_size)
        print("segments=%d octets=%d" % (segments, payload + segments * (ip_len + l4_len)))
    os.close(fd)


if __name__ == "__main__":
    main(sys.argv)
