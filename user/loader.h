/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Loader: loads the kernel programs with the skeleton, pins programs and maps under the pin directory,
 * attaches them to an interface (TC clsact ingress/egress, or XDP ingress), adopts what an earlier
 * instance left pinned, and detaches. Knows nothing of IPFIX.
 */
#ifndef FLOWMETA_LOADER_H
#define FLOWMETA_LOADER_H

#include <stdbool.h>
#include <stdint.h>

#define LOADER_PIN_ROOT "/sys/fs/bpf/flowmeta"

enum ingress_hook { HOOK_TC = 0, HOOK_XDP };

/*
 * How the TC programs hang on the interface: tcx BPF links (kernel 6.6 and later, pinned as
 * link_tc_ingress/link_tc_egress) or a clsact qdisc with cls_bpf filters. AUTO (the default) tries
 * tcx and falls back to clsact where the kernel has no tcx; an attachment adopted from an earlier
 * run keeps its way until a clean stop or `flowmeta detach` (switching under traffic would count
 * packets twice or not at all).
 */
enum tc_attach { TC_ATTACH_AUTO = 0, TC_ATTACH_TCX, TC_ATTACH_CLSACT, TC_ATTACH_NONE };

/* "auto", "tcx", "clsact" or "none". */
const char *loader_tc_attach_name(enum tc_attach mode);

struct flowmeta_maps;

struct loader_opts {
	const char *ifname;
	const char *pin_dir;		/* NULL: LOADER_PIN_ROOT/IFNAME */
	enum ingress_hook hook;
	enum tc_attach tc_attach;	/* requested: AUTO, TCX or CLSACT */
	uint32_t max_flows;		/* MaxFlows; 0: the largest table within max_flow_memory */
	uint64_t max_flow_memory;	/* MaxFlowMemory, bytes */
	/*
	 * Optional: called once the maps exist and before any program is attached, so that state the
	 * programs consult (the policy) is in force from their first packet. A negative return aborts
	 * the attach.
	 */
	int (*before_attach)(const struct flowmeta_maps *maps, void *ctx);
	void *ctx;
};

/* File descriptors of the pinned maps, what the daemon and the CLI read. */
struct flowmeta_maps {
	int flows;		/* BPF_MAP_TYPE_PERCPU_HASH struct flow_key -> struct flow_value */
	int drop_flows;		/* the same, for drop flows (verdict not FORWARDED) */
	int stats;		/* BPF_MAP_TYPE_PERCPU_ARRAY [0] -> struct flowmeta_stats */
	int events;		/* BPF_MAP_TYPE_RINGBUF of struct flow_event */
	int export_state;	/* BPF_MAP_TYPE_HASH owned by the daemon: what was already exported */
	int daemon_status;	/* BPF_MAP_TYPE_ARRAY [0] -> struct daemon_status (daemon-owned) */
	int collector_status;	/* BPF_MAP_TYPE_ARRAY [i] -> struct collector_status (daemon-owned) */
	int policy;		/* BPF_MAP_TYPE_ARRAY_OF_MAPS [0] -> policy generation in force */
	int policy_peers;	/* BPF_MAP_TYPE_LPM_TRIE struct policy_peer_key -> policy_peer */
	int policy_conns;	/* BPF_MAP_TYPE_LRU_HASH struct policy_conn_key -> policy_conn */
	/* The export journal (user/journal.c, bpf/export.h), daemon-owned like export_state. */
	int journal;		/* BPF_MAP_TYPE_ARRAY [0] -> struct export_journal */
	int journal_intents;	/* BPF_MAP_TYPE_ARRAY of struct export_intent, two halves */
	int journal_chunks;	/* BPF_MAP_TYPE_ARRAY of struct journal_chunk, two halves */
	int send_trace;		/* BPF_MAP_TYPE_ARRAY [slot] -> struct send_trace */
	int trace_socks;	/* BPF_MAP_TYPE_HASH socket cookie -> send_trace slot */
	/* Not maps: the programs the daemon runs itself (bpf/export.h). */
	int prog_export_apply;	/* BPF_PROG_TYPE_SYSCALL, run with BPF_PROG_RUN */
	int prog_send_trace;	/* cgroup_skb/egress, attached to the daemon's cgroup */
};

/* A struct flowmeta_maps with every map absent. */
#define FLOWMETA_MAPS_NONE                                                                       \
	((struct flowmeta_maps){ .flows = -1, .drop_flows = -1, .stats = -1, .events = -1,      \
				 .export_state = -1, .daemon_status = -1,                        \
				 .collector_status = -1, .policy = -1,                           \
				 .policy_peers = -1, .policy_conns = -1, .journal = -1,          \
				 .journal_intents = -1, .journal_chunks = -1, .send_trace = -1,  \
				 .trace_socks = -1, .prog_export_apply = -1, .prog_send_trace = -1 })

struct attachment;

/*
 * Lock the pin directory (a second instance gets -EBUSY), load or adopt the programs and maps, pin
 * them and attach to the interface. Errors are logged with context; returns a negative errno.
 */
int loader_attach(const struct loader_opts *opts, struct attachment **out);
const struct flowmeta_maps *loader_maps(const struct attachment *att);
unsigned int loader_ifindex(const struct attachment *att);
/* True when the programs and maps of an earlier instance were adopted. */
bool loader_adopted(const struct attachment *att);
/* How this run attached the TC programs: TC_ATTACH_TCX or TC_ATTACH_CLSACT. */
enum tc_attach loader_tc_mode(const struct attachment *att);
/*
 * Detach the programs from the interface so the maps stop changing (the daemon then reads them one
 * last time); the maps stay open and pinned.
 */
int loader_stop_metering(struct attachment *att);
/*
 * Release the lock and free att, leaving programs attached and pins in place as a crash would:
 * for a setup failure after adopting an earlier instance, whose counts must not be lost.
 */
void loader_abandon(struct attachment *att);
/* Detach the programs (if still attached), remove the pins, release the lock and free att. */
int loader_detach(struct attachment *att);

/*
 * Upgrade: the maps an earlier flowmeta version (an older pin layout, include/flowmeta.h) left in
 * the pin directory, which loader_attach() replaced with this version's. They are kept pinned as
 * old<layout>_flows, old<layout>_export_state and old<layout>_stats until the daemon has exported
 * their counts and calls loader_release_old_maps(): a crash before that hands them over again at
 * the next run. Once loader_attach() has returned the old programs are gone and these maps no
 * longer change. Layout 1 (0.1.0): flows is struct flow_key -> struct flow_value, per-CPU, drop
 * flows included (verdict in the key); export_state is struct flow_key -> struct
 * flow_export_state; stats is the first 8 counters of struct flowmeta_stats.
 */
struct flowmeta_old_maps {
	unsigned int layout;	/* FLOWMETA_PIN_LAYOUT of the version that pinned them */
	int flows;
	int export_state;	/* -1 when it had none */
	int stats;		/* -1 when it had none */
};

/* Open the oldest such set (fds the caller closes with loader_close_old_maps()); -ENOENT: none. */
int loader_old_maps(const struct attachment *att, struct flowmeta_old_maps *old);
void loader_close_old_maps(struct flowmeta_old_maps *old);
/* Their counts are exported: remove the pins of that layout's old maps. */
int loader_release_old_maps(struct attachment *att, unsigned int layout);

/*
 * Open the pinned maps of IFACE read-only for status/flows; -ENOENT when nothing of flowmeta's is
 * pinned, -EEXIST/-EPROTO (reported) when the directory's pins are another tool's.
 */
int loader_open_pinned(const char *ifname, const char *pin_dir, struct flowmeta_maps *maps);
void loader_close_maps(struct flowmeta_maps *maps);
/* 1 when a `flowmeta run` holds IFACE's pin directory, 0 when none does, or a negative errno. */
int loader_running(const char *ifname, const char *pin_dir);
/*
 * How flowmeta's TC egress program is attached to IFACE now, from the kernel's view: TCX (the
 * pinned link is live on IFACE), CLSACT (flowmeta's filter is on IFACE's clsact egress) or NONE.
 */
enum tc_attach loader_tc_attached(const char *ifname, const char *pin_dir);
/* Remove whatever an earlier instance left attached and pinned on IFACE (flowmeta detach). */
int loader_cleanup(const char *ifname, const char *pin_dir);

#endif /* FLOWMETA_LOADER_H */
