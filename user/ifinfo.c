// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The metered interface's name, description and default Observation Domain ID (ifinfo.h), from
 * one RTM_GETLINK request and one RTM_GETADDR dump. Netlink rather than sysfs: under
 * `nsenter --net` /sys still shows the namespace it was mounted in, not ours.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_arp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ifinfo.h"
#include "netlink.h"

/* FNV-1a, 32 bits: spreads an IPv6 address or a machine-id over the domain space. */
static uint32_t fnv1a(uint32_t h, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

#define FNV_BASIS	2166136261u

uint32_t ifinfo_domain_of(int family, const void *addr)
{
	uint32_t v;

	if (family == AF_INET) {
		memcpy(&v, addr, 4);
		v = ntohl(v);
	} else {
		v = fnv1a(FNV_BASIS, addr, 16);
	}
	return v ? v : 1;
}

/* What the replies to one request told. */
struct scan {
	unsigned int ifindex;
	struct ifinfo *info;
	char kind[32];
	unsigned short type;		/* ARPHRD_* */
	bool have_link, have_v4, have_v6;
	uint8_t v4[4], v6[16];		/* the lowest of each family */
};

static void copy_attr(char *dst, size_t size, const struct rtattr *rta)
{
	size_t n = RTA_PAYLOAD(rta);

	if (n >= size)
		n = size - 1;
	memcpy(dst, RTA_DATA(rta), n);
	dst[n] = '\0';
}

static void on_link(const struct nlmsghdr *nh, void *ctx)
{
	struct scan *s = ctx;
	const struct ifinfomsg *ifi = NLMSG_DATA(nh);
	int len = (int)nh->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifi));

	if (nh->nlmsg_type != RTM_NEWLINK || (unsigned int)ifi->ifi_index != s->ifindex)
		return;
	s->have_link = true;
	s->type = ifi->ifi_type;
	for (const struct rtattr *rta = IFLA_RTA(ifi); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == IFLA_IFNAME) {
			copy_attr(s->info->name, sizeof(s->info->name), rta);
		} else if (rta->rta_type == IFLA_IFALIAS) {
			copy_attr(s->info->description, sizeof(s->info->description), rta);
		} else if (rta->rta_type == IFLA_LINKINFO) {
			int n = (int)RTA_PAYLOAD(rta);

			for (const struct rtattr *in = RTA_DATA(rta); RTA_OK(in, n);
			     in = RTA_NEXT(in, n))
				if (in->rta_type == IFLA_INFO_KIND)
					copy_attr(s->kind, sizeof(s->kind), in);
		}
	}
}

static void on_addr(const struct nlmsghdr *nh, void *ctx)
{
	struct scan *s = ctx;
	const struct ifaddrmsg *ifa = NLMSG_DATA(nh);
	int len = (int)nh->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifa));
	const void *local = NULL, *address = NULL, *a;

	if (nh->nlmsg_type != RTM_NEWADDR || ifa->ifa_index != s->ifindex ||
	    ifa->ifa_scope != RT_SCOPE_UNIVERSE)	/* no link-local: not the node's own */
		return;
	for (const struct rtattr *rta = IFA_RTA(ifa); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == IFA_LOCAL)
			local = RTA_DATA(rta);
		else if (rta->rta_type == IFA_ADDRESS)
			address = RTA_DATA(rta);
	}
	/* On a point-to-point link IFA_ADDRESS is the peer's: IFA_LOCAL is ours. */
	a = local ? local : address;
	if (!a)
		return;
	if (ifa->ifa_family == AF_INET && (!s->have_v4 || memcmp(a, s->v4, 4) < 0)) {
		memcpy(s->v4, a, 4);
		s->have_v4 = true;
	} else if (ifa->ifa_family == AF_INET6 && (!s->have_v6 || memcmp(a, s->v6, 16) < 0)) {
		memcpy(s->v6, a, 16);
		s->have_v6 = true;
	}
}

static int read_netlink(struct scan *s)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} link = {
		.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
		.nh.nlmsg_type = RTM_GETLINK,
		.nh.nlmsg_flags = NLM_F_REQUEST,
		.nh.nlmsg_seq = 1,
		.ifi.ifi_family = AF_UNSPEC,
		.ifi.ifi_index = (int)s->ifindex,
	};
	struct {
		struct nlmsghdr nh;
		struct ifaddrmsg ifa;
	} addr = {
		.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg)),
		.nh.nlmsg_type = RTM_GETADDR,
		.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		.nh.nlmsg_seq = 2,
		.ifa.ifa_family = AF_UNSPEC,
	};
	int fd, err;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	err = nl_request(fd, &link.nh, on_link, s);
	if (!err && !s->have_link)
		err = -ENODEV;
	if (!err)
		err = nl_request(fd, &addr.nh, on_addr, s);
	close(fd);
	return err;
}

static const char *link_type_name(unsigned short type)
{
	switch (type) {
	case ARPHRD_ETHER:
		return "ethernet";
	case ARPHRD_NONE:
	case ARPHRD_RAWIP:
		return "ip";
	default:
		return "link";
	}
}

/* The fallback domain: machine-id (or the host name) and the interface's name. */
static void machine_domain(struct ifinfo *info, const char *ifname)
{
	char id[128] = "";
	uint32_t h;
	FILE *f = fopen("/etc/machine-id", "re");
	const char *what = "machine-id";

	if (!f || !fgets(id, sizeof(id), f)) {
		gethostname(id, sizeof(id) - 1);
		what = "host name";
	}
	if (f)
		fclose(f);
	id[strcspn(id, "\n")] = '\0';
	h = fnv1a(fnv1a(FNV_BASIS, id, strlen(id)), ifname, strlen(ifname));
	info->domain = h ? h : 1;
	info->domain_from_address = false;
	snprintf(info->domain_source, sizeof(info->domain_source), "%s and %s", what, ifname);
}

int ifinfo_read(unsigned int ifindex, struct ifinfo *info)
{
	struct scan s = { .ifindex = ifindex, .info = info };
	char text[INET6_ADDRSTRLEN];
	int err;

	*info = (struct ifinfo){ 0 };
	err = read_netlink(&s);
	if (err || !info->name[0])
		snprintf(info->name, sizeof(info->name), "if%u", ifindex);
	if (!info->description[0] && !err)
		snprintf(info->description, sizeof(info->description), "flowmeta overlay %s (%s)",
			 info->name, s.kind[0] ? s.kind : link_type_name(s.type));
	if (s.have_v4 || s.have_v6) {
		int family = s.have_v4 ? AF_INET : AF_INET6;
		const void *a = s.have_v4 ? (const void *)s.v4 : (const void *)s.v6;

		info->domain = ifinfo_domain_of(family, a);
		info->domain_from_address = true;
		inet_ntop(family, a, text, sizeof(text));
		snprintf(info->domain_source, sizeof(info->domain_source), "%s", text);
	} else {
		machine_domain(info, info->name);
	}
	if (err)
		info->name[0] = '\0';
	return err;
}
