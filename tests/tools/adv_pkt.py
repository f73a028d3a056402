# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Packet builders of the adversarial tests (tests/e2e/adversarial.sh): Ethernet with VLAN tag
stacks, IPv4 with options, IPv6 with extension-header chains, TCP, UDP, ICMP, ICMPv6, fragments.

Plain bytes in, bytes out, stdlib only. Checksums are right unless a caller breaks them on
purpose: the receiving kernel drops an IPv4 header with a bad checksum before any socket sees it,
so a frame meant to test the policy must carry a good one (transport checksums are computed too,
though raw sockets, the tests' oracle, do not check them).

Every payload is made of 8-octet markers (MARK_MAGIC, frame index, check octet) so that whatever a
receiving socket gets (a datagram, a reassembled one, a stray fragment) names the corpus frames
it came from: markers() finds them at any offset.
"""
import ipaddress
import struct

ETH_P_IP, ETH_P_IPV6, ETH_P_ARP = 0x0800, 0x86DD, 0x0806
ETH_P_8021Q, ETH_P_8021AD = 0x8100, 0x88A8
TCP, UDP, ICMP, ICMP6 = 6, 17, 1, 58
HOPOPTS, ROUTING, FRAGMENT, DSTOPTS, AH, NONXT = 0, 43, 44, 60, 51, 59
MARK_MAGIC = b"\xad\x7e"


def addr_bytes(a):
    return ipaddress.ip_address(a).packed


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def marker(index):
    """One 8-octet marker naming frame index (up to 2^32), with a check octet against chance."""
    body = struct.pack("!I", index)
    return MARK_MAGIC + body + bytes([sum(body) & 0xFF, 0x5A])


def payload(index, length):
    """length octets of markers of frame index (the last one cut short if length % 8)."""
    n = (length + 7) // 8
    return (marker(index) * n)[:length]


def markers(data):
    """The frame indexes of every whole marker in data, as a set."""
    found = set()
    i = data.find(MARK_MAGIC)
    while i >= 0 and i + 8 <= len(data):
        body = data[i + 2:i + 6]
        if data[i + 6] == sum(body) & 0xFF and data[i + 7] == 0x5A:
            found.add(struct.unpack("!I", body)[0])
        i = data.find(MARK_MAGIC, i + 1)
    return found


# ---- transport headers ------------------------------------------------------------------------

def pseudo(src, dst, proto, length):
    s, d = addr_bytes(src), addr_bytes(dst)
    if len(s) == 4:
        return s + d + struct.pack("!BBH", 0, proto, length)
    return s + d + struct.pack("!IxxxB", length, proto)


def udp(src, dst, sport, dport, data):
    length = 8 + len(data)
    hdr = struct.pack("!HHHH", sport, dport, length & 0xFFFF, 0)
    c = csum(pseudo(src, dst, UDP, length) + hdr + data) or 0xFFFF
    return hdr[:6] + struct.pack("!H", c) + data


def tcp(src, dst, sport, dport, flags, data, seq=1000, ack=0, options=b""):
    doff = (20 + len(options)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, doff << 4, flags, 65535, 0, 0) + options
    c = csum(pseudo(src, dst, TCP, len(hdr) + len(data)) + hdr + data)
    return hdr[:16] + struct.pack("!H", c) + hdr[18:] + data


def icmp4(icmp_type, code, rest, data):
    body = struct.pack("!BBH", icmp_type, code, 0) + rest + data
    return body[:2] + struct.pack("!H", csum(body)) + body[4:]


def icmp6(src, dst, icmp_type, code, rest, data):
    body = struct.pack("!BBH", icmp_type, code, 0) + rest + data
    c = csum(pseudo(src, dst, ICMP6, len(body)) + body)
    return body[:2] + struct.pack("!H", c) + body[4:]


# ---- IP ---------------------------------------------------------------------------------------

def ipv4(src, dst, proto, l4, ident=0, flags_frag=0, ttl=64, options=b"", tot_len=None):
    """An IPv4 datagram (or fragment: flags_frag = MF 0x2000 | offset in 8-octet units)."""
    options += b"\0" * (-len(options) % 4)
    ihl = 5 + len(options) // 4
    length = 4 * ihl + len(l4) if tot_len is None else tot_len
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, length, ident, flags_frag, ttl, proto, 0,
                      addr_bytes(src), addr_bytes(dst)) + options
    return hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:] + l4


def ipv4_fix_csum(pkt):
    """Recompute the header checksum of the IPv4 header at the start of pkt, if it has one."""
    if len(pkt) < 20 or pkt[0] >> 4 != 4:
        return pkt
    ihl = (pkt[0] & 15) * 4
    if ihl < 20 or len(pkt) < ihl:
        return pkt
    hdr = pkt[:10] + b"\0\0" + pkt[12:ihl]
    return hdr[:10] + struct.pack("!H", csum(hdr)) + pkt[12:]


def ipv6(src, dst, nexthdr, payload_bytes, hlim=64, flow=0, plen=None):
    length = len(payload_bytes) if plen is None else plen
    return struct.pack("!IHBB16s16s", 6 << 28 | (flow & 0xFFFFF), length, nexthdr, hlim,
                       addr_bytes(src), addr_bytes(dst)) + payload_bytes


def ext_opts(nexthdr, opts=b""):
    """Hop-by-hop or destination options header: options padded (PadN) to a multiple of 8."""
    pad = -(2 + len(opts)) % 8
    if pad == 1:
        opts += b"\0"
    elif pad:
        opts += bytes([1, pad - 2]) + b"\0" * (pad - 2)
    return bytes([nexthdr, (2 + len(opts)) // 8 - 1]) + opts


def ext_routing(nexthdr, rtype=4, segleft=0, addrs=1):
    """A routing header with no segments left: the kernel skips it whatever its type."""
    return bytes([nexthdr, 2 * addrs, rtype, segleft]) + b"\0" * 4 + b"\0" * 16 * addrs


def ext_frag(nexthdr, offset8, more, ident):
    return struct.pack("!BBHI", nexthdr, 0, (offset8 << 3) | (1 if more else 0), ident)


def ext_ah(nexthdr, words=4):
    """Authentication header of words*4 octets (spi, sequence, ICV)."""
    return bytes([nexthdr, words - 2]) + b"\0\0" + b"\0" * (words * 4 - 4)


# ---- L2 ---------------------------------------------------------------------------------------

def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def ether(dst_mac, src_mac, ethertype, tags, body):
    """tags: [(tpid, vid)], outermost first."""
    out = mac_bytes(dst_mac) + mac_bytes(src_mac)
    for tpid, tci in tags:
        out += struct.pack("!HH", tpid, tci)
    return out + struct.pack("!H", ethertype) + body


def ethertype_of(ip_pkt):
    return ETH_P_IPV6 if ip_pkt and ip_pkt[0] >> 4 == 6 else ETH_P_IP
