// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The process's flow clock: readings of jiffies from the kernel (the syscall program of
 * bpf/clock.bpf.c, through its own skeleton) for user/clock.c, and fm_time_now.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "clock.skel.h"
#include "flowmeta.h"
#include "log.h"

static struct clock *skel;
static struct fm_clock proc_clock;
static bool started;

static int kernel_sample(void *ctx, bool edge, struct fm_jiffies_sample *s)
{
	struct flow_clock_sample in = { .edge = edge };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &in, .ctx_size_in = sizeof(in));

	(void)ctx;
	/* A syscall program's context is copied back: the readings are in `in`. */
	if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.flowmeta_clock), &opts))
		return -errno;
	*s = (struct fm_jiffies_sample){ in.jiffies, in.mono_ns, in.before_ns, in.found != 0 };
	return 0;
}

static void real_sleep(void *ctx, uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / NSEC_PER_SEC), (long)(ns % NSEC_PER_SEC) };

	(void)ctx;
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void real_now(void *ctx, uint64_t *mono_ns, uint64_t *real_ns)
{
	(void)ctx;
	fm_clock_read(mono_ns, real_ns);
}

int fm_clock_start(void)
{
	const struct fm_clock_ops ops = { kernel_sample, real_sleep, real_now, NULL };
	int err;

	if (started)
		return 0;
	skel = clock__open_and_load();
	if (!skel) {
		err = -errno;
		log_warnx("flow clock: loading its program: %s", strerror(-err));
		return err;
	}
	err = fm_clock_init(&proc_clock, &ops);
	if (err) {
		log_warnx("flow clock: measuring HZ: %s", strerror(-err));
		clock__destroy(skel);
		skel = NULL;
		return err;
	}
	started = true;
	log_debug("flow clock: jiffies at HZ=%u (tick %" PRIu64 " ns)", proc_clock.hz,
		  proc_clock.ticks.tick_ns);
	return 0;
}

int fm_clock_read_jiffies(struct fm_jiffies_sample *s)
{
	return started ? kernel_sample(NULL, false, s) : -ENODEV;
}

void fm_clock_stop(void)
{
	clock__destroy(skel);
	skel = NULL;
	started = false;
}

uint32_t fm_clock_hz(void)
{
	return started ? proc_clock.hz : 0;
}

void fm_time_now(struct fm_time *t)
{
	static bool warned;
	int err;

	if (started) {
		err = fm_clock_now(&proc_clock, t);
		if (err && !warned) {
			warned = true;
			log_warnx("flow clock: reading jiffies: %s; converting with the relation "
				  "last measured (further failures not logged)", strerror(-err));
		}
		return;
	}
	*t = (struct fm_time){ 0 };
	fm_clock_read(&t->mono_ns, &t->real_ns);
}
