// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Counting the TC filters on a clsact hook (RTM_GETTFILTER dump), so flowmeta removes the clsact
 * qdisc only when it holds nothing but flowmeta's own filters, and finding whether a device has a
 * clsact qdisc at all (RTM_GETQDISC dump).
 */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netlink.h"
#include "tc_netlink.h"

/* Missing from older UAPI headers. */
#ifndef TC_H_MIN_INGRESS
#define TC_H_MIN_INGRESS 0xFFF2U
#define TC_H_MIN_EGRESS	 0xFFF3U
#endif

/* Says whether a reply of the wanted type counts (NULL: every one does). */
typedef bool (*reply_match_fn)(const struct nlmsghdr *nh, int ifindex);

struct reply_count {
	__u16 want;
	reply_match_fn match;
	int ifindex;
	int count;
};

static void count_reply(const struct nlmsghdr *nh, void *ctx)
{
	struct reply_count *c = ctx;

	if (nh->nlmsg_type == c->want && (!c->match || c->match(nh, c->ifindex)))
		c->count++;
}

/* Send one dump request for ifindex and count the replies of type want that match. */
static int dump_count(__u16 type, int ifindex, __u32 parent, __u16 want, reply_match_fn match)
{
	struct {
		struct nlmsghdr nh;
		struct tcmsg tc;
	} req = {
		.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg)),
		.nh.nlmsg_type = type,
		.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		.nh.nlmsg_seq = 1,
		.tc.tcm_family = AF_UNSPEC,
		.tc.tcm_ifindex = ifindex,
		.tc.tcm_parent = parent,
	};
	struct reply_count c = { .want = want, .match = match, .ifindex = ifindex };
	int fd, ret;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	ret = nl_request(fd, &req.nh, count_reply, &c);
	close(fd);
	return ret ? ret : c.count;
}

int tc_filter_count(int ifindex, bool ingress)
{
	return dump_count(RTM_GETTFILTER, ifindex,
			  TC_H_MAKE(TC_H_CLSACT, ingress ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS),
			  RTM_NEWTFILTER, NULL);
}

/* A clsact qdisc of ifindex (a qdisc dump lists every device's: filter here). */
static bool is_clsact_of(const struct nlmsghdr *nh, int ifindex)
{
	const struct tcmsg *tc = NLMSG_DATA(nh);
	int len = (int)nh->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*tc));
	const struct rtattr *rta;

	if (tc->tcm_ifindex != ifindex || tc->tcm_parent != TC_H_CLSACT)
		return false;
	for (rta = (const struct rtattr *)((const char *)tc + NLMSG_ALIGN(sizeof(*tc)));
	     RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
		if (rta->rta_type == TCA_KIND)
			return strcmp(RTA_DATA(rta), "clsact") == 0;
	return false;
}

int tc_clsact_present(int ifindex)
{
	int n = dump_count(RTM_GETQDISC, ifindex, 0, RTM_NEWQDISC, is_clsact_of);

	return n < 0 ? n : n > 0;
}
