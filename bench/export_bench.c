// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Export pipeline benchmarks (SPEC §9), on real BPF maps filled directly (no program):
 *  (a) CPU of one poll of 1,000,000 live flows that all get an interim record (the heaviest poll:
 *      batch read, delta, encode, send 1400-octet messages to a local UDP socket, write the export
 * state). The first poll inserts every flow in the userspace table; the second is steady state.
 *  (b) memory of an exporter holding 65,536 flows, every one with export state, measured in a child
 *      process after a poll (VmRSS and peak VmHWM), and computed at other possible-CPU counts
 *      (percpu_buffers() says how).
 *  (c) the split of the steady poll of (a) into read, encode, send and decide. The exporter does
 *      not time its phases, so this benchmark times the calls each phase is made of, by defining
 *      them here: a definition in this program wins over libbpf's and libc's for the daemon
 *      modules linked into it, and calls the real one (dlsym RTLD_NEXT). read: the flow map's
 *      batch and single reads; send: send, sendto, sendmsg, sendmmsg; map writes: export-state
 *      and journal updates, deletes and the journal's apply program; encode: the IPFIX encoder's own rate, measured here on the same number
 *      of records; decide (delta, timeouts, bookkeeping): what is left of the poll's CPU. The
 *      timed calls add two thread-clock reads each (a few ms in all, no more calls than messages
 *      and batches).
 * Prints "name value unit  target ...  OK|MISSED".
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "exporter.h"
#include "ipfix.h"
#include "unit/export_decode.h"
#include "log.h"
#include "maps_fixture.h"
#include "sizing.h"

#define BENCH_PORT	4740
#define FILL_CHUNK	8192
#define TARGET_POLL_S	0.5

static int ncpus;

/* (c): CPU ns inside the timed calls while `timing` is set. */
enum phase { PHASE_READ, PHASE_WRITE, PHASE_SEND, PHASE_COUNT };
static bool timing;
static uint64_t phase_ns[PHASE_COUNT];

static uint64_t thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * Define NAME(PARAMS) to call the real NAME(ARGS), its CPU time added to phase_ns[PHASE] while
 * timing; errno is the real call's.
 */
#define TIMED(ret_t, name, phase, params, args)                                          \
	ret_t name params                                                                 \
	{                                                                                 \
		static ret_t(*real) params;                                               \
		uint64_t t0 = timing ? thread_ns() : 0;                                   \
		ret_t r;                                                                  \
		int saved;                                                                \
                                                                                          \
		if (!real)                                                                \
			*(void **)&real = dlsym(RTLD_NEXT, #name);                        \
		r = real args;                                                            \
		saved = errno;                                                            \
		if (timing)                                                               \
			phase_ns[phase] += thread_ns() - t0;                              \
		errno = saved;                                                            \
		return r;                                                                 \
	}

TIMED(int, bpf_map_lookup_batch, PHASE_READ,
      (int fd, void *in_batch, void *out_batch, void *keys, void *values, __u32 *count,
       const struct bpf_map_batch_opts *opts),
      (fd, in_batch, out_batch, keys, values, count, opts))
TIMED(int, bpf_map_lookup_and_delete_batch, PHASE_READ,
      (int fd, void *in_batch, void *out_batch, void *keys, void *values, __u32 *count,
       const struct bpf_map_batch_opts *opts),
      (fd, in_batch, out_batch, keys, values, count, opts))
TIMED(int, bpf_map_lookup_elem, PHASE_READ, (int fd, const void *key, void *value),
      (fd, key, value))
TIMED(int, bpf_map_lookup_and_delete_elem, PHASE_READ, (int fd, const void *key, void *value),
      (fd, key, value))
TIMED(int, bpf_map_update_elem, PHASE_WRITE, (int fd, const void *key, const void *value,
					      __u64 flags), (fd, key, value, flags))
TIMED(int, bpf_map_update_batch, PHASE_WRITE,
      (int fd, const void *keys, const void *values, __u32 *count,
       const struct bpf_map_batch_opts *opts),
      (fd, keys, values, count, opts))
TIMED(int, bpf_map_delete_elem, PHASE_WRITE, (int fd, const void *key), (fd, key))
/* The export journal's apply program (user/journal.c) changes the maps in one run. */
TIMED(int, bpf_prog_test_run_opts, PHASE_WRITE, (int fd, struct bpf_test_run_opts *opts),
      (fd, opts))
TIMED(int, bpf_map_delete_batch, PHASE_WRITE,
      (int fd, const void *keys, __u32 *count, const struct bpf_map_batch_opts *opts),
      (fd, keys, count, opts))
TIMED(ssize_t, send, PHASE_SEND, (int fd, const void *buf, size_t len, int flags),
      (fd, buf, len, flags))
TIMED(ssize_t, sendto, PHASE_SEND,
      (int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
       socklen_t tolen),
      (fd, buf, len, flags, to, tolen))
TIMED(ssize_t, sendmsg, PHASE_SEND, (int fd, const struct msghdr *msg, int flags),
      (fd, msg, flags))
TIMED(int, sendmmsg, PHASE_SEND, (int fd, struct mmsghdr *msgs, unsigned int n, int flags),
      (fd, msgs, n, flags))

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
/* The bench's flow clock: HZ=1000 from CLOCK_MONOTONIC 0 (it moves now on by hand). */
static void bench_now(struct fm_time *t)
{
	fm_time_now(t);
	t->ticks = (struct fm_ticks){ 0, 0, NSEC_PER_MSEC };
}

static uint64_t J(const struct fm_time *t, uint64_t ns)
{
	return fm_mono_jiffies(t, ns);
}

static int fill(int fd, uint32_t n, uint64_t packets, uint64_t first, uint64_t last)
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
					.first_seen_jiffies = first,
					.last_seen_jiffies = last,
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
/* (c): the steady poll's timed calls, its records and its CPU. */
struct split {
	uint64_t ns[PHASE_COUNT];
	uint64_t records, messages;
	size_t msg_size;	/* the exporter's message size to the collector */
	double cpu;
};

static int bench_poll(uint32_t flows, bool with_state, double cpu[3], struct split *split)
{
	uint64_t records0 = 0, messages0 = 0;
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
	bench_now(&now);
	if (fill(e.maps.flows, flows, 10, J(&now, now.mono_ns - 70 * NSEC_PER_SEC),
		 J(&now, now.mono_ns - NSEC_PER_SEC))) {
		fprintf(stderr, "export_bench: fill: %s\n", strerror(errno));
		return 1;
	}
	exp = exporter_new(&e.maps, 7, &e.cfg, &now, NULL);
	if (!exp)
		return 1;
	t = cpu_seconds();
	exporter_poll(exp, &now);
	cpu[0] = cpu_seconds() - t;
	/* Steady state: every flow has new packets and its interval is due again. */
	now.mono_ns += 60 * NSEC_PER_SEC;
	now.real_ns += 60 * NSEC_PER_SEC;
	fill(e.maps.flows, flows, 15, J(&now, now.mono_ns - 130 * NSEC_PER_SEC),
	     J(&now, now.mono_ns - NSEC_PER_SEC));
	if (split) {
		memset(phase_ns, 0, sizeof(phase_ns));
		records0 = exporter_get_stats(exp)->records[IPFIX_END_ACTIVE];
		messages0 = exporter_collectors(exp)->c[0]->cnt.messages;
		timing = true;
	}
	t = cpu_seconds();
	exporter_poll(exp, &now);
	cpu[1] = cpu_seconds() - t;
	timing = false;
	if (split) {
		memcpy(split->ns, phase_ns, sizeof(phase_ns));
		split->records = exporter_get_stats(exp)->records[IPFIX_END_ACTIVE] - records0;
		split->messages = exporter_collectors(exp)->c[0]->cnt.messages - messages0;
		split->msg_size = exporter_collectors(exp)->c[0]->max_message;
		split->cpu = cpu[1];
	}
	/* Every flow ends: idle, with packets its interim records did not carry yet. */
	now.mono_ns += 3600 * NSEC_PER_SEC;
	now.real_ns += 3600 * NSEC_PER_SEC;
	fill(e.maps.flows, flows, 20, J(&now, now.mono_ns - 3730 * NSEC_PER_SEC),
		 J(&now, now.mono_ns - 3601 * NSEC_PER_SEC));
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
		printf("%-48s %.2f s CPU  target <= %.1f s  %s\n", name, cpu, TARGET_POLL_S,
		       verdict(cpu <= TARGET_POLL_S));
	else
		printf("%-48s %.2f s CPU  (no target)\n", name, cpu);
}

/*
 * The IPFIX encoder's CPU ns a record, on records like the poll's (IPv4 TCP and IPv6 UDP flows)
 * into messages of msg_size octets, as the exporter fills them: for the encode share of (c).
 */
static double encode_ns_per_record(uint64_t records, size_t msg_size)
{
	struct ipfix_flow f[4];
	struct ipfix_msg msg;
	uint8_t *buf = malloc(msg_size);
	uint64_t t0, sum = 0;

	if (!buf || !records)
		return 0;
	memset(f, 0, sizeof(f));
	for (int i = 0; i < 4; i++) {
		f[i].ip_version = i == 3 ? 6 : 4;
		f[i].protocol = i == 3 ? 17 : 6;
		f[i].src_addr[0] = f[i].dst_addr[0] = i == 3 ? 0xfd : 100;
		f[i].src_addr[3] = (uint8_t)i;
		f[i].src_port = (uint16_t)(1024 + i);
		f[i].dst_port = 443;
		f[i].packets = 30;
		f[i].octets = 21000;
		f[i].start_ms = 1700000000000ULL;
		f[i].end_ms = f[i].start_ms + 129000;
		f[i].end_reason = IPFIX_END_ACTIVE;
		f[i].forwarding_status = 64;
		f[i].tcp_flags = 0x18;
	}
	t0 = thread_ns();
	ipfix_msg_begin(&msg, buf, msg_size);
	for (uint64_t i = 0; i < records; i++) {
		if (ipfix_msg_add_flow(&msg, &f[i & 3]) == 0)
			continue;
		sum += ipfix_msg_finish(&msg, 1700000000, (uint32_t)i, 1);
		ipfix_msg_begin(&msg, buf, msg_size);
		ipfix_msg_add_flow(&msg, &f[i & 3]);
	}
	sum += ipfix_msg_finish(&msg, 1700000000, 0, 1);
	t0 = thread_ns() - t0;
	free(buf);
	return sum ? (double)t0 / (double)records : 0;
}

/* (c): the steady poll's CPU by phase, in ms and its share. */
static void print_split(const struct split *sp)
{
	double total = sp->cpu * 1e3;
	double enc = encode_ns_per_record(sp->records, sp->msg_size) * (double)sp->records / 1e6;
	double ms[4] = { sp->ns[PHASE_READ] / 1e6, enc, sp->ns[PHASE_SEND] / 1e6,
			 sp->ns[PHASE_WRITE] / 1e6 };
	double rest = total - ms[0] - ms[1] - ms[2] - ms[3];

	printf("  split of that poll (%.0f ms CPU, %" PRIu64 " records in %" PRIu64 " messages of "
	       "up to %zu octets):\n", total, sp->records, sp->messages, sp->msg_size);
	printf("    read %.0f ms (%.0f %%), decide %.0f ms (%.0f %%), encode %.0f ms (%.0f %%), "
	       "send %.0f ms (%.0f %%)", ms[0], 100 * ms[0] / total, rest, 100 * rest / total,
	       ms[1], 100 * ms[1] / total, ms[2], 100 * ms[2] / total);
	if (ms[3] > 0.5)
		printf(", map writes %.0f ms (%.0f %%)", ms[3], 100 * ms[3] / total);
	printf("\n");
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

static const unsigned int rss_cpus[] = { 16, 64, 128, 256 };

/*
 * Bytes of the exporter's buffers that depend on the possible-CPU count, as exporter_new sizes
 * them: a batch of keys with every CPU's value (sizing_batch_keys: by bytes, so about the same at
 * any count) and one flow's values. A machine with that many possible CPUs cannot be had here,
 * and a per-CPU map's values follow the real count: the RSS at another count is the one measured
 * here plus the difference of these buffers.
 */
static double percpu_buffers(unsigned int cpus, uint32_t max_entries)
{
	const struct htab_shape *shape = &flow_table_shapes[FLOW_TABLE_FLOWS];
	uint32_t chunk = sizing_batch_keys(SIZING_BATCH_BYTES, shape, cpus, max_entries);
	double values = (double)cpus * sizeof(struct flow_value);

	return (double)chunk * ((double)sizeof(struct flow_key) + values) + values;
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
		bench_now(&now);
		if (!env_open(&e, FLOWMETA_DEFAULT_MAX_FLOWS * 2) &&
		    !fill(e.maps.flows, flows, 10, J(&now, now.mono_ns - 70 * NSEC_PER_SEC),
			  J(&now, now.mono_ns - NSEC_PER_SEC)) &&
		    (exp = exporter_new(&e.maps, 7, &e.cfg, &now, NULL))) {
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
	for (size_t i = 0; i < sizeof(rss_cpus) / sizeof(rss_cpus[0]); i++) {
		double peak = kib[1] / 1024.0 +
			      (percpu_buffers(rss_cpus[i], FLOWMETA_DEFAULT_MAX_FLOWS) -
			       percpu_buffers((unsigned int)ncpus, FLOWMETA_DEFAULT_MAX_FLOWS)) /
				      1048576.0;
		char name[64];

		snprintf(name, sizeof(name), "  at %u possible CPUs (computed, peak)", rss_cpus[i]);
		printf("%-48s %.1f MiB  target <= 32 MiB  %s\n", name, peak,
		       verdict(peak <= 32.0));
	}
	return 0;
}

int main(void)
{
	double plain[3], state[3];
	struct split split;
	int ret;

	log_init(-1);
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0)
		return 1;
	ret = bench_rss(FLOWMETA_DEFAULT_MAX_FLOWS);
	ret |= bench_poll(1000000, false, plain, &split);
	ret |= bench_poll(1000000, true, state, NULL);
	if (ret)
		return ret;
	print_poll("export poll, 1M live flows (read, delta, encode, send)", plain[1], true);
	print_split(&split);
	print_poll("  the first poll after start (table grows)", plain[0], false);
	print_poll("  + export_state writes (restart exactness)", state[1], false);
	print_poll("  + export_state, first poll after start", state[0], false);
	print_poll("export poll, 1M flows ending (idle)", plain[2], false);
	print_poll("  + export_state deletes", state[2], false);
	return 0;
}
