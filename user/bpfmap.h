/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Helpers for whole-map operations on BPF maps, by file descriptor: emptying a map, or deleting the
 * keys a predicate does not keep. Used by the policy (its trie and connection table) and the
 * exporter (export_state at a forced end). Also the kernel memory of a map.
 */
#ifndef FLOWMETA_BPFMAP_H
#define FLOWMETA_BPFMAP_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Delete every key of the map that keep(key, ctx) rejects; keep NULL deletes every key. Returns 0
 * or -errno. A key gone meanwhile (an LRU eviction) is not an error: gone is what was wanted.
 * Without keep, a hash or LRU hash map is emptied in batches (bpf_map_lookup_and_delete_batch);
 * otherwise, and for maps without batch operations (LPM trie), all keys are read first, then the
 * rejected ones deleted one by one.
 */
int bpfmap_delete_keys(int fd, bool (*keep)(const void *key, const void *ctx), const void *ctx);

/*
 * The kernel's own account of the memory of a map (the `memlock` line of its fdinfo, what
 * `bpftool map show` prints), in *bytes. 0, or a negative errno (-ENOENT: a kernel without it).
 */
int bpfmap_memlock(int fd, uint64_t *bytes);

#endif /* FLOWMETA_BPFMAP_H */
