/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * `flowmeta top`: a live view of the busiest flows by current rate and of the key counters, read
 * from the pinned maps at each interval (a daemon need not run). On a terminal it takes the
 * alternate screen and redraws in place; otherwise it prints plain snapshots.
 */
#ifndef FLOWMETA_TOP_H
#define FLOWMETA_TOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOP_DEFAULT_INTERVAL_MS 2000
#define TOP_MIN_INTERVAL_MS	100
#define TOP_MAX_INTERVAL_MS	3600000

struct top_opts {
	const char *ifname;
	const char *pin_dir;		/* NULL: the default pin directory */
	uint64_t interval_ms;		/* between two reads of the maps */
	bool once;			/* one snapshot (rates over one interval), then exit */
	size_t max_flows;		/* flows shown; 0: what the screen holds (20 if none) */
};

/*
 * Run the view until `q`, SIGINT, SIGTERM or SIGHUP (or after one snapshot with once); the
 * terminal is restored on every way out. Returns an exit code (EXIT_OK, or EXIT_RUNTIME when the
 * maps cannot be read or the output fails).
 */
int top_run(const struct top_opts *opts);

#endif /* FLOWMETA_TOP_H */
