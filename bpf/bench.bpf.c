// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Benchmark-only programs, never attached: an empty TC program (the cost of BPF_PROG_TEST_RUN
 * itself, the baseline), the floors under any flow meter built on the per-CPU flow map (a bare
 * lookup; a lookup plus the flow clock), and a wrapper that makes every packet a new flow before
 * running the very same inline metering code as flowmeta_tc_ingress (bpf/hooks.h). This object has
 * its own copy of the maps; bench/bpf_bench.c sizes its flow map for each figure.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "hooks.h"

/* Source address of the next new flow, per CPU, so no two packets share a key. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} bench_seq SEC(".maps");

SEC("tc")
int bench_empty(struct __sk_buff *skb)
{
	return TC_ACT_UNSPEC;
}

/*
 * The floor under any per-packet flow lookup: one lookup of a constant key in this object's flow
 * map (the bench inserts it first, so it hits) and one counter, no parsing. What the meter adds is
 * the rest: mostly the kernel hashing the 40-octet key (jhash2 over ten words) and comparing it.
 */
SEC("tc")
int bench_lookup_only(struct __sk_buff *skb)
{
	struct flow_value *v;
	struct flow_key key;

	__builtin_memset(&key, 0, sizeof(key));
	key.ip_version = 4;
	v = bpf_map_lookup_elem(&flows, &key);
	if (v)
		v->packets++;
	return TC_ACT_UNSPEC;
}

/*
 * The lookup above plus the one other thing every packet of a flow needs: the time of its last
 * packet from the flow clock (bpf/flow.h). No meter that keeps SPEC's counters with this map and
 * this clock can be cheaper; the distance from here to the existing-flow figure is parsing, the
 * policy check and the counters.
 */
SEC("tc")
int bench_lookup_clock(struct __sk_buff *skb)
{
	struct flow_value *v;
	struct flow_key key;

	__builtin_memset(&key, 0, sizeof(key));
	key.ip_version = 4;
	v = bpf_map_lookup_elem(&flows, &key);
	if (v) {
		v->packets++;
		v->last_seen_jiffies = flow_clock();
	}
	return TC_ACT_UNSPEC;
}

/*
 * Rewrite the IPv4 source address of an Ethernet/IPv4 frame from the counter (100.64.0.0/10 holds
 * 4M of them), then meter. The direct write makes the verifier add a bpf_skb_pull_data(skb, 0)
 * prologue, a few ns the production program does not pay: the figure errs on the high side.
 */
SEC("tc")
int bench_new_flow(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct iphdr *iph = data + sizeof(struct ethhdr);
	__u32 zero = 0, *seq;

	if ((void *)(iph + 1) > data_end)
		return TC_ACT_UNSPEC;
	seq = bpf_map_lookup_elem(&bench_seq, &zero);
	if (!seq)
		return TC_ACT_UNSPEC;
	iph->saddr = bpf_htonl(0x64400000 | (*seq & 0x3fffff));
	(*seq)++;
	return flowmeta_tc(skb, FLOW_DIR_INGRESS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
