/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * IPFIX (RFC 7011) message encoder. Knows the information elements and the fixed templates of
 * SPEC §5, nothing of BPF or sockets: callers fill plain structs and get bytes to send.
 *
 * A message is built in a caller-provided buffer of MaxMessageSize bytes: begin, add templates or
 * records (each add returns -ENOSPC when the record does not fit, leaving the message intact so the
 * caller can finish it, send it and start another), then finish with the header fields.
 */
#ifndef FLOWMETA_IPFIX_H
#define FLOWMETA_IPFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPFIX_VERSION		10
#define IPFIX_HEADER_LEN	16
#define IPFIX_SET_HEADER_LEN	4
/*
 * RFC 7011 §10.3.3's message size for an unknown path MTU. Every single add below fits an empty
 * message this big (the largest, the flow template set, takes 484 octets with the header; the
 * options templates 220, the largest options record, an interface one with the longest strings,
 * 295), so a sender whose messages are never smaller always makes progress. collector.c checks
 * the smallest MaxMessageSize (config.h, which stays independent of this encoder) against it.
 */
#define IPFIX_MIN_MESSAGE	512
#define IPFIX_MAX_MESSAGE	65535
#define IPFIX_SET_ID_TEMPLATE		2
#define IPFIX_SET_ID_OPTIONS_TEMPLATE	3

/* Template IDs, fixed and stable (README lists them). */
enum ipfix_template_id {
	IPFIX_TMPL_IPV4_TCP = 256,
	IPFIX_TMPL_IPV4_UDP = 257,
	IPFIX_TMPL_IPV4_ICMP = 258,
	IPFIX_TMPL_IPV4_OTHER = 259,
	IPFIX_TMPL_IPV6_TCP = 260,
	IPFIX_TMPL_IPV6_UDP = 261,
	IPFIX_TMPL_IPV6_ICMP = 262,
	IPFIX_TMPL_IPV6_OTHER = 263,
	IPFIX_TMPL_METERING_STATS = 264,	/* options: RFC 7011 §4.1 */
	IPFIX_TMPL_EXPORTING_STATS = 265,	/* options: RFC 7011 §4.3 */
	IPFIX_TMPL_METERING_RELIABILITY = 266,	/* options: RFC 7011 §4.2 */
	IPFIX_TMPL_INGRESS_INTERFACE = 267,	/* options: interface names, scope ingressInterface */
	IPFIX_TMPL_EGRESS_INTERFACE = 268,	/* options: the same, scope egressInterface */
	IPFIX_TMPL_SAMPLING = 269,		/* options: the sampling in force */
	IPFIX_TMPL_EXPORTER_IPV4 = 270,		/* options: the exporter's address */
	IPFIX_TMPL_EXPORTER_IPV6 = 271,
};
#define IPFIX_OPTIONS_TEMPLATES	8	/* 264..271 */
/* Strings (interfaceName, interfaceDescription) go in at most this many octets: one length
 * octet (RFC 7011 §7); a longer one is cut at a UTF-8 character boundary. */
#define IPFIX_STRING_MAX	254

/* flowEndReason (IE 136) values. */
enum ipfix_end_reason {
	IPFIX_END_IDLE = 1,
	IPFIX_END_ACTIVE = 2,
	IPFIX_END_DETECTED = 3,
	IPFIX_END_FORCED = 4,
	IPFIX_END_LACK_OF_RESOURCES = 5,
};

/* forwardingStatus (IE 89) values used by flowmeta. */
enum ipfix_forwarding_status {
	IPFIX_FWD_FORWARDED = 64,
	IPFIX_FWD_DROP_ACL_DENY = 129,
	IPFIX_FWD_DROP_ACL_DROP = 130,
};

/* One flow record, host byte order except the addresses. */
struct ipfix_flow {
	uint64_t start_ms;		/* flowStartMilliseconds: epoch ms */
	uint64_t end_ms;		/* flowEndMilliseconds: epoch ms */
	uint64_t octets;		/* octetDeltaCount */
	uint64_t packets;		/* packetDeltaCount */
	uint8_t src_addr[16];		/* IPv4: first 4 bytes; network byte order */
	uint8_t dst_addr[16];
	uint16_t src_port;
	uint16_t dst_port;		/* ICMP: type << 8 | code (icmpTypeCodeIPv4/IPv6) */
	uint8_t protocol;
	uint8_t ip_version;		/* 4 or 6 */
	uint8_t direction;		/* flowDirection: 0 ingress, 1 egress */
	uint8_t end_reason;		/* enum ipfix_end_reason */
	uint8_t forwarding_status;	/* enum ipfix_forwarding_status */
	uint8_t tcp_flags;
	uint32_t ingress_ifindex;	/* ingressInterface */
	uint32_t egress_ifindex;	/* egressInterface */
};

/* RFC 7011 §4.1 metering statistics (template 264), scope observationDomainId. */
struct ipfix_metering_stats {
	uint32_t observation_domain_id;
	uint64_t exported_messages;	/* exportedMessageTotalCount */
	uint64_t exported_flow_records;	/* exportedFlowRecordTotalCount */
	uint64_t exported_octets;	/* exportedOctetTotalCount */
};

/* RFC 7011 §4.3 exporting reliability statistics (template 265), scope exportingProcessId. */
struct ipfix_exporting_stats {
	uint32_t exporting_process_id;
	uint64_t not_sent_flows;	/* notSentFlowTotalCount */
	uint64_t not_sent_packets;	/* notSentPacketTotalCount */
	uint64_t not_sent_octets;	/* notSentOctetTotalCount */
	uint64_t first_not_sent_ms;	/* observationTimeMilliseconds: first flow not sent; 0 none */
	uint64_t last_not_sent_ms;	/* observationTimeMilliseconds: last flow not sent; 0 none */
};

/* RFC 7011 §4.2 metering process reliability (template 266), scope observationDomainId. */
struct ipfix_metering_reliability {
	uint32_t observation_domain_id;
	uint64_t ignored_packets;	/* ignoredPacketTotalCount */
	uint64_t ignored_octets;	/* ignoredOctetTotalCount */
	uint64_t first_ignored_ms;	/* observationTimeMilliseconds: first packet ignored; 0 none */
	uint64_t last_ignored_ms;	/* observationTimeMilliseconds: last packet ignored; 0 none */
};

/* A metered interface (templates 267 and 268). Strings are NUL-terminated UTF-8. */
struct ipfix_interface {
	uint32_t ifindex;		/* the scope: ingressInterface or egressInterface */
	const char *name;		/* interfaceName */
	const char *description;	/* interfaceDescription */
};

/* The exporter's address (templates 270 and 271), scope exportingProcessId. */
struct ipfix_exporter_addr {
	uint32_t exporting_process_id;
	uint8_t ip_version;		/* 4: exporterIPv4Address (first 4 bytes), 6: IPv6 */
	uint8_t addr[16];		/* network byte order */
};

/* Flow records of a slice (ipfix_msg_slice) and what they count. */
struct ipfix_flow_sums {
	uint64_t flows;
	uint64_t packets;
	uint64_t octets;
};

/* Where ipfix_msg_slice() goes on in its source message. Zeroed: at the first record. */
struct ipfix_cursor {
	size_t set;			/* offset of the current set; 0: the first one */
	size_t record;			/* octets of that set's records already taken */
};

struct ipfix_msg {
	uint8_t *buf;
	size_t cap;
	size_t len;
	size_t set_start;	/* offset of the open set header, 0 when none is open */
	uint16_t set_id;	/* id of the open set */
	uint32_t data_records;	/* data records (options data included) in this message */
};

/*
 * Template ID a flow record is encoded with: by ip_version and protocol (6 TCP, 17 UDP, 1 ICMP on
 * IPv4, 58 ICMPv6 on IPv6, anything else "other protocol", without ports). 0 when ip_version is
 * neither 4 nor 6.
 */
uint16_t ipfix_template_for(const struct ipfix_flow *flow);
/* Octets of one data record of a template (flow or options), 0 for an unknown ID or a template
 * whose records vary in size (267, 268: strings). */
size_t ipfix_record_len(uint16_t template_id);

/* cap must be at least IPFIX_HEADER_LEN; above IPFIX_MAX_MESSAGE, IPFIX_MAX_MESSAGE is used. */
void ipfix_msg_begin(struct ipfix_msg *msg, uint8_t *buf, size_t cap);
/* The eight flow templates in one Template Set (468 octets with its set header). */
int ipfix_msg_add_templates(struct ipfix_msg *msg);
/* The eight options templates (264..271), each in its own Options Template Set (pmacct reads
 * one a set): all or none (-ENOSPC). */
int ipfix_msg_add_options_templates(struct ipfix_msg *msg);
/* -EINVAL when ipfix_template_for() gives 0. */
int ipfix_msg_add_flow(struct ipfix_msg *msg, const struct ipfix_flow *flow);
int ipfix_msg_add_metering_stats(struct ipfix_msg *msg, const struct ipfix_metering_stats *s);
int ipfix_msg_add_exporting_stats(struct ipfix_msg *msg, const struct ipfix_exporting_stats *s);
int ipfix_msg_add_metering_reliability(struct ipfix_msg *msg,
				       const struct ipfix_metering_reliability *r);
/* Template 267 (scope ingressInterface) or, with egress, 268 (scope egressInterface). */
int ipfix_msg_add_interface(struct ipfix_msg *msg, const struct ipfix_interface *ifc, bool egress);
/*
 * Template 269: every packet is metered, in the forms collectors read: samplingPacketInterval 1,
 * samplingPacketSpace 0, selectorAlgorithm 1 (systematic count-based) and the older
 * samplingInterval 1, samplingAlgorithm 1 (deterministic).
 */
int ipfix_msg_add_unsampled(struct ipfix_msg *msg, uint32_t observation_domain_id);
/* Template 270 or 271 by a->ip_version; -EINVAL when it is neither 4 nor 6. */
int ipfix_msg_add_exporter_addr(struct ipfix_msg *msg, const struct ipfix_exporter_addr *a);

/*
 * Copy the data records of src (a finished message of len octets holding only data sets of
 * fixed-size templates, as the exporter's flow messages do) from *cur on into dst, each in a set
 * of its template, until dst is full or src ends; sums (may be NULL) adds up the flow records
 * copied. Returns the records copied, 0 once src is done, -EINVAL for a set it cannot cut (a
 * template set, a template whose records vary in size, a set length that does not add up).
 * This is how a message too big for a path that shrank goes out in smaller ones.
 */
int ipfix_msg_slice(const uint8_t *src, size_t len, struct ipfix_cursor *cur,
		    struct ipfix_msg *dst, struct ipfix_flow_sums *sums);
/*
 * Close the open set, write the header; returns the message length. Safe to call again on a
 * finished message: the collectors restamp one encoded message with their own sequence and export
 * time.
 */
size_t ipfix_msg_finish(struct ipfix_msg *msg, uint32_t export_time, uint32_t sequence,
			uint32_t observation_domain_id);
static inline int ipfix_msg_empty(const struct ipfix_msg *msg)
{
	return msg->len <= IPFIX_HEADER_LEN;
}

#endif /* FLOWMETA_IPFIX_H */
