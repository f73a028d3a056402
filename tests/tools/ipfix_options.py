#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Check the options records a collector decoded, by value, and compute the Observation Domain IDs
flowmeta derives (an implementation of README's rule of its own, not flowmeta's code).

  ipfix_options.py expect MESSAGES EXPECTED [--which all|first|last]
  ipfix_options.py domain ADDRESS                 # the domain an interface address gives
  ipfix_options.py domain-machine IFNAME [MACHINE_ID_FILE]   # the fallback, without an address

MESSAGES is a `messages` array of tests/tools/ipfix_detail.py (tshark or ipfixDump). EXPECTED is a
JSON object:
  {"odid": N, "records": {"264": {"observationDomainId": N, ...}, "267": {...}, ...}}
Every message must carry Observation Domain ID odid. Every message carrying options records
(--which: all of them, or only the first or the last one) must carry exactly one record of each
template listed in "records" and none of any other, with exactly the listed values (a value null:
present, any value; a list: the values of an IE the record holds twice, in order). Prints each
difference; exit 1 if any.

Domain: an IPv4 address as a 32-bit number; an IPv6 address: 32-bit FNV-1a of its 16 octets; no
address: FNV-1a of the machine id (the text of /etc/machine-id without its newline) then the
interface name. 0 becomes 1.
"""
import ipaddress
import json
import sys

FNV_BASIS, FNV_PRIME = 2166136261, 16777619


def fnv1a(data, h=FNV_BASIS):
    for b in data:
        h = ((h ^ b) * FNV_PRIME) & 0xFFFFFFFF
    return h


def domain(address):
    a = ipaddress.ip_address(address)
    v = int(a) if a.version == 4 else fnv1a(a.packed)
    return v or 1


def domain_machine(ifname, path="/etc/machine-id"):
    with open(path) as fp:
        machine = fp.readline().rstrip("\n")
    return fnv1a(ifname.encode(), fnv1a(machine.encode())) or 1


def expect(messages_path, expected_path, which):
    with open(messages_path) as fp:
        msgs = json.load(fp)
    with open(expected_path) as fp:
        want = json.load(fp)
    problems = []
    for i, m in enumerate(msgs):
        if m["odid"] != want["odid"]:
            problems.append(f"message {i}: Observation Domain ID {m['odid']}, want {want['odid']}")
    carrying = [(i, m) for i, m in enumerate(msgs) if m["options"]]
    if not carrying:
        problems.append("no message carries options records")
    elif which == "first":
        carrying = carrying[:1]
    elif which == "last":
        carrying = carrying[-1:]
    for i, m in carrying:
        by_template = {}
        for o in m["options"]:
            by_template.setdefault(str(o["template"]), []).append(o)
        for tid in sorted(set(by_template) | set(want["records"])):
            got = by_template.get(tid, [])
            if tid not in want["records"]:
                problems.append(f"message {i}: {len(got)} unexpected records of template {tid}")
                continue
            if len(got) != 1:
                problems.append(f"message {i}: {len(got)} records of template {tid}, want 1")
                continue
            for name, value in want["records"][tid].items():
                if name not in got[0]:
                    problems.append(f"message {i}: template {tid} has no {name}")
                elif value is not None and got[0][name] != value:
                    problems.append(f"message {i}: template {tid} {name} {got[0][name]!r}, "
                                    f"want {value!r}")
    for p in problems:
        print(p)
    return 1 if problems else 0


def main(argv):
    if len(argv) >= 4 and argv[1] == "expect":
        which = argv[argv.index("--which") + 1] if "--which" in argv else "all"
        return expect(argv[2], argv[3], which)
    if len(argv) == 3 and argv[1] == "domain":
        print(domain(argv[2]))
        return 0
    if len(argv) in (3, 4) and argv[1] == "domain-machine":
        print(domain_machine(*argv[2:]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
