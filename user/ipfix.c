// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * IPFIX (RFC 7011) message encoder: the information elements flowmeta exports, its templates as
 * tables of (IE, length), and the message builder that writes template sets and data records from
 * those tables.
 *
 * Field order of the eight flow templates (SPEC §5), the same for all of them; [..] only where the
 * template has it:
 *
 *   flowStartMilliseconds 152 (8)      flowEndMilliseconds 153 (8)
 *   octetDeltaCount 1 (8)              packetDeltaCount 2 (8)
 *   sourceIPv4Address 8 (4)      | sourceIPv6Address 27 (16)
 *   destinationIPv4Address 12 (4) | destinationIPv6Address 28 (16)
 *   [TCP, UDP: sourceTransportPort 7 (2), destinationTransportPort 11 (2)]
 *   [ICMP: icmpTypeCodeIPv4 32 (2) | ICMPv6: icmpTypeCodeIPv6 139 (2)]
 *   protocolIdentifier 4 (1)
 *   [TCP: tcpControlBits 6 (1, reduced size)]
 *   flowDirection 61 (1)  flowEndReason 136 (1)  forwardingStatus 89 (1, reduced size)
 *   ingressInterface 10 (4)  egressInterface 14 (4)
 *
 * Record sizes: IPv4 TCP 57, UDP 56, ICMP 54, other 52; IPv6 TCP 81, UDP 80, ICMP 78, other 76.
 *
 * Sets are never padded (RFC 7011 §3.3.1 makes padding optional): records have a fixed size, and
 * collectors read unaligned fields anyway.
 */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "ipfix.h"

/* IANA IPFIX Information Element identifiers (RFC 7012 registry), named as IANA names them. */
enum ipfix_ie {
	IPFIX_IE_octetDeltaCount = 1,
	IPFIX_IE_packetDeltaCount = 2,
	IPFIX_IE_protocolIdentifier = 4,
	IPFIX_IE_tcpControlBits = 6,
	IPFIX_IE_sourceTransportPort = 7,
	IPFIX_IE_sourceIPv4Address = 8,
	IPFIX_IE_ingressInterface = 10,
	IPFIX_IE_destinationTransportPort = 11,
	IPFIX_IE_destinationIPv4Address = 12,
	IPFIX_IE_egressInterface = 14,
	IPFIX_IE_sourceIPv6Address = 27,
	IPFIX_IE_destinationIPv6Address = 28,
	IPFIX_IE_icmpTypeCodeIPv4 = 32,
	IPFIX_IE_exportedOctetTotalCount = 40,
	IPFIX_IE_exportedMessageTotalCount = 41,
	IPFIX_IE_exportedFlowRecordTotalCount = 42,
	IPFIX_IE_flowDirection = 61,
	IPFIX_IE_forwardingStatus = 89,
	IPFIX_IE_flowEndReason = 136,
	IPFIX_IE_icmpTypeCodeIPv6 = 139,
	IPFIX_IE_exportingProcessId = 144,
	IPFIX_IE_observationDomainId = 149,
	IPFIX_IE_flowStartMilliseconds = 152,
	IPFIX_IE_flowEndMilliseconds = 153,
	IPFIX_IE_notSentFlowTotalCount = 166,
	IPFIX_IE_notSentPacketTotalCount = 167,
	IPFIX_IE_notSentOctetTotalCount = 168,
};

struct ipfix_field {
	uint16_t ie;
	uint16_t len;	/* octets on the wire; below the IE's type size: reduced-size encoding */
};

struct ipfix_template {
	uint16_t id;
	uint16_t field_count;
	uint16_t scope_count;	/* options templates only: the first scope_count fields are scope */
	const struct ipfix_field *fields;
};

/* clang-format off */
#define F(name, len) { IPFIX_IE_##name, (len) }

#define FLOW_HEAD(src, dst, addr_len)                                                              \
	F(flowStartMilliseconds, 8), F(flowEndMilliseconds, 8), F(octetDeltaCount, 8),             \
		F(packetDeltaCount, 8), F(src, addr_len), F(dst, addr_len)
#define FLOW_V4_HEAD FLOW_HEAD(sourceIPv4Address, destinationIPv4Address, 4)
#define FLOW_V6_HEAD FLOW_HEAD(sourceIPv6Address, destinationIPv6Address, 16)
#define FLOW_PORTS   F(sourceTransportPort, 2), F(destinationTransportPort, 2)
#define FLOW_TAIL                                                                                  \
	F(flowDirection, 1), F(flowEndReason, 1), F(forwardingStatus, 1), F(ingressInterface, 4),  \
		F(egressInterface, 4)

static const struct ipfix_field fields_ipv4_tcp[] = {
	FLOW_V4_HEAD, FLOW_PORTS, F(protocolIdentifier, 1), F(tcpControlBits, 1), FLOW_TAIL,
};
static const struct ipfix_field fields_ipv4_udp[] = {
	FLOW_V4_HEAD, FLOW_PORTS, F(protocolIdentifier, 1), FLOW_TAIL,
};
static const struct ipfix_field fields_ipv4_icmp[] = {
	FLOW_V4_HEAD, F(icmpTypeCodeIPv4, 2), F(protocolIdentifier, 1), FLOW_TAIL,
};
static const struct ipfix_field fields_ipv4_other[] = {
	FLOW_V4_HEAD, F(protocolIdentifier, 1), FLOW_TAIL,
};
static const struct ipfix_field fields_ipv6_tcp[] = {
	FLOW_V6_HEAD, FLOW_PORTS, F(protocolIdentifier, 1), F(tcpControlBits, 1), FLOW_TAIL,
};
static const struct ipfix_field fields_ipv6_udp[] = {
	FLOW_V6_HEAD, FLOW_PORTS, F(protocolIdentifier, 1), FLOW_TAIL,
};
static const struct ipfix_field fields_ipv6_icmp[] = {
	FLOW_V6_HEAD, F(icmpTypeCodeIPv6, 2), F(protocolIdentifier, 1), FLOW_TAIL,
};
static const struct ipfix_field fields_ipv6_other[] = {
	FLOW_V6_HEAD, F(protocolIdentifier, 1), FLOW_TAIL,
};
static const struct ipfix_field fields_metering_stats[] = {
	F(observationDomainId, 4),
	F(exportedMessageTotalCount, 8),
	F(exportedFlowRecordTotalCount, 8),
	F(exportedOctetTotalCount, 8),
};
static const struct ipfix_field fields_exporting_stats[] = {
	F(exportingProcessId, 4),
	F(notSentFlowTotalCount, 8),
	F(notSentPacketTotalCount, 8),
	F(notSentOctetTotalCount, 8),
};

#define TEMPLATE(tid, f, scope) { (tid), sizeof(f) / sizeof((f)[0]), (scope), (f) }

/* Indexed by ipfix_template_index(): IPv6 adds 4; TCP 0, UDP 1, ICMP 2, other 3. */
static const struct ipfix_template flow_templates[] = {
	TEMPLATE(IPFIX_TMPL_IPV4_TCP, fields_ipv4_tcp, 0),
	TEMPLATE(IPFIX_TMPL_IPV4_UDP, fields_ipv4_udp, 0),
	TEMPLATE(IPFIX_TMPL_IPV4_ICMP, fields_ipv4_icmp, 0),
	TEMPLATE(IPFIX_TMPL_IPV4_OTHER, fields_ipv4_other, 0),
	TEMPLATE(IPFIX_TMPL_IPV6_TCP, fields_ipv6_tcp, 0),
	TEMPLATE(IPFIX_TMPL_IPV6_UDP, fields_ipv6_udp, 0),
	TEMPLATE(IPFIX_TMPL_IPV6_ICMP, fields_ipv6_icmp, 0),
	TEMPLATE(IPFIX_TMPL_IPV6_OTHER, fields_ipv6_other, 0),
};
#define FLOW_TEMPLATES (sizeof(flow_templates) / sizeof(flow_templates[0]))

static const struct ipfix_template metering_stats_template =
	TEMPLATE(IPFIX_TMPL_METERING_STATS, fields_metering_stats, 1);
static const struct ipfix_template exporting_stats_template =
	TEMPLATE(IPFIX_TMPL_EXPORTING_STATS, fields_exporting_stats, 1);
/* clang-format on */

static inline void put_be16(uint8_t *p, uint16_t v)
{
	v = htobe16(v);
	memcpy(p, &v, sizeof(v));
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, sizeof(v));
}

static inline void put_be64(uint8_t *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, sizeof(v));
}

/* An unsigned integer in len octets, network order; len below 8 is reduced-size (RFC 7011 §6.2). */
static inline void put_uint(uint8_t *p, uint64_t v, uint16_t len)
{
	switch (len) {
	case 1:
		*p = (uint8_t)v;
		break;
	case 2:
		put_be16(p, (uint16_t)v);
		break;
	case 4:
		put_be32(p, (uint32_t)v);
		break;
	default:
		put_be64(p, v);
		break;
	}
}

static inline size_t data_record_len(const struct ipfix_template *t)
{
	size_t len = 0;

#pragma GCC unroll 16
	for (unsigned int i = 0; i < t->field_count; i++)
		len += t->fields[i].len;
	return len;
}

static size_t template_record_len(const struct ipfix_template *t)
{
	/* Template ID, Field Count, [Scope Field Count], then IE id and length per field. */
	return (t->scope_count ? 6 : 4) + 4 * (size_t)t->field_count;
}

static inline int ipfix_template_index(const struct ipfix_flow *flow)
{
	int base;

	if (flow->ip_version == 4)
		base = 0;
	else if (flow->ip_version == 6)
		base = 4;
	else
		return -1;

	switch (flow->protocol) {
	case 6:
		return base;
	case 17:
		return base + 1;
	case 1:
		return flow->ip_version == 4 ? base + 2 : base + 3;
	case 58:
		return flow->ip_version == 6 ? base + 2 : base + 3;
	default:
		return base + 3;
	}
}

uint16_t ipfix_template_for(const struct ipfix_flow *flow)
{
	int idx = ipfix_template_index(flow);

	return idx < 0 ? 0 : flow_templates[idx].id;
}

size_t ipfix_record_len(uint16_t template_id)
{
	for (size_t i = 0; i < FLOW_TEMPLATES; i++)
		if (flow_templates[i].id == template_id)
			return data_record_len(&flow_templates[i]);
	if (template_id == IPFIX_TMPL_METERING_STATS)
		return data_record_len(&metering_stats_template);
	if (template_id == IPFIX_TMPL_EXPORTING_STATS)
		return data_record_len(&exporting_stats_template);
	return 0;
}

void ipfix_msg_begin(struct ipfix_msg *msg, uint8_t *buf, size_t cap)
{
	msg->buf = buf;
	/* The header's Length field is 16 bits: a larger buffer cannot be used whole. */
	msg->cap = cap > IPFIX_MAX_MESSAGE ? IPFIX_MAX_MESSAGE : cap;
	msg->len = IPFIX_HEADER_LEN;
	msg->set_start = 0;
	msg->set_id = 0;
	msg->data_records = 0;
}

static void msg_close_set(struct ipfix_msg *msg)
{
	if (!msg->set_start)
		return;
	put_be16(msg->buf + msg->set_start + 2, (uint16_t)(msg->len - msg->set_start));
	msg->set_start = 0;
	msg->set_id = 0;
}

/*
 * Room for len octets in a set with set_id: in the open set when it has that id (unless own_set),
 * after a new set header otherwise. NULL, with the message untouched, when that would exceed cap.
 */
static inline uint8_t *msg_reserve(struct ipfix_msg *msg, uint16_t set_id, size_t len, bool own_set)
{
	bool append = msg->set_start && msg->set_id == set_id && !own_set;
	size_t need = len + (append ? 0 : IPFIX_SET_HEADER_LEN);
	uint8_t *p;

	if (need > msg->cap - msg->len)
		return NULL;
	if (!append) {
		msg_close_set(msg);
		msg->set_start = msg->len;
		msg->set_id = set_id;
		put_be16(msg->buf + msg->len, set_id);
		msg->len += IPFIX_SET_HEADER_LEN;
	}
	p = msg->buf + msg->len;
	msg->len += len;
	return p;
}

static uint8_t *put_template_record(uint8_t *p, const struct ipfix_template *t)
{
	put_be16(p, t->id);
	put_be16(p + 2, t->field_count);
	p += 4;
	if (t->scope_count) {
		put_be16(p, t->scope_count);
		p += 2;
	}
	for (unsigned int i = 0; i < t->field_count; i++, p += 4) {
		put_be16(p, t->fields[i].ie);
		put_be16(p + 2, t->fields[i].len);
	}
	return p;
}

int ipfix_msg_add_templates(struct ipfix_msg *msg)
{
	size_t len = 0;
	uint8_t *p;

	for (size_t i = 0; i < FLOW_TEMPLATES; i++)
		len += template_record_len(&flow_templates[i]);
	p = msg_reserve(msg, IPFIX_SET_ID_TEMPLATE, len, false);
	if (!p)
		return -ENOSPC;
	for (size_t i = 0; i < FLOW_TEMPLATES; i++)
		p = put_template_record(p, &flow_templates[i]);
	return 0;
}

int ipfix_msg_add_options_templates(struct ipfix_msg *msg)
{
	/* Each in its own set (pmacct mis-parses two in one); both or neither, so a retry in the
	 * next message does not repeat one. */
	static const struct ipfix_template *const opts[] = {
		&metering_stats_template,
		&exporting_stats_template,
	};
	size_t need = 0;

	for (size_t i = 0; i < 2; i++)
		need += IPFIX_SET_HEADER_LEN + template_record_len(opts[i]);
	if (need > msg->cap - msg->len)
		return -ENOSPC;
	for (size_t i = 0; i < 2; i++)
		put_template_record(msg_reserve(msg, IPFIX_SET_ID_OPTIONS_TEMPLATE,
						template_record_len(opts[i]), true),
				    opts[i]);
	return 0;
}

/* The value of one field of a flow record. Addresses are copied as given (IPv4: first 4 bytes). */
static inline __attribute__((always_inline)) uint8_t *
put_flow_field(uint8_t *p, const struct ipfix_field *f, const struct ipfix_flow *flow)
{
	uint64_t v;

	switch (f->ie) {
	case IPFIX_IE_sourceIPv4Address:
	case IPFIX_IE_sourceIPv6Address:
		memcpy(p, flow->src_addr, f->len);
		return p + f->len;
	case IPFIX_IE_destinationIPv4Address:
	case IPFIX_IE_destinationIPv6Address:
		memcpy(p, flow->dst_addr, f->len);
		return p + f->len;
	case IPFIX_IE_flowStartMilliseconds:
		v = flow->start_ms;
		break;
	case IPFIX_IE_flowEndMilliseconds:
		v = flow->end_ms;
		break;
	case IPFIX_IE_octetDeltaCount:
		v = flow->octets;
		break;
	case IPFIX_IE_packetDeltaCount:
		v = flow->packets;
		break;
	case IPFIX_IE_sourceTransportPort:
		v = flow->src_port;
		break;
	case IPFIX_IE_destinationTransportPort:
	case IPFIX_IE_icmpTypeCodeIPv4:
	case IPFIX_IE_icmpTypeCodeIPv6:
		v = flow->dst_port;
		break;
	case IPFIX_IE_protocolIdentifier:
		v = flow->protocol;
		break;
	case IPFIX_IE_tcpControlBits:
		v = flow->tcp_flags;
		break;
	case IPFIX_IE_flowDirection:
		v = flow->direction;
		break;
	case IPFIX_IE_flowEndReason:
		v = flow->end_reason;
		break;
	case IPFIX_IE_forwardingStatus:
		v = flow->forwarding_status;
		break;
	case IPFIX_IE_ingressInterface:
		v = flow->ingress_ifindex;
		break;
	case IPFIX_IE_egressInterface:
		v = flow->egress_ifindex;
		break;
	default:
		v = 0;	/* not reached: the flow templates list only the IEs above */
		break;
	}
	put_uint(p, v, f->len);
	return p + f->len;
}

/*
 * Always inlined with a constant template, so the compiler unrolls the field loop and folds the
 * switch: each template gets a straight-line writer generated from its table.
 */
static inline __attribute__((always_inline)) int
add_flow_as(struct ipfix_msg *msg, const struct ipfix_template *t, const struct ipfix_flow *flow)
{
	uint8_t *p = msg_reserve(msg, t->id, data_record_len(t), false);

	if (!p)
		return -ENOSPC;
#pragma GCC unroll 16
	for (unsigned int i = 0; i < t->field_count; i++)
		p = put_flow_field(p, &t->fields[i], flow);
	msg->data_records++;
	return 0;
}

int ipfix_msg_add_flow(struct ipfix_msg *msg, const struct ipfix_flow *flow)
{
	switch (ipfix_template_index(flow)) {
	case 0:
		return add_flow_as(msg, &flow_templates[0], flow);
	case 1:
		return add_flow_as(msg, &flow_templates[1], flow);
	case 2:
		return add_flow_as(msg, &flow_templates[2], flow);
	case 3:
		return add_flow_as(msg, &flow_templates[3], flow);
	case 4:
		return add_flow_as(msg, &flow_templates[4], flow);
	case 5:
		return add_flow_as(msg, &flow_templates[5], flow);
	case 6:
		return add_flow_as(msg, &flow_templates[6], flow);
	case 7:
		return add_flow_as(msg, &flow_templates[7], flow);
	default:
		return -EINVAL;
	}
}

/* An options data record; values[i] is the value of t->fields[i]. */
static int add_options_record(struct ipfix_msg *msg, const struct ipfix_template *t,
			      const uint64_t *values)
{
	uint8_t *p = msg_reserve(msg, t->id, data_record_len(t), false);

	if (!p)
		return -ENOSPC;
	for (unsigned int i = 0; i < t->field_count; i++) {
		put_uint(p, values[i], t->fields[i].len);
		p += t->fields[i].len;
	}
	msg->data_records++;
	return 0;
}

int ipfix_msg_add_metering_stats(struct ipfix_msg *msg, const struct ipfix_metering_stats *s)
{
	const uint64_t values[] = {	/* in the order of fields_metering_stats */
		s->observation_domain_id,
		s->exported_messages,
		s->exported_flow_records,
		s->exported_octets,
	};

	return add_options_record(msg, &metering_stats_template, values);
}

int ipfix_msg_add_exporting_stats(struct ipfix_msg *msg, const struct ipfix_exporting_stats *s)
{
	const uint64_t values[] = {	/* in the order of fields_exporting_stats */
		s->exporting_process_id,
		s->not_sent_flows,
		s->not_sent_packets,
		s->not_sent_octets,
	};

	return add_options_record(msg, &exporting_stats_template, values);
}

size_t ipfix_msg_finish(struct ipfix_msg *msg, uint32_t export_time, uint32_t sequence,
			uint32_t observation_domain_id)
{
	msg_close_set(msg);
	put_be16(msg->buf, IPFIX_VERSION);
	put_be16(msg->buf + 2, (uint16_t)msg->len);
	put_be32(msg->buf + 4, export_time);
	put_be32(msg->buf + 8, sequence);
	put_be32(msg->buf + 12, observation_domain_id);
	return msg->len;
}
