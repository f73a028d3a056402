// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Sizing by possible CPUs (see sizing.h). The kernel memory formula is the kernel's own account of
 * a preallocated hash map (kernel/bpf/hashtab.c, htab_map_mem_usage), checked against the memlock
 * figure of maps created on this machine by tests/unit/sizing_test.c:
 *
 *   struct bpf_htab + one bucket per slot of the power of two at or above the size + 8 lock
 *   counters per possible CPU, then per element a struct htab_elem with the key (8-byte aligned)
 *   and either the value (plain hash, plus one spare element per CPU) or a pointer to per-CPU
 *   values: one value, rounded up to 8 bytes, for every possible CPU.
 */
#include <stdio.h>

#include "config.h"
#include "flowmeta.h"
#include "sizing.h"

#define HTAB_STRUCT_BYTES   896 /* sizeof(struct bpf_htab), 6.18 x86-64 (vmlinux BTF) */
#define HTAB_BUCKET_BYTES   16	/* struct bucket: list head and raw spinlock */
#define HTAB_ELEM_BYTES	    48	/* struct htab_elem up to its key */
#define HTAB_LOCK_BYTES_CPU 32	/* HASHTAB_MAP_LOCK_COUNT (8) ints per possible CPU */
#define KERNEL_PTR_BYTES    8

const char *const flow_table_names[FLOW_TABLE_COUNT] = {
	[FLOW_TABLE_FLOWS] = "flows",
	[FLOW_TABLE_DROP_FLOWS] = "drop_flows",
	[FLOW_TABLE_EXPORT_STATE] = "export_state",
};

const struct htab_shape flow_table_shapes[FLOW_TABLE_COUNT] = {
	[FLOW_TABLE_FLOWS] = {true, sizeof(struct flow_key), sizeof(struct flow_value)},
	[FLOW_TABLE_DROP_FLOWS] = {true, sizeof(struct flow_key), sizeof(struct flow_value)},
	[FLOW_TABLE_EXPORT_STATE] = {false, sizeof(struct flow_key),
				     sizeof(struct flow_export_state)},
};

static uint64_t round8(uint64_t x)
{
	return (x + 7) & ~(uint64_t)7;
}

static uint64_t pow2_at_least(uint64_t x)
{
	uint64_t p = 1;

	while (p < x)
		p <<= 1;
	return p;
}

uint64_t sizing_htab_bytes(const struct htab_shape *shape, uint64_t entries, unsigned int ncpus)
{
	uint64_t value = round8(shape->value_size);
	uint64_t elem = HTAB_ELEM_BYTES + round8(shape->key_size) +
			(shape->percpu ? KERNEL_PTR_BYTES : value);
	uint64_t bytes = HTAB_STRUCT_BYTES + HTAB_BUCKET_BYTES * pow2_at_least(entries) +
			 (uint64_t)HTAB_LOCK_BYTES_CPU * ncpus;

	if (shape->percpu)
		return bytes + entries * (elem + value * ncpus);
	/* A plain hash keeps a spare element per CPU (to replace values atomically). */
	return bytes + (entries + ncpus) * elem + (uint64_t)KERNEL_PTR_BYTES * ncpus;
}

void sizing_flow_tables(uint32_t max_flows, unsigned int ncpus, struct flow_tables *out)
{
	out->total_bytes = 0;
	for (int t = 0; t < FLOW_TABLE_COUNT; t++) {
		out->entries[t] = max_flows;
		if (t == FLOW_TABLE_DROP_FLOWS)
			out->entries[t] = flowmeta_drop_flows_capacity(max_flows);
		out->bytes[t] = sizing_htab_bytes(&flow_table_shapes[t], out->entries[t], ncpus);
		out->total_bytes += out->bytes[t];
	}
}

void sizing_choose(uint32_t max_flows, uint64_t budget_bytes, unsigned int ncpus,
		   struct flow_table_choice *out)
{
	uint32_t lo = CONFIG_MIN_FLOWS, hi = FLOWMETA_DEFAULT_MAX_FLOWS;

	out->from_budget = max_flows == 0;
	if (out->from_budget) {
		/* Memory only grows with the size: bisect for the largest that fits. */
		while (lo < hi) {
			uint32_t mid = lo + (hi - lo + 1) / 2;

			sizing_flow_tables(mid, ncpus, &out->tables);
			if (out->tables.total_bytes <= budget_bytes)
				lo = mid;
			else
				hi = mid - 1;
		}
		max_flows = lo;
	}
	out->max_flows = max_flows;
	sizing_flow_tables(max_flows, ncpus, &out->tables);
	out->over_budget = out->tables.total_bytes > budget_bytes;
}

uint32_t sizing_batch_keys(uint64_t budget_bytes, const struct htab_shape *shape,
			   unsigned int ncpus, uint32_t max_entries)
{
	uint64_t per_key = shape->key_size +
			   (shape->percpu ? round8(shape->value_size) * ncpus : shape->value_size);
	uint64_t keys = budget_bytes / per_key;

	if (keys < 1)
		keys = 1;
	if (keys > max_entries)
		keys = max_entries;
	return (uint32_t)keys;
}

void sizing_format_mib(uint64_t bytes, char *buf, size_t size)
{
	snprintf(buf, size, "%.1f MiB", (double)bytes / (1 << 20));
}
