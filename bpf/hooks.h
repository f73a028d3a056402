/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The body of each attach point, shared by the production programs (flowmeta.bpf.c) and the
 * benchmark wrappers (bench.bpf.c): read the context, parse, meter, turn the verdict into a return
 * code. The meter never modifies a packet and never drops one on its own; only a policy verdict
 * drops.
 */
#ifndef FLOWMETA_BPF_HOOKS_H
#define FLOWMETA_BPF_HOOKS_H

#include <linux/pkt_cls.h>

#include "flow.h"
#include "parse.h"

/*
 * Octets pulled into the linear part when headers ran past it: Ethernet, two VLAN tags, IPv6 with
 * a few extension headers and a TCP header with options.
 */
#define PULL_LEN 256

/*
 * The TC path again for a non-linear skb whose headers ran past its linear part: pull the headers
 * into the linear part (the packet's contents are unchanged) and parse again. A global function, so
 * the verifier checks it once on its own rather than once per outcome of the first parse. Rare: the
 * stack and drivers put the headers in the linear part.
 *
 * Verifier-fragile: bpf_skb_pull_data() may reallocate the packet, which makes every packet
 * pointer taken before it stale, the caller's included. Here data and data_end are read again
 * after the pull. The caller must not touch its own packet pointers after this call:
 * flowmeta_tc() uses only the verdict returned, or on failure key and meta (copies on its stack)
 * and skb->len. Recent kernels (6.18 here, checked) know a global function changes packet data and
 * reject such a use ("invalid mem access 'scalar'"); older ones did not, and would let a stale
 * pointer read freed memory.
 */
__noinline int flowmeta_meter_pulled(struct __sk_buff *skb, __u32 direction, __u32 gso_segs)
{
	void *data, *data_end;
	struct pkt_meta meta;
	struct flow_key key;
	__be16 l3_proto;
	int res;

	if (bpf_skb_pull_data(skb, skb->len < PULL_LEN ? skb->len : PULL_LEN))
		return -1;
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	l3_proto = l3_device ? (__be16)skb->protocol : 0;
	res = parse_packet(skb, false, data, data_end, l3_proto, gso_segs > 1, &key, &meta);
	return meter(res, &key, &meta, direction, gso_segs, skb->len);
}

/*
 * TC (clsact ingress/egress, direct action). A forwarded packet returns TC_ACT_UNSPEC, not
 * TC_ACT_OK: UNSPEC lets the filters after ours (another tool's, at a later priority) still run and
 * decide, and when there is none the packet simply continues; TC_ACT_OK would end classification
 * and silently bypass them. A metering program must be invisible to the rest of the chain.
 */
static __always_inline int flowmeta_tc(struct __sk_buff *skb, __u8 direction)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__be16 l3_proto = l3_device ? (__be16)skb->protocol : 0;
	__u32 gso_segs = skb->gso_segs;
	struct pkt_meta meta;
	struct flow_key key;
	int res, verdict;

	if (likely(parse_fast(data, data_end, l3_proto, gso_segs > 1, &key, &meta))) {
		res = PARSE_IP;
	} else {
		res = parse_packet(skb, false, data, data_end, l3_proto, gso_segs > 1, &key, &meta);
		if (unlikely(meta.cut) && skb->len > data_end - data) {
			verdict = flowmeta_meter_pulled(skb, direction, gso_segs);
			/* The pull failed (no memory): meter what the linear part showed. */
			if (verdict >= 0)
				goto out;
		}
	}
	verdict = meter(res, &key, &meta, direction, gso_segs, skb->len);
out:
	return verdict == FLOW_VERDICT_FORWARDED ? TC_ACT_UNSPEC : TC_ACT_SHOT;
}

/* XDP ingress: no skb, so no GSO and no protocol hint; the frame is all in [data, data_end). */
static __always_inline int flowmeta_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct pkt_meta meta;
	struct flow_key key;
	int res;

	if (likely(parse_fast(data, data_end, 0, false, &key, &meta)))
		res = PARSE_IP;
	else
		res = parse_packet(ctx, true, data, data_end, 0, false, &key, &meta);
	if (meter(res, &key, &meta, FLOW_DIR_INGRESS, 0, 0) != FLOW_VERDICT_FORWARDED)
		return XDP_DROP;
	return XDP_PASS;
}

#endif /* FLOWMETA_BPF_HOOKS_H */
