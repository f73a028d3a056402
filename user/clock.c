// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Learning the flow clock (jiffies) and relating it to CLOCK_MONOTONIC; reading the clocks. */
#include <errno.h>
#include <time.h>

#include "clock.h"

/* A tick edge is measured to this or better, or measured again (preempted while waiting). */
#define FM_CLOCK_EDGE_MAX_NS	(50 * 1000ULL)
#define FM_CLOCK_EDGE_TRIES	8
#define FM_CLOCK_HZ_TRIES	3

/*
 * The values CONFIG_HZ takes across architectures. A measured rate within 1% of one is that one: a
 * tick edge is seen up to tens of microseconds late, so 100 ms between two edges give HZ to about
 * 0.1%, and the closest pairs (250/256, 1000/1024) are 2.4% apart.
 */
static const uint32_t known_hz[] = { 24, 32, 48, 64, 100, 128, 200, 250, 256, 300, 500, 512, 1000,
				     1024, 1200 };

static uint32_t snap_hz(uint64_t dj, uint64_t dt_ns)
{
	uint64_t hz = (dj * NSEC_PER_SEC + dt_ns / 2) / dt_ns;

	for (size_t i = 0; i < sizeof(known_hz) / sizeof(known_hz[0]); i++) {
		uint64_t k = known_hz[i];

		if (hz * 100 >= k * 99 && hz * 100 <= k * 101)
			return (uint32_t)k;
	}
	return (uint32_t)hz;
}

/* The start of the next tick, measured to FM_CLOCK_EDGE_MAX_NS. */
static int tick_edge(struct fm_clock *c, struct fm_jiffies_sample *s)
{
	int err = -EAGAIN;

	for (int i = 0; i < FM_CLOCK_EDGE_TRIES; i++) {
		err = c->ops.sample(c->ops.ctx, true, s);
		if (err)
			return err;
		if (s->found && s->mono_ns - s->before_ns <= FM_CLOCK_EDGE_MAX_NS)
			return 0;
		err = -EAGAIN;
	}
	return err;
}

int fm_clock_init(struct fm_clock *c, const struct fm_clock_ops *ops)
{
	struct fm_jiffies_sample a, b;
	int err = -EAGAIN;

	*c = (struct fm_clock){ .ops = *ops };
	for (int i = 0; i < FM_CLOCK_HZ_TRIES; i++) {
		uint64_t dj, dt, tick, want;

		err = tick_edge(c, &a);
		if (err)
			continue;
		c->ops.sleep_ns(c->ops.ctx, FM_CLOCK_HZ_SPAN_NS);
		err = tick_edge(c, &b);
		if (err)
			continue;
		err = -EAGAIN;
		dj = b.jiffies - a.jiffies;
		dt = b.before_ns - a.before_ns;
		if (!dj || !dt || b.before_ns < a.before_ns)
			continue;
		c->hz = snap_hz(dj, dt);
		if (!c->hz)
			continue;
		tick = fm_tick_ns(c->hz);
		want = dj * tick;
		/* Both edges are ticks of this length apart, to a quarter tick (the latencies). */
		if ((dt > want ? dt - want : want - dt) > tick / 4)
			continue;
		c->ticks = (struct fm_ticks){ b.jiffies, b.before_ns, tick };
		c->edges = 2;
		return 0;
	}
	c->hz = 0;
	return err;
}

/*
 * Whether the reading (j at mono) fits the relation: its tick is the predicted one, or a
 * neighbour within an eighth of a tick of the predicted edge (the edge seen a little late, now or
 * when it was measured).
 */
static bool ticks_hold(const struct fm_ticks *t, uint64_t j, uint64_t mono)
{
	int64_t d = (int64_t)(mono - t->start_ns), tick = (int64_t)t->tick_ns;
	int64_t k = d >= 0 ? d / tick : -((-d + tick - 1) / tick);
	int64_t in = d - k * tick, tol = tick / 8;
	uint64_t pred = t->jiffies + (uint64_t)k;

	return j == pred || (j == pred - 1 && in < tol) || (j == pred + 1 && tick - in < tol);
}

int fm_clock_now(struct fm_clock *c, struct fm_time *t)
{
	struct fm_jiffies_sample s;
	int err;

	err = c->ops.sample(c->ops.ctx, false, &s);
	if (!err && !ticks_hold(&c->ticks, s.jiffies, s.mono_ns)) {
		struct fm_jiffies_sample e;

		if (!tick_edge(c, &e)) {
			c->ticks.jiffies = e.jiffies;
			c->ticks.start_ns = e.before_ns;
		} else {
			/* No clean edge (a busy machine): the tick began within the last tick. */
			c->ticks.jiffies = s.jiffies;
			c->ticks.start_ns = s.mono_ns;
		}
		c->edges++;
	}
	/* Unread, the last relation still holds (unless a suspend just broke it): keep it. */
	c->ops.now(c->ops.ctx, &t->mono_ns, &t->real_ns);
	t->ticks = c->ticks;
	return err;
}

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

void fm_clock_read(uint64_t *mono_ns, uint64_t *real_ns)
{
	*mono_ns = clock_ns(CLOCK_MONOTONIC);
	*real_ns = clock_ns(CLOCK_REALTIME);
}
