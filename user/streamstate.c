// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Where every collector's stream stands when the daemon stops cleanly (streamstate.h). JSON, one
 * object per stream, written to a temporary file and renamed over the old one: a crash while
 * writing leaves the old file or the new one, never half of either.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "streamstate.h"

#define STREAMSTATE_VERSION 1

/* The counters of a stream, by name: the file says what each number is. */
static const struct {
	const char *name;
	size_t offset;
} counters[] = {
#define COUNTER(f) { #f, offsetof(struct journal_counters, f) }
	COUNTER(messages),	   COUNTER(records),	      COUNTER(flow_records),
	COUNTER(octets),	   COUNTER(template_messages), COUNTER(send_errors),
	COUNTER(not_sent_flows),  COUNTER(not_sent_packets), COUNTER(not_sent_octets),
	COUNTER(refused),	   COUNTER(refused_unquoted),
#undef COUNTER
};
_Static_assert(sizeof(counters) / sizeof(counters[0]) * sizeof(__u64) ==
		       sizeof(struct journal_counters),
	       "every counter of a stream is saved");

static __u64 *counter(struct journal_counters *c, size_t i)
{
	return (__u64 *)((char *)c + counters[i].offset);
}

static json_object *stream_json(const struct journal_collector *e)
{
	char addr[INET6_ADDRSTRLEN] = "", local[INET6_ADDRSTRLEN] = "";
	json_object *o = json_object_new_object(), *cnt = json_object_new_object();
	struct journal_counters c = e->cnt;

	inet_ntop(e->family, e->addr, addr, sizeof(addr));
	inet_ntop(e->family, e->local_addr, local, sizeof(local));
	json_object_object_add(o, "address", json_object_new_string(addr));
	json_object_object_add(o, "port", json_object_new_int(e->port));
	json_object_object_add(o, "local_address", json_object_new_string(local));
	json_object_object_add(o, "local_port", json_object_new_int(e->local_port));
	json_object_object_add(o, "observation_domain_id",
			       json_object_new_int64(e->observation_domain_id));
	json_object_object_add(o, "sequence", json_object_new_int64(e->seq));
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		json_object_object_add(cnt, counters[i].name, json_object_new_uint64(*counter(&c, i)));
	json_object_object_add(o, "counters", cnt);
	return o;
}

int streamstate_path(const char *ifname, const char *pin_dir, char *buf, size_t len)
{
	char name[4096];
	int n;

	if (pin_dir) {
		snprintf(name, sizeof(name), "%s", pin_dir + (pin_dir[0] == '/'));
		for (char *p = name; *p; p++)
			if (*p == '/')
				*p = '_';
	} else {
		snprintf(name, sizeof(name), "%s", ifname);
	}
	n = snprintf(buf, len, "%s/%s.streams", STREAMSTATE_DIR, name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int streamstate_save(const char *path, const struct journal_collector *e, uint32_t n)
{
	json_object *root = json_object_new_object(), *list = json_object_new_array();
	char tmp[4096 + 8];
	const char *text;
	FILE *f;
	int err = 0;

	json_object_object_add(root, "version", json_object_new_int(STREAMSTATE_VERSION));
	for (uint32_t i = 0; i < n; i++)
		json_object_array_add(list, stream_json(&e[i]));
	json_object_object_add(root, "streams", list);
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY);
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		err = -ENAMETOOLONG;
		goto out;
	}
	/* The state directory itself (systemd's StateDirectory makes it for the unit). */
	if (!strncmp(path, STREAMSTATE_DIR "/", strlen(STREAMSTATE_DIR "/")) &&
	    mkdir(STREAMSTATE_DIR, 0700) && errno != EEXIST) {
		err = -errno;
		goto out;
	}
	f = fopen(tmp, "we");
	if (!f) {
		err = -errno;
		goto out;
	}
	if (fprintf(f, "%s\n", text) < 0 || fflush(f) || fsync(fileno(f)))
		err = -errno ?: -EIO;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
out:
	json_object_put(root);
	return err;
}

/* One stream of the file; false when it is not one (then the file is ignored whole). */
static bool stream_read(json_object *o, struct journal_collector *e)
{
	json_object *v, *cnt;
	const char *addr, *local;

	memset(e, 0, sizeof(*e));
	if (!json_object_object_get_ex(o, "address", &v) || !(addr = json_object_get_string(v)))
		return false;
	if (inet_pton(AF_INET, addr, e->addr) == 1)
		e->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, e->addr) == 1)
		e->family = AF_INET6;
	else
		return false;
	if (json_object_object_get_ex(o, "local_address", &v) &&
	    (local = json_object_get_string(v)))
		inet_pton(e->family, local, e->local_addr);
	if (!json_object_object_get_ex(o, "port", &v))
		return false;
	e->port = (__u16)json_object_get_int(v);
	if (json_object_object_get_ex(o, "local_port", &v))
		e->local_port = (__u16)json_object_get_int(v);
	if (!json_object_object_get_ex(o, "observation_domain_id", &v))
		return false;
	e->observation_domain_id = (__u32)json_object_get_int64(v);
	if (!json_object_object_get_ex(o, "sequence", &v))
		return false;
	e->seq = (__u32)json_object_get_int64(v);
	if (json_object_object_get_ex(o, "counters", &cnt))
		for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
			if (json_object_object_get_ex(cnt, counters[i].name, &v))
				*counter(&e->cnt, i) = json_object_get_uint64(v);
	return true;
}

int streamstate_load(const char *path, struct journal_collector *e, uint32_t max)
{
	json_object *root = json_object_from_file(path), *list, *v;
	int n = 0;

	if (!root)
		return access(path, F_OK) ? -ENOENT : -EINVAL;
	if (!json_object_object_get_ex(root, "version", &v) ||
	    json_object_get_int(v) != STREAMSTATE_VERSION ||
	    !json_object_object_get_ex(root, "streams", &list) ||
	    !json_object_is_type(list, json_type_array)) {
		n = -EINVAL;
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(list) && (uint32_t)n < max; i++) {
		if (!stream_read(json_object_array_get_idx(list, i), &e[n])) {
			n = -EINVAL;
			goto out;
		}
		n++;
	}
out:
	if (n == -EINVAL)
		log_warnx("%s: not a stream state this version wrote; the collectors' streams "
			  "start again", path);
	json_object_put(root);
	return n;
}
