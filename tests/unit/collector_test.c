// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Collector tests with real UDP sockets on 127.0.0.1 and ::1 (ports 4730-4738): sequence numbers,
 * templates first and on refresh, reloads that keep collector state, and unreachable collectors:
 * the ICMP errors the kernel queues say exactly which messages they refused (counted not sent,
 * to the record), a collector that listens again takes the very next message with the templates
 * first, a stale error costs no message, and another collector never notices.
 */
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "collector.h"
#include "export_decode.h"
#include "ipfix.h"

#define SEC 1000000000ULL

static struct config cfg;
static uint8_t data_buf[65535];
/* Who the collectors are told exports (exporter.c reads it from the interface). */
static struct collector_identity id = {
	.observation_domain_id = 1,
	.ifindex = 5,
	.ifname = "wg0",
	.ifdesc = "flowmeta overlay wg0 (wireguard)",
};
/* Options data records of each template message: 264..269, and 270 or 271. */
#define OPTION_RECORDS	7

/* A data message of n IPv4 TCP records of `packets` packets and 100 octets a packet each (as
 * many as fit). */
static struct ipfix_msg data_msg(int n, uint64_t packets, struct msg_payload *payload)
{
	struct ipfix_msg msg;

	/* As the exporter builds it: MaxMessageSize, or what a path of its own would allow. */
	ipfix_msg_begin(&msg, data_buf,
			cfg.max_message_size ? cfg.max_message_size : COLLECTOR_DEFAULT_MESSAGE);
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
	return m->template_records == 8 && m->options_template_records == 8 &&
	       m->data_records == OPTION_RECORDS;
}

static void first_message_carries_sequence_0_then_the_data_records_sent_before_each(void)
{
	struct collector_set set;
	struct decoder *d = dec_open("127.0.0.1", 4730);
	time_t t0 = time(NULL);

	EXPECT_TRUE(d);
	if (!d)
		return;
	dec_config(&cfg);
	dec_config_add(&cfg, "127.0.0.1", 4730);
	collector_set_init(&set);
	EXPECT_EQ(collector_set_apply(&set, &cfg, &id), 0);
	collector_set_refresh(&set, 0);
	send_data(&set, 3, 1, 1 * SEC);
	send_data(&set, 5, 1, 2 * SEC);
	EXPECT_EQ(dec_drain(d), 3);
	EXPECT_EQ(d->errors, 0);
	/* templates: 7 options data records; then 3 and 5 flow records */
	EXPECT_EQ(d->msgs[0].sequence, 0);
	EXPECT_EQ(d->msgs[0].data_records, OPTION_RECORDS);
	EXPECT_EQ(d->msgs[1].sequence, 7);
	EXPECT_EQ(d->msgs[1].data_records, 3);
	EXPECT_EQ(d->msgs[2].sequence, 10);
	EXPECT_EQ(d->msgs[2].data_records, 5);
	EXPECT_EQ(set.c[0]->sequence, 15);
	EXPECT_EQ(set.c[0]->cnt.records, 15);
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
	struct decoder *d = dec_open("127.0.0.1", 4730);

	EXPECT_TRUE(d);
	if (!d)
		return;
	dec_config(&cfg);
	dec_config_add(&cfg, "127.0.0.1", 4730);
	collector_set_init(&set);
	collector_set_apply(&set, &cfg, &id);
	send_data(&set, 4, 1, 10 * SEC);
	EXPECT_EQ(dec_drain(d), 2);
	EXPECT_TRUE(is_template_msg(&d->msgs[0]));	/* the options records only */
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
	struct decoder *d = dec_open("127.0.0.1", 4730);

	EXPECT_TRUE(d);
	if (!d)
		return;
	dec_config(&cfg);
	cfg.max_message_size = 512;
	dec_config_add(&cfg, "127.0.0.1", 4730);
	collector_set_init(&set);
	collector_set_apply(&set, &cfg, &id);
	send_data(&set, 8, 1, 0);
	EXPECT_EQ(dec_drain(d), 3);
	EXPECT_EQ(d->msgs[0].template_records, 8);
	EXPECT_EQ(d->msgs[0].options_template_records, 0);
	EXPECT_EQ(d->msgs[0].length, 484);
	/* 16 + 204 options templates + 245 of records (the interface ones 45 each) */
	EXPECT_EQ(d->msgs[1].options_template_records, 8);
	EXPECT_EQ(d->msgs[1].data_records, OPTION_RECORDS);
	EXPECT_EQ(d->msgs[1].length, 465);
	EXPECT_EQ(d->msgs[1].sequence, 0);
	EXPECT_EQ(d->msgs[2].sequence, 7);
	EXPECT_EQ(d->msgs[2].data_records, 8);
	EXPECT_TRUE(d->msgs[2].length <= 512);
	EXPECT_EQ(d->errors, 0);
	collector_set_free(&set);
	dec_close(d);
}

static void ipv6_collector_gets_the_same_records_with_its_own_sequence(void)
{
	struct collector_set set;
	struct decoder *d4 = dec_open("127.0.0.1", 4731), *d6 = dec_open("::1", 4732);

	EXPECT_TRUE(d4 && d6);
	if (!d4 || !d6)
		goto out;
	dec_config(&cfg);
	dec_config_add(&cfg, "127.0.0.1", 4731);
	collector_set_init(&set);
	collector_set_apply(&set, &cfg, &id);
	send_data(&set, 6, 2, 0);
	dec_config_add(&cfg, "::1", 4732);		/* added later: its stream starts at 0 */
	collector_set_apply(&set, &cfg, &id);
	send_data(&set, 7, 2, SEC);
	EXPECT_EQ(dec_drain(d4), 4);	/* templates, data, templates again (reload), data */
	EXPECT_EQ(dec_drain(d6), 2);	/* templates, data */
	EXPECT_EQ(d4->msgs[3].sequence, 7 + 6 + 7);
	EXPECT_EQ(d6->msgs[0].sequence, 0);
	EXPECT_EQ(d6->msgs[1].sequence, 7);
	EXPECT_EQ(d6->msgs[1].data_records, 7);
	EXPECT_EQ(dec_flow_records(d6), 7);
	EXPECT_EQ(d6->records[OPTION_RECORDS].packets, 2);
	EXPECT_EQ(d6->records[OPTION_RECORDS].octets, 200);
	EXPECT_EQ(d4->errors + d6->errors, 0);
	collector_set_free(&set);
out:
	dec_close(d4);
	dec_close(d6);
}

/* ---- unreachable collectors ------------------------------------------------------------------ */

#define PORT_DEAD	4733	/* nobody listens: ICMP port unreachable */
#define PORT_LIVE	4734
#define PORT_BACK4	4735	/* nobody listens, then a collector starts */
#define PORT_BACK6	4736

static bool collector_set_of_two(struct collector_set *set, const char *addr, uint16_t port,
				  struct decoder **live)
{
	*live = dec_open(addr, PORT_LIVE);
	EXPECT_TRUE(*live);
	if (!*live)
		return false;
	dec_config(&cfg);
	dec_config_add(&cfg, addr, port);
	dec_config_add(&cfg, addr, PORT_LIVE);
	collector_set_init(set);
	EXPECT_EQ(collector_set_apply(set, &cfg, &id), 0);
	return true;
}

/* The live collector of a pair got n_msgs messages: the templates, then data only, in sequence. */
static void expect_undisturbed(struct decoder *live, const struct collector *c, uint32_t n_msgs,
			       uint64_t flows)
{
	uint32_t seq = OPTION_RECORDS;

	EXPECT_EQ(dec_drain(live), n_msgs);
	EXPECT_EQ(live->errors, 0);
	EXPECT_TRUE(live->n_msgs > 0 && is_template_msg(&live->msgs[0]));
	EXPECT_EQ(dec_flow_records(live), flows);
	for (uint32_t i = 1; i < live->n_msgs; i++) {
		EXPECT_EQ(live->msgs[i].template_records, 0);
		EXPECT_EQ(live->msgs[i].sequence, seq);
		seq += live->msgs[i].data_records;
	}
	EXPECT_TRUE(!c->down);
	EXPECT_EQ(c->cnt.flow_records, flows);
	EXPECT_EQ(c->cnt.messages, n_msgs);
	EXPECT_EQ(c->cnt.send_errors + c->cnt.not_sent_flows + c->cnt.refused, 0);
}

/*
 * N data messages to a collector nobody listens on: once the errors are read, exactly those N
 * messages are not sent, to the record, packet and octet; the template message before each was
 * refused too, and nothing counts as sent. The other collector gets every message in sequence.
 */
static void collector_without_listener_counts_exactly_its_messages_not_sent(const char *addr)
{
	struct collector_set set;
	struct decoder *live;
	struct collector *dead;

	if (!collector_set_of_two(&set, addr, PORT_DEAD, &live))
		return;
	dead = set.c[0];
	for (int i = 0; i < 10; i++) {
		send_data(&set, 20, 3, (uint64_t)i * SEC);
		collector_set_refresh(&set, (uint64_t)i * SEC);	/* read the errors */
		EXPECT_EQ(dead->cnt.not_sent_flows, 20 * (uint64_t)(i + 1));
	}
	EXPECT_TRUE(dead->down);
	EXPECT_EQ(dead->cnt.not_sent_flows, 200);
	EXPECT_EQ(dead->cnt.not_sent_packets, 600);
	EXPECT_EQ(dead->cnt.not_sent_octets, 60000);
	/* Every datagram refused (templates before each message while down), each by its quote. */
	EXPECT_EQ(dead->cnt.refused, 20);
	EXPECT_EQ(dead->cnt.refused_unquoted, 0);
	EXPECT_EQ(dead->cnt.send_errors, 20);
	EXPECT_EQ(dead->cnt.messages + dead->cnt.flow_records + dead->cnt.octets, 0);
	EXPECT_EQ(dead->cnt.template_messages, 0);
	/* On the wire all the same: the sequence counts them (10 x 7 options + 200 flows). */
	EXPECT_EQ(dead->cnt.records, 270);
	EXPECT_EQ(dead->sequence, 270);
	expect_undisturbed(live, set.c[1], 11, 200);
	/* The last word at a stop: its refusal is known before the final counts are published. */
	collector_set_send_statistics(&set, 10 * SEC);
	EXPECT_EQ(dead->cnt.refused, 21);
	EXPECT_EQ(dead->cnt.messages + dead->cnt.template_messages, 0);
	EXPECT_EQ(dead->cnt.records, 277);
	collector_set_free(&set);
	dec_close(live);
}

static void ipv4_collector_without_listener_counts_exactly_its_messages_not_sent(void)
{
	collector_without_listener_counts_exactly_its_messages_not_sent("127.0.0.1");
}

static void ipv6_collector_without_listener_counts_exactly_its_messages_not_sent(void)
{
	collector_without_listener_counts_exactly_its_messages_not_sent("::1");
}

/*
 * Three messages into the void, then the collector listens. The very next message reaches it,
 * after the templates and the statistics (what it missed: exactly the three; sent: nothing), with
 * a sequence number that counts the refused records. It stays down, with the templates before
 * every message, until a message sent COLLECTOR_SETTLE_NS ago got no error; then data only. The
 * other collector sees none of this.
 */
static void collector_that_comes_back_loses_nothing(const char *addr, uint16_t port)
{
	const struct dec_record *me, *ex;
	struct collector_set set;
	struct decoder *live, *d;
	struct collector *c;
	uint64_t t0 = (uint64_t)time(NULL) * 1000;

	if (!collector_set_of_two(&set, addr, port, &live))
		return;
	c = set.c[0];
	for (int i = 0; i < 3; i++)
		send_data(&set, 5, 2, (uint64_t)i * SEC);
	/* No look at the errors here: the last one is pending, as the socket error too. */
	d = dec_open(addr, port);			/* the collector starts */
	EXPECT_TRUE(d);
	if (!d)
		goto out;
	send_data(&set, 4, 1, 4 * SEC);
	EXPECT_EQ(dec_drain(d), 2);
	EXPECT_TRUE(is_template_msg(&d->msgs[0]));
	EXPECT_EQ(d->msgs[0].sequence, 3 * 7 + 15);	/* refused records went on the wire */
	EXPECT_EQ(d->msgs[1].sequence, 3 * 7 + 15 + 7);
	EXPECT_EQ(d->msgs[1].data_records, 4);
	me = dec_last_options(d, IPFIX_TMPL_METERING_STATS);
	ex = dec_last_options(d, IPFIX_TMPL_EXPORTING_STATS);
	EXPECT_TRUE(me && ex);
	if (me && ex) {
		EXPECT_EQ(me->exported_messages, 0);
		EXPECT_EQ(me->exported_flows, 0);
		EXPECT_EQ(me->exported_octets, 0);
		EXPECT_EQ(ex->not_sent_flows, 15);
		EXPECT_EQ(ex->not_sent_packets, 30);
		EXPECT_EQ(ex->not_sent_octets, 3000);
		EXPECT_EQ(ex->epid, (uint64_t)getpid());
		/* When the first and the last of them were found not sent: since the start. */
		EXPECT_EQ(ex->n_obs, 2);
		EXPECT_TRUE(ex->obs_ms[0] >= t0 && ex->obs_ms[0] <= ex->obs_ms[1] &&
			    ex->obs_ms[1] <= (uint64_t)time(NULL) * 1000 + 1000);
	}
	EXPECT_EQ(c->cnt.not_sent_flows, 15);
	EXPECT_EQ(c->cnt.refused, 6);
	EXPECT_EQ(c->cnt.refused_unquoted, 0);
	EXPECT_EQ(c->cnt.flow_records, 4);

	/* Not yet known to be back: no error could have come back yet from a remote one. */
	EXPECT_TRUE(c->down);
	EXPECT_EQ(collector_set_next_refresh(&set), 4 * SEC + COLLECTOR_SETTLE_NS);
	dec_reset(d);
	send_data(&set, 2, 1, 4 * SEC + COLLECTOR_SETTLE_NS / 2);
	EXPECT_EQ(dec_drain(d), 2);
	EXPECT_TRUE(is_template_msg(&d->msgs[0]));
	EXPECT_EQ(d->msgs[1].data_records, 2);
	collector_set_refresh(&set, 4 * SEC + COLLECTOR_SETTLE_NS - 1);
	EXPECT_TRUE(c->down);
	collector_set_refresh(&set, 4 * SEC + COLLECTOR_SETTLE_NS);
	EXPECT_TRUE(!c->down);
	EXPECT_EQ(collector_set_next_refresh(&set), 60 * SEC);	/* the other's refresh */

	dec_reset(d);
	send_data(&set, 3, 1, 6 * SEC);			/* back: data only */
	EXPECT_EQ(dec_drain(d), 1);
	EXPECT_EQ(d->msgs[0].template_records, 0);
	EXPECT_EQ(d->msgs[0].data_records, 3);
	EXPECT_EQ(d->errors, 0);
	EXPECT_EQ(c->cnt.not_sent_flows, 15);
	EXPECT_EQ(c->cnt.flow_records, 4 + 2 + 3);
	EXPECT_EQ(c->cnt.send_errors, 6);
	expect_undisturbed(live, set.c[1], 1 + 3 + 3, 15 + 4 + 2 + 3);
out:
	collector_set_free(&set);
	dec_close(live);
	dec_close(d);
}

static void ipv4_collector_that_comes_back_loses_nothing(void)
{
	collector_that_comes_back_loses_nothing("127.0.0.1", PORT_BACK4);
}

static void ipv6_collector_that_comes_back_loses_nothing(void)
{
	collector_that_comes_back_loses_nothing("::1", PORT_BACK6);
}

/*
 * The socket error left by a refused datagram whose queue entry is gone (turning IP_RECVERR off
 * purges the queue; sk_err stays): send() returns that stale ECONNREFUSED for the next message,
 * which is sent again at once and arrives. A refusal the queue never reported is not guessed
 * from the socket error (it may be one already counted): only the first message counts.
 */
static void stale_socket_error_never_costs_the_next_message(void)
{
	struct collector_set set;
	struct decoder *live, *d = NULL;
	struct collector *c;
	int off = 0, on = 1;

	if (!collector_set_of_two(&set, "127.0.0.1", PORT_BACK4, &live))
		return;
	c = set.c[0];
	send_data(&set, 5, 1, 0);
	send_data(&set, 6, 1, SEC);			/* its error is queued, the socket error set */
	EXPECT_EQ(setsockopt(c->fd, IPPROTO_IP, IP_RECVERR, &off, sizeof(off)), 0);
	EXPECT_EQ(setsockopt(c->fd, IPPROTO_IP, IP_RECVERR, &on, sizeof(on)), 0);
	d = dec_open("127.0.0.1", PORT_BACK4);
	EXPECT_TRUE(d);
	if (!d)
		goto out;
	send_data(&set, 7, 1, 2 * SEC);
	EXPECT_EQ(dec_drain(d), 2);
	EXPECT_TRUE(is_template_msg(&d->msgs[0]));
	EXPECT_EQ(d->msgs[1].data_records, 7);
	EXPECT_EQ(d->errors, 0);
	collector_set_refresh(&set, 2 * SEC);
	EXPECT_EQ(c->cnt.not_sent_flows, 5);
	EXPECT_EQ(c->cnt.refused, 3);			/* templates, 5 records, templates */
	EXPECT_EQ(c->cnt.flow_records, 6 + 7);
	expect_undisturbed(live, set.c[1], 4, 5 + 6 + 7);
out:
	collector_set_free(&set);
	dec_close(live);
	dec_close(d);
}

static uint16_t inet_csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * Inject an ICMP destination unreachable of code (3 port unreachable, 4 fragmentation needed with
 * the next hop's mtu) for c's socket (127.0.0.1 both ends), as a router would send it: the quoted
 * IPv4 and UDP headers, then quote_len octets of the UDP payload.
 */
static bool inject_unreachable(const struct collector *c, uint8_t code, uint16_t mtu,
			       const uint8_t *quote, size_t quote_len)
{
	struct sockaddr_in local, dst = { .sin_family = AF_INET };
	socklen_t len = sizeof(local);
	uint8_t pkt[8 + 20 + 8 + IPFIX_HEADER_LEN] = { 3, code, [6] = mtu >> 8, [7] = mtu & 0xff };
	uint8_t *ip = pkt + 8, *udp = ip + 20;
	size_t pkt_len = 8 + 20 + 8 + quote_len;
	uint16_t csum;
	ssize_t n;
	int fd;

	if (getsockname(c->fd, (struct sockaddr *)&local, &len))
		return false;
	ip[0] = 0x45;
	ip[2] = 0x05, ip[3] = 0x78;			/* the original: 1400 octets */
	ip[6] = code == 4 ? 0x40 : 0;			/* fragmentation needed: DF was set */
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	memcpy(ip + 12, &local.sin_addr, 4);
	memcpy(ip + 16, &((const struct sockaddr_in *)&c->addr.addr)->sin_addr, 4);
	csum = inet_csum(ip, 20);
	ip[10] = (uint8_t)(csum >> 8), ip[11] = (uint8_t)csum;
	memcpy(udp, &local.sin_port, 2);
	memcpy(udp + 2, &((const struct sockaddr_in *)&c->addr.addr)->sin_port, 2);
	udp[4] = 0x05, udp[5] = 0x64;
	memcpy(udp + 8, quote, quote_len);
	csum = inet_csum(pkt, pkt_len);
	pkt[2] = (uint8_t)(csum >> 8), pkt[3] = (uint8_t)csum;
	dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	if (fd < 0)
		return false;
	n = sendto(fd, pkt, pkt_len, 0, (struct sockaddr *)&dst, sizeof(dst));
	close(fd);
	return n == (ssize_t)pkt_len;
}

/* The IPFIX header of received message m, as the exporter sent it. */
static void header_of(const struct dec_msg *m, uint8_t *h)
{
	const uint32_t v[] = { (uint32_t)IPFIX_VERSION << 16 | m->length, m->export_time,
			       m->sequence, m->odid };

	for (int i = 0; i < 4; i++) {
		uint32_t be = htonl(v[i]);

		memcpy(h + 4 * i, &be, 4);
	}
}

/*
 * ICMP errors as routers send them (injected on loopback through a raw socket): one quoting the
 * IPFIX header refuses exactly the message it names, out of order too; one quoting no payload
 * (RFC 792 asks for 8 octets only) is charged to the oldest message sent after the last refused
 * one, or to none when there is no such message.
 */
static void icmp_error_names_its_message_or_the_oldest_unconfirmed_one(void)
{
	struct collector_set set;
	struct decoder *d = dec_open("127.0.0.1", PORT_DEAD);
	uint8_t h[IPFIX_HEADER_LEN] = { 0 };
	struct collector *c;

	EXPECT_TRUE(d);
	if (!d)
		return;
	dec_config(&cfg);
	dec_config_add(&cfg, "127.0.0.1", PORT_DEAD);
	collector_set_init(&set);
	collector_set_apply(&set, &cfg, &id);
	c = set.c[0];
	send_data(&set, 3, 2, 0);			/* templates, then 3 records */
	send_data(&set, 4, 2, SEC);
	send_data(&set, 5, 2, 2 * SEC);
	EXPECT_EQ(dec_drain(d), 4);
	EXPECT_EQ(c->cnt.messages, 4);

	if (!inject_unreachable(c, 3, 0, h, 0)) {
		SKIP_TEST("raw ICMP socket: no CAP_NET_RAW");
		goto out;
	}
	collector_set_refresh(&set, 3 * SEC);
	EXPECT_EQ(c->cnt.refused_unquoted, 1);		/* the template message */
	EXPECT_EQ(c->cnt.template_messages, 0);
	EXPECT_EQ(c->cnt.not_sent_flows, 0);
	EXPECT_TRUE(c->down);

	header_of(&d->msgs[2], h);			/* the 4 records */
	EXPECT_TRUE(inject_unreachable(c, 3, 0, h, sizeof(h)));
	collector_set_refresh(&set, 3 * SEC);
	EXPECT_EQ(c->cnt.refused, 2);
	EXPECT_EQ(c->cnt.refused_unquoted, 1);
	EXPECT_EQ(c->cnt.not_sent_flows, 4);
	EXPECT_EQ(c->cnt.not_sent_packets, 8);
	EXPECT_EQ(c->cnt.not_sent_octets, 800);
	EXPECT_EQ(c->cnt.flow_records, 3 + 5);
	EXPECT_EQ(c->cnt.messages, 2);
	EXPECT_EQ(c->cnt.octets, (uint64_t)d->msgs[1].length + d->msgs[3].length);

	/* The same again names no message left: charged to the one after it, the 5 records.
	 * Then nothing is left after them to charge. */
	EXPECT_TRUE(inject_unreachable(c, 3, 0, h, sizeof(h)));
	EXPECT_TRUE(inject_unreachable(c, 3, 0, h, 0));
	EXPECT_TRUE(inject_unreachable(c, 3, 0, h, 0));
	collector_set_refresh(&set, 3 * SEC);
	EXPECT_EQ(c->cnt.refused, 5);
	EXPECT_EQ(c->cnt.refused_unquoted, 4);
	EXPECT_EQ(c->cnt.not_sent_flows, 4 + 5);
	EXPECT_EQ(c->cnt.flow_records, 3);
	EXPECT_EQ(c->cnt.send_errors, 5);
out:
	collector_set_free(&set);
	dec_close(d);
}

static void reload_keeps_unchanged_collectors_with_their_sequence_and_counters(void)
{
	struct collector_set set;
	struct decoder *a = dec_open("127.0.0.1", 4737), *b = dec_open("127.0.0.1", 4738),
		       *c = dec_open("127.0.0.1", 4731);
	struct collector *kept;

	EXPECT_TRUE(a && b && c);
	if (!a || !b || !c)
		goto out;
	dec_config(&cfg);
	dec_config_add(&cfg, "127.0.0.1", 4737);
	dec_config_add(&cfg, "127.0.0.1", 4738);
	collector_set_init(&set);
	collector_set_apply(&set, &cfg, &id);
	send_data(&set, 5, 1, 0);
	send_data(&set, 5, 1, SEC);
	kept = set.c[1];

	dec_config(&cfg);
	dec_config_add(&cfg, "127.0.0.1", 4731);
	dec_config_add(&cfg, "127.0.0.1", 4738);
	snprintf(cfg.collectors[1].spec, sizeof(cfg.collectors[1].spec), "UDP/127.0.0.1:4738");
	EXPECT_EQ(collector_set_apply(&set, &cfg, &id), 0);
	EXPECT_EQ(set.n, 2);
	EXPECT_TRUE(set.c[1] == kept);
	EXPECT_EQ(kept->sequence, 17);
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
	EXPECT_EQ(b->msgs[0].sequence, 17);
	EXPECT_EQ(b->msgs[1].sequence, 24);
	EXPECT_EQ(dec_drain(c), 2);
	EXPECT_EQ(c->msgs[0].sequence, 0);
	EXPECT_EQ(c->msgs[1].sequence, 7);
	EXPECT_EQ(b->errors + c->errors, 0);
	collector_set_free(&set);
out:
	dec_close(a);
	dec_close(b);
	dec_close(c);
}

/*
 * Every options record of a template message, by value: the domain's counts (264), nothing not
 * sent (265, no times), the kernel's table-full packets with their times (266: never in 265), the
 * interface by ingress and egress scope (267, 268), every packet metered (269) and the address
 * of the socket the collector sees (270).
 */
static void options_records_carry_domain_counts_losses_interface_sampling_and_address(void)
{
	struct collector_identity id77 = id;
	struct collector_set set;
	struct decoder *d = dec_open("127.0.0.1", 4730);
	const struct dec_record *me, *ex, *ig, *in, *out, *sa, *ad;

	EXPECT_TRUE(d);
	if (!d)
		return;
	dec_config(&cfg);
	dec_config_add(&cfg, "127.0.0.1", 4730);
	id77.observation_domain_id = 77;
	collector_set_init(&set);
	collector_set_apply(&set, &cfg, &id77);
	send_data(&set, 9, 1, 0);
	set.ignored = (struct collector_ignored){ 7, 700, 1700000001000, 1700000059000 };
	collector_set_refresh(&set, 60 * SEC);
	EXPECT_EQ(dec_drain(d), 3);
	EXPECT_EQ(d->errors, 0);
	me = dec_last_options(d, IPFIX_TMPL_METERING_STATS);
	ex = dec_last_options(d, IPFIX_TMPL_EXPORTING_STATS);
	ig = dec_last_options(d, IPFIX_TMPL_METERING_RELIABILITY);
	in = dec_last_options(d, IPFIX_TMPL_INGRESS_INTERFACE);
	out = dec_last_options(d, IPFIX_TMPL_EGRESS_INTERFACE);
	sa = dec_last_options(d, IPFIX_TMPL_SAMPLING);
	ad = dec_last_options(d, IPFIX_TMPL_EXPORTER_IPV4);
	if (!EXPECT_TRUE(me && ex && ig && in && out && sa && ad))
		goto out;
	EXPECT_EQ(dec_last_options(d, IPFIX_TMPL_EXPORTER_IPV6) == NULL, true);
	EXPECT_EQ(me->odid, 77);
	EXPECT_EQ(me->exported_messages, 2);	/* before the message carrying it */
	EXPECT_EQ(me->exported_flows, 9);
	EXPECT_EQ(me->exported_octets, (uint64_t)d->msgs[0].length + d->msgs[1].length);
	EXPECT_EQ(ex->epid, (uint64_t)getpid());
	EXPECT_EQ(ex->not_sent_flows + ex->not_sent_packets + ex->not_sent_octets, 0);
	EXPECT_EQ(ex->n_obs, 2);
	EXPECT_EQ(ex->obs_ms[0] + ex->obs_ms[1], 0);
	EXPECT_EQ(ig->odid, 77);
	EXPECT_EQ(ig->ignored_packets, 7);
	EXPECT_EQ(ig->ignored_octets, 700);
	EXPECT_EQ(ig->n_obs, 2);
	EXPECT_EQ(ig->obs_ms[0], 1700000001000);
	EXPECT_EQ(ig->obs_ms[1], 1700000059000);
	EXPECT_EQ(in->ingress_if, 5);
	EXPECT_EQ(out->egress_if, 5);
	EXPECT_STR(in->ifname, "wg0");
	EXPECT_STR(out->ifname, "wg0");
	EXPECT_STR(in->ifdesc, "flowmeta overlay wg0 (wireguard)");
	EXPECT_STR(out->ifdesc, "flowmeta overlay wg0 (wireguard)");
	EXPECT_EQ(sa->odid, 77);
	EXPECT_EQ(sa->sampling_interval, 1);
	EXPECT_EQ(sa->sampling_algorithm, 1);
	EXPECT_EQ(sa->packet_interval, 1);
	EXPECT_EQ(sa->packet_space, 0);
	EXPECT_EQ(sa->selector_algorithm, 1);
	EXPECT_EQ(ad->epid, (uint64_t)getpid());
	EXPECT_EQ(ad->exporter_version, 4);
	EXPECT_MEM(ad->exporter_addr, ((const uint8_t[]){ 127, 0, 0, 1 }), 4);
	for (uint32_t i = 0; i < d->n_msgs; i++)
		EXPECT_EQ(d->msgs[i].odid, 77);
out:
	collector_set_free(&set);
	dec_close(d);
}

/* An IPv6 collector is told the IPv6 address of its socket (271), not an IPv4 one. */
static void ipv6_collector_gets_the_exporter_ipv6_address(void)
{
	static const uint8_t loopback6[16] = { [15] = 1 };
	struct collector_set set;
	struct decoder *d = dec_open("::1", 4732);
	const struct dec_record *ad;

	if (!EXPECT_TRUE(d))
		return;
	dec_config(&cfg);
	dec_config_add(&cfg, "::1", 4732);
	collector_set_init(&set);
	collector_set_apply(&set, &cfg, &id);
	collector_set_refresh(&set, 0);
	EXPECT_EQ(dec_drain(d), 1);
	EXPECT_TRUE(is_template_msg(&d->msgs[0]));
	EXPECT_TRUE(dec_last_options(d, IPFIX_TMPL_EXPORTER_IPV4) == NULL);
	ad = dec_last_options(d, IPFIX_TMPL_EXPORTER_IPV6);
	if (EXPECT_TRUE(ad)) {
		EXPECT_EQ(ad->exporter_version, 6);
		EXPECT_MEM(ad->exporter_addr, loopback6, 16);
	}
	collector_set_free(&set);
	dec_close(d);
}

/* ---- the path MTU ---------------------------------------------------------------------------- */

/* Set the MTU of lo (up) in this process's network namespace. */
static bool set_lo_mtu(int mtu)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return false;
	ifr.ifr_flags = IFF_UP | IFF_LOOPBACK | IFF_RUNNING;
	ok = !ioctl(fd, SIOCSIFFLAGS, &ifr);
	ifr.ifr_mtu = mtu;
	ok = ok && !ioctl(fd, SIOCSIFMTU, &ifr);
	close(fd);
	return ok;
}

/* Received messages no longer than max, with sequence numbers that count every record. */
static void expect_whole_stream(const struct decoder *d, size_t max, uint32_t first_seq)
{
	uint32_t seq = first_seq;

	for (uint32_t i = 0; i < d->n_msgs; i++) {
		if (!EXPECT_TRUE(d->msgs[i].length <= max))
			printf("     message %u: %u octets, path carries %zu\n", i, d->msgs[i].length,
			       max);
		EXPECT_EQ(d->msgs[i].sequence, seq);
		seq += d->msgs[i].data_records;
	}
}

/*
 * In a network namespace of its own (a child process), lo's MTU set to 1280: messages of 1252
 * octets (1280 - 20 - 8). A data message built bigger (before the path shrank) goes in slices that
 * fit, every record once, in sequence. Then the MTU drops to 576 with nothing read since: send()
 * says EMSGSIZE, the path is read again and the same message goes in 548-octet slices; a template
 * message meeting the same is built again smaller. Nothing counts as not sent.
 */
static void path_mtu_body(void)
{
	struct collector_set set;
	struct decoder *d;
	struct collector *c;
	struct msg_payload payload;
	struct ipfix_msg msg;
	uint64_t flows = 0;

	if (unshare(CLONE_NEWNET) || !set_lo_mtu(1280))
		SKIP_TEST("needs a network namespace of its own (root)");
	d = dec_open("127.0.0.1", 4730);
	if (!EXPECT_TRUE(d))
		return;
	dec_config(&cfg);
	dec_config_add(&cfg, "127.0.0.1", 4730);
	collector_set_init(&set);
	collector_set_apply(&set, &cfg, &id);
	c = set.c[0];
	EXPECT_EQ(c->path_mtu, 1280);
	EXPECT_EQ(c->max_message, 1252);
	EXPECT_EQ(collector_set_message_size(&set), 1252);
	collector_set_refresh(&set, 0);		/* the templates: 933 octets, one message */

	/* 100 records of 57 octets in one 5720-octet message: 21 a slice, 5 slices. */
	cfg.max_message_size = 8192;
	msg = data_msg(100, 2, &payload);
	EXPECT_EQ(msg.len, 5720);
	collector_set_send(&set, &msg, &payload, SEC);
	flows += 100;
	EXPECT_EQ(dec_drain(d), 1 + 5);
	EXPECT_EQ(d->msgs[5].data_records, 100 - 4 * 21);

	/* The path shrinks; a 21-record message built for 1252 meets it: 9, 9 and 3 records. */
	EXPECT_TRUE(set_lo_mtu(576));
	cfg.max_message_size = 1252;
	msg = data_msg(21, 2, &payload);
	collector_set_send(&set, &msg, &payload, 2 * SEC);
	flows += 21;
	EXPECT_EQ(c->path_mtu, 576);
	EXPECT_EQ(c->max_message, 548);
	EXPECT_EQ(collector_set_message_size(&set), 548);
	EXPECT_EQ(dec_drain(d), 3);

	/* Built for 1252, the templates meet a 576 path: 484 octets, then the options. */
	EXPECT_TRUE(set_lo_mtu(1280));
	collector_set_refresh(&set, 3 * SEC);
	EXPECT_EQ(c->max_message, 1252);
	EXPECT_TRUE(set_lo_mtu(576));
	collector_set_send_statistics(&set, 4 * SEC);
	EXPECT_EQ(dec_drain(d), 2);
	EXPECT_EQ(d->n_msgs, 1 + 5 + 3 + 2);
	EXPECT_EQ(d->msgs[9].template_records, 8);
	EXPECT_EQ(d->msgs[10].options_template_records, 8);
	EXPECT_EQ(d->msgs[10].data_records, OPTION_RECORDS);

	EXPECT_EQ(d->errors, 0);
	expect_whole_stream(d, 1252, 0);
	for (uint32_t i = 6; i < d->n_msgs; i++)
		EXPECT_TRUE(d->msgs[i].length <= 548);
	EXPECT_EQ(dec_flow_records(d), flows);
	EXPECT_EQ(c->cnt.flow_records, flows);
	EXPECT_EQ(c->cnt.messages, d->n_msgs);
	EXPECT_EQ(c->cnt.send_errors + c->cnt.not_sent_flows, 0);
	EXPECT_TRUE(!c->down);
	for (size_t i = 0; i < d->n_records; i++)
		if (d->records[i].template_id == IPFIX_TMPL_IPV4_TCP)
			EXPECT_EQ(d->records[i].packets, 2);
	collector_set_free(&set);
	dec_close(d);
}

/*
 * A router beyond the first hop with a smaller link (an ICMP "fragmentation needed" naming MTU
 * 1280, injected quoting one data message): that message is counted not sent, record for
 * record, the collector is not down (no templates before the next message), and the next
 * messages fit the 1280 path the kernel learned. In a network namespace of its own: the learned
 * MTU stays on its loopback.
 */
static void path_shrunk_by_icmp_body(void)
{
	struct collector_set set;
	struct decoder *d;
	struct collector *c;
	struct msg_payload payload;
	struct ipfix_msg msg;
	uint8_t h[IPFIX_HEADER_LEN];

	if (unshare(CLONE_NEWNET) || !set_lo_mtu(65536))
		SKIP_TEST("needs a network namespace of its own (root)");
	d = dec_open("127.0.0.1", 4730);
	if (!EXPECT_TRUE(d))
		return;
	dec_config(&cfg);
	dec_config_add(&cfg, "127.0.0.1", 4730);
	collector_set_init(&set);
	collector_set_apply(&set, &cfg, &id);
	c = set.c[0];
	EXPECT_EQ(c->max_message, COLLECTOR_DEFAULT_MESSAGE);
	send_data(&set, 5, 2, 0);			/* templates, 5 records */
	send_data(&set, 7, 3, SEC);
	EXPECT_EQ(dec_drain(d), 3);
	header_of(&d->msgs[2], h);			/* the 7 records */
	if (!inject_unreachable(c, 4, 1280, h, sizeof(h))) {
		SKIP_TEST("raw ICMP socket: no CAP_NET_RAW");
		goto out;
	}
	collector_set_refresh(&set, 2 * SEC);
	EXPECT_EQ(c->cnt.refused, 1);
	EXPECT_EQ(c->cnt.refused_unquoted, 0);
	EXPECT_EQ(c->cnt.not_sent_flows, 7);
	EXPECT_EQ(c->cnt.not_sent_packets, 21);
	EXPECT_EQ(c->cnt.flow_records, 5);
	EXPECT_TRUE(!c->down);
	EXPECT_EQ(c->path_mtu, 1280);
	EXPECT_EQ(c->max_message, 1252);
	EXPECT_EQ(collector_set_message_size(&set), 1252);
	/* Built before anyone knew (8192): the next data message goes in slices, no templates. */
	msg = data_msg(40, 1, &payload);
	collector_set_send(&set, &msg, &payload, 3 * SEC);
	EXPECT_EQ(dec_drain(d), 2);			/* 21 + 19 records */
	EXPECT_EQ(d->msgs[3].template_records + d->msgs[4].template_records, 0);
	EXPECT_EQ(d->msgs[3].data_records + d->msgs[4].data_records, 40);
	EXPECT_TRUE(d->msgs[3].length <= 1252 && d->msgs[4].length <= 1252);
	EXPECT_EQ(c->cnt.not_sent_flows, 7);
	EXPECT_EQ(c->cnt.flow_records, 5 + 40);
	EXPECT_EQ(d->errors, 0);
out:
	collector_set_free(&set);
	dec_close(d);
}

/*
 * Run body in a child process with a network namespace of its own (its loopback's MTU and
 * learned path MTUs never reach the host's). The child prints its own FAIL or SKIP line.
 */
static void in_own_netns(void (*body)(void))
{
	pid_t pid;
	int status;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		body();
		exit(check_case_failed ? 1 : check_case_skipped ? 77 : 0);
	}
	if (!EXPECT_TRUE(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status)))
		return;
	check_case_failed = WEXITSTATUS(status) == 1;
	check_case_skipped = WEXITSTATUS(status) == 77;
}

static void message_bigger_than_the_path_goes_in_slices_that_fit_nothing_lost(void)
{
	in_own_netns(path_mtu_body);
}

static void router_saying_fragmentation_needed_costs_one_message_collector_stays_up(void)
{
	in_own_netns(path_shrunk_by_icmp_body);
}

static void enabled_false_means_no_collector(void)
{
	struct collector_set set;

	dec_config(&cfg);
	dec_config_add(&cfg, "127.0.0.1", 4730);
	cfg.enabled = false;
	collector_set_init(&set);
	EXPECT_EQ(collector_set_apply(&set, &cfg, &id), 0);
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
	RUN_TEST(ipv4_collector_without_listener_counts_exactly_its_messages_not_sent);
	RUN_TEST(ipv6_collector_without_listener_counts_exactly_its_messages_not_sent);
	RUN_TEST(ipv4_collector_that_comes_back_loses_nothing);
	RUN_TEST(ipv6_collector_that_comes_back_loses_nothing);
	RUN_TEST(stale_socket_error_never_costs_the_next_message);
	RUN_TEST(icmp_error_names_its_message_or_the_oldest_unconfirmed_one);
	RUN_TEST(reload_keeps_unchanged_collectors_with_their_sequence_and_counters);
	RUN_TEST(options_records_carry_domain_counts_losses_interface_sampling_and_address);
	RUN_TEST(ipv6_collector_gets_the_exporter_ipv6_address);
	RUN_TEST(message_bigger_than_the_path_goes_in_slices_that_fit_nothing_lost);
	RUN_TEST(router_saying_fragmentation_needed_costs_one_message_collector_stays_up);
	RUN_TEST(enabled_false_means_no_collector);
	return check_exit_status();
}
