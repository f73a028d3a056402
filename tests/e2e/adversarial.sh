#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Adversarial end-to-end tests (SPEC §8, issue 7), written as an attacker would: a seeded corpus
# of frames (tests/tools/adv_corpus.py: random and mutated frames, VLAN stacks, IPv4 options,
# IPv6 extension chains, fragment tricks, ICMP errors, address spellings, unsolicited replies,
# truncated headers) sent across a two-node overlay (veth, tap or tun) in both directions, with
# flowmeta on node A. The oracle is the receiving namespace's own IP stack (raw sockets of every
# protocol: what reached a socket), and for frames that left A's egress hook or passed XDP, the
# wire at the receiving device (tests/tools/adv_drive.py).
#
# Metering fuzz (the policy differential on the same corpus is tests/e2e/adversarial_policy.sh): the same corpus without a policy, one direction at a time. Every frame the hook
# saw is in a flow of `flowmeta flows --json` or in a counter of `status --json`, exactly, and
# what the stack delivered is byte for byte what it delivers with flowmeta not attached.
#
# ADV_SEED fixes the seed (default: a new one, logged); ADV_FRAMES the frames per direction.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../lib_adv.sh"

FM_NS_PREFIX=fmV
SEED=${ADV_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "# adversarial corpus seed $SEED (ADV_SEED=$SEED to repeat)"

# ---------------------------------------------------------------------------------------------

# Send one direction of the corpus with flowmeta attached (no policy): every frame the hook saw
# is metered or counted, exactly, and the stack delivered what it did without flowmeta (REF).
meter_run() {	# KIND HOOK DIRECTION WIRE REF
	local dir=$FM_LOG_DIR/meter-$2-$3 label="$1 $2-ingress"
	[ "$3" = out ] && label="$1 tc-egress"
	mkdir -p "$dir"
	adv_status "$dir/status0.json"
	fm_flows "$FM_NS_A" "$FM_IF_A" "$dir/flows0.json"
	adv_send "$3+all" "$4" "$dir/result.json"
	adv_status "$dir/status1.json"
	fm_flows "$FM_NS_A" "$FM_IF_A" "$dir/flows1.json"
	"$FM_PY" "$FM_TOOLS/adv_drive.py" count "$dir/result.json" "$dir/flows0.json" \
		"$dir/flows1.json" "$dir/status0.json" "$dir/status1.json" "$3" "$2" "$label" \
		>"$dir/count.txt" || fail "$(grep FAILED "$dir/count.txt" | cut -c 8-)"
	cat "$dir/count.txt" >&2
	adv_compare meter "$5" "$dir/result.json" "$label"
}

test_metering_fuzz() {	# KIND
	adv_setup "$1" "$SEED"
	local dir=$FM_LOG_DIR
	adv_send in+all in "$dir/ref-in.json"
	adv_send out+all out "$dir/ref-out.json"
	adv_attach tc "$NOPOLICY"
	meter_run "$1" tc in in "$dir/ref-in.json"
	meter_run "$1" tc out out "$dir/ref-out.json"
	adv_detach
	adv_attach xdp "$NOPOLICY"
	meter_run "$1" xdp in in "$dir/ref-in.json"
	adv_detach
	adv_verdict
}

for kind in veth tap tun; do
	run_test "metering_fuzz_$kind" test_metering_fuzz "$kind"
done
finish_tests
