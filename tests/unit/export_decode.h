/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Test-only IPFIX receiver for the collector and exporter tests: a UDP socket on loopback, and a
 * small decoder that learns templates from the Template and Options Template Sets it receives (as a
 * real collector does) and decodes data records with them. Data for a template not yet received is
 * counted as an error, so a test sees an exporter that sends data before its templates; so is a
 * Data Set whose length is not a whole number of records (none of its records is decoded).
 * Variable-length fields (RFC 7011 §7) are read with their length octets.
 * Loopback delivers a datagram into the receive queue before send() returns, so draining right
 * after the exporter's call gets everything it sent.
 */
#ifndef FLOWMETA_EXPORT_DECODE_H
#define FLOWMETA_EXPORT_DECODE_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"

#define DEC_MAX_FIELDS	32
#define DEC_MAX_TMPL	512

struct dec_record {
	uint16_t template_id;
	uint32_t msg_index;		/* which received message carried it */
	uint64_t start_ms, end_ms, octets, packets;
	uint8_t src[16], dst[16];
	uint16_t src_port, dst_port, icmp_type_code;
	uint8_t protocol, direction, end_reason, forwarding_status, tcp_flags;
	uint32_t ingress_if, egress_if;
	/* options data records */
	uint64_t odid, exported_messages, exported_flows, exported_octets;
	uint64_t epid, not_sent_flows, not_sent_packets, not_sent_octets;
	uint64_t ignored_packets, ignored_octets;
	uint64_t obs_ms[2];		/* observationTimeMilliseconds, first and second in the record */
	uint32_t n_obs;
	char ifname[256], ifdesc[256];	/* interfaceName, interfaceDescription */
	uint64_t sampling_interval, sampling_algorithm, packet_interval, packet_space;
	uint64_t selector_algorithm;
	uint8_t exporter_addr[16];	/* exporterIPv4Address (first 4 bytes) or IPv6Address */
	uint8_t exporter_version;	/* 4, 6; 0: none */
};

struct dec_msg {
	uint16_t length;
	uint32_t export_time, sequence, odid;
	uint32_t template_records;	/* in Template Sets */
	uint32_t options_template_records;
	uint32_t data_records;		/* flow and options data records */
	uint32_t first_record;		/* index in dec->records */
};

struct decoder {
	int fd;
	struct {
		bool known;
		uint16_t n, scope;
		uint16_t ie[DEC_MAX_FIELDS], len[DEC_MAX_FIELDS];
	} tmpl[DEC_MAX_TMPL];
	struct dec_msg msgs[4096];
	uint32_t n_msgs;
	struct dec_record *records;
	size_t n_records, cap_records;
	uint32_t errors;		/* malformed, or data before its template */
};

/* A receiver bound to ADDR:port (IPv4 or IPv6 numeric); the decoder state starts empty. */
static inline struct decoder *dec_open(const char *addr, uint16_t port)
{
	struct decoder *d = calloc(1, sizeof(*d));
	struct sockaddr_storage ss = { 0 };
	int big = 16 << 20;
	socklen_t len;

	if (!d)
		return NULL;
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (void *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &s6->sin6_addr);
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (void *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		inet_pton(AF_INET, addr, &s4->sin_addr);
		len = sizeof(*s4);
	}
	d->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->fd < 0 || bind(d->fd, (void *)&ss, len) < 0) {
		if (d->fd >= 0)
			close(d->fd);
		free(d);
		return NULL;
	}
	/* Root may exceed rmem_max: a 1000-record test must not lose datagrams in the queue. */
	if (setsockopt(d->fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)))
		setsockopt(d->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	return d;
}

static inline void dec_close(struct decoder *d)
{
	if (!d)
		return;
	close(d->fd);
	free(d->records);
	free(d);
}

/* Forget what was received (templates stay known, as at a real collector). */
static inline void dec_reset(struct decoder *d)
{
	d->n_msgs = 0;
	d->n_records = 0;
	d->errors = 0;
}

static inline uint64_t dec_uint(const uint8_t *p, uint16_t len)
{
	uint64_t v = 0;

	for (uint16_t i = 0; i < len; i++)
		v = v << 8 | p[i];
	return v;
}

static inline void dec_string(char *dst, const uint8_t *p, uint16_t len)
{
	memcpy(dst, p, len < 255 ? len : 255);
	dst[len < 255 ? len : 255] = '\0';
}

static inline void dec_field(struct dec_record *r, uint16_t ie, const uint8_t *p, uint16_t len)
{
	uint64_t v = len <= 8 ? dec_uint(p, len) : 0;

	switch (ie) {
	case 82: dec_string(r->ifname, p, len); break;
	case 83: dec_string(r->ifdesc, p, len); break;
	case 164: r->ignored_packets = v; break;
	case 165: r->ignored_octets = v; break;
	case 323: if (r->n_obs < 2) r->obs_ms[r->n_obs++] = v; break;
	case 34: r->sampling_interval = v; break;
	case 35: r->sampling_algorithm = v; break;
	case 305: r->packet_interval = v; break;
	case 306: r->packet_space = v; break;
	case 304: r->selector_algorithm = v; break;
	case 130: memcpy(r->exporter_addr, p, 4); r->exporter_version = 4; break;
	case 131: memcpy(r->exporter_addr, p, 16); r->exporter_version = 6; break;
	case 152: r->start_ms = v; break;
	case 153: r->end_ms = v; break;
	case 1: r->octets = v; break;
	case 2: r->packets = v; break;
	case 8: memcpy(r->src, p, 4); break;
	case 12: memcpy(r->dst, p, 4); break;
	case 27: memcpy(r->src, p, 16); break;
	case 28: memcpy(r->dst, p, 16); break;
	case 7: r->src_port = (uint16_t)v; break;
	case 11: r->dst_port = (uint16_t)v; break;
	case 32: case 139: r->icmp_type_code = (uint16_t)v; break;
	case 4: r->protocol = (uint8_t)v; break;
	case 6: r->tcp_flags = (uint8_t)v; break;
	case 61: r->direction = (uint8_t)v; break;
	case 136: r->end_reason = (uint8_t)v; break;
	case 89: r->forwarding_status = (uint8_t)v; break;
	case 10: r->ingress_if = (uint32_t)v; break;
	case 14: r->egress_if = (uint32_t)v; break;
	case 149: r->odid = v; break;
	case 41: r->exported_messages = v; break;
	case 42: r->exported_flows = v; break;
	case 40: r->exported_octets = v; break;
	case 144: r->epid = v; break;
	case 166: r->not_sent_flows = v; break;
	case 167: r->not_sent_packets = v; break;
	case 168: r->not_sent_octets = v; break;
	default: break;
	}
}

static inline void dec_templates(struct decoder *d, struct dec_msg *m, const uint8_t *p,
				 const uint8_t *end, bool options)
{
	while (end - p >= 4) {
		uint16_t id = (uint16_t)dec_uint(p, 2), n = (uint16_t)dec_uint(p + 2, 2), scope = 0;

		p += 4;
		if (options) {
			scope = (uint16_t)dec_uint(p, 2);
			p += 2;
		}
		if (id < 256 || id >= DEC_MAX_TMPL || n > DEC_MAX_FIELDS || end - p < 4 * n) {
			d->errors++;
			return;
		}
		d->tmpl[id].known = true;
		d->tmpl[id].n = n;
		d->tmpl[id].scope = scope;
		for (uint16_t i = 0; i < n; i++, p += 4) {
			d->tmpl[id].ie[i] = (uint16_t)dec_uint(p, 2);
			d->tmpl[id].len[i] = (uint16_t)dec_uint(p + 2, 2);
		}
		if (options)
			m->options_template_records++;
		else
			m->template_records++;
	}
}

/*
 * Octets of the record at p (at most end - p) of template id, its variable-length fields read
 * from their length octets; 0 when it overruns end.
 */
static inline size_t dec_record_len(const struct decoder *d, uint16_t id, const uint8_t *p,
				    const uint8_t *end)
{
	size_t len = 0;

	for (uint16_t i = 0; i < d->tmpl[id].n; i++) {
		size_t f = d->tmpl[id].len[i];

		if (f == 65535) {
			if (p + len >= end)
				return 0;
			f = p[len] < 255 ? (size_t)1 + p[len]
					 : (end - p - len >= 3 ? 3 + dec_uint(p + len + 1, 2) : 0);
			if (!f)
				return 0;
		}
		len += f;
		if ((size_t)(end - p) < len)
			return 0;
	}
	return len;
}

static inline void dec_data(struct decoder *d, struct dec_msg *m, uint16_t id, const uint8_t *p,
			    const uint8_t *end)
{
	if (id >= DEC_MAX_TMPL || !d->tmpl[id].known) {
		d->errors++;
		return;
	}
	/*
	 * flowmeta never pads a set (RFC 7011 §3.3.1 allows it, shorter than a record): bytes left
	 * after the last whole record mean a set length that does not add up.
	 */
	for (const uint8_t *q = p; q < end;) {
		size_t len = dec_record_len(d, id, q, end);

		if (!len) {
			d->errors++;
			return;
		}
		q += len;
	}
	while (p < end) {
		struct dec_record *r;

		if (d->n_records == d->cap_records) {
			d->cap_records = d->cap_records ? d->cap_records * 2 : 1024;
			d->records = realloc(d->records, d->cap_records * sizeof(*r));
		}
		r = &d->records[d->n_records++];
		memset(r, 0, sizeof(*r));
		r->template_id = id;
		r->msg_index = d->n_msgs;
		for (uint16_t i = 0; i < d->tmpl[id].n; i++) {
			uint16_t len = d->tmpl[id].len[i];

			if (len == 65535) {
				len = *p < 255 ? *p : (uint16_t)dec_uint(p + 1, 2);
				p += *p < 255 ? 1 : 3;
			}
			dec_field(r, d->tmpl[id].ie[i], p, len);
			p += len;
		}
		m->data_records++;
	}
}

static inline void dec_message(struct decoder *d, const uint8_t *buf, size_t len)
{
	struct dec_msg *m = &d->msgs[d->n_msgs];
	const uint8_t *p = buf + 16, *end = buf + len;

	if (len < 16 || dec_uint(buf, 2) != 10 || dec_uint(buf + 2, 2) != len ||
	    d->n_msgs == sizeof(d->msgs) / sizeof(d->msgs[0])) {
		d->errors++;
		return;
	}
	memset(m, 0, sizeof(*m));
	m->length = (uint16_t)len;
	m->export_time = (uint32_t)dec_uint(buf + 4, 4);
	m->sequence = (uint32_t)dec_uint(buf + 8, 4);
	m->odid = (uint32_t)dec_uint(buf + 12, 4);
	m->first_record = (uint32_t)d->n_records;
	while (end - p >= 4) {
		uint16_t set_id = (uint16_t)dec_uint(p, 2), set_len = (uint16_t)dec_uint(p + 2, 2);

		if (set_len < 4 || set_len > end - p) {
			d->errors++;
			break;
		}
		if (set_id == 2 || set_id == 3)
			dec_templates(d, m, p + 4, p + set_len, set_id == 3);
		else
			dec_data(d, m, set_id, p + 4, p + set_len);
		p += set_len;
	}
	d->n_msgs++;
}

/* Receive and decode every datagram waiting; returns how many. */
static inline int dec_drain(struct decoder *d)
{
	static uint8_t buf[65536];
	int n = 0;

	for (;;) {
		ssize_t len = recv(d->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (len < 0)
			return n;
		dec_message(d, buf, (size_t)len);
		n++;
	}
}

/* Flow data records received (options data records left out). */
static inline size_t dec_flow_records(const struct decoder *d)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n_records; i++)
		n += d->records[i].template_id < 264;
	return n;
}

/* The last options data record of template id (264..271), or NULL. */
static inline const struct dec_record *dec_last_options(const struct decoder *d, uint16_t id)
{
	for (size_t i = d->n_records; i-- > 0;)
		if (d->records[i].template_id == id)
			return &d->records[i];
	return NULL;
}

/* Fill a collector_addr for "Udp/ADDR:port" without the config module. */
static inline void dec_collector_addr(struct collector_addr *c, const char *addr, uint16_t port)
{
	memset(c, 0, sizeof(*c));
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (void *)&c->addr;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &s6->sin6_addr);
		c->addr_len = sizeof(*s6);
		snprintf(c->spec, sizeof(c->spec), "Udp/[%s]:%u", addr, port);
	} else {
		struct sockaddr_in *s4 = (void *)&c->addr;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		inet_pton(AF_INET, addr, &s4->sin_addr);
		c->addr_len = sizeof(*s4);
		snprintf(c->spec, sizeof(c->spec), "Udp/%s:%u", addr, port);
	}
}

/* The daemon's defaults (SPEC §3), without a collector: a case adds its receiver. */
static inline void dec_config(struct config *cfg)
{
	config_defaults(cfg);
}

static inline void dec_config_add(struct config *cfg, const char *addr, uint16_t port)
{
	dec_collector_addr(&cfg->collectors[cfg->n_collectors++], addr, port);
}

#endif /* FLOWMETA_EXPORT_DECODE_H */
