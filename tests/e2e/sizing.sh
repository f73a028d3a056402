#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# End-to-end tests of the flow table's size and kernel memory (SPEC §3 MaxFlows/MaxFlowMemory,
# §7): `flowmeta status` (text and --json) shows the possible-CPU count and each table's capacity
# and kernel memory as the kernel itself accounts it (bpftool's memlock); MaxFlowMemory alone sizes
# the table within the budget, as `flowmeta check` says; an explicit MaxFlows over the budget is
# created as configured with exactly one warning; a reload that changes either says it waits for
# the next start. Each test runs flowmeta on a veth pair in a namespace of its own (no traffic).
source "$(dirname "$0")/../lib_lifecycle.sh"

# shellcheck disable=SC2034 # ns_new's namespace prefix (tests/lib.sh)
FM_NS_PREFIX=fmZ

# The number of possible CPUs, from the kernel's list ("0-1", "0-3,8-11").
sz_possible_cpus() {
	"$FM_PY" -c 'import sys
n = 0
for r in open("/sys/devices/system/cpu/possible").read().strip().split(","):
    lo, _, hi = r.partition("-")
    n += int(hi or lo) - int(lo) + 1
print(n)'
}

sz_pinned() {	# PIN_DIR MAP FIELD (bpftool map show -j: max_entries, bytes_memlock, ...)
	bpftool -j map show pinned "$1/$2" | "$FM_PY" "$FM_TOOLS/jsonq.py" - 'd[a[0]]' "$3"
}

# flowmeta's log on one line, for messages.
sz_log() {
	tr '\n' '|' <"$FM_LOG"
}

# One row "NAME VALUE" of `flowmeta status` text.
sz_status_row() {	# FILE NAME
	awk -v k="$2" '$1 == k {print $2}' "$1"
}

# status text and --json against bpftool's view of the pinned tables, for a table of MaxFlows 4096.
test_status_shows_capacity_and_kernel_memory() {
	require_flowmeta
	require_cmd bpftool
	lc_single_ns
	local conf=$FM_LOG_DIR/flowmeta.json text=$FM_LOG_DIR/status.txt json=$FM_LOG_DIR/st.json
	local pin ncpus map cap mem mib want total=0
	pin=$(fm_pin_dir "$LC_IF")
	ncpus=$(sz_possible_cpus)
	lc_config "$conf" '{"MaxFlows": 4096}'
	lc_start "$LC_NS" "$LC_IF" -c "$conf"
	fm_cmd "$LC_NS" status "$LC_IF" >"$text" || fail "flowmeta status failed"
	fm_cmd "$LC_NS" status "$LC_IF" --json >"$json" || fail "flowmeta status --json failed"
	assert_eq "$(sz_status_row "$text" possible_cpus)" "$ncpus" "status: possible_cpus"
	assert_eq "$("$FM_PY" "$FM_TOOLS/jsonq.py" "$json" 'd["possible_cpus"]')" "$ncpus" \
		"status --json: possible_cpus"
	for map in flows drop_flows export_state; do
		cap=$(sz_pinned "$pin" "$map" max_entries)
		mem=$(sz_pinned "$pin" "$map" bytes_memlock)
		# The drop table holds an eighth of MaxFlows (include/flowmeta.h).
		assert_eq "$cap" $([ "$map" = drop_flows ] && echo 512 || echo 4096) \
			"bpftool: $map max_entries"
		assert_eq "$(sz_status_row "$text" "${map}_capacity")" "$cap" \
			"status: ${map}_capacity"
		assert_eq "$(sz_status_row "$text" "${map}_memory")" "$mem" "status: ${map}_memory"
		assert_eq "$("$FM_PY" "$FM_TOOLS/jsonq.py" "$json" 'd["tables"][a[0]]["capacity"]' \
			"$map")" "$cap" "status --json: tables.$map.capacity"
		assert_eq "$("$FM_PY" "$FM_TOOLS/jsonq.py" "$json" 'd["tables"][a[0]]["memory"]' \
			"$map")" "$mem" "status --json: tables.$map.memory"
		total=$((total + mem))
	done
	# The same table as `flowmeta check` describes, to the byte of its MiB figure.
	lc_run "" check -c "$conf"
	mib=$("$FM_PY" -c "print('%.1f MiB' % ($total / 1048576))")
	want="FlowTable: 4096 flows (MaxFlows), $mib of kernel memory at $ncpus possible CPUs"
	grep -qxF "$want" "$LC_OUT" ||
		fail "check: $(grep FlowTable "$LC_OUT") (kernel: $total bytes)"
	fm_stop "$FM_PID"
	assert_eq "$FM_EXIT" 0 "exit status on SIGTERM"
}

# MaxFlowMemory 1 MiB and no MaxFlows: the table `check` announces, within the budget by the
# kernel's own figures, without a warning; a reload with another budget says it waits for the next
# start, and changes nothing now.
test_budget_alone_sizes_the_table() {
	require_flowmeta
	require_cmd bpftool
	lc_single_ns
	local conf=$FM_LOG_DIR/flowmeta.json pin want flows drops state reload
	pin=$(fm_pin_dir "$LC_IF")
	lc_config "$conf" '{"MaxFlowMemory": 1}'
	lc_run "" check -c "$conf"
	assert_eq "$LC_RC" 0 "exit status of check"
	want=$(sed -n 's/^MaxFlows: \([0-9]*\)$/\1/p' "$LC_OUT")
	[ -n "$want" ] || fail "check printed no MaxFlows: $(tr '\n' '|' <"$LC_OUT")"
	# At 2 possible CPUs the formula README gives: the largest N with
	# flows(N) + drop_flows(N / 8) + export_state(N) <= 1 MiB.
	[ "$(sz_possible_cpus)" != 2 ] || assert_eq "$want" 2923 "MaxFlows at 2 possible CPUs"
	lc_start "$LC_NS" "$LC_IF" -c "$conf"
	assert_eq "$(sz_pinned "$pin" flows max_entries)" "$want" "flows max_entries"
	assert_eq "$(sz_pinned "$pin" export_state max_entries)" "$want" "export_state max_entries"
	flows=$(sz_pinned "$pin" flows bytes_memlock)
	drops=$(sz_pinned "$pin" drop_flows bytes_memlock)
	state=$(sz_pinned "$pin" export_state bytes_memlock)
	[ $((flows + drops + state)) -le 1048576 ] ||
		fail "kernel memory $flows + $drops + $state bytes is over MaxFlowMemory (1 MiB)"
	assert_eq "$(lc_log_count '^warning: .*MaxFlow')" 0 "sizing warnings ($(sz_log))"
	lc_config "$conf" '{"MaxFlowMemory": 2}'
	lc_sighup 1
	reload='^warning: reload: a new MaxFlows or MaxFlowMemory takes effect only at the next '
	reload+='start'
	assert_eq "$(lc_log_count "$reload")" 1 "reload warnings ($(sz_log))"
	assert_eq "$(lc_log_count '^warning: .*MaxFlow')" 1 "sizing warnings after the reload"
	assert_eq "$(sz_pinned "$pin" flows max_entries)" "$want" "flows max_entries after reload"
	fm_stop "$FM_PID"
	assert_eq "$FM_EXIT" 0 "exit status on SIGTERM"
}

# An explicit MaxFlows wins over the budget: created at its size, with one warning naming both.
test_explicit_max_flows_over_budget_warns_once() {
	require_flowmeta
	require_cmd bpftool
	lc_single_ns
	local conf=$FM_LOG_DIR/flowmeta.json pin want
	pin=$(fm_pin_dir "$LC_IF")
	lc_config "$conf" '{"MaxFlows": 65536, "MaxFlowMemory": 1}'
	lc_start "$LC_NS" "$LC_IF" -c "$conf"
	assert_eq "$(sz_pinned "$pin" flows max_entries)" 65536 "flows max_entries"
	want='^warning: MaxFlows 65536 needs [0-9]+\.[0-9] MiB of kernel memory at '
	want+="$(sz_possible_cpus) possible CPUs, more than MaxFlowMemory \\(1 MiB\\); "
	want+='creating the table as configured$'
	assert_eq "$(lc_log_count "$want")" 1 "budget warnings ($(sz_log))"
	assert_eq "$(lc_log_count '^warning: .*MaxFlow')" 1 "sizing warnings ($(sz_log))"
	fm_stop "$FM_PID"
	assert_eq "$FM_EXIT" 0 "exit status on SIGTERM"
}

run_test sizing_status_shows_capacity_and_kernel_memory \
	test_status_shows_capacity_and_kernel_memory
run_test sizing_budget_alone_sizes_the_table test_budget_alone_sizes_the_table
run_test sizing_explicit_max_flows_over_budget_warns_once \
	test_explicit_max_flows_over_budget_warns_once
finish_tests
