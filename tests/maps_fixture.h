/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The maps the exporter reads, created empty with bpf_map_create (no BPF program, nothing pinned)
 * for the exporter tests (tests/unit/exporter_test.c) and the export benchmark
 * (bench/export_bench.c), which fill them by hand: the flow table, the stats counters and the
 * export state, with the production key and value types. Every other map of struct flowmeta_maps
 * is absent (-1), as the exporter allows.
 */
#ifndef FLOWMETA_TESTS_MAPS_FIXTURE_H
#define FLOWMETA_TESTS_MAPS_FIXTURE_H

#include <bpf/bpf.h>
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "flowmeta.h"
#include "loader.h"

/* Close what maps_fixture_open() created; every map is absent (-1) afterwards. */
static inline void maps_fixture_close(struct flowmeta_maps *m)
{
	int *fds[] = { &m->flows, &m->stats, &m->export_state };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

/* One map into *fd: 0, or a negative errno with *fd -1. */
static inline int maps_fixture_create(int *fd, enum bpf_map_type type, const char *name,
				      __u32 key_size, __u32 value_size, __u32 max_entries)
{
	*fd = bpf_map_create(type, name, key_size, value_size, max_entries, NULL);
	if (*fd >= 0)
		return 0;
	*fd = -1;
	return -errno;
}

/*
 * The flow table (per-CPU hash) and export state (hash) of max_entries flows, and the stats
 * counters (per-CPU array of one). Returns 0, or a negative errno with nothing left open.
 */
static inline int maps_fixture_open(struct flowmeta_maps *m, uint32_t max_entries)
{
	int err;

	*m = FLOWMETA_MAPS_NONE;
	err = maps_fixture_create(&m->flows, BPF_MAP_TYPE_PERCPU_HASH, "flows",
				  sizeof(struct flow_key), sizeof(struct flow_value),
				  max_entries) ?:
	      maps_fixture_create(&m->stats, BPF_MAP_TYPE_PERCPU_ARRAY, "stats", sizeof(__u32),
				  sizeof(struct flowmeta_stats), 1) ?:
	      maps_fixture_create(&m->export_state, BPF_MAP_TYPE_HASH, "export_state",
				  sizeof(struct flow_key), sizeof(struct flow_export_state),
				  max_entries);
	if (err)
		maps_fixture_close(m);
	return err;
}

#endif /* FLOWMETA_TESTS_MAPS_FIXTURE_H */
