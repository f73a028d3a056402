/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * IP fragments. Only the first fragment of a datagram carries the transport header, so it leaves
 * its ports and its verdict in the `frags` map keyed by (addresses, identification, protocol,
 * version, direction); a later fragment takes them from there, is counted in the same flow as the
 * first one and never passes where the first was dropped. A later fragment whose first fragment
 * was not seen (reordered, or evicted from the LRU map) gets ports 0: it is metered in the ports-0
 * flow of its addresses and protocol rather than guessed into another, and its ports count as
 * unknown to the policy. The fragment key holds the protocol the fragment header names, which is
 * all a later IPv6 fragment knows; the first fragment also leaves the transport protocol it found
 * after any extension headers behind the fragment header, so the later ones join its flow.
 *
 * A denied or spoofed first fragment never changes how an allowed datagram is judged: the record
 * of a forwarded first fragment is only ever replaced by another forwarded one (which the kernel,
 * refusing overlapping fragments, would not reassemble with the first anyway).
 */
#ifndef FLOWMETA_BPF_FRAG_H
#define FLOWMETA_BPF_FRAG_H

#include "maps.h"
#include "parse.h"

static __always_inline void frag_key_init(struct frag_key *fk, const struct flow_key *key,
					  const struct pkt_meta *meta)
{
	__builtin_memset(fk, 0, sizeof(*fk));
	__builtin_memcpy(fk->src_addr, key->src_addr, sizeof(fk->src_addr));
	__builtin_memcpy(fk->dst_addr, key->dst_addr, sizeof(fk->dst_addr));
	fk->id = meta->frag_id;
	fk->protocol = meta->frag_proto;
	fk->ip_version = key->ip_version;
	fk->direction = key->direction;
}

/*
 * First fragment, judged (key->verdict): remember its ports and verdict, unless its transport
 * header was cut short (the later ones then have unknown ports, like it). A dropped one only
 * fills an empty slot.
 */
static __always_inline void frag_remember(const struct flow_key *key, const struct pkt_meta *meta)
{
	struct frag_ports ports;
	struct frag_key fk;

	if (meta->truncated_l4)
		return;
	__builtin_memset(&ports, 0, sizeof(ports));
	ports.src_port = key->src_port;
	ports.dst_port = key->dst_port;
	ports.protocol = key->protocol;
	ports.verdict = key->verdict;
	frag_key_init(&fk, key, meta);
	bpf_map_update_elem(&frags, &fk, &ports,
			    key->verdict == FLOW_VERDICT_FORWARDED ? BPF_ANY : BPF_NOEXIST);
}

/*
 * Later fragment: the ports and protocol of its first fragment into key, and that fragment's
 * verdict; -1 (ports left 0) when it was not seen.
 */
static __always_inline int frag_recall(struct flow_key *key, const struct pkt_meta *meta)
{
	struct frag_ports *ports;
	struct frag_key fk;

	frag_key_init(&fk, key, meta);
	ports = bpf_map_lookup_elem(&frags, &fk);
	if (!ports)
		return -1;
	key->src_port = ports->src_port;
	key->dst_port = ports->dst_port;
	key->protocol = ports->protocol;
	return ports->verdict;
}

#endif /* FLOWMETA_BPF_FRAG_H */
