#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# End-to-end tests of flowmeta's datapath through its command line (run, flows, status, detach):
# real traffic between two namespaces over each overlay kind (tun and tap via socat over a veth
# underlay, veth directly, VLAN-tagged frames on veth), metered on node A's overlay device with
# the TC or the XDP ingress hook, and flow counts compared with what was sent — exactly. The
# overlays carry nothing but test traffic (tests/harness_selftest.sh proves it), so the flow table
# must hold exactly the test's flows. TCP, whose segment count the kernel decides, is compared with
# an independent meter on the same device (tests/tools/pktcount.py).
# Then the lifecycle: kill -9 and adoption, a second instance, SIGTERM cleanup, a foreign clsact;
# with the TC programs on tcx links (this kernel has tcx), and again forced onto clsact
# (--tc-attach clsact, the way of kernels before 6.6), and a clsact attachment adopted by a run
# that would choose tcx.
source "$(dirname "$0")/../lib.sh"

HOOKS=(tc xdp)
OVERLAYS=(tun tap veth)
TCP_SYN=0x02
TCP_FIN=0x01
TCP_ACK=0x10

# Flows must outlive the test: no idle expiry, no collector (metering only, a warning is logged).
dp_config() {
	echo '{"FlowMetadata": {"IdleTimeout": 3600000, "PollInterval": 60000}}' >"$FM_LOG_DIR/flowmeta.json"
	echo "$FM_LOG_DIR/flowmeta.json"
}

# How the TC programs are attached: DP_ATTACH empty lets flowmeta choose (tcx here), clsact
# forces the clsact qdisc. DP_ARGS: the run arguments for HOOK.
DP_ATTACH=
dp_run_args() {	# HOOK -> DP_ARGS
	DP_ARGS=(--hook "$1")
	[ -z "$DP_ATTACH" ] || DP_ARGS+=(--tc-attach "$DP_ATTACH")
}

# The TC programs are attached in MODE (default: DP_ATTACH's, else tcx) and only that way: status
# says so, and the kernel shows flowmeta's egress program (and on the TC hook its ingress
# program) on that kind of hook, once, and nothing of flowmeta's on the other kind.
dp_assert_attach() {	# HOOK [MODE]
	local mode=${2:-${DP_ATTACH:-tcx}} progs want_in=0 tc=tc other=tcx
	[ "$1" = tc ] && want_in=1
	[ "$mode" = tcx ] && tc=tcx other=tc
	assert_eq "$(fm_status "$FM_NS_A" "$FM_IF_A" tc_attach)" "$mode" "status tc_attach"
	progs=$(attached_progs "$FM_NS_A" "$FM_IF_A")
	assert_eq "$(grep -c "^$tc egress: .*flowmeta_tc_egr" <<<"$progs")" 1 \
		"flowmeta egress programs on $mode ($(tr '\n' ';' <<<"$progs"))"
	assert_eq "$(grep -c "^$tc ingress: .*flowmeta_tc_ing" <<<"$progs")" "$want_in" \
		"flowmeta ingress programs on $mode ($(tr '\n' ';' <<<"$progs"))"
	assert_eq "$(grep -c "^$other [a-z]*: .*flowmeta" <<<"$progs")" 0 \
		"flowmeta programs on $other ($(tr '\n' ';' <<<"$progs"))"
}

# The tcx link ids on A's interface ("ingress 12", "egress 11"), empty on clsact.
dp_link_ids() {
	attached_progs "$FM_NS_A" "$FM_IF_A" | sed -n 's/^tcx \([a-z]*\): .* link \([0-9]*\)$/\1 \2/p'
}

# Overlay up, flowmeta metering A's end of it with HOOK.
dp_setup() {	# OVERLAY HOOK
	require_flowmeta
	require_cmd socat ping
	topo_overlay "$1"
	dp_run_args "$2"
	fm_start "$FM_NS_A" "$FM_IF_A" "${DP_ARGS[@]}" -c "$(dp_config)"
	dp_assert_attach "$2"
}

dp_flows() {	# -> FLOWS (file)
	FLOWS=$FM_LOG_DIR/flows-$RANDOM.json
	fm_flows "$FM_NS_A" "$FM_IF_A" "$FLOWS"
}

assert_flow_count() {	# N
	assert_eq "$(fm_flow_count "$FLOWS")" "$1" "flows in the table (only the test's)"
}

# The status counters that must stay 0 when only well-formed traffic within capacity crossed.
assert_clean_status() {	# FLOWS_EXPECTED [NOT_IP]
	local json key
	json=$(fm_cmd "$FM_NS_A" status "$FM_IF_A" --json)
	assert_eq "$(echo "$json" | "$FM_PY" "$FM_TOOLS/jsonq.py" - 'd["flows"]')" "$1" "status flows"
	assert_eq "$(echo "$json" | "$FM_PY" "$FM_TOOLS/jsonq.py" - 'd["not_ip"]')" "${2:-0}" "status not_ip"
	for key in malformed unparseable truncated_l4 table_full_packets table_full_octets events_lost \
		policy_dropped fail_closed; do
		assert_eq "$(echo "$json" | "$FM_PY" "$FM_TOOLS/jsonq.py" - 'd[a[0]]' "$key")" 0 "status $key"
	done
}

# ------------------------------------------------------------------------------------------------
# Traffic kinds

# Echo requests both ways, both families: each flow has exactly the pings' packets and octets.
test_icmp() {	# OVERLAY HOOK
	dp_setup "$@"
	local f=() x start_ms end_ms
	start_ms=$(($(fm_now_us) / 1000))
	send_ping "$FM_NS_A" "$FM_B4" 5 100
	f+=("egress 1 $FM_A4 $FM_B4 0 2048 $SENT_PACKETS $SENT_OCTETS")
	f+=("ingress 1 $FM_B4 $FM_A4 0 0 $SENT_PACKETS $SENT_OCTETS")
	send_ping "$FM_NS_B" "$FM_A4" 3 300
	f+=("ingress 1 $FM_B4 $FM_A4 0 2048 $SENT_PACKETS $SENT_OCTETS")
	f+=("egress 1 $FM_A4 $FM_B4 0 0 $SENT_PACKETS $SENT_OCTETS")
	send_ping "$FM_NS_A" "$FM_B6" 4 200
	f+=("egress 58 $FM_A6 $FM_B6 0 32768 $SENT_PACKETS $SENT_OCTETS")
	f+=("ingress 58 $FM_B6 $FM_A6 0 33024 $SENT_PACKETS $SENT_OCTETS")
	send_ping "$FM_NS_B" "$FM_A6" 2 1000
	f+=("ingress 58 $FM_B6 $FM_A6 0 32768 $SENT_PACKETS $SENT_OCTETS")
	f+=("egress 58 $FM_A6 $FM_B6 0 33024 $SENT_PACKETS $SENT_OCTETS")
	end_ms=$(($(fm_now_us) / 1000))
	dp_flows
	for x in "${f[@]}"; do
		# shellcheck disable=SC2086 # x holds the fields of one flow
		assert_flow "$FLOWS" $x
	done
	assert_flow_count 8
	assert_clean_status 8
	# First and last packet times are epoch milliseconds within the traffic (the kernel's
	# monotonic clock converted: allow 1 s either side).
	local bad
	bad=$("$FM_PY" "$FM_TOOLS/jsonq.py" "$FLOWS" \
		'[(f["src"], f["dst"], f["dst_port"], f["first_seen_ms"], f["last_seen_ms"]) for f in d if not (int(a[0]) - 1000 <= f["first_seen_ms"] <= f["last_seen_ms"] <= int(a[1]) + 1000)]' \
		"$start_ms" "$end_ms")
	[ -z "$bad" ] || fail "flow times outside [$start_ms, $end_ms] ms: $(echo "$bad" | tr '\n' ';')"
}

# UDP datagrams of several sizes both ways, both families.
test_udp() {	# OVERLAY HOOK
	dp_setup "$@"
	local f=() x
	send_udp "$FM_NS_A" "$FM_NS_B" "$FM_B4" 5001 40001 7 300
	f+=("egress 17 $FM_A4 $FM_B4 40001 5001 $SENT_PACKETS $SENT_OCTETS")
	send_udp "$FM_NS_B" "$FM_NS_A" "$FM_A4" 5002 40002 5 1000
	f+=("ingress 17 $FM_B4 $FM_A4 40002 5002 $SENT_PACKETS $SENT_OCTETS")
	send_udp "$FM_NS_A" "$FM_NS_B" "$FM_B6" 5003 40003 3 1200
	f+=("egress 17 $FM_A6 $FM_B6 40003 5003 $SENT_PACKETS $SENT_OCTETS")
	send_udp "$FM_NS_B" "$FM_NS_A" "$FM_A6" 5004 40004 4 1
	f+=("ingress 17 $FM_B6 $FM_A6 40004 5004 $SENT_PACKETS $SENT_OCTETS")
	dp_flows
	for x in "${f[@]}"; do
		# shellcheck disable=SC2086
		assert_flow "$FLOWS" $x
	done
	assert_flow_count 4
	assert_clean_status 4
}

# Octets of a UDP datagram of PAYLOAD bytes fragmented for a 1500-byte MTU, and the fragments.
frag_octets() {	# IP_HDR FRAG_HDR PAYLOAD -> "packets octets"
	local hdr=$1 fh=$2 left=$(($3 + 8)) per packets=0 octets=0 n
	per=$(((1500 - $1 - $2) / 8 * 8))
	while [ "$left" -gt 0 ]; do
		n=$((left < per ? left : per))
		packets=$((packets + 1))
		octets=$((octets + hdr + fh + n))
		left=$((left - n))
	done
	echo "$packets $octets"
}

# Sum of the flows between SRC and DST of protocol 17 in a direction whose ports are the
# datagram's or 0/0 (SPEC lets non-first fragments join either): "packets octets".
udp_pair_total() {	# DIRECTION SRC DST SPORT DPORT
	"$FM_PY" "$FM_TOOLS/jsonq.py" "$FLOWS" \
		'(sum(f["packets"] for f in m), sum(f["octets"] for f in m)) if (m := [f for f in d if f["direction"] == a[0] and f["protocol"] == 17 and ip(f["src"]) == ip(a[1]) and ip(f["dst"]) == ip(a[2]) and (f["src_port"], f["dst_port"]) in ((int(a[3]), int(a[4])), (0, 0))]) else (0, 0)' \
		"$@"
}

# Datagrams larger than the MTU: every fragment is counted, first and later ones, and the
# `fragments` counter sees each of them.
test_fragments() {	# OVERLAY HOOK
	dp_setup "$@"
	local want4 want6
	send_udp "$FM_NS_A" "$FM_NS_B" "$FM_B4" 5011 40011 2 3000
	want4=$(frag_octets 20 0 3000)
	send_udp "$FM_NS_B" "$FM_NS_A" "$FM_A6" 5012 40012 2 3000
	want6=$(frag_octets 40 8 3000)
	dp_flows
	local p o
	read -r p o <<<"$want4"
	assert_eq "$(udp_pair_total egress "$FM_A4" "$FM_B4" 40011 5011)" "$((2 * p)) $((2 * o))" \
		"IPv4 fragmented datagrams (packets octets)"
	local p6 o6
	read -r p6 o6 <<<"$want6"
	assert_eq "$(udp_pair_total ingress "$FM_B6" "$FM_A6" 40012 5012)" "$((2 * p6)) $((2 * o6))" \
		"IPv6 fragmented datagrams (packets octets)"
	assert_eq "$(fm_status "$FM_NS_A" "$FM_IF_A" fragments)" $((2 * p + 2 * p6)) "status fragments"
}

# TCP both families: flowmeta's four flows equal an independent meter's, segment for segment
# (GSO packets on veth count as their segments), with SYN and ACK seen both ways. The connections
# stay open while the flows are read: a FIN ends a flow, and flowmeta may export and remove it
# from the table at once.
test_tcp() {	# OVERLAY HOOK
	dp_setup "$@"
	local report=$FM_LOG_DIR/meter.json x dir proto src dst sport dport
	meter_start "$FM_NS_A" "$FM_IF_A"
	tcp_open "$FM_NS_A" "$FM_NS_B" "$FM_B4" 5201 40021 300000
	tcp_open "$FM_NS_B" "$FM_NS_A" "$FM_A6" 5202 40022 200000
	wait_quiet "$FM_NS_A" "$FM_IF_A" 0.5
	meter_stop "$report"
	dp_flows
	for x in "egress 6 $FM_A4 $FM_B4 40021 5201" "ingress 6 $FM_B4 $FM_A4 5201 40021" \
		"ingress 6 $FM_B6 $FM_A6 40022 5202" "egress 6 $FM_A6 $FM_B6 5202 40022"; do
		read -r dir proto src dst sport dport <<<"$x"
		fm_flow "$FLOWS" "$dir" "$proto" "$src" "$dst" "$sport" "$dport"
		meter_flow "$report" "$dir" "$proto" "$src" "$dst" "$sport" "$dport"
		assert_eq "$FLOW_PACKETS $FLOW_OCTETS" "$METER_PACKETS $METER_OCTETS" \
			"$dir TCP $src:$sport -> $dst:$dport packets, octets (flowmeta vs independent meter)"
		assert_eq $((FLOW_FLAGS & (TCP_SYN | TCP_FIN | TCP_ACK))) $((TCP_SYN | TCP_ACK)) \
			"$dir TCP $src:$sport flags SYN, ACK, no FIN in $FLOW_FLAGS"
		assert_eq "$FLOW_VERDICT" forwarded "$dir TCP verdict"
	done
	fm_flow "$FLOWS" egress 6 "$FM_A4" "$FM_B4" 40021 5201
	assert_ge "$FLOW_OCTETS" $((300000 + 40 * FLOW_PACKETS)) "IPv4 sender's octets"
	fm_flow "$FLOWS" ingress 6 "$FM_B6" "$FM_A6" 40022 5202
	assert_ge "$FLOW_OCTETS" $((200000 + 60 * FLOW_PACKETS)) "IPv6 sender's octets"
	assert_flow_count 4
	assert_clean_status 4
	tcp_close_all
	# veth offloads TCP segmentation (the sender hands the device 64 KiB packets): the test must
	# have exercised "a GSO skb counts as its segments"; tun and tap get no offloads from socat.
	local gso
	gso=$("$FM_PY" "$FM_TOOLS/jsonq.py" "$report" 'd["gso_frames"]')
	if [ "$1" = veth ]; then
		assert_ge "$gso" 1 "GSO frames on veth"
	else
		assert_eq "$gso" 0 "GSO frames on $1"
	fi
}

# A protocol with no ports (253, RFC 3692 experimentation), both ways, both families.
test_raw() {	# OVERLAY HOOK
	dp_setup "$@"
	local f=() x
	send_raw "$FM_NS_A" "$FM_NS_B" "$FM_B4" 253 6 300
	f+=("egress 253 $FM_A4 $FM_B4 0 0 $SENT_PACKETS $SENT_OCTETS")
	send_raw "$FM_NS_B" "$FM_NS_A" "$FM_A4" 253 4 100
	f+=("ingress 253 $FM_B4 $FM_A4 0 0 $SENT_PACKETS $SENT_OCTETS")
	send_raw "$FM_NS_A" "$FM_NS_B" "$FM_B6" 253 5 200
	f+=("egress 253 $FM_A6 $FM_B6 0 0 $SENT_PACKETS $SENT_OCTETS")
	send_raw "$FM_NS_B" "$FM_NS_A" "$FM_A6" 253 3 0
	f+=("ingress 253 $FM_B6 $FM_A6 0 0 $SENT_PACKETS $SENT_OCTETS")
	dp_flows
	for x in "${f[@]}"; do
		# shellcheck disable=SC2086
		assert_flow "$FLOWS" $x
	done
	assert_flow_count 4
	assert_clean_status 4
}

# 802.1Q and 802.1ad+802.1Q tagged frames on the veth overlay, sent by A (egress, tags in the
# packet data) and by B (ingress: TC sees the outer tag taken into skb metadata, XDP sees it in the
# frame). The kernel has no 8021q module, so B's stack drops them; the meter counts them all. Stacks
# of any depth and mix are walked (5 and 12 tags here, VLAN ID 0 and others): metered exactly.
test_vlan() {	# HOOK
	dp_setup veth "$1"
	local f=() x
	send_tagged_udp "$FM_NS_A" "$FM_IF_A" "$FM_MAC_A" "$FM_MAC_B" 100 "$FM_A4" "$FM_B4" 4000 5000 5 100
	f+=("egress 17 $FM_A4 $FM_B4 4000 5000 $SENT_PACKETS $SENT_OCTETS")
	send_tagged_udp "$FM_NS_A" "$FM_IF_A" "$FM_MAC_A" "$FM_MAC_B" ad200,100 "$FM_A6" "$FM_B6" 4001 5001 3 700
	f+=("egress 17 $FM_A6 $FM_B6 4001 5001 $SENT_PACKETS $SENT_OCTETS")
	send_tagged_udp "$FM_NS_B" "$FM_IF_B" "$FM_MAC_B" "$FM_MAC_A" 100 "$FM_B6" "$FM_A6" 4002 5002 4 50
	f+=("ingress 17 $FM_B6 $FM_A6 4002 5002 $SENT_PACKETS $SENT_OCTETS")
	send_tagged_udp "$FM_NS_B" "$FM_IF_B" "$FM_MAC_B" "$FM_MAC_A" ad300,7 "$FM_B4" "$FM_A4" 4003 5003 6 1000
	f+=("ingress 17 $FM_B4 $FM_A4 4003 5003 $SENT_PACKETS $SENT_OCTETS")
	send_tagged_udp "$FM_NS_A" "$FM_IF_A" "$FM_MAC_A" "$FM_MAC_B" ad0,0,ad0,7,0 "$FM_A4" "$FM_B4" \
		4004 5004 3 200
	f+=("egress 17 $FM_A4 $FM_B4 4004 5004 $SENT_PACKETS $SENT_OCTETS")
	send_tagged_udp "$FM_NS_B" "$FM_IF_B" "$FM_MAC_B" "$FM_MAC_A" \
		ad0,0,0,ad0,0,5,0,0,ad9,0,0,0 "$FM_B6" "$FM_A6" 4005 5005 4 300
	f+=("ingress 17 $FM_B6 $FM_A6 4005 5005 $SENT_PACKETS $SENT_OCTETS")
	wait_quiet "$FM_NS_A" "$FM_IF_A" 0.3
	dp_flows
	for x in "${f[@]}"; do
		# shellcheck disable=SC2086
		assert_flow "$FLOWS" $x
	done
	assert_flow_count 6
	assert_clean_status 6
}

# A packet socket writing a frame larger than a page builds a non-linear skb whose linear part holds
# the Ethernet header alone (packet_alloc_skb): TC egress walks the 20-tag stack where it lies,
# pulls the IP and UDP headers into the linear part and meters every frame exactly. On a 9000-MTU
# veth overlay, IPv4 and IPv6.
test_nonlinear_headers() {
	require_flowmeta
	topo_overlay veth
	local x f=() tags=ad0,0,0,0,ad0,0,0,0,ad0,0,0,0,ad0,0,0,0,ad0,0,0,0
	ip -n "$FM_NS_A" link set "$FM_IF_A" mtu 9000
	ip -n "$FM_NS_B" link set "$FM_IF_B" mtu 9000
	fm_start "$FM_NS_A" "$FM_IF_A" -c "$(dp_config)"
	fm_wait_metering
	send_tagged_udp "$FM_NS_A" "$FM_IF_A" "$FM_MAC_A" "$FM_MAC_B" $tags "$FM_A4" "$FM_B4" \
		4100 5100 3 5000
	f+=("egress 17 $FM_A4 $FM_B4 4100 5100 $SENT_PACKETS $SENT_OCTETS")
	send_tagged_udp "$FM_NS_A" "$FM_IF_A" "$FM_MAC_A" "$FM_MAC_B" $tags "$FM_A6" "$FM_B6" \
		4101 5101 2 6000
	f+=("egress 17 $FM_A6 $FM_B6 4101 5101 $SENT_PACKETS $SENT_OCTETS")
	wait_quiet "$FM_NS_A" "$FM_IF_A" 0.3
	dp_flows
	for x in "${f[@]}"; do
		# shellcheck disable=SC2086
		assert_flow "$FLOWS" $x
	done
	assert_flow_count 2
	assert_clean_status 2
}

# A tun writer with a virtio-net header (wireguard-go, Tailscale with TUN offloads) writes GSO
# super-packets (tests/tools/tun_gso.py): the kernel makes each one skb with gso_size 1000 and
# gso_segs 0. Metered on TC ingress, each counts as the segments it will be cut into, with their
# octets (every segment repeats the IP and transport headers): TCPv4 (10 segments, and 10 and a
# half), TCPv6 and UDP (USO) over IPv4 and IPv6.
test_tun_gso() {
	require_flowmeta
	ns_new g
	local ns=$NS_NAME ifname=fmEg0 x f=(
		"ingress 6 100.64.0.2 100.64.0.1 40000 5001 10 $((10 * (20 + 20 + 1000)))"
		"ingress 6 100.64.0.2 100.64.0.1 40001 5001 11 $((10500 + 11 * (20 + 20)))"
		"ingress 6 fd00:64::2 fd00:64::1 40002 5002 10 $((10 * (40 + 20 + 1000)))"
		"ingress 17 100.64.0.2 100.64.0.1 40003 5003 10 $((10 * (20 + 8 + 1000)))"
		"ingress 17 fd00:64::2 fd00:64::1 40004 5004 10 $((10 * (40 + 8 + 1000)))"
	)
	ip -n "$ns" tuntap add dev "$ifname" mode tun vnet_hdr
	ip -n "$ns" addr add 100.64.0.1/24 dev "$ifname"
	ip -n "$ns" addr add fd00:64::1/64 dev "$ifname" nodad
	ip -n "$ns" link set "$ifname" up
	fm_start "$ns" "$ifname" -c "$(dp_config)"
	fm_wait_metering
	ns_run "$ns" "$FM_PY" "$FM_TOOLS/tun_gso.py" "$ifname" \
		tcp4 100.64.0.2 100.64.0.1 40000 5001 1000 10000 \
		tcp4 100.64.0.2 100.64.0.1 40001 5001 1000 10500 \
		tcp6 fd00:64::2 fd00:64::1 40002 5002 1000 10000 \
		udp4 100.64.0.2 100.64.0.1 40003 5003 1000 10000 \
		udp6 fd00:64::2 fd00:64::1 40004 5004 1000 10000 >&2 ||
		fail "writing GSO super-packets into $ifname failed"
	FLOWS=$FM_LOG_DIR/flows.json
	fm_flows "$ns" "$ifname" "$FLOWS"
	for x in "${f[@]}"; do
		# shellcheck disable=SC2086
		assert_flow "$FLOWS" $x
	done
}

# With ARP on (no static neighbours), the first ping's ARP request and reply are not IP: passed
# untouched and counted in not_ip, not as flows.
test_arp_not_ip() {	# HOOK
	require_flowmeta
	topo_overlay veth
	# Without IPv6 addresses: with ARP on, an address would bring MLD reports.
	ip -n "$FM_NS_A" -6 addr flush dev "$FM_IF_A"
	ip -n "$FM_NS_B" -6 addr flush dev "$FM_IF_B"
	ip -n "$FM_NS_A" link set dev "$FM_IF_A" arp on
	ip -n "$FM_NS_B" link set dev "$FM_IF_B" arp on
	ip -n "$FM_NS_A" neigh flush dev "$FM_IF_A"
	ip -n "$FM_NS_B" neigh flush dev "$FM_IF_B"
	wait_quiet "$FM_NS_A" "$FM_IF_A" 0.5
	dp_run_args "$1"
	fm_start "$FM_NS_A" "$FM_IF_A" "${DP_ARGS[@]}" -c "$(dp_config)"
	send_ping "$FM_NS_A" "$FM_B4" 1 56
	local p=$SENT_PACKETS o=$SENT_OCTETS
	dp_flows
	assert_flow "$FLOWS" egress 1 "$FM_A4" "$FM_B4" 0 2048 "$p" "$o"
	assert_flow "$FLOWS" ingress 1 "$FM_B4" "$FM_A4" 0 0 "$p" "$o"
	assert_flow_count 2
	assert_clean_status 2 2
}

# ------------------------------------------------------------------------------------------------
# Lifecycle

# Nothing of flowmeta left on the interface nor in bpffs.
assert_detached() {	# WHAT
	local left
	left=$(attached_progs "$FM_NS_A" "$FM_IF_A")
	[ -z "$left" ] || fail "$1: still attached to $FM_IF_A: $(echo "$left" | tr '\n' ';')"
	[ ! -e "$(fm_pin_dir "$FM_IF_A")" ] || fail "$1: pin directory $(fm_pin_dir "$FM_IF_A") remains"
}

has_clsact() {
	ns_run "$FM_NS_A" tc qdisc show dev "$FM_IF_A" | grep clsact >/dev/null
}

# The IPv4 echo-request flow from A to B has at least N packets.
requests_counted() {	# N
	local n
	dp_flows
	n=$("$FM_PY" "$FM_TOOLS/jsonq.py" "$FLOWS" \
		'sum(f["packets"] for f in d if f["direction"] == "egress" and f["dst_port"] == 2048 and f["protocol"] == 1)')
	[ "$n" -ge "$1" ]
}

# kill -9 in the middle of traffic: the programs keep counting into the pinned maps while no
# daemon runs; a new `run` adopts them and nothing is lost. On tcx the new run updates the pinned
# links in place (same link ids, one program per hook). With RESTART auto the new run is left to
# choose: it keeps a clsact attachment it adopts (switching would count twice or miss packets),
# and the start after its SIGTERM attaches through tcx.
test_crash_restart() {	# OVERLAY HOOK [RESTART]
	dp_setup "$1" "$2"
	local first=$FM_PID total=0 octets=0 links mode=${DP_ATTACH:-tcx}
	links=$(dp_link_ids)
	[ "$mode" = clsact ] || [ -n "$links" ] || fail "no tcx links before the kill"
	send_ping "$FM_NS_A" "$FM_B4" 5 100
	total=$((total + SENT_PACKETS))
	octets=$((octets + SENT_OCTETS))
	# Pings still flowing when the daemon dies: kill it once the first 10 of 40 are counted.
	bg_start "$FM_LOG_DIR/ping-during-kill.log" "$FM_NS_A" ping -q -n -c 40 -s 100 -i 0.02 "$FM_B4"
	local pinger=$BG_PID
	wait_until 10 requests_counted $((total + 10)) || fail "the pings during the kill are not counted"
	fm_kill9 "$first"
	bg_wait "$pinger" || fail "ping during the kill: $(tail -n 2 "$FM_LOG_DIR/ping-during-kill.log")"
	grep -q '40 packets transmitted, 40 received' "$FM_LOG_DIR/ping-during-kill.log" ||
		fail "ping during the kill lost packets: $(tail -n 2 "$FM_LOG_DIR/ping-during-kill.log")"
	total=$((total + 40))
	octets=$((octets + 40 * 128))

	[ -n "$(attached_progs "$FM_NS_A" "$FM_IF_A")" ] || fail "programs detached by kill -9"
	assert_eq "$(fm_status "$FM_NS_A" "$FM_IF_A" running)" false "status running after kill -9"
	send_ping "$FM_NS_A" "$FM_B4" 7 100
	total=$((total + SENT_PACKETS))
	octets=$((octets + SENT_OCTETS))
	dp_flows
	assert_flow "$FLOWS" egress 1 "$FM_A4" "$FM_B4" 0 2048 "$total" "$octets"
	assert_flow "$FLOWS" ingress 1 "$FM_B4" "$FM_A4" 0 0 "$total" "$octets"

	[ "${3:-}" = auto ] && DP_ATTACH=
	dp_run_args "$2"
	fm_start "$FM_NS_A" "$FM_IF_A" "${DP_ARGS[@]}" -c "$(dp_config)"
	dp_assert_attach "$2" "$mode"
	assert_eq "$(dp_link_ids)" "$links" "tcx links after the restart (the same, updated)"
	if [ "${3:-}" = auto ]; then
		grep -q "keeping the earlier run's clsact attachment" "$FM_LOG" ||
			fail "the adopting run did not say it keeps clsact: $(grep -c . "$FM_LOG") lines"
	fi
	send_ping "$FM_NS_A" "$FM_B4" 3 100
	total=$((total + SENT_PACKETS))
	octets=$((octets + SENT_OCTETS))
	send_ping "$FM_NS_A" "$FM_B6" 2 100
	dp_flows
	assert_flow "$FLOWS" egress 1 "$FM_A4" "$FM_B4" 0 2048 "$total" "$octets"
	assert_flow "$FLOWS" ingress 1 "$FM_B4" "$FM_A4" 0 0 "$total" "$octets"
	assert_flow "$FLOWS" egress 58 "$FM_A6" "$FM_B6" 0 32768 "$SENT_PACKETS" "$SENT_OCTETS"
	assert_flow_count 4
	assert_clean_status 4
	fm_stop "$FM_PID"
	assert_eq "$FM_EXIT" 0 "exit status of the adopting instance on SIGTERM"
	assert_detached "after SIGTERM of the adopting instance"
	! has_clsact || fail "clsact qdisc left on $FM_IF_A after SIGTERM of the adopting instance"
	if [ "${3:-}" = auto ]; then
		fm_start "$FM_NS_A" "$FM_IF_A" "${DP_ARGS[@]}" -c "$(dp_config)"
		dp_assert_attach "$2" tcx
		fm_stop "$FM_PID"
		assert_detached "after SIGTERM of the tcx instance"
	fi
}

# A second `run` on the same interface refuses (non-zero exit, a message) and the first keeps
# metering, undisturbed.
test_second_run() {	# HOOK [other]: "other" gives the second instance its own pin directory
	dp_setup tun "$1"
	local out=$FM_LOG_DIR/second.log rc=0 pin
	pin=$(fm_pin_dir "$FM_IF_A")
	[ "${2:-}" = other ] && pin=$pin-second && FM_PINS+=("$pin")
	ns_run "$FM_NS_A" timeout 20 "$FM_BIN" run -i "$FM_IF_A" --pin-dir "$pin" "${DP_ARGS[@]}" \
		-c "$(dp_config)" >"$out" 2>&1 || rc=$?
	[ "$rc" -ne 0 ] || fail "a second run on $FM_IF_A exited 0"
	[ "$rc" -ne 124 ] || fail "a second run on $FM_IF_A did not exit (still running after 20 s)"
	[ -s "$out" ] || fail "a second run on $FM_IF_A exited $rc without a message"
	log "second run: exit $rc: $(head -n 3 "$out")"
	pid_alive "$FM_PID" || fail "the first instance died"
	assert_eq "$(fm_status "$FM_NS_A" "$FM_IF_A" running)" true "first instance still running"
	send_ping "$FM_NS_A" "$FM_B4" 4 100
	dp_flows
	assert_flow "$FLOWS" egress 1 "$FM_A4" "$FM_B4" 0 2048 "$SENT_PACKETS" "$SENT_OCTETS"
	assert_flow "$FLOWS" ingress 1 "$FM_B4" "$FM_A4" 0 0 "$SENT_PACKETS" "$SENT_OCTETS"
	assert_flow_count 2
}

# SIGTERM: exit 0, programs detached, pins removed, and the clsact qdisc flowmeta added gone
# (the interface is left as it was found).
test_sigterm() {	# OVERLAY HOOK
	dp_setup "$@"
	send_ping "$FM_NS_A" "$FM_B4" 2 10
	fm_stop "$FM_PID"
	assert_eq "$FM_EXIT" 0 "exit status on SIGTERM"
	assert_detached "after SIGTERM"
	! has_clsact || fail "clsact qdisc left on $FM_IF_A (it was not there before)"
	# The interface still works and nothing meters it any more.
	send_ping "$FM_NS_A" "$FM_B4" 1 10
}

# A clsact qdisc that holds another filter stays, with that filter, when flowmeta stops; the
# foreign filters do not disturb metering meanwhile.
test_foreign_clsact() {	# HOOK
	require_flowmeta
	topo_overlay tun
	ns_run "$FM_NS_A" tc qdisc add dev "$FM_IF_A" clsact
	# Filters that never match (u32 on a byte no packet has, cBPF returning 0) at a low priority.
	ns_run "$FM_NS_A" tc filter add dev "$FM_IF_A" ingress pref 49152 protocol all u32 \
		match u32 0xdeadbeef 0xffffffff at 0 classid 1:1
	ns_run "$FM_NS_A" tc filter add dev "$FM_IF_A" egress pref 49152 protocol all bpf bytecode '1,6 0 0 0,'
	local before after
	before=$(attached_progs "$FM_NS_A" "$FM_IF_A")
	dp_run_args "$1"
	fm_start "$FM_NS_A" "$FM_IF_A" "${DP_ARGS[@]}" -c "$(dp_config)"
	dp_assert_attach "$1"
	send_ping "$FM_NS_A" "$FM_B4" 6 64
	dp_flows
	assert_flow "$FLOWS" egress 1 "$FM_A4" "$FM_B4" 0 2048 "$SENT_PACKETS" "$SENT_OCTETS"
	assert_flow "$FLOWS" ingress 1 "$FM_B4" "$FM_A4" 0 0 "$SENT_PACKETS" "$SENT_OCTETS"
	fm_stop "$FM_PID"
	assert_eq "$FM_EXIT" 0 "exit status on SIGTERM"
	has_clsact || fail "clsact qdisc holding foreign filters was deleted"
	after=$(attached_progs "$FM_NS_A" "$FM_IF_A")
	assert_eq "$after" "$before" "filters after stop (foreign ones only)"
	[ ! -e "$(fm_pin_dir "$FM_IF_A")" ] || fail "pin directory remains"
}

# After kill -9, `flowmeta detach` removes what the dead instance left: programs, pins, clsact.
test_detach_after_kill() {	# HOOK
	dp_setup tun "$1"
	fm_kill9 "$FM_PID"
	[ -n "$(attached_progs "$FM_NS_A" "$FM_IF_A")" ] || fail "programs detached by kill -9"
	fm_cmd "$FM_NS_A" detach "$FM_IF_A" >"$FM_LOG_DIR/detach.log" 2>&1 ||
		fail "flowmeta detach failed: $(tail -n 2 "$FM_LOG_DIR/detach.log")"
	assert_detached "after flowmeta detach"
	! has_clsact || fail "clsact qdisc left on $FM_IF_A after detach"
}

# `run` on an interface that does not exist: a clear error, non-zero exit, nothing pinned.
test_unknown_interface() {
	require_flowmeta
	ns_new a
	local out=$FM_LOG_DIR/run.log rc=0
	fm_register_attach "$NS_NAME" fmEnosuch0
	ns_run "$NS_NAME" timeout 20 "$FM_BIN" run -i fmEnosuch0 --pin-dir "$(fm_pin_dir fmEnosuch0)" \
		-c "$(dp_config)" >"$out" 2>&1 || rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "run on a missing interface: exit $rc"
	grep -q fmEnosuch0 "$out" || fail "the message does not name the interface: $(head -n 2 "$out")"
	[ ! -e "$(fm_pin_dir fmEnosuch0)" ] || fail "pins created for a missing interface"
}

for hook in "${HOOKS[@]}"; do
	for overlay in "${OVERLAYS[@]}"; do
		for kind in icmp udp fragments tcp raw; do
			run_test "datapath_${overlay}_${hook}_${kind}" "test_$kind" "$overlay" "$hook"
		done
	done
	run_test "datapath_veth_${hook}_vlan_tags" test_vlan "$hook"
	run_test "datapath_veth_${hook}_arp_is_not_ip" test_arp_not_ip "$hook"
	run_test "lifecycle_tun_${hook}_kill9_restart_adopts" test_crash_restart tun "$hook"
	run_test "lifecycle_veth_${hook}_kill9_restart_adopts" test_crash_restart veth "$hook"
	run_test "lifecycle_tun_${hook}_second_run_refuses" test_second_run "$hook"
	run_test "lifecycle_tun_${hook}_second_run_other_pin_dir_refuses" test_second_run "$hook" other
	run_test "lifecycle_tun_${hook}_sigterm_detaches" test_sigterm tun "$hook"
	run_test "lifecycle_tap_${hook}_sigterm_detaches" test_sigterm tap "$hook"
	run_test "lifecycle_tun_${hook}_foreign_clsact_kept" test_foreign_clsact "$hook"
	run_test "lifecycle_tun_${hook}_detach_after_kill9" test_detach_after_kill "$hook"
done
# The clsact path (kernels before 6.6, or --tc-attach clsact), and a clsact attachment adopted.
DP_ATTACH=clsact
for hook in "${HOOKS[@]}"; do
	run_test "datapath_tun_${hook}_clsact_udp" test_udp tun "$hook"
	run_test "lifecycle_tun_${hook}_clsact_kill9_restart_adopts" test_crash_restart tun "$hook"
	run_test "lifecycle_tun_${hook}_clsact_sigterm_detaches" test_sigterm tun "$hook"
	run_test "lifecycle_tun_${hook}_clsact_foreign_clsact_kept" test_foreign_clsact "$hook"
	run_test "lifecycle_tun_${hook}_clsact_detach_after_kill9" test_detach_after_kill "$hook"
done
run_test lifecycle_tun_tc_clsact_adopted_by_auto_run_kept_until_stop test_crash_restart tun tc auto
DP_ATTACH=
run_test datapath_tun_writer_gso_counts_each_segment test_tun_gso
run_test datapath_veth_nonlinear_skb_headers_pulled_metered_exactly test_nonlinear_headers
run_test lifecycle_unknown_interface test_unknown_interface
finish_tests
