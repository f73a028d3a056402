/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Metering one parsed packet: finish the key (direction, fragment ports, verdict), add the packet
 * to this CPU's copy of its flow (forwarded flows in `flows`, drop flows in `drop_flows`), signal
 * TCP flow ends and full tables through the ring buffer, and count in `stats` whatever could not
 * be metered. A frame the parser could not read (malformed, unparseable) is dropped while a policy
 * is in force: fail closed, since the policy cannot judge what it cannot read.
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
 * The flow clock, stamped on flows and their events: the kernel's jiffies (bpf_jiffies64), the tick
 * the packet came in. On 64-bit kernels the helper is one load of jiffies_64; the clocks that read
 * time in ns cost more per packet, measured here (bench/bpf_bench.c): bpf_ktime_get_ns() reads the
 * clocksource (an indirect call and a serialised rdtsc), and even bpf_ktime_get_coarse_ns(), which
 * only copies the time of the last tick, costs 8-22 ns under a seqcount, as much as the rest of the
 * existing-flow path. Flow times are exported in milliseconds: one tick (4 ms at HZ=250) is the
 * resolution, as it was with the coarse clock. The daemon learns HZ and when each tick began on
 * CLOCK_MONOTONIC (bpf/clock.bpf.c, user/clock.c) and converts. 64 bits of jiffies never wrap: they
 * start 5 minutes short of 2^32 and would need 580 million years at HZ=1000 to reach 2^64.
 */
static __always_inline __u64 flow_clock(void)
{
	return bpf_jiffies64();
}

/* What the hook knows of the packet besides its bytes (XDP: the length alone). */
struct pkt_skb {
	__u32 len;		/* skb->len (XDP: data_end - data): the frame from its L2 header on */
	__u32 gso_segs;		/* read only for a GSO skb */
	__u32 gso_size;
	bool gso;		/* a GSO super-packet (gso_size set): its segments are counted */
};

/* What one packet adds to its flow. */
struct flow_delta {
	__u64 packets;		/* segments of a GSO skb, else 1 */
	__u64 octets;
	__u64 now;		/* flow_clock() */
	__u8 tcp_flags;
};

static __always_inline __u8 tcp_end_flags(__u8 tcp_flags)
{
	return (tcp_flags & TCP_FLAG_FIN ? FLOW_END_FIN : 0) |
	       (tcp_flags & TCP_FLAG_RST ? FLOW_END_RST : 0);
}

/*
 * Add a packet to this CPU's copy of an existing flow. The copy may be all zero when the flow was
 * created on another CPU: its first packet here starts this CPU's first_seen_jiffies. Only the first FIN
 * or RST of the flow on this CPU raises an event; for a drop flow, its first packet on this CPU
 * raises the (rate-limited) drop event instead.
 */
static __always_inline void flow_add(struct flow_value *v, const struct flow_key *key,
				     const struct flow_delta *d)
{
	__u8 end;

	if (unlikely(!v->packets)) {
		v->first_seen_jiffies = d->now;
		if (key->verdict)
			policy_drop_event(key, d->now);
	}
	v->packets += d->packets;
	v->octets += d->octets;
	v->last_seen_jiffies = d->now;
	v->tcp_flags |= d->tcp_flags;
	end = tcp_end_flags(d->tcp_flags);
	if (unlikely(end)) {
		if (!v->end_flags && !key->verdict)
			event_emit(key, FLOW_EVENT_TCP_END, d->now);
		v->end_flags |= end;
	}
}

/*
 * Add a packet to its flow in map (flows or drop_flows: a constant at each inlined call, so each
 * lookup keeps its own map and the kernel's inlined lookup), creating the flow when it is new.
 * Returns false when the table refused the insert: full (-E2BIG; -ENOMEM without preallocation),
 * or any other failure, which the caller counts as traffic that passed (or was dropped) unmetered.
 */
static __always_inline bool flow_update(void *map, const struct flow_key *key,
					const struct flow_delta *d)
{
	struct flow_value *v, nv;
	long err;

	v = bpf_map_lookup_elem(map, key);
	if (likely(v)) {
		flow_add(v, key, d);
		return true;
	}

	__builtin_memset(&nv, 0, sizeof(nv));
	nv.packets = d->packets;
	nv.octets = d->octets;
	nv.first_seen_jiffies = d->now;
	nv.last_seen_jiffies = d->now;
	nv.tcp_flags = d->tcp_flags;
	nv.end_flags = tcp_end_flags(d->tcp_flags);
	err = bpf_map_update_elem(map, key, &nv, BPF_NOEXIST);
	if (!err) {
		if (key->verdict)
			policy_drop_event(key, d->now);
		else if (nv.end_flags)
			event_emit(key, FLOW_EVENT_TCP_END, d->now);
		return true;
	}
	if (err == -EEXIST) {
		/* Another CPU created the flow since our lookup: our copy exists now, zeroed. */
		v = bpf_map_lookup_elem(map, key);
		if (v) {
			flow_add(v, key, d);
			return true;
		}
	}
	return false;
}

/*
 * A packet its table refused: counted exactly (forwarded ones in table_full_*, drops per verdict
 * and direction in drop_table_full_*), and a rate-limited event asks the daemon to make room.
 */
static __always_inline void flow_table_full(const struct flow_key *key, const struct flow_delta *d)
{
	struct flowmeta_stats *st = stats_this_cpu();
	__u32 row = (key->verdict - 1) & 1, dir = key->direction & 1;

	if (st) {
		if (!key->verdict) {
			st->table_full_packets += d->packets;
			st->table_full_octets += d->octets;
		} else {
			st->drop_table_full_packets[row][dir] += d->packets;
			st->drop_table_full_octets[row][dir] += d->octets;
		}
	}
	table_full_event(key->verdict ? FLOW_EVENT_DROP_TABLE_FULL : FLOW_EVENT_TABLE_FULL, d->now);
}

/*
 * A frame the parser could not read into a flow key (res not PARSE_IP): counted; a malformed or
 * unparseable one is dropped while a policy is in force (fail_closed, also in policy_dropped).
 * A dropped one is metered too, like every drop (SPEC §6), in the one drop flow of its direction
 * that has no key: IPv4, addresses 0.0.0.0, protocol 0, verdict denied (no rule could allow
 * what cannot be read), the frame's octets past the link header (skb->len less the Ethernet
 * header; all of it on an L3 device). Returns true to drop it.
 */
static __always_inline bool meter_unparsed(int res, __u8 direction, const struct pkt_skb *skb)
{
	struct flowmeta_stats *st = stats_this_cpu();
	struct flow_key key;
	struct flow_delta d;

	if (!st)
		return false;
	if (res == PARSE_NOT_IP) {
		st->not_ip++;
		return false;
	}
	if (res == PARSE_MALFORMED)
		st->malformed++;
	else
		st->unparseable++;
	if (!policy_in_force())
		return false;
	st->fail_closed++;
	st->policy_dropped++;
	__builtin_memset(&key, 0, sizeof(key));
	key.ip_version = 4;
	key.direction = direction;
	key.verdict = FLOW_VERDICT_ACL_DENY;
	__builtin_memset(&d, 0, sizeof(d));
	d.now = flow_clock();
	d.packets = 1;
	d.octets = skb->len;
	if (!l3_device)
		d.octets = skb->len > ETH_HLEN ? skb->len - ETH_HLEN : 0;
	if (!flow_update(&drop_flows, &key, &d))
		flow_table_full(&key, &d);
	return true;
}

/*
 * The verdict of a fragment. A first fragment is judged like any packet, then leaves its ports and
 * verdict for the later ones (frag_remember: a drop never replaces a forwarded first fragment's
 * record). A later fragment takes them back: it is metered in its first fragment's flow, dropped
 * with it when it was dropped, and otherwise judged with its ports. Without a record its ports are
 * unknown: only a rule for the whole protocol class can admit it.
 */
static __always_inline __u8 fragment_verdict(struct flow_key *key, const struct pkt_meta *meta)
{
	int first;

	if (meta->frag == FRAG_FIRST) {
		key->verdict = policy_verdict(key, !meta->truncated_l4);
		frag_remember(key, meta);
		return key->verdict;
	}
	first = frag_recall(key, meta);
	if (first > FLOW_VERDICT_FORWARDED)
		return first;
	return policy_verdict(key, first == FLOW_VERDICT_FORWARDED);
}

/* Segments and octets of a packet (d->packets, d->octets). */
static __always_inline void meter_size(const struct pkt_meta *meta, const struct pkt_skb *skb,
				       struct flow_delta *d)
{
	__u32 segs, payload, l3_len;

	if (likely(!skb->gso)) {
		d->packets = 1;
		d->octets = meta->ip_len;
		return;
	}
	/*
	 * A GSO skb counts as the segments the kernel will cut it into, each repeating the IP,
	 * extension and transport headers (TCP with options; UDP for USO). A tun/tap writer with a
	 * virtio-net header (wireguard-go, Tailscale) leaves gso_segs 0 for the stack to compute:
	 * DIV_ROUND_UP of the payload by gso_size, as the segmentation will.
	 */
	l3_len = skb->len > meta->l3_off ? skb->len - meta->l3_off : 0;
	segs = skb->gso_segs;
	if (!segs) {
		payload = l3_len > meta->hdr_len ? l3_len - meta->hdr_len : 0;
		segs = (payload + skb->gso_size - 1) / skb->gso_size;
		if (!segs)
			segs = 1;
	}
	d->packets = segs;
	d->octets = l3_len + (__u64)(segs - 1) * meta->hdr_len;
}

/*
 * Meter one packet that parse_packet() returned res for; skb: what the hook knows besides the
 * bytes.
 * Returns true when the packet is to be dropped (a policy verdict, or fail closed).
 */
static __always_inline bool meter(int res, struct flow_key *key, const struct pkt_meta *meta,
				  __u8 direction, const struct pkt_skb *skb)
{
	struct flowmeta_stats *st;
	struct flow_delta d;
	bool stored;

	if (unlikely(res != PARSE_IP))
		return meter_unparsed(res, direction, skb);

	key->direction = direction;
	d.now = flow_clock();
	/*
	 * The verdict (SPEC §6, bpf/policy.h) is part of the key, so dropped traffic gets flows of
	 * its own. A drop flow raises drop events, not TCP-end ones (flow_add): a flood of denied
	 * FINs must not fill the ring buffer past the drop-event rate limit.
	 */
	if (unlikely(meta->frag | meta->truncated_l4)) {
		st = stats_this_cpu();
		if (st) {
			st->truncated_l4 += meta->truncated_l4;
			st->fragments += meta->frag != FRAG_NONE;
		}
	}
	if (unlikely(meta->frag))
		key->verdict = fragment_verdict(key, meta);
	else
		key->verdict = policy_verdict(key, !meta->truncated_l4);

	meter_size(meta, skb, &d);
	d.tcp_flags = meta->tcp_flags;
	if (likely(!key->verdict)) {
		stored = flow_update(&flows, key, &d);
	} else {
		stored = flow_update(&drop_flows, key, &d);
		policy_count_drop(d.packets);
	}
	if (unlikely(!stored))
		flow_table_full(key, &d);
	return key->verdict != FLOW_VERDICT_FORWARDED;
}

#endif /* FLOWMETA_BPF_FLOW_H */
