// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Pin-directory ownership: the marker map `flowmeta_owner` records, by name, the kernel id of
 * every object flowmeta pinned in the directory, and a pin is flowmeta's only when its object's id
 * is recorded under its name. A directory without a marker is flowmeta 0.1.0's when its `flows`
 * pin is 0.1.0's flow table (its type, sizes, name and BTF value type); then every pin of a name
 * 0.1.0 used is its own (0.1.0 replaced any pin of those names). Anything else is another tool's.
 *
 * Crash safety: a pin is recorded (next_id) before it is pinned, and its record completed after,
 * so a pin is recognised whatever step a crash interrupts; the marker is pinned first and removed
 * last. Every step is one syscall that either happened or did not.
 */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "log.h"
#include "pins.h"

#define MARKER_NAME "flowmeta_owner"

_Static_assert(sizeof(MARKER_NAME) <= FLOWMETA_PIN_NAME_LEN, "the marker's name fits a record");

/*
 * The names flowmeta pinned before it had a marker, all in one directory: 0.1.0's, and the journal
 * maps that builds between 0.1.0 and layout 2 added.
 */
static const char *const legacy_names[] = {
	"flows",	   "stats",	       "events",	 "frags",	   "export_state",
	"daemon_status",   "collector_status", "policy",	 "policy_peers",   "policy_conns",
	"drop_budget",	   "journal",	       "journal_intents", "journal_chunks", "send_trace",
	"trace_socks",	   "prog_tc_ingress",  "prog_tc_egress", "prog_xdp_ingress",
};

#define N_LEGACY (sizeof(legacy_names) / sizeof(legacy_names[0]))

static bool is_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

static int path_of(const struct pins *p, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", p->dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Kernel id of the object (map, program or link) behind fd; 0 on failure. */
static __u32 obj_id(int fd)
{
	/* The info structs all start with the object's type and id. */
	union {
		struct bpf_map_info map;
		struct bpf_prog_info prog;
		struct bpf_link_info link;
	} info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.map.id;
}

/*
 * The id of the object pinned as name: 0 when there is no such pin, -1 when the name exists but is
 * no BPF object (a directory, say): not flowmeta's either way.
 */
static long pinned_id(const struct pins *p, const char *name)
{
	LIBBPF_OPTS(bpf_obj_get_opts, opts, .file_flags = BPF_F_RDONLY);
	char path[PATH_MAX];
	__u32 id;
	int fd;

	if (path_of(p, name, path, sizeof(path)))
		return -1;
	if (access(path, F_OK) < 0)
		return errno == ENOENT ? 0 : -1;
	fd = bpf_obj_get_opts(path, &opts);
	/* The kernel opens a pinned link read-write only (EINVAL otherwise). */
	if (fd < 0 && errno == EINVAL)
		fd = bpf_obj_get(path);
	if (fd < 0)
		return -1;
	id = obj_id(fd);
	close(fd);
	return id ? (long)id : -1;
}

static struct pin_record *find(struct pins *p, const char *name)
{
	for (int i = 0; i < FLOWMETA_MAX_PINS; i++)
		if (p->owner.pins[i].name[0] && !strcmp(p->owner.pins[i].name, name))
			return &p->owner.pins[i];
	return NULL;
}

static const struct pin_record *record_of(const struct pins *p, const char *name)
{
	return find((struct pins *)p, name);
}

static bool legacy_name(const char *name)
{
	for (size_t i = 0; i < N_LEGACY; i++)
		if (!strcmp(legacy_names[i], name))
			return true;
	return false;
}

/* Whether the object id pinned as name is flowmeta's. */
static bool owns(const struct pins *p, const char *name, long id, unsigned int *layout)
{
	const struct pin_record *r;

	if (id <= 0)
		return false;
	if (p->owner_fd >= 0) {
		r = record_of(p, name);
		if (!r || (r->id != id && r->next_id != id))
			return false;
		if (layout)
			*layout = r->id == id ? r->layout : FLOWMETA_PIN_LAYOUT;
		return true;
	}
	if (p->legacy && legacy_name(name)) {
		if (layout)
			*layout = p->legacy;
		return true;
	}
	return false;
}

bool pins_owned(const struct pins *p, const char *name, unsigned int *layout)
{
	return owns(p, name, pinned_id(p, name), layout);
}

bool pins_found(const struct pins *p)
{
	return p->owner_fd >= 0 || p->legacy;
}

/* Whether the directory's `flows` is flowmeta 0.1.0's flow table. */
static bool legacy_flows(const struct pins *p)
{
	LIBBPF_OPTS(bpf_obj_get_opts, opts, .file_flags = BPF_F_RDONLY);
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	const struct btf_type *t;
	struct btf *btf;
	bool ok = false;
	int fd;

	if (path_of(p, "flows", path, sizeof(path)))
		return false;
	fd = bpf_obj_get_opts(path, &opts);
	if (fd < 0)
		return false;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.type == BPF_MAP_TYPE_PERCPU_HASH &&
	    info.key_size == sizeof(struct flow_key) && info.value_size == 40 &&
	    !strcmp(info.name, "flows") && info.btf_id && info.btf_value_type_id) {
		btf = btf__load_from_kernel_by_id(info.btf_id);
		t = btf ? btf__type_by_id(btf, info.btf_value_type_id) : NULL;
		ok = t && !strcmp(btf__name_by_offset(btf, t->name_off), "flow_value");
		btf__free(btf);
	}
	close(fd);
	return ok;
}

/* Read the marker at fd into p; refuses one that is not flowmeta's or of a newer layout. */
static int read_marker(struct pins *p, int fd, bool any_layout)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info), zero = 0;
	struct pin_owner head;
	void *buf;
	int err = 0;

	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.type != BPF_MAP_TYPE_ARRAY ||
	    info.key_size != sizeof(__u32) || info.max_entries != 1 ||
	    info.value_size < offsetof(struct pin_owner, pins) || info.value_size > 1 << 20) {
		log_errx("%s/%s is not flowmeta's marker: refusing to use %s (choose another "
			 "--pin-dir)", p->dir, MARKER_NAME, p->dir);
		return -EPROTO;
	}
	buf = calloc(1, info.value_size);
	if (!buf)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &zero, buf)) {
		err = -errno;
		goto out;
	}
	memcpy(&head, buf, offsetof(struct pin_owner, pins));
	if (head.magic != FLOWMETA_PIN_MAGIC) {
		log_errx("%s/%s is not flowmeta's marker: refusing to use %s (choose another "
			 "--pin-dir)", p->dir, MARKER_NAME, p->dir);
		err = -EPROTO;
	} else if ((head.layout > FLOWMETA_PIN_LAYOUT && !any_layout) ||
		   info.value_size != sizeof(p->owner)) {
		log_errx("%s was pinned by a newer flowmeta (pin layout %u, this version knows "
			 "%u): stop it with that version, or `flowmeta detach` removes its pins "
			 "(and the counts they hold)", p->dir, head.layout, FLOWMETA_PIN_LAYOUT);
		err = -EPROTO;
	} else {
		memcpy(&p->owner, buf, sizeof(p->owner));
	}
out:
	free(buf);
	return err;
}

static int check_name(struct pins *p, const char *name)
{
	long id = pinned_id(p, name);

	if (!id || owns(p, name, id, NULL))
		return 0;
	log_errx("%s/%s is not flowmeta's (another tool's pin?): refusing to use %s, nothing there "
		 "was touched (choose another --pin-dir)", p->dir, name, p->dir);
	return -EEXIST;
}

int pins_open(struct pins *p, const char *dir, bool any_layout)
{
	LIBBPF_OPTS(bpf_obj_get_opts, opts, .file_flags = BPF_F_RDONLY);
	char path[PATH_MAX];
	int fd, err;

	memset(p, 0, sizeof(*p));
	p->owner_fd = -1;
	if (snprintf(p->dir, sizeof(p->dir), "%s", dir) >= (int)sizeof(p->dir))
		return -ENAMETOOLONG;
	if (access(dir, F_OK) < 0)
		return -errno;
	if (!is_bpffs(dir)) {
		log_errx("%s is not on a bpffs: flowmeta pins nothing there and removes nothing",
			 dir);
		return -EINVAL;
	}
	err = path_of(p, MARKER_NAME, path, sizeof(path));
	if (err)
		return err;
	fd = bpf_obj_get_opts(path, &opts);
	if (fd >= 0) {
		err = read_marker(p, fd, any_layout);
		close(fd);
		if (err)
			return err;
		/* Writable this time (if we may): the marker is flowmeta's. */
		p->owner_fd = bpf_obj_get(path);
		if (p->owner_fd < 0)
			p->owner_fd = bpf_obj_get_opts(path, &opts);
		if (p->owner_fd < 0)
			return -errno;
	} else if (errno != ENOENT) {
		err = -errno;
		log_errx("%s/%s exists and is not flowmeta's marker: refusing to use %s", dir,
			 MARKER_NAME, dir);
		return err == -EACCES || err == -EPERM ? err : -EPROTO;
	} else if (legacy_flows(p)) {
		p->legacy = PINS_LAYOUT_0_1_0;
	}
	return 0;
}

int pins_check(struct pins *p, const char *const *names, unsigned int n_names)
{
	int err = 0;

	for (unsigned int i = 0; i < n_names && !err; i++)
		err = check_name(p, names[i]);
	for (int i = 0; i < FLOWMETA_MAX_PINS && !err; i++)
		if (p->owner.pins[i].name[0])
			err = check_name(p, p->owner.pins[i].name);
	return err;
}

void pins_close(struct pins *p)
{
	if (p->owner_fd >= 0)
		close(p->owner_fd);
	p->owner_fd = -1;
}

static int write_owner(struct pins *p)
{
	__u32 zero = 0;

	return bpf_map_update_elem(p->owner_fd, &zero, &p->owner, BPF_ANY) ? -errno : 0;
}

static struct pin_record *add(struct pins *p, const char *name)
{
	struct pin_record *r = find(p, name);

	if (r)
		return r;
	if (strlen(name) >= FLOWMETA_PIN_NAME_LEN)
		return NULL;
	for (int i = 0; i < FLOWMETA_MAX_PINS; i++) {
		r = &p->owner.pins[i];
		if (!r->name[0]) {
			memset(r, 0, sizeof(*r));
			snprintf(r->name, sizeof(r->name), "%s", name);
			return r;
		}
	}
	return NULL;
}

int pins_mark(struct pins *p, int fd)
{
	char path[PATH_MAX];
	int err;

	if (p->owner_fd >= 0)
		return 0;
	memset(&p->owner, 0, sizeof(p->owner));
	p->owner.magic = FLOWMETA_PIN_MAGIC;
	p->owner.layout = FLOWMETA_PIN_LAYOUT;
	p->owner.created_dirs = p->created;
	for (size_t i = 0; i < N_LEGACY && p->legacy; i++) {
		long id = pinned_id(p, legacy_names[i]);
		struct pin_record *r;

		if (id <= 0)
			continue;
		r = add(p, legacy_names[i]);
		if (!r)
			return -ENOSPC;
		r->id = id;
		r->kind = strncmp(legacy_names[i], "prog_", 5) ? PIN_KIND_MAP : PIN_KIND_PROG;
		r->layout = p->legacy;
	}
	err = path_of(p, MARKER_NAME, path, sizeof(path));
	if (err)
		return err;
	p->owner_fd = dup(fd);
	if (p->owner_fd < 0)
		return -errno;
	err = write_owner(p);
	if (!err && bpf_obj_pin(p->owner_fd, path))
		err = -errno;
	if (err) {
		log_errx("pin %s: %s", path, strerror(-err));
		pins_close(p);
	}
	return err;
}

int pins_pin(struct pins *p, const char *name, int fd, enum pin_kind kind)
{
	char path[PATH_MAX];
	struct pin_record *r;
	long cur;
	__u32 id;
	int err;

	if (p->owner_fd < 0)
		return -EINVAL;
	err = path_of(p, name, path, sizeof(path));
	if (err)
		return err;
	id = obj_id(fd);
	cur = pinned_id(p, name);
	if (!id)
		return -EINVAL;
	if (cur == id)
		return 0;	/* adopted: pinned already */
	if (cur && !owns(p, name, cur, NULL))
		return check_name(p, name);
	r = add(p, name);
	if (!r)
		return -ENOSPC;
	r->next_id = id;
	r->kind = kind;
	err = write_owner(p);
	if (!err && cur > 0 && unlink(path) < 0)
		err = -errno;
	if (!err && bpf_obj_pin(fd, path))
		err = -errno;
	if (err) {
		log_errx("pin %s: %s", path, strerror(-err));
		return err;
	}
	r->id = id;
	r->next_id = 0;
	r->layout = FLOWMETA_PIN_LAYOUT;
	return write_owner(p);
}

int pins_rename(struct pins *p, const char *from, const char *to)
{
	char from_path[PATH_MAX], to_path[PATH_MAX];
	struct pin_record *src, *dst;
	long id = pinned_id(p, from);
	int err;

	if (!owns(p, from, id, NULL) || p->owner_fd < 0)
		return -ENOENT;
	err = path_of(p, from, from_path, sizeof(from_path)) ?:
	      path_of(p, to, to_path, sizeof(to_path));
	if (err)
		return err;
	/* Never over a pin: an earlier generation's counts, or another tool's. */
	if (pinned_id(p, to)) {
		log_errx("%s exists: not renaming %s over it", to_path, from_path);
		return -EEXIST;
	}
	dst = add(p, to);
	src = find(p, from);
	if (!dst || !src)
		return -ENOSPC;
	*dst = *src;
	snprintf(dst->name, sizeof(dst->name), "%s", to);
	err = write_owner(p);
	if (!err && renameat2(AT_FDCWD, from_path, AT_FDCWD, to_path, RENAME_NOREPLACE) < 0)
		err = -errno;
	if (err) {
		log_errx("rename %s to %s: %s", from_path, to, strerror(-err));
		return err;
	}
	src = find(p, from);
	if (src)
		memset(src, 0, sizeof(*src));
	return write_owner(p);
}

int pins_unpin(struct pins *p, const char *name)
{
	char path[PATH_MAX];
	struct pin_record *r;
	int err = path_of(p, name, path, sizeof(path));

	if (err)
		return err;
	if (pins_owned(p, name, NULL) && unlink(path) < 0 && errno != ENOENT) {
		err = -errno;
		log_errx("remove %s: %s", path, strerror(-err));
		return err;
	}
	r = p->owner_fd >= 0 ? find(p, name) : NULL;
	if (!r)
		return 0;
	memset(r, 0, sizeof(*r));
	return write_owner(p);
}

int pins_remove_all(struct pins *p)
{
	unsigned int levels = p->owner_fd >= 0 ? p->owner.created_dirs : p->created;
	char path[PATH_MAX], *slash;
	int err = 0, ret;

	for (int i = 0; i < FLOWMETA_MAX_PINS && p->owner_fd >= 0; i++) {
		char name[FLOWMETA_PIN_NAME_LEN];

		if (!p->owner.pins[i].name[0])
			continue;
		memcpy(name, p->owner.pins[i].name, sizeof(name));
		ret = pins_unpin(p, name);
		err = err ?: ret;
	}
	for (size_t i = 0; i < N_LEGACY && p->owner_fd < 0 && p->legacy; i++) {
		ret = pins_unpin(p, legacy_names[i]);
		err = err ?: ret;
	}
	if (err)
		return err;
	if (p->owner_fd >= 0) {
		err = path_of(p, MARKER_NAME, path, sizeof(path));
		if (!err && unlink(path) < 0 && errno != ENOENT)
			err = -errno;
		if (err)
			return err;
		pins_close(p);
	}
	/* The directories flowmeta created, while empty: another tool's pins keep theirs. */
	snprintf(path, sizeof(path), "%s", p->dir);
	for (unsigned int i = 0; i < levels; i++) {
		if (rmdir(path) < 0) {
			if (errno == ENOTEMPTY || errno == EEXIST)
				log_info("%s left in place: it holds pins that are not flowmeta's",
					 path);
			break;
		}
		slash = strrchr(path, '/');
		if (!slash || slash == path)
			break;
		*slash = '\0';
	}
	return 0;
}

/* The nearest existing ancestor of path (path itself when it exists) into buf. */
static int nearest_existing(const char *path, char *buf, size_t len)
{
	char *slash;

	if (snprintf(buf, len, "%s", path) >= (int)len)
		return -ENAMETOOLONG;
	while (access(buf, F_OK) < 0) {
		if (errno != ENOENT)
			return -errno;
		slash = strrchr(buf, '/');
		if (!slash)
			return -ENOENT;
		if (slash == buf) {
			buf[1] = '\0';
			break;
		}
		*slash = '\0';
	}
	return 0;
}

int pins_make_dir(const char *dir, unsigned int *created)
{
	char ancestor[PATH_MAX], buf[PATH_MAX], *q;
	struct stat st;
	int err;

	*created = 0;
	if (dir[0] != '/') {
		log_errx("pin directory %s: an absolute path is needed", dir);
		return -EINVAL;
	}
	err = nearest_existing(dir, ancestor, sizeof(ancestor));
	if (err) {
		log_errx("pin directory %s: %s", dir, strerror(-err));
		return err;
	}
	if (stat(ancestor, &st) == 0 && !S_ISDIR(st.st_mode)) {
		log_errx("pin directory %s: %s is not a directory", dir, ancestor);
		return -ENOTDIR;
	}
	if (!is_bpffs(ancestor)) {
		if (!strcmp(ancestor, dir))
			log_errx("pin directory %s is not on a bpffs", dir);
		else
			log_errx("pin directory %s not created: %s is not on a bpffs", dir,
				 ancestor);
		return -EINVAL;
	}
	/* Create the missing levels below the ancestor, one by one. */
	snprintf(buf, sizeof(buf), "%s", dir);
	q = buf + strlen(ancestor);
	if (*q == '/')
		q++;
	for (;; q++) {
		char c = *q;

		if (c != '/' && c != '\0')
			continue;
		if (q[-1] != '/') {	/* a component ends here (not a repeated or final slash) */
			*q = '\0';
			if (mkdir(buf, 0700) == 0) {
				(*created)++;
			} else if (errno != EEXIST) {
				err = -errno;
				log_errx("create pin directory %s: %s", buf, strerror(-err));
				return err;
			}
			*q = c;
		}
		if (!c)
			break;
	}
	return 0;
}
