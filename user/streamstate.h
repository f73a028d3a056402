/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The stream state file: where each collector's stream stands (sequence number, source port,
 * counters of the statistics records) when the daemon stops cleanly, so that the next start
 * continues it — a restart is invisible to a collector (SPEC §5). A clean stop removes every pin,
 * the export journal included; after a crash the pinned journal holds the same and wins.
 * One file per pin directory under STREAMSTATE_DIR.
 */
#ifndef FLOWMETA_STREAMSTATE_H
#define FLOWMETA_STREAMSTATE_H

#include <stddef.h>
#include <stdint.h>

#include "flowmeta.h"

#define STREAMSTATE_DIR "/var/lib/flowmeta"

/*
 * The file of the instance on IFACE (pin_dir NULL: the default one): STREAMSTATE_DIR/IFACE.streams,
 * or for a --pin-dir its path with "/" as "_" (two instances never share a file). Negative errno.
 */
int streamstate_path(const char *ifname, const char *pin_dir, char *buf, size_t len);

/* Write n entries (address, ports, domain, sequence, counters), atomically. Negative errno. */
int streamstate_save(const char *path, const struct journal_collector *e, uint32_t n);
/*
 * Read at most max entries; their number, -ENOENT when there is no file, -EINVAL when it is not
 * one this version wrote (logged).
 */
int streamstate_load(const char *path, struct journal_collector *e, uint32_t max);

#endif /* FLOWMETA_STREAMSTATE_H */
