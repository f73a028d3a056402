/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Collectors: one connected, non-blocking UDP socket per IpFixCollectors entry, each with its own
 * IPFIX sequence number, template timer and counters. The exporter builds a data message once and
 * hands it to collector_set_send(), which stamps and sends it to every collector, sending each one
 * its templates first when it needs them. A collector that cannot take a message never delays the
 * others: what it did not get is counted (notSent*) and reported in the RFC 7011 §4.3 options
 * record.
 */
#ifndef FLOWMETA_COLLECTOR_H
#define FLOWMETA_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "ipfix.h"

struct collector_counters {
	uint64_t messages;		/* messages sent (templates included) */
	uint64_t records;		/* data records sent, options data included: the sequence */
	uint64_t flow_records;		/* flow data records sent */
	uint64_t octets;		/* octets of the messages sent */
	uint64_t template_messages;	/* messages sent that carried the templates */
	uint64_t send_errors;		/* send() calls that failed */
	uint64_t not_sent_flows;	/* flow records this collector did not get */
	uint64_t not_sent_packets;	/* their packetDeltaCount sum */
	uint64_t not_sent_octets;	/* their octetDeltaCount sum */
};

struct collector {
	struct collector_addr addr;
	int fd;				/* -1 until a socket could be opened and connected */
	bool down;			/* a send failed; cleared when sends succeed again */
	bool last_send_ok;
	bool need_templates;		/* templates before the next message */
	uint64_t templates_due_ns;	/* CLOCK_MONOTONIC: next periodic template refresh */
	uint32_t sequence;		/* data records sent before the next message (RFC 7011) */
	struct collector_counters cnt;
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
 * after a reload, after a failure, or TemplateRefresh elapsed). now_ns is CLOCK_MONOTONIC.
 */
void collector_set_send(struct collector_set *set, struct ipfix_msg *msg,
			const struct msg_payload *payload, uint64_t now_ns);

/* Send the templates to every collector that needs them or whose TemplateRefresh has elapsed. */
void collector_set_refresh(struct collector_set *set, uint64_t now_ns);

/* Send the templates and statistics records to every collector now (the last word at a stop). */
void collector_set_send_statistics(struct collector_set *set, uint64_t now_ns);

/* Earliest CLOCK_MONOTONIC time a collector's templates are due; UINT64_MAX when there is none. */
uint64_t collector_set_next_refresh(const struct collector_set *set);

/* Sum of the counters of every collector. */
void collector_set_totals(const struct collector_set *set, struct collector_counters *out);

#endif /* FLOWMETA_COLLECTOR_H */
