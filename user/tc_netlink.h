/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The rtnetlink queries libbpf does not offer: the TC filters and the clsact qdisc of a device. */
#ifndef FLOWMETA_TC_NETLINK_H
#define FLOWMETA_TC_NETLINK_H

#include <stdbool.h>

/* Number of filters on the clsact ingress or egress hook of ifindex, or a negative errno. */
int tc_filter_count(int ifindex, bool ingress);
/* 1 when ifindex has a clsact qdisc, 0 when not, or a negative errno. */
int tc_clsact_present(int ifindex);

#endif /* FLOWMETA_TC_NETLINK_H */
