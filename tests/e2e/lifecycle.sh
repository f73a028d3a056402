#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# End-to-end tests of flowmeta's lifecycle as a collector sees it: node A of a two-node tun overlay
# is metered, its records go to ipfixDump (a real IPFIX decoder) on loopback, and the records are
# compared with the traffic sent, exactly. Covered: the Direction filter, Interval 0 against
# interim records, Enabled false and no collector, SIGHUP reloads under traffic (valid and
# invalid files), SIGTERM flush, kill -9 and restart, the interface vanishing, pin directories
# (shared with another tool, another tool's pins of flowmeta's names, a newer flowmeta's pins, the
# upgrade from the previous layout), MaxFlows changed across a crash, bad configurations, a second
# instance, and `status --json` against what the collector received.
# Configurations are written by each test (tests/lib_lifecycle.sh): polls every second, idle flows
# end after 1.5 s unless a test says otherwise, templates only at start, reload and stop.
source "$(dirname "$0")/../lib_lifecycle.sh"
source "$(dirname "$0")/../lib_bpf.sh"

LC_PING_SIZE=56		# 84 octets per IPv4 echo packet, 104 per IPv6 one

# Overlay up and a collector on LC_PORT1 in A's namespace.
lc_setup() {
	require_flowmeta
	require_cmd socat ping ipfixDump
	topo_overlay tun
	LC_CONF=$FM_LOG_DIR/flowmeta.json
	lc_coll_start "$LC_PORT1"
}

lc_collector1() {
	coll_dest "$LC_PORT1"
}

# Expected normal lines of the echo flows of COUNT pings of SIZE from A to DST: the egress
# request and the ingress reply, each a single record with REASON.
lc_echo_lines() {	# DST COUNT SIZE REASON [egress|ingress|both]
	local dst=$1 count=$2 size=$3 reason=$4 which=${5:-both} octets src req rep proto
	octets=$((count * ($(fm_ip_hdr "$dst") + 8 + size)))
	case $dst in
	*:*) src=$FM_A6 req=$LC_ICMP6_ECHO rep=$LC_ICMP6_REPLY proto=58 ;;
	*) src=$FM_A4 req=$LC_ICMP_ECHO rep=0 proto=1 ;;
	esac
	[ "$which" = ingress ] ||
		echo "$src $dst 0 $req $proto egress $count $octets $reason $LC_FWD"
	[ "$which" = egress ] ||
		echo "$dst $src 0 $rep $proto ingress $count $octets $reason $LC_FWD"
}

# ------------------------------------------------------------------------------------------------
# Direction

# Pings both families; the collector gets exactly the flows the Direction lets through, each once
# (flowEndReason 1, idle), with the pings' exact counts; nothing else, also after the stop.
test_direction() {	# Both|SendingToPeer|ReceivedFromPeer
	lc_setup
	local which exp=$FM_LOG_DIR/expected want
	case $1 in
	Both) which=both want=4 ;;
	SendingToPeer) which=egress want=2 ;;
	ReceivedFromPeer) which=ingress want=2 ;;
	esac
	lc_config "$LC_CONF" "{\"Direction\": \"$1\", \"IpFixCollectors\": [\"$(lc_collector1)\"]}"
	lc_start "$FM_NS_A" "$FM_IF_A" -c "$LC_CONF"
	send_ping "$FM_NS_A" "$FM_B4" 5 100
	send_ping "$FM_NS_A" "$FM_B6" 3 300
	{
		lc_echo_lines "$FM_B4" 5 100 "$LC_END_IDLE" "$which"
		lc_echo_lines "$FM_B6" 3 300 "$LC_END_IDLE" "$which"
	} >"$exp"
	lc_wait_records "$LC_PORT1" "$want"
	# All four flows ended (idle) once the kernel table is empty: the filtered ones too.
	wait_until 10 lc_table_empty || fail "flows still live: $(cat "$FM_LOG_DIR/flows-empty.json")"
	fm_stop "$FM_PID"
	assert_eq "$FM_EXIT" 0 "exit status on SIGTERM"
	lc_assert_records "$LC_PORT1" "$exp" "Direction $1: records"
	assert_eq "$(lc_totals "$LC_PORT1" | awk '{print $NF}')" 0 "sequence errors"
}

lc_table_empty() {
	fm_flows "$FM_NS_A" "$FM_IF_A" "$FM_LOG_DIR/flows-empty.json"
	[ "$(fm_flow_count "$FM_LOG_DIR/flows-empty.json")" -eq 0 ]
}

# ------------------------------------------------------------------------------------------------
# Interval

# Interval 0: pings for 4 s (no gap near IdleTimeout) give exactly one record per flow, at its
# end (flowEndReason 1), with all of the pings.
test_interval_zero() {
	lc_setup
	local exp=$FM_LOG_DIR/expected
	lc_config "$LC_CONF" "{\"Interval\": 0, \"IpFixCollectors\": [\"$(lc_collector1)\"]}"
	lc_start "$FM_NS_A" "$FM_IF_A" -c "$LC_CONF"
	lc_ping_start "$FM_NS_A" "$FM_B4" 200 "$LC_PING_SIZE" 0.02
	lc_ping_wait
	lc_echo_lines "$FM_B4" 200 "$LC_PING_SIZE" "$LC_END_IDLE" >"$exp"
	lc_wait_records "$LC_PORT1" 2
	fm_stop "$FM_PID"
	assert_eq "$FM_EXIT" 0 "exit status on SIGTERM"
	lc_assert_records "$LC_PORT1" "$exp" "Interval 0: one record per flow"
}

# Interval = 2 x PollInterval with pings for 7 s: each flow gets several interim records
# (flowEndReason 2), each with new packets, then one end record, and the records of a flow sum to
# the pings exactly.
test_interval_interim() {
	lc_setup
	local dir src dst dport proto reasons r n2
	lc_config "$LC_CONF" "{\"Interval\": 2000, \"IpFixCollectors\": [\"$(lc_collector1)\"]}"
	lc_start "$FM_NS_A" "$FM_IF_A" -c "$LC_CONF"
	lc_ping_start "$FM_NS_A" "$FM_B4" 350 "$LC_PING_SIZE" 0.02
	lc_ping_wait
	for dir in egress ingress; do
		lc_echo_flow "$dir"
		lc_wait_sum "$SENT_PACKETS" "$SENT_OCTETS" "$LC_PORT1" "$src" "$dst" 0 "$dport" "$proto" "$dir"
	done
	fm_stop "$FM_PID"
	assert_eq "$FM_EXIT" 0 "exit status on SIGTERM"
	for dir in egress ingress; do
		lc_echo_flow "$dir"
		assert_eq "$(lc_flow_sum "$LC_PORT1" "$src" "$dst" 0 "$dport" "$proto" "$dir")" \
			"$SENT_PACKETS $SENT_OCTETS" "$dir echo flow: sum over its records after the stop"
		reasons=$(lc_flow_reasons "$LC_PORT1" "$src" "$dst" 0 "$dport" "$proto" "$dir")
		n2=0
		for r in $reasons; do
			case $r in
			2) n2=$((n2 + 1)) ;;
			1 | 4) ;;
			*) fail "$dir echo flow: flowEndReason $r in \"$reasons\" (want 2s, then one 1 or 4)" ;;
			esac
		done
		assert_ge "$n2" 2 "$dir echo flow: interim records (reasons: $reasons)"
		# The last record says how the flow ended: idle, or the stop that came first.
		[[ $reasons =~ ^(2 )+[14]$ ]] || fail "$dir echo flow: reasons in order \"$reasons\""
		# Deltas: no interim record is empty (only the end record may carry zero counts).
		! lc_records "$LC_PORT1" | awk -v d="$dir" '$6 == d && $7 == 0 && $9 == 2' |
			grep . >/dev/null || fail "$dir echo flow: an interim record with 0 packets"
	done
}

# Sets src dst dport proto of the IPv4 echo flow of DIRECTION seen from A.
lc_echo_flow() {	# egress|ingress
	proto=1
	if [ "$1" = egress ]; then
		src=$FM_A4 dst=$FM_B4 dport=$LC_ICMP_ECHO
	else
		src=$FM_B4 dst=$FM_A4 dport=0
	fi
}

# ------------------------------------------------------------------------------------------------
# Enabled

# Enabled false: the collector receives nothing at all (no template either), at start, at polls
# and at the stop, while the flows are metered with exact counts.
test_enabled_false() {
	lc_setup
	lc_config "$LC_CONF" \
		"{\"Enabled\": false, \"IdleTimeout\": 60000, \"IpFixCollectors\": [\"$(lc_collector1)\"]}"
	lc_start "$FM_NS_A" "$FM_IF_A" -c "$LC_CONF"
	grep -q 'Enabled false: nothing is exported' "$FM_LOG" || fail "no log line saying Enabled false"
	send_ping "$FM_NS_A" "$FM_B4" 6 100
	local flows=$FM_LOG_DIR/flows.json
	fm_flows "$FM_NS_A" "$FM_IF_A" "$flows"
	assert_flow "$flows" egress 1 "$FM_A4" "$FM_B4" 0 "$LC_ICMP_ECHO" "$SENT_PACKETS" "$SENT_OCTETS"
	assert_flow "$flows" ingress 1 "$FM_B4" "$FM_A4" 0 0 "$SENT_PACKETS" "$SENT_OCTETS"
	assert_eq "$(fm_flow_count "$flows")" 2 "flows in the table"
	# Polls happen (and send nothing).
	wait_until 10 lc_polls_at_least 3 || fail "the daemon does not poll"
	assert_eq "$(lc_exporter_field exporting)" false "status exporter.exporting"
	fm_stop "$FM_PID"
	assert_eq "$FM_EXIT" 0 "exit status on SIGTERM"
	lc_assert_silent "$LC_PORT1" "Enabled false"
}

lc_exporter_field() {	# KEY
	fm_cmd "$FM_NS_A" status "$FM_IF_A" --json | "$FM_PY" "$FM_TOOLS/jsonq.py" - \
		'd["exporter"][a[0]]' "$1"
}

lc_polls_at_least() {	# N
	[ "$(lc_exporter_field polls)" -ge "$1" ]
}

# Enabled true and no collector: a warning in the log, and metering runs (exact flows).
test_enabled_no_collector() {
	require_flowmeta
	require_cmd socat ping
	topo_overlay tun
	LC_CONF=$FM_LOG_DIR/flowmeta.json
	lc_config "$LC_CONF" '{"Enabled": true, "IdleTimeout": 60000}'
	lc_start "$FM_NS_A" "$FM_IF_A" -c "$LC_CONF"
	grep -q '^warning: .*no collector' "$FM_LOG" ||
		fail "no warning about the missing collector: $(tr '\n' '|' <"$FM_LOG")"
	send_ping "$FM_NS_A" "$FM_B4" 4 200
	local flows=$FM_LOG_DIR/flows.json
	fm_flows "$FM_NS_A" "$FM_IF_A" "$flows"
	assert_flow "$flows" egress 1 "$FM_A4" "$FM_B4" 0 "$LC_ICMP_ECHO" "$SENT_PACKETS" "$SENT_OCTETS"
	assert_flow "$flows" ingress 1 "$FM_B4" "$FM_A4" 0 0 "$SENT_PACKETS" "$SENT_OCTETS"
	assert_eq "$(lc_exporter_field exporting)" false "status exporter.exporting"
	fm_stop "$FM_PID"
	assert_eq "$FM_EXIT" 0 "exit status on SIGTERM"
}

# ------------------------------------------------------------------------------------------------
# Reload

# Pings at 50/s for 15 s while the file is rewritten twice, each time followed by SIGHUP:
#   v1 (start): collector 1, Direction Both, Interval 0
#   v2: collectors 1 and 2, Direction SendingToPeer, Interval 2000
#   v3: collectors 1 and 2, Direction Both, Interval 0
# Afterwards: collector 1's records of each flow sum to the pings exactly; the programs, on tcx
# links, were never replaced (same ids); templates went to every collector at start, after each reload and at the
# stop, and collector 2's first message carried them; while v2 was in force, only egress records
# (interim, flowEndReason 2) were sent; collector 2 got exactly what collector 1 got from v2 on.
test_reload_under_traffic() {
	lc_setup
	local port2=$LC_PORT2 c1 c2 before after dir src dst dport proto t1 t2 slice bad
	lc_coll_start "$port2"
	c1=$(lc_collector1)
	c2=$(coll_dest "$port2")
	lc_config "$LC_CONF" "{\"IdleTimeout\": 3000, \"IpFixCollectors\": [\"$c1\"]}"
	lc_start "$FM_NS_A" "$FM_IF_A" -c "$LC_CONF"
	before=$(lc_prog_ids "$FM_NS_A" "$FM_IF_A")
	assert_eq "$(echo "$before" | grep -c '^tcx ' || true)" 2 \
		"programs attached (tcx ingress and egress): $(echo "$before" | tr '\n' ';')"
	assert_eq "$(fm_status "$FM_NS_A" "$FM_IF_A" tc_attach)" tcx "status tc_attach"
	lc_ping_start "$FM_NS_A" "$FM_B4" 750 "$LC_PING_SIZE" 0.02
	wait_until 10 lc_requests_at_least "$FM_B4" 50 || fail "pings are not counted"

	lc_config "$LC_CONF" "{\"IdleTimeout\": 3000, \"IpFixCollectors\": [\"$c1\", \"$c2\"],
		\"Direction\": \"SendingToPeer\", \"Interval\": 2000}"
	lc_sighup 1
	grep -q 'reloaded the configuration .*interval 2000 ms.*direction SendingToPeer, 2 collector' \
		"$FM_LOG" || fail "reload 1 logged other settings: $(grep reloaded "$FM_LOG")"
	# Two interim records of the request flow under v2 (the flow is older than Interval by now).
	wait_until 15 lc_has_records "$port2" 2 || fail "collector 2 got no interim records under v2"

	lc_config "$LC_CONF" "{\"IdleTimeout\": 3000, \"IpFixCollectors\": [\"$c1\", \"$c2\"],
		\"Direction\": \"Both\", \"Interval\": 0}"
	lc_sighup 2
	pid_alive "$LC_PING_PID" || fail "the pings ended before the second reload: test too slow"
	lc_ping_wait
	for dir in egress ingress; do
		lc_echo_flow "$dir"
		lc_wait_sum "$SENT_PACKETS" "$SENT_OCTETS" "$LC_PORT1" "$src" "$dst" 0 "$dport" "$proto" "$dir"
	done
	after=$(lc_prog_ids "$FM_NS_A" "$FM_IF_A")
	assert_eq "$after" "$before" "programs attached after two reloads (same ids)"
	assert_eq "$(fm_status "$FM_NS_A" "$FM_IF_A" running)" true "status running"
	fm_stop "$FM_PID"
	assert_eq "$FM_EXIT" 0 "exit status on SIGTERM"

	for dir in egress ingress; do
		lc_echo_flow "$dir"
		assert_eq "$(lc_flow_sum "$LC_PORT1" "$src" "$dst" 0 "$dport" "$proto" "$dir")" \
			"$SENT_PACKETS $SENT_OCTETS" "collector 1: $dir echo flow total after two reloads"
	done
	# Templates: start, reload 1, reload 2, stop for collector 1; reload 1 (its first message),
	# reload 2, stop for collector 2.
	local tm1 tm2
	tm1=$(lc_template_messages "$LC_PORT1")
	tm2=$(lc_template_messages "$port2")
	assert_eq "$(echo "$tm1" | wc -w)" 4 \
		"collector 1: template messages (start, 2 reloads, stop: $tm1)"
	assert_eq "$(echo "$tm2" | wc -w)" 3 "collector 2: template messages (2 reloads, stop: $tm2)"
	assert_eq "${tm1%% *}" 0 "collector 1: first message carries the templates"
	assert_eq "${tm2%% *}" 0 "collector 2: first message carries the templates"
	assert_eq "$(lc_totals "$LC_PORT1" | awk '{print $NF}')" 0 "collector 1: sequence errors"
	assert_eq "$(lc_totals "$port2" | awk '{print $NF}')" 0 "collector 2: sequence errors"

	# Under v2 (collector 1's messages from its second template message to its third): only
	# interim records of the egress request flow.
	read -r _ t1 t2 _ <<<"$tm1"
	slice=$(lc_slice_records "$LC_PORT1" "$t1" "$t2")
	[ -n "$slice" ] || fail "collector 1: no record while v2 was in force"
	bad=$(echo "$slice" |
		grep -Ev "^$FM_A4 $FM_B4 0 $LC_ICMP_ECHO 1 egress [0-9]+ [0-9]+ $LC_END_ACTIVE $LC_FWD\$" || true)
	[ -z "$bad" ] ||
		fail "collector 1 under v2 (SendingToPeer, Interval 2000): $(echo "$bad" | tr '\n' ';')"
	# Collector 2 got from reload 1 on exactly what collector 1 got.
	lc_slice_records "$LC_PORT1" "$t1" >"$FM_LOG_DIR/c1-from-v2"
	lc_records "$port2" >"$FM_LOG_DIR/c2"
	assert_records "$FM_LOG_DIR/c1-from-v2" "$FM_LOG_DIR/c2" \
		"collector 2 against collector 1 from reload 1 on"
}

# A bad file on SIGHUP: one warning line naming the key (or the JSON position), the daemon keeps
# running with the old settings (SendingToPeer: egress records only, Interval 0: one record).
test_reload_invalid() {
	lc_setup
	local exp=$FM_LOG_DIR/expected c1 warn='^warning: reload: '
	c1=$(lc_collector1)
	lc_config "$LC_CONF" "{\"Direction\": \"SendingToPeer\", \"IpFixCollectors\": [\"$c1\"]}"
	lc_start "$FM_NS_A" "$FM_IF_A" -c "$LC_CONF"
	# Would export ingress only, with interim records: rejected, Interval is not a multiple.
	lc_config "$LC_CONF" "{\"Direction\": \"ReceivedFromPeer\", \"Interval\": 1500,
		\"IpFixCollectors\": [\"$c1\"]}"
	local lines
	lines=$(wc -l <"$FM_LOG")
	lc_sighup 1 "$warn"
	assert_eq "$(lc_log_count "$warn")" 1 "reload warnings"
	# The whole of it: "SIGHUP: reloading FILE" and the one warning line.
	assert_eq $(($(wc -l <"$FM_LOG") - lines)) 2 "log lines of a bad reload ($(tail -n 3 "$FM_LOG" |
		tr '\n' '|'))"
	grep "$warn" "$FM_LOG" | grep 'Interval' >/dev/null ||
		fail "the warning does not name Interval: $(grep "$warn" "$FM_LOG")"
	# A JSON syntax error: the position is named.
	lc_raw_config "$LC_CONF" '{"FlowMetadata": {"Direction": "ReceivedFromPeer",}}'
	lc_sighup 2 "$warn"
	grep "$warn" "$FM_LOG" | tail -n 1 | grep -Eq ':[0-9]+:[0-9]+: JSON syntax error' ||
		fail "the warning does not give the position: $(grep "$warn" "$FM_LOG" | tail -n 1)"
	assert_eq "$(lc_log_count 'reloaded the configuration')" 0 "reloads applied"
	pid_alive "$FM_PID" || fail "flowmeta died on a bad reload"
	send_ping "$FM_NS_A" "$FM_B4" 6 100
	lc_echo_lines "$FM_B4" 6 100 "$LC_END_IDLE" egress >"$exp"
	lc_wait_records "$LC_PORT1" 1
	wait_until 10 lc_table_empty || fail "flows still live"
	fm_stop "$FM_PID"
	assert_eq "$FM_EXIT" 0 "exit status on SIGTERM"
	lc_assert_records "$LC_PORT1" "$exp" "records under the old configuration"
}

# ------------------------------------------------------------------------------------------------
# Stop, crash, interface loss

# SIGTERM with live flows (IdleTimeout 60 s): each exported once with flowEndReason 4 and exact
# counts; exit 0; nothing attached or pinned afterwards.
test_sigterm_flush() {
	lc_setup
	local exp=$FM_LOG_DIR/expected
	lc_config "$LC_CONF" "{\"IdleTimeout\": 60000, \"IpFixCollectors\": [\"$(lc_collector1)\"]}"
	lc_start "$FM_NS_A" "$FM_IF_A" -c "$LC_CONF"
	send_ping "$FM_NS_A" "$FM_B4" 7 100
	lc_echo_lines "$FM_B4" 7 100 "$LC_END_FORCED" >"$exp"
	send_ping "$FM_NS_A" "$FM_B6" 3 500
	lc_echo_lines "$FM_B6" 3 500 "$LC_END_FORCED" >>"$exp"
	send_udp "$FM_NS_A" "$FM_NS_B" "$FM_B4" 5001 40001 9 700
	echo "$FM_A4 $FM_B4 40001 5001 17 egress $SENT_PACKETS $SENT_OCTETS $LC_END_FORCED $LC_FWD" \
		>>"$exp"
	# Still live, and nothing exported yet.
	fm_flows "$FM_NS_A" "$FM_IF_A" "$FM_LOG_DIR/flows.json"
	assert_eq "$(fm_flow_count "$FM_LOG_DIR/flows.json")" 5 "live flows before SIGTERM"
	assert_eq "$(lc_record_count "$LC_PORT1")" 0 "records before SIGTERM"
	fm_stop "$FM_PID"
	assert_eq "$FM_EXIT" 0 "exit status on SIGTERM"
	grep -q 'ended the 5 remaining flows (flowEndReason 4)' "$FM_LOG" ||
		fail "no log line for the 5 flows ended: $(tail -n 4 "$FM_LOG" | tr '\n' '|')"
	lc_assert_records "$LC_PORT1" "$exp" "records at SIGTERM"
	lc_assert_nothing_attached "$FM_NS_A" "$FM_IF_A" "$(fm_pin_dir "$FM_IF_A")" "after SIGTERM"
}

# Start and SIGTERM five times in a row, with a collector (its sends shape the daemon's stack):
# each time the interface is left as it was found, clsact qdisc included. Repeated because what
# decides it can be uninitialised memory (see the report of lifecycle_sigterm_*).
test_sigterm_cycles() {
	require_flowmeta
	require_cmd ipfixDump socat
	lc_single_ns
	FM_NS_A=$LC_NS
	local i
	lc_coll_start "$LC_PORT1" "$LC_NS"
	for i in 1 2 3 4 5; do
		lc_start "$LC_NS" "$LC_IF" --collector "$(coll_dest "$LC_PORT1")"
		fm_stop "$FM_PID"
		assert_eq "$FM_EXIT" 0 "exit status on SIGTERM, cycle $i"
		lc_assert_nothing_attached "$LC_NS" "$LC_IF" "$(fm_pin_dir "$LC_IF")" "after SIGTERM, cycle $i"
	done
}

# Pings at 50/s through kill -9, a dead period and a restart; with Interval 2000 interim records
# go out before the crash. The records of each flow sum to every ping, exactly: what the dead
# daemon exported is not exported again, what was counted while none ran is not lost.
# With "usr2" the daemon is not killed but hands over (SIGUSR2, what the package's upgrade
# sends): it exits 0 without ending a flow or detaching, and the restart continues each
# collector's stream at the sequence number where it stopped.
test_kill9_restart() {	# INTERVAL_MS [usr2]
	lc_setup
	local interval=$1 how=${2:-kill9} dir src dst dport proto at_kill total_p total_o
	local forced_before
	lc_config "$LC_CONF" \
		"{\"Interval\": $interval, \"IdleTimeout\": 3000, \"IpFixCollectors\": [\"$(lc_collector1)\"]}"
	lc_start "$FM_NS_A" "$FM_IF_A" -c "$LC_CONF"
	# A first burst, exported before the crash (idle end).
	send_ping "$FM_NS_A" "$FM_B4" 10 "$LC_PING_SIZE"
	total_p=$SENT_PACKETS total_o=$SENT_OCTETS
	lc_wait_records "$LC_PORT1" 2
	lc_ping_start "$FM_NS_A" "$FM_B4" 600 "$LC_PING_SIZE" 0.02
	if [ "$interval" -gt 0 ]; then
		# Interim records of the running flows reached the collector.
		lc_wait_records "$LC_PORT1" 4
	else
		wait_until 10 lc_requests_at_least "$FM_B4" 50 || fail "pings are not counted"
	fi
	if [ "$how" = usr2 ]; then
		stop_pid "$FM_PID" USR2 10
		assert_eq "$BG_STATUS" 0 "exit status on SIGUSR2"
		grep -q 'stay attached: the next flowmeta run adopts' "$FM_LOG" ||
			fail "no handover in the log: $(tail -n 3 "$FM_LOG" | tr '\n' '|')"
		[ -n "$(attached_progs "$FM_NS_A" "$FM_IF_A")" ] ||
			fail "nothing attached to $FM_IF_A after the handover"
		forced_before=$(lc_records "$LC_PORT1" | awk -v f=$LC_END_FORCED '$9 == f' | wc -l)
		assert_eq "$forced_before" 0 "records ended by the stop (flowEndReason 4) at the handover"
	else
		fm_kill9 "$FM_PID"
	fi
	at_kill=$(lc_live_requests "$FM_B4")
	# Traffic while no daemon runs: counted in the pinned maps.
	wait_until 10 lc_requests_at_least "$FM_B4" $((at_kill + 50)) ||
		fail "pings not counted while the daemon is dead"
	pid_alive "$LC_PING_PID" || fail "the pings ended before the restart: test too slow"
	lc_start "$FM_NS_A" "$FM_IF_A" -c "$LC_CONF"
	grep -q 'adopted the counts of an earlier instance' "$FM_LOG" || fail "the restart did not adopt"
	if [ "$how" = usr2 ]; then
		grep -q 'continuing the stream at sequence number [1-9]' "$FM_LOG" ||
			fail "the restart did not continue the collector's stream: $(tr '\n' '|' <"$FM_LOG")"
	fi
	if [ "$interval" -gt 0 ]; then
		grep -q 'continuing [0-9]* flows from the export state' "$FM_LOG" ||
			fail "the restart did not load the export state: $(tr '\n' '|' <"$FM_LOG")"
	fi
	lc_ping_wait
	total_p=$((total_p + SENT_PACKETS)) total_o=$((total_o + SENT_OCTETS))
	send_ping "$FM_NS_A" "$FM_B4" 5 "$LC_PING_SIZE"
	total_p=$((total_p + SENT_PACKETS)) total_o=$((total_o + SENT_OCTETS))
	for dir in egress ingress; do
		lc_echo_flow "$dir"
		lc_wait_sum "$total_p" "$total_o" "$LC_PORT1" "$src" "$dst" 0 "$dport" "$proto" "$dir"
	done
	fm_stop "$FM_PID"
	assert_eq "$FM_EXIT" 0 "exit status on SIGTERM"
	for dir in egress ingress; do
		lc_echo_flow "$dir"
		assert_eq "$(lc_flow_sum "$LC_PORT1" "$src" "$dst" 0 "$dport" "$proto" "$dir")" \
			"$total_p $total_o" "$dir echo flow: sum over all records (kill -9, restart, stop)"
	done
	# Zero counts only in an end record (after an interim one that took the last packets).
	! lc_records "$LC_PORT1" | awk -v active=$LC_END_ACTIVE '$7 == 0 && $9 == active' |
		grep . >/dev/null || fail "an interim record with 0 packets"
	lc_assert_nothing_attached "$FM_NS_A" "$FM_IF_A" "$(fm_pin_dir "$FM_IF_A")" "after the stop"
}

# ------------------------------------------------------------------------------------------------
# Upgrade safety (SPEC §7)

LC_PORT_UPGRADE=4721	# the collector of the MaxFlows case, in its own namespace

# ------------------------------------------------------------------------------------------------
# Pin directories (SPEC §7): flowmeta touches only its own pins (the marker flowmeta_owner records
# them), recognises the previous version's, and creates no directory it then refuses.

# A pin directory shared with another tool (pins of other names): flowmeta pins there, and its stop
# removes only its own pins, never the other tool's, nor the directory holding them; `flowmeta
# detach` after that finds nothing of flowmeta's and leaves the rest (exit 0).
test_pin_dir_shared_with_another_tool() {
	require_flowmeta
	require_cmd bpftool
	# shellcheck disable=SC2034 # ns_new's namespace prefix (tests/lib.sh)
	FM_NS_PREFIX=fmT
	lc_single_ns
	local conf=$FM_LOG_DIR/flowmeta.json pin id
	pin=$(fm_pin_dir "$LC_IF")
	lc_config "$conf" '{}'
	mkdir -m 0700 "$pin"
	bpf_foreign_map "$pin/other_tool" other_tool
	id=$(bpf_pin_id "$pin/other_tool")
	lc_start "$LC_NS" "$LC_IF" -c "$conf"
	[ -e "$pin/flows" ] && [ -e "$pin/flowmeta_owner" ] ||
		fail "flowmeta pinned nothing in $pin: $(bpf_pins "$pin")"
	fm_stop "$FM_PID"
	assert_eq "$FM_EXIT" 0 "exit status on SIGTERM"
	assert_eq "$(bpf_pins "$pin")" "other_tool " "pins left in $pin after SIGTERM"
	assert_eq "$(bpf_pin_id "$pin/other_tool")" "$id" "id of the other tool's pin"
	lc_run "$LC_NS" detach -i "$LC_IF" --pin-dir "$pin"
	assert_eq "$LC_RC" 0 "exit status of detach ($(tr '\n' '|' <"$LC_ERR"))"
	assert_eq "$(bpf_pins "$pin")" "other_tool " "pins left in $pin after detach"
}

# Another tool's pins named like flowmeta's (`flows`, `stats`): `run` refuses with exit 1 and one
# line naming the pin, attaches nothing and pins nothing there (no marker either); `status` and
# `flows` refuse to read them as flowmeta's; `detach` leaves them (exit 0). Their ids never change.
test_pin_dir_with_another_tools_flows() {
	require_flowmeta
	require_cmd bpftool
	# shellcheck disable=SC2034 # ns_new's namespace prefix (tests/lib.sh)
	FM_NS_PREFIX=fmT
	lc_single_ns
	local conf=$FM_LOG_DIR/flowmeta.json pin ids cmd
	pin=$(fm_pin_dir "$LC_IF")
	fm_register_attach "$LC_NS" "$LC_IF"
	lc_config "$conf" '{}'
	mkdir -m 0700 "$pin"
	bpf_foreign_map "$pin/flows" flows percpu_hash 40 32
	bpf_foreign_map "$pin/stats" stats
	ids="$(bpf_pin_id "$pin/flows") $(bpf_pin_id "$pin/stats")"
	lc_run "$LC_NS" run -i "$LC_IF" --pin-dir "$pin" -c "$conf"
	assert_eq "$LC_RC" 1 "exit status of run over another tool's flows"
	lc_assert_one_line "$pin/flows is not flowmeta's" "run over another tool's flows"
	assert_eq "$(lc_prog_ids "$LC_NS" "$LC_IF")" "" "programs attached after the refusal"
	! ns_run "$LC_NS" tc qdisc show dev "$LC_IF" | grep clsact >/dev/null ||
		fail "clsact qdisc left on $LC_IF after the refusal"
	for cmd in status flows; do
		lc_run "$LC_NS" "$cmd" -i "$LC_IF" --pin-dir "$pin"
		assert_eq "$LC_RC" 1 "exit status of $cmd over another tool's flows"
		lc_assert_one_line "$pin/flows is not flowmeta's" "$cmd over another tool's flows"
	done
	lc_run "$LC_NS" detach -i "$LC_IF" --pin-dir "$pin"
	assert_eq "$LC_RC" 0 "exit status of detach ($(tr '\n' '|' <"$LC_ERR"))"
	assert_eq "$(bpf_pins "$pin")" "flows stats " "pins after run, status, flows and detach"
	assert_eq "$(bpf_pin_id "$pin/flows") $(bpf_pin_id "$pin/stats")" "$ids" \
		"ids of the other tool's pins"
}

# Another tool's pin named like flowmeta's tcx link (`link_tc_egress`, a map here): `run` refuses
# with exit 1 and one line naming it, attaches nothing (no tcx link, no clsact qdisc) and pins
# nothing; `detach` leaves it (exit 0), its id unchanged. Then flowmeta's own links: a run pins
# both, recorded in the marker, and its stop removes them and leaves the other pin.
test_pin_dir_with_another_tools_link_name() {
	require_flowmeta
	require_cmd bpftool
	# shellcheck disable=SC2034 # ns_new's namespace prefix (tests/lib.sh)
	FM_NS_PREFIX=fmT
	lc_single_ns
	local conf=$FM_LOG_DIR/flowmeta.json pin id
	pin=$(fm_pin_dir "$LC_IF")
	fm_register_attach "$LC_NS" "$LC_IF"
	lc_config "$conf" '{}'
	mkdir -m 0700 "$pin"
	bpf_foreign_map "$pin/link_tc_egress" link_tc_egress
	id=$(bpf_pin_id "$pin/link_tc_egress")
	lc_run "$LC_NS" run -i "$LC_IF" --pin-dir "$pin" -c "$conf"
	assert_eq "$LC_RC" 1 "exit status of run over another tool's link_tc_egress"
	lc_assert_one_line "$pin/link_tc_egress is not flowmeta's" "run over another tool's pin"
	assert_eq "$(attached_progs "$LC_NS" "$LC_IF")" "" "attached after the refusal"
	assert_eq "$(bpf_pins "$pin")" "link_tc_egress " "pins after the refusal"
	lc_run "$LC_NS" detach -i "$LC_IF" --pin-dir "$pin"
	assert_eq "$LC_RC" 0 "exit status of detach ($(tr '\n' '|' <"$LC_ERR"))"
	assert_eq "$(bpf_pins "$pin")" "link_tc_egress " "pins after detach"
	assert_eq "$(bpf_pin_id "$pin/link_tc_egress")" "$id" "id of the other tool's pin"
	# The other tool's pin gone, flowmeta's own links: pinned, and removed by the stop.
	rm "$pin/link_tc_egress"
	bpf_foreign_map "$pin/other_tool" other_tool
	lc_start "$LC_NS" "$LC_IF" -c "$conf"
	[ -e "$pin/link_tc_ingress" ] && [ -e "$pin/link_tc_egress" ] ||
		fail "no tcx link pins: $(bpf_pins "$pin")"
	assert_eq "$(bpf_pin_id "$pin/link_tc_egress")" \
		"$(attached_progs "$LC_NS" "$LC_IF" | sed -n 's/^tcx egress: .* link //p')" \
		"the pinned egress link is the one on the interface"
	fm_stop "$FM_PID"
	assert_eq "$FM_EXIT" 0 "exit status on SIGTERM"
	assert_eq "$(bpf_pins "$pin")" "other_tool " "pins left in $pin after SIGTERM"
	assert_eq "$(attached_progs "$LC_NS" "$LC_IF")" "" "attached after SIGTERM"
}

# A field of `bpftool map show pinned PATH`.
lc_pinned_map() {	# PATH FIELD
	bpftool -j map show pinned "$1" | "$FM_PY" "$FM_TOOLS/jsonq.py" - 'd[a[0]]' "$2"
}

# The pins of a newer flowmeta (its marker says pin layout 99 and records its `flows`, of another
# value size): `run` refuses with exit 1 and one message naming the layout and `flowmeta detach`,
# attaches nothing and leaves the pins as they were. `flowmeta detach` removes them (they are
# flowmeta's), and `run` then starts on a fresh table.
test_pin_dir_of_a_newer_layout() {
	require_flowmeta
	require_cmd bpftool
	# shellcheck disable=SC2034 # ns_new's namespace prefix (tests/lib.sh)
	FM_NS_PREFIX=fmT
	lc_single_ns
	local conf=$FM_LOG_DIR/flowmeta.json pin
	pin=$(fm_pin_dir "$LC_IF")
	fm_register_attach "$LC_NS" "$LC_IF"
	lc_config "$conf" '{}'
	mkdir -m 0700 "$pin"
	bpf_foreign_map "$pin/flows" flows percpu_hash 40 32
	bpf_marker "$pin" 99 0 "flows=$(bpf_pin_id "$pin/flows")"
	lc_run "$LC_NS" run -i "$LC_IF" --pin-dir "$pin" -c "$conf"
	assert_eq "$LC_RC" 1 "exit status of run over a newer layout's pins"
	local want="^error: $pin was pinned by a newer flowmeta \\(pin layout 99"
	want+=".*\`flowmeta detach\`"
	lc_assert_one_line "$want" "run over a newer layout's pins"
	assert_eq "$(lc_prog_ids "$LC_NS" "$LC_IF")" "" "programs attached after the refusal"
	assert_eq "$(lc_pinned_map "$pin/flows" bytes_value)" 32 "value size of the pinned map"
	lc_run "$LC_NS" detach -i "$LC_IF" --pin-dir "$pin"
	assert_eq "$LC_RC" 0 "exit status of detach ($(tr '\n' '|' <"$LC_ERR"))"
	assert_eq "$(bpf_pins "$pin")" "" "pins left by detach"
	lc_start "$LC_NS" "$LC_IF" -c "$conf"
	assert_eq "$(lc_pinned_map "$pin/flows" bytes_value)" 40 "value size of the new flows map"
	fm_stop "$FM_PID"
	assert_eq "$FM_EXIT" 0 "exit status on SIGTERM"
}

# Upgrade from the previous pin layout (flowmeta 0.1.0's, no marker, built from BPF_OLD_REV): its
# pins are recognised as flowmeta's, its clsact attachment is kept (tcx links besides would count
# twice), every other old pin is replaced (0.1.0's drop_budget goes) and the new programs count
# into new maps; its flow table, export state and stats are kept as old1_*
# until the new daemon has exported what they hold — exactly what 0.1.0 counted, the pings while it
# ran and after its kill -9 — with flowEndReason 4, then released. Summed over the records at the
# collector, every ping once; a stop removes all of flowmeta's pins.
test_upgrade_from_layout_1() {
	require_flowmeta
	require_cmd bpftool socat ping git make clang ipfixDump
	# shellcheck disable=SC2034 # ns_new's namespace prefix (tests/lib.sh)
	FM_NS_PREFIX=fmT
	local old new=$FM_BIN conf=$FM_LOG_DIR/flowmeta.json pin total=0 size=100 octets dir
	old=$(bpf_old_flowmeta) || skip "cannot build flowmeta $BPF_OLD_REV from the git history"
	topo_overlay tun
	pin=$(fm_pin_dir "$FM_IF_A")
	lc_coll_start "$LC_PORT1"
	lc_config "$conf" "{\"IdleTimeout\": 600000, \"IpFixCollectors\": [\"$(lc_collector1)\"]}"
	FM_BIN=$old lc_start "$FM_NS_A" "$FM_IF_A" -c "$conf"
	send_ping "$FM_NS_A" "$FM_B4" 4 "$size"
	total=$((total + SENT_PACKETS))
	fm_kill9 "$FM_PID"
	send_ping "$FM_NS_A" "$FM_B4" 3 "$size"
	total=$((total + SENT_PACKETS)) octets=$((total * (20 + 8 + size)))
	[ -e "$pin/drop_budget" ] && [ ! -e "$pin/flowmeta_owner" ] ||
		fail "not the pins of layout 1: $(bpf_pins "$pin")"
	FM_BIN=$new lc_start "$FM_NS_A" "$FM_IF_A" -c "$conf"
	local upgraded='^info: .*upgrading the pins of an earlier flowmeta \(layout 1\)'
	assert_eq "$(lc_log_count "$upgraded")" 1 \
		"log lines saying the pins are upgraded ($(tr '\n' '|' <"$FM_LOG"))"
	grep -q "^info: exported the 2 flows of the earlier version's table (flowEndReason 4)" \
		"$FM_LOG" || fail "no export of the old table: $(tr '\n' '|' <"$FM_LOG")"
	for p in flowmeta_owner drop_flows event_budget; do
		[ -e "$pin/$p" ] || fail "no $p after the upgrade: $(bpf_pins "$pin")"
	done
	# 0.1.0 attached through clsact: the new run keeps that (tcx too would count twice).
	assert_eq "$(fm_status "$FM_NS_A" "$FM_IF_A" tc_attach)" clsact "tc_attach after the upgrade"
	assert_eq "$(lc_prog_ids "$FM_NS_A" "$FM_IF_A" | sed 's/: [0-9]*$//' | sort | tr '\n' ' ')" \
		"tc egress tc ingress " "hooks holding flowmeta's programs after the upgrade"
	assert_eq "$(lc_log_count "keeping the earlier run's clsact attachment")" 1 \
		"log lines saying clsact is kept"
	for p in drop_budget old1_flows old1_export_state old1_stats; do
		[ ! -e "$pin/$p" ] || fail "$p left after the upgrade: $(bpf_pins "$pin")"
	done
	# 0.1.0's counts reach the collector, each echo flow once, as a forced end.
	for dir in egress ingress; do
		lc_echo_flow "$dir"
		lc_wait_sum "$total" "$octets" "$LC_PORT1" "$src" "$dst" 0 "$dport" "$proto" "$dir"
		assert_eq "$(lc_flow_reasons "$LC_PORT1" "$src" "$dst" 0 "$dport" "$proto" "$dir")" \
			"$LC_END_FORCED" "$dir echo flow of 0.1.0: its one record's flowEndReason"
	done
	send_ping "$FM_NS_A" "$FM_B4" 2 "$size"
	assert_eq "$(bpf_map_flow "$pin/flows" 1 1 "$LC_ICMP_ECHO")" "2 $((2 * (28 + size)))" \
		"egress echo requests in the new flows"
	fm_stop "$FM_PID"
	assert_eq "$FM_EXIT" 0 "exit status on SIGTERM"
	assert_eq "$(bpf_pins "$pin")" "" "pins left by the stop"
	# (0.1.0 did not record that it created the pin directory: that stays, empty.)
	assert_eq "$(attached_progs "$FM_NS_A" "$FM_IF_A")" "" "attached after the stop"
	! ns_run "$FM_NS_A" tc qdisc show dev "$FM_IF_A" | grep clsact >/dev/null ||
		fail "clsact qdisc left on $FM_IF_A after the stop"
	for dir in egress ingress; do
		lc_echo_flow "$dir"
		assert_eq "$(lc_flow_sum "$LC_PORT1" "$src" "$dst" 0 "$dport" "$proto" "$dir")" \
			"$((total + 2)) $((octets + 2 * (28 + size)))" \
			"$dir echo flow: every ping once, over the versions"
	done
}

# MaxFlows changed across a crash (kill -9, restart with MaxFlows 1024 over a table of 4096): the
# restart adopts the pinned table at its pinned size, says so once, and the counts carry on
# exactly: the pings before the crash, while no daemon ran and after the restart are all in the
# live table, and in the records the stop exports (flowEndReason 4).
test_max_flows_change_keeps_pinned_size() {
	require_flowmeta
	require_cmd socat ping ipfixDump bpftool
	# shellcheck disable=SC2034 # ns_new's namespace prefix (tests/lib.sh)
	FM_NS_PREFIX=fmT
	topo_overlay tun
	lc_coll_start "$LC_PORT_UPGRADE"
	local conf=$FM_LOG_DIR/flowmeta.json pin total_p total_o flows=$FM_LOG_DIR/flows.json dir
	local src dst dport proto collector members kept
	collector=$(coll_dest "$LC_PORT_UPGRADE")
	pin=$(fm_pin_dir "$FM_IF_A")
	members="\"IdleTimeout\": 60000, \"IpFixCollectors\": [\"$collector\"]"
	lc_config "$conf" "{\"MaxFlows\": 4096, $members}"
	lc_start "$FM_NS_A" "$FM_IF_A" -c "$conf"
	assert_eq "$(lc_pinned_map "$pin/flows" max_entries)" 4096 "entries of the pinned map"
	send_ping "$FM_NS_A" "$FM_B4" 5 "$LC_PING_SIZE"
	total_p=$SENT_PACKETS total_o=$SENT_OCTETS
	fm_kill9 "$FM_PID"
	send_ping "$FM_NS_A" "$FM_B4" 3 "$LC_PING_SIZE"
	total_p=$((total_p + SENT_PACKETS)) total_o=$((total_o + SENT_OCTETS))
	lc_config "$conf" "{\"MaxFlows\": 1024, $members}"
	lc_start "$FM_NS_A" "$FM_IF_A" -c "$conf"
	grep -q 'adopted the counts of an earlier instance' "$FM_LOG" ||
		fail "the restart did not adopt"
	kept="^warning: $pin/flows: keeping the pinned table size 4096 instead of MaxFlows 1024"
	assert_eq "$(lc_log_count "$kept")" 1 \
		"log lines saying the flow table keeps its size ($(tr '\n' '|' <"$FM_LOG"))"
	assert_eq "$(lc_pinned_map "$pin/flows" max_entries)" 4096 "entries of the adopted map"
	send_ping "$FM_NS_A" "$FM_B4" 2 "$LC_PING_SIZE"
	total_p=$((total_p + SENT_PACKETS)) total_o=$((total_o + SENT_OCTETS))
	fm_flows "$FM_NS_A" "$FM_IF_A" "$flows"
	assert_flow "$flows" egress 1 "$FM_A4" "$FM_B4" 0 "$LC_ICMP_ECHO" "$total_p" "$total_o"
	assert_flow "$flows" ingress 1 "$FM_B4" "$FM_A4" 0 0 "$total_p" "$total_o"
	fm_stop "$FM_PID"
	assert_eq "$FM_EXIT" 0 "exit status on SIGTERM"
	for dir in egress ingress; do
		lc_echo_flow "$dir"
		lc_wait_sum "$total_p" "$total_o" "$LC_PORT_UPGRADE" "$src" "$dst" 0 "$dport" \
			"$proto" "$dir" 5
		assert_eq "$(lc_flow_reasons "$LC_PORT_UPGRADE" "$src" "$dst" 0 "$dport" "$proto" \
			"$dir")" "$LC_END_FORCED" "$dir echo flow: its one record's flowEndReason"
	done
}

# The overlay interface is deleted under a running daemon: logged, the live flows exported with
# flowEndReason 4 and exact counts, non-zero exit.
test_interface_gone() {
	lc_setup
	local exp=$FM_LOG_DIR/expected
	lc_config "$LC_CONF" "{\"IdleTimeout\": 60000, \"IpFixCollectors\": [\"$(lc_collector1)\"]}"
	lc_start "$FM_NS_A" "$FM_IF_A" -c "$LC_CONF"
	send_ping "$FM_NS_A" "$FM_B4" 8 100
	lc_echo_lines "$FM_B4" 8 100 "$LC_END_FORCED" >"$exp"
	ip -n "$FM_NS_A" link del "$FM_IF_A"
	wait_until 10 fm_not_alive "$FM_PID" || fail "flowmeta still runs 10 s after $FM_IF_A was deleted"
	bg_wait "$FM_PID" || true
	[ "$BG_STATUS" -ne 0 ] || fail "exit status 0 after the interface vanished"
	grep -q "^warning: $FM_IF_A .*is gone" "$FM_LOG" ||
		fail "no log line about the interface: $(tr '\n' '|' <"$FM_LOG")"
	[ ! -e "$(fm_pin_dir "$FM_IF_A")" ] || fail "pins left behind after the interface vanished"
	lc_assert_records "$LC_PORT1" "$exp" "records of the vanished interface"
}

# ------------------------------------------------------------------------------------------------
# Refusals

# A bad configuration on `run`: exit 2, one line naming the key (or position), nothing attached,
# no pins, no clsact qdisc left behind.
test_bad_config() {	# JSON REGEX
	require_flowmeta
	lc_single_ns
	local conf=$FM_LOG_DIR/bad.json pin
	pin=$(fm_pin_dir "$LC_IF")
	fm_register_attach "$LC_NS" "$LC_IF"
	lc_raw_config "$conf" "$1"
	lc_run "$LC_NS" run -i "$LC_IF" --pin-dir "$pin" -c "$conf"
	assert_eq "$LC_RC" 2 "exit status"
	lc_assert_one_line "$2" "error message"
	lc_assert_nothing_attached "$LC_NS" "$LC_IF" "$pin" "after a bad configuration"
}

# A second `run` on the same interface (same or another pin directory) refuses: non-zero exit, a
# message, nothing sent to its collector; the first keeps its programs and exports exactly.
test_second_instance() {	# same|other
	lc_setup
	local exp=$FM_LOG_DIR/expected before pin
	lc_coll_start "$LC_PORT2"
	lc_config "$LC_CONF" "{\"IpFixCollectors\": [\"$(lc_collector1)\"]}"
	lc_start "$FM_NS_A" "$FM_IF_A" -c "$LC_CONF"
	before=$(lc_prog_ids "$FM_NS_A" "$FM_IF_A")
	pin=$(fm_pin_dir "$FM_IF_A")
	if [ "$1" = other ]; then
		pin=$pin-second
		FM_PINS+=("$pin")
	fi
	lc_run "$FM_NS_A" run -i "$FM_IF_A" --pin-dir "$pin" -c "$LC_CONF" \
		--collector "$(coll_dest "$LC_PORT2")"
	[ "$LC_RC" -ne 0 ] && [ "$LC_RC" -ne 124 ] || fail "second run: exit $LC_RC"
	grep -q "already running on $FM_IF_A" "$LC_ERR" ||
		fail "second run: no clear message: $(tr '\n' '|' <"$LC_ERR")"
	pid_alive "$FM_PID" || fail "the first instance died"
	assert_eq "$(lc_prog_ids "$FM_NS_A" "$FM_IF_A")" "$before" "programs of the first instance"
	send_ping "$FM_NS_A" "$FM_B4" 4 100
	lc_echo_lines "$FM_B4" 4 100 "$LC_END_IDLE" >"$exp"
	lc_wait_records "$LC_PORT1" 2
	fm_stop "$FM_PID"
	assert_eq "$FM_EXIT" 0 "exit status of the first instance"
	lc_assert_records "$LC_PORT1" "$exp" "records of the first instance"
	lc_assert_silent "$LC_PORT2" "collector of the refused instance"
	[ "$1" != other ] || [ ! -e "$pin" ] || fail "the refused instance left $pin"
}

# ------------------------------------------------------------------------------------------------
# status --json

# `status` says running only once the programs are attached: readiness checks (tests/lib.sh's
# fm_start, an operator's script) rely on it, and traffic sent before that is not metered. Polled
# from the moment `run` starts: the first "running" answer must find both programs attached
# (attaching only adds, so programs missing after a "running" answer prove it came too early).
test_running_means_attached() {
	require_flowmeta
	lc_single_ns
	local conf=$FM_LOG_DIR/flowmeta.json log=$FM_LOG_DIR/run.log progs
	lc_config "$conf" '{}'
	fm_register_attach "$LC_NS" "$LC_IF"
	bg_start "$log" "$LC_NS" "$FM_BIN" run -i "$LC_IF" --pin-dir "$(fm_pin_dir "$LC_IF")" -c "$conf"
	FM_PID=$BG_PID
	wait_alive 15 "$FM_PID" lc_says_running "$LC_NS" "$LC_IF" ||
		fail "flowmeta never said it is running: $(tail -n 3 "$log" | tr '\n' '|')"
	progs=$(lc_prog_ids "$LC_NS" "$LC_IF")
	assert_eq "$(echo "$progs" | grep -c . || true)" 2 \
		"programs attached when status first says running"
}

lc_says_running() {	# NS IFACE
	[ "$(fm_status "$1" "$2" running 2>/dev/null)" = true ]
}

# Per collector, status equals what arrived: messages, records (options data included), flow
# records and octets against the stream collector 1 received; for a collector nobody listens to,
# the messages it did not get and every flow record counted as not sent, exactly.
test_status_counters() {
	lc_setup
	local st=$FM_LOG_DIR/status.json
	lc_config "$LC_CONF" \
		"{\"IpFixCollectors\": [\"$(lc_collector1)\", \"$(coll_dest "$LC_PORT_DEAD")\"]}"
	lc_start "$FM_NS_A" "$FM_IF_A" -c "$LC_CONF"
	send_ping "$FM_NS_A" "$FM_B4" 5 100
	send_ping "$FM_NS_A" "$FM_B6" 2 100
	send_udp "$FM_NS_A" "$FM_NS_B" "$FM_B4" 5001 40001 3 100
	lc_wait_records "$LC_PORT1" 5
	wait_until 10 lc_table_empty || fail "flows still live"
	# The snapshot is published right after each send: wait for it to catch up.
	wait_until 5 lc_status_matches "$st" || true
	local c1 dead want
	c1=$(lc_collector_status "$st" "$(lc_collector1)")
	want=$(lc_totals "$LC_PORT1" | awk '{print $2, $4, $6, $8}')
	assert_eq "$(echo "$c1" | awk '{print $1, $2, $3, $4}')" "$want" \
		"collector 1: status messages records flow_records octets vs received"
	assert_eq "$(echo "$c1" | awk '{print $5, $6, $7, $8}')" "0 0 0 0" \
		"collector 1: send_errors not_sent_flows not_sent_packets not_sent_octets"
	assert_eq "$(lc_totals "$LC_PORT1" | awk '{print $6}')" 5 "flow records received"
	assert_eq "$("$FM_PY" "$FM_TOOLS/jsonq.py" "$st" 'd["exporter"]["flow_records"]')" 5 \
		"status exporter.flow_records"
	dead=$(lc_collector_status "$st" "$(coll_dest "$LC_PORT_DEAD")")
	local sent errors nflows npackets noctets data
	read -r _ _ sent _ errors nflows npackets noctets <<<"$dead"
	# Refused since the start (send_errors counts the messages not sent, collector.h): the
	# template message of the start, then for each data message collector 1 got, the templates a
	# down collector gets before every message and the message itself.
	data=$(lc_messages "$LC_PORT1" | awk '$6 > 0 {n++} END {print n + 0}')
	assert_eq "$errors" $((1 + 2 * data)) \
		"dead collector: send_errors (collector 1 got $data data messages)"
	# On loopback the port unreachable comes back at once and is read before status is
	# published: no flow record counts as sent, the not-sent counts are what collector 1 got.
	assert_eq "$sent $nflows" "0 5" "dead collector: flow_records not_sent_flows"
	assert_eq "$npackets $noctets" "$(lc_records "$LC_PORT1" |
		awk '{p += $7; o += $8} END {print p + 0, o + 0}')" \
		"dead collector: not_sent_packets not_sent_octets vs collector 1's records"
	fm_stop "$FM_PID"
	assert_eq "$FM_EXIT" 0 "exit status on SIGTERM"
}

# "messages records flow_records octets send_errors not_sent_flows not_sent_packets
# not_sent_octets" of one collector in a status JSON file.
lc_collector_status() {	# FILE SPEC
	"$FM_PY" "$FM_TOOLS/jsonq.py" "$1" \
		'[(c["messages"], c["records"], c["flow_records"], c["octets"], c["send_errors"], c["not_sent_flows"], c["not_sent_packets"], c["not_sent_octets"]) for c in d["collectors"] if c["collector"] == a[0]]' \
		"$2"
}

lc_status_matches() {	# FILE
	fm_cmd "$FM_NS_A" status "$FM_IF_A" --json >"$1"
	[ "$(lc_collector_status "$1" "$(lc_collector1)" | awk '{print $1, $2, $3, $4}')" = \
		"$(lc_totals "$LC_PORT1" | awk '{print $2, $4, $6, $8}')" ]
}

for direction in Both SendingToPeer ReceivedFromPeer; do
	run_test "lifecycle_direction_${direction}_exports_only_its_flows" test_direction "$direction"
done
run_test lifecycle_interval_0_one_record_per_flow_at_its_end test_interval_zero
run_test lifecycle_interval_2x_poll_interim_records_sum_exactly test_interval_interim
run_test lifecycle_enabled_false_sends_nothing_meters_all test_enabled_false
run_test lifecycle_enabled_without_collector_warns_meters test_enabled_no_collector
run_test lifecycle_reload_under_traffic_exact_templates_same_programs test_reload_under_traffic
run_test lifecycle_reload_invalid_file_keeps_old_config test_reload_invalid
run_test lifecycle_sigterm_exports_live_flows_reason_4_detaches test_sigterm_flush
run_test lifecycle_sigterm_5_cycles_leave_no_clsact test_sigterm_cycles
run_test lifecycle_kill9_restart_interval_0_exact_totals test_kill9_restart 0
run_test lifecycle_kill9_restart_interval_2000_exact_totals test_kill9_restart 2000
run_test lifecycle_sigusr2_hands_over_attached_restart_exact_totals_stream_continues \
	test_kill9_restart 2000 usr2
run_test lifecycle_interface_deleted_exports_reason_4_exits_nonzero test_interface_gone
run_test lifecycle_pin_dir_shared_with_another_tool_only_flowmeta_pins_removed \
	test_pin_dir_shared_with_another_tool
run_test lifecycle_pin_dir_with_another_tools_flows_refused_untouched \
	test_pin_dir_with_another_tools_flows
run_test lifecycle_pin_dir_with_another_tools_link_name_refused_untouched \
	test_pin_dir_with_another_tools_link_name
run_test lifecycle_pin_dir_of_a_newer_layout_refused_exit_1_detach_removes_it \
	test_pin_dir_of_a_newer_layout
run_test lifecycle_upgrade_from_layout_1_exports_its_counts_once test_upgrade_from_layout_1
run_test lifecycle_max_flows_changed_across_kill9_keeps_pinned_size_counts_exact \
	test_max_flows_change_keeps_pinned_size
run_test lifecycle_second_instance_same_pin_dir_refuses test_second_instance same
run_test lifecycle_second_instance_other_pin_dir_refuses test_second_instance other
run_test lifecycle_status_json_matches_collector test_status_counters
run_test lifecycle_status_running_means_attached test_running_means_attached
run_test lifecycle_bad_config_unknown_key_exit_2 test_bad_config \
	'{"FlowMetadata": {"Directoin": "Both"}}' 'FlowMetadata\.Directoin'
run_test lifecycle_bad_config_wrong_type_exit_2 test_bad_config \
	'{"FlowMetadata": {"Interval": "60000"}}' 'FlowMetadata\.Interval'
run_test lifecycle_bad_config_bad_direction_exit_2 test_bad_config \
	'{"FlowMetadata": {"Direction": "Sideways"}}' 'FlowMetadata\.Direction.*Sideways'
run_test lifecycle_bad_config_poll_interval_too_short_exit_2 test_bad_config \
	'{"FlowMetadata": {"PollInterval": 500}}' 'FlowMetadata\.PollInterval.*500'
run_test lifecycle_bad_config_interval_not_multiple_exit_2 test_bad_config \
	'{"FlowMetadata": {"PollInterval": 2000, "Interval": 3000}}' 'FlowMetadata\.Interval.*3000'
run_test lifecycle_bad_config_bad_collector_exit_2 test_bad_config \
	'{"FlowMetadata": {"IpFixCollectors": ["Udp/300.1.2.3:4739"]}}' 'IpFixCollectors.*300\.1\.2\.3'
run_test lifecycle_bad_config_tcp_collector_exit_2 test_bad_config \
	'{"FlowMetadata": {"IpFixCollectors": ["Tcp/127.0.0.1:4739"]}}' 'IpFixCollectors.*(UDP|Udp)'
run_test lifecycle_bad_config_json_syntax_exit_2 test_bad_config \
	'{"FlowMetadata": {"Enabled": true,}}' ':1:[0-9]+: JSON syntax error'
finish_tests
