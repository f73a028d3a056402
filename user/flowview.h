/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The flow table for people: `flowmeta flows` and `flowmeta top` read the pinned flow map into an
 * array, sort it and print it, one aligned line a flow (ICMP types by name) or one JSON object a
 * flow (raw numeric fields, names as extra fields).
 */
#ifndef FLOWMETA_FLOWVIEW_H
#define FLOWMETA_FLOWVIEW_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdio.h>

#include "clock.h"
#include "flowmeta.h"

struct flowview_flow {
	struct flow_key key;
	struct flow_value v;	/* per-CPU values folded */
};

struct flowview_table {
	struct flowview_flow *flows;
	size_t n, cap;
};

enum flowview_sort {
	FLOWVIEW_SORT_NONE = 0,	/* map order */
	FLOWVIEW_SORT_PACKETS,	/* most packets first */
	FLOWVIEW_SORT_OCTETS,	/* most octets first */
	FLOWVIEW_SORT_LAST,	/* most recently seen first */
};

/* "packets", "octets", "last" -> *by; -EINVAL for anything else. */
int flowview_parse_sort(const char *name, enum flowview_sort *by);

/*
 * Empty t, then read every flow of the `flows` map and of the `drop_flows` map (-1: none, as
 * pinned by 0.1.0, whose drop flows are in `flows`) into it. 0 or a negative errno.
 */
int flowview_read(int flows_fd, int drop_flows_fd, struct flowview_table *t);
void flowview_free(struct flowview_table *t);

/* Sort t (descending; ties by the other counts, then by key, so the order is stable). */
void flowview_sort(struct flowview_table *t, enum flowview_sort by);

/* The `flows` table: a header line, then one line a flow, columns as wide as their content. */
void flowview_print(FILE *out, const struct flowview_flow *flows, size_t n);

/*
 * The JSON object of a flow: direction, ip_version, protocol, src, dst, src_port, dst_port (the
 * key's raw values), packets, octets, tcp_flags, end_flags, verdict, first_seen_ms and
 * last_seen_ms (epoch ms through now); ICMP flows add icmp_type, icmp_code and icmp (the name).
 */
json_object *flowview_json(const struct flowview_flow *f, const struct fm_time *now);

/* The port columns of a flow: its ports, or "-" where the protocol has none (ICMP included). */
void flowview_ports(const struct flow_key *key, char sport[8], char dport[8]);
/* Widen the address columns, *src_w and *dst_w characters, to fit the addresses of key. */
void flowview_widen(const struct flow_key *key, int *src_w, int *dst_w);
/* The protocol column: its name ("tcp", "icmpv6"), or its number. */
const char *flowview_protocol(const struct flow_key *key, char buf[8]);
/* The ICMP column: the type and code of an ICMP or ICMPv6 flow by name, "" for other flows. */
const char *flowview_icmp(const struct flow_key *key, char *buf, size_t len);

#endif /* FLOWMETA_FLOWVIEW_H */
