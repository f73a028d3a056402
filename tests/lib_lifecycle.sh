# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Helpers of the lifecycle, CLI and install tests (tests/e2e/lifecycle.sh, cli.sh, install.sh), on
# top of tests/lib.sh: configuration files written by the test (rewritten atomically for SIGHUP),
# an ipfixDump collector read while it runs (records, sums, and the message-level view of
# tests/tools/ipfix_stream.py: which message carried templates, sequence numbers), background
# pings at a fixed rate with an exact count, and one-shot flowmeta commands with their exit status
# and output kept apart.
#
# Names: namespaces fmH<pid><letter> (this suite's prefix), collectors on loopback ports
# 4750-4759 inside the namespace flowmeta runs in.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LC_PORT1=4750
LC_PORT2=4751
LC_PORT_DEAD=4759	# nothing ever listens here
LC_ICMP_ECHO=2048	# ICMP type 8 << 8: the echo-request flow's dport
LC_ICMP6_ECHO=32768	# ICMPv6 128 << 8
LC_ICMP6_REPLY=33024	# ICMPv6 129 << 8
LC_FWD=64		# forwardingStatus: forwarded
LC_END_IDLE=1
LC_END_ACTIVE=2
LC_END_FORCED=4

# This suite's namespace prefix (lib.sh's ns_new uses it), so concurrent suites can tell their
# namespaces apart.
FM_NS_PREFIX=fmH

# ------------------------------------------------------------------------------------------------
# Configuration

# Write FILE: {"FlowMetadata": BASE + OVERRIDES}. The base keeps polls short and templates from
# being refreshed by time (TemplateRefresh one hour), so every template message a collector gets
# in a test comes from a start, a reload or a stop. Written to a temporary file and renamed: a
# SIGHUP never reads half a file.
lc_config() {	# FILE JSON_OBJECT_OF_OVERRIDES
	"$FM_PY" - "$1" "$2" <<-'EOF'
		import json, os, sys
		path, overrides = sys.argv[1], json.loads(sys.argv[2])
		fm = {"PollInterval": 1000, "IdleTimeout": 1500, "TemplateRefresh": 3600000}
		fm.update(overrides)
		with open(path + ".tmp", "w") as fp:
		    json.dump({"FlowMetadata": fm}, fp, indent=2)
		os.rename(path + ".tmp", path)
	EOF
}

# Write FILE verbatim (a bad configuration), atomically as well.
lc_raw_config() {	# FILE TEXT
	printf '%s\n' "$2" >"$1.tmp"
	mv "$1.tmp" "$1"
}

# ------------------------------------------------------------------------------------------------
# The collector: ipfixDump over the stream socat writes (lib.sh's "ipfixdump" kind), read while it
# runs. Every datagram lands in the file whole, so a partial read only misses the newest message.

lc_coll_start() {	# PORT [NS]
	coll_start ipfixdump "${2:-$FM_NS_A}" "$1"
}

lc_stream() {	# PORT -> the stream file
	echo "${FM_COLL_DIR[$(fm_coll_key ipfixdump "$1")]}/stream.ipfix"
}

# The normal lines of every flow record received so far (see tests/tools/ipfix_norm.py).
lc_records() {	# PORT
	coll_records ipfixdump "$1"
}

# Flow records received so far, counted from the raw stream (cheaper than decoding: polled).
lc_record_count() {	# PORT
	lc_totals "$1" | awk '{print $6}'
}

lc_has_records() {	# PORT N
	[ "$(lc_record_count "$1")" -ge "$2" ]
}

# Wait until PORT has received at least N flow records.
lc_wait_records() {	# PORT N [TIMEOUT]
	wait_until "${3:-20}" lc_has_records "$1" "$2" ||
		fail "collector :$1 got $(lc_record_count "$1") flow records, want at least $2:" \
			"$(lc_records "$1" | tr '\n' ';')"
}

# Sum over every record of one flow: "packets octets" ("0 0" if none).
lc_flow_sum() {	# PORT SRC DST SPORT DPORT PROTO DIRECTION
	lc_records "$1" | awk -v k="$2 $3 $4 $5 $6 $7" \
		'substr($0, 1, length(k) + 1) == k " " {p += $7; o += $8} END {print p + 0, o + 0}'
}

lc_sum_is() {	# WANT PORT SRC DST SPORT DPORT PROTO DIRECTION
	[ "$(lc_flow_sum "${@:2}")" = "$1" ]
}

# Wait until the records of one flow at PORT sum to PACKETS and OCTETS (its last record can come
# an IdleTimeout after its last packet).
lc_wait_sum() {	# PACKETS OCTETS PORT SRC DST SPORT DPORT PROTO DIRECTION [TIMEOUT]
	local want="$1 $2"
	wait_until "${10:-20}" lc_sum_is "$want" "${@:3:7}" ||
		fail "records of ${*:4:6} at :$3 sum to $(lc_flow_sum "${@:3:7}"), want $want:" \
			"$(lc_records "$3" | tr '\n' ';')"
}

# End reasons of one flow's records, in arrival order, space-separated.
lc_flow_reasons() {	# PORT SRC DST SPORT DPORT PROTO DIRECTION
	lc_records "$1" | awk -v k="$2 $3 $4 $5 $6 $7" \
		'substr($0, 1, length(k) + 1) == k " " {printf "%s%s", sep, $9; sep = " "} END {print ""}'
}

# Per message: INDEX SEQ ODID TEMPLATES DATA_RECORDS FLOW_RECORDS OCTETS (tools/ipfix_stream.py).
lc_messages() {	# PORT
	"$FM_PY" "$FM_TOOLS/ipfix_stream.py" messages "$(lc_stream "$1")"
}

# Indexes of the messages that carried templates, space-separated.
lc_template_messages() {	# PORT
	lc_messages "$1" | awk '$4 > 0 {printf "%s%s", sep, $1; sep = " "} END {print ""}'
}

lc_template_count() {	# PORT
	lc_messages "$1" | awk '$4 > 0 {n++} END {print n + 0}'
}

lc_has_templates() {	# PORT N
	[ "$(lc_template_count "$1")" -ge "$2" ]
}

# "messages M records R flow_records F octets O seq_errors E" of everything PORT received.
lc_totals() {	# PORT
	"$FM_PY" "$FM_TOOLS/ipfix_stream.py" totals "$(lc_stream "$1")"
}

# The flow records of messages FROM..TO-1 of PORT's stream (TO empty: to the end). Message FROM
# must carry the templates (a slice is decoded on its own).
lc_slice_records() {	# PORT FROM [TO]
	local dir
	dir=$(mktemp -d "$FM_LOG_DIR/slice.XXXXXX")
	"$FM_PY" "$FM_TOOLS/ipfix_stream.py" slice "$(lc_stream "$1")" "$2" "${3:-}" "$dir/stream.ipfix"
	fm_ipfixdump "$dir"
	"$FM_PY" "$FM_TOOLS/ipfix_norm.py" ipfixdump "$dir/dump.txt"
}

# Nothing at all reached PORT: not a datagram.
lc_assert_silent() {	# PORT WHAT
	local f
	f=$(lc_stream "$1")
	[ ! -s "$f" ] ||
		fail "$2: collector :$1 received $(stat -c %s "$f") octets: $(lc_messages "$1" | tr '\n' ';')"
}

# Compare what PORT received with the normal lines in EXPECTED, exactly.
lc_assert_records() {	# PORT EXPECTED_FILE WHAT
	local actual=$FM_LOG_DIR/actual-$1-$RANDOM
	lc_records "$1" >"$actual"
	assert_records "$2" "$actual" "$3"
}

# ------------------------------------------------------------------------------------------------
# Traffic: pings at a fixed rate in the background, every one answered.

# COUNT echo requests of SIZE payload bytes every INTERVAL s from NS to DST, in the background.
lc_ping_start() {	# NS DST COUNT SIZE [INTERVAL]
	LC_PING_LOG=$FM_LOG_DIR/ping-$RANDOM.log
	LC_PING_COUNT=$3
	LC_PING_OCTETS=$(($3 * ($(fm_ip_hdr "$2") + 8 + $4)))
	bg_start "$LC_PING_LOG" "$1" ping -n -q -c "$3" -s "$4" -i "${5:-0.02}" -W 5 "$2"
	LC_PING_PID=$BG_PID
}

# Wait for the background ping; every request must have had its reply. Sets SENT_PACKETS and
# SENT_OCTETS (each way).
lc_ping_wait() {
	bg_wait "$LC_PING_PID" || true
	grep -q "^$LC_PING_COUNT packets transmitted, $LC_PING_COUNT received" "$LC_PING_LOG" || {
		fm_drop_counters >&2
		fail "background ping: $(grep transmitted "$LC_PING_LOG"), want $LC_PING_COUNT both ways"
	}
	SENT_PACKETS=$LC_PING_COUNT
	SENT_OCTETS=$LC_PING_OCTETS
}

# Packets of the egress echo-request flow to DST in `flowmeta flows` (0 if none).
lc_live_requests() {	# DST
	local f=$FM_LOG_DIR/flows-live.json
	fm_flows "$FM_NS_A" "$FM_IF_A" "$f"
	"$FM_PY" "$FM_TOOLS/jsonq.py" "$f" \
		'sum(f["packets"] for f in d if f["direction"] == "egress" and ip(f["dst"]) == ip(a[0]) and f["dst_port"] in (2048, 32768))' "$1"
}

lc_requests_at_least() {	# DST N
	[ "$(lc_live_requests "$1")" -ge "$2" ]
}

# ------------------------------------------------------------------------------------------------
# flowmeta

# One flowmeta command in NS ("" = here): LC_RC its exit status, LC_OUT and LC_ERR files with its
# stdout and stderr. Never fails by itself; a command still running after 20 s is killed (124).
lc_run() {	# NS ARGS...
	local ns=$1
	shift
	LC_OUT=$FM_LOG_DIR/cmd-$RANDOM.out
	LC_ERR=${LC_OUT%.out}.err
	LC_RC=0
	ns_run "$ns" timeout 20 "$FM_BIN" "$@" >"$LC_OUT" 2>"$LC_ERR" || LC_RC=$?
	log "flowmeta $*: exit $LC_RC; stderr: $(head -c 600 "$LC_ERR" | tr '\n' '|')"
}

# stderr of the last lc_run is exactly one line, matching REGEX.
lc_assert_one_line() {	# REGEX WHAT
	local n
	n=$(wc -l <"$LC_ERR")
	assert_eq "$n" 1 "$2: lines on stderr ($(tr '\n' '|' <"$LC_ERR"))"
	grep -Eq -- "$1" "$LC_ERR" || fail "$2: stderr \"$(cat "$LC_ERR")\" does not match /$1/"
}

# Number of lines of flowmeta's log (FM_LOG) matching REGEX.
lc_log_count() {	# REGEX
	grep -Ec -- "$1" "$FM_LOG" || true
}

lc_log_at_least() {	# REGEX N
	[ "$(lc_log_count "$1")" -ge "$2" ]
}

# fm_start, then wait for the "metering" line as well: before status counted a run as running only
# once it had attached (lifecycle_status_running_means_attached), traffic sent right after
# fm_start could go unmetered; the log line stays the stricter sign.
lc_start() {	# NS IFACE [RUN ARGS...]
	fm_start "$@"
	fm_wait_metering
}

# Send SIGHUP and wait for the outcome: the Nth "reloaded" line (or the Nth reload warning when
# the file is bad: pass its regex as WANT).
lc_sighup() {	# N [WANT_REGEX]
	local want=${2:-'^info: reloaded the configuration'}
	kill -HUP "$FM_PID"
	wait_alive 10 "$FM_PID" lc_log_at_least "$want" "$1" ||
		fail "SIGHUP: no line #$1 /$want/ in the log: $(tail -n 3 "$FM_LOG" | tr '\n' '|')"
}

# Nothing of flowmeta on IFACE in NS: no TC filter, no XDP program, no clsact qdisc (there was
# none before), no pin directory.
lc_assert_nothing_attached() {	# NS IFACE PIN_DIR WHAT
	local left
	left=$(attached_progs "$1" "$2")
	[ -z "$left" ] || fail "$4: attached to $2: $(echo "$left" | tr '\n' ';')"
	! ns_run "$1" tc qdisc show dev "$2" | grep clsact >/dev/null || fail "$4: clsact qdisc on $2"
	[ ! -e "$3" ] || fail "$4: pin directory $3 exists: $(ls "$3" | tr '\n' ' ')"
}

# The ids of the programs attached to IFACE, one line per hook ("tc ingress: 1234" on clsact,
# "tcx ingress: 1234" on tcx).
lc_prog_ids() {	# NS IFACE
	attached_progs "$1" "$2" | sed -n 's/^\(tcx\{0,1\} [a-z]*\): .* id \([0-9]*\) .*/\1: \2/p'
}

# A namespace with a veth pair fmHv0/fmHv1 (both ends in it, up): an interface for tests that
# need one but no traffic. Sets LC_NS and LC_IF.
lc_single_ns() {
	ns_new s
	LC_NS=$NS_NAME
	LC_IF=fmHv0
	ip -n "$LC_NS" link add "$LC_IF" type veth peer name fmHv1
	ip -n "$LC_NS" link set "$LC_IF" up
	ip -n "$LC_NS" link set fmHv1 up
}
