// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * `flowmeta run`: configuration, attach, then one epoll loop in the OpenBSD daemon style. Nothing
 * runs in a signal handler: SIGTERM, SIGINT, SIGHUP and SIGUSR2 (the handover: exit leaving the
 * programs attached, for an upgrade) arrive through a signalfd; the poll interval
 * and the short deadlines of the exporter (TCP-end and drop hints, template refresh) are timerfds;
 * ring-buffer events come through libbpf's epoll fd. Each wake-up does its work and goes back to
 * sleep.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "daemon.h"
#include "exporter.h"
#include "flowmeta.h"
#include "log.h"
#include "metrics.h"
#include "policy.h"
#include "status.h"
#include "streamstate.h"

enum daemon_fd { FD_SIGNAL, FD_POLL, FD_DUE, FD_EVENTS, FD_COUNT };

struct daemon {
	const struct run_opts *opts;
	struct config *cfg;
	struct attachment *att;
	struct exporter *exp;
	struct ring_buffer *events;
	struct metrics *metrics;	/* NULL: MetricsListen off */
	unsigned int ifindex;
	int epfd;
	int fd[FD_COUNT];
};

/*
 * Load the file over the defaults, add the --collector specs and put --metrics-listen over
 * MetricsListen. A missing file is fine only when it is the default path (built-in defaults then).
 * Errors go to err as one line.
 */
static int load_config(const struct run_opts *opts, struct config *cfg, char *err, size_t len)
{
	int ret;

	config_defaults(cfg);
	ret = config_load_file(cfg, opts->config_path, err, len);
	if (ret == -ENOENT && !opts->config_path_given)
		ret = 0;
	else if (ret == -ENOENT)
		snprintf(err, len, "%s: no such file", opts->config_path);
	for (int i = 0; !ret && i < opts->n_extra_collectors; i++)
		ret = config_add_collector(cfg, opts->extra_collectors[i], err, len);
	if (!ret && opts->metrics_listen)
		ret = listen_parse("--metrics-listen", opts->metrics_listen, &cfg->metrics_listen,
				   err, len);
	return ret;
}

static void log_settings(const struct daemon *d, const char *what)
{
	const struct config *c = d->cfg;

	log_info("%s %s (ifindex %u): poll %" PRIu64 " ms, interval %" PRIu64 " ms, idle timeout %"
		 PRIu64 " ms, direction %s, %zu collector(s)%s", what, d->opts->ifname, d->ifindex,
		 c->poll_interval_ms, c->interval_ms, c->idle_timeout_ms,
		 direction_filter_name(c->direction), c->n_collectors,
		 c->enabled ? "" : ", Enabled false: nothing is exported");
	if (c->enabled && !c->n_collectors)
		log_warnx("Enabled with no collector: flows are metered but exported nowhere");
}

static int arm_timer(int fd, uint64_t first_ns, uint64_t period_ns, int flags)
{
	struct itimerspec its = {
		.it_value.tv_sec = (time_t)(first_ns / NSEC_PER_SEC),
		.it_value.tv_nsec = (long)(first_ns % NSEC_PER_SEC),
		.it_interval.tv_sec = (time_t)(period_ns / NSEC_PER_SEC),
		.it_interval.tv_nsec = (long)(period_ns % NSEC_PER_SEC),
	};

	return timerfd_settime(fd, flags, &its, NULL) ? -errno : 0;
}

static int arm_poll_timer(struct daemon *d)
{
	uint64_t period = d->cfg->poll_interval_ms * NSEC_PER_MSEC;

	return arm_timer(d->fd[FD_POLL], period, period, 0);
}

/* The one-shot timer follows the exporter's earliest deadline (absolute CLOCK_MONOTONIC). */
static void arm_due_timer(struct daemon *d)
{
	uint64_t next = exporter_next_deadline(d->exp);

	int err;

	if (next == UINT64_MAX)
		err = arm_timer(d->fd[FD_DUE], 0, 0, 0);	/* disarm */
	else
		err = arm_timer(d->fd[FD_DUE], next ? next : 1, 0, TFD_TIMER_ABSTIME);
	if (err)
		log_warnx("timerfd: %s; TCP ends and drops wait for the next poll", strerror(-err));
}

static bool listen_changed(const struct listen_addr *a, const struct listen_addr *b)
{
	if (!a->addr_len || !b->addr_len)
		return a->addr_len != b->addr_len;
	return !sockaddr_equal(&a->addr, &b->addr);
}

/*
 * A new MetricsListen is bound before the reload changes anything, and the old server stops only
 * once the reload succeeded: a reload that cannot bind keeps everything as it was. (So moving
 * between a port's wildcard address and one of its own needs a restart: both cannot be bound.)
 */
static int start_new_metrics(struct daemon *d, const struct config *next, struct metrics **out)
{
	*out = NULL;
	if (!listen_changed(&d->cfg->metrics_listen, &next->metrics_listen) ||
	    !next->metrics_listen.addr_len)
		return 0;
	return metrics_start(&next->metrics_listen, d->opts->ifname, d->opts->pin_dir, out);
}

static void switch_metrics(struct daemon *d, const struct config *next, struct metrics *started)
{
	if (!listen_changed(&d->cfg->metrics_listen, &next->metrics_listen))
		return;
	if (d->metrics)
		log_info("metrics: no longer serving %s", metrics_address(d->metrics)->spec);
	metrics_stop(d->metrics);
	d->metrics = started;
}

static void reload(struct daemon *d)
{
	char err[CONFIG_ERR_LEN] = "";
	struct config *next = malloc(sizeof(*next));
	struct metrics *metrics;
	struct fm_time now;
	bool poll_changed;
	int ret;

	if (!next) {
		log_warnx("reload: out of memory; keeping the current configuration");
		return;
	}
	ret = load_config(d->opts, next, err, sizeof(err));
	if (ret) {
		log_warnx("reload: %s; keeping the current configuration", err);
		free(next);
		return;
	}
	/* metrics_start logged why. */
	if (start_new_metrics(d, next, &metrics)) {
		log_warnx("reload: keeping the current configuration");
		free(next);
		return;
	}
	if (next->max_flows != d->cfg->max_flows ||
	    next->max_flow_memory_mib != d->cfg->max_flow_memory_mib)
		log_warnx("reload: a new MaxFlows or MaxFlowMemory takes effect only at the next "
			  "start (the kernel table is sized when it is created)");
	/* policy_apply logged why; the old policy is still in force. */
	if (policy_apply(loader_maps(d->att), &next->policy)) {
		log_warnx("reload: keeping the current configuration");
		metrics_stop(metrics);
		free(next);
		return;
	}
	fm_time_now(&now);
	ret = exporter_configure(d->exp, next, &now);
	if (ret) {
		log_warnx("reload: %s; keeping the current configuration", strerror(-ret));
		if (policy_apply(loader_maps(d->att), &d->cfg->policy))
			log_warnx("reload: the new policy stays in force with the old export settings");
		metrics_stop(metrics);
		free(next);
		return;
	}
	switch_metrics(d, next, metrics);
	poll_changed = next->poll_interval_ms != d->cfg->poll_interval_ms;
	free(d->cfg);
	d->cfg = next;
	if (poll_changed && arm_poll_timer(d))
		log_warnx("reload: PollInterval: the timer kept its old period");
	log_settings(d, "reloaded the configuration for");
	status_publish(loader_maps(d->att), d->exp);
}

static int on_event(void *ctx, void *data, size_t size)
{
	if (size >= sizeof(struct flow_event))
		exporter_hint(ctx, data);
	return 0;
}

static void drain_fd(int fd)
{
	uint64_t v;

	while (read(fd, &v, sizeof(v)) > 0)
		;
}

/* Set up signal, timer and event descriptors; the signals are blocked before attaching. */
static int setup_loop(struct daemon *d)
{
	static const enum daemon_fd watched[] = { FD_SIGNAL, FD_POLL, FD_DUE, FD_EVENTS };
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR2);
	d->fd[FD_SIGNAL] = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	d->fd[FD_POLL] = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	d->fd[FD_DUE] = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->fd[FD_SIGNAL] < 0 || d->fd[FD_POLL] < 0 || d->fd[FD_DUE] < 0 || d->epfd < 0) {
		log_warn("set up the event loop");
		return -errno;
	}
	d->events = ring_buffer__new(loader_maps(d->att)->events, on_event, d->exp, NULL);
	if (d->events)
		d->fd[FD_EVENTS] = ring_buffer__epoll_fd(d->events);
	else
		log_warnx("ring buffer: %s; TCP ends and drops wait for the next poll instead",
			  strerror(errno));
	for (size_t i = 0; i < sizeof(watched) / sizeof(watched[0]); i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = watched[i] };

		if (d->fd[watched[i]] < 0)
			continue;
		if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->fd[watched[i]], &ev)) {
			log_warn("epoll");
			return -errno;
		}
	}
	return arm_poll_timer(d);
}

/* The interface still exists under the same index (a re-created one has a new index). */
static bool interface_present(const struct daemon *d)
{
	return if_nametoindex(d->opts->ifname) == d->ifindex;
}

/* LOOP_HANDOVER: SIGUSR2, stop leaving everything attached and pinned for the next start. */
enum loop_end { LOOP_STOP, LOOP_HANDOVER, LOOP_IFACE_GONE, LOOP_ERROR };

static enum loop_end run_loop(struct daemon *d)
{
	for (;;) {
		struct epoll_event evs[FD_COUNT];
		struct fm_time now;
		int n;

		arm_due_timer(d);
		n = epoll_wait(d->epfd, evs, FD_COUNT, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_warn("epoll_wait");
			return LOOP_ERROR;
		}
		for (int i = 0; i < n; i++) {
			switch (evs[i].data.u32) {
			case FD_SIGNAL: {
				struct signalfd_siginfo si;

				while (read(d->fd[FD_SIGNAL], &si, sizeof(si)) == sizeof(si)) {
					int sig = (int)si.ssi_signo;

					if (sig == SIGUSR2) {
						log_info("SIGUSR2: handing over: the programs stay "
							 "attached and keep counting for the next start");
						return LOOP_HANDOVER;
					}
					if (sig != SIGHUP) {
						log_info("%s: stopping", strsignal(sig));
						return LOOP_STOP;
					}
					log_info("SIGHUP: reloading %s", d->opts->config_path);
					reload(d);
				}
				break;
			}
			case FD_POLL:
				drain_fd(d->fd[FD_POLL]);
				if (!interface_present(d))
					return LOOP_IFACE_GONE;
				fm_time_now(&now);
				exporter_poll(d->exp, &now);
				status_publish(loader_maps(d->att), d->exp);
				break;
			case FD_DUE:
				drain_fd(d->fd[FD_DUE]);
				fm_time_now(&now);
				exporter_tick(d->exp, &now);
				status_publish(loader_maps(d->att), d->exp);
				break;
			case FD_EVENTS:
				ring_buffer__consume(d->events);
				break;
			}
		}
	}
}

static void log_totals(const struct daemon *d)
{
	const struct exporter_stats *s = exporter_get_stats(d->exp);
	struct collector_counters c;
	uint64_t records = 0;

	collector_set_totals(exporter_collectors(d->exp), &c);
	for (int r = 1; r <= 5; r++)
		records += s->records[r];
	log_info("%" PRIu64 " flow records in %" PRIu64 " polls; %" PRIu64 " messages sent; "
		 "not sent: %" PRIu64 " records, %" PRIu64 " packets (all collectors)", records,
		 s->polls, c.messages, c.not_sent_flows, c.not_sent_packets);
}

static void close_loop(struct daemon *d)
{
	ring_buffer__free(d->events);
	for (int i = 0; i < FD_COUNT; i++)
		if (d->fd[i] >= 0 && i != FD_EVENTS)
			close(d->fd[i]);
	if (d->epfd >= 0)
		close(d->epfd);
}

/*
 * SIGUSR2, between two wake-ups: every transaction of the export journal is committed, so the
 * pinned maps and the journal hold all the next `flowmeta run` needs to go on exactly, as after a
 * crash but without one. Nothing ends, nothing is detached: metering and the policy go on
 * without a gap while the binary is replaced (the package's upgrade does this).
 */
static int hand_over(struct daemon *d)
{
	status_publish(loader_maps(d->att), d->exp);
	log_totals(d);
	close_loop(d);
	exporter_free(d->exp);
	metrics_stop(d->metrics);
	loader_abandon(d->att);
	free(d->cfg);
	log_info("stopped; the programs on %s stay attached: the next flowmeta run adopts their "
		 "counts", d->opts->ifname);
	return EXIT_OK;
}

/*
 * Upgrade: the maps an earlier version left (loader.h) are exported once, then released; on a
 * failure they stay pinned and the next start tries again.
 */
static void export_old_maps(struct daemon *d, const struct fm_time *now)
{
	struct flowmeta_old_maps old;

	if (loader_old_maps(d->att, &old))
		return;
	if (!exporter_export_old(d->exp, &old, now) && !loader_release_old_maps(d->att, old.layout))
		exporter_old_released(d->exp);
	loader_close_old_maps(&old);
}

/*
 * Installed between load and attach: a fresh start never lets a packet through unfiltered, and an
 * adopted policy (still in force from the earlier instance) is replaced atomically.
 */
static int install_policy(const struct flowmeta_maps *maps, void *cfg)
{
	return policy_apply(maps, &((const struct config *)cfg)->policy);
}

int daemon_run(const struct run_opts *opts)
{
	struct daemon d = { .opts = opts, .epfd = -1, .fd = { -1, -1, -1, -1 } };
	struct loader_opts lopts = { .ifname = opts->ifname, .pin_dir = opts->pin_dir,
				     .hook = opts->hook,
				     .tc_attach = opts->tc_attach };
	char err[CONFIG_ERR_LEN] = "", state[PATH_MAX];
	enum loop_end end = LOOP_ERROR;
	struct fm_time now;
	sigset_t mask;
	int ret;

	d.cfg = malloc(sizeof(*d.cfg));
	if (!d.cfg) {
		log_warnx("out of memory");
		return EXIT_RUNTIME;
	}
	ret = load_config(opts, d.cfg, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "error: %s\n", err);
		free(d.cfg);
		return EXIT_USAGE;
	}
	/* Blocked before attaching: a SIGTERM during setup waits in the signalfd instead of killing
	 * the process with programs attached and no daemon to detach them. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR2);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	/* Before attaching: an address that cannot be served fails the start, nothing attached. */
	if (d.cfg->metrics_listen.addr_len &&
	    metrics_start(&d.cfg->metrics_listen, opts->ifname, opts->pin_dir, &d.metrics)) {
		free(d.cfg);
		return EXIT_RUNTIME;
	}

	lopts.max_flows = d.cfg->max_flows;
	lopts.max_flow_memory = (uint64_t)d.cfg->max_flow_memory_mib << 20;
	lopts.before_attach = install_policy;
	lopts.ctx = d.cfg;
	ret = loader_attach(&lopts, &d.att);
	if (ret) {
		/* loader_attach logged the cause ("already running on IFACE" for -EBUSY). */
		metrics_stop(d.metrics);
		free(d.cfg);
		return EXIT_RUNTIME;
	}
	d.ifindex = loader_ifindex(d.att);
	if (loader_adopted(d.att))
		log_info("adopted the counts of an earlier instance: the next poll exports them");
	/* Flow times are jiffies (clock.h): HZ and the ticks are learnt before the first read. */
	ret = fm_clock_start();
	fm_time_now(&now);
	if (streamstate_path(opts->ifname, opts->pin_dir, state, sizeof(state)))
		state[0] = '\0';
	/* fm_clock_start logged why it failed. */
	d.exp = ret ? NULL
		    : exporter_new(loader_maps(d.att), d.ifindex, d.cfg, &now, state[0] ? state : NULL);
	if (!d.exp || setup_loop(&d)) {
		close_loop(&d);
		exporter_free(d.exp);
		/* Adopted counts were never exported: leave them pinned for the next start. */
		if (loader_adopted(d.att))
			loader_abandon(d.att);
		else
			loader_detach(d.att);
		metrics_stop(d.metrics);
		free(d.cfg);
		return EXIT_RUNTIME;
	}
	export_old_maps(&d, &now);
	log_settings(&d, "metering");
	status_publish(loader_maps(d.att), d.exp);

	end = run_loop(&d);
	if (end == LOOP_HANDOVER)
		return hand_over(&d);
	if (end == LOOP_IFACE_GONE)
		log_warnx("%s (ifindex %u) is gone: exporting the remaining flows, then exiting",
			  opts->ifname, d.ifindex);
	else if (loader_stop_metering(d.att))
		log_warnx("could not detach the programs before the last read; counting goes on "
			  "until they are removed");
	fm_time_now(&now);
	exporter_flush_all(d.exp, &now);
	status_publish(loader_maps(d.att), d.exp);
	log_totals(&d);
	close_loop(&d);
	exporter_free(d.exp);
	metrics_stop(d.metrics);	/* the pins it reads are removed next */
	/* With the interface gone the kernel already removed the programs: only the pins remain. */
	if (loader_detach(d.att) && end == LOOP_STOP)
		end = LOOP_ERROR;
	free(d.cfg);
	fm_clock_stop();
	log_info("stopped");
	return end == LOOP_STOP ? EXIT_OK : EXIT_RUNTIME;
}
