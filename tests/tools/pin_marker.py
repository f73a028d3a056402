#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""The value of a flowmeta pin-directory marker (struct pin_owner, include/flowmeta.h), as the
space-separated hex octets `bpftool map update ... value hex` takes, for tests that craft the
marker of another flowmeta version.

  pin_marker.py LAYOUT CREATED_DIRS [NAME=ID[:KIND[:PIN_LAYOUT]]]...

KIND is 1 (map, the default) or 2 (program); PIN_LAYOUT defaults to LAYOUT.
"""
import struct
import sys

MAGIC = 0x6174656D776F6C66  # "flowmeta" in memory order
NAME_LEN = 24
MAX_PINS = 48


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    layout, created = int(argv[1]), int(argv[2])
    value = struct.pack("<QII", MAGIC, layout, created)
    records = argv[3:]
    if len(records) > MAX_PINS:
        sys.exit("pin_marker.py: too many records")
    for rec in records:
        name, _, rest = rec.partition("=")
        fields = rest.split(":")
        pin_id = int(fields[0])
        kind = int(fields[1]) if len(fields) > 1 else 1
        pin_layout = int(fields[2]) if len(fields) > 2 else layout
        raw = name.encode()
        if len(raw) >= NAME_LEN:
            sys.exit("pin_marker.py: name too long: " + name)
        value += raw.ljust(NAME_LEN, b"\0") + struct.pack("<IIHHI", pin_id, 0, kind, pin_layout, 0)
    value += b"\0" * (40 * (MAX_PINS - len(records)))
    print(" ".join("%02x" % b for b in value))


if __name__ == "__main__":
    main(sys.argv)
