/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Reading the per-CPU flow map: folding one key's per-CPU values into one, and naming key fields
 * for humans (CLI output, logs). Shared by the exporter and the `flows`/`status` commands.
 */
#ifndef FLOWMETA_FLOWVALUE_H
#define FLOWMETA_FLOWVALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flowmeta.h"

/* Longest text flow_key_format() writes, with its NUL. */
#define FLOW_KEY_TEXT_LEN 192

/*
 * Fold ncpus per-CPU values (as bpf_map_lookup_elem returns them) into one: packets, octets and flags
 * summed/ORed, earliest first_seen_jiffies and latest last_seen_jiffies of the CPUs that saw a packet.
 * Returns false when no CPU saw a packet.
 */
bool flow_value_fold(const struct flow_value *percpu, int ncpus, struct flow_value *out);

typedef void (*flow_visit_fn)(const struct flow_key *key, const struct flow_value *sum, void *ctx);

/*
 * Visit every flow of a `flows` map with its per-CPU values folded, read with batch lookups: unlike
 * a get_next_key walk, the batch cursor (a bucket index) is not reset when the daemon deletes the
 * flow just read, so no flow is visited twice. Returns 0 or a negative errno.
 */
int flow_map_for_each(int map_fd, flow_visit_fn visit, void *ctx);
/*
 * The same with batch reads of `chunk` keys to begin with (flow_map_for_each: SIZING_BATCH_BYTES of
 * keys and values); a hash bucket holding more keys than that doubles it.
 */
int flow_map_for_each_batch(int map_fd, uint32_t chunk, flow_visit_fn visit, void *ctx);

/* The same for the per-CPU stats counters: every field summed. */
void flowmeta_stats_fold(const struct flowmeta_stats *percpu, int ncpus, struct flowmeta_stats *out);

/* "tcp", "udp", "icmp", "icmpv6", "sctp", "udplite", ... or NULL for other protocol numbers. */
const char *ip_protocol_name(unsigned int protocol);
const char *flow_direction_name(unsigned int direction);
const char *flow_verdict_name(unsigned int verdict);
/*
 * ICMP (protocol 1) or ICMPv6 (58) type and code for humans: "echo-request",
 * "dest-unreachable/port-unreachable", "time-exceeded/reassembly-time-exceeded"; a code without
 * a name is a number ("dest-unreachable/99", "echo-request/1": code 0 is left out where the type
 * has no codes), an unknown type is "TYPE/CODE" ("200/3"). Longest text, with its NUL:
 * ICMP_NAME_LEN.
 */
#define ICMP_NAME_LEN 64
const char *icmp_type_code_name(unsigned int protocol, unsigned int type, unsigned int code,
				char *buf, size_t len);
/* inet_ntop of a key address for its IP version. */
const char *flow_addr_format(const __u8 addr[16], unsigned int ip_version, char *buf, size_t len);
/*
 * "egress tcp 100.64.0.1:40000 -> 100.64.0.2:22"
 * (ICMP: "egress icmp 100.64.0.1 -> 100.64.0.2 echo-request").
 */
const char *flow_key_format(const struct flow_key *key, char *buf, size_t len);

#endif /* FLOWMETA_FLOWVALUE_H */
