#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# End-to-end tests of the views for people on the node (issue 10): `flowmeta flows` naming ICMP
# and ICMPv6 types and codes, sorting (--sort packets|octets|last) and limiting (--top N) in text
# and JSON, refusing bad values; `flowmeta status` showing times as ages (JSON keeping them raw);
# `flowmeta top` on a terminal (tmux) and as plain snapshots; and the messages of README's
# Troubleshooting section (no BTF, no bpffs, not root, collector unreachable, table full, bad
# configuration), each reproduced. Every test meters a tun overlay in namespaces of its own, makes
# traffic of known size and compares whole lines.
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

# ------------------------------------------------------------------------------------------------
# top

VIEWS_TOP_HEADER="DIR     PROTO  SRC        SPORT DST        DPORT   PKT/S   BIT/S    PACKETS       OCTETS INFO"
VIEWS_TOP_UDP="egress  udp    100.64.0.1 40001 100.64.0.2  5001       0       0         10         1280"
VIEWS_TOP_REQ="egress  icmp   100.64.0.1     - 100.64.0.2     -       0       0         25         2100 echo-request"
VIEWS_TOP_REP="ingress icmp   100.64.0.2     - 100.64.0.1     -       0       0         25         2100 echo-reply"

# The head of a frame of the view of A's overlay with no daemon event since the last read: rows
# 2 to 6 (row 1, with the daemon's age, is checked apart). RATE: what every rate shows, 0 or "-"
# (unknown: the first frame, before a second read).
views_top_head() {	# FLOWS PERCENT [RATE]
	local r=${3:-0}
	printf '%s\n' "flows $1 of 4096 ($2 %)   ended $r/s   records $r/s   no collector" \
		"drops 0 ($r/s)   table full 0 ($r/s)   events lost 0 ($r/s)" \
		"in $r pkt/s $r bit/s   out $r pkt/s $r bit/s" "" "$VIEWS_TOP_HEADER"
}

# On a terminal: the busiest flows with their rates and exact totals, the key counters, the
# alternate screen without cursor; rates that follow a ping every 0.2 s and fall back to 0 when it
# ends; `q` exits 0 and gives the terminal back as it was.
test_top_screen() {
	require_flowmeta
	require_cmd tmux socat ping
	views_metered_overlay
	send_udp "$FM_NS_A" "$FM_NS_B" "$FM_B4" 5001 40001 10 100
	vt_start_top 160 40 --interval 0.5
	vt_wait_text 10 "$VIEWS_TOP_UDP" || fail "no UDP flow row with rates 0: $(vt_screen)"
	local screen=$FM_LOG_DIR/screen.txt
	vt_screen >"$screen"
	grep -Eqx "flowmeta top $FM_IF_A: daemon running \\(pid $FM_PID, updated [0-9]+ s ago\\); every 0\\.5 s; q quits" \
		<(head -n 1 "$screen") || fail "first row: $(head -n 1 "$screen")"
	tail -n +2 "$screen" >"$screen.rest"
	{ views_top_head 1 0.0; echo "$VIEWS_TOP_UDP"; } | assert_lines "$screen.rest" "the frame"
	assert_eq "$(vt_pane alternate_on)" 1 "alternate screen while top runs"
	assert_eq "$(vt_pane cursor_flag)" 0 "cursor visible while top runs"
	# The column header in reverse video, nothing else.
	assert_eq "$(vt_tmux capture-pane -p -e -t view | grep -c $'\033\\[7m')" 1 \
		"rows with reverse video"

	local ping_log=$FM_LOG_DIR/ping.log ping_pid pps bps
	bg_start "$ping_log" "$FM_NS_A" ping -n -q -c 25 -i 0.2 -s 56 "$FM_B4"
	ping_pid=$BG_PID
	vt_wait_row 10 'egress  icmp   100\.64\.0\.1     - 100\.64\.0\.2     - +[1-9][0-9]* +[0-9.]+k? +[0-9]+ +[0-9]+ echo-request' ||
		fail "no echo-request row with a rate: $(vt_screen)"
	read -r pps bps <<<"$(echo "$VT_MATCH" | awk '{print $7, $8}')"
	case $bps in *k) bps=$(awk -v b="${bps%k}" 'BEGIN {printf "%d", b * 1000}') ;; esac
	# 5 pings a second of 84 octets: 3360 bit/s. A loaded machine delays reads and pings.
	assert_range "$pps" 2 10 "echo-request pkt/s"
	assert_range "$bps" 1344 6720 "echo-request bit/s"
	vt_wait_row 10 'in [1-9][0-9]* pkt/s [0-9.]+k bit/s   out [1-9][0-9]* pkt/s [0-9.]+k bit/s' ||
		fail "no totals per direction: $(vt_screen)"
	bg_wait "$ping_pid" || fail "ping: $(tail -n 2 "$ping_log")"
	grep -q '^25 packets transmitted, 25 received' "$ping_log" || fail "ping: $(tail -n 2 "$ping_log")"
	# Traffic over: rates 0, totals exact; equal rates are ordered by octets, then by key.
	vt_wait_text 10 "$VIEWS_TOP_REQ" || fail "no idle echo-request row: $(vt_screen)"
	vt_screen | tail -n +2 >"$screen.rest"
	{ views_top_head 3 0.1; printf '%s\n' "$VIEWS_TOP_REQ" "$VIEWS_TOP_REP" "$VIEWS_TOP_UDP"; } |
		assert_lines "$screen.rest" "the frame after the ping"
	vt_tmux send-keys -t view q
	vt_assert_restored "q"
}

# Ctrl-C and SIGTERM end the view as `q` does: status 0, the terminal restored.
test_top_stops() {	# C-c | TERM
	require_flowmeta
	require_cmd tmux socat
	views_metered_overlay
	send_udp "$FM_NS_A" "$FM_NS_B" "$FM_B4" 5001 40001 10 100
	vt_start_top 160 40 --interval 0.5
	vt_wait_text 10 "$VIEWS_TOP_UDP" || fail "no UDP flow row: $(vt_screen)"
	case $1 in
	C-c) vt_tmux send-keys -t view C-c ;;
	TERM) kill -TERM "$VT_TOP_PID" ;;
	esac
	vt_assert_restored "$1"
}

# Ctrl-Z: the terminal is given back before top stops (the shell finds its settings and normal
# screen as before), and taken again with a full frame at `fg`; `q` then ends it as usual.
test_top_suspend() {
	require_flowmeta
	require_cmd tmux socat
	views_metered_overlay
	send_udp "$FM_NS_A" "$FM_NS_B" "$FM_B4" 5001 40001 10 100
	vt_start_top 160 40 --interval 0.5
	vt_wait_text 10 "$VIEWS_TOP_UDP" || fail "no UDP flow row: $(vt_screen)"
	vt_tmux send-keys -t view C-z
	vt_wait_text 10 "views: top stopped" || fail "top did not stop on Ctrl-Z: $(vt_screen)"
	assert_eq "$(awk '{print $3}' "/proc/$VT_TOP_PID/stat")" T "state of top after Ctrl-Z"
	assert_eq "$(cat "$VT_DIR/stty.stopped")" "$(cat "$VT_DIR/stty.before")" \
		"terminal settings the shell got back from the stopped top"
	assert_eq "$(vt_pane alternate_on)" 0 "alternate screen while top is stopped"
	assert_eq "$(vt_pane cursor_flag)" 1 "cursor visible while top is stopped"
	touch "$VT_DIR/fg"
	wait_until 10 views_alternate_on || fail "top did not take the screen again: $(vt_screen)"
	vt_wait_text 10 "$VIEWS_TOP_UDP" || fail "no frame after fg: $(vt_screen)"
	[ "$(stty -g -F "$(vt_pane pane_tty)")" != "$(cat "$VT_DIR/stty.before")" ] ||
		fail "top runs again without its terminal settings (no echo, no line buffering)"
	vt_tmux send-keys -t view q
	vt_assert_restored "q after Ctrl-Z and fg"
}

views_alternate_on() {
	[ "$(vt_pane alternate_on)" = 1 ]
}

# A smaller window (SIGWINCH): the frame is redrawn at once to its size, every row cut at the new
# width and only the flows that fit; back to a larger one, everything again. The interval is
# longer than the test: every frame after the first is a redraw for a resize.
test_top_resize() {
	require_flowmeta
	require_cmd tmux socat
	views_metered_overlay
	send_udp_flows "$FM_NS_A" "$FM_NS_B" "$FM_B4" 5001 40001 5 2 100
	vt_start_top 160 40 --interval 600
	local want=$FM_LOG_DIR/want.txt got=$FM_LOG_DIR/got.txt p line
	# Equal flows in key order: the low byte of the host-order source port first.
	{
		views_top_head 5 0.1 -
		for p in 40001 40002 40003 40004 40005; do
			printf 'egress  udp    100.64.0.1 %s 100.64.0.2  5001       -       -          2          256\n' "$p"
		done
	} >"$want"
	vt_wait_text 10 "$(tail -n 1 "$want")" || fail "no flow rows: $(vt_screen)"
	vt_screen | tail -n +2 >"$got"
	assert_lines "$got" "the frame at 160 x 40" <"$want"
	vt_tmux resize-window -t view -x 60 -y 9
	# 9 rows: the 6 of the head and 3 flows, each row its first 60 columns.
	head -n 8 "$want" | while IFS= read -r line; do
		line=${line:0:60}
		echo "${line%"${line##*[! ]}"}"
	done >"$want.small"
	wait_until 10 vt_rows_are "$want.small" || fail "not redrawn at 60 x 9: $(vt_screen)"
	assert_eq "$(vt_screen | wc -l)" 9 "rows at 60 x 9"
	vt_tmux resize-window -t view -x 160 -y 40
	wait_until 10 vt_rows_are "$want" || fail "not redrawn at 160 x 40: $(vt_screen)"
	vt_tmux send-keys -t view q
	vt_assert_restored "q after resizing"
}

# Rows 2 and on of the screen are FILE.
vt_rows_are() {	# FILE
	[ "$(vt_screen | tail -n +2)" = "$(cat "$1")" ]
}

# Not a terminal: --once prints one plain snapshot, rates over one interval, and exits 0.
test_top_once_plain() {
	require_flowmeta
	require_cmd socat
	views_metered_overlay
	send_udp "$FM_NS_A" "$FM_NS_B" "$FM_B4" 5001 40001 10 100
	local out=$FM_LOG_DIR/once.txt rc=0
	fm_cmd "$FM_NS_A" top "$FM_IF_A" --once --interval 0.5 >"$out" 2>"$out.err" || rc=$?
	assert_eq "$rc" 0 "exit status of top --once"
	[ ! -s "$out.err" ] || fail "stderr: $(cat "$out.err")"
	! grep -q $'\033' "$out" || fail "escape sequences in a plain snapshot: $(cat -v "$out")"
	grep -Eqx "flowmeta top $FM_IF_A: daemon running \\(pid $FM_PID, updated [0-9]+ s ago\\); every 0\\.5 s" \
		<(head -n 1 "$out") || fail "first line: $(head -n 1 "$out")"
	tail -n +2 "$out" >"$out.rest"
	{ views_top_head 1 0.0; echo "$VIEWS_TOP_UDP"; echo; } | assert_lines "$out.rest" "--once"
}

# Dropped traffic (an untrusted peer): the drops counter and the flow, its verdict before its ICMP
# type.
test_top_drops() {
	require_flowmeta
	require_cmd socat
	topo_overlay tun
	VIEWS_CONF=$FM_LOG_DIR/flowmeta.json
	printf '{"FlowMetadata": {%s, %s}}\n' '"PollInterval": 600000, "IdleTimeout": 600000' \
		'"TrustRequirements": {"UntrustedPeers": ["100.64.0.2"]}' >"$VIEWS_CONF"
	fm_start "$FM_NS_A" "$FM_IF_A" -c "$VIEWS_CONF"
	fm_wait_metering
	send_icmp "$FM_NS_A" "$FM_B4" 8 0 3 56
	wait_until 10 views_dropped 3 || fail "not 3 drops: $(fm_cmd "$FM_NS_A" status "$FM_IF_A")"
	local out=$FM_LOG_DIR/once.txt
	fm_cmd "$FM_NS_A" top "$FM_IF_A" --once --interval 0.5 >"$out" || fail "top --once failed"
	assert_eq "$(sed -n 3p "$out")" "drops 3 (0/s)   table full 0 (0/s)   events lost 0 (0/s)" \
		"counters"
	assert_eq "$(sed -n 7p "$out")" \
		"egress  icmp   100.64.0.1     - 100.64.0.2     -       0       0          3          252 untrusted echo-request" \
		"the dropped flow"
}

views_dropped() {	# N
	[ "$(fm_status "$FM_NS_A" "$FM_IF_A" policy_dropped)" = "$1" ]
}

# Not a terminal, without --once: a snapshot every interval, also once the daemon is killed (the
# programs count on) and once the pins are gone; SIGTERM ends it with status 0.
test_top_plain_snapshots() {
	require_flowmeta
	require_cmd socat
	views_metered_overlay
	send_udp "$FM_NS_A" "$FM_NS_B" "$FM_B4" 5001 40001 10 100
	local out=$FM_LOG_DIR/top.txt top_pid
	bg_start "$out" "$FM_NS_A" "$FM_BIN" top -i "$FM_IF_A" --pin-dir "$(fm_pin_dir "$FM_IF_A")" \
		--interval 0.2
	top_pid=$BG_PID
	wait_until 10 views_snapshots_at_least "$out" 3 || fail "not 3 snapshots: $(cat "$out")"
	fm_kill9 "$FM_PID"
	wait_for_line 10 "$out" "^flowmeta top $FM_IF_A: no daemon \\(the last, pid $FM_PID, updated [0-9]+ s ago\\); every 0\\.2 s\$" "$top_pid" ||
		fail "no snapshot without the daemon: $(tail -n 8 "$out")"
	wait_until 5 views_last_snapshot_has "$out" "$VIEWS_TOP_UDP" ||
		fail "the flow is not in the snapshots without the daemon: $(tail -n 8 "$out")"
	fm_cmd "$FM_NS_A" detach "$FM_IF_A" >/dev/null 2>&1 || fail "detach failed"
	wait_for_line 10 "$out" "^flowmeta top $FM_IF_A: nothing pinned for $FM_IF_A: flowmeta stopped and detached, or never ran\$" "$top_pid" ||
		fail "no snapshot saying nothing is pinned: $(tail -n 8 "$out")"
	stop_pid "$top_pid" TERM 5
	assert_eq "$BG_STATUS" 0 "exit status of top on SIGTERM"
	! grep -q $'\033' "$out" || fail "escape sequences in plain snapshots"
}

views_snapshots_at_least() {	# FILE N
	[ "$(grep -c '^flowmeta top ' "$1")" -ge "$2" ]
}

# The last complete snapshot of FILE (snapshots end with a blank line) has a line TEXT.
views_last_snapshot_has() {	# FILE TEXT
	awk 'BEGIN {RS = ""} {last = prev; prev = $0} END {print prev}' "$1" | grep -Fxq -- "$2"
}

test_top_nothing_pinned() {
	require_flowmeta
	ns_new u
	ip -n "$NS_NAME" link add fmVd0 type veth peer name fmVd1
	local pin=$FM_BPFFS/fmE-$FM_TEST_NAME-$FM_ID-none rc=0 err=$FM_LOG_DIR/err
	ns_run "$NS_NAME" "$FM_BIN" top -i fmVd0 --pin-dir "$pin" --once >/dev/null 2>"$err" || rc=$?
	assert_eq "$rc" 1 "exit status"
	assert_eq "$(cat "$err")" \
		"error: nothing pinned for fmVd0 in $pin: flowmeta has not run on it" "stderr"
}

# ------------------------------------------------------------------------------------------------
# Is it working? What README's section says a newcomer sees in the first minute, with the default
# timers and one collector.

test_is_it_working() {
	require_flowmeta
	require_cmd socat ping ipfixDump
	topo_overlay tun
	VIEWS_CONF=$FM_LOG_DIR/flowmeta.json
	printf '{"FlowMetadata": {}}\n' >"$VIEWS_CONF"
	coll_start ipfixdump "$FM_NS_A" 4790
	fm_start "$FM_NS_A" "$FM_IF_A" -c "$VIEWS_CONF" --collector Udp/127.0.0.1:4790
	fm_wait_metering
	grep -Eqx "info: metering $FM_IF_A \(ifindex [0-9]+\): poll 60000 ms, interval 0 ms, idle timeout 60000 ms, direction Both, 1 collector\(s\)" \
		"$FM_LOG" || fail "no metering line: $(cat "$FM_LOG")"
	grep -Eqx 'info: collector Udp/127\.0\.0\.1:4790: exporting IPFIX over UDP, messages of up to [0-9]+ octets \(path MTU [0-9]+\)' \
		"$FM_LOG" || fail "no collector line: $(cat "$FM_LOG")"
	grep -Eqx "info: ObservationDomainId [0-9]+, derived from $FM_A4 on $FM_IF_A" "$FM_LOG" ||
		fail "no domain line: $(cat "$FM_LOG")"
	! grep -Eq '^(warning|error): ' "$FM_LOG" || fail "warnings: $(grep -E '^(warning|error)' "$FM_LOG")"
	# A ping a second, then the live view and the status.
	local ping_log=$FM_LOG_DIR/ping.log ping_pid out=$FM_LOG_DIR/top.txt st=$FM_LOG_DIR/status.txt
	bg_start "$ping_log" "$FM_NS_A" ping -n "$FM_B4"
	ping_pid=$BG_PID
	fm_cmd "$FM_NS_A" top "$FM_IF_A" --once --interval 3 >"$out"
	grep -Eq "^flowmeta top $FM_IF_A: daemon running " "$out" || fail "top: $(cat "$out")"
	grep -Eq '   collectors 1 up, 0 down$' "$out" || fail "top: $(cat "$out")"
	grep -Eq '^egress  icmp   100\.64\.0\.1     - 100\.64\.0\.2     - +1 ' "$out" ||
		fail "no echo-request row at 1 pkt/s: $(cat "$out")"
	stop_pid "$ping_pid" INT 5
	fm_cmd "$FM_NS_A" status "$FM_IF_A" >"$st"
	local line
	for line in 'running                yes' '  polls                0' \
		'  exporting            yes' 'collector Udp/127.0.0.1:4790:' '  send_errors          0' \
		'table_full_packets     0' 'events_lost            0'; do
		grep -qxF -- "$line" "$st" || fail "status has no \"$line\": $(cat "$st")"
	done
	grep -Eqx '  updated              [0-9]+ s ago' "$st" || fail "status: $(cat "$st")"
	grep -Eqx '  messages             [1-9][0-9]*' "$st" || fail "no message sent: $(cat "$st")"
	# The templates at once, in the first message.
	local first
	first=$("$FM_PY" "$FM_TOOLS/ipfix_stream.py" messages \
		"${FM_COLL_DIR[$(fm_coll_key ipfixdump 4790)]}/stream.ipfix" | head -n 1)
	[ "$(echo "$first" | awk '{print $1, $2, ($4 > 0), $6}')" = "0 0 1 0" ] ||
		fail "the first message is not templates only: $first"
}

# ------------------------------------------------------------------------------------------------
# Troubleshooting: what flowmeta prints for the common failures. README's Troubleshooting section
# quotes these lines: change both together.

# `flowmeta run` on A's overlay from SNIPPET, a shell command run by sh -c in a mount namespace of
# its own, "$@" being flowmeta's command line and $NS A's namespace; its stderr in VIEWS_ERR and
# its exit status in VIEWS_RC.
views_run_wrapped() {	# SNIPPET [RUN ARGS...]
	local snippet=$1
	shift
	fm_register_attach "$FM_NS_A" "$FM_IF_A"
	VIEWS_ERR=$FM_LOG_DIR/run-$RANDOM.err
	VIEWS_RC=0
	NS=$FM_NS_A unshare --mount --propagation private -- sh -c "$snippet" sh "$FM_BIN" run \
		-i "$FM_IF_A" -c "$VIEWS_CONF" "$@" >/dev/null 2>"$VIEWS_ERR" </dev/null || VIEWS_RC=$?
}

views_config() {	# JSON of FlowMetadata
	VIEWS_CONF=$FM_LOG_DIR/trouble.json
	printf '{"FlowMetadata": %s}\n' "$1" >"$VIEWS_CONF"
}

# A kernel without BTF: simulated by hiding /sys/kernel/btf in a private mount namespace and by a
# shim that makes every BPF_BTF_LOAD fail (libbpf then loads the programs without BTF and the
# verifier rejects them; the reason it gives depends on the kernel). The error says what is
# missing.
test_trouble_no_btf() {
	require_flowmeta
	require_cmd cc unshare socat
	topo_overlay tun
	views_config '{}'
	local shim=$FM_LOG_DIR/no_btf.so
	cc -shared -fPIC -O2 -o "$shim" "$FM_TOOLS/no_btf.c" -ldl || fail "cannot build the shim"
	# shellcheck disable=SC2016 # the snippet's variables are the wrapping shell's
	views_run_wrapped 'mount -t tmpfs -o size=4k fmV-no-btf /sys/kernel/btf &&
		exec nsenter --net="/run/netns/$NS" -- env LD_PRELOAD='"$shim"' "$@"' \
		--pin-dir "$(fm_pin_dir "$FM_IF_A")"
	assert_eq "$VIEWS_RC" 1 "exit status without BTF"
	assert_eq "$(wc -l <"$VIEWS_ERR")" 1 "lines on stderr ($(cat "$VIEWS_ERR"))"
	grep -Eqx "error: load BPF programs for $FM_IF_A: [A-Za-z ]+ \\(this kernel has no BTF, /sys/kernel/btf/vmlinux: flowmeta needs a kernel built with CONFIG_DEBUG_INFO_BTF=y\\)" \
		"$VIEWS_ERR" || fail "stderr: $(cat "$VIEWS_ERR")"
	views_nothing_attached
}

# Nothing attached and no pin directory left after a refused start.
views_nothing_attached() {
	[ -z "$(attached_progs "$FM_NS_A" "$FM_IF_A")" ] ||
		fail "attached after a refused start: $(attached_progs "$FM_NS_A" "$FM_IF_A")"
}

# /sys/fs/bpf is not a bpffs and flowmeta may not mount one (no CAP_SYS_ADMIN): a tmpfs over it
# in a private mount namespace, the default pin directory.
test_trouble_no_bpffs() {
	require_flowmeta
	require_cmd unshare setpriv socat
	topo_overlay tun
	views_config '{}'
	# shellcheck disable=SC2016 # the snippet's variables are the wrapping shell's
	views_run_wrapped 'mount -t tmpfs -o size=4k fmV-not-bpffs /sys/fs/bpf &&
		exec nsenter --net="/run/netns/$NS" -- setpriv --inh-caps=-sys_admin \
		--bounding-set=-sys_admin "$@"'
	assert_eq "$VIEWS_RC" 1 "exit status without a bpffs"
	assert_eq "$(cat "$VIEWS_ERR")" \
		"error: /sys/fs/bpf is not a bpffs and mounting one failed: Operation not permitted; mount it (mount -t bpf bpf /sys/fs/bpf) or give --pin-dir a directory on a bpffs" \
		"stderr"
	views_nothing_attached
}

# Not root: uid 0 without any capability (so that no file permission decides first).
test_trouble_not_root() {
	require_flowmeta
	require_cmd setpriv socat
	topo_overlay tun
	views_config '{}'
	# shellcheck disable=SC2016 # the snippet's variables are the wrapping shell's
	views_run_wrapped 'exec nsenter --net="/run/netns/$NS" -- setpriv --inh-caps=-all \
		--bounding-set=-all "$@"' --pin-dir "$(fm_pin_dir "$FM_IF_A")"
	assert_eq "$VIEWS_RC" 1 "exit status without capabilities"
	assert_eq "$(cat "$VIEWS_ERR")" \
		"error: load BPF programs for $FM_IF_A: Operation not permitted (run flowmeta as root, or with CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN and CAP_SYS_ADMIN)" \
		"stderr"
	views_nothing_attached
}

# A collector nobody listens on (ICMP port unreachable) and one without a route: one warning
# each, then status and top say they are down; metering goes on.
test_trouble_collector_unreachable() {
	require_flowmeta
	require_cmd socat ping
	topo_overlay tun
	views_config '{"PollInterval": 1000, "IdleTimeout": 1000}'
	fm_start "$FM_NS_A" "$FM_IF_A" -c "$VIEWS_CONF" --collector Udp/127.0.0.1:4799 \
		--collector Udp/198.19.255.1:4739
	fm_wait_metering
	send_ping "$FM_NS_A" "$FM_B4" 2 56
	wait_for_line 20 "$FM_LOG" '^warning: collector Udp/127\.0\.0\.1:4799: ' "$FM_PID" ||
		fail "no warning for the refusing collector: $(cat "$FM_LOG")"
	assert_eq "$(grep '^warning: ' "$FM_LOG")" \
		"warning: collector Udp/198.19.255.1:4739: Network is unreachable; retrying at each export
warning: collector Udp/127.0.0.1:4799: Connection refused; counting the records it misses until it takes messages again" \
		"warnings"
	local st=$FM_LOG_DIR/status.txt
	fm_cmd "$FM_NS_A" status "$FM_IF_A" >"$st"
	grep -qx 'collector Udp/127.0.0.1:4799 (down):' "$st" || fail "status: $(cat "$st")"
	grep -qx 'collector Udp/198.19.255.1:4739 (down):' "$st" || fail "status: $(cat "$st")"
	fm_cmd "$FM_NS_A" top "$FM_IF_A" --once --interval 0.2 >"$st.top"
	grep -Eqx 'flows [0-9]+ of [0-9]+ \([0-9.]+ %\)   ended [0-9.]+k?/s   records [0-9.]+k?/s   collectors 0 up, 2 down' \
		"$st.top" || fail "top: $(cat "$st.top")"
	# A collector comes up on the port: the next records reach it and it counts as back.
	coll_start ipfixdump "$FM_NS_A" 4799
	send_ping "$FM_NS_A" "$FM_B4" 2 56
	wait_for_line 20 "$FM_LOG" '^info: collector Udp/127\.0\.0\.1:4799: taking messages again$' \
		"$FM_PID" || fail "the collector never counted as back: $(tail -n 3 "$FM_LOG")"
	fm_cmd "$FM_NS_A" status "$FM_IF_A" >"$st"
	grep -qx 'collector Udp/127.0.0.1:4799:' "$st" || fail "status after it came back: $(cat "$st")"
}

# The table full: 1500 new flows of one packet into 1024 entries, after the first poll. The
# kernel's table-full event has the least recently seen flows end at once (the table under 80 %:
# 205 of them each time), so only the packets of the instants the table was full go unmetered;
# the next poll says how many, as status does.
test_trouble_table_full() {
	require_flowmeta
	require_cmd socat
	topo_overlay tun
	views_config '{"PollInterval": 5000, "IdleTimeout": 600000, "MaxFlows": 1024}'
	fm_start "$FM_NS_A" "$FM_IF_A" -c "$VIEWS_CONF"
	fm_wait_metering
	wait_until 15 views_polls_at_least 1 || fail "no first poll"
	send_udp_flows "$FM_NS_A" "$FM_NS_B" "$FM_B4" 5001 20000 1500 1 10
	# Relieved as soon as the kernel says the table is full (not at the next poll: 5 s), then
	# the poll says how many packets found it full meanwhile. Every relief reads the same.
	wait_for_line 15 "$FM_LOG" '^warning: flow table full: ' "$FM_PID" ||
		fail "no table-full warning: $(cat "$FM_LOG")"
	local relief='warning: flow table holds 1024 of 1024 entries: ended the 205 least recently seen flows (flowEndReason 5)'
	assert_eq "$(grep '^warning: flow table holds' "$FM_LOG" | sort -u)" "$relief" "relief warnings"
	local full
	full=$(grep '^warning: flow table full: ' "$FM_LOG")
	[[ $full =~ ^"warning: flow table full: "([0-9]+)" packets of new flows not metered since the last poll (reported as ignoredPacketTotalCount)"$ ]] ||
		fail "table-full warning: $full"
	assert_eq "$(fm_status "$FM_NS_A" "$FM_IF_A" table_full_packets)" "${BASH_REMATCH[1]}" \
		"status table_full_packets against the warning"
}

views_polls_at_least() {	# N
	[ "$(fm_status "$FM_NS_A" "$FM_IF_A" exporter | "$FM_PY" "$FM_TOOLS/jsonq.py" - \
		'd["polls"]')" -ge "$1" ]
}

# A bad configuration on SIGHUP: one warning, the daemon goes on with the configuration it had.
test_trouble_bad_reload() {
	require_flowmeta
	require_cmd socat ping
	topo_overlay tun
	views_config '{"PollInterval": 1000}'
	fm_start "$FM_NS_A" "$FM_IF_A" -c "$VIEWS_CONF"
	fm_wait_metering
	views_config '{"Interval": 1500}'
	kill -HUP "$FM_PID"
	wait_for_line 10 "$FM_LOG" '^warning: reload: ' "$FM_PID" || fail "no reload warning: $(cat "$FM_LOG")"
	assert_eq "$(grep '^warning: reload: ' "$FM_LOG")" \
		"warning: reload: FlowMetadata.Interval: 1500 is not a multiple of PollInterval (60000); use 0 or a multiple; keeping the current configuration" \
		"reload warning"
	send_ping "$FM_NS_A" "$FM_B4" 2 56
	assert_eq "$(fm_status "$FM_NS_A" "$FM_IF_A" running)" true "running after a bad reload"
}

# A bad configuration: `check` and `run` both exit 2 with the same one line, nothing attached.
# @CONF@ in WANT stands for the file's path.
test_trouble_bad_config() {	# JSON WANT
	require_flowmeta
	require_cmd socat
	topo_overlay tun
	VIEWS_CONF=$FM_LOG_DIR/flowmeta.json
	printf '%s\n' "$1" >"$VIEWS_CONF"
	local rc=0 out=$FM_LOG_DIR/check.txt
	"$FM_BIN" check -c "$VIEWS_CONF" >"$out" 2>&1 || rc=$?
	assert_eq "$rc" 2 "exit status of check"
	assert_eq "$(cat "$out")" "${2//@CONF@/$VIEWS_CONF}" "check"
	# shellcheck disable=SC2016 # the snippet's variables are the wrapping shell's
	views_run_wrapped 'exec nsenter --net="/run/netns/$NS" -- "$@"' \
		--pin-dir "$(fm_pin_dir "$FM_IF_A")"
	assert_eq "$VIEWS_RC" 2 "exit status of run"
	assert_eq "$(cat "$VIEWS_ERR")" "${2//@CONF@/$VIEWS_CONF}" "run"
	views_nothing_attached
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
run_test views_top_terminal_rates_counters_q_restores test_top_screen
run_test views_top_ctrl_c_restores_terminal test_top_stops C-c
run_test views_top_sigterm_restores_terminal test_top_stops TERM
run_test views_top_ctrl_z_gives_terminal_back test_top_suspend
run_test views_top_resize_redraws_to_fit test_top_resize
run_test views_top_once_plain_snapshot test_top_once_plain
run_test views_top_drops_and_verdicts test_top_drops
run_test views_top_plain_snapshots_without_daemon_and_pins test_top_plain_snapshots
run_test views_top_nothing_pinned_exit_1 test_top_nothing_pinned
run_test views_top_interval_too_short_exit_2 test_flows_bad_value \
	'error: --interval: "0.05" is not a number of seconds from 0.1 to 3600' top -i lo --interval 0.05
run_test views_top_interval_negative_exit_2 test_flows_bad_value \
	'error: --interval: "-1" is not a number of seconds from 0.1 to 3600' top -i lo --interval -1
run_test views_top_interval_exponent_exit_2 test_flows_bad_value \
	'error: --interval: "1e3" is not a number of seconds from 0.1 to 3600' top -i lo --interval 1e3
run_test views_top_interval_too_long_exit_2 test_flows_bad_value \
	'error: --interval: "3601" is not a number of seconds from 0.1 to 3600' top -i lo --interval 3601
run_test views_is_it_working_first_minute test_is_it_working
run_test views_trouble_no_btf_says_so test_trouble_no_btf
run_test views_trouble_no_bpffs_says_how test_trouble_no_bpffs
run_test views_trouble_not_root_says_so test_trouble_not_root
run_test views_trouble_collector_unreachable_warns_once test_trouble_collector_unreachable
run_test views_trouble_table_full_warns test_trouble_table_full
run_test views_trouble_bad_config_interval test_trouble_bad_config \
	'{"FlowMetadata": {"Interval": 90000}}' \
	'error: FlowMetadata.Interval: 90000 is not a multiple of PollInterval (60000); use 0 or a multiple'
run_test views_trouble_bad_config_misspelt_key test_trouble_bad_config \
	'{"FlowMetadata": {"PolInterval": 1000}}' \
	'error: FlowMetadata.PolInterval: unknown key; did you mean PollInterval?'
run_test views_trouble_bad_config_json_syntax test_trouble_bad_config \
	'{"FlowMetadata": {"IpFixCollectors": ["Udp/127.0.0.1:4739",]}}' \
	'error: @CONF@:1:59: JSON syntax error: trailing comma before a closing bracket'
run_test views_trouble_bad_config_on_reload_keeps_the_old test_trouble_bad_reload
run_test views_flows_once_exit_2 test_flows_bad_value \
	'error: flows: --interval and --once are options of top' flows -i lo --once
run_test views_status_sort_exit_2 test_flows_bad_value \
	'error: status: --sort is an option of flows' status -i lo --sort packets
run_test views_status_top_exit_2 test_flows_bad_value \
	'error: status: --top is an option of flows and top' status -i lo --top 3
run_test views_top_sort_exit_2 test_flows_bad_value \
	'error: top: --sort is an option of flows' top -i lo --sort packets
finish_tests
