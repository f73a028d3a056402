# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Helpers of the export tests (tests/e2e/export.sh, ipfix.sh, fleet.sh), on top of tests/lib.sh:
# a configuration with short polls that `flowmeta check` accepts, a two-node overlay with
# collectors on loopback in node A and flowmeta metering A's overlay device, traffic of every kind
# written down as the records it must give (src dst sport dport proto direction packets octets
# reason fwd t0_ms t1_ms, checked by tests/tools/ipfix_detail.py), flowmeta's own view from
# `status --json`, and the checks on what a collector decoded: records, arrival times, and the
# message layer (sequence numbers, statistics records).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KINDS=(tshark ipfixdump nfcapd nfacctd)
POLL_MS=1000
IDLE_MS=2000
FWD=64		# forwardingStatus "forwarded"
IDLE=1 ACTIVE=2 END_DETECTED=3 FORCED=4
# A record of an idle flow arrives after IdleTimeout, at the first poll after it: allow the coarse
# clock's tick (flow times) below, and a slow poll on a busy machine above.
IDLE_LO=$((IDLE_MS - 20))
IDLE_HI=$((IDLE_MS + POLL_MS + 1500))
TCP_END_HI=2000	# a TCP flow closed with FIN is exported within 2 s of its last packet

# The port of a collector KIND given none (ex_setup): 4760 + its index in KINDS.
coll_port() {	# KIND -> its default port
	local i
	for i in "${!KINDS[@]}"; do
		[ "${KINDS[i]}" = "$1" ] && echo $((4760 + i)) && return
	done
	fail "no port for $1"
}

now_ms() {
	echo $(($(fm_now_us) / 1000))
}

# Write a configuration with PollInterval/IdleTimeout, the collectors and MEMBERS (JSON members of
# FlowMetadata, e.g. '"Interval": 2000') that `flowmeta check` accepts; CONFIG is its path.
ex_config() {	# "SPEC..." [MEMBERS...]
	local s list="" members="" m
	for s in $1; do
		list+="${list:+, }\"$s\""
	done
	shift
	for m in "$@"; do
		members+=", $m"
	done
	CONFIG=$FM_LOG_DIR/flowmeta-$RANDOM.json
	cat >"$CONFIG" <<-EOF
		{"FlowMetadata": {"PollInterval": $POLL_MS, "IdleTimeout": $IDLE_MS,
		 "IpFixCollectors": [$list]$members}}
	EOF
	"$FM_BIN" check -c "$CONFIG" >"$CONFIG.check" 2>&1 ||
		fail "flowmeta check rejects $(tr -d '\n' <"$CONFIG"): $(tail -n 1 "$CONFIG.check")"
}

# The overlay, the collectors listening on loopback in A (KIND, KIND/PORT or KIND/PORT/ADDR;
# KIND "none": configured, but nothing listens), flowmeta metering A's overlay device. Sets
# IFINDEX (A's device) and EXP (the expected records, empty).
ex_setup() {	# OVERLAY COLLECTOR... [-- MEMBERS...]
	local overlay=$1 kind port addr specs=""
	shift
	require_flowmeta
	require_cmd socat ping
	topo_overlay "$overlay"
	IFINDEX=$(fm_ifindex "$FM_NS_A" "$FM_IF_A")
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		IFS=/ read -r kind port addr <<<"$1"
		port=${port:-$(coll_port "$kind")}
		addr=${addr:-127.0.0.1}
		[ "$kind" = none ] || coll_start "$kind" "$FM_NS_A" "$port" "$addr"
		specs+=" $(coll_dest "$port" "$addr")"
		shift
	done
	[ "${1:-}" = -- ] && shift
	ex_config "$specs" "$@"
	EXP=$FM_LOG_DIR/expected
	: >"$EXP"
	fm_start "$FM_NS_A" "$FM_IF_A" -c "$CONFIG"
	fm_wait_metering
}

expect() {	# SRC DST SPORT DPORT PROTO DIRECTION PACKETS OCTETS REASON FWD T0 T1
	echo "$*" >>"$EXP"
}

# The exporter's view from `flowmeta status --json`: a Python expression over it (d).
ex_status() {	# EXPR [ARGS...]
	fm_cmd "$FM_NS_A" status "$FM_IF_A" --json | "$FM_PY" "$FM_TOOLS/jsonq.py" - "$@"
}

# Every flow ended and at least N flow records sent (to every collector).
ex_exported() {	# N
	[ "$(ex_status 'd["flows"] == 0 and d["exporter"]["flow_records"] >= int(a[0])' "$1")" = true ]
}

ex_wait_exported() {	# N
	wait_until 20 ex_exported "$1" ||
		fail "flowmeta did not end every flow and send $1 records: $(ex_status 'd["exporter"]')"
}

# At least N messages sent to collector I.
ex_messages_sent() {	# I N
	[ "$(ex_status 'd["collectors"][int(a[0])]["messages"]' "$1")" -ge "$2" ]
}

# ---------------------------------------------------------------------------------------------
# Traffic: every kind both ways, each flow with the wall-clock window it was sent in. REASON
# (default 1, idle) is the flowEndReason its record must carry.

# Pings from FROM_NS to DST: the requests are one flow, the replies the other.
ex_ping() {	# FROM_NS DST COUNT SIZE
	local t0 a b req rep rq=2048 rp=0 reason=${REASON:-$IDLE}
	t0=$(now_ms)
	send_ping "$1" "$2" "$3" "$4"
	case $2 in
	"$FM_B4") a=$FM_A4 b=$FM_B4 req="1 egress" rep="1 ingress" ;;
	"$FM_A4") a=$FM_B4 b=$FM_A4 req="1 ingress" rep="1 egress" ;;
	"$FM_B6") a=$FM_A6 b=$FM_B6 req="58 egress" rep="58 ingress" ;;
	"$FM_A6") a=$FM_B6 b=$FM_A6 req="58 ingress" rep="58 egress" ;;
	esac
	case $2 in *:*) rq=32768 rp=33024 ;; esac
	# shellcheck disable=SC2086 # req and rep are two fields each
	expect "$a" "$b" 0 $rq $req "$SENT_PACKETS" "$SENT_OCTETS" "$reason" $FWD "$t0" "$(now_ms)"
	# shellcheck disable=SC2086
	expect "$b" "$a" 0 $rp $rep "$SENT_PACKETS" "$SENT_OCTETS" "$reason" $FWD "$t0" "$(now_ms)"
}

# UDP from A (SPORT -> DPORT), then a reply from B the other way: two flows.
ex_udp() {	# DST_B ADDR_A DPORT SPORT COUNT PAYLOAD REPLY_COUNT REPLY_PAYLOAD
	local dst=$1 src=$2 dport=$3 sport=$4 t0 reason=${REASON:-$IDLE}
	t0=$(now_ms)
	send_udp "$FM_NS_A" "$FM_NS_B" "$dst" "$dport" "$sport" "$5" "$6"
	expect "$src" "$dst" "$sport" "$dport" 17 egress "$SENT_PACKETS" "$SENT_OCTETS" "$reason" \
		$FWD "$t0" "$(now_ms)"
	t0=$(now_ms)
	send_udp "$FM_NS_B" "$FM_NS_A" "$src" "$sport" "$dport" "$7" "$8"
	expect "$dst" "$src" "$dport" "$sport" 17 ingress "$SENT_PACKETS" "$SENT_OCTETS" "$reason" \
		$FWD "$t0" "$(now_ms)"
}

# Raw IP protocol 253 A->B and B->A.
ex_raw() {	# DST_B ADDR_A COUNT PAYLOAD REPLY_COUNT REPLY_PAYLOAD
	local dst=$1 src=$2 t0
	t0=$(now_ms)
	send_raw "$FM_NS_A" "$FM_NS_B" "$dst" 253 "$3" "$4"
	expect "$src" "$dst" 0 0 253 egress "$SENT_PACKETS" "$SENT_OCTETS" $IDLE $FWD "$t0" "$(now_ms)"
	t0=$(now_ms)
	send_raw "$FM_NS_B" "$FM_NS_A" "$src" 253 "$5" "$6"
	expect "$dst" "$src" 0 0 253 ingress "$SENT_PACKETS" "$SENT_OCTETS" $IDLE $FWD "$t0" "$(now_ms)"
}

# A TCP transfer A -> B closed with FIN both ways: both flows end with reason 3, their counts are
# the independent meter's. TCP_CLOSED_MS: wall clock once the connection is closed.
ex_tcp() {	# DST_B ADDR_A DPORT SPORT BYTES
	local dst=$1 src=$2 dport=$3 sport=$4 t0 report=$FM_LOG_DIR/meter-tcp-$4.json
	meter_start "$FM_NS_A" "$FM_IF_A"
	t0=$(now_ms)
	send_tcp "$FM_NS_A" "$FM_NS_B" "$dst" "$dport" "$sport" "$5"
	TCP_CLOSED_MS=$(now_ms)
	wait_quiet "$FM_NS_A" "$FM_IF_A" 0.3
	meter_stop "$report"
	meter_flow "$report" egress 6 "$src" "$dst" "$sport" "$dport"
	assert_ge "$METER_OCTETS" $(($5 + 40 * METER_PACKETS)) "TCP octets A sent (meter)"
	expect "$src" "$dst" "$sport" "$dport" 6 egress "$METER_PACKETS" "$METER_OCTETS" \
		$END_DETECTED $FWD "$t0" "$TCP_CLOSED_MS"
	meter_flow "$report" ingress 6 "$dst" "$src" "$dport" "$sport"
	assert_ge "$METER_PACKETS" 2 "TCP packets B sent (meter)"
	expect "$dst" "$src" "$dport" "$sport" 6 ingress "$METER_PACKETS" "$METER_OCTETS" \
		$END_DETECTED $FWD "$t0" "$TCP_CLOSED_MS"
}

# ---------------------------------------------------------------------------------------------
# Checks on what a collector decoded

# The collector's records against EXP, exactly (see ipfix_detail.py check). DETAILS: their file.
ex_check_records() {	# KIND PORT
	local kind=$1 port=$2 diff sum=()
	DETAILS=$FM_LOG_DIR/details-$kind-$port.json
	coll_details "$kind" "$port" >"$DETAILS"
	# nfacctd adds up equal keys itself (each key+reason is one flow here anyway).
	[ "$kind" = nfacctd ] && sum=(--sum)
	diff=$("$FM_PY" "$FM_TOOLS/ipfix_detail.py" check "$EXP" "$DETAILS" --ifindex "$IFINDEX" \
		"${sum[@]}") ||
		fail "$kind decoded records differ from the traffic: $(echo "$diff" | head -n 6 |
			tr '\n' ';')"
}

# Records of REASON arrived LO..HI ms after their flow end (or after SINCE_MS). Where the collector
# gives the arrival (tshark, nfdump) or the export second (ipfixDump), at least one is checked.
ex_check_timing() {	# KIND REASON LO HI WHAT [SINCE_MS]
	local out since=()
	[ -n "${6:-}" ] && since=(--since "$6")
	out=$("$FM_PY" "$FM_TOOLS/ipfix_detail.py" timing "$DETAILS" "$2" "$3" "$4" "${since[@]}" \
		--expected "$EXP") ||
		fail "$1: $5: $(echo "$out" | sed 1d | head -n 4 | tr '\n' ';')"
	case $1 in
	tshark | nfcapd | ipfixdump)
		[ "$out" != "checked 0" ] || fail "$1: $5: no record of reason $2 to time" ;;
	esac
}

# The message layer (tshark, ipfixdump): the collector reports no sequence error; every Sequence
# Number counts the data records before it and every metering statistics record the messages,
# flow records and octets before it (ipfix_detail.py audit; --joined: the collector came in the
# middle). MSGS: the messages file.
ex_check_messages() {	# KIND PORT [--joined]
	local out
	assert_eq "$(coll_seq_errors "$1" "$2")" 0 "$1 sequence errors"
	MSGS=$FM_LOG_DIR/messages-$1-$2.json
	coll_messages "$1" "$2" >"$MSGS"
	out=$("$FM_PY" "$FM_TOOLS/ipfix_detail.py" audit "$MSGS" "${@:3}") ||
		fail "$1: $(echo "$out" | head -n 3 | tr '\n' ';')"
}

# A Python expression over the messages (d) of the last ex_check_messages.
msgq() {	# EXPR [ARGS...]
	"$FM_PY" "$FM_TOOLS/jsonq.py" "$MSGS" "$@"
}

# Records, packets and octets in a records file (ipfix_detail.py records).
ex_totals() {	# FILE
	"$FM_PY" "$FM_TOOLS/jsonq.py" "$1" \
		'(len(d), sum(r["packets"] for r in d), sum(r["octets"] for r in d))'
}

# Records, packets and octets expected so far.
ex_expected_totals() {
	awk '{n++; p += $7; o += $8} END {print n + 0, p + 0, o + 0}' "$EXP"
}
