// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Exporter tests on real BPF maps (created with bpf_map_create, no program needed) filled by hand,
 * driven through time by a controlled clock, with the records received on a real UDP socket
 * (127.0.0.1:4788) and decoded. Every count is exact.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "exporter.h"
#include "export_decode.h"
#include "flowtable.h"
#include "maps_fixture.h"

#define MS		1000000ULL
#define SEC		1000000000ULL
#define T0		(1000 * SEC)			/* a CLOCK_MONOTONIC time of the test's */
#define REAL_OFFSET	(1700000000ULL * SEC)		/* CLOCK_REALTIME - CLOCK_MONOTONIC */
#define PORT		4788
#define IFINDEX		7

static int ncpus;

struct env {
	struct flowmeta_maps maps;
	struct config cfg;
	struct decoder *d;
	struct exporter *exp;
};

/*
 * The test's flow clock: HZ=1000, tick 0 of the test at CLOCK_MONOTONIC 0, jiffies counted from the
 * kernel's start value (2^32 - 300 HZ), so that a time mistaken for another unit is far off.
 */
#define JIFFIES0	(0x100000000ULL - 300 * 1000)

static uint64_t J(uint64_t mono)
{
	return JIFFIES0 + mono / MS;
}

static struct fm_time at(uint64_t mono)
{
	return (struct fm_time){ mono, mono + REAL_OFFSET, { JIFFIES0, 0, MS } };
}

static uint64_t epoch_ms(uint64_t mono)
{
	return (mono + REAL_OFFSET) / MS;
}

/* Maps, a receiver, and the default configuration with the receiver as collector. */
static bool env_open(struct env *e, uint32_t max_entries)
{
	int err;

	memset(e, 0, sizeof(*e));
	err = maps_fixture_open(&e->maps, max_entries);
	if (err) {
		printf("SKIP %s: bpf_map_create: %s\n", check_case, strerror(-err));
		check_case_skipped = 1;
		return false;
	}
	e->d = dec_open("127.0.0.1", PORT);
	EXPECT_TRUE(e->d);
	dec_config(&e->cfg);
	dec_config_add(&e->cfg, "127.0.0.1", PORT);
	return e->d;
}

static bool env_start(struct env *e, uint64_t now)
{
	struct fm_time t = at(now);

	e->exp = exporter_new(&e->maps, IFINDEX, &e->cfg, &t, NULL);
	EXPECT_TRUE(e->exp);
	return e->exp;
}

/* The end of every case: whatever it checked, the receiver decoded every message cleanly. */
static void env_close(struct env *e)
{
	if (e->d)
		EXPECT_EQ(e->d->errors, 0);
	exporter_free(e->exp);
	dec_close(e->d);
	maps_fixture_close(&e->maps);
}

static void poll_at(struct env *e, uint64_t now)
{
	struct fm_time t = at(now);

	EXPECT_EQ(exporter_poll(e->exp, &t), 0);
	dec_drain(e->d);
}

static void tick_at(struct env *e, uint64_t now)
{
	struct fm_time t = at(now);

	exporter_tick(e->exp, &t);
	dec_drain(e->d);
}

static struct flow_key key_v4(uint8_t protocol, uint8_t direction, uint16_t sport, uint16_t dport)
{
	struct flow_key k = {
		.src_addr = { 100, 64, 0, 1 },
		.dst_addr = { 100, 64, 0, 2 },
		.src_port = sport,
		.dst_port = dport,
		.protocol = protocol,
		.ip_version = 4,
		.direction = direction,
	};

	return k;
}

static struct flow_key tcp(uint8_t direction, uint16_t sport)
{
	return key_v4(6, direction, sport, 22);
}

/*
 * Set a flow's per-CPU values: packets split over two CPUs (when there are two), 100 octets a
 * packet; CPU 0 saw the first packet, the last CPU the last one, flags on CPU 0 only.
 */
static void put_flow(struct env *e, const struct flow_key *k, uint64_t packets, uint64_t first,
		     uint64_t last, uint8_t tcp_flags, uint8_t end_flags)
{
	struct flow_value *v = calloc((size_t)ncpus, sizeof(*v));
	int last_cpu = ncpus > 1 ? 1 : 0;

	v[0].packets = packets - (last_cpu ? packets / 2 : 0);
	v[last_cpu].packets += last_cpu ? packets / 2 : 0;
	if (!v[last_cpu].packets)
		last_cpu = 0;		/* one packet: CPU 0 saw it all */
	for (int c = 0; c <= last_cpu; c++) {
		v[c].octets = v[c].packets * 100;
		v[c].first_seen_jiffies = J(c ? first + MS : first);
		v[c].last_seen_jiffies = J(c == last_cpu ? last : last - MS);
	}
	v[0].tcp_flags = tcp_flags;
	v[0].end_flags = end_flags;
	/* A drop flow lives in the drop table, as the kernel programs keep it. */
	EXPECT_EQ(bpf_map_update_elem(k->verdict ? e->maps.drop_flows : e->maps.flows, k, v,
				      BPF_ANY), 0);
	free(v);
}

static bool in_map(int fd, const struct flow_key *k)
{
	struct flow_value *v = calloc((size_t)ncpus, sizeof(*v));
	bool found = !bpf_map_lookup_elem(fd, k, v);

	free(v);
	return found;
}

static size_t map_count(int fd)
{
	struct flow_key key, next;
	size_t n = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

/*
 * Flow records received for source port sport, in arrival order, into out (up to max). The rest of
 * out points to an empty record, so a case that got too few records fails on its numbers.
 */
static size_t records_of(const struct env *e, uint16_t sport, const struct dec_record **out,
			 size_t max)
{
	static const struct dec_record none;
	size_t n = 0;

	for (size_t i = 0; i < max; i++)
		out[i] = &none;

	for (size_t i = 0; i < e->d->n_records; i++) {
		const struct dec_record *r = &e->d->records[i];

		if (r->template_id < 264 && r->src_port == sport && n < max)
			out[n++] = r;
	}
	return n;
}

/* ---- the cases ------------------------------------------------------------------------------- */

static void interim_records_carry_deltas_that_sum_to_the_flow_total(void)
{
	const struct flow_key k = tcp(FLOW_DIR_EGRESS, 40001);
	const struct dec_record *r[8];
	struct env e;

	if (!env_open(&e, 1024))
		goto out;
	e.cfg.interval_ms = 60000;
	e.cfg.idle_timeout_ms = 100000;
	if (!env_start(&e, T0))
		goto out;
	put_flow(&e, &k, 10, T0 + 1 * SEC, T0 + 50 * SEC, 0x18, 0);
	poll_at(&e, T0 + 60 * SEC);			/* 59 s since the first packet: not yet */
	EXPECT_EQ(records_of(&e, 40001, r, 8), 0);
	poll_at(&e, T0 + 120 * SEC);
	put_flow(&e, &k, 25, T0 + 1 * SEC, T0 + 170 * SEC, 0x18, 0);
	poll_at(&e, T0 + 180 * SEC);
	put_flow(&e, &k, 31, T0 + 1 * SEC, T0 + 190 * SEC, 0x19, 0);
	poll_at(&e, T0 + 230 * SEC);			/* 50 s since the last record: not yet */
	EXPECT_TRUE(in_map(e.maps.flows, &k));
	poll_at(&e, T0 + 290 * SEC);			/* idle 100 s: the final record */
	EXPECT_EQ(records_of(&e, 40001, r, 8), 3);
	EXPECT_EQ(r[0]->packets, 10);
	EXPECT_EQ(r[0]->octets, 1000);
	EXPECT_EQ(r[0]->end_reason, IPFIX_END_ACTIVE);
	EXPECT_EQ(r[0]->start_ms, epoch_ms(T0 + 1 * SEC));
	EXPECT_EQ(r[0]->end_ms, epoch_ms(T0 + 50 * SEC));
	EXPECT_EQ(r[1]->packets, 15);
	EXPECT_EQ(r[1]->octets, 1500);
	EXPECT_EQ(r[1]->end_reason, IPFIX_END_ACTIVE);
	EXPECT_EQ(r[1]->start_ms, epoch_ms(T0 + 1 * SEC));	/* the original start */
	EXPECT_EQ(r[1]->end_ms, epoch_ms(T0 + 170 * SEC));
	EXPECT_EQ(r[2]->packets, 6);
	EXPECT_EQ(r[2]->end_reason, IPFIX_END_IDLE);
	EXPECT_EQ(r[2]->tcp_flags, 0x19);
	EXPECT_EQ(r[0]->packets + r[1]->packets + r[2]->packets, 31);
	EXPECT_EQ(r[0]->octets + r[1]->octets + r[2]->octets, 3100);
	EXPECT_TRUE(!in_map(e.maps.flows, &k));
	EXPECT_EQ(map_count(e.maps.export_state), 0);
	EXPECT_EQ(e.d->errors, 0);
out:
	env_close(&e);
}

static void idle_flow_ends_with_reason_1_and_leaves_the_map(void)
{
	const struct flow_key idle = tcp(FLOW_DIR_INGRESS, 40002);
	const struct flow_key busy = tcp(FLOW_DIR_INGRESS, 40003);
	const struct dec_record *r[4];
	struct env e;

	if (!env_open(&e, 1024) || !env_start(&e, T0))
		goto out;
	put_flow(&e, &idle, 7, T0, T0 + 10 * SEC, 0x10, 0);
	put_flow(&e, &busy, 3, T0, T0 + 12 * SEC, 0x10, 0);
	poll_at(&e, T0 + 70 * SEC);		/* idle 60 s exactly; busy 58 s */
	EXPECT_EQ(records_of(&e, 40002, r, 4), 1);
	EXPECT_EQ(r[0]->packets, 7);
	EXPECT_EQ(r[0]->octets, 700);
	EXPECT_EQ(r[0]->end_reason, IPFIX_END_IDLE);
	EXPECT_EQ(r[0]->forwarding_status, IPFIX_FWD_FORWARDED);
	EXPECT_EQ(r[0]->direction, FLOW_DIR_INGRESS);
	EXPECT_EQ(r[0]->ingress_if, IFINDEX);
	EXPECT_EQ(r[0]->egress_if, 0);
	EXPECT_EQ(r[0]->template_id, IPFIX_TMPL_IPV4_TCP);
	EXPECT_EQ(records_of(&e, 40003, r, 4), 0);
	EXPECT_TRUE(!in_map(e.maps.flows, &idle));
	EXPECT_TRUE(in_map(e.maps.flows, &busy));
	EXPECT_EQ(exporter_get_stats(e.exp)->ended[IPFIX_END_IDLE], 1);
	EXPECT_EQ(exporter_get_stats(e.exp)->live_flows, 1);
out:
	env_close(&e);
}

static void fin_flow_ends_with_reason_3_one_second_after_its_last_packet(void)
{
	const struct flow_key old = tcp(FLOW_DIR_EGRESS, 40004);
	const struct flow_key fresh = tcp(FLOW_DIR_EGRESS, 40005);
	const struct flow_key rst = tcp(FLOW_DIR_EGRESS, 40006);
	const struct dec_record *r[4];
	struct env e;

	if (!env_open(&e, 1024) || !env_start(&e, T0))
		goto out;
	put_flow(&e, &old, 12, T0, T0 + 58 * SEC, 0x11, FLOW_END_FIN);
	put_flow(&e, &fresh, 5, T0, T0 + 59600 * MS, 0x11, FLOW_END_FIN);
	put_flow(&e, &rst, 2, T0, T0 + 30 * SEC, 0x04, FLOW_END_RST);
	poll_at(&e, T0 + 60 * SEC);
	EXPECT_EQ(records_of(&e, 40004, r, 4), 1);
	EXPECT_EQ(r[0]->packets, 12);
	EXPECT_EQ(r[0]->end_reason, IPFIX_END_DETECTED);
	EXPECT_EQ(r[0]->tcp_flags, 0x11);
	EXPECT_EQ(records_of(&e, 40006, r, 4), 1);
	EXPECT_EQ(r[0]->end_reason, IPFIX_END_DETECTED);
	/* The FIN 0.4 s ago: left for its final ACK, scheduled, not waiting for the next poll. */
	EXPECT_EQ(records_of(&e, 40005, r, 4), 0);
	EXPECT_TRUE(in_map(e.maps.flows, &fresh));
	EXPECT_EQ(exporter_next_deadline(e.exp), T0 + 60600 * MS);
	put_flow(&e, &fresh, 6, T0, T0 + 60100 * MS, 0x11, FLOW_END_FIN);	/* the last ACK */
	tick_at(&e, T0 + 60599 * MS);
	EXPECT_EQ(records_of(&e, 40005, r, 4), 0);
	tick_at(&e, T0 + 60600 * MS);
	EXPECT_EQ(records_of(&e, 40005, r, 4), 1);
	EXPECT_EQ(r[0]->packets, 6);
	EXPECT_EQ(r[0]->end_reason, IPFIX_END_DETECTED);
	EXPECT_TRUE(!in_map(e.maps.flows, &fresh));
out:
	env_close(&e);
}

static void tcp_end_hint_ends_the_flow_a_second_after_the_event_not_at_the_next_poll(void)
{
	const struct flow_key k = tcp(FLOW_DIR_INGRESS, 40007);
	struct flow_event ev = { .key = k, .timestamp_jiffies = J(T0 + 5 * SEC) };
	const struct dec_record *r[4];
	struct env e;

	ev.type = FLOW_EVENT_TCP_END;
	if (!env_open(&e, 1024) || !env_start(&e, T0))
		goto out;
	put_flow(&e, &k, 9, T0 + 1 * SEC, T0 + 5 * SEC, 0x11, FLOW_END_FIN);
	exporter_hint(e.exp, &ev);
	EXPECT_EQ(exporter_next_deadline(e.exp), T0 + 6 * SEC);
	put_flow(&e, &k, 10, T0 + 1 * SEC, T0 + 5200 * MS, 0x11, FLOW_END_FIN);
	tick_at(&e, T0 + 5900 * MS);
	EXPECT_EQ(records_of(&e, 40007, r, 4), 0);
	tick_at(&e, T0 + 6 * SEC);
	EXPECT_EQ(records_of(&e, 40007, r, 4), 1);
	EXPECT_EQ(r[0]->packets, 10);
	EXPECT_EQ(r[0]->octets, 1000);
	EXPECT_EQ(r[0]->end_reason, IPFIX_END_DETECTED);
	EXPECT_EQ(r[0]->end_ms, epoch_ms(T0 + 5200 * MS));
	EXPECT_TRUE(!in_map(e.maps.flows, &k));
	/* A duplicate event (another CPU) finds nothing to end. */
	ev.timestamp_jiffies += 1;
	exporter_hint(e.exp, &ev);
	tick_at(&e, T0 + 7 * SEC);
	EXPECT_EQ(records_of(&e, 40007, r, 4), 1);
out:
	env_close(&e);
}

static void forced_flush_ends_every_flow_with_reason_4_and_clears_the_state(void)
{
	const struct flow_key a = tcp(FLOW_DIR_EGRESS, 40008);
	const struct flow_key b = key_v4(17, FLOW_DIR_INGRESS, 40009, 53);
	const struct dec_record *r[4], *stats;
	struct fm_time t = at(T0 + 130 * SEC);
	struct env e;

	if (!env_open(&e, 1024))
		goto out;
	e.cfg.interval_ms = 60000;
	if (!env_start(&e, T0))
		goto out;
	put_flow(&e, &a, 20, T0, T0 + 100 * SEC, 0x10, 0);
	poll_at(&e, T0 + 120 * SEC);			/* interim 20 for a; b not there yet */
	put_flow(&e, &a, 26, T0, T0 + 125 * SEC, 0x10, 0);
	put_flow(&e, &b, 4, T0 + 121 * SEC, T0 + 129 * SEC, 0, 0);
	EXPECT_EQ(map_count(e.maps.export_state), 1);
	EXPECT_EQ(exporter_flush_all(e.exp, &t), 0);
	dec_drain(e.d);
	EXPECT_EQ(records_of(&e, 40008, r, 4), 2);
	EXPECT_EQ(r[1]->packets, 6);
	EXPECT_EQ(r[1]->end_reason, IPFIX_END_FORCED);
	EXPECT_EQ(records_of(&e, 40009, r, 4), 1);
	EXPECT_EQ(r[0]->packets, 4);
	EXPECT_EQ(r[0]->end_reason, IPFIX_END_FORCED);
	EXPECT_EQ(r[0]->template_id, IPFIX_TMPL_IPV4_UDP);
	EXPECT_EQ(r[0]->dst_port, 53);
	EXPECT_EQ(map_count(e.maps.flows), 0);
	EXPECT_EQ(map_count(e.maps.export_state), 0);
	/* Then the statistics, counting every flow record sent before them. */
	EXPECT_TRUE(e.d->n_msgs > 0 && e.d->msgs[e.d->n_msgs - 1].template_records == 8);
	stats = dec_last_options(e.d, IPFIX_TMPL_METERING_STATS);
	if (EXPECT_TRUE(stats != NULL))
		EXPECT_EQ(stats->exported_flows, 3);
out:
	env_close(&e);
}

static void full_table_ends_least_recently_seen_flows_with_reason_5_until_under_80_percent(void)
{
	const struct dec_record *r[4];
	struct env e;
	size_t evicted = 0;

	if (!env_open(&e, 100))
		goto out;
	e.cfg.idle_timeout_ms = 3600000;
	if (!env_start(&e, T0))
		goto out;
	for (uint16_t i = 0; i < 89; i++) {
		struct flow_key k = tcp(FLOW_DIR_EGRESS, (uint16_t)(41000 + i));

		put_flow(&e, &k, 1, T0, T0 + (uint64_t)(i + 1) * SEC, 0, 0);
	}
	poll_at(&e, T0 + 100 * SEC);		/* 89 of 100: under the high watermark */
	EXPECT_EQ(dec_flow_records(e.d), 0);
	EXPECT_EQ(map_count(e.maps.flows), 89);
	{
		struct flow_key k = tcp(FLOW_DIR_EGRESS, 41089);

		put_flow(&e, &k, 1, T0, T0 + 90 * SEC, 0, 0);
	}
	poll_at(&e, T0 + 100 * SEC);		/* 90 of 100: down to 79 */
	EXPECT_EQ(map_count(e.maps.flows), 79);
	EXPECT_EQ(dec_flow_records(e.d), 11);
	for (uint16_t i = 0; i < 90; i++) {
		size_t n = records_of(&e, (uint16_t)(41000 + i), r, 4);

		if (i < 11) {
			EXPECT_EQ(n, 1);	/* the 11 least recently seen */
			if (n)
				EXPECT_EQ(r[0]->end_reason, IPFIX_END_LACK_OF_RESOURCES);
		} else {
			EXPECT_EQ(n, 0);
		}
		evicted += n;
	}
	EXPECT_EQ(evicted, 11);
	EXPECT_EQ(exporter_get_stats(e.exp)->ended[IPFIX_END_LACK_OF_RESOURCES], 11);
out:
	env_close(&e);
}

static void sending_to_peer_exports_egress_flows_only_but_ends_ingress_flows_too(void)
{
	const struct flow_key in = tcp(FLOW_DIR_INGRESS, 40010);
	const struct flow_key out_k = tcp(FLOW_DIR_EGRESS, 40011);
	const struct dec_record *r[4];
	struct env e;

	if (!env_open(&e, 1024))
		goto out;
	e.cfg.direction = DIRECTION_SENDING_TO_PEER;
	if (!env_start(&e, T0))
		goto out;
	put_flow(&e, &in, 3, T0, T0 + SEC, 0x10, 0);
	put_flow(&e, &out_k, 4, T0, T0 + SEC, 0x10, 0);
	poll_at(&e, T0 + 70 * SEC);
	EXPECT_EQ(dec_flow_records(e.d), 1);
	EXPECT_EQ(records_of(&e, 40011, r, 4), 1);
	EXPECT_EQ(r[0]->packets, 4);
	EXPECT_EQ(r[0]->direction, FLOW_DIR_EGRESS);
	EXPECT_EQ(r[0]->egress_if, IFINDEX);
	EXPECT_EQ(r[0]->ingress_if, 0);
	EXPECT_EQ(map_count(e.maps.flows), 0);	/* the filtered flow ended all the same */
	EXPECT_EQ(exporter_get_stats(e.exp)->filtered, 1);
out:
	env_close(&e);
}

static void received_from_peer_exports_ingress_flows_only(void)
{
	const struct flow_key in = tcp(FLOW_DIR_INGRESS, 40012);
	const struct flow_key out_k = tcp(FLOW_DIR_EGRESS, 40013);
	const struct dec_record *r[4];
	struct env e;

	if (!env_open(&e, 1024))
		goto out;
	e.cfg.direction = DIRECTION_RECEIVED_FROM_PEER;
	if (!env_start(&e, T0))
		goto out;
	put_flow(&e, &in, 3, T0, T0 + SEC, 0x10, 0);
	put_flow(&e, &out_k, 4, T0, T0 + SEC, 0x10, 0);
	poll_at(&e, T0 + 70 * SEC);
	EXPECT_EQ(dec_flow_records(e.d), 1);
	EXPECT_EQ(records_of(&e, 40012, r, 4), 1);
	EXPECT_EQ(r[0]->packets, 3);
	EXPECT_EQ(map_count(e.maps.flows), 0);
out:
	env_close(&e);
}

static void drop_records_are_exported_whatever_the_direction_at_every_poll(void)
{
	struct flow_key deny = tcp(FLOW_DIR_EGRESS, 40014), untrusted = tcp(FLOW_DIR_EGRESS, 40015);
	const struct dec_record *r[4];
	struct env e;

	deny.verdict = FLOW_VERDICT_ACL_DENY;
	untrusted.verdict = FLOW_VERDICT_UNTRUSTED;
	if (!env_open(&e, 1024))
		goto out;
	e.cfg.direction = DIRECTION_RECEIVED_FROM_PEER;	/* egress would be filtered */
	if (!env_start(&e, T0))
		goto out;
	put_flow(&e, &deny, 5, T0, T0 + 50 * SEC, 0x02, 0);
	put_flow(&e, &untrusted, 2, T0, T0 + 50 * SEC, 0x02, 0);
	poll_at(&e, T0 + 60 * SEC);		/* Interval 0, yet a record at every poll */
	put_flow(&e, &deny, 8, T0, T0 + 110 * SEC, 0x02, 0);
	poll_at(&e, T0 + 120 * SEC);
	EXPECT_EQ(records_of(&e, 40014, r, 4), 2);
	EXPECT_EQ(r[0]->packets, 5);
	EXPECT_EQ(r[0]->forwarding_status, IPFIX_FWD_DROP_ACL_DENY);
	EXPECT_EQ(r[0]->end_reason, IPFIX_END_ACTIVE);
	EXPECT_EQ(r[1]->packets, 3);
	/* Idle by the second poll: nothing new, yet an end record says it ended. */
	EXPECT_EQ(records_of(&e, 40015, r, 4), 2);
	EXPECT_EQ(r[0]->forwarding_status, IPFIX_FWD_DROP_ACL_DROP);
	EXPECT_EQ(r[0]->packets, 2);
	EXPECT_EQ(r[0]->end_reason, IPFIX_END_ACTIVE);
	EXPECT_EQ(r[1]->forwarding_status, IPFIX_FWD_DROP_ACL_DROP);
	EXPECT_EQ(r[1]->packets, 0);
	EXPECT_EQ(r[1]->octets, 0);
	EXPECT_EQ(r[1]->end_reason, IPFIX_END_IDLE);
out:
	env_close(&e);
}

static void drop_hint_exports_the_first_drop_record_within_a_second(void)
{
	struct flow_key k = key_v4(1, FLOW_DIR_INGRESS, 0, 8 << 8);
	struct flow_event ev = { .timestamp_jiffies = J(T0 + 3 * SEC), .type = FLOW_EVENT_DROP };
	struct env e;

	k.verdict = FLOW_VERDICT_ACL_DENY;
	ev.key = k;
	if (!env_open(&e, 1024) || !env_start(&e, T0))
		goto out;
	put_flow(&e, &k, 1, T0 + 3 * SEC, T0 + 3 * SEC, 0, 0);
	exporter_hint(e.exp, &ev);
	EXPECT_EQ(exporter_next_deadline(e.exp), T0 + 3500 * MS);
	put_flow(&e, &k, 3, T0 + 3 * SEC, T0 + 3400 * MS, 0, 0);
	tick_at(&e, T0 + 3500 * MS);
	EXPECT_EQ(dec_flow_records(e.d), 1);
	if (dec_flow_records(e.d) == 1) {
		const struct dec_record *r = &e.d->records[e.d->n_records - 1];

		EXPECT_EQ(r->packets, 3);
		EXPECT_EQ(r->template_id, IPFIX_TMPL_IPV4_ICMP);
		EXPECT_EQ(r->icmp_type_code, 8 << 8);
		EXPECT_EQ(r->forwarding_status, IPFIX_FWD_DROP_ACL_DENY);
	}
	put_flow(&e, &k, 4, T0 + 3 * SEC, T0 + 30 * SEC, 0, 0);
	poll_at(&e, T0 + 60 * SEC);			/* then deltas at each poll */
	EXPECT_EQ(dec_flow_records(e.d), 2);
	EXPECT_EQ(e.d->records[e.d->n_records - 1].packets, 1);
out:
	env_close(&e);
}

static void zero_delta_interim_records_are_not_sent_but_the_end_record_is(void)
{
	const struct flow_key k = tcp(FLOW_DIR_EGRESS, 40016);
	const struct dec_record *r[4];
	struct env e;

	if (!env_open(&e, 1024))
		goto out;
	e.cfg.interval_ms = 60000;
	e.cfg.idle_timeout_ms = 120000;
	if (!env_start(&e, T0))
		goto out;
	put_flow(&e, &k, 10, T0, T0 + 30 * SEC, 0x10, 0);
	poll_at(&e, T0 + 60 * SEC);		/* interim 10 */
	poll_at(&e, T0 + 120 * SEC);		/* interval again, nothing new: no record */
	poll_at(&e, T0 + 180 * SEC);		/* idle 150 s: ends with zero counts */
	EXPECT_EQ(records_of(&e, 40016, r, 4), 2);
	EXPECT_EQ(r[0]->packets, 10);
	EXPECT_EQ(r[0]->end_reason, IPFIX_END_ACTIVE);
	EXPECT_EQ(r[1]->packets, 0);
	EXPECT_EQ(r[1]->octets, 0);
	EXPECT_EQ(r[1]->end_reason, IPFIX_END_IDLE);
	EXPECT_EQ(r[1]->start_ms, epoch_ms(T0));
	EXPECT_EQ(r[1]->end_ms, epoch_ms(T0 + 30 * SEC));
	EXPECT_EQ(exporter_get_stats(e.exp)->zero_delta, 1);
	EXPECT_TRUE(!in_map(e.maps.flows, &k));
	EXPECT_EQ(map_count(e.maps.export_state), 0);
out:
	env_close(&e);
}

static void export_state_lets_a_restarted_exporter_continue_without_double_counting(void)
{
	const struct flow_key k = tcp(FLOW_DIR_EGRESS, 40017);
	const struct dec_record *r[4];
	struct flow_export_state st;
	struct env e;

	if (!env_open(&e, 1024))
		goto out;
	e.cfg.interval_ms = 60000;
	if (!env_start(&e, T0))
		goto out;
	put_flow(&e, &k, 10, T0, T0 + 50 * SEC, 0x10, 0);
	poll_at(&e, T0 + 60 * SEC);
	EXPECT_EQ(bpf_map_lookup_elem(e.maps.export_state, &k, &st), 0);
	EXPECT_EQ(st.packets, 10);
	EXPECT_EQ(st.octets, 1000);
	/* Killed with -9: no flush. The kernel keeps counting; a new exporter starts. */
	exporter_free(e.exp);
	e.exp = NULL;
	put_flow(&e, &k, 14, T0, T0 + 100 * SEC, 0x10, 0);
	if (!env_start(&e, T0 + 110 * SEC))
		goto out;
	poll_at(&e, T0 + 120 * SEC);			/* interim: 4 new */
	put_flow(&e, &k, 15, T0, T0 + 125 * SEC, 0x11, 0);
	poll_at(&e, T0 + 190 * SEC);			/* idle end: 1 new */
	EXPECT_EQ(records_of(&e, 40017, r, 4), 3);
	EXPECT_EQ(r[0]->packets, 10);
	EXPECT_EQ(r[1]->packets, 4);
	EXPECT_EQ(r[1]->end_reason, IPFIX_END_ACTIVE);
	EXPECT_EQ(r[2]->packets, 1);
	EXPECT_EQ(r[2]->end_reason, IPFIX_END_IDLE);
	EXPECT_EQ(r[0]->octets + r[1]->octets + r[2]->octets, 1500);
	EXPECT_EQ(map_count(e.maps.export_state), 0);
out:
	env_close(&e);
}

static void export_state_of_an_earlier_flow_with_the_same_key_is_ignored(void)
{
	const struct flow_key k = tcp(FLOW_DIR_EGRESS, 40018), gone = tcp(FLOW_DIR_EGRESS, 40019);
	/* Written by a daemon killed between ending the old flow and deleting its state. */
	const struct flow_export_state old = { 2, 200, T0 + 10 * SEC };
	const struct dec_record *r[4];
	struct env e;

	if (!env_open(&e, 1024))
		goto out;
	EXPECT_EQ(bpf_map_update_elem(e.maps.export_state, &k, &old, BPF_ANY), 0);
	EXPECT_EQ(bpf_map_update_elem(e.maps.export_state, &gone, &old, BPF_ANY), 0);
	if (!env_start(&e, T0 + 20 * SEC))
		goto out;
	put_flow(&e, &k, 6, T0 + 15 * SEC, T0 + 16 * SEC, 0x10, 0);
	poll_at(&e, T0 + 80 * SEC);
	EXPECT_EQ(records_of(&e, 40018, r, 4), 1);
	EXPECT_EQ(r[0]->packets, 6);
	EXPECT_EQ(exporter_get_stats(e.exp)->stale_states, 2);
	EXPECT_EQ(map_count(e.maps.export_state), 0);
out:
	env_close(&e);
}

static void ipv6_icmp_flow_gets_template_262_with_its_type_and_code(void)
{
	struct flow_key k = {
		.src_addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 },
		.dst_addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 },
		.dst_port = 128 << 8,
		.protocol = 58,
		.ip_version = 6,
		.direction = FLOW_DIR_EGRESS,
	};
	struct env e;

	if (!env_open(&e, 1024) || !env_start(&e, T0))
		goto out;
	put_flow(&e, &k, 2, T0, T0 + SEC, 0, 0);
	poll_at(&e, T0 + 61 * SEC);
	EXPECT_EQ(dec_flow_records(e.d), 1);
	if (dec_flow_records(e.d) == 1) {
		const struct dec_record *r = &e.d->records[e.d->n_records - 1];

		EXPECT_EQ(r->template_id, IPFIX_TMPL_IPV6_ICMP);
		EXPECT_EQ(r->icmp_type_code, 128 << 8);
		EXPECT_MEM(r->src, k.src_addr, 16);
		EXPECT_MEM(r->dst, k.dst_addr, 16);
		EXPECT_EQ(r->packets, 2);
	}
out:
	env_close(&e);
}

/*
 * Packets the kernel could not put in a flow reach the collector as RFC 7011 §4.2 ignored
 * packets (template 266), with the times of the polls that saw them first and last; never as
 * notSent* (265), which counts only records that were metered but not sent.
 */
static void kernel_table_full_counts_reach_the_collector_as_ignored_packets(void)
{
	struct flowmeta_stats *percpu = calloc((size_t)ncpus, sizeof(*percpu));
	const struct dec_record *ex, *ig;
	const __u32 zero = 0;
	struct env e;

	if (!env_open(&e, 1024) || !env_start(&e, T0))
		goto out;
	for (int c = 0; c < ncpus; c++) {
		percpu[c].table_full_packets = 3;
		percpu[c].table_full_octets = 300;
	}
	EXPECT_EQ(bpf_map_update_elem(e.maps.stats, &zero, percpu, BPF_ANY), 0);
	poll_at(&e, T0 + 10 * SEC);		/* first seen */
	poll_at(&e, T0 + 20 * SEC);		/* unchanged: the last time stays */
	percpu[0].table_full_packets = 4;
	percpu[0].table_full_octets = 450;
	EXPECT_EQ(bpf_map_update_elem(e.maps.stats, &zero, percpu, BPF_ANY), 0);
	poll_at(&e, T0 + 30 * SEC);		/* grew: the last time */
	poll_at(&e, T0 + 60 * SEC);		/* TemplateRefresh due: templates and statistics */
	ex = dec_last_options(e.d, IPFIX_TMPL_EXPORTING_STATS);
	ig = dec_last_options(e.d, IPFIX_TMPL_METERING_RELIABILITY);
	if (EXPECT_TRUE(ex && ig)) {
		EXPECT_EQ(ex->not_sent_flows + ex->not_sent_packets + ex->not_sent_octets, 0);
		EXPECT_EQ(ig->ignored_packets, 3 * (uint64_t)ncpus + 1);
		EXPECT_EQ(ig->ignored_octets, 300 * (uint64_t)ncpus + 150);
		EXPECT_EQ(ig->obs_ms[0], epoch_ms(T0 + 10 * SEC));
		EXPECT_EQ(ig->obs_ms[1], epoch_ms(T0 + 30 * SEC));
	}
	EXPECT_EQ(exporter_get_stats(e.exp)->kernel.table_full_packets, 3 * (uint64_t)ncpus + 1);
out:
	free(percpu);
	env_close(&e);
}

/* The kernel said the flow table is full: relieved at once (the next tick), not at the next poll. */
static void table_full_event_relieves_the_table_at_the_next_tick(void)
{
	const struct flow_event full = { .type = FLOW_EVENT_TABLE_FULL };
	struct env e;
	size_t evicted = 0;

	if (!env_open(&e, 100))
		goto out;
	e.cfg.idle_timeout_ms = 3600000;
	if (!env_start(&e, T0))
		goto out;
	for (uint16_t i = 0; i < 100; i++) {
		struct flow_key k = tcp(FLOW_DIR_EGRESS, (uint16_t)(42000 + i));

		put_flow(&e, &k, 2, T0, T0 + (uint64_t)(i + 1) * SEC, 0, 0);
	}
	EXPECT_TRUE(exporter_next_deadline(e.exp) != 0);
	exporter_hint(e.exp, &full);
	EXPECT_EQ(exporter_next_deadline(e.exp), 0);	/* now */
	tick_at(&e, T0 + 101 * SEC);
	EXPECT_EQ(map_count(e.maps.flows), 79);
	EXPECT_EQ(dec_flow_records(e.d), 21);
	for (uint16_t i = 0; i < 21; i++) {
		const struct dec_record *r[2];

		evicted += records_of(&e, (uint16_t)(42000 + i), r, 2);
		EXPECT_EQ(r[0]->end_reason, IPFIX_END_LACK_OF_RESOURCES);
		EXPECT_EQ(r[0]->packets, 2);
	}
	EXPECT_EQ(evicted, 21);
	EXPECT_TRUE(exporter_next_deadline(e.exp) != 0);	/* relieved: nothing more now */
out:
	env_close(&e);
}

/* N TCP flows from port FIRST up, last seen in that order after SEEN. */
static void add_flows(struct env *e, uint16_t first, uint16_t n, uint64_t seen)
{
	for (uint16_t i = 0; i < n; i++) {
		struct flow_key k = tcp(FLOW_DIR_EGRESS, (uint16_t)(first + i));

		put_flow(e, &k, 2, seen, seen + (uint64_t)(i + 1) * MS, 0, 0);
	}
}

static void set_table_full_packets(struct env *e, uint64_t packets)
{
	struct flowmeta_stats *percpu = calloc((size_t)ncpus, sizeof(*percpu));
	const __u32 zero = 0;

	percpu[0].table_full_packets = packets;
	EXPECT_EQ(bpf_map_update_elem(e->maps.stats, &zero, percpu, BPF_ANY), 0);
	free(percpu);
}

/*
 * The kernel raises a few table-full events a second at most: after a relief, the daemon looks
 * at the refused counter again EXPORTER_RELIEF_RECHECK_NS later and, if it grew, relieves the
 * table again when it is still full, with no event (a flood refilled it after the window's last
 * one), and looks again later; once the counter stops growing, the looks stop too.
 */
static void relief_is_repeated_while_the_kernel_refuses_inserts_without_events(void)
{
	const struct flow_event full = { .type = FLOW_EVENT_TABLE_FULL };
	const uint64_t r = EXPORTER_RELIEF_RECHECK_NS, t1 = T0 + 10 * SEC, t2 = t1 + r;
	struct env e;

	if (!env_open(&e, 100))
		goto out;
	e.cfg.idle_timeout_ms = 3600000;
	if (!env_start(&e, T0))
		goto out;
	add_flows(&e, 42000, 100, T0);
	set_table_full_packets(&e, 5);
	exporter_hint(e.exp, &full);
	tick_at(&e, t1);
	EXPECT_EQ(map_count(e.maps.flows), 79);
	EXPECT_EQ(exporter_next_deadline(e.exp), t2);	/* the next look */
	/* Refilled and more refused, no event: relieved at the look. */
	add_flows(&e, 43000, 21, T0 + SEC);
	set_table_full_packets(&e, 9);
	tick_at(&e, t2 - 1);
	EXPECT_EQ(map_count(e.maps.flows), 100);	/* not yet */
	tick_at(&e, t2);
	EXPECT_EQ(map_count(e.maps.flows), 79);
	EXPECT_EQ(dec_flow_records(e.d), 21 + 21);
	EXPECT_EQ(exporter_next_deadline(e.exp), t2 + r);
	/* More refused, but the table has room again: nothing ends, and it is looked at again. */
	add_flows(&e, 44000, 10, T0 + 2 * SEC);
	set_table_full_packets(&e, 12);
	tick_at(&e, t2 + r);
	EXPECT_EQ(map_count(e.maps.flows), 89);
	EXPECT_EQ(dec_flow_records(e.d), 42);
	EXPECT_EQ(exporter_next_deadline(e.exp), t2 + 2 * r);
	/* Nothing more refused: the look relieves nothing and no other is scheduled. */
	tick_at(&e, t2 + 2 * r);
	EXPECT_EQ(map_count(e.maps.flows), 89);
	EXPECT_EQ(dec_flow_records(e.d), 42);
	EXPECT_TRUE(exporter_next_deadline(e.exp) > t2 + SEC);
	EXPECT_EQ(exporter_get_stats(e.exp)->evictions, 2);
out:
	env_close(&e);
}

static const struct dec_record *aggregate_drop(const struct env *e, uint8_t fwd, uint8_t dir,
					       size_t nth)
{
	for (size_t i = 0; i < e->d->n_records; i++) {
		const struct dec_record *r = &e->d->records[i];

		if (r->template_id == IPFIX_TMPL_IPV4_OTHER && r->protocol == 0 &&
		    r->forwarding_status == fwd && r->direction == dir && !nth--)
			return r;
	}
	return NULL;
}

/*
 * Drops that found drop_flows full are counted by verdict and direction only: each poll exports
 * what is new as an aggregate drop record (0.0.0.0, protocol 0), the stop a last one (reason 4).
 */
static void drops_over_a_full_drop_table_reach_the_collector_as_aggregate_records(void)
{
	struct flowmeta_stats *percpu = calloc((size_t)ncpus, sizeof(*percpu));
	const struct dec_record *r;
	const __u32 zero = 0;
	struct env e;
	struct fm_time t;

	if (!env_open(&e, 1024) || !env_start(&e, T0))
		goto out;
	percpu[0].drop_table_full_packets[0][FLOW_DIR_INGRESS] = 7;	/* ACL deny */
	percpu[0].drop_table_full_octets[0][FLOW_DIR_INGRESS] = 700;
	percpu[ncpus - 1].drop_table_full_packets[1][FLOW_DIR_EGRESS] += 2;	/* untrusted */
	percpu[ncpus - 1].drop_table_full_octets[1][FLOW_DIR_EGRESS] += 180;
	EXPECT_EQ(bpf_map_update_elem(e.maps.stats, &zero, percpu, BPF_ANY), 0);
	poll_at(&e, T0 + 10 * SEC);
	r = aggregate_drop(&e, IPFIX_FWD_DROP_ACL_DENY, FLOW_DIR_INGRESS, 0);
	if (EXPECT_TRUE(r)) {
		EXPECT_EQ(r->packets, 7);
		EXPECT_EQ(r->octets, 700);
		EXPECT_EQ(r->end_reason, IPFIX_END_ACTIVE);
	}
	r = aggregate_drop(&e, IPFIX_FWD_DROP_ACL_DROP, FLOW_DIR_EGRESS, 0);
	if (EXPECT_TRUE(r))
		EXPECT_EQ(r->packets, 2);
	EXPECT_TRUE(!aggregate_drop(&e, IPFIX_FWD_DROP_ACL_DENY, FLOW_DIR_EGRESS, 0));
	percpu[0].drop_table_full_packets[0][FLOW_DIR_INGRESS] = 10;
	percpu[0].drop_table_full_octets[0][FLOW_DIR_INGRESS] = 1000;
	EXPECT_EQ(bpf_map_update_elem(e.maps.stats, &zero, percpu, BPF_ANY), 0);
	poll_at(&e, T0 + 20 * SEC);		/* what is new */
	r = aggregate_drop(&e, IPFIX_FWD_DROP_ACL_DENY, FLOW_DIR_INGRESS, 1);
	if (EXPECT_TRUE(r)) {
		EXPECT_EQ(r->packets, 3);
		EXPECT_EQ(r->octets, 300);
	}
	EXPECT_TRUE(!aggregate_drop(&e, IPFIX_FWD_DROP_ACL_DROP, FLOW_DIR_EGRESS, 1));
	t = at(T0 + 30 * SEC);
	EXPECT_EQ(exporter_flush_all(e.exp, &t), 0);
	dec_drain(e.d);
	/* The stop: the last record of each says how it ended, nothing new since. */
	r = aggregate_drop(&e, IPFIX_FWD_DROP_ACL_DENY, FLOW_DIR_INGRESS, 2);
	if (EXPECT_TRUE(r)) {
		EXPECT_EQ(r->packets, 0);
		EXPECT_EQ(r->end_reason, IPFIX_END_FORCED);
	}
	r = aggregate_drop(&e, IPFIX_FWD_DROP_ACL_DROP, FLOW_DIR_EGRESS, 1);
	if (EXPECT_TRUE(r))
		EXPECT_EQ(r->end_reason, IPFIX_END_FORCED);
out:
	free(percpu);
	env_close(&e);
}

static void no_collector_still_ends_flows_so_the_table_does_not_fill(void)
{
	const struct flow_key k = tcp(FLOW_DIR_EGRESS, 40020);
	struct env e;

	if (!env_open(&e, 1024))
		goto out;
	e.cfg.n_collectors = 0;
	if (!env_start(&e, T0))
		goto out;
	put_flow(&e, &k, 2, T0, T0 + SEC, 0, 0);
	poll_at(&e, T0 + 61 * SEC);
	EXPECT_EQ(e.d->n_msgs, 0);
	EXPECT_TRUE(!in_map(e.maps.flows, &k));
	EXPECT_EQ(exporter_get_stats(e.exp)->ended[IPFIX_END_IDLE], 1);
out:
	env_close(&e);
}

static void reload_applies_direction_and_interval_and_resends_templates(void)
{
	const struct flow_key in = tcp(FLOW_DIR_INGRESS, 40021);
	const struct dec_record *r[4];
	struct fm_time t = at(T0 + 10 * SEC);
	struct env e;

	if (!env_open(&e, 1024))
		goto out;
	e.cfg.direction = DIRECTION_SENDING_TO_PEER;
	if (!env_start(&e, T0))
		goto out;
	put_flow(&e, &in, 5, T0, T0 + 55 * SEC, 0, 0);
	poll_at(&e, T0 + 60 * SEC);
	put_flow(&e, &in, 5, T0, T0 + 100 * SEC, 0, 0);
	dec_reset(e.d);
	e.cfg.direction = DIRECTION_BOTH;
	e.cfg.interval_ms = 60000;
	t = at(T0 + 70 * SEC);
	EXPECT_EQ(exporter_configure(e.exp, &e.cfg, &t), 0);
	dec_drain(e.d);
	EXPECT_EQ(e.d->n_msgs, 1);			/* templates right away */
	EXPECT_EQ(e.d->msgs[0].template_records, 8);
	poll_at(&e, T0 + 120 * SEC);
	EXPECT_EQ(records_of(&e, 40021, r, 4), 1);
	EXPECT_EQ(r[0]->packets, 5);
	EXPECT_EQ(r[0]->end_reason, IPFIX_END_ACTIVE);
out:
	env_close(&e);
}


/* ---- the test receiver itself ---------------------------------------------------------------- */

static uint8_t *put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

/*
 * Decode one message: a Template Set defining template 300 (packetDeltaCount, 8 octets), then a
 * Data Set of 300 with records of 1, 2, 3... packets filling data_len octets.
 */
static struct decoder *decode_crafted(uint16_t data_len)
{
	struct decoder *d = calloc(1, sizeof(*d));
	uint8_t buf[256] = { 0 }, *p = buf + 16;
	uint16_t len = (uint16_t)(16 + 12 + 4 + data_len);

	if (!EXPECT_TRUE(d != NULL))
		return NULL;
	d->fd = -1;
	put16(buf, 10);
	put16(buf + 2, len);
	p = put16(put16(p, 2), 12);				/* Template Set */
	p = put16(put16(p, 300), 1);
	p = put16(put16(p, 2), 8);
	p = put16(put16(p, 300), (uint16_t)(4 + data_len));	/* Data Set */
	for (uint16_t i = 0; i < data_len; i++)
		p[i] = i % 8 == 7 ? (uint8_t)(i / 8 + 1) : 0;
	dec_message(d, buf, len);
	return d;
}

static void decoder_fails_a_data_set_that_is_not_a_whole_number_of_records(void)
{
	struct decoder *d = decode_crafted(24);

	if (d) {
		EXPECT_EQ(d->errors, 0);
		EXPECT_EQ(d->n_records, 3);
		EXPECT_EQ(d->n_records == 3 ? d->records[2].packets : 0, 3);
		dec_close(d);
	}
	d = decode_crafted(27);		/* three records and 3 octets */
	if (d) {
		EXPECT_EQ(d->errors, 1);
		EXPECT_EQ(d->n_records, 0);
		dec_close(d);
	}
	d = decode_crafted(5);		/* less than one record */
	if (d) {
		EXPECT_EQ(d->errors, 1);
		EXPECT_EQ(d->n_records, 0);
		dec_close(d);
	}
}

/* ---- the userspace table under the exporter -------------------------------------------------- */

static struct flow_key numbered_key(uint32_t n)
{
	struct flow_key k = tcp(FLOW_DIR_EGRESS, (uint16_t)n);

	k.src_addr[2] = (uint8_t)(n >> 16);	/* more than 65536 keys, differing in a few bytes */
	return k;
}

static void flowtable_matches_a_reference_through_random_inserts_removals_and_sweeps(void)
{
	enum { KEYS = 20000, OPS = 400000 };
	static uint8_t present[KEYS];
	struct flowtable t;
	uint64_t rng = 0x2545f4914f6cdd1dULL;
	size_t count = 0, mismatches = 0;
	uint32_t gen = 1;

	memset(present, 0, sizeof(present));
	EXPECT_EQ(flowtable_init(&t), 0);
	for (uint32_t op = 0; op < OPS; op++) {
		uint32_t n, action;
		struct flow_key k;
		struct flow_state *st;

		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		n = (uint32_t)(rng % KEYS);
		action = (uint32_t)(rng >> 40) % 16;
		k = numbered_key(n);
		st = flowtable_find(&t, &k);
		mismatches += !!st != present[n];
		if (st && st->packets != n)
			mismatches++;
		if (action < 9 && !st) {		/* insert */
			st = flowtable_insert(&t, &k);
			st->packets = n;
			st->seen = gen;
			present[n] = 1;
			count++;
		} else if (action < 15 && st) {		/* remove */
			flowtable_remove(&t, st);
			present[n] = 0;
			count--;
		} else if (action == 15 && op % 64 == 0) {
			/* A poll: it sees about half of the entries; the sweep drops the others. */
			size_t dropped = 0;

			gen++;
			for (uint32_t i = 0; i < KEYS; i++) {
				if (present[i] && (i * 2654435761u + gen) % 7 < 4) {
					struct flow_key ki = numbered_key(i);
					struct flow_state *si = flowtable_find(&t, &ki);

					if (si)
						si->seen = gen;
					else
						mismatches++;
				} else if (present[i]) {
					present[i] = 0;
					count--;
					dropped++;
				}
			}
			if (flowtable_sweep(&t, gen, NULL, NULL) != dropped)
				mismatches++;
		}
		if (flowtable_count(&t) != count)
			mismatches++;
	}
	for (uint32_t n = 0; n < KEYS; n++) {
		struct flow_key k = numbered_key(n);

		mismatches += !!flowtable_find(&t, &k) != present[n];
	}
	EXPECT_EQ(mismatches, 0);
	EXPECT_EQ(flowtable_count(&t), count);
	EXPECT_TRUE(t.mask + 1 >= 2048);	/* it grew past the initial 1024 slots */
	flowtable_free(&t);
}

int main(void)
{
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0) {
		printf("FAIL main: libbpf_num_possible_cpus: %d\n", ncpus);
		return 1;
	}
	RUN_TEST(interim_records_carry_deltas_that_sum_to_the_flow_total);
	RUN_TEST(idle_flow_ends_with_reason_1_and_leaves_the_map);
	RUN_TEST(fin_flow_ends_with_reason_3_one_second_after_its_last_packet);
	RUN_TEST(tcp_end_hint_ends_the_flow_a_second_after_the_event_not_at_the_next_poll);
	RUN_TEST(forced_flush_ends_every_flow_with_reason_4_and_clears_the_state);
	RUN_TEST(full_table_ends_least_recently_seen_flows_with_reason_5_until_under_80_percent);
	RUN_TEST(sending_to_peer_exports_egress_flows_only_but_ends_ingress_flows_too);
	RUN_TEST(received_from_peer_exports_ingress_flows_only);
	RUN_TEST(drop_records_are_exported_whatever_the_direction_at_every_poll);
	RUN_TEST(drop_hint_exports_the_first_drop_record_within_a_second);
	RUN_TEST(zero_delta_interim_records_are_not_sent_but_the_end_record_is);
	RUN_TEST(export_state_lets_a_restarted_exporter_continue_without_double_counting);
	RUN_TEST(export_state_of_an_earlier_flow_with_the_same_key_is_ignored);
	RUN_TEST(ipv6_icmp_flow_gets_template_262_with_its_type_and_code);
	RUN_TEST(kernel_table_full_counts_reach_the_collector_as_ignored_packets);
	RUN_TEST(table_full_event_relieves_the_table_at_the_next_tick);
	RUN_TEST(relief_is_repeated_while_the_kernel_refuses_inserts_without_events);
	RUN_TEST(drops_over_a_full_drop_table_reach_the_collector_as_aggregate_records);
	RUN_TEST(no_collector_still_ends_flows_so_the_table_does_not_fill);
	RUN_TEST(reload_applies_direction_and_interval_and_resends_templates);
	RUN_TEST(decoder_fails_a_data_set_that_is_not_a_whole_number_of_records);
	RUN_TEST(flowtable_matches_a_reference_through_random_inserts_removals_and_sweeps);
	return check_exit_status();
}
