# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Helpers of the tests of the views for people (tests/e2e/views.sh), on top of tests/lib.sh: a
# metered tun overlay whose flows stay in the table (no collector, nothing ends), ICMP messages of
# any type and code, `flowmeta flows` text output kept in a file, and a terminal for `flowmeta top`:
# a tmux server of the test's own (its socket in the test's log directory) with one session of a
# fixed size, keys sent into it and its screen read back as text.
#
# Names: namespaces fmV<pid><letter> (this suite's prefix); tmux sessions "view".
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# shellcheck disable=SC2034 # ns_new's namespace prefix (tests/lib.sh)
FM_NS_PREFIX=fmV

# A tun overlay metered on A by `flowmeta run` without a collector; polls and idle timeout far
# beyond the test, so every flow the test makes stays in the table with its exact counts.
views_metered_overlay() {
	topo_overlay tun
	VIEWS_CONF=$FM_LOG_DIR/flowmeta.json
	printf '%s\n' '{"FlowMetadata": {"PollInterval": 600000, "IdleTimeout": 600000}}' \
		>"$VIEWS_CONF"
	fm_start "$FM_NS_A" "$FM_IF_A" -c "$VIEWS_CONF"
	fm_wait_metering
}

# COUNT ICMP (IPv4 DST) or ICMPv6 (IPv6 DST) messages of TYPE and CODE from NS, PAYLOAD zero
# octets after the 8-octet header; SENT_PACKETS and SENT_OCTETS say what a meter must count.
send_icmp() {	# NS DST TYPE CODE COUNT [PAYLOAD]
	local out
	out=$(ns_run "$1" "$FM_PY" "$FM_TOOLS/icmp_send.py" "${@:2}") ||
		fail "icmp_send.py ${*:2} from $1 failed"
	fm_parse_sent "$out"
}

# `flowmeta flows ARGS...` on A's overlay into FILE (stdout only); the exit status must be 0.
views_flows() {	# FILE ARGS...
	local file=$1
	shift
	fm_cmd "$FM_NS_A" flows "$FM_IF_A" "$@" >"$file" 2>"$file.err" ||
		fail "flowmeta flows $*: exit $?: $(head -n 2 "$file.err")"
}

# True once `flowmeta flows` on A lists N flows (a reply the kernel sends later is in the table).
views_has_flows() {	# N
	[ "$(fm_cmd "$FM_NS_A" flows "$FM_IF_A" --json | "$FM_PY" "$FM_TOOLS/jsonq.py" - 'len(d)')" \
		-eq "$1" ]
}

# FILE must hold exactly the lines of WANT (a here-document on stdin), in this order.
assert_lines() {	# FILE WHAT < WANT
	local want
	want=$(cat)
	[ "$(cat "$1")" = "$want" ] ||
		fail "$2: got
$(cat "$1")
want
$want
diff: $(diff <(echo "$want") "$1" | tr '\n' '|')"
}
