/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Time for the exporter: the kernel stamps flows with bpf_ktime_get_coarse_ns() (CLOCK_MONOTONIC at
 * tick resolution, bpf/flow.h: the same base as CLOCK_MONOTONIC); IPFIX wants epoch milliseconds.
 * A snapshot of both clocks taken once per poll converts one to the other, and tests pass
 * snapshots of their own to drive the exporter through time.
 */
#ifndef FLOWMETA_CLOCK_H
#define FLOWMETA_CLOCK_H

#include <stdint.h>

#define NSEC_PER_MSEC	1000000ULL
#define NSEC_PER_SEC	1000000000ULL

struct fm_time {
	uint64_t mono_ns;	/* CLOCK_MONOTONIC, the base of the kernel's flow times */
	uint64_t real_ns;	/* CLOCK_REALTIME, read right after */
};

void fm_time_now(struct fm_time *t);
uint64_t fm_mono_ns(void);

/* Epoch milliseconds of a CLOCK_MONOTONIC time, with the offset between the clocks at t. */
static inline uint64_t fm_epoch_ms(const struct fm_time *t, uint64_t mono_ns)
{
	return (mono_ns + (t->real_ns - t->mono_ns)) / NSEC_PER_MSEC;
}

#endif /* FLOWMETA_CLOCK_H */
