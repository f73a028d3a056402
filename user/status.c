// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Publishing the daemon's counters into pinned maps, reading a status snapshot back with the
 * kernel's own view of the maps, and printing it for `flowmeta status`.
 */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpfmap.h"
#include "clock.h"
#include "flowvalue.h"
#include "log.h"
#include "status.h"

_Static_assert(CONFIG_MAX_COLLECTORS <= FLOWMETA_MAX_COLLECTORS,
	       "every configured collector has a status slot");

static int publish_collector(int fd, __u32 slot, const struct collector *c)
{
	struct collector_status cs = {
		.messages = c->cnt.messages,
		.records = c->cnt.records,
		.flow_records = c->cnt.flow_records,
		.octets = c->cnt.octets,
		.send_errors = c->cnt.send_errors,
		.not_sent_flows = c->cnt.not_sent_flows,
		.not_sent_packets = c->cnt.not_sent_packets,
		.not_sent_octets = c->cnt.not_sent_octets,
		.refused = c->cnt.refused,
		.refused_unquoted = c->cnt.refused_unquoted,
		.down = c->down,
	};

	snprintf(cs.spec, sizeof(cs.spec), "%s", c->addr.spec);
	return bpf_map_update_elem(fd, &slot, &cs, BPF_ANY);
}

void status_publish(const struct flowmeta_maps *maps, const struct exporter *exp)
{
	static bool warned;
	const struct exporter_stats *s = exporter_get_stats(exp);
	const struct collector_set *set = exporter_collectors(exp);
	struct daemon_status ds = {
		.pid = (__u64)getpid(),
		.polls = s->polls,
		.live_flows = s->live_flows,
		.hints = s->hints,
		.map_errors = s->map_errors,
		.encode_errors = s->encode_errors,
		.evictions = s->evictions,
		.ends_grown = s->ends_grown,
		.recovered_txns = s->recovered_txns,
		.n_collectors = (__u32)set->n,
		.exporting = exporter_exporting(exp),
	};
	struct fm_time now;
	__u32 zero = 0;
	int err = 0;

	if (maps->daemon_status < 0 || maps->collector_status < 0)
		return;
	fm_time_now(&now);
	ds.updated_ms = now.real_ns / NSEC_PER_MSEC;
	for (int r = 1; r <= 5; r++) {
		ds.flow_records += s->records[r];
		ds.flows_ended += s->ended[r];
	}
	for (__u32 i = 0; i < set->n && !err; i++)
		err = publish_collector(maps->collector_status, i, set->c[i]);
	if (!err)
		err = bpf_map_update_elem(maps->daemon_status, &zero, &ds, BPF_ANY);
	if (err && !warned) {
		log_warnx("publishing the status for `flowmeta status`: %s", strerror(-err));
		warned = true;
	}
}

static void add_flow(const struct flow_key *key, const struct flow_value *v, void *ctx)
{
	struct status_snapshot *snap = ctx;

	(void)key;
	snap->flows++;
	snap->packets += v->packets;
	snap->octets += v->octets;
}

static void add_drop_flow(const struct flow_key *key, const struct flow_value *v, void *ctx)
{
	struct status_snapshot *snap = ctx;

	(void)key;
	snap->drop_flows++;
	snap->drop_packets += v->packets;
	snap->drop_octets += v->octets;
}

/*
 * The per-CPU counters summed. The pinned map may be an older layout's with fewer counters (0.1.0:
 * the first 8): each CPU's value is as long as the map says, the counters it lacks stay 0.
 */
static int read_kernel_stats(int stats_fd, struct flowmeta_stats *sum)
{
	int ncpus = libbpf_num_possible_cpus();
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info), zero = 0;
	size_t stride, n;
	__u64 *percpu;
	int err = 0;

	if (ncpus < 0)
		return ncpus;
	if (bpf_obj_get_info_by_fd(stats_fd, &info, &len))
		return -errno;
	stride = (info.value_size + 7) / 8;
	n = info.value_size < sizeof(*sum) ? info.value_size / 8 : sizeof(*sum) / 8;
	percpu = calloc((size_t)ncpus, stride * 8);
	if (!percpu)
		return -ENOMEM;
	memset(sum, 0, sizeof(*sum));
	if (bpf_map_lookup_elem(stats_fd, &zero, percpu) < 0)
		err = -errno;
	for (int cpu = 0; cpu < ncpus && !err; cpu++)
		for (size_t i = 0; i < n; i++)
			((__u64 *)sum)[i] += percpu[cpu * stride + i];
	free(percpu);
	return err;
}

static int read_daemon_status(const struct flowmeta_maps *maps, struct status_snapshot *snap)
{
	__u32 zero = 0;

	if (maps->daemon_status < 0 || maps->collector_status < 0)
		return 0;	/* pinned by a version without them */
	if (bpf_map_lookup_elem(maps->daemon_status, &zero, &snap->daemon))
		return -errno;
	snap->n_collectors = (int)snap->daemon.n_collectors < FLOWMETA_MAX_COLLECTORS ?
				     (int)snap->daemon.n_collectors : FLOWMETA_MAX_COLLECTORS;
	for (__u32 i = 0; i < (__u32)snap->n_collectors; i++)
		if (bpf_map_lookup_elem(maps->collector_status, &i, &snap->collectors[i]))
			return -errno;
	return 0;
}

/* Capacity and kernel memory of each table MaxFlows sizes; a table not pinned stays 0. */
static int read_tables(const struct flowmeta_maps *maps, struct status_snapshot *snap)
{
	const int fds[FLOW_TABLE_COUNT] = {
		[FLOW_TABLE_FLOWS] = maps->flows,
		[FLOW_TABLE_DROP_FLOWS] = maps->drop_flows,
		[FLOW_TABLE_EXPORT_STATE] = maps->export_state,
	};

	snap->possible_cpus = libbpf_num_possible_cpus();
	if (snap->possible_cpus < 0)
		return snap->possible_cpus;
	for (int t = 0; t < FLOW_TABLE_COUNT; t++) {
		struct bpf_map_info info = { 0 };
		__u32 len = sizeof(info);
		uint64_t memory = 0;
		int err;

		if (fds[t] < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fds[t], &info, &len))
			return -errno;
		err = bpfmap_memlock(fds[t], &memory);
		if (err)
			return err;
		snap->tables[t].capacity = info.max_entries;
		snap->tables[t].memory = memory;
	}
	return 0;
}

int status_counters_read(const char *ifname, const char *pin_dir,
			 const struct flowmeta_maps *maps, struct status_snapshot *snap)
{
	int locked = loader_running(ifname, pin_dir), err;
	pid_t pid;

	memset(snap, 0, sizeof(*snap));
	err = read_kernel_stats(maps->stats, &snap->kernel);
	if (!err)
		err = read_tables(maps, snap);
	for (int v = 0; v < 2; v++) {
		for (int d = 0; d < 2; d++) {
			snap->drop_table_full_packets += snap->kernel.drop_table_full_packets[v][d];
			snap->drop_table_full_octets += snap->kernel.drop_table_full_octets[v][d];
		}
	}
	if (!err)
		err = read_daemon_status(maps, snap);
	if (err)
		return err;
	/*
	 * Running means metering: a daemon holds the interface's lock AND has published after
	 * attaching. The lock alone is taken before the programs are loaded.
	 */
	pid = (pid_t)snap->daemon.pid;
	snap->running = locked == 1 && pid && (kill(pid, 0) == 0 || errno == EPERM);
	snap->tc_attach = loader_tc_attached(ifname, pin_dir);
	return 0;
}

int status_snapshot_read(const char *ifname, const char *pin_dir, const struct flowmeta_maps *maps,
			 struct status_snapshot *snap)
{
	int err = status_counters_read(ifname, pin_dir, maps, snap);

	if (!err)
		err = flow_map_for_each(maps->flows, add_flow, snap);
	/* Pins of a version without drop_flows have their drop flows in flows. */
	if (!err && maps->drop_flows >= 0)
		err = flow_map_for_each(maps->drop_flows, add_drop_flow, snap);
	return err;
}

const char *status_age(uint64_t now_ms, uint64_t then_ms, char *buf, size_t len)
{
	static const struct {
		uint64_t below_s, unit_s;
		const char *unit;
	} units[] = {
		{ 120, 1, "s" },
		{ 120 * 60, 60, "min" },
		{ 48 * 3600, 3600, "h" },
		{ UINT64_MAX, 86400, "days" },
	};
	uint64_t s;
	size_t i = 0;

	if (then_ms > now_ms) {
		snprintf(buf, len, "in the future (%" PRIu64 " s)",
			 (then_ms - now_ms + 999) / 1000);
		return buf;
	}
	s = (now_ms - then_ms) / 1000;
	while (s >= units[i].below_s)
		i++;
	snprintf(buf, len, "%" PRIu64 " %s ago", s / units[i].unit_s, units[i].unit);
	return buf;
}

struct status_row {
	const char *name;
	unsigned long long value;
};

#define ROWS(a) (sizeof(a) / sizeof((a)[0]))

static json_object *rows_json(const struct status_row *rows, size_t n)
{
	json_object *o = json_object_new_object();

	for (size_t i = 0; i < n; i++)
		json_object_object_add(o, rows[i].name, json_object_new_uint64(rows[i].value));
	return o;
}

static void print_rows(FILE *out, const char *indent, const struct status_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s%-*s %llu\n", indent, 22 - (int)strlen(indent), rows[i].name,
			rows[i].value);
}

/* The kernel's view: what is in the table now and what could not be metered. */
static size_t kernel_rows(const struct status_snapshot *st, struct status_row *rows)
{
	const struct status_row all[] = {
		{ "flows", st->flows },
		{ "packets", st->packets },
		{ "octets", st->octets },
		{ "drop_flows", st->drop_flows },
		{ "drop_packets", st->drop_packets },
		{ "drop_octets", st->drop_octets },
		{ "not_ip", st->kernel.not_ip },
		{ "malformed", st->kernel.malformed },
		{ "unparseable", st->kernel.unparseable },
		{ "truncated_l4", st->kernel.truncated_l4 },
		{ "fragments", st->kernel.fragments },
		{ "table_full_packets", st->kernel.table_full_packets },
		{ "table_full_octets", st->kernel.table_full_octets },
		{ "events_lost", st->kernel.events_lost },
		{ "policy_dropped", st->kernel.policy_dropped },
		{ "fail_closed", st->kernel.fail_closed },
	};

	memcpy(rows, all, sizeof(all));
	return ROWS(all);
}

/* The daemon's view, as it last published it; its time (updated_ms) is shown apart, as an age. */
static size_t exporter_rows(const struct status_snapshot *st, struct status_row *rows)
{
	const struct status_row all[] = {
		{ "pid", st->daemon.pid },
		{ "polls", st->daemon.polls },
		{ "flow_records", st->daemon.flow_records },
		{ "flows_ended", st->daemon.flows_ended },
		{ "hints", st->daemon.hints },
		{ "map_errors", st->daemon.map_errors },
		{ "encode_errors", st->daemon.encode_errors },
		{ "evictions", st->daemon.evictions },
		{ "ends_grown", st->daemon.ends_grown },
		{ "recovered_transactions", st->daemon.recovered_txns },
	};

	memcpy(rows, all, sizeof(all));
	return ROWS(all);
}

/* The rows of one collector, in the order `status` prints them. */
static size_t collector_rows(const struct collector_status *c, struct status_row *rows)
{
	const struct status_row all[] = {
		{ "messages", c->messages },
		{ "records", c->records },
		{ "flow_records", c->flow_records },
		{ "octets", c->octets },
		{ "send_errors", c->send_errors },
		{ "refused", c->refused },
		{ "refused_unquoted", c->refused_unquoted },
		{ "not_sent_flows", c->not_sent_flows },
		{ "not_sent_packets", c->not_sent_packets },
		{ "not_sent_octets", c->not_sent_octets },
	};

	memcpy(rows, all, sizeof(all));
	return ROWS(all);
}

#define MAX_ROWS 32

/* The tables MaxFlows sizes: "flows": {"capacity": N, "memory": BYTES}, ... */
static json_object *tables_json(const struct status_snapshot *st)
{
	json_object *o = json_object_new_object();

	for (int t = 0; t < FLOW_TABLE_COUNT; t++) {
		json_object *table = json_object_new_object();

		json_object_object_add(table, "capacity",
				       json_object_new_uint64(st->tables[t].capacity));
		json_object_object_add(table, "memory",
				       json_object_new_uint64(st->tables[t].memory));
		json_object_object_add(o, flow_table_names[t], table);
	}
	return o;
}

/* possible_cpus, then TABLE_capacity and TABLE_memory (bytes) of each table. */
static void print_tables(FILE *out, const struct status_snapshot *st)
{
	char name[32];

	fprintf(out, "%-22s %d\n", "possible_cpus", st->possible_cpus);
	for (int t = 0; t < FLOW_TABLE_COUNT; t++) {
		snprintf(name, sizeof(name), "%s_capacity", flow_table_names[t]);
		fprintf(out, "%-22s %u\n", name, st->tables[t].capacity);
		snprintf(name, sizeof(name), "%s_memory", flow_table_names[t]);
		fprintf(out, "%-22s %llu\n", name, st->tables[t].memory);
	}
}

/* The drop verdicts of struct flowmeta_stats.drop_table_full_* rows (flow_verdict_name). */
static const char *const drop_verdicts[2] = { "acl-deny", "untrusted" };
static const char *const directions[2] = { "ingress", "egress" };

/*
 * Drops that found the drop table full, by verdict and direction (what the exporter sends as
 * aggregate drop records): "drop_table_full": {"acl-deny": {"ingress": {"packets": N,
 * "octets": M}, ...}, ...}. The text shows their sums.
 */
static json_object *drop_table_full_json(const struct flowmeta_stats *k)
{
	json_object *o = json_object_new_object();

	for (int v = 0; v < 2; v++) {
		json_object *verdict = json_object_new_object();

		for (int d = 0; d < 2; d++) {
			json_object *dir = json_object_new_object();

			json_object_object_add(dir, "packets", json_object_new_uint64(
							       k->drop_table_full_packets[v][d]));
			json_object_object_add(dir, "octets", json_object_new_uint64(
							      k->drop_table_full_octets[v][d]));
			json_object_object_add(verdict, directions[d], dir);
		}
		json_object_object_add(o, drop_verdicts[v], verdict);
	}
	return o;
}

static void print_json(FILE *out, const char *ifname, const struct status_snapshot *st)
{
	struct status_row rows[MAX_ROWS];
	json_object *o = rows_json(rows, kernel_rows(st, rows)), *list, *exp;

	json_object_object_add(o, "interface", json_object_new_string(ifname));
	json_object_object_add(o, "running", json_object_new_boolean(st->running));
	json_object_object_add(o, "tc_attach",
			       json_object_new_string(loader_tc_attach_name(st->tc_attach)));
	json_object_object_add(o, "drop_table_full", drop_table_full_json(&st->kernel));
	json_object_object_add(o, "possible_cpus", json_object_new_int(st->possible_cpus));
	json_object_object_add(o, "tables", tables_json(st));
	exp = rows_json(rows, exporter_rows(st, rows));
	json_object_object_add(exp, "updated_ms", json_object_new_uint64(st->daemon.updated_ms));
	json_object_object_add(exp, "exporting", json_object_new_boolean(st->daemon.exporting));
	json_object_object_add(o, "exporter", exp);
	list = json_object_new_array();
	for (int i = 0; i < st->n_collectors; i++) {
		const struct collector_status *c = &st->collectors[i];
		json_object *co = rows_json(rows, collector_rows(c, rows));

		json_object_object_add(co, "collector", json_object_new_string(c->spec));
		json_object_object_add(co, "down", json_object_new_boolean(c->down));
		json_object_array_add(list, co);
	}
	json_object_object_add(o, "collectors", list);
	fprintf(out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
	json_object_put(o);
}

static void print_text(FILE *out, const char *ifname, const struct status_snapshot *st,
		       uint64_t now_ms)
{
	struct status_row rows[MAX_ROWS];
	char age[64];

	fprintf(out, "%-22s %s\n", "interface", ifname);
	fprintf(out, "%-22s %s\n", "running", st->running ? "yes" : "no");
	fprintf(out, "%-22s %s\n", "tc_attach", loader_tc_attach_name(st->tc_attach));
	print_rows(out, "", rows, kernel_rows(st, rows));
	fprintf(out, "%-22s %llu packets, %llu octets\n", "drop_table_full",
		st->drop_table_full_packets, st->drop_table_full_octets);
	print_tables(out, st);
	if (!st->daemon.pid)
		return;
	fprintf(out, "exporter%s:\n",
		st->running ? "" : " (last published by a daemon no longer running)");
	fprintf(out, "  %-20s %s\n", "updated", status_age(now_ms, st->daemon.updated_ms, age,
							      sizeof(age)));
	print_rows(out, "  ", rows, exporter_rows(st, rows));
	fprintf(out, "  %-20s %s\n", "exporting", st->daemon.exporting ? "yes" : "no");
	for (int i = 0; i < st->n_collectors; i++) {
		const struct collector_status *c = &st->collectors[i];

		fprintf(out, "collector %s%s:\n", c->spec, c->down ? " (down)" : "");
		print_rows(out, "  ", rows, collector_rows(c, rows));
	}
}

void status_print(FILE *out, const char *ifname, const struct status_snapshot *st, bool json,
		  uint64_t now_ms)
{
	if (json)
		print_json(out, ifname, st);
	else
		print_text(out, ifname, st, now_ms);
}
