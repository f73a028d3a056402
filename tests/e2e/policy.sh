#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# End-to-end tests of the access-control policy and the trust requirements (SPEC §6): a two-node
# tun overlay, flowmeta with a policy on node A's end (A = 100.64.0.1 / fd00:64::1, its peer B =
# 100.64.0.2 / fd00:64::2) and a real collector (tshark) on loopback in A. Allowed traffic must
# arrive; denied traffic must not reach the other node and must come out of the collector as drop
# records, forwardingStatus 129 (no rule allows it) or 130 (untrusted peer), with the exact packet
# and octet counts that were sent, the first one within ~2 s of the first drop. PollInterval is
# 10 s, so a record that early can only come from the kernel's drop event. Then: drop records
# with Direction ReceivedFromPeer, and SIGHUP replacing the policy under traffic.
#
# Expected records are lines of tests/tools/ipfix_norm.py, summed per flow over all its records:
#   src dst sport dport proto direction packets octets - fwd_status
source "$(dirname "$0")/../lib.sh"

FM_NS_PREFIX=fmP
POLL_MS=10000
FWD=64 DENY=129 UNTRUSTED=130
DROP_RECORD_S=2.5	# "within a couple of seconds" of the first drop

# Node A's policy: B may ping and be pinged, B may send to A's UDP 5001, A may send to UDP
# 6001-6002 of anyone. Anything else is denied.
POLICY_A='"AccessControl": {"Rules": [
	{"Description": "ping", "Peers": ["100.64.0.2", "fd00:64::2"], "Protocol": "Icmp"},
	{"Description": "to A", "Peers": ["100.64.0.0/24", "fd00:64::/64"], "Protocol": "Udp",
	 "Ports": "5001", "Direction": "Inbound"},
	{"Description": "from A", "Peers": ["any"], "Protocol": "Udp", "Ports": "6001-6002",
	 "Direction": "Outbound"}]}'

now_ms() {
	echo $(($(fm_now_us) / 1000))
}

# Write CONFIG: the collector on PORT, DIRECTION, the policy MEMBERS; `flowmeta check` accepts it.
pol_config() {	# PORT DIRECTION MEMBERS
	CONFIG=${CONFIG:-$FM_LOG_DIR/flowmeta.json}
	cat >"$CONFIG.new" <<-EOF
		{"FlowMetadata": {"PollInterval": $POLL_MS, "IdleTimeout": 60000, "Direction": "$2",
		 "IpFixCollectors": ["$(coll_dest "$1")"], $3}}
	EOF
	"$FM_BIN" check -c "$CONFIG.new" >"$CONFIG.check" 2>&1 ||
		fail "flowmeta check rejects the policy: $(tail -n 1 "$CONFIG.check")"
	mv "$CONFIG.new" "$CONFIG"
}

# Overlay up, tshark on PORT in A, flowmeta on A's tun with the policy (ingress hook HOOK).
pol_setup() {	# PORT DIRECTION MEMBERS [HOOK]
	require_flowmeta
	require_cmd socat ping tshark
	PORT=$1
	topo_overlay tun
	coll_start tshark "$FM_NS_A" "$PORT"
	pol_config "$1" "$2" "$3"
	EXP=$FM_LOG_DIR/expected
	: >"$EXP"
	fm_start "$FM_NS_A" "$FM_IF_A" -c "$CONFIG" --hook "${4:-tc}"
	START_MS=$(now_ms)
}

expect() {	# SRC DST SPORT DPORT PROTO DIRECTION PACKETS OCTETS FWD
	echo "$1 $2 $3 $4 $5 $6 $7 $8 - $9" >>"$EXP"
}

# COUNT UDP datagrams that the policy drops: the receiver in NS_TO must get none of them.
send_udp_dropped() {	# NS_FROM NS_TO DST DPORT SPORT COUNT PAYLOAD
	local from=$1 to=$2 dst=$3 dport=$4 sport=$5 count=$6 payload=$7 out
	fm_receiver udp-dropped "$to" udp-recv "$dst" "$dport" "$count" 1
	out=$(ns_run "$from" timeout 30 "$FM_PY" "$FM_TOOLS/traffic.py" udp-send "$dst" "$dport" \
		"$sport" "$count" "$payload") || fail "udp send to $dst:$dport failed"
	bg_wait "$RECV_PID" || true
	grep -q '^packets=0 ' "$RECV_LOG" ||
		fail "udp to $dst:$dport should be dropped, yet: $(tail -n 1 "$RECV_LOG")"
	fm_parse_sent "$out"
}

# The collector's records summed per flow and forwardingStatus, FWD_STATUSES only (regex).
pol_records() {	# FWD_STATUSES OUT
	coll_records tshark "$PORT" >"$2.raw"
	"$FM_PY" "$FM_TOOLS/ipfix_norm.py" sum "$2.raw" | grep -E " ($1)\$" >"$2" || true
}

# flowmeta's own count of flow records sent (to every collector).
pol_records_sent() {
	fm_cmd "$FM_NS_A" status "$FM_IF_A" --json | "$FM_PY" "$FM_TOOLS/jsonq.py" - \
		'd["exporter"]["flow_records"]'
}

pol_sent_at_least() {	# N
	[ "$(pol_records_sent)" -ge "$1" ]
}

# The drop records in EXP (N of them) reach the collector within DROP_RECORD_S of SINCE_MS,
# with their exact counts: before any poll, so through the kernel's drop events.
pol_check_prompt_drops() {	# SINCE_MS N
	local got=$FM_LOG_DIR/prompt-drops.txt want=$FM_LOG_DIR/prompt-expected.txt
	wait_until "$DROP_RECORD_S" pol_sent_at_least "$2" ||
		fail "fewer than $2 drop records sent within $DROP_RECORD_S s of the first drop"
	[ $(($(now_ms) - START_MS)) -lt $((POLL_MS - 500)) ] ||
		skip "too slow to tell the drop events from the first poll"
	pol_records "$DENY|$UNTRUSTED" "$got"
	grep -E " ($DENY|$UNTRUSTED)\$" "$EXP" >"$want" || true
	assert_records "$want" "$got" "drop records within $DROP_RECORD_S s of the first drop"
	log "drop records decoded $(($(now_ms) - $1)) ms after the first drop"
}

# Stop flowmeta (live flows end with reason 4) and the collector; every record summed per flow
# must be EXP exactly, and the kernel's policy_dropped the sum of the drop records' packets.
pol_finish() {
	local got=$FM_LOG_DIR/records.txt dropped
	dropped=$(fm_status "$FM_NS_A" "$FM_IF_A" policy_dropped)
	fm_stop "$FM_PID"
	assert_eq "$FM_EXIT" 0 "flowmeta exit status"
	coll_stop tshark "$PORT"
	pol_records "[0-9]+" "$got"
	assert_records "$EXP" "$got" "records summed per flow"
	assert_eq "$dropped" "$(awk -v d=$DENY -v u=$UNTRUSTED '$10 == d || $10 == u {n += $7} END {print n + 0}' "$EXP")" \
		"policy_dropped (kernel, per-CPU counters summed)"
}

# ---------------------------------------------------------------------------------------------

# Allowed both ways by rules and their replies; denied ingress and egress, IPv4 and IPv6: not
# delivered, and exported as drop records (129) with exact counts within ~2 s.
test_denied_traffic_is_dropped_and_exported_with_status_129() {	# PORT HOOK
	pol_setup "$1" Both "$POLICY_A" "$2"
	local t0
	t0=$(now_ms)
	send_udp_dropped "$FM_NS_B" "$FM_NS_A" "$FM_A4" 5002 40001 4 200
	expect "$FM_B4" "$FM_A4" 40001 5002 17 ingress "$SENT_PACKETS" "$SENT_OCTETS" $DENY
	send_udp_dropped "$FM_NS_A" "$FM_NS_B" "$FM_B6" 7000 40002 3 100
	expect "$FM_A6" "$FM_B6" 40002 7000 17 egress "$SENT_PACKETS" "$SENT_OCTETS" $DENY
	# The reverse of an allowed rule: B may not send to its own 6001 on A's behalf.
	send_udp_dropped "$FM_NS_B" "$FM_NS_A" "$FM_A4" 6001 40003 2 50
	expect "$FM_B4" "$FM_A4" 40003 6001 17 ingress "$SENT_PACKETS" "$SENT_OCTETS" $DENY
	pol_check_prompt_drops "$t0" 3

	send_udp "$FM_NS_B" "$FM_NS_A" "$FM_A4" 5001 40011 5 300
	expect "$FM_B4" "$FM_A4" 40011 5001 17 ingress "$SENT_PACKETS" "$SENT_OCTETS" $FWD
	send_udp "$FM_NS_A" "$FM_NS_B" "$FM_B6" 6002 40012 3 700
	expect "$FM_A6" "$FM_B6" 40012 6002 17 egress "$SENT_PACKETS" "$SENT_OCTETS" $FWD
	# The reply of an allowed exchange passes (stateful), to the port that opened it only.
	send_udp "$FM_NS_B" "$FM_NS_A" "$FM_A6" 40012 6002 2 40
	expect "$FM_B6" "$FM_A6" 6002 40012 17 ingress "$SENT_PACKETS" "$SENT_OCTETS" $FWD
	send_udp_dropped "$FM_NS_B" "$FM_NS_A" "$FM_A6" 40013 6002 2 40
	expect "$FM_B6" "$FM_A6" 6002 40013 17 ingress "$SENT_PACKETS" "$SENT_OCTETS" $DENY
	send_ping "$FM_NS_A" "$FM_B4" 3 100
	expect "$FM_A4" "$FM_B4" 0 2048 1 egress "$SENT_PACKETS" "$SENT_OCTETS" $FWD
	expect "$FM_B4" "$FM_A4" 0 0 1 ingress "$SENT_PACKETS" "$SENT_OCTETS" $FWD
	send_ping "$FM_NS_B" "$FM_A6" 2 56
	expect "$FM_B6" "$FM_A6" 0 32768 58 ingress "$SENT_PACKETS" "$SENT_OCTETS" $FWD
	expect "$FM_A6" "$FM_B6" 0 33024 58 egress "$SENT_PACKETS" "$SENT_OCTETS" $FWD
	pol_finish
}

# An untrusted peer loses all its traffic both ways, whatever the rules (here: none at all, no
# AccessControl), and its drop records say 130; another peer's traffic is not touched.
test_untrusted_peer_is_dropped_both_ways_and_exported_with_status_130() {
	pol_setup 4771 Both '"TrustRequirements": {"UntrustedPeers": ["100.64.0.2", "fd00:64::/64"]}'
	local t0
	t0=$(now_ms)
	send_udp_dropped "$FM_NS_B" "$FM_NS_A" "$FM_A4" 5001 40021 4 100
	expect "$FM_B4" "$FM_A4" 40021 5001 17 ingress "$SENT_PACKETS" "$SENT_OCTETS" $UNTRUSTED
	send_udp_dropped "$FM_NS_A" "$FM_NS_B" "$FM_B6" 6001 40022 5 10
	expect "$FM_A6" "$FM_B6" 40022 6001 17 egress "$SENT_PACKETS" "$SENT_OCTETS" $UNTRUSTED
	pol_check_prompt_drops "$t0" 2
	# B's pings die on A's ingress: two requests, no reply.
	if ns_run "$FM_NS_B" ping -q -n -c 2 -i 0.2 -W 1 "$FM_A4" >/dev/null 2>&1; then
		fail "an untrusted peer's ping was answered"
	fi
	expect "$FM_B4" "$FM_A4" 0 2048 1 ingress 2 168 $UNTRUSTED
	pol_finish
}

# Direction ReceivedFromPeer exports ingress flows only, but drop records always: the egress drop
# is exported, the forwarded egress flows are not.
test_drop_records_are_exported_whatever_the_direction_filter() {
	pol_setup 4772 ReceivedFromPeer "$POLICY_A"
	local t0
	t0=$(now_ms)
	send_udp_dropped "$FM_NS_A" "$FM_NS_B" "$FM_B4" 7000 40031 6 120
	expect "$FM_A4" "$FM_B4" 40031 7000 17 egress "$SENT_PACKETS" "$SENT_OCTETS" $DENY
	pol_check_prompt_drops "$t0" 1
	send_ping "$FM_NS_A" "$FM_B4" 2 100
	expect "$FM_B4" "$FM_A4" 0 0 1 ingress "$SENT_PACKETS" "$SENT_OCTETS" $FWD
	send_udp "$FM_NS_A" "$FM_NS_B" "$FM_B4" 6001 40032 3 100
	pol_finish
}

# SIGHUP swaps policy A for one that allows B's stream to A's 5002 and no longer allows ping or
# A's UDP 6001: while B streams to 5002, the stream's packets go from dropped (129) to delivered,
# every one of them accounted exactly once, and the removed rules stop at once.
test_sighup_replaces_the_policy_under_traffic() {
	local policy_b='"AccessControl": {"Rules": [{"Peers": ["100.64.0.2"], "Protocol": "Udp",
		"Ports": "5001-5002", "Direction": "Inbound"}]}'
	local rounds=40 per=5 payload=100 stream stream_log=$FM_LOG_DIR/stream.log flows
	local forwarded denied
	pol_setup 4773 Both "$POLICY_A"
	flows=$FM_LOG_DIR/flows.json
	fm_receiver stream "$FM_NS_A" udp-recv "$FM_A4" 5002 $((rounds * per)) 60
	bg_start "$stream_log" "$FM_NS_B" bash -c "for i in \$(seq $rounds); do
		$FM_PY $FM_TOOLS/traffic.py udp-send $FM_A4 5002 40041 $per $payload || exit 1
		sleep 0.1; done"
	stream=$BG_PID
	# Once the stream is being dropped, reload.
	wait_alive 10 "$stream" pol_stream_dropped 10 || fail "the stream to 5002 is not being dropped"
	pol_config "$PORT" Both "$policy_b"
	kill -HUP "$FM_PID"
	wait_for_line 10 "$FM_LOG" 'reloaded the configuration' "$FM_PID" || fail "no reload"
	pid_alive "$stream" || skip "the stream ended before the reload took effect"
	bg_wait "$stream" || fail "stream sender: $(tail -n 2 "$stream_log")"
	fm_flows "$FM_NS_A" "$FM_IF_A" "$flows"
	read -r forwarded denied <<<"$("$FM_PY" "$FM_TOOLS/jsonq.py" "$flows" \
		'(sum(f["packets"] for f in d if f["src_port"] == 40041 and f["verdict"] == "forwarded"), sum(f["packets"] for f in d if f["src_port"] == 40041 and f["verdict"] == "acl-deny"))')"
	log "stream: $forwarded forwarded, $denied dropped of $((rounds * per))"
	assert_eq $((forwarded + denied)) $((rounds * per)) "stream packets forwarded + dropped"
	assert_ge "$denied" 10 "stream packets dropped before the reload"
	assert_ge "$forwarded" $per "stream packets delivered after the reload"
	expect "$FM_B4" "$FM_A4" 40041 5002 17 ingress "$forwarded" $((forwarded * 128)) $FWD
	expect "$FM_B4" "$FM_A4" 40041 5002 17 ingress "$denied" $((denied * 128)) $DENY
	# The receiver got exactly the forwarded ones if as many more complete its count.
	ns_run "$FM_NS_B" "$FM_PY" "$FM_TOOLS/traffic.py" udp-send "$FM_A4" 5002 40043 "$denied" \
		"$payload" >/dev/null
	expect "$FM_B4" "$FM_A4" 40043 5002 17 ingress "$denied" $((denied * 128)) $FWD
	fm_receiver_done "^packets=$((rounds * per)) " "stream receiver: the forwarded packets and the top-up"
	# The rules that were removed no longer allow anything. (B pings: a ping whose request
	# this node drops on egress retries on ENOBUFS, so its count would not be exact.)
	if ns_run "$FM_NS_B" ping -q -n -c 1 -W 1 "$FM_A4" >/dev/null 2>&1; then
		fail "ping still allowed after the reload removed its rule"
	fi
	expect "$FM_B4" "$FM_A4" 0 2048 1 ingress 1 84 $DENY
	send_udp_dropped "$FM_NS_A" "$FM_NS_B" "$FM_B4" 6001 40042 3 10
	expect "$FM_A4" "$FM_B4" 40042 6001 17 egress "$SENT_PACKETS" "$SENT_OCTETS" $DENY
	pol_finish
}

# The policy lives in the pinned maps: with the daemon killed (-9) the programs still enforce
# it, a restart adopts it and then installs its own, and the drops counted in between are exported
# by the new daemon, exactly.
test_policy_stays_in_force_while_no_daemon_runs() {
	pol_setup 4774 Both "$POLICY_A"
	fm_kill9 "$FM_PID"
	send_udp_dropped "$FM_NS_B" "$FM_NS_A" "$FM_A4" 5002 40051 4 100
	local first=$SENT_PACKETS first_octets=$SENT_OCTETS
	send_udp "$FM_NS_B" "$FM_NS_A" "$FM_A4" 5001 40052 3 100
	expect "$FM_B4" "$FM_A4" 40052 5001 17 ingress "$SENT_PACKETS" "$SENT_OCTETS" $FWD
	fm_start "$FM_NS_A" "$FM_IF_A" -c "$CONFIG"
	grep -q 'adopted the counts of an earlier instance' "$FM_LOG" || fail "the restart did not adopt"
	grep -q 'policy: generation [0-9]* in force' "$FM_LOG" || fail "the restart installed no policy"
	send_udp_dropped "$FM_NS_B" "$FM_NS_A" "$FM_A4" 5002 40051 2 100
	expect "$FM_B4" "$FM_A4" 40051 5002 17 ingress $((first + SENT_PACKETS)) \
		$((first_octets + SENT_OCTETS)) $DENY
	pol_finish
}

# At least N packets of B's stream to 5002 dropped so far (flows in FILE $flows).
pol_stream_dropped() {	# N
	fm_flows "$FM_NS_A" "$FM_IF_A" "$flows"
	[ "$("$FM_PY" "$FM_TOOLS/jsonq.py" "$flows" \
		'sum(f["packets"] for f in d if f["src_port"] == 40041 and f["verdict"] == "acl-deny")')" -ge "$1" ]
}

# A stack of priority tags (VLAN ID 0, 802.1ad then 802.1Q, four deep) from an untrusted peer over
# a veth overlay: the kernel strips every tag (the outer one before TC ingress) and delivers the
# datagram to A's socket, as it does here without flowmeta (the oracle is live: 3 arrive). With
# the peer untrusted it must not arrive, on the TC and the XDP hook, and it is metered as the drop
# flow of the datagram inside, with exact counts.
test_vlan_stack_from_an_untrusted_peer_never_arrives() {	# HOOK
	require_flowmeta
	topo_overlay veth
	local conf=$FM_LOG_DIR/flowmeta.json flows=$FM_LOG_DIR/flows.json tags=ad0,0,ad0,0
	echo '{"FlowMetadata": {"PollInterval": 60000, "IdleTimeout": 600000, "TrustRequirements":
		{"UntrustedPeers": ["'"$FM_B4"'"]}}}' >"$conf"
	fm_receiver oracle "$FM_NS_A" udp-recv "$FM_A4" 5009 3 5
	send_tagged_udp "$FM_NS_B" "$FM_IF_B" "$FM_MAC_B" "$FM_MAC_A" $tags "$FM_B4" "$FM_A4" \
		40009 5009 3 100
	fm_receiver_done '^packets=3 ' "without flowmeta, the tagged datagrams reach A's socket"
	fm_start "$FM_NS_A" "$FM_IF_A" --hook "$1" -c "$conf"
	fm_wait_metering
	fm_receiver dropped "$FM_NS_A" udp-recv "$FM_A4" 5009 3 1
	send_tagged_udp "$FM_NS_B" "$FM_IF_B" "$FM_MAC_B" "$FM_MAC_A" $tags "$FM_B4" "$FM_A4" \
		40009 5009 3 100
	bg_wait "$RECV_PID" || true
	grep -q '^packets=0 ' "$RECV_LOG" ||
		fail "tagged datagrams from the untrusted peer arrived: $(tail -n 1 "$RECV_LOG")"
	fm_flows "$FM_NS_A" "$FM_IF_A" "$flows"
	fm_flow "$flows" ingress 17 "$FM_B4" "$FM_A4" 40009 5009
	assert_eq "$FLOW_PACKETS $FLOW_OCTETS $FLOW_VERDICT" "$SENT_PACKETS $SENT_OCTETS untrusted" \
		"the drop flow of the tagged datagrams"
	assert_eq "$(fm_status "$FM_NS_A" "$FM_IF_A" policy_dropped)" 3 "policy_dropped"
}

# Frames the parser cannot read (IPv4 with a 12-octet header) from B under a policy: dropped
# (fail closed), and like every drop accounted in a drop record, promptly: the keyless drop flow
# of their direction (0.0.0.0 to 0.0.0.0, protocol 0, forwardingStatus 129), 40 octets each past
# the Ethernet header, on the TC and the XDP hook.
test_fail_closed_frames_are_exported_as_a_keyless_drop_record() {	# PORT HOOK
	require_flowmeta
	require_cmd tshark
	PORT=$1
	topo_overlay veth
	coll_start tshark "$FM_NS_A" "$PORT"
	pol_config "$PORT" Both "$POLICY_A"
	EXP=$FM_LOG_DIR/expected
	: >"$EXP"
	fm_start "$FM_NS_A" "$FM_IF_A" -c "$CONFIG" --hook "$2"
	fm_wait_metering
	START_MS=$(now_ms)
	local t0
	t0=$(now_ms)
	ns_run "$FM_NS_B" "$FM_PY" "$FM_TOOLS/metrics_tool.py" frames "$FM_IF_B" "$FM_MAC_B" \
		"$FM_MAC_A" malformed 7 >/dev/null || fail "cannot send the malformed frames"
	expect 0.0.0.0 0.0.0.0 0 0 0 ingress 7 $((7 * 40)) $DENY
	pol_check_prompt_drops "$t0" 1
	assert_eq "$(fm_status "$FM_NS_A" "$FM_IF_A" fail_closed)" 7 "fail_closed"
	pol_finish
}

run_test policy_tc_denied_traffic_dropped_and_exported_129 \
	test_denied_traffic_is_dropped_and_exported_with_status_129 4770 tc
run_test policy_xdp_denied_traffic_dropped_and_exported_129 \
	test_denied_traffic_is_dropped_and_exported_with_status_129 4775 xdp
run_test policy_untrusted_peer_dropped_both_ways_exported_130 \
	test_untrusted_peer_is_dropped_both_ways_and_exported_with_status_130
run_test policy_drop_records_exported_whatever_the_direction_filter \
	test_drop_records_are_exported_whatever_the_direction_filter
run_test policy_sighup_replaces_the_policy_under_traffic test_sighup_replaces_the_policy_under_traffic
run_test policy_stays_in_force_while_no_daemon_runs test_policy_stays_in_force_while_no_daemon_runs
run_test policy_tc_fail_closed_frames_exported_as_a_keyless_drop_record \
	test_fail_closed_frames_are_exported_as_a_keyless_drop_record 4778 tc
run_test policy_xdp_fail_closed_frames_exported_as_a_keyless_drop_record \
	test_fail_closed_frames_are_exported_as_a_keyless_drop_record 4779 xdp
for hook in tc xdp; do
	run_test "policy_${hook}_vlan_stack_from_untrusted_peer_never_arrives" \
		test_vlan_stack_from_an_untrusted_peer_never_arrives "$hook"
done
finish_tests
