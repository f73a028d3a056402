// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * What the per-CPU flow table costs at possible-CPU counts this machine does not have (SPEC §7,
 * §9):
 *  (a) kernel memory of the default flow table (MaxFlows absent, MaxFlowMemory 64 MiB) at 2 to 256
 *      possible CPUs, by the formula that tests/unit/sizing_test.c checks against the kernel, and
 *      the kernel's own memlock figure of the tables created here;
 *  (b) CPU per live flow of the poll's batch read and fold. A read copies every possible CPU's
 *      value, so C CPUs are emulated by volume: with R real CPUs, a per-CPU hash whose value is
 *      40 * C / R bytes makes the kernel copy 40 * C bytes a flow, as C CPUs would, and the fold
 *      walks C values of 40 bytes. Two of them are non-zero, as on a VM with 2 of C CPUs online;
 *      "online only" folds just those two (saving the fold, not the copy). The kernel's per-CPU
 *      loop runs R times instead of C: real machines pay a little more than this.
 * Prints "name value unit  target ...  OK|MISSED" or "(no target)".
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bpfmap.h"
#include "flowmeta.h"
#include "flowvalue.h"
#include "sizing.h"

#define ROUNDS	    11
#define BUDGET	    (64ull << 20) /* MaxFlowMemory's default */
#define FLOW_BYTES  (80ull << 20) /* per-CPU values of the read benchmark's table, at most */
#define VALUE_BYTES 40

static const unsigned int cpu_counts[] = {2, 16, 64, 128, 256};

static double cpu_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static const char *verdict(int ok)
{
	return ok ? "OK" : "MISSED";
}

/* (a): the formula at each CPU count, then the kernel's figure of the tables made here. */
static int bench_memory(int real)
{
	struct flow_table_choice c;
	uint64_t memlock[FLOW_TABLE_COUNT] = {0};
	char name[64];
	int fds[FLOW_TABLE_COUNT], err = 0;

	for (size_t i = 0; i < sizeof(cpu_counts) / sizeof(cpu_counts[0]); i++) {
		sizing_choose(0, BUDGET, cpu_counts[i], &c);
		snprintf(name, sizeof(name), "kernel memory, default table, %u possible CPUs",
			 cpu_counts[i]);
		printf("%-54s %.1f MiB (%u flows)  target <= 64 MiB  %s\n", name,
		       c.tables.total_bytes / 1048576.0, c.max_flows,
		       verdict(c.tables.total_bytes <= BUDGET));
	}
	sizing_choose(0, BUDGET, (unsigned int)real, &c);
	for (int t = 0; t < FLOW_TABLE_COUNT; t++) {
		const struct htab_shape *s = &flow_table_shapes[t];

		fds[t] = bpf_map_create(s->percpu ? BPF_MAP_TYPE_PERCPU_HASH : BPF_MAP_TYPE_HASH,
					flow_table_names[t], s->key_size, s->value_size,
					c.tables.entries[t], NULL);
		if (fds[t] < 0 || bpfmap_memlock(fds[t], &memlock[t]))
			err = -errno;
	}
	for (int t = 0; t < FLOW_TABLE_COUNT; t++)
		if (fds[t] >= 0)
			close(fds[t]);
	if (err) {
		fprintf(stderr, "percpu_bench: create the flow tables: %s\n", strerror(-err));
		return 1;
	}
	snprintf(name, sizeof(name), "  the kernel's memlock of them here, %d CPUs", real);
	printf("%-54s %.1f MiB (formula %.1f)  target <= 64 MiB  %s\n", name,
	       (memlock[0] + memlock[1]) / 1048576.0, c.tables.total_bytes / 1048576.0,
	       verdict(memlock[0] + memlock[1] <= BUDGET));
	return 0;
}

/* A table of n flows whose values weigh as C CPUs' would; 2 of the C values count a packet. */
static int fill(int fd, uint32_t n, uint32_t value_size, int real)
{
	uint8_t *values = calloc((size_t)real, value_size);
	int err = 0;

	if (!values)
		return -ENOMEM;
	for (int k = 0; k < 2; k++) {
		struct flow_value *v = (struct flow_value *)(values + k * VALUE_BYTES);

		*v = (struct flow_value){.packets = 1, .octets = 100, .last_seen_jiffies = 1};
	}
	for (uint32_t i = 0; i < n && !err; i++) {
		struct flow_key key = {.ip_version = 4, .protocol = 17};

		memcpy(key.src_addr, &i, sizeof(i));
		if (bpf_map_update_elem(fd, &key, values, BPF_NOEXIST))
			err = -errno;
	}
	free(values);
	return err;
}

/* One poll's read of the whole table, folding fold_cpus values of each flow; CPU ns a flow. */
static double read_once(int fd, uint32_t n, uint32_t chunk, uint8_t *keys, uint8_t *values,
			size_t stride, unsigned int fold_cpus, bool *ok)
{
	__u32 in = 0, out = 0;
	uint64_t packets = 0;
	double t0 = cpu_seconds();
	bool first = true;
	int err;

	do {
		__u32 count = chunk;

		err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, values, &count,
					   NULL);
		if (err && err != -ENOENT) {
			*ok = false;
			return 0;
		}
		for (__u32 i = 0; i < count && fold_cpus; i++) {
			struct flow_value sum;

			if (flow_value_fold((const void *)(values + i * stride), (int)fold_cpus,
					    &sum))
				packets += sum.packets;
		}
		in = out;
		first = false;
	} while (!err);
	*ok = !fold_cpus || packets == 2ull * n;
	return (cpu_seconds() - t0) * 1e9 / n;
}

/* (b) at C emulated CPUs: copy only, copy and fold of C values, fold of the 2 online only. */
static int bench_read(unsigned int cpus, int real)
{
	static const char *const what[] = {"copy only", "copy + fold of every CPU",
					   "copy + fold of 2 online only"};
	uint32_t value_size = VALUE_BYTES * ((cpus + (unsigned int)real - 1) / (unsigned int)real);
	uint32_t n = 65536, chunk;
	size_t stride = (size_t)real * value_size;
	double ns[3][ROUNDS];
	uint8_t *keys, *values;
	char name[80];
	bool ok = true;
	int fd, err;

	if (n > FLOW_BYTES / ((uint64_t)cpus * VALUE_BYTES))
		n = (uint32_t)(FLOW_BYTES / ((uint64_t)cpus * VALUE_BYTES));
	fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_HASH, "flows", sizeof(struct flow_key), value_size,
			    n, NULL);
	if (fd < 0) {
		fprintf(stderr, "percpu_bench: create a table: %s\n", strerror(errno));
		return 1;
	}
	chunk = sizing_batch_keys(SIZING_BATCH_BYTES,
				  &(struct htab_shape){true, sizeof(struct flow_key), value_size},
				  (unsigned int)real, n);
	keys = malloc((size_t)chunk * sizeof(struct flow_key));
	values = malloc((size_t)chunk * stride);
	err = keys && values ? fill(fd, n, value_size, real) : -ENOMEM;
	for (int m = 0; m < 3 && !err; m++)
		for (int r = 0; r < ROUNDS && ok; r++)
			ns[m][r] = read_once(fd, n, chunk, keys, values, stride,
					     m == 0   ? 0
					     : m == 1 ? cpus
						      : 2,
					     &ok);
	free(keys);
	free(values);
	close(fd);
	if (err || !ok) {
		fprintf(stderr, "percpu_bench: read at %u CPUs: %s\n", cpus,
			err ? strerror(-err) : "wrong sums");
		return 1;
	}
	for (int m = 0; m < 3; m++) {
		qsort(ns[m], ROUNDS, sizeof(double), cmp_double);
		if (m)
			snprintf(name, sizeof(name), "  %s", what[m]);
		else
			snprintf(name, sizeof(name), "poll read, %u possible CPUs: %s", cpus,
				 what[m]);
		printf("%-54s %.0f ns/flow (median %.0f; %u flows)  (no target)\n", name, ns[m][0],
		       ns[m][ROUNDS / 2], n);
	}
	return 0;
}

int main(void)
{
	int real = libbpf_num_possible_cpus(), ret;

	if (real <= 0)
		return 1;
	libbpf_set_print(NULL);
	ret = bench_memory(real);
	for (size_t i = 0; i < sizeof(cpu_counts) / sizeof(cpu_counts[0]) && !ret; i++)
		ret = bench_read(cpu_counts[i], real);
	return ret;
}
