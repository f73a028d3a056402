// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Reading, sorting and printing the flow table for `flowmeta flows` and `flowmeta top`. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "flowvalue.h"
#include "flowview.h"

int flowview_parse_sort(const char *name, enum flowview_sort *by)
{
	static const struct {
		const char *name;
		enum flowview_sort by;
	} keys[] = {
		{ "packets", FLOWVIEW_SORT_PACKETS },
		{ "octets", FLOWVIEW_SORT_OCTETS },
		{ "last", FLOWVIEW_SORT_LAST },
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(name, keys[i].name) == 0) {
			*by = keys[i].by;
			return 0;
		}
	}
	return -EINVAL;
}

struct read_ctx {
	struct flowview_table *t;
	int err;
};

static void add_flow(const struct flow_key *key, const struct flow_value *v, void *ctx)
{
	struct read_ctx *rc = ctx;
	struct flowview_table *t = rc->t;

	if (rc->err)
		return;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct flowview_flow *f = realloc(t->flows, cap * sizeof(*f));

		if (!f) {
			rc->err = -ENOMEM;
			return;
		}
		t->flows = f;
		t->cap = cap;
	}
	t->flows[t->n++] = (struct flowview_flow){ .key = *key, .v = *v };
}

int flowview_read(int flows_fd, int drop_flows_fd, struct flowview_table *t)
{
	struct read_ctx rc = { .t = t };
	int err;

	t->n = 0;
	err = flow_map_for_each(flows_fd, add_flow, &rc);
	if (!err && drop_flows_fd >= 0)
		err = flow_map_for_each(drop_flows_fd, add_flow, &rc);
	return err ? err : rc.err;
}

void flowview_free(struct flowview_table *t)
{
	free(t->flows);
	*t = (struct flowview_table){ 0 };
}

static __u64 sort_value(const struct flowview_flow *f, enum flowview_sort key)
{
	switch (key) {
	case FLOWVIEW_SORT_PACKETS:
		return f->v.packets;
	case FLOWVIEW_SORT_OCTETS:
		return f->v.octets;
	default:
		return f->v.last_seen_jiffies;
	}
}

/* qsort_r comparator; arg: the keys to compare in turn, each larger value first. */
static int compare_flows(const void *pa, const void *pb, void *arg)
{
	const struct flowview_flow *a = pa, *b = pb;
	const enum flowview_sort *keys = arg;

	for (int i = 0; i < 3; i++) {
		__u64 va = sort_value(a, keys[i]), vb = sort_value(b, keys[i]);

		if (va != vb)
			return va > vb ? -1 : 1;
	}
	return memcmp(&a->key, &b->key, sizeof(a->key));
}

void flowview_sort(struct flowview_table *t, enum flowview_sort by)
{
	/* The chosen key, then the other two: equal flows keep one order, whatever the map's. */
	static const enum flowview_sort keys[][3] = {
		[FLOWVIEW_SORT_PACKETS] = { FLOWVIEW_SORT_PACKETS, FLOWVIEW_SORT_OCTETS,
					    FLOWVIEW_SORT_LAST },
		[FLOWVIEW_SORT_OCTETS] = { FLOWVIEW_SORT_OCTETS, FLOWVIEW_SORT_PACKETS,
					   FLOWVIEW_SORT_LAST },
		[FLOWVIEW_SORT_LAST] = { FLOWVIEW_SORT_LAST, FLOWVIEW_SORT_PACKETS,
					 FLOWVIEW_SORT_OCTETS },
	};

	if (by != FLOWVIEW_SORT_NONE && t->n > 1)
		qsort_r(t->flows, t->n, sizeof(t->flows[0]), compare_flows, (void *)keys[by]);
}

static bool is_icmp(const struct flow_key *key)
{
	return key->protocol == IPPROTO_ICMP || key->protocol == IPPROTO_ICMPV6;
}

void flowview_ports(const struct flow_key *key, char sport[8], char dport[8])
{
	switch (key->protocol) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
	case IPPROTO_UDPLITE:
		snprintf(sport, 8, "%u", key->src_port);
		snprintf(dport, 8, "%u", key->dst_port);
		break;
	default:
		/* ICMP keeps type and code in dst_port: they are named in a column of their own. */
		strcpy(sport, "-");
		strcpy(dport, "-");
	}
}

static void tcp_flags_text(unsigned int flags, char *buf)
{
	static const char names[] = "FSRPAUEC";
	char *p = buf;

	for (int i = 0; i < 8; i++)
		if (flags & (1u << i))
			*p++ = names[i];
	if (p == buf)
		*p++ = '-';
	*p = '\0';
}

void flowview_widen(const struct flow_key *key, int *src_w, int *dst_w)
{
	char a[INET6_ADDRSTRLEN];
	int len;

	len = (int)strlen(flow_addr_format(key->src_addr, key->ip_version, a, sizeof(a)));
	*src_w = len > *src_w ? len : *src_w;
	len = (int)strlen(flow_addr_format(key->dst_addr, key->ip_version, a, sizeof(a)));
	*dst_w = len > *dst_w ? len : *dst_w;
}

const char *flowview_protocol(const struct flow_key *key, char buf[8])
{
	const char *name = ip_protocol_name(key->protocol);

	if (name)
		return name;
	snprintf(buf, 8, "%u", key->protocol);
	return buf;
}

const char *flowview_icmp(const struct flow_key *key, char *buf, size_t len)
{
	if (is_icmp(key))
		return icmp_type_code_name(key->protocol, key->dst_port >> 8, key->dst_port & 0xff,
					   buf, len);
	snprintf(buf, len, "%s", "");
	return buf;
}

/* Remove the padding a line's last columns left when they were empty. */
static void trim_right(char *s)
{
	size_t n = strlen(s);

	while (n && s[n - 1] == ' ')
		s[--n] = '\0';
}

void flowview_print(FILE *out, const struct flowview_flow *flows, size_t n)
{
	int src_w = 3, dst_w = 3;	/* "SRC", "DST" */
	char line[512];

	for (size_t i = 0; i < n; i++)
		flowview_widen(&flows[i].key, &src_w, &dst_w);
	fprintf(out, "%-7s %-7s %-*s %5s %-*s %5s %10s %12s %-8s %-9s %s\n", "DIR", "PROTO", src_w,
		"SRC", "SPORT", dst_w, "DST", "DPORT", "PACKETS", "OCTETS", "FLAGS", "VERDICT",
		"ICMP");
	for (size_t i = 0; i < n; i++) {
		const struct flow_key *key = &flows[i].key;
		const struct flow_value *v = &flows[i].v;
		char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], sport[8], dport[8], proto[8];
		char flags[9], icmp[ICMP_NAME_LEN];

		flow_addr_format(key->src_addr, key->ip_version, src, sizeof(src));
		flow_addr_format(key->dst_addr, key->ip_version, dst, sizeof(dst));
		flowview_ports(key, sport, dport);
		tcp_flags_text(v->tcp_flags, flags);
		flowview_icmp(key, icmp, sizeof(icmp));
		snprintf(line, sizeof(line),
			 "%-7s %-7s %-*s %5s %-*s %5s %10llu %12llu %-8s %-9s %s",
			 flow_direction_name(key->direction), flowview_protocol(key, proto),
			 src_w, src, sport, dst_w, dst, dport, (unsigned long long)v->packets,
			 (unsigned long long)v->octets, flags, flow_verdict_name(key->verdict),
			 icmp);
		trim_right(line);
		fprintf(out, "%s\n", line);
	}
}

json_object *flowview_json(const struct flowview_flow *f, const struct fm_time *now)
{
	const struct flow_key *key = &f->key;
	const struct flow_value *v = &f->v;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	json_object *o = json_object_new_object();

	flow_addr_format(key->src_addr, key->ip_version, src, sizeof(src));
	flow_addr_format(key->dst_addr, key->ip_version, dst, sizeof(dst));
	json_object_object_add(o, "direction",
			       json_object_new_string(flow_direction_name(key->direction)));
	json_object_object_add(o, "ip_version", json_object_new_int(key->ip_version));
	json_object_object_add(o, "protocol", json_object_new_int(key->protocol));
	json_object_object_add(o, "src", json_object_new_string(src));
	json_object_object_add(o, "dst", json_object_new_string(dst));
	json_object_object_add(o, "src_port", json_object_new_int(key->src_port));
	json_object_object_add(o, "dst_port", json_object_new_int(key->dst_port));
	if (is_icmp(key)) {
		char name[ICMP_NAME_LEN];

		json_object_object_add(o, "icmp_type", json_object_new_int(key->dst_port >> 8));
		json_object_object_add(o, "icmp_code", json_object_new_int(key->dst_port & 0xff));
		flowview_icmp(key, name, sizeof(name));
		json_object_object_add(o, "icmp", json_object_new_string(name));
	}
	json_object_object_add(o, "packets", json_object_new_uint64(v->packets));
	json_object_object_add(o, "octets", json_object_new_uint64(v->octets));
	json_object_object_add(o, "tcp_flags", json_object_new_int(v->tcp_flags));
	json_object_object_add(o, "end_flags", json_object_new_int(v->end_flags));
	json_object_object_add(o, "verdict",
			       json_object_new_string(flow_verdict_name(key->verdict)));
	json_object_object_add(o, "first_seen_ms",
			       json_object_new_uint64(fm_jiffies_epoch_ms(now, v->first_seen_jiffies)));
	json_object_object_add(o, "last_seen_ms",
			       json_object_new_uint64(fm_jiffies_epoch_ms(now, v->last_seen_jiffies)));
	return o;
}
