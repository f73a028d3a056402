#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Policy differential (SPEC §6, §8, issue 7): the seeded corpus of tests/tools/adv_corpus.py,
# judged frame by frame by the independent model (tests/tools/adv_model.py), sent across a
# two-node overlay (veth, tap or tun) in both directions with flowmeta enforcing the model's
# policy on node A, on TC ingress + TC egress and on XDP ingress + TC egress.
#
# The oracle is the receiving namespace's own IP stack. The reference run sends only the frames
# the model allows, with flowmeta not attached; the enforcing run sends every judged frame
# (allowed and denied, in the same order). What the stacks deliver (raw sockets of every
# protocol, after reassembly) must be the same in both runs: no denied frame reaches a socket,
# no allowed frame is lost, and a denied frame never changes what an allowed one becomes (a
# spoofed first fragment, a reply nothing opened). The wire behind A's egress (and behind XDP)
# must carry exactly the allowed frames too.
#
# Then the reproductions of issue 7's holes, each as its own small corpus: a VID-0 tag stack
# from an untrusted peer, the IPv4-mapped spelling of an untrusted peer, a spoofed duplicate
# first fragment, extension-header chains 9 and 20 deep (allowed traffic: it must arrive).
#
# ADV_SEED fixes the seed (default: a new one, logged); ADV_FRAMES the frames per direction.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../lib_adv.sh"

FM_NS_PREFIX=fmQ
SEED=${ADV_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "# adversarial policy corpus seed $SEED (ADV_SEED=$SEED to repeat)"

# Enforce on HOOK and send every judged frame; compare with the reference REF. The packet tap on
# A's device sees frames before TC ingress, after XDP: under TC only the egress wire is
# compared, under XDP both.
enforce_run() {	# KIND HOOK REF
	local got=$FM_LOG_DIR/got-$2.json wire=out label="$1 $2"
	[ "$2" = xdp ] && wire=in,out
	adv_attach "$2" "$POLICY"
	adv_send both+judged "$wire" "$got"
	adv_compare policy "$3" "$got" "$label"
	adv_detach
}

test_policy_differential() {	# KIND
	adv_setup "$1" "$SEED"
	local ref=$FM_LOG_DIR/ref.json
	adv_send both+allow in,out "$ref"
	enforce_run "$1" tc "$ref"
	enforce_run "$1" xdp "$ref"
	adv_verdict
}

# One reproduction: its frames instead of the seeded corpus, the same comparison.
test_repro() {	# KIND CASE
	require_flowmeta
	require_cmd socat
	adv_topology "$1"
	ADV_CORPUS=$FM_LOG_DIR/repro-$2.jsonl
	"$FM_PY" "$FM_TOOLS/adv_corpus.py" repro "$2" "$ADV_KIND" "$ADV_MAC_A" "$ADV_MAC_B" \
		"$ADV_CORPUS" >&2 || fail "cannot build reproduction $2"
	POLICY=$FM_LOG_DIR/policy.json
	"$FM_PY" "$FM_TOOLS/adv_corpus.py" config "$POLICY"
	local ref=$FM_LOG_DIR/ref.json
	adv_send both+allow in,out "$ref"
	# A reproduction with allowed frames proves something only if they arrive.
	if grep -q '"verdict": "allow"' "$ADV_CORPUS"; then
		[ "$("$FM_PY" "$FM_TOOLS/jsonq.py" "$ref" 'len(d["delivered"])')" -gt 0 ] ||
			fail "no allowed frame of reproduction $2 arrived even without flowmeta"
	fi
	enforce_run "$1 $2" tc "$ref"
	enforce_run "$1 $2" xdp "$ref"
	adv_verdict
}

for kind in veth tap tun; do
	run_test "adversarial_policy_differential_$kind" test_policy_differential "$kind"
done
for case in vlan_priority_stack mapped_untrusted spoofed_first_fragment deep_extension_chain; do
	run_test "adversarial_policy_repro_${case}_veth" test_repro veth "$case"
done
run_test adversarial_policy_repro_mapped_untrusted_tun test_repro tun mapped_untrusted
run_test adversarial_policy_repro_spoofed_first_fragment_tun test_repro tun spoofed_first_fragment
finish_tests
