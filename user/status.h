/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * `flowmeta status`: the daemon publishes its own counters into the pinned maps daemon_status and
 * collector_status after each poll; a snapshot reads them back together with the kernel's view
 * (flow table totals, per-CPU counters, the capacity and kernel memory of the tables), whether or
 * not the daemon still runs, and prints it.
 */
#ifndef FLOWMETA_STATUS_H
#define FLOWMETA_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "exporter.h"
#include "flowmeta.h"
#include "loader.h"
#include "sizing.h"

/* Write a snapshot of exp into the maps (a failure is logged once). */
void status_publish(const struct flowmeta_maps *maps, const struct exporter *exp);

/* One of the tables MaxFlows sizes: its capacity and the kernel's memlock figure of it. */
struct status_table {
	unsigned int capacity;		/* max_entries; 0: not pinned */
	unsigned long long memory;	/* bytes */
};

struct status_snapshot {
	bool running;			/* a daemon holds the interface and published after attaching */
	enum tc_attach tc_attach;	/* how the TC programs are on the interface now */
	unsigned long long flows, packets, octets;	/* the flow table now */
	int possible_cpus;		/* what every per-CPU value is multiplied by */
	struct status_table tables[FLOW_TABLE_COUNT];	/* by enum flow_table_id */
	unsigned long long drop_flows, drop_packets, drop_octets;	/* the drop table now */
	struct flowmeta_stats kernel;	/* per-CPU counters, summed */
	/* kernel.drop_table_full_*, summed over verdicts and directions */
	unsigned long long drop_table_full_packets, drop_table_full_octets;
	struct daemon_status daemon;	/* as last published; pid 0: never */
	struct collector_status collectors[FLOWMETA_MAX_COLLECTORS];
	int n_collectors;
};

/* Read everything `flowmeta status` shows from the maps pinned for IFACE. Negative errno. */
int status_snapshot_read(const char *ifname, const char *pin_dir, const struct flowmeta_maps *maps,
			 struct status_snapshot *snap);
/* The same but the flow table totals (left 0), for a caller that reads the table itself. */
int status_counters_read(const char *ifname, const char *pin_dir,
			 const struct flowmeta_maps *maps, struct status_snapshot *snap);

/*
 * Print a snapshot for `flowmeta status`: aligned "name value" lines, times as ages ("updated 3 s
 * ago"), or with json one object whose values stay raw (epoch milliseconds). now_ms: the epoch
 * milliseconds the ages are counted from.
 */
void status_print(FILE *out, const char *ifname, const struct status_snapshot *st, bool json,
		  uint64_t now_ms);

/*
 * How long ago then_ms was at now_ms (epoch milliseconds), for people: "0 s ago", "42 s ago",
 * "5 min ago", "3 h ago", "2 days ago"; a time ahead of now_ms (the clock was set back) is "in
 * the future (N s)". Returns buf.
 */
const char *status_age(uint64_t now_ms, uint64_t then_ms, char *buf, size_t len);

#endif /* FLOWMETA_STATUS_H */
