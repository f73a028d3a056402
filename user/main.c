// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * flowmeta command line: run (the service), check, status, flows, top, detach. Parses arguments,
 * then hands over to the module that does the work; the read-only commands read the pinned maps.
 */
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <json-c/json.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "config.h"
#include "clock.h"
#include "daemon.h"
#include "flowmeta.h"
#include "flowview.h"
#include "loader.h"
#include "log.h"
#include "status.h"
#include "streamstate.h"
#include "top.h"

struct cli {
	const char *command;
	const char *ifname;
	const char *pin_dir;
	const char *config_path;
	enum ingress_hook hook;
	enum tc_attach tc_attach;
	bool json;
	enum flowview_sort sort;	/* flows */
	size_t top;			/* flows, top: at most this many; 0: all, a screenful */
	uint64_t interval_ms;		/* top */
	bool once;			/* top */
	int verbose;
	const char *collectors[CONFIG_MAX_COLLECTORS];
	int n_collectors;
	const char *metrics_listen;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: flowmeta run    -i IFACE [-c FILE] [--hook tc|xdp] [--collector SPEC]...\n"
		"                       [--tc-attach auto|tcx|clsact]\n"
		"                       [--metrics-listen ADDR:PORT] [--pin-dir DIR] [-v]\n"
		"       flowmeta check  -c FILE [--collector SPEC]...\n"
		"                       [--metrics-listen ADDR:PORT]\n"
		"       flowmeta status -i IFACE [--pin-dir DIR] [--json]\n"
		"       flowmeta flows  -i IFACE [--pin-dir DIR] [--sort packets|octets|last]\n"
		"                       [--top N] [--json]\n"
		"       flowmeta top    -i IFACE [--pin-dir DIR] [--interval S] [--once]\n"
		"                       [--top N]\n"
		"       flowmeta detach -i IFACE [--pin-dir DIR]\n"
		"       flowmeta --version | --help\n"
		"\n"
		"  -i, --interface IFACE  overlay interface to meter (tun, tap, WireGuard, veth, ...)\n"
		"  -c, --config FILE      JSON configuration (default %s)\n"
		"      --hook tc|xdp      ingress hook: TC (default) or XDP; egress is TC\n"
		"      --tc-attach auto|tcx|clsact\n"
		"                         how TC programs attach: tcx links where the kernel\n"
		"                         has them, else clsact (auto, the default), or forced\n"
		"      --collector SPEC   add a collector, e.g. Udp/198.18.0.5:4739 or\n"
		"                         Udp/[2001:db8::5]:4739\n"
		"      --metrics-listen ADDR:PORT\n"
		"                         serve Prometheus metrics (GET /metrics) there, e.g.\n"
		"                         127.0.0.1:9739 or [::1]:9739; replaces MetricsListen\n"
		"      --pin-dir DIR      pin directory (default %s/IFACE)\n"
		"      --sort KEY         flows: most packets, octets or most recent first\n"
		"      --top N            flows: only the first N (by octets without --sort);\n"
		"                         top: at most N flows (default: what the screen holds)\n"
		"      --interval S       top: seconds between reads, 0.1 to 3600 (default %g)\n"
		"      --once             top: one plain snapshot of the rates over one interval\n"
		"      --json             machine-readable output (status, flows)\n"
		"  -v, --verbose          debug logging (per flow records)\n"
		"\n"
		"exit codes: 0 success, 1 runtime failure, 2 bad usage or configuration\n",
		CONFIG_DEFAULT_PATH, LOADER_PIN_ROOT, TOP_DEFAULT_INTERVAL_MS / 1000.0);
}

/* A whole number, 1 or more, in decimal digits only (no sign, no space, no suffix). */
static int parse_count(const char *text, size_t *out)
{
	unsigned long long n;
	char *end;

	if (!*text || strspn(text, "0123456789") != strlen(text))
		return -EINVAL;
	errno = 0;
	n = strtoull(text, &end, 10);
	if (errno || n == 0 || n > SIZE_MAX)
		return -EINVAL;
	*out = (size_t)n;
	return 0;
}

/* Seconds as a decimal number ("2", "0.5") within top's range, into milliseconds. */
static int parse_seconds(const char *text, uint64_t *ms)
{
	char *end;
	double s;

	/* Digits and a point only: no sign, exponent, hexadecimal, "inf" or "nan". */
	if (strspn(text, "0123456789.") != strlen(text))
		return -EINVAL;
	errno = 0;
	s = strtod(text, &end);
	if (errno || end == text || *end || s * 1000 < TOP_MIN_INTERVAL_MS ||
	    s * 1000 > TOP_MAX_INTERVAL_MS)
		return -EINVAL;
	*ms = (uint64_t)(s * 1000 + 0.5);
	return 0;
}

static int parse_cli(int argc, char **argv, struct cli *cli)
{
	enum {
		OPT_HOOK = 256, OPT_COLLECTOR, OPT_PIN_DIR, OPT_JSON, OPT_VERSION, OPT_SORT,
		OPT_TOP, OPT_INTERVAL, OPT_ONCE, OPT_METRICS, OPT_TC_ATTACH,
	};
	static const struct option options[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "config", required_argument, NULL, 'c' },
		{ "hook", required_argument, NULL, OPT_HOOK },
		{ "tc-attach", required_argument, NULL, OPT_TC_ATTACH },
		{ "collector", required_argument, NULL, OPT_COLLECTOR },
		{ "pin-dir", required_argument, NULL, OPT_PIN_DIR },
		{ "metrics-listen", required_argument, NULL, OPT_METRICS },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "sort", required_argument, NULL, OPT_SORT },
		{ "top", required_argument, NULL, OPT_TOP },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "once", no_argument, NULL, OPT_ONCE },
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
		case OPT_TC_ATTACH:
			if (strcmp(optarg, "auto") == 0) {
				cli->tc_attach = TC_ATTACH_AUTO;
			} else if (strcmp(optarg, "tcx") == 0) {
				cli->tc_attach = TC_ATTACH_TCX;
			} else if (strcmp(optarg, "clsact") == 0) {
				cli->tc_attach = TC_ATTACH_CLSACT;
			} else {
				log_errx("--tc-attach: \"%s\" is not a way to attach; use auto, tcx "
					 "or clsact", optarg);
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
		case OPT_METRICS:
			cli->metrics_listen = optarg;
			break;
		case OPT_JSON:
			cli->json = true;
			break;
		case OPT_SORT:
			if (flowview_parse_sort(optarg, &cli->sort)) {
				log_errx("--sort: \"%s\" is not a sort key; use packets, octets "
					 "or last", optarg);
				return -EINVAL;
			}
			break;
		case OPT_TOP:
			if (parse_count(optarg, &cli->top)) {
				log_errx("--top: \"%s\" is not a number of flows; use a whole "
					 "number, 1 or more", optarg);
				return -EINVAL;
			}
			break;
		case OPT_INTERVAL:
			if (parse_seconds(optarg, &cli->interval_ms)) {
				log_errx("--interval: \"%s\" is not a number of seconds from %g "
					 "to %g", optarg, TOP_MIN_INTERVAL_MS / 1000.0,
					 TOP_MAX_INTERVAL_MS / 1000.0);
				return -EINVAL;
			}
			break;
		case OPT_ONCE:
			cli->once = true;
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
	if (cli->sort && strcmp(cli->command, "flows") != 0) {
		log_errx("%s: --sort is an option of flows", cli->command);
		return -EINVAL;
	}
	if (cli->top && strcmp(cli->command, "flows") != 0 && strcmp(cli->command, "top") != 0) {
		log_errx("%s: --top is an option of flows and top", cli->command);
		return -EINVAL;
	}
	if ((cli->interval_ms || cli->once) && strcmp(cli->command, "top") != 0) {
		log_errx("%s: --interval and --once are options of top", cli->command);
		return -EINVAL;
	}
	if (cli->top && !cli->sort && strcmp(cli->command, "flows") == 0)
		cli->sort = FLOWVIEW_SORT_OCTETS;	/* the first N of map order mean nothing */
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
		.tc_attach = cli->tc_attach,
		.config_path = cli->config_path ? cli->config_path : CONFIG_DEFAULT_PATH,
		.config_path_given = cli->config_path != NULL,
		.n_extra_collectors = cli->n_collectors,
		.metrics_listen = cli->metrics_listen,
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
	int ret, ncpus;

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
	if (!ret && cli->metrics_listen)
		ret = listen_parse("--metrics-listen", cli->metrics_listen, &cfg->metrics_listen,
				   err, sizeof(err));
	if (ret) {
		fprintf(stderr, "error: %s\n", err);
		free(cfg);
		return EXIT_USAGE;
	}
	ncpus = libbpf_num_possible_cpus();
	config_print(cfg, ncpus > 0 ? (unsigned int)ncpus : 0, stdout);
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
	if (err == -EEXIST || err == -EPROTO || err == -EINVAL)
		return EXIT_RUNTIME;	/* whose pins they are was reported */
	if (err) {
		errno = -err;
		log_err("open the pinned maps of %s", cli->ifname);
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

static int cmd_flows(const struct cli *cli)
{
	struct flowview_table table = { 0 };
	struct flowmeta_maps maps;
	int rc = require_interface(cli, true), err;

	if (!rc)
		rc = open_maps(cli, &maps);
	if (rc)
		return rc;
	err = flowview_read(maps.flows, maps.drop_flows, &table);
	loader_close_maps(&maps);
	if (err) {
		flowview_free(&table);
		errno = -err;
		log_err("read the flow table of %s", cli->ifname);
		return EXIT_RUNTIME;
	}
	flowview_sort(&table, cli->sort);
	if (cli->top && table.n > cli->top)
		table.n = cli->top;
	if (cli->json) {
		json_object *array;
		struct fm_time now;

		/* first_seen_ms and last_seen_ms: the flow times' ticks in epoch ms (clock.h). */
		if (fm_clock_start()) {
			flowview_free(&table);
			return EXIT_RUNTIME;
		}
		array = json_object_new_array();
		fm_time_now(&now);
		for (size_t i = 0; i < table.n; i++)
			json_object_array_add(array, flowview_json(&table.flows[i], &now));
		printf("%s\n", json_object_to_json_string_ext(array, JSON_C_TO_STRING_PRETTY));
		json_object_put(array);
	} else {
		flowview_print(stdout, table.flows, table.n);
	}
	flowview_free(&table);
	return EXIT_OK;
}

static int cmd_status(const struct cli *cli)
{
	struct status_snapshot *st;
	struct flowmeta_maps maps;
	struct fm_time now;
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
	fm_time_now(&now);
	status_print(stdout, cli->ifname, st, cli->json, now.real_ns / NSEC_PER_MSEC);
	free(st);
	return EXIT_OK;
}

static int cmd_top(const struct cli *cli)
{
	struct top_opts opts = {
		.ifname = cli->ifname,
		.pin_dir = cli->pin_dir,
		.interval_ms = cli->interval_ms ? cli->interval_ms : TOP_DEFAULT_INTERVAL_MS,
		.once = cli->once,
		.max_flows = cli->top,
	};
	struct flowmeta_maps maps;
	int rc = require_interface(cli, true);

	/* Refused at once when nothing is pinned; later the view says so and waits. */
	if (!rc)
		rc = open_maps(cli, &maps);
	if (rc)
		return rc;
	loader_close_maps(&maps);
	return top_run(&opts);
}

static int cmd_detach(const struct cli *cli)
{
	int rc = require_interface(cli, false), err;
	char path[PATH_MAX];

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
	/* Its collectors' streams start again too: nothing is left to continue. */
	if (!streamstate_path(cli->ifname, cli->pin_dir, path, sizeof(path)) && !unlink(path))
		log_info("%s: removed %s", cli->ifname, path);
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
		{ "flows", cmd_flows }, { "top", cmd_top },	    { "detach", cmd_detach },
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
