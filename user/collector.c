// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Collectors: sockets, per-collector sequence numbers, template timers and counters (SPEC §5).
 *
 * Which messages a collector did not get. With UDP, an ICMP error (port unreachable, host
 * unreachable) refuses one datagram, some time after send() took it. On a connected socket it
 * comes back only as the socket error, returned by the next send(), which then does not send: so
 * that error says that SOME EARLIER datagram was refused, and it costs the message whose send()
 * returns it. Counting "the message whose send() failed" is thus off by one message both ways, and
 * a collector that listens again loses the first message sent to it to the stale error.
 * Instead, each socket has IP_RECVERR / IPV6_RECVERR set: every ICMP error is queued with the
 * start of the refused datagram's UDP payload, whose first 16 octets are the IPFIX header (Linux
 * quotes 520 octets of it for ICMPv4, 1184 for ICMPv6 on loopback). Each collector remembers the
 * headers of its last COLLECTOR_RING messages with what they carried; the queue is read (never
 * blocking) before every send and at every poll and tick, and each error names its message by
 * that header (version, length, export time, sequence, domain), the first not yet refused.
 * - A refused message counts as not sent (its flow records, packets, octets) and leaves the
 *   "sent" counters (collector.h); the collector is down (one warning) and gets the templates
 *   again: one that restarted forgot them. Reading the queue empty also clears the socket error,
 *   so send() no longer fails for an earlier datagram. If an error still lands between the read
 *   and the send(), that ECONNREFUSED only notifies what the queue already holds: the queue is
 *   read and the message sent once more at once.
 * - An error that quotes less than an IPFIX header (a router quoting only the 8 octets RFC 792
 *   requires), or a message no longer remembered, is charged to the oldest message sent after
 *   the last refused one (errors come back in the order the datagrams went) and counted in
 *   refused_unquoted. COLLECTOR_RING holds the messages of a few seconds: a whole 65536-flow poll
 *   is about 3000 messages, and on loopback or a LAN the errors are read before the next send.
 *   Past it, the oldest message is forgotten and counts as delivered unless its error is charged
 *   as above (totals then right in messages, not exactly in records).
 * - The error queue lives in the socket's receive buffer: COLLECTOR_RCVBUF (doubled by the
 *   kernel) holds some 3600 ICMPv6 errors of 1400-octet messages, more ICMPv4 ones; where
 *   SO_RCVBUFFORCE is refused, rmem_max caps it (Debian's 212992: some 300). Errors past that
 *   are dropped by the kernel, and their messages count as sent.
 * - send() failing by itself (no route, ENOBUFS, EAGAIN, EMSGSIZE) is that message's own failure:
 *   not sent at once, collector down.
 * - Refused records still advance the sequence number: they went on the wire, and a collector
 *   that missed them sees the gap, which is what the sequence is for. Messages send() refused do
 *   not.
 * - A down collector gets the templates before every message, so the first message it takes
 *   after it comes back is preceded by them. It is back (one info line) once a message sent
 *   COLLECTOR_SETTLE_NS ago got no error: errors take a round trip, and deciding at the next send
 *   would see a burst's later messages "not refused yet" and flap. The periodic refresh is
 *   unchanged; a collector that nobody sends data to is probed by it.
 * - When the template message cannot be sent at all, the data message is not tried (no collector
 *   decodes data before its template) and counts as not sent.
 *
 * Message size and the path MTU (RFC 7011 §10.3.3: a message must fit the path unfragmented).
 * Each socket has IP_PMTUDISC_DO (IPV6_PMTUDISC_DO): the kernel never fragments, and a datagram
 * larger than the route's MTU (the link's, or a smaller one learned from an ICMP "fragmentation
 * needed" / "packet too big") fails at send() with EMSGSIZE. Each collector's max_message is its
 * limit capped by that MTU less the IP and UDP headers (IP_MTU / IPV6_MTU on the connected
 * socket), read again before every batch is planned, after an EMSGSIZE from send() and after an
 * ICMP error saying EMSGSIZE.
 * - A data message larger than the collector's max_message (the path shrank after the exporter
 *   built it for every collector) is planned in slices of whole records that fit, each a message
 *   of its own with its sequence number: nothing is lost to it. Template messages are built for
 *   the path as it is.
 * - A router beyond the first hop whose link is smaller drops the datagram and says so with an
 *   ICMP error quoting it: that message is counted not sent, as a refused one, but the collector
 *   is not down; the next messages fit.
 * - A path too small even for IPFIX_MIN_MESSAGE (an IPv4 MTU under 540) lets the kernel
 *   fragment, with a warning: there is no smaller message to send.
 *
 * Plans (collector_set_transmit). What a collector gets from a batch is planned before anything
 * is sent — templates where needed, each message whole or in slices of its path — and then sent
 * exactly so, nothing after a datagram that did not leave: what left is a prefix of the plan,
 * which is what the export journal's send trace can count (journal.h). So while a plan is sent
 * nothing is cut or rebuilt on the way: a path that shrinks in the instant between the plan and
 * the send fails that datagram (it and the rest of the plan counted not sent, the collector not
 * marked down), and the next batch is planned for the new path. Whole messages in a row go in
 * one sendmmsg() (send_burst): a poll makes a few system calls per collector and transaction,
 * none per message.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/errqueue.h>	/* after <time.h>: it uses struct timespec */

#include "collector.h"
#include "journal.h"
#include "log.h"
#include "sendtrace.h"

_Static_assert(CONFIG_MIN_MESSAGE_SIZE >= IPFIX_MIN_MESSAGE,
	       "every step of the template message must fit the smallest MaxMessageSize");

#define COLLECTOR_SNDBUF	(1 << 20)	/* a poll sends its messages in one burst */
#define COLLECTOR_RCVBUF	(4 << 20)	/* room for the ICMP errors of a burst */

struct collector_sent {
	uint8_t header[IPFIX_HEADER_LEN];	/* as sent: what an ICMP error quotes */
	bool templates;				/* a template message: no flow records */
	bool refused;
	uint64_t flows, packets, octets;	/* what a data message carried */
};

int collector_set_init(struct collector_set *set)
{
	*set = (struct collector_set){ 0 };
	set->exporting_process_id = (uint32_t)getpid();
	/* Whole-size buffers, allocated once: message sizes follow the paths. */
	set->buf = malloc(IPFIX_MAX_MESSAGE);
	set->slice_buf = malloc(IPFIX_MAX_MESSAGE);
	if (!set->buf || !set->slice_buf) {
		collector_set_free(set);
		return -ENOMEM;
	}
	return 0;
}

static void collector_close(struct collector *c)
{
	if (c->fd >= 0) {
		if (c->trace)
			sendtrace_forget(c->trace, c->fd);
		close(c->fd);
	}
	free(c->ring);
	free(c);
}

void collector_set_free(struct collector_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		collector_close(set->c[i]);
	set->n = 0;
	free(set->buf);
	free(set->slice_buf);
	set->buf = NULL;
	set->slice_buf = NULL;
}

/* Ask for the ICMP errors of this socket's datagrams in its error queue, with their quote. */
static int watch_errors(int fd, int family)
{
	int one = 1, rcvbuf = COLLECTOR_RCVBUF;

	/* The queue lives in the receive buffer. Root may exceed rmem_max; others get the cap. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (family == AF_INET6) {
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one)))
			return -errno;
		/* An IPv4-mapped collector's errors are ICMPv4 ones: best effort. */
		setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
		return 0;
	}
	return setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one)) ? -errno : 0;
}

/* Whether the kernel may fragment this socket's datagrams: never (IP_PMTUDISC_DO), unless the
 * path cannot carry the smallest message whole (IP_PMTUDISC_WANT). */
static int set_fragmenting(struct collector *c, bool fragment)
{
	int v4 = fragment ? IP_PMTUDISC_WANT : IP_PMTUDISC_DO;
	int v6 = fragment ? IPV6_PMTUDISC_WANT : IPV6_PMTUDISC_DO, err;

	c->fragmenting = fragment;
	if (c->addr.addr.ss_family == AF_INET6)
		err = setsockopt(c->fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v6, sizeof(v6));
	else
		err = setsockopt(c->fd, IPPROTO_IP, IP_MTU_DISCOVER, &v4, sizeof(v4));
	return err ? -errno : 0;
}

/*
 * Read the route's MTU and the socket's own address again, and set max_message from them (see
 * the top of this file). Logged when the MTU changes.
 */
static void collector_read_path(struct collector *c)
{
	/* IP and UDP headers (config.c makes an IPv4-mapped collector an IPv4 one) */
	size_t headers = c->addr.addr.ss_family == AF_INET6 ? 40 + 8 : 20 + 8, max = c->limit;
	socklen_t len = sizeof(int);
	bool fragment = false;
	int mtu = 0, err;

	if (c->fd < 0)
		return;
	err = c->addr.addr.ss_family == AF_INET6
		      ? getsockopt(c->fd, IPPROTO_IPV6, IPV6_MTU, &mtu, &len)
		      : getsockopt(c->fd, IPPROTO_IP, IP_MTU, &mtu, &len);
	if (err || mtu < 0)
		mtu = 0;	/* not known (no route yet): the limit alone */
	len = sizeof(c->local);
	if (getsockname(c->fd, (struct sockaddr *)&c->local, &len))
		c->local.ss_family = AF_UNSPEC;
	if (mtu && (size_t)mtu < max + headers)
		max = (size_t)mtu > headers ? (size_t)mtu - headers : 0;
	if (max < IPFIX_MIN_MESSAGE) {
		max = IPFIX_MIN_MESSAGE;
		fragment = true;
	}
	if (mtu != c->path_mtu && fragment)
		log_warnx("collector %s: path MTU %d cannot carry %d-octet messages whole; letting "
			  "the kernel fragment them", c->addr.spec, mtu, IPFIX_MIN_MESSAGE);
	else if (mtu != c->path_mtu && mtu && c->path_mtu)	/* the first: collector_set_apply */
		log_info("collector %s: path MTU %d: messages of up to %zu octets", c->addr.spec,
			 mtu, max);
	if (fragment != c->fragmenting && set_fragmenting(c, fragment))
		log_warn("collector %s: IP_MTU_DISCOVER", c->addr.spec);
	c->path_mtu = mtu;
	c->max_message = max;
}

/*
 * The source port a resumed stream had: bound again, so a collector that keys exporters by address
 * and port sees the same exporter. Taken by someone else meanwhile: any port, and said so.
 */
static void bind_resumed_port(struct collector *c, int fd)
{
	struct sockaddr_storage local = { .ss_family = c->addr.addr.ss_family };
	socklen_t len;
	int one = 1;

	if (!c->resume_port)
		return;
	if (local.ss_family == AF_INET) {
		((struct sockaddr_in *)&local)->sin_port = htons(c->resume_port);
		len = sizeof(struct sockaddr_in);
	} else {
		((struct sockaddr_in6 *)&local)->sin6_port = htons(c->resume_port);
		len = sizeof(struct sockaddr_in6);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&local, len) < 0)
		log_warnx("collector %s: source port %u of the earlier stream: %s; using another",
			  c->addr.spec, c->resume_port, strerror(errno));
	c->resume_port = 0;
}

/* Open and connect the socket: a connected UDP socket gets the ICMP errors of its datagrams. */
static int collector_connect(struct collector *c)
{
	const struct sockaddr *sa = (const struct sockaddr *)&c->addr.addr;
	int fd, err, sndbuf = COLLECTOR_SNDBUF;

	fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Best effort: a bigger buffer only absorbs bursts; the kernel caps it at wmem_max. */
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	bind_resumed_port(c, fd);
	err = watch_errors(fd, sa->sa_family);
	if (!err && connect(fd, sa, c->addr.addr_len) < 0)
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	c->fd = fd;
	c->path_mtu = 0;
	err = set_fragmenting(c, false);
	if (err) {
		close(fd);
		c->fd = -1;
		return err;
	}
	collector_read_path(c);
	if (c->trace && sendtrace_watch(c->trace, fd, c->trace_slot))
		log_warnx("collector %s: its datagrams are not traced", c->addr.spec);
	return 0;
}

/* The address, port and family of a collector as a journal entry names them. */
static bool same_endpoint(const struct collector_addr *a, const struct journal_collector *e)
{
	const struct sockaddr_storage *ss = &a->addr;

	if (ss->ss_family != e->family)
		return false;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *v4 = (const struct sockaddr_in *)ss;

		return ntohs(v4->sin_port) == e->port && !memcmp(&v4->sin_addr, e->addr, 4);
	}
	const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)ss;

	return ntohs(v6->sin6_port) == e->port && !memcmp(&v6->sin6_addr, e->addr, 16);
}

struct collector *collector_set_find(const struct collector_set *set,
				     const struct journal_collector *e)
{
	for (size_t i = 0; i < set->n; i++)
		if (e->observation_domain_id == set->id.observation_domain_id &&
		    same_endpoint(&set->c[i]->addr, e))
			return set->c[i];
	return NULL;
}

/* The lowest send_trace slot no collector of the set (or being created) uses. */
static uint32_t free_trace_slot(const struct collector_set *set, struct collector *const *next,
				size_t n_next)
{
	uint64_t used = 0;

	for (size_t i = 0; i < set->n; i++)
		used |= 1ULL << set->c[i]->trace_slot;
	for (size_t i = 0; i < n_next; i++)
		if (next[i])
			used |= 1ULL << next[i]->trace_slot;
	for (uint32_t slot = 0; slot < FLOWMETA_TRACE_SLOTS; slot++)
		if (!(used >> slot & 1))
			return slot;
	return 0;	/* not reached: more slots than collectors */
}
_Static_assert(FLOWMETA_TRACE_SLOTS == 64 && CONFIG_MAX_COLLECTORS <= 32,
	       "a slot bitmap of 64 bits serves every collector of a set and of a reload");

/*
 * A new collector; it continues the stream of the resume entry with its address and domain (its
 * sequence number, counters and source port), if the set has one.
 */
static struct collector *collector_new(struct collector_set *set, const struct collector_addr *addr,
				       uint32_t domain, uint32_t slot)
{
	struct collector *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return NULL;
	c->ring = calloc(COLLECTOR_RING, sizeof(*c->ring));
	if (!c->ring) {
		free(c);
		return NULL;
	}
	c->addr = *addr;
	c->fd = -1;
	c->limit = set->limit;
	c->max_message = set->limit;
	c->trace = set->trace;
	c->trace_slot = slot;
	for (uint32_t i = 0; i < set->n_resume; i++) {
		const struct journal_collector *e = &set->resume[i];

		if (e->observation_domain_id != domain || !same_endpoint(addr, e))
			continue;
		c->sequence = e->seq;
		_Static_assert(sizeof(e->cnt) == sizeof(c->cnt),
			       "journal_counters mirror collector_counters");
		memcpy(&c->cnt, &e->cnt, sizeof(c->cnt));
		c->resume_port = e->local_port;
		log_info("collector %s: continuing the stream at sequence number %u from source "
			 "port %u", c->addr.spec, c->sequence, e->local_port);
		break;
	}
	err = collector_connect(c);
	if (err) {
		/* Kept and retried at each send: a missing route may come back. */
		c->down = true;
		log_warnx("collector %s: %s; retrying at each export", c->addr.spec,
			  strerror(-err));
	}
	return c;
}

int collector_set_apply(struct collector_set *set, const struct config *cfg,
			const struct collector_identity *id)
{
	struct collector *next[CONFIG_MAX_COLLECTORS] = { 0 };
	bool kept[CONFIG_MAX_COLLECTORS] = { false }, created[CONFIG_MAX_COLLECTORS] = { false };
	size_t n = cfg->enabled ? cfg->n_collectors : 0;

	set->limit = cfg->max_message_size == CONFIG_MESSAGE_SIZE_PATH ? COLLECTOR_DEFAULT_MESSAGE
									 : cfg->max_message_size;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < set->n && !next[i]; j++) {
			const struct collector_addr *a = &cfg->collectors[i];

			if (kept[j] || !sockaddr_equal(&set->c[j]->addr.addr, &a->addr))
				continue;
			next[i] = set->c[j];
			kept[j] = true;
		}
		if (next[i])
			continue;
		next[i] = collector_new(set, &cfg->collectors[i], id->observation_domain_id,
					free_trace_slot(set, next, i));
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
			log_info("collector %s: exporting IPFIX over UDP, messages of up to %zu octets "
				 "(path MTU %d)", next[i]->addr.spec, next[i]->max_message,
				 next[i]->path_mtu);
		/* Sequence numbers count per Observation Domain: a new domain, a new stream (a new
		 * collector's sequence is already that of its domain: 0, or its resumed stream's). */
		if (!created[i] && id->observation_domain_id != set->id.observation_domain_id)
			next[i]->sequence = 0;
		next[i]->need_templates = true;
		next[i]->limit = set->limit;
		collector_read_path(next[i]);
	}
	memcpy(set->c, next, sizeof(next));
	set->n = n;
	set->id = *id;
	set->template_refresh_ns = cfg->template_refresh_ms * 1000000ULL;
	return 0;
}

size_t collector_set_message_size(const struct collector_set *set)
{
	size_t size = 0;

	for (size_t i = 0; i < set->n; i++)
		if (set->c[i]->fd >= 0 && (!size || set->c[i]->max_message < size))
			size = set->c[i]->max_message;
	return size ? size : IPFIX_MIN_MESSAGE;
}

/* ---- what became of the messages sent ------------------------------------------------------ */

static void collector_went_down(struct collector *c, int err)
{
	c->need_templates = true;
	c->probe = 0;
	if (c->down)
		return;
	c->down = true;
	log_warnx("collector %s: %s; counting the records it misses until it takes messages again",
		  c->addr.spec, strerror(err));
}

/* Now, in epoch milliseconds: when a flow record was found not sent (template 265). */
static uint64_t epoch_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void collector_not_sent(struct collector *c, const struct msg_payload *payload)
{
	c->cnt.send_errors++;
	if (!payload)
		return;
	if (payload->flows) {
		c->last_not_sent_ms = epoch_ms();
		if (!c->first_not_sent_ms)
			c->first_not_sent_ms = c->last_not_sent_ms;
	}
	c->cnt.not_sent_flows += payload->flows;
	c->cnt.not_sent_packets += payload->packets;
	c->cnt.not_sent_octets += payload->octets;
}

/* Index of the oldest message still remembered. */
static uint64_t ring_oldest(const struct collector *c)
{
	return c->n_sent > COLLECTOR_RING ? c->n_sent - COLLECTOR_RING : 0;
}

static struct collector_sent *ring_at(const struct collector *c, uint64_t index)
{
	return &c->ring[index % COLLECTOR_RING];
}

static void ring_push(struct collector *c, const struct ipfix_msg *msg,
		      const struct msg_payload *payload)
{
	struct collector_sent *m = ring_at(c, c->n_sent++);

	*m = (struct collector_sent){
		.templates = !payload,
		.flows = payload ? payload->flows : 0,
		.packets = payload ? payload->packets : 0,
		.octets = payload ? payload->octets : 0,
	};
	memcpy(m->header, msg->buf, IPFIX_HEADER_LEN);
}

/*
 * The index + 1 of the message an ICMP error quotes, not refused yet; 0 when none. Errors come
 * back in send order: the search starts after the last match. (Equal headers are template
 * messages sent twice within a second with no data between: either counts the same.)
 */
static uint64_t ring_find(struct collector *c, const uint8_t *quote)
{
	uint64_t oldest = ring_oldest(c), from = c->match_hint > oldest ? c->match_hint : oldest;

	for (uint64_t n = 0, i = from; n < c->n_sent - oldest; n++, i++) {
		const struct collector_sent *m;

		if (i == c->n_sent)
			i = oldest;
		m = ring_at(c, i);
		if (!m->refused && !memcmp(m->header, quote, IPFIX_HEADER_LEN)) {
			c->match_hint = i + 1;
			return i + 1;
		}
	}
	return 0;
}

/* The index + 1 of the oldest message sent after the last refused one; 0 when none. */
static uint64_t ring_oldest_unconfirmed(const struct collector *c)
{
	uint64_t i = c->refused_upto > ring_oldest(c) ? c->refused_upto : ring_oldest(c);

	for (; i < c->n_sent; i++)
		if (!ring_at(c, i)->refused)
			return i + 1;
	return 0;
}

/*
 * An ICMP error refused a datagram: quote is the start of its UDP payload (NULL: too short). A
 * datagram too big for a later link (EMSGSIZE) is lost as well, and counted so.
 */
static void collector_refused(struct collector *c, const uint8_t *quote, int err)
{
	uint64_t found = quote ? ring_find(c, quote) : 0;
	struct collector_sent *m;

	if (!found) {
		found = ring_oldest_unconfirmed(c);
		c->cnt.refused_unquoted++;
	}
	c->cnt.refused++;
	if (!found) {
		/* Nothing left to charge: every message remembered is accounted for. */
		c->cnt.send_errors++;
	} else {
		m = ring_at(c, found - 1);
		m->refused = true;
		/* Sent after all? No: out of the sent counters, into the not sent ones. */
		c->cnt.messages--;
		c->cnt.octets -= (uint64_t)m->header[2] << 8 | m->header[3];
		c->cnt.template_messages -= m->templates;
		c->cnt.flow_records -= m->flows;
		collector_not_sent(c, &(struct msg_payload){ m->flows, m->packets, m->octets });
		if (found > c->refused_upto)
			c->refused_upto = found;
	}
	if (err == EMSGSIZE) {
		/* A router's "fragmentation needed" / "packet too big": the path shrank, the
		 * collector is fine. The next messages fit. */
		collector_read_path(c);
		return;
	}
	collector_went_down(c, err);	/* templates again: it may have restarted */
}

/* The sock_extended_err of an error-queue message, or NULL. */
static const struct sock_extended_err *extended_err(struct msghdr *mh)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm))
		if ((cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_RECVERR) ||
		    (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_RECVERR))
			return (const struct sock_extended_err *)CMSG_DATA(cm);
	return NULL;
}

/*
 * Read the error queue empty without blocking: each ICMP error refuses one message. Then a down
 * collector whose probe settled without an error is back.
 */
static void collector_drain(struct collector *c, uint64_t now_ns)
{
	while (c->fd >= 0) {
		uint8_t quote[IPFIX_HEADER_LEN];
		union {
			struct cmsghdr align;
			uint8_t buf[CMSG_SPACE(sizeof(struct sock_extended_err) +
					       sizeof(struct sockaddr_in6))];
		} ctl;
		struct iovec iov = { .iov_base = quote, .iov_len = sizeof(quote) };
		struct msghdr mh = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = ctl.buf,
			.msg_controllen = sizeof(ctl.buf),
		};
		const struct sock_extended_err *ee;
		ssize_t n = recvmsg(c->fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT);

		if (n < 0)
			break;
		ee = extended_err(&mh);
		/* Local errors (SO_EE_ORIGIN_LOCAL) are what send() returned: counted there. */
		if (!ee ||
		    (ee->ee_origin != SO_EE_ORIGIN_ICMP && ee->ee_origin != SO_EE_ORIGIN_ICMP6))
			continue;
		collector_refused(c, n == sizeof(quote) && quote[1] == IPFIX_VERSION ? quote : NULL,
				  (int)ee->ee_errno);
	}
	if (c->down && c->probe && now_ns >= c->probe_ns + COLLECTOR_SETTLE_NS) {
		c->down = false;
		c->probe = 0;
		log_info("collector %s: taking messages again", c->addr.spec);
	}
}

/* ---- sending --------------------------------------------------------------------------------- */

/* Messages one sendmmsg() takes: a transaction's worth. */
#define COLLECTOR_BURST FLOWMETA_JOURNAL_MSGS

/* A datagram that left: what the ring remembers and the counters say. */
static void collector_sent(struct collector *c, const struct ipfix_msg *msg,
			   const struct msg_payload *payload, uint64_t now_ns)
{
	ring_push(c, msg, payload);
	c->cnt.messages++;
	c->cnt.records += msg->data_records;
	c->cnt.octets += msg->len;
	if (payload)
		c->cnt.flow_records += payload->flows;
	else
		c->cnt.template_messages++;
	if (c->down && !c->probe) {
		c->probe = c->n_sent;
		c->probe_ns = now_ns;
	}
}

/*
 * Stamp msgs[0, n) with this collector's sequence numbers and the Export Time and send them in one
 * sendmmsg(), after reading the error queue once; payloads[i] is NULL for a template message.
 * Stops at the first message that does not leave: it and the rest count not sent (none is cut or
 * rebuilt: the plan was made for the path, collector.c). Returns how many left; *err says why
 * the next one did not (0 when all left).
 */
static unsigned int send_burst(struct collector_set *set, struct collector *c,
			       struct ipfix_msg *const *msgs,
			       const struct msg_payload *const *payloads, unsigned int n,
			       uint64_t now_ns, int *err)
{
	struct mmsghdr mm[COLLECTOR_BURST];
	struct iovec iov[COLLECTOR_BURST];
	uint32_t seq = c->sequence, now_s = (uint32_t)time(NULL);
	unsigned int sent = 0;
	int r;

	*err = 0;
	if (c->fd < 0 && (*err = collector_connect(c)))
		goto failed;
	collector_drain(c, now_ns);
	for (unsigned int i = 0; i < n; i++) {
		size_t len = ipfix_msg_finish(msgs[i], now_s, seq, set->id.observation_domain_id);

		seq += msgs[i]->data_records;
		iov[i] = (struct iovec){ .iov_base = msgs[i]->buf, .iov_len = len };
		mm[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	while (sent < n) {
		r = sendmmsg(c->fd, mm + sent, n - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r < 0 && errno == ECONNREFUSED) {
			/* An earlier datagram's error, landed since the drain: the call cleared it,
			 * and the queue holds its message. This one never left: once more. */
			collector_drain(c, now_ns);
			r = sendmmsg(c->fd, mm + sent, n - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
		}
		if (r <= 0) {
			*err = r < 0 ? -errno : -EIO;
			break;
		}
		for (int i = 0; i < r; i++, sent++) {
			c->sequence += msgs[sent]->data_records;
			collector_sent(c, msgs[sent], payloads[sent], now_ns);
		}
	}
	if (!*err)
		return sent;
failed:
	for (unsigned int i = sent; i < n; i++)
		collector_not_sent(c, payloads[i]);
	if (*err == -EMSGSIZE) {
		/* The path shrank since the plan: read it; the next batch is planned for it. */
		collector_read_path(c);
	} else {
		collector_went_down(c, -*err);
	}
	return sent;
}

/* One message (payload NULL: a template message); 0 when it left, else a negative errno. */
static int collector_send_msg(struct collector_set *set, struct collector *c,
			      struct ipfix_msg *msg, const struct msg_payload *payload,
			      uint64_t now_ns)
{
	int err;

	send_burst(set, c, &msg, &payload, 1, now_ns, &err);
	return err;
}

/* The exporter's address as this collector's socket has it; false when not known. */
static bool local_address(const struct collector *c, struct ipfix_exporter_addr *a)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)&c->local;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&c->local;

	if (c->fd < 0)
		return false;
	if (c->local.ss_family == AF_INET) {
		a->ip_version = 4;
		memcpy(a->addr, &s4->sin_addr, 4);
	} else if (c->local.ss_family == AF_INET6) {
		a->ip_version = 6;
		memcpy(a->addr, &s6->sin6_addr, 16);
	} else {
		return false;
	}
	return true;
}

enum template_step {
	STEP_TEMPLATES,		/* the eight flow templates */
	STEP_OPTIONS_TEMPLATES,	/* 264..271 */
	STEP_METERING_STATS,	/* 264: what was sent (RFC 7011 §4.1) */
	STEP_EXPORTING_STATS,	/* 265: what was not (§4.3) */
	STEP_METERING_RELIABILITY,	/* 266: what the kernel could not meter (§4.2) */
	STEP_INGRESS_INTERFACE,	/* 267, 268: the interface's name and description */
	STEP_EGRESS_INTERFACE,
	STEP_SAMPLING,		/* 269: every packet metered */
	STEP_EXPORTER_ADDRESS,	/* 270 or 271: this collector's socket's own address */
	STEPS,
};

/* One step of the template message: flow templates, options templates, then their records. */
static int add_template_step(const struct collector_set *set, const struct collector *c,
			     struct ipfix_msg *msg, enum template_step step)
{
	const struct ipfix_interface ifc = {
		.ifindex = set->id.ifindex,
		.name = set->id.ifname,
		.description = set->id.ifdesc,
	};
	struct ipfix_exporter_addr addr = { .exporting_process_id = set->exporting_process_id };

	switch (step) {
	case STEP_TEMPLATES:
		return ipfix_msg_add_templates(msg);
	case STEP_OPTIONS_TEMPLATES:
		return ipfix_msg_add_options_templates(msg);
	case STEP_METERING_STATS:
		return ipfix_msg_add_metering_stats(msg, &(struct ipfix_metering_stats){
			.observation_domain_id = set->id.observation_domain_id,
			.exported_messages = c->cnt.messages,
			.exported_flow_records = c->cnt.flow_records,
			.exported_octets = c->cnt.octets,
		});
	case STEP_EXPORTING_STATS:
		return ipfix_msg_add_exporting_stats(msg, &(struct ipfix_exporting_stats){
			.exporting_process_id = set->exporting_process_id,
			.not_sent_flows = c->cnt.not_sent_flows,
			.not_sent_packets = c->cnt.not_sent_packets,
			.not_sent_octets = c->cnt.not_sent_octets,
			.first_not_sent_ms = c->first_not_sent_ms,
			.last_not_sent_ms = c->last_not_sent_ms,
		});
	case STEP_METERING_RELIABILITY:
		return ipfix_msg_add_metering_reliability(msg, &(struct ipfix_metering_reliability){
			.observation_domain_id = set->id.observation_domain_id,
			.ignored_packets = set->ignored.packets,
			.ignored_octets = set->ignored.octets,
			.first_ignored_ms = set->ignored.first_ms,
			.last_ignored_ms = set->ignored.last_ms,
		});
	case STEP_INGRESS_INTERFACE:
	case STEP_EGRESS_INTERFACE:
		if (!ifc.ifindex)
			return 0;
		return ipfix_msg_add_interface(msg, &ifc, step == STEP_EGRESS_INTERFACE);
	case STEP_SAMPLING:
		return ipfix_msg_add_unsampled(msg, set->id.observation_domain_id);
	default:
		if (!local_address(c, &addr))
			return 0;
		return ipfix_msg_add_exporter_addr(msg, &addr);
	}
}

/*
 * The templates and the options records, in as few messages as the collector's max_message
 * allows (all of it takes about 1000 octets; at 512 the flow templates, 484, go alone, then the
 * options templates and records, 465 with a short interface description, in one or two more).
 * With plan, nothing is sent: each message is entered there instead (built again when the plan
 * is sent: the same messages, the latest counts, the refusals known by then). After a message
 * that did not leave, the rest are not tried (send_planned): they count not sent.
 */
static int collector_send_templates(struct collector_set *set, struct collector *c, uint64_t now_ns,
				    struct journal_collector *plan)
{
	enum template_step step = STEP_TEMPLATES;
	struct ipfix_msg msg;
	int err = 0;

	if (!plan) {
		c->templates_due_ns = now_ns + set->template_refresh_ns;
		/* Cleared first: a failure or refusal from here on sets it again. */
		c->need_templates = false;
	}
	ipfix_msg_begin(&msg, set->buf, c->max_message);
	for (;;) {
		int add = step < STEPS ? add_template_step(set, c, &msg, step) : -ENOSPC;

		if (!add) {
			step++;
			continue;
		}
		if (add != -ENOSPC || (ipfix_msg_empty(&msg) && step < STEPS)) {
			log_warnx("collector %s: templates do not fit %zu-octet messages",
				  c->addr.spec, c->max_message);
			if (!plan)
				c->need_templates = true;
			return add;
		}
		if (ipfix_msg_empty(&msg))
			;
		else if (plan)
			err = journal_add_dgram(plan, FLOWMETA_JOURNAL_TEMPLATES, 0,
						msg.data_records, msg.len);
		else if (err)
			collector_not_sent(c, NULL);
		else
			err = collector_send_msg(set, c, &msg, NULL, now_ns);
		if (step == STEPS)
			return err;
		ipfix_msg_begin(&msg, set->buf, c->max_message);
	}
}

/* Templates due by the timer, or needed by a collector that is not down (start, reload). */
static bool refresh_due(const struct collector *c, uint64_t now_ns)
{
	return (c->need_templates && !c->down) || now_ns >= c->templates_due_ns;
}

/* Whether collector c gets message i of a batch: all of them, unless it is owed some only. */
static bool batch_for(const struct collector *c, uint32_t i)
{
	return !c->owed_only || (c->owed >> i & 1);
}

static bool batch_has_data(const struct collector *c, const struct collector_batch *b)
{
	for (uint32_t i = 0; i < b->n; i++)
		if (batch_for(c, i))
			return true;
	return false;
}

/*
 * Templates before this collector's data: a down collector gets them before every message, so the
 * first one it takes has them; without data, only when the refresh is due.
 */
static bool templates_first(const struct collector *c, bool data, uint64_t now_ns)
{
	if (data)
		return c->down || c->need_templates || now_ns >= c->templates_due_ns;
	return refresh_due(c, now_ns);
}

/* Where a collector's stream stands, as the journal keeps it. */
static void collector_state(const struct collector *c, uint32_t domain, struct journal_collector *e)
{
	const struct sockaddr_storage *ss = &c->addr.addr;

	e->family = (uint8_t)ss->ss_family;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;

		memcpy(e->addr, &a->sin_addr, 4);
		e->port = ntohs(a->sin_port);
	} else {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;

		memcpy(e->addr, &a->sin6_addr, 16);
		e->port = ntohs(a->sin6_port);
	}
	if (c->fd >= 0 && c->local.ss_family == AF_INET) {
		memcpy(e->local_addr, &((const struct sockaddr_in *)&c->local)->sin_addr, 4);
		e->local_port = ntohs(((const struct sockaddr_in *)&c->local)->sin_port);
	} else if (c->fd >= 0 && c->local.ss_family == AF_INET6) {
		memcpy(e->local_addr, &((const struct sockaddr_in6 *)&c->local)->sin6_addr, 16);
		e->local_port = ntohs(((const struct sockaddr_in6 *)&c->local)->sin6_port);
	}
	e->observation_domain_id = domain;
	e->trace_slot = c->trace_slot;
	e->seq = c->sequence;
	memcpy(&e->cnt, &c->cnt, sizeof(e->cnt));
}

/* Data message m of a batch into e: whole, or in slices that fit e->slice_size. */
static void plan_message(struct collector_set *set, const struct collector_batch *b, uint32_t m,
			 struct journal_collector *e)
{
	const struct ipfix_msg *msg = &b->msgs[m];
	struct ipfix_cursor cur = { 0 };
	uint16_t k = 0;

	if (msg->len <= e->slice_size) {
		journal_add_dgram(e, (uint16_t)m, 0, msg->data_records, msg->len);
		return;
	}
	for (;;) {
		struct ipfix_flow_sums sums = { 0 };
		struct ipfix_msg slice;

		ipfix_msg_begin(&slice, set->slice_buf, e->slice_size);
		if (ipfix_msg_slice(msg->buf, msg->len, &cur, &slice, &sums) <= 0)
			break;
		journal_add_dgram(e, (uint16_t)m, k++, slice.data_records, slice.len);
	}
}

/*
 * What this collector gets from a batch, in order, into e: the templates first where it needs
 * them (before every message while it is down), then its messages. Its path is read first: the
 * plan is made for the path as it is now.
 */
static void plan_datagrams(struct collector_set *set, struct collector *c,
			   const struct collector_batch *b, struct journal_collector *e,
			   uint64_t now_ns)
{
	bool data, tmpl;

	collector_drain(c, now_ns);
	collector_read_path(c);
	data = batch_has_data(c, b);
	tmpl = templates_first(c, data, now_ns);
	e->n_dgrams = 0;
	e->slice_size = (uint32_t)c->max_message;
	if (tmpl && !data)
		collector_send_templates(set, c, now_ns, e);
	for (uint32_t m = 0; m < b->n; m++) {
		if (!batch_for(c, m))
			continue;
		if (tmpl && (!e->n_dgrams || c->down))
			collector_send_templates(set, c, now_ns, e);
		plan_message(set, b, m, e);
	}
}

/*
 * Send exactly what was planned, in order, and nothing after the first datagram that did not
 * leave (counted not sent with the rest): what left is then always a prefix of the plan, which is
 * what the send trace counts (journal.h). A template message is the whole group of template
 * datagrams planned together (built again now: the same messages, the latest counts); the slices
 * of a message are cut again as planned.
 */
static void send_planned(struct collector_set *set, struct collector *c,
			 const struct collector_batch *b, const struct journal_collector *e,
			 uint64_t now_ns)
{
	const struct msg_payload *payloads[COLLECTOR_BURST];
	struct ipfix_msg *burst[COLLECTOR_BURST];
	bool failed = false, group_untried = false;
	struct ipfix_cursor cur = { 0 };
	unsigned int n = 0;
	int err;

	/* Whole messages in a row go in one sendmmsg(). */
#define FLUSH()                                                                                    \
	do {                                                                                       \
		if (n && send_burst(set, c, burst, payloads, n, now_ns, &err) < n)                 \
			failed = true;                                                             \
		n = 0;                                                                             \
	} while (0)
	for (uint32_t d = 0; d < e->n_dgrams; d++) {
		const struct journal_dgram *g = &e->dgram[d];
		struct ipfix_flow_sums sums = { 0 };
		struct msg_payload pl;
		struct ipfix_msg slice, *msg;

		if (g->msg == FLOWMETA_JOURNAL_TEMPLATES) {
			FLUSH();
			/* The first of a group sends (and accounts) it all, unless an earlier
			 * datagram failed: then each of the group counts not sent. */
			if (!(d && e->dgram[d - 1].msg == FLOWMETA_JOURNAL_TEMPLATES)) {
				group_untried = failed;
				if (!failed)
					failed = collector_send_templates(set, c, now_ns, NULL) != 0;
			}
			if (group_untried)
				collector_not_sent(c, NULL);
			continue;
		}
		msg = &b->msgs[g->msg];
		if (msg->len <= e->slice_size) {
			/* No collector decodes data before its templates. */
			if (failed) {
				collector_not_sent(c, &b->payloads[g->msg]);
				continue;
			}
			burst[n] = msg;
			payloads[n++] = &b->payloads[g->msg];
			if (n == COLLECTOR_BURST)
				FLUSH();
			continue;
		}
		FLUSH();
		if (!g->slice)
			cur = (struct ipfix_cursor){ 0 };
		ipfix_msg_begin(&slice, set->slice_buf, e->slice_size);
		if (ipfix_msg_slice(msg->buf, msg->len, &cur, &slice, &sums) <= 0)
			continue;	/* not reached: the plan cut the same slices */
		pl = (struct msg_payload){ sums.flows, sums.packets, sums.octets };
		if (failed)
			collector_not_sent(c, &pl);
		else
			failed = collector_send_msg(set, c, &slice, &pl, now_ns) != 0;
	}
	FLUSH();
#undef FLUSH
}

void collector_set_transmit(struct collector_set *set, const struct collector_batch *b,
			    struct journal *jr, uint64_t now_ns, bool traced)
{
	for (uint32_t m = 0; m < b->n; m++)
		ipfix_msg_finish(&b->msgs[m], 0, 0, 0);	/* sets closed: slices read them */
	for (size_t i = 0; i < set->n; i++) {
		struct collector *c = set->c[i];
		struct journal_collector *e = jr ? journal_collector(jr, (uint32_t)i) : &set->plan[i];

		collector_state(c, set->id.observation_domain_id, e);
		e->trace_before = traced && jr ? journal_trace_count(jr, c->trace_slot) : 0;
		plan_datagrams(set, c, b, e, now_ns);
	}
	if (jr) {
		int err = journal_commit(jr, traced);

		/* Sent all the same: the counts are right while this daemon lives. */
		if (err)
			log_warnx("export journal: committing transaction %llu: %s; a crash now "
				  "could lose or repeat its records", (unsigned long long)jr->hdr.txn,
				  strerror(-err));
	}
	for (size_t i = 0; i < set->n; i++) {
		struct collector *c = set->c[i];

		send_planned(set, c, b, jr ? &jr->hdr.coll[i] : &set->plan[i], now_ns);
		c->owed_only = false;
		c->owed = 0;
	}
}

void collector_set_record(const struct collector_set *set, struct journal *jr)
{
	for (size_t i = 0; i < set->n; i++) {
		struct journal_collector *e = journal_collector(jr, (uint32_t)i);

		collector_state(set->c[i], set->id.observation_domain_id, e);
		e->n_dgrams = 0;
	}
	jr->hdr.n_collectors = (uint32_t)set->n;
}

void collector_set_drain(struct collector_set *set, uint64_t now_ns)
{
	for (size_t i = 0; i < set->n; i++)
		collector_drain(set->c[i], now_ns);
}

bool collector_set_refresh_due(const struct collector_set *set, uint64_t now_ns)
{
	for (size_t i = 0; i < set->n; i++)
		if (refresh_due(set->c[i], now_ns))
			return true;
	return false;
}

void collector_set_force_refresh(struct collector_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		set->c[i]->templates_due_ns = 0;
}

void collector_set_send(struct collector_set *set, struct ipfix_msg *msg,
			const struct msg_payload *payload, uint64_t now_ns)
{
	const struct collector_batch b = { .n = 1, .msgs = msg, .payloads = payload };

	collector_set_transmit(set, &b, NULL, now_ns, false);
}

void collector_set_refresh(struct collector_set *set, uint64_t now_ns)
{
	const struct collector_batch none = { 0 };

	collector_set_transmit(set, &none, NULL, now_ns, false);
}

void collector_set_send_statistics(struct collector_set *set, uint64_t now_ns)
{
	collector_set_force_refresh(set);
	collector_set_refresh(set, now_ns);
	/* The last counts published: with the refusals known by now (a local one's at once). */
	collector_set_drain(set, now_ns);
}

uint64_t collector_set_next_refresh(const struct collector_set *set)
{
	uint64_t next = UINT64_MAX;

	/* need_templates alone does not count: the next message serves it, and a collector that is
	 * down would otherwise be retried in a busy loop. A probe settles once. */
	for (size_t i = 0; i < set->n; i++) {
		const struct collector *c = set->c[i];

		if (c->templates_due_ns < next)
			next = c->templates_due_ns;
		if (c->down && c->probe && c->probe_ns + COLLECTOR_SETTLE_NS < next)
			next = c->probe_ns + COLLECTOR_SETTLE_NS;
	}
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
