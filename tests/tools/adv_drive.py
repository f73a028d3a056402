#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Send a corpus of adv_corpus.py and record what the receiving IP stacks delivered.

  adv_drive.py send CORPUS SELECT NS_A IF_A NS_B IF_B l3|eth WIRE OUT
      SELECT: in | out | both, then +allow (only frames the model allows) or +judged (every
      frame with a verdict) or +all; WIRE: in,out | in | out | - (where to capture the wire)
  adv_drive.py compare policy|meter CORPUS REF GOT LABEL
  adv_drive.py count RESULT FLOWS0 FLOWS1 STATUS0 STATUS1 DIRECTION HOOK LABEL

One process holds sockets in both namespaces (setns(2) between creating them): "in" frames are
written by a packet socket on B's device and must arrive at A, "out" frames by one on A's device
(through A's TC egress) and arrive at B. The oracle is the receiving namespace's own IP stack:
a raw socket for every IP protocol (1-254) of both families, bound to the overlay device, records
everything the stack delivers (IPv4 after reassembly, with its header; IPv6 from the transport
header on, with the flow label, which the corpus sets to the frame index). WIRE adds a packet
socket on the receiving device, which sees what left the sender's egress hook (or what XDP let
in): frames identical to corpus frames are matched to their index.

Frames are sent in chunks; after each one the sender waits until the receiving device has
counted as many frames or its counters stand still, so no queue on the way (socat's UDP sockets,
the backlog) overflows and both runs of a comparison see the same arrivals.

compare prints the figures and one line per differing delivery, naming the corpus frames (index,
direction, kind, why the model judged so, hex) so a failure says which frame broke.
"""
import collections
import ctypes
import errno
import hashlib
import json
import os
import resource
import select
import socket
import struct
import sys
import time

from adv_pkt import markers

CLONE_NEWNET = 0x40000000
SOL_PACKET, PACKET_AUXDATA, PACKET_QDISC_BYPASS = 263, 8, 20
TP_STATUS_VLAN_VALID, TP_STATUS_VLAN_TPID_VALID = 0x10, 0x40
IPV6_FLOWINFO = 11
ETH_P_ALL = 0x0003
SO_RCVBUFFORCE = 33
CHUNK = 16
libc = ctypes.CDLL(None, use_errno=True)


def setns(fd):
    if libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns")


class Netns:
    """Enter a namespace for the creation of sockets, come back after."""
    home = os.open("/proc/self/ns/net", os.O_RDONLY)

    def __init__(self, name):
        self.fd = os.open("/run/netns/" + name, os.O_RDONLY)

    def __enter__(self):
        setns(self.fd)

    def __exit__(self, *exc):
        setns(Netns.home)


def dev_counters(ns, ifname):
    with ns:
        with open("/proc/self/net/dev") as f:
            for line in f:
                name, _, rest = line.partition(":")
                if name.strip() == ifname:
                    v = [int(x) for x in rest.split()]
                    return {"rx_packets": v[1], "rx_dropped": v[3], "tx_packets": v[9],
                            "tx_dropped": v[11]}
    raise SystemExit("no device %s" % ifname)


def load(path):
    with open(path) as f:
        lines = [json.loads(x) for x in f]
    return lines[0], lines[1:]


class Receiver:
    """Raw sockets of every protocol of both families on one namespace's overlay device."""

    def __init__(self, ns, ifname, side):
        self.side = side
        self.socks = {}
        with ns:
            for fam in (socket.AF_INET, socket.AF_INET6):
                for proto in range(1, 255):
                    try:
                        s = socket.socket(fam, socket.SOCK_RAW, proto)
                    except OSError:
                        continue
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
                    s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 4 << 20)
                    if fam == socket.AF_INET6:
                        s.setsockopt(socket.IPPROTO_IPV6, IPV6_FLOWINFO, 1)
                    s.setblocking(False)
                    self.socks[s.fileno()] = (s, 4 if fam == socket.AF_INET else 6, proto)
        self.items = []

    def drain(self, poller):
        for fd, _ in poller.poll(0):
            if fd not in self.socks:
                continue
            s, fam, proto = self.socks[fd]
            while True:
                try:
                    data, anc, _, addr = s.recvmsg(65535, 256)
                except BlockingIOError:
                    break
                ident = None
                digest = data
                if fam == 4 and len(data) >= 20:
                    ident = struct.unpack_from("!H", data, 4)[0]
                    # The receiving stack itself fills in timestamp and record-route options
                    # (and so the header checksum): they are left out of the comparison.
                    digest = data[:10] + data[12:20] + data[(data[0] & 15) * 4:]
                for level, typ, val in anc:
                    if level == socket.IPPROTO_IPV6 and typ == IPV6_FLOWINFO:
                        ident = struct.unpack("!I", val[:4])[0] & 0xFFFFF
                self.items.append({"side": self.side, "fam": fam, "proto": proto, "src": addr[0],
                                   "ident": ident, "len": len(data),
                                   "sha": hashlib.sha1(digest).hexdigest()[:16],
                                   "marks": sorted(markers(data))})


class Wire:
    """A packet socket on a receiving device: frames as they arrived, VLAN tags put back."""

    def __init__(self, ns, ifname):
        with ns:
            self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            self.s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20)
            self.s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
            self.s.bind((ifname, ETH_P_ALL))
        self.s.setblocking(False)
        self.frames = []

    def drain(self):
        while True:
            try:
                data, anc, _, addr = self.s.recvmsg(65535, 256)
            except BlockingIOError:
                return
            if addr[2] == socket.PACKET_OUTGOING:
                continue
            for level, typ, val in anc:
                if level == SOL_PACKET and typ == PACKET_AUXDATA:
                    status, _, _, _, _, tci, tpid = struct.unpack("IIIHHHH", val[:20])
                    if status & TP_STATUS_VLAN_VALID:
                        if not status & TP_STATUS_VLAN_TPID_VALID:
                            tpid = 0x8100
                        data = data[:12] + struct.pack("!HH", tpid, tci) + data[12:]
            self.frames.append(data)


def l3_proto(frame):
    v = frame[0] >> 4 if frame else 0
    return 0x0800 if v == 4 else 0x86DD if v == 6 else 0x88B5


def send(argv):
    corpus, select_, ns_a, if_a, ns_b, if_b, kind, wire, out = argv
    resource.setrlimit(resource.RLIMIT_NOFILE, (8192, 8192))
    l3 = kind == "l3"
    dirs, _, which = select_.partition("+")
    dirs = ("in", "out") if dirs == "both" else (dirs,)
    _, frames = load(corpus)
    todo = [f for f in frames if f["dir"] in dirs and
            (which == "all" or (which == "judged" and f["verdict"] is not None) or
             (which == "allow" and f["verdict"] == "allow"))]
    nsa, nsb = Netns(ns_a), Netns(ns_b)
    recv = {"in": Receiver(nsa, if_a, "A"), "out": Receiver(nsb, if_b, "B")}
    wires = {}
    for d in wire.split(","):
        if d in ("in", "out"):
            wires[d] = Wire(nsa, if_a) if d == "in" else Wire(nsb, if_b)
    order = Wire(nsa, if_a)
    poller = select.epoll()
    for r in recv.values():
        for fd in r.socks:
            poller.register(fd, select.EPOLLIN)
    tx = {}
    with nsb:
        tx["in"] = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        # Past B's TC egress, where adv_silence.bpf.o drops everything B's stack sends.
        tx["in"].setsockopt(SOL_PACKET, PACKET_QDISC_BYPASS, 1)
    with nsa:
        tx["out"] = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    dev = {"in": (if_b, if_a), "out": (if_a, if_b)}
    rx_dev = {"in": (nsa, if_a), "out": (nsb, if_b)}
    tx_dev = {"in": (nsb, if_b), "out": (nsa, if_a)}
    c0 = {d: (dev_counters(*rx_dev[d]), dev_counters(*tx_dev[d])) for d in ("in", "out")}
    sent = {"in": 0, "out": 0}
    errors = []

    def arrived(d):
        c = dev_counters(*rx_dev[d])
        return c["rx_packets"] - c0[d][0]["rx_packets"]

    def wait_arrivals(d, quiet=0.03):
        last, since = arrived(d), time.monotonic()
        deadline = since + 5
        while arrived(d) < sent[d] and time.monotonic() < deadline:
            now = arrived(d)
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since > quiet:
                break
            time.sleep(0.0002)

    def settle(quiet):
        for d in dirs:
            wait_arrivals(d, quiet)
        for r in recv.values():
            r.drain(poller)
        for w in wires.values():
            w.drain()

    # A's egress hook judges an "out" frame inside sendto(), while "in" frames cross socat (tun,
    # tap) before A's ingress hook sees them: an "out" frame of a connection waits until the
    # "in" frames of that connection sent before it have reached A (A's packet tap sees a frame
    # before TC ingress, after XDP: one that XDP dropped is waited for 50 ms at most).
    outstanding = {}	# hex of an "in" frame sent -> its connection key

    def seen_at_a():
        order.drain()
        for data in order.frames:
            outstanding.pop(data.hex(), None)
        order.frames.clear()

    for k, f in enumerate(todo):
        frame = bytes.fromhex(f["hex"])
        d = f["dir"]
        if d == "out" and f.get("ck") and f["ck"] in outstanding.values():
            deadline = time.monotonic() + 0.05
            seen_at_a()
            while f["ck"] in outstanding.values() and time.monotonic() < deadline:
                time.sleep(0.0002)
                seen_at_a()
            for h in [h for h, c in outstanding.items() if c == f["ck"]]:
                del outstanding[h]
        proto = l3_proto(frame) if l3 else (struct.unpack_from("!H", frame, 12)[0]
                                              if len(frame) >= 14 else 0)
        try:
            tx[d].sendto(frame, (dev[d][0], proto))
            sent[d] += 1
            if d == "in" and f.get("ck"):
                outstanding[f["hex"]] = f["ck"]
        except OSError as e:
            if d == "out" and e.errno == errno.ENOBUFS:
                sent[d] += 1	# TC egress dropped it: the hook saw it
            else:
                errors.append([f["i"], e.errno])
        if k % CHUNK == CHUNK - 1:
            settle(0.03)
    settle(0.3)
    time.sleep(0.2)
    settle(0.3)
    counters = {}
    for d in dirs:
        r1, t1 = dev_counters(*rx_dev[d]), dev_counters(*tx_dev[d])
        counters[d] = {"rx_" + k: r1[k] - c0[d][0][k] for k in r1}
        counters[d].update({"tx_" + k: t1[k] - c0[d][1][k] for k in t1})
    by_hex = {}
    for f in todo:
        by_hex.setdefault(f["hex"], f["i"])
    wire_out = {}
    for d, w in wires.items():
        seen, other = [], []
        for data in w.frames:
            i = by_hex.get(data.hex())
            if i is not None:
                seen.append(i)
            elif markers(data):
                other.append({"len": len(data), "marks": sorted(markers(data)),
                              "hex": data.hex()})
        wire_out[d] = {"seen": seen, "other": other, "count": len(w.frames)}
    result = {"select": select_, "sent": sent, "send_errors": errors, "counters": counters,
              "delivered": recv["in"].items + recv["out"].items, "wire": wire_out}
    with open(out, "w") as fo:
        json.dump(result, fo)
    print("sent in=%d out=%d, refused by the kernel %d, delivered %d" %
          (sent["in"], sent["out"], len(errors), len(result["delivered"])))


# ---- comparisons --------------------------------------------------------------------------

def item_key(it):
    return (it["side"], it["fam"], it["proto"], it["src"], it["ident"], it["sha"])


def describe(frames, idx):
    f = frames.get(idx)
    if f is None:
        return "frame %s (not in the corpus)" % idx
    return "frame %d (%s, %s, unit %d, model: %s: %s) %s" % (
        idx, f["dir"], f["kind"], f["unit"], f["verdict"], f["why"], f["hex"])


def item_frames(it, frames, dirs):
    """Corpus frames an item came from: its markers, else its identification field (the IPv4
    identification or the IPv6 flow label a frame of that family carries: its index)."""
    found = set(it["marks"])
    if not found and it["ident"] is not None:
        found = {i for i, f in frames.items() if f["dir"] in dirs and
                 f.get("fam") == it["fam"] and
                 (i & (0xFFFF if it["fam"] == 4 else 0xFFFFF)) == it["ident"]}
    return sorted(found)


def compare(argv):
    what, corpus, ref_path, got_path, label = argv
    _, lines = load(corpus)
    frames = {f["i"]: f for f in lines}
    with open(ref_path) as f:
        ref = json.load(f)
    with open(got_path) as f:
        got = json.load(f)
    problems = []
    side_dir = {"A": "in", "B": "out"}
    if what == "policy":
        # The stacks' own answers (a RST, a neighbour advertisement) carry no marker and no
        # corpus identification; the policy judges them as replies, not as corpus frames.
        for res in (ref, got):
            kept = [i for i in res["delivered"] if item_frames(i, frames, (side_dir[i["side"]],))]
            res["unattributed"] = len(res["delivered"]) - len(kept)
            res["delivered"] = kept
    rk = collections.Counter(item_key(i) for i in ref["delivered"])
    gk = collections.Counter(item_key(i) for i in got["delivered"])
    by_key = {item_key(i): i for i in ref["delivered"] + got["delivered"]}
    for key, n in (gk - rk).items():
        it = by_key[key]
        src = item_frames(it, frames, (side_dir[it["side"]],))
        problems.append("%s: delivered at %s but not in the reference (%dx, IPv%d proto %d from "
                        "%s, %d octets): %s" % (label, it["side"], n, it["fam"], it["proto"],
                                                it["src"], it["len"],
                                                "; ".join(describe(frames, i) for i in src[:3])
                                                or "no marker"))
    for key, n in (rk - gk).items():
        it = by_key[key]
        src = item_frames(it, frames, (side_dir[it["side"]],))
        problems.append("%s: not delivered at %s, yet the reference was (%dx, IPv%d proto %d "
                        "from %s): %s" % (label, it["side"], n, it["fam"], it["proto"],
                                          it["src"],
                                          "; ".join(describe(frames, i) for i in src[:3])
                                          or "no marker"))
    for d in sorted(set(ref["wire"]) & set(got["wire"])):
        rs, gs = set(ref["wire"][d]["seen"]), set(got["wire"][d]["seen"])
        for i in sorted(gs - rs):
            problems.append("%s: on the wire (%s) but not in the reference: %s" %
                            (label, d, describe(frames, i)))
        for i in sorted(rs - gs):
            problems.append("%s: missing on the wire (%s): %s" % (label, d, describe(frames, i)))
        ro = collections.Counter(x["hex"] for x in ref["wire"][d]["other"])
        go = collections.Counter(x["hex"] for x in got["wire"][d]["other"])
        for h in (go - ro):
            problems.append("%s: a frame on the wire (%s) that was never sent: %s" % (label, d, h))
    # The figures: per direction, frames tried, denied frames delivered, allowed delivered.
    delivered_idx = collections.defaultdict(set)
    for it in got["delivered"]:
        delivered_idx[side_dir[it["side"]]].update(item_frames(it, frames, (side_dir[it["side"]],)))
    ref_idx = collections.defaultdict(set)
    for it in ref["delivered"]:
        ref_idx[side_dir[it["side"]]].update(item_frames(it, frames, (side_dir[it["side"]],)))
    for d in set(ref["wire"]) & set(got["wire"]):
        delivered_idx[d].update(got["wire"][d]["seen"])
        ref_idx[d].update(ref["wire"][d]["seen"])
    for d in ("in", "out"):
        if not got["sent"].get(d):
            continue
        denied = {i for i in delivered_idx[d] if frames.get(i, {}).get("verdict") == "deny"}
        allowed = {i for i in delivered_idx[d] if frames.get(i, {}).get("verdict") == "allow"}
        ref_allowed = {i for i in ref_idx[d] if frames.get(i, {}).get("verdict") == "allow"}
        if what == "meter":
            print("figures %s %s: frames sent %d, deliveries %d (reference %d), on the wire %s "
                  "(reference %s)" % (label, d, got["sent"][d],
                                      sum(1 for i in got["delivered"] if side_dir[i["side"]] == d),
                                      sum(1 for i in ref["delivered"] if side_dir[i["side"]] == d),
                                      len(got["wire"].get(d, {}).get("seen", [])) or "-",
                                      len(ref["wire"].get(d, {}).get("seen", [])) or "-"))
        else:
            print("figures %s %s: frames tried %d, delivered though denied %d, allowed delivered "
                  "%d of %d the reference delivered" % (label, d, got["sent"][d], len(denied),
                                                         len(allowed & ref_allowed),
                                                         len(ref_allowed)))
            for i in sorted(denied):
                msg = "%s: denied frame delivered: %s" % (label, describe(frames, i))
                if msg not in problems:
                    problems.append(msg)
    if got["send_errors"] != ref["send_errors"] and what == "meter":
        problems.append("%s: the kernel refused other frames than in the reference" % label)
    for p in problems:
        print("FAILED " + p)
    print("%s: %d problems" % (label, len(problems)))
    sys.exit(1 if problems else 0)


def count(argv):
    """Every frame the hook saw is in a flow or in a counter, exactly."""
    result_path, flows0_path, flows1_path, st0_path, st1_path, d, hook, label = argv
    with open(result_path) as f:
        res = json.load(f)
    with open(flows0_path) as f:
        flows0 = json.load(f)
    with open(flows1_path) as f:
        flows1 = json.load(f)
    with open(st0_path) as f:
        st0 = json.load(f)
    with open(st1_path) as f:
        st1 = json.load(f)
    want_dir = "ingress" if d == "in" else "egress"
    # What the other side's stack answered meanwhile is in the other direction's flows.
    metered = sum(f["packets"] for f in flows1 if f["direction"] == want_dir) - \
        sum(f["packets"] for f in flows0 if f["direction"] == want_dir)
    # Counters of frames that are in no flow. The others (fragments, truncated_l4, ...) count
    # frames that are also in a flow.
    exclusive = ["not_ip", "malformed", "table_full_packets"]
    known = set(exclusive) | {"truncated_l4", "fragments", "table_full_octets", "events_lost",
                              "policy_dropped", "flows", "packets", "octets"}
    counted = {k: st1[k] - st0[k] for k in exclusive if k in st1}
    extra = {k: st1[k] - st0[k] for k, v in st1.items()
             if isinstance(v, int) and not isinstance(v, bool) and k not in known
             and k in st0 and st1[k] != st0[k]}
    # What the hook saw: egress, every frame sent; XDP, every frame the device received; TC
    # ingress, what is left after the kernel took the outer VLAN tag off (a frame too short for
    # it is dropped there), which A's packet tap sees too, right before TC ingress.
    if d == "out":
        saw = res["sent"][d]
    elif hook == "xdp":
        saw = res["counters"][d]["rx_rx_packets"]
    else:
        saw = res["wire"]["in"]["count"]
    total = metered + sum(counted.values())
    print("figures %s %s: frames sent %d, the hook saw %d, metered in flows %d, counted %s, "
          "other counters that moved %s" % (label, d, res["sent"][d], saw, metered, counted,
                                            extra))
    if total != saw:
        print("FAILED %s: %d frames the hook saw, %d metered or counted" % (label, saw, total))
        sys.exit(1)


def main(argv):
    if argv[:1] == ["send"] and len(argv) == 10:
        send(argv[1:])
    elif argv[:1] == ["compare"] and len(argv) == 6:
        compare(argv[1:])
    elif argv[:1] == ["count"] and len(argv) == 9:
        count(argv[1:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
