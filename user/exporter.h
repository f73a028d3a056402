/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The exporter: one poll reads the kernel flow map in batches, computes what each flow has not yet
 * exported, decides which flows end (TCP end, idle, table full) or get an interim record, encodes
 * the records into IPFIX messages and sends them to every collector (SPEC §5, §7). Ring-buffer
 * hints (TCP end, first drop) schedule single flows between polls. Knows the maps by file
 * descriptor only: the daemon (or a test) supplies them.
 */
#ifndef FLOWMETA_EXPORTER_H
#define FLOWMETA_EXPORTER_H

#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "collector.h"
#include "config.h"
#include "flowmeta.h"
#include "loader.h"

/* A flow with FIN/RST ends this long after the event, so the last ACK still lands in it. */
#define EXPORTER_TCP_END_GRACE_NS	(1000 * NSEC_PER_MSEC)
/* A first drop is exported this long after the event: the first burst of drops shares a record. */
#define EXPORTER_DROP_DELAY_NS		(500 * NSEC_PER_MSEC)
/* Flow table watermarks, in percent of the map's max_entries (see exporter.c). */
#define EXPORTER_TABLE_HIGH_PCT		90
#define EXPORTER_TABLE_LOW_PCT		80
/*
 * After relieving a full table, the daemon looks at the kernel's refused-insert counters again
 * this long after, and relieves the table again if they grew and it is still full (then looks
 * again, until they stop growing): the kernel's table-full events are rate-limited (a few per
 * CPU a second), so a table refilled after the last event in a window would otherwise stay full
 * until a packet in the next window raises one.
 */
#define EXPORTER_RELIEF_RECHECK_NS	(250 * NSEC_PER_MSEC)

struct exporter_stats {
	uint64_t polls;
	uint64_t live_flows;		/* flows in the map after the last poll */
	uint64_t records[6];		/* records encoded, by flowEndReason (1..5) */
	uint64_t ended[6];		/* flows ended, by flowEndReason, exported or not */
	uint64_t zero_delta;		/* records not sent: nothing new since the last one */
	uint64_t filtered;		/* not sent: Direction filter, disabled, no collector */
	uint64_t hints;			/* ring-buffer events received */
	uint64_t hints_dropped;		/* events not scheduled (the due list was full) */
	uint64_t stale_states;		/* export states dropped: flow gone, or a new one */
	uint64_t ends_grown;		/* ended flows that got packets before their delete */
	uint64_t evictions;		/* times a table was relieved (flowEndReason 5) */
	uint64_t old_flows;		/* flows of an older version's maps exported (upgrade) */
	uint64_t recovered_txns;	/* interrupted transactions an earlier daemon left, finished */
	uint64_t map_errors;		/* failed map operations (logged once each kind) */
	uint64_t encode_errors;		/* records the IPFIX encoder refused (the first logged) */
	struct flowmeta_stats kernel;	/* kernel counters summed over CPUs, at the last poll */
};

struct exporter;

/*
 * Create an exporter over maps (the flow table, stats, export_state, the export journal and the
 * daemon's programs; stats may be -1: no kernel counters) for interface ifindex, configured by cfg
 * (collectors opened, templates sent at now). What an earlier daemon left is taken up first: an
 * interrupted transaction is finished, every collector's stream continues (from the journal, or
 * from state_path after a clean stop; NULL: none), the export state is loaded. NULL on failure
 * (logged).
 */
struct exporter *exporter_new(const struct flowmeta_maps *maps, unsigned int ifindex,
			      const struct config *cfg, const struct fm_time *now,
			      const char *state_path);
void exporter_free(struct exporter *exp);

/*
 * Apply a new configuration (SIGHUP): collectors added/removed (unchanged ones keep their state),
 * direction, interval, timeouts, message size; templates re-sent to every collector. -ENOMEM.
 */
int exporter_configure(struct exporter *exp, const struct config *cfg, const struct fm_time *now);

/* One poll of the whole flow map. Returns 0 or a negative errno (a map read failed; logged). */
int exporter_poll(struct exporter *exp, const struct fm_time *now);

/*
 * Upgrade: export what the maps of an earlier flowmeta version hold (loader.h) with
 * flowEndReason 4, crash-safely (a restart in the middle goes on after the flows already sent).
 * 0 when all is exported: the caller releases them, then calls exporter_old_released().
 */
int exporter_export_old(struct exporter *exp, const struct flowmeta_old_maps *old,
			const struct fm_time *now);
void exporter_old_released(struct exporter *exp);

/* A ring-buffer event: schedule the flow it names. */
void exporter_hint(struct exporter *exp, const struct flow_event *ev);

/* Handle the scheduled flows that are due and refresh templates that are due. */
void exporter_tick(struct exporter *exp, const struct fm_time *now);

/* CLOCK_MONOTONIC time exporter_tick() next has work; UINT64_MAX when nothing is scheduled. */
uint64_t exporter_next_deadline(const struct exporter *exp);

/*
 * End every flow in the map with flowEndReason 4 (daemon stopping, interface gone), send the
 * records and then the statistics records, and write where every collector's stream stands to
 * the state file, for the next start. Returns 0 or -errno.
 */
int exporter_flush_all(struct exporter *exp, const struct fm_time *now);

const struct exporter_stats *exporter_get_stats(const struct exporter *exp);
const struct collector_set *exporter_collectors(const struct exporter *exp);
/* Whether records are exported at all: Enabled, with at least one collector. */
bool exporter_exporting(const struct exporter *exp);

#endif /* FLOWMETA_EXPORTER_H */
