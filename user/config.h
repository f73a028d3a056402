/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Configuration (SPEC §3): the FlowMetadata object of a JSON file, its defaults and its validation.
 * Every error is one line naming the key, the bad value and what is expected.
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

/* An IPv4 or IPv6 prefix; IPv4 in the first 4 bytes of addr. */
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
	uint16_t port_min, port_max;	/* 0..65535 when Ports is absent */
	enum rule_direction direction;
};

struct policy_config {
	bool acl_enabled;
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
	uint32_t observation_domain_id;
	uint64_t template_refresh_ms;
	uint32_t max_message_size;
	uint32_t max_flows;
	struct collector_addr collectors[CONFIG_MAX_COLLECTORS];
	size_t n_collectors;
	struct policy_config policy;
};

void config_defaults(struct config *cfg);

/*
 * Load and validate a file over the defaults. Returns 0, -ENOENT when the file does not exist (the
 * caller decides whether that is an error), or -EINVAL with a one-line message in err.
 */
int config_load_file(struct config *cfg, const char *path, char *err, size_t err_len);
int config_load_string(struct config *cfg, const char *json, char *err, size_t err_len);

/* Parse "Udp/ADDRESS:PORT" or "Udp/[IPv6]:PORT"; -EINVAL with a message in err. */
int collector_parse(const char *spec, struct collector_addr *out, char *err, size_t err_len);

/* Add a collector (from --collector); -EINVAL on a bad spec, -E2BIG when the list is full. */
int config_add_collector(struct config *cfg, const char *spec, char *err, size_t err_len);

/* Print the effective settings, one "Key: value" line each (flowmeta check). */
void config_print(const struct config *cfg, FILE *out);

const char *direction_filter_name(enum direction_filter d);

#endif /* FLOWMETA_CONFIG_H */
