// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Prometheus metrics: the tables that name every status counter by Prometheus conventions, their
 * rendering in the text exposition format 0.0.4, and the libmicrohttpd server that answers
 * GET /metrics with it (and 404, 405 or 400 to anything else).
 *
 * Adding a counter to `flowmeta status` (struct status_snapshot) is one line in node_metrics,
 * table_metrics or collector_metrics. Series of one family (same name, told apart by a label) are
 * consecutive lines; the first one carries the family's help.
 */
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loader.h"
#include "log.h"
#include "metrics.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

enum metric_type { COUNTER, GAUGE };

static const char *const type_names[] = {[COUNTER] = "counter", [GAUGE] = "gauge"};

/*
 * One series: an unsigned integer (or bool) field of the snapshot, or of each kernel table or each
 * collector (one series per table or collector, told apart by its label).
 */
struct metric {
	const char *name;
	enum metric_type type;
	const char *label; /* NULL, or the label pair that tells this series of its family apart */
	size_t offset, size;
	unsigned int per_unit; /* 1, or 1000: a field in milliseconds shown in seconds */
	const char *help;      /* the family's, on its first series */
};

#define SNAP(f)	 offsetof(struct status_snapshot, f), sizeof(((struct status_snapshot *)0)->f)
#define TABLE(f) offsetof(struct status_table, f), sizeof(((struct status_table *)0)->f)
#define COLL(f)	 offsetof(struct collector_status, f), sizeof(((struct collector_status *)0)->f)
/* The labels of the drop-table-full series: [verdict - 1][direction] of struct flowmeta_stats. */
#define DROP_LABELS(verdict, dir) "verdict=\"" verdict "\",direction=\"" dir "\""

static const struct metric node_metrics[] = {
	{"flowmeta_running", GAUGE, NULL, SNAP(running), 1,
	 "1 when a daemon holds the interface and has published its counters since it attached."},
	/* The kernel's view: the flow table now and what could not be metered. */
	{"flowmeta_live_flows", GAUGE, NULL, SNAP(flows), 1, "Flows in the kernel flow table."},
	{"flowmeta_live_packets", GAUGE, NULL, SNAP(packets), 1,
	 "Packets counted in the flows now in the table."},
	{"flowmeta_live_bytes", GAUGE, NULL, SNAP(octets), 1,
	 "IP bytes (header and payload) counted in the flows now in the table."},
	{"flowmeta_live_drop_flows", GAUGE, NULL, SNAP(drop_flows), 1,
	 "Drop flows in the kernel drop table (drop_flows)."},
	{"flowmeta_live_drop_packets", GAUGE, NULL, SNAP(drop_packets), 1,
	 "Packets counted in the drop flows now in the drop table."},
	{"flowmeta_live_drop_bytes", GAUGE, NULL, SNAP(drop_octets), 1,
	 "IP bytes counted in the drop flows now in the drop table."},
	{"flowmeta_possible_cpus", GAUGE, NULL, SNAP(possible_cpus), 1,
	 "Possible CPUs: a per-CPU table keeps every value once per possible CPU."},
	{"flowmeta_not_metered_packets_total", COUNTER, "reason=\"not_ip\"", SNAP(kernel.not_ip), 1,
	 "Packets without a flow, by reason: not_ip (ARP, LLDP, ...), malformed (bad VLAN tags or "
	 "IP header), unparseable (headers the parser cannot reach), table_full (no room in the "
	 "flow table). Malformed and unparseable ones are dropped while a policy is in force."},
	{"flowmeta_not_metered_packets_total", COUNTER, "reason=\"malformed\"",
	 SNAP(kernel.malformed), 1, NULL},
	{"flowmeta_not_metered_packets_total", COUNTER, "reason=\"unparseable\"",
	 SNAP(kernel.unparseable), 1, NULL},
	{"flowmeta_not_metered_packets_total", COUNTER, "reason=\"table_full\"",
	 SNAP(kernel.table_full_packets), 1, NULL},
	{"flowmeta_not_metered_bytes_total", COUNTER, "reason=\"table_full\"",
	 SNAP(kernel.table_full_octets), 1, "IP bytes of the packets passed without a flow."},
	{"flowmeta_truncated_l4_packets_total", COUNTER, NULL, SNAP(kernel.truncated_l4), 1,
	 "Packets whose transport header is cut short, metered with ports 0."},
	{"flowmeta_fragments_total", COUNTER, NULL, SNAP(kernel.fragments), 1,
	 "IP fragments seen, first and later ones."},
	{"flowmeta_events_lost_total", COUNTER, NULL, SNAP(kernel.events_lost), 1,
	 "Ring-buffer hints (TCP end, first drop) that did not fit; polls still find their flows."},
	{"flowmeta_policy_dropped_packets_total", COUNTER, NULL, SNAP(kernel.policy_dropped), 1,
	 "Frames dropped by the access-control policy or the trust requirements."},
	{"flowmeta_fail_closed_packets_total", COUNTER, NULL, SNAP(kernel.fail_closed), 1,
	 "Of the policy drops, the malformed or unparseable frames (no flow key)."},
	{"flowmeta_drop_table_full_packets_total", COUNTER, DROP_LABELS("acl-deny", "ingress"),
	 SNAP(kernel.drop_table_full_packets[0][0]), 1,
	 "Dropped packets that found the drop table full, counted without a flow, by verdict and "
	 "direction."},
	{"flowmeta_drop_table_full_packets_total", COUNTER, DROP_LABELS("acl-deny", "egress"),
	 SNAP(kernel.drop_table_full_packets[0][1]), 1, NULL},
	{"flowmeta_drop_table_full_packets_total", COUNTER, DROP_LABELS("untrusted", "ingress"),
	 SNAP(kernel.drop_table_full_packets[1][0]), 1, NULL},
	{"flowmeta_drop_table_full_packets_total", COUNTER, DROP_LABELS("untrusted", "egress"),
	 SNAP(kernel.drop_table_full_packets[1][1]), 1, NULL},
	{"flowmeta_drop_table_full_bytes_total", COUNTER, DROP_LABELS("acl-deny", "ingress"),
	 SNAP(kernel.drop_table_full_octets[0][0]), 1,
	 "IP bytes of the dropped packets that found the drop table full."},
	{"flowmeta_drop_table_full_bytes_total", COUNTER, DROP_LABELS("acl-deny", "egress"),
	 SNAP(kernel.drop_table_full_octets[0][1]), 1, NULL},
	{"flowmeta_drop_table_full_bytes_total", COUNTER, DROP_LABELS("untrusted", "ingress"),
	 SNAP(kernel.drop_table_full_octets[1][0]), 1, NULL},
	{"flowmeta_drop_table_full_bytes_total", COUNTER, DROP_LABELS("untrusted", "egress"),
	 SNAP(kernel.drop_table_full_octets[1][1]), 1, NULL},
	/* The daemon's view, as it last published it. */
	{"flowmeta_status_updated_timestamp_seconds", GAUGE, NULL, SNAP(daemon.updated_ms), 1000,
	 "When the daemon last published its counters, in seconds since the epoch."},
	{"flowmeta_polls_total", COUNTER, NULL, SNAP(daemon.polls), 1, "Polls of the flow table."},
	{"flowmeta_flow_records_total", COUNTER, NULL, SNAP(daemon.flow_records), 1,
	 "Flow records encoded, every end reason."},
	{"flowmeta_flows_ended_total", COUNTER, NULL, SNAP(daemon.flows_ended), 1,
	 "Flows ended and removed from the table, exported or not."},
	{"flowmeta_events_received_total", COUNTER, NULL, SNAP(daemon.hints), 1,
	 "Ring-buffer hints received by the daemon."},
	{"flowmeta_map_errors_total", COUNTER, NULL, SNAP(daemon.map_errors), 1,
	 "Failed reads or writes of the kernel maps."},
	{"flowmeta_encode_errors_total", COUNTER, NULL, SNAP(daemon.encode_errors), 1,
	 "Records the IPFIX encoder refused."},
	{"flowmeta_evictions_total", COUNTER, NULL, SNAP(daemon.evictions), 1,
	 "Times a full flow or drop table was relieved, its least recently seen flows ended."},
	{"flowmeta_ends_grown_total", COUNTER, NULL, SNAP(daemon.ends_grown), 1,
	 "Ended flows that got a packet between their end record and their delete (they go on)."},
	{"flowmeta_recovered_transactions_total", COUNTER, NULL, SNAP(daemon.recovered_txns), 1,
	 "Export transactions a crashed daemon left unfinished, finished by this one."},
	{"flowmeta_exporting", GAUGE, NULL, SNAP(daemon.exporting), 1,
	 "1 when export is Enabled with at least one collector."},
};

/* Each with the label table="flows", "drop_flows" or "export_state" (flow_table_names). */
static const struct metric table_metrics[] = {
	{"flowmeta_table_capacity", GAUGE, NULL, TABLE(capacity), 1,
	 "Entries each kernel table MaxFlows sizes can hold (0: not pinned)."},
	{"flowmeta_table_memory_bytes", GAUGE, NULL, TABLE(memory), 1,
	 "Kernel memory of each table MaxFlows sizes, possible CPUs counted (its memlock figure)."},
};

/* Each with the label collector="Udp/ADDRESS:PORT". */
static const struct metric collector_metrics[] = {
	{"flowmeta_collector_down", GAUGE, NULL, COLL(down), 1,
	 "1 when the last send to this collector failed."},
	{"flowmeta_collector_messages_total", COUNTER, NULL, COLL(messages), 1,
	 "IPFIX messages sent, templates included."},
	{"flowmeta_collector_records_total", COUNTER, NULL, COLL(records), 1,
	 "Data records sent, options records and refused messages included (the sequence number)."},
	{"flowmeta_collector_flow_records_total", COUNTER, NULL, COLL(flow_records), 1,
	 "Flow records sent."},
	{"flowmeta_collector_sent_bytes_total", COUNTER, NULL, COLL(octets), 1,
	 "Bytes of the IPFIX messages sent."},
	{"flowmeta_collector_send_errors_total", COUNTER, NULL, COLL(send_errors), 1,
	 "Messages not sent: refused by an ICMP error, failed, or not tried."},
	{"flowmeta_collector_refused_total", COUNTER, NULL, COLL(refused), 1,
	 "Of the send errors, the messages an ICMP error refused."},
	{"flowmeta_collector_refused_unquoted_total", COUNTER, NULL, COLL(refused_unquoted), 1,
	 "Of the refused messages, those whose ICMP error quoted none of the last messages sent."},
	{"flowmeta_collector_not_sent_flow_records_total", COUNTER, NULL, COLL(not_sent_flows), 1,
	 "Flow records this collector did not get."},
	{"flowmeta_collector_not_sent_packets_total", COUNTER, NULL, COLL(not_sent_packets), 1,
	 "Packets of the flow records this collector did not get."},
	{"flowmeta_collector_not_sent_bytes_total", COUNTER, NULL, COLL(not_sent_octets), 1,
	 "IP bytes of the flow records this collector did not get."},
};

/* ---- rendering ------------------------------------------------------------------------------ */

static uint64_t field_value(const void *base, const struct metric *m)
{
	const unsigned char *p = (const unsigned char *)base + m->offset;
	uint64_t v64;
	uint32_t v32;
	uint8_t v8;

	switch (m->size) {
	case sizeof(v8):
		memcpy(&v8, p, sizeof(v8));
		return v8;
	case sizeof(v32):
		memcpy(&v32, p, sizeof(v32));
		return v32;
	default:
		memcpy(&v64, p, sizeof(v64));
		return v64;
	}
}

static void put_head(FILE *out, const char *name, enum metric_type type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type_names[type]);
}

/* A label value: backslash, double quote and newline escaped, as the format requires. */
static void put_label(FILE *out, const char *name, const char *value)
{
	fprintf(out, "%s=\"", name);
	for (const char *c = value; *c; c++) {
		if (*c == '\\' || *c == '"')
			fputc('\\', out);
		if (*c == '\n')
			fputs("\\n", out);
		else
			fputc(*c, out);
	}
	fputc('"', out);
}

/* One sample line; label is NULL outside the per-table and per-collector families. */
static void put_sample(FILE *out, const struct metric *m, const void *base, const char *label,
		       const char *value)
{
	uint64_t v = field_value(base, m);

	fputs(m->name, out);
	if (m->label || label) {
		fputc('{', out);
		if (label)
			put_label(out, label, value);
		if (m->label && label)
			fputc(',', out);
		if (m->label)
			fputs(m->label, out);
		fputc('}', out);
	}
	if (m->per_unit > 1)
		fprintf(out, " %" PRIu64 ".%03" PRIu64 "\n", v / m->per_unit, v % m->per_unit);
	else
		fprintf(out, " %" PRIu64 "\n", v);
}

/*
 * The families of a table, each with one series per item: bases[i] is what its fields are read
 * from, label="names[i]" tells them apart (label NULL: a single item, no such label).
 */
static void put_families(FILE *out, const struct metric *table, size_t n, const char *label,
			 const void *const *bases, const char *const *names, int n_items)
{
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || strcmp(table[i].name, table[i - 1].name) != 0)
			put_head(out, table[i].name, table[i].type, table[i].help);
		for (int j = 0; j < n_items; j++)
			put_sample(out, &table[i], bases[j], label, label ? names[j] : NULL);
	}
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

int metrics_render(const struct status_snapshot *snap, const char *ifname, FILE *out)
{
	const void *bases[FLOWMETA_MAX_COLLECTORS];
	const char *names[FLOWMETA_MAX_COLLECTORS];

	_Static_assert(FLOW_TABLE_COUNT <= FLOWMETA_MAX_COLLECTORS, "room for every table");
	put_head(out, "flowmeta_build_info", GAUGE, "The flowmeta version serving these metrics.");
	fprintf(out, "flowmeta_build_info{version=\"%s\"} 1\n", FLOWMETA_VERSION);
	put_head(out, "flowmeta_interface_info", GAUGE,
		 "The overlay interface these counters are of.");
	fputs("flowmeta_interface_info{", out);
	put_label(out, "interface", ifname);
	fputs("} 1\n", out);
	put_head(out, "flowmeta_tc_attach_info", GAUGE,
		 "How the TC programs are attached: tcx links, a clsact qdisc, or none.");
	fprintf(out, "flowmeta_tc_attach_info{mode=\"%s\"} 1\n",
		loader_tc_attach_name(snap->tc_attach));
	bases[0] = snap;
	put_families(out, node_metrics, N(node_metrics), NULL, bases, NULL, 1);
	for (int t = 0; t < FLOW_TABLE_COUNT; t++) {
		bases[t] = &snap->tables[t];
		names[t] = flow_table_names[t];
	}
	put_families(out, table_metrics, N(table_metrics), "table", bases, names, FLOW_TABLE_COUNT);
	for (int c = 0; c < snap->n_collectors; c++) {
		bases[c] = &snap->collectors[c];
		names[c] = snap->collectors[c].spec;
	}
	put_families(out, collector_metrics, N(collector_metrics), "collector", bases, names,
		     snap->n_collectors);
	return ferror(out) ? -EIO : 0;
}

/* ---- the HTTP server ------------------------------------------------------------------------ */

struct metrics {
	struct MHD_Daemon *httpd;
	struct listen_addr addr;
	char ifname[64];
	char *pin_dir; /* NULL: the default */
	bool warned;   /* a failed snapshot was logged (once: scrapes repeat it every second) */
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int code, char *body, size_t len,
			     enum MHD_ResponseMemoryMode mode, const char *type, const char *allow)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO; /* the connection is closed */
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned int code, const char *text,
				  const char *allow)
{
	return reply(conn, code, (char *)text, strlen(text), MHD_RESPMEM_PERSISTENT,
		     "text/plain; charset=utf-8", allow);
}

/* A snapshot read as `flowmeta status` reads it: its own map descriptors, opened per scrape. */
static int read_snapshot(struct metrics *m, struct status_snapshot *snap)
{
	struct flowmeta_maps maps;
	int err = loader_open_pinned(m->ifname, m->pin_dir, &maps);

	if (err)
		return err;
	err = status_snapshot_read(m->ifname, m->pin_dir, &maps, snap);
	loader_close_maps(&maps);
	return err;
}

static enum MHD_Result reply_metrics(struct metrics *m, struct MHD_Connection *conn)
{
	struct status_snapshot *snap = malloc(sizeof(*snap));
	char *body = NULL;
	size_t len = 0;
	FILE *out;
	int err;

	err = snap ? read_snapshot(m, snap) : -ENOMEM;
	if (err) {
		if (!m->warned)
			log_warnx(
				"metrics: read the maps of %s: %s; scrapes get 503 until they can",
				m->ifname, strerror(-err));
		m->warned = true;
		free(snap);
		return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				  "503 Service Unavailable: the pinned maps cannot be read\n",
				  NULL);
	}
	m->warned = false;
	out = open_memstream(&body, &len);
	err = out ? metrics_render(snap, m->ifname, out) : -ENOMEM;
	if (out && fclose(out))
		err = -ENOMEM;
	free(snap);
	if (err) {
		free(body);
		return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "500 Internal Server Error: out of memory\n", NULL);
	}
	return reply(conn, MHD_HTTP_OK, body, len, MHD_RESPMEM_MUST_FREE, CONTENT_TYPE, NULL);
}

static bool has_body(struct MHD_Connection *conn)
{
	const char *len =
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

	return (len && strcmp(len, "0") != 0) ||
	       MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					   MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

/*
 * libmicrohttpd calls this once the headers are in, then once per piece of body, then once more
 * at the end. Every error is answered at the first call, so no body is ever read (libmicrohttpd
 * then closes the connection). A scrape is answered at the end of its request, which keeps the
 * connection open for the next one.
 */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	static int headers_seen;

	(void)version;
	(void)upload_data;
	if (!*req_cls) {
		if (strcmp(url, "/metrics") != 0)
			return reply_text(conn, MHD_HTTP_NOT_FOUND, "404 Not Found: try /metrics\n",
					  NULL);
		if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
			return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
					  "405 Method Not Allowed: use GET\n", MHD_HTTP_METHOD_GET);
		if (has_body(conn))
			return reply_text(conn, MHD_HTTP_BAD_REQUEST,
					  "400 Bad Request: a GET has no body\n", NULL);
		*req_cls = &headers_seen;
		return MHD_YES;
	}
	if (*upload_data_size)
		return MHD_NO; /* a body after all (no length announced): close */
	return reply_metrics(cls, conn);
}

/* libmicrohttpd's own messages (connection limits hit, timeouts, bad requests): with -v only. */
static void on_log(void *cls, const char *fmt, va_list ap)
{
	char line[256];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	log_debug("metrics: %s", line);
}

static int listen_socket(const struct listen_addr *addr)
{
	int family = addr->addr.ss_family, one = 1, fd, err;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		log_errx("metrics: socket for %s: %s", addr->spec, strerror(-err));
		return err;
	}
	/* A restart must not wait for the old connections' TIME_WAIT; [::] means IPv6 only. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&addr->addr, addr->addr_len) < 0) {
		err = -errno;
		log_errx("metrics: bind %s: %s%s", addr->spec, strerror(-err),
			 err == -EADDRNOTAVAIL ? " (not an address of this host)"
			 : err == -EADDRINUSE  ? " (another socket listens there)"
					       : "");
		close(fd);
		return err;
	}
	if (listen(fd, METRICS_MAX_CONNECTIONS) < 0) {
		err = -errno;
		log_errx("metrics: listen on %s: %s", addr->spec, strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

int metrics_start(const struct listen_addr *addr, const char *ifname, const char *pin_dir,
		  struct metrics **out)
{
	struct metrics *m = calloc(1, sizeof(*m));
	int fd;

	*out = NULL;
	if (!m || (pin_dir && !(m->pin_dir = strdup(pin_dir)))) {
		log_errx("metrics: out of memory");
		free(m);
		return -ENOMEM;
	}
	m->addr = *addr;
	snprintf(m->ifname, sizeof(m->ifname), "%s", ifname);
	fd = listen_socket(addr);
	if (fd < 0) {
		free(m->pin_dir);
		free(m);
		return fd;
	}
	m->httpd = MHD_start_daemon(
		MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, m,
		MHD_OPTION_EXTERNAL_LOGGER, on_log, m, MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)METRICS_MAX_CONNECTIONS,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)METRICS_MAX_PER_IP,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)METRICS_TIMEOUT_S,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)METRICS_REQUEST_MEMORY, MHD_OPTION_END);
	if (!m->httpd) {
		log_errx("metrics: libmicrohttpd could not start serving %s", addr->spec);
		close(fd);
		free(m->pin_dir);
		free(m);
		return -EIO;
	}
	log_info("metrics: serving http://%s/metrics", addr->spec);
	*out = m;
	return 0;
}

const struct listen_addr *metrics_address(const struct metrics *m)
{
	return &m->addr;
}

void metrics_stop(struct metrics *m)
{
	if (!m)
		return;
	/* Joins the server's thread and closes every socket, the listening one included. */
	MHD_stop_daemon(m->httpd);
	free(m->pin_dir);
	free(m);
}
