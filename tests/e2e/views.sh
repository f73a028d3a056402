#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# End-to-end tests of the views for people on the node (issue 10): `flowmeta flows` naming ICMP
# and ICMPv6 types and codes, sorting (--sort packets|octets|last) and limiting (--top N) in text
# and JSON, refusing bad values; `flowmeta status` showing times as ages (JSON keeping them raw). Every test meters a tun
# overlay in namespaces of its own, makes traffic of known size and compares whole lines.
source "$(dirname "$0")/../lib_views.sh"

# ------------------------------------------------------------------------------------------------
# flows

# Real ICMP from both kernels (echo, port unreachable) and crafted messages of every kind the names
# table covers (an error with a named code, a code without a name, an unknown type, neighbour
# discovery): each flow's line names its type and code, with "-" in the port columns.
test_flows_icmp_names() {
	require_flowmeta
	require_cmd socat ping
	views_metered_overlay
	send_ping "$FM_NS_A" "$FM_B4" 3 56
	send_ping "$FM_NS_A" "$FM_B6" 2 56
	# Closed ports: each kernel answers with a port unreachable.
	ns_run "$FM_NS_A" "$FM_PY" "$FM_TOOLS/traffic.py" udp-send "$FM_B4" 9 40009 1 10 >/dev/null
	ns_run "$FM_NS_A" "$FM_PY" "$FM_TOOLS/traffic.py" udp-send "$FM_B6" 9 40009 1 10 >/dev/null
	send_icmp "$FM_NS_B" "$FM_A4" 11 0 1 28
	send_icmp "$FM_NS_B" "$FM_A4" 3 99 1
	send_icmp "$FM_NS_B" "$FM_A6" 2 0 1 48
	send_icmp "$FM_NS_A" "$FM_B6" 135 0 1 16
	send_icmp "$FM_NS_A" "$FM_B4" 200 3 1
	wait_until 10 views_has_flows 13 || fail "not 13 flows: $(fm_cmd "$FM_NS_A" flows "$FM_IF_A")"
	local out=$FM_LOG_DIR/flows.txt
	views_flows "$out"
	assert_eq "$(head -n 1 "$out")" \
		"DIR     PROTO   SRC        SPORT DST        DPORT    PACKETS       OCTETS FLAGS    VERDICT   ICMP" \
		"header line"
	tail -n +2 "$out" | LC_ALL=C sort >"$out.sorted"
	assert_lines "$out.sorted" "flows (lines sorted)" <<-'EOF'
		egress  icmp    100.64.0.1     - 100.64.0.2     -          1           28 -        forwarded 200/3
		egress  icmp    100.64.0.1     - 100.64.0.2     -          3          252 -        forwarded echo-request
		egress  icmpv6  fd00:64::1     - fd00:64::2     -          1           64 -        forwarded neighbor-solicitation
		egress  icmpv6  fd00:64::1     - fd00:64::2     -          2          208 -        forwarded echo-request
		egress  udp     100.64.0.1 40009 100.64.0.2     9          1           38 -        forwarded
		egress  udp     fd00:64::1 40009 fd00:64::2     9          1           58 -        forwarded
		ingress icmp    100.64.0.2     - 100.64.0.1     -          1           28 -        forwarded dest-unreachable/99
		ingress icmp    100.64.0.2     - 100.64.0.1     -          1           56 -        forwarded time-exceeded/ttl-exceeded
		ingress icmp    100.64.0.2     - 100.64.0.1     -          1           66 -        forwarded dest-unreachable/port-unreachable
		ingress icmp    100.64.0.2     - 100.64.0.1     -          3          252 -        forwarded echo-reply
		ingress icmpv6  fd00:64::2     - fd00:64::1     -          1           96 -        forwarded packet-too-big
		ingress icmpv6  fd00:64::2     - fd00:64::1     -          1          106 -        forwarded dest-unreachable/port-unreachable
		ingress icmpv6  fd00:64::2     - fd00:64::1     -          2          208 -        forwarded echo-reply
	EOF
	# JSON keeps the key's raw dst_port (type << 8 | code) and adds the numbers and the name.
	views_flows "$out.json" --json
	assert_eq "$("$FM_PY" "$FM_TOOLS/jsonq.py" "$out.json" \
		'[(f["src_port"], f["dst_port"], f["icmp_type"], f["icmp_code"], f["icmp"]) for f in d if f["protocol"] == 58 and f["direction"] == "ingress" and f["octets"] == 106]')" \
		"0 260 1 4 dest-unreachable/port-unreachable" "ICMPv6 port unreachable in --json"
	assert_eq "$("$FM_PY" "$FM_TOOLS/jsonq.py" "$out.json" \
		'tuple(sorted(f["icmp"] for f in d if "icmp" in f and f["protocol"] == 1 and f["direction"] == "egress"))')" \
		"200/3 echo-request" "egress ICMP names in --json"
	assert_eq "$("$FM_PY" "$FM_TOOLS/jsonq.py" "$out.json" \
		'len([f for f in d if f["protocol"] == 17 and ("icmp" in f or "icmp_type" in f)])')" 0 \
		"UDP flows with ICMP fields in --json"
}

# Three UDP flows sent one after the other with distinct counts: 8 x 10, 5 x 100 and 3 x 1000
# octets of payload, so each sort key gives its own order.
views_three_udp_flows() {
	views_metered_overlay
	send_udp "$FM_NS_A" "$FM_NS_B" "$FM_B4" 5001 40001 5 100
	send_udp "$FM_NS_A" "$FM_NS_B" "$FM_B4" 5001 40002 3 1000
	send_udp "$FM_NS_A" "$FM_NS_B" "$FM_B4" 5001 40003 8 10
}

VIEWS_HEADER="DIR     PROTO   SRC        SPORT DST        DPORT    PACKETS       OCTETS FLAGS    VERDICT   ICMP"
VIEWS_UDP1="egress  udp     100.64.0.1 40001 100.64.0.2  5001          5          640 -        forwarded"
VIEWS_UDP2="egress  udp     100.64.0.1 40002 100.64.0.2  5001          3         3084 -        forwarded"
VIEWS_UDP3="egress  udp     100.64.0.1 40003 100.64.0.2  5001          8          304 -        forwarded"

test_flows_sort_and_top() {
	require_flowmeta
	require_cmd socat
	views_three_udp_flows
	local out=$FM_LOG_DIR/flows.txt
	views_flows "$out" --sort packets
	printf '%s\n' "$VIEWS_HEADER" "$VIEWS_UDP3" "$VIEWS_UDP1" "$VIEWS_UDP2" |
		assert_lines "$out" "--sort packets"
	views_flows "$out" --sort octets
	printf '%s\n' "$VIEWS_HEADER" "$VIEWS_UDP2" "$VIEWS_UDP1" "$VIEWS_UDP3" |
		assert_lines "$out" "--sort octets"
	# last: the flow sent last first.
	views_flows "$out" --sort last
	printf '%s\n' "$VIEWS_HEADER" "$VIEWS_UDP3" "$VIEWS_UDP2" "$VIEWS_UDP1" |
		assert_lines "$out" "--sort last"
	views_flows "$out" --sort packets --top 1
	printf '%s\n' "$VIEWS_HEADER" "$VIEWS_UDP3" | assert_lines "$out" "--sort packets --top 1"
	# --top alone: the busiest by octets.
	views_flows "$out" --top 2
	printf '%s\n' "$VIEWS_HEADER" "$VIEWS_UDP2" "$VIEWS_UDP1" | assert_lines "$out" "--top 2"
	views_flows "$out" --top 10 --sort last
	printf '%s\n' "$VIEWS_HEADER" "$VIEWS_UDP3" "$VIEWS_UDP2" "$VIEWS_UDP1" |
		assert_lines "$out" "--top 10 (more than there are)"
	# JSON honours both, with its raw fields.
	views_flows "$out" --json --sort last --top 2
	assert_eq "$("$FM_PY" "$FM_TOOLS/jsonq.py" "$out" \
		'[(f["src_port"], f["dst_port"], f["packets"], f["octets"]) for f in d]' | tr '\n' ' ')" \
		"40003 5001 8 304 40002 5001 3 3084 " "--json --sort last --top 2"
	views_flows "$out" --json --sort octets
	assert_eq "$("$FM_PY" "$FM_TOOLS/jsonq.py" "$out" '[f["octets"] for f in d]' | tr '\n' ' ')" \
		"3084 640 304 " "--json --sort octets"
}

# A bad --sort or --top: exit 2, one line saying what is wrong and what is expected, then usage;
# nothing on stdout.
test_flows_bad_value() {	# WANT ARGS...
	require_flowmeta
	local want=$1 out=$FM_LOG_DIR/out err=$FM_LOG_DIR/err rc=0
	shift
	"$FM_BIN" "$@" >"$out" 2>"$err" || rc=$?
	assert_eq "$rc" 2 "exit status of flowmeta $*"
	assert_eq "$(head -n 1 "$err")" "$want" "first line on stderr"
	grep -q '^usage: flowmeta run' "$err" || fail "no usage after the error"
	[ ! -s "$out" ] || fail "stdout not empty: $(head -n 2 "$out")"
}

# ------------------------------------------------------------------------------------------------
# status

# The "updated" line of `flowmeta status` on A (text), read between two clock readings: its age
# must be what the published updated_ms gives at one of them. Sets VIEWS_AGE (the line's value).
views_check_age() {	# UPDATED_MS
	local out=$FM_LOG_DIR/status.txt t0 t1 lo hi
	t0=$(($(fm_now_us) / 1000))
	fm_cmd "$FM_NS_A" status "$FM_IF_A" >"$out" || fail "flowmeta status failed"
	t1=$(($(fm_now_us) / 1000))
	VIEWS_AGE=$(sed -n 's/^  updated  *//p' "$out")
	lo=$(((t0 - $1) / 1000))
	hi=$(((t1 - $1) / 1000))
	[ "$VIEWS_AGE" = "$lo s ago" ] || [ "$VIEWS_AGE" = "$hi s ago" ] ||
		fail "status says updated \"$VIEWS_AGE\", want \"$lo s ago\" or \"$hi s ago\": $(cat "$out")"
	# No epoch milliseconds (13 digits) anywhere in the text.
	! grep -Eq '[0-9]{13}' "$out" || fail "raw epoch time in the text: $(grep -E '[0-9]{13}' "$out")"
	! grep -q 'updated_ms' "$out" || fail "updated_ms in the text status"
}

views_age_at_least() {	# UPDATED_MS SECONDS
	[ $(($(fm_now_us) / 1000 - $1)) -ge $(($2 * 1000)) ]
}

# Times as ages outside --json: "updated N s ago" while the daemon runs and, counting on, once it
# was killed; --json keeps exporter.updated_ms, raw epoch milliseconds.
test_status_ages() {
	require_flowmeta
	require_cmd socat
	views_metered_overlay
	local json updated before after
	before=$(($(fm_now_us) / 1000))
	json=$(fm_cmd "$FM_NS_A" status "$FM_IF_A" --json)
	after=$(($(fm_now_us) / 1000))
	updated=$(echo "$json" | "$FM_PY" "$FM_TOOLS/jsonq.py" - 'd["exporter"]["updated_ms"]')
	# Published at start, before `status --json` said running: within the test's own minute.
	if [ "$updated" -gt "$after" ] || [ "$updated" -lt $((before - 60000)) ]; then
		fail "--json updated_ms $updated is not epoch ms of the last minute (now $after)"
	fi
	views_check_age "$updated"
	fm_kill9 "$FM_PID"
	wait_until 30 views_age_at_least "$updated" 3 || fail "3 s never passed"
	views_check_age "$updated"
	grep -qx 'exporter (last published by a daemon no longer running):' "$FM_LOG_DIR/status.txt" ||
		fail "no 'no longer running' header: $(cat "$FM_LOG_DIR/status.txt")"
	assert_eq "$(fm_status "$FM_NS_A" "$FM_IF_A" exporter | "$FM_PY" "$FM_TOOLS/jsonq.py" - \
		'd["updated_ms"]')" "$updated" "--json updated_ms after kill -9"
}

run_test views_flows_icmp_type_code_names test_flows_icmp_names
run_test views_flows_sort_and_top_exact_lines test_flows_sort_and_top
run_test views_flows_sort_unknown_key_exit_2 test_flows_bad_value \
	'error: --sort: "foo" is not a sort key; use packets, octets or last' flows -i lo --sort foo
run_test views_flows_top_negative_exit_2 test_flows_bad_value \
	'error: --top: "-1" is not a number of flows; use a whole number, 1 or more' \
	flows -i lo --top -1
run_test views_flows_top_zero_exit_2 test_flows_bad_value \
	'error: --top: "0" is not a number of flows; use a whole number, 1 or more' flows -i lo --top 0
run_test views_flows_top_not_a_number_exit_2 test_flows_bad_value \
	'error: --top: "5x" is not a number of flows; use a whole number, 1 or more' flows -i lo --top 5x
run_test views_status_times_as_ages test_status_ages
run_test views_status_sort_exit_2 test_flows_bad_value \
	'error: status: --sort and --top are options of flows' status -i lo --sort packets
finish_tests
