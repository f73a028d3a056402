// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Userspace per-flow export state: an open-addressing hash table keyed by struct flow_key. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "flowtable.h"

#define FLOWTABLE_MIN_SLOTS	1024		/* a power of two */
#define FLOWTABLE_HUGE_BYTES	(16UL << 20)	/* from here on, ask for transparent huge pages */

static inline bool slot_free(const struct flow_state *s)
{
	return s->key.ip_version == 0;
}

/* The key as five 64-bit words, each mixed in with a multiply and a shift (fast, good enough for
 * keys that differ in a few bytes: addresses and ports). */
static inline uint64_t key_hash(const struct flow_key *key)
{
	uint64_t w[sizeof(*key) / sizeof(uint64_t)], h = 0x9e3779b97f4a7c15ULL;

	memcpy(w, key, sizeof(w));
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		h = (h ^ w[i]) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 29);
}

static inline bool key_equal(const struct flow_key *a, const struct flow_key *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/*
 * Slots come from an anonymous mapping (zero pages, untouched ones cost no memory). A large table
 * is probed at random: huge pages save a TLB miss on most lookups.
 */
static int flowtable_alloc(struct flowtable *t, size_t slots)
{
	size_t bytes = slots * sizeof(*t->slots);
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return -ENOMEM;
	if (bytes >= FLOWTABLE_HUGE_BYTES)
		madvise(p, bytes, MADV_HUGEPAGE);
	t->slots = p;
	t->bytes = bytes;
	t->mask = slots - 1;
	t->count = 0;
	return 0;
}

int flowtable_init(struct flowtable *t)
{
	return flowtable_alloc(t, FLOWTABLE_MIN_SLOTS);
}

void flowtable_free(struct flowtable *t)
{
	if (t->slots)
		munmap(t->slots, t->bytes);
	*t = (struct flowtable){ 0 };
}

/* The slot holding key, or the free slot where it would go. */
static struct flow_state *probe(const struct flowtable *t, const struct flow_key *key)
{
	size_t i = key_hash(key) & t->mask;

	for (;; i = (i + 1) & t->mask) {
		struct flow_state *s = &t->slots[i];

		if (slot_free(s) || key_equal(&s->key, key))
			return s;
	}
}

struct flow_state *flowtable_find(const struct flowtable *t, const struct flow_key *key)
{
	struct flow_state *s = probe(t, key);

	return slot_free(s) ? NULL : s;
}

void flowtable_prefetch(const struct flowtable *t, const struct flow_key *key)
{
	__builtin_prefetch(&t->slots[key_hash(key) & t->mask]);
}

static bool too_full(size_t count, size_t slots)
{
	/* Up to 3/4 load: linear probing stays short below that. */
	return count * 4 > slots * 3;
}

static int flowtable_resize(struct flowtable *t, size_t slots)
{
	struct flowtable bigger;
	int err = flowtable_alloc(&bigger, slots);

	if (err)
		return err;
	for (size_t i = 0; i <= t->mask; i++) {
		if (slot_free(&t->slots[i]))
			continue;
		*probe(&bigger, &t->slots[i].key) = t->slots[i];
		bigger.count++;
	}
	flowtable_free(t);
	*t = bigger;
	return 0;
}


struct flow_state *flowtable_insert(struct flowtable *t, const struct flow_key *key)
{
	struct flow_state *s = probe(t, key);

	if (!slot_free(s))
		return s;
	if (too_full(t->count + 1, t->mask + 1)) {
		if (flowtable_resize(t, (t->mask + 1) * 2))
			return NULL;
		s = probe(t, key);
	}
	*s = (struct flow_state){ .key = *key };
	t->count++;
	return s;
}

void flowtable_remove(struct flowtable *t, struct flow_state *s)
{
	size_t hole = (size_t)(s - t->slots), i = hole;

	/* Backward-shift deletion: move up every following entry whose home slot is at or before
	 * the hole (cyclically), so lookups never stop early at the freed slot. */
	for (;;) {
		i = (i + 1) & t->mask;
		if (slot_free(&t->slots[i]))
			break;
		size_t home = key_hash(&t->slots[i].key) & t->mask;

		if (((i - home) & t->mask) >= ((i - hole) & t->mask)) {
			t->slots[hole] = t->slots[i];
			hole = i;
		}
	}
	t->slots[hole] = (struct flow_state){ 0 };
	t->count--;
}

size_t flowtable_sweep(struct flowtable *t, uint32_t gen,
		       void (*gone)(void *ctx, const struct flow_key *key), void *ctx)
{
	size_t removed = 0;

	/* Removal shifts later entries back into the current slot: look at a slot again until it
	 * holds an entry to keep. Entries that wrap from the start to the end were looked at
	 * already, and shifting only moves entries towards their home, so none is skipped. */
	for (size_t i = 0; i <= t->mask; i++) {
		while (!slot_free(&t->slots[i]) && t->slots[i].seen != gen) {
			struct flow_key key = t->slots[i].key;

			if (gone)
				gone(ctx, &key);
			flowtable_remove(t, &t->slots[i]);
			removed++;
		}
	}
	return removed;
}
