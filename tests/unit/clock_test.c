// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Tests of user/clock.c: learning the flow clock (jiffies) and converting flow times to
 * CLOCK_MONOTONIC and epoch milliseconds, against a model of the kernel's jiffies with injected HZ
 * (100, 250, 300, 1000, 1024), tick phase, edge latency, suspends (jiffies stopped during them, as
 * the kernel's are, or running on) and a jiffies counter that crosses 2^64. The model follows
 * tick_do_update_jiffies64: jiffies advance by one every TICK_NSEC of CLOCK_MONOTONIC, seen a
 * latency after the tick's nominal start. A packet at time P is stamped with the jiffies seen at
 * P; "exact to the tick" means its converted time is the start of that tick: at most P, more
 * than P - tick.
 */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "clock.h"

#define MS		NSEC_PER_MSEC
#define SEC		NSEC_PER_SEC
#define READ_NS		40		/* one read of jiffies and the time in the program's loop */
#define LATENCY_NS	3000		/* a tick is seen this long after its nominal start */
#define INITIAL_J(hz)	(0x100000000ULL - 300ULL * (hz))	/* INITIAL_JIFFIES, 64-bit */

struct kernel {
	uint64_t tick;		/* TICK_NSEC */
	uint64_t mono;		/* CLOCK_MONOTONIC now */
	uint64_t real_off;	/* CLOCK_REALTIME - CLOCK_MONOTONIC */
	uint64_t phase;		/* nominal start of tick j0 */
	uint64_t j0;
	uint64_t skipped;	/* ticks jiffies ran on while CLOCK_MONOTONIC was stopped */
	int fail;		/* samples fail with this errno */
};

static struct kernel kernel_at(uint32_t hz, uint64_t phase, uint64_t j0)
{
	return (struct kernel){ .tick = (SEC + hz / 2) / hz, /* TICK_NSEC */
				.mono = 500 * SEC + 123457,
				.real_off = 1700000000ULL * SEC + 777 * MS + 321, .phase = phase,
				.j0 = j0 };
}

/* The jiffies a reader sees at CLOCK_MONOTONIC time m. */
static uint64_t jiffies_at(const struct kernel *k, uint64_t m)
{
	return k->j0 + k->skipped + (m - k->phase - LATENCY_NS) / k->tick;
}

/* When tick j was first seen. */
static uint64_t seen_at(const struct kernel *k, uint64_t j)
{
	return k->phase + LATENCY_NS + (j - k->j0 - k->skipped) * k->tick;
}

/* bpf/clock.bpf.c on the model: read jiffies then the time, or wait for the next tick. */
static int model_sample(void *ctx, bool edge, struct fm_jiffies_sample *s)
{
	struct kernel *k = ctx;
	uint64_t start = jiffies_at(k, k->mono), j;

	if (k->fail)
		return -k->fail;
	k->mono += READ_NS;
	*s = (struct fm_jiffies_sample){ start, k->mono, k->mono, false };
	if (!edge)
		return 0;
	for (;;) {
		j = jiffies_at(k, k->mono);
		k->mono += READ_NS;
		if (j != start)
			break;
		s->before_ns = k->mono;
	}
	s->jiffies = j;
	s->mono_ns = k->mono;
	s->found = true;
	return 0;
}

static void model_sleep(void *ctx, uint64_t ns)
{
	((struct kernel *)ctx)->mono += ns;
}

static void model_now(void *ctx, uint64_t *mono, uint64_t *real)
{
	struct kernel *k = ctx;

	*mono = k->mono;
	*real = k->mono + k->real_off;
}

static bool start_clock(struct fm_clock *c, struct kernel *k)
{
	const struct fm_clock_ops ops = { model_sample, model_sleep, model_now, k };

	return EXPECT_EQ(fm_clock_init(c, &ops), 0);
}

/*
 * A packet at P (on the model's clock, which now is past) converts, with the snapshot t, to the
 * start of the tick it was stamped with: when that tick was seen, to a read (READ_NS: the edge is
 * known to one iteration of the program's loop), so within (P - tick, P] to a read; its epoch ms
 * is that instant's.
 */
static void expect_packet_exact(const struct kernel *k, const struct fm_time *t, uint64_t p)
{
	uint64_t j = jiffies_at(k, p), got = fm_jiffies_mono_ns(t, j), seen = seen_at(k, j);

	EXPECT_TRUE(got <= seen + READ_NS && got + READ_NS >= seen);
	EXPECT_TRUE(got <= p + READ_NS && got + k->tick + READ_NS > p);
	EXPECT_TRUE(fm_jiffies_epoch_ms(t, j) >= (seen - READ_NS + k->real_off) / MS &&
		    fm_jiffies_epoch_ms(t, j) <= (seen + READ_NS + k->real_off) / MS);
	EXPECT_EQ(fm_mono_jiffies(t, got), j);
}

static void learns_hz_and_converts_exactly_to_the_tick_at_100_250_300_1000_and_1024_hz(void)
{
	const uint32_t hzs[] = { 100, 250, 300, 1000, 1024 };

	for (size_t i = 0; i < sizeof(hzs) / sizeof(hzs[0]); i++) {
		struct kernel k = kernel_at(hzs[i], 1234567 + i * 777, INITIAL_J(hzs[i]));
		struct fm_clock c;
		struct fm_time t;
		uint64_t p0;

		if (!start_clock(&c, &k))
			continue;
		EXPECT_EQ(c.hz, hzs[i]);
		EXPECT_EQ(c.ticks.tick_ns, k.tick);
		p0 = k.mono;
		/* An hour of packets later: HZ=300's tick is 3333333 ns, not 10^9/300. */
		k.mono += 3600 * SEC + 17 * MS;
		EXPECT_EQ(fm_clock_now(&c, &t), 0);
		EXPECT_EQ(c.edges, 2);	/* the relation held: nothing measured again */
		EXPECT_EQ(t.mono_ns, k.mono);
		EXPECT_EQ(t.real_ns, k.mono + k.real_off);
		for (uint64_t p = p0; p < k.mono; p += 7 * SEC + 1234567)
			expect_packet_exact(&k, &t, p);
		expect_packet_exact(&k, &t, k.mono - 1);
	}
}

/* The kernel's jiffies stop during suspend, like CLOCK_MONOTONIC: the relation holds after it. */
static void suspend_with_jiffies_stopped_keeps_the_relation_and_the_new_epoch_offset(void)
{
	struct kernel k = kernel_at(250, 2000001, INITIAL_J(250));
	uint64_t before, jb, seen_b, off_b;
	struct fm_clock c;
	struct fm_time t;

	if (!start_clock(&c, &k))
		return;
	k.mono += 10 * SEC;
	EXPECT_EQ(fm_clock_now(&c, &t), 0);
	before = k.mono - 3 * MS;
	expect_packet_exact(&k, &t, before);
	jb = jiffies_at(&k, before);
	seen_b = seen_at(&k, jb);
	off_b = k.real_off;
	/* Asleep for an hour: CLOCK_REALTIME moved on, CLOCK_MONOTONIC and jiffies did not. */
	k.real_off += 3600 * SEC;
	k.mono += 5 * SEC;
	EXPECT_EQ(fm_clock_now(&c, &t), 0);
	EXPECT_EQ(c.edges, 2);
	expect_packet_exact(&k, &t, k.mono - 2 * SEC);
	expect_packet_exact(&k, &t, k.mono - 1);
	/*
	 * A time from before the suspend converts with the offset of after it, as CLOCK_MONOTONIC
	 * times do: an hour late in epoch ms (the clock cannot say on which side of the suspend a
	 * tick was; clock.h).
	 */
	EXPECT_TRUE(fm_jiffies_epoch_ms(&t, jb) - 3600 * 1000 >= (seen_b - READ_NS + off_b) / MS &&
		    fm_jiffies_epoch_ms(&t, jb) - 3600 * 1000 <= (seen_b + READ_NS + off_b) / MS);
}

/*
 * Were jiffies to run on through a suspend (CLOCK_MONOTONIC stopped, jiffies counting the time
 * asleep), the next snapshot sees the relation broken and measures a tick again: times after the
 * resume are exact, and times before it convert to their true epoch ms too (jiffies then count
 * the time asleep between them and now).
 */
static void suspend_with_jiffies_running_on_is_measured_again(void)
{
	struct kernel k = kernel_at(1000, 999999, INITIAL_J(1000));
	uint64_t before, before_j, before_epoch_ms;
	struct fm_clock c;
	struct fm_time t;

	if (!start_clock(&c, &k))
		return;
	k.mono += 10 * SEC;
	EXPECT_EQ(fm_clock_now(&c, &t), 0);
	before = k.mono - 3 * MS - 500000;
	before_j = jiffies_at(&k, before);
	before_epoch_ms = (seen_at(&k, before_j) + k.real_off) / MS;
	expect_packet_exact(&k, &t, before);
	k.real_off += 3600 * SEC;
	k.skipped += 3600 * SEC / k.tick;
	k.mono += 5 * SEC;
	EXPECT_EQ(fm_clock_now(&c, &t), 0);
	EXPECT_EQ(c.edges, 3);
	expect_packet_exact(&k, &t, k.mono - 2 * SEC);
	expect_packet_exact(&k, &t, k.mono - 1);
	/* Within the read of an edge (READ_NS), rounded to ms either way. */
	EXPECT_TRUE(fm_jiffies_epoch_ms(&t, before_j) + 1 >= before_epoch_ms &&
		    fm_jiffies_epoch_ms(&t, before_j) <= before_epoch_ms);
}

/*
 * 64-bit jiffies do not wrap in practice (580 million years at HZ=1000 from INITIAL_JIFFIES); the
 * conversion takes differences modulo 2^64 all the same, so even a counter that crossed 2^64
 * between a flow time and the snapshot converts exactly.
 */
static void jiffies_crossing_2_to_the_64_still_convert_exactly(void)
{
	struct kernel k = kernel_at(1000, 0, UINT64_MAX - 600 * 1000 + 1);
	struct fm_clock c;
	struct fm_time t;
	uint64_t p0;

	if (!start_clock(&c, &k))
		return;
	p0 = k.mono;
	EXPECT_TRUE(jiffies_at(&k, p0) > UINT64_MAX / 2);
	k.mono += 200 * SEC;
	EXPECT_EQ(fm_clock_now(&c, &t), 0);
	EXPECT_TRUE(jiffies_at(&k, k.mono) < 1000000);
	EXPECT_EQ(c.edges, 2);
	for (uint64_t p = p0; p < k.mono; p += 3 * SEC + 333)
		expect_packet_exact(&k, &t, p);
}

/* A reading that fails after the start: the snapshot keeps the relation last measured. */
static void a_failed_reading_keeps_the_last_relation(void)
{
	struct kernel k = kernel_at(300, 5555, INITIAL_J(300));
	struct fm_clock c;
	struct fm_time t;

	if (!start_clock(&c, &k))
		return;
	k.mono += 60 * SEC;
	k.fail = ENOMEM;
	EXPECT_EQ(fm_clock_now(&c, &t), (uint64_t)-ENOMEM);
	EXPECT_EQ(t.mono_ns, k.mono);
	EXPECT_EQ(t.ticks.tick_ns, k.tick);
	expect_packet_exact(&k, &t, k.mono - 30 * SEC);
}

static void a_kernel_that_cannot_be_read_fails_the_start(void)
{
	struct kernel k = kernel_at(250, 0, INITIAL_J(250));
	const struct fm_clock_ops ops = { model_sample, model_sleep, model_now, &k };
	struct fm_clock c;

	k.fail = EPERM;
	EXPECT_EQ(fm_clock_init(&c, &ops), (uint64_t)-EPERM);
	EXPECT_EQ(c.hz, 0);
}

int main(void)
{
	RUN_TEST(learns_hz_and_converts_exactly_to_the_tick_at_100_250_300_1000_and_1024_hz);
	RUN_TEST(suspend_with_jiffies_stopped_keeps_the_relation_and_the_new_epoch_offset);
	RUN_TEST(suspend_with_jiffies_running_on_is_measured_again);
	RUN_TEST(jiffies_crossing_2_to_the_64_still_convert_exactly);
	RUN_TEST(a_failed_reading_keeps_the_last_relation);
	RUN_TEST(a_kernel_that_cannot_be_read_fails_the_start);
	return check_exit_status();
}
