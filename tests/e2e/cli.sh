#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# End-to-end tests of flowmeta's command line (SPEC §2, §3): help and version, usage errors and
# their exit codes, `check` on good, bad and packaged files, `run` refusing bad collectors and
# missing files and starting on built-in defaults, the BTF-named fields of the pinned flow map,
# and status/flows when nothing is pinned, `run` where /sys/fs/bpf is not a bpffs (in a private
# mount namespace), a --pin-dir that is not on a bpffs, and the directory levels flowmeta creates.
# Every `run` happens in a test namespace with its own pin directory; nothing touches the host's
# interfaces, mounts or /sys/fs/bpf/flowmeta.
source "$(dirname "$0")/../lib_lifecycle.sh"

# ------------------------------------------------------------------------------------------------
# Help, version, usage errors

test_help() {
	require_flowmeta
	lc_run "" --help
	assert_eq "$LC_RC" 0 "exit status"
	local cmd
	for cmd in run check status flows detach; do
		grep -q "flowmeta $cmd " "$LC_OUT" || fail "--help does not show \"flowmeta $cmd\""
	done
	grep -q -- '--collector' "$LC_OUT" || fail "--help does not describe --collector"
	[ ! -s "$LC_ERR" ] || fail "--help wrote to stderr: $(head -n 2 "$LC_ERR")"
}

test_version() {
	require_flowmeta
	lc_run "" --version
	assert_eq "$LC_RC" 0 "exit status"
	assert_eq "$(cat "$LC_OUT")" "flowmeta $(cat "$FM_TOP/VERSION")" "--version output"
}

# Usage errors: exit 2, the reason and the usage on stderr, nothing on stdout.
test_usage_error() {	# REGEX ARGS...
	require_flowmeta
	local want=$1
	shift
	lc_run "" "$@"
	assert_eq "$LC_RC" 2 "exit status of flowmeta $*"
	grep -Eq -- "$want" "$LC_ERR" || fail "stderr does not say /$want/: $(head -n 2 "$LC_ERR")"
	grep -q '^usage: flowmeta run' "$LC_ERR" || fail "no usage on stderr"
	[ ! -s "$LC_OUT" ] || fail "stdout not empty: $(head -n 2 "$LC_OUT")"
}

# A command without -i: exit 2, one line naming -i.
test_missing_interface() {	# COMMAND
	require_flowmeta
	lc_run "" "$1"
	assert_eq "$LC_RC" 2 "exit status of flowmeta $1 without -i"
	lc_assert_one_line "-i IFACE is required" "flowmeta $1 without -i"
}

# An interface that does not exist (in a fresh namespace): exit 2, its name in one line, nothing
# pinned.
test_unknown_interface() {	# COMMAND
	require_flowmeta
	ns_new u
	local pin=$FM_BPFFS/fmE-$FM_TEST_NAME-$FM_ID-nosuch
	FM_PINS+=("$pin")
	lc_run "$NS_NAME" "$1" -i fmHnosuch0 --pin-dir "$pin"
	assert_eq "$LC_RC" 2 "exit status of flowmeta $1 on a missing interface"
	lc_assert_one_line "unknown interface fmHnosuch0" "flowmeta $1 on a missing interface"
	[ ! -e "$pin" ] || fail "pin directory created for a missing interface"
}

# ------------------------------------------------------------------------------------------------
# check

# A good file: exit 0, every setting printed with the file's values, collectors included.
test_check_good() {
	require_flowmeta
	local conf=$FM_LOG_DIR/good.json line
	lc_raw_config "$conf" '{"Agent": {"Name": "other keys are ignored"}, "FlowMetadata": {
		"IpFixCollectors": ["udp/127.0.0.1:4750", "UDP/[::1]:4751"], "Direction": "SendingToPeer",
		"Interval": 120000, "Enabled": true, "PollInterval": 30000, "IdleTimeout": 45000,
		"ObservationDomainId": 7, "TemplateRefresh": 90000, "MaxMessageSize": 1200,
		"MaxFlows": 4096}}'
	lc_run "" check -c "$conf"
	assert_eq "$LC_RC" 0 "exit status"
	[ ! -s "$LC_ERR" ] || fail "check wrote to stderr: $(head -n 2 "$LC_ERR")"
	for line in "Enabled: true" "Direction: SendingToPeer" "Interval: 120000 ms" \
		"PollInterval: 30000 ms" "IdleTimeout: 45000 ms" "ObservationDomainId: 7" \
		"TemplateRefresh: 90000 ms" \
		"MaxMessageSize: 1200 bytes, capped by each collector's path MTU" "MaxFlows: 4096" \
		"IpFixCollectors: 2" "Collector: Udp/127.0.0.1:4750" "Collector: Udp/[::1]:4751" \
		"Export: on"; do
		grep -qxF "$line" "$LC_OUT" || fail "check does not print \"$line\": $(tr '\n' '|' <"$LC_OUT")"
	done
}

# A file with only some keys: the others print their SPEC §3 defaults.
test_check_defaults() {
	require_flowmeta
	local conf=$FM_LOG_DIR/empty.json line
	lc_raw_config "$conf" '{"FlowMetadata": {}}'
	lc_run "" check -c "$conf"
	assert_eq "$LC_RC" 0 "exit status"
	for line in "Enabled: true" "Direction: Both" "PollInterval: 60000 ms" "IdleTimeout: 60000 ms" \
		"ObservationDomainId: derived from the interface's address" "TemplateRefresh: 60000 ms" \
		"MaxMessageSize: path MTU of each collector" \
		"MaxFlowMemory: 64 MiB" "IpFixCollectors: 0"; do
		grep -qxF "$line" "$LC_OUT" || fail "check does not print \"$line\": $(tr '\n' '|' <"$LC_OUT")"
	done
	grep -q '^Interval: 0' "$LC_OUT" || fail "Interval is not 0 by default"
	grep -q '^Export: off' "$LC_OUT" || fail "no collector: Export is not said to be off"
}

# A bad file: exit 2, one line on stderr matching REGEX, nothing on stdout.
test_check_bad() {	# TEXT REGEX
	require_flowmeta
	local conf=$FM_LOG_DIR/bad.json
	lc_raw_config "$conf" "$1"
	lc_run "" check -c "$conf"
	assert_eq "$LC_RC" 2 "exit status"
	lc_assert_one_line "$2" "check of a bad file"
	[ ! -s "$LC_OUT" ] || fail "check printed settings of a bad file: $(head -n 2 "$LC_OUT")"
}

test_check_missing_file() {
	require_flowmeta
	lc_run "" check -c "$FM_LOG_DIR/nosuch.json"
	assert_eq "$LC_RC" 2 "exit status"
	lc_assert_one_line 'nosuch\.json' "check of a missing file"
}

test_check_without_file() {
	require_flowmeta
	lc_run "" check
	assert_eq "$LC_RC" 2 "exit status"
	grep -q -- '-c FILE' "$LC_ERR" || fail "check without -c: $(head -n 2 "$LC_ERR")"
}

# The packaged example is valid and says what it holds.
test_check_packaged() {
	require_flowmeta
	lc_run "" check -c "$FM_TOP/packaging/flowmeta.json"
	assert_eq "$LC_RC" 0 "exit status"
	local line
	for line in "Collector: Udp/127.0.0.1:4739" "Collector: Udp/[::1]:4739" "Direction: Both" \
		"Interval: 60000 ms"; do
		grep -qxF "$line" "$LC_OUT" || fail "check of the example does not print \"$line\""
	done
}

# --collector adds to the file's collectors in check too.
test_check_extra_collector() {
	require_flowmeta
	local conf=$FM_LOG_DIR/one.json
	lc_raw_config "$conf" '{"FlowMetadata": {"IpFixCollectors": ["Udp/127.0.0.1:4750"]}}'
	lc_run "" check -c "$conf" --collector 'Udp/[::1]:4752'
	assert_eq "$LC_RC" 0 "exit status"
	grep -qxF "IpFixCollectors: 2" "$LC_OUT" ||
		fail "two collectors expected: $(tr '\n' '|' <"$LC_OUT")"
	grep -qxF "Collector: Udp/[::1]:4752" "$LC_OUT" || fail "--collector not listed"
}

# ------------------------------------------------------------------------------------------------
# run refusals and defaults

# `run` with a bad --collector: exit 2, one line quoting the spec, nothing attached.
test_run_bad_collector() {	# SPEC REGEX
	require_flowmeta
	lc_single_ns
	local conf=$FM_LOG_DIR/ok.json pin
	pin=$(fm_pin_dir "$LC_IF")
	fm_register_attach "$LC_NS" "$LC_IF"
	lc_config "$conf" '{}'
	lc_run "$LC_NS" run -i "$LC_IF" --pin-dir "$pin" -c "$conf" --collector "$1"
	assert_eq "$LC_RC" 2 "exit status"
	lc_assert_one_line "$2" "run --collector $1"
	lc_assert_nothing_attached "$LC_NS" "$LC_IF" "$pin" "after a bad --collector"
}

# `run -c` naming a file that does not exist: exit 2 (only the default path may be missing).
test_run_missing_named_file() {
	require_flowmeta
	lc_single_ns
	local pin
	pin=$(fm_pin_dir "$LC_IF")
	fm_register_attach "$LC_NS" "$LC_IF"
	lc_run "$LC_NS" run -i "$LC_IF" --pin-dir "$pin" -c "$FM_LOG_DIR/nosuch.json"
	assert_eq "$LC_RC" 2 "exit status"
	lc_assert_one_line 'nosuch\.json' "run -c with a missing file"
	lc_assert_nothing_attached "$LC_NS" "$LC_IF" "$pin" "after a missing -c file"
}

# `run` without -c when the default file does not exist: built-in defaults (SPEC §3), collectors
# from --collector; the collector gets the templates at start; SIGTERM ends it with exit 0.
test_run_builtin_defaults() {
	require_flowmeta
	require_cmd ipfixDump socat
	[ ! -e /etc/flowmeta/flowmeta.json ] ||
		skip "/etc/flowmeta/flowmeta.json exists on this machine: the default config is not missing"
	lc_single_ns
	FM_NS_A=$LC_NS
	lc_coll_start "$LC_PORT1" "$LC_NS"
	lc_start "$LC_NS" "$LC_IF" --collector "$(coll_dest "$LC_PORT1")"
	local defaults="poll 60000 ms, interval 0 ms, idle timeout 60000 ms, direction Both" domain
	grep -q "^info: metering $LC_IF .*$defaults, 1 collector(s)\$" "$FM_LOG" ||
		fail "not the built-in defaults: $(grep metering "$FM_LOG")"
	wait_until 10 lc_has_templates "$LC_PORT1" 1 || fail "no templates at the collector"
	# The interface has no address: the domain comes from the machine id and its name.
	domain=$("$FM_PY" "$FM_TOOLS/ipfix_options.py" domain-machine "$LC_IF")
	grep -q "^warning: ObservationDomainId $domain, derived from machine-id and $LC_IF: " \
		"$FM_LOG" || fail "no warning about the domain: $(grep Domain "$FM_LOG")"
	assert_eq "$(lc_messages "$LC_PORT1" | awk '{print $1, $2, $3, $6}')" "0 0 $domain 0" \
		"collector: one template message (index, sequence, domain, no flow record)"
	fm_stop "$FM_PID"
	assert_eq "$FM_EXIT" 0 "exit status on SIGTERM"
	lc_assert_nothing_attached "$LC_NS" "$LC_IF" "$(fm_pin_dir "$LC_IF")" "after SIGTERM"
}

# The same without any collector: the no-collector warning, metering all the same.
test_run_builtin_defaults_no_collector() {
	require_flowmeta
	[ ! -e /etc/flowmeta/flowmeta.json ] ||
		skip "/etc/flowmeta/flowmeta.json exists on this machine: the default config is not missing"
	lc_single_ns
	lc_start "$LC_NS" "$LC_IF"
	grep -q '^warning: .*no collector' "$FM_LOG" || fail "no warning: $(tr '\n' '|' <"$FM_LOG")"
	assert_eq "$(lc_prog_ids "$LC_NS" "$LC_IF" | grep -c . || true)" 2 "programs attached"
	fm_stop "$FM_PID"
	assert_eq "$FM_EXIT" 0 "exit status on SIGTERM"
}

# ------------------------------------------------------------------------------------------------
# Pinned maps

# `bpftool map dump pinned DIR/flows` prints the key and value fields by name (the map has BTF),
# with the ping's counts.
test_bpftool_dump() {
	require_flowmeta
	require_cmd bpftool socat ping
	topo_overlay tun
	local conf=$FM_LOG_DIR/flowmeta.json dump=$FM_LOG_DIR/dump.json field
	lc_config "$conf" '{"IdleTimeout": 60000}'
	lc_start "$FM_NS_A" "$FM_IF_A" -c "$conf"
	send_ping "$FM_NS_A" "$FM_B4" 3 100
	bpftool -j map dump pinned "$(fm_pin_dir "$FM_IF_A")/flows" >"$dump" ||
		fail "bpftool map dump failed"
	for field in src_addr dst_addr src_port dst_port protocol ip_version direction verdict \
		packets octets first_seen_jiffies last_seen_jiffies tcp_flags; do
		grep -q "\"$field\"" "$dump" || fail "field $field not in the dump: $(head -c 400 "$dump")"
	done
	# Summed over CPUs, the echo-request flow (key dst_port 2048) holds the 3 pings.
	local got
	got=$("$FM_PY" "$FM_TOOLS/jsonq.py" "$dump" \
		'[(sum(v["value"]["packets"] for v in f["values"]), sum(v["value"]["octets"] for v in f["values"])) for f in (e["formatted"] for e in d) if f["key"]["dst_port"] == 2048 and f["key"]["protocol"] == 1]')
	assert_eq "$got" "$SENT_PACKETS $SENT_OCTETS" \
		"echo-request flow in the bpftool dump (packets octets)"
	# The text form (what an operator types) names the fields as well.
	bpftool map dump pinned "$(fm_pin_dir "$FM_IF_A")/flows" >"$FM_LOG_DIR/dump.txt"
	for field in src_addr packets octets; do
		grep -q "\"$field\": " "$FM_LOG_DIR/dump.txt" || fail "text dump without \"$field\""
	done
}

# SPEC §7: where /sys/fs/bpf is not a bpffs (`ip netns exec`, a fresh machine), `run` mounts one
# and says so, and meters. Tried without touching the host: flowmeta runs in a mount namespace of
# its own (private propagation) where a tmpfs hides the host's bpffs; its pins live there only,
# and `flowmeta flows` entered into the same mount namespace counts the pings exactly.
test_run_mounts_bpffs() {
	require_flowmeta
	require_cmd unshare nsenter socat ping
	# shellcheck disable=SC2034 # ns_new's namespace prefix (tests/lib.sh)
	FM_NS_PREFIX=fmT
	topo_overlay tun
	local conf=$FM_LOG_DIR/flowmeta.json pin flows=$FM_LOG_DIR/flows.json mnt
	pin=$(fm_pin_dir "$FM_IF_A")
	lc_config "$conf" '{"IdleTimeout": 60000}'
	fm_register_attach "$FM_NS_A" "$FM_IF_A"
	FM_LOG=$FM_LOG_DIR/run-private-mounts.log
	# unshare and nsenter exec (no fork): the pid is flowmeta's, stopped at cleanup.
	bg_start "$FM_LOG" "" unshare --mount --propagation private -- sh -c \
		'mount -t tmpfs -o size=64k,mode=0700 fmT-not-bpffs /sys/fs/bpf &&
		exec nsenter --net="/run/netns/$1" -- "$2" run -i "$3" --pin-dir "$4" -c "$5"' \
		sh "$FM_NS_A" "$FM_BIN" "$FM_IF_A" "$pin" "$conf"
	FM_PID=$BG_PID
	fm_forget_pid "$FM_PID"
	FM_FM_PIDS+=("$FM_PID")
	fm_wait_metering
	assert_eq "$(lc_log_count '^info: /sys/fs/bpf was not a bpffs: mounted one')" 1 \
		"log lines saying bpffs was mounted ($(tr '\n' '|' <"$FM_LOG"))"
	mnt=/proc/$FM_PID/ns/mnt
	assert_eq "$(nsenter --mount="$mnt" stat -f -c %T /sys/fs/bpf)" bpf_fs \
		"/sys/fs/bpf in flowmeta's mount namespace"
	# The host's bpffs is untouched and does not see these pins.
	assert_eq "$(stat -f -c %T "$FM_BPFFS")" bpf_fs "the host's /sys/fs/bpf"
	[ ! -e "$pin" ] || fail "the pins of the private bpffs are visible on the host: $pin"
	send_ping "$FM_NS_A" "$FM_B4" 4 100
	nsenter --mount="$mnt" --net="/run/netns/$FM_NS_A" -- "$FM_BIN" flows -i "$FM_IF_A" \
		--pin-dir "$pin" --json >"$flows" || fail "flowmeta flows in its mount namespace"
	assert_flow "$flows" egress 1 "$FM_A4" "$FM_B4" 0 "$LC_ICMP_ECHO" "$SENT_PACKETS" \
		"$SENT_OCTETS"
	assert_flow "$flows" ingress 1 "$FM_B4" "$FM_A4" 0 0 "$SENT_PACKETS" "$SENT_OCTETS"
	assert_eq "$(fm_flow_count "$flows")" 2 "flows in the table"
	fm_stop "$FM_PID"
	assert_eq "$FM_EXIT" 0 "exit status on SIGTERM"
}

# A --pin-dir that is not on a bpffs is refused (exit 1, one line) and nothing is created for it:
# not the directory, not the missing levels above it (the nearest existing ancestor is checked
# before any mkdir). An existing directory that is not on a bpffs is refused with nothing created
# in it.
test_pin_dir_not_on_bpffs() {
	require_flowmeta
	lc_single_ns
	local conf=$FM_LOG_DIR/flowmeta.json base=$FM_LOG_DIR/not-bpffs
	lc_config "$conf" '{}'
	lc_run "$LC_NS" run -i "$LC_IF" --pin-dir "$base/a/b" -c "$conf"
	assert_eq "$LC_RC" 1 "exit status of run with a --pin-dir under a tmpfs or disk"
	lc_assert_one_line "pin directory $base/a/b not created: $FM_LOG_DIR is not on a bpffs" \
		"run with a --pin-dir outside bpffs"
	[ ! -e "$base" ] || fail "$base was created: $(find "$base" | tr '\n' ' ')"
	mkdir "$base"
	lc_run "$LC_NS" run -i "$LC_IF" --pin-dir "$base" -c "$conf"
	assert_eq "$LC_RC" 1 "exit status of run with an existing --pin-dir outside bpffs"
	lc_assert_one_line "pin directory $base is not on a bpffs" "run with an existing dir"
	assert_eq "$(ls -A "$base")" "" "files created in $base"
	assert_eq "$(attached_progs "$LC_NS" "$LC_IF")" "" "programs attached after the refusals"
}

# The directory levels flowmeta creates for a --pin-dir (here two below an existing one on the
# bpffs) are recorded in its marker and removed by its stop, while the existing one stays.
test_pin_dir_levels_created_are_removed() {
	require_flowmeta
	lc_single_ns
	local conf=$FM_LOG_DIR/flowmeta.json top=$FM_BPFFS/fmE-$FM_TEST_NAME-$FM_ID-top
	FM_PINS+=("$top")
	lc_config "$conf" '{}'
	mkdir -m 0700 "$top"
	bg_start "$FM_LOG_DIR/run.log" "$LC_NS" "$FM_BIN" run -i "$LC_IF" --pin-dir "$top/a/b" \
		-c "$conf"
	FM_PID=$BG_PID
	FM_LOG=$FM_LOG_DIR/run.log
	fm_wait_metering
	[ -e "$top/a/b/flows" ] || fail "no flows pinned in $top/a/b: $(find "$top" | tr '\n' ' ')"
	fm_stop "$FM_PID"
	assert_eq "$FM_EXIT" 0 "exit status on SIGTERM"
	assert_eq "$(ls -A "$top")" "" "left in $top after the stop"
}

# status and flows when nothing is pinned for the interface: a clear message, exit 1.
test_nothing_pinned() {	# status|flows
	require_flowmeta
	lc_single_ns
	local pin=$FM_BPFFS/fmE-$FM_TEST_NAME-$FM_ID-none
	lc_run "$LC_NS" "$1" -i "$LC_IF" --pin-dir "$pin"
	assert_eq "$LC_RC" 1 "exit status of $1 with nothing pinned"
	lc_assert_one_line "nothing pinned for $LC_IF" "$1 with nothing pinned"
	[ ! -e "$pin" ] || fail "$1 created $pin"
}

run_test cli_help_exit_0_lists_commands test_help
run_test cli_version_exit_0_prints_VERSION test_version
run_test cli_unknown_command_exit_2_usage test_usage_error 'unknown command "frobnicate"' frobnicate
run_test cli_unknown_option_exit_2_usage test_usage_error "unrecognized option '--frobnicate'" \
	run --frobnicate
run_test cli_no_command_exit_2_usage test_usage_error 'no command' -v
run_test cli_bad_hook_exit_2_usage test_usage_error 'hook' run -i lo --hook tcx
run_test cli_extra_argument_exit_2_usage test_usage_error 'unexpected argument' status -i lo extra
for cmd in run status flows detach; do
	run_test "cli_${cmd}_without_interface_exit_2" test_missing_interface "$cmd"
done
for cmd in run status flows; do
	run_test "cli_${cmd}_unknown_interface_exit_2_names_it" test_unknown_interface "$cmd"
done
run_test cli_check_good_file_prints_settings test_check_good
run_test cli_check_absent_keys_print_defaults test_check_defaults
run_test cli_check_packaged_example test_check_packaged
run_test cli_check_collector_option_adds test_check_extra_collector
run_test cli_check_missing_file_exit_2 test_check_missing_file
run_test cli_check_without_c_exit_2 test_check_without_file
run_test cli_check_bad_json_exit_2_position test_check_bad '{"FlowMetadata": {"Enabled": tru}}' \
	':1:[0-9]+: JSON syntax error'
run_test cli_check_unknown_key_exit_2 test_check_bad '{"FlowMetadata": {"Intervall": 0}}' \
	'FlowMetadata\.Intervall'
run_test cli_check_case_of_key_exit_2 test_check_bad '{"FlowMetadata": {"direction": "Both"}}' \
	'FlowMetadata\.direction'
run_test cli_check_negative_interval_exit_2 test_check_bad '{"FlowMetadata": {"Interval": -1}}' \
	'FlowMetadata\.Interval.*-1'
run_test cli_check_enabled_not_bool_exit_2 test_check_bad '{"FlowMetadata": {"Enabled": "yes"}}' \
	'FlowMetadata\.Enabled'
run_test cli_check_collector_no_brackets_exit_2 test_check_bad \
	'{"FlowMetadata": {"IpFixCollectors": ["Udp/2001:db8::5:4739"]}}' 'IpFixCollectors.*bracket'
run_test cli_check_collector_sctp_exit_2 test_check_bad \
	'{"FlowMetadata": {"IpFixCollectors": ["Sctp/127.0.0.1:4739"]}}' 'IpFixCollectors.*(UDP|Udp)'
run_test cli_check_collector_twice_as_ipv4_mapped_exit_2 test_check_bad \
	'{"FlowMetadata": {"IpFixCollectors": ["Udp/127.0.0.1:4971",
		"Udp/[::ffff:127.0.0.1]:4971"]}}' \
	'IpFixCollectors\[1\].*same address and port as collector "Udp/127\.0\.0\.1:4971"'
run_test cli_check_collectors_not_array_exit_2 test_check_bad \
	'{"FlowMetadata": {"IpFixCollectors": "Udp/127.0.0.1:4739"}}' 'FlowMetadata\.IpFixCollectors'
run_test cli_check_max_message_too_small_exit_2 test_check_bad \
	'{"FlowMetadata": {"MaxMessageSize": 100}}' 'FlowMetadata\.MaxMessageSize.*100'
run_test cli_check_not_an_object_exit_2 test_check_bad '[1, 2]' '.'
run_test cli_run_collector_tcp_exit_2 test_run_bad_collector 'Tcp/127.0.0.1:4739' \
	'Tcp/127\.0\.0\.1:4739.*(UDP|Udp)'
run_test cli_run_collector_no_port_exit_2 test_run_bad_collector 'Udp/127.0.0.1' \
	'Udp/127\.0\.0\.1.*PORT'
run_test cli_run_collector_port_out_of_range_exit_2 test_run_bad_collector 'Udp/127.0.0.1:70000' \
	'70000'
run_test cli_run_collector_ipv6_no_brackets_exit_2 test_run_bad_collector 'Udp/::1:4739' \
	'bracket'
run_test cli_run_collector_hostname_exit_2 test_run_bad_collector 'Udp/collector.example:4739' \
	'collector\.example'
run_test cli_run_missing_named_config_exit_2 test_run_missing_named_file
run_test cli_run_missing_default_config_builtin_defaults test_run_builtin_defaults
run_test cli_run_missing_default_config_no_collector_warns test_run_builtin_defaults_no_collector
run_test cli_bpftool_dump_pinned_flows_named_fields test_bpftool_dump
run_test cli_run_mounts_bpffs_where_none_and_meters test_run_mounts_bpffs
run_test cli_pin_dir_not_on_bpffs_refused_never_created test_pin_dir_not_on_bpffs
run_test cli_pin_dir_levels_flowmeta_created_removed_on_stop test_pin_dir_levels_created_are_removed
run_test cli_status_nothing_pinned_exit_1 test_nothing_pinned status
run_test cli_flows_nothing_pinned_exit_1 test_nothing_pinned flows
finish_tests
