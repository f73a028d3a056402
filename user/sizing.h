/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Sizing what grows with the number of possible CPUs (SPEC §7): the kernel memory of the tables
 * that MaxFlows sizes, the largest flow table within MaxFlowMemory, and batch reads of per-CPU maps
 * sized by bytes. Arithmetic only, on a CPU count the caller gives (libbpf_num_possible_cpus() in
 * production), so that a 2-CPU machine can check what 256 possible CPUs would get.
 */
#ifndef FLOWMETA_SIZING_H
#define FLOWMETA_SIZING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One preallocated BPF hash map: what its kernel memory depends on besides its size. */
struct htab_shape {
	bool percpu; /* BPF_MAP_TYPE_PERCPU_HASH: one value per possible CPU */
	uint32_t key_size, value_size;
};

/*
 * Kernel memory of a preallocated hash map of `entries` elements, as the kernel itself accounts it
 * (the `memlock` of /proc/PID/fdinfo and `bpftool map show`, kernel/bpf/hashtab.c
 * htab_map_mem_usage) on x86-64 without lock debugging.
 */
uint64_t sizing_htab_bytes(const struct htab_shape *shape, uint64_t entries, unsigned int ncpus);

/*
 * The tables whose size MaxFlows sets, in the order `flowmeta status` shows them: the flow table,
 * the drop table (flowmeta_drop_flows_capacity(), include/flowmeta.h) and the export state.
 */
enum flow_table_id {
	FLOW_TABLE_FLOWS = 0,
	FLOW_TABLE_DROP_FLOWS,
	FLOW_TABLE_EXPORT_STATE,
	FLOW_TABLE_COUNT
};

extern const char *const flow_table_names[FLOW_TABLE_COUNT];
extern const struct htab_shape flow_table_shapes[FLOW_TABLE_COUNT];

struct flow_tables {
	uint32_t entries[FLOW_TABLE_COUNT];
	uint64_t bytes[FLOW_TABLE_COUNT]; /* sizing_htab_bytes of each */
	uint64_t total_bytes;
};

/* The tables of a flow table of max_flows flows, with their kernel memory at ncpus. */
void sizing_flow_tables(uint32_t max_flows, unsigned int ncpus, struct flow_tables *out);

struct flow_table_choice {
	struct flow_tables tables;
	uint32_t max_flows; /* the size of the flow table */
	bool from_budget;   /* MaxFlows was absent: the largest table within the budget */
	bool over_budget;   /* the tables need more than the budget (see sizing_choose) */
};

/*
 * The flow table size for MaxFlows max_flows (0: absent) and MaxFlowMemory budget_bytes at ncpus
 * possible CPUs. An explicit MaxFlows is taken as it is (over_budget says whether it exceeds the
 * budget); without one, the largest size from CONFIG_MIN_FLOWS to FLOWMETA_DEFAULT_MAX_FLOWS whose
 * tables fit the budget, or CONFIG_MIN_FLOWS (over_budget) when not even that fits.
 */
void sizing_choose(uint32_t max_flows, uint64_t budget_bytes, unsigned int ncpus,
		   struct flow_table_choice *out);

/*
 * Bytes of the buffer of one batch read of a per-CPU map (keys and all their values), whatever the
 * CPU count: 17,476 flows a batch at 2 possible CPUs, 406 at 128, 204 at 256.
 */
#define SIZING_BATCH_BYTES (2u << 20)

/*
 * Keys per batch read (bpf_map_lookup_batch) of a map of max_entries elements: as many as fit
 * budget_bytes of keys and values (per CPU for a per-CPU map, each rounded up to 8 bytes as the
 * kernel lays them out), at least one, never more than max_entries. A hash bucket holding more
 * keys than a batch fails the read with ENOSPC: the caller grows the batch and reads again.
 */
uint32_t sizing_batch_keys(uint64_t budget_bytes, const struct htab_shape *shape,
			   unsigned int ncpus, uint32_t max_entries);

/* Bytes as "20.0 MiB" (one decimal), for logs and `flowmeta check`. */
void sizing_format_mib(uint64_t bytes, char *buf, size_t size);

#endif /* FLOWMETA_SIZING_H */
