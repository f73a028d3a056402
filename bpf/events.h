/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Ring-buffer events: a hint that the daemon should look at a flow now (TCP end, policy drop)
 * rather than at its next poll. The counts always come from the flow map, so a lost event delays a
 * record but loses no traffic; it is counted in stats.events_lost all the same.
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
	ev->timestamp_ns = now;
	ev->type = type;
	ev->pad = 0;
	bpf_ringbuf_submit(ev, 0);
}

#endif /* FLOWMETA_BPF_EVENTS_H */
