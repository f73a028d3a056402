/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Collectors: one connected, non-blocking UDP socket per IpFixCollectors entry, each with its own
 * IPFIX sequence number, template timer and counters. The exporter builds a data message once and
 * hands it to collector_set_send(), which stamps and sends it to every collector, sending each one
 * its templates first when it needs them. A collector that cannot take a message never delays the
 * others: what it did not get is counted (notSent*) and reported in the RFC 7011 §4.3 options
 * record. Which messages an unreachable collector did not get comes from the socket's error queue
 * (ICMP errors quote the refused message's IPFIX header); collector.c explains how.
 */
#ifndef FLOWMETA_COLLECTOR_H
#define FLOWMETA_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"
#include "flowmeta.h"
#include "ipfix.h"

/*
 * Three kinds of counts. "Sent": send() took the message and no ICMP error refused it since (a
 * datagram lost silently counts as sent: UDP cannot tell); the §4.1 record reports these. "On the
 * wire": send() took it, refused later or not; the sequence number counts these. "Not sent": a
 * refused message, one send() failed, or data not tried because its templates failed; the §4.3
 * record reports these. A refusal moves a message from sent to not sent when its error arrives.
 */
struct collector_counters {
	uint64_t messages;		/* messages sent (templates included) */
	uint64_t records;		/* data records on the wire (options too): the sequence */
	uint64_t flow_records;		/* flow data records sent */
	uint64_t octets;		/* octets of the messages sent */
	uint64_t template_messages;	/* messages sent that carried the templates */
	uint64_t send_errors;		/* messages not sent (refused, failed or not tried) */
	uint64_t not_sent_flows;	/* flow records this collector did not get */
	uint64_t not_sent_packets;	/* their packetDeltaCount sum */
	uint64_t not_sent_octets;	/* their octetDeltaCount sum */
	uint64_t refused;		/* of send_errors: refused by an ICMP error */
	uint64_t refused_unquoted;	/* of refused: the error named no message we remember */
};

/* A message sent, remembered until COLLECTOR_RING later ones replace it (collector.c). */
struct collector_sent;

/* Messages remembered per collector, to tell which one an ICMP error refused (collector.c). */
#define COLLECTOR_RING		4096
/*
 * An ICMP error comes back within a round trip. A down collector is back once a message sent this
 * long ago got no error by a later look at the error queue; until then it gets the templates
 * before every message.
 */
#define COLLECTOR_SETTLE_NS	1000000000ULL
/*
 * MaxMessageSize when none is configured: what fits the path MTU to each collector (RFC 7011
 * §10.3.3), but at most this. Collectors read a datagram into a fixed buffer and drop a larger
 * one silently: pmacct 1.7.7 drops messages over 10000 octets (measured), socat reads 8192 by
 * default. Loopback's 65536-octet MTU would otherwise give 65 KB messages.
 */
#define COLLECTOR_DEFAULT_MESSAGE	8192

struct collector {
	struct collector_addr addr;
	int fd;				/* -1 until a socket could be opened and connected */
	struct sockaddr_storage local;	/* the socket's own address: exporterIPv4/IPv6Address */
	int path_mtu;			/* the route's MTU, learned PMTU included; 0: unknown */
	size_t limit;			/* MaxMessageSize, or COLLECTOR_DEFAULT_MESSAGE */
	size_t max_message;		/* limit, capped by what path_mtu carries unfragmented */
	bool fragmenting;		/* the path is too small for any message: fragments allowed */
	bool down;			/* a message was refused or failed; not yet back */
	bool need_templates;		/* templates before the next message */
	uint64_t templates_due_ns;	/* CLOCK_MONOTONIC: next periodic template refresh */
	uint32_t sequence;		/* data records on the wire before the next message */
	struct collector_counters cnt;
	struct collector_sent *ring;	/* the last COLLECTOR_RING messages sent, by index */
	uint64_t n_sent;		/* messages ever put in the ring: the next one's index */
	uint64_t refused_upto;		/* index + 1 of the newest refused message; 0: none */
	uint64_t match_hint;		/* where the next error's message is looked for first */
	uint64_t probe;			/* down: index + 1 of the first message since; 0: none */
	uint64_t probe_ns;		/* when the probe was sent */
	uint64_t first_not_sent_ms;	/* epoch ms a flow record was first counted not sent; 0 */
	uint64_t last_not_sent_ms;	/* ... last */
	/* Recovering an interrupted transaction: only the messages it is owed (bit i: message i). */
	bool owed_only;
	uint64_t owed;
	uint32_t trace_slot;		/* its socket's send_trace slot */
	struct sendtrace *trace;	/* NULL: untraced */
	uint16_t resume_port;		/* local port of the stream it continues; 0: any */
};

/*
 * Who exports, as the options records tell collectors (exporter.c fills it at start and at every
 * reload): the Observation Domain, and the metered interface for the interface records (267,
 * 268; none when ifindex is 0).
 */
struct collector_identity {
	uint32_t observation_domain_id;
	uint32_t ifindex;
	char ifname[16];		/* interfaceName (IF_NAMESIZE) */
	char ifdesc[IPFIX_STRING_MAX + 1];	/* interfaceDescription */
};

/*
 * Packets the kernel could not put in a flow (flow table full), for the RFC 7011 §4.2 record
 * (template 266). The kernel stamps no time on them: first_ms and last_ms are the epoch times of
 * the polls that first and last saw the counters grow (within a PollInterval after the packets;
 * exporter.c). 0 while there is none.
 */
struct collector_ignored {
	uint64_t packets;
	uint64_t octets;
	uint64_t first_ms;
	uint64_t last_ms;
};

/* What a data message carries, for the notSent counts of a collector that did not get it. */
struct msg_payload {
	uint64_t flows;
	uint64_t packets;
	uint64_t octets;
};

struct collector_set {
	struct collector *c[CONFIG_MAX_COLLECTORS];
	size_t n;
	struct collector_identity id;
	uint32_t exporting_process_id;
	uint64_t template_refresh_ns;
	size_t limit;			/* MaxMessageSize, or COLLECTOR_DEFAULT_MESSAGE */
	uint8_t *buf;			/* template messages are built here */
	uint8_t *slice_buf;		/* the slices of a message too big for a path */
	struct collector_ignored ignored;	/* set by the exporter at each poll */
	/* Where the streams of an earlier daemon stand: a collector created with the same address
	 * and domain continues its sequence and counters from its entry, on the same source port. */
	struct journal_collector resume[CONFIG_MAX_COLLECTORS];
	uint32_t n_resume;
	/* What each collector gets from a batch sent without a journal. */
	struct journal_collector plan[CONFIG_MAX_COLLECTORS];
	struct sendtrace *trace;	/* collector sockets are watched by it (NULL: untraced) */
};

/* Finished data messages to send to every collector, with what each carries. */
struct collector_batch {
	uint32_t n;
	struct ipfix_msg *msgs;
	const struct msg_payload *payloads;
};

struct journal;
struct sendtrace;

/* An empty set; -ENOMEM. */
int collector_set_init(struct collector_set *set);
void collector_set_free(struct collector_set *set);

/*
 * Make the set match cfg (IpFixCollectors, TemplateRefresh, MaxMessageSize; Enabled false means
 * no collector at all) and id (the Observation Domain: cfg's ObservationDomainId is the caller's
 * to resolve): collectors no longer listed are closed, new ones opened, unchanged ones keep their
 * socket, sequence number and counters (a new domain starts new streams). Every collector then
 * gets the templates before its next message (at start and after a reload). Returns 0 or
 * -ENOMEM; a collector whose socket cannot be opened yet is kept, down, and retried at each send.
 */
int collector_set_apply(struct collector_set *set, const struct config *cfg,
			const struct collector_identity *id);

/*
 * The size of the data messages to build: the smallest max_message of the collectors that have
 * a socket (the exporter builds one message for all), IPFIX_MIN_MESSAGE when none has. Each
 * collector's follows its path MTU, read again at every refresh and when a send or an ICMP error
 * says EMSGSIZE; a message that meets a path which shrank since it was built goes in slices that
 * fit (collector.c), so nothing is lost to it.
 */
size_t collector_set_message_size(const struct collector_set *set);

/*
 * Send a batch to every collector: each gets the templates first where it needs them (first
 * message, after a reload, while it is down: before every message, TemplateRefresh elapsed;
 * without data only when the refresh is due), then the batch's messages (during a recovery only
 * those it is owed), each stamped with its own sequence number and the current Export Time; a
 * message larger than a collector's path goes in slices that fit. Each collector's error queue is
 * read and its path MTU read again first. What each collector gets is planned first, then sent
 * exactly as planned, nothing after a datagram that did not leave. With jr, every plan is entered
 * in the transaction and jr is committed before the first datagram leaves (traced: send_trace
 * counts them). now_ns is CLOCK_MONOTONIC.
 */
void collector_set_transmit(struct collector_set *set, const struct collector_batch *b,
			    struct journal *jr, uint64_t now_ns, bool traced);
/* Every collector's stream as it stands now, into the transaction's entries (before finishing). */
void collector_set_record(const struct collector_set *set, struct journal *jr);
/* Read every collector's error queue: the refusals since the last look; probes that settled. */
void collector_set_drain(struct collector_set *set, uint64_t now_ns);
/* Whether some collector's templates are due (timer, or needed and not down). */
bool collector_set_refresh_due(const struct collector_set *set, uint64_t now_ns);
/* Make every collector's templates due now (the last word at a stop). */
void collector_set_force_refresh(struct collector_set *set);
/* The collector of a journal entry (same address, port and domain); NULL when none. */
struct collector *collector_set_find(const struct collector_set *set,
				     const struct journal_collector *e);

/* One message to every collector, without a journal (collector_set_transmit of a batch of one). */
void collector_set_send(struct collector_set *set, struct ipfix_msg *msg,
			const struct msg_payload *payload, uint64_t now_ns);

/*
 * Read every collector's error queue (the refusals since the last look; a down collector whose
 * probe settled is back), then send the templates to every collector that needs them and is not
 * down, or whose TemplateRefresh has elapsed. Without a journal.
 */
void collector_set_refresh(struct collector_set *set, uint64_t now_ns);

/* Send the templates and statistics records to every collector now (the last word at a stop). */
void collector_set_send_statistics(struct collector_set *set, uint64_t now_ns);

/*
 * Earliest CLOCK_MONOTONIC time collector_set_refresh() has work: templates due, or the probe of a
 * down collector settled. UINT64_MAX when there is none.
 */
uint64_t collector_set_next_refresh(const struct collector_set *set);

/* Sum of the counters of every collector. */
void collector_set_totals(const struct collector_set *set, struct collector_counters *out);

#endif /* FLOWMETA_COLLECTOR_H */
