#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Crash injection across the export path (SPEC §7, §8): kill -9 at every system call of a poll that
# ends and sends flows, restart, and check at a real collector that every flow arrived exactly once
# with its exact counts, and that the sequence numbers ran on without a gap or a step back.
#
# How a kill point is chosen: each cycle's flows are sent while no daemon runs (the programs stay
# attached and count into the pinned maps) and left to go idle; then a daemon starts, and
# tests/tools/syskill.py attaches to it (ptrace) once it says it is metering and kills it with
# SIGKILL on entering its N-th system call: every call before it ran, that one never does. Its
# first poll is then the one that ends and sends the cycle's flows, so the calls are the same in
# every cycle: a first cycle counts them (reads of the flow table, journal writes, sends, the
# apply program, the journal's finish), then one cycle per kill point. Each restart also recovers
# what the killed daemon left (datagrams not sent, intents not applied) before it meters.
source "$(dirname "$0")/../lib.sh"

CR_PORT=4760		# the collector, on loopback inside node A's namespace
CR_DPORT0=6000		# cycle i sends to destination port CR_DPORT0 + i
CR_SPORT=20000		# from source ports CR_SPORT ..
CR_PAYLOAD=100		# octets of UDP payload: 128 octets a datagram over IPv4

# MaxFlows: room for every cycle's flows (a poll killed early leaves its flows in the table).
cr_setup() {	# MAX_FLOWS
	topo_overlay veth
	CR_CONF=$FM_LOG_DIR/flowmeta.json
	cat >"$CR_CONF" <<-EOF
		{"FlowMetadata": {"IpFixCollectors": ["$(coll_dest "$CR_PORT")"], "PollInterval": 1000,
		 "IdleTimeout": 1000, "TemplateRefresh": 3600000, "MaxMessageSize": 1400,
		 "MaxFlows": $1}}
	EOF
	coll_start tshark "$FM_NS_A" "$CR_PORT"
	# Nothing listens: the ICMP port unreachable answers are flows of their own, not checked.
	CR_SENT=0
	CR_CYCLES=0
}

cr_start() {
	fm_start "$FM_NS_A" "$FM_IF_A" -c "$CR_CONF"
	fm_wait_metering
}

# The kernel programs attached and counting with no daemon running: a first daemon, killed.
cr_dead_daemon() {
	cr_start
	fm_kill9 "$FM_PID"
}

# A cycle's N one-datagram flows from node B: source ports CR_SPORT.., a destination port of its
# own.
cr_flows() {	# N
	local out
	out=$(ns_run "$FM_NS_B" timeout 60 "$FM_PY" "$FM_TOOLS/traffic.py" udp-send-ports "$FM_A4" \
		$((CR_DPORT0 + CR_CYCLES)) "$CR_SPORT" "$1" 1 "$CR_PAYLOAD") || fail "udp send failed"
	[ "$out" = "packets=$1 octets=$(($1 * (28 + CR_PAYLOAD)))" ] || fail "udp send: $out"
	CR_FLOWS=$1
	CR_CYCLES=$((CR_CYCLES + 1))
	CR_SENT=$((CR_SENT + $1))
}

# The end: a daemon without a kill exports what is left, then stops; the collector must hold
# every flow of every cycle exactly once, with its exact counts, and a sequence without errors.
cr_verify() {
	local got st=$FM_LOG_DIR/status.json
	cr_start
	wait_until 30 cr_table_empty || fail "flows still live after the last restart"
	ns_run "$FM_NS_A" "$FM_BIN" status -i "$FM_IF_A" --pin-dir "$(fm_pin_dir "$FM_IF_A")" \
		--json >"$st" || fail "status failed"
	# Every datagram was metered: a loss in the kernel table would not be the export path's.
	assert_eq "$("$FM_PY" "$FM_TOOLS/jsonq.py" "$st" 'd["table_full_packets"]')" 0 \
		"packets the kernel could not meter (table full)"
	fm_stop "$FM_PID"
	assert_eq "$FM_EXIT" 0 "exit status of the last daemon"
	coll_stop tshark "$CR_PORT"
	got=$(coll_records tshark "$CR_PORT" | awk -v d0=$CR_DPORT0 -v c=$CR_CYCLES -v s0=$CR_SPORT \
		-v n=$CR_FLOWS '
		$5 == 17 && $6 == "ingress" && $4 >= d0 && $4 < d0 + c && $3 >= s0 && $3 < s0 + n {
			k = $4 " " $3; r[k]++; p[k] += $7; o[k] += $8 }
		END {
			for (d = d0; d < d0 + c; d++)
				for (s = s0; s < s0 + n; s++) {
					k = d " " s
					if (!r[k]) miss++
					else if (r[k] > 1) dup++
					if (r[k] && (p[k] != 1 || o[k] != 128)) bad++
					flows += r[k] > 0
				}
			print flows + 0, miss + 0, dup + 0, bad + 0
		}')
	assert_eq "$got" "$CR_SENT 0 0 0" \
		"flows at the collector, missing, with more than one record, with wrong counts"
	assert_eq "$(coll_seq_errors tshark "$CR_PORT")" 0 "sequence errors tshark saw"
}

cr_table_empty() {
	local f=$FM_LOG_DIR/flows-now.json
	fm_flows "$FM_NS_A" "$FM_IF_A" "$f" &&
		[ "$("$FM_PY" "$FM_TOOLS/jsonq.py" "$f" 'len(d)')" = 0 ]
}

# Flows sent while no daemon runs, idle by the time a daemon starts: its first poll ends them.
cr_cycle_start() {	# N
	cr_flows "$1"
	sleep 1.2	# IdleTimeout 1000: idle when the daemon's first poll comes
	cr_start
}

# The system calls of the first poll, from attaching to the metering daemon to the end of the
# poll, as "COUNT NAME NAME ...".
cr_count_calls() {
	"$FM_PY" "$FM_TOOLS/syskill.py" count "$FM_PID" --until epoll_wait --after 2 --timeout 30
}

cr_kill_at() {	# K TOTAL
	local out
	out=$("$FM_PY" "$FM_TOOLS/syskill.py" kill "$FM_PID" "$1" --timeout 30) ||
		fail "kill point $1/$2: $out"
	bg_wait "$FM_PID" || true
	echo "kill point $1/$2: $out"
}

# A poll ending N flows, killed at each of its calls in turn (STEP: every STEP-th call, and the
# last few), then every flow checked at the collector.
test_kill_at_every_call() {	# N STEP
	local n=$1 step=$2 calls out k points=0
	require_cmd socat tshark
	cr_setup 131072
	cr_dead_daemon
	cr_cycle_start "$n"
	out=$(cr_count_calls) || fail "counting the calls of a poll: $out"
	calls=${out%% *}
	echo "poll of $n flows: $calls system calls: ${out#* }"
	assert_ge "$calls" 10 "system calls of a poll that ends and sends flows"
	wait_until 30 cr_table_empty || fail "the counted poll did not end the flows"
	fm_kill9 "$FM_PID"
	for ((k = 1; k <= calls; k++)); do
		[ $((k % step)) -eq 1 ] || [ "$step" -eq 1 ] || [ "$k" -gt $((calls - 3)) ] || continue
		cr_cycle_start "$n"
		cr_kill_at "$k" "$calls"
		points=$((points + 1))
	done
	echo "kill points tried: $points of $calls calls; flows sent: $CR_SENT"
	cr_verify
}

# The case of issue 7: many idle one-datagram flows ending in one poll, killed at random points
# of it (seeded: CR_SEED repeats a run).
test_kill_at_random_points() {	# N CYCLES
	local n=$1 cycles=$2 seed=${CR_SEED:-$RANDOM} calls out i
	require_cmd socat tshark
	cr_setup 131072
	echo "seed $seed"
	RANDOM=$seed
	cr_dead_daemon
	cr_cycle_start "$n"
	out=$(cr_count_calls) || fail "counting the calls of a poll: $out"
	calls=${out%% *}
	echo "poll of $n flows: $calls system calls"
	wait_until 60 cr_table_empty || fail "the counted poll did not end the flows"
	fm_kill9 "$FM_PID"
	for ((i = 0; i < cycles; i++)); do
		cr_cycle_start "$n"
		cr_kill_at $((1 + RANDOM % calls)) "$calls"
	done
	cr_verify
}

run_test crash_kill_at_every_call_of_a_poll_ending_1700_flows test_kill_at_every_call 1700 1
run_test crash_kill_at_random_points_of_a_poll_ending_40000_flows test_kill_at_random_points 40000 3
finish_tests
