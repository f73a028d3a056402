/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A small builder of crafted frames for the BPF tests: append headers one after the other
 * (Ethernet, VLAN, IPv4/IPv6, extension headers, TCP/UDP/SCTP/ICMP, payload), then pkt_finish()
 * fills in the IP lengths. Each append returns a pointer into the frame so a test can bend a field.
 * Checksums are left zero: nothing on the metering path reads them.
 */
#ifndef FLOWMETA_TESTS_PACKET_H
#define FLOWMETA_TESTS_PACKET_H

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PKT_MAX 3600	/* below what BPF_PROG_TEST_RUN accepts for one page */

struct pkt {
	uint8_t data[PKT_MAX];
	size_t len;
	size_t l3;		/* offset of the IP header */
	int ip_version;		/* of the IP header at l3, 0 before one is appended */
};

static inline void *pkt_put(struct pkt *p, size_t n)
{
	void *at = p->data + p->len;

	if (p->len + n > sizeof(p->data))
		abort();	/* a test asked for a frame larger than the builder holds */
	memset(at, 0, n);
	p->len += n;
	return at;
}

static inline void pkt_init(struct pkt *p)
{
	memset(p, 0, sizeof(*p));
}

static inline struct ethhdr *pkt_eth(struct pkt *p, uint16_t ethertype)
{
	static const uint8_t dst[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x02 };
	static const uint8_t src[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x01 };
	struct ethhdr *eth = pkt_put(p, sizeof(*eth));

	memcpy(eth->h_dest, dst, ETH_ALEN);
	memcpy(eth->h_source, src, ETH_ALEN);
	eth->h_proto = htons(ethertype);
	return eth;
}

/* A VLAN tag: the TPID went into the previous header's type, this one names what follows. */
static inline void pkt_vlan(struct pkt *p, uint16_t vid, uint16_t ethertype)
{
	uint16_t *tag = pkt_put(p, 4);

	tag[0] = htons(vid);
	tag[1] = htons(ethertype);
}

static inline void pkt_addr(int family, const char *text, void *out)
{
	if (inet_pton(family, text, out) != 1)
		abort();
}

static inline struct iphdr *pkt_ipv4(struct pkt *p, const char *src, const char *dst, uint8_t proto)
{
	struct iphdr *iph;

	p->l3 = p->len;
	p->ip_version = 4;
	iph = pkt_put(p, sizeof(*iph));
	iph->version = 4;
	iph->ihl = 5;
	iph->ttl = 64;
	iph->protocol = proto;
	pkt_addr(AF_INET, src, &iph->saddr);
	pkt_addr(AF_INET, dst, &iph->daddr);
	return iph;
}

/* IPv4 options right after pkt_ipv4(): n octets (a multiple of 4) of NOPs ended by an EOL. */
static inline void pkt_ipv4_options(struct pkt *p, size_t n)
{
	struct iphdr *iph = (struct iphdr *)(p->data + p->l3);
	uint8_t *opt = pkt_put(p, n);

	memset(opt, 1, n - 1);	/* NOP */
	opt[n - 1] = 0;		/* EOL */
	iph->ihl += n / 4;
}

static inline struct ipv6hdr *pkt_ipv6(struct pkt *p, const char *src, const char *dst,
				       uint8_t nexthdr)
{
	struct ipv6hdr *ip6;

	p->l3 = p->len;
	p->ip_version = 6;
	ip6 = pkt_put(p, sizeof(*ip6));
	ip6->version = 6;
	ip6->hop_limit = 64;
	ip6->nexthdr = nexthdr;
	pkt_addr(AF_INET6, src, &ip6->saddr);
	pkt_addr(AF_INET6, dst, &ip6->daddr);
	return ip6;
}

/*
 * An IPv6 extension header of len octets: hop-by-hop, routing or destination options (len a
 * multiple of 8) or AH (a multiple of 4). The bytes after the first two are 0x5a filler.
 */
static inline void pkt_ipv6_ext(struct pkt *p, uint8_t type, uint8_t nexthdr, size_t len)
{
	uint8_t *h = pkt_put(p, len);

	memset(h, 0x5a, len);
	h[0] = nexthdr;
	h[1] = type == IPPROTO_AH ? len / 4 - 2 : len / 8 - 1;
}

/* IPv6 fragment header: offset in octets (a multiple of 8), more: the M flag. */
static inline void pkt_ipv6_frag(struct pkt *p, uint8_t nexthdr, unsigned int offset, int more,
				 uint32_t id)
{
	uint8_t *h = pkt_put(p, 8);
	uint16_t off = htons((uint16_t)(offset | (more ? 1 : 0)));
	uint32_t nid = htonl(id);

	h[0] = nexthdr;
	memcpy(h + 2, &off, sizeof(off));
	memcpy(h + 4, &nid, sizeof(nid));
}

/* TCP header with optlen octets of options (a multiple of 4, NOPs). */
static inline struct tcphdr *pkt_tcp(struct pkt *p, uint16_t sport, uint16_t dport, uint8_t flags,
				     size_t optlen)
{
	struct tcphdr *th = pkt_put(p, sizeof(*th) + optlen);

	th->source = htons(sport);
	th->dest = htons(dport);
	th->doff = (sizeof(*th) + optlen) / 4;
	((uint8_t *)th)[13] = flags;
	th->window = htons(65535);
	memset(th + 1, 1, optlen);
	return th;
}

static inline struct udphdr *pkt_udp(struct pkt *p, uint16_t sport, uint16_t dport)
{
	struct udphdr *uh = pkt_put(p, sizeof(*uh));

	uh->source = htons(sport);
	uh->dest = htons(dport);
	return uh;
}

/* SCTP common header (ports, verification tag, checksum). */
static inline void pkt_sctp(struct pkt *p, uint16_t sport, uint16_t dport)
{
	uint16_t *h = pkt_put(p, 12);

	h[0] = htons(sport);
	h[1] = htons(dport);
	h[2] = htons(0x1234);
}

/* ICMP or ICMPv6 header: type, code, checksum, 4 octets rest of header. */
static inline void pkt_icmp(struct pkt *p, uint8_t type, uint8_t code)
{
	uint8_t *h = pkt_put(p, 8);

	h[0] = type;
	h[1] = code;
}

/* n octets of payload, a counting pattern so nothing in it looks like zero ports. */
static inline void pkt_payload(struct pkt *p, size_t n)
{
	uint8_t *d = pkt_put(p, n);

	for (size_t i = 0; i < n; i++)
		d[i] = (uint8_t)(0x41 + i % 26);
}

/* IP lengths from the frame as built: IPv4 tot_len, IPv6 payload_len. Returns the IP length. */
/*
 * The length fields are stored with memcpy: the frame is a byte array, and a store through a
 * struct iphdr pointer into it may be dropped at -O2 by the aliasing rules.
 */
static inline size_t pkt_finish(struct pkt *p)
{
	size_t ip_len = p->len - p->l3;
	uint16_t v;

	if (p->ip_version == 4) {
		v = htons((uint16_t)ip_len);
		memcpy(p->data + p->l3 + offsetof(struct iphdr, tot_len), &v, sizeof(v));
	} else if (p->ip_version == 6) {
		v = htons((uint16_t)(ip_len - sizeof(struct ipv6hdr)));
		memcpy(p->data + p->l3 + offsetof(struct ipv6hdr, payload_len), &v, sizeof(v));
	}
	return ip_len;
}

#endif /* FLOWMETA_TESTS_PACKET_H */
