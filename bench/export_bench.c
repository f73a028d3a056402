// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Export pipeline benchmarks (SPEC §9), on real BPF maps filled directly (no program):
 *  (a) CPU of one poll of 1,000,000 live flows that all get an interim record (the heaviest poll:
 *      batch read, delta, encode, send 1400-octet messages to a local UDP socket, write the export
 * state). The first poll inserts every flow in the userspace table; the second is steady state.
 *  (b) memory of an exporter holding 65,536 flows, every one with export state, measured in a child
 *      process after a poll (VmRSS and peak VmHWM).
 * Prints "name value unit  target ...  OK|MISSED".
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "exporter.h"
#include "unit/export_decode.h"
#include "log.h"
#include "maps_fixture.h"

#define BENCH_PORT	4740
#define FILL_CHUNK	8192

static int ncpus;

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/* Flow i: three in four IPv4 TCP, one in four IPv6 UDP; distinct addresses and ports. */
static void bench_key(uint32_t i, struct flow_key *k)
{
	memset(k, 0, sizeof(*k));
	k->direction = i & 1;
	if (i % 4 == 3) {
		k->ip_version = 6;
		k->protocol = 17;
		k->src_addr[0] = 0xfd;
		k->dst_addr[0] = 0xfd;
		memcpy(&k->src_addr[12], &i, sizeof(i));
		k->dst_addr[15] = 1;
	} else {
		k->ip_version = 4;
		k->protocol = 6;
		k->src_addr[0] = 100;
		k->src_addr[1] = (uint8_t)(64 + (i >> 24));
		k->src_addr[2] = (uint8_t)(i >> 16);
		k->src_addr[3] = (uint8_t)(i >> 8);
		k->dst_addr[0] = 100;
		k->dst_addr[1] = 64;
		k->dst_addr[3] = (uint8_t)i;
	}
	k->src_port = (uint16_t)(1024 + (i & 0x3fff));
	k->dst_port = 443;
}

/* Set n flows: `packets` packets on each CPU, first packet at first_ns, last at last_ns. */
static int fill(int fd, uint32_t n, uint64_t packets, uint64_t first_ns, uint64_t last_ns)
{
	struct flow_key *keys = calloc(FILL_CHUNK, sizeof(*keys));
	struct flow_value *vals = calloc((size_t)FILL_CHUNK * ncpus, sizeof(*vals));
	int err = 0;

	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	for (uint32_t base = 0; base < n && !err; base += FILL_CHUNK) {
		__u32 count = n - base < FILL_CHUNK ? n - base : FILL_CHUNK;

		for (__u32 i = 0; i < count; i++) {
			bench_key(base + i, &keys[i]);
			for (int c = 0; c < ncpus; c++)
				vals[(size_t)i * ncpus + c] = (struct flow_value){
					.packets = packets,
					.octets = packets * 700,
					.first_seen_ns = first_ns,
					.last_seen_ns = last_ns,
					.tcp_flags = 0x18,
				};
		}
		err = bpf_map_update_batch(fd, keys, vals, &count, NULL);
	}
out:
	free(keys);
	free(vals);
	return err;
}

struct bench_env {
	struct flowmeta_maps maps;
	struct config cfg;
	struct decoder *sink;	/* a bound socket nobody reads: the kernel drops what overflows */
};

static int env_open(struct bench_env *e, uint32_t max_entries)
{
	int err = maps_fixture_open(&e->maps, max_entries);

	if (err)
		return err;
	e->sink = dec_open("127.0.0.1", BENCH_PORT);
	if (!e->sink) {
		err = -errno;
		maps_fixture_close(&e->maps);
		return err;
	}
	dec_config(&e->cfg);
	e->cfg.interval_ms = 60000;
	e->cfg.idle_timeout_ms = 3600000;
	dec_config_add(&e->cfg, "127.0.0.1", BENCH_PORT);
	return 0;
}

static void env_close(struct bench_env *e)
{
	maps_fixture_close(&e->maps);
	dec_close(e->sink);
}

static const char *verdict(bool ok)
{
	return ok ? "OK" : "MISSED";
}

/*
 * Three polls of `flows` flows: all get an interim record (the first poll after start, then a
 * steady one), then all end idle. Returns the CPU seconds of each. Without export state, the
 * interim poll is what SPEC §9 names (read, delta, encode, send); with it, the poll also persists
 * the exported sums for restart exactness (one hash-map update per record). Ending a flow costs one
 * bpf_map_lookup_and_delete_elem (atomic; a batch delete would lose packets).
 */
static int bench_poll(uint32_t flows, bool with_state, double cpu[3])
{
	struct bench_env e;
	struct exporter *exp;
	struct fm_time now;
	double t;
	int err;

	err = env_open(&e, flows + flows / 4);
	if (err) {
		fprintf(stderr, "export_bench: maps and receiver: %s\n", strerror(-err));
		return 1;
	}
	if (!with_state) {
		close(e.maps.export_state);
		e.maps.export_state = -1;
	}
	fm_time_now(&now);
	if (fill(e.maps.flows, flows, 10, now.mono_ns - 70 * NSEC_PER_SEC,
		 now.mono_ns - NSEC_PER_SEC)) {
		fprintf(stderr, "export_bench: fill: %s\n", strerror(errno));
		return 1;
	}
	exp = exporter_new(&e.maps, 7, &e.cfg, &now);
	if (!exp)
		return 1;
	t = cpu_seconds();
	exporter_poll(exp, &now);
	cpu[0] = cpu_seconds() - t;
	/* Steady state: every flow has new packets and its interval is due again. */
	now.mono_ns += 60 * NSEC_PER_SEC;
	now.real_ns += 60 * NSEC_PER_SEC;
	fill(e.maps.flows, flows, 15, now.mono_ns - 130 * NSEC_PER_SEC,
	     now.mono_ns - NSEC_PER_SEC);
	t = cpu_seconds();
	exporter_poll(exp, &now);
	cpu[1] = cpu_seconds() - t;
	/* Every flow ends: idle, with packets its interim records did not carry yet. */
	now.mono_ns += 3600 * NSEC_PER_SEC;
	now.real_ns += 3600 * NSEC_PER_SEC;
	fill(e.maps.flows, flows, 20, now.mono_ns - 3730 * NSEC_PER_SEC,
	     now.mono_ns - 3601 * NSEC_PER_SEC);
	t = cpu_seconds();
	exporter_poll(exp, &now);
	cpu[2] = cpu_seconds() - t;
	fprintf(stderr, "export_bench: %u flows, %" PRIu64 " interim and %" PRIu64
		" final records, %" PRIu64 " messages in 3 polls, export state %s\n", flows,
		exporter_get_stats(exp)->records[IPFIX_END_ACTIVE],
		exporter_get_stats(exp)->records[IPFIX_END_IDLE],
		exporter_collectors(exp)->c[0]->cnt.messages, with_state ? "on" : "off");
	exporter_free(exp);
	env_close(&e);
	return 0;
}

static void print_poll(const char *name, double cpu, bool target)
{
	if (target)
		printf("%-48s %.2f s CPU  target <= 1 s  %s\n", name, cpu, verdict(cpu <= 1.0));
	else
		printf("%-48s %.2f s CPU  (no target)\n", name, cpu);
}

static long status_kib(const char *field)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)))
			kib = strtol(line + strlen(field) + 1, NULL, 10);
	fclose(f);
	return kib;
}

/* In a child, so the 1M-flow run does not count in the peak. */
static int bench_rss(uint32_t flows)
{
	int pipefd[2], status;
	long kib[2] = { -1, -1 };
	pid_t pid;

	if (pipe(pipefd))
		return 1;
	pid = fork();
	if (pid == 0) {
		struct bench_env e;
		struct exporter *exp;
		struct fm_time now;

		close(pipefd[0]);
		fm_time_now(&now);
		if (!env_open(&e, FLOWMETA_DEFAULT_MAX_FLOWS * 2) &&
		    !fill(e.maps.flows, flows, 10, now.mono_ns - 70 * NSEC_PER_SEC,
			  now.mono_ns - NSEC_PER_SEC) &&
		    (exp = exporter_new(&e.maps, 7, &e.cfg, &now))) {
			exporter_poll(exp, &now);
			kib[0] = status_kib("VmRSS:");
			kib[1] = status_kib("VmHWM:");
		}
		if (write(pipefd[1], kib, sizeof(kib)) != sizeof(kib))
			_exit(1);
		_exit(0);
	}
	close(pipefd[1]);
	if (pid < 0 || read(pipefd[0], kib, sizeof(kib)) != sizeof(kib) || kib[0] < 0) {
		fprintf(stderr, "export_bench: the RSS child failed\n");
		return 1;
	}
	waitpid(pid, &status, 0);
	close(pipefd[0]);
	printf("%-48s %.1f MiB (peak %.1f)  target <= 32 MiB  %s\n", "exporter RSS, 65536 flows",
	       kib[0] / 1024.0, kib[1] / 1024.0, verdict(kib[1] <= 32 * 1024));
	return 0;
}

int main(void)
{
	double plain[3], state[3];
	int ret;

	log_init(-1);
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0)
		return 1;
	ret = bench_rss(FLOWMETA_DEFAULT_MAX_FLOWS);
	ret |= bench_poll(1000000, false, plain);
	ret |= bench_poll(1000000, true, state);
	if (ret)
		return ret;
	print_poll("export poll, 1M live flows (read, delta, encode, send)", plain[1], true);
	print_poll("  the first poll after start (table grows)", plain[0], false);
	print_poll("  + export_state writes (restart exactness)", state[1], false);
	print_poll("  + export_state, first poll after start", state[0], false);
	print_poll("export poll, 1M flows ending (idle)", plain[2], false);
	print_poll("  + export_state deletes", state[2], false);
	return 0;
}
