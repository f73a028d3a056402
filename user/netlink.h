/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* One rtnetlink request and its replies: what ifinfo.c and tc_netlink.c both need. */
#ifndef FLOWMETA_NETLINK_H
#define FLOWMETA_NETLINK_H

#include <linux/netlink.h>

/* Called with every reply of the request's sequence (not NLMSG_DONE or NLMSG_ERROR). */
typedef void (*nl_reply_fn)(const struct nlmsghdr *nh, void *ctx);

/*
 * Send req on the NETLINK_ROUTE socket fd and hand each reply of its sequence to fn until the end:
 * a dump's NLMSG_DONE, or the one reply of a plain request. An NLMSG_ERROR ends it with its error
 * (0 for an acknowledgement). 0 or a negative errno.
 */
int nl_request(int fd, const struct nlmsghdr *req, nl_reply_fn fn, void *ctx);

#endif /* FLOWMETA_NETLINK_H */
