// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Tests of the configuration module (user/config.c, SPEC §3 and §6): a table of bad configurations,
 * each rejected with -EINVAL and one line naming the key path (or source:line:column for JSON
 * syntax), the value as written and what is expected, leaving the config untouched; then good
 * configurations with their exact parsed values, collectors, prefixes, config_print's output and
 * the shipped example packaging/flowmeta.json.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "config.h"

/* struct config is large (the policy holds 256 rules): keep it out of the stack. */
static struct config cfg, snapshot;
static char err[CONFIG_ERR_LEN];

#define FM(body)     "{\"FlowMetadata\":{" body "}}"
#define RULES(rules) FM("\"AccessControl\":{\"Rules\":[" rules "]}")
#define X25	     "xxxxxxxxxxxxxxxxxxxxxxxxx"
#define RULES_HEAD   "{\"FlowMetadata\":{\"AccessControl\":{\"Rules\":["

/* ---- helpers ------------------------------------------------------------------------------ */

static void expect_text_at(const char *file, int line, const char *got, const char *want, int how)
{
	char what[1400];
	int ok = how == 0   ? !strcmp(got, want)
		 : how == 1 ? !strncmp(got, want, strlen(want))
			    : strstr(got, want) != NULL;
	static const char *const verbs[] = {"is not", "does not start with", "does not contain"};

	if (ok)
		return;
	snprintf(what, sizeof(what), "\"%s\" %s \"%s\"", got, verbs[how], want);
	check_fail_line(file, line, what);
}

#define EXPECT_TEXT(got, want)	   expect_text_at(__FILE__, __LINE__, (got), (want), 0)
#define EXPECT_PREFIX(got, want)   expect_text_at(__FILE__, __LINE__, (got), (want), 1)
#define EXPECT_CONTAINS(got, want) expect_text_at(__FILE__, __LINE__, (got), (want), 2)

static int load(const char *json)
{
	config_defaults(&cfg);
	return config_load_string(&cfg, json, err, sizeof(err));
}

/* Load what must be valid; any message is shown as the failure. */
#define LOAD_OK(json)                                                                              \
	do {                                                                                       \
		int ret_ = load(json);                                                             \
		EXPECT_EQ(ret_, 0);                                                                \
		if (ret_)                                                                          \
			EXPECT_TEXT(err, "");                                                      \
	} while (0)

static void expect_v4(const char *file, int line, const struct collector_addr *c, const char *addr,
		      unsigned int port)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&c->addr;
	struct in_addr want;

	inet_pton(AF_INET, addr, &want);
	check_u64(file, line, "family", "AF_INET", sin->sin_family, AF_INET);
	check_u64(file, line, "addr_len", "sizeof(sockaddr_in)", c->addr_len, sizeof(*sin));
	check_u64(file, line, "port", "want", ntohs(sin->sin_port), port);
	check_mem(file, line, addr, &sin->sin_addr, &want, sizeof(want));
}

static void expect_v6(const char *file, int line, const struct collector_addr *c, const char *addr,
		      unsigned int port)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&c->addr;
	struct in6_addr want;

	inet_pton(AF_INET6, addr, &want);
	check_u64(file, line, "family", "AF_INET6", sin6->sin6_family, AF_INET6);
	check_u64(file, line, "addr_len", "sizeof(sockaddr_in6)", c->addr_len, sizeof(*sin6));
	check_u64(file, line, "port", "want", ntohs(sin6->sin6_port), port);
	check_mem(file, line, addr, &sin6->sin6_addr, &want, sizeof(want));
}

/* addr NULL: "any". */
static void expect_prefix(const char *file, int line, const struct prefix *p, const char *addr,
			  unsigned int len)
{
	uint8_t want[16] = {0};
	unsigned int version = !addr ? 0 : strchr(addr, ':') ? 6 : 4;

	if (addr)
		inet_pton(version == 6 ? AF_INET6 : AF_INET, addr, want);
	check_u64(file, line, "ip_version", "want", p->ip_version, version);
	check_u64(file, line, "len", "want", p->len, len);
	check_mem(file, line, addr ? addr : "any", p->addr, want, sizeof(want));
}

#define EXPECT_V4(c, addr, port)    expect_v4(__FILE__, __LINE__, (c), (addr), (port))
#define EXPECT_V6(c, addr, port)    expect_v6(__FILE__, __LINE__, (c), (addr), (port))
#define EXPECT_PREFIX_IS(p, a, len) expect_prefix(__FILE__, __LINE__, (p), (a), (len))

/* The repository's top directory: the binary is TOP/build/tests/unit/config_test. */
static const char *source_file(const char *rel, char *buf, size_t size)
{
	char exe[PATH_MAX / 2];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n > 0 && strlen(rel) < size / 2) {
		exe[n] = '\0';
		for (int up = 0; up < 4; up++) {
			char *slash = strrchr(exe, '/');

			if (slash)
				*slash = '\0';
		}
		snprintf(buf, size, "%s/%s", exe, rel);
		if (access(buf, R_OK) == 0)
			return buf;
	}
	snprintf(buf, size, "%s", rel); /* BUILD elsewhere: run from the top directory */
	return buf;
}

/* A file under a fresh temporary directory, removed by cleanup_tmp(). */
static char tmp_dir[64], tmp_file[128];

static const char *write_tmp(const char *name, const char *text)
{
	FILE *f;

	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/config_test.XXXXXX");
	if (!mkdtemp(tmp_dir))
		return NULL;
	snprintf(tmp_file, sizeof(tmp_file), "%s/%s", tmp_dir, name);
	f = fopen(tmp_file, "w");
	if (!f)
		return NULL;
	fputs(text, f);
	fclose(f);
	return tmp_file;
}

static void cleanup_tmp(void)
{
	unlink(tmp_file);
	rmdir(tmp_dir);
}

/* ---- bad configurations ------------------------------------------------------------------- */

struct bad_case {
	const char *name; /* the behaviour */
	const char *json;
	const char *start; /* the message starts with this: key path or source:line:column, */
};			   /* the value as written and what is expected */

static const struct bad_case bad_cases[] = {
	/* FlowMetadata itself */
	{"bad_flowmetadata_array_is_not_an_object", "{\"FlowMetadata\":[]}",
	 "FlowMetadata: [] is an array; expected an object (keys: IpFixCollectors, Direction"},
	{"bad_flowmetadata_null_is_not_an_object", "{\"FlowMetadata\":null}",
	 "FlowMetadata: null is not allowed; expected an object"},
	{"bad_flowmetadata_twice_at_top_level",
	 "{\"FlowMetadata\":{},\n \"FlowMetadata\":{\"Enabled\":false}}",
	 "FlowMetadata: key repeated at line 2, column 2 (first at line 1, column 2)"},
	{"bad_unknown_key_near_a_known_one_gets_hint", FM("\"Intervall\":60000"),
	 "FlowMetadata.Intervall: unknown key; did you mean Interval?"},
	{"bad_unknown_key_lists_the_known_ones", FM("\"ExportInterval\":60000"),
	 "FlowMetadata.ExportInterval: unknown key; expected one of IpFixCollectors, Direction, "
	 "Interval, Enabled, PollInterval, IdleTimeout, ObservationDomainId, TemplateRefresh, "
	 "MaxMessageSize, MaxFlows, MaxFlowMemory, MetricsListen, AccessControl or "
	 "TrustRequirements"},
	{"bad_key_names_are_case_sensitive_with_hint", FM("\"interval\":60000"),
	 "FlowMetadata.interval: unknown key (key names are case-sensitive: did you mean "
	 "Interval?)"},
	{"bad_repeated_key_under_flowmetadata", FM("\"Interval\":0,\n\"Interval\":60000"),
	 "FlowMetadata.Interval: key repeated at line 2, column 1 (first at line 1, column 18)"},

	/* Interval and the other durations */
	{"bad_interval_string_not_integer", FM("\"Interval\":\"60000\""),
	 "FlowMetadata.Interval: \"60000\" is a string; expected an integer from 0 to 86400000 "
	 "(milliseconds)"},
	{"bad_interval_fraction", FM("\"Interval\":1.5"),
	 "FlowMetadata.Interval: 1.5 is a floating-point number; expected an integer"},
	{"bad_interval_exponent_is_not_integer", FM("\"Interval\":6e4"),
	 "FlowMetadata.Interval: 6e4 is a floating-point number; expected an integer"},
	{"bad_interval_negative", FM("\"Interval\":-60000"),
	 "FlowMetadata.Interval: -60000 is out of range; expected an integer from 0 to 86400000"},
	{"bad_interval_null", FM("\"Interval\":null"),
	 "FlowMetadata.Interval: null is not allowed; expected an integer from 0 to 86400000"},
	{"bad_interval_boolean", FM("\"Interval\":true"),
	 "FlowMetadata.Interval: true is a boolean; expected an integer"},
	{"bad_interval_above_one_day", FM("\"Interval\":86460000"),
	 "FlowMetadata.Interval: 86460000 is out of range; expected an integer from 0 to 86400000"},
	{"bad_interval_not_multiple_of_poll", FM("\"Interval\":90000"),
	 "FlowMetadata.Interval: 90000 is not a multiple of PollInterval (60000); use 0 or a "
	 "multiple"},
	{"bad_interval_not_multiple_of_poll_set_after_it",
	 FM("\"Interval\":20000,\"PollInterval\":7000"),
	 "FlowMetadata.Interval: 20000 is not a multiple of PollInterval (7000)"},
	{"bad_poll_interval_below_one_second", FM("\"PollInterval\":999"),
	 "FlowMetadata.PollInterval: 999 is out of range; expected an integer from 1000 to "
	 "86400000 (milliseconds)"},
	{"bad_poll_interval_zero", FM("\"PollInterval\":0"),
	 "FlowMetadata.PollInterval: 0 is out of range"},
	{"bad_idle_timeout_below_one_second", FM("\"IdleTimeout\":500"),
	 "FlowMetadata.IdleTimeout: 500 is out of range; expected an integer from 1000 to "
	 "86400000"},
	{"bad_idle_timeout_string", FM("\"IdleTimeout\":\"1m\""),
	 "FlowMetadata.IdleTimeout: \"1m\" is a string; expected an integer"},
	{"bad_template_refresh_below_one_second", FM("\"TemplateRefresh\":999"),
	 "FlowMetadata.TemplateRefresh: 999 is out of range; expected an integer from 1000"},

	/* Other integers */
	{"bad_observation_domain_id_above_32_bits", FM("\"ObservationDomainId\":4294967296"),
	 "FlowMetadata.ObservationDomainId: 4294967296 is out of range; expected an integer from "
	 "0 to 4294967295"},
	{"bad_huge_integer_quoted_as_written", FM("\"ObservationDomainId\":99999999999999999999"),
	 "FlowMetadata.ObservationDomainId: 99999999999999999999 is out of range"},
	{"bad_observation_domain_id_negative", FM("\"ObservationDomainId\":-1"),
	 "FlowMetadata.ObservationDomainId: -1 is out of range"},
	{"bad_max_message_size_below_512", FM("\"MaxMessageSize\":511"),
	 "FlowMetadata.MaxMessageSize: 511 is out of range; expected an integer from 512 to 65507 "
	 "(bytes)"},
	{"bad_max_message_size_above_udp_payload", FM("\"MaxMessageSize\":65508"),
	 "FlowMetadata.MaxMessageSize: 65508 is out of range"},
	{"bad_max_flows_below_1024", FM("\"MaxFlows\":1000"),
	 "FlowMetadata.MaxFlows: 1000 is out of range; expected an integer from 1024 to 16777216 "
	 "(flows)"},
	{"bad_max_flows_above_16m", FM("\"MaxFlows\":16777217"),
	 "FlowMetadata.MaxFlows: 16777217 is out of range"},
	{"bad_max_flows_float", FM("\"MaxFlows\":65536.0"),
	 "FlowMetadata.MaxFlows: 65536.0 is a floating-point number"},
	{"bad_max_flow_memory_zero", FM("\"MaxFlowMemory\":0"),
	 "FlowMetadata.MaxFlowMemory: 0 is out of range; expected an integer from 1 to 65536 "
	 "(MiB)"},
	{"bad_max_flow_memory_above_64_gib", FM("\"MaxFlowMemory\":65537"),
	 "FlowMetadata.MaxFlowMemory: 65537 is out of range; expected an integer from 1 to 65536 "
	 "(MiB)"},
	{"bad_max_flow_memory_negative", FM("\"MaxFlowMemory\":-64"),
	 "FlowMetadata.MaxFlowMemory: -64 is out of range; expected an integer from 1 to 65536 "
	 "(MiB)"},
	{"bad_max_flow_memory_in_bytes_is_out_of_range", FM("\"MaxFlowMemory\":67108864"),
	 "FlowMetadata.MaxFlowMemory: 67108864 is out of range; expected an integer from 1 to "
	 "65536 (MiB)"},
	{"bad_max_flow_memory_with_unit", FM("\"MaxFlowMemory\":\"64 MiB\""),
	 "FlowMetadata.MaxFlowMemory: \"64 MiB\" is a string; expected an integer from 1 to 65536 "
	 "(MiB)"},
	{"bad_max_flow_memory_float", FM("\"MaxFlowMemory\":0.5"),
	 "FlowMetadata.MaxFlowMemory: 0.5 is a floating-point number; expected an integer from 1 "
	 "to 65536 (MiB)"},
	{"bad_max_flow_memory_null", FM("\"MaxFlowMemory\":null"),
	 "FlowMetadata.MaxFlowMemory: null is not allowed; expected an integer from 1 to 65536 "
	 "(MiB)"},
	{"bad_max_flow_memory_wrong_case", FM("\"MaxFlowmemory\":64"),
	 "FlowMetadata.MaxFlowmemory: unknown key (key names are case-sensitive: did you mean "
	 "MaxFlowMemory?)"},
	{"bad_max_flow_memory_near_miss", FM("\"MaxFlowMemmory\":64"),
	 "FlowMetadata.MaxFlowMemmory: unknown key; did you mean MaxFlowMemory?"},

	/* Enabled, Direction */
	{"bad_enabled_string_true", FM("\"Enabled\":\"true\""),
	 "FlowMetadata.Enabled: \"true\" is a string; expected true or false"},
	{"bad_enabled_integer", FM("\"Enabled\":1"),
	 "FlowMetadata.Enabled: 1 is an integer; expected true or false"},
	{"bad_direction_unknown_value", FM("\"Direction\":\"Egress\""),
	 "FlowMetadata.Direction: \"Egress\" is not a valid value; expected \"Both\", "
	 "\"SendingToPeer\" or \"ReceivedFromPeer\""},
	{"bad_long_value_is_shortened_in_message", FM("\"Direction\":\"" X25 X25 X25 X25 "\""),
	 "FlowMetadata.Direction: \"" X25 X25 X25 "... is not a valid value; expected \"Both\""},
	{"bad_direction_integer", FM("\"Direction\":1"),
	 "FlowMetadata.Direction: 1 is an integer; expected \"Both\""},

	/* Collectors */
	{"bad_collectors_string_not_array", FM("\"IpFixCollectors\":\"Udp/198.18.1.100:4739\""),
	 "FlowMetadata.IpFixCollectors: \"Udp/198.18.1.100:4739\" is a string; expected an array "
	 "of strings"},
	{"bad_collector_integer_entry", FM("\"IpFixCollectors\":[4739]"),
	 "FlowMetadata.IpFixCollectors[0]: 4739 is an integer; expected a string "
	 "\"Udp/ADDRESS:PORT\""},
	{"bad_collector_tcp_only_udp_supported",
	 FM("\"IpFixCollectors\":[\"Udp/198.18.0.8:4739\",\"Tcp/198.18.0.9:4739\"]"),
	 "FlowMetadata.IpFixCollectors[1]: \"Tcp/198.18.0.9:4739\": only UDP transport is "
	 "supported (Udp/ADDRESS:PORT)"},
	{"bad_collector_sctp_only_udp_supported",
	 FM("\"IpFixCollectors\":[\"SCTP/198.18.0.9:4739\"]"),
	 "FlowMetadata.IpFixCollectors[0]: \"SCTP/198.18.0.9:4739\": only UDP transport is "
	 "supported"},
	{"bad_collector_unknown_transport", FM("\"IpFixCollectors\":[\"Quic/198.18.0.9:4739\"]"),
	 "FlowMetadata.IpFixCollectors[0]: \"Quic/198.18.0.9:4739\": unknown transport \"Quic\"; "
	 "expected Udp/ADDRESS:PORT"},
	{"bad_collector_without_transport", FM("\"IpFixCollectors\":[\"198.18.0.9:4739\"]"),
	 "FlowMetadata.IpFixCollectors[0]: \"198.18.0.9:4739\": no transport; expected "
	 "Udp/ADDRESS:PORT"},
	{"bad_collector_ipv6_without_brackets",
	 FM("\"IpFixCollectors\":[\"Udp/2001:db8::5:4739\"]"),
	 "FlowMetadata.IpFixCollectors[0]: \"Udp/2001:db8::5:4739\": an IPv6 address needs "
	 "brackets; expected Udp/[IPv6]:PORT"},
	{"bad_collector_ipv6_unclosed_bracket",
	 FM("\"IpFixCollectors\":[\"Udp/[2001:db8::5:4739\"]"),
	 "FlowMetadata.IpFixCollectors[0]: \"Udp/[2001:db8::5:4739\": no \"]\" after the IPv6 "
	 "address"},
	{"bad_collector_ipv6_without_port", FM("\"IpFixCollectors\":[\"Udp/[2001:db8::5]\"]"),
	 "FlowMetadata.IpFixCollectors[0]: \"Udp/[2001:db8::5]\": no \":PORT\" after \"]\""},
	{"bad_collector_ipv4_in_brackets", FM("\"IpFixCollectors\":[\"Udp/[198.18.0.9]:4739\"]"),
	 "FlowMetadata.IpFixCollectors[0]: \"Udp/[198.18.0.9]:4739\": \"198.18.0.9\" is not an "
	 "IPv6 address"},
	{"bad_collector_ipv4_octet_above_255", FM("\"IpFixCollectors\":[\"Udp/300.1.2.3:4739\"]"),
	 "FlowMetadata.IpFixCollectors[0]: \"Udp/300.1.2.3:4739\": \"300.1.2.3\" is not an IPv4 "
	 "address"},
	{"bad_collector_host_name_not_resolved",
	 FM("\"IpFixCollectors\":[\"Udp/collector.example:4739\"]"),
	 "FlowMetadata.IpFixCollectors[0]: \"Udp/collector.example:4739\": \"collector.example\" "
	 "is not an IPv4 address (names are not resolved)"},
	{"bad_collector_ipv6_invalid_digit", FM("\"IpFixCollectors\":[\"Udp/[2001:db8::g]:4739\"]"),
	 "FlowMetadata.IpFixCollectors[0]: \"Udp/[2001:db8::g]:4739\": \"2001:db8::g\" is not an "
	 "IPv6 address"},
	{"bad_collector_without_port", FM("\"IpFixCollectors\":[\"Udp/198.18.1.100\"]"),
	 "FlowMetadata.IpFixCollectors[0]: \"Udp/198.18.1.100\": no \":PORT\"; expected "
	 "Udp/ADDRESS:PORT"},
	{"bad_collector_empty_port", FM("\"IpFixCollectors\":[\"Udp/198.18.1.100:\"]"),
	 "FlowMetadata.IpFixCollectors[0]: \"Udp/198.18.1.100:\": \"\" is not a port; expected a "
	 "port from 1 to 65535"},
	{"bad_collector_port_zero", FM("\"IpFixCollectors\":[\"Udp/198.18.1.100:0\"]"),
	 "FlowMetadata.IpFixCollectors[0]: \"Udp/198.18.1.100:0\": \"0\" is not a port"},
	{"bad_collector_port_above_65535", FM("\"IpFixCollectors\":[\"Udp/198.18.1.100:65536\"]"),
	 "FlowMetadata.IpFixCollectors[0]: \"Udp/198.18.1.100:65536\": \"65536\" is not a port"},
	{"bad_collector_port_by_name", FM("\"IpFixCollectors\":[\"Udp/198.18.1.100:ipfix\"]"),
	 "FlowMetadata.IpFixCollectors[0]: \"Udp/198.18.1.100:ipfix\": \"ipfix\" is not a port"},
	{"bad_collector_without_address", FM("\"IpFixCollectors\":[\"Udp/:4739\"]"),
	 "FlowMetadata.IpFixCollectors[0]: \"Udp/:4739\": no address"},
	{"bad_collector_unspecified_address", FM("\"IpFixCollectors\":[\"Udp/0.0.0.0:4739\"]"),
	 "FlowMetadata.IpFixCollectors[0]: \"Udp/0.0.0.0:4739\": the unspecified address 0.0.0.0 "
	 "cannot be a collector"},
	{"bad_collector_repeated_in_other_case",
	 FM("\"IpFixCollectors\":[\"Udp/198.18.1.100:4739\",\"udp/198.18.1.100:4739\"]"),
	 "FlowMetadata.IpFixCollectors[1]: \"udp/198.18.1.100:4739\": same address and port as "
	 "collector \"Udp/198.18.1.100:4739\"; list each collector once"},
	{"bad_collector_repeated_in_other_ipv6_notation",
	 FM("\"IpFixCollectors\":[\"Udp/[2001:db8::5]:4739\",\"Udp/[2001:DB8:0:0::5]:4739\"]"),
	 "FlowMetadata.IpFixCollectors[1]: \"Udp/[2001:DB8:0:0::5]:4739\": same address and port"},
	{"bad_collector_same_as_its_ipv4_mapped_form",
	 FM("\"IpFixCollectors\":[\"Udp/127.0.0.1:4971\",\"Udp/[::ffff:127.0.0.1]:4971\"]"),
	 "FlowMetadata.IpFixCollectors[1]: \"Udp/[::ffff:127.0.0.1]:4971\": same address and port "
	 "as collector \"Udp/127.0.0.1:4971\"; list each collector once"},
	{"bad_collector_ipv4_mapped_then_ipv4",
	 FM("\"IpFixCollectors\":[\"Udp/[0:0:0:0:0:FFFF:7f00:1]:4971\",\"Udp/127.0.0.1:4971\"]"),
	 "FlowMetadata.IpFixCollectors[1]: \"Udp/127.0.0.1:4971\": same address and port as "
	 "collector \"Udp/[0:0:0:0:0:FFFF:7f00:1]:4971\"; list each collector once"},
	{"bad_collector_ipv4_mapped_unspecified",
	 FM("\"IpFixCollectors\":[\"Udp/[::ffff:0.0.0.0]:4739\"]"),
	 "FlowMetadata.IpFixCollectors[0]: \"Udp/[::ffff:0.0.0.0]:4739\": the unspecified address "
	 "::ffff:0.0.0.0 cannot be a collector"},
	{"bad_collector_with_nul_character",
	 FM("\"IpFixCollectors\":[\"Udp/1.2.3.4:4739\\u0000x\"]"),
	 "FlowMetadata.IpFixCollectors[0]: \"Udp/1.2.3.4:4739\\u0000x\" contains a NUL character"},

	/* MetricsListen */
	{"bad_metrics_listen_number", FM("\"MetricsListen\":9739"),
	 "FlowMetadata.MetricsListen: 9739 is an integer; expected a string \"ADDRESS:PORT\""},
	{"bad_metrics_listen_without_port", FM("\"MetricsListen\":\"127.0.0.1\""),
	 "FlowMetadata.MetricsListen: \"127.0.0.1\": no \":PORT\"; expected ADDRESS:PORT or "
	 "[IPv6]:PORT"},
	{"bad_metrics_listen_port_only", FM("\"MetricsListen\":\":9739\""),
	 "FlowMetadata.MetricsListen: \":9739\": no address; expected ADDRESS:PORT or [IPv6]:PORT"},
	{"bad_metrics_listen_port_zero", FM("\"MetricsListen\":\"127.0.0.1:0\""),
	 "FlowMetadata.MetricsListen: \"127.0.0.1:0\": the port is not a number from 1 to 65535"},
	{"bad_metrics_listen_port_above_65535", FM("\"MetricsListen\":\"127.0.0.1:65536\""),
	 "FlowMetadata.MetricsListen: \"127.0.0.1:65536\": the port is not a number from 1 to "
	 "65535"},
	{"bad_metrics_listen_host_name_not_resolved", FM("\"MetricsListen\":\"localhost:9739\""),
	 "FlowMetadata.MetricsListen: \"localhost:9739\": not an IPv4 address (names are not "
	 "resolved)"},
	{"bad_metrics_listen_ipv6_without_brackets", FM("\"MetricsListen\":\"::1:9739\""),
	 "FlowMetadata.MetricsListen: \"::1:9739\": an IPv6 address needs brackets"},
	{"bad_metrics_listen_ipv6_without_port", FM("\"MetricsListen\":\"[::1]\""),
	 "FlowMetadata.MetricsListen: \"[::1]\": no \"]:PORT\" after the IPv6 address"},
	{"bad_metrics_listen_ipv4_in_brackets", FM("\"MetricsListen\":\"[127.0.0.1]:9739\""),
	 "FlowMetadata.MetricsListen: \"[127.0.0.1]:9739\": not an IPv6 address"},
	{"bad_metrics_listen_with_transport", FM("\"MetricsListen\":\"Tcp/127.0.0.1:9739\""),
	 "FlowMetadata.MetricsListen: \"Tcp/127.0.0.1:9739\": not an IPv4 address"},

	/* AccessControl */
	{"bad_access_control_boolean", FM("\"AccessControl\":true"),
	 "FlowMetadata.AccessControl: true is a boolean; expected an object (keys: Enabled, "
	 "Rules)"},
	{"bad_access_control_unknown_key", FM("\"AccessControl\":{\"Enable\":true}"),
	 "FlowMetadata.AccessControl.Enable: unknown key; did you mean Enabled?"},
	{"bad_access_control_far_unknown_key", FM("\"AccessControl\":{\"Policy\":[]}"),
	 "FlowMetadata.AccessControl.Policy: unknown key; expected one of Enabled or Rules"},
	{"bad_access_control_enabled_string", FM("\"AccessControl\":{\"Enabled\":\"yes\"}"),
	 "FlowMetadata.AccessControl.Enabled: \"yes\" is a string; expected true or false"},
	{"bad_access_control_rules_object", FM("\"AccessControl\":{\"Rules\":{}}"),
	 "FlowMetadata.AccessControl.Rules: {} is an object; expected an array of rule objects"},
	{"bad_rule_string_not_object", RULES("\"ssh\""),
	 "FlowMetadata.AccessControl.Rules[0]: \"ssh\" is a string; expected an object (keys: "
	 "Description, Peers, Protocol, Ports, Direction)"},
	{"bad_rule_unknown_key",
	 RULES("{\"Peers\":[\"any\"]},{\"Peers\":[\"any\"],\"Port\":\"22\"}"),
	 "FlowMetadata.AccessControl.Rules[1].Port: unknown key; did you mean Ports?"},
	{"bad_rule_far_unknown_key", RULES("{\"Peers\":[\"any\"],\"Action\":\"Allow\"}"),
	 "FlowMetadata.AccessControl.Rules[0].Action: unknown key; expected one of Description, "
	 "Peers, Protocol, Ports or Direction"},
	{"bad_rule_repeated_key",
	 RULES("{\"Peers\":[\"any\"],\"Protocol\":\"Tcp\",\"Protocol\":\"Udp\"}"),
	 "FlowMetadata.AccessControl.Rules[0].Protocol: key repeated at line 1"},
	{"bad_rule_without_peers", RULES("{\"Protocol\":\"Tcp\"}"),
	 "FlowMetadata.AccessControl.Rules[0].Peers: missing; expected an array of addresses, "
	 "prefixes or \"any\""},
	{"bad_rule_with_empty_peers", RULES("{\"Peers\":[]}"),
	 "FlowMetadata.AccessControl.Rules[0].Peers: [] names no peer"},
	{"bad_rule_peers_string_not_array", RULES("{\"Peers\":\"any\"}"),
	 "FlowMetadata.AccessControl.Rules[0].Peers: \"any\" is a string; expected an array"},
	{"bad_rule_peer_octet_above_255", RULES("{\"Peers\":[\"100.64.0.0/24\",\"100.64.0.300\"]}"),
	 "FlowMetadata.AccessControl.Rules[0].Peers[1]: \"100.64.0.300\": not an IPv4 or IPv6 "
	 "address; expected an address, ADDRESS/LEN or \"any\""},
	{"bad_rule_peer_ipv4_prefix_longer_than_32", RULES("{\"Peers\":[\"100.64.0.0/33\"]}"),
	 "FlowMetadata.AccessControl.Rules[0].Peers[0]: \"100.64.0.0/33\": bad prefix length; "
	 "expected /0 to /32"},
	{"bad_rule_peer_ipv6_prefix_longer_than_128", RULES("{\"Peers\":[\"fd7a:115c::/129\"]}"),
	 "FlowMetadata.AccessControl.Rules[0].Peers[0]: \"fd7a:115c::/129\": bad prefix length; "
	 "expected /0 to /128"},
	{"bad_rule_peer_empty_prefix_length", RULES("{\"Peers\":[\"100.64.0.0/\"]}"),
	 "FlowMetadata.AccessControl.Rules[0].Peers[0]: \"100.64.0.0/\": bad prefix length"},
	{"bad_rule_peer_host_bits_set", RULES("{\"Peers\":[\"100.64.0.1/24\"]}"),
	 "FlowMetadata.AccessControl.Rules[0].Peers[0]: \"100.64.0.1/24\": host bits are set; did "
	 "you mean 100.64.0.0/24?"},
	{"bad_rule_peer_ipv6_host_bits_set", RULES("{\"Peers\":[\"fd7a:115c::1/48\"]}"),
	 "FlowMetadata.AccessControl.Rules[0].Peers[0]: \"fd7a:115c::1/48\": host bits are set; "
	 "did you mean fd7a:115c::/48?"},
	{"bad_rule_protocol_unknown", RULES("{\"Peers\":[\"any\"],\"Protocol\":\"Sctp\"}"),
	 "FlowMetadata.AccessControl.Rules[0].Protocol: \"Sctp\" is not a valid value; expected "
	 "\"Any\", \"Tcp\", \"Udp\" or \"Icmp\""},
	{"bad_rule_ports_with_icmp",
	 RULES("{\"Peers\":[\"any\"],\"Protocol\":\"Tcp\",\"Ports\":\"22\"},"
	       "{\"Peers\":[\"any\"]},"
	       "{\"Peers\":[\"any\"],\"Protocol\":\"Icmp\",\"Ports\":\"22\"}"),
	 "FlowMetadata.AccessControl.Rules[2].Ports: \"22\" needs Protocol Tcp or Udp (this "
	 "rule's Protocol is Icmp)"},
	{"bad_rule_ports_with_default_protocol_any",
	 RULES("{\"Peers\":[\"any\"],\"Ports\":\"443\"}"),
	 "FlowMetadata.AccessControl.Rules[0].Ports: \"443\" needs Protocol Tcp or Udp (this "
	 "rule's Protocol is Any)"},
	{"bad_rule_ports_integer_not_string",
	 RULES("{\"Peers\":[\"any\"],\"Protocol\":\"Tcp\",\"Ports\":22}"),
	 "FlowMetadata.AccessControl.Rules[0].Ports: 22 is an integer; expected a string \"N\" or "
	 "\"N-M\""},
	{"bad_rule_ports_reversed_range",
	 RULES("{\"Peers\":[\"any\"],\"Protocol\":\"Tcp\",\"Ports\":\"8100-8000\"}"),
	 "FlowMetadata.AccessControl.Rules[0].Ports: \"8100-8000\" is a reversed range; expected "
	 "\"N-M\" with N <= M"},
	{"bad_rule_ports_above_65535",
	 RULES("{\"Peers\":[\"any\"],\"Protocol\":\"Udp\",\"Ports\":\"70000\"}"),
	 "FlowMetadata.AccessControl.Rules[0].Ports: \"70000\" is not a port or port range"},
	{"bad_rule_ports_list_not_supported",
	 RULES("{\"Peers\":[\"any\"],\"Protocol\":\"Tcp\",\"Ports\":\"22,80\"}"),
	 "FlowMetadata.AccessControl.Rules[0].Ports: \"22,80\" is not a port or port range"},
	{"bad_rule_ports_open_ended_range",
	 RULES("{\"Peers\":[\"any\"],\"Protocol\":\"Tcp\",\"Ports\":\"8000-\"}"),
	 "FlowMetadata.AccessControl.Rules[0].Ports: \"8000-\" is not a port or port range"},
	{"bad_rule_ports_with_spaces",
	 RULES("{\"Peers\":[\"any\"],\"Protocol\":\"Tcp\",\"Ports\":\"8000 - 8100\"}"),
	 "FlowMetadata.AccessControl.Rules[0].Ports: \"8000 - 8100\" is not a port or port range"},
	{"bad_rule_direction_unknown", RULES("{\"Peers\":[\"any\"],\"Direction\":\"Ingress\"}"),
	 "FlowMetadata.AccessControl.Rules[0].Direction: \"Ingress\" is not a valid value; "
	 "expected \"Both\", \"Inbound\" or \"Outbound\""},
	{"bad_rule_description_longer_than_63_bytes",
	 RULES("{\"Peers\":[\"any\"],\"Description\":"
	       "\"0123456789012345678901234567890123456789012345678901234567890123\"}"),
	 "FlowMetadata.AccessControl.Rules[0].Description: "
	 "\"0123456789012345678901234567890123456789012345678901234567890123\" is 64 bytes long; "
	 "expected at most 63"},
	{"bad_rule_description_integer", RULES("{\"Peers\":[\"any\"],\"Description\":7}"),
	 "FlowMetadata.AccessControl.Rules[0].Description: 7 is an integer; expected a string"},

	/* Address spellings of peers (README "Address spellings") */
	{"bad_peer_zone_index", RULES("{\"Peers\":[\"fe80::1%eth0\"]}"),
	 "FlowMetadata.AccessControl.Rules[0].Peers[0]: \"fe80::1%eth0\": a zone index (%...) has "
	 "no place in a peer, which is matched by address on this interface; expected an address, "
	 "ADDRESS/LEN or \"any\""},
	{"bad_peer_in_brackets", RULES("{\"Peers\":[\"[fd00::1]\"]}"),
	 "FlowMetadata.AccessControl.Rules[0].Peers[0]: \"[fd00::1]\": no brackets around an "
	 "address here; expected an address, ADDRESS/LEN or \"any\""},
	{"bad_peer_ipv4_leading_zero_could_be_octal", RULES("{\"Peers\":[\"100.064.0.1\"]}"),
	 "FlowMetadata.AccessControl.Rules[0].Peers[0]: \"100.064.0.1\": an IPv4 part with a "
	 "leading zero could be read as octal; write each part in decimal without leading zeros"},
	{"bad_untrusted_peer_leading_zero_in_mapped_address",
	 FM("\"TrustRequirements\":{\"UntrustedPeers\":[\"::ffff:010.0.0.1/128\"]}"),
	 "FlowMetadata.TrustRequirements.UntrustedPeers[0]: \"::ffff:010.0.0.1/128\": an IPv4 part "
	 "with a leading zero could be read as octal"},
	{"bad_untrusted_peer_ipv4_compatible",
	 FM("\"TrustRequirements\":{\"UntrustedPeers\":[\"::100.64.9.7\"]}"),
	 "FlowMetadata.TrustRequirements.UntrustedPeers[0]: \"::100.64.9.7\": ::100.64.9.7 is "
	 "IPv4-compatible IPv6 (deprecated, RFC 4291), which no IPv4 traffic has; write 100.64.9.7 "
	 "for IPv4"},
	{"bad_peer_ipv4_compatible_prefix", RULES("{\"Peers\":[\"0:0:0:0:0:0:100.64.0.0/112\"]}"),
	 "FlowMetadata.AccessControl.Rules[0].Peers[0]: \"0:0:0:0:0:0:100.64.0.0/112\": "
	 "0:0:0:0:0:0:100.64.0.0/112 is IPv4-compatible IPv6 (deprecated, RFC 4291), which no IPv4 "
	 "traffic has; write 100.64.0.0/16 for IPv4"},
	{"bad_peer_ipv4_compatible_in_hex", RULES("{\"Peers\":[\"::6440:907\"]}"),
	 "FlowMetadata.AccessControl.Rules[0].Peers[0]: \"::6440:907\": ::6440:907 is "
	 "IPv4-compatible IPv6 (deprecated, RFC 4291), which no IPv4 traffic has; write 100.64.9.7 "
	 "for IPv4"},
	{"bad_peer_ipv4_compatible_block", RULES("{\"Peers\":[\"::/96\"]}"),
	 "FlowMetadata.AccessControl.Rules[0].Peers[0]: \"::/96\": ::/96 is IPv4-compatible IPv6 "
	 "(deprecated, RFC 4291), which no IPv4 traffic has; write 0.0.0.0/0 for IPv4"},
	{"bad_peer_mapped_prefix_with_host_bits", RULES("{\"Peers\":[\"::ffff:100.64.0.1/120\"]}"),
	 "FlowMetadata.AccessControl.Rules[0].Peers[0]: \"::ffff:100.64.0.1/120\": host bits are "
	 "set; did you mean 100.64.0.0/24?"},
	{"bad_peer_mapped_prefix_longer_than_128", RULES("{\"Peers\":[\"::ffff:100.64.0.0/129\"]}"),
	 "FlowMetadata.AccessControl.Rules[0].Peers[0]: \"::ffff:100.64.0.0/129\": bad prefix "
	 "length; expected /0 to /128"},
	{"bad_peer_ipv6_prefix_shorter_than_96_with_mapped_bits",
	 RULES("{\"Peers\":[\"::ffff:0:0/80\"]}"),
	 "FlowMetadata.AccessControl.Rules[0].Peers[0]: \"::ffff:0:0/80\": host bits are set; did "
	 "you mean ::/80?"},

	/* TrustRequirements */
	{"bad_trust_requirements_array", FM("\"TrustRequirements\":[]"),
	 "FlowMetadata.TrustRequirements: [] is an array; expected an object (keys: "
	 "UntrustedPeers)"},
	{"bad_trust_requirements_unknown_key",
	 FM("\"TrustRequirements\":{\"TrustedPeers\":[\"100.64.9.7\"]}"),
	 "FlowMetadata.TrustRequirements.TrustedPeers: unknown key; did you mean UntrustedPeers?"},
	{"bad_untrusted_peers_string_not_array",
	 FM("\"TrustRequirements\":{\"UntrustedPeers\":\"100.64.9.7\"}"),
	 "FlowMetadata.TrustRequirements.UntrustedPeers: \"100.64.9.7\" is a string; expected an "
	 "array of addresses or prefixes"},
	{"bad_untrusted_peer_any_not_allowed",
	 FM("\"TrustRequirements\":{\"UntrustedPeers\":[\"100.64.9.7\",\"any\"]}"),
	 "FlowMetadata.TrustRequirements.UntrustedPeers[1]: \"any\": \"any\" is not allowed here; "
	 "expected an address or ADDRESS/LEN"},
	{"bad_untrusted_peer_bad_address",
	 FM("\"TrustRequirements\":{\"UntrustedPeers\":[\"100.64.9\"]}"),
	 "FlowMetadata.TrustRequirements.UntrustedPeers[0]: \"100.64.9\": not an IPv4 or IPv6 "
	 "address"},

	/* JSON syntax: source:line:column, json-c's leniencies refused */
	{"bad_json_trailing_comma", "{\"FlowMetadata\":{\"Enabled\":true,}}",
	 "<string>:1:32: JSON syntax error: trailing comma before a closing bracket"},
	{"bad_json_comment", "{\n  // flow export\n  \"FlowMetadata\":{}\n}",
	 "<string>:2:3: JSON syntax error: comments are not allowed in JSON"},
	{"bad_json_single_quoted_name", "{'FlowMetadata':{}}",
	 "<string>:1:2: JSON syntax error: names must be in double quotes"},
	{"bad_json_single_quoted_value", "{\"FlowMetadata\":{\"Direction\":'Both'}}",
	 "<string>:1:30: JSON syntax error: strings must be in double quotes"},
	{"bad_json_nan", "{\"FlowMetadata\":{\"Interval\":NaN}}",
	 "<string>:1:29: JSON syntax error: NaN and Infinity are not JSON numbers"},
	{"bad_json_infinity", "{\"FlowMetadata\":{\"Interval\":-Infinity}}",
	 "<string>:1:29: JSON syntax error: NaN and Infinity are not JSON numbers"},
	{"bad_json_number_ending_in_dot", "{\"FlowMetadata\":{\"Interval\":1.}}",
	 "<string>:1:31: JSON syntax error: a digit must follow the decimal point"},
	{"bad_json_raw_tab_in_string", "{\"FlowMetadata\":{\"Direction\":\"Bo\tth\"}}",
	 "<string>:1:33: JSON syntax error: control character in a string"},
	{"bad_json_text_after_object", "{\"FlowMetadata\":{}} {}",
	 "<string>:1:21: JSON syntax error: text after the top-level object"},
	{"bad_json_unclosed_object", "{\"FlowMetadata\":{\"Enabled\":true}\n",
	 "<string>:2:1: JSON syntax error: unexpected end of file"},
	{"bad_json_top_level_array", "  [{\"FlowMetadata\":{}}]",
	 "<string>:1:3: JSON syntax error: expected a JSON object ({ ... }) at the top level"},
	{"bad_json_empty_text", " \n ", "<string>:2:2: JSON syntax error: the file is empty"},
	{"bad_json_invalid_utf8", "{\"Name\":\"caf\xe9\"}",
	 "<string>:1:13: JSON syntax error: invalid UTF-8"},
	{"bad_json_invalid_utf8_stray_byte_in_key",
	 "{\"FlowMetadata\":{\"Dir\xff"
	 "ection\":\"Both\"}}",
	 "<string>:1:22: JSON syntax error: invalid UTF-8"},
	{"bad_json_missing_colon_line_and_column",
	 "{\n  \"FlowMetadata\": {\n    \"Interval\" 60000\n  }\n}",
	 "<string>:3:16: JSON syntax error: object property name separator ':' expected"},
	{"bad_json_column_counts_characters_not_bytes", "{\"Name\":\"\xc3\xa9t\xc3\xa9\",}",
	 "<string>:1:14: JSON syntax error: trailing comma"},
	{"bad_json_also_in_ignored_top_level_keys", "{\"Other\":[1,2,],\"FlowMetadata\":{}}",
	 "<string>:1:14: JSON syntax error: trailing comma"},
	{"bad_json_invalid_escape", FM("\"Direction\":\"Bo\\xth\""),
	 "<string>:1:33: JSON syntax error: invalid escape in a string (\\\" \\\\ \\/ \\b \\f \\n "
	 "\\r \\t or \\uXXXX)"},
	{"bad_json_short_unicode_escape", "{\"Name\":\"\\u12\"}",
	 "<string>:1:10: JSON syntax error: invalid escape in a string"},
	{"bad_json_number_with_leading_zero", FM("\"Interval\":0600"),
	 "<string>:1:29: JSON syntax error: a number cannot start with 0 (no leading zeros)"},
	{"bad_json_number_with_plus_sign", FM("\"Interval\":+1"),
	 "<string>:1:29: JSON syntax error: unexpected character '+'"},
	{"bad_json_overlong_utf8", "{\"Name\":\"\xc0\xaf\"}",
	 "<string>:1:10: JSON syntax error: invalid UTF-8"},
	{"bad_json_utf8_surrogate", "{\"Name\":\"a\xed\xa0\x80\"}",
	 "<string>:1:11: JSON syntax error: invalid UTF-8"},
	{"bad_json_utf8_cut_short_at_the_end_of_a_string", "{\"Name\":\"\xe2\x82\"}",
	 "<string>:1:10: JSON syntax error: invalid UTF-8"},
	{"bad_json_missing_comma_in_array", "{\"Other\":[1 2],\"FlowMetadata\":{}}",
	 "<string>:1:13: JSON syntax error: array value separator ',' expected"},
	{"bad_json_missing_comma_in_object", FM("\"Enabled\":true \"Interval\":0"),
	 "<string>:1:33: JSON syntax error: object value separator ',' expected"},
	{"bad_json_mismatched_bracket", "{\"Other\":[1}",
	 "<string>:1:12: JSON syntax error: array value separator ',' expected"},
	{"bad_json_unquoted_name", "{FlowMetadata:{}}",
	 "<string>:1:2: JSON syntax error: quoted object property name expected"},
	{"bad_json_missing_value", FM("\"Enabled\":}"),
	 "<string>:1:28: JSON syntax error: unexpected character '}'"},
	{"bad_json_unclosed_string", "{\"FlowMetadata\":{\"Direction\":\"Both}}",
	 "<string>:1:37: JSON syntax error: unexpected end of file inside a string"},
	{"bad_json_misspelt_literal", "{\"Other\":[tru]}",
	 "<string>:1:11: JSON syntax error: unexpected character 't'"},
	{"bad_json_comment_after_a_value", "{\"FlowMetadata\":{} /* x */}",
	 "<string>:1:20: JSON syntax error: comments are not allowed in JSON"},
	{"bad_json_repeated_flowmetadata", "{\"FlowMetadata\":{},\n\"FlowMetadata\":{}}",
	 "FlowMetadata: key repeated at line 2, column 1 (first at line 1, column 2); each key may "
	 "appear only once"},
};

static const struct bad_case *bad;

/* -EINVAL, one line, the expected text, and the config exactly as it was before the load. */
static void run_bad_case(void)
{
	int ret;

	config_defaults(&cfg);
	snapshot = cfg;
	ret = config_load_string(&cfg, bad->json, err, sizeof(err));
	EXPECT_EQ(ret, -EINVAL);
	EXPECT_PREFIX(err, bad->start);
	EXPECT_TRUE(!strchr(err, '\n'));
	EXPECT_TRUE(!memcmp(&cfg, &snapshot, sizeof(cfg)));
}

/* A JSON text with n entries of item (printf format taking the index) inside FlowMetadata. */
static char *repeat_json(const char *head, const char *item, size_t n, const char *tail)
{
	size_t size = strlen(head) + strlen(tail) + n * (strlen(item) + 16) + 1, used;
	char *s = malloc(size);

	used = (size_t)snprintf(s, size, "%s", head);
	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(s + used, size - used, item, i ? "," : "",
					 (unsigned int)i);
	snprintf(s + used, size - used, "%s", tail);
	return s;
}

/* One more than each list holds is refused with the count; exactly the maximum is taken. */
static void bad_lists_longer_than_their_maximum(void)
{
	static const struct {
		const char *head, *item, *tail;
		size_t max;
		const size_t *count;
		const char *msg;
	} lists[] = {
		{"{\"FlowMetadata\":{\"IpFixCollectors\":[", "%s\"Udp/127.0.0.1:1%u\"", "]}}",
		 CONFIG_MAX_COLLECTORS, &cfg.n_collectors,
		 "FlowMetadata.IpFixCollectors: 33 entries; expected at most 32 collectors"},
		{RULES_HEAD, "%s{\"Peers\":[\"any\"],\"Description\":\"r%u\"}", "]}}}",
		 CONFIG_MAX_RULES, &cfg.policy.n_rules,
		 "FlowMetadata.AccessControl.Rules: 257 entries; expected at most 256 rules"},
		{RULES_HEAD "{\"Peers\":[", "%s\"100.64.%u.0/24\"", "]}]}}}", CONFIG_MAX_PEERS,
		 &cfg.policy.rules[0].n_peers,
		 "FlowMetadata.AccessControl.Rules[0].Peers: 65 entries; expected at most 64 "
		 "peers"},
		{"{\"FlowMetadata\":{\"TrustRequirements\":{\"UntrustedPeers\":[",
		 "%s\"100.64.9.%u\"", "]}}}", CONFIG_MAX_PEERS, &cfg.policy.n_untrusted,
		 "FlowMetadata.TrustRequirements.UntrustedPeers: 65 entries; expected at most 64 "
		 "peers"},
	};

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		char *full = repeat_json(lists[i].head, lists[i].item, lists[i].max, lists[i].tail);
		char *over =
			repeat_json(lists[i].head, lists[i].item, lists[i].max + 1, lists[i].tail);

		LOAD_OK(full);
		EXPECT_EQ(*lists[i].count, lists[i].max);
		EXPECT_EQ(load(over), -EINVAL);
		EXPECT_TEXT(err, lists[i].msg);
		free(full);
		free(over);
	}
}

static void bad_file_syntax_error_names_file_line_and_column(void)
{
	static const char text[] = "{\n"
				   "  \"Name\": \"Universe\",\n"
				   "  \"FlowMetadata\": {\n"
				   "    \"IpFixCollectors\": [\n"
				   "      \"Udp/198.18.1.100:4739\"\n"
				   "    ],\n"
				   "    \"Interval\" 60000,\n"
				   "    \"Enabled\": true\n"
				   "  }\n"
				   "}\n";
	const char *path = write_tmp("flowmeta.json", text);
	char want[256];

	EXPECT_TRUE(path != NULL);
	if (!path)
		return;
	config_defaults(&cfg);
	EXPECT_EQ(config_load_file(&cfg, path, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s:7:16: JSON syntax error: object property name separator "
		 "':' expected",
		 path);
	EXPECT_TEXT(err, want);
	cleanup_tmp();
}

/* Semantic errors name the key path, not the file (the caller adds the file). */
static void bad_file_value_error_names_key_path(void)
{
	const char *path = write_tmp("flowmeta.json", FM("\"MaxFlows\":12"));

	EXPECT_TRUE(path != NULL);
	if (!path)
		return;
	config_defaults(&cfg);
	EXPECT_EQ(config_load_file(&cfg, path, err, sizeof(err)), -EINVAL);
	EXPECT_PREFIX(err, "FlowMetadata.MaxFlows: 12 is out of range");
	cleanup_tmp();
}

static void bad_file_unreadable_directory(void)
{
	char want[128];

	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/config_test.XXXXXX");
	EXPECT_TRUE(mkdtemp(tmp_dir) != NULL);
	config_defaults(&cfg);
	snapshot = cfg;
	EXPECT_EQ(config_load_file(&cfg, tmp_dir, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s: cannot read: Is a directory", tmp_dir);
	EXPECT_TEXT(err, want);
	EXPECT_TRUE(!memcmp(&cfg, &snapshot, sizeof(cfg)));
	rmdir(tmp_dir);
}

static void missing_file_is_enoent_for_the_caller_to_judge(void)
{
	config_defaults(&cfg);
	EXPECT_EQ(config_load_file(&cfg, "/nonexistent/flowmeta.json", err, sizeof(err)), -ENOENT);
	EXPECT_TEXT(err, "/nonexistent/flowmeta.json: No such file or directory");
}

/* ---- good configurations ------------------------------------------------------------------ */

static void defaults_are_the_documented_values(void)
{
	config_defaults(&cfg);
	EXPECT_EQ(cfg.enabled, true);
	EXPECT_EQ(cfg.direction, DIRECTION_BOTH);
	EXPECT_EQ(cfg.interval_ms, 0);
	EXPECT_EQ(cfg.poll_interval_ms, 60000);
	EXPECT_EQ(cfg.idle_timeout_ms, 60000);
	EXPECT_EQ(cfg.observation_domain_id, CONFIG_DOMAIN_DERIVED);
	EXPECT_EQ(cfg.template_refresh_ms, 60000);
	EXPECT_EQ(cfg.max_message_size, CONFIG_MESSAGE_SIZE_PATH);
	EXPECT_EQ(cfg.max_flows, 0); /* absent: the largest table within MaxFlowMemory */
	EXPECT_EQ(cfg.max_flow_memory_mib, 64);
	EXPECT_EQ(cfg.n_collectors, 0);
	EXPECT_EQ(cfg.policy.acl_enabled, false);
	EXPECT_EQ(cfg.policy.n_rules, 0);
	EXPECT_EQ(cfg.policy.n_untrusted, 0);
}

static void missing_flowmetadata_means_all_defaults(void)
{
	config_defaults(&snapshot);
	LOAD_OK("{\"Name\":\"Universe\"}");
	EXPECT_TRUE(!memcmp(&cfg, &snapshot, sizeof(cfg)));
	LOAD_OK("{}");
	EXPECT_TRUE(!memcmp(&cfg, &snapshot, sizeof(cfg)));
	LOAD_OK(FM(""));
	EXPECT_TRUE(!memcmp(&cfg, &snapshot, sizeof(cfg)));
}

static void product_page_example_parses(void)
{
	LOAD_OK("{\"FlowMetadata\":{\n"
		"\"IpFixCollectors\": [\n"
		"\"Udp/198.18.1.100:4739\"\n"
		"],\n"
		"\"Direction\": \"Both\",\n"
		"\"Interval\": 60000,\n"
		"\"Enabled\": true\n"
		"}}");
	EXPECT_EQ(cfg.n_collectors, 1);
	EXPECT_V4(&cfg.collectors[0], "198.18.1.100", 4739);
	EXPECT_TEXT(cfg.collectors[0].spec, "Udp/198.18.1.100:4739");
	EXPECT_EQ(cfg.direction, DIRECTION_BOTH);
	EXPECT_EQ(cfg.interval_ms, 60000);
	EXPECT_EQ(cfg.enabled, true);
	EXPECT_EQ(cfg.poll_interval_ms, 60000);
}

static void whole_agent_profile_other_keys_ignored(void)
{
	char path[PATH_MAX];

	config_defaults(&cfg);
	source_file("tests/unit/configs/agent-profile.json", path, sizeof(path));
	EXPECT_EQ(config_load_file(&cfg, path, err, sizeof(err)), 0);
	EXPECT_TEXT(err, "");
	EXPECT_EQ(cfg.n_collectors, 1);
	EXPECT_V4(&cfg.collectors[0], "198.18.1.100", 4739);
	EXPECT_EQ(cfg.direction, DIRECTION_SENDING_TO_PEER);
	EXPECT_EQ(cfg.interval_ms, 120000);
	EXPECT_EQ(cfg.enabled, true);
}

static void ipv6_collectors_parse(void)
{
	LOAD_OK(FM("\"IpFixCollectors\":[\"Udp/[2001:db8::5]:4739\",\"Udp/[::1]:2055\","
		   "\"Udp/[::ffff:198.18.0.9]:9995\",\"Udp/127.0.0.1:4739\"]"));
	EXPECT_EQ(cfg.n_collectors, 4);
	EXPECT_V6(&cfg.collectors[0], "2001:db8::5", 4739);
	EXPECT_V6(&cfg.collectors[1], "::1", 2055);
	EXPECT_V4(&cfg.collectors[2], "198.18.0.9", 9995); /* IPv4-mapped: the IPv4 collector */
	EXPECT_TEXT(cfg.collectors[2].spec, "Udp/[::ffff:198.18.0.9]:9995");
	EXPECT_V4(&cfg.collectors[3], "127.0.0.1", 4739);
	EXPECT_TEXT(cfg.collectors[1].spec, "Udp/[::1]:2055");
	{
		char *text = NULL;
		size_t len = 0;
		FILE *out = open_memstream(&text, &len);

		config_print(&cfg, 2, out);
		fclose(out);
		EXPECT_CONTAINS(text,
				"\nCollector: Udp/[::1]:2055\nCollector: Udp/198.18.0.9:9995\n");
		free(text);
	}
}

static void transport_name_is_case_insensitive(void)
{
	LOAD_OK(FM(
		"\"IpFixCollectors\":[\"Udp/127.0.0.1:1\",\"UDP/127.0.0.1:2\",\"udp/127.0.0.1:3\","
		"\"uDP/[::1]:65535\"]"));
	EXPECT_EQ(cfg.n_collectors, 4);
	EXPECT_V4(&cfg.collectors[0], "127.0.0.1", 1);
	EXPECT_V4(&cfg.collectors[1], "127.0.0.1", 2);
	EXPECT_V4(&cfg.collectors[2], "127.0.0.1", 3);
	EXPECT_V6(&cfg.collectors[3], "::1", 65535);
	EXPECT_EQ(load(FM("\"IpFixCollectors\":[\"TCP/127.0.0.1:4739\"]")), -EINVAL);
	EXPECT_CONTAINS(err, "only UDP transport is supported");
	EXPECT_EQ(load(FM("\"IpFixCollectors\":[\"sctp/127.0.0.1:4739\"]")), -EINVAL);
	EXPECT_CONTAINS(err, "only UDP transport is supported");
}

static void enum_values_are_case_insensitive(void)
{
	LOAD_OK(FM("\"Direction\":\"sendingtopeer\","
		   "\"AccessControl\":{\"Rules\":[{\"Peers\":[\"ANY\"],\"Protocol\":\"TCP\","
		   "\"Direction\":\"inbound\"},{\"Peers\":[\"Any\"],\"Protocol\":\"icmp\","
		   "\"Direction\":\"OUTBOUND\"}]}"));
	EXPECT_EQ(cfg.direction, DIRECTION_SENDING_TO_PEER);
	EXPECT_EQ(cfg.policy.rules[0].protocol, RULE_PROTO_TCP);
	EXPECT_EQ(cfg.policy.rules[0].direction, RULE_DIR_INBOUND);
	EXPECT_PREFIX_IS(&cfg.policy.rules[0].peers[0], NULL, 0);
	EXPECT_EQ(cfg.policy.rules[1].protocol, RULE_PROTO_ICMP);
	EXPECT_EQ(cfg.policy.rules[1].direction, RULE_DIR_OUTBOUND);
	LOAD_OK(FM("\"Direction\":\"RECEIVEDFROMPEER\""));
	EXPECT_EQ(cfg.direction, DIRECTION_RECEIVED_FROM_PEER);
}

static void every_key_set(void)
{
	LOAD_OK(FM("\"IpFixCollectors\":[\"Udp/198.18.0.9:4739\",\"Udp/[2001:db8::9]:2055\"],"
		   "\"Direction\":\"ReceivedFromPeer\",\"Interval\":30000,\"Enabled\":false,"
		   "\"PollInterval\":5000,\"IdleTimeout\":15000,\"ObservationDomainId\":4294967295,"
		   "\"TemplateRefresh\":600000,\"MaxMessageSize\":9000,\"MaxFlows\":1048576,"
		   "\"MaxFlowMemory\":512,"
		   "\"AccessControl\":{\"Enabled\":true,\"Rules\":[{\"Description\":\"dns\","
		   "\"Peers\":[\"100.64.0.53\"],\"Protocol\":\"Udp\",\"Ports\":\"53\","
		   "\"Direction\":\"Outbound\"}]},"
		   "\"TrustRequirements\":{\"UntrustedPeers\":[\"fd00:bad::/32\"]}"));
	EXPECT_EQ(cfg.n_collectors, 2);
	EXPECT_V4(&cfg.collectors[0], "198.18.0.9", 4739);
	EXPECT_V6(&cfg.collectors[1], "2001:db8::9", 2055);
	EXPECT_EQ(cfg.direction, DIRECTION_RECEIVED_FROM_PEER);
	EXPECT_EQ(cfg.interval_ms, 30000);
	EXPECT_EQ(cfg.enabled, false);
	EXPECT_EQ(cfg.poll_interval_ms, 5000);
	EXPECT_EQ(cfg.idle_timeout_ms, 15000);
	EXPECT_EQ(cfg.observation_domain_id, 4294967295u);
	EXPECT_EQ(cfg.template_refresh_ms, 600000);
	EXPECT_EQ(cfg.max_message_size, 9000);
	EXPECT_EQ(cfg.max_flows, 1048576);
	EXPECT_EQ(cfg.max_flow_memory_mib, 512);
	EXPECT_EQ(cfg.policy.acl_enabled, true);
	EXPECT_EQ(cfg.policy.n_rules, 1);
	EXPECT_TEXT(cfg.policy.rules[0].description, "dns");
	EXPECT_EQ(cfg.policy.rules[0].n_peers, 1);
	EXPECT_PREFIX_IS(&cfg.policy.rules[0].peers[0], "100.64.0.53", 32);
	EXPECT_EQ(cfg.policy.rules[0].protocol, RULE_PROTO_UDP);
	EXPECT_EQ(cfg.policy.rules[0].port_min, 53);
	EXPECT_EQ(cfg.policy.rules[0].port_max, 53);
	EXPECT_EQ(cfg.policy.rules[0].direction, RULE_DIR_OUTBOUND);
	EXPECT_EQ(cfg.policy.n_untrusted, 1);
	EXPECT_PREFIX_IS(&cfg.policy.untrusted[0], "fd00:bad::", 32);
}

static const char spec6_example[] =
	FM("\"AccessControl\": {\n"
	   "  \"Enabled\": true,\n"
	   "  \"Rules\": [\n"
	   "    { \"Description\": \"ssh from admins\", \"Peers\": [\"100.64.0.0/24\", "
	   "\"fd7a:115c::/48\"],\n"
	   "      \"Protocol\": \"Tcp\", \"Ports\": \"22\", \"Direction\": \"Inbound\" },\n"
	   "    { \"Description\": \"web\", \"Peers\": [\"any\"], \"Protocol\": \"Tcp\", "
	   "\"Ports\": \"8000-8100\" },\n"
	   "    { \"Description\": \"ping\", \"Peers\": [\"any\"], \"Protocol\": \"Icmp\" }\n"
	   "  ]\n"
	   "},\n"
	   "\"TrustRequirements\": { \"UntrustedPeers\": [\"100.64.9.7\", \"100.64.10.0/24\"] }");

static void spec6_access_control_and_trust_example(void)
{
	const struct policy_config *pol = &cfg.policy;

	LOAD_OK(spec6_example);
	EXPECT_EQ(pol->acl_enabled, true);
	EXPECT_EQ(pol->n_rules, 3);

	EXPECT_TEXT(pol->rules[0].description, "ssh from admins");
	EXPECT_EQ(pol->rules[0].n_peers, 2);
	EXPECT_PREFIX_IS(&pol->rules[0].peers[0], "100.64.0.0", 24);
	EXPECT_PREFIX_IS(&pol->rules[0].peers[1], "fd7a:115c::", 48);
	EXPECT_EQ(pol->rules[0].protocol, RULE_PROTO_TCP);
	EXPECT_EQ(pol->rules[0].port_min, 22);
	EXPECT_EQ(pol->rules[0].port_max, 22);
	EXPECT_EQ(pol->rules[0].direction, RULE_DIR_INBOUND);

	EXPECT_TEXT(pol->rules[1].description, "web");
	EXPECT_EQ(pol->rules[1].n_peers, 1);
	EXPECT_PREFIX_IS(&pol->rules[1].peers[0], NULL, 0);
	EXPECT_EQ(pol->rules[1].protocol, RULE_PROTO_TCP);
	EXPECT_EQ(pol->rules[1].port_min, 8000);
	EXPECT_EQ(pol->rules[1].port_max, 8100);
	EXPECT_EQ(pol->rules[1].direction, RULE_DIR_BOTH);

	EXPECT_TEXT(pol->rules[2].description, "ping");
	EXPECT_EQ(pol->rules[2].protocol, RULE_PROTO_ICMP);
	EXPECT_EQ(pol->rules[2].port_min, 0);
	EXPECT_EQ(pol->rules[2].port_max, 65535);
	EXPECT_EQ(pol->rules[2].direction, RULE_DIR_BOTH);

	EXPECT_EQ(pol->n_untrusted, 2);
	EXPECT_PREFIX_IS(&pol->untrusted[0], "100.64.9.7", 32);
	EXPECT_PREFIX_IS(&pol->untrusted[1], "100.64.10.0", 24);
}

static void access_control_present_is_enforced_unless_disabled(void)
{
	LOAD_OK(RULES("{\"Peers\":[\"any\"]}"));
	EXPECT_EQ(cfg.policy.acl_enabled, true);
	EXPECT_EQ(cfg.policy.n_rules, 1);
	EXPECT_EQ(cfg.policy.rules[0].protocol, RULE_PROTO_ANY);
	EXPECT_EQ(cfg.policy.rules[0].direction, RULE_DIR_BOTH);
	EXPECT_EQ(cfg.policy.rules[0].port_min, 0);
	EXPECT_EQ(cfg.policy.rules[0].port_max, 65535);
	EXPECT_TEXT(cfg.policy.rules[0].description, "");

	LOAD_OK(FM("\"AccessControl\":{\"Enabled\":false,\"Rules\":[{\"Peers\":[\"any\"]}]}"));
	EXPECT_EQ(cfg.policy.acl_enabled, false);
	EXPECT_EQ(cfg.policy.n_rules, 1);

	LOAD_OK(FM("\"AccessControl\":{}"));
	EXPECT_EQ(cfg.policy.acl_enabled, true);
	EXPECT_EQ(cfg.policy.n_rules, 0);

	LOAD_OK(FM("\"TrustRequirements\":{}"));
	EXPECT_EQ(cfg.policy.acl_enabled, false);
	EXPECT_EQ(cfg.policy.n_untrusted, 0);
}

static void port_ranges_and_prefix_edges(void)
{
	LOAD_OK(RULES("{\"Peers\":[\"0.0.0.0/0\",\"::/0\",\"100.64.0.1\",\"2001:db8::1\","
		      "\"100.64.0.0/10\"],\"Protocol\":\"Udp\",\"Ports\":\"0-65535\"},"
		      "{\"Peers\":[\"any\"],\"Protocol\":\"Tcp\",\"Ports\":\"65535\"},"
		      "{\"Peers\":[\"any\"],\"Protocol\":\"Tcp\",\"Ports\":\"1024-1024\"}"));
	EXPECT_EQ(cfg.policy.rules[0].n_peers, 5);
	EXPECT_PREFIX_IS(&cfg.policy.rules[0].peers[0], "0.0.0.0", 0);
	EXPECT_PREFIX_IS(&cfg.policy.rules[0].peers[1], "::", 0);
	EXPECT_PREFIX_IS(&cfg.policy.rules[0].peers[2], "100.64.0.1", 32);
	EXPECT_PREFIX_IS(&cfg.policy.rules[0].peers[3], "2001:db8::1", 128);
	EXPECT_PREFIX_IS(&cfg.policy.rules[0].peers[4], "100.64.0.0", 10);
	EXPECT_EQ(cfg.policy.rules[0].port_min, 0);
	EXPECT_EQ(cfg.policy.rules[0].port_max, 65535);
	EXPECT_EQ(cfg.policy.rules[1].port_min, 65535);
	EXPECT_EQ(cfg.policy.rules[1].port_max, 65535);
	EXPECT_EQ(cfg.policy.rules[2].port_min, 1024);
	EXPECT_EQ(cfg.policy.rules[2].port_max, 1024);
}

static void integer_bounds_are_inclusive(void)
{
	LOAD_OK(FM("\"PollInterval\":1000,\"IdleTimeout\":1000,\"TemplateRefresh\":1000,"
		   "\"MaxMessageSize\":512,\"MaxFlows\":1024,\"ObservationDomainId\":0,"
		   "\"Interval\":0,\"MaxFlowMemory\":1"));
	EXPECT_EQ(cfg.max_flow_memory_mib, 1);
	EXPECT_EQ(cfg.poll_interval_ms, 1000);
	EXPECT_EQ(cfg.idle_timeout_ms, 1000);
	EXPECT_EQ(cfg.template_refresh_ms, 1000);
	EXPECT_EQ(cfg.max_message_size, 512);
	EXPECT_EQ(cfg.max_flows, 1024);
	EXPECT_EQ(cfg.observation_domain_id, 0);
	EXPECT_EQ(cfg.interval_ms, 0);
	LOAD_OK(FM(
		"\"PollInterval\":86400000,\"IdleTimeout\":86400000,\"TemplateRefresh\":86400000,"
		"\"MaxMessageSize\":65507,\"MaxFlows\":16777216,\"Interval\":86400000,"
		"\"MaxFlowMemory\":65536"));
	EXPECT_EQ(cfg.max_flow_memory_mib, 65536);
	EXPECT_EQ(cfg.poll_interval_ms, 86400000);
	EXPECT_EQ(cfg.interval_ms, 86400000);
	EXPECT_EQ(cfg.max_message_size, 65507);
	EXPECT_EQ(cfg.max_flows, 16777216);
}

static void interval_multiple_of_shortened_poll(void)
{
	LOAD_OK(FM("\"PollInterval\":5000,\"Interval\":15000"));
	EXPECT_EQ(cfg.poll_interval_ms, 5000);
	EXPECT_EQ(cfg.interval_ms, 15000);
	/* A PollInterval that no longer divides an Interval kept from before is named. */
	config_defaults(&cfg);
	cfg.interval_ms = 60000;
	EXPECT_EQ(config_load_string(&cfg, FM("\"PollInterval\":7000"), err, sizeof(err)), -EINVAL);
	EXPECT_TEXT(err, "FlowMetadata.PollInterval: 7000 does not divide Interval (60000); set "
			 "Interval to 0 or a multiple of PollInterval");
}

/* Keys in the text replace, absent ones stay: a load applies over whatever cfg holds. */
static void load_applies_over_existing_values(void)
{
	config_defaults(&cfg);
	EXPECT_EQ(config_add_collector(&cfg, "Udp/127.0.0.1:4739", err, sizeof(err)), 0);
	cfg.max_flows = 2048;
	EXPECT_EQ(config_load_string(&cfg, FM("\"Direction\":\"SendingToPeer\""), err, sizeof(err)),
		  0);
	EXPECT_EQ(cfg.direction, DIRECTION_SENDING_TO_PEER);
	EXPECT_EQ(cfg.n_collectors, 1);
	EXPECT_EQ(cfg.max_flows, 2048);
	EXPECT_EQ(config_load_string(&cfg, FM("\"IpFixCollectors\":[\"Udp/[::1]:4739\"]"), err,
				     sizeof(err)),
		  0);
	EXPECT_EQ(cfg.n_collectors, 1);
	EXPECT_V6(&cfg.collectors[0], "::1", 4739);
}

/* A bad reload leaves the running configuration exactly as it was. */
static void failed_load_leaves_config_untouched(void)
{
	LOAD_OK(spec6_example);
	snapshot = cfg;
	EXPECT_EQ(config_load_string(&cfg,
				     FM("\"Direction\":\"SendingToPeer\",\"AccessControl\":"
					"{\"Rules\":[]},\"MaxFlows\":1"),
				     err, sizeof(err)),
		  -EINVAL);
	EXPECT_PREFIX(err, "FlowMetadata.MaxFlows: 1 is out of range");
	EXPECT_TRUE(!memcmp(&cfg, &snapshot, sizeof(cfg)));
}

static void utf8_byte_order_mark_is_skipped(void)
{
	LOAD_OK("\xef\xbb\xbf" FM("\"MaxFlows\":4096"));
	EXPECT_EQ(cfg.max_flows, 4096);
	EXPECT_EQ(load("\xef\xbb\xbf{\"FlowMetadata\":{,}}"), -EINVAL);
	EXPECT_PREFIX(err, "<string>:1:18: JSON syntax error");
}

/* "{\"Other\":" + depth times open + middle + depth times close + tail, e.g. "}}". */
static char *nested_json(size_t depth, const char *open, const char *middle, const char *close,
			 const char *tail)
{
	size_t size = 16 + depth * (strlen(open) + strlen(close)) + strlen(middle) + strlen(tail);
	char *s = malloc(size), *p = s;

	if (!s)
		return NULL;
	p += sprintf(p, "{\"Other\":");
	for (size_t i = 0; i < depth; i++)
		p += sprintf(p, "%s", open);
	p += sprintf(p, "%s", middle);
	for (size_t i = 0; i < depth; i++)
		p += sprintf(p, "%s", close);
	sprintf(p, "%s", tail);
	return s;
}

/*
 * Agent profiles nest their own keys as deep as they like (json-c alone stops at 32 levels): they
 * are skimmed for syntax, never built, so depth costs one bit a level, not recursion or objects.
 */
static void other_keys_nested_deeper_than_json_c_allows_are_ignored(void)
{
	static const size_t depths[] = {33, 1000, 400000};
	static const char fm[] = ",\"FlowMetadata\":{\"Interval\":120000,\"PollInterval\":60000}}";

	for (size_t i = 0; i < sizeof(depths) / sizeof(depths[0]); i++) {
		char *arrays = nested_json(depths[i], "[", "1", "]", fm);
		char *objects = nested_json(depths[i], "{\"a\":[", "{}", "]}", fm);

		if (!EXPECT_TRUE(arrays && objects))
			return;
		LOAD_OK(arrays);
		EXPECT_EQ(cfg.interval_ms, 120000);
		LOAD_OK(objects);
		EXPECT_EQ(cfg.interval_ms, 120000);
		free(arrays);
		free(objects);
	}
}

/* A syntax error anywhere in such a key still has its line and column. */
static void syntax_errors_deep_in_other_keys_are_placed(void)
{
	char *unclosed = nested_json(100000, "[", "", "", "");
	char *comma = nested_json(50000, "[", "1,", "]", "}");
	char *bracket = nested_json(50000, "{\"a\":", "1]", "}", "}");

	if (!EXPECT_TRUE(unclosed && comma && bracket))
		return;
	EXPECT_EQ(load(unclosed), -EINVAL);
	EXPECT_TEXT(err, "<string>:1:100010: JSON syntax error: unexpected end of file (an object "
			 "or array is not closed)");
	EXPECT_EQ(load(comma), -EINVAL);
	EXPECT_TEXT(err, "<string>:1:50011: JSON syntax error: trailing comma before a closing "
			 "bracket");
	EXPECT_EQ(load(bracket), -EINVAL);
	EXPECT_TEXT(err, "<string>:1:250011: JSON syntax error: object value separator ',' "
			 "expected");
	free(unclosed);
	free(comma);
	free(bracket);
}

/* FlowMetadata itself is built into objects: its depth is bounded (no setting needs 6 levels). */
static void flowmetadata_nesting_is_bounded(void)
{
	char text[256];
	int n;

	/* FlowMetadata's object and 15 arrays: 16 levels, the most taken (an unknown key then). */
	n = snprintf(text, sizeof(text), "{\"FlowMetadata\":{\"X\":%.*s%.*s}}", 15,
		     "[[[[[[[[[[[[[[[[[[[[", 15, "]]]]]]]]]]]]]]]]]]]]");
	EXPECT_TRUE(n > 0 && (size_t)n < sizeof(text));
	EXPECT_EQ(load(text), -EINVAL);
	EXPECT_PREFIX(err, "FlowMetadata.X: unknown key");
	snprintf(text, sizeof(text), "{\"FlowMetadata\":{\"X\":%.*s%.*s}}", 16,
		 "[[[[[[[[[[[[[[[[[[[[", 16, "]]]]]]]]]]]]]]]]]]]]");
	EXPECT_EQ(load(text), -EINVAL);
	EXPECT_TEXT(err, "<string>:1:37: FlowMetadata nests objects and arrays deeper than 16 "
			 "levels here; no setting needs more than 5");
	/* The deepest a setting goes: FlowMetadata.AccessControl.Rules[0].Peers[0]. */
	LOAD_OK(RULES("{\"Peers\":[\"any\"]}"));
	EXPECT_EQ(cfg.policy.n_rules, 1);
}

static void repeated_keys_outside_flowmetadata_are_not_ours(void)
{
	LOAD_OK("{\"Network\":{\"Mtu\":1280,\"Mtu\":1400},\"FlowMetadata\":{\"Enabled\":false}}");
	EXPECT_EQ(cfg.enabled, false);
}

static void json_escapes_in_keys_and_values_are_decoded(void)
{
	LOAD_OK("{\"Flow\\u004detadata\":{\"Direction\":\"Sending\\u0054oPeer\","
		"\"IpFixCollectors\":[\"Udp\\/127.0.0.1:4739\"]}}");
	EXPECT_EQ(cfg.direction, DIRECTION_SENDING_TO_PEER);
	EXPECT_V4(&cfg.collectors[0], "127.0.0.1", 4739);
	/* An escaped spelling of a key is the same key. */
	EXPECT_EQ(load(FM("\"Enabled\":true,\"En\\u0061bled\":false")), -EINVAL);
	EXPECT_PREFIX(err, "FlowMetadata.Enabled: key repeated at line 1, column 33");
}

/* ---- collectors from the command line ----------------------------------------------------- */

static void add_collector_on_top_of_file(void)
{
	char spec[32];

	LOAD_OK(FM("\"IpFixCollectors\":[\"Udp/198.18.1.100:4739\"]"));
	EXPECT_EQ(config_add_collector(&cfg, "Udp/[2001:db8::5]:4739", err, sizeof(err)), 0);
	EXPECT_EQ(cfg.n_collectors, 2);
	EXPECT_V6(&cfg.collectors[1], "2001:db8::5", 4739);

	EXPECT_EQ(config_add_collector(&cfg, "UDP/198.18.1.100:4739", err, sizeof(err)), -EINVAL);
	EXPECT_TEXT(err, "\"UDP/198.18.1.100:4739\": same address and port as collector "
			 "\"Udp/198.18.1.100:4739\"; list each collector once");
	/* --collector written as the IPv4-mapped form of a collector of the file. */
	EXPECT_EQ(config_add_collector(&cfg, "Udp/[::ffff:198.18.1.100]:4739", err, sizeof(err)),
		  -EINVAL);
	EXPECT_TEXT(err, "\"Udp/[::ffff:198.18.1.100]:4739\": same address and port as collector "
			 "\"Udp/198.18.1.100:4739\"; list each collector once");
	EXPECT_EQ(config_add_collector(&cfg, "Tcp/198.18.1.100:4739", err, sizeof(err)), -EINVAL);
	EXPECT_TEXT(err, "\"Tcp/198.18.1.100:4739\": only UDP transport is supported "
			 "(Udp/ADDRESS:PORT)");
	EXPECT_EQ(cfg.n_collectors, 2);

	for (unsigned int port = 1; cfg.n_collectors < CONFIG_MAX_COLLECTORS; port++) {
		snprintf(spec, sizeof(spec), "Udp/127.0.0.1:%u", port);
		EXPECT_EQ(config_add_collector(&cfg, spec, err, sizeof(err)), 0);
	}
	EXPECT_EQ(config_add_collector(&cfg, "Udp/127.0.0.2:4739", err, sizeof(err)), -E2BIG);
	EXPECT_TEXT(err, "\"Udp/127.0.0.2:4739\": too many collectors; at most 32");
	EXPECT_EQ(cfg.n_collectors, CONFIG_MAX_COLLECTORS);
}

/* MetricsListen and listen_parse: both families, the wildcard addresses, a canonical spec. */
static void expect_listen(const char *file, int line, const char *text, int family,
			  const char *addr, unsigned int port, const char *spec)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&cfg.metrics_listen.addr;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&cfg.metrics_listen.addr;
	char got[INET6_ADDRSTRLEN] = "";

	check_u64(file, line, text, "0",
		  listen_parse("MetricsListen", text, &cfg.metrics_listen, err, sizeof(err)), 0);
	check_u64(file, line, "family", "want", cfg.metrics_listen.addr.ss_family, family);
	if (family == AF_INET6) {
		check_u64(file, line, "addr_len", "sockaddr_in6", cfg.metrics_listen.addr_len,
			  sizeof(*sin6));
		check_u64(file, line, "port", "want", ntohs(sin6->sin6_port), port);
		inet_ntop(AF_INET6, &sin6->sin6_addr, got, sizeof(got));
	} else {
		check_u64(file, line, "addr_len", "sockaddr_in", cfg.metrics_listen.addr_len,
			  sizeof(*sin));
		check_u64(file, line, "port", "want", ntohs(sin->sin_port), port);
		inet_ntop(AF_INET, &sin->sin_addr, got, sizeof(got));
	}
	check_true(file, line, addr, strcmp(got, addr) == 0);
	check_true(file, line, spec, strcmp(cfg.metrics_listen.spec, spec) == 0);
}

#define EXPECT_LISTEN(text, family, addr, port, spec)                                              \
	expect_listen(__FILE__, __LINE__, (text), (family), (addr), (port), (spec))

static void metrics_listen_parses_both_families(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out;

	config_defaults(&cfg);
	EXPECT_EQ(cfg.metrics_listen.addr_len, 0);	/* absent: off */
	LOAD_OK(FM("\"MetricsListen\":\"127.0.0.1:9739\""));
	EXPECT_EQ(cfg.metrics_listen.addr_len, sizeof(struct sockaddr_in));
	EXPECT_TEXT(cfg.metrics_listen.spec, "127.0.0.1:9739");
	LOAD_OK(FM("\"MetricsListen\":\"[0:0::1]:9739\""));
	out = open_memstream(&text, &len);
	config_print(&cfg, 2, out);
	fclose(out);
	EXPECT_CONTAINS(text, "\nMetricsListen: [::1]:9739\n");
	free(text);

	EXPECT_LISTEN("198.18.0.1:1", AF_INET, "198.18.0.1", 1, "198.18.0.1:1");
	EXPECT_LISTEN("0.0.0.0:65535", AF_INET, "0.0.0.0", 65535, "0.0.0.0:65535");
	EXPECT_LISTEN("[::1]:9739", AF_INET6, "::1", 9739, "[::1]:9739");
	EXPECT_LISTEN("[2001:DB8:0::5]:9739", AF_INET6, "2001:db8::5", 9739, "[2001:db8::5]:9739");
	EXPECT_LISTEN("[::]:9739", AF_INET6, "::", 9739, "[::]:9739");
	EXPECT_EQ(listen_parse("--metrics-listen", "127.0.0.1:+9739", &cfg.metrics_listen, err,
			       sizeof(err)), -EINVAL);
	EXPECT_TEXT(err, "--metrics-listen: \"127.0.0.1:+9739\": the port is not a number from 1 "
			 "to 65535; expected ADDRESS:PORT or [IPv6]:PORT");
	EXPECT_EQ(cfg.metrics_listen.addr_len, 0);
}

static void collector_parse_fills_sockaddr(void)
{
	struct collector_addr c;
	char longer[200];

	EXPECT_EQ(collector_parse("Udp/198.18.0.9:65535", &c, err, sizeof(err)), 0);
	EXPECT_V4(&c, "198.18.0.9", 65535);
	EXPECT_TEXT(c.spec, "Udp/198.18.0.9:65535");
	EXPECT_EQ(collector_parse("udp/[fd00::1]:1", &c, err, sizeof(err)), 0);
	EXPECT_V6(&c, "fd00::1", 1);
	EXPECT_EQ(collector_parse("Udp/[::]:4739", &c, err, sizeof(err)), -EINVAL);
	EXPECT_TEXT(err, "\"Udp/[::]:4739\": the unspecified address :: cannot be a collector");
	EXPECT_EQ(collector_parse("Udp/127.0.0.1:+4739", &c, err, sizeof(err)), -EINVAL);
	EXPECT_CONTAINS(err, "\"+4739\" is not a port");
	EXPECT_EQ(collector_parse("Udp/ 127.0.0.1:4739", &c, err, sizeof(err)), -EINVAL);
	EXPECT_CONTAINS(err, "\" 127.0.0.1\" is not an IPv4 address");
	EXPECT_EQ(collector_parse("Udp/[fe80::1%eth0]:4739", &c, err, sizeof(err)), -EINVAL);
	EXPECT_CONTAINS(err, "is not an IPv6 address");
	memset(longer, '1', sizeof(longer) - 1);
	memcpy(longer, "Udp/", 4);
	longer[sizeof(longer) - 1] = '\0';
	EXPECT_EQ(collector_parse(longer, &c, err, sizeof(err)), -EINVAL);
	EXPECT_CONTAINS(err, ": longer than 127 characters; expected Udp/ADDRESS:PORT");
}

/*
 * IPv4-mapped peers and prefixes (::ffff:a.b.c.d, /96 and longer, any notation) are stored and
 * printed as the IPv4 ones; IPv6 prefixes shorter than /96 that cover ::ffff:0:0/96 stay IPv6.
 */
static void ipv4_mapped_peers_are_ipv4(void)
{
	static const struct {
		const char *text, *canonical;
		unsigned int version, len;
	} cases[] = {
		{"::ffff:100.64.9.7", "100.64.9.7", 4, 32},
		{"::FFFF:6440:907", "100.64.9.7", 4, 32},
		{"0:0:0:0:0:ffff:100.64.1.1/128", "100.64.1.1", 4, 32},
		{"::ffff:100.64.0.0/112", "100.64.0.0/16", 4, 16},
		{"::ffff:0:0/96", "0.0.0.0/0", 4, 0},
		{"::/0", "::/0", 6, 0},
		{"::/80", "::/80", 6, 80},
		{"::", "::", 6, 128},
		{"::1", "::1", 6, 128},
		{"64:ff9b::100.64.9.7", "64:ff9b::6440:907", 6, 128}, /* NAT64: IPv6 traffic */
	};
	struct prefix p;
	char buf[80];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!EXPECT_EQ(prefix_parse(cases[i].text, false, &p, err, sizeof(err)), 0))
			printf("     %s: %s\n", cases[i].text, err);
		EXPECT_EQ(p.ip_version, cases[i].version);
		EXPECT_EQ(p.len, cases[i].len);
		prefix_format(&p, buf, sizeof(buf));
		EXPECT_TEXT(buf, cases[i].canonical);
	}
	/* Whatever is accepted prints in a form that reads back as the same prefix. */
	for (uint32_t i = 0, x = 1, n = 0; i < 20000; i++) {
		static const uint8_t heads[][12] = {{0}, {[10] = 0xff, [11] = 0xff}, {0x20, 0x01}};
		uint8_t bytes[16];
		char addr[INET6_ADDRSTRLEN], with_len[INET6_ADDRSTRLEN + 8], again[80];
		const char *texts[2] = {addr, with_len};
		struct prefix q;

		memcpy(bytes, heads[i % 3], 12);
		for (int k = 12; k < 16; k++) {
			x = x * 1103515245 + 12345;
			bytes[k] = (uint8_t)((x >> 16) & (i & 4 ? 0x03 : 0xff));
		}
		inet_ntop(AF_INET6, bytes, addr, sizeof(addr));
		snprintf(with_len, sizeof(with_len), "%s/%u", addr, 96 + (x >> 8) % 33);
		for (int t = 0; t < 2; t++) {
			if (prefix_parse(texts[t], false, &p, err, sizeof(err)))
				continue;
			n++;
			prefix_format(&p, again, sizeof(again));
			if (!EXPECT_EQ(prefix_parse(again, false, &q, err, sizeof(err)), 0) ||
			    !EXPECT_MEM(&q, &p, sizeof(p)))
				return;
		}
		if (i == 19999)
			EXPECT_TRUE(n > 10000); /* most were accepted: the loop checked something */
	}
	/* In a policy, and as `flowmeta check` prints it. */
	LOAD_OK(FM("\"AccessControl\":{\"Rules\":[{\"Peers\":[\"::ffff:100.64.0.0/106\","
		   "\"fd00::1\"]}]},\"TrustRequirements\":{\"UntrustedPeers\":["
		   "\"::ffff:100.64.9.7\",\"::/0\"]}"));
	EXPECT_PREFIX_IS(&cfg.policy.rules[0].peers[0], "100.64.0.0", 10);
	EXPECT_PREFIX_IS(&cfg.policy.untrusted[0], "100.64.9.7", 32);
	EXPECT_PREFIX_IS(&cfg.policy.untrusted[1], "::", 0);
	{
		char *text = NULL;
		size_t len = 0;
		FILE *out = open_memstream(&text, &len);

		config_print(&cfg, 2, out);
		fclose(out);
		EXPECT_CONTAINS(text, ", Peers 100.64.0.0/10 fd00::1\n");
		EXPECT_CONTAINS(text, "UntrustedPeer: 100.64.9.7\nUntrustedPeer: ::/0\n");
		free(text);
	}
}

static void prefix_parse_and_format_round_trip(void)
{
	static const char *const texts[] = {
		"any",	       "100.64.0.0/10", "100.64.9.7", "fd7a:115c::/48",
		"2001:db8::5", "0.0.0.0/0",	"::/0"};
	struct prefix p;
	char buf[64];

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		EXPECT_EQ(prefix_parse(texts[i], true, &p, err, sizeof(err)), 0);
		prefix_format(&p, buf, sizeof(buf));
		EXPECT_TEXT(buf, texts[i]);
	}
	EXPECT_EQ(prefix_parse("ANY", true, &p, err, sizeof(err)), 0);
	EXPECT_EQ(p.ip_version, 0);
	EXPECT_EQ(prefix_parse("any", false, &p, err, sizeof(err)), -EINVAL);
	EXPECT_EQ(prefix_parse("100.64.0.0/+8", true, &p, err, sizeof(err)), -EINVAL);
	EXPECT_TEXT(err, "bad prefix length; expected /0 to /32");
	EXPECT_EQ(prefix_parse("", true, &p, err, sizeof(err)), -EINVAL);
	EXPECT_EQ(prefix_parse("/8", true, &p, err, sizeof(err)), -EINVAL);
}

/* ---- what flowmeta check prints ----------------------------------------------------------- */

static void print_shows_effective_settings(void)
{
	static const char want[] =
		"Enabled: true\n"
		"Direction: Both\n"
		"Interval: 60000 ms\n"
		"PollInterval: 60000 ms\n"
		"IdleTimeout: 60000 ms\n"
		"ObservationDomainId: derived from the interface's address\n"
		"TemplateRefresh: 60000 ms\n"
		"MaxMessageSize: path MTU of each collector\n"
		"MaxFlows: 65536\n"
		"MaxFlowMemory: 64 MiB\n"
		"FlowTable: 65536 flows (the largest within MaxFlowMemory, at most 65536), 21.5 "
		"MiB of kernel memory at 2 possible CPUs\n"
		"IpFixCollectors: 2\n"
		"Collector: Udp/198.18.1.100:4739\n"
		"Collector: Udp/[2001:db8::5]:4739\n"
		"Export: on\n"
		"MetricsListen: off\n"
		"AccessControl: enabled, 3 rules\n"
		"Rule[0]: Protocol Tcp, Ports 22, Direction Inbound, Peers 100.64.0.0/24 "
		"fd7a:115c::/48, Description \"ssh from admins\"\n"
		"Rule[1]: Protocol Tcp, Ports 8000-8100, Direction Both, Peers any, Description "
		"\"web\"\n"
		"Rule[2]: Protocol Icmp, Direction Both, Peers any, Description \"ping\"\n"
		"UntrustedPeers: 2\n"
		"UntrustedPeer: 100.64.9.7\n"
		"UntrustedPeer: 100.64.10.0/24\n";
	char *text = NULL;
	size_t len = 0;
	FILE *out;

	LOAD_OK(spec6_example);
	cfg.interval_ms = 60000;
	EXPECT_EQ(config_add_collector(&cfg, "UDP/198.18.1.100:4739", err, sizeof(err)), 0);
	EXPECT_EQ(config_add_collector(&cfg, "udp/[2001:DB8:0::5]:4739", err, sizeof(err)), 0);
	out = open_memstream(&text, &len);
	config_print(&cfg, 2, out);
	fclose(out);
	EXPECT_TEXT(text, want);
	free(text);
}

static void print_says_why_export_is_off(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out;

	LOAD_OK(FM("\"AccessControl\":{\"Rules\":[]}"));
	out = open_memstream(&text, &len);
	config_print(&cfg, 2, out);
	fclose(out);
	EXPECT_CONTAINS(text, "\nInterval: 0 (records only when a flow ends)\n");
	EXPECT_CONTAINS(text, "\nIpFixCollectors: 0\nExport: off (no collector configured; "
			      "metering still runs)\n");
	EXPECT_CONTAINS(text, "\nAccessControl: enabled, 0 rules (all traffic is dropped)\n"
			      "UntrustedPeers: 0\n");
	free(text);

	/* Configured values instead of the ones the node decides. */
	LOAD_OK(FM("\"ObservationDomainId\":0,\"MaxMessageSize\":9000"));
	out = open_memstream(&text, &len);
	config_print(&cfg, 2, out);
	fclose(out);
	EXPECT_CONTAINS(text, "\nObservationDomainId: 0\n");
	EXPECT_CONTAINS(text, "\nMaxMessageSize: 9000 bytes, capped by each collector's path MTU\n");
	free(text);

	LOAD_OK(FM("\"Enabled\":false,\"IpFixCollectors\":[\"Udp/127.0.0.1:4739\"]"));
	out = open_memstream(&text, &len);
	config_print(&cfg, 2, out);
	fclose(out);
	EXPECT_CONTAINS(text, "Export: off (Enabled is false)\n");
	EXPECT_CONTAINS(text, "AccessControl: disabled (0 rules, not enforced)\n");
	free(text);
}

/* The flow table line at possible-CPU counts this machine does not have. */
static void print_sizes_the_flow_table_for_the_cpu_count(void)
{
	static const struct {
		const char *json;
		unsigned int ncpus;
		const char *want;
	} cases[] = {
		{FM(""), 128,
		 "MaxFlows: 11124\nMaxFlowMemory: 64 MiB\nFlowTable: 11124 flows (the largest "
		 "within MaxFlowMemory, at most 65536), 64.0 MiB of kernel memory at 128 possible "
		 "CPUs\n"},
		{FM("\"MaxFlows\":65536"), 128,
		 "MaxFlows: 65536\nMaxFlowMemory: 64 MiB\nFlowTable: 65536 flows (MaxFlows, over "
		 "MaxFlowMemory), 375.9 MiB of kernel memory at 128 possible CPUs\n"},
		{FM("\"MaxFlows\":4096"), 2,
		 "MaxFlows: 4096\nMaxFlowMemory: 64 MiB\nFlowTable: 4096 flows (MaxFlows), 1.3 MiB "
		 "of kernel memory at 2 possible CPUs\n"},
		{FM("\"MaxFlowMemory\":1"), 256,
		 "MaxFlows: 1024\nMaxFlowMemory: 1 MiB\nFlowTable: 1024 flows (the smallest table, "
		 "over MaxFlowMemory), 12.8 MiB of kernel memory at 256 possible CPUs\n"},
		{FM("\"MaxFlowMemory\":400"), 256,
		 "MaxFlows: 35532\nMaxFlowMemory: 400 MiB\nFlowTable: 35532 flows (the largest "
		 "within MaxFlowMemory, at most 65536), 400.0 MiB of kernel memory at 256 possible "
		 "CPUs\n"},
		{FM(""), 0,
		 "MaxFlows: from MaxFlowMemory (possible CPUs unknown)\nMaxFlowMemory: 64 MiB\n"
		 "IpFixCollectors"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = NULL;
		size_t len = 0;
		FILE *out;

		LOAD_OK(cases[i].json);
		out = open_memstream(&text, &len);
		config_print(&cfg, cases[i].ncpus, out);
		fclose(out);
		EXPECT_CONTAINS(text, cases[i].want);
		free(text);
	}
}

/* ---- the shipped example ------------------------------------------------------------------ */

static bool has_keys(struct json_object *obj, const char *const *keys, size_t n)
{
	struct json_object *v;

	for (size_t i = 0; i < n; i++)
		if (!json_object_object_get_ex(obj, keys[i], &v))
			return false;
	return true;
}

static void packaging_example_is_valid_and_sets_every_key(void)
{
	static const char *const flow_keys[] = {
		"IpFixCollectors",
		"Direction",
		"Interval",
		"Enabled",
		"PollInterval",
		"IdleTimeout",
		/* not ObservationDomainId, MaxMessageSize: the node derives them (checked below) */
		"TemplateRefresh",
		"MaxFlowMemory", /* not MaxFlows: the budget sizes the table at any CPU count */
		"AccessControl",
		"TrustRequirements",
	};
	static const char *const rule_keys[] = {"Description", "Peers", "Protocol", "Ports",
						"Direction"};
	struct json_object *root, *fm, *ac, *rules, *trust;
	char path[PATH_MAX];

	source_file("packaging/flowmeta.json", path, sizeof(path));
	config_defaults(&cfg);
	EXPECT_EQ(config_load_file(&cfg, path, err, sizeof(err)), 0);
	EXPECT_TEXT(err, "");
	EXPECT_EQ(cfg.enabled, true);
	EXPECT_EQ(cfg.n_collectors, 2);
	/* Only loopback collectors: an installed example must not send anywhere else. */
	EXPECT_V4(&cfg.collectors[0], "127.0.0.1", 4739);
	EXPECT_V6(&cfg.collectors[1], "::1", 4739);
	EXPECT_EQ(cfg.interval_ms, 60000);
	EXPECT_EQ(cfg.max_flows, 0);
	EXPECT_EQ(cfg.max_flow_memory_mib, 64);
	/* A fixed domain would merge every node that installs the example into one exporter. */
	EXPECT_EQ(cfg.observation_domain_id, CONFIG_DOMAIN_DERIVED);
	EXPECT_EQ(cfg.max_message_size, CONFIG_MESSAGE_SIZE_PATH);
	/* Installed as /etc/flowmeta/flowmeta.json: it must not start dropping anyone's traffic. */
	EXPECT_EQ(cfg.policy.acl_enabled, false);
	EXPECT_EQ(cfg.policy.n_rules, 3);
	EXPECT_EQ(cfg.policy.n_untrusted, 2);
	EXPECT_PREFIX_IS(&cfg.policy.untrusted[0], "192.0.2.66", 32);
	EXPECT_PREFIX_IS(&cfg.policy.untrusted[1], "2001:db8:bad::", 48);

	root = json_object_from_file(path);
	EXPECT_TRUE(root != NULL);
	if (!root)
		return;
	EXPECT_TRUE(json_object_object_get_ex(root, "FlowMetadata", &fm));
	EXPECT_TRUE(has_keys(fm, flow_keys, sizeof(flow_keys) / sizeof(flow_keys[0])));
	EXPECT_TRUE(json_object_object_get_ex(fm, "AccessControl", &ac));
	EXPECT_TRUE(json_object_object_get_ex(ac, "Enabled", &rules));
	EXPECT_TRUE(json_object_object_get_ex(ac, "Rules", &rules));
	EXPECT_TRUE(has_keys(json_object_array_get_idx(rules, 0), rule_keys,
			     sizeof(rule_keys) / sizeof(rule_keys[0])));
	EXPECT_TRUE(json_object_object_get_ex(fm, "TrustRequirements", &trust));
	EXPECT_TRUE(json_object_object_get_ex(trust, "UntrustedPeers", &trust));
	json_object_put(root);
}

int main(void)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		bad = &bad_cases[i];
		check_run(bad->name, run_bad_case);
	}
	RUN_TEST(bad_lists_longer_than_their_maximum);
	RUN_TEST(bad_file_syntax_error_names_file_line_and_column);
	RUN_TEST(bad_file_value_error_names_key_path);
	RUN_TEST(bad_file_unreadable_directory);
	RUN_TEST(missing_file_is_enoent_for_the_caller_to_judge);

	RUN_TEST(defaults_are_the_documented_values);
	RUN_TEST(missing_flowmetadata_means_all_defaults);
	RUN_TEST(product_page_example_parses);
	RUN_TEST(whole_agent_profile_other_keys_ignored);
	RUN_TEST(ipv6_collectors_parse);
	RUN_TEST(transport_name_is_case_insensitive);
	RUN_TEST(enum_values_are_case_insensitive);
	RUN_TEST(every_key_set);
	RUN_TEST(spec6_access_control_and_trust_example);
	RUN_TEST(access_control_present_is_enforced_unless_disabled);
	RUN_TEST(port_ranges_and_prefix_edges);
	RUN_TEST(integer_bounds_are_inclusive);
	RUN_TEST(interval_multiple_of_shortened_poll);
	RUN_TEST(load_applies_over_existing_values);
	RUN_TEST(failed_load_leaves_config_untouched);
	RUN_TEST(utf8_byte_order_mark_is_skipped);
	RUN_TEST(repeated_keys_outside_flowmetadata_are_not_ours);
	RUN_TEST(other_keys_nested_deeper_than_json_c_allows_are_ignored);
	RUN_TEST(syntax_errors_deep_in_other_keys_are_placed);
	RUN_TEST(flowmetadata_nesting_is_bounded);
	RUN_TEST(json_escapes_in_keys_and_values_are_decoded);

	RUN_TEST(add_collector_on_top_of_file);
	RUN_TEST(collector_parse_fills_sockaddr);
	RUN_TEST(metrics_listen_parses_both_families);
	RUN_TEST(prefix_parse_and_format_round_trip);
	RUN_TEST(ipv4_mapped_peers_are_ipv4);

	RUN_TEST(print_shows_effective_settings);
	RUN_TEST(print_says_why_export_is_off);
	RUN_TEST(print_sizes_the_flow_table_for_the_cpu_count);

	RUN_TEST(packaging_example_is_valid_and_sets_every_key);
	return check_exit_status();
}
