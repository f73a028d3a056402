/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The daemon's own counters, published into the pinned maps daemon_status and collector_status
 * after each poll, and read back by `flowmeta status`, whether or not the daemon still runs.
 */
#ifndef FLOWMETA_STATUS_H
#define FLOWMETA_STATUS_H

#include "exporter.h"
#include "flowmeta.h"
#include "loader.h"

/* Write a snapshot of exp into the maps; failures are counted by the caller's next snapshot only. */
void status_publish(const struct flowmeta_maps *maps, const struct exporter *exp);

/*
 * Read the snapshot back. Returns the number of collector entries written to collectors (at most
 * max), or a negative errno when the maps cannot be read; 0 with daemon->pid 0 when no daemon ever
 * published into them.
 */
int status_read(const struct flowmeta_maps *maps, struct daemon_status *daemon,
		struct collector_status *collectors, int max);

#endif /* FLOWMETA_STATUS_H */
