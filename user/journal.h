/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The export journal: what makes ending and sending crash-safe (SPEC §7; include/flowmeta.h
 * describes the transactions). A transaction is built in memory (its data messages, the map
 * changes they stand for, and per collector the datagrams it gets), committed to the pinned journal
 * maps before its first datagram leaves, sent by the caller, applied in the kernel in one program
 * run, and finished. A daemon that finds the last transaction pending makes a new one of what it
 * still owes (user/exporter.c). Knows nothing of IPFIX but message lengths and record counts, and
 * nothing of sockets but the send_trace counts.
 */
#ifndef FLOWMETA_JOURNAL_H
#define FLOWMETA_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flowmeta.h"

struct flowmeta_maps;

struct journal {
	int header_fd, intents_fd, chunks_fd, trace_fd, apply_fd;
	struct export_journal hdr;		/* the transaction being built, or the last one */
	struct export_intent *intents;		/* FLOWMETA_JOURNAL_INTENTS (in buf_intents) */
	struct journal_chunk *chunks;		/* FLOWMETA_JOURNAL_CHUNKS (in buf_chunks) */
	struct journal_intents *buf_intents;
	struct journal_chunks *buf_chunks;
	uint32_t chunks_used;
	uint32_t grew;				/* intents the last apply found grown */
	/* An interrupted transaction read back by journal_open, until journal_drop_old(). */
	struct export_journal *old;
	struct export_intent *old_intents;
	struct journal_chunk *old_chunks;
	struct journal_intents *old_buf_intents;
	struct journal_chunks *old_buf_chunks;
};

/*
 * Open the journal maps of maps (journal, journal_intents, journal_chunks, send_trace) and the apply
 * program (its fd), for ncpus possible CPUs, and read what an earlier daemon left: its last
 * transaction's header into hdr (an idle one holds every collector's state after it) and, when it
 * is pending, the whole transaction into old. Negative errno.
 */
int journal_open(struct journal *j, const struct flowmeta_maps *maps, int apply_fd, int ncpus);
void journal_close(struct journal *j);

/* The earlier daemon's last transaction did not finish: what it owes comes first. */
static inline bool journal_pending(const struct journal *j)
{
	return j->old != NULL;
}

/* The bytes of message index of the interrupted transaction. */
const uint8_t *journal_old_msg_bytes(const struct journal *j, uint32_t index);
/* Forget the interrupted transaction once a new one holds what it owed. */
void journal_drop_old(struct journal *j);

/* Start a transaction in the other half: no message, no intent, no collector. */
void journal_begin(struct journal *j);

/*
 * Add a data message of len bytes carrying records data records and the flow records of payload.
 * Returns its index, -ENOSPC when the transaction has no room for it (commit first), -EINVAL when
 * no transaction could hold it.
 */
int journal_add_msg(struct journal *j, const uint8_t *bytes, size_t len, uint32_t records,
		    uint64_t flows, uint64_t packets, uint64_t octets);
/* The bytes of message index of the transaction being built (contiguous). */
const uint8_t *journal_msg_bytes(const struct journal *j, uint32_t index);

/* Add a map change; -ENOSPC when the transaction holds FLOWMETA_JOURNAL_INTENTS already. */
int journal_add_intent(struct journal *j, const struct flow_key *key,
		       const struct flow_export_state *state, enum export_intent_kind kind);
/* Room for one more message of len bytes and intents more intents. */
bool journal_has_room(const struct journal *j, size_t len, uint32_t intents);
static inline bool journal_empty(const struct journal *j)
{
	return !j->hdr.n_msgs && !j->hdr.n_intents;
}

/*
 * Entry i of the transaction's collectors (i < FLOWMETA_MAX_COLLECTORS; n_collectors grows to
 * cover it): the caller fills identity, sequence, counters and trace before commit, and appends the
 * datagrams it sends, in order (-ENOSPC past FLOWMETA_JOURNAL_DGRAMS).
 */
struct journal_collector *journal_collector(struct journal *j, uint32_t i);
int journal_add_dgram(struct journal_collector *c, uint16_t msg, uint16_t slice,
		      uint32_t records, size_t len);

/* Datagrams that left the socket traced in slot (0 when unreadable). */
uint64_t journal_trace_count(const struct journal *j, uint32_t slot);

/*
 * Write the transaction: messages and intents into its half, then the header (pending) as the
 * commit point. traced: send_trace counts its datagrams. Negative errno; then nothing was sent and
 * the caller must not send.
 */
int journal_commit(struct journal *j, bool traced);
/*
 * Apply the committed intents in the kernel (flowmeta_export_apply). Afterwards grew says how many
 * intents ended a flow that had grown since, and intents[i].result holds every result. Negative
 * errno (nothing or everything applied: one program run).
 */
int journal_apply(struct journal *j);
/* Mark the transaction complete, with hdr.coll holding the collectors' state after it. */
int journal_finish(struct journal *j);

/*
 * How many of collector entry c's datagrams left, for the interrupted transaction: the traced
 * count since it began (capped by its datagrams); untraced, 0 (then all are owed: sent twice
 * rather than lost).
 */
uint32_t journal_dgrams_sent(const struct journal *j, const struct journal_collector *c);

#endif /* FLOWMETA_JOURNAL_H */
