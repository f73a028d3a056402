/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Time for the exporter. The kernel stamps flows with the flow clock, jiffies (bpf/flow.h); the
 * daemon keeps its own times on CLOCK_MONOTONIC; IPFIX wants epoch milliseconds. A snapshot of the
 * three, taken once per poll (fm_time_now), converts between them; tests pass snapshots of their
 * own to drive the exporter through time.
 *
 * jiffies advance by one every TICK_NSEC = (10^9 + HZ/2) / HZ ns of CLOCK_MONOTONIC: the kernel
 * derives them from it (tick_do_update_jiffies64 counts whole TICK_NSEC since the last update of
 * ktime_get()). So they stop during suspend, as CLOCK_MONOTONIC does (timekeeping_resume adds the
 * sleep to CLOCK_BOOTTIME and CLOCK_REALTIME only). The daemon learns HZ and when a tick began
 * (struct fm_clock: by waiting for tick edges with the syscall program bpf/clock.bpf.c) and checks
 * that relation at every snapshot against a fresh reading of jiffies, measuring it again when it no
 * longer holds: were jiffies to run on through a suspend, or drift, the snapshot after it would be
 * right again all the same. A time taken before a suspend converts with the offset of after it
 * (epoch ms too late by the time asleep), as CLOCK_MONOTONIC times always did.
 */
#ifndef FLOWMETA_CLOCK_H
#define FLOWMETA_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define NSEC_PER_MSEC	1000000ULL
#define NSEC_PER_SEC	1000000000ULL

/* Jiffies <-> CLOCK_MONOTONIC: tick `jiffies` began at start_ns, each lasts tick_ns. */
struct fm_ticks {
	uint64_t jiffies;
	uint64_t start_ns;
	uint64_t tick_ns;	/* the kernel's TICK_NSEC; 0: unknown (no flow clock) */
};

struct fm_time {
	uint64_t mono_ns;	/* CLOCK_MONOTONIC, the daemon's own time base */
	uint64_t real_ns;	/* CLOCK_REALTIME, read right after */
	struct fm_ticks ticks;	/* the flow clock, as of this snapshot */
};

/* The kernel's TICK_NSEC for HZ. */
static inline uint64_t fm_tick_ns(uint32_t hz)
{
	return (NSEC_PER_SEC + hz / 2) / hz;
}

/*
 * CLOCK_MONOTONIC time at which tick j began. 64-bit jiffies never wrap (bpf/flow.h): the
 * difference to the reference is a small signed number either way.
 */
static inline uint64_t fm_jiffies_mono_ns(const struct fm_time *t, uint64_t j)
{
	int64_t d = (int64_t)(j - t->ticks.jiffies) * (int64_t)t->ticks.tick_ns;
	int64_t ns = (int64_t)t->ticks.start_ns + d;

	return ns > 0 ? (uint64_t)ns : 0;
}

/* The tick current at CLOCK_MONOTONIC time ns (the inverse, for times kept in ns). */
static inline uint64_t fm_mono_jiffies(const struct fm_time *t, uint64_t ns)
{
	int64_t d = (int64_t)(ns - t->ticks.start_ns), tick = (int64_t)t->ticks.tick_ns;

	if (!tick)
		return 0;
	return t->ticks.jiffies + (uint64_t)(d >= 0 ? d / tick : -((-d + tick - 1) / tick));
}

/* Epoch milliseconds of a CLOCK_MONOTONIC time, with the offset between the clocks at t. */
static inline uint64_t fm_epoch_ms(const struct fm_time *t, uint64_t mono_ns)
{
	return (mono_ns + (t->real_ns - t->mono_ns)) / NSEC_PER_MSEC;
}

/*
 * Epoch milliseconds of a flow time: the start of its tick. Not through fm_jiffies_mono_ns: a
 * tick can be before CLOCK_MONOTONIC's zero when jiffies ran on through a suspend longer than
 * the uptime before it (clock.h's header); the epoch is right all the same.
 */
static inline uint64_t fm_jiffies_epoch_ms(const struct fm_time *t, uint64_t j)
{
	int64_t d = (int64_t)(j - t->ticks.jiffies) * (int64_t)t->ticks.tick_ns;

	return (t->ticks.start_ns + (uint64_t)d + (t->real_ns - t->mono_ns)) / NSEC_PER_MSEC;
}

/* ---- learning the flow clock --------------------------------------------------------------- */

/* A reading of jiffies (struct flow_clock_sample, include/flowmeta.h). */
struct fm_jiffies_sample {
	uint64_t jiffies;
	uint64_t mono_ns;	/* read right after jiffies */
	uint64_t before_ns;	/* edge: the tick began after this time, and by mono_ns */
	bool found;		/* edge: the tick changed while waiting */
};

/* Where readings come from: the kernel (user/clockprog.c), or a test's model of it. */
struct fm_clock_ops {
	/* edge: wait for the next tick. Negative errno. */
	int (*sample)(void *ctx, bool edge, struct fm_jiffies_sample *s);
	void (*sleep_ns)(void *ctx, uint64_t ns);
	/* CLOCK_MONOTONIC and CLOCK_REALTIME, read together */
	void (*now)(void *ctx, uint64_t *mono_ns, uint64_t *real_ns);
	void *ctx;
};

/* Spacing of the two tick edges HZ is measured between. */
#define FM_CLOCK_HZ_SPAN_NS	(100 * NSEC_PER_MSEC)

struct fm_clock {
	struct fm_clock_ops ops;
	uint32_t hz;
	struct fm_ticks ticks;
	uint64_t edges;		/* tick starts measured: 2 at setup, one more per re-derivation */
};

/* Learn HZ and the start of a tick (about FM_CLOCK_HZ_SPAN_NS plus two ticks). Negative errno. */
int fm_clock_init(struct fm_clock *c, const struct fm_clock_ops *ops);

/*
 * A snapshot: CLOCK_MONOTONIC, CLOCK_REALTIME and the flow clock, checked against a fresh reading
 * of jiffies and measured again (one tick edge) when it no longer holds. Negative errno when
 * jiffies could not be read: t is filled all the same, with the relation last measured.
 */
int fm_clock_now(struct fm_clock *c, struct fm_time *t);

/* ---- the process's clock ------------------------------------------------------------------- */

/*
 * Learn the flow clock from the kernel (the syscall program, user/clockprog.c) for fm_time_now.
 * Negative errno; without it, fm_time_now has no flow clock (tick_ns 0).
 */
int fm_clock_start(void);
void fm_clock_stop(void);

/* Snapshot of now: with the flow clock once fm_clock_start succeeded. */
void fm_time_now(struct fm_time *t);
uint64_t fm_mono_ns(void);
void fm_clock_read(uint64_t *mono_ns, uint64_t *real_ns);
/* A reading of jiffies from the kernel, once fm_clock_start succeeded (tests). */
int fm_clock_read_jiffies(struct fm_jiffies_sample *s);
/* HZ as learnt by fm_clock_start; 0 before. */
uint32_t fm_clock_hz(void);

#endif /* FLOWMETA_CLOCK_H */
