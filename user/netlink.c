// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* One rtnetlink request and its replies (netlink.h). */
#include <errno.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "netlink.h"

int nl_request(int fd, const struct nlmsghdr *req, nl_reply_fn fn, void *ctx)
{
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	bool dump = req->nlmsg_flags & NLM_F_DUMP;

	if (send(fd, req, req->nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);

		if (len < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)len);
		     nh = NLMSG_NEXT(nh, len)) {
			if (nh->nlmsg_seq != req->nlmsg_seq)
				continue;
			if (nh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *err = NLMSG_DATA(nh);

				return err->error;
			}
			fn(nh, ctx);
			if (!dump)
				return 0;
		}
	}
}
