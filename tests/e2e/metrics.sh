#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# End-to-end tests of the Prometheus metrics (MetricsListen, --metrics-listen; README "Metrics"):
# a real Prometheus server scraping flowmeta every second under known traffic, whose stored
# values must equal `flowmeta status --json` exactly once the daemon is quiescent, and which
# evaluates the shipped example alert rules; then curl and raw sockets against the endpoint: 404,
# 405 and 400 answers, oversize requests, the connection limits and the idle timeout (metering and
# export going on meanwhile), binding only where told (a non-local address, a port in use, bad
# syntax), and SIGHUP moving, refusing and removing the listener.
source "$(dirname "$0")/../lib_metrics.sh"

PORT_LIVE=4790	# a collector that takes everything (socat), inside node A
PORT_DEAD=4799	# nothing listens: ICMP port unreachable
ALLOWED_UDP=5001
ALLOWED_TCP=5002
DENIED_UDP=6000

# The veth overlay with flowmeta on node A; CONF is its configuration file.
mt_setup() {
	require_flowmeta
	topo_overlay veth
	CONF=$FM_LOG_DIR/flowmeta.json
}

mt_sink_start() {	# PORT
	bg_start "$FM_LOG_DIR/sink-$1.log" "$FM_NS_A" socat -u "UDP4-RECV:$1,bind=127.0.0.1" \
		OPEN:/dev/null
	wait_until 10 udp_bound "$FM_NS_A" "$1" || fail "collector sink did not bind port $1"
}

mt_status_field() {	# KEY
	fm_status "$FM_NS_A" "$FM_IF_A" "$1"
}

# COUNT frames of KIND (metrics_tool.py frames) on the overlay: from node A to node B, or (B) from
# node B to A's ingress, where a frame the policy drops does not fail the sender's send().
mt_frames() {	# KIND COUNT [B]
	if [ "${3:-}" = B ]; then
		ns_run "$FM_NS_B" "$FM_PY" "$MT_TOOL" frames "$FM_IF_B" "$FM_MAC_B" "$FM_MAC_A" "$1" \
			"$2" >/dev/null
	else
		ns_run "$FM_NS_A" "$FM_PY" "$MT_TOOL" frames "$FM_IF_A" "$FM_MAC_A" "$FM_MAC_B" "$1" \
			"$2" >/dev/null
	fi
}

mt_exporter_field() {	# KEY
	fm_cmd "$FM_NS_A" status "$FM_IF_A" --json |
		"$FM_PY" "$FM_TOOLS/jsonq.py" - 'd["exporter"][a[0]]' "$1"
}

mt_table_empty() {
	[ "$(mt_status_field flows)" = 0 ]
}

# ------------------------------------------------------------------------------------------------
# Prometheus

# Read `status --json`, wait for a Prometheus sample taken after it, query every flowmeta series,
# read the status again: when both reads agree (nothing was published in between) the series must
# be exactly the status. Leaves the status in STATUS_JSON.
mt_compare_quiescent() {
	local s1=$FM_LOG_DIR/status-1.json s2=$FM_LOG_DIR/status-2.json q=$FM_LOG_DIR/query.json
	local try t out
	for try in 1 2 3 4 5; do
		fm_cmd "$FM_NS_A" status "$FM_IF_A" --json >"$s1"
		t=$(fm_now_us)
		wait_until 20 mt_prom_sampled_after "$t" ||
			fail "prometheus took no sample of flowmeta"
		mt_prom_query '{__name__=~"flowmeta_.+"}' "$q"
		fm_cmd "$FM_NS_A" status "$FM_IF_A" --json >"$s2"
		if cmp -s "$s1" "$s2"; then
			out=$("$FM_PY" "$MT_TOOL" compare "$s1" "$q" "$FM_IF_A" "$MT_VERSION") ||
				fail "prometheus differs from status --json:" \
					"$(echo "$out" | head -n 6 | tr '\n' ';')"
			log "prometheus = status --json: $out"
			STATUS_JSON=$s1
			return 0
		fi
		log "try $try: the status changed meanwhile: $(diff "$s1" "$s2" | tr '\n' ' ')"
	done
	fail "the daemon never stayed quiescent for one scrape"
}

mt_alerts_are() {	# EXPECTED
	[ "$(mt_prom_alerts)" = "$1" ]
}

# Known traffic in two phases. First, with PollInterval 1000: pings (some fragmented), UDP and a
# TCP transfer that a rule allows, UDP the policy drops, frames that are not IP or carry a broken
# IP header; every flow ends and is exported to a live and a dead collector. Then a reload to
# PollInterval of a day (no more polls: the daemon goes quiet) and traffic that stays in the table.
test_prometheus_scrape_equals_status() {
	mt_setup
	require_prometheus
	local rules='"AccessControl": {"Enabled": true, "Rules": [
		{"Peers": ["any"], "Protocol": "Icmp"},
		{"Peers": ["any"], "Protocol": "Udp", "Ports": "'$ALLOWED_UDP'"},
		{"Peers": ["any"], "Protocol": "Tcp", "Ports": "'$ALLOWED_TCP'"}]}'
	local collectors listen="\"MetricsListen\": \"127.0.0.1:$MT_PORT\""
	collectors="\"IpFixCollectors\": [\"$(coll_dest $PORT_LIVE)\", \"$(coll_dest $PORT_DEAD)\"]"
	mt_sink_start "$PORT_LIVE"
	mt_config "$CONF" '"PollInterval": 1000' '"IdleTimeout": 1000' "$collectors" "$listen" \
		"$rules"
	fm_start "$FM_NS_A" "$FM_IF_A" -c "$CONF"
	fm_wait_metering
	mt_prom_start "$FM_NS_A"
	wait_until 30 mt_prom_up ||
		fail "prometheus never scraped flowmeta: $(tail -n 3 "$MT_PROM_DIR/prometheus.log")"

	send_ping "$FM_NS_A" "$FM_B4" 5 56
	send_ping "$FM_NS_A" "$FM_B4" 3 2000	# two fragments each way at MTU 1500
	send_udp "$FM_NS_A" "$FM_NS_B" "$FM_B4" "$ALLOWED_UDP" 4001 7 100
	send_tcp "$FM_NS_A" "$FM_NS_B" "$FM_B4" "$ALLOWED_TCP" 4002 5000
	ns_run "$FM_NS_A" "$FM_PY" "$FM_TOOLS/traffic.py" udp-send "$FM_B4" "$DENIED_UDP" 4003 \
		4 10 >/dev/null
	mt_frames nonip 3
	# Under the policy, frames with a broken IP header are dropped (fail closed): sent by B.
	mt_frames malformed 5 B
	wait_until 30 mt_table_empty || fail "the flows never ended: $(mt_status_field flows) left"

	mt_config "$CONF" '"PollInterval": 86400000' '"IdleTimeout": 86400000' \
		'"TemplateRefresh": 86400000' "$collectors" "$listen" "$rules"
	mt_reload 1
	grep -q 'reloaded the configuration' "$FM_LOG" || fail "the reload was refused"
	send_udp "$FM_NS_A" "$FM_NS_B" "$FM_B4" "$ALLOWED_UDP" 4004 9 200
	local live_octets=$SENT_OCTETS
	send_ping "$FM_NS_A" "$FM_B4" 2 56
	live_octets=$((live_octets + 2 * SENT_OCTETS))

	mt_compare_quiescent
	# The known traffic, as Prometheus holds it (the comparison made it equal to the status).
	assert_eq "$(mt_prom_scalar flowmeta_live_flows)" 3 "flowmeta_live_flows"
	assert_eq "$(mt_prom_scalar flowmeta_live_packets)" 13 "flowmeta_live_packets"
	assert_eq "$(mt_prom_scalar flowmeta_live_bytes)" "$live_octets" "flowmeta_live_bytes"
	# The table-fill ratio of the example rules matches across the table label.
	local capacity ratio
	capacity=$("$FM_PY" "$FM_TOOLS/jsonq.py" "$STATUS_JSON" 'd["tables"]["flows"]["capacity"]')
	ratio=$(mt_prom_scalar \
		'flowmeta_live_flows / ignoring(table) flowmeta_table_capacity{table="flows"}')
	mt_true 'float(a[0]) == 3 / int(a[1])' "${ratio:-x}" "$capacity" ||
		fail "table fill ratio $ratio, want 3/$capacity"
	assert_eq "$(mt_prom_scalar 'flowmeta_not_metered_packets_total{reason="not_ip"}')" 3 \
		"not-IP frames"
	assert_eq "$(mt_prom_scalar 'flowmeta_not_metered_packets_total{reason="malformed"}')" 5 \
		"frames with a broken IP header"
	assert_eq "$(mt_prom_scalar flowmeta_fail_closed_packets_total)" 5 \
		"malformed frames dropped under the policy"
	assert_eq "$(mt_prom_scalar flowmeta_policy_dropped_packets_total)" $((4 + 5)) \
		"denied datagrams and the malformed frames"
	assert_eq "$(mt_prom_scalar flowmeta_fragments_total)" 12 "fragments"
	assert_eq "$(mt_prom_collector flowmeta_collector_down $PORT_DEAD)" 1 "dead collector down"
	assert_eq "$(mt_prom_collector flowmeta_collector_down $PORT_LIVE)" 0 "live collector down"
	local records
	records=$("$FM_PY" "$FM_TOOLS/jsonq.py" "$STATUS_JSON" 'd["exporter"]["flow_records"]')
	assert_ge "$records" 6 "flow records of phase one (pings, UDP, TCP both ways, the drop)"
	assert_eq "$(mt_prom_collector flowmeta_collector_flow_records_total $PORT_LIVE)" \
		"$records" "flow records the live collector got"

	# The example rules: the dead collector pending its 5 minutes, the drops firing at once.
	local want
	want="FlowmetaCollectorDown pending collector=$(coll_dest $PORT_DEAD)
FlowmetaPolicyDrops firing"
	wait_until 20 mt_alerts_are "$want" ||
		fail "alerts: $(mt_prom_alerts | tr '\n' ';'), want $(echo "$want" | tr '\n' ';')"
}

# The README shows the example rules as they are in packaging/flowmeta-alerts.yml, and they are
# valid for promtool.
test_example_rules_match_readme() {
	require_cmd promtool
	promtool check rules "$MT_RULES" >&2 || fail "promtool rejects $MT_RULES"
	local line n=0
	while IFS= read -r line; do
		case $line in '#'* | '') continue ;; esac
		grep -qxF -- "$line" "$FM_TOP/README.md" ||
			fail "README lacks the rules line: $line"
		n=$((n + 1))
	done <"$MT_RULES"
	assert_ge "$n" 30 "rules lines compared"
}

# ------------------------------------------------------------------------------------------------
# HTTP

mt_start_serving() {
	mt_setup
	require_cmd curl
	mt_config "$CONF" '"PollInterval": 1000'
	fm_start "$FM_NS_A" "$FM_IF_A" -c "$CONF" --metrics-listen "127.0.0.1:$MT_PORT"
}

# Only GET /metrics is served: other paths 404, other methods 405 with Allow: GET, a GET with a
# body 400; the scrape has the exposition format's content type and passes promtool's lint, and
# a second request reuses the connection.
test_http_answers() {
	mt_start_serving
	require_cmd promtool
	local base=http://127.0.0.1:$MT_PORT path method
	local body=$FM_LOG_DIR/body scrape=$FM_LOG_DIR/scrape
	for path in / /metric /metrics/ /metricsx /favicon.ico /api/v1/query; do
		assert_eq "$(mt_http_code "$FM_NS_A" "$base$path")" 404 "GET $path"
	done
	mt_curl "$FM_NS_A" -o "$body" "$base/" || true
	assert_eq "$(cat "$body")" "404 Not Found: try /metrics" "404 body"
	for method in POST PUT DELETE PATCH OPTIONS BREW; do
		assert_eq "$(mt_http_code "$FM_NS_A" -X "$method" "$(mt_url)")" 405 \
			"$method /metrics"
	done
	mt_curl "$FM_NS_A" -I -o /dev/null -D "$body" "$(mt_url)" || true
	grep -q '^HTTP/1.1 405 ' "$body" || fail "HEAD /metrics: $(head -n 1 "$body")"
	grep -qi '^Allow: GET' "$body" || fail "405 without Allow: GET: $(tr '\r\n' '  ' <"$body")"
	assert_eq "$(mt_http_code "$FM_NS_A" -X GET --data-binary x=1 "$(mt_url)")" 400 \
		"GET /metrics with a body"

	mt_scrape "$FM_NS_A" "$scrape"
	grep -qix 'Content-Type: text/plain; version=0.0.4; charset=utf-8'$'\r' "$scrape.headers" ||
		fail "content type: $(grep -i content-type "$scrape.headers")"
	promtool check metrics <"$scrape" >&2 || fail "promtool check metrics rejects the scrape"
	grep -qx '# TYPE flowmeta_polls_total counter' "$scrape" || fail "no TYPE line for polls"
	grep -qx "flowmeta_build_info{version=\"$MT_VERSION\"} 1" "$scrape" ||
		fail "no build info with the version"
	mt_curl "$FM_NS_A" -v -o /dev/null -o /dev/null "$(mt_url)" "$(mt_url)" 2>"$body"
	assert_eq "$(grep -c '^< HTTP/1.1 200' "$body")" 2 "answers on one connection"
	grep -q 'Re-using existing connection' "$body" || fail "the connection was not kept open"
	assert_eq "$(mt_http_code "$FM_NS_A" -0 "$(mt_url)")" 200 "HTTP/1.0 GET"
}

# The request line and headers are bounded (METRICS_REQUEST_MEMORY): 8 KiB of headers pass,
# 20 KiB get 431, a 20 KiB URL 414, and the server goes on serving.
test_oversize_requests() {
	mt_start_serving
	local big
	big=$(head -c 8192 /dev/zero | tr '\0' a)
	assert_eq "$(mt_http_code "$FM_NS_A" -H "X-Filler: $big" "$(mt_url)")" 200 "8 KiB header"
	big=$(head -c 20000 /dev/zero | tr '\0' a)
	assert_eq "$(mt_http_code "$FM_NS_A" -H "X-Filler: $big" "$(mt_url)")" 431 "20 KiB header"
	assert_eq "$(mt_http_code "$FM_NS_A" "$(mt_url)?$big")" 414 "20 KiB URL"
	local many=() i
	for i in $(seq 1 600); do
		many+=(-H "X-Filler-$i: 0123456789abcdef")
	done
	assert_eq "$(mt_http_code "$FM_NS_A" "${many[@]}" "$(mt_url)")" 431 "600 headers"
	assert_eq "$(mt_http_code "$FM_NS_A" "$(mt_url)")" 200 "a scrape after the oversize ones"
	pid_alive "$FM_PID" || fail "flowmeta died"
}

mt_probe() {	# SRC TIMEOUT
	ns_run "$FM_NS_A" "$FM_PY" "$MT_TOOL" probe 127.0.0.1 "$MT_PORT" "$1" "$2"
}

mt_hold() {	# SRC COUNT -> HOLD_LOG, HOLD_PID
	# A log of its own: waiting for "held" in the file of an earlier hold would not wait.
	MT_HOLDS=$((${MT_HOLDS:-0} + 1))
	HOLD_LOG=$FM_LOG_DIR/hold-$MT_HOLDS-$1.log
	bg_start "$HOLD_LOG" "$FM_NS_A" "$FM_PY" "$MT_TOOL" hold 127.0.0.1 "$MT_PORT" "$1" "$2"
	HOLD_PID=$BG_PID
	wait_for_line 10 "$HOLD_LOG" "^held $2\$" "$HOLD_PID" ||
		fail "hold from $1: $(cat "$HOLD_LOG")"
}

# At most METRICS_MAX_PER_IP (4) connections per client address: a 5th is closed at once while
# another address is served; at most METRICS_MAX_CONNECTIONS (16) in all: a 17th waits, unanswered,
# in the listen queue; an idle connection is closed after METRICS_TIMEOUT_S (10 s), and the waiting
# one is served then. Meanwhile the daemon polls on, and it stops at once with connections open.
test_connection_limits() {
	mt_start_serving
	local polls pid src holds=()
	mt_hold 127.0.0.1 4
	holds+=("$HOLD_PID $HOLD_LOG")
	assert_eq "$(mt_probe 127.0.0.1 5 | cut -d' ' -f1)" closed "a 5th connection from 127.0.0.1"
	assert_eq "$(mt_probe 127.0.0.2 5 | cut -d' ' -f1-2)" "status 200" "a 1st from 127.0.0.2"
	for src in 127.0.0.2 127.0.0.3 127.0.0.4; do
		mt_hold "$src" 4
		holds+=("$HOLD_PID $HOLD_LOG")
	done
	polls=$(mt_exporter_field polls)
	assert_eq "$(mt_probe 127.0.0.5 2)" timeout "a 17th connection while 16 are open"
	local entry min max
	for entry in "${holds[@]}"; do
		read -r pid HOLD_LOG <<<"$entry"
		bg_wait "$pid" || fail "hold: $(cat "$HOLD_LOG")"
		read -r _ min max < <(grep '^closed ' "$HOLD_LOG")
		mt_true '8.5 <= float(a[0]) and float(a[1]) <= 20' "$min" "$max" ||
			fail "idle connections closed after $min..$max s, want about 10"
	done
	assert_eq "$(mt_probe 127.0.0.5 5 | cut -d' ' -f1-2)" "status 200" "one once they closed"
	assert_ge "$(mt_exporter_field polls)" $((polls + 5)) \
		"polls while every connection was taken (PollInterval 1 s)"
	# SIGTERM with connections open: the server's thread must not hold the stop up.
	mt_hold 127.0.0.1 4
	local t0=$SECONDS
	fm_stop "$FM_PID"
	assert_eq "$FM_EXIT" 0 "exit status of the stop"
	[ $((SECONDS - t0)) -lt 5 ] ||
		fail "the stop took $((SECONDS - t0)) s with connections open"
	bg_wait "$HOLD_PID" || fail "hold: $(cat "$HOLD_LOG")"
}

# ------------------------------------------------------------------------------------------------
# Where it listens

# Not started: no program attached, nothing pinned.
mt_assert_nothing_attached() {	# WHAT
	local left
	left=$(attached_progs "$FM_NS_A" "$FM_IF_A")
	[ -z "$left" ] || fail "$1: attached: $(echo "$left" | tr '\n' ';')"
	[ ! -e "$(fm_pin_dir "$FM_IF_A")" ] || fail "$1: $(fm_pin_dir "$FM_IF_A") exists"
}

mt_run_fails() {	# RC STDERR WHAT RUN ARGS...
	local rc=$1 want=$2 what=$3
	shift 3
	fm_register_attach "$FM_NS_A" "$FM_IF_A"
	mt_run "$FM_NS_A" run -i "$FM_IF_A" --pin-dir "$(fm_pin_dir "$FM_IF_A")" -c "$CONF" "$@"
	assert_eq "$MT_RC" "$rc" "$what: exit status"
	assert_eq "$(cat "$MT_ERR")" "$want" "$what: stderr"
	mt_assert_nothing_attached "$what"
}

# A non-local address and a port in use fail the start (exit 1) with one clear line and nothing
# attached; bad syntax, on the command line or in the file, is a configuration error (exit 2).
test_bind_errors() {
	mt_setup
	mt_config "$CONF" '"PollInterval": 1000'
	local bind='error: metrics: bind' not_here='Cannot assign requested address'
	local form='expected ADDRESS:PORT or [IPv6]:PORT'
	mt_run_fails 1 "$bind 100.64.0.99:9739: $not_here (not an address of this host)" \
		"non-local IPv4 address" --metrics-listen 100.64.0.99:9739
	mt_run_fails 1 "$bind [fd00:64::99]:9739: $not_here (not an address of this host)" \
		"non-local IPv6 address" --metrics-listen '[fd00:64::99]:9739'
	mt_squat "$FM_NS_A" 127.0.0.1 "$MT_PORT"
	local in_use='Address already in use (another socket listens there)'
	mt_run_fails 1 "$bind 127.0.0.1:9739: $in_use" "port in use" --metrics-listen "127.0.0.1:$MT_PORT"
	mt_run_fails 2 "error: --metrics-listen: \"127.0.0.1\": no \":PORT\"; $form" \
		"no port" --metrics-listen 127.0.0.1
	local why='not an IPv4 address (names are not resolved)'
	mt_run_fails 2 "error: --metrics-listen: \"localhost:9739\": $why; $form" \
		"a host name" --metrics-listen localhost:9739
	mt_config "$CONF" '"MetricsListen": "::1:9739"'
	why='an IPv6 address needs brackets'
	mt_run_fails 2 "error: FlowMetadata.MetricsListen: \"::1:9739\": $why; $form" \
		"no brackets in the file"
	mt_run "$FM_NS_A" check -c "$CONF"
	assert_eq "$MT_RC" 2 "check of the bad file: exit status"
	mt_config "$CONF" '"MetricsListen": "127.0.0.1:9740"'
	mt_run "$FM_NS_A" check -c "$CONF" --metrics-listen '[::1]:9741'
	assert_eq "$MT_RC" 0 "check of a good file: exit status"
	grep -qx 'MetricsListen: \[::1\]:9741' "$MT_OUT" || fail "check: $(grep Metrics "$MT_OUT")"
}

# Bound to 127.0.0.1 it answers there and nowhere else (not 127.0.0.2, not ::1); bound to [::] it
# is IPv6 only; without MetricsListen nothing listens.
test_binds_only_where_told() {
	mt_start_serving
	assert_eq "$(mt_listening "$FM_NS_A" "$FM_PID")" "127.0.0.1:$MT_PORT" "listening sockets"
	assert_eq "$(mt_http_code "$FM_NS_A" "$(mt_url 127.0.0.1:$MT_PORT)")" 200 "127.0.0.1"
	assert_eq "$(mt_http_code "$FM_NS_A" "$(mt_url 127.0.0.2:$MT_PORT)")" 000 "127.0.0.2"
	assert_eq "$(mt_http_code "$FM_NS_A" "$(mt_url "[::1]:$MT_PORT")")" 000 "::1"
	fm_stop "$FM_PID"
	fm_start "$FM_NS_A" "$FM_IF_A" -c "$CONF" --metrics-listen "[::]:$MT_PORT"
	assert_eq "$(mt_listening "$FM_NS_A" "$FM_PID")" "[::]:$MT_PORT" "listening sockets on [::]"
	assert_eq "$(mt_http_code "$FM_NS_A" "$(mt_url "[::1]:$MT_PORT")")" 200 "::1 on [::]"
	assert_eq "$(mt_http_code "$FM_NS_A" "$(mt_url "[$FM_A6]:$MT_PORT")")" 200 "$FM_A6 on [::]"
	assert_eq "$(mt_http_code "$FM_NS_A" "$(mt_url 127.0.0.1:$MT_PORT)")" 000 \
		"127.0.0.1 on [::]"
	fm_stop "$FM_PID"
	fm_start "$FM_NS_A" "$FM_IF_A" -c "$CONF"
	assert_eq "$(mt_listening "$FM_NS_A" "$FM_PID")" "" "listening sockets, no MetricsListen"
}

# SIGHUP with a new MetricsListen binds it, then lets the old one go; one that cannot be bound
# keeps the whole configuration; removing the key stops serving; --metrics-listen wins over the
# file, also across reloads.
test_reload_rebinds() {
	mt_setup
	require_cmd curl
	local p1=9741 p2=9742 p3=9743 p4=9744
	mt_config "$CONF" '"PollInterval": 1000' "\"MetricsListen\": \"127.0.0.1:$p1\""
	fm_start "$FM_NS_A" "$FM_IF_A" -c "$CONF"
	assert_eq "$(mt_http_code "$FM_NS_A" "$(mt_url 127.0.0.1:$p1)")" 200 "first address"

	mt_config "$CONF" '"PollInterval": 1000' "\"MetricsListen\": \"127.0.0.1:$p2\""
	mt_reload 1
	assert_eq "$(mt_http_code "$FM_NS_A" "$(mt_url 127.0.0.1:$p2)")" 200 "new address"
	assert_eq "$(mt_http_code "$FM_NS_A" "$(mt_url 127.0.0.1:$p1)")" 000 "old address"
	grep -q "info: metrics: no longer serving 127.0.0.1:$p1" "$FM_LOG" ||
		fail "no log of the move"

	mt_squat "$FM_NS_A" 127.0.0.1 "$p3"
	mt_config "$CONF" '"PollInterval": 2000' "\"MetricsListen\": \"127.0.0.1:$p3\""
	mt_reload 2
	grep -q "error: metrics: bind 127.0.0.1:$p3: Address already in use" "$FM_LOG" ||
		fail "no log of the refused bind: $(tail -n 3 "$FM_LOG" | tr '\n' ' ')"
	assert_eq "$(grep -c 'reload: keeping the current config' "$FM_LOG")" 1 "refused reloads"
	assert_eq "$(grep -c 'reloaded the configuration' "$FM_LOG")" 1 "applied reloads"
	assert_eq "$(mt_http_code "$FM_NS_A" "$(mt_url 127.0.0.1:$p2)")" 200 "kept address"

	mt_config "$CONF" '"PollInterval": 1000'
	mt_reload 3
	assert_eq "$(mt_listening "$FM_NS_A" "$FM_PID")" "" "listening sockets without the key"
	grep -q "info: metrics: no longer serving 127.0.0.1:$p2" "$FM_LOG" ||
		fail "no log of the stop"
	mt_config "$CONF" '"PollInterval": 1000' "\"MetricsListen\": \"[::1]:$p2\""
	mt_reload 4
	assert_eq "$(mt_http_code "$FM_NS_A" "$(mt_url "[::1]:$p2")")" 200 "back on ::1"
	fm_stop "$FM_PID"
	assert_eq "$FM_EXIT" 0 "exit status"

	fm_start "$FM_NS_A" "$FM_IF_A" -c "$CONF" --metrics-listen "127.0.0.1:$p4"
	assert_eq "$(mt_listening "$FM_NS_A" "$FM_PID")" "127.0.0.1:$p4" "the flag over the file"
	mt_config "$CONF" '"PollInterval": 1000' "\"MetricsListen\": \"127.0.0.1:$p1\""
	mt_reload 1
	assert_eq "$(mt_listening "$FM_NS_A" "$FM_PID")" "127.0.0.1:$p4" "the flag after SIGHUP"
	assert_eq "$(mt_http_code "$FM_NS_A" "$(mt_url 127.0.0.1:$p4)")" 200 "the flag's address"
}

run_test metrics_prometheus_scrape_equals_status_and_alerts test_prometheus_scrape_equals_status
run_test metrics_example_rules_valid_and_in_readme test_example_rules_match_readme
run_test metrics_http_404_405_400_and_format test_http_answers
run_test metrics_oversize_requests_refused test_oversize_requests
run_test metrics_connection_limits_and_idle_timeout test_connection_limits
run_test metrics_bind_errors_exit_1_syntax_exit_2 test_bind_errors
run_test metrics_binds_only_where_told test_binds_only_where_told
run_test metrics_sighup_rebinds_or_keeps test_reload_rebinds
finish_tests
