// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Silences the peer's IP stack in the adversarial tests (tests/lib_adv.sh adv_silence_peer): on
 * the TC egress of node B's overlay device it drops everything B's own stack sends (a RST, a
 * neighbour advertisement), so that the only frames crossing node A's ingress hook are the
 * corpus, which the test driver writes past this hook (PACKET_QDISC_BYPASS). Then A's device
 * counters say exactly when the corpus frames sent so far have been judged by A's hook.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

__attribute__((section("tc"), used)) int adv_silence(struct __sk_buff *skb)
{
	return TC_ACT_SHOT;
}

char _license[] __attribute__((section("license"), used)) = "GPL";
