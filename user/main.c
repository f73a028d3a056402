// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * flowmeta command line: run (the service), check, status, flows, detach. Parses arguments, then hands
 * over to the module that does the work; the read-only commands read the pinned maps directly.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "config.h"
#include "clock.h"
#include "daemon.h"
#include "flowmeta.h"
#include "flowvalue.h"
#include "loader.h"
#include "log.h"
#include "status.h"

struct cli {
	const char *command;
	const char *ifname;
	const char *pin_dir;
	const char *config_path;
	enum ingress_hook hook;
	bool json;
	int verbose;
	const char *collectors[CONFIG_MAX_COLLECTORS];
	int n_collectors;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: flowmeta run    -i IFACE [-c FILE] [--hook tc|xdp] [--collector SPEC]...\n"
		"                       [--pin-dir DIR] [-v]\n"
		"       flowmeta check  -c FILE [--collector SPEC]...\n"
		"       flowmeta status -i IFACE [--pin-dir DIR] [--json]\n"
		"       flowmeta flows  -i IFACE [--pin-dir DIR] [--json]\n"
		"       flowmeta detach -i IFACE [--pin-dir DIR]\n"
		"       flowmeta --version | --help\n"
		"\n"
		"  -i, --interface IFACE  overlay interface to meter (tun, tap, WireGuard, veth, ...)\n"
		"  -c, --config FILE      JSON configuration (default %s)\n"
		"      --hook tc|xdp      ingress hook: TC clsact (default) or XDP; egress is TC\n"
		"      --collector SPEC   add a collector, e.g. Udp/198.18.0.5:4739 or\n"
		"                         Udp/[2001:db8::5]:4739\n"
		"      --pin-dir DIR      pin directory (default %s/IFACE)\n"
		"      --json             machine-readable output (status, flows)\n"
		"  -v, --verbose          debug logging (per flow records)\n"
		"\n"
		"exit codes: 0 success, 1 runtime failure, 2 bad usage or configuration\n",
		CONFIG_DEFAULT_PATH, LOADER_PIN_ROOT);
}

static int parse_cli(int argc, char **argv, struct cli *cli)
{
	enum { OPT_HOOK = 256, OPT_COLLECTOR, OPT_PIN_DIR, OPT_JSON, OPT_VERSION };
	static const struct option options[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "config", required_argument, NULL, 'c' },
		{ "hook", required_argument, NULL, OPT_HOOK },
		{ "collector", required_argument, NULL, OPT_COLLECTOR },
		{ "pin-dir", required_argument, NULL, OPT_PIN_DIR },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "i:c:vh", options, NULL)) != -1) {
		switch (opt) {
		case 'i':
			cli->ifname = optarg;
			break;
		case 'c':
			cli->config_path = optarg;
			break;
		case OPT_HOOK:
			if (strcmp(optarg, "tc") == 0) {
				cli->hook = HOOK_TC;
			} else if (strcmp(optarg, "xdp") == 0) {
				cli->hook = HOOK_XDP;
			} else {
				log_errx("--hook: \"%s\" is not a hook; use tc or xdp", optarg);
				return -EINVAL;
			}
			break;
		case OPT_COLLECTOR:
			if (cli->n_collectors == CONFIG_MAX_COLLECTORS) {
				log_errx("--collector: at most %d collectors", CONFIG_MAX_COLLECTORS);
				return -EINVAL;
			}
			cli->collectors[cli->n_collectors++] = optarg;
			break;
		case OPT_PIN_DIR:
			cli->pin_dir = optarg;
			break;
		case OPT_JSON:
			cli->json = true;
			break;
		case 'v':
			cli->verbose++;
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_OK);
		case OPT_VERSION:
			printf("flowmeta %s\n", FLOWMETA_VERSION);
			exit(EXIT_OK);
		default:
			return -EINVAL;
		}
	}
	if (optind >= argc) {
		log_errx("no command given");
		return -EINVAL;
	}
	cli->command = argv[optind++];
	if (optind < argc) {
		log_errx("%s: unexpected argument \"%s\"", cli->command, argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* The interface must exist for run/status/flows; detach also cleans up after a vanished one. */
static int require_interface(const struct cli *cli, bool must_exist)
{
	if (!cli->ifname) {
		log_errx("%s: -i IFACE is required", cli->command);
		return EXIT_USAGE;
	}
	if (strlen(cli->ifname) >= IF_NAMESIZE) {
		log_errx("%s: interface name \"%s\" is longer than %d characters", cli->command,
			 cli->ifname, IF_NAMESIZE - 1);
		return EXIT_USAGE;
	}
	/* It names the pin directory: never let it climb out of the pin root. */
	if (strchr(cli->ifname, '/') || strcmp(cli->ifname, ".") == 0 ||
	    strcmp(cli->ifname, "..") == 0 || !cli->ifname[0]) {
		log_errx("%s: \"%s\" is not an interface name", cli->command, cli->ifname);
		return EXIT_USAGE;
	}
	if (must_exist && !if_nametoindex(cli->ifname)) {
		log_errx("unknown interface %s", cli->ifname);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static int cmd_run(const struct cli *cli)
{
	struct run_opts opts = {
		.ifname = cli->ifname,
		.pin_dir = cli->pin_dir,
		.hook = cli->hook,
		.config_path = cli->config_path ? cli->config_path : CONFIG_DEFAULT_PATH,
		.config_path_given = cli->config_path != NULL,
		.n_extra_collectors = cli->n_collectors,
	};
	int rc = require_interface(cli, true);

	if (rc)
		return rc;
	memcpy(opts.extra_collectors, cli->collectors, sizeof(cli->collectors));
	return daemon_run(&opts);
}

static int cmd_check(const struct cli *cli)
{
	char err[CONFIG_ERR_LEN];
	struct config *cfg;
	int ret;

	if (!cli->config_path) {
		log_errx("check: -c FILE is required");
		return EXIT_USAGE;
	}
	cfg = malloc(sizeof(*cfg));
	if (!cfg)
		fatal(EXIT_RUNTIME, "allocate configuration");
	config_defaults(cfg);
	ret = config_load_file(cfg, cli->config_path, err, sizeof(err));
	if (ret == -ENOENT)
		snprintf(err, sizeof(err), "%s: no such file", cli->config_path);
	if (!ret) {
		for (int i = 0; i < cli->n_collectors && !ret; i++)
			ret = config_add_collector(cfg, cli->collectors[i], err, sizeof(err));
	}
	if (ret) {
		fprintf(stderr, "error: %s\n", err);
		free(cfg);
		return EXIT_USAGE;
	}
	config_print(cfg, stdout);
	free(cfg);
	return EXIT_OK;
}

static int open_maps(const struct cli *cli, struct flowmeta_maps *maps)
{
	int err = loader_open_pinned(cli->ifname, cli->pin_dir, maps);

	if (err == -ENOENT) {
		if (cli->pin_dir)
			log_errx("nothing pinned for %s in %s: flowmeta has not run on it", cli->ifname,
				 cli->pin_dir);
		else
			log_errx("nothing pinned for %s in %s/%s: flowmeta has not run on it",
				 cli->ifname, LOADER_PIN_ROOT, cli->ifname);
		return EXIT_RUNTIME;
	}
	if (err) {
		errno = -err;
		log_err("open the pinned maps of %s", cli->ifname);
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

static void tcp_flags_text(unsigned int flags, char *buf)
{
	static const char names[] = "FSRPAUEC";
	char *p = buf;

	for (int i = 0; i < 8; i++)
		if (flags & (1u << i))
			*p++ = names[i];
	if (p == buf)
		*p++ = '-';
	*p = '\0';
}

struct flows_output {
	json_object *array;	/* --json */
	struct fm_time now;	/* to turn kernel times into epoch milliseconds */
	unsigned long count;
};

static void print_flow_line(const struct flow_key *key, const struct flow_value *v, void *ctx)
{
	struct flows_output *out = ctx;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], proto_num[8], flags[9];
	const char *proto = ip_protocol_name(key->protocol);
	bool icmp = key->protocol == IPPROTO_ICMP || key->protocol == IPPROTO_ICMPV6;

	if (!proto) {
		snprintf(proto_num, sizeof(proto_num), "%u", key->protocol);
		proto = proto_num;
	}
	flow_addr_format(key->src_addr, key->ip_version, src, sizeof(src));
	flow_addr_format(key->dst_addr, key->ip_version, dst, sizeof(dst));
	tcp_flags_text(v->tcp_flags, flags);
	/* ICMP flows show type and code in the port columns, as their key holds them. */
	printf("%-7s %-7s %-39s %5u %-39s %5u %10llu %12llu %-8s %s\n",
	       flow_direction_name(key->direction), proto, src,
	       icmp ? key->dst_port >> 8 : key->src_port, dst,
	       icmp ? key->dst_port & 0xff : key->dst_port, (unsigned long long)v->packets,
	       (unsigned long long)v->octets, flags, flow_verdict_name(key->verdict));
	out->count++;
}

static void add_flow_json(const struct flow_key *key, const struct flow_value *v, void *ctx)
{
	struct flows_output *out = ctx;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	json_object *o = json_object_new_object();

	flow_addr_format(key->src_addr, key->ip_version, src, sizeof(src));
	flow_addr_format(key->dst_addr, key->ip_version, dst, sizeof(dst));
	json_object_object_add(o, "direction",
			       json_object_new_string(flow_direction_name(key->direction)));
	json_object_object_add(o, "ip_version", json_object_new_int(key->ip_version));
	json_object_object_add(o, "protocol", json_object_new_int(key->protocol));
	json_object_object_add(o, "src", json_object_new_string(src));
	json_object_object_add(o, "dst", json_object_new_string(dst));
	json_object_object_add(o, "src_port", json_object_new_int(key->src_port));
	json_object_object_add(o, "dst_port", json_object_new_int(key->dst_port));
	json_object_object_add(o, "packets", json_object_new_uint64(v->packets));
	json_object_object_add(o, "octets", json_object_new_uint64(v->octets));
	json_object_object_add(o, "tcp_flags", json_object_new_int(v->tcp_flags));
	json_object_object_add(o, "end_flags", json_object_new_int(v->end_flags));
	json_object_object_add(o, "verdict", json_object_new_string(flow_verdict_name(key->verdict)));
	json_object_object_add(o, "first_seen_ms",
			       json_object_new_uint64(fm_epoch_ms(&out->now, v->first_seen_ns)));
	json_object_object_add(o, "last_seen_ms",
			       json_object_new_uint64(fm_epoch_ms(&out->now, v->last_seen_ns)));
	json_object_array_add(out->array, o);
	out->count++;
}

static int cmd_flows(const struct cli *cli)
{
	struct flows_output out = { 0 };
	struct flowmeta_maps maps;
	int rc = require_interface(cli, true), err;

	if (!rc)
		rc = open_maps(cli, &maps);
	if (rc)
		return rc;
	fm_time_now(&out.now);
	if (cli->json) {
		out.array = json_object_new_array();
		err = flow_map_for_each(maps.flows, add_flow_json, &out);
		if (!err)
			printf("%s\n", json_object_to_json_string_ext(out.array,
								      JSON_C_TO_STRING_PRETTY));
		json_object_put(out.array);
	} else {
		printf("%-7s %-7s %-39s %5s %-39s %5s %10s %12s %-8s %s\n", "DIR", "PROTO", "SRC",
		       "SPORT", "DST", "DPORT", "PACKETS", "OCTETS", "FLAGS", "VERDICT");
		err = flow_map_for_each(maps.flows, print_flow_line, &out);
	}
	loader_close_maps(&maps);
	if (err) {
		errno = -err;
		log_err("read the flow table of %s", cli->ifname);
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
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

static void print_rows(const char *indent, const struct status_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%s%-*s %llu\n", indent, 22 - (int)strlen(indent), rows[i].name, rows[i].value);
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

static void print_status_json(const struct cli *cli, const struct status_snapshot *st,
			      const struct status_row *kernel, size_t n_kernel,
			      const struct status_row *exporter, size_t n_exporter)
{
	json_object *o = rows_json(kernel, n_kernel), *list = json_object_new_array(), *exp;
	struct status_row rows[16];

	json_object_object_add(o, "interface", json_object_new_string(cli->ifname));
	json_object_object_add(o, "running", json_object_new_boolean(st->running));
	exp = rows_json(exporter, n_exporter);
	json_object_object_add(exp, "exporting", json_object_new_boolean(st->daemon.exporting));
	json_object_object_add(o, "exporter", exp);
	for (int i = 0; i < st->n_collectors; i++) {
		const struct collector_status *c = &st->collectors[i];
		json_object *co = rows_json(rows, collector_rows(c, rows));

		json_object_object_add(co, "collector", json_object_new_string(c->spec));
		json_object_object_add(co, "down", json_object_new_boolean(c->down));
		json_object_array_add(list, co);
	}
	json_object_object_add(o, "collectors", list);
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
	json_object_put(o);
}

static void print_status_text(const struct cli *cli, const struct status_snapshot *st,
			      const struct status_row *kernel, size_t n_kernel,
			      const struct status_row *exporter, size_t n_exporter)
{
	struct status_row rows[16];

	printf("%-22s %s\n", "interface", cli->ifname);
	printf("%-22s %s\n", "running", st->running ? "yes" : "no");
	print_rows("", kernel, n_kernel);
	if (!st->daemon.pid)
		return;
	printf("exporter%s:\n", st->running ? "" : " (last published by a daemon no longer running)");
	print_rows("  ", exporter, n_exporter);
	printf("  %-20s %s\n", "exporting", st->daemon.exporting ? "yes" : "no");
	for (int i = 0; i < st->n_collectors; i++) {
		const struct collector_status *c = &st->collectors[i];

		printf("collector %s%s:\n", c->spec, c->down ? " (down)" : "");
		print_rows("  ", rows, collector_rows(c, rows));
	}
}

static int cmd_status(const struct cli *cli)
{
	struct status_snapshot *st;
	struct flowmeta_maps maps;
	int rc = require_interface(cli, true), err;

	if (!rc)
		rc = open_maps(cli, &maps);
	if (rc)
		return rc;
	st = malloc(sizeof(*st));
	err = st ? status_snapshot_read(cli->ifname, cli->pin_dir, &maps, st) : -ENOMEM;
	loader_close_maps(&maps);
	if (err) {
		errno = -err;
		log_err("read the maps of %s", cli->ifname);
		free(st);
		return EXIT_RUNTIME;
	}

	/* The kernel's view: what is in the table now and what could not be metered. */
	const struct status_row kernel[] = {
		{ "flows", st->flows },
		{ "packets", st->packets },
		{ "octets", st->octets },
		{ "not_ip", st->kernel.not_ip },
		{ "malformed", st->kernel.malformed },
		{ "truncated_l4", st->kernel.truncated_l4 },
		{ "fragments", st->kernel.fragments },
		{ "table_full_packets", st->kernel.table_full_packets },
		{ "table_full_octets", st->kernel.table_full_octets },
		{ "events_lost", st->kernel.events_lost },
		{ "policy_dropped", st->kernel.policy_dropped },
	};
	/* The daemon's view, as it last published it. */
	const struct status_row exporter[] = {
		{ "pid", st->daemon.pid },
		{ "updated_ms", st->daemon.updated_ms },
		{ "polls", st->daemon.polls },
		{ "flow_records", st->daemon.flow_records },
		{ "flows_ended", st->daemon.flows_ended },
		{ "hints", st->daemon.hints },
		{ "map_errors", st->daemon.map_errors },
		{ "encode_errors", st->daemon.encode_errors },
	};

	if (cli->json)
		print_status_json(cli, st, kernel, ROWS(kernel), exporter, ROWS(exporter));
	else
		print_status_text(cli, st, kernel, ROWS(kernel), exporter, ROWS(exporter));
	free(st);
	return EXIT_OK;
}

static int cmd_detach(const struct cli *cli)
{
	int rc = require_interface(cli, false), err;

	if (rc)
		return rc;
	if (!if_nametoindex(cli->ifname))
		log_warnx("%s no longer exists: removing its pins only", cli->ifname);
	err = loader_cleanup(cli->ifname, cli->pin_dir);
	if (err == -EBUSY)
		return EXIT_RUNTIME;
	if (err) {
		errno = -err;
		log_err("detach from %s", cli->ifname);
		return EXIT_RUNTIME;
	}
	log_info("%s: flowmeta programs and pins removed", cli->ifname);
	return EXIT_OK;
}

/* libbpf's own messages (verifier logs, ...) only with -v: errors are reported once, by us. */
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (log_verbosity() < (level == LIBBPF_DEBUG ? 2 : 1))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(const struct cli *cli);
	} commands[] = {
		{ "run", cmd_run },	  { "check", cmd_check },   { "status", cmd_status },
		{ "flows", cmd_flows }, { "detach", cmd_detach },
	};
	struct cli cli = { .hook = HOOK_TC };

	log_init(0);
	if (parse_cli(argc, argv, &cli) < 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	log_init(cli.verbose);
	libbpf_set_print(libbpf_log);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(cli.command, commands[i].name) == 0)
			return commands[i].run(&cli);
	log_errx("unknown command \"%s\"", cli.command);
	usage(stderr);
	return EXIT_USAGE;
}
