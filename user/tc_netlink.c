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

#include "tc_netlink.h"

/* Missing from older UAPI headers. */
#ifndef TC_H_MIN_INGRESS
#define TC_H_MIN_INGRESS 0xFFF2U
#define TC_H_MIN_EGRESS	 0xFFF3U
#endif

/*
 * Read the replies to a dump request: the number of messages of type want for which match (if any)
 * says yes, or a negative errno.
 */
typedef bool (*reply_match_fn)(const struct nlmsghdr *nh, int ifindex);

static int count_replies(int fd, __u32 seq, __u16 want, reply_match_fn match, int ifindex)
{
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	int count = 0;

	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);

		if (len < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)len);
		     nh = NLMSG_NEXT(nh, len)) {
			if (nh->nlmsg_seq != seq)
				continue;
			if (nh->nlmsg_type == NLMSG_DONE)
				return count;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *err = NLMSG_DATA(nh);

				return err->error ? err->error : count;
			}
			if (nh->nlmsg_type == want && (!match || match(nh, ifindex)))
				count++;
		}
	}
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
	int fd, ret;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (send(fd, &req, req.nh.nlmsg_len, 0) < 0)
		ret = -errno;
	else
		ret = count_replies(fd, req.nh.nlmsg_seq, want, match, ifindex);
	close(fd);
	return ret;
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
