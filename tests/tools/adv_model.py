# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""The independent model of the adversarial tests: what flowmeta's policy must do with a frame.

Written from the policy's semantics (README "Access control and trust", SPEC §6), not from the
kernel program: a parser of the frame's bytes (Ethernet, any VLAN stack, IPv4 and its options,
IPv6 and its extension headers, the transport header) and a judge with the state the semantics
imply (connections a rule opened, first fragments seen). judge() returns "allow", "deny", or
None where the semantics leave the verdict open (the tests never send such a frame, so the
model's state never depends on a guess).

The policy itself (POLICY below) is written here once: config_json() turns it into the
AccessControl and TrustRequirements flowmeta runs with, and judge() reads the same table.

The one limit of the parser (how far into a frame it reads headers) is read from
include/flowmeta.h, as the kernel program uses it.
"""
import ipaddress
import json
import os
import re
import struct

from adv_pkt import (AH, DSTOPTS, ETH_P_8021AD, ETH_P_8021Q, ETH_P_IP, ETH_P_IPV6, FRAGMENT,
                     HOPOPTS, ICMP, ICMP6, ROUTING, TCP, UDP)

TOP = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
EXT_HDRS = (HOPOPTS, ROUTING, DSTOPTS, AH, FRAGMENT)
SCTP, UDPLITE = 132, 136


def header_define(name):
    """The value of #define name in include/flowmeta.h, and where it was read."""
    rel = "include/flowmeta.h"
    with open(os.path.join(TOP, rel)) as f:
        m = re.search(r"^#define\s+%s\s+\(?(0x[0-9a-fA-F]+|\d+)" % name, f.read(), re.M)
    if not m:
        raise SystemExit("adv_model: no #define %s in %s" % (name, rel))
    return int(m.group(1), 0), "%s %s" % (rel, name)


# The parser walks VLAN stacks and IPv6 extension chains to their end, however long; a frame
# whose IP or transport header starts more than this many octets into it is unparseable and
# denied while a policy is in force (README "Access control and trust": fail closed).
MAX_OFFSET, MAX_OFFSET_FROM = header_define("FLOWMETA_MAX_HEADER_OFFSET")

# ---- the policy of node A (100.64.0.1, fd00:64::1) --------------------------------------------
# Peers (all addresses of node B): .2 the main peer, .3 no rule of its own, .4 anything, .5 every
# UDP port, .6 ICMP outbound only, .7 untrusted (yet named by a rule), .8/29 TCP 9000-9001 inbound
# of which .12/30 is untrusted, ::ffff:100.64.0.16/124 untrusted in its IPv6 form.
NODE4, NODE6 = "100.64.0.1", "fd00:64::1"
RULES = [
    {"Peers": ["100.64.0.2", "fd00:64::2", "100.64.0.7", "fd00:64::7"], "Protocol": "Udp",
     "Ports": "5000-5009", "Direction": "Inbound"},
    {"Peers": ["100.64.0.2", "fd00:64::2"], "Protocol": "Tcp", "Ports": "7000"},
    {"Peers": ["100.64.0.2", "fd00:64::2"], "Protocol": "Icmp"},
    {"Peers": ["any"], "Protocol": "Udp", "Ports": "6000", "Direction": "Outbound"},
    {"Peers": ["100.64.0.4", "fd00:64::4"], "Protocol": "Any"},
    {"Peers": ["100.64.0.5", "fd00:64::5"], "Protocol": "Udp"},
    {"Peers": ["any"], "Protocol": "Tcp", "Ports": "8000-8100"},
    {"Peers": ["100.64.0.6", "fd00:64::6"], "Protocol": "Icmp", "Direction": "Outbound"},
    {"Peers": ["100.64.0.8/29", "fd00:64::8/125"], "Protocol": "Tcp", "Ports": "9000-9001",
     "Direction": "Inbound"},
]
UNTRUSTED = ["100.64.0.7", "fd00:64::7", "100.64.0.12/30", "fd00:64::c/126",
             "::ffff:100.64.0.16/124"]
V4_PEERS = ["100.64.0.%d" % i for i in range(2, 16)]
V6_PEERS = ["fd00:64::%x" % i for i in range(2, 16)]
# IPv6 spellings of IPv4 peers: mapped (judged as the IPv4 peer), compatible and NAT64 (plain
# IPv6: only the "any" rules apply to them).
MAPPED = ["::ffff:100.64.0.%d" % i for i in (2, 3, 4, 7, 13, 17)]
EMBEDDED = ["::100.64.0.7", "::100.64.0.2", "64:ff9b::100.64.0.7"]
MAPPED_NET = ipaddress.ip_network("::ffff:0:0/96")


def config_json(poll_ms=60000):
    ac = {"Enabled": True, "Rules": [dict(r, Description="rule %d" % i)
                                     for i, r in enumerate(RULES)]}
    return {"FlowMetadata": {"PollInterval": poll_ms, "IdleTimeout": 600000,
                             "AccessControl": ac,
                             "TrustRequirements": {"UntrustedPeers": UNTRUSTED}}}


def _nets(peers):
    out = []
    for p in peers:
        if p == "any":
            out += [ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")]
        else:
            out.append(ipaddress.ip_network(p))
    return out


def _ports(spec):
    if spec is None:
        return None
    lo, _, hi = spec.partition("-")
    return int(lo), int(hi or lo)


_RULES = [(_nets(r["Peers"]), r["Protocol"].lower(), _ports(r.get("Ports")),
           r.get("Direction", "Both")) for r in RULES]
_UNTRUSTED = _nets(UNTRUSTED)


def _in(addr, nets):
    return any(addr.version == n.version and addr in n for n in nets)


# ---- parser -----------------------------------------------------------------------------------

class Parsed:
    """What the frame is, as the policy sees it."""
    kind = "ip"		# ip | not_ip | malformed | too_deep
    tags = 0
    version = 0
    src = dst = None	# ipaddress objects
    proto = None
    sport = dport = None	# None: unknown (truncated, later fragment)
    icmp_type = icmp_code = None
    frag = "none"		# none | first | later
    frag_id = None
    frag_proto = None
    dubious = False	# the kernel cannot deliver it (lengths past the data, a header cut)
    truncated = False

    def key(self):
        return (self.version, str(self.src), str(self.dst), self.proto, self.sport, self.dport)


def parse(frame, l3):
    p = Parsed()
    off = 0
    if l3:
        if not frame:
            p.kind = "malformed"
            return p
        v = frame[0] >> 4
        etype = ETH_P_IP if v == 4 else ETH_P_IPV6 if v == 6 else None
        if etype is None:
            p.kind = "not_ip"
            return p
    else:
        if len(frame) < 14:
            p.kind = "malformed"
            return p
        etype = struct.unpack_from("!H", frame, 12)[0]
        off = 14
        while etype in (ETH_P_8021Q, ETH_P_8021AD):
            if len(frame) < off + 4:
                p.kind = "malformed"
                return p
            p.tags += 1
            etype = struct.unpack_from("!H", frame, off + 2)[0]
            off += 4
        if etype not in (ETH_P_IP, ETH_P_IPV6):
            p.kind = "not_ip"
            return p
        if off > MAX_OFFSET:
            p.kind = "too_deep"
            return p
    if etype == ETH_P_IP:
        _ipv4(frame, off, p)
    else:
        _ipv6(frame, off, p)
    return p


def _l4(frame, off, avail, p):
    """Ports or ICMP type and code of the transport header at off, of which avail octets exist."""
    proto = p.proto
    need = {TCP: 20, UDP: 8, UDPLITE: 8, SCTP: 12}.get(proto)
    if (proto == ICMP and p.version == 4) or (proto == ICMP6 and p.version == 6):
        need = 8
    if need is None:
        p.sport = p.dport = 0
        return
    have = min(avail, len(frame) - off)
    if have < need:
        p.truncated = True
        if len(frame) - off < need and avail >= need:
            p.dubious = True	# cut short by the frame, not by the datagram
        if have >= 1 and need == 8 and proto in (ICMP, ICMP6):
            p.icmp_type = frame[off]
        return
    if need == 8 and proto in (ICMP, ICMP6):
        p.icmp_type, p.icmp_code = frame[off], frame[off + 1]
        p.sport, p.dport = 0, p.icmp_type << 8 | p.icmp_code
        return
    p.sport, p.dport = struct.unpack_from("!HH", frame, off)


def _ipv4(frame, off, p):
    p.version = 4
    if len(frame) < off + 20 or frame[off] >> 4 != 4 or frame[off] & 15 < 5:
        p.kind = "malformed"
        return
    ihl = (frame[off] & 15) * 4
    tot = struct.unpack_from("!H", frame, off + 2)[0]
    if tot < ihl or len(frame) < off + ihl:
        p.kind = "malformed"
        return
    if tot > len(frame) - off:
        p.dubious = True
    p.src = ipaddress.ip_address(frame[off + 12:off + 16])
    p.dst = ipaddress.ip_address(frame[off + 16:off + 20])
    p.proto = frame[off + 9]
    ff = struct.unpack_from("!H", frame, off + 6)[0]
    if ff & 0x3FFF:
        p.frag_id = struct.unpack_from("!H", frame, off + 4)[0]
        p.frag_proto = p.proto
        if ff & 0x1FFF:
            p.frag = "later"
            return
        p.frag = "first"
    _l4(frame, off + ihl, tot - ihl, p)


def _ipv6(frame, off, p):
    p.version = 6
    if len(frame) < off + 40 or frame[off] >> 4 != 6:
        p.kind = "malformed"
        return
    plen = struct.unpack_from("!H", frame, off + 4)[0]
    if plen + 40 > len(frame) - off:
        p.dubious = True
    p.src = ipaddress.ip_address(frame[off + 8:off + 24])
    p.dst = ipaddress.ip_address(frame[off + 24:off + 40])
    nh = frame[off + 6]
    pos = off + 40
    while nh in EXT_HDRS:
        if pos > MAX_OFFSET:
            p.kind = "too_deep"
            return
        if nh == FRAGMENT:
            if len(frame) < pos + 8:
                p.dubious = p.truncated = True
                p.proto = nh
                return
            nxt = frame[pos]
            fo = struct.unpack_from("!H", frame, pos + 2)[0]
            if fo & 0xFFF9:
                p.frag_id = struct.unpack_from("!I", frame, pos + 4)[0]
                p.frag_proto = nxt
                p.frag = "later" if fo & 0xFFF8 else "first"
            pos += 8
            nh = nxt
            if p.frag == "later":
                p.proto = nh
                return
            continue
        if len(frame) < pos + 2:
            p.dubious = p.truncated = True
            p.proto = nh
            return
        ln = (frame[pos + 1] + 2) * 4 if nh == AH else (frame[pos + 1] + 1) * 8
        nh = frame[pos]
        pos += ln
    p.proto = nh
    if pos > MAX_OFFSET:
        p.kind = "too_deep"
        return
    if pos > len(frame):
        p.dubious = p.truncated = True
        return
    _l4(frame, pos, plen + 40 - (pos - off), p)


# ---- judge ------------------------------------------------------------------------------------

def _class(p):
    if p.proto == TCP:
        return "tcp"
    if p.proto == UDP:
        return "udp"
    if (p.proto == ICMP and p.version == 4) or (p.proto == ICMP6 and p.version == 6):
        return "icmp"
    return "other"


def _rule_allows(peer, direction, cls, port):
    """Some rule allows this peer, direction and class (port None: unknown ports)."""
    for nets, proto, ports, rdir in _RULES:
        if rdir == "Inbound" and direction != "in" or rdir == "Outbound" and direction != "out":
            continue
        if proto != "any" and proto != cls:
            continue
        if ports is not None and (port is None or not ports[0] <= port <= ports[1]):
            continue
        if _in(peer, nets):
            return True
    return False


class Model:
    """Judges frames in the order they are sent; the state is that of one attachment."""

    def __init__(self):
        self.conns = {}		# (ver, local, peer, lport, pport, proto) -> opening direction
        self.echo = {}		# (ver, local, peer, proto) -> opening direction
        self.firsts = {}	# (ver, src, dst, id, proto, dir) -> set of first verdicts

    def judge(self, frame, l3, direction):
        """Verdict, a short reason and the connection key the frame may use or open (None if
        none: ports unknown); state changes only for a frame with a verdict."""
        p = parse(frame, l3)
        verdict, why, commit = self._judge(p, direction)
        if verdict is not None and commit:
            commit()
        return verdict, why, self._conn_key(p, direction)

    def _conn_key(self, p, d):
        if p.kind != "ip" or p.src is None or p.sport is None or p.truncated:
            return None
        local, peer = (p.dst, p.src) if d == "in" else (p.src, p.dst)
        if _class(p) == "icmp":
            return "%s|%s|%d" % (local, peer, p.proto)
        lp, pp = self._lports(p, d)
        return "%s|%s|%d|%d|%d" % (local, peer, lp, pp, p.proto)

    def _judge(self, p, d):
        if p.kind == "not_ip":
            return "allow", "not IP", None
        if p.kind == "malformed":
            return None, "malformed", None
        if p.kind == "too_deep":
            return "deny", "headers beyond %d octets" % MAX_OFFSET, None
        if p.version and p.src is None:
            return None, "malformed IP", None
        v, why, commit = self._judge_ip(p, d)
        if p.dubious and v == "allow":
            return None, why + " (kernel drops it)", None
        return v, why, commit

    def _judge_ip(self, p, d):
        peer = p.src if d == "in" else p.dst
        local = p.dst if d == "in" else p.src
        mapped = peer.version == 6 and peer in MAPPED_NET
        rpeer = ipaddress.ip_address(peer.packed[12:]) if mapped else peer
        if _in(rpeer, _UNTRUSTED) or (mapped and _in(peer, _UNTRUSTED)):
            return "deny", "untrusted peer %s" % peer, None
        cls = _class(p)
        known = p.sport is not None and not p.truncated
        if cls == "icmp" and p.version == 6:
            t = p.icmp_type
            if t in (135, 136):
                if p.frag != "none":
                    return None, "fragmented neighbour discovery", None
                if known:
                    return "allow", "neighbour discovery", None
                return None, "truncated neighbour discovery", None
            if t in (130, 131, 132, 133, 134, 137, 143):
                return None, "ICMPv6 type %d: link plumbing or not" % t, None

        if p.frag == "later":
            fk = (p.version, str(p.src), str(p.dst), p.frag_id, p.frag_proto, d)
            seen = self.firsts.get(fk)
            if seen is None:
                if _rule_allows(rpeer, d, cls, None):
                    return "allow", "later fragment, class allowed", None
                return "deny", "later fragment without its first", None
            if "allow" in seen:
                return "allow", "later fragment of an allowed first", None
            return "deny", "later fragment of a denied first", None

        port = p.dport if known else None
        if _rule_allows(rpeer, d, cls, port):
            v, why = "allow", "rule allows %s port %s" % (cls, port)
        else:
            v, why = "deny", "no rule allows %s port %s" % (cls, port)
        conn_state = None
        if known and v == "deny":
            v2, why2 = self._conn_verdict(p, d, local, peer, cls)
            if v2 is not None or why2:
                v, why = v2, why2
            if mapped and v == "deny" and self._any_conn(rpeer):
                return None, "mapped peer with connections of its IPv4 form", None
        if v == "allow" and known and why.startswith("rule"):
            conn_state = self._opener(p, d, local, peer, cls, mapped)
            if conn_state is False:
                return None, "opener of a mapped peer", None

        def commit():
            if p.frag == "first":
                fk = (p.version, str(p.src), str(p.dst), p.frag_id, p.frag_proto, d)
                self.firsts.setdefault(fk, set()).add(v)
            if conn_state:
                table, key = conn_state
                table.setdefault(key, d)
        return v, why, commit

    def _lports(self, p, d):
        return (p.dport, p.sport) if d == "in" else (p.sport, p.dport)

    def _opener(self, p, d, local, peer, cls, mapped):
        if mapped:
            return False if cls in ("tcp", "udp", "icmp") else None
        if cls == "icmp":
            if p.icmp_code == 0 and p.icmp_type in (8, 128):
                return self.echo, (p.version, str(local), str(peer), p.proto)
            return None
        lp, pp = self._lports(p, d)
        return self.conns, (p.version, str(local), str(peer), lp, pp, p.proto)

    def _conn_verdict(self, p, d, local, peer, cls):
        if cls == "icmp":
            key = (p.version, str(local), str(peer), p.proto)
            opened = self.echo.get(key)
            if opened is None:
                return None, ""
            if p.icmp_code == 0 and p.icmp_type in (0, 129):
                if opened != d:
                    return "allow", "echo reply"
                return "deny", "echo reply in the request's direction"
            if p.icmp_code == 0 and p.icmp_type in (8, 128):
                return ("deny", "echo request against its connection") if opened != d else \
                    (None, "")
            return None, "ICMP error of a peer pinged"
        lp, pp = self._lports(p, d)
        opened = self.conns.get((p.version, str(local), str(peer), lp, pp, p.proto))
        if opened is None:
            return None, ""
        if opened != d:
            return "allow", "reply of a connection"
        return None, "opening direction of a connection"

    def _any_conn(self, v4peer):
        s = str(v4peer)
        return any(k[2] == s for k in self.conns) or any(k[2] == s for k in self.echo)


if __name__ == "__main__":
    print(json.dumps(config_json()))
