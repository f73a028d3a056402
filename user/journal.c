// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The export journal (journal.h): transactions written to the pinned maps journal,
 * journal_intents and journal_chunks, applied by the kernel program flowmeta_export_apply.
 *
 * Order of the writes, and why it is safe at every step:
 * - chunks and intents go into the half the last committed transaction does not use: whatever a
 *   crash leaves there half-written belongs to no header yet;
 * - the header (state pending) is one map update: the old transaction or the new one, never a mix;
 * - datagrams are sent by the caller; send_trace counts those that left;
 * - the apply program changes the maps in one run: it cannot be interrupted, and running it again
 *   on the same intents changes nothing more (an ended flow is gone or has grown; a state is
 *   written with the same value);
 * - the header (state idle) records where every collector's stream stands.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "loader.h"
#include "log.h"

static const __u32 zero_key;

/* Element half of one of the two-half maps into buf. */
static int half_read(int fd, uint32_t half, void *buf)
{
	__u32 key = half & 1;

	return bpf_map_lookup_elem(fd, &key, buf) ? -errno : 0;
}

static int half_write(int fd, uint32_t half, const void *buf)
{
	__u32 key = half & 1;

	return bpf_map_update_elem(fd, &key, buf, BPF_ANY) ? -errno : 0;
}

/* Read back an interrupted transaction whole: header, its messages' chunks, its intents. */
static int read_old(struct journal *j)
{
	const struct export_journal *h = &j->hdr;
	int err;

	j->old = malloc(sizeof(*j->old));
	j->old_buf_intents = malloc(sizeof(*j->old_buf_intents));
	j->old_buf_chunks = malloc(sizeof(*j->old_buf_chunks));
	if (!j->old || !j->old_buf_intents || !j->old_buf_chunks)
		return -ENOMEM;
	j->old_intents = j->old_buf_intents->intent;
	j->old_chunks = j->old_buf_chunks->chunk;
	*j->old = *h;
	if (h->n_msgs > FLOWMETA_JOURNAL_MSGS || h->n_intents > FLOWMETA_JOURNAL_INTENTS ||
	    h->n_collectors > FLOWMETA_MAX_COLLECTORS)
		return -EUCLEAN;
	for (uint32_t m = 0; m < h->n_msgs; m++) {
		const struct journal_msg *msg = &h->msg[m];

		if (msg->len == 0 || msg->chunk + (msg->len + FLOWMETA_JOURNAL_CHUNK - 1) /
						    FLOWMETA_JOURNAL_CHUNK > FLOWMETA_JOURNAL_CHUNKS)
			return -EUCLEAN;
	}
	err = half_read(j->chunks_fd, h->half, j->old_buf_chunks);
	if (!err)
		err = half_read(j->intents_fd, h->half, j->old_buf_intents);
	return err;
}

int journal_open(struct journal *j, const struct flowmeta_maps *maps, int apply_fd, int ncpus)
{
	int err;

	*j = (struct journal){ .header_fd = maps->journal, .intents_fd = maps->journal_intents,
			       .chunks_fd = maps->journal_chunks, .trace_fd = maps->send_trace,
			       .apply_fd = apply_fd };
	j->buf_intents = calloc(1, sizeof(*j->buf_intents));
	j->buf_chunks = calloc(1, sizeof(*j->buf_chunks));
	if (!j->buf_intents || !j->buf_chunks) {
		journal_close(j);
		return -ENOMEM;
	}
	j->intents = j->buf_intents->intent;
	j->chunks = j->buf_chunks->chunk;
	if (bpf_map_lookup_elem(j->header_fd, &zero_key, &j->hdr)) {
		err = -errno;
		journal_close(j);
		return err;
	}
	if (j->hdr.state == JOURNAL_PENDING) {
		err = read_old(j);
		if (err) {
			log_warnx("export journal: reading the interrupted transaction %llu: %s",
				  (unsigned long long)j->hdr.txn, strerror(-err));
			journal_drop_old(j);
			journal_close(j);
			return err;
		}
	}
	j->hdr.ncpus = (uint32_t)ncpus;
	return 0;
}

void journal_drop_old(struct journal *j)
{
	free(j->old);
	free(j->old_buf_intents);
	free(j->old_buf_chunks);
	j->old = NULL;
	j->old_buf_intents = NULL;
	j->old_buf_chunks = NULL;
	j->old_intents = NULL;
	j->old_chunks = NULL;
}

void journal_close(struct journal *j)
{
	journal_drop_old(j);
	free(j->buf_intents);
	free(j->buf_chunks);
	j->buf_intents = NULL;
	j->buf_chunks = NULL;
	j->intents = NULL;
	j->chunks = NULL;
}

const uint8_t *journal_old_msg_bytes(const struct journal *j, uint32_t index)
{
	return j->old_chunks[j->old->msg[index].chunk].bytes;
}

void journal_begin(struct journal *j)
{
	uint32_t ncpus = j->hdr.ncpus, half = j->hdr.half ^ 1;
	uint64_t txn = j->hdr.txn + 1;

	/* Only the counts: the entries are filled as they are used. */
	j->hdr.txn = txn;
	j->hdr.state = JOURNAL_IDLE;
	j->hdr.half = half;
	j->hdr.ncpus = ncpus;
	j->hdr.n_msgs = 0;
	j->hdr.n_intents = 0;
	j->hdr.n_collectors = 0;
	j->hdr.trace = 0;
	j->chunks_used = 0;
	j->grew = 0;
}

static uint32_t chunks_for(size_t len)
{
	return (uint32_t)((len + FLOWMETA_JOURNAL_CHUNK - 1) / FLOWMETA_JOURNAL_CHUNK);
}

bool journal_has_room(const struct journal *j, size_t len, uint32_t intents)
{
	return j->hdr.n_msgs < FLOWMETA_JOURNAL_MSGS &&
	       j->chunks_used + chunks_for(len) <= FLOWMETA_JOURNAL_CHUNKS &&
	       j->hdr.n_intents + intents <= FLOWMETA_JOURNAL_INTENTS;
}

int journal_add_msg(struct journal *j, const uint8_t *bytes, size_t len, uint32_t records,
		    uint64_t flows, uint64_t packets, uint64_t octets)
{
	struct journal_msg *m;
	uint32_t index;

	if (!len || chunks_for(len) > FLOWMETA_JOURNAL_CHUNKS)
		return -EINVAL;
	if (!journal_has_room(j, len, 0))
		return -ENOSPC;
	index = j->hdr.n_msgs++;
	m = &j->hdr.msg[index];
	*m = (struct journal_msg){ .chunk = j->chunks_used, .len = (uint32_t)len,
				   .records = records, .flows = flows, .packets = packets,
				   .octets = octets };
	memcpy(j->chunks[m->chunk].bytes, bytes, len);
	j->chunks_used += chunks_for(len);
	return (int)index;
}

const uint8_t *journal_msg_bytes(const struct journal *j, uint32_t index)
{
	return j->chunks[j->hdr.msg[index].chunk].bytes;
}

int journal_add_intent(struct journal *j, const struct flow_key *key,
		       const struct flow_export_state *state, enum export_intent_kind kind)
{
	struct export_intent *in;

	if (j->hdr.n_intents >= FLOWMETA_JOURNAL_INTENTS)
		return -ENOSPC;
	in = &j->intents[j->hdr.n_intents++];
	*in = (struct export_intent){ .key = *key, .state = *state, .kind = kind };
	return 0;
}

struct journal_collector *journal_collector(struct journal *j, uint32_t i)
{
	if (i >= FLOWMETA_MAX_COLLECTORS)
		return NULL;
	while (j->hdr.n_collectors <= i)
		memset(&j->hdr.coll[j->hdr.n_collectors++], 0, sizeof(j->hdr.coll[0]));
	return &j->hdr.coll[i];
}

int journal_add_dgram(struct journal_collector *c, uint16_t msg, uint16_t slice,
		      uint32_t records, size_t len)
{
	if (c->n_dgrams >= FLOWMETA_JOURNAL_DGRAMS)
		return -ENOSPC;
	c->dgram[c->n_dgrams++] = (struct journal_dgram){ .msg = msg, .slice = slice,
							  .records = (uint16_t)records,
							  .len = (uint16_t)len };
	return 0;
}

uint64_t journal_trace_count(const struct journal *j, uint32_t slot)
{
	struct send_trace t = { 0 };

	if (j->trace_fd < 0 || bpf_map_lookup_elem(j->trace_fd, &slot, &t))
		return 0;
	return t.datagrams;
}

int journal_commit(struct journal *j, bool traced)
{
	int err;

	/* Unused chunks and intents go too: one copy of each half is cheaper than many small. */
	err = j->chunks_used ? half_write(j->chunks_fd, j->hdr.half, j->buf_chunks) : 0;
	if (!err && j->hdr.n_intents)
		err = half_write(j->intents_fd, j->hdr.half, j->buf_intents);
	if (err)
		return err;
	j->hdr.state = JOURNAL_PENDING;
	j->hdr.trace = traced;
	if (bpf_map_update_elem(j->header_fd, &zero_key, &j->hdr, BPF_ANY)) {
		j->hdr.state = JOURNAL_IDLE;
		return -errno;
	}
	return 0;
}

int journal_apply(struct journal *j)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	uint32_t n = j->hdr.n_intents;

	j->grew = 0;
	if (!n)
		return 0;
	if (bpf_prog_test_run_opts(j->apply_fd, &opts))
		return -errno;
	/* applied | grew << 16 (bpf/export.h) */
	if ((opts.retval & 0xffff) != n)
		return -EIO;
	j->grew = opts.retval >> 16;
	for (uint32_t i = 0; i < n; i++)
		j->intents[i].result = INTENT_APPLIED;
	/* The rare case that keeps a state: which ones, read back. */
	if (j->grew)
		return half_read(j->intents_fd, j->hdr.half, j->buf_intents);
	return 0;
}

int journal_finish(struct journal *j)
{
	j->hdr.state = JOURNAL_IDLE;
	return bpf_map_update_elem(j->header_fd, &zero_key, &j->hdr, BPF_ANY) ? -errno : 0;
}

uint32_t journal_dgrams_sent(const struct journal *j, const struct journal_collector *c)
{
	uint64_t now, sent;

	if (!j->old || !j->old->trace)
		return 0;
	now = journal_trace_count(j, c->trace_slot);
	sent = now > c->trace_before ? now - c->trace_before : 0;
	return sent < c->n_dgrams ? (uint32_t)sent : c->n_dgrams;
}
