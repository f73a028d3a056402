/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The send trace: flowmeta_send_trace (bpf/export.h) attached to the daemon's own cgroup counts
 * the datagrams that leave each collector socket into the pinned map send_trace, where they
 * survive the daemon. After a crash, these counts tell which datagrams of the interrupted
 * transaction left (user/journal.c). The program goes when the daemon goes (a bpf_link).
 */
#ifndef FLOWMETA_SENDTRACE_H
#define FLOWMETA_SENDTRACE_H

#include <stdbool.h>
#include <stdint.h>

struct sendtrace {
	int link_fd;		/* -1: not attached, nothing is traced */
	int socks_fd;		/* trace_socks: socket cookie -> slot */
};

/*
 * Attach prog_fd to the cgroup v2 of this process (mounting a cgroup2 hierarchy on
 * /sys/fs/cgroup first when this mount namespace has none and is not the host's). On failure the
 * daemon runs untraced: logged once, returns a negative errno.
 */
int sendtrace_start(struct sendtrace *t, int prog_fd, int socks_fd);
void sendtrace_stop(struct sendtrace *t);
static inline bool sendtrace_active(const struct sendtrace *t)
{
	return t->link_fd >= 0;
}

/* Count the datagrams of socket fd in slot / stop counting them. Negative errno. */
int sendtrace_watch(struct sendtrace *t, int fd, uint32_t slot);
void sendtrace_forget(struct sendtrace *t, int fd);

#endif /* FLOWMETA_SENDTRACE_H */
