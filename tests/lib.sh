# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Shared library of the end-to-end tests (tests/e2e/*.sh), in the style of xdp-tools' test runner.
#
# A test is a shell function; `run_test NAME FUNCTION [ARGS...]` runs it in a subshell and prints
# exactly one line "PASS NAME", "FAIL NAME: reason" or "SKIP NAME: reason" (tests/run.sh counts
# them); `finish_tests` ends the script with status 1 if anything failed. Inside a test, `fail`,
# `skip` and the assert_* helpers end it; any failing command ends it too (set -e, the reason is
# the command and its line). Whatever a test created is registered as it is created and removed
# when the test's subshell exits, however it exits: flowmeta daemons are stopped (SIGTERM) and
# `flowmeta detach` is run on their interfaces, the other processes it started are killed by pid,
# its network namespaces deleted and its pin directories removed.
#
# Provided, in order below: the runner; process and namespace helpers; topologies (tun/tap
# overlay over a veth underlay via socat, veth overlay); traffic of known size; the independent
# packet meter; flowmeta helpers; IPFIX collector helpers (tshark, ipfixDump, nfcapd+nfdump,
# nfacctd) that all decode to one normal form (tests/tools/ipfix_norm.py).
#
# Names: namespaces are fmE<pid><letter> (FM_NS_PREFIX<pid><letter> when a script sets its own
# prefix), so concurrent runs never collide; interfaces live inside them (fmEu0/fmEu1 underlay,
# fmEt0/fmEt1 tun or tap, fmEo0/fmEo1 veth overlay); pin directories are
# /sys/fs/bpf/fmE-<test>-<pid>-<iface>; collectors use loopback ports 4790-4799.
# Set FM_ONLY=PATTERN to run only matching tests, FM_KEEP=1 to keep the logs of passing tests,
# FM_TRACE=1 to trace each test (set -x with timestamps) into its log.

set -euo pipefail

FM_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FM_BIN=${FLOWMETA:-$FM_TOP/build/flowmeta}
FM_TOOLS=$FM_TOP/tests/tools
FM_BPFFS=/sys/fs/bpf
FM_TEST_TIMEOUT=${FM_TEST_TIMEOUT:-180}
# Debian's interpreter (scripts/deps.sh installs it) rather than whatever shim is first in PATH:
# the helpers start Python often and a version manager's shim costs ~0.3 s a start.
FM_PY=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}

# Overlay addresses (SPEC §8: test addresses only).
FM_A4=100.64.0.1
FM_B4=100.64.0.2
FM_A6=fd00:64::1
FM_B6=fd00:64::2
FM_UNDER_A=198.18.0.1
FM_UNDER_B=198.18.0.2
FM_TUNNEL_PORT=4789

# ------------------------------------------------------------------------------------------------
# Runner

FM_RUN_DIR=$(mktemp -d /tmp/fmE-run.XXXXXX)
FM_FAILED=0
# One binary for the whole script: others rebuild build/ while tests run, and a restart must adopt
# what the same build pinned (the BPF object is inside the binary).
if [ -x "$FM_BIN" ]; then
	cp "$FM_BIN" "$FM_RUN_DIR/flowmeta"
	FM_BIN=$FM_RUN_DIR/flowmeta
fi
FM_CURRENT_PID=

fm_runner_signal() {
	# Forward to the running test so its own trap cleans up, report it, then stop.
	if [ -n "$FM_CURRENT_PID" ]; then
		kill -TERM "$FM_CURRENT_PID" 2>/dev/null
		wait "$FM_CURRENT_PID"
		echo "FAIL $FM_CURRENT_NAME: interrupted"
		kill -TERM "$FM_WATCHDOG_PID" 2>/dev/null
		wait "$FM_WATCHDOG_PID" 2>/dev/null
	fi
	echo "logs: $FM_RUN_DIR"
	exit 130
}
trap fm_runner_signal INT TERM

run_test() {
	local name=$1
	shift
	if [ -n "${FM_ONLY:-}" ] && [[ $name != *$FM_ONLY* ]]; then
		return 0
	fi
	local log=$FM_RUN_DIR/$name.log reason=$FM_RUN_DIR/$name.reason rc
	: >"$reason"
	(
		FM_TEST_NAME=$name
		FM_REASON_FILE=$reason
		FM_ID=$BASHPID
		FM_LOG_DIR=$FM_RUN_DIR/$name
		mkdir -p "$FM_LOG_DIR"
		set -eEuo pipefail
		trap 'fm_record_reason "line $LINENO: \`$BASH_COMMAND\` failed"' ERR
		trap fm_test_cleanup EXIT
		trap 'fm_record_reason "interrupted"; exit 143' INT TERM
		if [ -n "${FM_TRACE:-}" ]; then
			PS4='+ ${EPOCHREALTIME} ${FUNCNAME[0]:-}: '
			set -x
		fi
		"$@"
	) >"$log" 2>&1 &
	FM_CURRENT_PID=$!
	FM_CURRENT_NAME=$name
	# The watchdog is a plain sleep: whichever of the two ends first decides.
	sleep "$FM_TEST_TIMEOUT" &
	FM_WATCHDOG_PID=$!
	local first=
	set +e
	wait -n -p first "$FM_CURRENT_PID" "$FM_WATCHDOG_PID"
	rc=$?
	if [ "$first" = "$FM_WATCHDOG_PID" ]; then
		[ -s "$reason" ] || echo "timed out after ${FM_TEST_TIMEOUT} s" >"$reason"
		kill -TERM "$FM_CURRENT_PID"
		wait "$FM_CURRENT_PID"
		rc=$?
	else
		kill -TERM "$FM_WATCHDOG_PID"
		wait "$FM_WATCHDOG_PID"
	fi 2>/dev/null
	set -e
	FM_CURRENT_PID=
	case $rc in
	0) echo "PASS $name" ;;
	77) echo "SKIP $name: $(fm_reason_text "$reason" "skipped")" ;;
	*)
		echo "FAIL $name: $(fm_reason_text "$reason" "exit status $rc")"
		# The log's tail, indented so tests/run.sh never mistakes it for a result line.
		tail -n 25 "$log" | sed 's/^/    | /'
		FM_FAILED=$((FM_FAILED + 1))
		;;
	esac
}

fm_reason_text() {
	if [ -s "$1" ]; then head -n 1 "$1"; else echo "$2"; fi
}

# End of the script: keep the logs when something failed (and say where), else remove them.
finish_tests() {
	if [ "$FM_FAILED" -gt 0 ] || [ -n "${FM_KEEP:-}" ]; then
		echo "logs: $FM_RUN_DIR"
	else
		rm -rf "$FM_RUN_DIR"
	fi
	[ "$FM_FAILED" -eq 0 ]
}

# The first reason recorded is the one reported.
fm_record_reason() {
	[ -s "$FM_REASON_FILE" ] || echo "$*" >"$FM_REASON_FILE"
}

fail() {
	fm_record_reason "$*"
	echo "fail: $*" >&2
	exit 1
}

skip() {
	fm_record_reason "$*"
	trap - ERR
	exit 77
}

log() {
	echo "# $*" >&2
}

assert_eq() {	# GOT WANT WHAT
	[ "$1" = "$2" ] || fail "$3: got $1, want $2"
}

assert_ge() {	# GOT MIN WHAT
	[ "$1" -ge "$2" ] || fail "$3: got $1, want at least $2"
}

# Poll CMD every 50 ms until it succeeds; false after TIMEOUT seconds.
wait_until() {	# TIMEOUT CMD [ARGS...]
	local deadline=$(($(fm_now_us) + $(fm_seconds_us "$1")))
	shift
	until "$@"; do
		[ "$(fm_now_us)" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

fm_now_us() {
	echo "${EPOCHREALTIME/./}"
}

fm_seconds_us() {	# SECONDS (may have a fraction)
	local whole=${1%.*} frac=
	[ "$whole" = "$1" ] || frac=${1#*.}
	frac=${frac}000000
	echo $((${whole:-0} * 1000000 + 10#${frac:0:6}))
}

require_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
}

require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "$c is not installed"
	done
}

# bpffs is where flowmeta pins; on a fresh machine it is not mounted yet (SPEC §7).
require_bpffs() {
	if [ "$(stat -f -c %T "$FM_BPFFS" 2>/dev/null)" != bpf_fs ]; then
		mount -t bpf bpf "$FM_BPFFS" || skip "cannot mount bpffs on $FM_BPFFS"
	fi
}

# ------------------------------------------------------------------------------------------------
# Processes and namespaces (everything registered here is removed by fm_test_cleanup)

FM_NETNS=()
FM_PIDS=()
declare -A FM_PID_SIGNAL	# pid -> the signal that stops it cleanly, when not SIGTERM
FM_FM_PIDS=()
FM_ATTACHED=()
FM_PINS=()

# Run a command in a namespace ("" = the current one). nsenter, not `ip netns exec`: the latter
# remounts /sys and hides bpffs, where flowmeta's pins must stay visible.
ns_run() {	# NS CMD [ARGS...]
	local ns=$1
	shift
	if [ -n "$ns" ]; then
		nsenter --net="/run/netns/$ns" -- "$@"
	else
		"$@"
	fi
}

# Start CMD in the background in NS, output to LOG; its pid is BG_PID (nsenter execs the command,
# so it is the command's own pid) and it is killed at cleanup if still alive.
bg_start() {	# LOG NS CMD [ARGS...]
	local out=$1 ns=$2
	shift 2
	# A simple command, not a function: bash then execs it in the forked child, so $! is the
	# command itself (a signal reaches it) and its failure never runs this shell's ERR trap.
	if [ -n "$ns" ]; then
		nsenter --net="/run/netns/$ns" -- "$@" >"$out" 2>&1 </dev/null &
	else
		"$@" >"$out" 2>&1 </dev/null &
	fi
	BG_PID=$!
	FM_PIDS+=("$BG_PID")
}

# Alive and not a zombie (a child that exited stays in /proc until waited for).
pid_alive() {
	local state
	state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

# Signal PID, wait up to TIMEOUT s for it to exit, then SIGKILL. Its exit status is BG_STATUS.
stop_pid() {	# PID [SIGNAL] [TIMEOUT]
	local pid=$1 sig=${2:-TERM} timeout=${3:-5}
	BG_STATUS=0
	if pid_alive "$pid"; then
		kill -"$sig" "$pid" 2>/dev/null || true
		if ! wait_until "$timeout" fm_not_alive "$pid"; then
			log "pid $pid ignored SIG$sig for $timeout s, killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	wait "$pid" 2>/dev/null || BG_STATUS=$?
	fm_forget_pid "$pid"
}

# Wait for a background process to exit by itself; BG_STATUS is its exit status.
bg_wait() {	# PID
	BG_STATUS=0
	wait "$1" || BG_STATUS=$?
	fm_forget_pid "$1"
	return "$BG_STATUS"
}

# Once reaped, a pid may be reused by anyone: never signal it again.
fm_forget_pid() {
	local p keep=()
	for p in "${FM_PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	FM_PIDS=("${keep[@]}")
	keep=()
	for p in "${FM_FM_PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	FM_FM_PIDS=("${keep[@]}")
}

fm_not_alive() {
	! pid_alive "$1"
}

# wait_until, giving up early when PID dies.
wait_alive() {	# TIMEOUT PID CMD [ARGS...]
	local timeout=$1 pid=$2
	shift 2
	wait_until "$timeout" fm_done_or_dead "$pid" "$@" && pid_alive "$pid"
}

fm_done_or_dead() {
	local pid=$1
	shift
	! pid_alive "$pid" || "$@"
}

# Wait for a line matching REGEX in FILE while PID lives.
wait_for_line() {	# TIMEOUT FILE REGEX PID
	wait_until "$1" fm_line_or_dead "$2" "$3" "$4" || return 1
	grep -Eq -- "$3" "$2"
}

fm_line_or_dead() {
	grep -Eq -- "$2" "$1" 2>/dev/null || ! pid_alive "$3"
}

fm_test_cleanup() {
	local rc=$? pid entry ns ifname pin i
	set +eE
	trap - ERR INT TERM
	for pid in "${FM_FM_PIDS[@]}"; do
		stop_pid "$pid" TERM 10
	done
	for entry in "${FM_ATTACHED[@]}"; do
		read -r ns ifname pin <<<"$entry"
		[ -e "/run/netns/$ns" ] && ns_run "$ns" "$FM_BIN" detach -i "$ifname" --pin-dir "$pin" \
			>/dev/null 2>&1
	done
	for ((i = ${#FM_PIDS[@]} - 1; i >= 0; i--)); do
		pid=${FM_PIDS[i]}
		stop_pid "$pid" "${FM_PID_SIGNAL[$pid]:-TERM}" 5
	done
	for ns in "${FM_NETNS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	for pin in "${FM_PINS[@]}"; do
		# Only ever our own per-test directories under bpffs, and the stream state file a
		# clean stop of a daemon with that pin directory wrote (user/streamstate.h).
		case $pin in
		"$FM_BPFFS"/fmE-*)
			[ -e "$pin" ] && rm -rf -- "$pin"
			rm -f -- "/var/lib/flowmeta/$(echo "${pin#/}" | tr / _).streams"
			;;
		esac
	done
	exit "$rc"
}

# A namespace that stays silent unless a test sends something: no DAD, no router solicitations,
# no automatic link-local address (so no MLD for it either); set as defaults before any device
# exists, so every device created in it inherits them.
ns_new() {	# SUFFIX -> prints nothing, sets NS_NAME
	NS_NAME=${FM_NS_PREFIX:-fmE}${FM_ID}$1
	ip netns add "$NS_NAME"
	FM_NETNS+=("$NS_NAME")
	local scope
	for scope in all default; do
		ns_run "$NS_NAME" sysctl -qw "net.ipv6.conf.$scope.accept_dad=0" \
			"net.ipv6.conf.$scope.dad_transmits=0" \
			"net.ipv6.conf.$scope.router_solicitations=0" \
			"net.ipv6.conf.$scope.accept_ra=0" \
			"net.ipv6.conf.$scope.addr_gen_mode=1"
	done
	ip -n "$NS_NAME" link set lo up
}

link_up() {	# NS IFACE
	ip -n "$1" link show dev "$2" up 2>/dev/null | grep . >/dev/null
}

# rx_packets rx_bytes tx_packets tx_bytes of IFACE, from the kernel's own device counters.
if_counters() {	# NS IFACE
	ip -n "$1" -s -j link show dev "$2" | "$FM_PY" "$FM_TOOLS/jsonq.py" - \
		'(d[0]["stats64"]["rx"]["packets"], d[0]["stats64"]["rx"]["bytes"], d[0]["stats64"]["tx"]["packets"], d[0]["stats64"]["tx"]["bytes"])'
}

if_mac() {	# NS IFACE
	ip -n "$1" -j link show dev "$2" | "$FM_PY" "$FM_TOOLS/jsonq.py" - 'd[0]["address"]'
}

# Wait until IFACE's counters stay unchanged for QUIET seconds (default 1): setup traffic has
# drained. Fails if the interface never goes quiet within 15 s.
wait_quiet() {	# NS IFACE [QUIET]
	local ns=$1 ifname=$2 quiet last now since deadline
	quiet=$(fm_seconds_us "${3:-1}")
	deadline=$(($(fm_now_us) + 15000000))
	last=$(if_counters "$ns" "$ifname")
	since=$(fm_now_us)
	while [ $(($(fm_now_us) - since)) -lt "$quiet" ]; do
		[ "$(fm_now_us)" -lt "$deadline" ] || fail "$ifname in $ns never went quiet"
		sleep 0.1
		now=$(if_counters "$ns" "$ifname")
		if [ "$now" != "$last" ]; then
			last=$now
			since=$(fm_now_us)
		fi
	done
}

# ------------------------------------------------------------------------------------------------
# Topologies. Each sets FM_NS_A, FM_NS_B (namespaces), FM_IF_A, FM_IF_B (the overlay devices
# to meter), FM_OVERLAY (tun, tap or veth) and leaves both overlay ends quiet.

# Two namespaces joined by a veth underlay 198.18.0.1/30 <-> 198.18.0.2/30. MTU 9000 so the
# tunnelled overlay packets (1500 + outer headers) are never fragmented on the way.
topo_underlay() {
	ns_new a
	FM_NS_A=$NS_NAME
	ns_new b
	FM_NS_B=$NS_NAME
	ip -n "$FM_NS_A" link add fmEu0 mtu 9000 type veth peer name fmEu1 mtu 9000 netns "$FM_NS_B"
	ip -n "$FM_NS_A" addr add "$FM_UNDER_A/30" dev fmEu0
	ip -n "$FM_NS_B" addr add "$FM_UNDER_B/30" dev fmEu1
	ip -n "$FM_NS_A" link set fmEu0 up
	ip -n "$FM_NS_B" link set fmEu1 up
}

# Overlay over UDP on the underlay: in each namespace socat opens a tun (L3 only) or tap
# (Ethernet) device and carries its packets in UDP datagrams to the other namespace's socat.
# UDP-DATAGRAM rather than UDP: an unconnected socket does not die of an ICMP port unreachable
# if one side starts first. (socat 1.7.4's range= option crashes here: not used; nothing else
# sends to the tunnel port inside these namespaces.)
topo_tun_overlay() {	# tun|tap
	local type=${1:-tun}
	topo_underlay
	FM_OVERLAY=$type
	FM_IF_A=fmEt0
	FM_IF_B=fmEt1
	fm_socat_tunnel "$FM_NS_A" "$FM_IF_A" "$FM_A4" "$FM_UNDER_A" "$FM_UNDER_B" "$type"
	fm_socat_tunnel "$FM_NS_B" "$FM_IF_B" "$FM_B4" "$FM_UNDER_B" "$FM_UNDER_A" "$type"
	fm_overlay_addresses
}

fm_socat_tunnel() {	# NS IFACE OVERLAY_ADDR LOCAL PEER TYPE
	local ns=$1 ifname=$2 addr=$3 local=$4 peer=$5 type=$6
	bg_start "$FM_LOG_DIR/socat-$ifname.log" "$ns" socat \
		"TUN:$addr/24,tun-type=$type,iff-no-pi,iff-up,tun-name=$ifname" \
		"UDP-DATAGRAM:$peer:$FM_TUNNEL_PORT,bind=$local:$FM_TUNNEL_PORT"
	wait_alive 10 "$BG_PID" link_up "$ns" "$ifname" ||
		fail "socat did not bring $ifname up in $ns: $(tail -n 2 "$FM_LOG_DIR/socat-$ifname.log")"
	# The IPv4 address comes from socat; wait for it, the rest of the setup relies on it.
	wait_until 5 fm_has_addr "$ns" "$ifname" "$addr" || fail "no $addr on $ifname"
}

fm_has_addr() {
	ip -n "$1" -o addr show dev "$2" | grep -F " $3/" >/dev/null
}

# Veth pair as the overlay itself (Ethernet framed, like a tap without the tunnel).
topo_veth_overlay() {
	ns_new a
	FM_NS_A=$NS_NAME
	ns_new b
	FM_NS_B=$NS_NAME
	FM_OVERLAY=veth
	FM_IF_A=fmEo0
	FM_IF_B=fmEo1
	ip -n "$FM_NS_A" link add "$FM_IF_A" type veth peer name "$FM_IF_B" netns "$FM_NS_B"
	ip -n "$FM_NS_A" addr add "$FM_A4/24" dev "$FM_IF_A"
	ip -n "$FM_NS_B" addr add "$FM_B4/24" dev "$FM_IF_B"
	fm_overlay_addresses
	ip -n "$FM_NS_A" link set "$FM_IF_A" up
	ip -n "$FM_NS_B" link set "$FM_IF_B" up
	wait_until 5 link_up "$FM_NS_A" "$FM_IF_A"
}

# IPv6 addresses, and on Ethernet overlays static neighbours with ARP off: tun devices are
# NOARP already; on Ethernet devices NOARP also keeps the kernel from joining solicited-node
# groups (no MLD reports) and from sending neighbour discovery, so the overlay carries nothing
# but test traffic and every flow count can be exact.
fm_overlay_addresses() {
	if [ "$FM_OVERLAY" != tun ]; then
		ip -n "$FM_NS_A" link set dev "$FM_IF_A" arp off
		ip -n "$FM_NS_B" link set dev "$FM_IF_B" arp off
	fi
	ip -n "$FM_NS_A" -6 addr add "$FM_A6/64" dev "$FM_IF_A" nodad
	ip -n "$FM_NS_B" -6 addr add "$FM_B6/64" dev "$FM_IF_B" nodad
	if [ "$FM_OVERLAY" != tun ]; then
		FM_MAC_A=$(if_mac "$FM_NS_A" "$FM_IF_A")
		FM_MAC_B=$(if_mac "$FM_NS_B" "$FM_IF_B")
		fm_static_neigh "$FM_NS_A" "$FM_IF_A" "$FM_MAC_B" "$FM_B4" "$FM_B6"
		fm_static_neigh "$FM_NS_B" "$FM_IF_B" "$FM_MAC_A" "$FM_A4" "$FM_A6"
	fi
}

fm_static_neigh() {	# NS IFACE MAC ADDR...
	local ns=$1 ifname=$2 mac=$3 addr
	shift 3
	for addr in "$@"; do
		ip -n "$ns" neigh replace "$addr" lladdr "$mac" nud permanent dev "$ifname"
	done
}

# One ping each way on both address families, then wait until both ends are quiet.
topo_check() {
	local dst
	for dst in "$FM_B4" "$FM_B6"; do
		ns_run "$FM_NS_A" ping -q -n -c 1 -W 2 "$dst" >/dev/null ||
			fail "$FM_OVERLAY overlay: $dst does not answer"
	done
	wait_quiet "$FM_NS_A" "$FM_IF_A" 0.5
	wait_quiet "$FM_NS_B" "$FM_IF_B" 0.5
}

# Bring up an overlay by name: tun, tap or veth.
topo_overlay() {	# tun|tap|veth
	case $1 in
	tun | tap) topo_tun_overlay "$1" ;;
	veth) topo_veth_overlay ;;
	*) fail "unknown overlay $1" ;;
	esac
	topo_check
}

# ------------------------------------------------------------------------------------------------
# Traffic of known size. Each helper checks that everything arrived and sets SENT_PACKETS and
# SENT_OCTETS (IP header + payload: what a meter must count for the sender's flow).

fm_ip_hdr() {
	case $1 in *:*) echo 40 ;; *) echo 20 ;; esac
}

# COUNT echo requests of SIZE payload bytes from NS to DST; requests and replies both count
# SENT_PACKETS packets of SENT_OCTETS octets.
send_ping() {	# NS DST COUNT SIZE
	local ns=$1 dst=$2 count=$3 size=$4 out sent got
	out=$(ns_run "$ns" timeout 60 ping -n -c "$count" -s "$size" -i 0.01 -W 5 "$dst") ||
		fail "ping $dst from $ns: $(echo "$out" | tail -n 2 | tr '\n' ' ')"
	echo "$out" >&2
	sent=$(echo "$out" | sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p')
	got=$(echo "$out" | sed -n 's/.* \([0-9]*\) received.*/\1/p')
	if [ "$sent $got" != "$count $count" ]; then
		# Lost on the way: a dropping program, or drops under load (softnet backlog is shared
		# by all namespaces). The counters say which device dropped.
		fm_drop_counters >&2
		fail "ping $dst from $ns: $sent sent, $got received, want $count"
	fi
	SENT_PACKETS=$count
	SENT_OCTETS=$((count * ($(fm_ip_hdr "$dst") + 8 + size)))
}

fm_drop_counters() {
	local ns ifname
	for ns in "${FM_NETNS[@]}"; do
		for ifname in $(ip -n "$ns" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1); do
			echo "$ns $ifname: $(ip -n "$ns" -s -j link show dev "$ifname" | "$FM_PY" "$FM_TOOLS/jsonq.py" - \
				'"rx_dropped %d tx_dropped %d" % (d[0]["stats64"]["rx"]["dropped"], d[0]["stats64"]["tx"]["dropped"])')"
		done
	done
	echo "softnet drops per CPU (hex): $(awk '{printf "%s ", $2}' /proc/net/softnet_stat)"
}

# Start a receiver from tests/tools/traffic.py in NS and wait until it is bound.
fm_receiver() {	# NAME NS ARGS...
	local name=$1 ns=$2
	shift 2
	RECV_LOG=$FM_LOG_DIR/recv-$name-$RANDOM.log
	bg_start "$RECV_LOG" "$ns" "$FM_PY" "$FM_TOOLS/traffic.py" "$@"
	RECV_PID=$BG_PID
	wait_for_line 10 "$RECV_LOG" '^ready' "$RECV_PID" || fail "$name receiver did not start: $(cat "$RECV_LOG")"
}

# Wait for the receiver to finish; it must have seen what was sent.
fm_receiver_done() {	# WANT_LINE_REGEX WHAT
	bg_wait "$RECV_PID" || fail "$2: receiver: $(tail -n 1 "$RECV_LOG")"
	grep -Eq -- "$1" "$RECV_LOG" || fail "$2: receiver got $(tail -n 1 "$RECV_LOG")"
}

fm_parse_sent() {	# "packets=N octets=M"
	SENT_PACKETS=$(echo "$1" | sed -n 's/.*packets=\([0-9]*\).*/\1/p')
	SENT_OCTETS=$(echo "$1" | sed -n 's/.*octets=\([0-9]*\).*/\1/p')
}

# COUNT UDP datagrams of PAYLOAD bytes from NS_FROM (source port SPORT) to DST:DPORT in NS_TO.
send_udp() {	# NS_FROM NS_TO DST DPORT SPORT COUNT PAYLOAD
	local from=$1 to=$2 dst=$3 dport=$4 sport=$5 count=$6 payload=$7 out
	fm_receiver udp "$to" udp-recv "$dst" "$dport" "$count" 20
	out=$(ns_run "$from" timeout 30 "$FM_PY" "$FM_TOOLS/traffic.py" udp-send "$dst" "$dport" "$sport" \
		"$count" "$payload") || fail "udp send to $dst:$dport failed"
	fm_receiver_done "^packets=$count " "udp to $dst:$dport"
	fm_parse_sent "$out"
}

# A TCP connection from NS_FROM (source port SPORT) to DST:DPORT in NS_TO carrying BYTES bytes,
# closed in order. What crossed the wire is for an independent meter to say (meter_start).
send_tcp() {	# NS_FROM NS_TO DST DPORT SPORT BYTES
	local from=$1 to=$2 dst=$3 dport=$4 sport=$5 bytes=$6
	fm_receiver tcp "$to" tcp-recv "$dst" "$dport" 30
	ns_run "$from" timeout 60 "$FM_PY" "$FM_TOOLS/traffic.py" tcp-send "$dst" "$dport" "$sport" \
		"$bytes" >/dev/null || fail "tcp send to $dst:$dport failed"
	fm_receiver_done "bytes=$bytes\$" "tcp to $dst:$dport"
	SENT_BYTES=$bytes
}

# Like send_tcp, but the connection stays open (no FIN yet) once every byte has arrived and the
# receiver said so: the flows are still live for `flowmeta flows`. tcp_close_all ends them all.
FM_TCP_OPEN=()
tcp_open() {	# NS_FROM NS_TO DST DPORT SPORT BYTES
	local from=$1 to=$2 dst=$3 dport=$4 sport=$5 bytes=$6 hold log
	fm_receiver tcp "$to" tcp-recv "$dst" "$dport" 60 "$bytes"
	hold=$FM_LOG_DIR/tcp-hold-$sport
	log=$FM_LOG_DIR/tcp-send-$sport.log
	bg_start "$log" "$from" timeout 90 "$FM_PY" "$FM_TOOLS/traffic.py" tcp-send "$dst" "$dport" \
		"$sport" "$bytes" "$hold"
	wait_for_line 30 "$log" '^sent' "$BG_PID" || fail "tcp to $dst:$dport: $(tail -n 2 "$log")"
	FM_TCP_OPEN+=("$BG_PID $RECV_PID $RECV_LOG $hold $bytes $dst:$dport")
}

tcp_close_all() {
	local entry sender recv recv_log hold bytes what
	for entry in "${FM_TCP_OPEN[@]}"; do
		read -r sender recv recv_log hold bytes what <<<"$entry"
		touch "$hold"
		bg_wait "$sender" || fail "tcp to $what: sender failed"
		RECV_PID=$recv
		RECV_LOG=$recv_log
		fm_receiver_done "bytes=$bytes\$" "tcp to $what"
	done
	FM_TCP_OPEN=()
}

# COUNT raw IP packets of protocol PROTO with PAYLOAD bytes from NS_FROM to DST in NS_TO, where
# a raw socket receives them (so the kernel sends no "protocol unreachable").
send_raw() {	# NS_FROM NS_TO DST PROTO COUNT PAYLOAD
	local from=$1 to=$2 dst=$3 proto=$4 count=$5 payload=$6 out
	fm_receiver raw "$to" raw-recv "$dst" "$proto" "$count" 20
	out=$(ns_run "$from" timeout 30 "$FM_PY" "$FM_TOOLS/traffic.py" raw-send "$dst" "$proto" \
		"$count" "$payload") || fail "raw send to $dst failed"
	fm_receiver_done "^packets=$count " "raw protocol $proto to $dst"
	fm_parse_sent "$out"
}

# NFLOWS UDP flows at once: COUNT datagrams of PAYLOAD bytes from each source port SPORT ..
# SPORT+NFLOWS-1 of NS_FROM to DST:DPORT in NS_TO. SENT_PACKETS/SENT_OCTETS are their total.
send_udp_flows() {	# NS_FROM NS_TO DST DPORT SPORT NFLOWS COUNT PAYLOAD
	local from=$1 to=$2 dst=$3 dport=$4 sport=$5 nflows=$6 count=$7 payload=$8 out
	fm_receiver udp "$to" udp-recv "$dst" "$dport" $((nflows * count)) 30
	out=$(ns_run "$from" timeout 60 "$FM_PY" "$FM_TOOLS/traffic.py" udp-send-ports "$dst" "$dport" \
		"$sport" "$nflows" "$count" "$payload") || fail "udp send to $dst:$dport failed"
	fm_receiver_done "^packets=$((nflows * count)) " "udp flows to $dst:$dport"
	fm_parse_sent "$out"
}

# COUNT Ethernet frames with VLAN tags TAGS (see traffic.py eth-send) carrying UDP datagrams,
# written on IFACE in NS to the other end of an Ethernet overlay.
send_tagged_udp() {	# NS IFACE SRCMAC DSTMAC TAGS SRC DST SPORT DPORT COUNT PAYLOAD
	local ns=$1 out
	shift
	out=$(ns_run "$ns" timeout 30 "$FM_PY" "$FM_TOOLS/traffic.py" eth-send "$@") ||
		fail "eth-send on $1 failed"
	fm_parse_sent "$out"
}

# ------------------------------------------------------------------------------------------------
# Independent meter (tests/tools/pktcount.py): counts per flow what IFACE sent and received, seen
# from a packet socket, GSO packets expanded into their segments.

meter_start() {	# NS IFACE -> METER_PID
	METER_LOG=$FM_LOG_DIR/meter-$2.log
	bg_start "$METER_LOG" "$1" "$FM_PY" "$FM_TOOLS/pktcount.py" "$2"
	METER_PID=$BG_PID
	wait_for_line 10 "$METER_LOG" '^ready' "$METER_PID" || fail "pktcount on $2 did not start"
}

# Stop the meter and write its JSON report to FILE; it must not have lost a packet.
meter_stop() {	# FILE
	stop_pid "$METER_PID" TERM 10
	tail -n 1 "$METER_LOG" >"$1"
	local lost
	lost=$("$FM_PY" "$FM_TOOLS/jsonq.py" "$1" 'd["drops"] + d["vnet_errors"]') ||
		fail "pktcount report unreadable: $(tail -n 3 "$METER_LOG")"
	assert_eq "$lost" 0 "packets the independent meter lost"
}

# Packets and octets of one flow in a pktcount report (0 0 if absent): METER_PACKETS METER_OCTETS.
meter_flow() {	# FILE DIRECTION PROTO SRC DST SPORT DPORT
	local out
	out=$("$FM_PY" "$FM_TOOLS/jsonq.py" "$1" \
		'[(f["packets"], f["octets"]) for f in d["flows"] if f["direction"] == a[0] and f["protocol"] == int(a[1]) and ip(f["src"]) == ip(a[2]) and ip(f["dst"]) == ip(a[3]) and f["src_port"] == int(a[4]) and f["dst_port"] == int(a[5])]' \
		"${@:2}")
	read -r METER_PACKETS METER_OCTETS <<<"${out:-0 0}"
}

# ------------------------------------------------------------------------------------------------
# flowmeta

require_flowmeta() {
	require_root
	require_bpffs
	[ -x "$FM_BIN" ] || skip "$FM_BIN not built"
	"$FM_BIN" --help >/dev/null 2>&1 || skip "$FM_BIN --help fails"
}

fm_pin_dir() {	# IFACE
	echo "$FM_BPFFS/fmE-$FM_TEST_NAME-$FM_ID-$1"
}

# A flowmeta subcommand on IFACE in NS with this test's pin directory.
fm_cmd() {	# NS SUBCOMMAND IFACE [ARGS...]
	local ns=$1 sub=$2 ifname=$3
	shift 3
	ns_run "$ns" "$FM_BIN" "$sub" -i "$ifname" --pin-dir "$(fm_pin_dir "$ifname")" "$@"
}

fm_register_attach() {	# NS IFACE
	local entry="$1 $2 $(fm_pin_dir "$2")" e
	for e in "${FM_ATTACHED[@]}"; do
		[ "$e" = "$entry" ] && return 0
	done
	FM_ATTACHED+=("$entry")
	FM_PINS+=("$(fm_pin_dir "$2")")
}

# `flowmeta run` on IFACE in NS in the background (stderr to FM_LOG), ready when `status --json`
# reports it running. Sets FM_PID and FM_LOG.
fm_start() {	# NS IFACE [RUN ARGS...]
	local ns=$1 ifname=$2
	shift 2
	fm_register_attach "$ns" "$ifname"
	FM_LOG=$FM_LOG_DIR/flowmeta-$ifname-$SECONDS-$RANDOM.log
	bg_start "$FM_LOG" "$ns" "$FM_BIN" run -i "$ifname" --pin-dir "$(fm_pin_dir "$ifname")" "$@"
	FM_PID=$BG_PID
	fm_forget_pid "$FM_PID"
	FM_FM_PIDS+=("$FM_PID")
	if ! wait_until 15 fm_ready_or_dead "$ns" "$ifname" "$FM_PID" || ! pid_alive "$FM_PID"; then
		fail "flowmeta run -i $ifname did not become ready: $(tail -n 3 "$FM_LOG" | tr '\n' ' ')"
	fi
}

# fm_start returns once `status` says running, which flowmeta reports as soon as it holds its pin
# directory: before the programs are verified and attached. Packets meanwhile are not metered, so
# a test that counts its first packets also waits for the daemon's "metering IFACE" line (logged
# once the programs are attached and the exporter is set up).
fm_wait_metering() {
	wait_for_line 30 "$FM_LOG" '^info: metering ' "$FM_PID" ||
		fail "flowmeta never said it is metering: $(tail -n 3 "$FM_LOG" | tr '\n' ' ')"
}

fm_ready_or_dead() {
	! pid_alive "$3" && return 0
	[ "$(fm_status "$1" "$2" running 2>/dev/null)" = true ]
}

# One field of `flowmeta status --json`.
fm_status() {	# NS IFACE KEY
	fm_cmd "$1" status "$2" --json | "$FM_PY" "$FM_TOOLS/jsonq.py" - 'd[a[0]]' "$3"
}

# `flowmeta flows --json` into FILE.
fm_flows() {	# NS IFACE FILE
	fm_cmd "$1" flows "$2" --json >"$3" || fail "flowmeta flows -i $2 failed"
}

fm_flow_count() {	# FILE
	"$FM_PY" "$FM_TOOLS/jsonq.py" "$1" 'len(d)'
}

# The one flow of a `flows --json` FILE with this key: FLOW_PACKETS FLOW_OCTETS FLOW_FLAGS
# FLOW_VERDICT. Fails if there is not exactly one.
fm_flow() {	# FILE DIRECTION PROTO SRC DST SPORT DPORT
	local out n
	out=$("$FM_PY" "$FM_TOOLS/jsonq.py" "$1" \
		'[(f["packets"], f["octets"], f["tcp_flags"], f["verdict"]) for f in d if f["direction"] == a[0] and f["protocol"] == int(a[1]) and ip(f["src"]) == ip(a[2]) and ip(f["dst"]) == ip(a[3]) and f["src_port"] == int(a[4]) and f["dst_port"] == int(a[5])]' \
		"${@:2}")
	n=$(echo -n "$out" | grep -c . || true)
	[ "$n" -eq 1 ] || fail "flows: $n flows match ${*:2} (want 1); table: $(cat "$1")"
	read -r FLOW_PACKETS FLOW_OCTETS FLOW_FLAGS FLOW_VERDICT <<<"$out"
}

# Assert one flow's packets and octets, and that it was forwarded.
assert_flow() {	# FILE DIRECTION PROTO SRC DST SPORT DPORT PACKETS OCTETS
	fm_flow "${@:1:7}"
	local what="$2 proto $3 $4:$6 -> $5:$7"
	assert_eq "$FLOW_PACKETS" "$8" "$what packets"
	assert_eq "$FLOW_OCTETS" "$9" "$what octets"
	assert_eq "$FLOW_VERDICT" forwarded "$what verdict"
}

# The interface index of IFACE in NS (what ingressInterface/egressInterface must carry).
fm_ifindex() {	# NS IFACE
	ip -n "$1" -j link show dev "$2" | "$FM_PY" "$FM_TOOLS/jsonq.py" - 'd[0]["ifindex"]'
}

# SIGTERM and wait (flowmeta exports and detaches on the way out); FM_EXIT is its exit status.
fm_stop() {	# PID [TIMEOUT]
	stop_pid "$1" TERM "${2:-15}"
	FM_EXIT=$BG_STATUS
}

# SIGKILL: the programs stay attached and keep counting into the pinned maps (SPEC §7).
fm_kill9() {	# PID
	kill -KILL "$1"
	bg_wait "$1" || true
}

# What is attached to IFACE: TC filters on clsact ingress/egress, programs on the tcx hooks ("tcx
# ingress: name NAME id PROG link LINK", tests/tools/tcx_query.py: Debian's bpftool predates tcx)
# and an XDP program, one line each.
attached_progs() {	# NS IFACE
	local ns=$1 ifname=$2 dir
	for dir in ingress egress; do
		ns_run "$ns" tc filter show dev "$ifname" "$dir" 2>/dev/null | sed "s/^/tc $dir: /"
	done
	ns_run "$ns" "$FM_PY" "$FM_TOOLS/tcx_query.py" "$ifname"
	ip -n "$ns" -d -j link show dev "$ifname" | "$FM_PY" "$FM_TOOLS/jsonq.py" - \
		'["xdp: " + str(x) for x in [d[0].get("xdp")] if x]'
}

# ------------------------------------------------------------------------------------------------
# IPFIX collectors. Each runs on ADDR:PORT (default 127.0.0.1) in NS ("" = this namespace),
# keeps its files in its own directory and, once stopped, yields its decoded flow records in
# the normal form of tests/tools/ipfix_norm.py:
#   src dst sport dport proto direction packets octets end_reason fwd_status
#
#   coll_start KIND NS PORT [ADDR]   KIND: tshark | ipfixdump | nfcapd | nfacctd
#   coll_stop KIND PORT              stop it, files complete
#   coll_records KIND PORT           normal lines on stdout
#   coll_seq_errors KIND PORT        sequence errors the collector reported ("-": cannot tell)
#   coll_options KIND PORT           options data records as name=value (tshark, ipfixdump)
#   coll_dest PORT [ADDR]            "Udp/ADDR:PORT", for flowmeta --collector
#
# tshark decodes afterwards what tests/tools/udp_sink.py received and wrote to a pcap file (not
# a dumpcap capture: dumpcap may still hold the last packets in its kernel ring when stopped right
# after them). ipfixDump reads the stream socat wrote to a file.
# nfcapd writes nfdump files (complete after SIGTERM). nfacctd uses the print plugin with custom
# primitives for flowDirection (61), flowEndReason (136), forwardingStatus (89) and ICMP type/code
# (32, 139), which it does not decode natively, and aggregates equal keys (compare sums).

declare -A FM_COLL_PIDS FM_COLL_DIR FM_COLL_NS

fm_coll_key() {
	echo "$1:$2"
}

udp_bound() {	# NS PORT
	ns_run "$1" ss -Hlun "sport = :$2" | grep . >/dev/null
}

coll_dest() {	# PORT [ADDR]
	local addr=${2:-127.0.0.1}
	case $addr in *:*) echo "Udp/[$addr]:$1" ;; *) echo "Udp/$addr:$1" ;; esac
}

fm_udp_recv_addr() {	# ADDR PORT -> socat address
	case $1 in *:*) echo "UDP6-RECV:$2,bind=[$1]" ;; *) echo "UDP4-RECV:$2,bind=$1" ;; esac
}

coll_start() {	# KIND NS PORT [ADDR]
	local kind=$1 ns=$2 port=$3 addr=${4:-127.0.0.1} key dir pids=
	key=$(fm_coll_key "$kind" "$port")
	dir=$FM_LOG_DIR/coll-$kind-$port
	mkdir -p "$dir"
	case $kind in
	tshark)
		require_cmd tshark
		bg_start "$dir/sink.log" "$ns" "$FM_PY" "$FM_TOOLS/udp_sink.py" "$addr" "$port" "$dir/cap.pcap"
		pids="$BG_PID"
		;;
	ipfixdump)
		require_cmd ipfixDump socat
		bg_start "$dir/socat.log" "$ns" socat -u "$(fm_udp_recv_addr "$addr" "$port")" \
			"OPEN:$dir/stream.ipfix,creat,trunc"
		pids="$BG_PID"
		;;
	nfcapd)
		require_cmd nfcapd nfdump
		mkdir -p "$dir/flows"
		local six=()
		case $addr in *:*) six=(-6) ;; esac
		bg_start "$dir/nfcapd.log" "$ns" nfcapd "${six[@]}" -w "$dir/flows" -b "$addr" -p "$port" -t 3600
		pids="$BG_PID"
		;;
	nfacctd)
		require_cmd nfacctd
		fm_nfacctd_config "$dir" "$addr" "$port"
		bg_start "$dir/nfacctd.log" "$ns" nfacctd -f "$dir/nfacctd.conf"
		pids="$BG_PID"
		# It ignores SIGTERM, and SIGKILL would orphan its plugin process.
		FM_PID_SIGNAL[$BG_PID]=INT
		# The core binds its socket before the print plugin is up; what it reads meanwhile
		# is lost. The plugin says when it is ready.
		wait_for_line 10 "$dir/nfacctd.log" 'j/print \): JSON: setting object handlers' "$BG_PID" ||
			fail "nfacctd print plugin did not start: $(tail -n 3 "$dir/nfacctd.log")"
		;;
	*) fail "unknown collector $kind" ;;
	esac
	wait_until 10 udp_bound "$ns" "$port" || fail "$kind did not bind port $port: $(tail -n 3 "$dir"/*.log)"
	FM_COLL_PIDS[$key]=$pids
	FM_COLL_DIR[$key]=$dir
	FM_COLL_NS[$key]=$ns
}

fm_nfacctd_config() {	# DIR ADDR PORT
	cat >"$1/primitives.lst" <<-EOF
		name=fm_dir field_type=61 len=1 semantics=u_int
		name=fm_end field_type=136 len=1 semantics=u_int
		name=fm_fwd field_type=89 len=1 semantics=u_int
		name=fm_icmp4 field_type=32 len=2 semantics=u_int
		name=fm_icmp6 field_type=139 len=2 semantics=u_int
	EOF
	cat >"$1/nfacctd.conf" <<-EOF
		daemonize: false
		nfacctd_ip: $2
		nfacctd_port: $3
		aggregate_primitives: $1/primitives.lst
		plugins: print[j]
		print_output[j]: json
		print_output_file[j]: $1/records.json
		print_output_file_append[j]: true
		print_refresh_time[j]: 1
		aggregate[j]: src_host, dst_host, src_port, dst_port, proto, tcpflags, fm_dir, fm_end, fm_fwd, fm_icmp4, fm_icmp6, export_proto_sysid, sampling_rate
	EOF
}

coll_stop() {	# KIND PORT
	local key pid
	key=$(fm_coll_key "$1" "$2")
	for pid in ${FM_COLL_PIDS[$key]}; do
		case $1 in
		# nfacctd purges its cache on SIGINT (and ignores SIGTERM).
		nfacctd) stop_pid "$pid" INT 15 ;;
		*) stop_pid "$pid" TERM 15 ;;
		esac
	done
}

coll_records() {	# KIND PORT
	local key dir
	key=$(fm_coll_key "$1" "$2")
	dir=${FM_COLL_DIR[$key]}
	case $1 in
	tshark)
		tshark -r "$dir/cap.pcap" -d "udp.port==$2,cflow" -T json -J cflow >"$dir/decoded.json" \
			2>"$dir/tshark.err"
		"$FM_PY" "$FM_TOOLS/ipfix_norm.py" tshark "$dir/decoded.json"
		;;
	ipfixdump)
		fm_ipfixdump "$dir"
		"$FM_PY" "$FM_TOOLS/ipfix_norm.py" ipfixdump "$dir/dump.txt"
		;;
	nfcapd)
		nfdump -R "$dir/flows" -o json >"$dir/flows.json" 2>"$dir/nfdump.err"
		"$FM_PY" "$FM_TOOLS/ipfix_norm.py" nfdump "$dir/flows.json"
		;;
	nfacctd)
		touch "$dir/records.json"
		"$FM_PY" "$FM_TOOLS/ipfix_norm.py" nfacctd "$dir/records.json"
		;;
	esac
}

fm_ipfixdump() {	# DIR
	: >"$1/dump.txt"
	: >"$1/dump.err"
	if [ -s "$1/stream.ipfix" ]; then
		ipfixDump --in "$1/stream.ipfix" >"$1/dump.txt" 2>"$1/dump.err" || true
	fi
}

coll_seq_errors() {	# KIND PORT
	local key dir
	key=$(fm_coll_key "$1" "$2")
	dir=${FM_COLL_DIR[$key]}
	case $1 in
	tshark)
		tshark -r "$dir/cap.pcap" -d "udp.port==$2,cflow" -Y cflow.sequence_analysis.expected_sn \
			-T fields -e frame.number 2>/dev/null | grep -c . || true
		;;
	ipfixdump)
		fm_ipfixdump "$dir"
		grep -c 'out of sequence' "$dir/dump.err" || true
		;;
	nfcapd)
		# nfdump counts one false error per message with options data records (IPFIX-NOTES).
		nfdump -R "$dir/flows" -I 2>/dev/null | awk '/^Sequence failures/ {n += $3} END {print n + 0}'
		;;
	*) echo - ;;
	esac
}

coll_options() {	# KIND PORT
	local key dir
	key=$(fm_coll_key "$1" "$2")
	dir=${FM_COLL_DIR[$key]}
	case $1 in
	tshark)
		tshark -r "$dir/cap.pcap" -d "udp.port==$2,cflow" -T json -J cflow >"$dir/decoded.json" \
			2>/dev/null
		"$FM_PY" "$FM_TOOLS/ipfix_norm.py" options tshark "$dir/decoded.json"
		;;
	ipfixdump)
		fm_ipfixdump "$dir"
		"$FM_PY" "$FM_TOOLS/ipfix_norm.py" options ipfixdump "$dir/dump.txt"
		;;
	*) fail "coll_options: $1 does not show options records" ;;
	esac
}

# Everything the collector decoded of each flow record, times and interfaces included, as the JSON
# array of tests/tools/ipfix_detail.py (records); it may run while the collector still receives
# (tshark, ipfixdump), after coll_stop for the others. ipfixDump and nfdump print times in the
# local zone without saying so: they run in UTC here.
coll_details() {	# KIND PORT
	local key dir
	key=$(fm_coll_key "$1" "$2")
	dir=${FM_COLL_DIR[$key]}
	case $1 in
	tshark | ipfixdump)
		fm_detail_input "$1" "$2" "$dir"
		"$FM_PY" "$FM_TOOLS/ipfix_detail.py" records "$1" "$FM_DETAIL_FILE"
		;;
	nfcapd)
		TZ=UTC nfdump -R "$dir/flows" -o json >"$dir/flows-utc.json" 2>"$dir/nfdump.err"
		"$FM_PY" "$FM_TOOLS/ipfix_detail.py" records nfdump "$dir/flows-utc.json"
		;;
	nfacctd)
		touch "$dir/records.json"
		"$FM_PY" "$FM_TOOLS/ipfix_detail.py" records nfacctd "$dir/records.json"
		;;
	esac
}

# Every IPFIX message the collector received, in order (tshark, ipfixdump): the JSON array of
# tests/tools/ipfix_detail.py messages (length, sequence number, set IDs, record counts, the
# options records' values; tshark also gives the arrival time and the sender's address and port).
coll_messages() {	# KIND PORT
	local key dir
	key=$(fm_coll_key "$1" "$2")
	dir=${FM_COLL_DIR[$key]}
	case $1 in
	tshark | ipfixdump)
		fm_detail_input "$1" "$2" "$dir"
		"$FM_PY" "$FM_TOOLS/ipfix_detail.py" messages "$1" "$FM_DETAIL_FILE"
		;;
	*) fail "coll_messages: $1 does not show messages" ;;
	esac
}

# Decode what a tshark or ipfixDump collector received, in full, for ipfix_detail.py; sets
# FM_DETAIL_FILE to the decoded file.
fm_detail_input() {	# KIND PORT DIR
	case $1 in
	tshark)
		tshark -r "$3/cap.pcap" -d "udp.port==$2,cflow" -T json -J "frame ip ipv6 udp cflow" \
			>"$3/detail.json" 2>"$3/tshark.err"
		FM_DETAIL_FILE=$3/detail.json
		;;
	ipfixdump)
		fm_ipfixdump_utc "$3"
		FM_DETAIL_FILE=$3/dump-utc.txt
		;;
	esac
}

fm_ipfixdump_utc() {	# DIR
	: >"$1/dump-utc.txt"
	if [ -s "$1/stream.ipfix" ]; then
		TZ=UTC ipfixDump --in "$1/stream.ipfix" >"$1/dump-utc.txt" 2>"$1/dump-utc.err" || true
	fi
}

# Compare normal lines: EXPECTED and ACTUAL files, "-" columns (in either) not compared.
assert_records() {	# EXPECTED ACTUAL WHAT
	local diff
	diff=$("$FM_PY" "$FM_TOOLS/ipfix_norm.py" match "$1" "$2") ||
		fail "$3: $(echo "$diff" | head -n 4 | tr '\n' ';')"
}

# ------------------------------------------------------------------------------------------------
# Packet capture to a pcap file (for softflowd -r and for debugging).

pcap_start() {	# NS IFACE FILE -> PCAP_PID
	bg_start "$3.log" "$1" dumpcap -q -P -i "$2" -w "$3"
	PCAP_PID=$BG_PID
	wait_for_line 10 "$3.log" 'Capturing on' "$PCAP_PID" || fail "dumpcap on $2 did not start"
}

pcap_stop() {	# PID
	stop_pid "$1" INT 10
}
