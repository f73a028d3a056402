// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Loader: skeleton open/load, pinning under the pin directory, TC (tcx links or clsact) and XDP
 * attachment, adoption of what an earlier instance left pinned, and clean detachment.
 *
 * Kernel state outlives the daemon on purpose: the programs keep counting into the pinned maps while
 * no daemon runs (crash, SIGKILL, upgrade), and the next run adopts the maps and replaces the programs
 * in place (tcx link update, TC filter replace, XDP replace), so no packet goes uncounted across a
 * restart. The tcx links are pinned (link_tc_ingress, link_tc_egress): the pin is what keeps them
 * attached while no daemon runs.
 *
 * Every pin goes through user/pins.c, which knows which pins of the directory are flowmeta's: a
 * directory where a pin of one of flowmeta's names is another tool's is refused untouched. Pins of
 * this layout are adopted; those of an older one (an upgrade) are replaced, except the old flow
 * table, export state and stats, kept as old<layout>_<name> for the daemon to export
 * (loader_old_maps()).
 */
/* glibc's net/if.h must come before the UAPI headers that include linux/if.h. */
#include <net/if.h>
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "flowmeta.h"
#include "flowmeta.skel.h"
#include "loader.h"
#include "log.h"
#include "pins.h"
#include "sizing.h"
#include "tc_netlink.h"

#define BPFFS_ROOT "/sys/fs/bpf"

/* Our TC filters sit at a fixed handle and priority: found again after a crash, replaced in place. */
#define TC_HANDLE   0xf10e
#define TC_PRIORITY 1

/* Pin names of the programs, next to the maps (which keep their own names). */
#define PIN_TC_INGRESS	"prog_tc_ingress"
#define PIN_TC_EGRESS	"prog_tc_egress"
#define PIN_XDP_INGRESS "prog_xdp_ingress"
/* The tcx links (the programs they run are not pinned on their own). */
#define PIN_LINK_INGRESS "link_tc_ingress"
#define PIN_LINK_EGRESS	 "link_tc_egress"

/* Linux 6.6's tcx UAPI, which the 6.1 headers and libbpf 1.1 do not have. */
#define TCX_INGRESS	  46	/* BPF_TCX_INGRESS */
#define TCX_EGRESS	  47	/* BPF_TCX_EGRESS */
#define LINK_TYPE_TCX	  11	/* BPF_LINK_TYPE_TCX */
#define TCX_F_BEFORE	  (1U << 3)	/* BPF_F_BEFORE: with no relative program, the first */
#define KERNEL_ENOTSUPP	  524	/* the kernel's ENOTSUPP, not in userspace errno.h */

/* Maps, programs and the old maps of an upgrade: more than flowmeta ever pins. */
#define MAX_PIN_NAMES	FLOWMETA_MAX_PINS

/* What an upgrade keeps of an older layout's pins, as old<layout>_<name>, for the daemon. */
static const char *const kept_old[] = { "flows", "export_state", "stats" };

struct attachment {
	struct flowmeta *skel;
	struct flowmeta_maps maps;
	struct pins pins;
	char ifname[IF_NAMESIZE];
	char pin_dir[PATH_MAX];
	unsigned int ifindex;
	enum ingress_hook hook;
	enum tc_attach tc_mode;	/* TC_ATTACH_TCX or TC_ATTACH_CLSACT once attached */
	int lock_fd;		/* flock on the pin directory */
	int claim_fd;		/* abstract socket naming the interface */
	bool default_dir;	/* the pin directory is LOADER_PIN_ROOT/IFNAME */
	bool fresh;		/* the directory held no flowmeta pins before this run */
	bool adopted;
	unsigned int upgraded_from;	/* layout of the pins this run replaced (said once), or 0 */
	bool metering;
};

static int pin_dir_path(const char *ifname, const char *pin_dir, char *buf, size_t len)
{
	int n = pin_dir ? snprintf(buf, len, "%s", pin_dir)
			: snprintf(buf, len, "%s/%s", LOADER_PIN_ROOT, ifname);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int pin_path(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static bool is_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

/*
 * `ip netns exec` remounts /sys, hiding the host's bpffs; a fresh machine may have none mounted.
 * Mount one so pinning works, and say so: its pins then live only in this mount namespace.
 */
static int ensure_bpffs(const char *pin_dir)
{
	if (strncmp(pin_dir, BPFFS_ROOT "/", strlen(BPFFS_ROOT "/")) != 0 || is_bpffs(BPFFS_ROOT))
		return 0;
	if (mkdir(BPFFS_ROOT, 0700) < 0 && errno != EEXIST) {
		log_err("create %s", BPFFS_ROOT);
		return -errno;
	}
	if (mount("bpf", BPFFS_ROOT, "bpf", 0, "mode=0700") < 0) {
		int err = -errno;

		log_errx("%s is not a bpffs and mounting one failed: %s; mount it (mount -t bpf bpf "
			 "%s) or give --pin-dir a directory on a bpffs", BPFFS_ROOT, strerror(-err),
			 BPFFS_ROOT);
		return err;
	}
	log_info("%s was not a bpffs: mounted one (pins are visible in this mount namespace only)",
		 BPFFS_ROOT);
	return 0;
}

/*
 * One run per interface: an exclusive flock on the pin directory itself. The kernel drops it when the
 * holder dies, however it dies, so a crash never leaves a stale lock behind.
 */
static int lock_pin_dir(const char *pin_dir, int how)
{
	int fd = open(pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (flock(fd, how | LOCK_NB) < 0) {
		int err = errno == EWOULDBLOCK ? -EBUSY : -errno;

		close(fd);
		return err;
	}
	return fd;
}

/*
 * One run per interface also across pin directories: an abstract unix socket named after the
 * interface index. Abstract names are scoped by network namespace, exactly like interface indexes,
 * and vanish with their owner however it dies.
 */
static int claim_interface(unsigned int ifindex)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd, len;

	/* sun_path[0] stays NUL: the abstract namespace. */
	len = snprintf(addr.sun_path + 1, sizeof(addr.sun_path) - 1, "flowmeta/ifindex/%u", ifindex);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&addr, offsetof(struct sockaddr_un, sun_path) + 1 + len) < 0) {
		int err = errno == EADDRINUSE ? -EBUSY : -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int link_type(const char *ifname)
{
	struct ifreq ifr = { 0 };
	int fd, ret;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ret = ioctl(fd, SIOCGIFHWADDR, &ifr) < 0 ? -errno : ifr.ifr_hwaddr.sa_family;
	close(fd);
	return ret;
}

/*
 * Whether frames on the device start at the IP header. Read with an ioctl, not from /sys/class/net:
 * under `nsenter --net` sysfs still shows the devices of another namespace.
 */
static int device_is_l3(const char *ifname, bool *l3)
{
	int type = link_type(ifname);

	if (type < 0) {
		errno = -type;
		log_err("read the link type of %s", ifname);
		return type;
	}
	switch (type) {
	case ARPHRD_ETHER:
	case ARPHRD_LOOPBACK:
	case ARPHRD_IEEE802:
		*l3 = false;
		return 0;
	case ARPHRD_NONE:	/* tun, WireGuard */
	case ARPHRD_RAWIP:
	case ARPHRD_TUNNEL:
	case ARPHRD_TUNNEL6:
	case ARPHRD_IPGRE:
	case ARPHRD_IP6GRE:
	case ARPHRD_SIT:
		*l3 = true;
		return 0;
	default:
		log_errx("%s: link type %d is not supported (Ethernet-framed or IP-only devices are)",
			  ifname, type);
		return -EOPNOTSUPP;
	}
}

/* The maps flowmeta pins: every map of the object but its data sections and the marker. */
static bool pinned_map(const struct bpf_map *map)
{
	return !bpf_map__is_internal(map) && strcmp(bpf_map__name(map), "flowmeta_owner") != 0;
}

/* The names flowmeta pins now (valid while obj is): its maps and its programs. */
static unsigned int pin_names(struct bpf_object *obj, const char **names)
{
	static const char *const progs[] = { PIN_TC_INGRESS,   PIN_TC_EGRESS,  PIN_XDP_INGRESS,
					     PIN_LINK_INGRESS, PIN_LINK_EGRESS };
	struct bpf_map *map;
	unsigned int n = 0;

	bpf_object__for_each_map(map, obj)
		if (pinned_map(map) && n < MAX_PIN_NAMES)
			names[n++] = bpf_map__name(map);
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]) && n < MAX_PIN_NAMES; i++)
		names[n++] = progs[i];
	return n;
}

/*
 * Adopt flowmeta's pin of this map's name when this layout created it (a restart after a crash or
 * a stop without detach). The flow tables keep their size (adopting must not lose their counts,
 * whatever MaxFlows says now). A pinned map whose layout an upgrade changed cannot be reused: the
 * flow table then refuses the start (its counts would be lost: `flowmeta detach` decides that),
 * any other map is transient or rebuilt by the daemon, so it is replaced. The pins of an older
 * layout are never adopted: the upgrade replaces them.
 */
static int adopt_map(struct attachment *att, struct bpf_map *map)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	unsigned int layout = 0;
	char path[PATH_MAX];
	bool same_layout;
	int fd, err;

	if (!pins_owned(&att->pins, bpf_map__name(map), &layout) || layout != FLOWMETA_PIN_LAYOUT)
		return 0;
	err = pin_path(path, sizeof(path), att->pin_dir, bpf_map__name(map));
	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		log_errx("open %s: %s", path, strerror(-err));
		if (fd >= 0)
			close(fd);
		return err;
	}
	same_layout = info.type == bpf_map__type(map) && info.key_size == bpf_map__key_size(map) &&
		      info.value_size == bpf_map__value_size(map) &&
		      info.map_flags == bpf_map__map_flags(map);
	if (!same_layout) {
		close(fd);
		if (strcmp(bpf_map__name(map), "flows") == 0) {
			log_errx("%s was pinned by an incompatible flowmeta version; `flowmeta detach` "
				  "removes it (and the counts it holds)", path);
			return -EINVAL;
		}
		log_warnx("%s was pinned by an incompatible flowmeta version: replacing it", path);
		return 0;
	}
	if (info.max_entries != bpf_map__max_entries(map)) {
		enum bpf_map_type type = bpf_map__type(map);

		if (type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_HASH)
			log_warnx("%s: keeping the pinned table size %u instead of %s %u until "
				  "`flowmeta detach` removes it", path, info.max_entries,
				  map == att->skel->maps.drop_flows ? "MaxFlows / 8:" : "MaxFlows",
				  bpf_map__max_entries(map));
		bpf_map__set_max_entries(map, info.max_entries);
	}
	err = bpf_map__reuse_fd(map, fd);
	close(fd);
	if (err)
		log_errx("adopt %s: %s", path, strerror(-err));
	else
		att->adopted = true;
	return err;
}

/*
 * An older layout's pins (an upgrade): its flow table, export state and stats are kept as
 * old<layout>_<name> for the daemon to export; they stop changing once this run's programs
 * replace the old ones. The rest is replaced by pin_maps() and attach_programs().
 */
static int keep_old_maps(struct attachment *att)
{
	char to[FLOWMETA_PIN_NAME_LEN];
	int err = 0;

	for (size_t i = 0; i < sizeof(kept_old) / sizeof(kept_old[0]) && !err; i++) {
		unsigned int layout;

		if (!pins_owned(&att->pins, kept_old[i], &layout) || layout >= FLOWMETA_PIN_LAYOUT)
			continue;
		snprintf(to, sizeof(to), "old%u_%s", layout, kept_old[i]);
		err = pins_rename(&att->pins, kept_old[i], to);
		if (!err && !att->upgraded_from) {
			att->upgraded_from = layout;
			log_info("%s: upgrading the pins of an earlier flowmeta (layout %u) in %s; "
				 "its counts are kept in old%u_* until exported", att->ifname,
				 layout, att->pin_dir, layout);
		}
	}
	return err;
}

/* Pin every map of this run (the adopted ones are pinned already), then drop older leftovers. */
static int pin_maps(struct attachment *att)
{
	const char *names[MAX_PIN_NAMES];
	unsigned int n = pin_names(att->skel->obj, names);
	struct bpf_map *map;
	int err;

	err = pins_mark(&att->pins, bpf_map__fd(att->skel->maps.flowmeta_owner)) ?:
	      keep_old_maps(att);
	bpf_object__for_each_map(map, att->skel->obj) {
		if (err || !pinned_map(map))
			continue;
		err = pins_pin(&att->pins, bpf_map__name(map), bpf_map__fd(map), PIN_KIND_MAP);
	}
	/* Older pins of a name this version no longer has (0.1.0's drop_budget). */
	for (int i = 0; i < FLOWMETA_MAX_PINS && !err; i++) {
		const struct pin_record *r = &att->pins.owner.pins[i];
		bool current = false;

		if (!r->name[0] || r->layout >= FLOWMETA_PIN_LAYOUT || !strncmp(r->name, "old", 3))
			continue;
		for (unsigned int k = 0; k < n; k++)
			current |= !strcmp(names[k], r->name);
		if (!current) {
			char name[FLOWMETA_PIN_NAME_LEN];

			memcpy(name, r->name, sizeof(name));
			err = pins_unpin(&att->pins, name);
		}
	}
	return err;
}

static int pin_program(struct attachment *att, struct bpf_program *prog, const char *name)
{
	return pins_pin(&att->pins, name, bpf_program__fd(prog), PIN_KIND_PROG);
}

/*
 * libbpf refuses options whose bytes past the last field it knows are not zero, padding included:
 * LIBBPF_OPTS zeroes the whole struct first, a designated initializer does not promise to.
 */
#define TC_HOOK(name, index, point) \
	LIBBPF_OPTS(bpf_tc_hook, name, .ifindex = (index), .attach_point = (point))

static int tc_attach(struct attachment *att, struct bpf_program *prog, bool ingress)
{
	TC_HOOK(hook, att->ifindex, ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
	/* BPF_TC_F_REPLACE: an earlier instance's filter is swapped, not doubled. */
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = bpf_program__fd(prog), .handle = TC_HANDLE,
		    .priority = TC_PRIORITY, .flags = BPF_TC_F_REPLACE);
	int err = bpf_tc_attach(&hook, &opts);

	if (err)
		log_errx("attach tc %s on %s: %s", ingress ? "ingress" : "egress", att->ifname,
			  strerror(-err));
	return err;
}

/* Remove our filter from one clsact hook; absent (no filter, or no clsact qdisc) is fine. */
static int tc_detach(unsigned int ifindex, const char *ifname, bool ingress)
{
	TC_HOOK(hook, ifindex, ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIORITY);
	int err = bpf_tc_detach(&hook, &opts);

	/* No such filter; or no clsact qdisc at all (then the kernel says EINVAL). */
	if (err == -ENOENT || (err == -EINVAL && tc_clsact_present(ifindex) == 0))
		return 0;
	if (err)
		log_warnx("detach tc %s on %s: %s", ingress ? "ingress" : "egress", ifname,
			  strerror(-err));
	return err;
}

/* Delete the clsact qdisc only when no other filter uses it: the interface is left as it was. */
static void tc_remove_clsact_if_unused(unsigned int ifindex, const char *ifname)
{
	TC_HOOK(hook, ifindex, BPF_TC_INGRESS | BPF_TC_EGRESS);
	int in = tc_filter_count(ifindex, true), out = tc_filter_count(ifindex, false);

	if (in < 0 || out < 0) {
		log_debug("%s: clsact qdisc absent or unreadable, nothing to remove", ifname);
		return;
	}
	if (in || out) {
		log_info("%s: clsact qdisc left in place: it holds other filters", ifname);
		return;
	}
	bpf_tc_hook_destroy(&hook);
}

static bool prog_is_ours(__u32 prog_id)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(prog_id);
	bool ours;

	if (fd < 0)
		return false;
	/* The kernel keeps BPF_OBJ_NAME_LEN - 1 characters of the name. */
	ours = bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
	       strncmp(info.name, "flowmeta_xdp_ingress", sizeof(info.name) - 1) == 0;
	close(fd);
	return ours;
}

/* Remove flowmeta's XDP program from the interface, leaving anyone else's alone. */
static int xdp_detach_ours(unsigned int ifindex, const char *ifname)
{
	struct bpf_xdp_attach_opts opts = { .sz = sizeof(opts) };
	__u32 prog_id = 0;
	int err;

	if (bpf_xdp_query_id(ifindex, 0, &prog_id) < 0 || !prog_id || !prog_is_ours(prog_id))
		return 0;
	opts.old_prog_fd = bpf_prog_get_fd_by_id(prog_id);
	if (opts.old_prog_fd < 0)
		return -errno;
	err = bpf_xdp_detach(ifindex, XDP_FLAGS_REPLACE, &opts);
	close(opts.old_prog_fd);
	if (err)
		log_warnx("detach xdp from %s: %s", ifname, strerror(-err));
	return err;
}

/*
 * Native XDP where the driver has it, generic otherwise. An earlier flowmeta program is replaced
 * atomically in the mode it was attached in; anyone else's XDP program is never touched.
 */
static int xdp_attach(struct attachment *att, struct bpf_program *prog)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, query);
	struct bpf_xdp_attach_opts opts = { .sz = sizeof(opts), .old_prog_fd = -1 };
	int prog_fd = bpf_program__fd(prog);
	const char *mode = "native";
	int err;

	if (bpf_xdp_query(att->ifindex, 0, &query) == 0 && query.prog_id) {
		if (!prog_is_ours(query.prog_id)) {
			log_errx("%s already has an XDP program (id %u) that is not flowmeta's; "
				  "use --hook tc or remove it", att->ifname, query.prog_id);
			return -EBUSY;
		}
		opts.old_prog_fd = bpf_prog_get_fd_by_id(query.prog_id);
		if (opts.old_prog_fd < 0)
			return -errno;
		mode = query.attach_mode == XDP_ATTACHED_SKB ? "generic" : "native";
		err = bpf_xdp_attach(att->ifindex, prog_fd,
				     XDP_FLAGS_REPLACE | (query.attach_mode == XDP_ATTACHED_SKB ?
							  XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE),
				     &opts);
		close(opts.old_prog_fd);
	} else {
		err = bpf_xdp_attach(att->ifindex, prog_fd, XDP_FLAGS_DRV_MODE, NULL);
		if (err) {
			log_debug("native XDP on %s: %s; trying generic XDP", att->ifname,
				  strerror(-err));
			mode = "generic";
			err = bpf_xdp_attach(att->ifindex, prog_fd, XDP_FLAGS_SKB_MODE, NULL);
		}
	}
	if (err)
		log_errx("attach xdp on %s: %s", att->ifname, strerror(-err));
	else
		log_info("%s: XDP ingress attached in %s mode", att->ifname, mode);
	return err;
}

/* Whether flowmeta's filter (our handle and priority) is on one clsact hook of ifindex. */
static bool clsact_filter_present(unsigned int ifindex, bool ingress)
{
	TC_HOOK(hook, ifindex, ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIORITY);

	/* No qdisc (EINVAL) or no such filter (ENOENT): not there. */
	return bpf_tc_query(&hook, &opts) == 0;
}

static int open_pinned_link(const char *pin_dir, const char *name)
{
	char path[PATH_MAX];
	int err = pin_path(path, sizeof(path), pin_dir, name), fd;

	if (err)
		return err;
	/* A link pin opens read-write only. */
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

/* The ifindex a tcx link is attached to (0 once its device is gone), or a negative errno. */
static int tcx_link_ifindex(int fd)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.type != LINK_TYPE_TCX)
		return -EPROTO;
	/* 6.6's tcx member { ifindex, attach_type } opens the union, where xdp.ifindex is. */
	return (int)info.xdp.ifindex;
}

/*
 * How the TC programs are attached already, from the pins and the interface: tcx links pinned,
 * or an earlier run's clsact filters (the programs pinned, or our filter on the hook: 0.1.0's, or
 * a run with another pin directory), or nothing.
 */
static enum tc_attach attached_mode(const struct pins *p, unsigned int ifindex)
{
	if (pins_owned(p, PIN_LINK_EGRESS, NULL) || pins_owned(p, PIN_LINK_INGRESS, NULL))
		return TC_ATTACH_TCX;
	if (pins_owned(p, PIN_TC_EGRESS, NULL) || pins_owned(p, PIN_TC_INGRESS, NULL) ||
	    clsact_filter_present(ifindex, false) || clsact_filter_present(ifindex, true))
		return TC_ATTACH_CLSACT;
	return TC_ATTACH_NONE;
}

/*
 * Attach prog on one tcx hook as the link pinned under name. An earlier run's live link is
 * adopted: bpf_link_update swaps its program atomically, so no packet passes unmetered or is
 * counted twice. A link left on a vanished (or re-created) interface meters nothing: replaced.
 * New links go first on the hook, as the clsact filter sits at priority 1. Returns a negative
 * errno (not logged: the caller may fall back to clsact).
 */
static int tcx_attach(struct attachment *att, struct bpf_program *prog, bool ingress)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = TCX_F_BEFORE);
	const char *name = ingress ? PIN_LINK_INGRESS : PIN_LINK_EGRESS;
	int prog_fd = bpf_program__fd(prog), fd, err;

	if (pins_owned(&att->pins, name, NULL)) {
		fd = open_pinned_link(att->pin_dir, name);
		if (fd >= 0 && tcx_link_ifindex(fd) == (int)att->ifindex) {
			err = bpf_link_update(fd, prog_fd, NULL);
			close(fd);
			return err;
		}
		if (fd >= 0)
			close(fd);
		log_debug("%s: the pinned %s is no longer on the interface: replacing it",
			  att->ifname, name);
		err = pins_unpin(&att->pins, name);
		if (err)
			return err;
	}
	fd = bpf_link_create(prog_fd, (int)att->ifindex,
			     (enum bpf_attach_type)(ingress ? TCX_INGRESS : TCX_EGRESS), &opts);
	if (fd < 0)
		return fd;
	/* The pin keeps the link (and the program) attached; our descriptor is not needed. */
	err = pins_pin(&att->pins, name, fd, PIN_KIND_LINK);
	close(fd);
	return err;
}

/* Detach flowmeta's pinned tcx link (if any) from its interface; its pin stays. */
static int tcx_detach(struct pins *p, const char *name, const char *ifname)
{
	int fd, err;

	if (!pins_owned(p, name, NULL))
		return 0;
	fd = open_pinned_link(p->dir, name);
	if (fd < 0) {
		log_warnx("open %s/%s: %s", p->dir, name, strerror(-fd));
		return fd;
	}
	/* Detached now, whoever still holds the link; one already off its device is fine. */
	err = bpf_link_detach(fd);
	close(fd);
	if (err)
		log_warnx("detach %s from %s: %s", name, ifname, strerror(-err));
	return err;
}

/* Whether a failed tcx link means this kernel has no tcx (then clsact does the job). */
static bool tcx_unsupported(int err)
{
	return err == -EINVAL || err == -EOPNOTSUPP || err == -KERNEL_ENOTSUPP || err == -ENOSYS;
}

/*
 * The way to attach: an attachment adopted from an earlier run keeps its own (switching would
 * run both or neither for a moment), said when it differs from the one asked for.
 */
static enum tc_attach choose_mode(struct attachment *att, enum tc_attach want)
{
	enum tc_attach have = attached_mode(&att->pins, att->ifindex);

	if (have == TC_ATTACH_NONE)
		return want;
	if (want != TC_ATTACH_AUTO && want != have)
		log_warnx("%s: keeping the earlier run's %s attachment (switching under traffic "
			  "would count packets twice or miss them); %s applies after a stop "
			  "(SIGTERM) or `flowmeta detach`", att->ifname, loader_tc_attach_name(have),
			  loader_tc_attach_name(want));
	else if (have == TC_ATTACH_CLSACT)
		log_info("%s: keeping the earlier run's clsact attachment until a stop (SIGTERM) "
			 "or `flowmeta detach`; the next start attaches through tcx", att->ifname);
	return have;
}

/* XDP on ingress, pinned: the same whichever way the TC egress hook is attached. */
static int attach_xdp_ingress(struct attachment *att)
{
	struct bpf_program *prog = att->skel->progs.flowmeta_xdp_ingress;
	int err = xdp_attach(att, prog);

	return err ? err : pin_program(att, prog, PIN_XDP_INGRESS);
}

/* TC through a clsact qdisc and cls_bpf filters: the way before tcx, and 0.1.0's. */
static int attach_clsact(struct attachment *att)
{
	TC_HOOK(clsact, att->ifindex, BPF_TC_INGRESS | BPF_TC_EGRESS);
	struct flowmeta *skel = att->skel;
	int err;

	err = bpf_tc_hook_create(&clsact);
	if (err && err != -EEXIST) {
		log_errx("create clsact qdisc on %s: %s", att->ifname, strerror(-err));
		return err;
	}
	/* Egress first: with it in place, switching the ingress hook leaves no gap on egress. */
	err = tc_attach(att, skel->progs.flowmeta_tc_egress, false);
	if (!err)
		err = pin_program(att, skel->progs.flowmeta_tc_egress, PIN_TC_EGRESS);
	if (err)
		return err;

	if (att->hook == HOOK_XDP) {
		err = attach_xdp_ingress(att);
		/* An earlier run on the TC hook would count ingress twice. */
		if (!err)
			err = tc_detach(att->ifindex, att->ifname, true);
		if (!err)
			err = pins_unpin(&att->pins, PIN_TC_INGRESS);
	} else {
		err = tc_attach(att, skel->progs.flowmeta_tc_ingress, true);
		if (!err)
			err = pin_program(att, skel->progs.flowmeta_tc_ingress, PIN_TC_INGRESS);
		if (!err)
			err = xdp_detach_ours(att->ifindex, att->ifname);
		if (!err)
			err = pins_unpin(&att->pins, PIN_XDP_INGRESS);
	}
	return err;
}

/* TC through tcx links, the egress link in place (as on clsact, it goes first). */
static int attach_tcx_ingress(struct attachment *att)
{
	struct flowmeta *skel = att->skel;
	int err;

	if (att->hook == HOOK_XDP) {
		err = attach_xdp_ingress(att);
		/* An earlier run on the TC hook would count ingress twice. */
		if (!err)
			err = tcx_detach(&att->pins, PIN_LINK_INGRESS, att->ifname);
		if (!err)
			err = pins_unpin(&att->pins, PIN_LINK_INGRESS);
	} else {
		err = tcx_attach(att, skel->progs.flowmeta_tc_ingress, true);
		if (err)
			log_errx("attach tcx ingress on %s: %s", att->ifname, strerror(-err));
		if (!err)
			err = xdp_detach_ours(att->ifindex, att->ifname);
		if (!err)
			err = pins_unpin(&att->pins, PIN_XDP_INGRESS);
	}
	return err;
}

static int attach_programs(struct attachment *att, enum tc_attach want)
{
	enum tc_attach mode = choose_mode(att, want);
	int err;

	if (mode == TC_ATTACH_CLSACT) {
		err = attach_clsact(att);
	} else {
		/* The egress link's answer decides the way for a start that may choose. */
		err = tcx_attach(att, att->skel->progs.flowmeta_tc_egress, false);
		if (err && mode == TC_ATTACH_AUTO && tcx_unsupported(err)) {
			log_info("%s: this kernel has no tcx (%s): attaching TC through clsact",
				 att->ifname, strerror(-err));
			mode = TC_ATTACH_CLSACT;
			err = attach_clsact(att);
		} else if (err) {
			log_errx("attach tcx egress on %s: %s", att->ifname, strerror(-err));
		} else {
			mode = TC_ATTACH_TCX;
			err = attach_tcx_ingress(att);
		}
	}
	att->tc_mode = mode;
	if (!err)
		log_info("%s: TC programs attached through %s", att->ifname,
			 loader_tc_attach_name(mode));
	return err;
}

/*
 * Take our programs off the interface; the maps stay. Safe when some were never attached. tcx:
 * the pinned links are detached and clsact is left alone; clsact: our filters go, and the qdisc
 * too when it holds nothing else.
 */
static int detach_programs(struct pins *p, unsigned int ifindex, const char *ifname,
			   enum tc_attach mode)
{
	int err = 0, ret;

	if (mode == TC_ATTACH_TCX) {
		ret = tcx_detach(p, PIN_LINK_INGRESS, ifname);
		err = err ?: ret;
		ret = tcx_detach(p, PIN_LINK_EGRESS, ifname);
		err = err ?: ret;
	} else if (mode == TC_ATTACH_CLSACT) {
		ret = tc_detach(ifindex, ifname, true);
		err = err ?: ret;
		ret = tc_detach(ifindex, ifname, false);
		err = err ?: ret;
	}
	ret = xdp_detach_ours(ifindex, ifname);
	err = err ?: ret;
	if (mode == TC_ATTACH_CLSACT)
		tc_remove_clsact_if_unused(ifindex, ifname);
	return err;
}

/*
 * Remove flowmeta's pins (user/pins.c: never another tool's), the marker, the directories flowmeta
 * created, and an empty pin root (flowmeta's own directory) under the default path.
 */
static int remove_pins(struct pins *p, bool default_dir)
{
	int err = pins_remove_all(p);

	if (!err && default_dir) {
		rmdir(p->dir);		/* 0.1.0 recorded no created levels */
		rmdir(LOADER_PIN_ROOT);	/* only succeeds when no other interface is pinned */
	}
	return err;
}

static int open_map_fds(struct attachment *att)
{
	struct flowmeta *skel = att->skel;

	att->maps.flows = bpf_map__fd(skel->maps.flows);
	att->maps.drop_flows = bpf_map__fd(skel->maps.drop_flows);
	att->maps.stats = bpf_map__fd(skel->maps.stats);
	att->maps.events = bpf_map__fd(skel->maps.events);
	att->maps.export_state = bpf_map__fd(skel->maps.export_state);
	att->maps.daemon_status = bpf_map__fd(skel->maps.daemon_status);
	att->maps.collector_status = bpf_map__fd(skel->maps.collector_status);
	att->maps.policy = bpf_map__fd(skel->maps.policy);
	att->maps.policy_peers = bpf_map__fd(skel->maps.policy_peers);
	att->maps.policy_conns = bpf_map__fd(skel->maps.policy_conns);
	att->maps.journal = bpf_map__fd(skel->maps.journal);
	att->maps.journal_intents = bpf_map__fd(skel->maps.journal_intents);
	att->maps.journal_chunks = bpf_map__fd(skel->maps.journal_chunks);
	att->maps.send_trace = bpf_map__fd(skel->maps.send_trace);
	att->maps.trace_socks = bpf_map__fd(skel->maps.trace_socks);
	att->maps.prog_export_apply = bpf_program__fd(skel->progs.flowmeta_export_apply);
	att->maps.prog_send_trace = bpf_program__fd(skel->progs.flowmeta_send_trace);
	return 0;
}

/*
 * Size the tables that grow with the flow table (SPEC §7): MaxFlows as configured, or the largest
 * table whose kernel memory at this machine's possible CPUs fits MaxFlowMemory. Said once when the
 * table exceeds the budget. An adopted pinned table keeps its own size (adopt_map).
 */
static int size_flow_tables(struct flowmeta *skel, const struct loader_opts *opts)
{
	struct bpf_map *maps[FLOW_TABLE_COUNT] = {
		[FLOW_TABLE_FLOWS] = skel->maps.flows,
		[FLOW_TABLE_DROP_FLOWS] = skel->maps.drop_flows,
		[FLOW_TABLE_EXPORT_STATE] = skel->maps.export_state,
	};
	int ncpus = libbpf_num_possible_cpus();
	struct flow_table_choice c;
	char need[32];

	if (ncpus < 0) {
		log_errx("count the possible CPUs: %s", strerror(-ncpus));
		return ncpus;
	}
	sizing_choose(opts->max_flows, opts->max_flow_memory, (unsigned int)ncpus, &c);
	sizing_format_mib(c.tables.total_bytes, need, sizeof(need));
	if (c.over_budget && c.from_budget)
		log_warnx("MaxFlowMemory (%llu MiB) is less than the smallest flow table needs at %d "
			  "possible CPUs (%u flows: %s); creating that one",
			  (unsigned long long)(opts->max_flow_memory >> 20), ncpus, c.max_flows, need);
	else if (c.over_budget)
		log_warnx("MaxFlows %u needs %s of kernel memory at %d possible CPUs, more than "
			  "MaxFlowMemory (%llu MiB); creating the table as configured", c.max_flows,
			  need, ncpus, (unsigned long long)(opts->max_flow_memory >> 20));
	for (int t = 0; t < FLOW_TABLE_COUNT; t++)
		bpf_map__set_max_entries(maps[t], c.tables.entries[t]);
	log_debug("flow table: %u flows, %s of kernel memory at %d possible CPUs", c.max_flows,
		  need, ncpus);
	return 0;
}

/* What an operator can do about a failed load, where the likely cause can be told. */
static const char *load_hint(int err, bool adopted)
{
	/*
	 * The programs call global functions that take the packet context: the verifier knows a
	 * context argument only through the kernel's own BTF.
	 */
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
		return " (this kernel has no BTF, /sys/kernel/btf/vmlinux: flowmeta needs a kernel built "
		       "with CONFIG_DEBUG_INFO_BTF=y)";
	if (err == -EPERM)
		return " (run flowmeta as root, or with CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN and "
		       "CAP_SYS_ADMIN)";
	if (adopted)
		return " (the pinned maps may come from an incompatible version: `flowmeta detach` "
		       "removes them)";
	return " (-v prints the kernel verifier's log)";
}

/* The opened skeleton and the pin names it has, checked against the directory's owner. */
static int open_skeleton(struct attachment *att)
{
	const char *names[MAX_PIN_NAMES];
	int err;

	att->skel = flowmeta__open();
	if (!att->skel) {
		err = -errno;
		log_errx("open BPF object: %s", strerror(-err));
		return err;
	}
	err = pins_open(&att->pins, att->pin_dir, false);
	if (!err)
		err = pins_check(&att->pins, names, pin_names(att->skel->obj, names));
	att->fresh = !pins_found(&att->pins);
	return err;
}

static int load_skeleton(struct attachment *att, const struct loader_opts *opts)
{
	struct bpf_map *map;
	bool l3 = false;
	int err;

	err = device_is_l3(att->ifname, &l3);
	if (err)
		return err;
	att->skel->rodata->l3_device = l3;
	err = size_flow_tables(att->skel, opts);
	if (err)
		return err;
	bpf_program__set_autoload(att->skel->progs.flowmeta_tc_ingress, att->hook == HOOK_TC);
	bpf_program__set_autoload(att->skel->progs.flowmeta_xdp_ingress, att->hook == HOOK_XDP);

	bpf_object__for_each_map(map, att->skel->obj) {
		if (!pinned_map(map))
			continue;
		err = adopt_map(att, map);
		if (err)
			return err;
	}
	if (att->pins.owner_fd >= 0) {
		err = bpf_map__reuse_fd(att->skel->maps.flowmeta_owner, att->pins.owner_fd);
		if (err)
			return err;
	}
	err = flowmeta__load(att->skel);
	if (err) {
		log_errx("load BPF programs for %s: %s%s", att->ifname, strerror(-err),
			 load_hint(err, att->adopted));
		return err;
	}
	log_debug("%s: %s frames, flow table of %u entries", att->ifname,
		  l3 ? "IP-only" : "Ethernet", bpf_map__max_entries(att->skel->maps.flows));
	return open_map_fds(att);
}

static void attachment_free(struct attachment *att)
{
	pins_close(&att->pins);
	flowmeta__destroy(att->skel);
	if (att->lock_fd >= 0)
		close(att->lock_fd);
	if (att->claim_fd >= 0)
		close(att->claim_fd);
	free(att);
}

/*
 * Undo only what this run did. A fresh start leaves nothing behind: a half attachment would count
 * one direction only. An adopted one leaves the earlier instance's programs (or ours that replaced
 * them: the same maps) counting into the pinned maps, as after a crash, so nothing is lost.
 */
static void undo_attach(struct attachment *att)
{
	if (!att->fresh) {
		log_errx("%s: the programs and pins of the earlier instance stay in place",
			 att->ifname);
		return;
	}
	detach_programs(&att->pins, att->ifindex, att->ifname, att->tc_mode);
	remove_pins(&att->pins, att->default_dir);
}

int loader_attach(const struct loader_opts *opts, struct attachment **out)
{
	struct attachment *att;
	unsigned int created = 0;
	int err;

	att = calloc(1, sizeof(*att));
	if (!att)
		return -ENOMEM;
	att->lock_fd = -1;
	att->claim_fd = -1;
	att->pins.owner_fd = -1;
	att->hook = opts->hook;
	att->default_dir = !opts->pin_dir;
	snprintf(att->ifname, sizeof(att->ifname), "%s", opts->ifname);
	att->ifindex = if_nametoindex(opts->ifname);
	if (!att->ifindex) {
		log_errx("unknown interface %s", opts->ifname);
		err = -ENODEV;
		goto fail;
	}
	err = pin_dir_path(opts->ifname, opts->pin_dir, att->pin_dir, sizeof(att->pin_dir));
	if (err)
		goto fail;
	att->claim_fd = claim_interface(att->ifindex);
	if (att->claim_fd < 0) {
		err = att->claim_fd;
		if (err == -EBUSY)
			log_errx("flowmeta is already running on %s", att->ifname);
		else
			log_errx("claim %s: %s", att->ifname, strerror(-err));
		goto fail;
	}
	/* Nothing is created for a directory that is then refused (user/pins.c). */
	err = ensure_bpffs(att->pin_dir) ?: pins_make_dir(att->pin_dir, &created);
	if (err)
		goto fail;
	att->lock_fd = lock_pin_dir(att->pin_dir, LOCK_EX);
	if (att->lock_fd < 0) {
		err = att->lock_fd;
		if (err == -EBUSY)
			log_errx("flowmeta is already running on %s (pins in %s)", att->ifname,
				  att->pin_dir);
		else
			log_errx("lock %s: %s", att->pin_dir, strerror(-err));
		goto fail;
	}
	err = open_skeleton(att);
	att->pins.created = created;
	if (!err)
		err = load_skeleton(att, opts);
	if (!err && opts->before_attach)
		err = opts->before_attach(&att->maps, opts->ctx);
	if (err) {
		/* Nothing pinned yet: only the directories this run created go. */
		if (att->fresh)
			remove_pins(&att->pins, false);
		goto fail;
	}
	err = pin_maps(att);
	if (!err)
		err = attach_programs(att, opts->tc_attach);
	if (err) {
		undo_attach(att);
		goto fail;
	}
	att->metering = true;
	if (att->adopted)
		log_info("%s: adopted the maps pinned in %s; their counts carry on", att->ifname,
			 att->pin_dir);
	*out = att;
	return 0;
fail:
	attachment_free(att);
	return err;
}

void loader_abandon(struct attachment *att)
{
	attachment_free(att);
}

const struct flowmeta_maps *loader_maps(const struct attachment *att)
{
	return &att->maps;
}

unsigned int loader_ifindex(const struct attachment *att)
{
	return att->ifindex;
}

bool loader_adopted(const struct attachment *att)
{
	return att->adopted;
}

enum tc_attach loader_tc_mode(const struct attachment *att)
{
	return att->tc_mode;
}

const char *loader_tc_attach_name(enum tc_attach mode)
{
	switch (mode) {
	case TC_ATTACH_AUTO:
		return "auto";
	case TC_ATTACH_TCX:
		return "tcx";
	case TC_ATTACH_CLSACT:
		return "clsact";
	default:
		return "none";
	}
}

enum tc_attach loader_tc_attached(const char *ifname, const char *pin_dir)
{
	unsigned int ifindex = if_nametoindex(ifname);
	enum tc_attach mode = TC_ATTACH_NONE;
	char dir[PATH_MAX];
	struct pins p;
	int fd;

	if (!ifindex || pin_dir_path(ifname, pin_dir, dir, sizeof(dir)) ||
	    pins_open(&p, dir, true))
		return TC_ATTACH_NONE;
	if (pins_owned(&p, PIN_LINK_EGRESS, NULL)) {
		fd = open_pinned_link(dir, PIN_LINK_EGRESS);
		if (fd >= 0 && tcx_link_ifindex(fd) == (int)ifindex)
			mode = TC_ATTACH_TCX;
		if (fd >= 0)
			close(fd);
	} else if (clsact_filter_present(ifindex, false)) {
		mode = TC_ATTACH_CLSACT;
	}
	pins_close(&p);
	return mode;
}


int loader_stop_metering(struct attachment *att)
{
	int err;

	if (!att->metering)
		return 0;
	/* A vanished (or re-created) interface took our filters and XDP program with it. */
	err = if_nametoindex(att->ifname) == att->ifindex
		      ? detach_programs(&att->pins, att->ifindex, att->ifname, att->tc_mode)
		      : 0;
	att->metering = false;
	return err;
}

int loader_detach(struct attachment *att)
{
	int err = loader_stop_metering(att);
	int ret = remove_pins(&att->pins, att->default_dir);

	attachment_free(att);
	return err ?: ret;
}

static int open_pinned_map(const char *pin_dir, const char *name)
{
	LIBBPF_OPTS(bpf_obj_get_opts, opts, .file_flags = BPF_F_RDONLY);
	char path[PATH_MAX];
	int err = pin_path(path, sizeof(path), pin_dir, name);

	if (err)
		return err;
	err = bpf_obj_get_opts(path, &opts);
	return err < 0 ? -errno : err;
}

int loader_open_pinned(const char *ifname, const char *pin_dir, struct flowmeta_maps *maps)
{
	static const char *const names[] = { "flows",	      "drop_flows",    "stats",
					      "export_state", "daemon_status", "collector_status" };
	int *const fds[] = { &maps->flows,	  &maps->drop_flows,	&maps->stats,
			     &maps->export_state, &maps->daemon_status, &maps->collector_status };
	char dir[PATH_MAX];
	struct pins p;
	int err = pin_dir_path(ifname, pin_dir, dir, sizeof(dir));

	*maps = FLOWMETA_MAPS_NONE;
	if (err)
		return err;
	/* Only flowmeta's own pins: another tool's `flows` is never read as a flow table. */
	err = pins_open(&p, dir, true);
	if (!err)
		err = pins_check(&p, names, sizeof(names) / sizeof(names[0]));
	if (!err && !pins_found(&p))
		err = -ENOENT;
	for (size_t i = 0; !err && i < sizeof(names) / sizeof(names[0]); i++)
		*fds[i] = pins_owned(&p, names[i], NULL) ? open_pinned_map(dir, names[i]) : -1;
	pins_close(&p);
	if (!err && (maps->flows < 0 || maps->stats < 0))
		err = maps->flows < 0 ? maps->flows : maps->stats;
	if (err) {
		loader_close_maps(maps);
		return err == -1 ? -ENOENT : err;
	}
	return 0;
}

void loader_close_maps(struct flowmeta_maps *maps)
{
	int *fds[] = { &maps->flows,	      &maps->drop_flows,     &maps->stats,
		       &maps->events,	      &maps->export_state,   &maps->daemon_status,
		       &maps->collector_status, &maps->policy,	     &maps->policy_peers,
		       &maps->policy_conns,   &maps->journal,	     &maps->journal_intents,
		       &maps->journal_chunks, &maps->send_trace,     &maps->trace_socks };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

int loader_running(const char *ifname, const char *pin_dir)
{
	char dir[PATH_MAX];
	int err = pin_dir_path(ifname, pin_dir, dir, sizeof(dir));
	int fd;

	if (err)
		return err;
	fd = lock_pin_dir(dir, LOCK_SH);
	if (fd == -EBUSY)
		return 1;
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	close(fd);
	return 0;
}

int loader_cleanup(const char *ifname, const char *pin_dir)
{
	unsigned int ifindex = if_nametoindex(ifname);
	int err, ret, lock_fd, claim_fd = -1;
	char dir[PATH_MAX];
	struct pins p;

	err = pin_dir_path(ifname, pin_dir, dir, sizeof(dir));
	if (err)
		return err;
	/* A run holding this pin directory, or this interface with another pin directory. */
	lock_fd = lock_pin_dir(dir, LOCK_EX);
	if (ifindex && lock_fd != -EBUSY)
		claim_fd = claim_interface(ifindex);
	if (lock_fd == -EBUSY || claim_fd == -EBUSY) {
		log_errx("flowmeta is running on %s: stop it (SIGTERM) instead of detaching under it",
			 ifname);
		err = -EBUSY;
		goto out;
	}
	memset(&p, 0, sizeof(p));
	p.owner_fd = -1;
	/* Whatever layout flowmeta pinned them in; never another tool's pins. */
	ret = lock_fd >= 0 ? pins_open(&p, dir, true) : -ENOENT;
	/* The pins say how the TC programs were attached (tcx links are only kept by them). */
	err = ifindex ? detach_programs(&p, ifindex, ifname, attached_mode(&p, ifindex)) : 0;
	if (!ret && !pins_found(&p))
		log_info("%s holds no pins of flowmeta's: nothing removed there", dir);
	else if (!ret)
		ret = remove_pins(&p, !pin_dir);
	if (lock_fd >= 0) {
		pins_close(&p);
		err = err ?: ret;
	}
out:
	if (lock_fd >= 0)
		close(lock_fd);
	if (claim_fd >= 0)
		close(claim_fd);
	return err;
}

/* The pin names of the old maps of layout (old<layout>_<name>). */
static void old_name(char *buf, unsigned int layout, const char *name)
{
	snprintf(buf, FLOWMETA_PIN_NAME_LEN, "old%u_%s", layout, name);
}

int loader_old_maps(const struct attachment *att, struct flowmeta_old_maps *old)
{
	char name[FLOWMETA_PIN_NAME_LEN];
	int *const fds[] = { &old->flows, &old->export_state, &old->stats };

	*old = (struct flowmeta_old_maps){ .flows = -1, .export_state = -1, .stats = -1 };
	for (unsigned int layout = 1; layout < FLOWMETA_PIN_LAYOUT; layout++) {
		old_name(name, layout, "flows");
		if (!pins_owned(&att->pins, name, NULL))
			continue;
		old->layout = layout;
		for (size_t i = 0; i < sizeof(kept_old) / sizeof(kept_old[0]); i++) {
			old_name(name, layout, kept_old[i]);
			if (pins_owned(&att->pins, name, NULL))
				*fds[i] = open_pinned_map(att->pin_dir, name);
		}
		if (old->flows < 0) {
			int err = old->flows;

			loader_close_old_maps(old);
			return err;
		}
		return 0;
	}
	return -ENOENT;
}

void loader_close_old_maps(struct flowmeta_old_maps *old)
{
	int *const fds[] = { &old->flows, &old->export_state, &old->stats };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

int loader_release_old_maps(struct attachment *att, unsigned int layout)
{
	char name[FLOWMETA_PIN_NAME_LEN];
	int err = 0;

	for (size_t i = 0; i < sizeof(kept_old) / sizeof(kept_old[0]) && !err; i++) {
		old_name(name, layout, kept_old[i]);
		err = pins_unpin(&att->pins, name);
	}
	if (!err)
		log_info("%s: the maps of the earlier flowmeta (layout %u) are exported, removed",
			 att->ifname, layout);
	return err;
}
