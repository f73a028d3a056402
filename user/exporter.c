// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The exporter: poll the flow map, decide, encode, send (SPEC §5, §7).
 *
 * Decisions, in the order a poll applies them to each flow:
 * - TCP end (FIN in the flow's direction, or RST): the flow ends with flowEndReason 3, but only
 *   EXPORTER_TCP_END_GRACE_NS after its last packet, so the ACK of the peer's FIN, sent right
 *   after, still lands in it instead of opening a one-packet flow. The ring-buffer event schedules
 *   that end (exporter_tick); a poll that finds a FIN flow whose event was lost schedules it as
 *   well.
 * - Idle: no packet for IdleTimeout: flowEndReason 1.
 * - Drop flows (verdict not FORWARDED): a record at every poll with what is new (flowEndReason 2),
 *   and the first one EXPORTER_DROP_DELAY_NS after the first drop (ring-buffer event).
 * - Interval > 0 and Interval elapsed since the flow's last record (or its first packet): an
 *   interim record (flowEndReason 2) with the original start, the last packet time and the counts
 *   since the last record. A poll may run a little late but never early (periodic timerfd);
 *   EXPORTER_SLACK_NS only absorbs the time a large poll spends reading the map.
 * - Table full: when the map holds >= 90% of max_entries after the poll, the least recently seen
 *   flows end with flowEndReason 5 until it holds under 80%. The gap between the watermarks keeps
 *   the eviction from running at every poll, and keeps room for the new flows of one poll interval.
 * A flow ends in two steps: its end record is built from what a read of the map found, and the
 * flow is deleted only after the record has been sent, by the kernel program that applies the
 * transaction (user/journal.c), and only if no packet arrived in between; a flow that grew goes
 * on, and its new packets are exported later. The final record carries the final counts minus
 * what interim records already exported.
 *
 * Zero-delta rule: an interim record whose flow has no packet since its previous record is not
 * sent: it would carry no traffic, and collectors count every record as a flow. An end record is
 * sent whenever the flow had a record before, even with zero counts (SPEC §5: a collector must
 * never be left holding a flow whose last record says it is still active).
 *
 * Direction filter, Enabled false and no collector: no record is encoded, but flows still end
 * (idle, TCP end, table full) and are deleted, so the kernel table does not fill. Drop records
 * ignore the Direction filter.
 *
 * Crash safety: every record and every map change it stands for go through one journal
 * transaction (user/journal.h): the messages and intents are written to the pinned journal before
 * the first datagram leaves, the intents are applied in the kernel after the datagrams left, and
 * a restarted daemon finishes an interrupted transaction before anything else: it sends each
 * collector what the send trace says it did not get, and applies the intents again. The sums
 * exported by interim records live in the flowtable and in the pinned export_state map, which
 * only the apply program writes. A state is trusted only if its last export is not before the
 * flow's first packet and its sums do not exceed the flow's: otherwise it belongs to an earlier
 * flow with the same key and is forgotten.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "bpfmap.h"
#include "exporter.h"
#include "flowtable.h"
#include "flowvalue.h"
#include "ifinfo.h"
#include "journal.h"
#include "log.h"
#include "sendtrace.h"
#include "sizing.h"
#include "streamstate.h"

#define EXPORTER_DUE_MAX	4096	/* scheduled flows per kind; the poll catches the rest */
#define EXPORTER_SLACK_NS	(250 * NSEC_PER_MSEC)
#define EXPORTER_PREFETCH	8	/* keys ahead */

struct due_entry {
	struct flow_key key;
	uint64_t due_ns;
};

/* Flows to look at soon, in arrival order: due = event time + a fixed delay, so nearly sorted. */
struct due_list {
	struct due_entry e[EXPORTER_DUE_MAX];
	size_t head, len;
};

struct exporter {
	int flows_fd, stats_fd, state_fd;
	int drop_flows_fd;		/* drop flows' own table; -1: they are in flows_fd */
	unsigned int ifindex;
	uint32_t max_entries, drop_max_entries;
	bool relieve_flows, relieve_drops;	/* the kernel found the table full: relieve now */
	uint64_t relief_check_ns;	/* look at the refused counters again then; 0: no relief */
	uint64_t refused[2];		/* refused inserts [flows, drop_flows] at the last relief */
	int ncpus;

	bool exporting;			/* Enabled and at least one collector */
	enum direction_filter direction;
	uint64_t interval_ns, idle_ns;

	uint32_t chunk;
	struct flow_key *keys;
	struct flow_value *values;	/* chunk * ncpus: SIZING_BATCH_BYTES with the keys */
	struct flow_value *one;		/* ncpus: single-flow reads */

	struct flowtable table;
	uint32_t gen;

	/* The open transaction: the journal holds its closed messages and their intents; the
	 * intents of the records in the message being built wait here until it is closed. */
	struct journal jr;
	struct sendtrace trace;
	struct export_intent *open_intents;
	size_t open_n, open_cap;

	struct collector_set collectors;
	uint8_t *msgbuf;		/* IPFIX_MAX_MESSAGE: messages follow the collectors' paths */
	struct ipfix_msg msg;
	struct msg_payload payload;
	struct fm_time now;

	struct due_list tcp_end, drops;
	struct exporter_stats stats;
	char state_path[PATH_MAX];	/* where streams are saved at a clean stop; "": nowhere */
};

/* ---- transactions ---------------------------------------------------------------------------- */

static int grow_array(void **arr, size_t *cap, size_t elem, size_t need)
{
	size_t cap2 = *cap ? *cap : 64;
	void *p;

	if (need <= *cap)
		return 0;
	while (cap2 < need)
		cap2 *= 2;
	p = realloc(*arr, cap2 * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = cap2;
	return 0;
}

static void msg_reset(struct exporter *exp)
{
	ipfix_msg_begin(&exp->msg, exp->msgbuf, collector_set_message_size(&exp->collectors));
	exp->payload = (struct msg_payload){ 0 };
	exp->open_n = 0;
}

static void exporter_commit(struct exporter *exp);

/* A map change that goes with no record of the open message: straight into the transaction. */
static void txn_intent(struct exporter *exp, const struct flow_key *key,
		       const struct flow_export_state *state, enum export_intent_kind kind)
{
	if (journal_add_intent(&exp->jr, key, state, kind) == -ENOSPC) {
		exporter_commit(exp);
		journal_add_intent(&exp->jr, key, state, kind);
	}
}

/* The map change of a record in the open message: it joins the transaction with the message. */
static void open_intent(struct exporter *exp, const struct flow_key *key,
			const struct flow_export_state *state, enum export_intent_kind kind)
{
	if (grow_array((void **)&exp->open_intents, &exp->open_cap, sizeof(*exp->open_intents),
		       exp->open_n + 1)) {
		exp->stats.map_errors++;
		return;
	}
	exp->open_intents[exp->open_n++] = (struct export_intent){ .key = *key, .state = *state,
								   .kind = kind };
}

/*
 * Move the open message and its intents into the transaction (committing the transaction first
 * when they do not fit), and start a new message.
 */
static void close_msg(struct exporter *exp)
{
	size_t len;
	int idx;

	if (ipfix_msg_empty(&exp->msg))
		return;
	len = ipfix_msg_finish(&exp->msg, 0, 0, 0);
	if (!journal_has_room(&exp->jr, len, (uint32_t)exp->open_n)) {
		struct ipfix_msg keep = exp->msg;

		/* The commit must not take the open message: it is not in the journal yet. */
		exp->msg.len = IPFIX_HEADER_LEN;
		exporter_commit(exp);
		exp->msg = keep;
	}
	idx = journal_add_msg(&exp->jr, exp->msgbuf, len, exp->msg.data_records,
			      exp->payload.flows, exp->payload.packets, exp->payload.octets);
	if (idx < 0) {
		exp->stats.encode_errors++;
		log_warnx("export journal: a %zu-octet message does not fit: %s", len,
			  strerror(-idx));
	} else {
		for (size_t i = 0; i < exp->open_n; i++)
			journal_add_intent(&exp->jr, &exp->open_intents[i].key,
					   &exp->open_intents[i].state, exp->open_intents[i].kind);
	}
	msg_reset(exp);
}

/* What the kernel did with the transaction's intents: the flowtable follows. */
static void txn_results(struct exporter *exp)
{
	const struct journal *jr = &exp->jr;

	for (uint32_t i = 0; i < jr->hdr.n_intents; i++) {
		const struct export_intent *in = &jr->intents[i];
		struct flow_state *st;

		if (in->kind != INTENT_END)
			continue;
		st = flowtable_find(&exp->table, &in->key);
		if (!st)
			continue;
		if (in->result != INTENT_GREW) {
			flowtable_remove(&exp->table, st);
			continue;
		}
		/* Packets arrived since its end record: it goes on from what that exported. */
		exp->stats.ends_grown++;
		st->ending = 0;
		st->packets = in->state.packets;
		st->octets = in->state.octets;
		st->last_export_ns = in->state.last_export_ns;
	}
}

/* The transaction's messages, as they are in the journal, to every collector. */
static void transmit(struct exporter *exp)
{
	struct ipfix_msg msgs[FLOWMETA_JOURNAL_MSGS];
	struct msg_payload payloads[FLOWMETA_JOURNAL_MSGS];
	struct journal *jr = &exp->jr;
	struct collector_batch b = { .n = jr->hdr.n_msgs, .msgs = msgs, .payloads = payloads };

	for (uint32_t i = 0; i < b.n; i++) {
		const struct journal_msg *m = &jr->hdr.msg[i];

		msgs[i] = (struct ipfix_msg){ .buf = (uint8_t *)journal_msg_bytes(jr, i),
					      .cap = m->len, .len = m->len,
					      .data_records = m->records };
		payloads[i] = (struct msg_payload){ m->flows, m->packets, m->octets };
	}
	collector_set_transmit(&exp->collectors, &b, jr, exp->now.mono_ns,
			       sendtrace_active(&exp->trace));
}

/*
 * The transaction: its messages to every collector (the journal committed before the first
 * datagram leaves), its intents applied in the kernel, the journal marked complete.
 */
static void exporter_commit(struct exporter *exp)
{
	int err;

	close_msg(exp);
	if (journal_empty(&exp->jr))
		return;
	transmit(exp);
	err = journal_apply(&exp->jr);
	if (err) {
		exp->stats.map_errors++;
		log_warnx("export journal: applying transaction %llu: %s",
			  (unsigned long long)exp->jr.hdr.txn, strerror(-err));
	}
	txn_results(exp);
	collector_set_record(&exp->collectors, &exp->jr);
	err = journal_finish(&exp->jr);
	if (err) {
		exp->stats.map_errors++;
		log_warnx("export journal: finishing transaction %llu: %s",
			  (unsigned long long)exp->jr.hdr.txn, strerror(-err));
	}
	journal_begin(&exp->jr);
}

/* Templates due somewhere (timer, reload, a collector back): a transaction of their own. */
static void exporter_refresh(struct exporter *exp)
{
	exporter_commit(exp);
	/* The refusals known before anything is published or decided (a down collector back). */
	collector_set_drain(&exp->collectors, exp->now.mono_ns);
	if (!collector_set_refresh_due(&exp->collectors, exp->now.mono_ns))
		return;
	transmit(exp);
	collector_set_record(&exp->collectors, &exp->jr);
	if (journal_finish(&exp->jr))
		exp->stats.map_errors++;
	journal_begin(&exp->jr);
}

/* ---- messages -------------------------------------------------------------------------------- */

static uint8_t forwarding_status(uint8_t verdict)
{
	switch (verdict) {
	case FLOW_VERDICT_FORWARDED:
		return IPFIX_FWD_FORWARDED;
	case FLOW_VERDICT_UNTRUSTED:
		return IPFIX_FWD_DROP_ACL_DROP;
	default:
		return IPFIX_FWD_DROP_ACL_DENY;
	}
}

/*
 * A record into the open message; false when the encoder refused it (counted, logged once). v
 * NULL: an aggregate with no flow behind it, timed now.
 */
static bool emit_record(struct exporter *exp, const struct flow_key *key,
			const struct flow_value *v, uint64_t packets, uint64_t octets,
			uint8_t reason)
{
	uint64_t now_ms = fm_epoch_ms(&exp->now, exp->now.mono_ns);
	struct ipfix_flow f = {
		.start_ms = v ? fm_jiffies_epoch_ms(&exp->now, v->first_seen_jiffies) : now_ms,
		.end_ms = v ? fm_jiffies_epoch_ms(&exp->now, v->last_seen_jiffies) : now_ms,
		.octets = octets,
		.packets = packets,
		.src_port = key->src_port,
		.dst_port = key->dst_port,
		.protocol = key->protocol,
		.ip_version = key->ip_version,
		.direction = key->direction,
		.end_reason = reason,
		.forwarding_status = forwarding_status(key->verdict),
		.tcp_flags = v ? v->tcp_flags : 0,
		.ingress_ifindex = key->direction == FLOW_DIR_INGRESS ? exp->ifindex : 0,
		.egress_ifindex = key->direction == FLOW_DIR_EGRESS ? exp->ifindex : 0,
	};
	int err;

	memcpy(f.src_addr, key->src_addr, sizeof(f.src_addr));
	memcpy(f.dst_addr, key->dst_addr, sizeof(f.dst_addr));
	err = ipfix_msg_add_flow(&exp->msg, &f);
	if (err == -ENOSPC) {
		close_msg(exp);
		err = ipfix_msg_add_flow(&exp->msg, &f);
	}
	if (err) {
		/* An empty message holds any record (ipfix.h): this is a key with no template
		 * (ip_version neither 4 nor 6), which the kernel never writes. */
		if (!exp->stats.encode_errors++) {
			char text[FLOW_KEY_TEXT_LEN];

			log_warnx("record %s: not encoded: %s (further ones only counted)",
				  flow_key_format(key, text, sizeof(text)), strerror(-err));
		}
		return false;
	}
	exp->payload.flows++;
	exp->payload.packets += packets;
	exp->payload.octets += octets;
	exp->stats.records[reason]++;
	if (log_verbosity() > 0) {
		char text[FLOW_KEY_TEXT_LEN];

		log_debug("record %s %s: %" PRIu64 " packets, %" PRIu64 " octets, flowEndReason %u",
			  flow_key_format(key, text, sizeof(text)), flow_verdict_name(key->verdict),
			  packets, octets, reason);
	}
	return true;
}

/* ---- per-flow decisions ---------------------------------------------------------------------- */

static bool exportable(const struct exporter *exp, const struct flow_key *key)
{
	if (!exp->exporting)
		return false;
	if (key->verdict != FLOW_VERDICT_FORWARDED)
		return true;
	switch (exp->direction) {
	case DIRECTION_SENDING_TO_PEER:
		return key->direction == FLOW_DIR_EGRESS;
	case DIRECTION_RECEIVED_FROM_PEER:
		return key->direction == FLOW_DIR_INGRESS;
	default:
		return true;
	}
}

/* CLOCK_MONOTONIC time of the start of a flow time's tick (the daemon's times are all in ns). */
static uint64_t flow_ns(const struct exporter *exp, uint64_t jiffies)
{
	return fm_jiffies_mono_ns(&exp->now, jiffies);
}

/* The map's time is not before the flow's last packet (the poll time can be, for a flow the batch
 * read found after the poll started): a restarted daemon checks it against first_seen. */
static struct flow_export_state state_now(const struct exporter *exp, const struct flow_value *v)
{
	uint64_t last = flow_ns(exp, v->last_seen_jiffies);

	return (struct flow_export_state){
		.packets = v->packets,
		.octets = v->octets,
		.last_export_ns = last > exp->now.mono_ns ? last : exp->now.mono_ns,
	};
}

/* The table holding the flow of key. */
static int flow_fd(const struct exporter *exp, const struct flow_key *key)
{
	if (key->verdict != FLOW_VERDICT_FORWARDED && exp->drop_flows_fd >= 0)
		return exp->drop_flows_fd;
	return exp->flows_fd;
}

/* The export state of a flow, or NULL when it has exported nothing (or the state was stale). */
static struct flow_state *exported_state(struct exporter *exp, const struct flow_key *key,
					 const struct flow_value *v)
{
	struct flow_state *st = flowtable_find(&exp->table, key);
	const struct flow_export_state none = { 0 };

	if (!st || !st->loaded)
		return st;
	if (st->last_export_ns < flow_ns(exp, v->first_seen_jiffies) || st->packets > v->packets ||
	    st->octets > v->octets) {
		exp->stats.stale_states++;
		txn_intent(exp, key, &none, INTENT_FORGET);
		flowtable_remove(&exp->table, st);
		return NULL;
	}
	st->loaded = 0;
	return st;
}

/*
 * End a flow whose folded value a read just gave: its end record (with what is new since its last
 * record; zero counts too when it had one, so its last record says how it ended), and the intent
 * that deletes it once the record has left. A flow whose end is already in the open transaction
 * (a duplicate hint) is left alone.
 */
static void end_flow(struct exporter *exp, const struct flow_key *key, const struct flow_value *v,
		     uint8_t reason)
{
	struct flow_export_state done = state_now(exp, v);
	struct flow_state *st = exported_state(exp, key, v);
	uint64_t packets, octets;
	bool had_record = st && (st->packets || st->last_export_ns);

	if (st && st->ending)
		return;
	packets = v->packets - (st ? st->packets : 0);
	octets = v->octets - (st ? st->octets : 0);
	exp->stats.ended[reason]++;
	if (!exportable(exp, key)) {
		exp->stats.filtered++;
		txn_intent(exp, key, &done, INTENT_END);
	} else if (!packets && !had_record) {
		exp->stats.zero_delta++;
		txn_intent(exp, key, &done, INTENT_END);
	} else if (emit_record(exp, key, v, packets, octets, reason)) {
		open_intent(exp, key, &done, INTENT_END);
	} else {
		txn_intent(exp, key, &done, INTENT_END);
	}
	/* Found again: a commit on the way (a full message or journal) may have moved it. */
	st = flowtable_insert(&exp->table, key);
	if (!st) {
		exp->stats.map_errors++;
		return;
	}
	st->ending = 1;
	st->seen = exp->gen;
}

static void interim_record(struct exporter *exp, const struct flow_key *key,
			   const struct flow_value *v, struct flow_state *st)
{
	uint64_t packets = v->packets - (st ? st->packets : 0);
	uint64_t octets = v->octets - (st ? st->octets : 0);
	struct flow_export_state saved = state_now(exp, v);

	if (st && st->ending)
		return;
	if (!exportable(exp, key)) {
		exp->stats.filtered++;
		return;
	}
	if (!packets) {
		exp->stats.zero_delta++;
		return;
	}
	if (!emit_record(exp, key, v, packets, octets, IPFIX_END_ACTIVE))
		return;
	open_intent(exp, key, &saved, INTENT_EXPORTED);
	/* Found again: a commit on the way (a full message or journal) may have moved it. */
	st = flowtable_insert(&exp->table, key);
	if (!st) {
		exp->stats.map_errors++;
		return;
	}
	st->packets = v->packets;
	st->octets = v->octets;
	st->last_export_ns = exp->now.mono_ns;
	st->seen = exp->gen;
}

static void due_push(struct exporter *exp, struct due_list *l, const struct flow_key *key,
		     uint64_t due_ns)
{
	if (l->len == EXPORTER_DUE_MAX) {
		exp->stats.hints_dropped++;
		return;
	}
	l->e[(l->head + l->len++) % EXPORTER_DUE_MAX] = (struct due_entry){ *key, due_ns };
}

static uint64_t since(uint64_t now, uint64_t then)
{
	return now > then ? now - then : 0;
}

static void poll_flow(struct exporter *exp, const struct flow_key *key,
		      const struct flow_value *percpu, void *ctx)
{
	uint64_t *live = ctx, now = exp->now.mono_ns, last_export, last;
	struct flow_state *st;
	struct flow_value v;

	(*live)++;
	if (!flow_value_fold(percpu, exp->ncpus, &v))
		return;
	last = flow_ns(exp, v.last_seen_jiffies);
	st = exported_state(exp, key, &v);
	if (st)
		st->seen = exp->gen;
	if (v.end_flags & (FLOW_END_FIN | FLOW_END_RST)) {
		if (since(now, last) >= EXPORTER_TCP_END_GRACE_NS) {
			end_flow(exp, key, &v, IPFIX_END_DETECTED);
			(*live)--;
		} else {
			due_push(exp, &exp->tcp_end, key, last + EXPORTER_TCP_END_GRACE_NS);
		}
		return;
	}
	if (since(now, last) >= exp->idle_ns) {
		end_flow(exp, key, &v, IPFIX_END_IDLE);
		(*live)--;
		return;
	}
	if (key->verdict != FLOW_VERDICT_FORWARDED) {
		interim_record(exp, key, &v, st);
		return;
	}
	last_export = st ? st->last_export_ns : flow_ns(exp, v.first_seen_jiffies);
	if (exp->interval_ns && since(now, last_export) + EXPORTER_SLACK_NS >= exp->interval_ns)
		interim_record(exp, key, &v, st);
}

/* ---- map scans ------------------------------------------------------------------------------- */

typedef void (*flow_fn)(struct exporter *exp, const struct flow_key *key,
			const struct flow_value *percpu, void *ctx);

static int grow_chunk(struct exporter *exp, uint32_t chunk)
{
	struct flow_key *keys = realloc(exp->keys, chunk * sizeof(*keys));
	struct flow_value *values;

	if (!keys)
		return -ENOMEM;
	exp->keys = keys;
	values = realloc(exp->values, (size_t)chunk * exp->ncpus * sizeof(*values));
	if (!values)
		return -ENOMEM;
	exp->values = values;
	exp->chunk = chunk;
	return 0;
}

/*
 * Call fn for every flow in the map fd, read in batches. The hash map's batch cursor is a bucket
 * index: entries deleted meanwhile (a transaction applied in the middle of the scan) do not
 * disturb it.
 */
static int scan_map(struct exporter *exp, int fd, flow_fn fn, void *ctx)
{
	__u32 in = 0, out = 0;
	bool first = true;

	for (;;) {
		__u32 count = exp->chunk;
		int err;

		err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, exp->keys,
					   exp->values, &count, NULL);
		if (err && err != -ENOENT) {
			/* One bucket holds more keys than a chunk: retry with a bigger one. */
			if (err == -ENOSPC && !count && !grow_chunk(exp, exp->chunk * 2))
				continue;
			return err;
		}
		for (__u32 i = 0; i < count; i++) {
			/* The export state of a flow a few keys ahead: its cache miss overlaps. */
			if (i + EXPORTER_PREFETCH < count)
				flowtable_prefetch(&exp->table, &exp->keys[i + EXPORTER_PREFETCH]);
			fn(exp, &exp->keys[i], &exp->values[(size_t)i * exp->ncpus], ctx);
		}
		if (err == -ENOENT)
			return 0;
		in = out;
		first = false;
	}
}

/* Both tables: forwarded flows, then drop flows. */
static int scan_flows(struct exporter *exp, flow_fn fn, void *ctx)
{
	int err = scan_map(exp, exp->flows_fd, fn, ctx);

	if (!err && exp->drop_flows_fd >= 0)
		err = scan_map(exp, exp->drop_flows_fd, fn, ctx);
	return err;
}

struct victim {
	struct flow_key key;
	struct flow_value v;
};

struct victims {
	struct victim *v;
	size_t n, cap;
};

static void collect_victim(struct exporter *exp, const struct flow_key *key,
			   const struct flow_value *percpu, void *ctx)
{
	struct victims *vs = ctx;
	struct flow_value v;

	if (grow_array((void **)&vs->v, &vs->cap, sizeof(*vs->v), vs->n + 1))
		return;
	if (!flow_value_fold(percpu, exp->ncpus, &v))
		return;
	vs->v[vs->n++] = (struct victim){ *key, v };
}

static int victim_cmp(const void *a, const void *b)
{
	const struct victim *x = a, *y = b;

	return x->v.last_seen_jiffies < y->v.last_seen_jiffies ? -1 : x->v.last_seen_jiffies > y->v.last_seen_jiffies;
}

/*
 * End the least recently seen flows of a table (flowEndReason 5) until it holds under
 * EXPORTER_TABLE_LOW_PCT of its max entries, if it holds at least AT_LEAST. The ends are committed
 * at once: the kernel deletes them in the same run, and the table has room again.
 */
static void evict(struct exporter *exp, int fd, uint64_t max, uint64_t at_least, const char *what)
{
	uint64_t keep = (max * EXPORTER_TABLE_LOW_PCT - 1) / 100, n;	/* most under LOW% */
	struct victims vs = { 0 };

	exporter_commit(exp);
	if (scan_map(exp, fd, collect_victim, &vs)) {
		exp->stats.map_errors++;
		log_warn("%s: reading the map for eviction", what);
	}
	if (vs.n < at_least) {
		free(vs.v);
		return;
	}
	n = vs.n > keep ? vs.n - keep : 0;
	qsort(vs.v, vs.n, sizeof(*vs.v), victim_cmp);
	for (size_t i = 0; i < n; i++)
		end_flow(exp, &vs.v[i].key, &vs.v[i].v, IPFIX_END_LACK_OF_RESOURCES);
	exporter_commit(exp);
	exp->stats.evictions++;
	if (n)
		log_warnx("%s holds %zu of %" PRIu64 " entries: ended the %" PRIu64 " least "
			  "recently seen flows (flowEndReason 5)", what, vs.n, max, n);
	free(vs.v);
}

/* The flow table at the high watermark after a poll: relieved before it is full. */
static void evict_if_full(struct exporter *exp, uint64_t live)
{
	uint64_t max = exp->max_entries;

	if (max && live * 100 >= max * EXPORTER_TABLE_HIGH_PCT)
		evict(exp, exp->flows_fd, max, 0, "flow table");
}

/*
 * Inserts the kernel refused so far, summed over CPUs: [0] forwarded packets that found `flows`
 * full, [1] drops that found `drop_flows` full. False if the counters cannot be read.
 */
static bool read_refused(struct exporter *exp, uint64_t refused[2])
{
	struct flowmeta_stats *percpu, k;
	const __u32 zero = 0;
	bool ok;

	if (exp->stats_fd < 0)
		return false;
	percpu = calloc((size_t)exp->ncpus, sizeof(*percpu));
	ok = percpu && !bpf_map_lookup_elem(exp->stats_fd, &zero, percpu);
	if (ok) {
		flowmeta_stats_fold(percpu, exp->ncpus, &k);
		refused[0] = k.table_full_packets;
		refused[1] = 0;
		for (int vd = 0; vd < 2; vd++)
			for (int dir = 0; dir < 2; dir++)
				refused[1] += k.drop_table_full_packets[vd][dir];
	}
	free(percpu);
	return ok;
}

/*
 * A table the kernel found full (FLOW_EVENT_TABLE_FULL, FLOW_EVENT_DROP_TABLE_FULL): relieved now,
 * not at the next poll. The kernel raises a few such events a second at most, so a relief is
 * followed by a look at its refused counters EXPORTER_RELIEF_RECHECK_NS later: a table that
 * refused inserts since, event or not, is relieved again if it is still full, and looked at again
 * later, until it refuses no more. A flood that ends leaves its table relieved within that time,
 * not full until the next poll (or until a packet of the next event window).
 */
static void relieve(struct exporter *exp)
{
	bool look = exp->relief_check_ns && exp->now.mono_ns >= exp->relief_check_ns;
	bool grew[2] = { false, false }, acted;
	uint64_t refused[2];
	bool counted;

	if (!exp->relieve_flows && !exp->relieve_drops && !look)
		return;
	/* Read before the eviction: what is refused while it runs is seen at the next look. */
	counted = read_refused(exp, refused);
	if (look && counted) {
		grew[0] = refused[0] != exp->refused[0];
		grew[1] = refused[1] != exp->refused[1];
	}
	/* An event says the table is full; a look relieves only a table still full. */
	if (exp->relieve_flows || grew[0])
		evict(exp, exp->flows_fd, exp->max_entries, exp->relieve_flows ? 0 : exp->max_entries,
		      "flow table");
	if ((exp->relieve_drops || grew[1]) && exp->drop_flows_fd >= 0)
		evict(exp, exp->drop_flows_fd, exp->drop_max_entries,
		      exp->relieve_drops ? 0 : exp->drop_max_entries, "drop flow table");
	acted = exp->relieve_flows || exp->relieve_drops || grew[0] || grew[1];
	exp->relieve_flows = exp->relieve_drops = false;
	exp->relief_check_ns = 0;
	if (acted && counted) {
		exp->refused[0] = refused[0];
		exp->refused[1] = refused[1];
		exp->relief_check_ns = exp->now.mono_ns + EXPORTER_RELIEF_RECHECK_NS;
	}
}

/*
 * Drops that found drop_flows full are counted per verdict and direction only: each poll exports
 * what is new of them as an aggregate drop record per verdict and direction, IPv4, addresses
 * 0.0.0.0, protocol 0 — flowEndReason 2 while the daemon runs, a last one with 4 (zero counts
 * if nothing is new) at its stop. What was exported is in the journal's header, committed with
 * the records.
 */
static void drop_full_records(struct exporter *exp, uint8_t reason)
{
	struct export_journal *h = &exp->jr.hdr;
	const struct flowmeta_stats *k = &exp->stats.kernel;
	bool any = false;

	for (int vd = 0; vd < 2; vd++) {
		for (int dir = 0; dir < 2; dir++) {
			uint64_t p = k->drop_table_full_packets[vd][dir];
			uint64_t o = k->drop_table_full_octets[vd][dir];
			struct flow_key key = { .ip_version = 4, .direction = (uint8_t)dir,
						.verdict = (uint8_t)(vd + 1) };

			if (p < h->drop_full_packets[vd][dir])	/* new counters (new maps) */
				h->drop_full_packets[vd][dir] = h->drop_full_octets[vd][dir] = 0;
			if (p == h->drop_full_packets[vd][dir] &&
			    (reason != IPFIX_END_FORCED || !p))
				continue;
			if (exportable(exp, &key))
				any |= emit_record(exp, &key, NULL, p - h->drop_full_packets[vd][dir],
						   o - h->drop_full_octets[vd][dir], reason);
		}
	}
	if (!any)
		return;
	/* The records are in the transaction before the header says they were exported. */
	close_msg(exp);
	for (int vd = 0; vd < 2; vd++)
		for (int dir = 0; dir < 2; dir++) {
			h->drop_full_packets[vd][dir] = k->drop_table_full_packets[vd][dir];
			h->drop_full_octets[vd][dir] = k->drop_table_full_octets[vd][dir];
		}
	exporter_commit(exp);
}

/*
 * Packets the kernel could not put in a flow, for the §4.2 record. The kernel stamps no time on
 * them: the first and last times are those of the reads that saw the counter grow, so within a
 * PollInterval after the packets (those counted before this daemon started: its first read).
 */
static void note_ignored(struct exporter *exp)
{
	struct collector_ignored *ig = &exp->collectors.ignored;
	uint64_t grew = exp->stats.kernel.table_full_packets - ig->packets;
	uint64_t now_ms = fm_epoch_ms(&exp->now, exp->now.mono_ns);

	if (exp->stats.kernel.table_full_packets <= ig->packets)
		return;
	if (!ig->first_ms)
		ig->first_ms = now_ms;
	ig->last_ms = now_ms;
	ig->packets = exp->stats.kernel.table_full_packets;
	ig->octets = exp->stats.kernel.table_full_octets;
	/* Not at the first poll: it also reads what was counted before this daemon started. */
	if (exp->stats.polls)
		log_warnx("flow table full: %" PRIu64 " packets of new flows not metered since the "
			  "last poll (reported as ignoredPacketTotalCount)", grew);
}

static void read_kernel_stats(struct exporter *exp)
{
	const __u32 zero = 0;
	struct flowmeta_stats *percpu;

	if (exp->stats_fd < 0)
		return;
	percpu = calloc((size_t)exp->ncpus, sizeof(*percpu));
	if (!percpu || bpf_map_lookup_elem(exp->stats_fd, &zero, percpu)) {
		exp->stats.map_errors++;
		free(percpu);
		return;
	}
	flowmeta_stats_fold(percpu, exp->ncpus, &exp->stats.kernel);
	free(percpu);
	note_ignored(exp);
}

/* The open transaction holds no end here (committed before the sweep): a commit the forgetting
 * triggers changes nothing in the flowtable the sweep walks. */
static void sweep_gone(void *ctx, const struct flow_key *key)
{
	struct exporter *exp = ctx;
	const struct flow_export_state none = { 0 };

	exp->stats.stale_states++;
	txn_intent(exp, key, &none, INTENT_FORGET);
}

int exporter_poll(struct exporter *exp, const struct fm_time *now)
{
	uint64_t live = 0, live_drops = 0;
	int err;

	exp->now = *now;
	exp->gen++;
	read_kernel_stats(exp);
	/* The flow table is relieved by its own occupancy: drop flows have their own table. */
	err = scan_map(exp, exp->flows_fd, poll_flow, &live);
	if (!err && exp->drop_flows_fd >= 0)
		err = scan_map(exp, exp->drop_flows_fd, poll_flow, &live_drops);
	/* The ends go first: eviction then counts only what stays. */
	exporter_commit(exp);
	if (err) {
		exp->stats.map_errors++;
		log_warnx("flows: batch read: %s", strerror(-err));
	} else {
		evict_if_full(exp, live);
		drop_full_records(exp, IPFIX_END_ACTIVE);
		/* A state whose flow the whole scan did not find belongs to no flow any more. */
		flowtable_sweep(&exp->table, exp->gen, sweep_gone, exp);
	}
	exporter_refresh(exp);
	exp->stats.polls++;
	exp->stats.live_flows = live + live_drops;
	return err;
}

/* ---- hints ----------------------------------------------------------------------------------- */

void exporter_hint(struct exporter *exp, const struct flow_event *ev)
{
	uint64_t at = flow_ns(exp, ev->timestamp_jiffies);

	exp->stats.hints++;
	if (ev->type == FLOW_EVENT_TCP_END)
		due_push(exp, &exp->tcp_end, &ev->key, at + EXPORTER_TCP_END_GRACE_NS);
	else if (ev->type == FLOW_EVENT_DROP)
		due_push(exp, &exp->drops, &ev->key, at + EXPORTER_DROP_DELAY_NS);
	else if (ev->type == FLOW_EVENT_TABLE_FULL)
		exp->relieve_flows = true;
	else if (ev->type == FLOW_EVENT_DROP_TABLE_FULL)
		exp->relieve_drops = true;
}

static bool due_pop(struct due_list *l, uint64_t now, struct flow_key *key)
{
	if (!l->len || l->e[l->head].due_ns > now)
		return false;
	*key = l->e[l->head].key;
	l->head = (l->head + 1) % EXPORTER_DUE_MAX;
	l->len--;
	return true;
}

/* The current value of one flow; false when it is not in the map. */
static bool read_flow(struct exporter *exp, const struct flow_key *key, struct flow_value *v)
{
	if (bpf_map_lookup_elem(flow_fd(exp, key), key, exp->one))
		return false;
	return flow_value_fold(exp->one, exp->ncpus, v);
}

void exporter_tick(struct exporter *exp, const struct fm_time *now)
{
	struct flow_value v;
	struct flow_key key;

	exp->now = *now;
	relieve(exp);
	/* Hints are only hints: the flow is read again and judged on what the map holds now. */
	while (due_pop(&exp->tcp_end, now->mono_ns, &key))
		if (read_flow(exp, &key, &v) && (v.end_flags & (FLOW_END_FIN | FLOW_END_RST)))
			end_flow(exp, &key, &v, IPFIX_END_DETECTED);
	while (due_pop(&exp->drops, now->mono_ns, &key))
		if (read_flow(exp, &key, &v) && key.verdict != FLOW_VERDICT_FORWARDED)
			interim_record(exp, &key, &v, exported_state(exp, &key, &v));
	exporter_refresh(exp);
}

uint64_t exporter_next_deadline(const struct exporter *exp)
{
	uint64_t next = collector_set_next_refresh(&exp->collectors);
	const struct due_list *lists[] = { &exp->tcp_end, &exp->drops };

	if (exp->relieve_flows || exp->relieve_drops)
		return 0;	/* now */
	if (exp->relief_check_ns && exp->relief_check_ns < next)
		next = exp->relief_check_ns;

	for (size_t i = 0; i < 2; i++)
		if (lists[i]->len && lists[i]->e[lists[i]->head].due_ns < next)
			next = lists[i]->e[lists[i]->head].due_ns;
	return next;
}

/* ---- forced end ------------------------------------------------------------------------------ */

static void flush_flow(struct exporter *exp, const struct flow_key *key,
		       const struct flow_value *percpu, void *ctx)
{
	struct flow_value v;
	uint64_t *ended = ctx;

	if (!flow_value_fold(percpu, exp->ncpus, &v))
		return;
	(*ended)++;
	end_flow(exp, key, &v, IPFIX_END_FORCED);
}

int exporter_flush_all(struct exporter *exp, const struct fm_time *now)
{
	uint64_t ended = 0;
	int err;

	exp->now = *now;
	read_kernel_stats(exp);
	err = scan_flows(exp, flush_flow, &ended);
	if (err) {
		exp->stats.map_errors++;
		log_warnx("flows: batch read: %s", strerror(-err));
	}
	exporter_commit(exp);
	drop_full_records(exp, IPFIX_END_FORCED);
	/* The final counts, notSent* included, reach the collectors before the exporter goes. */
	collector_set_force_refresh(&exp->collectors);
	exporter_refresh(exp);
	exp->stats.live_flows = 0;
	/* The pins go with this stop: the next start continues the streams from this file. */
	collector_set_record(&exp->collectors, &exp->jr);
	if (exp->state_path[0]) {
		int serr = streamstate_save(exp->state_path, exp->jr.hdr.coll,
					    exp->jr.hdr.n_collectors);

		if (serr)
			log_warnx("%s: %s; the collectors' streams will start again",
				  exp->state_path, strerror(-serr));
	}
	log_info("ended the %" PRIu64 " remaining flows (flowEndReason 4)", ended);
	return err;
}

/* ---- export states ------------------------------------------------------------------------- */

/*
 * Every entry of an export_state map into t, marked loaded (to be checked against its flow at the
 * first sight of it) and seen in gen. Negative errno.
 */
static int read_states(int fd, struct flowtable *t, uint32_t gen)
{
	struct flow_export_state vals[256];
	struct flow_key keys[256];
	__u32 in = 0, out = 0;
	bool first = true;
	int err;

	do {
		__u32 count = 256;

		err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, vals, &count, NULL);
		if (err && err != -ENOENT)
			return -errno;
		for (__u32 i = 0; i < count; i++) {
			struct flow_state *st = flowtable_insert(t, &keys[i]);

			if (!st)
				return -ENOMEM;
			st->packets = vals[i].packets;
			st->octets = vals[i].octets;
			st->last_export_ns = vals[i].last_export_ns;
			st->seen = gen;
			st->loaded = 1;
		}
		in = out;
		first = false;
	} while (!err);
	return 0;
}

/* ---- upgrade --------------------------------------------------------------------------------- */

/*
 * Flows of old maps per transaction: few enough that no transaction fills up before its chunk is
 * done (64 messages of at least 9 records each at the smallest message size, or 320 KiB of
 * messages: 40 of 8192 octets, 145 records each), so a commit always follows a whole chunk and
 * the journal's count of old flows exported is exact at every commit.
 */
#define EXPORTER_OLD_CHUNK 500

struct old_export {
	struct flowtable states;	/* the old export_state */
	uint64_t index, skip, in_chunk;
};

static void old_flow(struct exporter *exp, const struct flow_key *key,
		     const struct flow_value *percpu, void *ctx)
{
	struct old_export *ox = ctx;
	const struct flow_state *st;
	struct flow_value v;
	uint64_t packets, octets;

	if (++ox->index <= ox->skip || !flow_value_fold(percpu, exp->ncpus, &v))
		return;
	/* Layout 1 stamped CLOCK_MONOTONIC_COARSE ns (bpf_ktime_get_coarse_ns), not jiffies. */
	st = flowtable_find(&ox->states, key);
	if (st && (st->last_export_ns < v.first_seen_jiffies || st->packets > v.packets))
		st = NULL;	/* an earlier flow's state (the exporter's own rule) */
	v.first_seen_jiffies = fm_mono_jiffies(&exp->now, v.first_seen_jiffies);
	v.last_seen_jiffies = fm_mono_jiffies(&exp->now, v.last_seen_jiffies);
	packets = v.packets - (st ? st->packets : 0);
	octets = v.octets - (st ? st->octets : 0);
	exp->stats.old_flows++;
	exp->stats.ended[IPFIX_END_FORCED]++;
	if (!exportable(exp, key))
		exp->stats.filtered++;
	else if (packets || st)
		emit_record(exp, key, &v, packets, octets, IPFIX_END_FORCED);
	if (++ox->in_chunk < EXPORTER_OLD_CHUNK)
		return;
	close_msg(exp);
	exp->jr.hdr.old_exported = ox->index;
	exporter_commit(exp);
	ox->in_chunk = 0;
}

int exporter_export_old(struct exporter *exp, const struct flowmeta_old_maps *old,
			const struct fm_time *now)
{
	struct export_journal *h = &exp->jr.hdr;
	struct old_export ox = { 0 };
	int err;

	exp->now = *now;
	if (old->layout != 1) {
		log_warnx("maps of pin layout %u: not one this version reads", old->layout);
		return -EPROTO;
	}
	/* A crash in the middle of it: the flows already in committed transactions are skipped. */
	ox.skip = h->old_layout == old->layout ? h->old_exported : 0;
	h->old_layout = old->layout;
	h->old_exported = ox.skip;
	err = flowtable_init(&ox.states);
	if (!err && old->export_state >= 0)
		err = read_states(old->export_state, &ox.states, 0);
	if (!err)
		err = scan_map(exp, old->flows, old_flow, &ox);
	flowtable_free(&ox.states);
	if (err) {
		log_warnx("old flow table: %s; kept pinned for the next start", strerror(-err));
		exporter_commit(exp);
		return err;
	}
	close_msg(exp);
	h->old_exported = ox.index;
	exporter_commit(exp);
	log_info("exported the %" PRIu64 " flows of the earlier version's table (flowEndReason 4%s)",
		 ox.index - ox.skip, ox.skip ? ", after a restart in the middle" : "");
	return 0;
}

void exporter_old_released(struct exporter *exp)
{
	exp->jr.hdr.old_layout = 0;
	exp->jr.hdr.old_exported = 0;
}

/* ---- setup ----------------------------------------------------------------------------------- */

static void load_state(struct exporter *exp)
{
	if (read_states(exp->state_fd, &exp->table, exp->gen)) {
		log_warn("export_state: reading what an earlier daemon exported");
		return;
	}
	if (flowtable_count(&exp->table))
		log_info("continuing %zu flows from the export state of an earlier daemon",
			 flowtable_count(&exp->table));
}

/*
 * Who this exporter is to collectors: the interface's name and description, and the Observation
 * Domain, configured or derived from the interface (ifinfo.h). Read at start and at every reload:
 * an address added since changes a derived domain (a new sequence stream, logged).
 */
static void read_identity(const struct exporter *exp, const struct config *cfg,
			  struct collector_identity *id)
{
	const struct collector_identity *old = &exp->collectors.id;
	struct ifinfo info;
	int err = ifinfo_read(exp->ifindex, &info);

	*id = (struct collector_identity){ .ifindex = exp->ifindex };
	if (err)
		log_warnx("interface %u: %s; no interface name for collectors", exp->ifindex,
			  strerror(-err));
	snprintf(id->ifname, sizeof(id->ifname), "%s", info.name);
	snprintf(id->ifdesc, sizeof(id->ifdesc), "%s", info.description);
	if (cfg->observation_domain_id != CONFIG_DOMAIN_DERIVED) {
		id->observation_domain_id = (uint32_t)cfg->observation_domain_id;
		return;
	}
	id->observation_domain_id = info.domain;
	if (info.domain == old->observation_domain_id && old->ifindex)
		return;
	if (info.domain_from_address)
		log_info("ObservationDomainId %" PRIu32 ", derived from %s on %s",
			 info.domain, info.domain_source, info.name);
	else
		log_warnx("ObservationDomainId %" PRIu32 ", derived from %s: %s has no address, "
			  "so nodes sharing this machine would share it; set ObservationDomainId",
			  info.domain, info.domain_source, id->ifname[0] ? id->ifname : "the interface");
}

int exporter_configure(struct exporter *exp, const struct config *cfg, const struct fm_time *now)
{
	struct collector_identity id;
	int err;

	exp->now = *now;
	/* Records of the old settings leave first (a new domain must not carry them). */
	exporter_commit(exp);
	read_identity(exp, cfg, &id);
	err = collector_set_apply(&exp->collectors, cfg, &id);
	if (err)
		return err;
	msg_reset(exp);
	exp->exporting = exp->collectors.n > 0;
	exp->direction = cfg->direction;
	exp->interval_ns = cfg->interval_ms * NSEC_PER_MSEC;
	exp->idle_ns = cfg->idle_timeout_ms * NSEC_PER_MSEC;
	/* Templates now, in their own messages: at start and after every reload. */
	exporter_refresh(exp);
	return 0;
}

/*
 * Where each collector's stream of the earlier daemon stands: after its last transaction when that
 * finished; otherwise before the interrupted one plus the datagrams the send trace says left.
 */
static uint32_t resume_points(const struct exporter *exp, struct journal_collector *out)
{
	const struct journal *jr = &exp->jr;
	const struct export_journal *h = jr->old ? jr->old : &jr->hdr;
	uint32_t n = h->n_collectors < FLOWMETA_MAX_COLLECTORS ? h->n_collectors : 0;

	if (!h->txn) {
		/* A fresh journal: the streams a clean stop saved, if any. */
		int got = exp->state_path[0] ? streamstate_load(exp->state_path, out,
								FLOWMETA_MAX_COLLECTORS) : 0;

		return got > 0 ? (uint32_t)got : 0;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct journal_collector *r = &out[i];
		uint32_t sent = jr->old ? journal_dgrams_sent(jr, &h->coll[i]) : 0;

		*r = h->coll[i];
		for (uint32_t d = 0; d < sent; d++) {
			const struct journal_dgram *g = &r->dgram[d];

			r->seq += g->records;
			r->cnt.messages++;
			r->cnt.records += g->records;
			r->cnt.octets += g->len;
			if (g->msg == FLOWMETA_JOURNAL_TEMPLATES)
				r->cnt.template_messages++;
			else
				r->cnt.flow_records += g->records;
		}
		r->n_dgrams = 0;
	}
	return n;
}

/*
 * The interrupted transaction of an earlier daemon, finished: each collector that was in it gets
 * the data messages the send trace says it did not get (after its templates), and every intent is
 * applied again — in a new transaction of their own, so a crash now is recovered the same way.
 */
static void recover(struct exporter *exp)
{
	struct journal *jr = &exp->jr;
	const struct export_journal *old = jr->old;
	int16_t moved[FLOWMETA_JOURNAL_MSGS];
	uint64_t owed_records = 0;

	memset(moved, -1, sizeof(moved));
	journal_begin(jr);
	for (uint32_t i = 0; i < old->n_collectors; i++) {
		const struct journal_collector *oc = &old->coll[i];
		struct collector *c = collector_set_find(&exp->collectors, oc);
		uint32_t sent = journal_dgrams_sent(jr, oc);

		for (uint32_t d = sent; d < oc->n_dgrams; d++) {
			uint16_t m = oc->dgram[d].msg;

			if (m == FLOWMETA_JOURNAL_TEMPLATES || m >= old->n_msgs)
				continue;
			owed_records += oc->dgram[d].records;
			if (!c)
				continue;
			if (moved[m] < 0) {
				const struct journal_msg *om = &old->msg[m];

				moved[m] = (int16_t)journal_add_msg(jr, journal_old_msg_bytes(jr, m),
								    om->len, om->records, om->flows,
								    om->packets, om->octets);
			}
			if (moved[m] >= 0) {
				c->owed_only = true;
				c->owed |= 1ULL << moved[m];
			}
		}
	}
	for (uint32_t i = 0; i < old->n_intents; i++)
		journal_add_intent(jr, &jr->old_intents[i].key, &jr->old_intents[i].state,
				   jr->old_intents[i].kind);
	log_info("finishing transaction %llu an earlier daemon left: %u message(s) and %" PRIu64
		 " data record(s) still owed to its collectors, %u map change(s)",
		 (unsigned long long)old->txn, jr->hdr.n_msgs, owed_records, old->n_intents);
	journal_drop_old(jr);
	exp->stats.recovered_txns++;
	/* Collectors that are owed nothing get no data from this transaction. */
	for (size_t i = 0; i < exp->collectors.n; i++)
		if (!exp->collectors.c[i]->owed)
			exp->collectors.c[i]->owed_only = true;
	exporter_commit(exp);
}

struct exporter *exporter_new(const struct flowmeta_maps *maps, unsigned int ifindex,
			      const struct config *cfg, const struct fm_time *now,
			      const char *state_path)
{
	struct bpf_map_info info = { 0 };
	__u32 info_len = sizeof(info), chunk;
	struct collector_identity id;
	struct exporter *exp;
	int err;

	exp = calloc(1, sizeof(*exp));
	if (!exp)
		goto oom;
	exp->flows_fd = maps->flows;
	exp->drop_flows_fd = maps->drop_flows;
	exp->stats_fd = maps->stats;
	exp->state_fd = maps->export_state;
	exp->ifindex = ifindex;
	exp->trace.link_fd = -1;
	if (state_path)
		snprintf(exp->state_path, sizeof(exp->state_path), "%s", state_path);
	exp->ncpus = libbpf_num_possible_cpus();
	if (exp->ncpus <= 0) {
		log_warnx("cannot tell the number of possible CPUs: %s", strerror(-exp->ncpus));
		free(exp);
		return NULL;
	}
	if (bpf_obj_get_info_by_fd(exp->flows_fd, &info, &info_len)) {
		log_warn("flows: map info");
		free(exp);
		return NULL;
	}
	exp->max_entries = info.max_entries;
	info = (struct bpf_map_info){ 0 };
	info_len = sizeof(info);
	if (exp->drop_flows_fd >= 0 && !bpf_obj_get_info_by_fd(exp->drop_flows_fd, &info, &info_len))
		exp->drop_max_entries = info.max_entries;
	/* Batches sized by bytes: the buffer does not grow with the number of possible CPUs. */
	chunk = sizing_batch_keys(SIZING_BATCH_BYTES, &flow_table_shapes[FLOW_TABLE_FLOWS],
				  (unsigned int)exp->ncpus, exp->max_entries);
	if (collector_set_init(&exp->collectors) || flowtable_init(&exp->table) ||
	    grow_chunk(exp, chunk))
		goto oom;
	exp->one = calloc((size_t)exp->ncpus, sizeof(*exp->one));
	exp->msgbuf = malloc(IPFIX_MAX_MESSAGE);
	if (!exp->one || !exp->msgbuf)
		goto oom;
	msg_reset(exp);
	err = journal_open(&exp->jr, maps, maps->prog_export_apply, exp->ncpus);
	if (err) {
		log_warnx("export journal: %s", strerror(-err));
		exporter_free(exp);
		return NULL;
	}
	/* The sockets of a dead daemon are gone; their slots' counts stay for recovery. */
	bpfmap_delete_keys(maps->trace_socks, NULL, NULL);
	sendtrace_start(&exp->trace, maps->prog_send_trace, maps->trace_socks);
	exp->collectors.trace = &exp->trace;
	/* Where each collector's stream stood, so it continues (and keeps its source port). */
	exp->collectors.n_resume = resume_points(exp, exp->collectors.resume);
	read_identity(exp, cfg, &id);
	err = collector_set_apply(&exp->collectors, cfg, &id);
	if (err)
		goto oom;
	if (journal_pending(&exp->jr))
		recover(exp);
	else
		journal_begin(&exp->jr);
	load_state(exp);
	if (exporter_configure(exp, cfg, now))
		goto oom;
	return exp;
oom:
	log_warnx("exporter: out of memory");
	exporter_free(exp);
	return NULL;
}

void exporter_free(struct exporter *exp)
{
	if (!exp)
		return;
	collector_set_free(&exp->collectors);
	sendtrace_stop(&exp->trace);
	journal_close(&exp->jr);
	flowtable_free(&exp->table);
	free(exp->keys);
	free(exp->values);
	free(exp->one);
	free(exp->open_intents);
	free(exp->msgbuf);
	free(exp);
}

const struct exporter_stats *exporter_get_stats(const struct exporter *exp)
{
	return &exp->stats;
}

const struct collector_set *exporter_collectors(const struct exporter *exp)
{
	return &exp->collectors;
}

bool exporter_exporting(const struct exporter *exp)
{
	return exp->exporting;
}
