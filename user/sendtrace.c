// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The send trace (sendtrace.h). Which cgroup: the daemon's own, as /proc/self/cgroup names it in
 * the cgroup v2 hierarchy. Under systemd that is the unit's cgroup, holding flowmeta alone; started
 * by hand it is the shell's, whose other processes then pay one hash lookup per datagram they send
 * while the daemon runs (README); never the root cgroup, which the daemon leaves for one of its
 * own. Attached with BPF_F_ALLOW_MULTI semantics of a link: other programs on the cgroup
 * (systemd's IP accounting) keep running.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "log.h"
#include "sendtrace.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

/* This process's cgroup v2 path ("0::/path" in /proc/self/cgroup). */
static int own_cgroup(char *buf, size_t len)
{
	char line[PATH_MAX + 8];
	FILE *f = fopen("/proc/self/cgroup", "re");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		err = snprintf(buf, len, "%s", line + 3) >= (int)len ? -ENAMETOOLONG : 0;
		break;
	}
	fclose(f);
	return err;
}

/* Where this mount namespace has the cgroup2 hierarchy mounted, from /proc/self/mountinfo. */
static int cgroup2_mount(char *buf, size_t len)
{
	char line[2 * PATH_MAX];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char mnt[PATH_MAX], *sep = strstr(line, " - ");

		/* "id parent maj:min root mountpoint options ... - fstype source options" */
		if (!sep || strncmp(sep, " - cgroup2 ", 11) != 0)
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		err = snprintf(buf, len, "%s", mnt) >= (int)len ? -ENAMETOOLONG : 0;
		break;
	}
	fclose(f);
	return err;
}

static bool private_mount_ns(void)
{
	struct stat self, init;

	return stat("/proc/self/ns/mnt", &self) == 0 && stat("/proc/1/ns/mnt", &init) == 0 &&
	       self.st_ino != init.st_ino;
}

/*
 * A daemon in the root cgroup (started by hand on a machine without systemd, or from a container
 * runtime's init) would hook every socket of the machine: it moves into a cgroup of its own
 * instead, ROOT/flowmeta (shared by such daemons; the root cgroup may hold processes and children
 * both). Anywhere else it stays where it was put.
 */
static int leave_root_cgroup(const char *mnt, char *path, size_t len)
{
	char dir[PATH_MAX], procs[PATH_MAX + 16];
	FILE *f;

	if (strcmp(path, "/") != 0)
		return 0;
	if (snprintf(dir, sizeof(dir), "%s/flowmeta", mnt) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	f = fopen(procs, "we");
	if (!f)
		return -errno;
	fprintf(f, "%d\n", getpid());
	if (fclose(f))
		return -errno;
	log_info("moved into cgroup /flowmeta (was the root cgroup): the send trace sees this "
		 "daemon's sockets only");
	return snprintf(path, len, "/flowmeta") >= (int)len ? -ENAMETOOLONG : 0;
}

/*
 * `ip netns exec` gives the daemon a mount namespace of its own whose fresh /sys has no cgroup
 * hierarchy: mount one there (invisible to the host), as the loader does for the bpffs. The host's
 * own mount namespace is never changed.
 */
static int find_cgroup_dir(char *buf, size_t len)
{
	char mnt[PATH_MAX], path[PATH_MAX];
	struct statfs st;
	int err;

	err = own_cgroup(path, sizeof(path));
	if (err)
		return err;
	err = cgroup2_mount(mnt, sizeof(mnt));
	if (err == -ENOENT && private_mount_ns() && statfs(CGROUP_ROOT, &st) == 0 &&
	    st.f_type == SYSFS_MAGIC) {
		if (mount("cgroup2", CGROUP_ROOT, "cgroup2", 0, NULL) < 0)
			return -errno;
		log_info("mounted the cgroup2 hierarchy on %s (this mount namespace only) for the "
			 "send trace", CGROUP_ROOT);
		err = cgroup2_mount(mnt, sizeof(mnt));
	}
	if (!err)
		err = leave_root_cgroup(mnt, path, sizeof(path));
	if (err)
		return err;
	return snprintf(buf, len, "%s%s", mnt, path) >= (int)len ? -ENAMETOOLONG : 0;
}

int sendtrace_start(struct sendtrace *t, int prog_fd, int socks_fd)
{
	char dir[PATH_MAX];
	int cg, err;

	t->link_fd = -1;
	t->socks_fd = socks_fd;
	err = find_cgroup_dir(dir, sizeof(dir));
	if (err) {
		log_warnx("send trace: no cgroup v2 for this process (%s); a crash in the instant "
			  "between a send and its journal entry may send a datagram twice",
			  strerror(-err));
		return err;
	}
	cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0) {
		err = -errno;
		log_warnx("send trace: open %s: %s", dir, strerror(-err));
		return err;
	}
	t->link_fd = bpf_link_create(prog_fd, cg, BPF_CGROUP_INET_EGRESS, NULL);
	err = t->link_fd < 0 ? -errno : 0;
	close(cg);
	if (err) {
		t->link_fd = -1;
		log_warnx("send trace: attach to cgroup %s: %s; a crash in the instant between a "
			  "send and its journal entry may send a datagram twice", dir, strerror(-err));
		return err;
	}
	log_debug("send trace attached to cgroup %s", dir);
	return 0;
}

void sendtrace_stop(struct sendtrace *t)
{
	if (t->link_fd >= 0)
		close(t->link_fd);
	t->link_fd = -1;
}

static int socket_cookie(int fd, __u64 *cookie)
{
	socklen_t len = sizeof(*cookie);

	return getsockopt(fd, SOL_SOCKET, SO_COOKIE, cookie, &len) ? -errno : 0;
}

int sendtrace_watch(struct sendtrace *t, int fd, uint32_t slot)
{
	__u64 cookie;
	int err;

	if (t->link_fd < 0)
		return -ENOTCONN;
	err = socket_cookie(fd, &cookie);
	if (err)
		return err;
	return bpf_map_update_elem(t->socks_fd, &cookie, &slot, BPF_ANY) ? -errno : 0;
}

void sendtrace_forget(struct sendtrace *t, int fd)
{
	__u64 cookie;

	if (t->link_fd >= 0 && !socket_cookie(fd, &cookie))
		bpf_map_delete_elem(t->socks_fd, &cookie);
}
