#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# `make demo`: flowmeta end to end in a few seconds. Two network namespaces joined by a tun
# overlay (socat over a veth underlay, from tests/lib.sh), flowmeta metering node A's tun, a real
# IPFIX collector (ipfixDump, libfixbuf) listening in node A, a little traffic of known size, then
# SIGTERM. Prints what was sent, the flow table while the flows were live, the records the
# collector decoded, and a verdict: decoded totals equal sent totals (exit 0) or not (exit 1).
# Needs root; removes everything it created, also when it fails or is interrupted.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root (network namespaces, BPF): run make demo as root" >&2
	exit 1
fi
if [ ! -x "$top/build/flowmeta" ]; then
	echo "demo: $top/build/flowmeta is not built: run make" >&2
	exit 1
fi
for cmd in socat ipfixDump ping; do
	command -v "$cmd" >/dev/null || { echo "demo: $cmd is missing: run make deps" >&2; exit 1; }
done

source "$top/tests/lib.sh"

# What lib.sh's runner sets up for a test: this script is the one test.
FM_NS_PREFIX=fmG
FM_TEST_NAME=demo
FM_ID=$$
FM_LOG_DIR=$FM_RUN_DIR/demo
FM_REASON_FILE=$FM_RUN_DIR/reason
mkdir -p "$FM_LOG_DIR"
: >"$FM_REASON_FILE"
LOG=$FM_LOG_DIR/demo.log	# what the helpers say on the way: kept only when the demo fails
PORT=4739			# IANA's IPFIX port, free inside the demo's own namespace
POLL_MS=1000
IDLE_MS=2000
# The flows sent, one a line: LABEL DIR PROTO SRC DST SPORT DPORT PACKETS OCTETS
SENT=$FM_LOG_DIR/sent
: >"$SENT"

if [ -t 1 ]; then
	B=$'\e[1m' D=$'\e[2m' G=$'\e[32m' R=$'\e[31m' N=$'\e[0m'
else
	B='' D='' G='' R='' N=''
fi
export B D G R N

demo_exit() {
	local rc=$?
	trap - EXIT INT TERM
	# lib.sh's cleanup of a test: flowmeta stopped and detached, the processes it started
	# killed by pid, namespaces and pins removed. It ends with exit, hence the subshell.
	(fm_test_cleanup) >>"$LOG" 2>&1 || true
	if [ "$rc" -ne 0 ]; then
		echo "${R}demo failed${N}: $(head -n 1 "$FM_REASON_FILE")" >&2
		echo "logs kept in $FM_RUN_DIR" >&2
	else
		rm -rf "$FM_RUN_DIR"
	fi
	exit "$rc"
}
set -E
trap 'fm_record_reason "line $LINENO: \`$BASH_COMMAND\` failed"' ERR
trap demo_exit EXIT
trap 'fm_record_reason "interrupted"; exit 130' INT TERM

section() {
	printf '\n%s%s%s\n' "$B" "$*" "$N"
}

progress() {
	printf '%s  %s%s\n' "$D" "$*" "$N"
}

# One flow that was sent, for the table and the verdict.
sent() {	# LABEL DIR PROTO SRC DST SPORT DPORT PACKETS OCTETS
	echo "$*" >>"$SENT"
}

# COUNT pings of SIZE bytes from A: the requests are A's egress flow, the replies its ingress flow.
demo_ping() {	# DST COUNT SIZE
	local src=$FM_A4 proto=1 req=2048 rep=0
	case $1 in *:*) src=$FM_A6 proto=58 req=32768 rep=33024 ;; esac
	send_ping "$FM_NS_A" "$1" "$2" "$3" 2>>"$LOG"
	sent "ping_${2}x${3}_bytes" egress $proto "$src" "$1" 0 $req "$SENT_PACKETS" "$SENT_OCTETS"
	sent "(replies)" ingress $proto "$1" "$src" 0 $rep "$SENT_PACKETS" "$SENT_OCTETS"
}

demo_udp() {	# DST DPORT SPORT COUNT PAYLOAD LABEL
	local src=$FM_A4
	case $1 in *:*) src=$FM_A6 ;; esac
	send_udp "$FM_NS_A" "$FM_NS_B" "$1" "$2" "$3" "$4" "$5" 2>>"$LOG"
	sent "$6" egress 17 "$src" "$1" "$3" "$2" "$SENT_PACKETS" "$SENT_OCTETS"
}

flows_left() {
	[ "$(fm_status "$FM_NS_A" "$FM_IF_A" flows 2>/dev/null)" = 0 ]
}

# ------------------------------------------------------------------------------------------------
# Run

printf '%sflowmeta demo%s: IPFIX from an overlay interface, decoded by a real collector\n' "$B" "$N"
require_bpffs 2>>"$LOG"
topo_overlay tun 2>>"$LOG"
coll_start ipfixdump "$FM_NS_A" $PORT 2>>"$LOG"
cat >"$FM_LOG_DIR/flowmeta.json" <<EOF
{"FlowMetadata": {"IpFixCollectors": ["Udp/127.0.0.1:$PORT"], "PollInterval": $POLL_MS,
                  "IdleTimeout": $IDLE_MS}}
EOF
fm_start "$FM_NS_A" "$FM_IF_A" -c "$FM_LOG_DIR/flowmeta.json" 2>>"$LOG"
fm_wait_metering 2>>"$LOG"
cat <<EOF

  node A ${D}netns $FM_NS_A${N}                       node B ${D}netns $FM_NS_B${N}
  $FM_IF_A  $FM_A4  $FM_A6  ${D}<- tun over UDP ->${N}  $FM_IF_B  $FM_B4  $FM_B6

  on node A:  flowmeta run -i $FM_IF_A -c flowmeta.json  ${D}(PollInterval $POLL_MS ms, IdleTimeout $IDLE_MS ms)${N}
              ipfixDump, the IPFIX collector, on udp 127.0.0.1:$PORT
EOF
echo
progress "sending traffic; a TCP connection stays open meanwhile"
meter_start "$FM_NS_A" "$FM_IF_A" 2>>"$LOG"
tcp_open "$FM_NS_A" "$FM_NS_B" "$FM_B4" 5201 40021 65536 2>>"$LOG"
demo_ping "$FM_B4" 4 56
demo_ping "$FM_B6" 3 100
demo_udp "$FM_B6" 5001 40001 10 200 "udp_10x200_bytes"
fm_cmd "$FM_NS_A" flows "$FM_IF_A" >"$FM_LOG_DIR/flows.txt" 2>>"$LOG"

progress "closing the TCP connection (FIN: flowEndReason 3), the rest goes idle (flowEndReason 1)"
tcp_close_all 2>>"$LOG"
wait_until 15 flows_left || fail "the flows did not end within 15 s"
wait_quiet "$FM_NS_A" "$FM_IF_A" 0.2 2>>"$LOG"
meter_stop "$FM_LOG_DIR/meter.json" 2>>"$LOG"
# TCP: how many segments carried the 64 KiB is the kernel's choice; an independent meter on the
# tun (a packet socket, tests/tools/pktcount.py) counted them.
meter_flow "$FM_LOG_DIR/meter.json" egress 6 "$FM_A4" "$FM_B4" 40021 5201
sent "tcp_65536_bytes" egress 6 "$FM_A4" "$FM_B4" 40021 5201 "$METER_PACKETS" "$METER_OCTETS"
meter_flow "$FM_LOG_DIR/meter.json" ingress 6 "$FM_B4" "$FM_A4" 5201 40021
sent "(acks)" ingress 6 "$FM_B4" "$FM_A4" 5201 40021 "$METER_PACKETS" "$METER_OCTETS"

progress "a last flow, still live when flowmeta gets SIGTERM (flowEndReason 4)"
demo_udp "$FM_B4" 5002 40002 3 500 "udp_3x500_bytes"
fm_stop "$FM_PID" 2>>"$LOG"
[ "$FM_EXIT" = 0 ] || fail "flowmeta exited $FM_EXIT on SIGTERM: $(tail -n 2 "$FM_LOG")"
coll_stop ipfixdump $PORT 2>>"$LOG"
coll_details ipfixdump $PORT >"$FM_LOG_DIR/records.json" 2>>"$LOG"

# ------------------------------------------------------------------------------------------------
# Report

cat >"$FM_LOG_DIR/report.py" <<'PY'
# The demo's tables and verdict (see scripts/demo.sh).
import json
import os
import sys
import time

B, D, G, R, N = (os.environ.get(k, "") for k in ("B", "D", "G", "R", "N"))
PROTO = {1: "ICMP", 58: "ICMPv6", 6: "TCP", 17: "UDP"}
ICMP = {(1, 8): "echo request", (1, 0): "echo reply", (58, 128): "echo request",
        (58, 129): "echo reply"}
REASON = {1: "idle timeout", 2: "active timeout", 3: "end of flow (FIN)",
          4: "forced end (SIGTERM)", 5: "lack of resources"}


def endpoint(addr, port, proto):
    if proto in (1, 58):
        return addr
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


def what(proto, dport):
    if proto in (1, 58):
        return ICMP.get((proto, dport >> 8), f"type {dport >> 8} code {dport & 255}")
    return ""


def clock(ms):
    return time.strftime("%H:%M:%S", time.localtime(ms / 1000)) + f".{ms % 1000:03d}"


def sent_flows(path):
    out = []
    with open(path) as fp:
        for text in fp:
            label, d, proto, src, dst, sport, dport, packets, octets = text.split()
            out.append(dict(label=label.replace("_", " "), direction=d, proto=int(proto),
                            src=src, dst=dst, sport=int(sport), dport=int(dport),
                            packets=int(packets), octets=int(octets)))
    return out


def key(f):
    import ipaddress
    return (f["direction"], f["proto"], ipaddress.ip_address(f["src"]).compressed,
            ipaddress.ip_address(f["dst"]).compressed, f["sport"], f["dport"])


def table(rows, header):
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    right = {i for i, h in enumerate(header) if h in ("packets", "octets")}

    def fmt(r):
        return "  " + "  ".join(str(v).rjust(w) if i in right else str(v).ljust(w)
                                for i, (v, w) in enumerate(zip(r, widths))).rstrip()
    print(D + fmt(header) + N)
    for r in rows:
        print(fmt(r))


def show_sent(path):
    rows = [(f["label"], f["direction"], PROTO.get(f["proto"], f["proto"]),
             endpoint(f["src"], f["sport"], f["proto"]), endpoint(f["dst"], f["dport"], f["proto"]),
             what(f["proto"], f["dport"]), f["packets"], f["octets"]) for f in sent_flows(path)]
    table(rows, ("traffic", "seen on A", "proto", "source", "destination", "", "packets",
                 "octets"))


def show_records(path):
    recs = sorted(json.load(open(path)), key=lambda r: (r["start_ms"], r["direction"] != "egress"))
    rows = [(r["direction"], PROTO.get(r["proto"], r["proto"]),
             endpoint(r["src"], r["sport"], r["proto"]), endpoint(r["dst"], r["dport"], r["proto"]),
             what(r["proto"], r["dport"]), r["packets"], r["octets"],
             REASON.get(r["reason"], r["reason"]), clock(r["start_ms"]), clock(r["end_ms"]))
            for r in recs]
    table(rows, ("direction", "proto", "source", "destination", "", "packets", "octets",
                 "flowEndReason", "flow start", "flow end"))


def verdict(sent_path, records_path):
    want, got = {}, {}
    for f in sent_flows(sent_path):
        w = want.setdefault(key(f), [0, 0])
        w[0] += f["packets"]
        w[1] += f["octets"]
    recs = json.load(open(records_path))
    for r in recs:
        g = got.setdefault(key(r), [0, 0])
        g[0] += r["packets"]
        g[1] += r["octets"]
    packets = sum(v[0] for v in want.values())
    octets = sum(v[1] for v in want.values())
    if want == got:
        print(f"{G}{B}PASS{N} {G}decoded totals equal sent totals: {len(want)} flows, "
              f"{packets} packets, {octets} octets, each flow exact ({len(recs)} records){N}")
        return 0
    print(f"{R}{B}FAIL{N} {R}decoded totals differ from sent totals:{N}")
    for k in sorted(set(want) | set(got), key=str):
        if want.get(k) != got.get(k):
            print(f"  {' '.join(map(str, k))}: sent {want.get(k)}, decoded {got.get(k)}")
    return 1


cmd = sys.argv[1]
if cmd == "sent":
    show_sent(sys.argv[2])
elif cmd == "records":
    show_records(sys.argv[2])
else:
    sys.exit(verdict(sys.argv[2], sys.argv[3]))
PY
report() {
	"$FM_PY" "$FM_LOG_DIR/report.py" "$@"
}

section "1. What was sent"
report sent "$SENT"
printf '%s  TCP: segments and ACKs as an independent packet meter on %s counted them' "$D" "$FM_IF_A"
printf ' (the kernel\n  decides how 65536 bytes are cut); octets are IP header + payload,'
printf ' as IPFIX counts them.%s\n' "$N"
section "2. flowmeta flows -i $FM_IF_A  ${D}(the live flow table, while the TCP connection was open)${N}"
sed 's/^/  /' "$FM_LOG_DIR/flows.txt"
section "3. What ipfixDump decoded  ${D}(IPFIX records from flowmeta, after SIGTERM)${N}"
report records "$FM_LOG_DIR/records.json"
echo
if ! report verdict "$SENT" "$FM_LOG_DIR/records.json"; then
	fm_record_reason "decoded totals differ from sent totals"
	exit 1
fi
