/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Ring-buffer events: a hint that the daemon should look at a flow now (TCP end, policy drop), or
 * make room in a full table, rather than at its next poll. The counts always come from the maps,
 * so a lost event delays a record but loses no traffic; it is counted in stats.events_lost all the
 * same. The events a flood raises at every packet are rate-limited per CPU (`event_budget`).
 */
#ifndef FLOWMETA_BPF_EVENTS_H
#define FLOWMETA_BPF_EVENTS_H

#include "maps.h"

static __always_inline void event_emit(const struct flow_key *key, __u32 type, __u64 now)
{
	struct flow_event *ev;
	struct flowmeta_stats *st;

	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		st = stats_this_cpu();
		if (st)
			st->events_lost++;
		return;
	}
	__builtin_memcpy(&ev->key, key, sizeof(ev->key));
	ev->timestamp_jiffies = now;
	ev->type = type;
	ev->pad = 0;
	bpf_ringbuf_submit(ev, 0);
}

/*
 * This CPU's event budget, renewed when the window has moved on. Windows are of CLOCK_MONOTONIC in
 * ns (coarse: the last tick's time), not of the flow clock, whose tick length the kernel programs
 * do not know; only the paths that raise these events read it.
 */
static __always_inline struct event_budget *event_budget_now(void)
{
	__u64 window = bpf_ktime_get_coarse_ns() >> FLOWMETA_DROP_EVENT_WINDOW_SHIFT;
	struct event_budget *b;
	__u32 zero = 0;

	b = bpf_map_lookup_elem(&event_budget, &zero);
	if (b && b->window != window) {
		b->window = window;
		b->drop_events = 0;
		b->table_full_events = 0;
		b->drop_table_full_events = 0;
	}
	return b;
}

/*
 * A table refused an insert (type FLOW_EVENT_TABLE_FULL or FLOW_EVENT_DROP_TABLE_FULL): wake the
 * daemon, a few times per window at most. Those held back are not lost: the daemon already knows,
 * and the refused packets are counted.
 */
static __always_inline void table_full_event(__u32 type, __u64 now)
{
	struct event_budget *b = event_budget_now();
	struct flow_key zero_key;
	__u64 *used;

	if (!b)
		return;
	used = type == FLOW_EVENT_TABLE_FULL ? &b->table_full_events : &b->drop_table_full_events;
	if (*used >= FLOWMETA_TABLE_FULL_EVENTS_PER_WINDOW)
		return;
	(*used)++;
	__builtin_memset(&zero_key, 0, sizeof(zero_key));
	event_emit(&zero_key, type, now);
}

#endif /* FLOWMETA_BPF_EVENTS_H */
