/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The one rtnetlink query libbpf does not offer: how many TC filters hang off a clsact hook. */
#ifndef FLOWMETA_TC_NETLINK_H
#define FLOWMETA_TC_NETLINK_H

#include <stdbool.h>

/* Number of filters on the clsact ingress or egress hook of ifindex, or a negative errno. */
int tc_filter_count(int ifindex, bool ingress);

#endif /* FLOWMETA_TC_NETLINK_H */
