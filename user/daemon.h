/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The `flowmeta run` service: load the configuration, attach the kernel programs, and run the export
 * loop (poll timer, ring-buffer events, signals) until SIGTERM/SIGINT or the interface disappears.
 */
#ifndef FLOWMETA_DAEMON_H
#define FLOWMETA_DAEMON_H

#include <stdbool.h>

#include "config.h"
#include "loader.h"

struct run_opts {
	const char *ifname;
	const char *pin_dir;		/* NULL: default under LOADER_PIN_ROOT */
	enum ingress_hook hook;
	enum tc_attach tc_attach;	/* --tc-attach */
	const char *config_path;	/* CONFIG_DEFAULT_PATH unless -c was given */
	bool config_path_given;		/* -c given: a missing file is an error */
	const char *extra_collectors[CONFIG_MAX_COLLECTORS];	/* --collector, on top of the file */
	int n_extra_collectors;
	const char *metrics_listen;	/* --metrics-listen: replaces the file's MetricsListen */
};

/* Returns the process exit code (EXIT_OK, EXIT_RUNTIME, EXIT_USAGE). */
int daemon_run(const struct run_opts *opts);

#endif /* FLOWMETA_DAEMON_H */
