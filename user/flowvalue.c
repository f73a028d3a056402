// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Folding per-CPU flow values and stats, and naming flow key fields. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "flowvalue.h"
#include "sizing.h"

bool flow_value_fold(const struct flow_value *percpu, int ncpus, struct flow_value *out)
{
	bool seen = false;

	*out = (struct flow_value){ 0 };
	for (int cpu = 0; cpu < ncpus; cpu++) {
		const struct flow_value *v = &percpu[cpu];

		if (!v->packets)
			continue;
		out->packets += v->packets;
		out->octets += v->octets;
		out->tcp_flags |= v->tcp_flags;
		out->end_flags |= v->end_flags;
		if (!seen || v->first_seen_jiffies < out->first_seen_jiffies)
			out->first_seen_jiffies = v->first_seen_jiffies;
		if (v->last_seen_jiffies > out->last_seen_jiffies)
			out->last_seen_jiffies = v->last_seen_jiffies;
		seen = true;
	}
	return seen;
}

int flow_map_for_each(int map_fd, flow_visit_fn visit, void *ctx)
{
	int ncpus = libbpf_num_possible_cpus();
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	if (ncpus < 0)
		return ncpus;
	if (bpf_obj_get_info_by_fd(map_fd, &info, &len))
		return -errno;
	return flow_map_for_each_batch(map_fd,
				       sizing_batch_keys(SIZING_BATCH_BYTES,
							 &flow_table_shapes[FLOW_TABLE_FLOWS],
							 (unsigned int)ncpus, info.max_entries),
				       visit, ctx);
}

int flow_map_for_each_batch(int map_fd, uint32_t chunk, flow_visit_fn visit, void *ctx)
{
	int ncpus = libbpf_num_possible_cpus();
	struct flow_value *values = NULL, sum;
	struct flow_key *keys = NULL;
	__u32 in = 0, out = 0;
	bool first = true;
	int err;

	if (ncpus < 0)
		return ncpus;
	for (;;) {
		__u32 count = chunk;

		if (!keys) {
			keys = calloc(chunk, sizeof(*keys));
			values = calloc((size_t)chunk * ncpus, sizeof(*values));
			if (!keys || !values) {
				err = -ENOMEM;
				break;
			}
		}
		err = bpf_map_lookup_batch(map_fd, first ? NULL : &in, &out, keys, values, &count,
					   NULL);
		if (err == -ENOSPC && !count) {
			/* One bucket holds more flows than a chunk: retry with a bigger one. */
			chunk *= 2;
			free(keys);
			free(values);
			keys = NULL;
			continue;
		}
		if (err && err != -ENOENT)
			break;
		for (__u32 i = 0; i < count; i++)
			if (flow_value_fold(&values[(size_t)i * ncpus], ncpus, &sum))
				visit(&keys[i], &sum, ctx);
		if (err == -ENOENT) {
			err = 0;
			break;
		}
		in = out;
		first = false;
	}
	free(keys);
	free(values);
	return err;
}

void flowmeta_stats_fold(const struct flowmeta_stats *percpu, int ncpus, struct flowmeta_stats *out)
{
	/* Every field is a __u64 counter: fold them as an array so new counters need no change here. */
	const size_t n = sizeof(*out) / sizeof(__u64);
	__u64 *sum = (__u64 *)out;

	*out = (struct flowmeta_stats){ 0 };
	for (int cpu = 0; cpu < ncpus; cpu++) {
		const __u64 *v = (const __u64 *)&percpu[cpu];

		for (size_t i = 0; i < n; i++)
			sum[i] += v[i];
	}
}

const char *ip_protocol_name(unsigned int protocol)
{
	switch (protocol) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	case IPPROTO_SCTP:
		return "sctp";
	case IPPROTO_UDPLITE:
		return "udplite";
	case IPPROTO_GRE:
		return "gre";
	case IPPROTO_ESP:
		return "esp";
	default:
		return NULL;
	}
}

const char *flow_direction_name(unsigned int direction)
{
	return direction == FLOW_DIR_EGRESS ? "egress" : "ingress";
}

const char *flow_verdict_name(unsigned int verdict)
{
	switch (verdict) {
	case FLOW_VERDICT_FORWARDED:
		return "forwarded";
	case FLOW_VERDICT_ACL_DENY:
		return "acl-deny";
	case FLOW_VERDICT_UNTRUSTED:
		return "untrusted";
	default:
		return "unknown";
	}
}

/* A type's name and, where it has them, the names of its codes (index = code). */
struct icmp_type_name {
	unsigned char type;
	const char *name;
	const char *const *codes;
	unsigned int n_codes;
};

#define CODES(...)                                                                                 \
	(const char *const[]){ __VA_ARGS__ },                                                      \
		sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *)

/* IANA's ICMP type numbers, the names iptables and nftables use where they have one. */
static const struct icmp_type_name icmp4_types[] = {
	{ 0, "echo-reply", NULL, 0 },
	{ 3, "dest-unreachable",
	  CODES("net-unreachable", "host-unreachable", "protocol-unreachable", "port-unreachable",
		"frag-needed", "source-route-failed", "net-unknown", "host-unknown",
		"source-host-isolated", "net-prohibited", "host-prohibited", "net-tos-unreachable",
		"host-tos-unreachable", "admin-prohibited", "host-precedence-violation",
		"precedence-cutoff") },
	{ 4, "source-quench", NULL, 0 },
	{ 5, "redirect",
	  CODES("net-redirect", "host-redirect", "net-tos-redirect", "host-tos-redirect") },
	{ 8, "echo-request", NULL, 0 },
	{ 9, "router-advertisement", NULL, 0 },
	{ 10, "router-solicitation", NULL, 0 },
	{ 11, "time-exceeded", CODES("ttl-exceeded", "reassembly-time-exceeded") },
	{ 12, "parameter-problem", CODES("pointer-error", "option-missing", "bad-length") },
	{ 13, "timestamp-request", NULL, 0 },
	{ 14, "timestamp-reply", NULL, 0 },
	{ 15, "info-request", NULL, 0 },
	{ 16, "info-reply", NULL, 0 },
	{ 17, "address-mask-request", NULL, 0 },
	{ 18, "address-mask-reply", NULL, 0 },
	{ 42, "extended-echo-request", NULL, 0 },
	{ 43, "extended-echo-reply", NULL, 0 },
};

/* IANA's ICMPv6 type numbers (RFC 4443, 4861, 3810 and the neighbour discovery extensions). */
static const struct icmp_type_name icmp6_types[] = {
	{ 1, "dest-unreachable",
	  CODES("no-route", "admin-prohibited", "beyond-scope", "addr-unreachable",
		"port-unreachable", "policy-fail", "reject-route", "srh-error") },
	{ 2, "packet-too-big", NULL, 0 },
	{ 3, "time-exceeded", CODES("hop-limit-exceeded", "reassembly-time-exceeded") },
	{ 4, "parameter-problem",
	  CODES("bad-header-field", "unknown-next-header", "unknown-option",
		"incomplete-header-chain") },
	{ 128, "echo-request", NULL, 0 },
	{ 129, "echo-reply", NULL, 0 },
	{ 130, "mld-query", NULL, 0 },
	{ 131, "mld-report", NULL, 0 },
	{ 132, "mld-done", NULL, 0 },
	{ 133, "router-solicitation", NULL, 0 },
	{ 134, "router-advertisement", NULL, 0 },
	{ 135, "neighbor-solicitation", NULL, 0 },
	{ 136, "neighbor-advertisement", NULL, 0 },
	{ 137, "redirect", NULL, 0 },
	{ 138, "router-renumbering", NULL, 0 },
	{ 139, "node-info-query", NULL, 0 },
	{ 140, "node-info-response", NULL, 0 },
	{ 141, "inverse-nd-solicitation", NULL, 0 },
	{ 142, "inverse-nd-advertisement", NULL, 0 },
	{ 143, "mld2-report", NULL, 0 },
	{ 144, "home-agent-request", NULL, 0 },
	{ 145, "home-agent-reply", NULL, 0 },
	{ 146, "mobile-prefix-solicitation", NULL, 0 },
	{ 147, "mobile-prefix-advertisement", NULL, 0 },
	{ 148, "cert-path-solicitation", NULL, 0 },
	{ 149, "cert-path-advertisement", NULL, 0 },
	{ 151, "multicast-router-advertisement", NULL, 0 },
	{ 152, "multicast-router-solicitation", NULL, 0 },
	{ 153, "multicast-router-termination", NULL, 0 },
	{ 160, "extended-echo-request", NULL, 0 },
	{ 161, "extended-echo-reply", NULL, 0 },
};

const char *icmp_type_code_name(unsigned int protocol, unsigned int type, unsigned int code,
				char *buf, size_t len)
{
	const struct icmp_type_name *table = protocol == IPPROTO_ICMPV6 ? icmp6_types : icmp4_types;
	size_t n = protocol == IPPROTO_ICMPV6 ? sizeof(icmp6_types) / sizeof(icmp6_types[0]) :
						sizeof(icmp4_types) / sizeof(icmp4_types[0]);

	for (size_t i = 0; i < n; i++) {
		const struct icmp_type_name *t = &table[i];

		if (t->type != type)
			continue;
		if (code < t->n_codes && t->codes[code])
			snprintf(buf, len, "%s/%s", t->name, t->codes[code]);
		else if (code || t->n_codes)
			snprintf(buf, len, "%s/%u", t->name, code);
		else
			snprintf(buf, len, "%s", t->name);
		return buf;
	}
	snprintf(buf, len, "%u/%u", type, code);
	return buf;
}

const char *flow_addr_format(const __u8 addr[16], unsigned int ip_version, char *buf, size_t len)
{
	if (!inet_ntop(ip_version == 6 ? AF_INET6 : AF_INET, addr, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

const char *flow_key_format(const struct flow_key *key, char *buf, size_t len)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], proto_num[8], icmp[ICMP_NAME_LEN];
	const char *proto = ip_protocol_name(key->protocol);
	const char *dir = flow_direction_name(key->direction);

	flow_addr_format(key->src_addr, key->ip_version, src, sizeof(src));
	flow_addr_format(key->dst_addr, key->ip_version, dst, sizeof(dst));
	if (!proto) {
		snprintf(proto_num, sizeof(proto_num), "%u", key->protocol);
		proto = proto_num;
	}
	if (key->protocol == IPPROTO_ICMP || key->protocol == IPPROTO_ICMPV6)
		snprintf(buf, len, "%s %s %s -> %s %s", dir, proto, src, dst,
			 icmp_type_code_name(key->protocol, key->dst_port >> 8, key->dst_port & 0xff,
					     icmp, sizeof(icmp)));
	else if (key->src_port || key->dst_port)
		snprintf(buf, len, key->ip_version == 6 ? "%s %s [%s]:%u -> [%s]:%u" :
			 "%s %s %s:%u -> %s:%u", dir, proto, src, key->src_port, dst, key->dst_port);
	else
		snprintf(buf, len, "%s %s %s -> %s", dir, proto, src, dst);
	return buf;
}
