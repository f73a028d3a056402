/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Policy: compile the access-control rules and trust requirements of the configuration (SPEC §6,
 * struct policy_config) into the contents of the kernel's policy maps, and install them atomically
 * (bpf/policy.h judges the packets). The image is exposed for tests.
 */
#ifndef FLOWMETA_POLICY_H
#define FLOWMETA_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "flowmeta.h"
#include "loader.h"

/* One prefix of the LPM trie; key.slot is set at installation. */
struct policy_entry {
	struct policy_peer_key key;
	struct policy_peer value;	/* folded over every prefix of the policy containing it */
};

/* A compiled policy. active false: nothing to enforce (the maps are emptied). */
struct policy_image {
	bool active;
	struct policy_header header;	/* header.gen is set at installation */
	struct policy_entry *entries;	/* sorted by IP version, prefix length, address */
	size_t n_entries;
};

/* Compile pc; -ENOMEM or -E2BIG (more rules or prefixes than the maps hold). */
int policy_compile(const struct policy_config *pc, struct policy_image *img);
void policy_image_free(struct policy_image *img);

/*
 * Compile pc and put it in force on the kernel maps: with one atomic step, after which no running
 * program still sees the previous generation. Remembered connections are judged again by the new
 * rules at their next packet. Logs the outcome once; on error (-errno) the previous policy stays
 * in force.
 */
int policy_apply(const struct flowmeta_maps *maps, const struct policy_config *pc);

#endif /* FLOWMETA_POLICY_H */
