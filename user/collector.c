// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Collectors: sockets, per-collector sequence numbers, template timers and counters (SPEC §5).
 *
 * Decisions:
 * - A message is "sent" when send() accepts it whole. Only then does the collector's sequence
 *   number advance: it counts the data records the collector was sent, as RFC 7011 §3.1 defines it.
 *   Records of a message send() refused are not sent; they are counted in notSent* and reported to
 *   the collector in the §4.3 options record, which is how it learns of them. (A datagram lost
 *   after send() shows up at the collector as a sequence gap, as usual.)
 * - After a failed send the collector gets the templates before its next message, so a collector
 *   that comes back can decode what follows. When that template message cannot be sent either, the
 *   data message is not tried (no collector decodes data before its template) and counts as not
 *   sent.
 * - ECONNREFUSED on a connected UDP socket reports the ICMP port unreachable of an *earlier*
 *   datagram and drops the current one; on a host with no listener sends therefore alternate
 *   between accepted and refused. So a collector counts as back only after two sends in a row
 *   succeed: one warning when it goes down, one line when it is back, nothing per message.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "collector.h"
#include "log.h"

#define COLLECTOR_SNDBUF	(1 << 20)	/* a poll sends its messages in one burst */

int collector_set_init(struct collector_set *set)
{
	*set = (struct collector_set){ 0 };
	set->exporting_process_id = (uint32_t)getpid();
	return 0;
}

static void collector_close(struct collector *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

void collector_set_free(struct collector_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		collector_close(set->c[i]);
	set->n = 0;
	free(set->buf);
	set->buf = NULL;
}

/* Open and connect the socket; a connected UDP socket gets ICMP errors back as send() errors. */
static int collector_connect(struct collector *c)
{
	const struct sockaddr *sa = (const struct sockaddr *)&c->addr.addr;
	int fd, one_mib = COLLECTOR_SNDBUF;

	fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Best effort: a bigger buffer only absorbs bursts; the kernel caps it at wmem_max. */
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &one_mib, sizeof(one_mib));
	if (connect(fd, sa, c->addr.addr_len) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	c->fd = fd;
	return 0;
}

static bool sockaddr_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
	}
	return false;
}

static struct collector *collector_new(const struct collector_addr *addr)
{
	struct collector *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return NULL;
	c->addr = *addr;
	c->fd = -1;
	c->last_send_ok = true;
	err = collector_connect(c);
	if (err) {
		/* Kept and retried at each send: a missing route may come back. */
		c->down = true;
		c->last_send_ok = false;
		log_warnx("collector %s: %s; retrying at each export", c->addr.spec,
			  strerror(-err));
	}
	return c;
}

int collector_set_apply(struct collector_set *set, const struct config *cfg)
{
	struct collector *next[CONFIG_MAX_COLLECTORS] = { 0 };
	bool kept[CONFIG_MAX_COLLECTORS] = { false }, created[CONFIG_MAX_COLLECTORS] = { false };
	size_t max_message = cfg->max_message_size, n = cfg->enabled ? cfg->n_collectors : 0;

	if (max_message != set->max_message || !set->buf) {
		uint8_t *buf = malloc(max_message);

		if (!buf)
			return -ENOMEM;
		free(set->buf);
		set->buf = buf;
		set->max_message = max_message;
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < set->n && !next[i]; j++) {
			const struct collector_addr *a = &cfg->collectors[i];

			if (kept[j] || !sockaddr_same(&set->c[j]->addr.addr, &a->addr))
				continue;
			next[i] = set->c[j];
			kept[j] = true;
		}
		if (next[i])
			continue;
		next[i] = collector_new(&cfg->collectors[i]);
		if (!next[i]) {
			for (size_t k = 0; k < i; k++)
				if (created[k])
					collector_close(next[k]);
			return -ENOMEM;
		}
		created[i] = true;
	}
	for (size_t j = 0; j < set->n; j++) {
		if (kept[j])
			continue;
		log_info("collector %s: removed", set->c[j]->addr.spec);
		collector_close(set->c[j]);
	}
	for (size_t i = 0; i < n; i++) {
		if (created[i])
			log_info("collector %s: exporting IPFIX over UDP", next[i]->addr.spec);
		/* Sequence numbers count per Observation Domain: a new domain, a new stream. */
		if (cfg->observation_domain_id != set->observation_domain_id)
			next[i]->sequence = 0;
		next[i]->need_templates = true;
	}
	memcpy(set->c, next, sizeof(next));
	set->n = n;
	set->observation_domain_id = cfg->observation_domain_id;
	set->template_refresh_ns = cfg->template_refresh_ms * 1000000ULL;
	return 0;
}

static void collector_went_down(struct collector *c, int err)
{
	c->need_templates = true;
	c->last_send_ok = false;
	if (c->down)
		return;
	c->down = true;
	log_warnx("collector %s: %s; counting the records it misses until it takes messages again",
		  c->addr.spec, strerror(err));
}

static void collector_not_sent(struct collector *c, const struct msg_payload *payload)
{
	if (!payload)
		return;
	c->cnt.not_sent_flows += payload->flows;
	c->cnt.not_sent_packets += payload->packets;
	c->cnt.not_sent_octets += payload->octets;
}

/*
 * Stamp msg with this collector's sequence number and send it. payload is NULL for a template
 * message. Returns 0 when the whole message was accepted, a negative errno otherwise.
 */
static int collector_send_msg(const struct collector_set *set, struct collector *c,
			      struct ipfix_msg *msg, const struct msg_payload *payload)
{
	size_t len;
	ssize_t n;
	int err;

	if (c->fd < 0) {
		err = collector_connect(c);
		if (err) {
			c->cnt.send_errors++;
			collector_not_sent(c, payload);
			collector_went_down(c, -err);
			return err;
		}
	}
	len = ipfix_msg_finish(msg, (uint32_t)time(NULL), c->sequence, set->observation_domain_id);
	n = send(c->fd, msg->buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n != (ssize_t)len) {
		err = n < 0 ? errno : EMSGSIZE;
		c->cnt.send_errors++;
		collector_not_sent(c, payload);
		collector_went_down(c, err);
		return -err;
	}
	c->sequence += msg->data_records;
	c->cnt.messages++;
	c->cnt.records += msg->data_records;
	c->cnt.octets += len;
	if (payload)
		c->cnt.flow_records += payload->flows;
	else
		c->cnt.template_messages++;
	if (c->down && c->last_send_ok) {
		c->down = false;
		log_info("collector %s: taking messages again", c->addr.spec);
	}
	c->last_send_ok = true;
	return 0;
}

/* One step of the template message: flow templates, options templates, then their records. */
static int add_template_step(const struct collector_set *set, const struct collector *c,
			     struct ipfix_msg *msg, int step)
{
	const struct ipfix_metering_stats metering = {
		.observation_domain_id = set->observation_domain_id,
		.exported_messages = c->cnt.messages,
		.exported_flow_records = c->cnt.flow_records,
		.exported_octets = c->cnt.octets,
	};
	const struct ipfix_exporting_stats exporting = {
		.exporting_process_id = set->exporting_process_id,
		.not_sent_flows = c->cnt.not_sent_flows,
		.not_sent_packets = c->cnt.not_sent_packets + set->kernel_not_sent_packets,
		.not_sent_octets = c->cnt.not_sent_octets + set->kernel_not_sent_octets,
	};

	switch (step) {
	case 0:
		return ipfix_msg_add_templates(msg);
	case 1:
		return ipfix_msg_add_options_templates(msg);
	case 2:
		return ipfix_msg_add_metering_stats(msg, &metering);
	default:
		return ipfix_msg_add_exporting_stats(msg, &exporting);
	}
}

/*
 * The templates and the statistics records, in as few messages as MaxMessageSize allows (all of it
 * fits 608 octets; at 512 the options go in a second message).
 */
static int collector_send_templates(struct collector_set *set, struct collector *c, uint64_t now_ns)
{
	struct ipfix_msg msg;
	int err = 0;

	c->templates_due_ns = now_ns + set->template_refresh_ns;
	ipfix_msg_begin(&msg, set->buf, set->max_message);
	for (int step = 0; step < 4;) {
		int add = add_template_step(set, c, &msg, step);

		if (!add) {
			step++;
			continue;
		}
		if (add != -ENOSPC || ipfix_msg_empty(&msg)) {
			log_warnx("collector %s: templates do not fit %zu-octet messages",
				  c->addr.spec, set->max_message);
			return add;
		}
		err = collector_send_msg(set, c, &msg, NULL) ?: err;
		ipfix_msg_begin(&msg, set->buf, set->max_message);
	}
	err = collector_send_msg(set, c, &msg, NULL) ?: err;
	if (!err)
		c->need_templates = false;
	return err;
}

static bool templates_due(const struct collector *c, uint64_t now_ns)
{
	return c->need_templates || now_ns >= c->templates_due_ns;
}

void collector_set_send(struct collector_set *set, struct ipfix_msg *msg,
			const struct msg_payload *payload, uint64_t now_ns)
{
	for (size_t i = 0; i < set->n; i++) {
		struct collector *c = set->c[i];

		if (templates_due(c, now_ns) && collector_send_templates(set, c, now_ns)) {
			collector_not_sent(c, payload);
			continue;
		}
		collector_send_msg(set, c, msg, payload);
	}
}

void collector_set_refresh(struct collector_set *set, uint64_t now_ns)
{
	for (size_t i = 0; i < set->n; i++)
		if (templates_due(set->c[i], now_ns))
			collector_send_templates(set, set->c[i], now_ns);
}

void collector_set_send_statistics(struct collector_set *set, uint64_t now_ns)
{
	for (size_t i = 0; i < set->n; i++)
		collector_send_templates(set, set->c[i], now_ns);
}

uint64_t collector_set_next_refresh(const struct collector_set *set)
{
	uint64_t next = UINT64_MAX;

	/* need_templates alone does not count: the next message serves it, and a collector that is
	 * down would otherwise be retried in a busy loop. */
	for (size_t i = 0; i < set->n; i++)
		if (set->c[i]->templates_due_ns < next)
			next = set->c[i]->templates_due_ns;
	return next;
}

void collector_set_totals(const struct collector_set *set, struct collector_counters *out)
{
	const size_t n = sizeof(*out) / sizeof(uint64_t);
	uint64_t *sum = (uint64_t *)out;

	*out = (struct collector_counters){ 0 };
	for (size_t i = 0; i < set->n; i++) {
		const uint64_t *v = (const uint64_t *)&set->c[i]->cnt;

		for (size_t k = 0; k < n; k++)
			sum[k] += v[k];
	}
}
