// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Collector tests with real UDP sockets on 127.0.0.1 and ::1 (ports 4780-4787; exporter_test uses
 * 4788-4789): sequence numbers, templates first and on refresh, an unreachable collector that
 * neither disturbs another nor loses count of what it missed, templates again when it comes back,
 * reloads that keep collector state.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "collector.h"
#include "export_decode.h"
#include "ipfix.h"

#define SEC 1000000000ULL

static struct config cfg;
static uint8_t data_buf[65535];

/* A data message of n IPv4 TCP records of `packets` packets and 100 octets a packet each. */
static struct ipfix_msg data_msg(int n, uint64_t packets, struct msg_payload *payload)
{
	struct ipfix_msg msg;

	ipfix_msg_begin(&msg, data_buf, cfg.max_message_size);
	*payload = (struct msg_payload){ 0 };
	for (int i = 0; i < n; i++) {
		struct ipfix_flow f = {
			.start_ms = 1700000000000ULL,
			.end_ms = 1700000001000ULL,
			.packets = packets,
			.octets = packets * 100,
			.src_addr = { 100, 64, 0, 1 },
			.dst_addr = { 100, 64, 0, 2 },
			.src_port = (uint16_t)(40000 + i),
			.dst_port = 22,
			.protocol = 6,
			.ip_version = 4,
			.end_reason = IPFIX_END_IDLE,
			.forwarding_status = IPFIX_FWD_FORWARDED,
		};

		if (ipfix_msg_add_flow(&msg, &f))
			break;
		payload->flows++;
		payload->packets += f.packets;
		payload->octets += f.octets;
	}
	return msg;
}

static void send_data(struct collector_set *set, int n, uint64_t packets, uint64_t now)
{
	struct msg_payload payload;
	struct ipfix_msg msg = data_msg(n, packets, &payload);

	collector_set_send(set, &msg, &payload, now);
}

static bool is_template_msg(const struct dec_msg *m)
{
	return m->template_records == 8 && m->options_template_records == 2;
}

static void first_message_carries_sequence_0_then_the_data_records_sent_before_each(void)
{
	struct collector_set set;
	struct decoder *d = dec_open("127.0.0.1", 4780);
	time_t t0 = time(NULL);

	EXPECT_TRUE(d);
	if (!d)
		return;
	dec_config(&cfg);
	dec_config_add(&cfg, "127.0.0.1", 4780);
	collector_set_init(&set);
	EXPECT_EQ(collector_set_apply(&set, &cfg), 0);
	collector_set_refresh(&set, 0);
	send_data(&set, 3, 1, 1 * SEC);
	send_data(&set, 5, 1, 2 * SEC);
	EXPECT_EQ(dec_drain(d), 3);
	EXPECT_EQ(d->errors, 0);
	/* templates: 2 options data records; then 3 and 5 flow records */
	EXPECT_EQ(d->msgs[0].sequence, 0);
	EXPECT_EQ(d->msgs[0].data_records, 2);
	EXPECT_EQ(d->msgs[1].sequence, 2);
	EXPECT_EQ(d->msgs[1].data_records, 3);
	EXPECT_EQ(d->msgs[2].sequence, 5);
	EXPECT_EQ(d->msgs[2].data_records, 5);
	EXPECT_EQ(set.c[0]->sequence, 10);
	EXPECT_EQ(set.c[0]->cnt.records, 10);
	EXPECT_EQ(set.c[0]->cnt.flow_records, 8);
	EXPECT_EQ(set.c[0]->cnt.messages, 3);
	EXPECT_EQ(set.c[0]->cnt.octets,
		  (uint64_t)d->msgs[0].length + d->msgs[1].length + d->msgs[2].length);
	for (uint32_t i = 0; i < d->n_msgs; i++) {
		EXPECT_EQ(d->msgs[i].odid, 1);
		EXPECT_TRUE(d->msgs[i].export_time >= t0 && d->msgs[i].export_time <= time(NULL));
	}
	collector_set_free(&set);
	dec_close(d);
}

static void templates_go_first_in_their_own_message_and_again_when_template_refresh_elapses(void)
{
	struct collector_set set;
	struct decoder *d = dec_open("127.0.0.1", 4780);

	EXPECT_TRUE(d);
	if (!d)
		return;
	dec_config(&cfg);
	dec_config_add(&cfg, "127.0.0.1", 4780);
	collector_set_init(&set);
	collector_set_apply(&set, &cfg);
	send_data(&set, 4, 1, 10 * SEC);
	EXPECT_EQ(dec_drain(d), 2);
	EXPECT_TRUE(is_template_msg(&d->msgs[0]));
	EXPECT_EQ(d->msgs[0].data_records, 2);		/* the two statistics records only */
	EXPECT_EQ(d->msgs[1].template_records + d->msgs[1].options_template_records, 0);
	EXPECT_EQ(d->msgs[1].data_records, 4);
	EXPECT_EQ(collector_set_next_refresh(&set), 70 * SEC);

	dec_reset(d);
	send_data(&set, 4, 1, 69 * SEC);		/* refresh not yet due: data only */
	EXPECT_EQ(dec_drain(d), 1);
	EXPECT_EQ(d->msgs[0].template_records, 0);

	dec_reset(d);
	send_data(&set, 4, 1, 70 * SEC);		/* TemplateRefresh (60 s) elapsed */
	EXPECT_EQ(dec_drain(d), 2);
	EXPECT_TRUE(is_template_msg(&d->msgs[0]));
	EXPECT_EQ(d->msgs[1].data_records, 4);
	EXPECT_EQ(collector_set_next_refresh(&set), 130 * SEC);

	dec_reset(d);
	collector_set_refresh(&set, 129 * SEC);		/* the timer alone, not yet due */
	EXPECT_EQ(dec_drain(d), 0);
	collector_set_refresh(&set, 130 * SEC);
	EXPECT_EQ(dec_drain(d), 1);
	EXPECT_TRUE(is_template_msg(&d->msgs[0]));
	EXPECT_EQ(d->errors, 0);
	collector_set_free(&set);
	dec_close(d);
}

static void templates_take_two_messages_at_512_octets_both_before_the_data(void)
{
	struct collector_set set;
	struct decoder *d = dec_open("127.0.0.1", 4780);

	EXPECT_TRUE(d);
	if (!d)
		return;
	dec_config(&cfg);
	cfg.max_message_size = 512;
	dec_config_add(&cfg, "127.0.0.1", 4780);
	collector_set_init(&set);
	collector_set_apply(&set, &cfg);
	send_data(&set, 8, 1, 0);
	EXPECT_EQ(dec_drain(d), 3);
	EXPECT_EQ(d->msgs[0].template_records, 8);
	EXPECT_EQ(d->msgs[0].options_template_records, 0);
	EXPECT_EQ(d->msgs[0].length, 484);
	EXPECT_EQ(d->msgs[1].options_template_records, 2);
	EXPECT_EQ(d->msgs[1].data_records, 2);
	EXPECT_EQ(d->msgs[1].sequence, 0);
	EXPECT_EQ(d->msgs[2].sequence, 2);
	EXPECT_EQ(d->msgs[2].data_records, 8);
	EXPECT_TRUE(d->msgs[2].length <= 512);
	EXPECT_EQ(d->errors, 0);
	collector_set_free(&set);
	dec_close(d);
}

static void ipv6_collector_gets_the_same_records_with_its_own_sequence(void)
{
	struct collector_set set;
	struct decoder *d4 = dec_open("127.0.0.1", 4781), *d6 = dec_open("::1", 4782);

	EXPECT_TRUE(d4 && d6);
	if (!d4 || !d6)
		goto out;
	dec_config(&cfg);
	dec_config_add(&cfg, "127.0.0.1", 4781);
	collector_set_init(&set);
	collector_set_apply(&set, &cfg);
	send_data(&set, 6, 2, 0);
	dec_config_add(&cfg, "::1", 4782);		/* added later: its stream starts at 0 */
	collector_set_apply(&set, &cfg);
	send_data(&set, 7, 2, SEC);
	EXPECT_EQ(dec_drain(d4), 4);	/* templates, data, templates again (reload), data */
	EXPECT_EQ(dec_drain(d6), 2);	/* templates, data */
	EXPECT_EQ(d4->msgs[3].sequence, 2 + 6 + 2);
	EXPECT_EQ(d6->msgs[0].sequence, 0);
	EXPECT_EQ(d6->msgs[1].sequence, 2);
	EXPECT_EQ(d6->msgs[1].data_records, 7);
	EXPECT_EQ(dec_flow_records(d6), 7);
	EXPECT_EQ(d6->records[2].packets, 2);
	EXPECT_EQ(d6->records[2].octets, 200);
	EXPECT_EQ(d4->errors + d6->errors, 0);
	collector_set_free(&set);
out:
	dec_close(d4);
	dec_close(d6);
}

static void collector_without_listener_neither_disturbs_another_nor_miscounts_what_it_missed(void)
{
	struct collector_set set;
	struct decoder *live = dec_open("127.0.0.1", 4784);

	EXPECT_TRUE(live);
	if (!live)
		return;
	dec_config(&cfg);
	dec_config_add(&cfg, "127.0.0.1", 4783);	/* nobody listens: ICMP port unreachable */
	dec_config_add(&cfg, "127.0.0.1", 4784);
	collector_set_init(&set);
	collector_set_apply(&set, &cfg);
	for (int i = 0; i < 10; i++)
		send_data(&set, 20, 3, (uint64_t)i * SEC);
	EXPECT_EQ(dec_drain(live), 11);
	EXPECT_EQ(dec_flow_records(live), 200);
	for (uint32_t i = 1; i < live->n_msgs; i++)
		EXPECT_EQ(live->msgs[i].sequence, 2 + 20 * (i - 1));
	EXPECT_EQ(set.c[1]->cnt.not_sent_flows, 0);
	EXPECT_EQ(set.c[1]->cnt.send_errors, 0);
	/* The dead one: every data message refused (each follows a template message whose ICMP
	 * error the next send reports), and counted exactly. */
	EXPECT_TRUE(set.c[0]->down);
	EXPECT_EQ(set.c[0]->cnt.flow_records, 0);
	EXPECT_EQ(set.c[0]->cnt.not_sent_flows, 200);
	EXPECT_EQ(set.c[0]->cnt.not_sent_packets, 600);
	EXPECT_EQ(set.c[0]->cnt.not_sent_octets, 60000);
	EXPECT_EQ(set.c[0]->cnt.send_errors, 10);
	/* What send() accepted is what the sequence number counts: template messages only. */
	EXPECT_EQ(set.c[0]->sequence, set.c[0]->cnt.records);
	EXPECT_EQ(set.c[0]->cnt.records, 2 * set.c[0]->cnt.template_messages);
	collector_set_free(&set);
	dec_close(live);
}

static void collector_that_comes_back_gets_templates_first_and_learns_what_it_missed(void)
{
	struct collector_set set;
	struct decoder *d;
	const struct dec_record *ex;
	uint32_t seq_before;

	dec_config(&cfg);
	dec_config_add(&cfg, "127.0.0.1", 4785);
	collector_set_init(&set);
	collector_set_apply(&set, &cfg);
	for (int i = 0; i < 3; i++)
		send_data(&set, 5, 2, (uint64_t)i * SEC);
	EXPECT_TRUE(set.c[0]->down);
	EXPECT_EQ(set.c[0]->cnt.not_sent_flows, 15);

	d = dec_open("127.0.0.1", 4785);		/* the collector starts */
	EXPECT_TRUE(d);
	if (!d) {
		collector_set_free(&set);
		return;
	}
	seq_before = set.c[0]->sequence;
	send_data(&set, 4, 1, 4 * SEC);
	EXPECT_EQ(dec_drain(d), 2);
	EXPECT_TRUE(is_template_msg(&d->msgs[0]));
	EXPECT_EQ(d->msgs[0].sequence, seq_before);
	EXPECT_EQ(d->msgs[1].sequence, seq_before + 2);
	EXPECT_EQ(d->msgs[1].data_records, 4);
	ex = dec_last_options(d, IPFIX_TMPL_EXPORTING_STATS);
	EXPECT_TRUE(ex);
	if (ex) {
		EXPECT_EQ(ex->not_sent_flows, 15);
		EXPECT_EQ(ex->not_sent_packets, 30);
		EXPECT_EQ(ex->not_sent_octets, 3000);
		EXPECT_EQ(ex->epid, (uint64_t)getpid());
	}
	EXPECT_TRUE(!set.c[0]->down);
	EXPECT_EQ(set.c[0]->cnt.flow_records, 4);
	EXPECT_EQ(d->errors, 0);
	collector_set_free(&set);
	dec_close(d);
}

static void reload_keeps_unchanged_collectors_with_their_sequence_and_counters(void)
{
	struct collector_set set;
	struct decoder *a = dec_open("127.0.0.1", 4786), *b = dec_open("127.0.0.1", 4787),
		       *c = dec_open("127.0.0.1", 4781);
	struct collector *kept;

	EXPECT_TRUE(a && b && c);
	if (!a || !b || !c)
		goto out;
	dec_config(&cfg);
	dec_config_add(&cfg, "127.0.0.1", 4786);
	dec_config_add(&cfg, "127.0.0.1", 4787);
	collector_set_init(&set);
	collector_set_apply(&set, &cfg);
	send_data(&set, 5, 1, 0);
	send_data(&set, 5, 1, SEC);
	kept = set.c[1];

	dec_config(&cfg);
	dec_config_add(&cfg, "127.0.0.1", 4781);
	dec_config_add(&cfg, "127.0.0.1", 4787);
	snprintf(cfg.collectors[1].spec, sizeof(cfg.collectors[1].spec), "UDP/127.0.0.1:4787");
	EXPECT_EQ(collector_set_apply(&set, &cfg), 0);
	EXPECT_EQ(set.n, 2);
	EXPECT_TRUE(set.c[1] == kept);
	EXPECT_EQ(kept->sequence, 12);
	EXPECT_EQ(kept->cnt.messages, 3);
	dec_drain(a);
	dec_drain(b);
	dec_reset(a);
	dec_reset(b);
	collector_set_refresh(&set, 2 * SEC);	/* after a reload: templates to every collector */
	send_data(&set, 3, 1, 3 * SEC);
	EXPECT_EQ(dec_drain(a), 0);		/* removed: gets nothing */
	EXPECT_EQ(dec_drain(b), 2);
	EXPECT_TRUE(is_template_msg(&b->msgs[0]));
	EXPECT_EQ(b->msgs[0].sequence, 12);
	EXPECT_EQ(b->msgs[1].sequence, 14);
	EXPECT_EQ(dec_drain(c), 2);
	EXPECT_EQ(c->msgs[0].sequence, 0);
	EXPECT_EQ(c->msgs[1].sequence, 2);
	EXPECT_EQ(b->errors + c->errors, 0);
	collector_set_free(&set);
out:
	dec_close(a);
	dec_close(b);
	dec_close(c);
}

static void statistics_records_carry_domain_counts_and_kernel_losses(void)
{
	struct collector_set set;
	struct decoder *d = dec_open("127.0.0.1", 4780);
	const struct dec_record *me, *ex;

	EXPECT_TRUE(d);
	if (!d)
		return;
	dec_config(&cfg);
	cfg.observation_domain_id = 77;
	dec_config_add(&cfg, "127.0.0.1", 4780);
	collector_set_init(&set);
	collector_set_apply(&set, &cfg);
	send_data(&set, 9, 1, 0);
	set.kernel_not_sent_packets = 7;	/* flow table full in the kernel */
	set.kernel_not_sent_octets = 700;
	collector_set_refresh(&set, 60 * SEC);
	EXPECT_EQ(dec_drain(d), 3);
	me = dec_last_options(d, IPFIX_TMPL_METERING_STATS);
	ex = dec_last_options(d, IPFIX_TMPL_EXPORTING_STATS);
	EXPECT_TRUE(me && ex);
	if (me && ex) {
		EXPECT_EQ(me->odid, 77);
		EXPECT_EQ(me->exported_messages, 2);	/* before the message carrying it */
		EXPECT_EQ(me->exported_flows, 9);
		EXPECT_EQ(me->exported_octets, (uint64_t)d->msgs[0].length + d->msgs[1].length);
		EXPECT_EQ(ex->not_sent_flows, 0);
		EXPECT_EQ(ex->not_sent_packets, 7);
		EXPECT_EQ(ex->not_sent_octets, 700);
	}
	for (uint32_t i = 0; i < d->n_msgs; i++)
		EXPECT_EQ(d->msgs[i].odid, 77);
	collector_set_free(&set);
	dec_close(d);
}

static void enabled_false_means_no_collector(void)
{
	struct collector_set set;

	dec_config(&cfg);
	dec_config_add(&cfg, "127.0.0.1", 4780);
	cfg.enabled = false;
	collector_set_init(&set);
	EXPECT_EQ(collector_set_apply(&set, &cfg), 0);
	EXPECT_EQ(set.n, 0);
	EXPECT_EQ(collector_set_next_refresh(&set), UINT64_MAX);
	collector_set_free(&set);
}

int main(void)
{
	RUN_TEST(first_message_carries_sequence_0_then_the_data_records_sent_before_each);
	RUN_TEST(templates_go_first_in_their_own_message_and_again_when_template_refresh_elapses);
	RUN_TEST(templates_take_two_messages_at_512_octets_both_before_the_data);
	RUN_TEST(ipv6_collector_gets_the_same_records_with_its_own_sequence);
	RUN_TEST(collector_without_listener_neither_disturbs_another_nor_miscounts_what_it_missed);
	RUN_TEST(collector_that_comes_back_gets_templates_first_and_learns_what_it_missed);
	RUN_TEST(reload_keeps_unchanged_collectors_with_their_sequence_and_counters);
	RUN_TEST(statistics_records_carry_domain_counts_and_kernel_losses);
	RUN_TEST(enabled_false_means_no_collector);
	return check_exit_status();
}
