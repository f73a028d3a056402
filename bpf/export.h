/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The kernel half of crash-safe export (include/flowmeta.h explains the transactions; user/journal.c
 * drives them): the pinned journal maps, the program that applies a transaction's intents in one
 * run, and the cgroup egress program that counts the datagrams leaving the daemon's collector
 * sockets. Neither program is on the packet path of the overlay: the daemon runs the first with
 * BPF_PROG_RUN and attaches the second to its own cgroup while it lives.
 */
#ifndef FLOWMETA_BPF_EXPORT_H
#define FLOWMETA_BPF_EXPORT_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "maps.h"

/* The transaction header: one element, written by the daemon, results written by the program. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct export_journal);
} journal SEC(".maps");

/* Two halves each (journal.c): a transaction goes into the one its predecessor does not use. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct journal_intents);
} journal_intents SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct journal_chunks);
} journal_chunks SEC(".maps");

/* Per traced socket: datagrams that left it. Pinned: a restarted daemon reads what its
 * predecessor's sockets sent. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FLOWMETA_TRACE_SLOTS);
	__type(key, __u32);
	__type(value, struct send_trace);
} send_trace SEC(".maps");

/* Socket cookie of each collector socket -> its slot in send_trace. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FLOWMETA_TRACE_SLOTS);
	__type(key, __u64);
	__type(value, __u32);
} trace_socks SEC(".maps");

struct apply_sum {
	const struct flow_key *key;
	__u64 packets;
	bool present;
};

/* A flow's table: forwarded flows in `flows`, drop flows in `drop_flows` (bpf/maps.h). */
static long apply_sum_cpu(__u64 cpu, void *ctx)
{
	struct apply_sum *s = ctx;
	struct flow_value *v;

	if (s->key->verdict == FLOW_VERDICT_FORWARDED)
		v = bpf_map_lookup_percpu_elem(&flows, s->key, (__u32)cpu);
	else
		v = bpf_map_lookup_percpu_elem(&drop_flows, s->key, (__u32)cpu);

	if (v) {
		s->present = true;
		s->packets += v->packets;
	}
	return 0;
}

struct apply_ctx {
	struct journal_intents *half;	/* the transaction's */
	__u32 ncpus;
	__u32 grew;
};

/*
 * A flow's state as exported: written in place when it exists (the daemon is its only reader:
 * no other writer races it), inserted otherwise.
 */
static __always_inline void state_write(const struct export_intent *in)
{
	struct flow_export_state *st = bpf_map_lookup_elem(&export_state, &in->key);

	if (st)
		*st = in->state;
	else
		bpf_map_update_elem(&export_state, &in->key, &in->state, BPF_ANY);
}

/*
 * One intent. An ended flow is deleted only if its packets, summed over every possible CPU, are
 * still the ones its last record exported: a packet that arrived since keeps the flow (its state
 * then says what was exported, and the flow goes on). A packet that lands on another CPU between
 * the sum and the delete is the one race left: nanoseconds, and it exists for any per-CPU map.
 */
static long apply_one(__u64 index, void *ctx)
{
	struct apply_ctx *a = ctx;
	struct apply_sum sum = { 0 };
	struct export_intent *in;

	if (index >= FLOWMETA_JOURNAL_INTENTS)
		return 1;
	in = &a->half->intent[index];
	if (in->kind == INTENT_EXPORTED) {
		state_write(in);
		in->result = INTENT_APPLIED;
		return 0;
	}
	if (in->kind == INTENT_FORGET) {
		bpf_map_delete_elem(&export_state, &in->key);
		in->result = INTENT_APPLIED;
		return 0;
	}
	sum.key = &in->key;
	bpf_loop(a->ncpus, apply_sum_cpu, &sum, 0);
	if (!sum.present) {
		bpf_map_delete_elem(&export_state, &in->key);
		in->result = INTENT_ABSENT;
	} else if (sum.packets == in->state.packets) {
		if (in->key.verdict == FLOW_VERDICT_FORWARDED)
			bpf_map_delete_elem(&flows, &in->key);
		else
			bpf_map_delete_elem(&drop_flows, &in->key);
		bpf_map_delete_elem(&export_state, &in->key);
		in->result = INTENT_APPLIED;
	} else {
		state_write(in);
		in->result = INTENT_GREW;
		a->grew++;
	}
	return 0;
}

/*
 * Apply the n_intents intents of the journal's transaction. Returns the number applied, plus
 * 65536 times the number of ended flows that had grown (the daemon then reads the results).
 */
static __always_inline int export_apply(void)
{
	struct export_journal *j;
	struct apply_ctx a = { 0 };
	__u32 zero = 0, n, half;
	long applied;

	j = bpf_map_lookup_elem(&journal, &zero);
	if (!j)
		return 0;
	half = j->half & 1;
	a.half = bpf_map_lookup_elem(&journal_intents, &half);
	if (!a.half)
		return 0;
	n = j->n_intents < FLOWMETA_JOURNAL_INTENTS ? j->n_intents : FLOWMETA_JOURNAL_INTENTS;
	a.ncpus = j->ncpus;
	applied = bpf_loop(n, apply_one, &a, 0);
	if (applied < 0)
		return 0;
	return (int)(applied | a.grew << 16);
}

/*
 * Count a datagram leaving one of the daemon's collector sockets (any other socket of the cgroup
 * costs one hash lookup). Runs after routing and before fragmentation: once per datagram that
 * left, whatever the path does with it later. Always lets it go.
 */
static __always_inline int send_trace_count(struct __sk_buff *skb)
{
	__u64 cookie = bpf_get_socket_cookie(skb);
	struct send_trace *t;
	__u32 *slot;

	slot = bpf_map_lookup_elem(&trace_socks, &cookie);
	if (!slot)
		return 1;
	t = bpf_map_lookup_elem(&send_trace, slot);
	if (t)
		__sync_fetch_and_add(&t->datagrams, skb->gso_segs > 1 ? skb->gso_segs : 1);
	return 1;
}

#endif /* FLOWMETA_BPF_EXPORT_H */
