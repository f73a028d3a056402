/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The kernel objects the exporter works on, for the exporter tests (tests/unit/exporter_test.c)
 * and the export benchmark (bench/export_bench.c), which fill the flow table by hand: the
 * production skeleton loaded (no interface, nothing attached, nothing pinned) with a flow table of
 * the size asked, so the maps, the export journal and the apply program are the real ones. One
 * fixture at a time.
 */
#ifndef FLOWMETA_TESTS_MAPS_FIXTURE_H
#define FLOWMETA_TESTS_MAPS_FIXTURE_H

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "flowmeta.h"
#include "flowmeta.skel.h"
#include "loader.h"

static struct flowmeta *maps_fixture_skel;

/* Close what maps_fixture_open() loaded; every map is absent (-1) afterwards. */
static inline void maps_fixture_close(struct flowmeta_maps *m)
{
	flowmeta__destroy(maps_fixture_skel);
	maps_fixture_skel = NULL;
	*m = FLOWMETA_MAPS_NONE;
}

/*
 * The skeleton with a flow table and export state of max_entries flows (and the drop table they
 * imply); m gets the fds the exporter uses. Returns 0, or a negative errno with nothing left loaded.
 */
static inline int maps_fixture_open(struct flowmeta_maps *m, uint32_t max_entries)
{
	struct flowmeta *s = flowmeta__open();
	int err;

	*m = FLOWMETA_MAPS_NONE;
	if (!s)
		return -errno;
	bpf_map__set_max_entries(s->maps.flows, max_entries);
	bpf_map__set_max_entries(s->maps.drop_flows, flowmeta_drop_flows_capacity(max_entries));
	bpf_map__set_max_entries(s->maps.export_state, max_entries);
	err = flowmeta__load(s);
	if (err) {
		flowmeta__destroy(s);
		return err;
	}
	maps_fixture_skel = s;
	m->flows = bpf_map__fd(s->maps.flows);
	m->drop_flows = bpf_map__fd(s->maps.drop_flows);
	m->stats = bpf_map__fd(s->maps.stats);
	m->export_state = bpf_map__fd(s->maps.export_state);
	m->journal = bpf_map__fd(s->maps.journal);
	m->journal_intents = bpf_map__fd(s->maps.journal_intents);
	m->journal_chunks = bpf_map__fd(s->maps.journal_chunks);
	m->send_trace = bpf_map__fd(s->maps.send_trace);
	m->trace_socks = bpf_map__fd(s->maps.trace_socks);
	m->prog_export_apply = bpf_program__fd(s->progs.flowmeta_export_apply);
	m->prog_send_trace = bpf_program__fd(s->progs.flowmeta_send_trace);
	return 0;
}

#endif /* FLOWMETA_TESTS_MAPS_FIXTURE_H */
