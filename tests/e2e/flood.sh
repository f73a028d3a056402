#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Floods of new flows next to allowed traffic (SPEC §6, §7; issue 7), on a veth overlay with
# flowmeta and a policy on node A and ipfixDump on loopback in A. The frames are written by
# tests/tools/flood_send.c (a packet socket in a tight loop: 200,000 frames in under a second)
# on the other end of the overlay for ingress, on A's own end for TC egress. The oracle of what
# reached a socket is the receiving node's stack (tests/tools/flood_recv.py: UDP sockets and a raw
# socket).
#
# - Denied flood, 200,000 one-packet flows, half from trusted peers to a denied port, half from
#   untrusted peers to the allowed one, on TC ingress, XDP and TC egress, with an allowed stream
#   interleaved evenly through it: nothing denied reaches a socket, the allowed stream and a flow
#   that starts right after the flood arrive and come out of the collector with their exact counts,
#   and the drop records (per flow, and the aggregate ones of drops that found the drop table full)
#   add up to the 200,000 exactly, per reason, as the kernel's counters say. A denied flow that
#   starts about a second after the flood gets a drop record of its own, with all its packets:
#   the drop table was relieved meanwhile.
# - Allowed flood that fills the flow table (MaxFlows 1024): a flow that starts about a second
#   after the table filled gets its own record with all its packets (relieved by then, not at the
#   next poll: PollInterval is 10 s), and every packet is accounted: packets in flow records plus
#   ignoredPacketTotalCount (§4.2) equal the packets sent, exactly.
#
# Each test writes its figures in a "# figures" line, which the script prints after the results
# (tests/run.sh keeps it in build/test-logs/e2e_flood.sh.log).
source "$(dirname "$0")/../lib.sh"

FM_NS_PREFIX=fmL
POLL_MS=10000	# every relief the tests see comes from the kernel's table-full events
FWD=64 DENY=129 UNTRUSTED=130
FLOOD=${FLOOD_FRAMES:-200000}	# denied frames (a multiple of 400: the specs split it in 2 or 4)
ALLOWED=2000	# the allowed stream's datagrams, interleaved in the flood
AFTER=10	# datagrams of the flows that start after the flood
PAYLOAD=22	# 50 octets a frame (IP), 64 on the wire
RELIEF_S=1	# "a full table is relieved within about a second"

# Node A's policy: peers in 100.64.0.0/25 may send to A's UDP 5001, A may send to their 6001;
# 100.64.0.128/25 is untrusted. The rest is denied.
POLICY='"AccessControl": {"Rules": [
	{"Description": "to A", "Peers": ["100.64.0.0/25"], "Protocol": "Udp", "Ports": "5001",
	 "Direction": "Inbound"},
	{"Description": "from A", "Peers": ["100.64.0.0/25"], "Protocol": "Udp", "Ports": "6001",
	 "Direction": "Outbound"}]},
	"TrustRequirements": {"UntrustedPeers": ["100.64.0.128/25"]}'
PORT=4795

now_ms() {
	echo $(($(fm_now_us) / 1000))
}

# The sender, built for this run (it needs nothing of the daemon).
fl_build_sender() {
	SENDER=$FM_RUN_DIR/flood_send
	[ -x "$SENDER" ] || cc -O2 -Wall -o "$SENDER" "$FM_TOOLS/flood_send.c" ||
		fail "cannot build flood_send"
}

# Veth overlay, ipfixDump in A, flowmeta on A's end (HOOK) with the policy and MEMBERS.
fl_setup() {	# HOOK MEMBERS
	require_flowmeta
	require_cmd ipfixDump socat
	fl_build_sender
	topo_overlay veth
	coll_start ipfixdump "$FM_NS_A" "$PORT"
	CONFIG=$FM_LOG_DIR/flowmeta.json
	cat >"$CONFIG" <<-EOF
		{"FlowMetadata": {"PollInterval": $POLL_MS, "IdleTimeout": 60000,
		 "IpFixCollectors": ["$(coll_dest "$PORT")"], $POLICY, $2}}
	EOF
	"$FM_BIN" check -c "$CONFIG" >"$CONFIG.check" 2>&1 ||
		fail "flowmeta check rejects the configuration: $(tail -n 1 "$CONFIG.check")"
	fm_start "$FM_NS_A" "$FM_IF_A" -c "$CONFIG" --hook "$1"
	fm_wait_metering
	EXP=$FM_LOG_DIR/expected
	: >"$EXP"
}

expect() {	# SRC DST SPORT DPORT PROTO DIRECTION PACKETS OCTETS FWD
	echo "$1 $2 $3 $4 $5 $6 $7 $8 - $9" >>"$EXP"
}

# The oracle in NS: UDP sockets on PORTS and a raw socket (tests/tools/flood_recv.py).
fl_recv_start() {	# NS PORT...
	local ns=$1
	shift
	RECV_LOG=$FM_LOG_DIR/recv-$ns.log
	bg_start "$RECV_LOG" "$ns" "$FM_PY" "$FM_TOOLS/flood_recv.py" "$@"
	RECV_PID=$BG_PID
	wait_for_line 10 "$RECV_LOG" '^ready' "$RECV_PID" || fail "receiver: $(cat "$RECV_LOG")"
}

fl_recv_stop() {
	stop_pid "$RECV_PID" TERM 10
	grep -q '^drops ' "$RECV_LOG" || fail "receiver did not report: $(tail -n 2 "$RECV_LOG")"
	assert_eq "$(awk '$1 == "drops" {print $2}' "$RECV_LOG")" 0 \
		"datagrams the receiver's sockets dropped"
}

# Packets a UDP socket (udp) or the stack (raw) got from SRC:SPORT ("-": any) to DPORT ("-": any).
fl_received() {	# udp|raw SRC SPORT DPORT
	awk -v k="$1" -v s="$2" -v sp="$3" -v dp="$4" '
		k == "udp" && $1 == k && (s == "-" || $3 == s) && (sp == "-" || $4 == sp) &&
			(dp == "-" || $2 == dp) {n += $5}
		k == "raw" && $1 == k && (s == "-" || $2 == s) && (sp == "-" || $3 == sp) &&
			(dp == "-" || $4 == dp) {n += $5}
		END {print n + 0}' "$RECV_LOG"
}

# rx (ingress) or tx packets of IFACE in NS.
fl_if_packets() {	# NS IFACE rx|tx
	ip -n "$1" -s -j link show dev "$2" | "$FM_PY" "$FM_TOOLS/jsonq.py" - \
		'd[0]["stats64"][a[0]]["packets"]' "$3"
}

fl_status() {	# EXPR [ARGS...]
	fm_cmd "$FM_NS_A" status "$FM_IF_A" --json | "$FM_PY" "$FM_TOOLS/jsonq.py" - "$@"
}

# Run the sender in NS on IFACE (SRCMAC DSTMAC) with SPECs; FLOOD_OUT is its line.
fl_send() {	# NS IFACE SRCMAC DSTMAC SPEC...
	local ns=$1
	shift
	FLOOD_OUT=$(ns_run "$ns" timeout 60 "$SENDER" "$1" "$2" "$3" "$PAYLOAD" "${@:4}") ||
		fail "flood_send failed: $FLOOD_OUT"
	log "flood_send: $FLOOD_OUT"
}

fl_field() {	# NAME LINE
	echo "$2" | sed -n "s/.*$1=\([0-9]*\).*/\1/p"
}

# COUNT datagrams of PAYLOAD octets from NS's own socket (SPORT) to DST:DPORT.
fl_udp() {	# NS DST DPORT SPORT COUNT
	ns_run "$1" timeout 30 "$FM_PY" "$FM_TOOLS/traffic.py" udp-send "$2" "$3" "$4" "$5" \
		"$PAYLOAD" >/dev/null || fail "udp send to $2:$3 failed"
}

# Stop flowmeta (live flows end with reason 4, the last aggregate drop records go out) and the
# collector; RECORDS: the flow records summed per flow key and forwardingStatus.
fl_finish() {
	fm_stop "$FM_PID"
	assert_eq "$FM_EXIT" 0 "flowmeta exit status"
	coll_stop ipfixdump "$PORT"
	RECORDS=$FM_LOG_DIR/records.txt
	coll_records ipfixdump "$PORT" >"$RECORDS.raw"
	"$FM_PY" "$FM_TOOLS/ipfix_norm.py" sum "$RECORDS.raw" >"$RECORDS"
	[ -s "$FM_LOG_DIR/coll-ipfixdump-$PORT/dump.err" ] &&
		log "ipfixDump: $(head -n 3 "$FM_LOG_DIR/coll-ipfixdump-$PORT/dump.err")"
	return 0
}

# A "# figures" line for the script's own output (a passing test's log is removed).
fl_figures() {	# TEXT...
	echo "# figures $*" | tee -a "$FM_RUN_DIR/figures"
}

# Sum of column COL (7 packets, 8 octets) of the RECORDS lines matching the awk condition COND.
fl_sum() {	# COL COND
	awk "$2 {n += \$$1} END {print n + 0}" "$RECORDS"
}

# ---------------------------------------------------------------------------------------------

# The denied flood on HOOK (tc or xdp; DIR in: ingress at A, out: A's TC egress).
test_denied_flood() {	# HOOK DIR
	local hook=$1 dir=$2 half=$((FLOOD / 2)) send_ns send_if smac dmac recv_ns src dst dport
	local direction rx0 rx1 ms frames late_sport=40003 agg
	local drop_rec deny_rec untr_rec full_deny full_untr dropped
	fl_setup "$hook" '"MaxFlows": 4096'
	if [ "$dir" = in ]; then
		send_ns=$FM_NS_B send_if=$FM_IF_B smac=$FM_MAC_B dmac=$FM_MAC_A recv_ns=$FM_NS_A
		src=$FM_B4 dst=$FM_A4 dport=5001 direction=ingress
		# Trusted peers 100.64.0.2-101 to the denied 5002; untrusted 100.64.0.128-227 to 5001.
		set -- "100.64.0.2,100,10000,$((half / 100)),$FM_A4,5002,$half" \
			"100.64.0.128,100,10000,$((half / 100)),$FM_A4,5001,$half"
		rx0=$(fl_if_packets "$FM_NS_A" "$FM_IF_A" rx)
	else
		send_ns=$FM_NS_A send_if=$FM_IF_A smac=$FM_MAC_A dmac=$FM_MAC_B recv_ns=$FM_NS_B
		src=$FM_A4 dst=$FM_B4 dport=6001 direction=egress
		# To B's denied 6002, and to untrusted 100.64.0.200-201 (B's too): each from the
		# addresses 100.64.0.1 and .3 (the node's own and a spoofed one) and many ports.
		ip -n "$FM_NS_B" addr add 100.64.0.3/32 dev "$FM_IF_B"
		ip -n "$FM_NS_B" addr add 100.64.0.200/32 dev "$FM_IF_B"
		ip -n "$FM_NS_B" addr add 100.64.0.201/32 dev "$FM_IF_B"
		set -- "100.64.0.1,2,10000,$((half / 4)),$FM_B4,6002,$((half / 2))" \
			"100.64.0.1,2,10000,$((half / 4)),100.64.0.3,6002,$((half / 2))" \
			"100.64.0.1,2,10000,$((half / 4)),100.64.0.200,6001,$((half / 2))" \
			"100.64.0.1,2,10000,$((half / 4)),100.64.0.201,6001,$((half / 2))"
		rx0=$(fl_if_packets "$FM_NS_B" "$FM_IF_B" rx)
	fi
	fl_recv_start "$recv_ns" "$dport" 5002 6002
	# The allowed stream runs evenly through the flood (one of the sender's specs).
	fl_send "$send_ns" "$send_if" "$smac" "$dmac" "$@" "$src,1,40001,1,$dst,$dport,$ALLOWED"
	frames=$(fl_field frames "$FLOOD_OUT")
	ms=$(fl_field ms "$FLOOD_OUT")
	assert_eq "$frames" $((FLOOD + ALLOWED)) "frames sent"
	# Right after the flood: an allowed flow from the node's own socket.
	fl_udp "$send_ns" "$dst" "$dport" 40002 "$AFTER"
	# About a second after the flood: a denied flow of its own (to a denied port).
	sleep "$RELIEF_S"
	fl_udp "$send_ns" "$dst" $((dport + 1)) "$late_sport" "$AFTER"
	if [ "$dir" = in ]; then
		# Nothing was lost before the hook (the counts below are then exact).
		rx1=$(fl_if_packets "$FM_NS_A" "$FM_IF_A" rx)
		assert_eq $((rx1 - rx0)) $((FLOOD + ALLOWED + 2 * AFTER)) "frames $FM_IF_A received"
	else
		# TC egress dropped every denied frame (the sender saw each refused) and passed the
		# allowed ones: that is what reached the wire.
		assert_eq "$(fl_field dropped "$FLOOD_OUT")" "$FLOOD" "frames TC egress dropped"
		rx1=$(fl_if_packets "$FM_NS_B" "$FM_IF_B" rx)
		assert_eq $((rx1 - rx0)) $((ALLOWED + AFTER)) "frames $FM_IF_B received"
	fi
	sleep 0.5
	fl_recv_stop
	assert_eq "$(fl_received udp "$src" 40001 "$dport")" "$ALLOWED" "allowed stream received"
	assert_eq "$(fl_received udp "$src" 40002 "$dport")" "$AFTER" \
		"allowed flow after the flood received"
	assert_eq "$(fl_received raw - - -)" $((ALLOWED + AFTER)) \
		"UDP datagrams the stack delivered (denied ones: 0)"

	dropped=$(fl_status 'd["policy_dropped"]')
	full_deny=$(fl_status 'd["drop_table_full"]["acl-deny"][a[0]]["packets"]' "$direction")
	full_untr=$(fl_status 'd["drop_table_full"]["untrusted"][a[0]]["packets"]' "$direction")
	fl_finish
	local fwd_ok=$FM_LOG_DIR/fwd.txt
	: >"$EXP"
	expect "$src" "$dst" 40001 "$dport" 17 "$direction" "$ALLOWED" $((ALLOWED * 50)) $FWD
	expect "$src" "$dst" 40002 "$dport" 17 "$direction" "$AFTER" $((AFTER * 50)) $FWD
	grep -E " $FWD\$" "$RECORDS" >"$fwd_ok" || true
	assert_records "$EXP" "$fwd_ok" "forwarded flows' records (summed per flow)"
	# The late denied flow: a drop record of its own with all its packets.
	assert_eq "$(fl_sum 7 "\$3 == $late_sport && \$10 == $DENY")" "$AFTER" \
		"packets in the drop record of the denied flow that started ${RELIEF_S} s after the flood"
	# Every denied packet in a drop record: per flow, or aggregate (0.0.0.0, protocol 0).
	agg=$(fl_sum 7 "\$1 == \"0.0.0.0\" && \$5 == 0")
	drop_rec=$(fl_sum 7 "\$10 == $DENY || \$10 == $UNTRUSTED")
	deny_rec=$(fl_sum 7 "\$10 == $DENY")
	untr_rec=$(fl_sum 7 "\$10 == $UNTRUSTED")
	assert_eq "$drop_rec" $((FLOOD + AFTER)) "packets in drop records (flows + aggregate)"
	assert_eq "$deny_rec" $((half + AFTER)) "packets in drop records, status 129"
	assert_eq "$untr_rec" "$half" "packets in drop records, status 130"
	assert_eq "$(fl_sum 8 "\$10 == $DENY || \$10 == $UNTRUSTED")" $(((FLOOD + AFTER) * 50)) \
		"octets in drop records"
	assert_eq "$dropped" $((FLOOD + AFTER)) "policy_dropped (kernel)"
	assert_eq "$agg" $((full_deny + full_untr)) "aggregate drop records = drop_table_full (kernel)"
	assert_eq "$(fl_sum 7 "\$1 == \"0.0.0.0\" && \$5 == 0 && \$10 == $DENY")" "$full_deny" \
		"aggregate drop records, status 129"
	fl_figures "$hook-$dir: $frames frames ($FLOOD denied, $ALLOWED allowed) in $ms ms;" \
		"drops accounted $drop_rec/$((FLOOD + AFTER)) ($((drop_rec - agg)) in drop flow" \
		"records, $agg aggregate); allowed exact $ALLOWED+$AFTER; delivered denied 0"
}

# Allowed new flows that fill the flow table (MaxFlows 1024) from trusted peers, on TC ingress.
test_table_full_relief() {
	local n=20000 t0 ms frames rx0 rx1 full ignored sent fwd late
	fl_setup tc '"MaxFlows": 1024'
	fl_recv_start "$FM_NS_A" 5001
	rx0=$(fl_if_packets "$FM_NS_A" "$FM_IF_A" rx)
	t0=$(now_ms)
	fl_send "$FM_NS_B" "$FM_IF_B" "$FM_MAC_B" "$FM_MAC_A" \
		"100.64.0.2,100,10000,$((n / 100)),$FM_A4,5001,$n"
	frames=$(fl_field frames "$FLOOD_OUT")
	ms=$(fl_field ms "$FLOOD_OUT")
	assert_eq "$frames" "$n" "frames sent"
	[ "$(fl_status 'd["table_full_packets"]')" -gt 0 ] || fail "the flow table never filled"
	# About a second after the table filled (at the flood's start), a new allowed flow.
	local wait_ms=$((t0 + RELIEF_S * 1000 - $(now_ms)))
	[ "$wait_ms" -gt 0 ] && sleep "$(printf '%d.%03d' $((wait_ms / 1000)) $((wait_ms % 1000)))"
	late=$(now_ms)
	fl_udp "$FM_NS_B" "$FM_A4" 5001 40002 "$AFTER"
	rx1=$(fl_if_packets "$FM_NS_A" "$FM_IF_A" rx)
	assert_eq $((rx1 - rx0)) $((n + AFTER)) "frames $FM_IF_A saw"
	sleep 0.5
	fl_recv_stop
	assert_eq "$(fl_received raw - - -)" $((n + AFTER)) "datagrams delivered"
	full=$(fl_status 'd["table_full_packets"]')
	fl_finish
	fwd=$(fl_sum 7 "\$10 == $FWD")
	assert_eq "$(fl_sum 7 "\$1 == \"$FM_B4\" && \$3 == 40002 && \$10 == $FWD")" "$AFTER" \
		"packets in the record of the flow that started $((late - t0)) ms after the table filled"
	ignored=$(coll_options ipfixdump "$PORT" | sed -n 's/.*ignoredPacketTotalCount=\([0-9]*\).*/\1/p' |
		tail -n 1)
	assert_eq "${ignored:-none}" "$full" "the last ignoredPacketTotalCount = table_full_packets"
	sent=$((n + AFTER))
	assert_eq $((fwd + ignored)) "$sent" "packets in flow records + ignoredPacketTotalCount"
	fl_figures "table-full: $frames new flows in $ms ms into a table of 1024; $((fwd - AFTER))" \
		"in flow records + $ignored ignored = $((fwd - AFTER + ignored)); the flow $((late - t0)) ms" \
		"after the table filled: $AFTER/$AFTER packets in its record"
}

run_test flood_denied_tc_ingress test_denied_flood tc in
run_test flood_denied_xdp test_denied_flood xdp in
run_test flood_denied_tc_egress test_denied_flood tc out
run_test flood_table_full_relief test_table_full_relief
[ -f "$FM_RUN_DIR/figures" ] && cat "$FM_RUN_DIR/figures"
finish_tests
