#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Self-test of the end-to-end harness (tests/lib.sh), without flowmeta: every overlay topology
# comes up quiet (nothing crosses it unless a test sends), and the traffic helpers send exactly
# what they report — checked by the independent packet meter and, where the device counts whole
# packets, by the kernel's own device counters. Every other e2e test relies on both.
source "$(dirname "$0")/../lib.sh"

# Nothing at all may cross an idle overlay: a flow meter's exact counts depend on it. The window
# is a plain sleep on purpose: this proves an absence, there is no event to poll for.
assert_overlay_quiet() {
	local a b
	a="$(if_counters "$FM_NS_A" "$FM_IF_A") $(if_counters "$FM_NS_B" "$FM_IF_B")"
	sleep 2
	b="$(if_counters "$FM_NS_A" "$FM_IF_A") $(if_counters "$FM_NS_B" "$FM_IF_B")"
	assert_eq "$b" "$a" "$FM_OVERLAY overlay counters over 2 idle seconds"
}

# Expect exactly this flow (packets, octets) in the meter's report.
assert_meter_flow() {	# FILE DIRECTION PROTO SRC DST SPORT DPORT PACKETS OCTETS
	meter_flow "${@:1:7}"
	assert_eq "$METER_PACKETS $METER_OCTETS" "$8 $9" "meter: $2 proto $3 $4:$6 -> $5:$7 packets, octets"
}

test_overlay_counts() {	# OVERLAY
	require_root
	require_cmd socat ping
	topo_overlay "$1"
	assert_overlay_quiet

	local before after report=$FM_LOG_DIR/meter.json
	before=$(if_counters "$FM_NS_A" "$FM_IF_A")
	meter_start "$FM_NS_A" "$FM_IF_A"

	send_ping "$FM_NS_A" "$FM_B4" 5 100
	local p4=$SENT_PACKETS o4=$SENT_OCTETS
	send_ping "$FM_NS_A" "$FM_B6" 4 200
	local p6=$SENT_PACKETS o6=$SENT_OCTETS
	send_udp "$FM_NS_A" "$FM_NS_B" "$FM_B4" 5001 40001 7 300
	local pu=$SENT_PACKETS ou=$SENT_OCTETS
	send_udp "$FM_NS_B" "$FM_NS_A" "$FM_A6" 5002 40002 3 1200
	local pu6=$SENT_PACKETS ou6=$SENT_OCTETS
	send_raw "$FM_NS_A" "$FM_NS_B" "$FM_B4" 253 3 50
	local pr=$SENT_PACKETS or=$SENT_OCTETS
	send_raw "$FM_NS_B" "$FM_NS_A" "$FM_A6" 253 2 70
	local pr6=$SENT_PACKETS or6=$SENT_OCTETS
	send_tcp "$FM_NS_A" "$FM_NS_B" "$FM_B4" 5201 40003 200000

	wait_quiet "$FM_NS_A" "$FM_IF_A" 0.5
	meter_stop "$report"
	after=$(if_counters "$FM_NS_A" "$FM_IF_A")

	assert_eq "$o4" $((5 * 128)) "send_ping IPv4 octets"
	assert_eq "$o6" $((4 * 248)) "send_ping IPv6 octets"
	assert_meter_flow "$report" egress 1 "$FM_A4" "$FM_B4" 0 2048 "$p4" "$o4"
	assert_meter_flow "$report" ingress 1 "$FM_B4" "$FM_A4" 0 0 "$p4" "$o4"
	assert_meter_flow "$report" egress 58 "$FM_A6" "$FM_B6" 0 32768 "$p6" "$o6"
	assert_meter_flow "$report" ingress 58 "$FM_B6" "$FM_A6" 0 33024 "$p6" "$o6"
	assert_meter_flow "$report" egress 17 "$FM_A4" "$FM_B4" 40001 5001 "$pu" "$ou"
	assert_meter_flow "$report" ingress 17 "$FM_B6" "$FM_A6" 40002 5002 "$pu6" "$ou6"
	assert_meter_flow "$report" egress 253 "$FM_A4" "$FM_B4" 0 0 "$pr" "$or"
	assert_meter_flow "$report" ingress 253 "$FM_B6" "$FM_A6" 0 0 "$pr6" "$or6"

	meter_flow "$report" egress 6 "$FM_A4" "$FM_B4" 40003 5201
	assert_ge "$METER_OCTETS" $((200000 + 40 * METER_PACKETS)) "TCP data flow octets"
	local tcp_p=$METER_PACKETS tcp_o=$METER_OCTETS
	meter_flow "$report" ingress 6 "$FM_B4" "$FM_A4" 5201 40003
	assert_ge "$METER_PACKETS" 3 "TCP ack flow packets"

	local n
	n=$("$FM_PY" "$FM_TOOLS/jsonq.py" "$report" 'len(d["flows"])')
	assert_eq "$n" 10 "flows seen on $FM_IF_A (nothing but test traffic)"
	assert_eq "$("$FM_PY" "$FM_TOOLS/jsonq.py" "$report" 'd["not_ip"]')" 0 "non-IP frames"

	# tun and tap devices count whole packets (socat sets no offloads): their counters must
	# agree with the meter exactly; a tap adds a 14-byte Ethernet header to each.
	if [ "$FM_OVERLAY" != veth ]; then
		local l2=0 rx_p rx_b tx_p tx_b
		[ "$FM_OVERLAY" = tap ] && l2=14
		read -r rx_p rx_b tx_p tx_b <<<"$("$FM_PY" "$FM_TOOLS/jsonq.py" "$report" \
			'(sum(f["packets"] for f in d["flows"] if f["direction"] == "ingress"), sum(f["octets"] for f in d["flows"] if f["direction"] == "ingress"), sum(f["packets"] for f in d["flows"] if f["direction"] == "egress"), sum(f["octets"] for f in d["flows"] if f["direction"] == "egress"))')"
		local b0 b1
		read -r -a b0 <<<"$before"
		read -r -a b1 <<<"$after"
		assert_eq "$((b1[0] - b0[0])) $((b1[1] - b0[1]))" "$rx_p $((rx_b + l2 * rx_p))" \
			"$FM_IF_A rx packets, bytes vs meter"
		assert_eq "$((b1[2] - b0[2])) $((b1[3] - b0[3]))" "$tx_p $((tx_b + l2 * tx_p))" \
			"$FM_IF_A tx packets, bytes vs meter"
	fi
	log "tcp data flow: $tcp_p packets, $tcp_o octets"
}

# Tagged frames written with eth-send arrive, and the meter parses their tags.
test_tagged_frames() {
	require_root
	topo_overlay veth
	local report=$FM_LOG_DIR/meter.json
	meter_start "$FM_NS_B" "$FM_IF_B"
	send_tagged_udp "$FM_NS_A" "$FM_IF_A" "$FM_MAC_A" "$FM_MAC_B" 100 "$FM_A4" "$FM_B4" 4000 5000 5 100
	local p1=$SENT_PACKETS o1=$SENT_OCTETS
	send_tagged_udp "$FM_NS_A" "$FM_IF_A" "$FM_MAC_A" "$FM_MAC_B" ad200,100 "$FM_A6" "$FM_B6" 4000 5000 3 100
	local p2=$SENT_PACKETS o2=$SENT_OCTETS
	wait_quiet "$FM_NS_B" "$FM_IF_B" 0.5
	meter_stop "$report"
	assert_eq "$o1 $o2" "$((5 * 128)) $((3 * 148))" "eth-send octets"
	assert_meter_flow "$report" ingress 17 "$FM_A4" "$FM_B4" 4000 5000 "$p1" "$o1"
	assert_meter_flow "$report" ingress 17 "$FM_A6" "$FM_B6" 4000 5000 "$p2" "$o2"
}

# A test that cannot fail is worse than none: a wrong expectation must give FAIL.
test_harness_detects_mismatch() {
	require_root
	topo_overlay tun
	local report=$FM_LOG_DIR/meter.json
	meter_start "$FM_NS_A" "$FM_IF_A"
	send_ping "$FM_NS_A" "$FM_B4" 3 10
	meter_stop "$report"
	meter_flow "$report" egress 1 "$FM_A4" "$FM_B4" 0 2048
	[ "$METER_PACKETS" = 3 ] || fail "meter saw $METER_PACKETS echo requests, want 3"
	if (FM_REASON_FILE=/dev/null; assert_eq "$METER_PACKETS" 4 "deliberately wrong") 2>/dev/null; then
		fail "assert_eq accepted 3 == 4"
	fi
}

for overlay in tun tap veth; do
	run_test "harness_${overlay}_quiet_and_exact" test_overlay_counts "$overlay"
done
run_test harness_vlan_tagged_frames test_tagged_frames
run_test harness_detects_mismatch test_harness_detects_mismatch
finish_tests
