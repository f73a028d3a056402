# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Helpers of the Prometheus metrics tests (tests/e2e/metrics.sh), on top of tests/lib.sh: a real
# Prometheus server (Debian's prometheus) on loopback inside a test namespace, with its own
# configuration, storage directory and rule file, scraping flowmeta every second; queries of its
# HTTP API; curl against flowmeta's endpoint; the connection probes of tests/tools/metrics_tool.py.
#
# Names: namespaces fmP<pid><letter> (this suite's prefix); inside them flowmeta serves metrics on
# 127.0.0.1:9739 (MT_PORT) and Prometheus listens on 127.0.0.1:9090 (MT_PROM_PORT).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FM_NS_PREFIX=fmP
MT_PORT=9739
MT_PROM_PORT=9090
MT_TOOL=$FM_TOOLS/metrics_tool.py
MT_RULES=$FM_TOP/packaging/flowmeta-alerts.yml
MT_VERSION=$(cat "$FM_TOP/VERSION")

require_prometheus() {
	require_cmd prometheus promtool curl
}

# curl in NS: quiet, no proxy from the environment, bounded in time.
mt_curl() {	# NS CURL ARGS...
	local ns=$1
	shift
	ns_run "$ns" curl --noproxy '*' -sS --max-time 10 "$@"
}

# The HTTP status code of one request (000 when no answer came).
mt_http_code() {	# NS CURL ARGS...
	local ns=$1
	shift
	mt_curl "$ns" -o /dev/null -w '%{http_code}' "$@" || true
}

mt_url() {	# [ADDR:PORT]
	echo "http://${1:-127.0.0.1:$MT_PORT}/metrics"
}

# A scrape of flowmeta into FILE (headers in FILE.headers); fails unless it is a 200.
mt_scrape() {	# NS FILE [ADDR:PORT]
	local code
	code=$(mt_curl "$1" -D "$2.headers" -o "$2" -w '%{http_code}' "$(mt_url "${3:-}")") ||
		fail "scrape of $(mt_url "${3:-}") failed"
	assert_eq "$code" 200 "HTTP status of GET $(mt_url "${3:-}")"
}

# The Python expression EXPR over the strings a[0], a[1], ... is true (float comparisons).
mt_true() {	# EXPR ARGS...
	"$FM_PY" -c 'import sys; a = sys.argv[2:]; sys.exit(not eval(sys.argv[1]))' "$@"
}

# ------------------------------------------------------------------------------------------------
# Prometheus

# Start Prometheus in NS scraping flowmeta at 127.0.0.1:MT_PORT every second and evaluating the
# shipped example rules every second; ready once /-/ready answers 200.
mt_prom_start() {	# NS
	local ns=$1 dir=$FM_LOG_DIR/prometheus
	MT_PROM_DIR=$dir
	mkdir -p "$dir/data"
	cp "$MT_RULES" "$dir/rules.yml"
	cat >"$dir/prometheus.yml" <<-EOF
		global:
		  scrape_interval: 1s
		  scrape_timeout: 1s
		  evaluation_interval: 1s
		rule_files:
		  - $dir/rules.yml
		scrape_configs:
		  - job_name: flowmeta
		    static_configs:
		      - targets: ['127.0.0.1:$MT_PORT']
	EOF
	bg_start "$dir/prometheus.log" "$ns" prometheus --config.file="$dir/prometheus.yml" \
		--storage.tsdb.path="$dir/data" --web.listen-address="127.0.0.1:$MT_PROM_PORT"
	MT_PROM_PID=$BG_PID
	MT_PROM_NS=$ns
	wait_alive 60 "$MT_PROM_PID" mt_prom_ready ||
		fail "prometheus did not become ready: $(tail -n 3 "$dir/prometheus.log")"
}

mt_prom_ready() {
	[ "$(mt_http_code "$MT_PROM_NS" "http://127.0.0.1:$MT_PROM_PORT/-/ready")" = 200 ]
}

# Prometheus's HTTP API answer to the instant QUERY into FILE.
mt_prom_query() {	# QUERY FILE
	mt_curl "$MT_PROM_NS" -o "$2" "http://127.0.0.1:$MT_PROM_PORT/api/v1/query" \
		--data-urlencode "query=$1" || fail "prometheus query $1 failed"
}

# The value of a query whose answer is one series ("" when it has none).
mt_prom_scalar() {	# QUERY
	local f=$FM_LOG_DIR/prom-scalar.json
	mt_prom_query "$1" "$f"
	"$FM_PY" "$FM_TOOLS/jsonq.py" "$f" '[r["value"][1] for r in d["data"]["result"]]'
}

# Prometheus scraped flowmeta successfully (its own up series is 1).
mt_prom_up() {
	[ "$(mt_prom_scalar 'up{job="flowmeta"}')" = 1 ]
}

# Prometheus holds a sample of flowmeta taken at or after epoch microseconds US.
mt_prom_sampled_after() {	# US
	local ts
	ts=$(mt_prom_scalar 'timestamp(flowmeta_build_info)')
	[ -n "$ts" ] && mt_true 'float(a[0]) * 1e6 >= int(a[1])' "$ts" "$1"
}

# The value of a collector's series in Prometheus.
mt_prom_collector() {	# METRIC PORT
	mt_prom_scalar "$1{collector=\"$(coll_dest "$2")\"}"
}

# The alerts Prometheus holds, pending or firing, as metrics_tool.py prints them.
mt_prom_alerts() {
	local f=$FM_LOG_DIR/prom-alerts.json
	mt_curl "$MT_PROM_NS" -o "$f" "http://127.0.0.1:$MT_PROM_PORT/api/v1/alerts" ||
		fail "prometheus alerts query failed"
	"$FM_PY" "$MT_TOOL" alerts "$f"
}

# ------------------------------------------------------------------------------------------------
# flowmeta

# Write FILE (atomically: a SIGHUP never reads half of it) with MEMBERS of FlowMetadata, e.g.
# '"PollInterval": 1000' '"MetricsListen": "127.0.0.1:9739"'.
mt_config() {	# FILE [MEMBERS...]
	local file=$1 members="" m
	shift
	for m in "$@"; do
		members+="${members:+, }$m"
	done
	printf '{"FlowMetadata": {%s}}\n' "$members" >"$file.tmp"
	mv "$file.tmp" "$file"
}

# One flowmeta command in NS with its exit status in MT_RC, stdout in MT_OUT, stderr in MT_ERR.
mt_run() {	# NS ARGS...
	local ns=$1
	shift
	MT_OUT=$FM_LOG_DIR/cmd-$RANDOM.out
	MT_ERR=${MT_OUT%.out}.err
	MT_RC=0
	ns_run "$ns" timeout 30 "$FM_BIN" "$@" >"$MT_OUT" 2>"$MT_ERR" || MT_RC=$?
	log "flowmeta $*: exit $MT_RC; stderr: $(head -c 600 "$MT_ERR" | tr '\n' '|')"
}

# SIGHUP the daemon and wait for its Nth reload outcome line (applied or refused) in FM_LOG.
mt_reload() {	# N
	kill -HUP "$FM_PID"
	wait_until 15 mt_reload_count_is "$1" ||
		fail "reload $1: no outcome logged: $(tail -n 3 "$FM_LOG" | tr '\n' ' ')"
}

mt_reload_count_is() {
	local n
	n=$(grep -cE 'reloaded the configuration|reload: keeping the current' "$FM_LOG")
	[ "$n" -ge "$1" ]
}

# The TCP sockets PID listens on, "ADDR:PORT" one a line.
mt_listening() {	# NS PID
	ns_run "$1" ss -Hltnp | awk -v p="pid=$2," 'index($0, p) { print $4 }' | sort
}

# A TCP listener in NS on ADDR:PORT that is not flowmeta's (socat), until the test ends.
mt_squat() {	# NS ADDR PORT
	bg_start "$FM_LOG_DIR/squat-$3.log" "$1" socat -u "TCP4-LISTEN:$3,bind=$2,reuseaddr" \
		OPEN:/dev/null
	wait_until 10 mt_tcp_bound "$1" "$3" || fail "socat did not listen on $2:$3"
}

mt_tcp_bound() {	# NS PORT
	ns_run "$1" ss -Hltn "sport = :$2" | grep . >/dev/null
}
