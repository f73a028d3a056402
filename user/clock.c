// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Reading CLOCK_MONOTONIC and CLOCK_REALTIME together. */
#include <time.h>

#include "clock.h"

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t fm_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

void fm_time_now(struct fm_time *t)
{
	t->mono_ns = clock_ns(CLOCK_MONOTONIC);
	t->real_ns = clock_ns(CLOCK_REALTIME);
}
