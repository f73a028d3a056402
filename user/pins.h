/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Ownership of a pin directory (SPEC §7, --pin-dir): which pins are flowmeta's, recorded in the
 * marker map `flowmeta_owner` (struct pin_owner, include/flowmeta.h) or recognised as flowmeta
 * 0.1.0's (no marker). Every change to the directory goes through here, so flowmeta never
 * replaces, deletes or leaves behind another tool's pin, and never creates a directory it then
 * refuses. Knows nothing of what the pinned objects are for (the loader does).
 */
#ifndef FLOWMETA_PINS_H
#define FLOWMETA_PINS_H

#include <limits.h>
#include <stdbool.h>

#include "flowmeta.h"

/* The layout of flowmeta 0.1.0's pins, which have no marker. */
#define PINS_LAYOUT_0_1_0 1

struct pins {
	char dir[PATH_MAX];
	int owner_fd;			/* the pinned marker; -1 while there is none */
	struct pin_owner owner;		/* its contents (or what it will hold) */
	unsigned int legacy;		/* PINS_LAYOUT_0_1_0: 0.1.0's pins, no marker; or 0 */
	unsigned int created;		/* directory levels this run created */
};

/*
 * Create the pin directory dir if it is missing (mode 0700, with the missing levels above it,
 * counted in *created), unless its nearest existing ancestor is not on a bpffs: then nothing is
 * created and -ENOTDIR/-EINVAL is returned (logged). An existing dir must itself be on a bpffs.
 */
int pins_make_dir(const char *dir, unsigned int *created);

/*
 * Find out who owns the pins of dir: a marker, flowmeta 0.1.0's pins, or none of flowmeta's there.
 * Refused, with one clear message and nothing touched: a dir not on a bpffs (-EINVAL), a marker
 * that is not flowmeta's or (unless any_layout: to remove them) of a newer layout (-EPROTO).
 * -ENOENT when dir does not exist. pins_close() releases p.
 */
int pins_open(struct pins *p, const char *dir, bool any_layout);
void pins_close(struct pins *p);
/*
 * Refuse (-EEXIST, one message naming the pin) a directory where a pin of one of these names (the
 * names flowmeta pins now), or of a name the marker recorded, is not flowmeta's.
 */
int pins_check(struct pins *p, const char *const *names, unsigned int n_names);

/* Whether dir holds flowmeta's pins: a marker, or 0.1.0's. */
bool pins_found(const struct pins *p);
/* Whether the pin of this name exists and is flowmeta's; *layout: the layout it was created in. */
bool pins_owned(const struct pins *p, const char *name, unsigned int *layout);

/*
 * Give a directory without a marker its marker, the map fd (a fresh `flowmeta_owner`): it records
 * 0.1.0's pins found, then is pinned first of all. With a marker already, adopts fd for nothing
 * and returns 0.
 */
int pins_mark(struct pins *p, int fd);

/*
 * Pin the object fd (a map or a program) as name, replacing flowmeta's own pin of that name (never
 * another tool's: -EEXIST), recorded before it is pinned so that a crash at any step leaves every
 * pin recognised.
 */
int pins_pin(struct pins *p, const char *name, int fd, enum pin_kind kind);
/* Rename flowmeta's pin from as to (a free name), keeping its record and layout. */
int pins_rename(struct pins *p, const char *from, const char *to);
/* Remove flowmeta's pin of this name, if there is one; another tool's is never touched. */
int pins_unpin(struct pins *p, const char *name);
/*
 * Remove every pin of flowmeta's (recorded, or 0.1.0's), then the marker, then the directories
 * flowmeta created (while empty). Another tool's pins, and the directory holding them, stay.
 */
int pins_remove_all(struct pins *p);

#endif /* FLOWMETA_PINS_H */
