// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Publishing the daemon's counters into pinned maps, and reading them back for `flowmeta status`. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "status.h"

_Static_assert(CONFIG_MAX_COLLECTORS <= FLOWMETA_MAX_COLLECTORS,
	       "every configured collector has a status slot");

static void publish_collector(int fd, __u32 slot, const struct collector *c)
{
	struct collector_status cs = {
		.messages = c->cnt.messages,
		.records = c->cnt.records,
		.flow_records = c->cnt.flow_records,
		.octets = c->cnt.octets,
		.send_errors = c->cnt.send_errors,
		.not_sent_flows = c->cnt.not_sent_flows,
		.not_sent_packets = c->cnt.not_sent_packets,
		.not_sent_octets = c->cnt.not_sent_octets,
		.down = c->down,
	};

	snprintf(cs.spec, sizeof(cs.spec), "%s", c->addr.spec);
	bpf_map_update_elem(fd, &slot, &cs, BPF_ANY);
}

void status_publish(const struct flowmeta_maps *maps, const struct exporter *exp)
{
	const struct exporter_stats *s = exporter_get_stats(exp);
	const struct collector_set *set = exporter_collectors(exp);
	struct daemon_status ds = {
		.pid = (__u64)getpid(),
		.polls = s->polls,
		.live_flows = s->live_flows,
		.hints = s->hints,
		.map_errors = s->map_errors,
		.n_collectors = (__u32)set->n,
		.exporting = exporter_exporting(exp),
	};
	struct fm_time now;
	__u32 zero = 0;

	if (maps->daemon_status < 0 || maps->collector_status < 0)
		return;
	fm_time_now(&now);
	ds.updated_ms = now.real_ns / NSEC_PER_MSEC;
	for (int r = 1; r <= 5; r++) {
		ds.flow_records += s->records[r];
		ds.flows_ended += s->ended[r];
	}
	for (__u32 i = 0; i < set->n; i++)
		publish_collector(maps->collector_status, i, set->c[i]);
	bpf_map_update_elem(maps->daemon_status, &zero, &ds, BPF_ANY);
}

int status_read(const struct flowmeta_maps *maps, struct daemon_status *daemon,
		struct collector_status *collectors, int max)
{
	__u32 zero = 0;
	int n;

	memset(daemon, 0, sizeof(*daemon));
	if (maps->daemon_status < 0 || maps->collector_status < 0)
		return 0;	/* pinned by a version without them */
	if (bpf_map_lookup_elem(maps->daemon_status, &zero, daemon))
		return -errno;
	n = (int)daemon->n_collectors < max ? (int)daemon->n_collectors : max;
	for (__u32 i = 0; i < (__u32)n; i++)
		if (bpf_map_lookup_elem(maps->collector_status, &i, &collectors[i]))
			return -errno;
	return n;
}
