#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# End-to-end tests of what flowmeta tells collectors beyond the flow records (SPEC §5), through
# real collectors, by value:
# - the options records of every template message (interface name and description, sampling,
#   exporter address, the domain's counts) as tshark and ipfixDump decode them, over IPv4 and IPv6,
#   and the domain as nfcapd and nfacctd record it;
# - the Observation Domain derived from the overlay address: stable across a restart, following
#   the address (IPv4, IPv6 hashed, none: the machine id), a new sequence stream for each;
# - packets the kernel could not put in a flow (table full) as RFC 7011 §4.2 ignored packets;
# - messages that fit the path MTU to each collector (a 1280-octet path, then 576): every
#   datagram fits, no IP fragment, every record exactly once.
source "$(dirname "$0")/../lib_ipfix.sh"

FM_NS_PREFIX=fmI
ALIAS="to site B (overlay)"

# The collector of index I got at least N messages (status counts them).
ipx_messages_sent() {	# I N
	[ "$(ex_status 'd["collectors"][int(a[0])]["messages"]' "$1")" -ge "$2" ]
}

# SIGHUP, and wait for the template message it sends to collector 0.
ipx_reload() {
	local before
	before=$(ex_status 'd["collectors"][0]["messages"]')
	kill -HUP "$FM_PID"
	wait_until 5 ipx_messages_sent 0 $((before + 1)) || fail "no template message after SIGHUP"
}

# Every options record a template message carries, as tshark (IPv4 and IPv6) and ipfixDump decode
# them: the domain of 100.64.0.1, the overlay's index, name and description (its kind, then the
# alias set before a SIGHUP), every packet metered, the address of the socket each collector
# receives from, nothing lost. nfcapd records the domain as the exporter's ID, nfacctd as
# export_proto_sysid with sampling_rate 1; every collector decodes every record.
test_options_by_value() {
	local odid kind port addr want=$FM_LOG_DIR/want.json pair
	ex_setup tun tshark/4700 ipfixdump/4701 tshark/4702/::1 nfcapd/4703 nfacctd/4704
	odid=$(ipx_domain "$FM_A4")
	grep -q "^info: ObservationDomainId $odid, derived from $FM_A4 on $FM_IF_A\$" "$FM_LOG" ||
		fail "no log of the derived domain $odid: $(grep -i domain "$FM_LOG")"
	ex_ping "$FM_NS_A" "$FM_B4" 3 100
	ex_udp "$FM_B6" "$FM_A6" 5002 40002 3 200 2 300
	ex_wait_exported 4
	ip -n "$FM_NS_A" link set dev "$FM_IF_A" alias "$ALIAS"
	ipx_reload
	fm_stop "$FM_PID"
	for pair in "tshark 4700 127.0.0.1" "ipfixdump 4701 127.0.0.1" "tshark 4702 ::1"; do
		read -r kind port addr <<<"$pair"
		coll_stop "$kind" "$port"
		ex_check_records "$kind" "$port"
		ex_check_messages "$kind" "$port"
		ipx_want "$want" "$odid" "$FM_PID" "$IFINDEX" "$FM_IF_A" \
			"flowmeta overlay $FM_IF_A (tun)" "$addr"
		ipx_expect_options "$MSGS" "$want" first "$kind :$port options records at the start"
		ipx_want "$want" "$odid" "$FM_PID" "$IFINDEX" "$FM_IF_A" "$ALIAS" "$addr"
		ipx_expect_options "$MSGS" "$want" last "$kind :$port options records after SIGHUP"
		# The start, the reload and the stop, each with every options record.
		assert_eq "$(msgq 'len([m for m in d if m["options_records"] == 7])')" 3 \
			"$kind :$port messages carrying the 7 options records"
	done
	coll_stop nfcapd 4703
	ex_check_records nfcapd 4703
	assert_eq "$(ipx_nfdump_exporters 4703 | awk '{print $1, $2, $3}')" "127.0.0.1 $odid 4" \
		"nfcapd exporters (address, domain, flows)"
	coll_stop nfacctd 4704
	ex_check_records nfacctd 4704
	assert_eq "$(ipx_nfacctd_domains 4704)" "$odid 1" \
		"nfacctd export_proto_sysid and sampling_rate"
}

# The derived domain is the overlay's IPv4 address, the same after a restart; with that address
# gone (SIGHUP) it is the hash of the IPv6 one, with no address the machine id's (and a warning);
# a configured ObservationDomainId wins. Every change starts a stream of its own at sequence 0.
test_domain_follows_the_address() {
	local d4 d6 dm kind=tshark port=4705
	ex_setup tun $kind/$port
	d4=$(ipx_domain "$FM_A4")
	d6=$(ipx_domain "$FM_A6")
	dm=$(ipx_domain_machine "$FM_IF_A")
	grep -q "^info: ObservationDomainId $d4, derived from $FM_A4 on $FM_IF_A\$" "$FM_LOG" ||
		fail "start: no log of the domain $d4: $(grep -i domain "$FM_LOG")"
	ex_ping "$FM_NS_A" "$FM_B4" 2 100
	ex_wait_exported 2
	fm_stop "$FM_PID"
	fm_start "$FM_NS_A" "$FM_IF_A" -c "$CONFIG"
	grep -q "^info: ObservationDomainId $d4, derived from $FM_A4 on $FM_IF_A\$" "$FM_LOG" ||
		fail "restart: no log of the same domain $d4: $(grep -i domain "$FM_LOG")"
	ip -n "$FM_NS_A" addr del "$FM_A4/24" dev "$FM_IF_A"
	ipx_reload
	grep -q "^info: ObservationDomainId $d6, derived from $FM_A6 on $FM_IF_A\$" "$FM_LOG" ||
		fail "IPv6 only: no log of the domain $d6: $(grep -i domain "$FM_LOG")"
	ip -n "$FM_NS_A" addr del "$FM_A6/64" dev "$FM_IF_A"
	ipx_reload
	grep -q "^warning: ObservationDomainId $dm, derived from machine-id and $FM_IF_A: " "$FM_LOG" ||
		fail "no address: no warning with the domain $dm: $(grep -i domain "$FM_LOG")"
	cat >"$CONFIG" <<-EOF
		{"FlowMetadata": {"PollInterval": $POLL_MS, "IdleTimeout": $IDLE_MS,
		 "IpFixCollectors": ["$(coll_dest $port)"], "ObservationDomainId": 4242}}
	EOF
	ipx_reload
	fm_stop "$FM_PID"
	coll_stop $kind $port
	ex_check_messages $kind $port
	# Domains in the order the messages came, each once: a restart kept it, a change moved it.
	assert_eq "$(msgq '[o for i, o in enumerate([m["odid"] for m in d])
		if i == 0 or o != d[i - 1]["odid"]]' | tr '\n' ' ')" "$d4 $d6 $dm 4242 " \
		"domains of the messages, in order"
	# The restart is invisible: the same source address and port (the stream state file).
	assert_eq "$(msgq 'sorted({m["src"] for m in d if m["odid"] == int(a[0])})' "$d4" |
		grep -c .)" 1 "sending sockets of domain $d4 across the restart"
	assert_eq "$(msgq '[m["seq"] for i, m in enumerate(d) if i and m["odid"] != d[i - 1]["odid"]]' |
		tr '\n' ' ')" "0 0 0 " "first sequence number of each new domain"
}

# MaxFlows 1024 and 1200 new UDP flows of one packet at once: the packets the kernel could not put
# in a flow reach tshark and ipfixDump as ignoredPacketTotalCount/ignoredOctetTotalCount (template
# 266) equal to the kernel's table-full counters, with the times of the polls that saw them (within
# a poll of the traffic), and never as notSent* (nothing was lost after metering). The flow records
# and the ignored packets add up to the traffic exactly.
test_table_full_is_ignored_packets() {
	local kind port t0 t1 full octets first last sum want=$FM_LOG_DIR/want.json
	ex_setup veth tshark/4706 ipfixdump/4707 -- '"MaxFlows": 1024'
	t0=$(now_ms)
	send_udp_flows "$FM_NS_A" "$FM_NS_B" "$FM_B4" 6000 20000 1200 1 20
	t1=$(now_ms)
	wait_until 20 ex_exported 1 || fail "no flow record sent"
	wait_until 20 ipx_table_drained || fail "flows left: $(ex_status 'd["flows"]')"
	full=$(ex_status 'd["table_full_packets"]')
	octets=$(ex_status 'd["table_full_octets"]')
	[ "$full" -gt 0 ] || fail "the table never filled (table_full_packets 0)"
	assert_eq "$octets" $((full * 48)) "table_full_octets: 48 a packet"
	fm_stop "$FM_PID"
	for kind in tshark ipfixdump; do
		port=$([ $kind = tshark ] && echo 4706 || echo 4707)
		coll_stop $kind "$port"
		ex_check_messages $kind "$port"
		DETAILS=$FM_LOG_DIR/details-$kind.json
		coll_details $kind "$port" >"$DETAILS"
		read -r sum <<<"$("$FM_PY" "$FM_TOOLS/jsonq.py" "$DETAILS" \
			'sum(r["packets"] for r in d if r["proto"] == 17 and r["dport"] == 6000)')"
		assert_eq "$((sum + full))" 1200 "$kind: packets in flow records + ignored packets"
		read -r first last <<<"$(msgq 'tuple([o["observationTimeMilliseconds"] for m in d
			for o in m["options"] if o["template"] == 266][-1])')"
		[ "$first" -ge $((t0 - 50)) ] && [ "$first" -le "$last" ] &&
			[ "$last" -le $((t1 + POLL_MS + 1500)) ] ||
			fail "$kind: first/last ignored at $first/$last, traffic $t0..$t1 (poll $POLL_MS)"
		ipx_want "$want" "$(ipx_domain "$FM_A4")" "$FM_PID" "$IFINDEX" "$FM_IF_A" \
			"flowmeta overlay $FM_IF_A (veth)" 127.0.0.1 "$full $octets $first $last"
		ipx_expect_options "$MSGS" "$want" last "$kind: the last options records"
	done
}

ipx_table_drained() {
	[ "$(ex_status 'd["flows"]')" -eq 0 ]
}

# Collectors reached over paths of their own from A: X (IPv4, MTU 1280, then 576 while flowmeta
# runs) and Y (IPv6, MTU 1280), in namespace C; flowmeta's messages follow the smaller path. Every
# datagram fits its path at the time (capture on C's side: IP length <= MTU, no fragment), the
# messages use it (over 1100 octets on X at 1280, over 500 at 576), and every collector decodes
# every record exactly once.
test_small_mtu_paths() {
	local ns_c capx capy t_change kind port i long x="collector Udp/198.19.1.2:4710"
	require_cmd dumpcap tshark
	require_flowmeta
	topo_overlay veth	# no tunnel daemon to drop a burst of 300 datagrams
	ns_new c
	ns_c=$NS_NAME
	ip -n "$FM_NS_A" link add fmIx0 mtu 1280 type veth peer name fmIx1 mtu 1280 netns "$ns_c"
	ip -n "$FM_NS_A" link add fmIy0 mtu 1280 type veth peer name fmIy1 mtu 1280 netns "$ns_c"
	ip -n "$FM_NS_A" addr add 198.19.1.1/24 dev fmIx0
	ip -n "$ns_c" addr add 198.19.1.2/24 dev fmIx1
	ip -n "$FM_NS_A" -6 addr add fd00:c::1/64 dev fmIy0 nodad
	ip -n "$ns_c" -6 addr add fd00:c::2/64 dev fmIy1 nodad
	for i in "$FM_NS_A fmIx0" "$FM_NS_A fmIy0" "$ns_c fmIx1" "$ns_c fmIy1"; do
		# shellcheck disable=SC2086 # namespace and device
		ip -n ${i% *} link set ${i#* } up
	done
	capx=$FM_LOG_DIR/x.pcap
	capy=$FM_LOG_DIR/y.pcap
	pcap_start "$ns_c" fmIx1 "$capx"
	local pcapx=$PCAP_PID
	pcap_start "$ns_c" fmIy1 "$capy"
	local pcapy=$PCAP_PID
	IFINDEX=$(fm_ifindex "$FM_NS_A" "$FM_IF_A")
	coll_start tshark "$ns_c" 4710 198.19.1.2
	coll_start ipfixdump "$ns_c" 4711 198.19.1.2
	coll_start nfcapd "$ns_c" 4712 198.19.1.2
	coll_start nfacctd "$ns_c" 4713 198.19.1.2
	coll_start tshark "$ns_c" 4714 fd00:c::2
	ex_config "Udp/198.19.1.2:4710 Udp/198.19.1.2:4711 Udp/198.19.1.2:4712 Udp/198.19.1.2:4713
		Udp/[fd00:c::2]:4714"
	EXP=$FM_LOG_DIR/expected
	: >"$EXP"
	fm_start "$FM_NS_A" "$FM_IF_A" -c "$CONFIG"
	fm_wait_metering
	grep -qF "$x: exporting IPFIX over UDP, messages of up to 1252 octets (path MTU 1280)" \
		"$FM_LOG" ||
		fail "no 1252-octet messages for the 1280 path: $(grep collector "$FM_LOG" | head -n 3)"
	ipx_udp_flows 0 300
	ex_ping "$FM_NS_A" "$FM_B6" 5 1000
	ex_wait_exported "$(grep -c . "$EXP")"
	# The path shrinks under a running flowmeta.
	ip -n "$FM_NS_A" link set fmIx0 mtu 576
	ip -n "$ns_c" link set fmIx1 mtu 576
	t_change=$(now_ms)
	ipx_udp_flows 1 300
	ex_wait_exported "$(grep -c . "$EXP")"
	grep -qF "$x: path MTU 576: messages of up to 548 octets" "$FM_LOG" ||
		fail "the new path MTU was not noticed: $(grep 'path MTU' "$FM_LOG")"
	fm_stop "$FM_PID"
	for port in 4710 4711 4712 4713 4714; do
		kind=$(ipx_kind_of "$port")
		coll_stop "$kind" "$port"
		ex_check_records "$kind" "$port"
	done
	ex_check_messages tshark 4710
	ex_check_messages ipfixdump 4711
	ex_check_messages tshark 4714
	pcap_stop "$pcapx"
	pcap_stop "$pcapy"
	ipx_capture_packets "$capx" 4710 4713 >"$FM_LOG_DIR/x.packets"
	ipx_capture_packets "$capy" 4714 4714 >"$FM_LOG_DIR/y.packets"
	assert_eq "$(awk '$3' "$FM_LOG_DIR/x.packets" "$FM_LOG_DIR/y.packets" | grep -c . || true)" 0 \
		"IP fragments on the paths"
	assert_eq "$(awk '$2 > 1280' "$FM_LOG_DIR/x.packets" "$FM_LOG_DIR/y.packets" |
		grep -c . || true)" 0 "datagrams over 1280 octets"
	assert_eq "$(awk -v t="$t_change" '$1 > t + 50 && $2 > 576' "$FM_LOG_DIR/x.packets" |
		grep -c . || true)" 0 "datagrams over 576 octets on X once its MTU is 576"
	long=$(awk -v t="$t_change" '$1 < t && $2 > m {m = $2} END {print m + 0}' "$FM_LOG_DIR/x.packets")
	[ "$long" -gt 1100 ] || fail "longest datagram on X at MTU 1280: $long octets"
	long=$(awk -v t="$t_change" '$1 > t + 50 && $2 > m {m = $2} END {print m + 0}' \
		"$FM_LOG_DIR/x.packets")
	[ "$long" -gt 500 ] || fail "longest datagram on X at MTU 576: $long octets"
}

ipx_kind_of() {	# PORT (test_small_mtu_paths)
	case $1 in 4710 | 4714) echo tshark ;; 4711) echo ipfixdump ;; 4712) echo nfcapd ;;
	4713) echo nfacctd ;; esac
}

# N one-packet UDP flows A -> B (source ports from 30000 + ROUND * 1000), each expected once.
ipx_udp_flows() {	# ROUND N
	local t0 i sport=$((30000 + $1 * 1000))
	t0=$(now_ms)
	send_udp_flows "$FM_NS_A" "$FM_NS_B" "$FM_B4" 6100 "$sport" "$2" 1 100
	for ((i = 0; i < $2; i++)); do
		expect "$FM_A4" "$FM_B4" $((sport + i)) 6100 17 egress 1 128 "$IDLE" "$FWD" "$t0" \
			"$(now_ms)"
	done
}

run_test ipfix_options_records_by_value_at_every_collector test_options_by_value
run_test ipfix_domain_from_the_overlay_address_stable_across_restarts \
	test_domain_follows_the_address
run_test ipfix_table_full_packets_are_ignored_packets_never_not_sent \
	test_table_full_is_ignored_packets
run_test ipfix_small_mtu_paths_every_datagram_fits_every_record_once test_small_mtu_paths
finish_tests
