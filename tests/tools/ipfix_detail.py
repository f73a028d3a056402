#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Everything a collector decoded about each flow record and each message, beyond the normal form
of ipfix_norm.py: flow times, interfaces, arrival, the message a record came in. For the export
tests, which check times and timing, not only counts.

  ipfix_detail.py records KIND FILE    # KIND: tshark | ipfixdump | nfdump | nfacctd
  ipfix_detail.py messages KIND FILE   # KIND: tshark | ipfixdump
  ipfix_detail.py check EXPECTED RECORDS [--ifindex N] [--margin-ms M] [--sum]
  ipfix_detail.py timing RECORDS REASON LO_MS HI_MS [--since EPOCH_MS] [--expected EXPECTED]
  ipfix_detail.py audit MESSAGES [--joined]
  ipfix_detail.py series RECORDS DIRECTION PROTO DPORT

Inputs: tshark -T json -J "frame cflow" output; ipfixDump --in output; nfdump -o json output;
the nfacctd print plugin's JSON lines. ipfixDump and nfdump print wall-clock times without a zone:
run them with TZ=UTC (tests/lib.sh does).

`records` prints a JSON array, one object per flow data record, in arrival order:
  src dst sport dport proto direction packets octets reason fwd   (as ipfix_norm.py)
  start_ms end_ms        flowStart/EndMilliseconds, epoch ms
  in_if out_if           ingressInterface, egressInterface
  arrival_ms             when the datagram arrived (tshark: capture time; nfdump: "received")
  export_s               the message's Export Time (tshark, ipfixDump)
  msg                    index of the message it came in (tshark, ipfixDump), from 0
A value the collector does not give is null.

`messages` prints a JSON array, one object per IPFIX message, in arrival order:
  arrival_ms, src (the sender's "address:port", tshark given -J "frame ip ipv6 udp cflow"; else
  null), length (IPFIX message length), seq, odid, export_s, sets (set IDs in order),
  flow_records, options_records, options (list of {IE name: value} of its options data records,
  IANA names; "template": its template ID). Values are numbers, strings (names, addresses) or,
  for observationTimeMilliseconds, epoch ms; an IE a record holds twice (the first and last
  observationTimeMilliseconds) has the list of its values.

`check` compares RECORDS (a `records` array) with EXPECTED, one line per expected record:
  src dst sport dport proto direction packets octets reason fwd t0_ms t1_ms
where "-" means unknown/not compared and t0..t1 is the wall-clock window of the traffic. Every
expected line must match exactly one record on (src dst sport dport proto direction reason) and
have its packets, octets and fwd; where decoded, the interfaces must be IFINDEX on the side of the
direction and 0 on the other, and flow start and end must lie in [t0 - M, t1 + M] (default
M 250 ms) with start <= end. Records no line expects are errors. --sum adds up the records of
equal (key, reason) first (nfacctd aggregates them itself). Prints each difference; exit 1 if any.

`timing` checks when the records of flowEndReason REASON arrived: between LO_MS and HI_MS after
their flowEndMilliseconds, or after EPOCH_MS with --since. Where only the Export Time is known
(ipfixDump: whole seconds, the arrival lies in [export_s, export_s + 1 s)), that second must
overlap the window. A record without flowEndReason (nfdump) takes the reason of the EXPECTED line
with its key. Prints "checked N" (records with a time to check), then each offender; exit 1 if
any.

`audit` checks a `messages` array from one collector, received whole, transport session by
session (the sender's address and port, where known): each Sequence Number is the number of data
records (options records included) of the session's messages of its Observation Domain before
it, and each §4.1 metering statistics record counts exactly the session's messages, flow records
and octets before it. --joined: the collector came in the middle (it was down): a session's first
message sets the base, the counts of the statistics record it carries, and the first message of
each domain its first sequence number. Prints each problem; exit 1 if any.

`series` sums up the records of one flow (interim records, then its end), in arrival order:
  packets octets records interim last_reason distinct_starts ends_increasing min_interim_gap_ms
  first_start_ms
"""
import calendar
import ipaddress
import json
import os
import re
import sys
from datetime import datetime

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ipfix_norm  # noqa: E402  (same directory)

TSHARK_TIME_RE = re.compile(r"^(\w{3}) +(\d+), (\d{4}) (\d\d):(\d\d):(\d\d)(?:\.(\d+))? UTC$")
MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
                                      "Sep", "Oct", "Nov", "Dec"), 1)}


def epoch_ms_naive(text):
    """'2026-11-25 20:41:02.025' or '2026-11-25T20:41:02.025', read as UTC, to epoch ms."""
    text = text.strip().replace("T", " ")
    fmt = "%Y-%m-%d %H:%M:%S.%f" if "." in text else "%Y-%m-%d %H:%M:%S"
    dt = datetime.strptime(text, fmt)
    return calendar.timegm(dt.timetuple()) * 1000 + dt.microsecond // 1000


def epoch_ms_tshark(text):
    """'Nov 25, 2026 20:41:02.025000000 UTC' to epoch ms (tshark prints UTC with -J)."""
    m = TSHARK_TIME_RE.match(text.strip())
    if not m:
        return None
    mon, day, year, hh, mm, ss, frac = m.groups()
    secs = calendar.timegm((int(year), MONTHS[mon], int(day), int(hh), int(mm), int(ss)))
    return secs * 1000 + int((frac or "0")[:3].ljust(3, "0"))


def num(value):
    return int(value, 0) if isinstance(value, str) else value


def option_value(name, text):
    """An options field as its IANA type says: a time in epoch ms, a number, or the text."""
    if name == "observationTimeMilliseconds":
        ms = epoch_ms_tshark(text)
        return ms if ms is not None else epoch_ms_naive(text)
    if name in ("exporterIPv4Address", "exporterIPv6Address"):
        return ipaddress.ip_address(text).compressed	# ipfixDump writes IPv6 in full
    m = re.match(r"^\(len: \d+\) ?(.*)$", text)	# ipfixDump's strings
    if m:
        return m.group(1)
    try:
        return int(text, 0)
    except ValueError:
        return text


def options_record(template_id, fields):
    """{IANA name: value} of one options data record from its (name, text) fields in order; an IE
    seen twice has the list of its values."""
    out = {"template": template_id}
    for name, text in fields:
        value = option_value(name, text)
        if name not in out:
            out[name] = value
        elif isinstance(out[name], list):
            out[name].append(value)
        else:
            out[name] = [out[name], value]
    return out


def tshark_fields(pairs):
    """(IANA name, text) of a tshark record's fields in order, repeats kept, subtrees left out."""
    return [(ipfix_norm.TSHARK_OPTION_NAMES.get(k, k), v) for k, v in pairs
            if not isinstance(v, list)]


def record(norm_line, **extra):
    f = norm_line.split()
    keys = ("src", "dst", "sport", "dport", "proto", "direction", "packets", "octets", "reason",
            "fwd")
    r = {k: (None if v == "-" else v) for k, v in zip(keys, f)}
    for k in ("sport", "dport", "proto", "packets", "octets", "reason", "fwd"):
        if r[k] is not None:
            r[k] = int(r[k])
    base = dict(start_ms=None, end_ms=None, in_if=None, out_if=None, arrival_ms=None,
                export_s=None, msg=None)
    base.update(extra)
    r.update(base)
    return r


# --- tshark -------------------------------------------------------------------------------------

def get(pairs, key):
    for k, v in pairs:
        if k == key:
            return v
    return None


def tshark_sets(cflow):
    """(set id, [flow pairs]) of every set of one message, in order."""
    for key, value in cflow:
        if isinstance(key, str) and key.startswith("Set ") and isinstance(value, list):
            flows = [v for k, v in value if isinstance(k, str) and re.match(r"Flow \d+$", k)]
            yield int(get(value, "cflow.flowset_id")), flows


def tshark_messages_raw(path):
    with open(path) as fp:
        text = fp.read()
    frames = json.loads(text, object_pairs_hook=ipfix_norm.pairs_hook) if text.strip() else []
    for frame in frames:
        layers = get(get(frame, "_source"), "layers")
        fr, cflow = get(layers, "frame"), get(layers, "cflow")
        if cflow is None:
            continue
        arrival = round(float(get(fr, "frame.time_epoch")) * 1000) if fr else None
        ip, udp = get(layers, "ip") or get(layers, "ipv6"), get(layers, "udp")
        src = None
        if ip and udp:
            src = f'{get(ip, "ip.src") or get(ip, "ipv6.src")}:{get(udp, "udp.srcport")}'
        yield arrival, cflow, src


def tshark_records(path):
    out = []
    for i, (arrival, cflow, _) in enumerate(tshark_messages_raw(path)):
        export_s = int(get(get(cflow, "cflow.timestamp_tree"), "cflow.exporttime"))
        for _, flows in tshark_sets(cflow):
            for pairs in flows:
                f = ipfix_norm.flat(pairs)
                norm = ipfix_norm.tshark_flow(f)
                if norm is None:
                    continue
                start = f.get("cflow.abstimestart")
                end = f.get("cflow.abstimeend")
                out.append(record(
                    norm, arrival_ms=arrival, export_s=export_s, msg=i,
                    start_ms=epoch_ms_tshark(start) if start else None,
                    end_ms=epoch_ms_tshark(end) if end else None,
                    in_if=num(f.get("cflow.inputint")), out_if=num(f.get("cflow.outputint"))))
    return out


def tshark_messages(path):
    out = []
    for arrival, cflow, src in tshark_messages_raw(path):
        m = dict(arrival_ms=arrival, src=src, length=int(get(cflow, "cflow.len")),
                 seq=int(get(cflow, "cflow.sequence")), odid=int(get(cflow, "cflow.od_id")),
                 export_s=int(get(get(cflow, "cflow.timestamp_tree"), "cflow.exporttime")),
                 sets=[], flow_records=0, options_records=0, options=[])
        for set_id, flows in tshark_sets(cflow):
            m["sets"].append(set_id)
            for pairs in flows:
                f = ipfix_norm.flat(pairs)
                if ipfix_norm.tshark_flow(f) is not None:
                    m["flow_records"] += 1
                else:
                    m["options_records"] += 1
                    m["options"].append(options_record(set_id, tshark_fields(pairs)))
        out.append(m)
    return out


# --- ipfixDump ----------------------------------------------------------------------------------

def ipfixdump_messages_raw(path):
    """Per message: header fields, and its records in order as ("template" | "options template" |
    "data", tid, {IE id: (name, value)}, [(name, value) in order, repeats kept])."""
    msgs = []
    msg = None
    rec = None
    with open(path) as fp:
        for raw in fp:
            if raw.startswith("--- Message Header ---"):
                msg = dict(header={}, records=[])
                msgs.append(msg)
                rec = None
                continue
            if msg is None:
                continue
            m = re.search(r"export time: (.+?)\s+observation domain id: (\d+)", raw)
            if m:
                msg["header"]["export_s"] = epoch_ms_naive(m.group(1)) // 1000
                msg["header"]["odid"] = int(m.group(2))
                continue
            m = re.search(r"message length: (\d+)\s+sequence number: (\d+)", raw)
            if m:
                msg["header"]["length"] = int(m.group(1))
                msg["header"]["seq"] = int(m.group(2))
                continue
            m = re.match(r"^--- (template|options template|data) record", raw)
            if m:
                rec = [m.group(1), None, {}, []]
                msg["records"].append(rec)
                continue
            m = re.search(r"tid:\s+(\d+)", raw)
            if rec is not None and m and rec[1] is None:
                rec[1] = int(m.group(1))
                continue
            m = ipfix_norm.FIELD_RE.match(raw)
            if rec is not None and rec[0] == "data" and m:
                rec[2].setdefault(int(m.group(1)), (m.group(3), m.group(4)))
                rec[3].append((m.group(3), m.group(4)))
    return msgs


def ipfixdump_time(fields, ie):
    return epoch_ms_naive(fields[ie][1]) if ie in fields else None


def ipfixdump_records(path):
    out = []
    for i, msg in enumerate(ipfixdump_messages_raw(path)):
        for kind, _, fields, _ in msg["records"]:
            if kind != "data":
                continue
            norm = ipfix_norm.ipfixdump_flow(fields)
            if norm is None:
                continue
            out.append(record(
                norm, export_s=msg["header"].get("export_s"), msg=i,
                start_ms=ipfixdump_time(fields, 152), end_ms=ipfixdump_time(fields, 153),
                in_if=int(fields[10][1]) if 10 in fields else None,
                out_if=int(fields[14][1]) if 14 in fields else None))
    return out


def ipfixdump_messages(path):
    out = []
    for msg in ipfixdump_messages_raw(path):
        h = msg["header"]
        m = dict(arrival_ms=None, src=None, length=h.get("length"), seq=h.get("seq"),
                 odid=h.get("odid"),
                 export_s=h.get("export_s"), sets=[], flow_records=0, options_records=0,
                 options=[])
        last = None
        for kind, tid, fields, ordered in msg["records"]:
            # ipfixDump shows records, not sets: a new set wherever the kind of set changes.
            set_id = {"template": 2, "options template": 3}.get(kind, tid)
            if set_id != last:
                m["sets"].append(set_id)
                last = set_id
            if kind != "data":
                continue
            if ipfix_norm.ipfixdump_flow(fields) is not None:
                m["flow_records"] += 1
            else:
                m["options_records"] += 1
                m["options"].append(options_record(tid, ordered))
        out.append(m)
    return out


# --- nfdump, nfacctd ----------------------------------------------------------------------------

def nfdump_records(path):
    with open(path) as fp:
        text = fp.read()
    rows = [r for r in (json.loads(text) if text.strip() else []) if r.get("type") == "FLOW"]
    norms = ipfix_norm.nfdump_records(path)
    out = []
    for r, norm in zip(rows, norms):
        out.append(record(
            norm, start_ms=epoch_ms_naive(r["first"]) if "first" in r else None,
            end_ms=epoch_ms_naive(r["last"]) if "last" in r else None,
            arrival_ms=epoch_ms_naive(r["received"]) if "received" in r else None,
            in_if=r.get("input_snmp"), out_if=r.get("output_snmp")))
    return out


def nfacctd_records(path):
    return [record(norm) for norm in ipfix_norm.nfacctd_records(path)]


# --- check --------------------------------------------------------------------------------------

KEY = ("src", "dst", "sport", "dport", "proto", "direction")


def canon(addr):
    return ipaddress.ip_address(addr).compressed


def expected_lines(path):
    out = []
    with open(path) as fp:
        for text in fp:
            f = text.split()
            if not f:
                continue
            if len(f) != 12:
                raise SystemExit(f"{path}: want 12 fields: {text.strip()}")
            e = dict(zip(KEY + ("packets", "octets", "reason", "fwd", "t0", "t1"), f))
            e["src"], e["dst"] = canon(e["src"]), canon(e["dst"])
            for k in ("sport", "dport", "proto", "packets", "octets", "reason", "fwd", "t0",
                      "t1"):
                e[k] = None if e[k] == "-" else int(e[k])
            out.append(e)
    return out


def summed(records):
    groups = {}
    for r in records:
        k = tuple(r[x] for x in KEY) + (r["reason"],)
        g = groups.get(k)
        if g is None:
            groups[k] = dict(r)
        else:
            g["packets"] += r["packets"]
            g["octets"] += r["octets"]
    return list(groups.values())


def show(e):
    return " ".join(str(e.get(k, "-")) for k in KEY + ("packets", "octets", "reason", "fwd"))


def check(expected_path, records_path, ifindex, margin, add_up):
    expected = expected_lines(expected_path)
    with open(records_path) as fp:
        records = json.load(fp)
    for r in records:
        r["src"], r["dst"] = canon(r["src"]), canon(r["dst"])
    if add_up:
        records = summed(records)
    problems = []
    left = list(records)
    for e in expected:
        match = [r for r in left if all(r[k] == e[k] for k in KEY) and
                 (e["reason"] is None or r["reason"] is None or r["reason"] == e["reason"])]
        if len(match) != 1:
            problems.append(f"{len(match)} records for expected {show(e)}")
            for r in match:
                left.remove(r)
            continue
        r = match[0]
        left.remove(r)
        what = show(e)
        for k in ("packets", "octets", "fwd"):
            if e[k] is not None and r[k] is not None and r[k] != e[k]:
                problems.append(f"{what}: {k} {r[k]}, want {e[k]}")
        if ifindex is not None and r["in_if"] is not None:
            want = (ifindex, 0) if e["direction"] == "ingress" else (0, ifindex)
            if (r["in_if"], r["out_if"]) != want:
                problems.append(f"{what}: ingress/egressInterface {r['in_if']}/{r['out_if']}, "
                                f"want {want[0]}/{want[1]}")
        if r["start_ms"] is not None and e["t0"] is not None:
            lo, hi = e["t0"] - margin, e["t1"] + margin
            if not lo <= r["start_ms"] <= r["end_ms"] <= hi:
                problems.append(f"{what}: flow start {r['start_ms']} end {r['end_ms']} not "
                                f"within [{lo}, {hi}] ms")
    for r in left:
        problems.append(f"unexpected record {show(r)}")
    for p in problems:
        print(p)
    return 1 if problems else 0


def timing(records_path, reason, lo, hi, since, expected_path):
    with open(records_path) as fp:
        records = json.load(fp)
    reasons = {}
    for e in expected_lines(expected_path) if expected_path else []:
        reasons.setdefault(tuple(e[k] for k in KEY), []).append(e["reason"])
    checked, late = 0, []
    for r in records:
        known = reasons.get(tuple(canon(r[k]) if k in ("src", "dst") else r[k] for k in KEY), [])
        if r["reason"] is None and len(known) == 1:
            r["reason"] = known[0]
        if r["reason"] != reason:
            continue
        ref = since if since is not None else r["end_ms"]
        if ref is None:
            continue
        if r["arrival_ms"] is not None:
            first = last = r["arrival_ms"]
        elif r["export_s"] is not None:
            first, last = r["export_s"] * 1000, r["export_s"] * 1000 + 999
        else:
            continue
        checked += 1
        if last < ref + lo or first > ref + hi:
            late.append(f"{show(r)}: arrived {first - ref}..{last - ref} ms after "
                        f"{'the reference' if since is not None else 'its flow end'}, "
                        f"want {lo}..{hi}")
    print(f"checked {checked}")
    for text in late:
        print(text)
    return 1 if late else 0


def sessions(msgs):
    """The messages of each transport session (the sender's address and port, where known), in
    order."""
    out = {}
    for m in msgs:
        out.setdefault(m.get("src"), []).append(m)
    return out


def audit_session(msgs, joined, name):
    """Sequence numbers count per Observation Domain (RFC 7011 §3.1); the §4.1 statistics count
    what the exporting process sent this collector since it started, whatever the domain."""
    problems = []
    records = {}
    flows = octets = sent = 0
    if joined and msgs:
        first = [o for o in msgs[0]["options"] if "exportedFlowRecordTotalCount" in o]
        if first:
            sent, flows, octets = (first[0]["exportedMessageTotalCount"],
                                   first[0]["exportedFlowRecordTotalCount"],
                                   first[0]["exportedOctetTotalCount"])
    for i, m in enumerate(msgs):
        if joined and m["odid"] not in records:
            records[m["odid"]] = m["seq"]	# where this collector came in
        before = records.get(m["odid"], 0)
        if m["seq"] != before:
            problems.append(f"{name}message {i}: sequence number {m['seq']}, {before} data "
                            f"records of domain {m['odid']} before it")
        for o in m["options"]:
            if "exportedFlowRecordTotalCount" not in o:
                continue
            got = (o["exportedMessageTotalCount"], o["exportedFlowRecordTotalCount"],
                   o["exportedOctetTotalCount"])
            if got != (sent + i, flows, octets):
                problems.append(f"{name}message {i}: metering statistics (messages, flow "
                                f"records, octets) {got}, before it {(sent + i, flows, octets)}")
        records[m["odid"]] = before + m["flow_records"] + m["options_records"]
        flows += m["flow_records"]
        octets += m["length"]
    return problems


def audit(messages_path, joined):
    with open(messages_path) as fp:
        msgs = json.load(fp)
    groups = sessions(msgs)
    problems = []
    for src, group in groups.items():
        name = f"session {src}: " if len(groups) > 1 else ""
        problems += audit_session(group, joined, name)
    for p in problems:
        print(p)
    return 1 if problems else 0


def series(records_path, direction, proto, dport):
    with open(records_path) as fp:
        f = [r for r in json.load(fp) if r["direction"] == direction and r["proto"] == proto
             and r["dport"] == dport]
    if not f:
        print("none")
        return 1
    g = [r for r in f if r["reason"] == 2]
    gaps = [y["arrival_ms"] - x["arrival_ms"] for x, y in zip(g, g[1:])]
    # Each record ends later than the one before; an end record with zero counts (nothing new
    # since the last interim one) repeats its end.
    increasing = all(x["end_ms"] < y["end_ms"] if y["packets"] else x["end_ms"] == y["end_ms"]
                     for x, y in zip(f, f[1:]))
    print(sum(r["packets"] for r in f), sum(r["octets"] for r in f), len(f), len(g),
          f[-1]["reason"], len({r["start_ms"] for r in f}), "true" if increasing else "false",
          min(gaps or [0]), min(r["start_ms"] for r in f))
    return 0


def main(argv):
    if len(argv) < 3 or (argv[1] != "audit" and len(argv) < 4):
        print(__doc__, file=sys.stderr)
        return 2
    if argv[1] == "audit":
        return audit(argv[2], "--joined" in argv[3:])
    cmd, kind, path = argv[1], argv[2], argv[3]
    if cmd == "series":
        return series(kind, path, int(argv[4]), int(argv[5]))
    if cmd == "timing":
        opts = argv[6:]
        since = int(opts[opts.index("--since") + 1]) if "--since" in opts else None
        exp = opts[opts.index("--expected") + 1] if "--expected" in opts else None
        return timing(kind, int(path), int(argv[4]), int(argv[5]), since, exp)
    if cmd == "check":
        opts = argv[4:]
        ifindex = int(opts[opts.index("--ifindex") + 1]) if "--ifindex" in opts else None
        margin = int(opts[opts.index("--margin-ms") + 1]) if "--margin-ms" in opts else 250
        return check(kind, path, ifindex, margin, "--sum" in opts)
    readers = {
        ("records", "tshark"): tshark_records, ("records", "ipfixdump"): ipfixdump_records,
        ("records", "nfdump"): nfdump_records, ("records", "nfacctd"): nfacctd_records,
        ("messages", "tshark"): tshark_messages, ("messages", "ipfixdump"): ipfixdump_messages,
    }
    if (cmd, kind) not in readers:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(readers[(cmd, kind)](path)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
