#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Per-node views of what collectors received from a fleet of exporters (tests/e2e/fleet.sh).

  ipfix_fleet.py totals RECORDS MESSAGES      # "ODID RECORDS PACKETS OCTETS" per domain
  ipfix_fleet.py exporters MESSAGES           # "ODID SESSIONS EXPORTER_ADDRESSES" per domain
  ipfix_fleet.py nfdump-failures MESSAGES     # "ADDRESS ODID FAILURES" per nfcapd exporter
  ipfix_fleet.py nfdump-totals EXPORTERS FLOWS  # "ODID FLOWS PACKETS OCTETS" per domain

RECORDS and MESSAGES are the `records` and `messages` arrays of tests/tools/ipfix_detail.py from
one tshark collector (given -J "frame ip ipv6 udp cflow": messages carry their sender). Lines are
sorted by domain.

exporters: SESSIONS is the number of transport sessions (sender address and port) that carried
the domain; EXPORTER_ADDRESSES the exporterIPv4/IPv6Address values of its options records,
comma-separated.

nfdump-failures predicts, from the messages tshark received, the "Sequence failures" nfcapd 1.7.1
reports per exporter (it keys exporters by source address and domain, not port): it expects each
message's sequence number to be the last one plus the flow records since, without counting
options data records, and counts a mismatch once it has seen a flow record (before that it only
resynchronises). Equal counts say nfcapd saw exactly the stream tshark saw, and that every other
mismatch is its own miscount of options records.

nfdump-totals: EXPORTERS is `nfdump -E FILE` output (SysID -> domain), FLOWS `nfdump -o json`.
"""
import json
import re
import sys


def load(path):
    with open(path) as fp:
        text = fp.read()
    return json.loads(text) if text.strip() else []


def totals(records_path, messages_path):
    msgs = load(messages_path)
    out = {}
    for r in load(records_path):
        t = out.setdefault(msgs[r["msg"]]["odid"], [0, 0, 0])
        t[0] += 1
        t[1] += r["packets"]
        t[2] += r["octets"]
    for odid in sorted(out):
        print(odid, *out[odid])


def exporters(messages_path):
    sessions, addrs = {}, {}
    for m in load(messages_path):
        sessions.setdefault(m["odid"], set()).add(m["src"])
        for o in m["options"]:
            for k in ("exporterIPv4Address", "exporterIPv6Address"):
                if k in o:
                    addrs.setdefault(m["odid"], set()).add(o[k])
    for odid in sorted(sessions):
        print(odid, len(sessions[odid]), ",".join(sorted(addrs.get(odid, ()))) or "-")


def nfdump_failures(messages_path):
    state = {}	# (address, odid) -> [expected sequence, flow records seen, failures]
    for m in load(messages_path):
        address = m["src"].rsplit(":", 1)[0]
        s = state.setdefault((address, m["odid"]), [m["seq"], 0, 0])
        if m["seq"] != s[0]:
            s[2] += s[1] != 0
            s[0] = m["seq"]
        s[0] = (s[0] + m["flow_records"]) & 0xFFFFFFFF
        s[1] += m["flow_records"]
    for (address, odid) in sorted(state, key=lambda k: (k[1], k[0])):
        print(address, odid, state[(address, odid)][2])


def nfdump_totals(exporters_path, flows_path):
    ids = {}
    with open(exporters_path) as fp:
        for line in fp:
            m = re.search(r"SysID: (\d+), IP: *[^,]*, version: 10, ID: (\d+)", line)
            if m:
                ids[int(m.group(1))] = int(m.group(2))
    out = {}
    for r in load(flows_path):
        if r.get("type") != "FLOW":
            continue
        t = out.setdefault(ids.get(r["export_sysid"], -1), [0, 0, 0])
        t[0] += 1
        t[1] += r["in_packets"]
        t[2] += r["in_bytes"]
    for odid in sorted(out):
        print(odid, *out[odid])


def main(argv):
    cmds = {"totals": (totals, 2), "exporters": (exporters, 1),
            "nfdump-failures": (nfdump_failures, 1), "nfdump-totals": (nfdump_totals, 2)}
    if len(argv) < 2 or argv[1] not in cmds or len(argv) != 2 + cmds[argv[1]][1]:
        print(__doc__, file=sys.stderr)
        return 2
    cmds[argv[1]][0](*argv[2:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
