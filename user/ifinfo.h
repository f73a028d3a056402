/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the metered interface tells collectors about this node: its name, a description, and the
 * default Observation Domain ID derived from its addresses (read over rtnetlink, in the network
 * namespace flowmeta runs in).
 *
 * The domain (README, "Observation Domain"): the interface's numerically lowest IPv4 address as a
 * 32-bit number (100.64.0.1 -> 1681915905), else a 32-bit hash (FNV-1a) of its lowest global
 * IPv6 address, else, with no address at all, a hash of /etc/machine-id (the host name when it is
 * missing) and the interface's name. An overlay gives each node its own address, so the first two
 * keep the nodes of one overlay apart even on one machine; the last only keeps machines apart.
 * Never 0 (RFC 7011 §3.1 gives domain 0 a meaning of its own).
 */
#ifndef FLOWMETA_IFINFO_H
#define FLOWMETA_IFINFO_H

#include <stdbool.h>
#include <stdint.h>

#define IFINFO_NAME_LEN		16	/* IF_NAMESIZE; <net/if.h> clashes with <linux/if.h> */
#define IFINFO_DESCRIPTION_LEN	255	/* the longest IPFIX string, 254, and the NUL */
#define IFINFO_SOURCE_LEN	96

struct ifinfo {
	char name[IFINFO_NAME_LEN];
	/* The interface's alias (ip link set IFACE alias TEXT) when it has one, else
	 * "flowmeta overlay NAME (KIND)": the link kind (wireguard, tun, veth, ...) or its type. */
	char description[IFINFO_DESCRIPTION_LEN];
	uint32_t domain;
	char domain_source[IFINFO_SOURCE_LEN];	/* "100.64.0.1", "fd00::1", "machine-id and wg0" */
	bool domain_from_address;	/* false: the machine-id fallback */
};

/*
 * Read ifindex's name, description and addresses. 0, or a negative errno when the interface
 * cannot be read (info then holds the fallback: no name, the domain of the machine-id and
 * "if<ifindex>").
 */
int ifinfo_read(unsigned int ifindex, struct ifinfo *info);

/* The domain an address gives: IPv4 as a number, IPv6 hashed; never 0. For tests and README. */
uint32_t ifinfo_domain_of(int family, const void *addr);

#endif /* FLOWMETA_IFINFO_H */
