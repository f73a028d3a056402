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
 * Options templates (scope first; README lists them): 264 metering statistics, 265 exporting
 * reliability, 266 metering reliability (RFC 7011 §4.1, §4.3, §4.2), 267/268 the interface's name
 * and description scoped by ingressInterface/egressInterface, 269 the sampling in force, 270/271
 * the exporter's IPv4/IPv6 address. Records: 28, 44, 36, variable, 19, 8, 20 octets.
 * interfaceName and interfaceDescription are variable-length strings (RFC 7011 §7: one length
 * octet, at most IPFIX_STRING_MAX), so 267 and 268 records vary in size.
 *
 * Sets are never padded (RFC 7011 §3.3.1 makes padding optional): records have a fixed size (but
 * 267 and 268), and collectors read unaligned fields anyway.
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
	IPFIX_IE_samplingInterval = 34,
	IPFIX_IE_samplingAlgorithm = 35,
	IPFIX_IE_exportedOctetTotalCount = 40,
	IPFIX_IE_exportedMessageTotalCount = 41,
	IPFIX_IE_exportedFlowRecordTotalCount = 42,
	IPFIX_IE_flowDirection = 61,
	IPFIX_IE_interfaceName = 82,
	IPFIX_IE_interfaceDescription = 83,
	IPFIX_IE_forwardingStatus = 89,
	IPFIX_IE_exporterIPv4Address = 130,
	IPFIX_IE_exporterIPv6Address = 131,
	IPFIX_IE_flowEndReason = 136,
	IPFIX_IE_icmpTypeCodeIPv6 = 139,
	IPFIX_IE_exportingProcessId = 144,
	IPFIX_IE_observationDomainId = 149,
	IPFIX_IE_flowStartMilliseconds = 152,
	IPFIX_IE_flowEndMilliseconds = 153,
	IPFIX_IE_ignoredPacketTotalCount = 164,
	IPFIX_IE_ignoredOctetTotalCount = 165,
	IPFIX_IE_notSentFlowTotalCount = 166,
	IPFIX_IE_notSentPacketTotalCount = 167,
	IPFIX_IE_notSentOctetTotalCount = 168,
	IPFIX_IE_selectorAlgorithm = 304,
	IPFIX_IE_samplingPacketInterval = 305,
	IPFIX_IE_samplingPacketSpace = 306,
	IPFIX_IE_observationTimeMilliseconds = 323,
};

/* A field length in a template that means "variable length" (RFC 7011 §3.2). */
#define IPFIX_VARLEN	65535

/* selectorAlgorithm 1, samplingAlgorithm 1: what "every packet" is called in each registry. */
#define IPFIX_SELECTOR_SYSTEMATIC_COUNT	1
#define IPFIX_SAMPLING_DETERMINISTIC	1

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
	F(observationTimeMilliseconds, 8),	/* first flow not sent */
	F(observationTimeMilliseconds, 8),	/* last flow not sent */
};
static const struct ipfix_field fields_metering_reliability[] = {
	F(observationDomainId, 4),
	F(ignoredPacketTotalCount, 8),
	F(ignoredOctetTotalCount, 8),
	F(observationTimeMilliseconds, 8),	/* first packet ignored */
	F(observationTimeMilliseconds, 8),	/* last packet ignored */
};
static const struct ipfix_field fields_ingress_interface[] = {
	F(ingressInterface, 4),
	F(interfaceName, IPFIX_VARLEN),
	F(interfaceDescription, IPFIX_VARLEN),
};
static const struct ipfix_field fields_egress_interface[] = {
	F(egressInterface, 4),
	F(interfaceName, IPFIX_VARLEN),
	F(interfaceDescription, IPFIX_VARLEN),
};
static const struct ipfix_field fields_sampling[] = {
	F(observationDomainId, 4),
	F(samplingInterval, 4),
	F(samplingAlgorithm, 1),
	F(samplingPacketInterval, 4),
	F(samplingPacketSpace, 4),
	F(selectorAlgorithm, 2),
};
static const struct ipfix_field fields_exporter_ipv4[] = {
	F(exportingProcessId, 4),
	F(exporterIPv4Address, 4),
};
static const struct ipfix_field fields_exporter_ipv6[] = {
	F(exportingProcessId, 4),
	F(exporterIPv6Address, 16),
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

/* Indexed by template ID - IPFIX_TMPL_METERING_STATS; every one with one scope field. */
static const struct ipfix_template options_templates[IPFIX_OPTIONS_TEMPLATES] = {
	TEMPLATE(IPFIX_TMPL_METERING_STATS, fields_metering_stats, 1),
	TEMPLATE(IPFIX_TMPL_EXPORTING_STATS, fields_exporting_stats, 1),
	TEMPLATE(IPFIX_TMPL_METERING_RELIABILITY, fields_metering_reliability, 1),
	TEMPLATE(IPFIX_TMPL_INGRESS_INTERFACE, fields_ingress_interface, 1),
	TEMPLATE(IPFIX_TMPL_EGRESS_INTERFACE, fields_egress_interface, 1),
	TEMPLATE(IPFIX_TMPL_SAMPLING, fields_sampling, 1),
	TEMPLATE(IPFIX_TMPL_EXPORTER_IPV4, fields_exporter_ipv4, 1),
	TEMPLATE(IPFIX_TMPL_EXPORTER_IPV6, fields_exporter_ipv6, 1),
};
/* clang-format on */

static const struct ipfix_template *options_template(uint16_t id)
{
	unsigned int i = (unsigned int)id - IPFIX_TMPL_METERING_STATS;	/* wraps below 264 */

	return i < IPFIX_OPTIONS_TEMPLATES ? &options_templates[i] : NULL;
}

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

/* 0 for a template with a variable-length field. */
static inline size_t data_record_len(const struct ipfix_template *t)
{
	size_t len = 0;

#pragma GCC unroll 16
	for (unsigned int i = 0; i < t->field_count; i++) {
		if (t->fields[i].len == IPFIX_VARLEN)
			return 0;
		len += t->fields[i].len;
	}
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

static const struct ipfix_template *flow_template(uint16_t id)
{
	for (size_t i = 0; i < FLOW_TEMPLATES; i++)
		if (flow_templates[i].id == id)
			return &flow_templates[i];
	return NULL;
}

size_t ipfix_record_len(uint16_t template_id)
{
	const struct ipfix_template *t = flow_template(template_id);

	if (!t)
		t = options_template(template_id);
	return t ? data_record_len(t) : 0;
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
	/* Each in its own set (pmacct mis-parses two in one); all or none, so a retry in the next
	 * message does not repeat one. */
	size_t need = 0;

	for (size_t i = 0; i < IPFIX_OPTIONS_TEMPLATES; i++)
		need += IPFIX_SET_HEADER_LEN + template_record_len(&options_templates[i]);
	if (need > msg->cap - msg->len)
		return -ENOSPC;
	for (size_t i = 0; i < IPFIX_OPTIONS_TEMPLATES; i++) {
		const struct ipfix_template *t = &options_templates[i];

		put_template_record(msg_reserve(msg, IPFIX_SET_ID_OPTIONS_TEMPLATE,
						template_record_len(t), true),
				    t);
	}
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

/* The value of one field of an options record: an unsigned integer, or bytes (addresses, and
 * the strings of variable-length fields). */
struct opt_value {
	uint64_t num;
	const void *bytes;		/* NULL: num */
	size_t len;			/* of bytes */
};

#define NUM(v)		{ .num = (v) }
#define BYTES(p, n)	{ .bytes = (p), .len = (n) }

/* Octets of s that go on the wire: at most IPFIX_STRING_MAX, not cutting a UTF-8 character. */
static size_t string_len(const char *s)
{
	size_t len = s ? strlen(s) : 0;

	if (len <= IPFIX_STRING_MAX)
		return len;
	len = IPFIX_STRING_MAX;
	while (len && ((uint8_t)s[len] & 0xc0) == 0x80)	/* s[len] continues a character */
		len--;
	return len;
}

static size_t opt_field_len(const struct ipfix_field *f, const struct opt_value *v)
{
	return f->len == IPFIX_VARLEN ? 1 + v->len : f->len;
}

/* An options data record in a set of its own template; values[i] is the value of fields[i]. */
static int add_options_record(struct ipfix_msg *msg, uint16_t template_id,
			      const struct opt_value *values)
{
	const struct ipfix_template *t = options_template(template_id);
	size_t len = 0;
	uint8_t *p;

	for (unsigned int i = 0; i < t->field_count; i++)
		len += opt_field_len(&t->fields[i], &values[i]);
	p = msg_reserve(msg, t->id, len, false);
	if (!p)
		return -ENOSPC;
	for (unsigned int i = 0; i < t->field_count; i++) {
		const struct ipfix_field *f = &t->fields[i];
		const struct opt_value *v = &values[i];

		if (f->len == IPFIX_VARLEN)
			*p++ = (uint8_t)v->len;	/* < 255: the short form (RFC 7011 §7) */
		if (v->bytes)
			memcpy(p, v->bytes, v->len);
		else
			put_uint(p, v->num, f->len);
		p += opt_field_len(f, v) - (f->len == IPFIX_VARLEN);
	}
	msg->data_records++;
	return 0;
}

int ipfix_msg_add_metering_stats(struct ipfix_msg *msg, const struct ipfix_metering_stats *s)
{
	const struct opt_value values[] = {	/* in the order of fields_metering_stats */
		NUM(s->observation_domain_id),
		NUM(s->exported_messages),
		NUM(s->exported_flow_records),
		NUM(s->exported_octets),
	};

	return add_options_record(msg, IPFIX_TMPL_METERING_STATS, values);
}

int ipfix_msg_add_exporting_stats(struct ipfix_msg *msg, const struct ipfix_exporting_stats *s)
{
	const struct opt_value values[] = {	/* in the order of fields_exporting_stats */
		NUM(s->exporting_process_id),
		NUM(s->not_sent_flows),
		NUM(s->not_sent_packets),
		NUM(s->not_sent_octets),
		NUM(s->first_not_sent_ms),
		NUM(s->last_not_sent_ms),
	};

	return add_options_record(msg, IPFIX_TMPL_EXPORTING_STATS, values);
}

int ipfix_msg_add_metering_reliability(struct ipfix_msg *msg,
				       const struct ipfix_metering_reliability *r)
{
	const struct opt_value values[] = {	/* in the order of fields_metering_reliability */
		NUM(r->observation_domain_id),
		NUM(r->ignored_packets),
		NUM(r->ignored_octets),
		NUM(r->first_ignored_ms),
		NUM(r->last_ignored_ms),
	};

	return add_options_record(msg, IPFIX_TMPL_METERING_RELIABILITY, values);
}

int ipfix_msg_add_interface(struct ipfix_msg *msg, const struct ipfix_interface *ifc, bool egress)
{
	const struct opt_value values[] = {	/* fields_ingress_interface, fields_egress_interface */
		NUM(ifc->ifindex),
		BYTES(ifc->name, string_len(ifc->name)),
		BYTES(ifc->description, string_len(ifc->description)),
	};

	return add_options_record(msg, egress ? IPFIX_TMPL_EGRESS_INTERFACE
					      : IPFIX_TMPL_INGRESS_INTERFACE,
				  values);
}

int ipfix_msg_add_unsampled(struct ipfix_msg *msg, uint32_t observation_domain_id)
{
	const struct opt_value values[] = {	/* in the order of fields_sampling */
		NUM(observation_domain_id),
		NUM(1),				/* samplingInterval: every packet */
		NUM(IPFIX_SAMPLING_DETERMINISTIC),
		NUM(1),				/* samplingPacketInterval: 1 selected, */
		NUM(0),				/* samplingPacketSpace: 0 skipped */
		NUM(IPFIX_SELECTOR_SYSTEMATIC_COUNT),
	};

	return add_options_record(msg, IPFIX_TMPL_SAMPLING, values);
}

int ipfix_msg_add_exporter_addr(struct ipfix_msg *msg, const struct ipfix_exporter_addr *a)
{
	const struct opt_value values[] = {	/* fields_exporter_ipv4, fields_exporter_ipv6 */
		NUM(a->exporting_process_id),
		BYTES(a->addr, a->ip_version == 4 ? 4 : 16),
	};

	if (a->ip_version != 4 && a->ip_version != 6)
		return -EINVAL;
	return add_options_record(msg, a->ip_version == 4 ? IPFIX_TMPL_EXPORTER_IPV4
							  : IPFIX_TMPL_EXPORTER_IPV6,
				  values);
}

/* ---- slicing --------------------------------------------------------------------------------- */

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return be64toh(v);
}

/* Offset of the first field ie in a record of t; -1 when t has none. */
static long field_offset(const struct ipfix_template *t, uint16_t ie)
{
	long off = 0;

	for (unsigned int i = 0; i < t->field_count; off += t->fields[i++].len)
		if (t->fields[i].ie == ie)
			return off;
	return -1;
}

int ipfix_msg_slice(const uint8_t *src, size_t len, struct ipfix_cursor *cur,
		    struct ipfix_msg *dst, struct ipfix_flow_sums *sums)
{
	int copied = 0;

	if (!cur->set)
		cur->set = IPFIX_HEADER_LEN;
	while (cur->set + IPFIX_SET_HEADER_LEN <= len) {
		const uint8_t *set = src + cur->set;
		uint16_t id = get_be16(set), set_len = get_be16(set + 2);
		const struct ipfix_template *flow = flow_template(id);
		size_t rec_len = ipfix_record_len(id), body = set_len - IPFIX_SET_HEADER_LEN;

		if (set_len < IPFIX_SET_HEADER_LEN || cur->set + set_len > len || !rec_len ||
		    body % rec_len)
			return -EINVAL;
		while (cur->record < body) {
			const uint8_t *rec = set + IPFIX_SET_HEADER_LEN + cur->record;
			uint8_t *p = msg_reserve(dst, id, rec_len, false);

			if (!p)
				return copied;
			memcpy(p, rec, rec_len);
			dst->data_records++;
			cur->record += rec_len;
			copied++;
			if (flow && sums) {
				sums->flows++;
				sums->packets += get_be64(rec + field_offset(flow,
								IPFIX_IE_packetDeltaCount));
				sums->octets += get_be64(rec + field_offset(flow,
								IPFIX_IE_octetDeltaCount));
			}
		}
		cur->set += set_len;
		cur->record = 0;
	}
	return copied;
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
