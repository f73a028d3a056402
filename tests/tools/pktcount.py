#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""An independent flow meter for the end-to-end tests: counts what an interface sends and receives.

  pktcount.py IFACE

Runs in the interface's network namespace, prints "ready" once its packet socket is bound, then
counts every frame per unidirectional flow key the way flowmeta does (direction, IP version,
protocol, addresses, ports; ICMP: src_port 0, dst_port type*256+code; octets = IP header +
payload). On SIGTERM or SIGINT it drains its socket and prints one JSON object:

  {"drops": N, "vnet_errors": N, "not_ip": N, "gso_frames": N,
   "flows": [{"direction": "egress", ...}, ...]}

It sees a packet where tcpdump does (after TC egress, before TC ingress). A GSO packet (veth,
tap with offloads) is one large frame there; the virtio-net header that PACKET_VNET_HDR adds to
each frame gives its gso_size, so the frame is counted as the segments it stands for, with their
octets — the rule flowmeta must follow; "gso_frames" says how many such frames there were.
"drops" (socket overruns) must be 0 for the counts to be trusted.
"""
import json
import signal
import socket
import struct
import sys

ETH_P_ALL = 0x0003
ETH_P_IP, ETH_P_IPV6 = 0x0800, 0x86DD
VLAN_TYPES = (0x8100, 0x88A8)
ARPHRD_ETHER = 1
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_STATISTICS = 6
PACKET_VNET_HDR = 15
VNET_HDR_LEN = 10
VNET_GSO_NONE = 0
IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6 = 6, 17, 1, 58
PORT_PROTOS = (IPPROTO_TCP, IPPROTO_UDP, 132, 136)  # TCP, UDP, SCTP, UDP-Lite


def l3_offset(frame, hatype):
    """Offset of the IP header and its ethertype, or (None, None) for a frame that is not IP."""
    if hatype != ARPHRD_ETHER:
        # L3-only device (tun, WireGuard): the frame starts at the IP header.
        version = frame[0] >> 4 if frame else 0
        return (0, ETH_P_IP) if version == 4 else (0, ETH_P_IPV6) if version == 6 else (None, None)
    off = 12
    while len(frame) >= off + 2:
        etype = struct.unpack_from("!H", frame, off)[0]
        if etype in VLAN_TYPES:
            off += 4
            continue
        if etype in (ETH_P_IP, ETH_P_IPV6):
            return off + 2, etype
        break
    return None, None


def parse_ip(frame, off, etype):
    """(ip_version, proto, src, dst, ip_len, l3_hdr_len, l4_off) of the packet at frame[off:]."""
    if etype == ETH_P_IP:
        ihl = (frame[off] & 0x0F) * 4
        ip_len = struct.unpack_from("!H", frame, off + 2)[0]
        proto = frame[off + 9]
        src = socket.inet_ntop(socket.AF_INET, frame[off + 12:off + 16])
        dst = socket.inet_ntop(socket.AF_INET, frame[off + 16:off + 20])
        return 4, proto, src, dst, ip_len, ihl, off + ihl
    plen = struct.unpack_from("!H", frame, off + 4)[0]
    proto = frame[off + 6]
    src = socket.inet_ntop(socket.AF_INET6, frame[off + 8:off + 24])
    dst = socket.inet_ntop(socket.AF_INET6, frame[off + 24:off + 40])
    return 6, proto, src, dst, plen + 40, 40, off + 40


def ports(frame, proto, l4):
    if proto in PORT_PROTOS and len(frame) >= l4 + 4:
        return struct.unpack_from("!HH", frame, l4)
    if proto in (IPPROTO_ICMP, IPPROTO_ICMPV6) and len(frame) >= l4 + 2:
        return 0, frame[l4] << 8 | frame[l4 + 1]
    return 0, 0


def segments(frame, vnet, proto, ip_len, l3_len, l4):
    """Packets and octets this frame stands for on the wire."""
    gso_type, gso_size = vnet[1] & 0x7F, struct.unpack_from("<H", vnet, 4)[0]
    if gso_type == VNET_GSO_NONE or gso_size == 0:
        return 1, ip_len
    l4_len = (frame[l4 + 12] >> 4) * 4 if proto == IPPROTO_TCP else 8
    hdrs = l3_len + l4_len
    payload = ip_len - hdrs
    segs = max(1, -(-payload // gso_size))
    return segs, payload + segs * hdrs


class Meter:
    def __init__(self, ifname):
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        # A large buffer so a burst of traffic is never dropped while Python catches up.
        self.sock.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)  # SO_RCVBUFFORCE
        self.sock.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
        self.sock.bind((ifname, ETH_P_ALL))
        self.flows = {}
        self.gso_frames = 0
        self.not_ip = 0
        self.vnet_errors = 0
        self.drops = 0

    def count(self, buf, addr):
        vnet, frame = buf[:VNET_HDR_LEN], buf[VNET_HDR_LEN:]
        direction = "egress" if addr[2] == PACKET_OUTGOING else "ingress"
        off, etype = l3_offset(frame, addr[3])
        if off is None:
            self.not_ip += 1
            return
        version, proto, src, dst, ip_len, l3_len, l4 = parse_ip(frame, off, etype)
        sport, dport = ports(frame, proto, l4)
        pkts, octets = segments(frame, vnet, proto, ip_len, l3_len, l4)
        self.gso_frames += pkts > 1
        key = (direction, version, proto, src, dst, sport, dport)
        cur = self.flows.setdefault(key, [0, 0])
        cur[0] += pkts
        cur[1] += octets

    def run(self, stop):
        self.sock.settimeout(0.1)
        while not stop():
            self.receive_one()
        self.sock.setblocking(False)
        while self.receive_one():
            pass
        self.drops = struct.unpack("II", self.sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))[1]

    def receive_one(self):
        try:
            buf, addr = self.sock.recvfrom(1 << 17)
        except (socket.timeout, BlockingIOError):
            return False
        except OSError:
            # The kernel could not describe a GSO frame in a virtio-net header: count it as a
            # failure of this meter rather than guess.
            self.vnet_errors += 1
            return True
        self.count(buf, addr)
        return True

    def report(self):
        keys = ("direction", "ip_version", "protocol", "src", "dst", "src_port", "dst_port")
        flows = [dict(zip(keys, k), packets=v[0], octets=v[1]) for k, v in sorted(self.flows.items())]
        return {"drops": self.drops, "vnet_errors": self.vnet_errors, "not_ip": self.not_ip,
                "gso_frames": self.gso_frames, "flows": flows}


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(1))
    meter = Meter(argv[1])
    print("ready", flush=True)
    meter.run(lambda: stopping)
    print(json.dumps(meter.report()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
