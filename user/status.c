// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Publishing the daemon's counters into pinned maps, and reading a status snapshot back. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "clock.h"
#include "flowvalue.h"
#include "log.h"
#include "status.h"

_Static_assert(CONFIG_MAX_COLLECTORS <= FLOWMETA_MAX_COLLECTORS,
	       "every configured collector has a status slot");

static int publish_collector(int fd, __u32 slot, const struct collector *c)
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
		.refused = c->cnt.refused,
		.refused_unquoted = c->cnt.refused_unquoted,
		.down = c->down,
	};

	snprintf(cs.spec, sizeof(cs.spec), "%s", c->addr.spec);
	return bpf_map_update_elem(fd, &slot, &cs, BPF_ANY);
}

void status_publish(const struct flowmeta_maps *maps, const struct exporter *exp)
{
	static bool warned;
	const struct exporter_stats *s = exporter_get_stats(exp);
	const struct collector_set *set = exporter_collectors(exp);
	struct daemon_status ds = {
		.pid = (__u64)getpid(),
		.polls = s->polls,
		.live_flows = s->live_flows,
		.hints = s->hints,
		.map_errors = s->map_errors,
		.encode_errors = s->encode_errors,
		.n_collectors = (__u32)set->n,
		.exporting = exporter_exporting(exp),
	};
	struct fm_time now;
	__u32 zero = 0;
	int err = 0;

	if (maps->daemon_status < 0 || maps->collector_status < 0)
		return;
	fm_time_now(&now);
	ds.updated_ms = now.real_ns / NSEC_PER_MSEC;
	for (int r = 1; r <= 5; r++) {
		ds.flow_records += s->records[r];
		ds.flows_ended += s->ended[r];
	}
	for (__u32 i = 0; i < set->n && !err; i++)
		err = publish_collector(maps->collector_status, i, set->c[i]);
	if (!err)
		err = bpf_map_update_elem(maps->daemon_status, &zero, &ds, BPF_ANY);
	if (err && !warned) {
		log_warnx("publishing the status for `flowmeta status`: %s", strerror(-err));
		warned = true;
	}
}

static void add_flow(const struct flow_key *key, const struct flow_value *v, void *ctx)
{
	struct status_snapshot *snap = ctx;

	(void)key;
	snap->flows++;
	snap->packets += v->packets;
	snap->octets += v->octets;
}

static int read_kernel_stats(int stats_fd, struct flowmeta_stats *sum)
{
	int ncpus = libbpf_num_possible_cpus();
	struct flowmeta_stats *percpu;
	__u32 zero = 0;
	int err = 0;

	if (ncpus < 0)
		return ncpus;
	percpu = calloc(ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	if (bpf_map_lookup_elem(stats_fd, &zero, percpu) < 0)
		err = -errno;
	else
		flowmeta_stats_fold(percpu, ncpus, sum);
	free(percpu);
	return err;
}

static int read_daemon_status(const struct flowmeta_maps *maps, struct status_snapshot *snap)
{
	__u32 zero = 0;

	if (maps->daemon_status < 0 || maps->collector_status < 0)
		return 0;	/* pinned by a version without them */
	if (bpf_map_lookup_elem(maps->daemon_status, &zero, &snap->daemon))
		return -errno;
	snap->n_collectors = (int)snap->daemon.n_collectors < FLOWMETA_MAX_COLLECTORS ?
				     (int)snap->daemon.n_collectors : FLOWMETA_MAX_COLLECTORS;
	for (__u32 i = 0; i < (__u32)snap->n_collectors; i++)
		if (bpf_map_lookup_elem(maps->collector_status, &i, &snap->collectors[i]))
			return -errno;
	return 0;
}

int status_snapshot_read(const char *ifname, const char *pin_dir, const struct flowmeta_maps *maps,
			 struct status_snapshot *snap)
{
	int locked = loader_running(ifname, pin_dir), err;
	pid_t pid;

	memset(snap, 0, sizeof(*snap));
	err = flow_map_for_each(maps->flows, add_flow, snap);
	if (!err)
		err = read_kernel_stats(maps->stats, &snap->kernel);
	if (!err)
		err = read_daemon_status(maps, snap);
	if (err)
		return err;
	/*
	 * Running means metering: a daemon holds the interface's lock AND has published after
	 * attaching. The lock alone is taken before the programs are loaded.
	 */
	pid = (pid_t)snap->daemon.pid;
	snap->running = locked == 1 && pid && (kill(pid, 0) == 0 || errno == EPERM);
	return 0;
}
