#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Exporter CPU per packet against softflowd and pmacctd (SPEC §9, last row). The same fixed-rate
# UDP traffic (build/bench/udp_rate) crosses a veth from one network namespace to another and is
# metered on the receiving end, in turn, by:
#   flowmeta   the run time of its BPF programs (kernel.bpf_stats_enabled, `bpftool prog show`
#              run_time_ns) plus the CPU of the daemon process;
#   softflowd  the CPU of its process;
#   pmacctd    the CPU of its processes (core and nfprobe plugin), exporting IPFIX;
# each exporting to a UDP sink on the loopback. CPU of a process is the sum of its tasks'
# /proc/PID/task/*/schedstat run times (ns), taken just before the traffic and once the tool has
# taken every packet. The tools run one after the other, ROUNDS times interleaved; each one's best
# round is reported. Two rates by default: a BPF program's cost depends on how warm the caches
# are, and a low rate leaves the CPU to other work (or idle) between the sender's 1 ms bursts. A
# tool that is missing or does not see the traffic is reported with the reason, never given a
# number. kernel.bpf_stats_enabled is put back as it was.
#
# softflowd 1.1.0 opens its capture with a timeout of 0 (pcap_set_timeout(p, 0)), which libpcap 1.10
# on a TPACKET_V3 ring turns into a block retire timeout of UINT_MAX ms: a 256 KiB block reaches
# softflowd only once full, so at low rates it sees nothing at all while libpcap counts the packets
# (ps_recv counts what the kernel put into the ring). A preloaded shim makes that timeout 1000 ms,
# what pmacctd uses; the per-packet work is unchanged, only a part-filled block is delivered too.
#
# Environment: FM_CMP_RATES (RATE:SECONDS pairs, datagrams/s; default "20000:4 100000:3"),
# FM_CMP_ROUNDS (2).
# Needs root. Usage: bench/compare.sh
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
rates=${FM_CMP_RATES:-20000:4 100000:3}
rounds=${FM_CMP_ROUNDS:-2}
rate=0 seconds=0	# of the measurement under way
flows=16
payload=64
sport=40000

ns_tx=fmXcmpA ns_rx=fmXcmpB
if_tx=fmXcmp0 if_rx=fmXcmp1
addr_tx=100.64.47.1 addr_rx=100.64.47.2
port_sink=4744 port_collector=4745
pin_dir=/sys/fs/bpf/fmXcmp
fm_progs=("$pin_dir/prog_tc_ingress" "$pin_dir/prog_tc_egress")
empty_pin=/sys/fs/bpf/fmXcmp_empty

target_softflowd=0.5
target_pmacctd=0.1

tmp=
stats_before=
own_ns=	# set once this run made the namespaces: only then does cleanup remove them
pids=()

in_rx() { nsenter --net="/run/netns/$ns_rx" "$@"; }
in_tx() { nsenter --net="/run/netns/$ns_tx" "$@"; }

cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	if [ -n "$own_ns" ]; then
		in_rx "$build/flowmeta" detach -i "$if_rx" --pin-dir "$pin_dir" >/dev/null 2>&1 || true
		rm -f "$empty_pin"
		ip netns del "$ns_tx" 2>/dev/null || true
		ip netns del "$ns_rx" 2>/dev/null || true
	fi
	if [ -n "$stats_before" ]; then
		sysctl -qw kernel.bpf_stats_enabled="$stats_before" || true
	fi
	[ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Start a command in the receiving namespace in the background, output into LOG; sets bg_pid.
bg_rx() {	# LOG CMD [ARGS...]
	local log=$1
	shift
	# nsenter execs the command: bg_pid is the tool's own pid.
	nsenter --net="/run/netns/$ns_rx" "$@" >"$log" 2>&1 &
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

# Stop one of our background processes and whatever it forked (pmacctd's plugins), and forget its
# pid (it may be reused once reaped).
stop_pid() {	# PID
	local i keep=() kids
	kids=$(descendants "$1")
	if kill -TERM "$1" 2>/dev/null; then
		for i in $(seq 100); do
			kill -0 "$1" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$1" 2>/dev/null || true
	fi
	wait "$1" 2>/dev/null || true
	for i in $kids; do
		kill -TERM "$i" 2>/dev/null || true
	done
	for i in "${pids[@]}"; do
		[ "$i" = "$1" ] || keep+=("$i")
	done
	pids=("${keep[@]}")
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

# CPU time in ns of PID's tasks and those of its descendants (pmacctd forks its plugins).
tree_cpu_ns() {	# PID
	local p
	for p in "$1" $(descendants "$1"); do
		cat /proc/"$p"/task/*/schedstat 2>/dev/null || true
	done | awk '{ s += $1 } END { print s + 0 }'
}

# run_time_ns and run_cnt summed over the pinned programs.
bpf_stats() {	# PIN...
	local prog
	for prog in "$@"; do
		bpftool -j prog show pinned "$prog"
	done | python3 -c '
import json, sys
ns = cnt = 0
for line in sys.stdin:
    p = json.loads(line)
    ns += p.get("run_time_ns", 0)
    cnt += p.get("run_cnt", 0)
print(ns, cnt)'
}

ran_at_least() {	# RUNS PIN...
	local cnt want=$1
	shift
	read -r _ cnt < <(bpf_stats "$@")
	[ "$cnt" -ge "$want" ]
}

softflowd_processed() {	# CTL
	softflowctl -c "$1" statistics 2>/dev/null | awk -F': *' '/^Packets processed/ { print $2 }'
}

sf_processed_at_least() {	# CTL PACKETS
	local n
	n=$(softflowd_processed "$1")
	[ -n "$n" ] && [ "$n" -ge "$2" ]
}

lines_above() {	# FILE REGEX COUNT
	[ "$(grep -c "$2" "$1" || true)" -gt "$3" ]
}

# pmacctd writes its capture counters to its log on SIGUSR1; the last such line.
pmacctd_received() {	# PID LOG
	local before
	before=$(grep -c 'received_packets=' "$2" || true)
	kill -USR1 "$1"
	wait_until 5 lines_above "$2" 'received_packets=' "$before" || return 1
	grep -o 'received_packets=[0-9]*' "$2" | tail -n 1 | cut -d= -f2
}

# Send the traffic; sets sent (datagrams that left the sender).
send_traffic() {
	local out
	out=$(in_tx "$build/bench/udp_rate" "$addr_rx" "$port_sink" "$sport" "$flows" "$rate" \
		"$seconds" "$payload")
	sent=$(echo "$out" | sed -n 's/^packets=\([0-9]*\) .*/\1/p')
	[ -n "$sent" ] && [ "$sent" -gt 0 ]
}

# A UDP socket bound to ADDR PORT that never reads.
sink_py='
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
print("ready", flush=True)
time.sleep(1e9)'

setup() {
	local mac_tx mac_rx n
	if [ -e "/run/netns/$ns_tx" ] || [ -e "/run/netns/$ns_rx" ]; then
		echo "compare: namespace $ns_tx or $ns_rx exists: is another compare.sh running?" >&2
		return 1
	fi
	own_ns=1
	ip netns add "$ns_tx"
	ip netns add "$ns_rx"
	for n in "$ns_tx" "$ns_rx"; do
		ip -n "$n" link set lo up
		# No IPv6: no neighbour discovery or MLD in the way of exact counts.
		nsenter --net="/run/netns/$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1
	done
	ip link add "$if_tx" netns "$ns_tx" type veth peer name "$if_rx" netns "$ns_rx"
	ip -n "$ns_tx" addr add "$addr_tx/24" dev "$if_tx"
	ip -n "$ns_rx" addr add "$addr_rx/24" dev "$if_rx"
	ip -n "$ns_tx" link set "$if_tx" up
	ip -n "$ns_rx" link set "$if_rx" up
	# Static neighbours: no ARP among the metered packets.
	mac_tx=$(ip -n "$ns_tx" -br link show "$if_tx" | awk '{ print $3 }')
	mac_rx=$(ip -n "$ns_rx" -br link show "$if_rx" | awk '{ print $3 }')
	ip -n "$ns_tx" neigh replace "$addr_rx" lladdr "$mac_rx" dev "$if_tx" nud permanent
	ip -n "$ns_rx" neigh replace "$addr_tx" lladdr "$mac_tx" dev "$if_rx" nud permanent
	# Sinks that never read: datagrams beyond the buffer are dropped, no ICMP goes back.
	bg_rx "$tmp/sink.log" python3 -c "$sink_py" "$addr_rx" "$port_sink"
	bg_rx "$tmp/collector.log" python3 -c "$sink_py" 127.0.0.1 "$port_collector"
	wait_until 10 grep -q ready "$tmp/sink.log"
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

# One measurement of one tool. Sets res_ns (CPU ns per packet), res_detail, or res_why when the
# tool could not be measured.
measure_flowmeta() {
	local pid cpu0 cpu1 bpf0 bpf1 n0 n1 seen
	res_ns='' res_why='' res_detail=''
	cat >"$tmp/flowmeta.json" <<EOF
{ "FlowMetadata": { "IpFixCollectors": [ "Udp/127.0.0.1:$port_collector" ],
                    "PollInterval": 1000, "IdleTimeout": 60000 } }
EOF
	bg_rx "$tmp/flowmeta.log" "$build/flowmeta" run -i "$if_rx" -c "$tmp/flowmeta.json" \
		--pin-dir "$pin_dir"
	pid=$bg_pid
	if ! wait_until 30 grep -q '^info: metering ' "$tmp/flowmeta.log"; then
		res_why="flowmeta did not start: $(tail -n 2 "$tmp/flowmeta.log" | tr '\n' ' ')"
		stop_pid "$pid"
		return
	fi
	sysctl -qw kernel.bpf_stats_enabled=1
	read -r bpf0 n0 < <(bpf_stats "${fm_progs[@]}")
	cpu0=$(tree_cpu_ns "$pid")
	send_traffic
	wait_until 5 ran_at_least $((n0 + sent)) "${fm_progs[@]}" || true
	cpu1=$(tree_cpu_ns "$pid")
	read -r bpf1 n1 < <(bpf_stats "${fm_progs[@]}")
	sysctl -qw kernel.bpf_stats_enabled="$stats_before"
	stop_pid "$pid"
	seen=$((n1 - n0))
	if [ "$seen" -lt "$sent" ]; then
		res_why="its programs ran for $seen of $sent packets"
		return
	fi
	res_bpf=$(((bpf1 - bpf0) / sent))
	res_daemon=$(((cpu1 - cpu0) / sent))
	res_ns=$((res_bpf + res_daemon))
	res_detail="BPF $res_bpf + daemon $res_daemon; programs ran $seen times for $sent packets"
}

# What bpf_stats reports for an empty TC program (bench_empty, the first program of bench.bpf.o)
# on the same hook under the same traffic: its own two clock reads and the call into a program.
# Sets res_ns, or res_why.
measure_empty_program() {
	local t0 t1 n0 n1
	res_ns='' res_why=''
	rm -f "$empty_pin"
	if ! bpftool prog load "$build/bench.bpf.o" "$empty_pin" type classifier >/dev/null 2>&1 ||
	   ! in_rx tc qdisc add dev "$if_rx" clsact ||
	   ! in_rx tc filter add dev "$if_rx" ingress prio 1 bpf direct-action pinned "$empty_pin"; then
		res_why="could not attach an empty TC program"
		in_rx tc qdisc del dev "$if_rx" clsact 2>/dev/null || true
		return
	fi
	sysctl -qw kernel.bpf_stats_enabled=1
	read -r t0 n0 < <(bpf_stats "$empty_pin")
	send_traffic
	wait_until 5 ran_at_least $((n0 + sent)) "$empty_pin" || true
	read -r t1 n1 < <(bpf_stats "$empty_pin")
	sysctl -qw kernel.bpf_stats_enabled="$stats_before"
	in_rx tc qdisc del dev "$if_rx" clsact
	rm -f "$empty_pin"
	if [ $((n1 - n0)) -lt "$sent" ]; then
		res_why="the empty program ran $((n1 - n0)) times for $sent packets"
		return
	fi
	res_ns=$(((t1 - t0) / sent))
}

measure_softflowd() {
	local pid cpu0 cpu1 p0 p1 ctl=$tmp/softflowd.ctl preload=
	res_ns='' res_why='' res_detail=''
	[ -f "$tmp/pcap_timeout.so" ] && preload=$tmp/pcap_timeout.so
	rm -f "$ctl"
	bg_rx "$tmp/softflowd.log" env ${preload:+LD_PRELOAD=$preload} softflowd -d -i "$if_rx" \
		-n "127.0.0.1:$port_collector" -v 10 -t udp=60 -p "$tmp/softflowd.pid" -c "$ctl"
	pid=$bg_pid
	if ! wait_until 10 sf_processed_at_least "$ctl" 0; then
		res_why="softflowd did not start: $(tail -n 2 "$tmp/softflowd.log" | tr '\n' ' ')"
		stop_pid "$pid"
		return
	fi
	p0=$(softflowd_processed "$ctl")
	cpu0=$(tree_cpu_ns "$pid")
	send_traffic
	wait_until 5 sf_processed_at_least "$ctl" $((p0 + sent)) || true
	cpu1=$(tree_cpu_ns "$pid")
	p1=$(softflowd_processed "$ctl")
	stop_pid "$pid"
	if [ $((p1 - p0)) -lt "$sent" ]; then
		res_why="softflowd processed $((p1 - p0)) of $sent packets"
		[ -n "$preload" ] || res_why+=" (no pcap timeout shim: its part-filled block stays in the ring)"
		return
	fi
	res_ns=$(((cpu1 - cpu0) / sent))
	res_detail="process CPU; processed $((p1 - p0)) of $sent packets"
}

measure_pmacctd() {
	local pid cpu0 cpu1 r0 r1 log=$tmp/pmacctd.log
	res_ns='' res_why='' res_detail=''
	cat >"$tmp/pmacctd.conf" <<EOF
daemonize: false
pcap_interface: $if_rx
aggregate: src_host, dst_host, src_port, dst_port, proto
plugins: nfprobe
nfprobe_receiver: 127.0.0.1:$port_collector
nfprobe_version: 10
nfprobe_timeouts: udp=60
logfile: $log
pidfile: $tmp/pmacctd.pid
EOF
	: >"$log"
	bg_rx "$tmp/pmacctd.out" pmacctd -f "$tmp/pmacctd.conf"
	pid=$bg_pid
	if ! wait_until 10 grep -q 'Exporting flows to' "$log"; then
		res_why="pmacctd did not start: $(tail -n 2 "$log" "$tmp/pmacctd.out" | tr '\n' ' ')"
		stop_pid "$pid"
		return
	fi
	r0=$(pmacctd_received "$pid" "$log") || true
	cpu0=$(tree_cpu_ns "$pid")
	send_traffic
	# Its capture hands over a part-filled 256 KiB block after 1 s (pcap timeout 1000 ms).
	sleep 2
	cpu1=$(tree_cpu_ns "$pid")
	r1=$(pmacctd_received "$pid" "$log") || true
	stop_pid "$pid"
	if [ -z "$r0" ] || [ -z "$r1" ] || [ $((r1 - r0)) -lt "$sent" ]; then
		res_why="pmacctd's capture received ${r1:-?} - ${r0:-?} of $sent packets"
		return
	fi
	res_ns=$(((cpu1 - cpu0) / sent))
	res_detail="core and plugin CPU; its capture received $((r1 - r0)) of $sent packets"
}

# Ratio line: flowmeta's figure over a peer's, against the target when one is given.
print_ratio() {	# NAME FM PEER PEER_WHY [TARGET]
	if [ -z "$2" ] || [ -z "$3" ]; then
		printf '%-40s   n/a  %s(no figure: %s)\n' "$1" "${5:+target <= $5  MISSED }" \
			"${4:-flowmeta not measured}"
		return
	fi
	awk -v n="$1" -v a="$2" -v b="$3" -v t="${5:-}" 'BEGIN {
		r = a / b
		printf "%-40s %5.3f", n, r
		if (t != "")
			printf "  target <= %s  %s", t, (r <= t ? "OK" : "MISSED")
		printf "\n" }'
}

# Keep the lower of the best so far (variable named $1) and res_ns; remember res_detail in $2.
keep_best() {	# BEST_VAR DETAIL_VAR WHY_VAR
	if [ -n "$res_ns" ] && { [ -z "${!1}" ] || [ "$res_ns" -lt "${!1}" ]; }; then
		printf -v "$1" '%s' "$res_ns"
		printf -v "$2" '%s' "$res_detail"
	fi
	printf -v "$3" '%s' "$res_why"
}

print_tool() {	# NAME NS DETAIL WHY
	if [ -n "$2" ]; then
		printf '%-40s %5d ns/pkt  (%s)\n' "$1" "$2" "$3"
	else
		printf '%-40s   n/a  not measured: %s\n' "$1" "$4"
	fi
}

# All four measurements ROUNDS times at one rate, then the figures, ratios and targets.
compare_at() {	# RATE SECONDS
	local r net=''
	local fm='' fm_det='' fm_why='' sf='' sf_det='' sf_why='' pm='' pm_det='' pm_why=''
	# shellcheck disable=SC2034  # em_det is set through keep_best, like the others
	local em='' em_det='' em_why=''
	rate=$1 seconds=$2
	echo "$((rate * seconds)) UDP datagrams at $rate/s ($flows flows," \
	     "$((20 + 8 + payload))-octet IP packets), best of $rounds interleaved rounds:"
	for r in $(seq "$rounds"); do
		measure_flowmeta
		keep_best fm fm_det fm_why
		if command -v softflowd >/dev/null && command -v softflowctl >/dev/null; then
			measure_softflowd
		else
			res_ns='' res_why="softflowd is not installed"
		fi
		keep_best sf sf_det sf_why
		if command -v pmacctd >/dev/null; then
			measure_pmacctd
		else
			res_ns='' res_why="pmacctd is not installed"
		fi
		keep_best pm pm_det pm_why
		measure_empty_program
		res_detail=''
		keep_best em em_det em_why
	done

	print_tool flowmeta "$fm" "$fm_det" "$fm_why"
	print_tool softflowd "$sf" "$sf_det" "$sf_why"
	print_tool pmacctd "$pm" "$pm_det" "$pm_why"
	print_ratio "flowmeta / softflowd" "$fm" "$sf" "$sf_why" "$target_softflowd"
	print_ratio "flowmeta / pmacctd" "$fm" "$pm" "$pm_why" "$target_pmacctd"
	if [ -n "$em" ]; then
		printf '%-40s %5d ns/pkt  (same hook, same traffic)\n' \
			"info: an empty TC program, measured so" "$em"
		if [ -n "$fm" ] && [ "$fm" -gt "$em" ]; then
			net=$((fm - em))
			printf '%-40s %5d ns/pkt\n' "info: flowmeta less that" "$net"
			print_ratio "info: that / softflowd" "$net" "$sf" "$sf_why"
			print_ratio "info: that / pmacctd" "$net" "$pm" "$pm_why"
		fi
	else
		printf '%-40s   n/a  (%s)\n' "info: an empty TC program" "$em_why"
	fi
}

main() {
	local r
	if [ "$(id -u)" -ne 0 ]; then
		echo "compare: skipped, needs root (network namespaces, BPF)"
		return 0
	fi
	for r in ip nsenter tc bpftool python3; do
		command -v "$r" >/dev/null || { echo "compare: skipped, $r is missing"; return 0; }
	done
	if [ ! -x "$build/flowmeta" ] || [ ! -x "$build/bench/udp_rate" ] ||
	   [ ! -f "$build/bench.bpf.o" ]; then
		echo "compare: build flowmeta and the benchmarks first (make)" >&2
		return 1
	fi
	tmp=$(mktemp -d /tmp/fmXcmp.XXXXXX)
	stats_before=$(sysctl -n kernel.bpf_stats_enabled)
	setup
	build_pcap_shim || echo "compare: no pcap timeout shim for softflowd (no C compiler)"

	echo "Exporter CPU per packet, UDP over a veth, metered on the receiving end. softflowd and"
	echo "pmacctd: their process CPU, as SPEC §9 says (the kernel's copy of each packet into"
	echo "their capture ring, in softirq, is not counted); flowmeta: its BPF run time as bpf_stats"
	echo "reports it (its own clock reads included: see the empty program) plus the daemon's CPU."
	for r in $rates; do
		compare_at "${r%%:*}" "${r##*:}"
	done
}

main "$@"
