#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Traffic of known size for the end-to-end tests: UDP datagrams, a TCP transfer, raw IP packets.

Every sender binds a fixed source port (or sends a fixed protocol) so the test knows the flow key,
and prints what it sent as "packets=N octets=M" where octets counts IP header + payload, exactly
what a flow meter must report (RFC 7012 octetDeltaCount). Every receiver prints "ready" once it
is bound (the harness polls for that line), then, when done, "packets=N bytes=M" of what arrived,
so a test knows nothing was lost before it compares counts.

  traffic.py udp-send  DST PORT SPORT COUNT PAYLOAD
  traffic.py udp-send-ports DST PORT SPORT NPORTS COUNT PAYLOAD
  traffic.py udp-recv  BIND PORT COUNT [TIMEOUT]
  traffic.py tcp-send  DST PORT SPORT BYTES [HOLD_FILE]
  traffic.py tcp-recv  BIND PORT [TIMEOUT [EXPECT]]
  traffic.py raw-send  DST PROTO COUNT PAYLOAD
  traffic.py raw-recv  BIND PROTO COUNT [TIMEOUT]
  traffic.py eth-send  IFACE SRCMAC DSTMAC TAGS SRC DST SPORT DPORT COUNT PAYLOAD

With HOLD_FILE, tcp-send keeps the connection open once the receiver (given EXPECT = BYTES)
has confirmed with "ok" that every byte arrived: it prints "sent", waits until HOLD_FILE exists,
then closes. A test can read a flow table while no FIN has ended the flows yet.

udp-send-ports sends COUNT datagrams from each of the NPORTS source ports SPORT, SPORT+1, ...:
NPORTS flows in one process (its "packets=... octets=..." line is their total).

eth-send writes whole Ethernet frames carrying UDP datagrams to a packet socket, with the VLAN
tags TAGS ("100": one 802.1Q tag; "ad200,100": an 802.1ad tag then an 802.1Q tag; "-": none), so
tagged frames cross a veth without the 8021q module. The frames go through the qdisc layer, so TC
egress sees them with the tags in the packet data.
"""
import os
import socket
import struct
import sys
import time

IP4_HDR, IP6_HDR, UDP_HDR = 20, 40, 8


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def ip_header_len(addr):
    return IP6_HDR if ":" in addr else IP4_HDR


def ready():
    print("ready", flush=True)


def udp_send(dst, port, sport, count, payload):
    s = socket.socket(family_of(dst), socket.SOCK_DGRAM)
    s.bind(("::" if ":" in dst else "0.0.0.0", sport))
    data = bytes(payload)
    for i in range(count):
        s.sendto(data, (dst, port))
        # A short pause every few datagrams keeps socket and backlog queues far from full:
        # the tests need every datagram delivered, not speed.
        if i % 16 == 15:
            time.sleep(0.001)
    print(f"packets={count} octets={count * (ip_header_len(dst) + UDP_HDR + payload)}")


def udp_send_ports(dst, port, sport, nports, count, payload):
    data = bytes(payload)
    socks = []
    sent = 0
    if count == 1:
        # One datagram a port: one socket at a time, so tens of thousands of flows need no more
        # file descriptors than one.
        for i in range(nports):
            with socket.socket(family_of(dst), socket.SOCK_DGRAM) as s:
                s.bind(("::" if ":" in dst else "0.0.0.0", sport + i))
                s.sendto(data, (dst, port))
            sent += 1
            if sent % 16 == 0:
                time.sleep(0.001)
        print(f"packets={sent} octets={sent * (ip_header_len(dst) + UDP_HDR + payload)}")
        return
    for i in range(nports):
        s = socket.socket(family_of(dst), socket.SOCK_DGRAM)
        s.bind(("::" if ":" in dst else "0.0.0.0", sport + i))
        socks.append(s)
    for _ in range(count):
        for s in socks:
            s.sendto(data, (dst, port))
            sent += 1
            if sent % 16 == 0:
                time.sleep(0.001)
    print(f"packets={sent} octets={sent * (ip_header_len(dst) + UDP_HDR + payload)}")


def udp_recv(bind, port, count, timeout):
    s = socket.socket(family_of(bind), socket.SOCK_DGRAM)
    s.bind((bind, port))
    ready()
    got = nbytes = 0
    deadline = time.monotonic() + timeout
    while got < count:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            data = s.recv(65535)
        except socket.timeout:
            break
        got += 1
        nbytes += len(data)
    print(f"packets={got} bytes={nbytes}")
    return 0 if got == count else 1


def tcp_send(dst, port, sport, nbytes, hold=None):
    s = socket.socket(family_of(dst), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::" if ":" in dst else "0.0.0.0", sport))
    s.settimeout(30)
    s.connect((dst, port))
    chunk = bytes(65536)
    left = nbytes
    while left > 0:
        left -= s.send(chunk[:min(left, len(chunk))])
    if hold:
        got = b""
        while len(got) < 2:
            data = s.recv(2 - len(got))
            if not data:
                raise SystemExit("receiver closed before confirming")
            got += data
        print("sent", flush=True)
        deadline = time.monotonic() + 120
        while not os.path.exists(hold) and time.monotonic() < deadline:
            time.sleep(0.05)
    # Orderly close: our FIN, then wait for the peer's, so the whole exchange is over on return.
    s.shutdown(socket.SHUT_WR)
    while s.recv(4096):
        pass
    s.close()
    print(f"bytes={nbytes}")


def tcp_recv(bind, port, timeout, expect=None):
    ls = socket.socket(family_of(bind), socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((bind, port))
    ls.listen(1)
    ls.settimeout(timeout)
    ready()
    c, _ = ls.accept()
    c.settimeout(timeout)
    total = 0
    while True:
        data = c.recv(1 << 20)
        if not data:
            break
        total += len(data)
        if expect is not None and total == expect:
            c.sendall(b"ok")
    c.close()
    print(f"packets=1 bytes={total}")


def raw_send(dst, proto, count, payload):
    s = socket.socket(family_of(dst), socket.SOCK_RAW, proto)
    data = bytes(payload)
    for i in range(count):
        s.sendto(data, (dst, 0))
        if i % 16 == 15:
            time.sleep(0.001)
    print(f"packets={count} octets={count * (ip_header_len(dst) + payload)}")


def raw_recv(bind, proto, count, timeout):
    # A raw socket for the protocol also keeps the kernel from answering "protocol unreachable",
    # which would add ICMP flows to a test that counts flows.
    s = socket.socket(family_of(bind), socket.SOCK_RAW, proto)
    s.bind((bind, 0))
    ready()
    got = 0
    deadline = time.monotonic() + timeout
    while got < count:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            s.recv(65535)
        except socket.timeout:
            break
        got += 1
    print(f"packets={got} bytes=0")
    return 0 if got == count else 1


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ip_udp(src, dst, sport, dport, payload):
    """An IPv4 or IPv6 packet with a UDP datagram, checksums filled in."""
    body = bytes(payload)
    udp_len = UDP_HDR + len(body)
    if ":" in src:
        s6, d6 = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
        pseudo = s6 + d6 + struct.pack("!IxxxB", udp_len, 17)
        udp = struct.pack("!HHHH", sport, dport, udp_len, 0) + body
        udp = udp[:6] + struct.pack("!H", checksum(pseudo + udp) or 0xFFFF) + udp[8:]
        return 0x86DD, struct.pack("!IHBB", 6 << 28, udp_len, 17, 64) + s6 + d6 + udp
    s4, d4 = socket.inet_aton(src), socket.inet_aton(dst)
    udp = struct.pack("!HHHH", sport, dport, udp_len, 0) + body
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, IP4_HDR + udp_len, 0, 0x4000, 64, 17, 0, s4, d4)
    hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
    return 0x0800, hdr + udp


def vlan_tags(spec):
    tags = b""
    for tag in [] if spec == "-" else spec.split(","):
        tpid = 0x88A8 if tag.startswith("ad") else 0x8100
        tags += struct.pack("!HH", tpid, int(tag.lstrip("ad")))
    return tags


def eth_send(ifname, smac, dmac, tags, src, dst, sport, dport, count, payload):
    etype, packet = ip_udp(src, dst, sport, dport, payload)
    mac = lambda text: bytes.fromhex(text.replace(":", ""))
    frame = mac(dmac) + mac(smac) + vlan_tags(tags) + struct.pack("!H", etype) + packet
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifname, 0))
    for i in range(count):
        s.send(frame)
        if i % 16 == 15:
            time.sleep(0.001)
    print(f"packets={count} octets={count * len(packet)}")


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, a = argv[1], argv[2:]
    if cmd == "udp-send":
        return udp_send(a[0], int(a[1]), int(a[2]), int(a[3]), int(a[4]))
    if cmd == "udp-send-ports":
        return udp_send_ports(a[0], int(a[1]), int(a[2]), int(a[3]), int(a[4]), int(a[5]))
    if cmd == "udp-recv":
        return udp_recv(a[0], int(a[1]), int(a[2]), float(a[3]) if len(a) > 3 else 20)
    if cmd == "tcp-send":
        return tcp_send(a[0], int(a[1]), int(a[2]), int(a[3]), a[4] if len(a) > 4 else None)
    if cmd == "tcp-recv":
        return tcp_recv(a[0], int(a[1]), float(a[2]) if len(a) > 2 else 30,
                        int(a[3]) if len(a) > 3 else None)
    if cmd == "raw-send":
        return raw_send(a[0], int(a[1]), int(a[2]), int(a[3]))
    if cmd == "raw-recv":
        return raw_recv(a[0], int(a[1]), int(a[2]), float(a[3]) if len(a) > 3 else 20)
    if cmd == "eth-send":
        return eth_send(a[0], a[1], a[2], a[3], a[4], a[5], int(a[6]), int(a[7]), int(a[8]),
                        int(a[9]))
    print(f"unknown command {cmd}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv) or 0)
