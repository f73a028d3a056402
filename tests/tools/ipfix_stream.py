#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Message-level view of an IPFIX stream file: the datagrams a collector received, written one
after another (tests/lib.sh's ipfixdump collector writes them so). What the record decoders
(ipfix_norm.py) do not say: which message carried templates, in what order, how many records each
message held, and whether each sequence number is right.

  ipfix_stream.py messages FILE      # one line per message:
                                     #   INDEX SEQ ODID TEMPLATES DATA_RECORDS FLOW_RECORDS OCTETS
                                     # TEMPLATES: (options) template records in it; DATA_RECORDS:
                                     # data records of every kind (what the sequence counts);
                                     # FLOW_RECORDS: those of the flow templates 256-263
  ipfix_stream.py totals FILE        # "messages M records R flow_records F octets O seq_errors E"
                                     # (E: messages whose sequence number is not the number of
                                     # data records before them in the file)
  ipfix_stream.py slice FILE FROM TO OUT  # write messages FROM..TO-1 to OUT (TO "": to the end)

A trailing incomplete message (the file is being written) is ignored. A data set whose template
was not seen earlier in the file is an error: the collector could not decode it; so is a data set
that is not a whole number of records.
"""
import struct
import sys

FLOW_TEMPLATES = range(256, 264)


def messages(data):
    """Yield (offset, length, header fields, body) of every complete message."""
    off = 0
    while off + 16 <= len(data):
        version, length, export_time, seq, odid = struct.unpack_from("!HHIII", data, off)
        if version != 10 or length < 16:
            raise ValueError(f"offset {off}: not an IPFIX message (version {version}, "
                             f"length {length})")
        if off + length > len(data):
            return
        yield off, length, (export_time, seq, odid), data[off + 16:off + length]
        off += length


def template_fields(body, pos, end, count):
    """The field lengths of count fields starting at pos (0xFFFF: variable length); returns
    (lengths, next pos)."""
    lengths = []
    for _ in range(count):
        if pos + 4 > end:
            raise ValueError("template record runs past its set")
        ie, flen = struct.unpack_from("!HH", body, pos)
        pos += 8 if ie & 0x8000 else 4
        lengths.append(flen)
    return lengths, pos


def count_records(body, start, end, fields):
    """Data records of a set whose template has these field lengths (RFC 7011 §7: a variable-length
    field starts with its length, one octet, or 255 and two)."""
    n, p = 0, start
    while p < end:
        for flen in fields:
            if flen == 0xFFFF:
                flen, p = (body[p], p + 1) if body[p] < 255 else \
                    (struct.unpack_from("!H", body, p + 1)[0], p + 3)
            p += flen
        if p > end or not fields:
            raise ValueError("data set length is not a whole number of records")
        n += 1
    return n


def parse_message(body, lengths):
    """Count template records, data records and flow records in one message body; lengths
    (template id -> record length) learns the templates it defines."""
    templates = data_records = flow_records = 0
    pos = 0
    while pos + 4 <= len(body):
        set_id, set_len = struct.unpack_from("!HH", body, pos)
        if set_len < 4 or pos + set_len > len(body):
            raise ValueError(f"set {set_id}: bad length {set_len}")
        start, end = pos + 4, pos + set_len
        if set_id in (2, 3):
            p = start
            while p + 4 <= end:
                tid, count = struct.unpack_from("!HH", body, p)
                p += 6 if set_id == 3 else 4
                if set_id == 3 and p > end:
                    break
                lengths[tid], p = template_fields(body, p, end, count)
                templates += 1
        elif set_id >= 256:
            if set_id not in lengths:
                raise ValueError(f"data set {set_id} before its template")
            n = count_records(body, start, end, lengths[set_id])
            data_records += n
            if set_id in FLOW_TEMPLATES:
                flow_records += n
        pos = end
    return templates, data_records, flow_records


def summary(data):
    lengths = {}
    out = []
    for off, length, (export_time, seq, odid), body in messages(data):
        t, d, f = parse_message(body, lengths)
        out.append((off, length, seq, odid, t, d, f))
    return out


def main(argv):
    if len(argv) < 3 or argv[1] not in ("messages", "totals", "slice"):
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[2], "rb") as fp:
        data = fp.read()
    msgs = summary(data)
    if argv[1] == "messages":
        for i, (_, length, seq, odid, t, d, f) in enumerate(msgs):
            print(i, seq, odid, t, d, f, length)
    elif argv[1] == "totals":
        expected = errors = 0
        for _, _, seq, _, _, d, _ in msgs:
            errors += seq != expected
            expected = seq + d
        print("messages %d records %d flow_records %d octets %d seq_errors %d" % (
            len(msgs), sum(m[5] for m in msgs), sum(m[6] for m in msgs),
            sum(m[1] for m in msgs), errors))
    else:
        part = msgs[int(argv[3]):int(argv[4])] if argv[4] else msgs[int(argv[3]):]
        with open(argv[5], "wb") as fp:
            for off, length, *_ in part:
                fp.write(data[off:off + length])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
