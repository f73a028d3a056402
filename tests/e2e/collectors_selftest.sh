#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Self-test of the IPFIX collector helpers in tests/lib.sh (tshark, ipfixDump, nfcapd+nfdump,
# nfacctd), against IPFIX sources that exist without flowmeta:
#  - softflowd, a real exporter, replaying a capture of known traffic on the tun overlay;
#  - tests/tools/ipfix_craft.py, a stream laid out like flowmeta's (8-octet counters, absolute
#    millisecond timestamps, flowDirection, flowEndReason, forwardingStatus, statistics options)
#    with one deliberate sequence-number error.
# Each helper must decode every record to the same normal lines, exactly; what a collector does
# not decode (nfdump: flowEndReason, forwardingStatus) is "-" and not compared.
#
# softflowd runs in pcap replay mode (-r): live capture does not work on this kernel (6.18) with
# softflowd 1.1.0 — its TPACKET_V2 poll() never wakes although libpcap counts the packets.
source "$(dirname "$0")/../lib.sh"

KINDS=(tshark ipfixdump nfcapd nfacctd)
SOURCE_PCAP=$FM_RUN_DIR/overlay.pcap
SOURCE_EXPECTED=$FM_RUN_DIR/overlay.expected

coll_port() {	# KIND -> its port in 4790-4799
	local i
	for i in "${!KINDS[@]}"; do
		[ "${KINDS[i]}" = "$1" ] && echo $((4790 + i)) && return
	done
	echo 4799
}

# Known traffic on the tun overlay, captured on A's tun; what a flow exporter must report for it
# written in the normal form (direction and flags are the exporter's business here: "-").
test_capture_overlay() {
	require_root
	require_cmd socat dumpcap
	topo_overlay tun
	pcap_start "$FM_NS_A" "$FM_IF_A" "$FM_LOG_DIR/overlay.pcap"
	local exp=$FM_LOG_DIR/expected
	: >"$exp"
	send_ping "$FM_NS_A" "$FM_B4" 5 100
	echo "$FM_A4 $FM_B4 0 2048 1 - $SENT_PACKETS $SENT_OCTETS - -" >>"$exp"
	echo "$FM_B4 $FM_A4 0 0 1 - $SENT_PACKETS $SENT_OCTETS - -" >>"$exp"
	send_ping "$FM_NS_A" "$FM_B6" 4 200
	echo "$FM_A6 $FM_B6 0 32768 58 - $SENT_PACKETS $SENT_OCTETS - -" >>"$exp"
	echo "$FM_B6 $FM_A6 0 33024 58 - $SENT_PACKETS $SENT_OCTETS - -" >>"$exp"
	send_udp "$FM_NS_A" "$FM_NS_B" "$FM_B4" 5001 40001 7 300
	echo "$FM_A4 $FM_B4 40001 5001 17 - $SENT_PACKETS $SENT_OCTETS - -" >>"$exp"
	send_udp "$FM_NS_B" "$FM_NS_A" "$FM_A6" 5002 40002 3 1200
	echo "$FM_B6 $FM_A6 40002 5002 17 - $SENT_PACKETS $SENT_OCTETS - -" >>"$exp"
	wait_quiet "$FM_NS_A" "$FM_IF_A" 0.5
	pcap_stop "$PCAP_PID"
	local n
	n=$(tshark -r "$FM_LOG_DIR/overlay.pcap" 2>/dev/null | grep -c .)
	assert_eq "$n" $((2 * 5 + 2 * 4 + 7 + 3)) "packets in the overlay capture"
	cp "$FM_LOG_DIR/overlay.pcap" "$SOURCE_PCAP"
	cp "$exp" "$SOURCE_EXPECTED"
}

# softflowd replays the capture to one collector; the collector's records equal the traffic.
test_softflowd() {	# KIND
	local kind=$1 port actual=$FM_LOG_DIR/actual
	require_root
	require_cmd softflowd
	[ -s "$SOURCE_PCAP" ] || skip "no overlay capture (collectors_overlay_capture did not pass)"
	port=$(coll_port "$kind")
	ns_new c
	coll_start "$kind" "$NS_NAME" "$port"
	ns_run "$NS_NAME" softflowd -v 10 -T full -r "$SOURCE_PCAP" -n "127.0.0.1:$port" \
		>"$FM_LOG_DIR/softflowd.log" 2>&1 || fail "softflowd: $(tail -n 2 "$FM_LOG_DIR/softflowd.log")"
	grep -q 'Flows exported: 6 ' "$FM_LOG_DIR/softflowd.log" ||
		fail "softflowd did not export 6 flows: $(grep 'Flows exported' "$FM_LOG_DIR/softflowd.log")"
	coll_stop "$kind" "$port"
	coll_records "$kind" "$port" | "$FM_PY" "$FM_TOOLS/ipfix_norm.py" sum >"$actual"
	assert_records "$SOURCE_EXPECTED" "$actual" "$kind decoding softflowd"
}

# The crafted flowmeta-like stream, twice: observation domain 1 clean, domain 2 with one
# sequence error. Every record exactly, and exactly one sequence error where the collector tells.
test_crafted() {	# KIND [ADDR]
	local kind=$1 addr=${2:-127.0.0.1} port dest actual=$FM_LOG_DIR/actual exp=$FM_LOG_DIR/expected
	require_root
	port=$(coll_port "$kind")
	ns_new c
	coll_start "$kind" "$NS_NAME" "$port" "$addr"
	case $addr in *:*) dest="[$addr]:$port" ;; *) dest="$addr:$port" ;; esac
	ns_run "$NS_NAME" "$FM_PY" "$FM_TOOLS/ipfix_craft.py" --odid 1 "$exp.1" "$dest"
	ns_run "$NS_NAME" "$FM_PY" "$FM_TOOLS/ipfix_craft.py" --odid 2 --seq-error "$exp.2" "$dest"
	cat "$exp.1" "$exp.2" >"$exp"
	# nfacctd's print plugin writes what it received on its next refresh (1 s) or on exit;
	# the others hold every datagram once it is read. Stopping is what flushes all of them.
	coll_stop "$kind" "$port"
	if [ "$kind" = nfacctd ]; then
		# It aggregates equal keys: both streams' records fold into one line each.
		"$FM_PY" "$FM_TOOLS/ipfix_norm.py" sum "$exp" >"$exp.sum"
		coll_records "$kind" "$port" | "$FM_PY" "$FM_TOOLS/ipfix_norm.py" sum >"$actual"
		assert_records "$exp.sum" "$actual" "$kind decoding the crafted stream"
	else
		coll_records "$kind" "$port" >"$actual"
		assert_records "$exp" "$actual" "$kind decoding the crafted stream"
	fi
	local seq
	seq=$(coll_seq_errors "$kind" "$port")
	[ "$seq" = - ] || assert_eq "$seq" 1 "$kind sequence errors (one injected)"
	case $kind in
	tshark | ipfixdump)
		local n
		n=$(coll_options "$kind" "$port" | grep -c 'exportedFlowRecordTotalCount=8' || true)
		assert_eq "$n" 2 "$kind statistics options records"
		;;
	esac
}

run_test collectors_overlay_capture test_capture_overlay
for kind in "${KINDS[@]}"; do
	run_test "collectors_${kind}_softflowd" test_softflowd "$kind"
done
for kind in "${KINDS[@]}"; do
	run_test "collectors_${kind}_crafted" test_crafted "$kind"
	run_test "collectors_${kind}_crafted_ipv6" test_crafted "$kind" ::1
done
finish_tests
