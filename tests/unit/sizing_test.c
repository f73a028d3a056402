// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Tests of user/sizing.c (SPEC §7): the kernel memory formula against the kernel's own memlock
 * figure of the production maps created here at several sizes, then what the sizing picks for
 * injected possible-CPU counts (2 to 256, which this 2-CPU machine cannot boot): flow table sizes
 * within MaxFlowMemory, their exact memory, and batch reads that stay within their byte budget.
 * The expected figures were computed apart from the code, from the formula written in README.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "bpfmap.h"
#include "check.h"
#include "config.h"
#include "flowmeta.h"
#include "flowmeta.skel.h"
#include "flowvalue.h"
#include "sizing.h"

#define MIB (1ull << 20)

static const struct htab_shape flows_shape = {true, sizeof(struct flow_key),
					      sizeof(struct flow_value)};

/* The production object's maps only (no program): flows, drop_flows, export_state for n flows. */
static struct flowmeta *load_maps(uint32_t n)
{
	struct flowmeta *s = flowmeta__open();
	struct bpf_program *prog;

	if (!EXPECT_TRUE(s != NULL))
		return NULL;
	bpf_object__for_each_program(prog, s->obj) bpf_program__set_autoload(prog, false);
	bpf_map__set_max_entries(s->maps.flows, n);
	bpf_map__set_max_entries(s->maps.drop_flows, flowmeta_drop_flows_capacity(n));
	bpf_map__set_max_entries(s->maps.export_state, n);
	if (!EXPECT_EQ(flowmeta__load(s), 0)) {
		flowmeta__destroy(s);
		return NULL;
	}
	return s;
}

static uint64_t memlock_of(int fd)
{
	uint64_t bytes = 0;

	EXPECT_EQ(bpfmap_memlock(fd, &bytes), 0);
	return bytes;
}

/* Powers of two and their neighbours (the bucket array doubles), small and beyond the default. */
static void kernel_memlock_of_the_flow_tables_equals_the_formula(void)
{
	static const uint32_t sizes[] = {1024, 1025, 3000, 4096, 65535, 65536, 100000};
	int ncpus = libbpf_num_possible_cpus();

	if (geteuid() != 0)
		SKIP_TEST("needs root (creates BPF maps)");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct flowmeta *s = load_maps(sizes[i]);
		struct flow_tables t;

		if (!s)
			return;
		sizing_flow_tables(sizes[i], (unsigned int)ncpus, &t);
		EXPECT_EQ(memlock_of(bpf_map__fd(s->maps.flows)), t.bytes[FLOW_TABLE_FLOWS]);
		EXPECT_EQ(memlock_of(bpf_map__fd(s->maps.drop_flows)),
			  t.bytes[FLOW_TABLE_DROP_FLOWS]);
		EXPECT_EQ(memlock_of(bpf_map__fd(s->maps.export_state)),
			  t.bytes[FLOW_TABLE_EXPORT_STATE]);
		EXPECT_EQ(t.entries[FLOW_TABLE_DROP_FLOWS], flowmeta_drop_flows_capacity(sizes[i]));
		EXPECT_EQ(t.total_bytes, t.bytes[FLOW_TABLE_FLOWS] +
						 t.bytes[FLOW_TABLE_DROP_FLOWS] +
						 t.bytes[FLOW_TABLE_EXPORT_STATE]);
		flowmeta__destroy(s);
	}
}

/* Keys and values that are not multiples of 8 bytes: the kernel rounds each up. */
static void kernel_memlock_rounds_keys_and_values_to_8_bytes(void)
{
	static const struct htab_shape shapes[] = {
		{true, 13, 36},
		{true, 4, 8},
		{false, 13, 36},
		{false, 40, 20},
	};
	int ncpus = libbpf_num_possible_cpus();

	if (geteuid() != 0)
		SKIP_TEST("needs root (creates BPF maps)");
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		const struct htab_shape *m = &shapes[i];
		int fd = bpf_map_create(m->percpu ? BPF_MAP_TYPE_PERCPU_HASH : BPF_MAP_TYPE_HASH,
					"sizing", m->key_size, m->value_size, 777, NULL);

		if (!EXPECT_TRUE(fd >= 0))
			return;
		EXPECT_EQ(memlock_of(fd), sizing_htab_bytes(m, 777, (unsigned int)ncpus));
		close(fd);
	}
}

/* The figures README states for the default table, 65,536 flows at 2 possible CPUs. */
static void default_table_at_2_cpus(void)
{
	struct flow_tables t;

	sizing_flow_tables(65536, 2, &t);
	EXPECT_EQ(t.bytes[FLOW_TABLE_FLOWS], 12583872);
	EXPECT_EQ(t.entries[FLOW_TABLE_DROP_FLOWS], 8192);
	EXPECT_EQ(t.bytes[FLOW_TABLE_DROP_FLOWS], 1573824);
	EXPECT_EQ(t.bytes[FLOW_TABLE_EXPORT_STATE], 8389808);
	EXPECT_EQ(t.total_bytes, 22547504);
}

/*
 * MaxFlows absent, MaxFlowMemory 64 MiB: the largest table that fits (one more flow does not),
 * capped at 65,536; and the flows of one batch read within 2 MiB of keys and values.
 */
static void budget_picks_the_largest_table_at_each_cpu_count(void)
{
	static const struct {
		unsigned int ncpus;
		uint32_t max_flows;
		uint64_t flows_bytes, drop_bytes, state_bytes, next_bytes;
		uint32_t batch;
	} want[] = {
		{2, 65536, 12583872, 1573824, 8389808, 0, 17476},
		{16, 65536, 49284480, 6161792, 8391936, 0, 3084},
		{64, 21283, 57054880, 7133440, 2918608, 67109696, 806},
		{128, 11124, 58289920, 7288000, 1528384, 67111632, 406},
		{256, 5687, 58920992, 7364032, 807824, 67113632, 204},
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct flow_table_choice c;
		struct flow_tables next;

		sizing_choose(0, 64 * MIB, want[i].ncpus, &c);
		EXPECT_EQ(c.max_flows, want[i].max_flows);
		EXPECT_TRUE(c.from_budget);
		EXPECT_TRUE(!c.over_budget);
		EXPECT_EQ(c.tables.entries[FLOW_TABLE_FLOWS], want[i].max_flows);
		EXPECT_EQ(c.tables.entries[FLOW_TABLE_EXPORT_STATE], want[i].max_flows);
		EXPECT_EQ(c.tables.entries[FLOW_TABLE_DROP_FLOWS], want[i].max_flows / 8);
		EXPECT_EQ(c.tables.bytes[FLOW_TABLE_FLOWS], want[i].flows_bytes);
		EXPECT_EQ(c.tables.bytes[FLOW_TABLE_DROP_FLOWS], want[i].drop_bytes);
		EXPECT_EQ(c.tables.bytes[FLOW_TABLE_EXPORT_STATE], want[i].state_bytes);
		EXPECT_TRUE(c.tables.total_bytes <= 64 * MIB);
		if (want[i].next_bytes) {
			sizing_flow_tables(want[i].max_flows + 1, want[i].ncpus, &next);
			EXPECT_EQ(next.total_bytes, want[i].next_bytes);
			EXPECT_TRUE(next.total_bytes > 64 * MIB);
		}
		EXPECT_EQ(sizing_batch_keys(SIZING_BATCH_BYTES, &flows_shape, want[i].ncpus, 65536),
			  want[i].batch);
	}
}

static void explicit_max_flows_wins_and_says_when_over_budget(void)
{
	struct flow_table_choice c;

	sizing_choose(65536, 64 * MIB, 128, &c);
	EXPECT_EQ(c.max_flows, 65536);
	EXPECT_TRUE(!c.from_budget);
	EXPECT_TRUE(c.over_budget);
	EXPECT_EQ(c.tables.bytes[FLOW_TABLE_FLOWS], 342889344);
	EXPECT_EQ(c.tables.total_bytes, 394163840);

	sizing_choose(65536, 64 * MIB, 16, &c);
	EXPECT_TRUE(!c.over_budget);
	EXPECT_EQ(c.tables.total_bytes, 63838208);

	/* Above the default size too: MaxFlows is not capped by the budget's 65,536. */
	sizing_choose(1048576, 64 * MIB, 2, &c);
	EXPECT_EQ(c.max_flows, 1048576);
	EXPECT_TRUE(c.over_budget);
	sizing_choose(1048576, 512 * MIB, 2, &c);
	EXPECT_TRUE(!c.over_budget);
}

/* A budget below what the smallest table needs: the smallest table, said to be over it. */
static void budget_below_the_smallest_table(void)
{
	struct flow_table_choice c;

	sizing_choose(0, 1 * MIB, 256, &c);
	EXPECT_EQ(c.max_flows, CONFIG_MIN_FLOWS);
	EXPECT_TRUE(c.from_budget);
	EXPECT_TRUE(c.over_budget);
	EXPECT_EQ(c.tables.total_bytes, 13439616);

	sizing_choose(0, 1 * MIB, 2, &c);
	EXPECT_EQ(c.max_flows, 2923);
	EXPECT_TRUE(!c.over_budget);
}

/* A batch never takes more than its budget (one key at least), nor more keys than the map has. */
static void batch_reads_stay_within_their_bytes(void)
{
	static const struct htab_shape plain = {false, 40, 24};

	for (unsigned int ncpus = 1; ncpus <= 8192; ncpus++) {
		uint32_t keys =
			sizing_batch_keys(SIZING_BATCH_BYTES, &flows_shape, ncpus, 1u << 24);
		uint64_t per_key = 40 + 40ull * ncpus;

		if (!EXPECT_TRUE(keys * per_key <= SIZING_BATCH_BYTES &&
				 (keys + 1) * per_key > SIZING_BATCH_BYTES))
			return;
	}
	EXPECT_EQ(sizing_batch_keys(SIZING_BATCH_BYTES, &flows_shape, 2, 4096), 4096);
	EXPECT_EQ(sizing_batch_keys(1000, &flows_shape, 256, 65536), 1);
	/* Values rounded up to 8 bytes each, per CPU; a plain map has one value a key. */
	EXPECT_EQ(sizing_batch_keys(4800, &(struct htab_shape){true, 40, 36}, 4, 65536), 24);
	EXPECT_EQ(sizing_batch_keys(SIZING_BATCH_BYTES, &plain, 256, 1u << 24), 32768);
}

struct visit_sum {
	uint64_t flows, packets;
};

static void add_visit(const struct flow_key *key, const struct flow_value *v, void *ctx)
{
	struct visit_sum *sum = ctx;

	(void)key;
	sum->flows++;
	sum->packets += v->packets;
}

/*
 * A batch of one key, as at tens of thousands of CPUs: hash buckets holding two or more of the
 * 4096 flows fail such a read with ENOSPC, and the reader grows the batch and goes on, visiting
 * every flow exactly once.
 */
static void flow_map_read_survives_buckets_bigger_than_a_batch(void)
{
	int ncpus = libbpf_num_possible_cpus(), fd;
	struct flow_value *values;
	struct visit_sum sum = {0};

	if (geteuid() != 0)
		SKIP_TEST("needs root (creates BPF maps)");
	fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_HASH, "flows", sizeof(struct flow_key),
			    sizeof(struct flow_value), 4096, NULL);
	values = calloc((size_t)ncpus, sizeof(*values));
	if (!EXPECT_TRUE(fd >= 0 && values))
		return;
	for (uint32_t i = 0; i < 4096; i++) {
		struct flow_key key = {.ip_version = 4, .protocol = 17};

		memcpy(key.src_addr, &i, sizeof(i));
		values[ncpus - 1].packets = i + 1;
		if (!EXPECT_EQ(bpf_map_update_elem(fd, &key, values, BPF_NOEXIST), 0))
			break;
	}
	EXPECT_EQ(flow_map_for_each_batch(fd, 1, add_visit, &sum), 0);
	EXPECT_EQ(sum.flows, 4096);
	EXPECT_EQ(sum.packets, 4096ull * 4097 / 2);
	sum = (struct visit_sum){0};
	EXPECT_EQ(flow_map_for_each(fd, add_visit, &sum), 0);
	EXPECT_EQ(sum.flows, 4096);
	EXPECT_EQ(sum.packets, 4096ull * 4097 / 2);
	free(values);
	close(fd);
}

static void mebibytes_with_one_decimal(void)
{
	char buf[32];

	sizing_format_mib(20973680, buf, sizeof(buf));
	EXPECT_STR(buf, "20.0 MiB");
	sizing_format_mib(351298304, buf, sizeof(buf));
	EXPECT_STR(buf, "335.0 MiB");
	sizing_format_mib(329840, buf, sizeof(buf));
	EXPECT_STR(buf, "0.3 MiB");
}

int main(void)
{
	libbpf_set_print(NULL);
	RUN_TEST(kernel_memlock_of_the_flow_tables_equals_the_formula);
	RUN_TEST(kernel_memlock_rounds_keys_and_values_to_8_bytes);
	RUN_TEST(default_table_at_2_cpus);
	RUN_TEST(budget_picks_the_largest_table_at_each_cpu_count);
	RUN_TEST(explicit_max_flows_wins_and_says_when_over_budget);
	RUN_TEST(budget_below_the_smallest_table);
	RUN_TEST(batch_reads_stay_within_their_bytes);
	RUN_TEST(flow_map_read_survives_buckets_bigger_than_a_batch);
	RUN_TEST(mebibytes_with_one_decimal);
	return check_exit_status();
}
