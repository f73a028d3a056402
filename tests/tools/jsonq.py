#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Evaluate a Python expression over a JSON document, for shell tests (no jq dependency).

  jsonq.py FILE|- EXPR [ARG...]

The document is `d`, the extra arguments are the strings `a[0]`, `a[1]`, ...; `ip(x)` gives the
canonical text of an IP address. A list or tuple result prints one item per line, a tuple item
as space-separated fields; a dict prints as JSON; booleans print as true/false.
"""
import ipaddress
import json
import sys


def ip(text):
    return ipaddress.ip_address(text).compressed


def show(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return " ".join(show(v) for v in value)
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    text = sys.stdin.read() if argv[1] == "-" else open(argv[1]).read()
    d = json.loads(text)
    result = eval(argv[2], {"d": d, "a": argv[3:], "ip": ip, "int": int, "len": len, "sum": sum})
    if isinstance(result, list):
        for item in result:
            print(show(item))
    else:
        print(show(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
