#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Turn what each IPFIX collector decoded into one common form, so a test compares collectors
with one another and with the traffic it sent.

  ipfix_norm.py tshark    FILE   # tshark -T json -J cflow output
  ipfix_norm.py ipfixdump FILE   # ipfixDump --in output (text)
  ipfix_norm.py nfdump    FILE   # nfdump -o json output
  ipfix_norm.py nfacctd   FILE   # pmacct print plugin, JSON lines (see tests/lib.sh for the
                                 # aggregate primitives that carry IEs 61, 89, 136, 32, 139)
  ipfix_norm.py options KIND FILE  # options data records (tshark, ipfixdump): "name=value ..."
  ipfix_norm.py sum     [FILE]   # normal lines summed per flow key (stdin without FILE)
  ipfix_norm.py match EXPECTED ACTUAL  # same records? a column that is "-" in either file
                                       # is not compared; prints the difference, exit 1 if any

One line per flow data record (options data records are left out):

  src dst sport dport proto direction packets octets end_reason fwd_status

ICMP and ICMPv6: sport 0, dport type*256+code (as `flowmeta flows`). direction is "ingress" or
"egress" (flowDirection 0/1). A field the collector does not decode is "-": nfdump 1.7.1 decodes
neither flowEndReason nor forwardingStatus. nfacctd aggregates equal keys within a refresh
interval, so compare sums (the "sum" command), not record counts, for it.
"""
import ipaddress
import json
import re
import sys

DIRECTION = {"0": "ingress", "1": "egress"}
PROTO_NAMES = {"icmp": 1, "tcp": 6, "udp": 17, "ipv6-icmp": 58, "icmp6": 58, "sctp": 132,
               "gre": 47, "esp": 50}
ICMP_PROTOS = (1, 58)
# IANA names for the options values tshark shows under its own field names.
TSHARK_OPTION_NAMES = {
    "cflow.od_id": "observationDomainId", "cflow.octetsexp": "exportedOctetTotalCount",
    "cflow.packetsexp": "exportedMessageTotalCount", "cflow.flowsexp": "exportedFlowRecordTotalCount",
    "cflow.notsent_flows": "notSentFlowTotalCount", "cflow.notsent_packets": "notSentPacketTotalCount",
    "cflow.notsent_octets": "notSentOctetTotalCount", "cflow.flow_exporter": "exportingProcessId",
    "cflow.ignore_packets": "ignoredPacketTotalCount",
    "cflow.ignore_octets": "ignoredOctetTotalCount",
    "cflow.observation_time_milliseconds": "observationTimeMilliseconds",
    "cflow.inputint": "ingressInterface", "cflow.outputint": "egressInterface",
    "cflow.if_name": "interfaceName", "cflow.if_descr": "interfaceDescription",
    "cflow.sampling_interval": "samplingInterval", "cflow.sampling_algorithm": "samplingAlgorithm",
    "cflow.sampling_packet_interval": "samplingPacketInterval",
    "cflow.sampling_packet_space": "samplingPacketSpace",
    "cflow.selector_algorithm": "selectorAlgorithm",
    "cflow.exporter_addr": "exporterIPv4Address", "cflow.exporter_addr_v6": "exporterIPv6Address",
}


def line(src, dst, sport, dport, proto, direction, packets, octets, reason, fwd):
    # ipfixDump prints IPv6 addresses uncompressed (fd00:0064::0001): one spelling for all.
    src, dst = (ipaddress.ip_address(a).compressed if a not in (None, "-") else a for a in (src, dst))
    fields = (src, dst, sport, dport, proto, direction, packets, octets, reason, fwd)
    return " ".join("-" if f is None else str(f) for f in fields)


def icmp_ports(proto, sport, dport, type_code):
    """ICMP flows carry type*256+code as dport and sport 0, whatever the collector calls it."""
    if proto in ICMP_PROTOS:
        return 0, type_code if type_code is not None else 0
    return sport if sport is not None else 0, dport if dport is not None else 0


# --- tshark -------------------------------------------------------------------------------------

def pairs_hook(pairs):
    # tshark repeats keys inside one object; keep every occurrence.
    return pairs


def walk_flows(node):
    """Yield every "Flow N" object of every data set, as a list of (key, value) pairs."""
    if not isinstance(node, list):
        return
    for key, value in node:
        if isinstance(key, str) and re.match(r"Flow \d+$", key):
            yield value
        elif isinstance(value, list):
            yield from walk_flows(value)


def flat(pairs, out=None):
    out = {} if out is None else out
    for key, value in pairs:
        if isinstance(value, list):
            flat(value, out)
        else:
            out.setdefault(key, value)
    return out


def tshark_flow(f):
    src = f.get("cflow.srcaddr") or f.get("cflow.srcaddrv6")
    dst = f.get("cflow.dstaddr") or f.get("cflow.dstaddrv6")
    if src is None or dst is None:
        return None
    proto = int(f["cflow.protocol"]) if "cflow.protocol" in f else None
    type_code = None
    if "cflow.icmp_type_code_ipv4" in f:
        type_code = int(f["cflow.icmp_type_code_ipv4"], 0)
    elif "cflow.icmp_ipv6_type" in f:
        type_code = int(f["cflow.icmp_ipv6_type"]) << 8 | int(f.get("cflow.icmp_ipv6_code", 0))
    elif "cflow.icmp_ipv4_type" in f:
        type_code = int(f["cflow.icmp_ipv4_type"]) << 8 | int(f.get("cflow.icmp_ipv4_code", 0))
    sport = int(f["cflow.srcport"]) if "cflow.srcport" in f else None
    dport = int(f["cflow.dstport"]) if "cflow.dstport" in f else None
    sport, dport = icmp_ports(proto, sport, dport, type_code)
    fwd = None
    if "cflow.forwarding_status" in f:
        # tshark splits IE 89 into status (top two bits) and reason code (low six bits).
        code = next((int(v) for k, v in f.items() if k.startswith("cflow.forwarding_status_")
                     and k.endswith("_code")), 0)
        fwd = int(f["cflow.forwarding_status"]) << 6 | code
    return line(src, dst, sport, dport, proto, DIRECTION.get(f.get("cflow.direction")),
                f.get("cflow.packets"), f.get("cflow.octets"), f.get("cflow.flow_end_reason"), fwd)


def tshark_records(path, options=False):
    with open(path) as fp:
        text = fp.read()
    frames = json.loads(text, object_pairs_hook=pairs_hook) if text.strip() else []
    out = []
    for frame in frames:
        for f in walk_flows(frame):
            f = flat(f)
            rec = tshark_flow(f)
            if rec is not None and not options:
                out.append(rec)
            elif rec is None and options:
                out.append(" ".join(f"{TSHARK_OPTION_NAMES.get(k, k)}={v}" for k, v in f.items()))
    return out


# --- ipfixDump ----------------------------------------------------------------------------------

FIELD_RE = re.compile(r"^\s*\((\d+)\)\s*(\(S\))?\s*(\S+)\s*:\s*(.*?)\s*$")


def ipfixdump_blocks(path):
    """Every data record as a dict IE id -> (name, value text)."""
    record = None
    with open(path) as fp:
        for raw in fp:
            if raw.startswith("--- "):
                if record:
                    yield record
                record = {} if raw.startswith("--- data record") else None
                continue
            m = FIELD_RE.match(raw)
            if record is not None and m:
                record.setdefault(int(m.group(1)), (m.group(3), m.group(4)))
    if record:
        yield record


def ipfixdump_flow(r):
    def num(ie):
        return int(r[ie][1]) if ie in r else None

    src = (r.get(8) or r.get(27) or (None, None))[1]
    dst = (r.get(12) or r.get(28) or (None, None))[1]
    if src is None or dst is None:
        return None
    proto = num(4)
    type_code = num(32) if 32 in r else num(139)
    sport, dport = icmp_ports(proto, num(7), num(11), type_code)
    direction = DIRECTION.get(r[61][1]) if 61 in r else None
    return line(src, dst, sport, dport, proto, direction, num(2), num(1), num(136), num(89))


def ipfixdump_records(path, options=False):
    out = []
    for r in ipfixdump_blocks(path):
        rec = ipfixdump_flow(r)
        if rec is not None and not options:
            out.append(rec)
        elif rec is None and options:
            out.append(" ".join(f"{name}={value}" for name, value in r.values()))
    return out


# --- nfdump, nfacctd ----------------------------------------------------------------------------

def nfdump_records(path):
    with open(path) as fp:
        text = fp.read()
    out = []
    for r in json.loads(text) if text.strip() else []:
        if r.get("type") != "FLOW":
            continue
        src = r.get("src4_addr") or r.get("src6_addr")
        dst = r.get("dst4_addr") or r.get("dst6_addr")
        proto = r.get("proto")
        type_code = r["icmp_type"] << 8 | r.get("icmp_code", 0) if "icmp_type" in r else None
        sport, dport = icmp_ports(proto, r.get("src_port"), r.get("dst_port"), type_code)
        direction = DIRECTION.get(str(r["direction"])) if "direction" in r else None
        # nfdump 1.7.1 prints fwd_status 0 whatever was sent and has no flowEndReason: unknown.
        out.append(line(src, dst, sport, dport, proto, direction, r.get("in_packets"),
                        r.get("in_bytes"), None, None))
    return out


def nfacctd_records(path):
    out = []
    with open(path) as fp:
        for raw in fp:
            raw = raw.strip()
            if not raw.startswith("{"):
                continue
            r = json.loads(raw)
            if "ip_src" not in r:
                continue
            p = str(r.get("ip_proto"))
            proto = int(p) if p.isdigit() else PROTO_NAMES.get(p)
            icmp = r.get("fm_icmp6") if proto == 58 else r.get("fm_icmp4")
            sport, dport = icmp_ports(proto, r.get("port_src"), r.get("port_dst"),
                                      int(icmp) if icmp is not None else None)
            out.append(line(r["ip_src"], r["ip_dst"], sport, dport, proto,
                            DIRECTION.get(str(r.get("fm_dir"))), r.get("packets"), r.get("bytes"),
                            r.get("fm_end"), r.get("fm_fwd")))
    return out


# --- sum ----------------------------------------------------------------------------------------

def summed(lines):
    """Sum packets and octets per (src dst sport dport proto direction fwd_status); end reasons
    of the summed records are joined with "+" in the order seen."""
    totals = {}
    for text in lines:
        f = text.split()
        if len(f) != 10:
            continue
        key = tuple(f[:6]) + (f[9],)
        cur = totals.setdefault(key, [0, 0, []])
        cur[0] += int(f[6]) if f[6] != "-" else 0
        cur[1] += int(f[7]) if f[7] != "-" else 0
        if f[8] not in cur[2]:
            cur[2].append(f[8])
    return [line(*k[:6], v[0], v[1], "+".join(v[2]), k[6]) for k, v in totals.items()]


def read_lines(path):
    with open(path) as fp:
        return [text.split() for text in fp if text.strip()]


def match(expected_path, actual_path):
    """Compare two sets of normal lines as multisets, ignoring the columns the collector left
    undecoded or the test does not know ("-" in any line of either)."""
    expected, actual = read_lines(expected_path), read_lines(actual_path)
    blind = {i for f in expected + actual for i, v in enumerate(f) if v == "-"}

    def masked(rows):
        return sorted(" ".join("-" if i in blind else v for i, v in enumerate(f)) for f in rows)

    want, got = masked(expected), masked(actual)
    if want == got:
        return 0
    for text in want:
        if text in got:
            got.remove(text)
        else:
            print(f"missing: {text}")
    for text in got:
        print(f"unexpected: {text}")
    return 1


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "tshark":
        out = tshark_records(args[0])
    elif cmd == "ipfixdump":
        out = ipfixdump_records(args[0])
    elif cmd == "nfdump":
        out = nfdump_records(args[0])
    elif cmd == "nfacctd":
        out = nfacctd_records(args[0])
    elif cmd == "options" and args[0] == "tshark":
        out = tshark_records(args[1], options=True)
    elif cmd == "options" and args[0] == "ipfixdump":
        out = ipfixdump_records(args[1], options=True)
    elif cmd == "sum":
        out = summed(open(args[0]) if args else sys.stdin)
    elif cmd == "match":
        return match(args[0], args[1])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for text in out:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
