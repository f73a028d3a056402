// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A helper of bench/compare.sh (not a benchmark): attach the empty TC program of the bench object
 * (bench_empty) to IFACE's ingress through tcx (a BPF link, kernel 6.6 and later) instead of
 * clsact, and pin the link at PIN so it outlives this process; removing the pin detaches it. What
 * the hook costs that way, against clsact's, is what flowmeta would gain by attaching through
 * tcx. libbpf 1.1 has no tcx call: the link is made with bpf_link_create, which passes the attach
 * type through.
 *
 *   tcx_attach IFACE PIN
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "bench.skel.h"

#define TCX_INGRESS 46	/* BPF_TCX_INGRESS in linux/bpf.h from 6.6 on */

int main(int argc, char **argv)
{
	struct bench *b;
	unsigned int ifindex;
	int link, ret = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: tcx_attach IFACE PIN\n");
		return 2;
	}
	ifindex = if_nametoindex(argv[1]);
	if (!ifindex) {
		fprintf(stderr, "tcx_attach: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	libbpf_set_print(NULL);
	b = bench__open_and_load();
	if (!b) {
		fprintf(stderr, "tcx_attach: load the bench object: %s\n", strerror(errno));
		return 1;
	}
	link = bpf_link_create(bpf_program__fd(b->progs.bench_empty), (int)ifindex,
			       (enum bpf_attach_type)TCX_INGRESS, NULL);
	if (link < 0)
		fprintf(stderr, "tcx_attach: tcx ingress on %s: %s\n", argv[1], strerror(-link));
	else if (bpf_obj_pin(link, argv[2]))
		fprintf(stderr, "tcx_attach: pin %s: %s\n", argv[2], strerror(errno));
	else
		ret = 0;
	bench__destroy(b);
	return ret;
}
