/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Packet parser: Ethernet with any stack of VLAN tags, or an L3-only frame, IPv4 with options,
 * IPv6 with its extension headers, and the transport header, into a struct flow_key plus what the
 * meter needs to count the packet (struct pkt_meta). Never writes the packet.
 *
 * The headers are read with direct packet access, except the two chains an attacker can make as
 * long as the frame allows: VLAN tags and IPv6 extension headers. Those are walked with bpf_loop()
 * and the load-bytes helpers to their end, however long: the kernel strips every 802.1Q/802.1ad
 * tag of VLAN ID 0 (whatever the type of the next one) and delivers what follows as IP, and it
 * walks any chain of extension headers. What the parser cannot walk is never taken for something
 * else: it is malformed or unparseable, and the meter drops it while a policy is in force (fail
 * closed, bpf/flow.h).
 *
 * Rodata set by the loader before load:
 *   l3_device  true for devices without an L2 header (tun, WireGuard: ARPHRD_NONE), where the frame
 *              starts at the IP header.
 */
#ifndef FLOWMETA_BPF_PARSE_H
#define FLOWMETA_BPF_PARSE_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "flowmeta.h"

const volatile bool l3_device = false;

/* Not in the UAPI headers. */
struct vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

struct ipv6_frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;	/* offset in 8-octet units << 3 | M flag */
	__be32 identification;
};

#define IPV4_MF			0x2000
#define IPV4_OFFSET		0x1fff
#define IPV6_FRAG_OFFSET	0xfff8
#define IPV6_FRAG_MF		0x0001
#define SCTP_COMMON_HDR_LEN	12
#define ICMP_HDR_LEN		8	/* type, code, checksum and the 4-octet rest of header */
#define TCP_FLAGS_OFFSET	13	/* the octet holding CWR ECE URG ACK PSH RST SYN FIN */

/* Transport bytes assumed available in a GSO skb, whose IP length fields may not be meaningful. */
#define GSO_L4_AVAIL		0xffff
/*
 * How much of the frame past the start of a header cut short by the end of the linear data the
 * TC program asks bpf_skb_pull_data() for (bpf/hooks.h): IPv4 with options and TCP with options,
 * or IPv6 with a few extension headers and TCP.
 */
#define PULL_LEN		256

enum parse_result {
	PARSE_IP,		/* key filled: meter it */
	PARSE_NOT_IP,		/* neither IPv4 nor IPv6: pass, count not_ip */
	PARSE_MALFORMED,	/* VLAN tags or IP header (chain) cut short or invalid */
	PARSE_UNPARSEABLE,	/* an IP or VLAN frame whose headers the parser cannot reach */
};

enum frag_kind {
	FRAG_NONE = 0,
	FRAG_FIRST,		/* offset 0, more fragments follow: carries the transport header */
	FRAG_LATER,		/* offset > 0: no transport header */
};

/* What the meter needs besides the key. */
struct pkt_meta {
	__u32 l3_off;		/* offset of the IP header in the frame */
	__u32 ip_len;		/* octets of one datagram: IPv4 tot_len, IPv6 payload_len + 40 */
	__u32 hdr_len;		/* IP, extension, transport headers: repeated by each GSO segment */
	__u32 frag_id;		/* identification of a fragment (host order) */
	__u32 need;		/* cut: octets from the frame start the headers need to be linear */
	__u8 frag;		/* enum frag_kind */
	__u8 frag_proto;	/* protocol the fragment header names, for the fragment map key */
	__u8 tcp_flags;
	__u8 truncated_l4;	/* transport header cut short: metered with ports 0 */
	__u8 cut;		/* a header ran past the end of the (linear) data */
};

static __always_inline bool eth_is_vlan(__be16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD);
}

/* A header at frame offset off ran past the linear data: what a retry must pull. */
static __always_inline void parse_cut(struct pkt_meta *meta, __u32 off)
{
	meta->cut = 1;
	meta->need = off + PULL_LEN;
}

/*
 * True when a transport header of need octets at frame offset off is not all there: past the data
 * (cut) or past the datagram's own length (avail). Either way it is counted as truncated and the
 * ports stay 0.
 */
static __always_inline bool l4_short(void *hdr_end, void *data_end, __u32 off, __u32 avail,
				     __u32 need, struct pkt_meta *meta)
{
	if (hdr_end > data_end) {
		parse_cut(meta, off);
		meta->truncated_l4 = 1;
		return true;
	}
	if (avail < need) {
		meta->truncated_l4 = 1;
		return true;
	}
	return false;
}

/*
 * Ports (or ICMP type/code) of the transport header at frame offset off (pointer l4), of which
 * the datagram holds avail octets. Returns the length of the transport header a GSO segment
 * repeats, 0 when there is none.
 */
static __always_inline __u32 parse_l4(void *l4, __u32 off, void *data_end, __u32 avail,
				      struct flow_key *key, struct pkt_meta *meta)
{
	switch (key->protocol) {
	case IPPROTO_TCP: {
		struct tcphdr *th = l4;
		__u32 doff;

		if (l4_short(th + 1, data_end, off, avail, sizeof(*th), meta))
			return 0;
		key->src_port = bpf_ntohs(th->source);
		key->dst_port = bpf_ntohs(th->dest);
		meta->tcp_flags = ((__u8 *)th)[TCP_FLAGS_OFFSET];
		doff = th->doff * 4;
		return doff > sizeof(*th) ? doff : sizeof(*th);
	}
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE: {
		struct udphdr *uh = l4;

		if (l4_short(uh + 1, data_end, off, avail, sizeof(*uh), meta))
			return 0;
		key->src_port = bpf_ntohs(uh->source);
		key->dst_port = bpf_ntohs(uh->dest);
		return sizeof(*uh);
	}
	case IPPROTO_SCTP: {
		/* The common header starts with the two ports, like UDP. */
		struct udphdr *sh = l4;

		if (l4_short(l4 + SCTP_COMMON_HDR_LEN, data_end, off, avail, SCTP_COMMON_HDR_LEN,
			     meta))
			return 0;
		key->src_port = bpf_ntohs(sh->source);
		key->dst_port = bpf_ntohs(sh->dest);
		return SCTP_COMMON_HDR_LEN;
	}
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		__u8 *icmp = l4;

		/* ICMP in IPv6 or ICMPv6 in IPv4 is just another protocol. */
		if ((key->protocol == IPPROTO_ICMP) != (key->ip_version == 4))
			return 0;
		if (l4_short(l4 + ICMP_HDR_LEN, data_end, off, avail, ICMP_HDR_LEN, meta))
			return 0;
		key->dst_port = (__u16)icmp[0] << 8 | icmp[1];
		return ICMP_HDR_LEN;
	}
	default:
		return 0;
	}
}

/* IPv4 at l3, options (IHL) skipped; gso: the length fields describe a GSO super-packet. */
static __always_inline int parse_ipv4(void *l3, void *data_end, bool gso, struct flow_key *key,
				      struct pkt_meta *meta)
{
	struct iphdr *iph = l3;
	__u32 hlen;

	if ((void *)(iph + 1) > data_end) {
		parse_cut(meta, meta->l3_off);
		return PARSE_MALFORMED;
	}
	if (iph->version != 4 || iph->ihl < 5)
		return PARSE_MALFORMED;
	hlen = iph->ihl * 4;
	meta->ip_len = bpf_ntohs(iph->tot_len);
	/* A GSO skb may carry tot_len 0 (BIG TCP); its octets come from the skb length instead. */
	if (meta->ip_len < hlen && !gso)
		return PARSE_MALFORMED;
	if (l3 + hlen > data_end) {
		parse_cut(meta, meta->l3_off);
		return PARSE_MALFORMED;
	}

	__builtin_memcpy(key->src_addr, &iph->saddr, sizeof(iph->saddr));
	__builtin_memcpy(key->dst_addr, &iph->daddr, sizeof(iph->daddr));
	key->protocol = iph->protocol;
	key->ip_version = 4;
	meta->hdr_len = hlen;

	if (iph->frag_off & bpf_htons(IPV4_MF | IPV4_OFFSET)) {
		meta->frag_id = bpf_ntohs(iph->id);
		meta->frag_proto = iph->protocol;
		if (iph->frag_off & bpf_htons(IPV4_OFFSET)) {
			meta->frag = FRAG_LATER;
			return PARSE_IP;
		}
		meta->frag = FRAG_FIRST;
	}
	meta->hdr_len += parse_l4(l3 + hlen, meta->l3_off + hlen, data_end,
				  gso ? GSO_L4_AVAIL : meta->ip_len - hlen, key, meta);
	return PARSE_IP;
}

/*
 * The two walks, as global functions taking the program's context: the verifier checks each once
 * on its own instead of once per way through the parser, and its bpf_loop() callback once. Called
 * only for frames that have such a chain. In and out, offsets from the start of the frame; only
 * scalars (the arguments of a global function are checked against their BTF types).
 */
struct vlan_walk {
	__u32 off;		/* in: the first tag; out: the header after the last one */
	__be16 proto;		/* in: a VLAN type; out: the type after the last tag */
	__u8 bad;		/* out: a tag ran past the end of the frame */
	__u8 pad;
};

struct ipv6_walk {
	__u32 off;		/* in: first extension header; out: the header after the last one */
	__u32 end;		/* in: end of the datagram (the frame may end sooner) */
	__u32 frag_id;		/* host order */
	__u8 nexthdr;		/* in: the IPv6 header's next header; out: the protocol found */
	__u8 frag;		/* enum frag_kind */
	__u8 frag_proto;	/* the protocol the fragment header names */
	__u8 bad;		/* an extension header ran past the end of the datagram */
};

/* The state of one walk inside its global function, where bpf_loop() wants it (its stack). */
struct walk_loop {
	void *ctx;		/* struct __sk_buff or struct xdp_md */
	__u32 off;
	__u32 end;		/* the frame, or the datagram when it ends sooner */
	__u32 frag_id;
	__be16 proto;
	__u8 nexthdr;
	__u8 frag;
	__u8 frag_proto;
	__u8 bad;
};

/* One tag at l->off, loaded into tag by the caller (err: the helper's result). 1 ends the walk. */
static __always_inline long vlan_step(struct walk_loop *l, long err, const struct vlan_hdr *tag)
{
	if (!eth_is_vlan(l->proto))
		return 1;
	if (err) {
		l->bad = 1;
		return 1;
	}
	l->proto = tag->encap_proto;
	l->off += sizeof(*tag);
	return 0;
}

static long vlan_step_skb(__u64 i, void *arg)
{
	struct walk_loop *l = arg;
	struct vlan_hdr tag;

	return vlan_step(l, bpf_skb_load_bytes(l->ctx, l->off, &tag, sizeof(tag)), &tag);
}

static long vlan_step_xdp(__u64 i, void *arg)
{
	struct walk_loop *l = arg;
	struct vlan_hdr tag;

	return vlan_step(l, bpf_xdp_load_bytes(l->ctx, l->off, &tag, sizeof(tag)), &tag);
}

/*
 * Each tag takes 4 octets: a walk to the end of the frame needs at most len / 4 + 1 steps. A frame
 * without tags returns at once.
 */
__noinline int flowmeta_vlan_walk_skb(struct __sk_buff *skb, struct vlan_walk *w)
{
	struct walk_loop l = { .ctx = skb };

	if (!w || !eth_is_vlan(w->proto))
		return 0;
	l.off = w->off;
	l.proto = w->proto;
	bpf_loop(skb->len / sizeof(struct vlan_hdr) + 1, vlan_step_skb, &l, 0);
	w->off = l.off;
	w->proto = l.proto;
	w->bad = l.bad;
	return 0;
}

__noinline int flowmeta_vlan_walk_xdp(struct xdp_md *ctx, struct vlan_walk *w)
{
	struct walk_loop l = { .ctx = ctx };

	if (!w || !eth_is_vlan(w->proto))
		return 0;
	l.off = w->off;
	l.proto = w->proto;
	bpf_loop(bpf_xdp_get_buff_len(ctx) / sizeof(struct vlan_hdr) + 1, vlan_step_xdp, &l, 0);
	w->off = l.off;
	w->proto = l.proto;
	w->bad = l.bad;
	return 0;
}

static __always_inline bool ipv6_is_ext(__u8 nexthdr)
{
	return nexthdr == IPPROTO_HOPOPTS || nexthdr == IPPROTO_ROUTING ||
	       nexthdr == IPPROTO_DSTOPTS || nexthdr == IPPROTO_AH || nexthdr == IPPROTO_FRAGMENT;
}

/*
 * One extension header at l->off (its first 8 octets in h; every one has at least 8): hop-by-hop,
 * routing, destination options, fragment or AH. ESP, "no next header" and unknown headers end the
 * walk as the protocol; so does a later fragment, whose fragment header names the protocol of a
 * payload that carries no transport header. 1 ends the walk.
 */
static __always_inline long ipv6_ext_step(struct walk_loop *l, long err, const __u8 *h)
{
	const struct ipv6_frag_hdr *fh = (const void *)h;
	__u8 nexthdr = l->nexthdr;
	__u32 len;

	if (!ipv6_is_ext(nexthdr))
		return 1;
	if (err || l->off + 8 > l->end) {
		l->bad = 1;
		return 1;
	}
	if (nexthdr == IPPROTO_FRAGMENT) {
		len = sizeof(*fh);
		/* Offset 0 without M is an atomic fragment (RFC 6946): a whole datagram. */
		if (fh->frag_off & bpf_htons(IPV6_FRAG_OFFSET | IPV6_FRAG_MF)) {
			l->frag_id = bpf_ntohl(fh->identification);
			l->frag_proto = fh->nexthdr;
			l->frag = fh->frag_off & bpf_htons(IPV6_FRAG_OFFSET) ? FRAG_LATER
									     : FRAG_FIRST;
		}
	} else if (nexthdr == IPPROTO_AH) {
		len = (h[1] + 2) * 4;	/* 4-octet units minus 2 */
	} else {
		len = (h[1] + 1) * 8;	/* 8-octet units minus 1 */
	}
	if (l->off + len > l->end) {
		l->bad = 1;
		return 1;
	}
	l->nexthdr = h[0];
	l->off += len;
	return l->frag == FRAG_LATER;
}

static long ipv6_ext_step_skb(__u64 i, void *arg)
{
	struct walk_loop *l = arg;
	__u8 h[8];

	return ipv6_ext_step(l, bpf_skb_load_bytes(l->ctx, l->off, h, sizeof(h)), h);
}

static long ipv6_ext_step_xdp(__u64 i, void *arg)
{
	struct walk_loop *l = arg;
	__u8 h[8];

	return ipv6_ext_step(l, bpf_xdp_load_bytes(l->ctx, l->off, h, sizeof(h)), h);
}

static __always_inline void ipv6_walk_in(struct walk_loop *l, const struct ipv6_walk *w,
					 __u32 frame_len)
{
	l->off = w->off;
	l->end = w->end < frame_len ? w->end : frame_len;
	l->nexthdr = w->nexthdr;
}

static __always_inline void ipv6_walk_out(const struct walk_loop *l, struct ipv6_walk *w)
{
	w->off = l->off;
	w->frag_id = l->frag_id;
	w->nexthdr = l->nexthdr;
	w->frag = l->frag;
	w->frag_proto = l->frag_proto;
	w->bad = l->bad;
}

/* Each header takes at least 8 octets: at most len / 8 + 1 steps. */
__noinline int flowmeta_ipv6_ext_skb(struct __sk_buff *skb, struct ipv6_walk *w)
{
	struct walk_loop l = { .ctx = skb };

	if (!w)
		return 0;
	ipv6_walk_in(&l, w, skb->len);
	bpf_loop(skb->len / 8 + 1, ipv6_ext_step_skb, &l, 0);
	ipv6_walk_out(&l, w);
	return 0;
}

__noinline int flowmeta_ipv6_ext_xdp(struct xdp_md *ctx, struct ipv6_walk *w)
{
	struct walk_loop l = { .ctx = ctx };
	__u32 len = bpf_xdp_get_buff_len(ctx);

	if (!w)
		return 0;
	ipv6_walk_in(&l, w, len);
	bpf_loop(len / 8 + 1, ipv6_ext_step_xdp, &l, 0);
	ipv6_walk_out(&l, w);
	return 0;
}

/*
 * IPv6 at l3, extension headers walked to the transport header. ctx is the program's context (xdp:
 * an xdp_md) for the walk. A chain cut short by the end of the datagram is malformed (the kernel
 * drops it), never metered with an extension header taken for the transport.
 */
static __always_inline int parse_ipv6(void *ctx, bool xdp, void *data, void *l3, void *data_end,
				      bool gso, struct flow_key *key, struct pkt_meta *meta)
{
	struct ipv6hdr *ip6 = l3;
	__u32 l4_off = meta->l3_off + sizeof(*ip6), hlen, avail;
	__u8 nexthdr;

	if ((void *)(ip6 + 1) > data_end) {
		parse_cut(meta, meta->l3_off);
		return PARSE_MALFORMED;
	}
	if (ip6->version != 6)
		return PARSE_MALFORMED;
	meta->ip_len = bpf_ntohs(ip6->payload_len) + sizeof(*ip6);
	__builtin_memcpy(key->src_addr, &ip6->saddr, sizeof(ip6->saddr));
	__builtin_memcpy(key->dst_addr, &ip6->daddr, sizeof(ip6->daddr));
	key->ip_version = 6;
	nexthdr = ip6->nexthdr;

	if (ipv6_is_ext(nexthdr)) {
		struct ipv6_walk w = {
			.off = l4_off,
			.end = gso ? 0xffffffff : meta->l3_off + meta->ip_len,
			.nexthdr = nexthdr,
		};

		/*
		 * Verifier-fragile: xdp is a compile-time constant at every caller, so once this is
		 * inlined clang drops the call that does not apply, and libbpf does not link that
		 * function into the program at all. The TC programs verify only thanks to that: a
		 * global function's arguments are checked against its BTF types, and a TC program
		 * that reached flowmeta_ipv6_ext_xdp() would be rejected
		 * ("R1 type=ctx expected=fp", checked). Keep xdp a literal at every call of
		 * parse_packet().
		 */
		if (xdp)
			flowmeta_ipv6_ext_xdp(ctx, &w);
		else
			flowmeta_ipv6_ext_skb(ctx, &w);
		if (w.bad)
			return PARSE_MALFORMED;
		if (w.off > FLOWMETA_MAX_HEADER_OFFSET)
			return PARSE_UNPARSEABLE;
		nexthdr = w.nexthdr;
		meta->frag = w.frag;
		meta->frag_id = w.frag_id;
		meta->frag_proto = w.frag_proto;
		l4_off = w.off;
	}

	key->protocol = nexthdr;
	hlen = l4_off - meta->l3_off;
	meta->hdr_len = hlen;
	if (meta->frag == FRAG_LATER)
		return PARSE_IP;
	if (gso)
		avail = GSO_L4_AVAIL;
	else
		avail = meta->ip_len > hlen ? meta->ip_len - hlen : 0;
	meta->hdr_len += parse_l4(data + l4_off, l4_off, data_end, avail, key, meta);
	return PARSE_IP;
}

/*
 * The fast path: the frame nearly every packet is. IPv4 without options and not a fragment, or
 * IPv6 without extension headers, carrying TCP or UDP whose header is all there, right after an
 * untagged Ethernet header (at the start of the frame on an L3-only device). parse_fast() fills
 * key and meta exactly as parse_packet() would for such a frame, with a handful of branches
 * instead of the general walk, and returns false for any other frame, which parse_packet() then
 * takes from the start.
 */

/*
 * The transport header th of the fast path, of which the datagram holds avail octets: false when
 * the general path must judge it (another protocol, a header cut short).
 */
static __always_inline bool fast_l4(struct tcphdr *th, void *data_end, __u8 protocol, __u32 avail,
				    struct flow_key *key, struct pkt_meta *meta)
{
	__u32 len;

	/* One bound for both: a UDP datagram this short takes the general path. */
	if ((void *)(th + 1) > data_end)
		return false;
	switch (protocol) {
	case IPPROTO_TCP:
		if (avail < sizeof(*th))
			return false;
		len = th->doff * 4;
		meta->hdr_len += len > sizeof(*th) ? len : sizeof(*th);
		meta->tcp_flags = ((__u8 *)th)[TCP_FLAGS_OFFSET];
		break;
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
		if (avail < sizeof(struct udphdr))
			return false;
		meta->hdr_len += sizeof(struct udphdr);
		break;
	default:
		return false;
	}
	key->src_port = bpf_ntohs(th->source);
	key->dst_port = bpf_ntohs(th->dest);
	key->protocol = protocol;
	return true;
}

static __always_inline bool fast_ipv4(struct iphdr *iph, void *data_end, bool gso,
				      struct flow_key *key, struct pkt_meta *meta)
{
	__u32 ip_len;

	if ((void *)(iph + 1) > data_end)
		return false;
	if (*(__u8 *)iph != (4 << 4 | 5) || (iph->frag_off & bpf_htons(IPV4_MF | IPV4_OFFSET)))
		return false;
	ip_len = bpf_ntohs(iph->tot_len);
	if (ip_len < sizeof(*iph) && !gso)
		return false;
	meta->ip_len = ip_len;
	meta->hdr_len = sizeof(*iph);
	__builtin_memcpy(key->src_addr, &iph->saddr, sizeof(iph->saddr));
	__builtin_memcpy(key->dst_addr, &iph->daddr, sizeof(iph->daddr));
	key->ip_version = 4;
	return fast_l4((void *)(iph + 1), data_end, iph->protocol,
		       gso ? GSO_L4_AVAIL : ip_len - sizeof(*iph), key, meta);
}

static __always_inline bool fast_ipv6(struct ipv6hdr *ip6, void *data_end, bool gso,
				      struct flow_key *key, struct pkt_meta *meta)
{
	__u32 ip_len;

	if ((void *)(ip6 + 1) > data_end)
		return false;
	if (ip6->version != 6)
		return false;
	ip_len = bpf_ntohs(ip6->payload_len) + sizeof(*ip6);
	meta->ip_len = ip_len;
	meta->hdr_len = sizeof(*ip6);
	__builtin_memcpy(key->src_addr, &ip6->saddr, sizeof(ip6->saddr));
	__builtin_memcpy(key->dst_addr, &ip6->daddr, sizeof(ip6->daddr));
	key->ip_version = 6;
	return fast_l4((void *)(ip6 + 1), data_end, ip6->nexthdr,
		       gso ? GSO_L4_AVAIL : ip_len - sizeof(*ip6), key, meta);
}

/* See above; l3_proto and gso as for parse_packet(). */
static __always_inline bool parse_fast(void *data, void *data_end, __be16 l3_proto, bool gso,
				       struct flow_key *key, struct pkt_meta *meta)
{
	__be16 proto = l3_proto;
	void *l3 = data;

	if (!l3_device) {
		if (data + sizeof(struct ethhdr) > data_end)
			return false;
		proto = ((struct ethhdr *)data)->h_proto;
		l3 = data + sizeof(struct ethhdr);
	}
	__builtin_memset(key, 0, sizeof(*key));
	__builtin_memset(meta, 0, sizeof(*meta));
	meta->l3_off = l3 - data;
	if (proto == bpf_htons(ETH_P_IP))
		return fast_ipv4(l3, data_end, gso, key, meta);
	if (proto == bpf_htons(ETH_P_IPV6))
		return fast_ipv6(l3, data_end, gso, key, meta);
	return false;
}

/*
 * The type of an L3-only frame: l3_proto (TC: skb->protocol) when it names IP or VLAN, else the IP
 * version nibble (BPF_PROG_TEST_RUN's skbs carry the type an Ethernet header would). XDP has no
 * l3_proto: a frame whose nibble is neither 4 nor 6 could still be delivered as IP (a tun writer's
 * packet information may name a VLAN type, whose tags the kernel strips), so it is unparseable.
 */
static __always_inline int l3_frame_type(bool xdp, void *data, void *data_end, __be16 l3_proto,
					 __be16 *proto, struct pkt_meta *meta)
{
	__u8 *ver = data;

	*proto = l3_proto;
	if (l3_proto == bpf_htons(ETH_P_IP) || l3_proto == bpf_htons(ETH_P_IPV6) ||
	    eth_is_vlan(l3_proto))
		return PARSE_IP;
	if ((void *)(ver + 1) > data_end) {
		parse_cut(meta, 0);
		return PARSE_MALFORMED;
	}
	if (*ver >> 4 == 4)
		*proto = bpf_htons(ETH_P_IP);
	else if (*ver >> 4 == 6)
		*proto = bpf_htons(ETH_P_IPV6);
	else if (xdp)
		return PARSE_UNPARSEABLE;
	return PARSE_IP;
}

/*
 * Parse the frame in [data, data_end) into key (zeroed first, padding included) and meta. ctx and
 * xdp: the program's context and whether it is an xdp_md; xdp must be a literal (parse_ipv6()).
 * l3_proto: skb->protocol on an L3-only device in TC (0 in XDP). gso: the skb is a GSO
 * super-packet, whose IP length fields need not describe it.
 */
static __always_inline int parse_packet(void *ctx, bool xdp, void *data, void *data_end,
					__be16 l3_proto, bool gso, struct flow_key *key,
					struct pkt_meta *meta)
{
	struct vlan_walk w = { 0 };
	void *l3;
	int res;

	__builtin_memset(key, 0, sizeof(*key));
	__builtin_memset(meta, 0, sizeof(*meta));

	if (l3_device) {
		res = l3_frame_type(xdp, data, data_end, l3_proto, &w.proto, meta);
		if (res != PARSE_IP)
			return res;
	} else {
		struct ethhdr *eth = data;

		if ((void *)(eth + 1) > data_end) {
			parse_cut(meta, 0);
			return PARSE_MALFORMED;
		}
		w.proto = eth->h_proto;
		w.off = sizeof(*eth);
	}
	/*
	 * Every frame goes through the walk, tags or not (it returns at once without): the IP
	 * header offset is then one unknown the verifier checks the rest of the parser with once,
	 * instead of once per way to it. xdp is a literal: see parse_ipv6().
	 */
	if (xdp)
		flowmeta_vlan_walk_xdp(ctx, &w);
	else
		flowmeta_vlan_walk_skb(ctx, &w);
	if (w.proto != bpf_htons(ETH_P_IP) && w.proto != bpf_htons(ETH_P_IPV6))
		return w.bad ? PARSE_MALFORMED : PARSE_NOT_IP;
	if (w.off > FLOWMETA_MAX_HEADER_OFFSET)
		return PARSE_UNPARSEABLE;
	meta->l3_off = w.off;
	l3 = data + w.off;
	if (w.proto == bpf_htons(ETH_P_IP))
		return parse_ipv4(l3, data_end, gso, key, meta);
	return parse_ipv6(ctx, xdp, data, l3, data_end, gso, key, meta);
}

#endif /* FLOWMETA_BPF_PARSE_H */
