#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Helpers of the Prometheus metrics tests (tests/e2e/metrics.sh).

  metrics_tool.py compare STATUS_JSON QUERY_JSON IFACE VERSION
  metrics_tool.py alerts ALERTS_JSON
  metrics_tool.py hold ADDR PORT SRC COUNT
  metrics_tool.py probe ADDR PORT SRC TIMEOUT
  metrics_tool.py frames IFACE SRCMAC DSTMAC KIND COUNT

compare: STATUS_JSON is `flowmeta status --json`, QUERY_JSON Prometheus's answer to the instant
query {__name__=~"flowmeta_.+"}. Every number and boolean of the status (those of each table
and each collector with its label) must be exactly one series with the value the status shows, and every flowmeta series must be one of the status's
values (or the build, interface and tc_attach info). The mapping below is the test's own
statement of what each status field is called in Prometheus, independent of user/metrics.c: a status field added
without its metric, or a metric reading the wrong field, fails here. Prints "series=N" or the
differences, one a line (exit 1).

alerts: ALERTS_JSON is /api/v1/alerts; prints "NAME STATE key=value..." per alert, sorted.

hold: COUNT TCP connections from SRC to ADDR:PORT that send nothing; prints "held COUNT", then,
once the server has closed every one of them, "closed MIN MAX" (seconds after connecting).

probe: one connection from SRC sending GET /metrics; prints "status CODE SECONDS" for an answer,
"closed SECONDS" when the server closes it unanswered, "timeout" when nothing came in TIMEOUT.

frames: COUNT Ethernet frames written to IFACE (a packet socket): KIND nonip (EtherType 0x88b5,
local experimental) or malformed (IPv4 with a header length of 12 bytes, below the minimum 20).
"""
import json
import socket
import struct
import sys
import time

# Status key -> (metric, labels); "ms": milliseconds in the status, seconds in Prometheus.
TOP = {
    "running": ("flowmeta_running", {}),
    "flows": ("flowmeta_live_flows", {}),
    "packets": ("flowmeta_live_packets", {}),
    "octets": ("flowmeta_live_bytes", {}),
    "possible_cpus": ("flowmeta_possible_cpus", {}),
    "not_ip": ("flowmeta_not_metered_packets_total", {"reason": "not_ip"}),
    "malformed": ("flowmeta_not_metered_packets_total", {"reason": "malformed"}),
    "table_full_packets": ("flowmeta_not_metered_packets_total", {"reason": "table_full"}),
    "table_full_octets": ("flowmeta_not_metered_bytes_total", {"reason": "table_full"}),
    "truncated_l4": ("flowmeta_truncated_l4_packets_total", {}),
    "fragments": ("flowmeta_fragments_total", {}),
    "events_lost": ("flowmeta_events_lost_total", {}),
    "policy_dropped": ("flowmeta_policy_dropped_packets_total", {}),
    "drop_flows": ("flowmeta_live_drop_flows", {}),
    "drop_packets": ("flowmeta_live_drop_packets", {}),
    "drop_octets": ("flowmeta_live_drop_bytes", {}),
    "unparseable": ("flowmeta_not_metered_packets_total", {"reason": "unparseable"}),
    "fail_closed": ("flowmeta_fail_closed_packets_total", {}),
}
DROP_TABLE_FULL = {	# of "drop_table_full"[VERDICT][DIRECTION], labelled verdict, direction
    "packets": ("flowmeta_drop_table_full_packets_total", {}),
    "octets": ("flowmeta_drop_table_full_bytes_total", {}),
}
EXPORTER = {
    "updated_ms": ("flowmeta_status_updated_timestamp_seconds", {}, "ms"),
    "polls": ("flowmeta_polls_total", {}),
    "flow_records": ("flowmeta_flow_records_total", {}),
    "flows_ended": ("flowmeta_flows_ended_total", {}),
    "hints": ("flowmeta_events_received_total", {}),
    "map_errors": ("flowmeta_map_errors_total", {}),
    "encode_errors": ("flowmeta_encode_errors_total", {}),
    "evictions": ("flowmeta_evictions_total", {}),
    "ends_grown": ("flowmeta_ends_grown_total", {}),
    "recovered_transactions": ("flowmeta_recovered_transactions_total", {}),
    "exporting": ("flowmeta_exporting", {}),
}
TABLE = {	# of each entry of "tables", labelled table=NAME
    "capacity": ("flowmeta_table_capacity", {}),
    "memory": ("flowmeta_table_memory_bytes", {}),
}
COLLECTOR = {
    "down": ("flowmeta_collector_down", {}),
    "messages": ("flowmeta_collector_messages_total", {}),
    "records": ("flowmeta_collector_records_total", {}),
    "flow_records": ("flowmeta_collector_flow_records_total", {}),
    "octets": ("flowmeta_collector_sent_bytes_total", {}),
    "send_errors": ("flowmeta_collector_send_errors_total", {}),
    "refused": ("flowmeta_collector_refused_total", {}),
    "refused_unquoted": ("flowmeta_collector_refused_unquoted_total", {}),
    "not_sent_flows": ("flowmeta_collector_not_sent_flow_records_total", {}),
    "not_sent_packets": ("flowmeta_collector_not_sent_packets_total", {}),
    "not_sent_octets": ("flowmeta_collector_not_sent_bytes_total", {}),
}
# Status values that are no measurement: the interface is a label of flowmeta_interface_info,
# tc_attach the mode label of flowmeta_tc_attach_info, the pid an identity (Prometheus's own
# process metrics are the exporter's business).
NOT_SERIES = {"interface", "pid", "tc_attach"}
PROM_OWN = {"job", "instance"}


def series_key(name, labels):
    return (name, tuple(sorted(labels.items())))


def compare(status_file, query_file, ifname, version):
    status = json.load(open(status_file))
    answer = json.load(open(query_file))
    if answer.get("status") != "success":
        print("query failed: %s" % answer)
        return 1
    series = {}
    for r in answer["data"]["result"]:
        labels = {k: v for k, v in r["metric"].items() if k not in PROM_OWN and k != "__name__"}
        series[series_key(r["metric"]["__name__"], labels)] = r["value"][1]
    claimed, errors = set(), []

    def expect(where, entry, value, extra=None):
        name, labels = entry[0], dict(entry[1], **(extra or {}))
        key = series_key(name, labels)
        if key not in series:
            errors.append("%s: no series %s%s" % (where, name, labels or ""))
            return
        claimed.add(key)
        got = float(series[key])
        if len(entry) > 2 and entry[2] == "ms":
            ok = round(got * 1000) == value
        else:
            ok = got == float(value)
        if not ok:
            errors.append("%s = %s but %s%s = %s" % (where, value, name, labels or "",
                                                      series[key]))

    def walk(where, obj, table, extra=None, skip=()):
        for k, v in obj.items():
            if k in skip:
                continue
            if not isinstance(v, (bool, int, float)):
                errors.append("%s.%s: not a number (%r): compare does not know it" % (where, k, v))
            elif k not in table:
                errors.append("status field %s.%s has no metric (user/metrics.c, and this "
                              "test's mapping)" % (where, k))
            else:
                expect("%s.%s" % (where, k), table[k], int(v), extra)

    walk("status", status, TOP,
         skip=NOT_SERIES | {"exporter", "tables", "collectors", "drop_table_full"})
    for verdict, dirs in status["drop_table_full"].items():
        for direction, t in dirs.items():
            walk("status.drop_table_full.%s.%s" % (verdict, direction), t, DROP_TABLE_FULL,
                 {"verdict": verdict, "direction": direction})
    for name, t in status["tables"].items():
        walk("status.tables.%s" % name, t, TABLE, {"table": name})
    walk("status.exporter", status["exporter"], EXPORTER, skip=NOT_SERIES)
    for c in status["collectors"]:
        walk("status.collectors[%s]" % c["collector"], c, COLLECTOR, {"collector": c["collector"]},
             skip={"collector"})
    expect("build", ("flowmeta_build_info", {"version": version}), 1)
    expect("interface", ("flowmeta_interface_info", {"interface": ifname}), 1)
    expect("tc_attach", ("flowmeta_tc_attach_info", {"mode": status.get("tc_attach")}), 1)
    if status.get("interface") != ifname:
        errors.append("status.interface is %s, want %s" % (status.get("interface"), ifname))
    for key in sorted(set(series) - claimed):
        errors.append("series %s%s is no status value" % (key[0], dict(key[1])))
    for e in errors:
        print(e)
    if errors:
        return 1
    print("series=%d" % len(series))
    return 0


def alerts(alerts_file):
    answer = json.load(open(alerts_file))
    for a in sorted(answer["data"]["alerts"], key=lambda a: sorted(a["labels"].items())):
        labels = " ".join("%s=%s" % (k, v) for k, v in sorted(a["labels"].items())
                          if k not in ("alertname", "job", "instance", "severity"))
        print(("%s %s %s" % (a["labels"]["alertname"], a["state"], labels)).rstrip())
    return 0


def connect(addr, port, src, timeout):
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(timeout)
    s.connect((addr, port))
    return s


def hold(addr, port, src, count):
    held = [(connect(addr, port, src, 60), time.monotonic()) for _ in range(count)]
    print("held %d" % count, flush=True)
    waited = []
    for s, t in held:
        try:
            data = s.recv(1)
        except socket.timeout:
            print("still open after 60 s")
            return 1
        if data:
            print("got data on a connection that sent nothing")
            return 1
        waited.append(time.monotonic() - t)
    print("closed %.1f %.1f" % (min(waited), max(waited)), flush=True)
    return 0


def probe(addr, port, src, timeout):
    t = time.monotonic()
    s = connect(addr, port, src, timeout)
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: flowmeta\r\nConnection: close\r\n\r\n")
    try:
        data = s.recv(64)
    except socket.timeout:
        print("timeout")
        return 0
    except ConnectionResetError:
        data = b""
    if not data:
        print("closed %.1f" % (time.monotonic() - t))
    else:
        print("status %s %.1f" % (data.split()[1].decode(), time.monotonic() - t))
    return 0


def frames(ifname, smac, dmac, kind, count):
    mac = lambda m: bytes(int(x, 16) for x in m.split(":"))
    if kind == "nonip":
        frame = mac(dmac) + mac(smac) + struct.pack("!H", 0x88B5) + bytes(46)
    elif kind == "malformed":
        ip = bytes([0x43, 0]) + struct.pack("!H", 40) + bytes(36)
        frame = mac(dmac) + mac(smac) + struct.pack("!H", 0x0800) + ip
    else:
        print("unknown kind %s" % kind)
        return 2
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifname, 0))
    for _ in range(count):
        s.send(frame)
    print("frames=%d" % count)
    return 0


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "compare":
        return compare(*args)
    if cmd == "alerts":
        return alerts(*args)
    if cmd == "hold":
        return hold(args[0], int(args[1]), args[2], int(args[3]))
    if cmd == "probe":
        return probe(args[0], int(args[1]), args[2], float(args[3]))
    if cmd == "frames":
        return frames(args[0], args[1], args[2], args[3], int(args[4]))
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
