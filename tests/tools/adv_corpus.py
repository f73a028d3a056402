#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Seeded corpus generator of the adversarial tests, judged by the independent model.

  adv_corpus.py gen SEED eth|l3 NODE_MAC PEER_MAC FRAMES_PER_DIR OUT
  adv_corpus.py repro CASE eth|l3 NODE_MAC PEER_MAC OUT   the frames of one reproduction
  adv_corpus.py config OUT [POLL_MS]      the policy of adv_model.py as a flowmeta config

One corpus serves one device kind (Ethernet: veth, tap; L3: tun) in both directions: "in" frames
are sent by the peer B to the node A (ingress at A, the peer is the source), "out" frames by A
(egress at A, the peer is the destination). Frames come in units (a fragmented datagram, an
opening packet and its reply) of these kinds, mixed in the seeded order:

  plain      TCP/UDP/ICMP/other protocols, every peer, ports around the rules' edges
  convo      an opening packet and its reply, and unsolicited replies (SYN-ACK, ACK, echo reply)
  vlan       802.1Q/802.1ad stacks 0 to 40 deep (the parser walks them to their end), any VID
  ipv4opt    IPv4 options (NOP, EOL, record route, timestamp, router alert, garbage)
  ext6       IPv6 extension-header chains 1 to 40 deep (past 0.1.0's limit of 8)
  frag       fragments in order, reversed, overlapping, duplicate/spoofed firsts, tiny firsts,
             later fragments without their first
  icmperr    ICMP and ICMPv6 errors quoting allowed and denied flows
  spelling   IPv4-mapped, IPv4-compatible and NAT64 spellings of allowed and untrusted peers
  nd         neighbour discovery, also from untrusted peers and as protocol 58 in IPv4
  trunc      transport headers cut short by the IP length, IP lengths past the frame
  mutate     a frame of another kind with 1-4 octets changed, or cut short
  random     random octets

Each output line is a JSON object: i (index, also in the payload's markers), dir, unit, kind,
hex, verdict ("allow", "deny", or null: the semantics leave it open; such a frame is only sent
by the metering runs), why, fam (the IP version the model parsed, 0 for none), and ck: the
connection the frame may use or open (adv_drive.py keeps frames of one connection in order
across the two directions). The first line is a header: seed, limits and counts.
"""
import json
import random
import struct
import sys

import adv_model as model
from adv_pkt import (AH, DSTOPTS, ETH_P_8021AD, ETH_P_8021Q, ETH_P_ARP, FRAGMENT, HOPOPTS,
                     ICMP, ICMP6, NONXT, ROUTING, TCP, UDP, ether, ethertype_of, ext_ah,
                     ext_frag, ext_opts, ext_routing, icmp4, icmp6, ipv4, ipv4_fix_csum, ipv6,
                     payload, tcp, udp)

PORTS = [5000, 5001, 5009, 5010, 6000, 6001, 7000, 7001, 8000, 8050, 8100, 8101, 9000, 9001,
         9002, 22, 53, 40000, 40001, 40002, 40003]
OTHER_PROTOS = [132, 136, 47, 253, 50, NONXT]
SYN, ACK, FIN, RST, PSH = 0x02, 0x10, 0x01, 0x04, 0x08
TCP_FLAGS = [SYN, SYN | ACK, ACK, PSH | ACK, FIN | ACK, RST, RST | ACK, 0]


class Gen:
    def __init__(self, seed, l3, node_mac, peer_mac):
        self.r = random.Random(seed)
        self.l3 = l3
        self.node_mac, self.peer_mac = node_mac, peer_mac
        self.frag_id4 = 0x4000 + self.r.randrange(0x1000)
        self.frag_id6 = self.r.randrange(1 << 30)

    # ---- addresses and the IP layer -----------------------------------------------------

    def peer(self, v, spellings=False):
        r = self.r
        if v == 4:
            return r.choice(model.V4_PEERS)
        if spellings and r.random() < 0.5:
            return r.choice(model.MAPPED + model.EMBEDDED)
        return r.choice(model.V6_PEERS)

    def ends(self, d, v, peer):
        node = model.NODE4 if v == 4 else model.NODE6
        return (peer, node) if d == "in" else (node, peer)

    def l2(self, d, ip_pkt, tags=()):
        """The frame of an IP packet on this device kind: bare on L3, else in Ethernet."""
        if self.l3:
            return ip_pkt
        dst, src = (self.node_mac, self.peer_mac) if d == "in" else (self.peer_mac, self.node_mac)
        return ether(dst, src, ethertype_of(ip_pkt), list(tags), ip_pkt)

    def ip(self, v, src, dst, proto, l4, index, **kw):
        if v == 4:
            return ipv4(src, dst, proto, l4, ident=kw.pop("ident", index & 0xFFFF), **kw)
        return ipv6(src, dst, proto, l4, flow=index, **kw)

    # ---- transport --------------------------------------------------------------------

    def l4(self, v, src, dst, proto, index, sport=None, dport=None, flags=None, icmp=None,
           plen=None):
        r = self.r
        data = payload(index, r.randrange(0, 200) if plen is None else plen)
        if proto == TCP:
            return tcp(src, dst, sport if sport is not None else r.choice(PORTS),
                       dport if dport is not None else r.choice(PORTS),
                       r.choice(TCP_FLAGS) if flags is None else flags, data)
        if proto == UDP:
            return udp(src, dst, sport if sport is not None else r.choice(PORTS),
                       dport if dport is not None else r.choice(PORTS), data)
        if proto in (ICMP, ICMP6):
            t, c = icmp or r.choice([(8, 0), (0, 0), (3, 3), (11, 0), (200, 1)] if v == 4 else
                                    [(128, 0), (129, 0), (1, 4), (3, 0), (200, 1)])
            rest = struct.pack("!HH", 0x4D00 + (index & 0xFF), 1)
            if proto == ICMP:
                return icmp4(t, c, rest, data)
            return icmp6(src, dst, t, c, rest, data)
        if proto in (132, 136):	# SCTP, UDP-Lite: ports first
            return struct.pack("!HH", r.choice(PORTS), r.choice(PORTS)) + b"\0" * 8 + data
        return data

    def proto(self, v):
        x = self.r.random()
        if x < 0.35:
            return TCP
        if x < 0.7:
            return UDP
        if x < 0.87:
            return ICMP if v == 4 else ICMP6
        return self.r.choice(OTHER_PROTOS)

    def packet(self, d, index, v=None, spellings=False, **kw):
        """A random well-formed IP packet in direction d: (bytes, v)."""
        v = v or self.r.choice((4, 6))
        peer = kw.pop("peer", None) or self.peer(v, spellings)
        src, dst = self.ends(d, v, peer)
        proto = kw.pop("proto", None) or self.proto(v)
        l4 = self.l4(v, src, dst, proto, index, **kw)
        return self.ip(v, src, dst, proto, l4, index), v

    def tags(self, n):
        r = self.r
        out = []
        for k in range(n):
            tpid = r.choice((ETH_P_8021Q, ETH_P_8021AD)) if k == 0 else \
                r.choice((ETH_P_8021Q, ETH_P_8021Q, ETH_P_8021AD))
            vid = 0 if r.random() < 0.75 else r.randrange(1, 4095)
            out.append((tpid, r.randrange(8) << 13 | vid))
        return out

    # ---- units: lists of (direction, build(indexes) -> [frames]) -----------------------

    def u_plain(self):
        d = self.r.choice(("in", "out"))
        return [d], lambda ix: [self.l2(d, self.packet(d, ix[0], spellings=True)[0])]

    def u_convo(self):
        r = self.r
        v = r.choice((4, 6))
        case = r.randrange(7)
        node = model.NODE4 if v == 4 else model.NODE6
        p = lambda i: model.V4_PEERS[i - 2] if v == 4 else model.V6_PEERS[i - 2]
        icmp_p = ICMP if v == 4 else ICMP6
        echo_req, echo_rep = ((8, 0), (0, 0)) if v == 4 else ((128, 0), (129, 0))
        eph = r.choice((40000, 40001, 40002, 40003))
        # (direction, peer, proto, the packet's sport and dport, TCP flags or ICMP type).
        if case == 0:	# egress UDP to any:6000 (outbound rule), its reply, then a stranger's
            peer = p(r.choice((2, 3, 5, 9)))
            seq = [("out", peer, UDP, eph, 6000, None), ("in", peer, UDP, 6000, eph, None),
                   ("in", peer, UDP, 6000, eph + 1, None)]
        elif case == 1:	# inbound UDP 5000-5009 from .2, the node's reply
            seq = [("in", p(2), UDP, eph, 5003, None), ("out", p(2), UDP, 5003, eph, None),
                   ("out", p(2), UDP, 5003, eph + 7, None)]
        elif case == 2:	# TCP 7000 both ways with .2; a SYN-ACK nobody asked for
            seq = [("in", p(2), TCP, eph, 7000, SYN), ("out", p(2), TCP, 7000, eph, SYN | ACK),
                   ("in", p(2), TCP, 7000, eph + 5, SYN | ACK)]
        elif case == 3:	# unsolicited replies from allowed ports
            peer = p(r.choice((2, 3, 8, 9)))
            seq = [("in", peer, TCP, 8000, eph, ACK), ("in", peer, TCP, 9000, eph, SYN | ACK),
                   ("in", peer, UDP, 6000, eph, None)]
        elif case == 4:	# echo to .6 (outbound only): its reply passes, its own request not
            seq = [("in", p(6), icmp_p, 0, 0, echo_rep), ("out", p(6), icmp_p, 0, 0, echo_req),
                   ("in", p(6), icmp_p, 0, 0, echo_rep), ("in", p(6), icmp_p, 0, 0, echo_req)]
        elif case == 5:	# inbound TCP 9000 from .8/29, reply; .13 is untrusted in that prefix
            peer = p(r.choice((8, 10, 13, 15)))
            seq = [("in", peer, TCP, eph, 9001, SYN), ("out", peer, TCP, 9001, eph, SYN | ACK)]
        else:	# web: any peer, both ways; reply to a node-opened one
            peer = p(r.choice((3, 4, 7, 11)))
            seq = [("out", peer, TCP, eph, 8080, SYN), ("in", peer, TCP, 8080, eph, SYN | ACK),
                   ("in", peer, TCP, 8080, eph + 9, SYN | ACK)]

        def build(ix):
            out = []
            for i, (d, peer, proto, sp, dp, extra) in zip(ix, seq):
                src, dst = self.ends(d, v, peer)
                if proto in (ICMP, ICMP6):
                    l4 = self.l4(v, src, dst, proto, i, icmp=extra)
                    # Echo request and reply of one exchange share the identifier.
                    l4 = l4[:4] + struct.pack("!H", 0x4D00 + (ix[0] & 0xFF)) + l4[6:]
                    l4 = self.fix_icmp(v, src, dst, l4)
                else:
                    l4 = self.l4(v, src, dst, proto, i, sport=sp, dport=dp, flags=extra)
                out.append(self.l2(d, self.ip(v, src, dst, proto, l4, i)))
            return out
        return [s[0] for s in seq], build

    def fix_icmp(self, v, src, dst, l4):
        body = l4[:2] + b"\0\0" + l4[4:]
        if v == 4:
            return icmp4(body[0], body[1], body[4:8], body[8:])
        return icmp6(src, dst, body[0], body[1], body[4:8], body[8:])

    def u_vlan(self):
        if self.l3:
            return self.u_plain()
        r = self.r
        d = r.choice(("in", "out"))
        # The parser walks any stack to its end: stacks from none to 40 deep (160 octets).
        n = r.choice([0, 1, 2, 3, 4, 5, 6, 8, 9, 12, 20, 40])

        def build(ix):
            tags = self.tags(n)
            if r.random() < 0.1:	# ARP inside the stack
                arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + b"\0" * 20 + payload(ix[0], 8)
                dst, src = (self.node_mac, self.peer_mac) if d == "in" else \
                    (self.peer_mac, self.node_mac)
                return [ether(dst, src, ETH_P_ARP, tags, arp)]
            pkt, _ = self.packet(d, ix[0], plen=r.randrange(0, 64))
            return [self.l2(d, pkt, tags)]
        return [d], build

    def u_ipv4opt(self):
        r = self.r
        d = r.choice(("in", "out"))

        def build(ix):
            kinds = [b"\x01" * r.randrange(1, 40), b"\x00",
                     bytes([7, 11, 4]) + b"\0" * 8,	# record route, room for 2
                     bytes([68, 12, 5, 0]) + b"\0" * 8,	# timestamp
                     bytes([148, 4, 0, 0]),		# router alert
                     bytes(r.randrange(256) for _ in range(r.randrange(1, 12)))]
            opts = b"".join(r.choice(kinds) for _ in range(r.randrange(1, 3)))[:40]
            peer = self.peer(4)
            src, dst = self.ends(d, 4, peer)
            proto = self.proto(4)
            l4 = self.l4(4, src, dst, proto, ix[0])
            return [self.l2(d, ipv4(src, dst, proto, l4, ident=ix[0] & 0xFFFF, options=opts))]
        return [d], build

    def chain(self, n, last):
        """n extension headers ending in protocol last: [(type, header bytes)]."""
        r = self.r
        types = []
        for k in range(n):
            choices = [DSTOPTS, DSTOPTS, ROUTING, FRAGMENT, AH]
            if k == 0:
                choices.append(HOPOPTS)
            types.append(r.choice(choices))
        out = []
        for k, t in enumerate(types):
            nxt = types[k + 1] if k + 1 < n else last
            if t in (HOPOPTS, DSTOPTS):
                opts = r.choice([b"", bytes([0x1E, 2, 0, 0]), bytes([1, 4, 0, 0, 0, 0])])
                out.append(ext_opts(nxt, opts))
            elif t == ROUTING:
                out.append(ext_routing(nxt))
            elif t == FRAGMENT:
                out.append(ext_frag(nxt, 0, False, r.randrange(1 << 32)))	# atomic
            else:
                out.append(ext_ah(nxt))
        return types, out

    def u_ext6(self):
        r = self.r
        d = r.choice(("in", "out"))
        # Walked to their end too: chains past 0.1.0's limit of 8, up to 40 headers.
        n = r.choice([1, 2, 3, 7, 8, 9, 9, 10, 20, 40])

        def build(ix):
            peer = self.peer(6)
            src, dst = self.ends(d, 6, peer)
            proto = self.proto(6)
            l4 = self.l4(6, src, dst, proto, ix[0])
            types, hdrs = self.chain(n, proto)
            return [self.l2(d, ipv6(src, dst, types[0], b"".join(hdrs) + l4, flow=ix[0]))]
        return [d], build

    def u_frag(self):
        """A fragmented datagram and a trick: frames in sending order, each spec one frame."""
        r = self.r
        d = r.choice(("in", "out"))
        v = r.choice((4, 6))
        trick = r.choice(["order", "order", "reverse", "later_only", "first_only", "spoof_before",
                          "spoof_after", "overlap", "tiny", "tiny"])
        peer = self.peer(v)
        if trick.startswith("spoof") and r.random() < 0.7:
            peer = model.V4_PEERS[0] if v == 4 else model.V6_PEERS[0]	# .2: allowed ports
        src, dst = self.ends(d, v, peer)
        proto = r.choice((TCP, UDP, UDP, ICMP if v == 4 else ICMP6))
        good = r.choice((5001, 6000, 7000, 8000, 9000, 5005))
        sport, dport = 40001, good
        if r.random() < 0.3:
            sport, dport = r.choice(PORTS), r.choice(PORTS)
        if v == 4:
            self.frag_id4 = (self.frag_id4 + 1) & 0xFFFF
            fid = self.frag_id4
        else:
            self.frag_id6 = (self.frag_id6 + 1) & 0xFFFFFFFF
            fid = self.frag_id6
        hlen = 20 if proto == TCP else 8
        n = r.choice((2, 3, 4))
        chunk = 8 * r.randrange(2, 12)
        sizes = [8 if trick == "tiny" else (hlen + chunk + 7) // 8 * 8] + [chunk] * (n - 1)
        sizes[-1] += r.randrange(0, 8)
        specs, off = [], 0
        for k, s in enumerate(sizes):
            specs.append({"off": off, "size": s, "more": k < n - 1, "role": "real"})
            off += s
        total = off
        spoof = {"off": 0, "size": sizes[0], "more": True, "role": "spoof"}
        ovl = {"off": 8, "size": sizes[0], "more": True, "role": "overlap"}
        order = {"reverse": specs[::-1], "later_only": specs[1:], "first_only": specs[:1],
                 "spoof_before": [spoof] + specs, "spoof_after": specs[:1] + [spoof] + specs[1:],
                 "overlap": specs[:1] + [ovl] + specs[1:]}.get(trick, specs)

        def l4_of(dp, owner):
            """The whole datagram's transport part, each octet's markers those of its owner."""
            data = b"".join(payload(owner(s), max(0, s["off"] + s["size"] - max(s["off"], hlen)))
                            for s in specs)[:total - hlen]
            return self.l4_with(v, src, dst, proto, sport, dp, data)

        def wrap(s, piece):
            if v == 4:
                return self.l2(d, ipv4(src, dst, proto, piece, ident=fid,
                                       flags_frag=(0x2000 if s["more"] else 0) | s["off"] // 8))
            return self.l2(d, ipv6(src, dst, FRAGMENT,
                                   ext_frag(proto, s["off"] // 8, s["more"], fid) + piece,
                                   flow=s["i"]))

        def build(ix):
            for s in specs:
                s["i"] = ix[0]	# fragments never sent (a trick's) carry the first frame's
            for j, s in enumerate(order):
                s["i"] = ix[j]
            real = l4_of(dport, lambda s: s["i"])
            frames = []
            for s in order:
                if s["role"] == "spoof":
                    piece = l4_of(22, lambda _: spoof["i"])[:s["size"]]
                elif s["role"] == "overlap":
                    piece = payload(s["i"], s["size"])
                else:
                    piece = real[s["off"]:s["off"] + s["size"]]
                frames.append(wrap(s, piece))
            return frames
        return [d] * len(order), build

    def l4_with(self, v, src, dst, proto, sport, dport, data):
        if proto == TCP:
            return tcp(src, dst, sport, dport, SYN, data)
        if proto == UDP:
            return udp(src, dst, sport, dport, data)
        rest = struct.pack("!HH", 0x4D00, 1)
        if proto == ICMP:
            return icmp4(8, 0, rest, data)
        return icmp6(src, dst, 128, 0, rest, data)

    def u_icmperr(self):
        r = self.r
        d = r.choice(("in", "out"))
        v = r.choice((4, 6))

        def build(ix):
            peer = self.peer(v)
            src, dst = self.ends(d, v, peer)
            # The quoted packet went the other way: from the error's destination to its source.
            qport = r.choice((6000, 5001, 7000, 22, 40001))
            q_l4 = udp(dst, src, 40001, qport, payload(ix[0], 16))
            if v == 4:
                quoted = ipv4(dst, src, UDP, q_l4, ident=ix[0] & 0xFFFF)
                t, c = r.choice([(3, 3), (3, 1), (11, 0), (12, 0), (3, 4)])
                l4 = icmp4(t, c, b"\0\0\0\0", quoted)
                return [self.l2(d, ipv4(src, dst, ICMP, l4, ident=ix[0] & 0xFFFF))]
            quoted = ipv6(dst, src, UDP, q_l4, flow=ix[0])
            t, c = r.choice([(1, 4), (1, 1), (2, 0), (3, 0), (4, 1)])
            l4 = icmp6(src, dst, t, c, b"\0\0\x05\xdc" if t == 2 else b"\0" * 4, quoted)
            return [self.l2(d, ipv6(src, dst, ICMP6, l4, flow=ix[0]))]
        return [d], build

    def u_spelling(self):
        r = self.r
        d = r.choice(("in", "out"))

        def build(ix):
            peer = r.choice(model.MAPPED + model.EMBEDDED)
            proto, sport, dport, icmp = r.choice([
                (UDP, 40001, 5001, None), (TCP, 40001, 7000, None), (TCP, 40001, 8000, None),
                (UDP, 40001, 6000, None), (ICMP6, None, None, (128, 0)),
                (TCP, 40001, 9000, None)])
            return [self.l2(d, self.packet(d, ix[0], v=6, peer=peer, proto=proto, sport=sport,
                                           dport=dport, icmp=icmp)[0])]
        return [d], build

    def u_nd(self):
        r = self.r
        d = r.choice(("in", "out"))

        def build(ix):
            t = r.choice((135, 136, 135, 136, 133, 128))
            peer = r.choice(model.V6_PEERS)
            src, dst = self.ends(d, 6, peer)
            body = b"\0" * 4 + __import__("ipaddress").ip_address(dst).packed + payload(ix[0], 8)
            if r.random() < 0.2:	# "ND" as protocol 58 inside IPv4
                p4 = self.peer(4)
                s4, d4 = self.ends(d, 4, p4)
                return [self.l2(d, ipv4(s4, d4, ICMP6, bytes([t, 0, 0, 0]) + body,
                                        ident=ix[0] & 0xFFFF))]
            l4 = icmp6(src, dst, t, 0, body[:4], body[4:])
            return [self.l2(d, ipv6(src, dst, ICMP6, l4, hlim=255, flow=ix[0]))]
        return [d], build

    def u_trunc(self):
        r = self.r
        d = r.choice(("in", "out"))

        def build(ix):
            v = r.choice((4, 6))
            peer = self.peer(v)
            src, dst = self.ends(d, v, peer)
            proto = r.choice((TCP, UDP, ICMP if v == 4 else ICMP6, 132))
            l4 = self.l4(v, src, dst, proto, ix[0], plen=16)
            cut = r.randrange(0, {TCP: 20, UDP: 8, 132: 12}.get(proto, 8))
            how = r.choice(("iplen", "iplen", "frame", "padding"))
            if how == "iplen":	# the IP length ends inside the transport header
                if v == 4:
                    pkt = ipv4(src, dst, proto, l4, ident=ix[0] & 0xFFFF, tot_len=20 + cut)
                else:
                    pkt = ipv6(src, dst, proto, l4, flow=ix[0], plen=cut)
            elif how == "frame":	# the frame ends before the IP length does
                pkt = self.ip(v, src, dst, proto, l4, ix[0])[:(20 if v == 4 else 40) + cut]
            else:	# padding after the datagram (the kernel trims it)
                pkt = self.ip(v, src, dst, proto, l4, ix[0]) + b"\0" * r.randrange(1, 30)
            return [self.l2(d, pkt)]
        return [d], build

    def u_mutate(self):
        r = self.r
        dirs, inner = r.choice([self.u_plain, self.u_vlan, self.u_ext6, self.u_ipv4opt,
                                self.u_trunc, self.u_icmperr])()

        def build(ix):
            frames = inner(ix)
            out = []
            for f in frames:
                b = bytearray(f)
                if r.random() < 0.2 and len(b) > 15:
                    b = b[:r.randrange(14 if not self.l3 else 1, len(b))]
                else:
                    for _ in range(r.randrange(1, 5)):
                        pos = r.randrange(len(b))
                        b[pos] = r.randrange(256)
                if self.l3 and b[0] >> 4 not in (4, 6):
                    b[0] = f[0]	# a tun device refuses other versions (and socat dies of it)
                b = bytes(b)
                if r.random() < 0.7:
                    b = self.fix_v4(b)
                out.append(b)
            return out
        return dirs, build

    def fix_v4(self, b):
        if self.l3:
            return ipv4_fix_csum(b)
        off = 14
        while len(b) >= off + 4 and b[off - 2:off] in (b"\x81\x00", b"\x88\xa8"):
            off += 4
        if b[off - 2:off] == b"\x08\x00":
            return b[:off] + ipv4_fix_csum(b[off:])
        return b

    def u_random(self):
        r = self.r
        d = r.choice(("in", "out"))

        def build(ix):
            n = r.randrange(1 if self.l3 else 14, 200)
            b = bytearray(r.randrange(256) for _ in range(n))
            if self.l3:
                b[0] = (r.choice((4, 6)) << 4) | (b[0] & 15)	# what a tun device takes
            else:
                if r.random() < 0.5:
                    dst = self.node_mac if d == "in" else self.peer_mac
                    b[0:6] = bytes(int(x, 16) for x in dst.split(":"))
                if n >= 14:
                    b[12:14] = r.choice([b"\x08\x00", b"\x86\xdd", b"\x81\x00", b"\x88\xa8",
                                         b"\x08\x06", bytes(b[12:14])])
            return [bytes(b) + payload(ix[0], 8)]
        return [d], build

    KINDS = [("plain", 16), ("convo", 10), ("vlan", 12), ("ipv4opt", 5), ("ext6", 10),
             ("frag", 12), ("icmperr", 5), ("spelling", 6), ("nd", 4), ("trunc", 6),
             ("mutate", 10), ("random", 4)]


def generate(seed, l3, node_mac, peer_mac, per_dir, out):
    g = Gen(seed, l3, node_mac, peer_mac)
    m = model.Model()
    names = [k for k, _ in Gen.KINDS]
    weights = [w for _, w in Gen.KINDS]
    counts = {"in": 0, "out": 0}
    verdicts = {}
    lines = []
    # From 1: a packet the stacks send themselves has flow label or IPv4 identification 0, and
    # adv_drive.py names the frame of an unmarked delivery by that field.
    index = 1
    unit = 0
    while min(counts.values()) < per_dir:
        kind = g.r.choices(names, weights)[0]
        dirs, build = getattr(g, "u_" + kind)()
        ix = list(range(index, index + len(dirs)))
        frames = build(ix)
        for i, d, f in zip(ix, dirs, frames):
            if not f:
                continue
            verdict, why, ck = m.judge(f, l3, d)
            lines.append({"i": i, "dir": d, "unit": unit, "kind": kind, "hex": f.hex(),
                          "verdict": verdict, "why": why, "ck": ck,
                          "fam": model.parse(f, l3).version})
            counts[d] += 1
            key = "%s/%s" % (d, verdict)
            verdicts[key] = verdicts.get(key, 0) + 1
        index += len(dirs)
        unit += 1
    head = {"seed": seed, "device": "l3" if l3 else "eth", "frames": len(lines),
            "max_header_offset": model.MAX_OFFSET,
            "max_header_offset_from": model.MAX_OFFSET_FROM,
            "verdicts": verdicts}
    with open(out, "w") as f:
        f.write(json.dumps(head) + "\n")
        for line in lines:
            f.write(json.dumps(line) + "\n")
    print(json.dumps(head))


def repro_frames(g, case):
    """The frames of one reproduction of issue 7 (adversarial.sh repro_*): [(dir, frame)]."""
    node4, node6 = model.NODE4, model.NODE6
    out = []
    if case == "vlan_priority_stack":
        # 4 priority tags (VID 0), outer 802.1ad, from and to the untrusted .7, IPv4 and IPv6.
        tags = [(ETH_P_8021AD, 0), (ETH_P_8021Q, 0), (ETH_P_8021Q, 0), (ETH_P_8021Q, 0)]
        for v, peer, node in ((4, "100.64.0.7", node4), (6, "fd00:64::7", node6)):
            for d in ("in", "out"):
                src, dst = (peer, node) if d == "in" else (node, peer)
                out.append((d, lambda i, v=v, src=src, dst=dst, d=d: g.l2(
                    d, g.ip(v, src, dst, UDP, udp(src, dst, 40001, 5001, payload(i, 64)), i),
                    tags)))
    elif case == "mapped_untrusted":
        # IPv6 from and to ::ffff:100.64.0.7, the IPv4-mapped spelling of an untrusted peer.
        for d in ("in", "out"):
            src, dst = ("::ffff:100.64.0.7", node6) if d == "in" else (node6, "::ffff:100.64.0.7")
            out.append((d, lambda i, src=src, dst=dst, d=d: g.l2(
                d, ipv6(src, dst, UDP, udp(src, dst, 40001, 5001 if d == "in" else 6000,
                                           payload(i, 64)), flow=i))))
    elif case == "spoofed_first_fragment":
        # UDP from .2 to the allowed 5001 in 3 fragments; after the real first, a spoofed first
        # fragment of the same datagram to the denied port 22. IPv4, then IPv6.
        for v, peer, node, fid in ((4, "100.64.0.2", node4, 0x7701),
                                   (6, "fd00:64::2", node6, 0x77017701)):
            def frags(ix, v=v, peer=peer, node=node, fid=fid):
                real = udp(peer, node, 40001, 5001, payload(ix[0], 40) + payload(ix[2], 48) +
                           payload(ix[3], 40))
                bad = udp(peer, node, 40001, 22, payload(ix[1], 128))
                pieces = [(real[:48], 0, True), (bad[:48], 0, True), (real[48:96], 6, True),
                          (real[96:], 12, False)]
                res = []
                for k, (piece, off8, more) in enumerate(pieces):
                    if v == 4:
                        res.append(g.l2("in", ipv4(peer, node, UDP, piece, ident=fid & 0xFFFF,
                                                   flags_frag=(0x2000 if more else 0) | off8)))
                    else:
                        res.append(g.l2("in", ipv6(peer, node, FRAGMENT,
                                                   ext_frag(UDP, off8, more, fid) + piece,
                                                   flow=ix[k])))
                return res
            out.append(("in", frags, 4))
    elif case == "deep_extension_chain":
        # 9 destination-options headers before UDP from .2 to the allowed 5001 (one more than
        # 0.1.0's parser walked), IPv6 ingress; and 20 of them.
        for n in (9, 20):
            def f(i, n=n):
                src, dst = "fd00:64::2", node6
                l4 = udp(src, dst, 40001, 5001, payload(i, 64))
                hdrs = b"".join(ext_opts(DSTOPTS if k + 1 < n else UDP) for k in range(n))
                return g.l2("in", ipv6(src, dst, DSTOPTS, hdrs + l4, flow=i))
            out.append(("in", f))
    else:
        raise SystemExit("unknown reproduction %s" % case)
    return out


def repro(case, l3, node_mac, peer_mac, path):
    g = Gen(0, l3, node_mac, peer_mac)
    m = model.Model()
    lines, index = [], 1
    for unit, item in enumerate(repro_frames(g, case)):
        if len(item) == 3:	# a unit of several frames
            d, build, n = item
            frames = build(list(range(index, index + n)))
        else:
            d, build = item
            frames = [build(index)]
        for f in frames:
            verdict, why, ck = m.judge(f, l3, d)
            lines.append({"i": index, "dir": d, "unit": unit, "kind": case, "hex": f.hex(),
                          "verdict": verdict, "why": why, "ck": ck,
                          "fam": model.parse(f, l3).version})
            index += 1
    head = {"seed": 0, "device": "l3" if l3 else "eth", "frames": len(lines), "repro": case,
            "max_header_offset": model.MAX_OFFSET}
    with open(path, "w") as f:
        f.write(json.dumps(head) + "\n")
        for line in lines:
            f.write(json.dumps(line) + "\n")
    for line in lines:
        print("frame %d %s: model %s (%s)" % (line["i"], line["dir"], line["verdict"],
                                             line["why"]))


def main(argv):
    if len(argv) >= 7 and argv[0] == "gen":
        generate(int(argv[1]), argv[2] == "l3", argv[3], argv[4], int(argv[5]), argv[6])
    elif len(argv) >= 6 and argv[0] == "repro":
        repro(argv[1], argv[2] == "l3", argv[3], argv[4], argv[5])
    elif len(argv) >= 2 and argv[0] == "config":
        with open(argv[1], "w") as f:
            json.dump(model.config_json(int(argv[2]) if len(argv) > 2 else 60000), f, indent=1)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
