#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Exporter cost per packet, whole path, against softflowd and pmacctd (SPEC §9): what metering one
# packet costs the host, the kernel's share and the process's share, every tool charged alike.
#
# Method (SPEC §9's saturation method). One sending namespace, one receiving namespace, and a veth
# pair per target: "base" and "null" metered by nothing, "tc_empty" with an empty TC program on
# clsact ingress (what the hook itself costs, bench_empty of build/bench.bpf.o: flowmeta's way on
# kernels before 6.6), "tcx_empty" with the same on tcx ingress (build/bench/tcx_attach: flowmeta's
# way where the kernel has tcx), one each for flowmeta (attached by its daemon, as an operator
# runs it: the run prints how, from `flowmeta status`), softflowd and pmacctd, every tool metering
# only its own veth and exporting to a UDP sink on loopback. The sender (build/bench/udp_flood) is pinned to CPU 0 and sends 64-octet UDP
# payloads in 16 flows as fast as that CPU allows, through packet sockets (no sending IP stack:
# less cost, less noise).
# A veth delivers in softirq on the sending CPU, so CPU 0 does all of a packet's kernel work:
# sending, the receive path, flowmeta's TC hook and programs, the copy into softflowd's and
# pmacctd's AF_PACKET rings and the wake-ups of their readers. The frames are addressed to another
# MAC, so ip_rcv drops them right after the hook and the taps. The tools run pinned to CPU 1.
#
#   kernel share   CPU 0's time per packet on the tool's veth less that on the baseline veth, in
#                  adjacent rounds (the sender's thread time plus ksoftirqd/0's, per packet: the
#                  inverse of the saturated rate, without the time other work took from CPU 0;
#                  the wall-clock rate is shown too). Rounds are short (10 ms) and many: on this
#                  VM a round's cost wanders by ~100 ns whatever its length, so many short paired
#                  rounds give a far tighter mean than a few long ones.
#   process share  the CPU time of the tool's processes (all threads, pmacctd's plugins included)
#                  over the run, per packet it received.
#
# Every cycle pairs each target with a baseline round, in a shuffled order (udp_flood says how).
# The figures are means over the pairs with 95 % bootstrap intervals over the cycles; "null" is the
# method's own floor (two unmetered veths: it must come out near 0). Checked exactly, at the end:
# every frame sent reached its veth; flowmeta's flow table holds every frame of its veth in 16
# flows; softflowd processed and pmacctd's capture received every frame of theirs. A tool that
# missed packets is reported as such (it is not cheaper for it), never silently.
#
# softflowd 1.1.0 opens its capture with a timeout of 0 (pcap_set_timeout(p, 0)), which libpcap
# 1.10 on a TPACKET_V3 ring turns into a block retire timeout of UINT_MAX ms: a part-filled block
# never reaches softflowd. A preloaded shim makes that timeout 1000 ms, what pmacctd uses; the
# per-packet work is unchanged, only the last part-filled block is delivered too.
#
# The sender and each tool run in a session of their own with autogroup nice -20, so that other
# work on this shared machine takes as little of their CPUs as it can; CPU 0 is busy for the whole
# run (about 90 s by default).
#
# Environment: FM_CMP_CYCLES (cycles, default 600), FM_CMP_ROUND_MS (10), FM_CMP_SEED (1),
# FM_CMP_TOOLS (which peers, default "softflowd pmacctd"), FM_CMP_TC_ATTACH (flowmeta's
# --tc-attach, default its own choice: clsact measures the way before tcx). A longer run:
# FM_CMP_CYCLES=3000. Needs root and two CPUs. Usage: bench/compare.sh
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
cycles=${FM_CMP_CYCLES:-600}
round_ms=${FM_CMP_ROUND_MS:-10}
seed=${FM_CMP_SEED:-1}
peers=${FM_CMP_TOOLS:-softflowd pmacctd}
flows=16
payload=64

ns_tx=fmXcmpA ns_rx=fmXcmpB
port_collector=4745
pin_dir=/sys/fs/bpf/fmXcmp
empty_pin=/sys/fs/bpf/fmXcmp_empty
tcx_pin=/sys/fs/bpf/fmXcmp_tcx
send_cpu=0 tool_cpu=1

tmp=
fm_attach=
own_ns=	# set once this run made the namespaces: only then does cleanup remove them
pids=()
names=()	# targets, in udp_flood's order; base first
declare -A ifc pid_list

in_rx() { nsenter --net="/run/netns/$ns_rx" "$@"; }

cleanup() {
	local p
	for p in "${pids[@]}"; do
		stop_pid "$p"
	done
	if [ -n "$own_ns" ]; then
		if [ -n "${ifc[flowmeta]:-}" ]; then
			in_rx "$build/flowmeta" detach -i "${ifc[flowmeta]}" --pin-dir "$pin_dir" \
				>/dev/null 2>&1 || true
		fi
		ip netns del "$ns_tx" 2>/dev/null || true
		ip netns del "$ns_rx" 2>/dev/null || true
		rm -f "$empty_pin" "$tcx_pin"
	fi
	[ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Start CMD in the receiving namespace, pinned to the tool CPU, in a session of its own with
# autogroup nice -20, output into LOG; sets bg_pid (the tool's own pid: every step execs).
bg_tool() {	# LOG CMD [ARGS...]
	local log=$1
	shift
	: >"$log"	# there before the readiness checks read it
	setsid bash -c 'echo -20 >/proc/self/autogroup; exec "$@"' - \
		taskset -c "$tool_cpu" nsenter --net="/run/netns/$ns_rx" "$@" >"$log" 2>&1 &
	bg_pid=$!
	pids+=("$bg_pid")
}

# Pids of PID's descendants.
descendants() {	# PID
	local p
	for p in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		echo "$p"
		descendants "$p"
	done
}

# Stop one of our background processes and whatever it forked (pmacctd's plugins), by pid: all
# at once (pmacctd's core waits for its plugins otherwise), SIGKILL after 10 s.
stop_pid() {	# PID
	local i p kids
	kids=$(descendants "$1")
	# shellcheck disable=SC2086  # kids: a list of pids
	kill -TERM "$1" $kids 2>/dev/null || true
	for i in $(seq 100); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	for p in "$1" $kids; do
		if kill -0 "$p" 2>/dev/null; then
			kill -KILL "$p" 2>/dev/null || true
		fi
	done
	wait "$1" 2>/dev/null || true
}

# Poll CMD until it succeeds, for at most SECONDS; false when it never did.
wait_until() {	# SECONDS CMD [ARGS...]
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.1
	done
}

lines_above() {	# FILE REGEX COUNT
	[ "$(grep -c "$2" "$1" || true)" -gt "$3" ]
}

# A UDP socket on loopback that never reads: the collector of every tool.
sink_py='
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
print("ready", flush=True)
time.sleep(1e9)'

# A veth pair for target NAME (index K): fmXc<K>t in the sender's namespace, fmXc<K>r in the
# receiver's, the addresses only what the frames carry (the receiver has them too, as a metered
# overlay device would).
add_target() {	# NAME K
	local t=fmXc$2t r=fmXc$2r
	ip link add "$t" netns "$ns_tx" type veth peer name "$r" netns "$ns_rx"
	ip -n "$ns_rx" addr add "100.64.47.$((4 * $2 + 2))/30" dev "$r"
	ip -n "$ns_tx" link set "$t" up
	ip -n "$ns_rx" link set "$r" up
	names+=("$1")
	ifc[$1]=$r
	pid_list[$1]=
}

setup() {
	local n k=0 name
	if [ -e "/run/netns/$ns_tx" ] || [ -e "/run/netns/$ns_rx" ]; then
		echo "compare: namespace $ns_tx or $ns_rx exists: is another compare.sh running?" >&2
		return 1
	fi
	own_ns=1
	ip netns add "$ns_tx"
	ip netns add "$ns_rx"
	for n in "$ns_tx" "$ns_rx"; do
		ip -n "$n" link set lo up
		# No IPv6: no neighbour discovery or MLD among the counted frames.
		nsenter --net="/run/netns/$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1
	done
	for name in base null tc_empty tcx_empty flowmeta $peers; do
		add_target "$name" $((k += 1))
	done
	bg_tool "$tmp/collector.log" python3 -c "$sink_py" "$port_collector"
	wait_until 10 grep -q ready "$tmp/collector.log"
}

# Build the shim that gives softflowd's capture a finite timeout (see the header).
build_pcap_shim() {
	command -v cc >/dev/null || return 1
	cat >"$tmp/pcap_timeout.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>

struct pcap;

/* pcap timeout 0 ("wait until the buffer fills") becomes 1000 ms, as pmacctd asks for. */
int pcap_set_timeout(struct pcap *p, int ms)
{
	int (*real)(struct pcap *, int) =
		(int (*)(struct pcap *, int))dlsym(RTLD_NEXT, "pcap_set_timeout");

	return real ? real(p, ms > 0 ? ms : 1000) : -1;
}
EOF
	cc -shared -fPIC -O2 -o "$tmp/pcap_timeout.so" "$tmp/pcap_timeout.c" -ldl 2>"$tmp/cc.log"
}

# Each tool's start: true once it meters, with pid_list[NAME] set; false with why[NAME] set.
declare -A why

# The empty TC program (the first of build/bench.bpf.o) on tc_empty's clsact ingress.
start_tc_empty() {
	rm -f "$empty_pin"
	if bpftool prog load "$build/bench.bpf.o" "$empty_pin" type classifier >/dev/null 2>&1 &&
	   in_rx tc qdisc add dev "${ifc[tc_empty]}" clsact &&
	   in_rx tc filter add dev "${ifc[tc_empty]}" ingress prio 1 bpf direct-action \
		pinned "$empty_pin"; then
		return 0
	fi
	why[tc_empty]="could not attach an empty TC program"
	return 1
}

start_tcx_empty() {
	rm -f "$tcx_pin"
	in_rx "$build/bench/tcx_attach" "${ifc[tcx_empty]}" "$tcx_pin" 2>"$tmp/tcx.log" && return 0
	why[tcx_empty]=$(tail -n 1 "$tmp/tcx.log")
	return 1
}
start_flowmeta() {
	cat >"$tmp/flowmeta.json" <<EOF
{ "FlowMetadata": { "IpFixCollectors": [ "Udp/127.0.0.1:$port_collector" ],
                    "PollInterval": 1000, "IdleTimeout": 60000 } }
EOF
	bg_tool "$tmp/flowmeta.log" "$build/flowmeta" run -i "${ifc[flowmeta]}" \
		-c "$tmp/flowmeta.json" --pin-dir "$pin_dir" \
		${FM_CMP_TC_ATTACH:+--tc-attach "$FM_CMP_TC_ATTACH"}
	pid_list[flowmeta]=$bg_pid
	if wait_until 30 grep -q '^info: metering ' "$tmp/flowmeta.log"; then
		fm_attach=$(in_rx "$build/flowmeta" status -i "${ifc[flowmeta]}" --pin-dir "$pin_dir" \
			--json | python3 -c 'import json, sys; print(json.load(sys.stdin)["tc_attach"])')
		return 0
	fi
	why[flowmeta]="did not start: $(tail -n 2 "$tmp/flowmeta.log" | tr '\n' ' ')"
	return 1
}

softflowd_stat() {	# FIELD (a line of softflowctl statistics, up to its colon)
	softflowctl -c "$tmp/softflowd.ctl" statistics 2>/dev/null |
		awk -F': *' -v f="$1" '$1 == f { print $2 + 0; found = 1 } END { exit !found }'
}

start_softflowd() {
	local preload=
	if ! command -v softflowd >/dev/null || ! command -v softflowctl >/dev/null; then
		why[softflowd]="softflowd is not installed"
		return 1
	fi
	[ -f "$tmp/pcap_timeout.so" ] && preload=$tmp/pcap_timeout.so
	bg_tool "$tmp/softflowd.log" env ${preload:+LD_PRELOAD=$preload} softflowd -d \
		-i "${ifc[softflowd]}" -n "127.0.0.1:$port_collector" -v 10 -t udp=60 \
		-p "$tmp/softflowd.pid" -c "$tmp/softflowd.ctl"
	pid_list[softflowd]=$bg_pid
	wait_until 10 softflowd_stat 'Packets processed' >/dev/null && return 0
	why[softflowd]="did not start: $(tail -n 2 "$tmp/softflowd.log" | tr '\n' ' ')"
	return 1
}

# pmacctd writes its capture counters to its log on SIGUSR1: "RECEIVED DROPPED" of that line.
pmacctd_stat() {
	local before log=$tmp/pmacctd.log line
	before=$(grep -c 'received_packets=' "$log" || true)
	kill -USR1 "${pid_list[pmacctd]%%,*}"
	wait_until 5 lines_above "$log" 'received_packets=' "$before" || return 1
	line=$(grep 'received_packets=' "$log" | tail -n 1)
	[[ $line =~ received_packets=([0-9]+).*dropped_packets=([0-9]+) ]] || return 1
	echo "${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
}

start_pmacctd() {
	local kids
	if ! command -v pmacctd >/dev/null; then
		why[pmacctd]="pmacctd is not installed"
		return 1
	fi
	cat >"$tmp/pmacctd.conf" <<EOF
daemonize: false
pcap_interface: ${ifc[pmacctd]}
aggregate: src_host, dst_host, src_port, dst_port, proto
plugins: nfprobe
nfprobe_receiver: 127.0.0.1:$port_collector
nfprobe_version: 10
nfprobe_timeouts: udp=60
logfile: $tmp/pmacctd.log
pidfile: $tmp/pmacctd.pid
EOF
	: >"$tmp/pmacctd.log"
	bg_tool "$tmp/pmacctd.out" pmacctd -f "$tmp/pmacctd.conf"
	if ! wait_until 10 grep -q 'Exporting flows to' "$tmp/pmacctd.log"; then
		why[pmacctd]="did not start: $(tail -n 2 "$tmp/pmacctd.log" "$tmp/pmacctd.out" |
			tr '\n' ' ')"
		return 1
	fi
	# The core process and the plugin it forked: their CPU is pmacctd's.
	kids=$(descendants "$bg_pid" | tr '\n' ',')
	pid_list[pmacctd]=$bg_pid${kids:+,${kids%,}}
}

# What a tool saw, after the run: "SEEN DROPPED [FLOWS]", its own counts of its veth's frames.
seen_flowmeta() {
	local n
	n=$(in_rx "$build/flowmeta" flows -i "${ifc[flowmeta]}" --pin-dir "$pin_dir" --json |
		python3 -c '
import json, sys
flows = json.load(sys.stdin)
flows = flows.get("flows", flows) if isinstance(flows, dict) else flows
print(sum(f["packets"] for f in flows), len(flows))') || return 1
	echo "${n% *} 0 ${n#* }"
}

seen_softflowd() {
	local p d i
	p=$(softflowd_stat 'Packets processed') || return 1
	d=$(softflowd_stat 'Packets dropped by libpcap') || return 1
	i=$(softflowd_stat 'Packets dropped by interface') || return 1
	echo "$p $((d + i))"
}

seen_pmacctd() {
	pmacctd_stat
}

# Frames that reached NAME's veth on the receiving side.
rx_packets() {	# NAME
	ip -n "$ns_rx" -j -s link show "${ifc[$1]}" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["stats64"]["rx"]["packets"])'
}

# Wait until the tool has taken every frame of its veth (its ring drained), or 20 s.
seen_all() {	# NAME WANT
	local s
	s=$("seen_$1") || return 1
	[ "${s%% *}" -ge "$2" ]
}

main() {
	local r name args=() ksoftirqd sent seen pids_of
	if [ "$(id -u)" -ne 0 ]; then
		echo "compare: skipped, needs root (network namespaces, BPF)"
		return 0
	fi
	if [ "$(nproc)" -lt 2 ]; then
		echo "compare: skipped, needs two CPUs (the sender on one, the tools on the other)"
		return 0
	fi
	for r in ip nsenter taskset setsid tc bpftool python3; do
		command -v "$r" >/dev/null || { echo "compare: skipped, $r is missing"; return 0; }
	done
	if [ ! -x "$build/flowmeta" ] || [ ! -x "$build/bench/udp_flood" ] ||
	   [ ! -x "$build/bench/tcx_attach" ] ||
	   [ ! -f "$build/bench.bpf.o" ]; then
		echo "compare: build flowmeta and the benchmarks first (make)" >&2
		return 1
	fi
	tmp=$(mktemp -d /tmp/fmXcmp.XXXXXX)
	setup
	build_pcap_shim || echo "compare: no pcap timeout shim for softflowd (no C compiler)"
	for name in tc_empty tcx_empty flowmeta $peers; do
		"start_$name" || { pid_list[$name]=; echo "compare: $name ${why[$name]}"; }
	done

	ksoftirqd=$(pgrep -x "ksoftirqd/$send_cpu" || echo 0)
	# NAME=IFACE,SRC,DST[/PIDS] of each target (add_target's numbering: names[r] is pair r + 1).
	for r in "${!names[@]}"; do
		name=${names[r]}
		pids_of=${pid_list[$name]:+/${pid_list[$name]}}
		args+=("$name=fmXc$((r + 1))t,100.64.47.$((4 * r + 5)),100.64.47.$((4 * r + 6))$pids_of")
	done
	echo "Exporter cost per packet, whole path: $((20 + 8 + payload))-octet IP packets in $flows" \
	     "flows, saturating CPU $send_cpu; tools on CPU $tool_cpu; $cycles cycles of" \
	     "${round_ms} ms rounds"
	echo "flowmeta's TC programs attached through ${fm_attach:-?} (flowmeta status)"
	setsid -w bash -c 'echo -20 >/proc/self/autogroup; exec "$@"' - \
		nsenter --net="/run/netns/$ns_tx" "$build/bench/udp_flood" -c "$send_cpu" \
		-k "$ksoftirqd" -r "$round_ms" -n "$cycles" -s "$seed" -p "$payload" -f "$flows" \
		"${args[@]}" >"$tmp/rounds" 2>"$tmp/flood.err" || {
		echo "compare: the sender failed: $(tail -n 2 "$tmp/flood.err" | tr '\n' ' ')" >&2
		return 1
	}

	# What every veth received and what every tool saw of it, once the tools drained: one line a
	# target, NAME SENT RECEIVED "SEEN DROPPED FLOWS" WHY (tab-separated; empty when unknown).
	: >"$tmp/seen"
	for name in "${names[@]}"; do
		sent=$(awk -v n="$name" '$1 == "total" && $2 == n { sub("packets=", "", $3); print $3 }' \
			"$tmp/rounds")
		seen=
		if [ -n "${pid_list[$name]:-}" ]; then
			wait_until 20 seen_all "$name" "$sent" || true
			seen=$("seen_$name") || seen=
		fi
		printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$sent" "$(rx_packets "$name")" "$seen" \
			"${why[$name]:-}" >>"$tmp/seen"
	done
	python3 "$top/bench/compare_stats.py" "$tmp/rounds" "$tmp/seen" "$flows"
}

main "$@"
