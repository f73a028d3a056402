/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The access-control policy and the trust requirements (SPEC §6) for one packet, on both hooks:
 * policy_verdict() says whether it is forwarded, denied by the rules (no rule allows it) or dropped
 * because its peer is untrusted; policy_drop_event() and policy_count_drop() account a drop.
 *
 * The peer of a packet is its source on ingress and its destination on egress. Per packet, with a
 * policy in force:
 *  1. A remembered connection of the current generation lets the packet through (its peer passed
 *     the trust check when it was remembered).
 *  2. One LPM lookup of the peer gives everything the policy says about it (struct policy_peer):
 *     untrusted, and per direction and protocol class which rules allow it.
 *  3. A connection remembered under an older generation is judged again by its opening packet,
 *     so a rule that was removed stops its connections at their next packet.
 *  4. The rules: a rule that allows every port of the class answers at once; otherwise only the
 *     peer's rules with a port range for this direction and class are checked, never all rules.
 *     A packet a rule allows in its own direction is remembered, so its replies pass.
 * ICMP other than echo (errors included), and packets whose ports are unknown (a later fragment
 * whose first was not seen, a truncated transport header), never use or create a remembered
 * connection, and unknown ports never match a port range: they pass only a rule that allows the
 * whole protocol class for that peer.
 *
 * Address spellings: an IPv6 peer written IPv4-mapped (::ffff:a.b.c.d), which a dual-stack socket
 * sees as the IPv4 peer a.b.c.d, is judged as a.b.c.d: its trust and its rules are a.b.c.d's (an
 * IPv6 rule prefix never admits it where the IPv4 rules do not), and it is untrusted as well when
 * its IPv6 form lies in an untrusted IPv6 prefix. Other embeddings (IPv4-compatible ::a.b.c.d,
 * NAT64 64:ff9b::/96, 6to4, Teredo) are ordinary IPv6 addresses: Linux sockets do not see them as
 * IPv4 peers.
 */
#ifndef FLOWMETA_BPF_POLICY_H
#define FLOWMETA_BPF_POLICY_H

#include <linux/in.h>

#include "events.h"
#include "maps.h"
#include "parse.h"

#define POLICY_ICMP_ECHO_REPLY		0
#define POLICY_ICMP_ECHO_REQUEST	8
#define POLICY_ICMPV6_ECHO_REQUEST	128
#define POLICY_ICMPV6_ECHO_REPLY	129
#define POLICY_ICMPV6_NEIGH_SOLICIT	135
#define POLICY_ICMPV6_NEIGH_ADVERT	136

/*
 * Idle time after which a remembered connection is forgotten: RFC 5382's 2 h 4 min for TCP,
 * RFC 4787's recommended 5 min for UDP and everything else.
 */
#define POLICY_CONN_IDLE_TCP_NS		(7440ULL * 1000000000ULL)
#define POLICY_CONN_IDLE_NS		(300ULL * 1000000000ULL)
/* last_seen_ns is written at most this often: a write per packet would bounce its cache line. */
#define POLICY_CONN_REFRESH_NS		1000000000ULL

/* How a packet may use remembered connections. */
enum conn_role {
	CONN_NONE = 0,	/* never: ICMP other than echo, ports unknown */
	CONN_ANY,	/* both directions of a connection: TCP, UDP, other protocols */
	CONN_OPENER,	/* only the opening direction: ICMP echo request */
	CONN_REPLY,	/* only against the opening direction: ICMP echo reply */
};

/* What the policy needs to know of a packet besides its key. */
struct policy_pkt {
	__u8 dir;		/* enum flow_direction */
	__u8 class;		/* enum policy_class */
	__u8 role;		/* enum conn_role */
	__u8 ports_known;
};

/* Index of the lowest set bit of a 64-bit word, by de Bruijn multiplication (BPF has no ctz). */
#define POLICY_DEBRUIJN64 0x03f79d71b4cb0a89ULL
static const __u8 policy_debruijn_index[64] = {
	0,  1,	48, 2,	57, 49, 28, 3,	61, 58, 50, 42, 38, 29, 17, 4,
	62, 55, 59, 36, 53, 51, 43, 22, 45, 39, 33, 30, 24, 18, 12, 5,
	63, 47, 56, 27, 60, 41, 37, 16, 54, 35, 52, 21, 44, 32, 23, 11,
	46, 26, 40, 15, 34, 20, 31, 10, 25, 14, 19, 9,	13, 8,	7,  6,
};

static __always_inline __u8 policy_class(const struct flow_key *key)
{
	switch (key->protocol) {
	case IPPROTO_TCP:
		return POLICY_CLASS_TCP;
	case IPPROTO_UDP:
		return POLICY_CLASS_UDP;
	case IPPROTO_ICMP:
		return key->ip_version == 4 ? POLICY_CLASS_ICMP : POLICY_CLASS_OTHER;
	case IPPROTO_ICMPV6:
		return key->ip_version == 6 ? POLICY_CLASS_ICMP : POLICY_CLASS_OTHER;
	default:
		return POLICY_CLASS_OTHER;
	}
}

static __always_inline __u8 policy_role(const struct flow_key *key, __u8 class, bool known)
{
	__u8 type = key->dst_port >> 8;
	bool v4 = key->ip_version == 4;

	if (!known)
		return CONN_NONE;
	if (class != POLICY_CLASS_ICMP)
		return CONN_ANY;
	if (key->dst_port & 0xff)	/* echo has code 0 */
		return CONN_NONE;
	if (type == (v4 ? POLICY_ICMP_ECHO_REQUEST : POLICY_ICMPV6_ECHO_REQUEST))
		return CONN_OPENER;
	if (type == (v4 ? POLICY_ICMP_ECHO_REPLY : POLICY_ICMPV6_ECHO_REPLY))
		return CONN_REPLY;
	return CONN_NONE;
}

/*
 * IPv6 neighbour solicitations and advertisements are link plumbing, like ARP (which is not IP and
 * always passes): the rules never drop them, or no allowed IPv6 traffic could flow on an Ethernet
 * overlay. The trust requirements still apply.
 */
static __always_inline bool policy_is_neighbour_discovery(const struct flow_key *key, __u8 class,
							   bool known)
{
	__u16 t = key->dst_port;

	return class == POLICY_CLASS_ICMP && key->ip_version == 6 && known &&
	       (t == POLICY_ICMPV6_NEIGH_SOLICIT << 8 || t == POLICY_ICMPV6_NEIGH_ADVERT << 8);
}

static __always_inline void policy_conn_key_init(struct policy_conn_key *ck,
						 const struct flow_key *key, __u8 role)
{
	bool in = key->direction == FLOW_DIR_INGRESS;

	__builtin_memset(ck, 0, sizeof(*ck));
	__builtin_memcpy(ck->local_addr, in ? key->dst_addr : key->src_addr,
			 sizeof(ck->local_addr));
	__builtin_memcpy(ck->peer_addr, in ? key->src_addr : key->dst_addr,
			 sizeof(ck->peer_addr));
	if (role == CONN_ANY) {
		ck->local_port = in ? key->dst_port : key->src_port;
		ck->peer_port = in ? key->src_port : key->dst_port;
	}
	ck->protocol = key->protocol;
	ck->ip_version = key->ip_version;
}

/* A remembered connection this packet may use: right direction, not idle too long. */
static __always_inline bool policy_conn_usable(const struct policy_conn *c,
					       const struct flow_key *key,
					       const struct policy_pkt *pp, __u64 now)
{
	__u64 idle = key->protocol == IPPROTO_TCP ? POLICY_CONN_IDLE_TCP_NS : POLICY_CONN_IDLE_NS;

	if (pp->role == CONN_OPENER && pp->dir != c->open_direction)
		return false;
	if (pp->role == CONN_REPLY && pp->dir == c->open_direction)
		return false;
	return now < c->last_seen_ns + idle;
}

/* ::ffff:a.b.c.d (RFC 4291 §2.5.5.2) */
static __always_inline bool ipv6_is_v4mapped(const __u8 *a)
{
	__u64 hi;
	__u32 mid;

	__builtin_memcpy(&hi, a, sizeof(hi));
	__builtin_memcpy(&mid, a + 8, sizeof(mid));
	return hi == 0 && mid == bpf_htonl(0xffff);
}

/*
 * The key of the packet's peer in `policy_peers`, as the identity a socket sees (see the top of
 * this file). Returns true when the peer is IPv4-mapped and its IPv6 spelling is untrusted: both
 * spellings converge on the one lookup that follows, so the verifier checks what comes after once.
 */
static __always_inline bool policy_peer_key(const struct policy_header *h,
					    const struct flow_key *key, struct policy_peer_key *pk)
{
	const __u8 *addr = key->direction == FLOW_DIR_INGRESS ? key->src_addr : key->dst_addr;
	struct policy_peer *v6;

	__builtin_memset(pk, 0, sizeof(*pk));
	pk->prefixlen = POLICY_PEER_KEY_BITS + 128;
	pk->slot = h->gen & 1;
	pk->ip_version = key->ip_version;
	__builtin_memcpy(pk->addr, addr, sizeof(pk->addr));
	if (key->ip_version != 6 || !ipv6_is_v4mapped(addr))
		return false;
	v6 = bpf_map_lookup_elem(&policy_peers, pk);
	if (v6 && v6->untrusted)
		return true;
	__builtin_memset(pk->addr, 0, sizeof(pk->addr));
	__builtin_memcpy(pk->addr, addr + 12, 4);
	pk->ip_version = 4;
	return false;
}

/*
 * Whether one of the peer's rules with a port range for direction dir and class (TCP or UDP)
 * includes port, lowest bit first. A global function: the verifier walks its bitmap loops once,
 * not once per way through flowmeta_policy() to each of its two calls.
 */
__noinline int flowmeta_port_rules(const struct policy_header *h, const struct policy_peer *peer,
				   __u32 dir, __u32 class, __u32 port)
{
	const __u64 *words;

	if (!h || !peer)
		return 0;
	words = peer->port_rules[dir & 1][class & 1];
	for (int w = 0; w < FLOWMETA_POLICY_MAX_RULES / 64; w++) {
		__u64 bits = words[w];

		for (int k = 0; k < 64 && bits; k++) {
			__u64 low = bits & -bits;
			__u32 i = w * 64 + policy_debruijn_index[(low * POLICY_DEBRUIJN64) >> 58];
			const struct policy_ports *r =
				&h->ports[i & (FLOWMETA_POLICY_MAX_RULES - 1)];

			bits ^= low;
			if (port >= r->min && port <= r->max)
				return 1;
		}
	}
	return 0;
}

/*
 * Whether a rule allows, for this peer, a packet of class opening in direction dir to port: one
 * that allows the whole class, or (ports known) one of the peer's port-range rules.
 */
static __always_inline bool policy_rules_allow(const struct policy_header *h,
					       const struct policy_peer *peer, __u8 dir,
					       __u8 class, __u16 port, bool known)
{
	if (peer->allow_all & (1 << ((dir & 1) * POLICY_CLASSES + (class & 3))))
		return true;
	if (class > POLICY_CLASS_UDP || !known)
		return false;
	return flowmeta_port_rules(h, peer, dir, class, port);
}

/*
 * The verdict of one packet under the policy generation h (a global function: the verifier checks
 * it once, on its own, instead of once per way through the parser; it also puts struct
 * policy_header in the object's BTF, which user/policy.c gives the inner maps it creates).
 * Returns an enum flow_verdict.
 */
__noinline int flowmeta_policy(const struct flow_key *key, const struct policy_header *h,
			       bool ports_known)
{
	/* Connection idle times are in ns (constants, whatever HZ): read only under a policy. */
	__u64 now = bpf_ktime_get_coarse_ns();
	struct policy_conn *c, *stale = NULL;
	struct policy_peer_key pk;
	struct policy_conn_key ck;
	struct policy_peer *peer;
	struct policy_conn nc;
	struct policy_pkt pp;
	bool acl;

	if (!key || !h)
		return FLOW_VERDICT_FORWARDED;
	acl = h->flags & POLICY_F_ACL;
	pp.dir = key->direction;
	pp.class = policy_class(key);
	pp.ports_known = ports_known;
	pp.role = policy_role(key, pp.class, pp.ports_known);

	if (acl && pp.role != CONN_NONE) {
		policy_conn_key_init(&ck, key, pp.role);
		c = bpf_map_lookup_elem(&policy_conns, &ck);
		if (c && policy_conn_usable(c, key, &pp, now)) {
			if (c->gen == h->gen) {
				if (now - c->last_seen_ns >= POLICY_CONN_REFRESH_NS)
					c->last_seen_ns = now;
				return FLOW_VERDICT_FORWARDED;
			}
			stale = c;
		}
	}

	if (policy_peer_key(h, key, &pk))
		return FLOW_VERDICT_UNTRUSTED;
	peer = bpf_map_lookup_elem(&policy_peers, &pk);
	if (peer && peer->untrusted)
		return FLOW_VERDICT_UNTRUSTED;
	if (!acl || policy_is_neighbour_discovery(key, pp.class, pp.ports_known))
		return FLOW_VERDICT_FORWARDED;
	if (!peer)
		return FLOW_VERDICT_ACL_DENY;

	if (stale) {
		/* Its opening packet: this one, or its reverse (whose port is our source). */
		__u8 open = stale->open_direction;
		__u16 port = pp.dir == open ? key->dst_port : key->src_port;

		if (policy_rules_allow(h, peer, open, pp.class, port, true)) {
			stale->gen = h->gen;
			stale->last_seen_ns = now;
			return FLOW_VERDICT_FORWARDED;
		}
	}

	if (!policy_rules_allow(h, peer, pp.dir, pp.class, key->dst_port, pp.ports_known))
		return FLOW_VERDICT_ACL_DENY;
	if (pp.role == CONN_ANY || pp.role == CONN_OPENER) {
		__builtin_memset(&nc, 0, sizeof(nc));
		nc.last_seen_ns = now;
		nc.gen = h->gen;
		nc.open_direction = pp.dir;
		bpf_map_update_elem(&policy_conns, &ck, &nc, BPF_ANY);
	}
	return FLOW_VERDICT_FORWARDED;
}

/*
 * The verdict of a packet; ports_known: the key's ports (ICMP type and code) are the packet's own.
 * Without a policy (the outer map empty) this is one inlined array lookup and one branch: the hot
 * path of SPEC §9 pays nothing else.
 */
static __always_inline __u8 policy_verdict(const struct flow_key *key, bool ports_known)
{
	struct policy_header *h;
	__u32 zero = 0;
	void *inner;

	inner = bpf_map_lookup_elem(&policy, &zero);
	if (__builtin_expect(!inner, 1))
		return FLOW_VERDICT_FORWARDED;
	h = bpf_map_lookup_elem(inner, &zero);
	if (!h)
		return FLOW_VERDICT_FORWARDED;
	return flowmeta_policy(key, h, ports_known);
}

/* Whether a policy is in force: the outer map holds a generation. */
static __always_inline bool policy_in_force(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&policy, &zero) != NULL;
}

/*
 * The first drop of a flow on this CPU: a hint for the daemon to export its drop record soon. At
 * most FLOWMETA_DROP_EVENTS_PER_WINDOW per CPU per window, so a flood of new drop flows (spoofed
 * sources) cannot fill the ring buffer and crowd out the other events; the ones held back are
 * counted in events_lost, and their flows are exported at the next poll all the same.
 */
static __always_inline void policy_drop_event(const struct flow_key *key, __u64 now)
{
	struct event_budget *b = event_budget_now();
	struct flowmeta_stats *st;

	if (!b)
		return;
	if (b->drop_events >= FLOWMETA_DROP_EVENTS_PER_WINDOW) {
		st = stats_this_cpu();
		if (st)
			st->events_lost++;
		return;
	}
	b->drop_events++;
	event_emit(key, FLOW_EVENT_DROP, now);
}

/* Frames the policy dropped (a GSO skb counts as its segments, like its flow). */
static __always_inline void policy_count_drop(__u64 packets)
{
	struct flowmeta_stats *st = stats_this_cpu();

	if (st)
		st->policy_dropped += packets;
}

#endif /* FLOWMETA_BPF_POLICY_H */
