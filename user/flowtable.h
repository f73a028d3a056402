/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Userspace per-flow export state: for each flow that already had a record, the packet and octet
 * sums exported so far and when. A flow without an entry has exported nothing, and its interval
 * runs from its first packet, so only flows with interim records cost memory here. It mirrors the
 * pinned export_state map, which carries the same numbers across a daemon restart.
 *
 * Open addressing with linear probing keyed by the 40-byte flow_key; deletion shifts the following
 * entries back, so there are no tombstones. A pointer returned stays valid only until the next
 * insert (it may grow the table), remove or sweep (both shift entries into the freed slots).
 */
#ifndef FLOWMETA_FLOWTABLE_H
#define FLOWMETA_FLOWTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "flowmeta.h"

struct flow_state {
	struct flow_key key;		/* ip_version 0 marks a free slot */
	uint64_t packets;		/* sums already exported */
	uint64_t octets;
	uint64_t last_export_ns;	/* CLOCK_MONOTONIC time of the last record */
	uint32_t seen;			/* generation of the last poll that found the flow */
	uint8_t loaded;			/* from an earlier daemon, not yet checked with its flow */
	uint8_t ending;			/* its end is in the open transaction */
};

struct flowtable {
	struct flow_state *slots;
	size_t mask;			/* capacity - 1, capacity a power of two */
	size_t count;
	size_t bytes;			/* mapped for slots */
};

/* -ENOMEM. */
int flowtable_init(struct flowtable *t);
void flowtable_free(struct flowtable *t);

struct flow_state *flowtable_find(const struct flowtable *t, const struct flow_key *key);
/* Start loading the cache line where key's entry would be: call a few keys ahead of the lookups. */
void flowtable_prefetch(const struct flowtable *t, const struct flow_key *key);
/* The entry of key, created zeroed (but for its key) when absent; NULL when out of memory. */
struct flow_state *flowtable_insert(struct flowtable *t, const struct flow_key *key);
void flowtable_remove(struct flowtable *t, struct flow_state *s);

static inline size_t flowtable_count(const struct flowtable *t)
{
	return t->count;
}

/*
 * Remove every entry whose seen differs from gen (its flow was not in the map this poll), calling
 * gone(ctx, key) for each first. Returns how many were removed.
 */
size_t flowtable_sweep(struct flowtable *t, uint32_t gen,
		       void (*gone)(void *ctx, const struct flow_key *key), void *ctx);

#endif /* FLOWMETA_FLOWTABLE_H */
