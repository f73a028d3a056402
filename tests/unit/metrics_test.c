// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Tests of the Prometheus exposition (user/metrics.c metrics_render): a status snapshot with a
 * distinct value in every field comes out as the exact sample lines that name it, milliseconds as
 * seconds, label values escaped; and the text follows format 0.0.4 line by line (each family's
 * HELP and TYPE once, before its samples, which are consecutive; counters end in _total; names
 * and labels well formed), whatever the snapshot holds. The HTTP side is tested end to end
 * (tests/e2e/metrics.sh).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "metrics.h"

static struct status_snapshot snap;

static char *render(const char *ifname)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	EXPECT_EQ(metrics_render(&snap, ifname, out), 0);
	fclose(out);
	return text;
}

/* Every 8-byte counter gets its own value: a series reading the wrong field shows at once. */
static void fill_distinct(void)
{
	memset(&snap, 0, sizeof(snap));
	snap.running = true;
	snap.flows = 101;
	snap.packets = 102;
	snap.octets = 103;
	snap.drop_flows = 111;
	snap.drop_packets = 112;
	snap.drop_octets = 113;
	snap.possible_cpus = 104;
	snap.tables[FLOW_TABLE_FLOWS] = (struct status_table){.capacity = 105, .memory = 106};
	snap.tables[FLOW_TABLE_EXPORT_STATE] =
		(struct status_table){.capacity = 107, .memory = 108};
	snap.tables[FLOW_TABLE_DROP_FLOWS] = (struct status_table){.capacity = 109, .memory = 110};
	snap.kernel = (struct flowmeta_stats){
		.not_ip = 201,
		.malformed = 202,
		.truncated_l4 = 203,
		.fragments = 204,
		.table_full_packets = 205,
		.table_full_octets = 206,
		.events_lost = 207,
		.policy_dropped = 208,
		.unparseable = 209,
		.fail_closed = 210,
		.drop_table_full_packets = {{211, 212}, {213, 214}},
		.drop_table_full_octets = {{215, 216}, {217, 218}},
	};
	snap.daemon = (struct daemon_status){
		.pid = 4242,
		.updated_ms = 1700000000123ULL,
		.polls = 301,
		.live_flows = 302,
		.flow_records = 303,
		.flows_ended = 304,
		.hints = 305,
		.map_errors = 306,
		.n_collectors = 2,
		.exporting = 1,
		.encode_errors = 307,
		.evictions = 308,
		.ends_grown = 309,
		.recovered_txns = 310,
	};
	snap.n_collectors = 2;
	for (int i = 0; i < 2; i++) {
		struct collector_status *c = &snap.collectors[i];
		__u64 base = 1000 * (__u64)(i + 1);

		*c = (struct collector_status){
			.messages = base + 1,
			.records = base + 2,
			.flow_records = base + 3,
			.octets = base + 4,
			.send_errors = base + 5,
			.not_sent_flows = base + 6,
			.not_sent_packets = base + 7,
			.not_sent_octets = base + 8,
			.refused = base + 9,
			.refused_unquoted = base + 10,
			.down = (__u32)i,
		};
	}
	snprintf(snap.collectors[0].spec, sizeof(snap.collectors[0].spec), "Udp/198.18.0.9:4739");
	snprintf(snap.collectors[1].spec, sizeof(snap.collectors[1].spec),
		 "Udp/[2001:db8::5]:4739");
}

/* The whole line, from start of line to its newline. */
static int has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

#define EXPECT_LINE(text, line) check_true(__FILE__, __LINE__, line, has_line((text), (line)))

static void every_snapshot_field_is_its_own_series(void)
{
	static const char *const lines[] = {
		"flowmeta_build_info{version=\"" FLOWMETA_VERSION "\"} 1",
		"flowmeta_interface_info{interface=\"wg0\"} 1",
		"flowmeta_running 1",
		"flowmeta_live_flows 101",
		"flowmeta_live_packets 102",
		"flowmeta_live_bytes 103",
		"flowmeta_possible_cpus 104",
		"flowmeta_table_capacity{table=\"flows\"} 105",
		"flowmeta_table_memory_bytes{table=\"flows\"} 106",
		"flowmeta_table_capacity{table=\"export_state\"} 107",
		"flowmeta_table_memory_bytes{table=\"export_state\"} 108",
		"flowmeta_table_capacity{table=\"drop_flows\"} 109",
		"flowmeta_table_memory_bytes{table=\"drop_flows\"} 110",
		"flowmeta_live_drop_flows 111",
		"flowmeta_live_drop_packets 112",
		"flowmeta_live_drop_bytes 113",
		"flowmeta_not_metered_packets_total{reason=\"unparseable\"} 209",
		"flowmeta_fail_closed_packets_total 210",
		"flowmeta_drop_table_full_packets_total{verdict=\"acl-deny\","
		"direction=\"ingress\"} 211",
		"flowmeta_drop_table_full_packets_total{verdict=\"acl-deny\","
		"direction=\"egress\"} 212",
		"flowmeta_drop_table_full_packets_total{verdict=\"untrusted\","
		"direction=\"ingress\"} 213",
		"flowmeta_drop_table_full_packets_total{verdict=\"untrusted\","
		"direction=\"egress\"} 214",
		"flowmeta_drop_table_full_bytes_total{verdict=\"acl-deny\",direction=\"ingress\"} "
		"215",
		"flowmeta_drop_table_full_bytes_total{verdict=\"untrusted\",direction=\"egress\"} "
		"218",
		"flowmeta_not_metered_packets_total{reason=\"not_ip\"} 201",
		"flowmeta_not_metered_packets_total{reason=\"malformed\"} 202",
		"flowmeta_truncated_l4_packets_total 203",
		"flowmeta_fragments_total 204",
		"flowmeta_not_metered_packets_total{reason=\"table_full\"} 205",
		"flowmeta_not_metered_bytes_total{reason=\"table_full\"} 206",
		"flowmeta_events_lost_total 207",
		"flowmeta_policy_dropped_packets_total 208",
		"flowmeta_status_updated_timestamp_seconds 1700000000.123",
		"flowmeta_polls_total 301",
		"flowmeta_flow_records_total 303",
		"flowmeta_flows_ended_total 304",
		"flowmeta_events_received_total 305",
		"flowmeta_map_errors_total 306",
		"flowmeta_encode_errors_total 307",
		"flowmeta_evictions_total 308",
		"flowmeta_ends_grown_total 309",
		"flowmeta_recovered_transactions_total 310",
		"flowmeta_exporting 1",
		"flowmeta_collector_down{collector=\"Udp/198.18.0.9:4739\"} 0",
		"flowmeta_collector_down{collector=\"Udp/[2001:db8::5]:4739\"} 1",
		"flowmeta_collector_messages_total{collector=\"Udp/198.18.0.9:4739\"} 1001",
		"flowmeta_collector_records_total{collector=\"Udp/198.18.0.9:4739\"} 1002",
		"flowmeta_collector_flow_records_total{collector=\"Udp/198.18.0.9:4739\"} 1003",
		"flowmeta_collector_sent_bytes_total{collector=\"Udp/198.18.0.9:4739\"} 1004",
		"flowmeta_collector_send_errors_total{collector=\"Udp/198.18.0.9:4739\"} 1005",
		"flowmeta_collector_not_sent_flow_records_total{collector=\"Udp/198.18.0.9:4739\"} "
		"1006",
		"flowmeta_collector_not_sent_packets_total{collector=\"Udp/198.18.0.9:4739\"} 1007",
		"flowmeta_collector_not_sent_bytes_total{collector=\"Udp/198.18.0.9:4739\"} 1008",
		"flowmeta_collector_refused_total{collector=\"Udp/198.18.0.9:4739\"} 1009",
		"flowmeta_collector_refused_unquoted_total{collector=\"Udp/198.18.0.9:4739\"} 1010",
		"flowmeta_collector_messages_total{collector=\"Udp/[2001:db8::5]:4739\"} 2001",
		"flowmeta_collector_refused_unquoted_total{collector=\"Udp/[2001:db8::5]:4739\"} "
		"2010",
	};
	char *text;

	fill_distinct();
	text = render("wg0");
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		EXPECT_LINE(text, lines[i]);
	/* pid and live_flows are not measurements of their own (the table gauge is live). */
	EXPECT_TRUE(!strstr(text, " 4242\n"));
	EXPECT_TRUE(!strstr(text, " 302\n"));
	free(text);
}

static void milliseconds_become_seconds_with_three_decimals(void)
{
	char *text;

	memset(&snap, 0, sizeof(snap));
	snap.daemon.updated_ms = 5;
	text = render("wg0");
	EXPECT_LINE(text, "flowmeta_status_updated_timestamp_seconds 0.005");
	free(text);
}

static void label_values_are_escaped(void)
{
	char *text;

	memset(&snap, 0, sizeof(snap));
	snap.n_collectors = 1;
	snprintf(snap.collectors[0].spec, sizeof(snap.collectors[0].spec), "Udp/\"a\\b\nc");
	text = render("we\"ird\\0");
	EXPECT_LINE(text, "flowmeta_interface_info{interface=\"we\\\"ird\\\\0\"} 1");
	EXPECT_LINE(text, "flowmeta_collector_down{collector=\"Udp/\\\"a\\\\b\\nc\"} 0");
	free(text);
}

/* ---- the format, line by line --------------------------------------------------------------- */

#define MAX_FAMILIES 128

struct format_check {
	char families[MAX_FAMILIES][96]; /* in order of their HELP line */
	int n;
	int typed;   /* the current family had its TYPE */
	int samples; /* lines with a value */
};

static int name_ok(const char *s, size_t n)
{
	if (!n || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return 0;
	return 1;
}

/* {name="value",...}: names well formed, values with only \\ \" \n escapes. */
static const char *labels_end(const char *p)
{
	while (*p != '}') {
		const char *eq = strchr(p, '=');

		if (!eq || !name_ok(p, (size_t)(eq - p)) || eq[1] != '"')
			return NULL;
		for (p = eq + 2; *p != '"'; p++) {
			if (!*p || *p == '\n')
				return NULL;
			if (*p == '\\' && (p[1] == '\\' || p[1] == '"' || p[1] == 'n'))
				p++;
			else if (*p == '\\')
				return NULL;
		}
		p++;
		if (*p == ',')
			p++;
		else if (*p != '}')
			return NULL;
	}
	return p + 1;
}

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && !strcmp(s + n - t, tail);
}

static const char *check_line(struct format_check *f, const char *line)
{
	const char *cur = f->n ? f->families[f->n - 1] : "";
	char name[96], rest[96];

	if (!strncmp(line, "# HELP ", 7)) {
		if (sscanf(line + 7, "%95s %95s", name, rest) != 2)
			return "HELP without a text";
		for (int i = 0; i < f->n; i++)
			if (!strcmp(f->families[i], name))
				return "a family's HELP appears twice";
		if (f->n == MAX_FAMILIES)
			return "too many families for the check";
		snprintf(f->families[f->n++], sizeof(f->families[0]), "%s", name);
		f->typed = 0;
		return NULL;
	}
	if (!strncmp(line, "# TYPE ", 7)) {
		if (sscanf(line + 7, "%95s %95s", name, rest) != 2 || strcmp(name, cur) || f->typed)
			return "TYPE not right after its family's HELP";
		if (strcmp(rest, "counter") && strcmp(rest, "gauge"))
			return "TYPE neither counter nor gauge";
		if ((strcmp(rest, "counter") == 0) != ends_with(name, "_total"))
			return "a counter's name must end in _total, a gauge's must not";
		f->typed = 1;
		return NULL;
	}
	size_t n = strcspn(line, "{ ");
	const char *p = line + n;
	char *end;

	if (n != strlen(cur) || strncmp(line, cur, n) || !f->typed)
		return "sample outside its family (not right after its HELP and TYPE)";
	if (*p == '{' && !(p = labels_end(p + 1)))
		return "malformed labels";
	if (*p != ' ')
		return "no space before the value";
	strtod(p + 1, &end);
	if (end == p + 1 || *end)
		return "value is not a number";
	f->samples++;
	return NULL;
}

static void check_format(const char *text, int want_samples)
{
	static struct format_check f;
	char what[256], line[1024];
	const char *p = text;

	memset(&f, 0, sizeof(f));
	EXPECT_TRUE(*text && text[strlen(text) - 1] == '\n');
	while (*p) {
		size_t n = strcspn(p, "\n");
		const char *why;

		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		why = check_line(&f, line);
		if (why) {
			snprintf(what, sizeof(what), "%s: \"%.150s\"", why, line);
			check_true(__FILE__, __LINE__, what, 0);
			return;
		}
		p += n + (p[n] == '\n');
	}
	if (want_samples >= 0)
		EXPECT_EQ(f.samples, want_samples);
}

static void text_follows_exposition_format(void)
{
	char *text;

	fill_distinct();
	text = render("wg0");
	check_format(text, -1);
	free(text);
}

static int count(const char *text, const char *line_start)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, line_start)); p++)
		n += p == text || p[-1] == '\n';
	return n;
}

/* No collector: the collector families keep their HELP and TYPE, with no sample. */
static void no_collector_leaves_families_without_samples(void)
{
	char *text, *two;
	int families;

	fill_distinct();
	two = render("wg0");
	snap.n_collectors = 0;
	text = render("wg0");
	check_format(text, -1);
	EXPECT_LINE(text, "# TYPE flowmeta_collector_messages_total counter");
	EXPECT_TRUE(!strstr(text, "collector=\""));
	families = count(text, "# TYPE flowmeta_collector_");
	EXPECT_TRUE(families >= 11);
	/* Each of the two collectors adds one sample to each collector family. */
	EXPECT_EQ(count(two, "flowmeta_collector_") - count(text, "flowmeta_collector_"),
		  2 * families);
	free(text);
	free(two);
}

int main(void)
{
	RUN_TEST(every_snapshot_field_is_its_own_series);
	RUN_TEST(milliseconds_become_seconds_with_three_decimals);
	RUN_TEST(label_values_are_escaped);
	RUN_TEST(text_follows_exposition_format);
	RUN_TEST(no_collector_leaves_families_without_samples);
	return check_exit_status();
}
