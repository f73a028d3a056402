/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Prometheus metrics (MetricsListen, --metrics-listen): GET /metrics in the text exposition format
 * 0.0.4, served by libmicrohttpd from a thread of its own. Every scrape renders a fresh status
 * snapshot read from the pinned maps, the same one `flowmeta status` shows, so a scrape never
 * touches the daemon's state nor waits for its loop, and the loop never waits for a scrape.
 */
#ifndef FLOWMETA_METRICS_H
#define FLOWMETA_METRICS_H

#include <stdio.h>

#include "config.h"
#include "status.h"

/* Fixed bounds of the HTTP server (README, flowmeta.8). */
#define METRICS_MAX_CONNECTIONS 16
#define METRICS_MAX_PER_IP	4
#define METRICS_TIMEOUT_S	10    /* an idle connection is closed after this */
#define METRICS_REQUEST_MEMORY	16384 /* bytes per connection: request line and headers */

struct metrics;

/*
 * Bind addr (an address in use or not of this host is logged as such) and serve the snapshots of
 * the maps pinned for ifname in pin_dir (NULL: the default). Call it with the daemon's signals
 * blocked: the server's thread inherits the mask. Returns a negative errno, the cause logged.
 */
int metrics_start(const struct listen_addr *addr, const char *ifname, const char *pin_dir,
		  struct metrics **out);
/* The address it serves, as configured. */
const struct listen_addr *metrics_address(const struct metrics *m);
/* Stop serving (a scrape in progress completes first) and close the socket; NULL is a no-op. */
void metrics_stop(struct metrics *m);

/* Write the exposition of snap for interface ifname; negative errno on a write error. */
int metrics_render(const struct status_snapshot *snap, const char *ifname, FILE *out);

#endif /* FLOWMETA_METRICS_H */
