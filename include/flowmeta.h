/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Types shared by the kernel programs (bpf/) and the daemon (user/): the flow key and value kept in
 * the per-CPU flow map, the events pushed through the ring buffer and the per-CPU counters.
 * Both sides include this file; nothing here is ever mirrored by hand.
 */
#ifndef FLOWMETA_H
#define FLOWMETA_H

#include <linux/types.h>

#define FLOWMETA_DEFAULT_MAX_FLOWS	65536
#define FLOWMETA_EVENTS_BYTES		(256 * 1024)	/* ring buffer size, a power of two */
#define FLOWMETA_MAX_FRAGS		4096		/* first fragments remembered for ports */

/*
 * Drop flows (verdict not FORWARDED) live in their own table, `drop_flows`, so that denied traffic
 * can never take the flow table from forwarded traffic. Its capacity is MaxFlows >> 3 (an eighth
 * of the flow table; MaxFlowMemory bounds both), at least FLOWMETA_MIN_DROP_FLOWS. When it is full,
 * a drop is still counted exactly, in struct flowmeta_stats.drop_table_full_*, which the daemon
 * exports as aggregate drop records (per verdict and direction).
 */
#define FLOWMETA_DROP_FLOWS_SHIFT	3
#define FLOWMETA_MIN_DROP_FLOWS		256

static inline __u32 flowmeta_drop_flows_capacity(__u32 max_flows)
{
	__u32 n = max_flows >> FLOWMETA_DROP_FLOWS_SHIFT;

	return n > FLOWMETA_MIN_DROP_FLOWS ? n : FLOWMETA_MIN_DROP_FLOWS;
}

/*
 * How deep the parser reads. VLAN tag stacks (any mix of 802.1Q and 802.1ad, any VID) and IPv6
 * extension-header chains are walked to their end, however long, within the frame. The headers
 * are then read where they are: up to this many octets into the frame. A frame of an IP or VLAN
 * type whose IP or transport header starts beyond it is "unparseable" (counted; dropped while a
 * policy is in force: the parser cannot say what it carries).
 */
#define FLOWMETA_MAX_HEADER_OFFSET	0x4000

/* Values equal IPFIX flowDirection (IE 61), so the exporter copies the field as it is. */
enum flow_direction {
	FLOW_DIR_INGRESS = 0,	/* ReceivedFromPeer */
	FLOW_DIR_EGRESS = 1,	/* SendingToPeer */
};

/* Why a frame was not forwarded; part of the key so dropped traffic gets its own records. */
enum flow_verdict {
	FLOW_VERDICT_FORWARDED = 0,	/* forwardingStatus 64 */
	FLOW_VERDICT_ACL_DENY = 1,	/* forwardingStatus 129: no access-control rule allows it */
	FLOW_VERDICT_UNTRUSTED = 2,	/* forwardingStatus 130: peer's trust requirements not met */
};

/* Flow-end signals seen by the kernel (struct flow_value.end_flags). */
enum flow_end_flag {
	FLOW_END_FIN = 1 << 0,	/* TCP FIN seen in this flow's direction */
	FLOW_END_RST = 1 << 1,	/* TCP RST seen */
};

/*
 * Unidirectional flow key. Zero-initialise it whole before filling: the hash covers every byte.
 * IPv4 addresses occupy the first 4 bytes of the 16-byte fields, the rest stays zero.
 */
struct flow_key {
	__u8 src_addr[16];	/* network byte order */
	__u8 dst_addr[16];	/* network byte order */
	__u16 src_port;		/* host order; 0 for ICMP and protocols without ports */
	__u16 dst_port;		/* host order; ICMP/ICMPv6: type << 8 | code */
	__u8 protocol;		/* IP protocol number (final next-header for IPv6) */
	__u8 ip_version;	/* 4 or 6 */
	__u8 direction;		/* enum flow_direction */
	__u8 verdict;		/* enum flow_verdict */
};
_Static_assert(sizeof(struct flow_key) == 40, "flow_key layout is shared with the kernel");

/*
 * One CPU's share of a flow (the map is per-CPU: the daemon sums packets, octets and flags and takes
 * the earliest first_seen_jiffies and latest last_seen_jiffies over CPUs whose packets count is
 * non-zero). The times are the flow clock of bpf/flow.h: the kernel's jiffies (bpf_jiffies64), the
 * tick of the packet; user/clock.h converts them to CLOCK_MONOTONIC and epoch milliseconds.
 */
struct flow_value {
	__u64 packets;
	__u64 octets;		/* IP total length: IP header and payload, no L2 */
	__u64 first_seen_jiffies;	/* jiffies of the first packet */
	__u64 last_seen_jiffies;	/* jiffies of the last packet */
	__u8 tcp_flags;		/* OR of the TCP flags of all packets */
	__u8 end_flags;		/* enum flow_end_flag */
	__u8 pad[6];
};
_Static_assert(sizeof(struct flow_value) == 40, "flow_value layout is shared with the kernel");
_Static_assert(sizeof(struct flow_value) % 8 == 0, "per-CPU values are laid out 8-byte aligned");

enum flow_event_type {
	FLOW_EVENT_TCP_END = 1,	/* first FIN or RST of a flow on this CPU: export it promptly */
	FLOW_EVENT_DROP = 2,	/* first drop of a flow by the policy: export a drop record promptly */
	/*
	 * `flows` (`drop_flows`) refused an insert: it is full, relieve it now rather than at the
	 * next poll. The key is all zero. At most FLOWMETA_TABLE_FULL_EVENTS_PER_WINDOW of each
	 * per CPU per window (FLOWMETA_DROP_EVENT_WINDOW_SHIFT); the refused packets are counted
	 * exactly all the same (table_full_*, drop_table_full_*).
	 */
	FLOW_EVENT_TABLE_FULL = 3,
	FLOW_EVENT_DROP_TABLE_FULL = 4,
};

/* Ring-buffer event: only a hint to look at key soon; the counts always come from the flow map. */
struct flow_event {
	struct flow_key key;
	__u64 timestamp_jiffies;	/* the flow clock (jiffies), like the flow times */
	__u32 type;		/* enum flow_event_type */
	__u32 pad;
};
_Static_assert(sizeof(struct flow_event) == 56, "flow_event layout is shared with the kernel");

/*
 * How the daemon relates the flow clock (jiffies) to CLOCK_MONOTONIC: the context of the syscall
 * program flowmeta_clock (bpf/clock.bpf.c), run with BPF_PROG_RUN. Without edge it reads jiffies
 * and then bpf_ktime_get_ns() once; with edge it reads both in a loop until jiffies changes, so
 * that the new tick began between before_ns and mono_ns.
 */
#define FLOWMETA_CLOCK_SPINS	(1U << 22)	/* reads at most: longer than a tick at HZ >= 24 */

struct flow_clock_sample {
	__u64 jiffies;		/* out: the tick current at mono_ns */
	__u64 mono_ns;		/* out: bpf_ktime_get_ns(), CLOCK_MONOTONIC, after reading jiffies */
	__u64 before_ns;	/* out, edge: the last read that still saw jiffies - 1 */
	__u32 edge;		/* in: wait for the next tick */
	__u32 found;		/* out, edge: the tick changed within FLOWMETA_CLOCK_SPINS reads */
};
_Static_assert(sizeof(struct flow_clock_sample) == 32, "flow_clock_sample is shared");

/*
 * Per-CPU counters (one element of a per-CPU array): what was not, or not fully, metered. Every
 * field is a __u64 (user/flowvalue.c folds them as an array). "While a policy is in force" means
 * while the outer map `policy` holds a generation.
 */
struct flowmeta_stats {
	__u64 not_ip;			/* ARP, LLDP, ...: passed untouched */
	__u64 malformed;		/* IP header (chain) truncated or invalid: not metered */
	__u64 truncated_l4;		/* transport header cut short: metered with ports 0 */
	__u64 fragments;		/* IP fragments seen (first and later ones) */
	__u64 table_full_packets;	/* forwarded packets of new flows that found `flows` full */
	__u64 table_full_octets;
	__u64 events_lost;		/* events the ring could not take, drop hints over budget */
	/*
	 * Frames dropped while a policy is in force: the packets of drop flows (those counted in
	 * drop_table_full_* included) plus fail_closed.
	 */
	__u64 policy_dropped;
	__u64 unparseable;		/* IP or VLAN frames the parser cannot walk: no flow */
	__u64 fail_closed;		/* malformed, unparseable frames dropped under a policy */
	/*
	 * Drops that found `drop_flows` full, [verdict - 1][direction]: the daemon exports them as
	 * aggregate drop records (no flow key).
	 */
	__u64 drop_table_full_packets[2][2];
	__u64 drop_table_full_octets[2][2];
};
_Static_assert(sizeof(struct flowmeta_stats) == 18 * 8, "flowmeta_stats is shared with the kernel");
_Static_assert(FLOW_VERDICT_UNTRUSTED == 2, "drop_table_full_* has a row per drop verdict");

/*
 * What the daemon already exported of a flow that had interim records, kept in a pinned map the
 * kernel programs never touch, so a restarted daemon neither re-exports nor forgets counts.
 */
struct flow_export_state {
	__u64 packets;		/* sums already exported */
	__u64 octets;
	__u64 last_export_ns;	/* CLOCK_MONOTONIC time of the last record */
};
_Static_assert(sizeof(struct flow_export_state) == 24, "flow_export_state layout is shared");

/*
 * What a running daemon publishes about itself after every poll, for `flowmeta status` (pinned maps
 * `daemon_status`, one element, and `collector_status`, one element per configured collector).
 * The kernel programs never touch them; they are declared with the others to be pinned and
 * BTF-typed, so `bpftool map dump` shows them too.
 */
#define FLOWMETA_MAX_COLLECTORS 32

struct daemon_status {
	__u64 pid;
	__u64 updated_ms;		/* epoch ms of this snapshot */
	__u64 polls;
	__u64 live_flows;		/* flows in the table after the last poll */
	__u64 flow_records;		/* flow records encoded, all end reasons */
	__u64 flows_ended;		/* flows ended (and deleted), exported or not */
	__u64 hints;			/* ring-buffer events received */
	__u64 map_errors;
	__u32 n_collectors;
	__u32 exporting;		/* 1: Enabled with at least one collector */
	__u64 encode_errors;		/* records the IPFIX encoder refused (logged once) */
	__u64 evictions;		/* times a full table was relieved (flowEndReason 5) */
	__u64 ends_grown;		/* ended flows that got a packet before their delete */
	__u64 recovered_txns;		/* export transactions an earlier daemon left, finished */
};
_Static_assert(sizeof(struct daemon_status) == 104, "daemon_status layout is shared");

struct collector_status {
	char spec[128];			/* "Udp/ADDRESS:PORT" as configured */
	__u64 messages;			/* messages sent, templates included */
	__u64 records;			/* data records on the wire, refused too (the sequence) */
	__u64 flow_records;
	__u64 octets;
	__u64 send_errors;		/* messages not sent: refused by ICMP, failed or not tried */
	__u64 not_sent_flows;		/* flow records this collector did not get */
	__u64 not_sent_packets;
	__u64 not_sent_octets;
	__u64 refused;			/* of send_errors: refused by an ICMP error */
	__u64 refused_unquoted;		/* of refused: the error quoted no message it remembers */
	__u32 down;			/* 1: its last send failed */
	__u32 pad;
};
_Static_assert(sizeof(struct collector_status) % 8 == 0, "map values are 8-byte aligned");

/*
 * Who owns the pins of a pin directory (the pinned one-element array `flowmeta_owner`, written by
 * the loader only, user/pins.c): flowmeta never replaces, deletes or leaves behind a pin that is
 * not recorded here, so another tool's pins in a shared bpffs directory are never touched. A pin
 * is flowmeta's when a record of its name holds its kernel object id (id, or next_id while it is
 * being replaced: a crash at any step leaves the pin recognised). The record format is stable
 * across versions; layout says what each pinned object means:
 *   1  flowmeta 0.1.0, whose directories have no marker (recognised by their `flows` map)
 *   2  this layout: drop_flows, the new stats counters, event_budget, the marker
 * A run replaces the objects of an older layout, keeping that layout's flow table, export state
 * and stats pinned as old<layout>_<name> until the daemon has exported their counts.
 */
#define FLOWMETA_PIN_MAGIC	0x6174656d776f6c66ULL	/* "flowmeta" in memory order */
#define FLOWMETA_PIN_LAYOUT	2
#define FLOWMETA_PIN_NAME_LEN	24
#define FLOWMETA_MAX_PINS	48

enum pin_kind {
	PIN_KIND_MAP = 1,
	PIN_KIND_PROG = 2,
	PIN_KIND_LINK = 3,	/* a BPF link (tcx) */
};

struct pin_record {
	char name[FLOWMETA_PIN_NAME_LEN];	/* NUL-terminated; empty: a free slot */
	__u32 id;		/* kernel id of the pinned object */
	__u32 next_id;		/* the object replacing it, while it is being pinned */
	__u16 kind;		/* enum pin_kind */
	__u16 layout;		/* FLOWMETA_PIN_LAYOUT of the version that created the object */
	__u32 pad;
};
_Static_assert(sizeof(struct pin_record) == 40, "pin_record layout is stable");

struct pin_owner {
	__u64 magic;		/* FLOWMETA_PIN_MAGIC */
	__u32 layout;		/* FLOWMETA_PIN_LAYOUT of the version that last wrote it */
	__u32 created_dirs;	/* directory levels flowmeta created, the pin directory first */
	struct pin_record pins[FLOWMETA_MAX_PINS];
};
_Static_assert(sizeof(struct pin_owner) == 16 + 40 * FLOWMETA_MAX_PINS, "pin_owner is stable");

/* Key of the fragment map: which first fragment later fragments belong to. */
struct frag_key {
	__u8 src_addr[16];
	__u8 dst_addr[16];
	__u32 id;		/* IPv4 identification or IPv6 fragment header identification */
	__u8 protocol;
	__u8 ip_version;
	__u8 direction;
	__u8 pad;
};
_Static_assert(sizeof(struct frag_key) == 40, "frag_key layout is shared with the kernel");

/*
 * What a first fragment tells the later ones: its ports and the transport protocol found after any
 * IPv6 extension headers that follow the fragment header (a later fragment only sees the first).
 */
struct frag_ports {
	__u16 src_port;
	__u16 dst_port;
	__u8 protocol;
	__u8 verdict;		/* enum flow_verdict of the first fragment: the later ones get it */
	__u8 pad[2];
};
_Static_assert(sizeof(struct frag_ports) == 8, "frag_ports layout is shared with the kernel");

/*
 * Access-control policy and trust requirements (SPEC §6): user/policy.c compiles the configuration
 * into the maps `policy`, `policy_peers` and `policy_conns`; bpf/policy.h judges each packet.
 */
#define FLOWMETA_POLICY_MAX_RULES	256	/* rule indexes of the bitmaps in struct policy_peer */
#define FLOWMETA_POLICY_MAX_PREFIXES	16512	/* distinct peer prefixes of one policy */
#define FLOWMETA_POLICY_MAX_CONNS	65536	/* connections remembered for their replies */
/*
 * Drop events: at most this many per CPU per window of 2^SHIFT ns (~1.07 s) of CLOCK_MONOTONIC at
 * tick resolution (bpf_ktime_get_coarse_ns, read only on the paths that raise such events).
 */
#define FLOWMETA_DROP_EVENTS_PER_WINDOW	512
#define FLOWMETA_DROP_EVENT_WINDOW_SHIFT 30
/* Table-full events, of each kind, per CPU per window: a few, enough to wake the daemon. */
#define FLOWMETA_TABLE_FULL_EVENTS_PER_WINDOW 4

enum policy_flag {
	POLICY_F_ACL = 1 << 0,	/* AccessControl enabled: what no rule allows is dropped */
};

/* What a rule's Protocol covers; only TCP and UDP rules have ports. */
enum policy_class {
	POLICY_CLASS_TCP = 0,
	POLICY_CLASS_UDP,
	POLICY_CLASS_ICMP,	/* ICMP in IPv4, ICMPv6 in IPv6 */
	POLICY_CLASS_OTHER,
	POLICY_CLASSES,
};

struct policy_ports {
	__u16 min;
	__u16 max;
};

/*
 * One generation of the policy: the value of the one-element array that the outer map `policy`
 * points to while it is in force (no inner map: no policy at all).
 */
struct policy_header {
	__u32 gen;		/* generation; its low bit selects the half of policy_peers in use */
	__u32 flags;		/* enum policy_flag */
	struct policy_ports ports[FLOWMETA_POLICY_MAX_RULES];	/* of rules with a port range */
};
_Static_assert(sizeof(struct policy_header) == 8 + 4 * FLOWMETA_POLICY_MAX_RULES,
	       "policy_header layout is shared with the kernel");

/*
 * Key of the LPM trie `policy_peers`: prefixlen counts the bits of slot and ip_version (16) plus
 * the prefix length. IPv4 addresses occupy the first 4 bytes of addr.
 */
struct policy_peer_key {
	__u32 prefixlen;
	__u8 slot;		/* generation & 1 */
	__u8 ip_version;	/* 4 or 6 */
	__u8 addr[16];
	__u8 pad[2];		/* never matched: no prefix reaches it */
};
_Static_assert(sizeof(struct policy_peer_key) == 24, "policy_peer_key layout is shared");
#define POLICY_PEER_KEY_BITS 16	/* slot and ip_version, before the address */

/*
 * What the policy says about the peers inside one prefix: the union over every prefix of the
 * policy that contains it (the trie returns only the longest match, so userspace folds in the
 * shorter ones). Direction index: enum flow_direction of the packet the rule opens with.
 */
struct policy_peer {
	__u8 untrusted;		/* inside an UntrustedPeers prefix */
	__u8 allow_all;		/* bit direction * POLICY_CLASSES + class: a rule allows every port */
	__u8 pad[6];
	/* [direction][TCP, UDP]: bitmap of the rules with a port range (ranges in the header) */
	__u64 port_rules[2][2][FLOWMETA_POLICY_MAX_RULES / 64];
};
_Static_assert(sizeof(struct policy_peer) == 136, "policy_peer layout is shared");

/*
 * A remembered connection (LRU hash `policy_conns`), keyed from this node's side so that both
 * directions of a connection find it. ICMP echo: ports 0.
 */
struct policy_conn_key {
	__u8 local_addr[16];
	__u8 peer_addr[16];
	__u16 local_port;
	__u16 peer_port;
	__u8 protocol;
	__u8 ip_version;
	__u8 pad[2];
};
_Static_assert(sizeof(struct policy_conn_key) == 40, "policy_conn_key layout is shared");

struct policy_conn {
	__u64 last_seen_ns;	/* bpf_ktime_get_coarse_ns(), refreshed at most once a second */
	__u32 gen;		/* policy generation that last allowed its opening */
	__u8 open_direction;	/* enum flow_direction of the packet that opened it */
	__u8 pad[3];
};
_Static_assert(sizeof(struct policy_conn) == 16, "policy_conn layout is shared");

/* Per-CPU budget of the rate-limited events in the current window (`event_budget`). */
struct event_budget {
	__u64 window;		/* coarse ns >> FLOWMETA_DROP_EVENT_WINDOW_SHIFT */
	__u64 drop_events;	/* FLOW_EVENT_DROP raised in it */
	__u64 table_full_events;	/* FLOW_EVENT_TABLE_FULL */
	__u64 drop_table_full_events;	/* FLOW_EVENT_DROP_TABLE_FULL */
};
_Static_assert(sizeof(struct event_budget) == 32, "event_budget layout is shared");

/*
 * Crash-safe export (user/journal.c, bpf/export.h). The daemon exports in transactions: a batch of
 * IPFIX messages and what they change in the maps ("intents": a flow's exported sums, a flow that
 * ends) is written to the pinned journal before anything is sent; then every collector gets its
 * datagrams; then the kernel program flowmeta_export_apply applies the intents in one run (a crash
 * cannot stop it half-way); then the journal is marked idle. A daemon that finds the journal
 * pending after a crash knows from send_trace which datagrams of the batch left for each
 * collector, and makes a new transaction of what is still owed (the datagrams not sent, all the
 * intents: they are idempotent). The intents and chunks maps hold two halves: a transaction is
 * written into the half its predecessor does not use, so the header, written last, switches from
 * one complete transaction to the next.
 */
#define FLOWMETA_JOURNAL_MSGS		64	/* data messages per transaction */
#define FLOWMETA_JOURNAL_CHUNK		2048	/* message bytes are kept in chunks of this size */
#define FLOWMETA_JOURNAL_CHUNKS		160	/* 320 KiB: the bytes of one transaction */
#define FLOWMETA_JOURNAL_INTENTS	4096	/* map changes per transaction */
/* Per collector: a down collector gets the templates (up to 3 messages) before every message. */
#define FLOWMETA_JOURNAL_DGRAMS		(4 * FLOWMETA_JOURNAL_MSGS)
#define FLOWMETA_TRACE_SLOTS		64	/* sockets whose datagrams send_trace counts */
#define FLOWMETA_JOURNAL_TEMPLATES	0xffff	/* journal_dgram.msg of a template message */

enum journal_state {
	JOURNAL_IDLE = 0,	/* the last transaction is complete: coll[] holds the state after it */
	JOURNAL_PENDING = 1,	/* written, maybe partly sent, intents maybe not applied */
};

enum export_intent_kind {
	INTENT_EXPORTED = 1,	/* the flow goes on: export_state = state */
	INTENT_END = 2,		/* the flow ended with these sums: delete it unless it grew since */
	INTENT_FORGET = 3,	/* a state that belongs to no flow any more: delete it */
};

enum export_intent_result {
	INTENT_APPLIED = 1,	/* export_state written, or the ended flow and its state deleted */
	INTENT_GREW = 2,	/* ended, but packets arrived since its record: it stays, state kept */
	INTENT_ABSENT = 3,	/* ended, and gone already: its state deleted */
};

/* One map change of a transaction (journal_intents[half].intent[i]). */
struct export_intent {
	struct flow_key key;
	struct flow_export_state state;	/* what the flow's records exported so far, all told */
	__u32 kind;			/* enum export_intent_kind */
	__u32 result;			/* enum export_intent_result, written by the apply program */
};
_Static_assert(sizeof(struct export_intent) == 72, "export_intent layout is shared");

/* A data message of the transaction, its bytes in journal_chunks[half].chunk[chunk ...]. */
struct journal_msg {
	__u32 chunk;
	__u32 len;
	__u32 records;		/* data records: what the sequence number counts */
	__u32 pad;
	__u64 flows;		/* flow records, their packets and octets: what a collector that */
	__u64 packets;		/* does not get the message counts as not sent */
	__u64 octets;
};
_Static_assert(sizeof(struct journal_msg) == 40, "journal_msg layout is shared");

/*
 * One datagram a collector gets in the transaction, in send order: a template message, a data
 * message, or one slice of a data message too big for the collector's path (slices of
 * journal_collector.slice_size octets, numbered from 0).
 */
struct journal_dgram {
	__u16 msg;		/* index in export_journal.msg, or FLOWMETA_JOURNAL_TEMPLATES */
	__u16 slice;		/* 0 for a whole message */
	__u16 records;		/* data records it carries */
	__u16 len;		/* its octets */
};
_Static_assert(sizeof(struct journal_dgram) == 8, "journal_dgram layout is shared");

/* What a collector's stream has reached: persisted, so a restart continues it. */
struct journal_counters {
	__u64 messages, records, flow_records, octets, template_messages, send_errors;
	__u64 not_sent_flows, not_sent_packets, not_sent_octets, refused, refused_unquoted;
};

struct journal_collector {
	__u8 addr[16];		/* remote address (IPv4: first 4 bytes), network order */
	__u8 local_addr[16];	/* the socket's local address: a restart binds it again */
	__u16 port;		/* remote port, host order */
	__u16 local_port;
	__u8 family;		/* AF_INET or AF_INET6 */
	__u8 pad[3];
	__u32 observation_domain_id;
	__u32 trace_slot;	/* its socket's index in send_trace */
	__u64 trace_before;	/* send_trace[trace_slot] before the transaction's first datagram */
	__u32 seq;		/* next sequence number, before the transaction (after, when idle) */
	__u32 n_dgrams;
	__u32 slice_size;	/* the collector's message size when its datagrams were planned */
	__u32 pad2;
	struct journal_counters cnt;	/* before the transaction */
	struct journal_dgram dgram[FLOWMETA_JOURNAL_DGRAMS];
};

struct export_journal {
	__u64 txn;		/* transactions so far */
	__u32 state;		/* enum journal_state */
	__u32 n_msgs;
	__u32 n_intents;
	__u32 n_collectors;
	__u32 ncpus;		/* possible CPUs: how many per-CPU values flowmeta_export_apply sums */
	__u32 trace;		/* 1: send_trace counted this transaction's datagrams */
	__u32 half;		/* which half of journal_intents and journal_chunks it uses */
	__u32 old_layout;	/* an upgrade's old maps being exported (loader.h); 0: none */
	__u64 old_exported;	/* flows of them whose records are in this or earlier transactions */
	/*
	 * What aggregate drop records already exported of stats.drop_table_full_* (drops that found
	 * drop_flows full), [verdict - 1][direction]: the next one carries what is new.
	 */
	__u64 drop_full_packets[2][2];
	__u64 drop_full_octets[2][2];
	struct journal_msg msg[FLOWMETA_JOURNAL_MSGS];
	struct journal_collector coll[FLOWMETA_MAX_COLLECTORS];
};

struct journal_chunk {
	__u8 bytes[FLOWMETA_JOURNAL_CHUNK];
};

/*
 * One half of journal_intents and of journal_chunks: a transaction's intents, its message bytes.
 * One map element each, so that a transaction is written with one copy of each, not one a record.
 */
struct journal_intents {
	struct export_intent intent[FLOWMETA_JOURNAL_INTENTS];
};

struct journal_chunks {
	struct journal_chunk chunk[FLOWMETA_JOURNAL_CHUNKS];
};

/* Datagrams that left a traced socket (the cgroup egress program flowmeta_send_trace). */
struct send_trace {
	__u64 datagrams;
};

#endif /* FLOWMETA_H */
