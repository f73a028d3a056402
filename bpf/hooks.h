/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The body of each attach point, shared by the production programs (flowmeta.bpf.c) and the
 * benchmark wrappers (bench.bpf.c): read the context, parse, meter, turn the verdict into a return
 * code. The meter never modifies a packet's contents; only a policy verdict drops (bpf/flow.h).
 */
#ifndef FLOWMETA_BPF_HOOKS_H
#define FLOWMETA_BPF_HOOKS_H

#include <linux/pkt_cls.h>

#include "flow.h"
#include "parse.h"

/*
 * The TC parse again for a non-linear skb whose headers ran past its linear part: pull the octets
 * the first parse asked for (meta->need) into the linear part (the packet's contents are
 * unchanged) and parse again. A global function, so the verifier checks it once on its own rather
 * than once per outcome of the first parse. Rare: the stack and drivers put the headers in the
 * linear part. On return, meta->cut says the headers still run past the linear part of a longer
 * skb (a longer chain than the first parse could see): another round may reach them. A failed
 * pull (no memory) leaves the frame unparseable.
 *
 * Verifier-fragile: bpf_skb_pull_data() may reallocate the packet, which makes every packet
 * pointer taken before it stale, the caller's included. Here data and data_end are read again
 * after the pull. The caller must not touch its own packet pointers after this call:
 * flowmeta_tc() uses only key and meta (copies on its stack) and skb fields. Recent kernels (6.18
 * here, checked) know a global function changes packet data and reject such a use ("invalid mem
 * access 'scalar'"); older ones did not, and would let a stale pointer read freed memory.
 */
__noinline int flowmeta_parse_pulled(struct __sk_buff *skb, __u32 gso, struct flow_key *key,
				     struct pkt_meta *meta)
{
	void *data, *data_end;
	__u32 len = skb->len;
	__be16 l3_proto;
	int res;

	if (!key || !meta)
		return PARSE_UNPARSEABLE;
	if (meta->need < len)
		len = meta->need;
	if (bpf_skb_pull_data(skb, len)) {
		meta->cut = 0;
		return PARSE_UNPARSEABLE;
	}
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	l3_proto = l3_device ? (__be16)skb->protocol : 0;
	res = parse_packet(skb, false, data, data_end, l3_proto, gso, key, meta);
	if (meta->cut && skb->len <= data_end - data)
		meta->cut = 0;	/* all of the frame is linear: truly cut short */
	return res;
}

/* Pull rounds: the second reaches a transport header behind a chain the first one revealed. */
#define PULL_ROUNDS 2

/*
 * TC (tcx links, or clsact ingress/egress in direct action). A forwarded packet returns
 * TC_ACT_UNSPEC, not TC_ACT_OK: UNSPEC (TCX_NEXT on tcx) lets the programs after ours (another
 * tool's tcx programs, its filters at a later priority, and on tcx the clsact filters too) still
 * run and decide, and when there is none the packet simply continues; TC_ACT_OK (TCX_PASS) would
 * end classification and silently bypass them. A metering program must be invisible to the rest
 * of the chain.
 */
static __always_inline int flowmeta_tc(struct __sk_buff *skb, __u8 direction)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__be16 l3_proto = l3_device ? (__be16)skb->protocol : 0;
	struct pkt_skb facts = { .len = skb->len, .gso_size = skb->gso_size };
	struct pkt_meta meta;
	struct flow_key key;
	int res;

	/*
	 * A GSO skb is one with a gso_size (skb_is_gso()); only then is gso_segs read: each of
	 * these fields costs the program three loads (skb_shinfo), and most packets are not GSO. A
	 * tun writer's GSO skb leaves gso_segs 0 (bpf/flow.h).
	 */
	facts.gso = facts.gso_size;
	if (unlikely(facts.gso))
		facts.gso_segs = skb->gso_segs;
	if (likely(parse_fast(data, data_end, l3_proto, facts.gso, &key, &meta))) {
		res = PARSE_IP;
	} else {
		res = parse_packet(skb, false, data, data_end, l3_proto, facts.gso, &key, &meta);
		if (unlikely(meta.cut) && skb->len > data_end - data) {
			for (int i = 0; i < PULL_ROUNDS && meta.cut; i++)
				res = flowmeta_parse_pulled(skb, facts.gso, &key, &meta);
			if (meta.cut)
				res = PARSE_UNPARSEABLE;
		}
	}
	return meter(res, &key, &meta, direction, &facts) ? TC_ACT_SHOT : TC_ACT_UNSPEC;
}

/* XDP ingress: no skb, so no GSO and no protocol hint; the frame is all in [data, data_end). */
static __always_inline int flowmeta_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct pkt_skb facts = { .len = (__u32)(data_end - data) };
	struct pkt_meta meta;
	struct flow_key key;
	int res;

	if (likely(parse_fast(data, data_end, 0, false, &key, &meta)))
		res = PARSE_IP;
	else
		res = parse_packet(ctx, true, data, data_end, 0, false, &key, &meta);
	return meter(res, &key, &meta, FLOW_DIR_INGRESS, &facts) ? XDP_DROP : XDP_PASS;
}

#endif /* FLOWMETA_BPF_HOOKS_H */
