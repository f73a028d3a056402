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

#include "config.h"
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

struct collector {
	struct collector_addr addr;
	int fd;				/* -1 until a socket could be opened and connected */
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
	uint32_t observation_domain_id;
	uint32_t exporting_process_id;
	uint64_t template_refresh_ns;
	size_t max_message;
	uint8_t *buf;			/* template messages are built here */
	/* Packets the kernel could not meter (flow table full): part of every notSent report. */
	uint64_t kernel_not_sent_packets;
	uint64_t kernel_not_sent_octets;
};

/* An empty set; -ENOMEM. */
int collector_set_init(struct collector_set *set);
void collector_set_free(struct collector_set *set);

/*
 * Make the set match cfg (IpFixCollectors, ObservationDomainId, TemplateRefresh, MaxMessageSize;
 * Enabled false means no collector at all): collectors no longer listed are closed, new ones
 * opened, unchanged ones keep their socket, sequence number and counters. Every collector then gets
 * the templates before its next message (at start and after a reload). Returns 0 or -ENOMEM; a
 * collector whose socket cannot be opened yet is kept, down, and retried at each send.
 */
int collector_set_apply(struct collector_set *set, const struct config *cfg);

/*
 * Send a finished-or-open data message to every collector, each with its own sequence number and
 * the current Export Time, preceded by the templates where a collector needs them (first message,
 * after a reload, while it is down, or TemplateRefresh elapsed). Each collector's error queue is
 * read before each message. now_ns is CLOCK_MONOTONIC.
 */
void collector_set_send(struct collector_set *set, struct ipfix_msg *msg,
			const struct msg_payload *payload, uint64_t now_ns);

/*
 * Read every collector's error queue (the refusals since the last look; a down collector whose
 * probe settled is back), then send the templates to every collector that needs them and is not
 * down, or whose TemplateRefresh has elapsed. Call it at every poll and tick.
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
