/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Metering one parsed packet: finish the key (direction, fragment ports, verdict), add the packet
 * to this CPU's copy of its flow in the `flows` map (creating the flow if needed), signal TCP flow
 * ends through the ring buffer, and count in `stats` whatever could not be metered.
 */
#ifndef FLOWMETA_BPF_FLOW_H
#define FLOWMETA_BPF_FLOW_H

#include <linux/errno.h>

#include "events.h"
#include "frag.h"
#include "maps.h"
#include "parse.h"
#include "policy.h"

#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_RST 0x04

#ifndef likely
#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

/*
 * The time stamped on flows: CLOCK_MONOTONIC at tick resolution (bpf_ktime_get_coarse_ns, what
 * clock_gettime(CLOCK_MONOTONIC_COARSE) reads). bpf_ktime_get_ns() reads the clocksource on every
 * call, through an indirect call and a serialised rdtsc: measured at 33 ns here, more than the
 * whole rest of the per-packet budget (SPEC §9: 45 ns including the 20 ns of the test harness); the
 * coarse clock costs 3 ns. Flow times are exported in milliseconds; a tick (4 ms at HZ=250) is the
 * price. Same clock base as CLOCK_MONOTONIC, so the daemon converts them unchanged.
 */
static __always_inline __u64 flow_clock_ns(void)
{
	return bpf_ktime_get_coarse_ns();
}

/* What one packet adds to its flow. */
struct flow_delta {
	__u64 packets;		/* segments of a GSO skb, else 1 */
	__u64 octets;
	__u64 now;
	__u8 tcp_flags;
};

static __always_inline __u8 tcp_end_flags(__u8 tcp_flags)
{
	return (tcp_flags & TCP_FLAG_FIN ? FLOW_END_FIN : 0) |
	       (tcp_flags & TCP_FLAG_RST ? FLOW_END_RST : 0);
}

/*
 * Add a packet to this CPU's copy of an existing flow. The copy may be all zero when the flow was
 * created on another CPU: its first packet here starts this CPU's first_seen_ns. Only the first FIN
 * or RST of the flow on this CPU raises an event; for a drop flow, its first packet on this CPU
 * raises the (rate-limited) drop event instead.
 */
static __always_inline void flow_add(struct flow_value *v, const struct flow_key *key,
				     const struct flow_delta *d)
{
	__u8 end;

	if (unlikely(!v->packets)) {
		v->first_seen_ns = d->now;
		if (key->verdict)
			policy_drop_event(key, d->now);
	}
	v->packets += d->packets;
	v->octets += d->octets;
	v->last_seen_ns = d->now;
	v->tcp_flags |= d->tcp_flags;
	end = tcp_end_flags(d->tcp_flags);
	if (unlikely(end)) {
		if (!v->end_flags && !key->verdict)
			event_emit(key, FLOW_EVENT_TCP_END, d->now);
		v->end_flags |= end;
	}
}

/* Add a packet to its flow, creating the flow when it is new. */
static __always_inline void flow_update(const struct flow_key *key, const struct flow_delta *d)
{
	struct flow_value *v, nv;
	struct flowmeta_stats *st;
	long err;

	v = bpf_map_lookup_elem(&flows, key);
	if (likely(v)) {
		flow_add(v, key, d);
		return;
	}

	__builtin_memset(&nv, 0, sizeof(nv));
	nv.packets = d->packets;
	nv.octets = d->octets;
	nv.first_seen_ns = d->now;
	nv.last_seen_ns = d->now;
	nv.tcp_flags = d->tcp_flags;
	nv.end_flags = tcp_end_flags(d->tcp_flags);
	err = bpf_map_update_elem(&flows, key, &nv, BPF_NOEXIST);
	if (!err) {
		if (key->verdict)
			policy_drop_event(key, d->now);
		else if (nv.end_flags)
			event_emit(key, FLOW_EVENT_TCP_END, d->now);
		return;
	}
	if (err == -EEXIST) {
		/* Another CPU created the flow since our lookup: our copy exists now, zeroed. */
		v = bpf_map_lookup_elem(&flows, key);
		if (v) {
			flow_add(v, key, d);
			return;
		}
	}
	/*
	 * The table is full (-E2BIG, or -ENOMEM without preallocation). Any other failure lands
	 * here too: this is the one counter that tells the daemon traffic passed unmetered.
	 */
	st = stats_this_cpu();
	if (st) {
		st->table_full_packets += d->packets;
		st->table_full_octets += d->octets;
	}
}

/* Fragments and truncated transport headers: counted, and fragments get their ports. */
static __always_inline void meter_irregular(struct flow_key *key, const struct pkt_meta *meta)
{
	struct flowmeta_stats *st = stats_this_cpu();

	if (st) {
		st->truncated_l4 += meta->truncated_l4;
		st->fragments += meta->frag != FRAG_NONE;
	}
	if (meta->frag == FRAG_FIRST)
		frag_remember(key, meta);
	else if (meta->frag == FRAG_LATER)
		frag_recall(key, meta);
}

/*
 * Meter one packet that parse_packet() returned res for. gso_segs and len are the skb's (a GSO skb
 * counts as its segments: each repeats the headers of the super-packet); 0 and 0 in XDP.
 * Returns the verdict (enum flow_verdict) the hook turns into its return code.
 */
static __always_inline __u8 meter(int res, struct flow_key *key, const struct pkt_meta *meta,
				  __u8 direction, __u32 gso_segs, __u64 len)
{
	struct flowmeta_stats *st;
	struct flow_delta d;

	if (unlikely(res != PARSE_IP)) {
		st = stats_this_cpu();
		if (st) {
			if (res == PARSE_NOT_IP)
				st->not_ip++;
			else
				st->malformed++;
		}
		return FLOW_VERDICT_FORWARDED;
	}

	key->direction = direction;
	if (unlikely(meta->frag | meta->truncated_l4))
		meter_irregular(key, meta);
	d.now = flow_clock_ns();
	/*
	 * The verdict (SPEC §6, bpf/policy.h) is part of the key, so dropped traffic gets flows of
	 * its own. A drop flow raises drop events, not TCP-end ones (flow_add): a flood of denied
	 * FINs must not fill the ring buffer past the drop-event rate limit.
	 */
	key->verdict = policy_verdict(key, meta, d.now);

	if (gso_segs > 1) {
		d.packets = gso_segs;
		d.octets = (len - meta->l3_off) + (__u64)(gso_segs - 1) * meta->hdr_len;
	} else {
		d.packets = 1;
		d.octets = meta->ip_len;
	}
	d.tcp_flags = meta->tcp_flags;
	flow_update(key, &d);
	if (unlikely(key->verdict))
		policy_count_drop(d.packets);
	return key->verdict;
}

#endif /* FLOWMETA_BPF_FLOW_H */
