/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The maps of the kernel programs, BTF-typed from include/flowmeta.h so that `bpftool map dump`
 * prints named fields. The loader resizes `flows`, `drop_flows` and `export_state` (MaxFlows)
 * before load and pins every map under the pin directory by its name: the names below are part of
 * the contract.
 */
#ifndef FLOWMETA_BPF_MAPS_H
#define FLOWMETA_BPF_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "flowmeta.h"

/*
 * Per-CPU values: a packet only ever writes its own CPU's copy, so the hot path needs neither
 * atomics nor locks, and two CPUs on the same flow do not share a cache line. Preallocated (the
 * default): an insert takes an element from a free list instead of calling an allocator, and a full
 * table fails the insert cleanly (-E2BIG) instead of under memory pressure.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, FLOWMETA_DEFAULT_MAX_FLOWS);
	__type(key, struct flow_key);
	__type(value, struct flow_value);
} flows SEC(".maps");

/*
 * Drop flows, the same key and value: their own capacity (flowmeta_drop_flows_capacity(), set by
 * the loader), so a flood of denied new flows fills this table and never `flows`.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, FLOWMETA_DEFAULT_MAX_FLOWS >> FLOWMETA_DROP_FLOWS_SHIFT);
	__type(key, struct flow_key);
	__type(value, struct flow_value);
} drop_flows SEC(".maps");

/* Per-CPU counters of what was not, or not fully, metered; one element, index 0. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct flowmeta_stats);
} stats SEC(".maps");

/* Hints for the daemon to export a flow soon (TCP end, policy drop); bounded, losses counted. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, FLOWMETA_EVENTS_BYTES);
} events SEC(".maps");

/*
 * Ports of recent first fragments, for the later fragments of the same datagram. LRU: entries are
 * never deleted by the programs (fragments may arrive out of order), old ones age out.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FLOWMETA_MAX_FRAGS);
	__type(key, struct frag_key);
	__type(value, struct frag_ports);
} frags SEC(".maps");

/*
 * Owned by the daemon, never touched by the programs: declared here so it is created, pinned and
 * BTF-typed together with the others and outlives a daemon restart like them.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FLOWMETA_DEFAULT_MAX_FLOWS);
	__type(key, struct flow_key);
	__type(value, struct flow_export_state);
} export_state SEC(".maps");

/* Also the daemon's: its own counters, published for `flowmeta status` (see include/flowmeta.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct daemon_status);
} daemon_status SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FLOWMETA_MAX_COLLECTORS);
	__type(key, __u32);
	__type(value, struct collector_status);
} collector_status SEC(".maps");

/*
 * The policy (bpf/policy.h, user/policy.c). `policy` holds the generation in force as its one inner
 * map, an array of one struct policy_header; empty means no policy. Replacing the inner map is the
 * one atomic step of an update, and the kernel waits for every running program before the update
 * returns (see user/policy.c).
 */
struct policy_header_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct policy_header);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct policy_header_map);
} policy SEC(".maps");

/* Peer prefixes of two generations side by side (key slot = generation & 1). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 2 * FLOWMETA_POLICY_MAX_PREFIXES);
	__uint(map_flags, BPF_F_NO_PREALLOC);	/* required of LPM tries */
	__type(key, struct policy_peer_key);
	__type(value, struct policy_peer);
} policy_peers SEC(".maps");

/* Connections a rule allowed, so their replies pass; LRU: bounded, the idlest go first. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FLOWMETA_POLICY_MAX_CONNS);
	__type(key, struct policy_conn_key);
	__type(value, struct policy_conn);
} policy_conns SEC(".maps");

/*
 * Per-CPU rate limits of the events a flood can raise at every packet (drop, table full), so that
 * it cannot fill the ring buffer.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct event_budget);
} event_budget SEC(".maps");

/*
 * The loader's: who owns the pins of the directory (include/flowmeta.h). Declared here to be
 * BTF-typed; the loader pins it first and removes it last.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pin_owner);
} flowmeta_owner SEC(".maps");

/* This CPU's counters; never NULL in practice (index 0 of a one-element array). */
static __always_inline struct flowmeta_stats *stats_this_cpu(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&stats, &zero);
}

#endif /* FLOWMETA_BPF_MAPS_H */
