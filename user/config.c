// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Configuration (SPEC §3 and §6): the schema of FlowMetadata. Check every key's type and range over
 * the strictly parsed text (config_json.c), fill struct config, parse collectors and prefixes, and
 * print the effective settings for `flowmeta check`.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "flowmeta.h"
#include "config.h"
#include "config_json.h"
#include "sizing.h"

#define ARRAY_SIZE(a)  (sizeof(a) / sizeof((a)[0]))
#define MAX_FILE_BYTES (4u << 20) /* a configuration, even a whole agent profile */
#define VALUE_LEN      80	  /* a value quoted in a message, "..." beyond */
#define STRING_SOURCE  "<string>"

/* One load: the text and what is known of it, the config being filled and the message. */
struct loader {
	struct json_source src;
	struct config *cfg;
	bool interval_set; /* FlowMetadata.Interval was in the text */
	char *err;
	size_t err_len;
};

static const char *const direction_names[] = {
	[DIRECTION_BOTH] = "Both",
	[DIRECTION_SENDING_TO_PEER] = "SendingToPeer",
	[DIRECTION_RECEIVED_FROM_PEER] = "ReceivedFromPeer",
};

static const char *const protocol_names[] = {
	[RULE_PROTO_ANY] = "Any",
	[RULE_PROTO_TCP] = "Tcp",
	[RULE_PROTO_UDP] = "Udp",
	[RULE_PROTO_ICMP] = "Icmp",
};

static const char *const rule_direction_names[] = {
	[RULE_DIR_BOTH] = "Both",
	[RULE_DIR_INBOUND] = "Inbound",
	[RULE_DIR_OUTBOUND] = "Outbound",
};

static const char *const flow_keys[] = {
	"IpFixCollectors",
	"Direction",
	"Interval",
	"Enabled",
	"PollInterval",
	"IdleTimeout",
	"ObservationDomainId",
	"TemplateRefresh",
	"MaxMessageSize",
	"MaxFlows",
	"MaxFlowMemory",
	"MetricsListen",
	"AccessControl",
	"TrustRequirements",
};
static const char *const access_keys[] = {"Enabled", "Rules"};
static const char *const rule_keys[] = {"Description", "Peers", "Protocol", "Ports", "Direction"};
static const char *const trust_keys[] = {"UntrustedPeers"};

/* The integer settings of FlowMetadata: bounds and where each goes in struct config. */
struct uint_setting {
	const char *key;
	uint64_t min, max;
	const char *unit;
	size_t offset, size;
};

#define CFG_FIELD(f) offsetof(struct config, f), sizeof(((struct config *)0)->f)

static const struct uint_setting uint_settings[] = {
	{"Interval", 0, CONFIG_MAX_DURATION_MS, "milliseconds", CFG_FIELD(interval_ms)},
	{"PollInterval", CONFIG_MIN_POLL_MS, CONFIG_MAX_DURATION_MS, "milliseconds",
	 CFG_FIELD(poll_interval_ms)},
	{"IdleTimeout", CONFIG_MIN_POLL_MS, CONFIG_MAX_DURATION_MS, "milliseconds",
	 CFG_FIELD(idle_timeout_ms)},
	{"ObservationDomainId", 0, UINT32_MAX, NULL, CFG_FIELD(observation_domain_id)},
	{"TemplateRefresh", CONFIG_MIN_POLL_MS, CONFIG_MAX_DURATION_MS, "milliseconds",
	 CFG_FIELD(template_refresh_ms)},
	{"MaxMessageSize", CONFIG_MIN_MESSAGE_SIZE, CONFIG_MAX_MESSAGE_SIZE, "bytes",
	 CFG_FIELD(max_message_size)},
	{"MaxFlows", CONFIG_MIN_FLOWS, CONFIG_MAX_FLOWS, "flows", CFG_FIELD(max_flows)},
	{"MaxFlowMemory", 1, CONFIG_MAX_FLOW_MEMORY, "MiB", CFG_FIELD(max_flow_memory_mib)},
};

/* ---- messages ---------------------------------------------------------------------------- */

/* Set the load's one-line message; returns -EINVAL so callers can `return fail(...)`. */
static int fail(struct loader *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct loader *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_verr(l->err, l->err_len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* "A, B or C" (last_sep " or "), quoted: "\"A\", \"B\" or \"C\"". */
static void join_words(char *buf, size_t size, const char *const *words, size_t n, bool quoted,
		       const char *last_sep)
{
	const char *q = quoted ? "\"" : "";
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && used < size; i++) {
		const char *sep = i == 0 ? "" : i + 1 == n ? last_sep : ", ";
		int w = snprintf(buf + used, size - used, "%s%s%s%s", sep, q, words[i], q);

		if (w < 0)
			break;
		used += (size_t)w;
	}
}

/* ---- typed values ------------------------------------------------------------------------- */

/* The value at path as written in the text when the scanner saw it, else as json-c prints it. */
static const char *value_text(const struct loader *l, const char *path, struct json_object *v,
			      char buf[VALUE_LEN])
{
	size_t n = 0;
	const char *s = json_source_raw(&l->src, path, &n);

	if (!s || memchr(s, '\n', n)) {
		s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE);
		n = strlen(s);
	}
	if (n < VALUE_LEN) {
		memcpy(buf, s, n);
		buf[n] = '\0';
		return buf;
	}
	n = VALUE_LEN - 4;
	while (n && ((unsigned char)s[n] & 0xc0) == 0x80) /* not inside a UTF-8 character */
		n--;
	memcpy(buf, s, n);
	strcpy(buf + n, "...");
	return buf;
}

static const char *type_desc(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_boolean:
		return "a boolean";
	case json_type_double:
		return "a floating-point number";
	case json_type_int:
		return "an integer";
	case json_type_object:
		return "an object";
	case json_type_array:
		return "an array";
	case json_type_string:
		return "a string";
	case json_type_null:
		break;
	}
	return "null";
}

static int wrong_type(struct loader *l, const char *path, struct json_object *v,
		      const char *expected)
{
	char val[VALUE_LEN];

	if (json_object_is_type(v, json_type_null))
		return fail(l, "%s: null is not allowed; expected %s", path, expected);
	return fail(l, "%s: %s is %s; expected %s", path, value_text(l, path, v, val), type_desc(v),
		    expected);
}

/* Whether obj has the member key; its value goes to *v (NULL for a JSON null). */
static bool member(struct json_object *obj, const char *key, struct json_object **v)
{
	return json_object_object_get_ex(obj, key, v);
}

/* Edit distance, letters compared without case; past 32 characters simply "far". */
static unsigned int edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned int row[33];

	if (la > 32 || lb > 32)
		return UINT32_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned int)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned int diag = row[0];

		row[0] = (unsigned int)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned int up = row[j];
			unsigned int sub = diag + (strncasecmp(a + i - 1, b + j - 1, 1) != 0);

			row[j] = sub < up + 1 ? sub : up + 1;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			diag = up;
		}
	}
	return row[lb];
}

/* Reject the first member, in file order, whose name is not in keys; hint at a near miss. */
static int check_keys(struct loader *l, const char *path, struct json_object *obj,
		      const char *const *keys, size_t n)
{
	struct json_object_iterator it = json_object_iter_begin(obj);
	struct json_object_iterator end = json_object_iter_end(obj);
	char child[CONFIG_PATH_LEN], list[256];

	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *name = json_object_iter_peek_name(&it);
		size_t i;

		for (i = 0; i < n && strcmp(name, keys[i]); i++)
			;
		if (i < n)
			continue;
		json_path_key(child, sizeof(child), path, name);
		for (i = 0; i < n && strcasecmp(name, keys[i]); i++)
			;
		if (i < n)
			return fail(l,
				    "%s: unknown key (key names are case-sensitive: did you mean "
				    "%s?)",
				    child, keys[i]);
		for (i = 0; i < n && edit_distance(name, keys[i]) > 2; i++)
			;
		if (i < n)
			return fail(l, "%s: unknown key; did you mean %s?", child, keys[i]);
		join_words(list, sizeof(list), keys, n, false, " or ");
		return fail(l, "%s: unknown key; expected one of %s", child, list);
	}
	return 0;
}

static int parse_object(struct loader *l, const char *path, struct json_object *v,
			const char *const *keys, size_t n)
{
	char list[256], expected[300];

	if (!json_object_is_type(v, json_type_object)) {
		join_words(list, sizeof(list), keys, n, false, ", ");
		snprintf(expected, sizeof(expected), "an object (keys: %s)", list);
		return wrong_type(l, path, v, expected);
	}
	return check_keys(l, path, v, keys, n);
}

static int parse_bool(struct loader *l, const char *path, struct json_object *v, bool *out)
{
	if (!json_object_is_type(v, json_type_boolean))
		return wrong_type(l, path, v, "true or false");
	*out = json_object_get_boolean(v);
	return 0;
}

static int parse_uint(struct loader *l, const char *path, struct json_object *v, uint64_t min,
		      uint64_t max, const char *unit, uint64_t *out)
{
	char expected[96], val[VALUE_LEN];
	int64_t x;

	snprintf(expected, sizeof(expected), "an integer from %" PRIu64 " to %" PRIu64 "%s%s%s",
		 min, max, unit ? " (" : "", unit ? unit : "", unit ? ")" : "");
	if (!json_object_is_type(v, json_type_int))
		return wrong_type(l, path, v, expected);
	/* json-c saturates what does not fit in 64 bits: out of range here all the same. */
	x = json_object_get_int64(v);
	if (x < 0 || (uint64_t)x < min || (uint64_t)x > max)
		return fail(l, "%s: %s is out of range; expected %s", path,
			    value_text(l, path, v, val), expected);
	*out = (uint64_t)x;
	return 0;
}

/* A string without NUL characters (the C side would silently cut it there). */
static int parse_string(struct loader *l, const char *path, struct json_object *v,
			const char *expected, const char **out)
{
	char val[VALUE_LEN];

	if (!json_object_is_type(v, json_type_string))
		return wrong_type(l, path, v, expected);
	*out = json_object_get_string(v);
	if (strlen(*out) != (size_t)json_object_get_string_len(v))
		return fail(l, "%s: %s contains a NUL character; expected %s", path,
			    value_text(l, path, v, val), expected);
	return 0;
}

/* Enum values are case-insensitive; names[i] is the canonical spelling of value i. */
static int parse_enum(struct loader *l, const char *path, struct json_object *v,
		      const char *const *names, size_t n, int *out)
{
	char expected[128], val[VALUE_LEN];
	const char *s;
	int err;

	join_words(expected, sizeof(expected), names, n, true, " or ");
	err = parse_string(l, path, v, expected, &s);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		if (!strcasecmp(s, names[i])) {
			*out = (int)i;
			return 0;
		}
	}
	return fail(l, "%s: %s is not a valid value; expected %s", path,
		    value_text(l, path, v, val), expected);
}

static int parse_array(struct loader *l, const char *path, struct json_object *v, size_t max,
		       const char *expected, const char *items, size_t *n)
{
	if (!json_object_is_type(v, json_type_array))
		return wrong_type(l, path, v, expected);
	*n = json_object_array_length(v);
	if (*n > max)
		return fail(l, "%s: %zu entries; expected at most %zu %s", path, *n, max, items);
	return 0;
}

static const char *enum_name(const char *const *names, size_t n, unsigned int value)
{
	return value < n ? names[value] : "?";
}

const char *direction_filter_name(enum direction_filter d)
{
	return enum_name(direction_names, ARRAY_SIZE(direction_names), d);
}

const char *rule_protocol_name(enum rule_protocol p)
{
	return enum_name(protocol_names, ARRAY_SIZE(protocol_names), p);
}

const char *rule_direction_name(enum rule_direction d)
{
	return enum_name(rule_direction_names, ARRAY_SIZE(rule_direction_names), d);
}

/* ---- collectors --------------------------------------------------------------------------- */

/* s[0..n) is 1 to 5 decimal digits (no sign, no spaces) worth at most max. */
static bool parse_decimal(const char *s, size_t n, unsigned int max, unsigned int *out)
{
	unsigned int v = 0;

	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned int)(s[i] - '0');
	}
	*out = v;
	return v <= max;
}

static bool parse_port(const char *s, size_t n, unsigned int min, uint16_t *out)
{
	unsigned int v;

	if (!parse_decimal(s, n, 65535, &v) || v < min)
		return false;
	*out = (uint16_t)v;
	return true;
}

static int collector_error(char *err, size_t err_len, const char *spec, const char *why)
{
	config_err(err, err_len, "\"%.*s\": %s", (int)CONFIG_ERR_LEN / 2, spec, why);
	return -EINVAL;
}

static const char v4_form[] = "expected Udp/ADDRESS:PORT";
static const char v6_form[] = "expected Udp/[IPv6]:PORT";

/* The spec's length, at most max_len, and its transport: UDP, in any case. false with why. */
static bool check_transport(const char *spec, size_t max_len, char *why, size_t size)
{
	const char *slash = strchr(spec, '/');
	size_t t = slash ? (size_t)(slash - spec) : 0;

	if (strlen(spec) > max_len) {
		snprintf(why, size, "longer than %zu characters; %s", max_len, v4_form);
		return false;
	}
	if (!slash) {
		snprintf(why, size, "no transport; %s", v4_form);
		return false;
	}
	if (t == 3 && !strncasecmp(spec, "udp", 3))
		return true;
	if ((t == 3 && !strncasecmp(spec, "tcp", 3)) ||
	    (t == 4 && !strncasecmp(spec, "sctp", 4)))
		snprintf(why, size, "only UDP transport is supported (Udp/ADDRESS:PORT)");
	else
		snprintf(why, size, "unknown transport \"%.*s\"; %s", t > 16 ? 16 : (int)t, spec,
			 v4_form);
	return false;
}

/*
 * Split "ADDRESS:PORT" or "[IPv6]:PORT" (*v6): the address is [*addr, *addr_end), the port text
 * starts at *port. false with why.
 */
static bool split_host_port(const char *host, bool *v6, const char **addr, const char **addr_end,
			    const char **port, char *why, size_t size)
{
	const char *end;

	*v6 = *host == '[';
	if (*v6) {
		host++;
		end = strchr(host, ']');
		if (!end) {
			snprintf(why, size, "no \"]\" after the IPv6 address; %s", v6_form);
			return false;
		}
		if (end[1] != ':') {
			snprintf(why, size, "no \":PORT\" after \"]\"; %s", v6_form);
			return false;
		}
		*port = end + 2;
	} else {
		end = strrchr(host, ':');
		if (!end) {
			snprintf(why, size, "no \":PORT\"; %s", v4_form);
			return false;
		}
		if (memchr(host, ':', (size_t)(end - host))) {
			snprintf(why, size, "an IPv6 address needs brackets; %s", v6_form);
			return false;
		}
		*port = end + 1;
	}
	if (end == host) {
		snprintf(why, size, "no address; %s", *v6 ? v6_form : v4_form);
		return false;
	}
	*addr = host;
	*addr_end = end;
	return true;
}

/* Whether 16 address bytes are IPv4-mapped IPv6, ::ffff:a.b.c.d (bytes: no alignment needed). */
static bool ipv4_mapped(const uint8_t addr[16])
{
	static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};

	return !memcmp(addr, mapped, sizeof(mapped));
}

/*
 * The numeric address in [host, end) into bytes (4 or 16 of them); false with why. An IPv4-mapped
 * IPv6 address (::ffff:a.b.c.d) is the IPv4 collector a.b.c.d (*v6 turns false): datagrams to it
 * leave as IPv4 anyway, and one collector written both ways is then the same collector.
 */
static bool parse_host(const char *host, const char *end, bool *v6, uint8_t bytes[16], char *why,
		       size_t size)
{
	char addr[INET6_ADDRSTRLEN];

	if ((size_t)(end - host) >= sizeof(addr))
		end = host + sizeof(addr) - 1; /* too long for an address: inet_pton fails */
	memcpy(addr, host, (size_t)(end - host));
	addr[end - host] = '\0';
	if (inet_pton(*v6 ? AF_INET6 : AF_INET, addr, bytes) != 1) {
		snprintf(why, size, "\"%s\" is not an %s address%s; %s", addr,
			 *v6 ? "IPv6" : "IPv4", *v6 ? "" : " (names are not resolved)",
			 *v6 ? v6_form : v4_form);
		return false;
	}
	if (*v6 && ipv4_mapped(bytes)) {
		memmove(bytes, bytes + 12, 4);
		*v6 = false;
	}
	if (!memcmp(bytes, (const uint8_t[16]){0}, *v6 ? 16 : 4)) {
		snprintf(why, size, "the unspecified address %s cannot be a collector", addr);
		return false;
	}
	return true;
}

static void set_sockaddr(struct collector_addr *out, bool v6, const uint8_t *bytes, uint16_t port)
{
	if (v6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->addr;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, bytes, 16);
		out->addr_len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&out->addr;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, bytes, 4);
		out->addr_len = sizeof(*sin);
	}
}

int collector_parse(const char *spec, struct collector_addr *out, char *err, size_t err_len)
{
	const char *host, *host_end, *port;
	uint8_t bytes[16];
	uint16_t port_num;
	char why[160];
	bool v6;

	memset(out, 0, sizeof(*out));
	if (!check_transport(spec, sizeof(out->spec) - 1, why, sizeof(why)) ||
	    !split_host_port(strchr(spec, '/') + 1, &v6, &host, &host_end, &port, why,
			     sizeof(why)) ||
	    !parse_host(host, host_end, &v6, bytes, why, sizeof(why)))
		return collector_error(err, err_len, spec, why);
	if (!parse_port(port, strlen(port), 1, &port_num)) {
		snprintf(why, sizeof(why), "\"%.8s\" is not a port; expected a port from 1 to 65535",
			 port);
		return collector_error(err, err_len, spec, why);
	}
	set_sockaddr(out, v6, bytes, port_num);
	strcpy(out->spec, spec);
	return 0;
}

/* Canonical spelling, whatever the case and IPv6 notation of the configured string. */
static void collector_format(const struct collector_addr *c, char *buf, size_t size)
{
	char addr[INET6_ADDRSTRLEN];

	if (c->addr.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&c->addr;

		inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));
		snprintf(buf, size, "Udp/[%s]:%u", addr, ntohs(sin6->sin6_port));
	} else {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&c->addr;

		inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
		snprintf(buf, size, "Udp/%s:%u", addr, ntohs(sin->sin_port));
	}
}

bool sockaddr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
	}
	return false;
}

int config_add_collector(struct config *cfg, const char *spec, char *err, size_t err_len)
{
	struct collector_addr c;
	int ret = collector_parse(spec, &c, err, err_len);

	if (ret)
		return ret;
	for (size_t i = 0; i < cfg->n_collectors; i++) {
		if (!sockaddr_equal(&c.addr, &cfg->collectors[i].addr))
			continue;
		config_err(err, err_len,
			   "\"%s\": same address and port as collector \"%s\"; list "
			   "each collector once",
			   spec, cfg->collectors[i].spec);
		return -EINVAL;
	}
	if (cfg->n_collectors >= CONFIG_MAX_COLLECTORS) {
		config_err(err, err_len, "\"%s\": too many collectors; at most %d", spec,
			   CONFIG_MAX_COLLECTORS);
		return -E2BIG;
	}
	cfg->collectors[cfg->n_collectors++] = c;
	return 0;
}

static int parse_collectors(struct loader *l, struct json_object *v)
{
	static const char path[] = "FlowMetadata.IpFixCollectors";
	char child[CONFIG_PATH_LEN], why[CONFIG_ERR_LEN];
	size_t n;
	int err;

	err = parse_array(l, path, v, CONFIG_MAX_COLLECTORS,
			  "an array of strings \"Udp/ADDRESS:PORT\"", "collectors", &n);
	if (err)
		return err;
	l->cfg->n_collectors = 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		const char *spec;

		json_path_index(child, sizeof(child), path, i);
		err = parse_string(l, child, e, "a string \"Udp/ADDRESS:PORT\"", &spec);
		if (err)
			return err;
		if (config_add_collector(l->cfg, spec, why, sizeof(why)))
			return fail(l, "%s: %s", child, why);
	}
	return 0;
}

/* ---- MetricsListen ----------------------------------------------------------------------- */

static int listen_error(char *err, size_t err_len, const char *what, const char *text,
			const char *why)
{
	config_err(err, err_len, "%s: \"%.64s\": %s; expected ADDRESS:PORT or [IPv6]:PORT", what,
		   text, why);
	return -EINVAL;
}

int listen_parse(const char *what, const char *text, struct listen_addr *out, char *err,
		 size_t err_len)
{
	const char *colon = strrchr(text, ':'), *host = text, *host_end = colon;
	char addr[INET6_ADDRSTRLEN];
	bool v6 = *text == '[';
	uint8_t bytes[16];
	uint16_t port;

	memset(out, 0, sizeof(*out));
	if (!colon)
		return listen_error(err, err_len, what, text, "no \":PORT\"");
	if (v6) {
		host++;
		if (colon == text || colon[-1] != ']')
			return listen_error(err, err_len, what, text,
					    "no \"]:PORT\" after the IPv6 address");
		host_end = colon - 1;
	} else if (memchr(text, ':', (size_t)(colon - text))) {
		return listen_error(err, err_len, what, text, "an IPv6 address needs brackets");
	}
	if (host_end <= host || (size_t)(host_end - host) >= sizeof(addr))
		return listen_error(err, err_len, what, text, "no address");
	memcpy(addr, host, (size_t)(host_end - host));
	addr[host_end - host] = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, bytes) != 1)
		return listen_error(err, err_len, what, text,
				    v6 ? "not an IPv6 address"
				       : "not an IPv4 address (names are not resolved)");
	if (!parse_port(colon + 1, strlen(colon + 1), 1, &port))
		return listen_error(err, err_len, what, text,
				    "the port is not a number from 1 to 65535");
	if (v6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->addr;

		*sin6 = (struct sockaddr_in6){ .sin6_family = AF_INET6, .sin6_port = htons(port) };
		memcpy(&sin6->sin6_addr, bytes, 16);
		out->addr_len = sizeof(*sin6);
		inet_ntop(AF_INET6, bytes, addr, sizeof(addr));
		snprintf(out->spec, sizeof(out->spec), "[%s]:%u", addr, port);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&out->addr;

		*sin = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(port) };
		memcpy(&sin->sin_addr, bytes, 4);
		out->addr_len = sizeof(*sin);
		inet_ntop(AF_INET, bytes, addr, sizeof(addr));
		snprintf(out->spec, sizeof(out->spec), "%s:%u", addr, port);
	}
	return 0;
}

/* ---- prefixes, ports and the policy ------------------------------------------------------- */

/* Clear the bits beyond p->len; true when any was set. */
static bool clear_host_bits(struct prefix *p, unsigned int bits)
{
	bool was_set = false;

	for (unsigned int b = p->len; b < bits; b++) {
		uint8_t mask = (uint8_t)(0x80 >> (b % 8));

		if (p->addr[b / 8] & mask) {
			was_set = true;
			p->addr[b / 8] &= (uint8_t)~mask;
		}
	}
	return was_set;
}

/* A dotted IPv4 part (the whole text, or after an IPv6 address's last ':') with a leading zero. */
static bool leading_zero_octet(const char *addr)
{
	const char *colon = strrchr(addr, ':'), *p = colon ? colon + 1 : addr;

	if (!strchr(p, '.'))
		return false;
	for (; *p; p++)
		if (*p == '0' && (p == addr || p[-1] == '.' || p[-1] == ':') && p[1] >= '0' &&
		    p[1] <= '9')
			return true;
	return false;
}

/*
 * Address spellings a policy must not misread (README, "Address spellings"). IPv4-mapped IPv6
 * (::ffff:a.b.c.d, any notation, /96 or longer) is the IPv4 peer or prefix: the kernel judges such
 * a packet by its IPv4 identity. IPv4-compatible IPv6 (::a.b.c.d, deprecated; anything in ::/96
 * but :: and ::1, however written) is refused: no IPv4 traffic has such an address, and the
 * operator surely meant the IPv4 peer.
 */
static int prefix_spelling(const char *text, struct prefix *out, char *err, size_t err_len)
{
	static const uint8_t zero[12];

	if (out->ip_version != 6)
		return 0;
	if (ipv4_mapped(out->addr) && out->len >= 96) {
		memmove(out->addr, out->addr + 12, 4);
		memset(out->addr + 4, 0, 12);
		out->ip_version = 4;
		out->len -= 96;
		return 0;
	}
	if (!memcmp(out->addr, zero, sizeof(zero)) && out->len >= 96 &&
	    !(out->len == 128 && !out->addr[12] && !out->addr[13] && !out->addr[14] &&
	      out->addr[15] <= 1)) {
		struct prefix v4 = {.ip_version = 4, .len = (uint8_t)(out->len - 96)};
		char want[INET_ADDRSTRLEN + 4];

		memcpy(v4.addr, out->addr + 12, 4);
		clear_host_bits(&v4, 32);
		prefix_format(&v4, want, sizeof(want));
		config_err(err, err_len,
			   "%s is IPv4-compatible IPv6 (deprecated, RFC 4291), which no IPv4 "
			   "traffic has; write %s for IPv4",
			   text, want);
		return -EINVAL;
	}
	return 0;
}

int prefix_parse(const char *text, bool allow_any, struct prefix *out, char *err, size_t err_len)
{
	const char *slash = strchr(text, '/');
	size_t addr_len = slash ? (size_t)(slash - text) : strlen(text);
	const char *form =
		allow_any ? "an address, ADDRESS/LEN or \"any\"" : "an address or ADDRESS/LEN";
	char addr[INET6_ADDRSTRLEN], fixed[INET6_ADDRSTRLEN + 4];
	unsigned int bits, len;

	memset(out, 0, sizeof(out[0]));
	if (!strcasecmp(text, "any")) {
		if (allow_any)
			return 0;
		config_err(err, err_len, "\"any\" is not allowed here; expected %s", form);
		return -EINVAL;
	}
	if (memchr(text, '%', addr_len)) {
		config_err(err, err_len,
			   "a zone index (%%...) has no place in a peer, which is matched by "
			   "address on this interface; expected %s",
			   form);
		return -EINVAL;
	}
	if (*text == '[') {
		config_err(err, err_len, "no brackets around an address here; expected %s", form);
		return -EINVAL;
	}
	if (addr_len == 0 || addr_len >= sizeof(addr))
		goto bad_address;
	memcpy(addr, text, addr_len);
	addr[addr_len] = '\0';
	out->ip_version = strchr(addr, ':') ? 6 : 4;
	bits = out->ip_version == 6 ? 128 : 32;
	if (inet_pton(out->ip_version == 6 ? AF_INET6 : AF_INET, addr, out->addr) != 1) {
		if (!leading_zero_octet(addr))
			goto bad_address;
		memset(out, 0, sizeof(out[0]));
		config_err(err, err_len,
			   "an IPv4 part with a leading zero could be read as octal; write each "
			   "part in decimal without leading zeros");
		return -EINVAL;
	}
	if (!slash) {
		len = bits;
	} else if (!parse_decimal(slash + 1, strlen(slash + 1), bits, &len)) {
		memset(out, 0, sizeof(out[0]));
		config_err(err, err_len, "bad prefix length; expected /0 to /%u", bits);
		return -EINVAL;
	}
	out->len = (uint8_t)len;
	if (prefix_spelling(text, out, err, err_len)) {
		memset(out, 0, sizeof(out[0]));
		return -EINVAL;
	}
	if (clear_host_bits(out, out->ip_version == 6 ? 128 : 32)) {
		prefix_format(out, fixed, sizeof(fixed));
		config_err(err, err_len, "host bits are set; did you mean %s?", fixed);
		return -EINVAL;
	}
	return 0;

bad_address:
	memset(out, 0, sizeof(out[0]));
	config_err(err, err_len, "not an IPv4 or IPv6 address; expected %s", form);
	return -EINVAL;
}

void prefix_format(const struct prefix *p, char *buf, size_t size)
{
	char addr[INET6_ADDRSTRLEN];
	unsigned int bits = p->ip_version == 6 ? 128 : 32;

	if (!p->ip_version) {
		snprintf(buf, size, "any");
		return;
	}
	inet_ntop(p->ip_version == 6 ? AF_INET6 : AF_INET, p->addr, addr, sizeof(addr));
	if (p->len == bits)
		snprintf(buf, size, "%s", addr);
	else
		snprintf(buf, size, "%s/%u", addr, p->len);
}

static int parse_peers(struct loader *l, const char *path, struct json_object *v, bool allow_any,
		       struct prefix *out, size_t *n_out)
{
	const char *expected = allow_any ? "an array of addresses, prefixes or \"any\""
					 : "an array of addresses or prefixes";
	char child[CONFIG_PATH_LEN], why[160], val[VALUE_LEN];
	size_t n;
	int err;

	err = parse_array(l, path, v, CONFIG_MAX_PEERS, expected, "peers", &n);
	if (err)
		return err;
	/* A rule that names no peer allows nothing: surely a mistake. */
	if (n == 0 && allow_any)
		return fail(l, "%s: [] names no peer; expected %s with at least one entry", path,
			    expected);
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		const char *s;

		json_path_index(child, sizeof(child), path, i);
		err = parse_string(l, child, e, "a string: an address or ADDRESS/LEN", &s);
		if (err)
			return err;
		if (prefix_parse(s, allow_any, &out[i], why, sizeof(why)))
			return fail(l, "%s: %s: %s", child, value_text(l, child, e, val), why);
	}
	*n_out = n;
	return 0;
}

static int parse_ports(struct loader *l, const char *path, struct json_object *v,
		       struct acl_rule *r)
{
	static const char expected[] = "a string \"N\" or \"N-M\" with ports from 0 to 65535";
	char val[VALUE_LEN];
	const char *s, *dash;
	bool ok;
	int err;

	err = parse_string(l, path, v, expected, &s);
	if (err)
		return err;
	dash = strchr(s, '-');
	if (dash) {
		ok = parse_port(s, (size_t)(dash - s), 0, &r->port_min) &&
		     parse_port(dash + 1, strlen(dash + 1), 0, &r->port_max);
	} else {
		ok = parse_port(s, strlen(s), 0, &r->port_min);
		r->port_max = r->port_min;
	}
	if (!ok)
		return fail(l, "%s: %s is not a port or port range; expected %s", path,
			    value_text(l, path, v, val), expected);
	if (r->port_min > r->port_max)
		return fail(l, "%s: %s is a reversed range; expected \"N-M\" with N <= M", path,
			    value_text(l, path, v, val));
	return 0;
}

static int parse_rule(struct loader *l, const char *path, struct json_object *v, struct acl_rule *r)
{
	char child[CONFIG_PATH_LEN], val[VALUE_LEN];
	struct json_object *m;
	const char *s;
	int err, e;

	memset(r, 0, sizeof(*r));
	r->port_max = 65535;
	err = parse_object(l, path, v, rule_keys, ARRAY_SIZE(rule_keys));
	if (err)
		return err;

	if (member(v, "Description", &m)) {
		json_path_key(child, sizeof(child), path, "Description");
		err = parse_string(l, child, m, "a string", &s);
		if (err)
			return err;
		if (strlen(s) > CONFIG_MAX_DESCRIPTION)
			return fail(l, "%s: %s is %zu bytes long; expected at most %d", child,
				    value_text(l, child, m, val), strlen(s),
				    CONFIG_MAX_DESCRIPTION);
		strcpy(r->description, s);
	}

	json_path_key(child, sizeof(child), path, "Peers");
	if (!member(v, "Peers", &m))
		return fail(l, "%s: missing; expected an array of addresses, prefixes or \"any\"",
			    child);
	err = parse_peers(l, child, m, true, r->peers, &r->n_peers);
	if (err)
		return err;

	if (member(v, "Protocol", &m)) {
		json_path_key(child, sizeof(child), path, "Protocol");
		err = parse_enum(l, child, m, protocol_names, ARRAY_SIZE(protocol_names), &e);
		if (err)
			return err;
		r->protocol = (enum rule_protocol)e;
	}

	if (member(v, "Ports", &m)) {
		json_path_key(child, sizeof(child), path, "Ports");
		if (r->protocol != RULE_PROTO_TCP && r->protocol != RULE_PROTO_UDP)
			return fail(l,
				    "%s: %s needs Protocol Tcp or Udp (this rule's Protocol is "
				    "%s); remove Ports or change Protocol",
				    child, value_text(l, child, m, val),
				    rule_protocol_name(r->protocol));
		err = parse_ports(l, child, m, r);
		if (err)
			return err;
	}

	if (member(v, "Direction", &m)) {
		json_path_key(child, sizeof(child), path, "Direction");
		err = parse_enum(l, child, m, rule_direction_names,
				 ARRAY_SIZE(rule_direction_names), &e);
		if (err)
			return err;
		r->direction = (enum rule_direction)e;
	}
	return 0;
}

static int parse_access_control(struct loader *l, struct json_object *v)
{
	static const char path[] = "FlowMetadata.AccessControl";
	struct policy_config *pol = &l->cfg->policy;
	char child[CONFIG_PATH_LEN];
	struct json_object *m;
	size_t n;
	int err;

	err = parse_object(l, path, v, access_keys, ARRAY_SIZE(access_keys));
	if (err)
		return err;
	/* Writing a policy means enforcing it, unless Enabled says otherwise. */
	pol->acl_enabled = true;
	if (member(v, "Enabled", &m)) {
		err = parse_bool(l, "FlowMetadata.AccessControl.Enabled", m, &pol->acl_enabled);
		if (err)
			return err;
	}
	pol->n_rules = 0;
	if (!member(v, "Rules", &m))
		return 0;
	err = parse_array(l, "FlowMetadata.AccessControl.Rules", m, CONFIG_MAX_RULES,
			  "an array of rule objects", "rules", &n);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		json_path_index(child, sizeof(child), "FlowMetadata.AccessControl.Rules", i);
		err = parse_rule(l, child, json_object_array_get_idx(m, i), &pol->rules[i]);
		if (err)
			return err;
	}
	pol->n_rules = n;
	return 0;
}

static int parse_trust(struct loader *l, struct json_object *v)
{
	struct policy_config *pol = &l->cfg->policy;
	struct json_object *m;
	int err;

	err = parse_object(l, "FlowMetadata.TrustRequirements", v, trust_keys,
			   ARRAY_SIZE(trust_keys));
	if (err)
		return err;
	pol->n_untrusted = 0;
	if (!member(v, "UntrustedPeers", &m))
		return 0;
	return parse_peers(l, "FlowMetadata.TrustRequirements.UntrustedPeers", m, false,
			   pol->untrusted, &pol->n_untrusted);
}

/* ---- FlowMetadata ------------------------------------------------------------------------- */

static void store_uint(struct config *cfg, const struct uint_setting *s, uint64_t v)
{
	char *field = (char *)cfg + s->offset;

	if (s->size == sizeof(uint64_t)) {
		memcpy(field, &v, sizeof(v));
	} else {
		uint32_t v32 = (uint32_t)v; /* bounds already checked */

		memcpy(field, &v32, sizeof(v32));
	}
}

static int check_interval(struct loader *l)
{
	const struct config *cfg = l->cfg;

	if (cfg->interval_ms % cfg->poll_interval_ms == 0)
		return 0;
	if (l->interval_set)
		return fail(l,
			    "FlowMetadata.Interval: %" PRIu64 " is not a multiple of PollInterval "
			    "(%" PRIu64 "); use 0 or a multiple",
			    cfg->interval_ms, cfg->poll_interval_ms);
	return fail(l,
		    "FlowMetadata.PollInterval: %" PRIu64 " does not divide Interval (%" PRIu64
		    "); set Interval to 0 or a multiple of PollInterval",
		    cfg->poll_interval_ms, cfg->interval_ms);
}

static int load_flow_metadata(struct loader *l, struct json_object *fm)
{
	struct config *cfg = l->cfg;
	char path[CONFIG_PATH_LEN];
	struct json_object *v;
	int err, e;

	err = parse_object(l, "FlowMetadata", fm, flow_keys, ARRAY_SIZE(flow_keys));
	if (err)
		return err;

	if (member(fm, "IpFixCollectors", &v)) {
		err = parse_collectors(l, v);
		if (err)
			return err;
	}
	if (member(fm, "Direction", &v)) {
		err = parse_enum(l, "FlowMetadata.Direction", v, direction_names,
				 ARRAY_SIZE(direction_names), &e);
		if (err)
			return err;
		cfg->direction = (enum direction_filter)e;
	}
	if (member(fm, "Enabled", &v)) {
		err = parse_bool(l, "FlowMetadata.Enabled", v, &cfg->enabled);
		if (err)
			return err;
	}
	for (size_t i = 0; i < ARRAY_SIZE(uint_settings); i++) {
		const struct uint_setting *s = &uint_settings[i];
		uint64_t x = 0;

		if (!member(fm, s->key, &v))
			continue;
		json_path_key(path, sizeof(path), "FlowMetadata", s->key);
		err = parse_uint(l, path, v, s->min, s->max, s->unit, &x);
		if (err)
			return err;
		store_uint(cfg, s, x);
		if (!strcmp(s->key, "Interval"))
			l->interval_set = true;
	}
	if (member(fm, "MetricsListen", &v)) {
		static const char key[] = "FlowMetadata.MetricsListen";
		const char *text;

		err = parse_string(l, key, v, "a string \"ADDRESS:PORT\"", &text);
		if (!err)
			err = listen_parse(key, text, &cfg->metrics_listen, l->err, l->err_len);
		if (err)
			return err;
	}
	if (member(fm, "AccessControl", &v)) {
		err = parse_access_control(l, v);
		if (err)
			return err;
	}
	if (member(fm, "TrustRequirements", &v)) {
		err = parse_trust(l, v);
		if (err)
			return err;
	}
	return check_interval(l);
}

/* ---- entry points ------------------------------------------------------------------------- */

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->enabled = true;
	cfg->direction = DIRECTION_BOTH;
	cfg->interval_ms = 0;
	cfg->poll_interval_ms = 60000;
	cfg->idle_timeout_ms = 60000;
	cfg->observation_domain_id = CONFIG_DOMAIN_DERIVED;
	cfg->template_refresh_ms = 60000;
	cfg->max_message_size = CONFIG_MESSAGE_SIZE_PATH;
	cfg->max_flows = 0;
	cfg->max_flow_memory_mib = CONFIG_DEFAULT_FLOW_MEMORY;
}

/* Parse and apply text to a copy of cfg; cfg changes only when everything is valid. */
static int load_text(struct config *cfg, const char *name, const char *text, size_t len, char *err,
		     size_t err_len)
{
	struct loader l = {.err = err, .err_len = err_len};
	struct json_object *root = NULL, *fm;
	struct config *work = NULL;
	int ret;

	config_err(err, err_len, "%s", "");
	if (len > MAX_FILE_BYTES) {
		config_err(err, err_len, "%s: larger than %u bytes; not a configuration", name,
			   MAX_FILE_BYTES);
		return -EINVAL;
	}
	ret = json_source_parse(&l.src, name, text, len, "FlowMetadata", &root, err, err_len);
	if (ret)
		goto out;
	work = malloc(sizeof(*work));
	if (!work) {
		config_err(err, err_len, "%s: out of memory", name);
		ret = -ENOMEM;
		goto out;
	}
	memcpy(work, cfg, sizeof(*work));
	l.cfg = work;
	if (member(root, "FlowMetadata", &fm))
		ret = load_flow_metadata(&l, fm);
	if (!ret)
		memcpy(cfg, work, sizeof(*cfg));
out:
	free(work);
	json_object_put(root);
	json_source_free(&l.src);
	return ret;
}

int config_load_string(struct config *cfg, const char *json, char *err, size_t err_len)
{
	return load_text(cfg, STRING_SOURCE, json, strlen(json), err, err_len);
}

int config_load_file(struct config *cfg, const char *path, char *err, size_t err_len)
{
	size_t len;
	char *text;
	int ret;

	ret = json_read_file(path, MAX_FILE_BYTES, &text, &len, err, err_len);
	if (ret)
		return ret;
	ret = load_text(cfg, path, text, len, err, err_len);
	free(text);
	return ret;
}

/* ---- flowmeta check ----------------------------------------------------------------------- */

static void print_ms(FILE *out, const char *key, uint64_t ms)
{
	fprintf(out, "%s: %" PRIu64 " ms\n", key, ms);
}

static void print_rule(FILE *out, size_t i, const struct acl_rule *r)
{
	char prefix[INET6_ADDRSTRLEN + 4];

	fprintf(out, "Rule[%zu]: Protocol %s", i, rule_protocol_name(r->protocol));
	if (r->protocol == RULE_PROTO_TCP || r->protocol == RULE_PROTO_UDP) {
		if (r->port_min == 0 && r->port_max == 65535)
			fprintf(out, ", Ports all");
		else if (r->port_min == r->port_max)
			fprintf(out, ", Ports %u", r->port_min);
		else
			fprintf(out, ", Ports %u-%u", r->port_min, r->port_max);
	}
	fprintf(out, ", Direction %s, Peers", rule_direction_name(r->direction));
	for (size_t p = 0; p < r->n_peers; p++) {
		prefix_format(&r->peers[p], prefix, sizeof(prefix));
		fprintf(out, " %s", prefix);
	}
	if (r->description[0])
		fprintf(out, ", Description \"%s\"", r->description);
	fputc('\n', out);
}

static void print_policy(FILE *out, const struct policy_config *pol)
{
	char prefix[INET6_ADDRSTRLEN + 4];
	const char *rules = pol->n_rules == 1 ? "rule" : "rules";

	if (!pol->acl_enabled)
		fprintf(out, "AccessControl: disabled (%zu %s, not enforced)\n", pol->n_rules,
			rules);
	else if (!pol->n_rules)
		fprintf(out, "AccessControl: enabled, 0 rules (all traffic is dropped)\n");
	else
		fprintf(out, "AccessControl: enabled, %zu %s\n", pol->n_rules, rules);
	for (size_t i = 0; i < pol->n_rules; i++)
		print_rule(out, i, &pol->rules[i]);
	fprintf(out, "UntrustedPeers: %zu\n", pol->n_untrusted);
	for (size_t i = 0; i < pol->n_untrusted; i++) {
		prefix_format(&pol->untrusted[i], prefix, sizeof(prefix));
		fprintf(out, "UntrustedPeer: %s\n", prefix);
	}
}

/* The flow table this configuration creates at ncpus possible CPUs, and why that size. */
static void print_flow_table(FILE *out, const struct config *cfg, unsigned int ncpus)
{
	struct flow_table_choice c;
	char mib[32], why[64];

	if (!ncpus) {
		if (cfg->max_flows)
			fprintf(out, "MaxFlows: %" PRIu32 "\n", cfg->max_flows);
		else
			fprintf(out, "MaxFlows: from MaxFlowMemory (possible CPUs unknown)\n");
		fprintf(out, "MaxFlowMemory: %" PRIu32 " MiB\n", cfg->max_flow_memory_mib);
		return;
	}
	sizing_choose(cfg->max_flows, (uint64_t)cfg->max_flow_memory_mib << 20, ncpus, &c);
	sizing_format_mib(c.tables.total_bytes, mib, sizeof(mib));
	if (c.from_budget && c.over_budget)
		snprintf(why, sizeof(why), "the smallest table, over MaxFlowMemory");
	else if (c.from_budget)
		snprintf(why, sizeof(why), "the largest within MaxFlowMemory, at most %u",
			 FLOWMETA_DEFAULT_MAX_FLOWS);
	else
		snprintf(why, sizeof(why), "MaxFlows%s",
			 c.over_budget ? ", over MaxFlowMemory" : "");
	fprintf(out, "MaxFlows: %" PRIu32 "\n", c.max_flows);
	fprintf(out, "MaxFlowMemory: %" PRIu32 " MiB\n", cfg->max_flow_memory_mib);
	fprintf(out, "FlowTable: %" PRIu32 " flows (%s), %s of kernel memory at %u possible CPUs\n",
		c.max_flows, why, mib, ncpus);
}

void config_print(const struct config *cfg, unsigned int ncpus, FILE *out)
{
	char spec[INET6_ADDRSTRLEN + 16];

	fprintf(out, "Enabled: %s\n", cfg->enabled ? "true" : "false");
	fprintf(out, "Direction: %s\n", direction_filter_name(cfg->direction));
	if (cfg->interval_ms)
		print_ms(out, "Interval", cfg->interval_ms);
	else
		fprintf(out, "Interval: 0 (records only when a flow ends)\n");
	print_ms(out, "PollInterval", cfg->poll_interval_ms);
	print_ms(out, "IdleTimeout", cfg->idle_timeout_ms);
	if (cfg->observation_domain_id == CONFIG_DOMAIN_DERIVED)
		fprintf(out, "ObservationDomainId: derived from the interface's address\n");
	else
		fprintf(out, "ObservationDomainId: %" PRIu64 "\n", cfg->observation_domain_id);
	print_ms(out, "TemplateRefresh", cfg->template_refresh_ms);
	if (cfg->max_message_size == CONFIG_MESSAGE_SIZE_PATH)
		fprintf(out, "MaxMessageSize: path MTU of each collector\n");
	else
		fprintf(out, "MaxMessageSize: %" PRIu32 " bytes, capped by each collector's path MTU\n",
			cfg->max_message_size);
	print_flow_table(out, cfg, ncpus);
	fprintf(out, "IpFixCollectors: %zu\n", cfg->n_collectors);
	for (size_t i = 0; i < cfg->n_collectors; i++) {
		collector_format(&cfg->collectors[i], spec, sizeof(spec));
		fprintf(out, "Collector: %s\n", spec);
	}
	if (!cfg->enabled)
		fprintf(out, "Export: off (Enabled is false)\n");
	else if (!cfg->n_collectors)
		fprintf(out, "Export: off (no collector configured; metering still runs)\n");
	else
		fprintf(out, "Export: on\n");
	fprintf(out, "MetricsListen: %s\n",
		cfg->metrics_listen.addr_len ? cfg->metrics_listen.spec : "off");
	print_policy(out, &cfg->policy);
}
