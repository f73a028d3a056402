#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Send a known IPFIX stream, laid out as flowmeta's, to collectors: a self-test of the collector
helpers that does not depend on flowmeta.

  ipfix_craft.py [--seq-error] [--odid N] EXPECTED_FILE HOST:PORT...

Sends, to every HOST:PORT (one UDP socket each): a message with the 8 flow templates (IDs
256..263, fields as SPEC §5: 8-octet counters, absolute millisecond timestamps, flowDirection,
flowEndReason, 1-octet forwardingStatus and tcpControlBits), the two statistics options templates
(in their own sets), then data records of every template in two messages and one options data
record. Writes to EXPECTED_FILE the flow records in the helpers' normal form (tests/lib.sh):

  src dst sport dport proto direction packets octets end_reason fwd_status

--seq-error gives the third message a Sequence Number one too high: every collector able to check
sequences must then report exactly one error; without it, none.
"""
import socket
import struct
import sys
import time

# (IE id, length) tables, named after IANA.
flowStartMilliseconds, flowEndMilliseconds = (152, 8), (153, 8)
octetDeltaCount, packetDeltaCount = (1, 8), (2, 8)
sourceIPv4Address, destinationIPv4Address = (8, 4), (12, 4)
sourceIPv6Address, destinationIPv6Address = (27, 16), (28, 16)
protocolIdentifier, flowDirection, flowEndReason = (4, 1), (61, 1), (136, 1)
forwardingStatus, tcpControlBits = (89, 1), (6, 1)
ingressInterface, egressInterface = (10, 4), (14, 4)
sourceTransportPort, destinationTransportPort = (7, 2), (11, 2)
icmpTypeCodeIPv4, icmpTypeCodeIPv6 = (32, 2), (139, 2)
observationDomainId, exportingProcessId = (149, 4), (144, 4)
exportedOctetTotalCount, exportedMessageTotalCount, exportedFlowRecordTotalCount = (40, 8), (41, 8), (42, 8)
notSentFlowTotalCount, notSentPacketTotalCount, notSentOctetTotalCount = (166, 8), (167, 8), (168, 8)

COMMON = [flowStartMilliseconds, flowEndMilliseconds, octetDeltaCount, packetDeltaCount]
TAIL = [protocolIdentifier, flowDirection, flowEndReason, forwardingStatus, ingressInterface,
        egressInterface]
V4 = [sourceIPv4Address, destinationIPv4Address]
V6 = [sourceIPv6Address, destinationIPv6Address]
PORTS = [sourceTransportPort, destinationTransportPort]
TEMPLATES = {
    256: COMMON + V4 + TAIL + PORTS + [tcpControlBits],
    257: COMMON + V4 + TAIL + PORTS,
    258: COMMON + V4 + TAIL + [icmpTypeCodeIPv4],
    259: COMMON + V4 + TAIL,
    260: COMMON + V6 + TAIL + PORTS + [tcpControlBits],
    261: COMMON + V6 + TAIL + PORTS,
    262: COMMON + V6 + TAIL + [icmpTypeCodeIPv6],
    263: COMMON + V6 + TAIL,
}
STATS_TID, RELIABILITY_TID = 264, 265
OPTIONS = {
    STATS_TID: ([observationDomainId],
                [exportedMessageTotalCount, exportedFlowRecordTotalCount, exportedOctetTotalCount]),
    RELIABILITY_TID: ([exportingProcessId],
                      [notSentFlowTotalCount, notSentPacketTotalCount, notSentOctetTotalCount]),
}

# (template, src, dst, sport, dport or ICMP type*256+code, proto, direction, packets, octets,
#  end reason, forwarding status, tcp flags). Octets above 2^32 check 64-bit decoding.
RECORDS = [
    (256, "100.64.0.1", "100.64.0.2", 40000, 5201, 6, 1, 10, 5000, 3, 64, 0x1B),
    (257, "100.64.0.2", "100.64.0.1", 53, 40001, 17, 0, 3, 300, 1, 64, 0),
    (258, "100.64.0.1", "100.64.0.2", 0, 0x0800, 1, 1, 5, 420, 4, 64, 0),
    (259, "100.64.0.2", "100.64.0.1", 0, 0, 253, 0, 2, 200, 2, 129, 0),
    (260, "fd00:64::1", "fd00:64::2", 40002, 22, 6, 1, 7, 1000, 5, 130, 0x02),
    (261, "fd00:64::2", "fd00:64::1", 4789, 40003, 17, 0, 3000000, 5000000000, 2, 64, 0),
    (262, "fd00:64::2", "fd00:64::1", 0, 0x8100, 58, 0, 4, 416, 1, 64, 0),
    (263, "fd00:64::1", "fd00:64::2", 0, 0, 253, 1, 6, 288, 4, 64, 0),
]
DIRECTION = {0: "ingress", 1: "egress"}


def u(value, length):
    return value.to_bytes(length, "big")


def addr(text):
    return socket.inet_pton(socket.AF_INET6 if ":" in text else socket.AF_INET, text)


def set_of(set_id, body):
    return struct.pack("!HH", set_id, 4 + len(body)) + body


def template_set():
    body = b""
    for tid, fields in TEMPLATES.items():
        body += struct.pack("!HH", tid, len(fields))
        body += b"".join(struct.pack("!HH", ie, ln) for ie, ln in fields)
    return set_of(2, body)


def options_template_sets():
    # One options template per set: pmacct mis-parses a set holding two.
    sets = b""
    for tid, (scope, fields) in OPTIONS.items():
        body = struct.pack("!HHH", tid, len(scope) + len(fields), len(scope))
        body += b"".join(struct.pack("!HH", ie, ln) for ie, ln in scope + fields)
        sets += set_of(3, body)
    return sets


def record(rec, now_ms):
    tid, src, dst, sport, dport, proto, direction, pkts, octets, reason, fwd, flags = rec
    values = {
        flowStartMilliseconds: u(now_ms - 2000, 8), flowEndMilliseconds: u(now_ms - 1000, 8),
        octetDeltaCount: u(octets, 8), packetDeltaCount: u(pkts, 8),
        sourceIPv4Address: addr(src) if ":" not in src else b"",
        destinationIPv4Address: addr(dst) if ":" not in dst else b"",
        sourceIPv6Address: addr(src) if ":" in src else b"",
        destinationIPv6Address: addr(dst) if ":" in dst else b"",
        protocolIdentifier: u(proto, 1), flowDirection: u(direction, 1),
        flowEndReason: u(reason, 1), forwardingStatus: u(fwd, 1),
        ingressInterface: u(7 if direction == 0 else 0, 4),
        egressInterface: u(7 if direction == 1 else 0, 4),
        sourceTransportPort: u(sport, 2), destinationTransportPort: u(dport, 2),
        icmpTypeCodeIPv4: u(dport, 2), icmpTypeCodeIPv6: u(dport, 2), tcpControlBits: u(flags, 1),
    }
    return b"".join(values[f] for f in TEMPLATES[tid])


def data_sets(records, now_ms):
    out = b""
    for tid in sorted({r[0] for r in records}):
        out += set_of(tid, b"".join(record(r, now_ms) for r in records if r[0] == tid))
    return out


def message(odid, seq, sets):
    return struct.pack("!HHIII", 10, 16 + len(sets), int(time.time()), seq, odid) + sets


def stream(odid, seq_error):
    now_ms = int(time.time() * 1000)
    first, second = RECORDS[:4], RECORDS[4:]
    stats = set_of(STATS_TID, u(odid, 4) + u(3, 8) + u(len(RECORDS), 8) + u(12345, 8))
    seq2 = len(first) + (1 if seq_error else 0)
    return [
        message(odid, 0, template_set() + options_template_sets()),
        message(odid, 0, data_sets(first, now_ms)),
        message(odid, seq2, data_sets(second, now_ms)),
        message(odid, seq2 + len(second), stats),
    ]


def normal_line(rec):
    tid, src, dst, sport, dport, proto, direction, pkts, octets, reason, fwd, _ = rec
    return f"{src} {dst} {sport} {dport} {proto} {DIRECTION[direction]} {pkts} {octets} {reason} {fwd}"


def main(argv):
    args = argv[1:]
    seq_error, odid = False, 1
    while args and args[0].startswith("--"):
        opt = args.pop(0)
        if opt == "--seq-error":
            seq_error = True
        elif opt == "--odid":
            odid = int(args.pop(0))
        else:
            print(__doc__, file=sys.stderr)
            return 2
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(args[0], "w") as f:
        f.writelines(normal_line(r) + "\n" for r in RECORDS)
    msgs = stream(odid, seq_error)
    for dest in args[1:]:
        host, port = dest.rsplit(":", 1)
        host = host.strip("[]")
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
        for m in msgs:
            s.sendto(m, (host, int(port)))
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
