// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Cost of the kernel programs per packet under BPF_PROG_TEST_RUN (SPEC §9). Every figure is the
 * kernel's own opts.duration (ns per run), best of several attempts taken round-robin, and is
 * compared net of an empty TC program measured the same way in the same process:
 *  - an existing IPv4 and IPv6 TCP flow (one frame repeated in the kernel), against the floor of
 *    any meter on this map, a program that only looks a flow up (target: within 1.4x of its net),
 *    and against NetObserv's tc_ingress_flow_parse (target: <= 0.30x its net);
 *  - a new flow every packet, one BPF_PROG_TEST_RUN per packet (a frame of its own each, so any
 *    program can be measured as it is), into a table of the default size: fresh (a table never
 *    used) and steady state (the table filled and emptied before), flowmeta's production program
 *    against NetObserv's (target: <= 0.5x its net);
 *  - two CPUs hitting the same flow at once, against one CPU alongside (target: <= 1.2x), and
 *    NetObserv's the same way.
 * Information besides: the floor with the flow clock, and new flows run in the kernel's repeat
 * loop (bench_new_flow: warm caches) into the default table, a 1M-flow and a 10k-flow table.
 *
 * NetObserv is measured when FM_BENCH_NETOBSERV names a BPF object holding its
 * tc_ingress_flow_parse (built by whoever runs the benchmark from NetObserv's own sources; none
 * of it is part of flowmeta). It is loaded as its agent loads it with every optional feature off
 * (the object's defaults: no sampling, no filters): no pins, its ring buffers at one page, its flow
 * map (aggregated_flows) at flowmeta's default capacity. Without it the NetObserv targets print
 * MISSED with the reason. A missed target prints MISSED; the exit status is 0 all the same
 * (non-zero only when it cannot measure at all).
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.skel.h"
#include "flowmeta.h"
#include "flowmeta.skel.h"
#include "bpf/packet.h"

#define REPEAT		1000000
/* Attempts per figure, the best one reported: other work on the machine only ever adds time. */
#define RUNS		15
/*
 * The two-CPU figure needs both CPUs quiet at once, which other work on a small machine spoils
 * more often than a one-CPU run: more attempts (each is only REPEAT packets).
 */
#define TWO_CPU_RUNS	40
#define PAYLOAD		100
/*
 * New flows at the default table size: ROUNDS rounds of one packet per flow until the table is
 * full (at least a million packets in all), the table emptied between rounds; the best of
 * ROUND_ATTEMPTS. Every flow of a round must be created, none may find the table full.
 */
#define ROUND_FLOWS	FLOWMETA_DEFAULT_MAX_FLOWS
#define ROUNDS		16
#define ROUND_ATTEMPTS	3
/* The peers: one round each into a fresh table sized so every flow of the run fits. */
#define BIG_FLOWS	1000000
#define BIG_RUNS	3
#define SMALL_FLOWS	10000
#define SMALL_RUNS	5
#define DRAIN_CHUNK	4096

/*
 * New flows one run a packet, into a table of the default size: per attempt a fresh table, one
 * round that fills it (the fresh figure), emptied, then SINGLE_STEADY more rounds emptied after
 * each (the steady figure); every round's keys are new. Best of SINGLE_ATTEMPTS.
 */
#define SINGLE_FLOWS	FLOWMETA_DEFAULT_MAX_FLOWS
#define SINGLE_STEADY	3
#define SINGLE_ATTEMPTS	3
/* The peer's two-CPU figure is information only: fewer attempts. */
#define PEER_TWO_CPU_RUNS 15

#define PEER_ENV	"FM_BENCH_NETOBSERV"
#define PEER_PROG	"tc_ingress_flow_parse"
#define PEER_MAP	"aggregated_flows"

#define TARGET_FLOOR_RATIO	1.4	/* existing flow, net, over the lookup alone, net */
#define TARGET_PEER_EXISTING	0.30	/* existing flow, net, over NetObserv's */
#define TARGET_PEER_NEW		0.5	/* new flow, net, over NetObserv's */
#define TARGET_TWO_CPU_RATIO	1.2

static int ncpus;

static bool pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

/* One test run of repeat packets; the kernel's ns per packet, or -1 with the error reported. */
static long run_once(int prog_fd, const struct pkt *p, int repeat)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p->data, .data_size_in = p->len,
		    .repeat = repeat);
	int err = bpf_prog_test_run_opts(prog_fd, &opts);

	if (err) {
		fprintf(stderr, "bpf_bench: BPF_PROG_TEST_RUN: %s\n", strerror(-err));
		return -1;
	}
	return opts.duration;
}

/* One figure measured by run_all(): a program, its frame and the best ns/packet so far. */
struct figure {
	int prog_fd;
	const struct pkt *pkt;
	long best;
};

/*
 * Best of RUNS for every figure, taken round-robin: a burst of other work on the machine then
 * slows one attempt of each figure instead of every attempt of one. False when a run failed.
 */
static bool run_all(struct figure *fig, int n)
{
	for (int f = 0; f < n; f++)
		fig[f].best = -1;
	for (int i = 0; i < RUNS; i++) {
		for (int f = 0; f < n; f++) {
			long ns = run_once(fig[f].prog_fd, fig[f].pkt, REPEAT);

			if (ns < 0)
				return false;
			if (fig[f].best < 0 || ns < fig[f].best)
				fig[f].best = ns;
		}
	}
	return true;
}

static void frame_ipv4_tcp(struct pkt *p)
{
	pkt_init(p);
	pkt_eth(p, ETH_P_IP);
	pkt_ipv4(p, "100.64.0.1", "100.64.0.2", IPPROTO_TCP);
	pkt_tcp(p, 40000, 5201, 0x10, 0);
	pkt_payload(p, PAYLOAD);
	pkt_finish(p);
}

static void frame_ipv6_tcp(struct pkt *p)
{
	pkt_init(p);
	pkt_eth(p, ETH_P_IPV6);
	pkt_ipv6(p, "fd00::1", "fd00::2", IPPROTO_TCP);
	pkt_tcp(p, 40000, 5201, 0x10, 0);
	pkt_payload(p, PAYLOAD);
	pkt_finish(p);
}

/* Packets the bench object's copy of the meter found the flow table full for, all CPUs. */
static long table_full_packets(struct bench *b)
{
	struct flowmeta_stats st[ncpus];
	__u32 zero = 0;
	long n = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(b->maps.stats), &zero, st))
		return -1;
	for (int cpu = 0; cpu < ncpus; cpu++)
		n += st[cpu].table_full_packets;
	return n;
}

/*
 * Empty a hash map (outside any timed part), flowmeta's per-CPU one or the peer's: the number of
 * entries it held, or -1.
 */
static long drain_flows(int fd)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info), batch, count;
	void *keys = NULL, *vals = NULL;
	size_t value_bytes;
	long n = 0;
	int err;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -1;
	value_bytes = info.type == BPF_MAP_TYPE_PERCPU_HASH
			      ? (size_t)((info.value_size + 7) & ~7u) * (size_t)ncpus
			      : info.value_size;
	keys = calloc(DRAIN_CHUNK, info.key_size);
	vals = calloc(DRAIN_CHUNK, value_bytes);
	if (!keys || !vals) {
		n = -1;
		goto out;
	}
	do {
		count = DRAIN_CHUNK;
		err = bpf_map_lookup_and_delete_batch(fd, n ? &batch : NULL, &batch, keys, vals,
						      &count, NULL);
		if (err && errno != ENOENT) {
			fprintf(stderr, "bpf_bench: empty the flow table: %s\n", strerror(errno));
			n = -1;
			break;
		}
		n += count;
	} while (!err);
out:
	free(keys);
	free(vals);
	return n;
}

static struct bench *bench_load(__u32 max_flows)
{
	struct bench *b = bench__open();

	if (!b) {
		fprintf(stderr, "bpf_bench: open bench object: %s\n", strerror(errno));
		return NULL;
	}
	bpf_map__set_max_entries(b->maps.flows, max_flows);
	if (bench__load(b)) {
		fprintf(stderr, "bpf_bench: load bench object: %s\n", strerror(errno));
		bench__destroy(b);
		return NULL;
	}
	return b;
}

/*
 * New flow every packet into a table of the default size: ROUNDS rounds of ROUND_FLOWS packets,
 * each a new flow, the table emptied after each round. The ns/packet of the best attempt, or -1
 * when a round did not create exactly one flow per packet (a full table, a lost insert). first:
 * the very first round, into a table never used before, whose free elements still lie in address
 * order (the prefetcher follows them); a deleted flow's element goes back to the free list in
 * whatever order the deletes came, as in production, where the daemon deletes ended flows.
 */
static long new_flow_rounds(const struct pkt *p, long *first)
{
	struct bench *b = bench_load(ROUND_FLOWS);
	long best = -1;

	if (!b)
		return -1;
	for (int a = 0; a < ROUND_ATTEMPTS; a++) {
		long sum = 0;

		for (int r = 0; r < ROUNDS; r++) {
			long ns = run_once(bpf_program__fd(b->progs.bench_new_flow), p, ROUND_FLOWS);
			long created = drain_flows(bpf_map__fd(b->maps.flows));

			if (ns < 0 || created < 0)
				goto fail;
			if (created != ROUND_FLOWS || table_full_packets(b) != 0) {
				fprintf(stderr, "bpf_bench: a round of %d new flows created %ld and "
					"found the table full %ld times\n", ROUND_FLOWS, created,
					table_full_packets(b));
				goto fail;
			}
			if (a == 0 && r == 0)
				*first = ns;
			sum += ns;
		}
		if (best < 0 || sum / ROUNDS < best)
			best = sum / ROUNDS;
	}
	bench__destroy(b);
	return best;
fail:
	bench__destroy(b);
	return -1;
}

/*
 * New flow every packet, flows packets of them, into a fresh table sized so all fit (a run that
 * finds it full would measure the wrong path, and says so): the best of runs.
 */
static long new_flow_fresh(const struct pkt *p, int flows, int runs)
{
	long best = -1;

	for (int i = 0; i < runs; i++) {
		struct bench *b = bench_load(flows + flows / 8);
		long ns;

		if (!b)
			return -1;
		ns = run_once(bpf_program__fd(b->progs.bench_new_flow), p, flows);
		if (ns >= 0 && table_full_packets(b) != 0)
			fprintf(stderr, "bpf_bench: new flows hit a full table\n");
		bench__destroy(b);
		if (ns < 0)
			return -1;
		if (best < 0 || ns < best)
			best = ns;
	}
	return best;
}

struct cpu_runner {
	pthread_t thread;
	pthread_barrier_t *start;
	int cpu;
	int prog_fd;
	const struct pkt *pkt;
	long ns;
};

static void *cpu_runner_main(void *arg)
{
	struct cpu_runner *r = arg;

	r->ns = -1;
	if (!pin_to_cpu(r->cpu)) {
		pthread_barrier_wait(r->start);
		return NULL;
	}
	pthread_barrier_wait(r->start);
	r->ns = run_once(r->prog_fd, r->pkt, REPEAT);
	return NULL;
}

static long max2(long a, long b)
{
	return a > b ? a : b;
}

/*
 * Two threads pinned to CPU 0 and 1 run the same packet at the same time: the best pair of
 * runs (by its slower CPU) into two[], and *one the best one-CPU run taken alongside,
 * attempt by attempt, so the ratio compares figures measured under the same conditions.
 */
static bool two_cpus_best(int prog_fd, const struct pkt *p, int runs, long two[2], long *one)
{
	two[0] = two[1] = *one = -1;
	for (int i = 0; i < runs; i++) {
		struct cpu_runner r[2];
		pthread_barrier_t start;
		long single = run_once(prog_fd, p, REPEAT);

		if (single < 0)
			return false;
		if (*one < 0 || single < *one)
			*one = single;
		pthread_barrier_init(&start, NULL, 2);
		for (int c = 0; c < 2; c++) {
			r[c] = (struct cpu_runner){ .start = &start, .cpu = c, .prog_fd = prog_fd,
						    .pkt = p };
			pthread_create(&r[c].thread, NULL, cpu_runner_main, &r[c]);
		}
		for (int c = 0; c < 2; c++)
			pthread_join(r[c].thread, NULL);
		pthread_barrier_destroy(&start);
		if (r[0].ns < 0 || r[1].ns < 0)
			return false;
		if (two[0] < 0 || max2(r[0].ns, r[1].ns) < max2(two[0], two[1])) {
			two[0] = r[0].ns;
			two[1] = r[1].ns;
		}
	}
	return true;
}

/* Put the constant key bench_lookup_only looks up into the bench object's flow map. */
static int seed_lookup_key(struct bench *b)
{
	struct flow_value zero[ncpus];
	struct flow_key key;

	memset(&key, 0, sizeof(key));
	memset(zero, 0, sizeof(zero));
	key.ip_version = 4;
	return bpf_map_update_elem(bpf_map__fd(b->maps.flows), &key, zero, BPF_ANY);
}

/*
 * NetObserv's object, loaded as its agent loads it with the optional features off: only its TC
 * ingress program, no pins (its maps ask to be pinned by name under /sys/fs/bpf), ring buffers at
 * one page (the agent shrinks those of features it does not use), its flow map at max_flows.
 * NULL with the reason printed.
 */
static struct bpf_object *peer_open(const char *path, __u32 max_flows, int *prog_fd, int *map_fd)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *prog;
	struct bpf_map *map;

	if (!obj) {
		fprintf(stderr, "bpf_bench: open %s (%s): %s\n", path, PEER_ENV, strerror(errno));
		return NULL;
	}
	bpf_object__for_each_program(prog, obj)
		bpf_program__set_autoload(prog, !strcmp(bpf_program__name(prog), PEER_PROG));
	bpf_object__for_each_map(map, obj) {
		bpf_map__set_pin_path(map, NULL);
		if (bpf_map__type(map) == BPF_MAP_TYPE_RINGBUF)
			bpf_map__set_max_entries(map, (__u32)sysconf(_SC_PAGESIZE));
	}
	prog = bpf_object__find_program_by_name(obj, PEER_PROG);
	map = bpf_object__find_map_by_name(obj, PEER_MAP);
	if (!prog || !map) {
		fprintf(stderr, "bpf_bench: %s has no program %s or no map %s\n", path, PEER_PROG,
			PEER_MAP);
		goto fail;
	}
	/* Its section "classifier/tc_ingress" is an older spelling this libbpf does not map. */
	bpf_program__set_type(prog, BPF_PROG_TYPE_SCHED_CLS);
	bpf_map__set_max_entries(map, max_flows);
	if (bpf_object__load(obj)) {
		fprintf(stderr, "bpf_bench: load %s: %s\n", path, strerror(errno));
		goto fail;
	}
	*prog_fd = bpf_program__fd(prog);
	*map_fd = bpf_map__fd(map);
	return obj;
fail:
	bpf_object__close(obj);
	return NULL;
}

/* A metering program and its flow table, loaded afresh for every attempt at new flows. */
struct meter {
	const char *peer_path;	/* NULL: flowmeta's production program */
	struct flowmeta *fm;
	struct bpf_object *obj;
	int prog_fd;
	int map_fd;
};

static bool meter_load(struct meter *m)
{
	if (m->peer_path) {
		m->obj = peer_open(m->peer_path, SINGLE_FLOWS, &m->prog_fd, &m->map_fd);
		return m->obj;
	}
	m->fm = flowmeta__open_and_load();
	if (!m->fm) {
		fprintf(stderr, "bpf_bench: load flowmeta: %s\n", strerror(errno));
		return false;
	}
	m->prog_fd = bpf_program__fd(m->fm->progs.flowmeta_tc_ingress);
	m->map_fd = bpf_map__fd(m->fm->maps.flows);
	return true;
}

static void meter_unload(struct meter *m)
{
	flowmeta__destroy(m->fm);
	bpf_object__close(m->obj);
	m->fm = NULL;
	m->obj = NULL;
}

/*
 * One BPF_PROG_TEST_RUN a packet over n frames that differ only in their IPv4 source address
 * (first .. first + n - 1 in 100.64.0.0/10): the mean of the kernel's ns per run, or -1.
 */
static double run_singles(int prog_fd, struct pkt *p, __u32 n, __u32 first)
{
	uint8_t *saddr = p->data + p->l3 + offsetof(struct iphdr, saddr);
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p->data, .data_size_in = p->len,
		    .repeat = 1);
	double sum = 0;

	for (__u32 i = 0; i < n; i++) {
		__u32 addr = htonl(0x64400000 | ((first + i) & 0x3fffff));

		memcpy(saddr, &addr, sizeof(addr));
		if (bpf_prog_test_run_opts(prog_fd, &opts)) {
			fprintf(stderr, "bpf_bench: BPF_PROG_TEST_RUN: %s\n", strerror(errno));
			return -1;
		}
		sum += opts.duration;
	}
	return sum / n;
}

/*
 * One attempt at new flows, one run a packet (SINGLE_ above): lowers *fresh and *steady to this
 * attempt's figures. False when a run failed or a round did not make exactly one flow a packet.
 */
static bool singles_attempt(struct meter *m, struct pkt *p, __u32 *first, double *fresh,
			    double *steady)
{
	double sum = 0;
	bool ok = meter_load(m);

	for (int r = 0; ok && r <= SINGLE_STEADY; r++) {
		double ns = run_singles(m->prog_fd, p, SINGLE_FLOWS, *first);
		long created = drain_flows(m->map_fd);

		*first += SINGLE_FLOWS;
		if (ns < 0 || created != SINGLE_FLOWS) {
			if (ns >= 0)
				fprintf(stderr, "bpf_bench: %s: a round of %d new flows made %ld\n",
					m->peer_path ? PEER_PROG : "flowmeta", SINGLE_FLOWS,
					created);
			ok = false;
		} else if (r == 0) {
			if (*fresh < 0 || ns < *fresh)
				*fresh = ns;
		} else {
			sum += ns;
		}
	}
	if (ok && (*steady < 0 || sum / SINGLE_STEADY < *steady))
		*steady = sum / SINGLE_STEADY;
	meter_unload(m);
	return ok;
}

static const char *verdict(bool ok)
{
	return ok ? "OK" : "MISSED";
}

static void print_net(const char *name, double ns, double base)
{
	printf("%-46s %6.1f ns/pkt  net %6.1f\n", name, ns, ns - base);
}

/* "  vs WHAT (net)  R.RRx  target <= T.TTx  OK|MISSED", or why there is no figure. */
static void print_ratio(const char *what, double net, double peer_net, double target)
{
	char name[64];

	snprintf(name, sizeof(name), "  vs %s (net)", what);
	if (peer_net <= 0) {
		printf("%-46s    n/a  target <= %.2fx  NOT MEASURED (set %s to NetObserv's "
		       "BPF object)\n", name, target, PEER_ENV);
		return;
	}
	printf("%-46s %6.2fx  target <= %.2fx  %s\n", name, net / peer_net, target,
	       verdict(net / peer_net <= target));
}

/* Two CPUs on one flow against one CPU alongside; false when a run failed. */
static bool print_two_cpus(const char *name, int prog_fd, const struct pkt *p, int runs,
			   bool target)
{
	long two[2], one;
	double ratio;

	if (!two_cpus_best(prog_fd, p, runs, two, &one))
		return false;
	ratio = (double)max2(two[0], two[1]) / (double)one;
	printf("%-46s %6ld ns/pkt  (cpu1 %ld; one CPU alongside %ld: %.2fx)", name, two[0], two[1],
	       one, ratio);
	if (target)
		printf("  target <= %.1fx  %s", TARGET_TWO_CPU_RATIO,
		       verdict(ratio <= TARGET_TWO_CPU_RATIO));
	printf("\n");
	return true;
}

int main(void)
{
	long base, floor, floor_clock, v4, v6, peer_v4 = -1, peer_v6 = -1;
	long fresh, fresh_first = -1, fresh_big, fresh_small;
	double s_empty = -1, s_fm[2] = { -1, -1 }, s_peer[2] = { -1, -1 };
	const char *peer_path = getenv(PEER_ENV);
	struct meter fm_meter = { 0 }, peer_meter = { 0 };
	struct bpf_object *peer = NULL;
	int peer_prog = -1, peer_map = -1, nfig = 5;
	struct figure fig[7];
	struct flowmeta *fm = NULL;
	struct bench *b = NULL;
	struct pkt p4, p6;
	__u32 first = 0;
	int ret = 1;

	if (geteuid() != 0) {
		printf("bpf_bench: skipped, needs root (BPF_PROG_TEST_RUN)\n");
		return 0;
	}
	libbpf_set_print(NULL);
	ncpus = libbpf_num_possible_cpus();
	frame_ipv4_tcp(&p4);
	frame_ipv6_tcp(&p6);
	if (peer_path && !*peer_path)
		peer_path = NULL;

	b = bench__open_and_load();
	fm = flowmeta__open_and_load();
	if (ncpus <= 0 || !b || !fm || seed_lookup_key(b)) {
		fprintf(stderr, "bpf_bench: load BPF objects: %s\n", strerror(errno));
		goto out;
	}
	if (peer_path) {
		peer = peer_open(peer_path, SINGLE_FLOWS, &peer_prog, &peer_map);
		if (!peer)
			goto out;
	}
	if (!pin_to_cpu(0)) {
		fprintf(stderr, "bpf_bench: pin to CPU 0: %s\n", strerror(errno));
		goto out;
	}

	printf("BPF datapath, BPF_PROG_TEST_RUN: kernel ns/packet, best of %d x %d repeats, "
	       "%zu-octet frames; net = less the empty program\n", RUNS, REPEAT, p4.len);
	fig[0] = (struct figure){ .prog_fd = bpf_program__fd(b->progs.bench_empty), .pkt = &p4 };
	fig[1] = (struct figure){ .prog_fd = bpf_program__fd(b->progs.bench_lookup_only),
				  .pkt = &p4 };
	fig[2] = (struct figure){ .prog_fd = bpf_program__fd(b->progs.bench_lookup_clock),
				  .pkt = &p4 };
	fig[3] = (struct figure){ .prog_fd = bpf_program__fd(fm->progs.flowmeta_tc_ingress),
				  .pkt = &p4 };
	fig[4] = (struct figure){ .prog_fd = bpf_program__fd(fm->progs.flowmeta_tc_ingress),
				  .pkt = &p6 };
	if (peer) {
		fig[5] = (struct figure){ .prog_fd = peer_prog, .pkt = &p4 };
		fig[6] = (struct figure){ .prog_fd = peer_prog, .pkt = &p6 };
		nfig = 7;
	}
	if (!run_all(fig, nfig))
		goto out;
	base = fig[0].best;
	floor = fig[1].best;
	floor_clock = fig[2].best;
	v4 = fig[3].best;
	v6 = fig[4].best;
	if (peer) {
		peer_v4 = fig[5].best;
		peer_v6 = fig[6].best;
	}
	printf("%-46s %6.1f ns/pkt\n", "empty TC program (baseline)", (double)base);
	print_net("floor: a flow-map lookup alone", floor, base);
	print_net("info: the lookup + the flow clock", floor_clock, base);
	if (peer) {
		print_net("peer: NetObserv " PEER_PROG ", IPv4", peer_v4, base);
		print_net("peer: NetObserv, IPv6", peer_v6, base);
	}
	print_net("existing IPv4 TCP flow", v4, base);
	printf("%-46s %6.2fx  target <= %.1fx  %s\n", "  vs the lookup alone (net)",
	       (double)(v4 - base) / (floor - base), TARGET_FLOOR_RATIO,
	       verdict((v4 - base) <= TARGET_FLOOR_RATIO * (floor - base)));
	print_ratio("NetObserv", v4 - base, peer ? peer_v4 - base : 0, TARGET_PEER_EXISTING);
	print_net("existing IPv6 TCP flow", v6, base);
	printf("%-46s %6.2fx  target <= %.1fx  %s\n", "  vs the lookup alone (net)",
	       (double)(v6 - base) / (floor - base), TARGET_FLOOR_RATIO,
	       verdict((v6 - base) <= TARGET_FLOOR_RATIO * (floor - base)));
	print_ratio("NetObserv", v6 - base, peer ? peer_v6 - base : 0, TARGET_PEER_EXISTING);

	/* New flows, one run a packet: the empty program, flowmeta and the peer in turn. */
	fm_meter.peer_path = NULL;
	peer_meter.peer_path = peer_path;
	for (int a = 0; a < SINGLE_ATTEMPTS; a++) {
		double e = run_singles(bpf_program__fd(b->progs.bench_empty), &p4, SINGLE_FLOWS, 0);

		if (e < 0 || !singles_attempt(&fm_meter, &p4, &first, &s_fm[0], &s_fm[1]) ||
		    (peer_path &&
		     !singles_attempt(&peer_meter, &p4, &first, &s_peer[0], &s_peer[1])))
			goto out;
		if (s_empty < 0 || e < s_empty)
			s_empty = e;
	}
	printf("new flow every packet, one run a packet, %d-flow table (best of %d):\n",
	       SINGLE_FLOWS, SINGLE_ATTEMPTS);
	printf("%-46s %6.1f ns/pkt\n", "  empty TC program, so (baseline)", s_empty);
	print_net("  flowmeta, fresh (a table never used)", s_fm[0], s_empty);
	if (peer_path)
		print_net("  peer: NetObserv, fresh", s_peer[0], s_empty);
	print_ratio("NetObserv, fresh", s_fm[0] - s_empty, peer_path ? s_peer[0] - s_empty : 0,
		    TARGET_PEER_NEW);
	print_net("  flowmeta, steady (filled, emptied before)", s_fm[1], s_empty);
	if (peer_path)
		print_net("  peer: NetObserv, steady", s_peer[1], s_empty);
	print_ratio("NetObserv, steady", s_fm[1] - s_empty, peer_path ? s_peer[1] - s_empty : 0,
		    TARGET_PEER_NEW);

	fresh = new_flow_rounds(&p4, &fresh_first);
	fresh_big = new_flow_fresh(&p4, BIG_FLOWS, BIG_RUNS);
	fresh_small = new_flow_fresh(&p4, SMALL_FLOWS, SMALL_RUNS);
	if (fresh < 0 || fresh_big < 0 || fresh_small < 0)
		goto out;
	printf("info: new flows in the kernel's repeat loop (bench_new_flow, warm caches):\n");
	print_net("  steady, 65536-flow table (16 rounds)", fresh, base);
	print_net("  its first round, table never used", fresh_first, base);
	print_net("  fresh 1M-flow table", fresh_big, base);
	print_net("  fresh 10k-flow table", fresh_small, base);

	if (ncpus < 2 || sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		printf("%-46s skipped: needs two CPUs\n", "two CPUs, same flow");
	} else if (!print_two_cpus("two CPUs, same IPv4 flow (cpu0)",
				   bpf_program__fd(fm->progs.flowmeta_tc_ingress), &p4,
				   TWO_CPU_RUNS, true) ||
		   (peer && !print_two_cpus("peer: NetObserv, two CPUs (cpu0)", peer_prog, &p4,
					    PEER_TWO_CPU_RUNS, false))) {
		goto out;
	}
	ret = 0;
out:
	bpf_object__close(peer);
	flowmeta__destroy(fm);
	bench__destroy(b);
	return ret;
}
