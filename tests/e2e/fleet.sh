#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# A fleet: 16 flowmeta nodes, each in its own network namespace metering its own overlay
# interface (every one named ov0, as wg0 is on every node of a real overlay), all behind one NAT,
# exporting at once to one nfcapd and one tshark in a collector namespace (SPEC §5, README
# "Scaling out"). What must hold:
# - 16 distinct Observation Domains, each the one its node's overlay address gives, at both
#   collectors (nfcapd keys exporters by source address and domain: behind the NAT all 16 share
#   one address);
# - no sequence error: tshark reports none and every transport session's sequence numbers count
#   its data records exactly; nfcapd reports exactly the mismatches its own miscount of options
#   records predicts from the stream tshark saw (tests/tools/ipfix_fleet.py), no other;
# - every node's records, packets and octets at both collectors exactly its traffic, and its
#   exporter address its own (before the NAT);
# - the same across a restart of some nodes between two rounds of traffic: their domain stays.
#
# Topology (namespaces fmF<pid><suffix>): the overlay hub "o" bridges the 16 overlay links
# (100.64.0.254/16; node i is 100.64.1.<i+1>); the site router "r" bridges the 16 underlay links
# (198.18.0.254/24; node i is 198.18.0.<i+1>) and masquerades them towards the collector
# namespace "c" (198.18.100.2, the router's side 198.18.100.1).
source "$(dirname "$0")/../lib_ipfix.sh"

# shellcheck disable=SC2034 # read by tests/lib.sh: the namespace prefix, the test's deadline
FM_NS_PREFIX=fmF
# shellcheck disable=SC2034
FM_TEST_TIMEOUT=${FM_TEST_TIMEOUT_FLEET:-480}
FLEET_NODES=${FLEET_NODES:-16}	# fewer only to debug
FLEET_RESTART=()		# nodes restarted between the rounds: 0, 5, 10, 15
for i in 0 5 10 15; do
	[ "$i" -lt "$FLEET_NODES" ] && FLEET_RESTART+=("$i")
done
COLL_ADDR=198.18.100.2
NAT_ADDR=198.18.100.1
PORT_NFCAPD=4740
PORT_TSHARK=4741
HUB=100.64.0.254

# ---------------------------------------------------------------------------------------------
# Topology

# The fleet's stacks send nothing of their own on the overlay once it is up, since the nodes
# would meter it. The fleet speaks IPv4 only: without IPv6 no stack sends MLD reports, router
# solicitations or neighbour discovery (a 76-octet MLD report from ::, flooded by the hub's
# bridge, once made 5 nodes' totals one packet too high). Its bridges do no multicast snooping:
# a snooping bridge joins 224.0.0.106 and reports it late (a 40-octet IGMPv3 report from the hub
# once reached the 6 nodes already metering).
fleet_ipv4_only() {	# NS
	ns_run "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

fleet_topology() {
	local i ns
	ns_new o
	NS_HUB=$NS_NAME
	ns_new r
	NS_ROUTER=$NS_NAME
	ns_new c
	NS_COLL=$NS_NAME
	for ns in "$NS_HUB" "$NS_ROUTER" "$NS_COLL"; do
		fleet_ipv4_only "$ns"
	done
	ip -n "$NS_HUB" link add fmFov type bridge mcast_snooping 0
	ip -n "$NS_HUB" addr add "$HUB/16" dev fmFov
	ip -n "$NS_HUB" link set fmFov up
	ip -n "$NS_ROUTER" link add fmFul type bridge mcast_snooping 0
	ip -n "$NS_ROUTER" addr add 198.18.0.254/24 dev fmFul
	ip -n "$NS_ROUTER" link set fmFul up
	ip -n "$NS_ROUTER" link add fmFrc type veth peer name fmFcr netns "$NS_COLL"
	ip -n "$NS_ROUTER" addr add "$NAT_ADDR/30" dev fmFrc
	ip -n "$NS_COLL" addr add "$COLL_ADDR/30" dev fmFcr
	ip -n "$NS_ROUTER" link set fmFrc up
	ip -n "$NS_COLL" link set fmFcr up
	ns_run "$NS_ROUTER" sysctl -qw net.ipv4.ip_forward=1
	ns_run "$NS_ROUTER" nft -f - <<-EOF
		table ip fleet {
			chain post {
				type nat hook postrouting priority srcnat;
				oifname "fmFrc" masquerade
			}
		}
	EOF
	NODES=()
	for ((i = 0; i < FLEET_NODES; i++)); do
		ns_new "n$i"
		ns=$NS_NAME
		NODES+=("$ns")
		fleet_ipv4_only "$ns"
		ip -n "$ns" link add ov0 type veth peer name "fmFo$i" netns "$NS_HUB"
		ip -n "$ns" link add ul0 type veth peer name "fmFu$i" netns "$NS_ROUTER"
		ip -n "$NS_HUB" link set "fmFo$i" master fmFov up
		ip -n "$NS_ROUTER" link set "fmFu$i" master fmFul up
		ip -n "$ns" addr add "$(fleet_overlay "$i")/16" dev ov0
		ip -n "$ns" addr add "$(fleet_underlay "$i")/24" dev ul0
		ip -n "$ns" link set ov0 up
		ip -n "$ns" link set ul0 up
		ip -n "$ns" route add default via 198.18.0.254
	done
	for ((i = 0; i < FLEET_NODES; i++)); do
		ns_run "${NODES[i]}" ping -q -n -c 1 -W 5 "$HUB" >/dev/null ||
			fail "node $i: the hub does not answer on the overlay"
		ns_run "${NODES[i]}" ping -q -n -c 1 -W 5 "$COLL_ADDR" >/dev/null ||
			fail "node $i: the collector does not answer through the NAT"
	done
}

fleet_overlay() {	# I
	echo "100.64.1.$(($1 + 1))"
}

fleet_underlay() {	# I
	echo "198.18.0.$(($1 + 1))"
}

# ---------------------------------------------------------------------------------------------
# flowmeta on every node (each its own pin directory: the interfaces share a name)

fleet_pin() {	# I
	echo "$FM_BPFFS/fmE-$FM_TEST_NAME-$FM_ID-n$1"
}

fleet_cmd() {	# I SUBCOMMAND [ARGS...]
	local i=$1 sub=$2
	shift 2
	ns_run "${NODES[i]}" "$FM_BIN" "$sub" -i ov0 --pin-dir "$(fleet_pin "$i")" "$@"
}

fleet_status() {	# I EXPR [ARGS...]
	fleet_cmd "$1" status --json | "$FM_PY" "$FM_TOOLS/jsonq.py" - "${@:2}"
}

# Start flowmeta on node I (not waiting). FLEET_PID[I], FLEET_LOG[I].
fleet_start() {	# I
	local i=$1 pin
	pin=$(fleet_pin "$i")
	FM_ATTACHED+=("${NODES[i]} ov0 $pin")
	FM_PINS+=("$pin")
	FLEET_LOG[i]=$FM_LOG_DIR/flowmeta-n$i-$SECONDS.log
	bg_start "${FLEET_LOG[i]}" "${NODES[i]}" "$FM_BIN" run -i ov0 --pin-dir "$pin" -c "$CONFIG"
	FLEET_PID[i]=$BG_PID
	FLEET_SINCE[i]=0	# flow records this process has to encode
	fm_forget_pid "$BG_PID"
	FM_FM_PIDS+=("$BG_PID")
}

fleet_wait_metering() {	# I
	wait_for_line 60 "${FLEET_LOG[$1]}" '^info: metering ' "${FLEET_PID[$1]}" ||
		fail "node $1: flowmeta never said it meters: $(tail -n 3 "${FLEET_LOG[$1]}" | tr '\n' ' ')"
	grep -q "^info: ObservationDomainId $(ipx_domain "$(fleet_overlay "$1")"), derived from" \
		"${FLEET_LOG[$1]}" || fail "node $1: not the domain of its overlay address"
}

# Every flow of node I ended and at least N flow records encoded (each goes to every collector).
fleet_exported() {	# I N
	[ "$(fleet_status "$1" 'd["flows"] == 0 and d["exporter"]["flow_records"] >= int(a[0])' \
		"$2")" = true ]
}

# ---------------------------------------------------------------------------------------------
# Traffic: node I pings the hub (2 + I requests of 100 + I octets) and sends 3 + I UDP datagrams of
# 200 octets to it; each node's expected records, packets and octets add up in FLEET_WANT[I].

fleet_round() {	# ROUND
	local i sport req udp r p o
	for ((i = 0; i < FLEET_NODES; i++)); do
		send_ping "${NODES[i]}" "$HUB" $((2 + i)) $((100 + i))
		req=$SENT_OCTETS
		sport=$((40000 + 100 * $1 + i))
		send_udp "${NODES[i]}" "$NS_HUB" "$HUB" $((5000 + i)) "$sport" $((3 + i)) 200
		udp=$SENT_OCTETS
		read -r r p o <<<"${FLEET_WANT[i]:-0 0 0}"
		FLEET_WANT[i]="$((r + 3)) $((p + 2 * (2 + i) + 3 + i)) $((o + 2 * req + udp))"
		FLEET_SINCE[i]=$((FLEET_SINCE[i] + 3))
	done
	for ((i = 0; i < FLEET_NODES; i++)); do
		wait_until 20 fleet_exported "$i" "${FLEET_SINCE[i]}" ||
			fail "node $i: flows not all exported: $(fleet_cmd "$i" status --json | tr -d "\n ");" \
				"$(fleet_cmd "$i" flows | tr '\n' ';')"
	done
}

# The restart phase: the listed nodes stop (SIGTERM: their last statistics) and start again.
fleet_restart() {
	local i
	for i in "${FLEET_RESTART[@]}"; do
		fm_stop "${FLEET_PID[i]}"
		assert_eq "$FM_EXIT" 0 "node $i: exit status on SIGTERM"
		fleet_start "$i"
	done
	for i in "${FLEET_RESTART[@]}"; do
		fleet_wait_metering "$i"
	done
}

# What each node must have given: "ODID RECORDS PACKETS OCTETS", sorted by domain.
fleet_want_totals() {
	local i
	for ((i = 0; i < FLEET_NODES; i++)); do
		echo "$(ipx_domain "$(fleet_overlay "$i")") ${FLEET_WANT[i]}"
	done | sort -n
}

# ---------------------------------------------------------------------------------------------

test_fleet() {
	local i records msgs want exporters nfdir sessions
	require_flowmeta
	require_cmd nft tshark nfcapd nfdump
	fleet_topology
	coll_start nfcapd "$NS_COLL" $PORT_NFCAPD $COLL_ADDR
	coll_start tshark "$NS_COLL" $PORT_TSHARK $COLL_ADDR
	ex_config "Udp/$COLL_ADDR:$PORT_NFCAPD Udp/$COLL_ADDR:$PORT_TSHARK" '"MaxFlows": 1024'
	for ((i = 0; i < FLEET_NODES; i++)); do
		fleet_start "$i"
	done
	for ((i = 0; i < FLEET_NODES; i++)); do
		fleet_wait_metering "$i"
	done
	fleet_round 0
	fleet_restart
	fleet_round 1
	for ((i = 0; i < FLEET_NODES; i++)); do
		fm_stop "${FLEET_PID[i]}"
		assert_eq "$FM_EXIT" 0 "node $i: exit status on SIGTERM"
	done
	coll_stop tshark $PORT_TSHARK
	coll_stop nfcapd $PORT_NFCAPD
	want=$(fleet_want_totals)
	assert_eq "$(echo "$want" | cut -d' ' -f1 | sort -u | grep -c .)" "$FLEET_NODES" \
		"distinct domains the nodes' addresses give"

	# tshark: no sequence error, every session exact, every node's totals and its own address.
	assert_eq "$(coll_seq_errors tshark $PORT_TSHARK)" 0 "tshark sequence errors"
	ex_check_messages tshark $PORT_TSHARK
	msgs=$MSGS
	records=$FM_LOG_DIR/records-tshark.json
	coll_details tshark $PORT_TSHARK >"$records"
	assert_eq "$("$FM_PY" "$FM_TOOLS/ipfix_fleet.py" totals "$records" "$msgs")" "$want" \
		"tshark: records, packets, octets of each domain"
	exporters=$("$FM_PY" "$FM_TOOLS/ipfix_fleet.py" exporters "$msgs")
	for ((i = 0; i < FLEET_NODES; i++)); do
		# A restarted node too: the same source port, its sequence going on (one session).
		sessions=1
		assert_eq "$(echo "$exporters" | grep "^$(ipx_domain "$(fleet_overlay "$i")") ")" \
			"$(ipx_domain "$(fleet_overlay "$i")") $sessions $(fleet_underlay "$i")" \
			"node $i at tshark: domain, transport sessions, exporterIPv4Address"
	done
	assert_eq "$("$FM_PY" "$FM_TOOLS/jsonq.py" "$msgs" \
		'sorted({m["src"].rsplit(":", 1)[0] for m in d})')" "$NAT_ADDR" \
		"the source address tshark saw (the NAT's)"

	# nfcapd: one exporter per domain at the NAT's address, exactly the failures its miscount
	# predicts, every node's totals.
	nfdir=${FM_COLL_DIR[$(fm_coll_key nfcapd $PORT_NFCAPD)]}
	assert_eq "$(ipx_nfdump_exporters $PORT_NFCAPD | awk '{print $1, $2, $4}' | sort -k2n)" \
		"$("$FM_PY" "$FM_TOOLS/ipfix_fleet.py" nfdump-failures "$msgs")" \
		"nfcapd exporters (address, domain, sequence failures) vs what tshark's stream predicts"
	nfdump -E "$nfdir"/flows/nfcapd.* >"$FM_LOG_DIR/nfdump-exporters.txt" 2>&1
	TZ=UTC nfdump -R "$nfdir/flows" -o json >"$FM_LOG_DIR/nfdump-flows.json" 2>/dev/null
	assert_eq "$("$FM_PY" "$FM_TOOLS/ipfix_fleet.py" nfdump-totals \
		"$FM_LOG_DIR/nfdump-exporters.txt" "$FM_LOG_DIR/nfdump-flows.json")" "$want" \
		"nfcapd: records, packets, octets of each domain"
}

declare -a FLEET_PID FLEET_LOG FLEET_WANT FLEET_SINCE NODES
run_test fleet_16_nodes_behind_one_nat_distinct_domains_exact_totals_no_sequence_error test_fleet
finish_tests
