/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The fixture of the BPF tests (datapath_test.c, policy_test.c): the production skeleton loaded
 * with small maps, a crafted frame run through one hook with BPF_PROG_TEST_RUN, and readers of
 * what the programs left behind: the flow map (its size, one flow's per-CPU values folded), the
 * stats counters folded over CPUs, the events waiting in the ring buffer. Also CPU pinning (each
 * CPU keeps its own share of a per-CPU value), the clock the programs stamp flows with, and the
 * Ethernet + IP start of a frame. A test program calls fx_start() first in main().
 */
#ifndef FLOWMETA_TESTS_BPF_FIXTURE_H
#define FLOWMETA_TESTS_BPF_FIXTURE_H

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <limits.h>
#include <linux/pkt_cls.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "flowmeta.h"
#include "flowmeta.skel.h"
#include "flowvalue.h"
#include "packet.h"

/* Entries of a skeleton's flow table (unless a case says) and of its export state. */
#define FX_MAX_FLOWS 64

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

enum hook { TC_INGRESS, TC_EGRESS, XDP_INGRESS };

/* Possible CPUs: the number of values of a per-CPU map entry (set by fx_start). */
static int ncpus;

/*
 * The start of main(): these tests need root (BPF_PROG_TEST_RUN) and the CPU count. Returns -1 to
 * go on, or the program's exit status once its one line is printed (SKIP without root, FAIL
 * without a CPU count).
 */
static inline int fx_start(const char *program)
{
	if (geteuid() != 0) {
		printf("SKIP %s: needs root (BPF_PROG_TEST_RUN)\n", program);
		return 0;
	}
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0) {
		printf("FAIL %s: cannot count possible CPUs\n", program);
		return 1;
	}
	libbpf_set_print(NULL);
	return -1;
}

/* ---- the skeleton ---------------------------------------------------------------------------- */

struct fixture_opts {
	bool l3_device;
	uint32_t max_flows;	/* 0: FX_MAX_FLOWS */
	uint32_t max_drop_flows;	/* 0: what the loader gives max_flows */
	uint32_t ring_bytes;	/* 0: the production size */
};

/* A fresh skeleton, loaded (not attached: test_run needs no interface); NULL fails the case. */
static inline struct flowmeta *fx_load(struct fixture_opts o)
{
	struct flowmeta *s = flowmeta__open();

	if (!EXPECT_TRUE(s != NULL))
		return NULL;
	s->rodata->l3_device = o.l3_device;
	if (!o.max_flows)
		o.max_flows = FX_MAX_FLOWS;
	bpf_map__set_max_entries(s->maps.flows, o.max_flows);
	bpf_map__set_max_entries(s->maps.drop_flows,
				 o.max_drop_flows ?: flowmeta_drop_flows_capacity(o.max_flows));
	bpf_map__set_max_entries(s->maps.export_state, FX_MAX_FLOWS);
	if (o.ring_bytes)
		bpf_map__set_max_entries(s->maps.events, o.ring_bytes);
	if (!EXPECT_EQ(flowmeta__load(s), 0)) {
		flowmeta__destroy(s);
		return NULL;
	}
	return s;
}

static inline int prog_fd(struct flowmeta *s, enum hook hook)
{
	switch (hook) {
	case TC_INGRESS:
		return bpf_program__fd(s->progs.flowmeta_tc_ingress);
	case TC_EGRESS:
		return bpf_program__fd(s->progs.flowmeta_tc_egress);
	default:
		return bpf_program__fd(s->progs.flowmeta_xdp_ingress);
	}
}

/*
 * Run the frame repeat times through a hook, with an optional __sk_buff context (GSO fields).
 * Returns the program's return code, INT_MIN when the run itself failed. With check_frame, the
 * frame must also come out byte for byte as it went in.
 */
static inline int fx_run(struct flowmeta *s, enum hook hook, const struct pkt *p, int repeat,
			 const struct __sk_buff *skb, bool check_frame)
{
	static uint8_t out[PKT_MAX + 512];
	struct __sk_buff ctx;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p->data, .data_size_in = p->len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = repeat);

	if (skb) {
		ctx = *skb;
		opts.ctx_in = &ctx;
		opts.ctx_size_in = sizeof(ctx);
	}
	if (!EXPECT_EQ(bpf_prog_test_run_opts(prog_fd(s, hook), &opts), 0))
		return INT_MIN;
	if (check_frame) {
		EXPECT_EQ(opts.data_size_out, p->len);
		EXPECT_MEM(out, p->data, p->len);
	}
	return (int)opts.retval;
}

/* ---- what the programs left ------------------------------------------------------------------ */

/* Keys in a hash map (key_size at most 64); -1 when the key is larger. */
static inline int map_size(int fd, size_t key_size)
{
	uint8_t k[64], next[64];
	int n = 0;

	if (key_size > sizeof(k))
		return -1;
	while (bpf_map_get_next_key(fd, n ? k : NULL, next) == 0) {
		memcpy(k, next, key_size);
		n++;
	}
	return n;
}

/* The table a flow of this verdict lives in: `flows`, or `drop_flows` for drops. */
static inline int flow_table(struct flowmeta *s, int verdict)
{
	return bpf_map__fd(verdict == FLOW_VERDICT_FORWARDED ? s->maps.flows : s->maps.drop_flows);
}

/* Flows in both tables. */
static inline int flow_count(struct flowmeta *s)
{
	return map_size(bpf_map__fd(s->maps.flows), sizeof(struct flow_key)) +
	       map_size(bpf_map__fd(s->maps.drop_flows), sizeof(struct flow_key));
}

/* The flow key a packet of this description is metered under (verdict: forwarded). */
static inline struct flow_key key_of(int version, const char *src, const char *dst, uint8_t proto,
				     uint16_t sport, uint16_t dport, enum flow_direction dir)
{
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	pkt_addr(version == 4 ? AF_INET : AF_INET6, src, k.src_addr);
	pkt_addr(version == 4 ? AF_INET : AF_INET6, dst, k.dst_addr);
	k.protocol = proto;
	k.ip_version = version;
	k.src_port = sport;
	k.dst_port = dport;
	k.direction = dir;
	k.verdict = FLOW_VERDICT_FORWARDED;
	return k;
}

/* This key's per-CPU values (ncpus of them); false when the key is not in the map. */
static inline bool flow_percpu(struct flowmeta *s, const struct flow_key *key,
			       struct flow_value *percpu)
{
	return bpf_map_lookup_elem(flow_table(s, key->verdict), key, percpu) == 0;
}

/* A flow's values folded over CPUs; fails the case when the key is not in the map. */
static inline bool flow_get(struct flowmeta *s, const struct flow_key *key, struct flow_value *val)
{
	struct flow_value percpu[ncpus];

	memset(val, 0, sizeof(*val));
	if (!EXPECT_TRUE(flow_percpu(s, key, percpu)))
		return false;
	return EXPECT_TRUE(flow_value_fold(percpu, ncpus, val));
}

/* The tables hold exactly one flow: its key, and its values folded over CPUs. */
static inline bool only_flow(struct flowmeta *s, struct flow_key *key, struct flow_value *val)
{
	memset(key, 0, sizeof(*key));
	memset(val, 0, sizeof(*val));
	if (!EXPECT_EQ(flow_count(s), 1))
		return false;
	if (bpf_map_get_next_key(bpf_map__fd(s->maps.flows), NULL, key) &&
	    !EXPECT_EQ(bpf_map_get_next_key(bpf_map__fd(s->maps.drop_flows), NULL, key), 0))
		return false;
	return flow_get(s, key, val);
}

/* The stats counters summed over CPUs. */
static inline struct flowmeta_stats stats_get(struct flowmeta *s)
{
	struct flowmeta_stats percpu[ncpus], sum;
	__u32 zero = 0;

	memset(&sum, 0, sizeof(sum));
	if (EXPECT_EQ(bpf_map_lookup_elem(bpf_map__fd(s->maps.stats), &zero, percpu), 0))
		flowmeta_stats_fold(percpu, ncpus, &sum);
	return sum;
}

/*
 * The events found in the ring buffer: how many, of them drop and table-full events (of each
 * table), and the last one.
 */
struct event_sink {
	int count, drops, table_full, drop_table_full;
	struct flow_event last;
};

static inline int event_cb(void *ctx, void *data, size_t size)
{
	struct event_sink *sink = ctx;

	if (size == sizeof(sink->last))
		memcpy(&sink->last, data, size);
	sink->count++;
	sink->drops += sink->last.type == FLOW_EVENT_DROP;
	sink->table_full += sink->last.type == FLOW_EVENT_TABLE_FULL;
	sink->drop_table_full += sink->last.type == FLOW_EVENT_DROP_TABLE_FULL;
	return 0;
}

/* Consume every event waiting in the ring buffer. */
static inline struct event_sink events_drain(struct flowmeta *s)
{
	struct event_sink sink = { 0 };
	struct ring_buffer *rb;

	rb = ring_buffer__new(bpf_map__fd(s->maps.events), event_cb, &sink, NULL);
	if (!EXPECT_TRUE(rb != NULL))
		return sink;
	EXPECT_TRUE(ring_buffer__consume(rb) >= 0);
	ring_buffer__free(rb);
	return sink;
}

/* ---- CPUs and time --------------------------------------------------------------------------- */

/* Run on this CPU only: test_run then counts into its share of every per-CPU value. */
static inline bool pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) == 0;
}

/* Back to every CPU, as the process started. */
static inline void unpin(void)
{
	cpu_set_t all;

	CPU_ZERO(&all);
	for (int cpu = 0; cpu < ncpus && cpu < CPU_SETSIZE; cpu++)
		CPU_SET(cpu, &all);
	sched_setaffinity(0, sizeof(all), &all);
}

/* The clock drop-event windows are taken from (bpf_ktime_get_coarse_ns; flow times are jiffies). */
static inline uint64_t monotonic_coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* ---- frames ---------------------------------------------------------------------------------- */

/* 4 or 6, by the form of a textual address. */
static inline int family(const char *addr)
{
	return strchr(addr, ':') ? 6 : 4;
}

/* A frame whose Ethernet header names IPv4 (IPv6), then that IP header; the builder continues. */
static inline void eth_ipv4(struct pkt *p, const char *src, const char *dst, uint8_t proto)
{
	pkt_init(p);
	pkt_eth(p, ETH_P_IP);
	pkt_ipv4(p, src, dst, proto);
}

static inline void eth_ipv6(struct pkt *p, const char *src, const char *dst, uint8_t nexthdr)
{
	pkt_init(p);
	pkt_eth(p, ETH_P_IPV6);
	pkt_ipv6(p, src, dst, nexthdr);
}

/* The same, IPv4 or IPv6 by the form of the addresses. */
static inline void ip_start(struct pkt *p, const char *src, const char *dst, uint8_t proto)
{
	if (family(src) == 4)
		eth_ipv4(p, src, dst, proto);
	else
		eth_ipv6(p, src, dst, proto);
}

#endif /* FLOWMETA_TESTS_BPF_FIXTURE_H */
