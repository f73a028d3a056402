/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Configuration (SPEC §3): the FlowMetadata object of a JSON file, its defaults and its validation.
 * Every error is one line naming the key, the bad value and what is expected.
 *
 * Rules beyond the SPEC, decided here:
 * - Key names are case-sensitive (a key that differs only in case is an unknown key, with a hint);
 *   enum values (Direction, Protocol, rule Direction, "any") and the transport of a collector are
 *   case-insensitive, as .NET agents write them either way. config_print shows canonical spellings.
 * - A key repeated in one object under FlowMetadata (or FlowMetadata itself twice) is an error:
 *   json-c would silently keep the last one.
 * - Duplicate collectors (same address and port, however written) are an error, in the file and
 *   through config_add_collector: sending each record twice would double the collector's counts.
 *   An IPv4-mapped IPv6 collector ([::ffff:a.b.c.d]) is the IPv4 collector a.b.c.d.
 * - Peers: IPv4-mapped IPv6 (::ffff:a.b.c.d, /96 or longer) is the IPv4 peer or prefix; zone
 *   indexes, brackets, IPv4 parts with leading zeros and IPv4-compatible IPv6 (::/96 but :: and
 *   ::1) are refused (see prefix_parse).
 * - The text is scanned whole without recursion (other top-level keys nest as deep as they like);
 *   FlowMetadata nests at most 16 levels.
 * - The file must be strict JSON: no comments, trailing commas, single quotes, NaN or raw control
 *   characters in strings. A leading UTF-8 byte-order mark is skipped.
 */
#ifndef FLOWMETA_CONFIG_H
#define FLOWMETA_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#define CONFIG_DEFAULT_PATH	"/etc/flowmeta/flowmeta.json"
#define CONFIG_MAX_COLLECTORS	32
#define CONFIG_MAX_RULES	256
#define CONFIG_MAX_PEERS	64	/* prefixes per rule, and untrusted peers */
#define CONFIG_ERR_LEN		512

/* Bounds of the integer settings (inclusive); every duration is in milliseconds. */
#define CONFIG_MAX_DURATION_MS	86400000ULL	/* one day: Interval, PollInterval, ... */
#define CONFIG_MIN_POLL_MS	1000ULL		/* also the minimum IdleTimeout, TemplateRefresh */
#define CONFIG_MIN_MESSAGE_SIZE	512		/* MaxMessageSize: RFC 7011 §10.3.3, no path MTU */
#define CONFIG_MAX_MESSAGE_SIZE	65507		/* largest UDP payload over IPv4 */
/* Defaults of the settings that the node decides, not the file (see collector.h, exporter.c). */
#define CONFIG_MESSAGE_SIZE_PATH	0		/* MaxMessageSize: the path MTU's */
#define CONFIG_DOMAIN_DERIVED	UINT64_MAX	/* ObservationDomainId: from the interface */
#define CONFIG_MIN_FLOWS	1024		/* MaxFlows */
#define CONFIG_MAX_FLOWS	16777216	/* 16 Mi: beyond, the per-CPU map needs gigabytes */
#define CONFIG_DEFAULT_FLOW_MEMORY 64		/* MaxFlowMemory, MiB */
#define CONFIG_MAX_FLOW_MEMORY	65536		/* MiB: 64 GiB */
#define CONFIG_MAX_DESCRIPTION	63		/* bytes of a rule's Description */

enum direction_filter {
	DIRECTION_BOTH = 0,
	DIRECTION_SENDING_TO_PEER,	/* egress flows only */
	DIRECTION_RECEIVED_FROM_PEER,	/* ingress flows only */
};

struct collector_addr {
	char spec[128];			/* as configured, for logs and status */
	struct sockaddr_storage addr;
	socklen_t addr_len;
};

/* MetricsListen: where the Prometheus endpoint listens; addr_len 0 means off. */
struct listen_addr {
	char spec[64];			/* canonical "ADDRESS:PORT" or "[IPv6]:PORT" */
	struct sockaddr_storage addr;
	socklen_t addr_len;
};

/*
 * An IPv4 or IPv6 prefix; IPv4 in the first 4 bytes of addr, the rest zero (also when written
 * IPv4-mapped). Host bits beyond len are always zero (a prefix written with host bits set is
 * rejected). A bare address has len 32 or 128. "any" is ip_version 0, len 0, addr all zero.
 */
struct prefix {
	uint8_t addr[16];
	uint8_t ip_version;		/* 4 or 6; 0 means "any" */
	uint8_t len;			/* prefix length in bits */
};

enum rule_protocol { RULE_PROTO_ANY = 0, RULE_PROTO_TCP, RULE_PROTO_UDP, RULE_PROTO_ICMP };
enum rule_direction { RULE_DIR_BOTH = 0, RULE_DIR_INBOUND, RULE_DIR_OUTBOUND };

struct acl_rule {
	char description[64];
	struct prefix peers[CONFIG_MAX_PEERS];
	size_t n_peers;
	enum rule_protocol protocol;
	uint16_t port_min, port_max;	/* 0..65535 when Ports is absent (always so for Any/Icmp) */
	enum rule_direction direction;
};

struct policy_config {
	bool acl_enabled;		/* AccessControl present, its Enabled true or absent */
	struct acl_rule rules[CONFIG_MAX_RULES];
	size_t n_rules;
	struct prefix untrusted[CONFIG_MAX_PEERS];
	size_t n_untrusted;
};

struct config {
	bool enabled;
	enum direction_filter direction;
	uint64_t interval_ms;		/* 0: records only at flow end */
	uint64_t poll_interval_ms;
	uint64_t idle_timeout_ms;
	uint64_t observation_domain_id;	/* 0..2^32-1, or CONFIG_DOMAIN_DERIVED */
	uint64_t template_refresh_ms;
	uint32_t max_message_size;	/* or CONFIG_MESSAGE_SIZE_PATH */
	uint32_t max_flows;		/* 0: absent, the largest table within the budget */
	uint32_t max_flow_memory_mib;	/* the flow table's kernel memory, possible CPUs counted */
	struct collector_addr collectors[CONFIG_MAX_COLLECTORS];
	size_t n_collectors;
	struct listen_addr metrics_listen;
	struct policy_config policy;
};

void config_defaults(struct config *cfg);

/*
 * Load and validate a file over the defaults. Returns 0, -ENOENT when the file does not exist (the
 * caller decides whether that is an error), or -EINVAL with a one-line message in err.
 *
 * Keys present in the file replace the values in cfg (IpFixCollectors replaces the whole list,
 * AccessControl the rules, TrustRequirements the untrusted peers); absent keys leave cfg alone.
 * On any error cfg is left exactly as it was, so a bad reload keeps the old configuration.
 * Messages: "FILE:LINE:COL: JSON syntax error: ..." for syntax (config_load_string names the source
 * "<string>"), "FILE: ..." when the file cannot be read, otherwise
 * "KEY.PATH: VALUE ...; expected ...".
 */
int config_load_file(struct config *cfg, const char *path, char *err, size_t err_len);
int config_load_string(struct config *cfg, const char *json, char *err, size_t err_len);

/*
 * Parse "Udp/ADDRESS:PORT" or "Udp/[IPv6]:PORT" (transport case-insensitive, port 1..65535, numeric
 * addresses only); -EINVAL with "\"SPEC\": why; expected ..." in err.
 */
int collector_parse(const char *spec, struct collector_addr *out, char *err, size_t err_len);

/*
 * Add a collector (from --collector); -EINVAL on a bad spec or one already in the list (same
 * address and port), -E2BIG when the list is full. err then holds "\"SPEC\": why".
 */
int config_add_collector(struct config *cfg, const char *spec, char *err, size_t err_len);

/*
 * Parse MetricsListen's "ADDRESS:PORT" or "[IPv6]:PORT" (numeric, port 1..65535; 0.0.0.0 and [::]
 * mean every address of that family); -EINVAL with "WHAT: \"TEXT\": why; expected ..." in err,
 * WHAT naming where the text came from (the key path, or the option).
 */
int listen_parse(const char *what, const char *text, struct listen_addr *out, char *err,
		 size_t err_len);

/*
 * Whether two collector addresses are the same endpoint: family, address and port (and the IPv6
 * scope). The one test of "the same collector", for duplicates in a configuration and for the
 * collectors a reload keeps.
 */
bool sockaddr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b);

/*
 * Print the effective settings, one "Key: value" line each (flowmeta check), the flow table as it
 * would be created at ncpus possible CPUs (0: unknown) included.
 */
void config_print(const struct config *cfg, unsigned int ncpus, FILE *out);

const char *direction_filter_name(enum direction_filter d);
const char *rule_protocol_name(enum rule_protocol p);
const char *rule_direction_name(enum rule_direction d);

/*
 * Parse "any", "ADDRESS" or "ADDRESS/LEN" (IPv4 or IPv6); -EINVAL with "why" in err (no quoting of
 * text: callers add context). allow_any false rejects "any". ::ffff:a.b.c.d/N (N >= 96) is the
 * IPv4 prefix a.b.c.d/(N - 96); IPv4-compatible addresses, zone indexes, brackets and IPv4 parts
 * with leading zeros are refused.
 */
int prefix_parse(const char *text, bool allow_any, struct prefix *out, char *err, size_t err_len);

/* "any", "ADDRESS" for a full-length prefix, otherwise "ADDRESS/LEN". */
void prefix_format(const struct prefix *p, char *buf, size_t size);

#endif /* FLOWMETA_CONFIG_H */
