// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The export journal on the production maps and programs (user/journal.c, bpf/export.h): the apply
 * program ends a flow only if it did not grow since its record, writes export states, and changes
 * nothing more when run again; a transaction interrupted after its commit is read back whole; the
 * send trace counts exactly the datagrams that left a watched socket.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fixture.h"
#include "journal.h"
#include "loader.h"
#include "sendtrace.h"

static struct flowmeta *skel;
static struct flowmeta_maps maps;

static void setup(void)
{
	skel = fx_load((struct fixture_opts){ 0 });
	if (!skel)
		return;
	maps = FLOWMETA_MAPS_NONE;
	maps.flows = bpf_map__fd(skel->maps.flows);
	maps.export_state = bpf_map__fd(skel->maps.export_state);
	maps.journal = bpf_map__fd(skel->maps.journal);
	maps.journal_intents = bpf_map__fd(skel->maps.journal_intents);
	maps.journal_chunks = bpf_map__fd(skel->maps.journal_chunks);
	maps.send_trace = bpf_map__fd(skel->maps.send_trace);
	maps.trace_socks = bpf_map__fd(skel->maps.trace_socks);
}

static void teardown(void)
{
	flowmeta__destroy(skel);
	skel = NULL;
}

static int apply_fd(void)
{
	return bpf_program__fd(skel->progs.flowmeta_export_apply);
}

/* A flow whose packets are spread over the CPUs: CPU i holds i + 1 packets of 100 octets. */
static struct flow_key put_flow(uint16_t sport, uint64_t *packets)
{
	struct flow_key key = key_of(4, "100.64.0.1", "100.64.0.2", IPPROTO_UDP, sport, 53, FLOW_DIR_INGRESS);
	struct flow_value v[ncpus];

	*packets = 0;
	for (int i = 0; i < ncpus; i++) {
		v[i] = (struct flow_value){ .packets = (uint64_t)i + 1, .octets = 100 * ((uint64_t)i + 1),
					    .first_seen_jiffies = 1000, .last_seen_jiffies = 2000 };
		*packets += v[i].packets;
	}
	EXPECT_EQ(bpf_map_update_elem(maps.flows, &key, v, BPF_ANY), 0);
	return key;
}

static bool state_of(const struct flow_key *key, struct flow_export_state *st)
{
	return bpf_map_lookup_elem(maps.export_state, key, st) == 0;
}

static bool flow_present(const struct flow_key *key)
{
	struct flow_value v[ncpus];

	return bpf_map_lookup_elem(maps.flows, key, v) == 0;
}

/* Add one packet on CPU 0: the flow grew since a record took its sums. */
static void grow_flow(const struct flow_key *key)
{
	struct flow_value v[ncpus];

	EXPECT_EQ(bpf_map_lookup_elem(maps.flows, key, v), 0);
	v[0].packets++;
	v[0].octets += 100;
	EXPECT_EQ(bpf_map_update_elem(maps.flows, key, v, BPF_EXIST), 0);
}

static void test_apply_ends_unchanged_keeps_grown_and_writes_states(void)
{
	struct flow_export_state st, got;
	struct flow_key ended, grown, gone, going_on;
	uint64_t p_ended, p_grown, p_on;
	struct journal j;

	setup();
	if (!skel)
		return;
	ended = put_flow(1000, &p_ended);
	grown = put_flow(1001, &p_grown);
	going_on = put_flow(1002, &p_on);
	gone = key_of(4, "100.64.0.1", "100.64.0.2", IPPROTO_UDP, 1003, 53, FLOW_DIR_INGRESS);
	/* States left by interim records: an ended flow's state goes with it. */
	st = (struct flow_export_state){ .packets = 1, .octets = 100, .last_export_ns = 1500 };
	EXPECT_EQ(bpf_map_update_elem(maps.export_state, &ended, &st, BPF_ANY), 0);
	EXPECT_EQ(bpf_map_update_elem(maps.export_state, &gone, &st, BPF_ANY), 0);

	EXPECT_EQ(journal_open(&j, &maps, apply_fd(), ncpus), 0);
	EXPECT_TRUE(!journal_pending(&j));
	journal_begin(&j);
	st = (struct flow_export_state){ .packets = p_ended, .octets = 100 * p_ended,
					 .last_export_ns = 3000 };
	EXPECT_EQ(journal_add_intent(&j, &ended, &st, INTENT_END), 0);
	st.packets = p_grown;
	EXPECT_EQ(journal_add_intent(&j, &grown, &st, INTENT_END), 0);
	EXPECT_EQ(journal_add_intent(&j, &gone, &st, INTENT_END), 0);
	st.packets = p_on;
	EXPECT_EQ(journal_add_intent(&j, &going_on, &st, INTENT_EXPORTED), 0);
	EXPECT_EQ(journal_commit(&j, false), 0);
	grow_flow(&grown);	/* a packet between the record and the apply */
	EXPECT_EQ(journal_apply(&j), 0);
	EXPECT_EQ(j.grew, 1);
	EXPECT_EQ(j.intents[0].result, INTENT_APPLIED);
	EXPECT_EQ(j.intents[1].result, INTENT_GREW);
	EXPECT_EQ(j.intents[2].result, INTENT_ABSENT);
	EXPECT_EQ(j.intents[3].result, INTENT_APPLIED);

	EXPECT_TRUE(!flow_present(&ended));
	EXPECT_TRUE(!state_of(&ended, &got));
	EXPECT_TRUE(flow_present(&grown));
	EXPECT_TRUE(state_of(&grown, &got));
	EXPECT_EQ(got.packets, p_grown);	/* what its record exported: the new packet is owed */
	EXPECT_TRUE(!state_of(&gone, &got));
	EXPECT_TRUE(flow_present(&going_on));
	EXPECT_TRUE(state_of(&going_on, &got));
	EXPECT_EQ(got.packets, p_on);
	EXPECT_EQ(got.last_export_ns, 3000);

	/* Again, as a recovering daemon would: nothing more changes. */
	EXPECT_EQ(journal_apply(&j), 0);
	EXPECT_EQ(j.grew, 1);
	EXPECT_TRUE(flow_present(&grown));
	EXPECT_TRUE(state_of(&grown, &got));
	EXPECT_EQ(got.packets, p_grown);
	EXPECT_TRUE(flow_present(&going_on));
	EXPECT_EQ(journal_finish(&j), 0);
	journal_close(&j);
	teardown();
}

/*
 * Drop flows live in their own table (drop_flows): an ended drop flow is summed and deleted there,
 * never in `flows`, and a forwarded flow of the same addresses and ports stays.
 */
static void test_apply_ends_a_drop_flow_in_the_drop_table(void)
{
	struct flow_key fwd = key_of(4, "100.64.0.1", "100.64.0.2", IPPROTO_UDP, 2000, 53,
				     FLOW_DIR_INGRESS), drop = fwd;
	int drop_fd;
	struct flow_value v[ncpus];
	struct flow_export_state st;
	struct journal j;
	uint64_t p = 0;

	setup();
	if (!skel)
		return;
	drop_fd = bpf_map__fd(skel->maps.drop_flows);
	drop.verdict = FLOW_VERDICT_UNTRUSTED;
	for (int i = 0; i < ncpus; i++) {
		v[i] = (struct flow_value){ .packets = 2, .octets = 200, .first_seen_jiffies = 1000,
					    .last_seen_jiffies = 2000 };
		p += 2;
	}
	EXPECT_EQ(bpf_map_update_elem(drop_fd, &drop, v, BPF_ANY), 0);
	EXPECT_EQ(bpf_map_update_elem(maps.flows, &fwd, v, BPF_ANY), 0);
	EXPECT_EQ(journal_open(&j, &maps, apply_fd(), ncpus), 0);
	journal_begin(&j);
	st = (struct flow_export_state){ .packets = p, .octets = 100 * p, .last_export_ns = 3000 };
	EXPECT_EQ(journal_add_intent(&j, &drop, &st, INTENT_END), 0);
	EXPECT_EQ(journal_commit(&j, false), 0);
	EXPECT_EQ(journal_apply(&j), 0);
	EXPECT_EQ(j.intents[0].result, INTENT_APPLIED);
	EXPECT_TRUE(bpf_map_lookup_elem(drop_fd, &drop, v) != 0);
	EXPECT_TRUE(flow_present(&fwd));
	EXPECT_EQ(journal_finish(&j), 0);
	journal_close(&j);
	teardown();
}

static void fill_msg(uint8_t *buf, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + i * 7);
}

static void test_interrupted_transaction_is_read_back_whole(void)
{
	static uint8_t m0[1400], m1[5000], got[5000];
	struct flow_export_state st = { .packets = 9, .octets = 900, .last_export_ns = 77 };
	struct journal_collector *c;
	struct flow_key key;
	struct journal j, r;
	uint64_t txn;

	setup();
	if (!skel)
		return;
	key = key_of(6, "fd00:64::1", "fd00:64::2", IPPROTO_TCP, 40000, 22, FLOW_DIR_EGRESS);
	EXPECT_EQ(journal_open(&j, &maps, apply_fd(), ncpus), 0);
	/* A complete transaction first, so the interrupted one uses the other half. */
	journal_begin(&j);
	EXPECT_EQ(journal_commit(&j, false), 0);
	EXPECT_EQ(journal_finish(&j), 0);

	journal_begin(&j);
	txn = j.hdr.txn;
	fill_msg(m0, sizeof(m0), 1);
	fill_msg(m1, sizeof(m1), 2);
	EXPECT_EQ(journal_add_msg(&j, m0, sizeof(m0), 25, 25, 250, 25000), 0);
	EXPECT_EQ(journal_add_msg(&j, m1, sizeof(m1), 90, 88, 880, 88000), 1);
	EXPECT_EQ(journal_add_intent(&j, &key, &st, INTENT_END), 0);
	c = journal_collector(&j, 2);
	c->port = 4739;
	c->seq = 1234;
	EXPECT_EQ(journal_add_dgram(c, FLOWMETA_JOURNAL_TEMPLATES, 0, 2, 600), 0);
	EXPECT_EQ(journal_add_dgram(c, 0, 0, 25, sizeof(m0)), 0);
	EXPECT_EQ(journal_add_dgram(c, 1, 0, 90, sizeof(m1)), 0);
	EXPECT_EQ(journal_commit(&j, true), 0);
	journal_close(&j);	/* the crash */

	EXPECT_EQ(journal_open(&r, &maps, apply_fd(), ncpus), 0);
	EXPECT_TRUE(journal_pending(&r));
	if (!r.old)
		goto out;
	EXPECT_EQ(r.old->txn, txn);
	EXPECT_EQ(r.old->n_msgs, 2);
	EXPECT_EQ(r.old->msg[1].records, 90);
	EXPECT_EQ(r.old->msg[1].packets, 880);
	EXPECT_MEM(journal_old_msg_bytes(&r, 0), m0, sizeof(m0));
	memcpy(got, journal_old_msg_bytes(&r, 1), sizeof(m1));
	EXPECT_MEM(got, m1, sizeof(m1));
	EXPECT_EQ(r.old->n_intents, 1);
	EXPECT_MEM(&r.old_intents[0].key, &key, sizeof(key));
	EXPECT_EQ(r.old_intents[0].state.packets, 9);
	EXPECT_EQ(r.old->n_collectors, 3);
	EXPECT_EQ(r.old->coll[2].seq, 1234);
	EXPECT_EQ(r.old->coll[2].n_dgrams, 3);
	EXPECT_EQ(r.old->coll[2].dgram[2].records, 90);
	EXPECT_EQ(r.old->coll[2].dgram[2].len, sizeof(m1));
	/* The next transaction goes into the half the interrupted one does not use. */
	journal_begin(&r);
	EXPECT_TRUE(r.hdr.half != r.old->half);
out:
	journal_close(&r);
	teardown();
}

static void test_a_message_larger_than_the_journal_is_refused(void)
{
	static uint8_t big[FLOWMETA_JOURNAL_CHUNKS * FLOWMETA_JOURNAL_CHUNK + 1];
	struct journal j;

	setup();
	if (!skel)
		return;
	EXPECT_EQ(journal_open(&j, &maps, apply_fd(), ncpus), 0);
	journal_begin(&j);
	EXPECT_EQ(journal_add_msg(&j, big, sizeof(big), 1, 1, 1, 1), -EINVAL);
	for (int i = 0; i < FLOWMETA_JOURNAL_MSGS; i++)
		EXPECT_EQ(journal_add_msg(&j, big, 100, 1, 1, 1, 1), i);
	EXPECT_EQ(journal_add_msg(&j, big, 100, 1, 1, 1, 1), -ENOSPC);
	journal_close(&j);
	teardown();
}

static int udp_socket(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int rx = socket(AF_INET, SOCK_DGRAM, 0);

	bind(rx, (struct sockaddr *)&a, sizeof(a));
	getsockname(rx, (struct sockaddr *)&a, &len);
	*port = ntohs(a.sin_port);
	return rx;
}

static int connected_to(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	connect(fd, (struct sockaddr *)&a, sizeof(a));
	return fd;
}

static void test_send_trace_counts_watched_datagrams_only(void)
{
	struct sendtrace t;
	uint16_t port;
	int rx, watched, other;
	struct journal j;

	setup();
	if (!skel)
		return;
	if (sendtrace_start(&t, bpf_program__fd(skel->progs.flowmeta_send_trace),
			    maps.trace_socks)) {
		teardown();
		SKIP_TEST("no cgroup v2 to attach the send trace to");
	}
	EXPECT_EQ(journal_open(&j, &maps, apply_fd(), ncpus), 0);
	rx = udp_socket(&port);
	watched = connected_to(port);
	other = connected_to(port);
	EXPECT_EQ(sendtrace_watch(&t, watched, 5), 0);
	for (int i = 0; i < 7; i++)
		EXPECT_EQ(send(watched, "ipfix", 5, 0), 5);
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(send(other, "other", 5, 0), 5);
	EXPECT_EQ(journal_trace_count(&j, 5), 7);
	EXPECT_EQ(journal_trace_count(&j, 4), 0);
	sendtrace_forget(&t, watched);
	EXPECT_EQ(send(watched, "ipfix", 5, 0), 5);
	EXPECT_EQ(journal_trace_count(&j, 5), 7);
	sendtrace_stop(&t);
	close(rx);
	close(watched);
	close(other);
	journal_close(&j);
	teardown();
}

int main(void)
{
	int ret = fx_start("journal_test");

	if (ret >= 0)
		return ret;
	RUN_TEST(test_apply_ends_unchanged_keeps_grown_and_writes_states);
	RUN_TEST(test_apply_ends_a_drop_flow_in_the_drop_table);
	RUN_TEST(test_interrupted_transaction_is_read_back_whole);
	RUN_TEST(test_a_message_larger_than_the_journal_is_refused);
	RUN_TEST(test_send_trace_counts_watched_datagrams_only);
	return check_exit_status();
}
