#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# End-to-end tests of what flowmeta exports (SPEC §5): real traffic over a two-node overlay,
# flowmeta on node A with a short PollInterval, and real collectors (tshark, ipfixDump,
# nfcapd+nfdump, nfacctd) on loopback inside node A's namespace. What the collectors decode must
# be what was sent, exactly: packets and octets per flow and direction, flowDirection,
# flowEndReason (1 idle, 2 interim, 3 TCP end, 4 stop), forwardingStatus, the interfaces, flow
# times in epoch milliseconds within the traffic's window, and when the records arrive. Then the
# message layer: sequence numbers, templates first and refreshed, the statistics options records,
# a collector that is down and comes back, one with no route, an IPv6 collector, 512-octet
# messages. Last, a start that `flowmeta status` reports before the programs meter.
#
# Expected records are lines of tests/tools/ipfix_detail.py check:
#   src dst sport dport proto direction packets octets reason fwd t0_ms t1_ms
# TCP flows, whose segment count the kernel decides, take their counts from the independent meter.
source "$(dirname "$0")/../lib_export.sh"

FM_NS_PREFIX=fmG
# Ports 4760-4769: 4760 + the index in KINDS by default, then these.
PORT_DOWN=4764
PORT_V6_TSHARK=4765
PORT_V6_NFCAPD=4766
PORT_NOROUTE_LIVE=4720
NOROUTE_ADDR=198.19.255.1	# a test address (198.18.0.0/15) nothing routes in the namespaces

# ---------------------------------------------------------------------------------------------
# Tests

# Every kind of traffic, each flow both ways; then flows still live when flowmeta stops. What
# the collector decoded is the traffic, exactly, with direction, end reason, forwardingStatus,
# interfaces, flow times and arrival times.
test_decodes_traffic() {	# OVERLAY KIND
	local overlay=$1 kind=$2 port stop_ms
	port=$(coll_port "$kind")
	ex_setup "$overlay" "$kind"
	ex_ping "$FM_NS_A" "$FM_B4" 5 100
	ex_ping "$FM_NS_A" "$FM_B6" 4 200
	ex_ping "$FM_NS_B" "$FM_A6" 3 56
	ex_udp "$FM_B4" "$FM_A4" 5001 40001 7 300 5 1000
	ex_udp "$FM_B6" "$FM_A6" 5002 40002 3 1200 4 1
	ex_raw "$FM_B4" "$FM_A4" 6 300 4 100
	ex_raw "$FM_B6" "$FM_A6" 5 200 3 0
	ex_tcp "$FM_B4" "$FM_A4" 5201 40021 300000
	ex_wait_exported "$(grep -c . "$EXP")"
	# Live at SIGTERM: flowEndReason 4, sent before flowmeta exits. Keys of their own, so that
	# nfdump, which decodes no flowEndReason, tells them from the records above.
	REASON=$FORCED ex_udp "$FM_B4" "$FM_A4" 5003 40003 2 100 3 200
	REASON=$FORCED ex_ping "$FM_NS_B" "$FM_A4" 2 64
	stop_ms=$(now_ms)
	fm_stop "$FM_PID"
	assert_eq "$FM_EXIT" 0 "flowmeta exit status on SIGTERM"
	coll_stop "$kind" "$port"
	ex_check_records "$kind" "$port"
	ex_check_timing "$kind" $IDLE $IDLE_LO $IDLE_HI "idle records after IdleTimeout"
	ex_check_timing "$kind" $END_DETECTED 0 $TCP_END_HI "TCP end records within 2 s"
	ex_check_timing "$kind" $FORCED 0 2000 "forced-end records at the stop" "$stop_ms"
	case $kind in tshark | ipfixdump) ex_check_messages "$kind" "$port" ;; esac
}

# A TCP connection closed with FIN: both flows are exported (reason 3) within 2 s of the close,
# by the ring-buffer event, with no poll to wait for (PollInterval 10 s, first poll after the
# check).
test_tcp_end_prompt() {
	local kind=tshark port started_ms
	port=$(coll_port $kind)
	POLL_MS=10000 IDLE_MS=60000 ex_setup tun $kind
	started_ms=$(now_ms)
	ex_tcp "$FM_B6" "$FM_A6" 5301 40031 200000
	wait_until 5 ex_exported 2 ||
		fail "no TCP end record within 5 s of the close (PollInterval 10 s)"
	[ $(($(now_ms) - started_ms)) -lt 9000 ] ||
		skip "too slow to tell the event from the first poll"
	coll_stop $kind "$port"
	ex_check_records $kind "$port"
	ex_check_timing $kind $END_DETECTED 0 $TCP_END_HI "TCP end records within 2 s of the last packet"
	ex_check_timing $kind $END_DETECTED 0 $TCP_END_HI "TCP end records within 2 s of the close" \
		"$TCP_CLOSED_MS"
	ex_check_messages $kind "$port"
}

# Interval = 2 x PollInterval and a steady ping: interim records (reason 2) every Interval with
# the counts since the previous record and the flow's original start, then always the idle end
# (reason 1) with the rest — zero counts when an interim record came after the last ping: the
# last record of every flow says how it ended (SPEC §5). Summed, exactly the pings.
test_interim() {
	local kind=tshark port count=40 t0 dir log=$FM_LOG_DIR/ping-steady.log
	port=$(coll_port $kind)
	ex_setup tun $kind -- "\"Interval\": $((2 * POLL_MS))"
	t0=$(now_ms)
	ns_run "$FM_NS_A" ping -n -c $count -s 100 -i 0.2 "$FM_B4" >"$log" 2>&1 ||
		fail "steady ping: $(tail -n 2 "$log")"
	grep -q "$count packets transmitted, $count received" "$log" ||
		fail "steady ping lost packets: $(tail -n 2 "$log")"
	ex_wait_exported 2
	fm_stop "$FM_PID"
	coll_stop $kind "$port"
	DETAILS=$FM_LOG_DIR/details.json
	coll_details $kind "$port" >"$DETAILS"
	for dir in "egress 2048" "ingress 0"; do
		local d=${dir% *} dport=${dir#* }
		local packets octets records interim last starts increasing gap start
		read -r packets octets records interim last starts increasing gap start <<<"$(
			"$FM_PY" "$FM_TOOLS/ipfix_detail.py" series "$DETAILS" "$d" 1 "$dport")"
		assert_eq "$packets $octets" "$count $((count * 128))" \
			"$d ping: packets, octets summed over its records"
		assert_ge "$interim" 3 "$d ping: interim records (reason 2) over 8 s with Interval 2 s"
		assert_eq "$last" $IDLE "$d ping: reason of its last record"
		assert_eq "$((interim + 1))" "$records" "$d ping: records of reason 2, then one of 1"
		assert_eq "$starts" 1 "$d ping: distinct flowStartMilliseconds (the original start kept)"
		assert_eq "$increasing" true "$d ping: flowEndMilliseconds increasing record to record"
		assert_ge "$gap" $((POLL_MS + 1)) \
			"$d ping: ms between interim records (more than a poll)"
		[ "$start" -ge $((t0 - 250)) ] && [ "$start" -le $((t0 + 1000)) ] ||
			fail "$d ping: flow start $start, pings started at $t0"
	done
	ex_check_messages $kind "$port"
}

# The first message a collector gets carries templates and no flow record: the Template Set
# first, then the options templates and their statistics records. The §4.1 record is sent at the
# start and at the stop, where it counts every flow record the collector decoded (and, as every
# one does, exactly what was sent before it: ex_check_messages); §4.3 says nothing was lost.
test_templates_and_statistics() {
	local kind port
	ex_setup tun tshark ipfixdump
	ex_ping "$FM_NS_A" "$FM_B4" 3 100
	ex_udp "$FM_B6" "$FM_A6" 5002 40002 3 200 2 300
	ex_wait_exported 4
	REASON=$FORCED ex_ping "$FM_NS_A" "$FM_B4" 2 64
	fm_stop "$FM_PID"
	for kind in tshark ipfixdump; do
		port=$(coll_port $kind)
		coll_stop $kind "$port"
		ex_check_records $kind "$port"
		ex_check_messages $kind "$port"
		assert_eq "$(msgq '(d[0]["sets"][0], d[0]["flow_records"], 3 in d[0]["sets"],
			d[0]["seq"])')" "2 0 true 0" \
			"$kind first message: first set, flow records, options templates, sequence"
		assert_ge "$(msgq 'len([m for m in d if m["flow_records"]])')" 2 \
			"$kind messages with flow records"
		assert_eq "$(msgq '[o["exportedFlowRecordTotalCount"] for m in d
			for o in m["options"] if "exportedFlowRecordTotalCount" in o]' | tr '\n' ' ')" \
			"0 $(grep -c . "$EXP") " \
			"$kind exportedFlowRecordTotalCount at the start and the stop"
		assert_eq "$(msgq 'sorted({(o["notSentFlowTotalCount"], o["notSentPacketTotalCount"],
			o["notSentOctetTotalCount"]) for m in d for o in m["options"]
			if "notSentFlowTotalCount" in o})')" \
			"0 0 0" "$kind exporting reliability records (nothing lost)"
	done
}

# Two collectors, one down (no listener: ICMP port unreachable). The live one gets every record,
# on time. The down one's losses are counted in `flowmeta status`, exactly the traffic while it
# was down, and so are the messages it did not get (ex_down_send_errors); when it comes back it
# first gets the templates and an exporting-reliability record whose notSent counts are what it
# missed, as status reports, with the times of the first and last record it missed, then the very
# next records.
test_down_collector() {
	local live=tshark live_port st=$FM_LOG_DIR/status.json missed back lost errors t0 first last
	live_port=$(coll_port $live)
	t0=$(now_ms)
	# Collectors are listed in status in the configuration's order: live 0, down 1.
	ex_setup tun $live none/$PORT_DOWN
	ex_ping "$FM_NS_A" "$FM_B4" 4 100
	ex_udp "$FM_B4" "$FM_A4" 5001 40001 3 200 2 400
	ex_wait_exported 4
	lost=$(ex_expected_totals)
	fm_cmd "$FM_NS_A" status "$FM_IF_A" --json >"$st"
	errors=$(ex_down_send_errors $live "$live_port" 4)
	assert_eq "$(ex_collector_status "$st" 1)" "true $lost $errors 0" \
		"down collector: down, not_sent flows/packets/octets, send errors, flow records"
	assert_eq "$(ex_collector_status "$st" 0)" "false 0 0 0 0 4" \
		"live collector: down, not_sent flows/packets/octets, send errors, flow records"

	# It comes back: the very next records reach it (the ICMP error of the last message sent
	# into the void must not cost them), and it is up again within a second and a tick.
	coll_start tshark "$FM_NS_A" $PORT_DOWN
	ex_ping "$FM_NS_A" "$FM_B6" 3 100
	ex_wait_exported 6
	wait_until 3 ex_collector_up 1 || fail "the collector that came back is still down"
	fm_cmd "$FM_NS_A" status "$FM_IF_A" --json >"$st"
	assert_eq "$(ex_collector_status "$st" 1)" "false $lost $errors 2" \
		"collector back: down, not_sent flows/packets/octets, send errors, flow records"
	fm_stop "$FM_PID"
	coll_stop $live "$live_port"
	coll_stop tshark $PORT_DOWN

	# The live collector: every record, exactly, on time.
	ex_check_records $live "$live_port"
	ex_check_timing $live $IDLE $IDLE_LO $IDLE_HI "live collector: idle records after IdleTimeout"
	ex_check_messages $live "$live_port"
	# The one that came back: templates first, with the §4.3 record of what status says it
	# missed, which is what the live one got and it did not.
	ex_check_messages tshark $PORT_DOWN --joined
	assert_eq "$(msgq '(d[0]["sets"][0], d[0]["flow_records"], 265 in d[0]["sets"])')" "2 0 true" \
		"returning collector's first message: first set, flow records, reliability record"
	missed=$(msgq '[(o["notSentFlowTotalCount"], o["notSentPacketTotalCount"],
		o["notSentOctetTotalCount"]) for o in d[0]["options"]
		if "notSentFlowTotalCount" in o][0]')
	assert_eq "$missed" "$("$FM_PY" "$FM_TOOLS/jsonq.py" "$st" 'tuple(d["collectors"][1][k]
		for k in ("not_sent_flows", "not_sent_packets", "not_sent_octets"))')" \
		"returning collector's notSent flows/packets/octets vs flowmeta status"
	# When the first and the last record it missed were found not sent: while it was down.
	read -r first last <<<"$(msgq 'tuple([o["observationTimeMilliseconds"]
		for o in d[0]["options"] if o["template"] == 265][0])')"
	[ "$first" -ge "$t0" ] && [ "$first" -le "$last" ] && [ "$last" -le "$(now_ms)" ] ||
		fail "returning collector: first/last not sent at $first/$last, test from $t0"
	back=$FM_LOG_DIR/details-back.json
	coll_details tshark $PORT_DOWN >"$back"
	local all got
	read -r -a all <<<"$(ex_totals "$DETAILS")"
	read -r -a got <<<"$(ex_totals "$back")"
	assert_eq "$missed" "$((all[0] - got[0])) $((all[1] - got[1])) $((all[2] - got[2]))" \
		"notSent flows/packets/octets vs what the live collector got and the returning one not"
	assert_eq "$missed" "$lost" "notSent flows/packets/octets vs the traffic while it was down"
}

# A collector that was down and listens again gets the very next records: nothing it could take
# is lost. (Connected UDP keeps the ICMP error of the last datagram sent into the void and returns
# it from the next send: that stale error must not cost the first message after the return.)
test_collector_back_loses_nothing() {
	local errors
	ex_setup tun tshark none/$PORT_DOWN
	ex_ping "$FM_NS_A" "$FM_B4" 2 100
	ex_wait_exported 2
	assert_eq "$(ex_status 'd["collectors"][1]["not_sent_flows"]')" 2 "records missed while down"
	errors=$(ex_down_send_errors tshark "$(coll_port tshark)" 2)
	coll_start tshark "$FM_NS_A" $PORT_DOWN
	ex_ping "$FM_NS_A" "$FM_B6" 3 100
	ex_wait_exported 4
	# Up again once a message it took got no ICMP error for a second (and a tick to see it).
	wait_until 3 ex_collector_up 1 || fail "the collector that came back is still down"
	assert_eq "$(ex_collector_status <(fm_cmd "$FM_NS_A" status "$FM_IF_A" --json) 1)" \
		"false 2 4 512 $errors 2" \
		"collector back: down, not_sent flows/packets/octets, send errors, flow records"
}

# SPEC §5: a collector with no route never delays another. 198.19.255.1 is a test address no
# route in A's namespace covers (its socket cannot even connect): the live collector gets every
# record, exactly and on time, while the unroutable one's status counts as not sent exactly what
# the live one received, and every message it did not get.
test_no_route_collector() {
	local live=tshark st=$FM_LOG_DIR/status.json got errors
	# shellcheck disable=SC2034 # ns_new's namespace prefix (tests/lib.sh)
	FM_NS_PREFIX=fmT
	ex_setup tun $live/$PORT_NOROUTE_LIVE none/4739/$NOROUTE_ADDR
	! ns_run "$FM_NS_A" ip route get "$NOROUTE_ADDR" >"$FM_LOG_DIR/route" 2>&1 ||
		fail "$NOROUTE_ADDR has a route in $FM_NS_A: $(cat "$FM_LOG_DIR/route")"
	grep -q "^warning: collector Udp/$NOROUTE_ADDR:4739: Network is unreachable" "$FM_LOG" ||
		fail "no warning about the unroutable collector: $(tr '\n' '|' <"$FM_LOG")"
	ex_ping "$FM_NS_A" "$FM_B4" 3 100
	ex_udp "$FM_B6" "$FM_A6" 5002 40002 3 200 2 300
	ex_wait_exported 4
	fm_cmd "$FM_NS_A" status "$FM_IF_A" --json >"$st"
	errors=$(ex_down_send_errors $live $PORT_NOROUTE_LIVE 4)
	coll_details $live $PORT_NOROUTE_LIVE >"$FM_LOG_DIR/details-live.json"
	got=$(ex_totals "$FM_LOG_DIR/details-live.json")
	assert_eq "$got" "$(ex_expected_totals)" \
		"live collector: records, packets, octets vs the traffic"
	assert_eq "$(ex_collector_status "$st" 1)" "true $got $errors 0" \
		"unroutable collector: down, not_sent flows/packets/octets, send errors, records"
	assert_eq "$(ex_collector_status "$st" 0)" "false 0 0 0 0 4" \
		"live collector: down, not_sent flows/packets/octets, send errors, flow records"
	fm_stop "$FM_PID"
	assert_eq "$FM_EXIT" 0 "flowmeta exit status on SIGTERM"
	coll_stop $live $PORT_NOROUTE_LIVE
	ex_check_records $live $PORT_NOROUTE_LIVE
	ex_check_timing $live $IDLE $IDLE_LO $IDLE_HI "live collector: idle records on time"
	ex_check_messages $live $PORT_NOROUTE_LIVE
}

# Collector I is not down.
ex_collector_up() {	# I
	[ "$(ex_status 'd["collectors"][int(a[0])]["down"]' "$1")" = false ]
}

# down, not_sent flows/packets/octets, send errors, flow records of collector I in a status file.
ex_collector_status() {	# FILE I
	"$FM_PY" "$FM_TOOLS/jsonq.py" "$1" '(lambda c: (c["down"], c["not_sent_flows"],
		c["not_sent_packets"], c["not_sent_octets"], c["send_errors"],
		c["flow_records"]))(d["collectors"][int(a[0])])' "$2"
}

# Messages carrying flow records that collector KIND at PORT has received (tshark, ipfixdump).
ex_data_messages() {	# KIND PORT
	coll_messages "$1" "$2" | "$FM_PY" "$FM_TOOLS/jsonq.py" - \
		'len([m for m in d if m["flow_records"]])'
}

ex_flow_records_received() {	# KIND PORT
	coll_messages "$1" "$2" | "$FM_PY" "$FM_TOOLS/jsonq.py" - \
		'sum(m["flow_records"] for m in d)'
}

ex_has_flow_records() {	# KIND PORT N
	[ "$(ex_flow_records_received "$1" "$2")" -ge "$3" ]
}

# The send_errors of a collector that has been unreachable since the start, once the live
# collector KIND at PORT holds all N flow records sent: the template message of the start, then
# for each data message the live one got, the templates a down collector gets before every
# message and the message itself (collector.h: send_errors counts messages not sent).
ex_down_send_errors() {	# KIND PORT N
	wait_until 5 ex_has_flow_records "$1" "$2" "$3" ||
		fail "$1 :$2 holds $(ex_flow_records_received "$1" "$2") flow records, want $3"
	echo $((1 + 2 * $(ex_data_messages "$1" "$2")))
}

# TemplateRefresh 2 s: the templates and the statistics records come again every 2 s, in messages
# without flow records; a SIGHUP (same file) sends them at once; every message carries the
# configured ObservationDomainId.
test_template_refresh() {
	local kind=tshark port hup_ms gaps gap after
	port=$(coll_port $kind)
	ex_setup tun $kind -- '"TemplateRefresh": 2000' '"ObservationDomainId": 4242'
	# The start and three refreshes (status counts the messages sent to each collector).
	wait_until 15 ex_messages_sent 0 4 || fail "4 template messages not sent within 15 s"
	hup_ms=$(now_ms)
	kill -HUP "$FM_PID"
	wait_until 5 ex_messages_sent 0 5 || fail "no template message within 5 s of SIGHUP"
	fm_stop "$FM_PID"
	coll_stop $kind "$port"
	ex_check_messages $kind "$port"
	assert_eq "$(msgq 'sorted({m["odid"] for m in d})')" 4242 \
		"Observation Domain IDs of the messages"
	assert_eq "$(msgq '[(i, m["sets"]) for i, m in enumerate(d) if m["sets"][0] != 2
		or m["flow_records"] or 264 not in m["sets"] or 265 not in m["sets"]]')" \
		"" "messages that are not templates + statistics (no traffic was sent)"
	gaps=$(msgq '[y["arrival_ms"] - x["arrival_ms"] for x, y in zip(d, d[1:])
		if y["arrival_ms"] < int(a[0])]' "$hup_ms")
	assert_ge "$(echo "$gaps" | grep -c .)" 3 "refreshes before the SIGHUP"
	for gap in $gaps; do
		[ "$gap" -ge 1950 ] && [ "$gap" -le 3000 ] ||
			fail "templates refreshed after $gap ms (TemplateRefresh 2000): ${gaps//$'\n'/ }"
	done
	after=$(msgq 'min(m["arrival_ms"] for m in d if m["arrival_ms"] >= int(a[0])) - int(a[0])' \
		"$hup_ms")
	[ "$after" -le 1000 ] || fail "templates $after ms after SIGHUP (want at once)"
}

# A collector on ::1 (Udp/[::1]:PORT): tshark and nfcapd decode every record.
test_ipv6_collector() {
	local kind port pair
	ex_setup tun tshark/$PORT_V6_TSHARK/::1 nfcapd/$PORT_V6_NFCAPD/::1
	ex_ping "$FM_NS_A" "$FM_B4" 3 100
	ex_udp "$FM_B6" "$FM_A6" 5002 40002 4 500 2 50
	ex_wait_exported 4
	fm_stop "$FM_PID"
	for pair in "tshark $PORT_V6_TSHARK" "nfcapd $PORT_V6_NFCAPD"; do
		read -r kind port <<<"$pair"
		coll_stop "$kind" "$port"
		ex_check_records "$kind" "$port"
	done
	ex_check_messages tshark $PORT_V6_TSHARK
}

# MaxMessageSize 512 and many flows: every message fits 512 octets (IPFIX length and UDP
# payload), records spread over many messages, every flow still exact.
test_max_message_512() {
	local kind port t0 i longest
	ex_setup tun tshark ipfixdump -- '"MaxMessageSize": 512'
	t0=$(now_ms)
	send_udp_flows "$FM_NS_A" "$FM_NS_B" "$FM_B4" 6000 41000 40 2 100
	for ((i = 0; i < 40; i++)); do
		expect "$FM_A4" "$FM_B4" $((41000 + i)) 6000 17 egress 2 256 $IDLE $FWD "$t0" \
			"$(now_ms)"
	done
	t0=$(now_ms)
	send_udp_flows "$FM_NS_B" "$FM_NS_A" "$FM_A6" 6001 42000 30 3 20
	for ((i = 0; i < 30; i++)); do
		expect "$FM_B6" "$FM_A6" $((42000 + i)) 6001 17 ingress 3 204 $IDLE $FWD "$t0" \
			"$(now_ms)"
	done
	ex_wait_exported 70
	fm_stop "$FM_PID"
	for kind in tshark ipfixdump; do
		port=$(coll_port $kind)
		coll_stop $kind "$port"
		ex_check_records $kind "$port"
		ex_check_messages $kind "$port"
		assert_eq "$(msgq '[m["length"] for m in d if m["length"] > 512]')" "" \
			"$kind messages longer than 512 octets"
		# 4640 octets of records (40 x 56 IPv4, 30 x 80 IPv6), at most 492 a message.
		assert_ge "$(msgq 'len([m for m in d if m["flow_records"]])')" 10 \
			"$kind messages carrying the 70 records"
	done
	# The datagrams themselves: the UDP payload is the IPFIX message, at most 512 octets.
	longest=$(tshark -r "${FM_COLL_DIR[tshark:$(coll_port tshark)]}/cap.pcap" -T fields \
		-e udp.length 2>/dev/null | sort -n | tail -n 1)
	[ $((longest - 8)) -le 512 ] ||
		fail "a UDP payload of $((longest - 8)) octets (MaxMessageSize 512)"
}

# `flowmeta status` says "running" only once the daemon meters: a packet sent as soon as status
# says so is counted. Twelve starts, each checked as early as a poll of status can tell: the
# ingress program (attached last) must be in place.
test_running_means_metering() {
	local i early=0 polls filters
	require_flowmeta
	topo_overlay tun
	ex_config ""
	for ((i = 0; i < 12; i++)); do
		fm_register_attach "$FM_NS_A" "$FM_IF_A"
		FM_LOG=$FM_LOG_DIR/flowmeta-$i.log
		bg_start "$FM_LOG" "$FM_NS_A" "$FM_BIN" run -i "$FM_IF_A" \
			--pin-dir "$(fm_pin_dir "$FM_IF_A")" -c "$CONFIG"
		FM_PID=$BG_PID
		fm_forget_pid "$FM_PID"
		FM_FM_PIDS+=("$FM_PID")
		# No sleep between polls (each is one short flowmeta process): the first "running".
		polls=0
		until fm_cmd "$FM_NS_A" status "$FM_IF_A" 2>/dev/null | grep -Eq '^running +yes'; do
			pid_alive "$FM_PID" || fail "flowmeta exited: $(tail -n 2 "$FM_LOG")"
			polls=$((polls + 1))
			[ $polls -lt 3000 ] || fail "status never said running"
		done
		# Not piped into grep -q: its early exit would SIGPIPE tc and fail the pipeline.
		filters=$(attached_progs "$FM_NS_A" "$FM_IF_A")
		[[ $filters == *"ingress: name flowmeta_tc_ing"* || $filters == *"tc ingress:"*bpf* ]] ||
			early=$((early + 1))
		fm_wait_metering
		fm_stop "$FM_PID"
		assert_eq "$FM_EXIT" 0 "flowmeta exit status on SIGTERM"
	done
	assert_eq "$early" 0 "starts (of 12) where status said running before ingress was attached"
}

for kind in "${KINDS[@]}"; do
	run_test "export_tun_${kind}_decodes_every_flow_exactly_both_directions" \
		test_decodes_traffic tun "$kind"
done
run_test export_veth_tshark_decodes_every_flow_exactly_both_directions test_decodes_traffic veth tshark
run_test export_tcp_fin_record_arrives_within_2s_without_a_poll test_tcp_end_prompt
run_test export_interim_records_sum_to_the_pings_and_keep_the_start test_interim
run_test export_templates_first_and_statistics_count_what_was_sent test_templates_and_statistics
run_test export_down_collector_counts_losses_and_gets_them_reported_on_return test_down_collector
run_test export_collector_back_gets_the_first_records_after_it_listens \
	test_collector_back_loses_nothing
run_test export_no_route_collector_never_delays_the_live_one_counts_exact_losses \
	test_no_route_collector
run_test export_templates_resent_every_template_refresh_and_on_sighup test_template_refresh
run_test export_ipv6_collector_decodes_every_record test_ipv6_collector
run_test export_max_message_512_every_message_fits_totals_exact test_max_message_512
run_test export_status_says_running_only_once_packets_are_metered test_running_means_metering
finish_tests
