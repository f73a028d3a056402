// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The daemon's view of the flow clock (bpf/flow.h stamps flows with jiffies): a syscall program,
 * run with BPF_PROG_RUN (user/clockprog.c), that reads jiffies together with CLOCK_MONOTONIC, or
 * waits for the next tick and says when it began. user/clock.c derives HZ and the start of each
 * tick on CLOCK_MONOTONIC from what it returns. Its own object: it needs no map, and the views
 * (`flowmeta flows`) run it without touching the pinned programs.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "flowmeta.h"

struct spin {
	__u64 start;	/* jiffies when the wait began */
	__u64 jiffies, mono_ns, before_ns;
	__u32 found;
};

static long spin_once(__u64 index, void *ctx)
{
	struct spin *s = ctx;
	__u64 j = bpf_jiffies64();
	__u64 t = bpf_ktime_get_ns();

	if (j == s->start) {
		s->before_ns = t;
		return 0;
	}
	s->jiffies = j;
	s->mono_ns = t;
	s->found = 1;
	return 1;
}

SEC("syscall")
int flowmeta_clock(struct flow_clock_sample *ctx)
{
	struct spin s = { 0 };

	s.start = bpf_jiffies64();
	s.before_ns = bpf_ktime_get_ns();
	if (ctx->edge)
		bpf_loop(FLOWMETA_CLOCK_SPINS, spin_once, &s, 0);
	if (!s.found) {
		s.jiffies = s.start;
		s.mono_ns = s.before_ns;
	}
	ctx->jiffies = s.jiffies;
	ctx->mono_ns = s.mono_ns;
	ctx->before_ns = s.before_ns;
	ctx->found = s.found;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
