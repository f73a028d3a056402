# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Helpers of the adversarial end-to-end tests (tests/e2e/adversarial.sh, gso.sh, flood.sh), on top
# of tests/lib.sh (source that first). The corpus generator, the model of the policy and the
# driver that sends frames and records what the receiving IP stacks delivered live in
# tests/tools/adv_*.py.
#
#   adv_topology KIND       topo_overlay KIND, then adv_quiet_stacks, adv_peer_addresses and
#                           adv_silence_peer
#   adv_quiet_stacks NS     no ICMP errors, no echo replies, no reverse-path filter, 1 s
#                           reassembly timeout: the stacks answer nothing that would cross the
#                           hooks besides the corpus, and both runs of a comparison start clean
#   adv_frags_gone          wait until neither stack holds a fragment queue
#   adv_corpus SEED         generate the corpus of this device kind (ADV_CORPUS), seed logged
#   adv_send SELECT WIRE OUT  send (part of) the corpus: tests/tools/adv_drive.py send
#   adv_compare WHAT REF GOT LABEL    adv_drive.py compare; fails with its first problems
#   adv_attach HOOK CONFIG  flowmeta run on A's overlay device, metering; then SIGKILL: the
#                           programs stay attached (SPEC §7) and nothing ends a flow while
#                           the corpus runs, so the pinned flow table holds every count
#   adv_detach              flowmeta detach on A's overlay device
#   adv_setup KIND SEED     adv_topology, adv_corpus, the policy and no-policy configs

ADV_FRAMES=${ADV_FRAMES:-1500}	# frames per direction and device kind

adv_topology() {	# tun|tap|veth
	topo_overlay "$1"
	adv_quiet_stacks "$FM_NS_A"
	adv_quiet_stacks "$FM_NS_B"
	adv_peer_addresses
	adv_silence_peer
	ADV_KIND=eth
	[ "$1" = tun ] && ADV_KIND=l3
	ADV_MAC_A=${FM_MAC_A:--}
	ADV_MAC_B=${FM_MAC_B:--}
}

adv_quiet_stacks() {	# NS
	local ns=$1 dev
	ns_run "$ns" sysctl -qw net.ipv4.icmp_msgs_per_sec=0 net.ipv4.icmp_msgs_burst=0 \
		net.ipv4.icmp_echo_ignore_all=1 net.ipv6.icmp.echo_ignore_all=1 \
		net.ipv4.ipfrag_time=1 net.ipv6.ip6frag_time=1 net.ipv6.auto_flowlabels=0
	for dev in all default $(ip -n "$ns" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1); do
		ns_run "$ns" sysctl -qw "net.ipv4.conf.$dev.rp_filter=0"
	done
}

# Node B answers for every peer of the model's policy (tests/tools/adv_model.py): 100.64.0.2-15,
# fd00:64::2-f and the IPv4-compatible and NAT64 spellings, so that frames the node sends them
# reach a socket there.
adv_peer_addresses() {
	local i
	for i in $(seq 3 15); do
		ip -n "$FM_NS_B" addr add "100.64.0.$i/32" dev "$FM_IF_B"
		ip -n "$FM_NS_B" -6 addr add "fd00:64::$(printf %x "$i")/128" dev "$FM_IF_B" nodad
	done
	for i in ::100.64.0.7 ::100.64.0.2 64:ff9b::100.64.0.7; do
		ip -n "$FM_NS_B" -6 addr add "$i/128" dev "$FM_IF_B" nodad
	done
}

# Drop what B's own stack sends on its overlay device (tests/tools/adv_silence.bpf.c); the
# driver's frames bypass that hook.
adv_silence_peer() {
	local obj=$FM_RUN_DIR/adv_silence.bpf.o
	if [ ! -e "$obj" ]; then
		clang -O2 -target bpf -I"/usr/include/$(gcc -print-multiarch)" \
			-c "$FM_TOOLS/adv_silence.bpf.c" -o "$obj.tmp" || skip "cannot build adv_silence.bpf.c"
		mv "$obj.tmp" "$obj"
	fi
	ns_run "$FM_NS_B" tc qdisc add dev "$FM_IF_B" clsact
	ns_run "$FM_NS_B" tc filter add dev "$FM_IF_B" egress bpf da obj "$obj" sec tc ||
		fail "cannot attach adv_silence.bpf.o to $FM_IF_B"
}

fm_frag_queues() {	# NS -> fragment queues held (IPv4 + IPv6)
	ns_run "$1" cat /proc/net/sockstat /proc/net/sockstat6 |
		awk '/^FRAG6?:/ {n += $3} END {print n + 0}'
}

adv_no_frags() {
	[ "$(fm_frag_queues "$FM_NS_A")" -eq 0 ] && [ "$(fm_frag_queues "$FM_NS_B")" -eq 0 ]
}

adv_frags_gone() {
	wait_until 10 adv_no_frags || fail "fragment queues never expired"
}

adv_corpus() {	# SEED
	ADV_SEED=$1
	ADV_CORPUS=$FM_LOG_DIR/corpus-$ADV_KIND.jsonl
	log "corpus seed $ADV_SEED, $ADV_FRAMES frames per direction, device kind $ADV_KIND"
	"$FM_PY" "$FM_TOOLS/adv_corpus.py" gen "$ADV_SEED" "$ADV_KIND" "$ADV_MAC_A" "$ADV_MAC_B" \
		"$ADV_FRAMES" "$ADV_CORPUS" >&2 || fail "corpus generation failed"
}

adv_send() {	# SELECT WIRE OUT
	adv_frags_gone
	"$FM_PY" "$FM_TOOLS/adv_drive.py" send "$ADV_CORPUS" "$1" "$FM_NS_A" "$FM_IF_A" "$FM_NS_B" \
		"$FM_IF_B" "$ADV_KIND" "$2" "$3" >&2 || fail "sending the corpus ($1) failed"
}

# A comparison that fails is logged and remembered: the test goes on with its other hooks and
# adv_verdict ends it with the first problem of each.
ADV_PROBLEMS=()
adv_compare() {	# policy|meter REF GOT LABEL
	local out=$FM_LOG_DIR/compare-$RANDOM.txt
	if ! "$FM_PY" "$FM_TOOLS/adv_drive.py" compare "$1" "$ADV_CORPUS" "$2" "$3" "$4" >"$out"; then
		cat "$out" >&2
		ADV_PROBLEMS+=("$(grep -c '^FAILED' "$out") problems, first: $(grep -m 1 '^FAILED' "$out" | cut -c 8-300)")
	fi
	grep '^figures' "$out" >&2
}

adv_verdict() {
	[ ${#ADV_PROBLEMS[@]} -eq 0 ] || fail "$(printf '%s | ' "${ADV_PROBLEMS[@]}")"
}

adv_attach() {	# HOOK CONFIG
	fm_start "$FM_NS_A" "$FM_IF_A" -c "$2" --hook "$1"
	fm_wait_metering
	fm_kill9 "$FM_PID"
}

adv_detach() {
	fm_cmd "$FM_NS_A" detach "$FM_IF_A" >/dev/null || fail "flowmeta detach -i $FM_IF_A failed"
}

# The overlay of KIND, the corpus of seed SEED, POLICY (the model's) and NOPOLICY configs.
adv_setup() {	# KIND SEED
	require_flowmeta
	require_cmd socat
	adv_topology "$1"
	adv_corpus "$2"
	POLICY=$FM_LOG_DIR/policy.json
	"$FM_PY" "$FM_TOOLS/adv_corpus.py" config "$POLICY"
	"$FM_BIN" check -c "$POLICY" >"$FM_LOG_DIR/check.txt" 2>&1 ||
		fail "flowmeta check rejects the model's policy: $(tail -n 1 "$FM_LOG_DIR/check.txt")"
	NOPOLICY=$FM_LOG_DIR/nopolicy.json
	echo '{"FlowMetadata": {"PollInterval": 60000, "IdleTimeout": 600000}}' >"$NOPOLICY"
}

# `status --json` of A's device into FILE.
adv_status() {	# FILE
	fm_cmd "$FM_NS_A" status "$FM_IF_A" --json >"$1" || fail "flowmeta status failed"
}
