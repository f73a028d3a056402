// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * `flowmeta top`: every interval, read the pinned flow map and counters, turn the differences
 * from the previous read into rates, and show the busiest flows and the key counters.
 *
 * The terminal is left as it was found on every way out: its settings are saved before anything
 * changes them and restored after `q`, SIGINT, SIGTERM, SIGHUP, an output error, and exit()
 * (atexit); SIGTSTP restores them before stopping and takes them again on SIGCONT. Signal
 * handlers only set flags; the signals stay blocked except inside ppoll(), so none arrives
 * between a check of the flags and the wait. Escape sequences (alternate screen, cursor, reverse
 * video for the column header) are written only to a terminal whose TERM is not "dumb";
 * anything else gets plain snapshots, one per interval, separated by a blank line.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "clock.h"
#include "flowvalue.h"
#include "flowview.h"
#include "loader.h"
#include "log.h"
#include "status.h"
#include "top.h"

#define ENTER_SCREEN	"\033[?1049h\033[?25l\033[H\033[2J"	/* alternate screen, no cursor */
#define LEAVE_SCREEN	"\033[?25h\033[?1049l"
#define HEAD_LINES	6	/* lines above the flows */
#define PLAIN_FLOWS	20	/* flows of a plain snapshot without --top */

/* ---- the terminal ------------------------------------------------------------------------- */

static struct {
	bool screen;		/* stdout is a terminal that understands escapes: redraw in place */
	bool keys;		/* stdin is a terminal: read keys, no echo, no line buffering */
	bool taken;		/* settings changed and alternate screen entered */
	struct termios saved;
	int rows, cols;
} term;

static volatile sig_atomic_t got_stop, got_winch, got_tstp;

static void on_signal(int sig)
{
	if (sig == SIGWINCH)
		got_winch = 1;
	else if (sig == SIGTSTP)
		got_tstp = 1;
	else
		got_stop = 1;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Idempotent, and registered with atexit(): whatever ends the process leaves the terminal sane. */
static void term_release(void)
{
	if (!term.taken)
		return;
	term.taken = false;
	if (term.screen)
		write_all(STDOUT_FILENO, LEAVE_SCREEN, strlen(LEAVE_SCREEN));
	if (term.keys)
		tcsetattr(STDIN_FILENO, TCSADRAIN, &term.saved);
}

static int term_take(void)
{
	if (term.keys) {
		struct termios t = term.saved;

		/* Keys one by one without echo; ISIG stays on, so Ctrl-C is SIGINT as usual. */
		t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		t.c_cc[VMIN] = 1;
		t.c_cc[VTIME] = 0;
		if (tcsetattr(STDIN_FILENO, TCSADRAIN, &t))
			return -errno;
	}
	term.taken = true;
	return term.screen ? write_all(STDOUT_FILENO, ENTER_SCREEN, strlen(ENTER_SCREEN)) : 0;
}

static void term_size(void)
{
	struct winsize ws;

	term.rows = 24;
	term.cols = 80;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) {
		term.rows = ws.ws_row;
		term.cols = ws.ws_col;
	}
}

static void term_init(bool once)
{
	const char *t = getenv("TERM");

	term.screen = !once && isatty(STDOUT_FILENO) && t && *t && strcmp(t, "dumb") != 0;
	term.keys = term.screen && isatty(STDIN_FILENO) &&
		    tcgetattr(STDIN_FILENO, &term.saved) == 0;
	term_size();
}

/* ---- samples of the maps ------------------------------------------------------------------ */

struct sample {
	bool valid;		/* the maps were read; otherwise why says why not */
	char why[192];
	uint64_t mono_ns;
	uint64_t real_ms;
	__u32 map_id;		/* another flow map (a run after a detach): no rates against it */
	struct flowview_table table;	/* sorted by key, for the next sample's lookups */
	struct status_snapshot st;	/* counters only (status_counters_read) */
};

static int key_order(const void *a, const void *b)
{
	return memcmp(&((const struct flowview_flow *)a)->key,
		      &((const struct flowview_flow *)b)->key, sizeof(struct flow_key));
}

static void read_sample(const struct top_opts *o, struct sample *s)
{
	struct bpf_map_info info = { 0 };
	__u32 info_len = sizeof(info);
	struct flowmeta_maps maps;
	struct fm_time now;
	int err;

	s->valid = false;
	err = loader_open_pinned(o->ifname, o->pin_dir, &maps);
	if (err == -ENOENT) {
		snprintf(s->why, sizeof(s->why),
			 "nothing pinned for %s: flowmeta stopped and detached, or never ran",
			 o->ifname);
		return;
	}
	if (err) {
		snprintf(s->why, sizeof(s->why), "open the pinned maps of %s: %s", o->ifname,
			 strerror(-err));
		return;
	}
	err = bpf_obj_get_info_by_fd(maps.flows, &info, &info_len);
	if (!err)
		err = flowview_read(maps.flows, maps.drop_flows, &s->table);
	if (!err)
		err = status_counters_read(o->ifname, o->pin_dir, &maps, &s->st);
	loader_close_maps(&maps);
	if (err) {
		snprintf(s->why, sizeof(s->why), "read the maps of %s: %s", o->ifname,
			 strerror(-err));
		return;
	}
	qsort(s->table.flows, s->table.n, sizeof(s->table.flows[0]), key_order);
	fm_time_now(&now);
	s->mono_ns = now.mono_ns;
	s->real_ms = now.real_ns / NSEC_PER_MSEC;
	s->map_id = info.id;
	s->valid = true;
}

/* ---- rates ---------------------------------------------------------------------------------- */

struct row {
	const struct flowview_flow *f;
	double pps, bps;	/* < 0: unknown (no earlier sample of this table) */
};

struct rates {
	bool known;
	double seconds;		/* between the two samples */
	struct row *rows;	/* busiest first */
	size_t n;
	double pps[2], bps[2];	/* per direction (enum flow_direction) */
};

/* What grew since the earlier sample; a counter that went back was reset (a new entry). */
static double grew(__u64 now, __u64 then)
{
	return (double)(now >= then ? now - then : now);
}

static double per_second(const struct rates *r, __u64 now, __u64 then)
{
	return r->known ? grew(now, then) / r->seconds : -1;
}

static int busiest_first(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;

	if (a->bps != b->bps)
		return a->bps > b->bps ? -1 : 1;
	if (a->pps != b->pps)
		return a->pps > b->pps ? -1 : 1;
	if (a->f->v.octets != b->f->v.octets)
		return a->f->v.octets > b->f->v.octets ? -1 : 1;
	return memcmp(&a->f->key, &b->f->key, sizeof(a->f->key));
}

static int compute_rates(const struct sample *now, const struct sample *then, struct rates *r)
{
	free(r->rows);
	*r = (struct rates){ 0 };
	if (!now->valid)
		return 0;
	r->known = then->valid && then->map_id == now->map_id && now->mono_ns > then->mono_ns;
	r->seconds = r->known ? (double)(now->mono_ns - then->mono_ns) / NSEC_PER_SEC : 0;
	r->rows = calloc(now->table.n ? now->table.n : 1, sizeof(*r->rows));
	if (!r->rows)
		return -ENOMEM;
	r->n = now->table.n;
	for (size_t i = 0; i < r->n; i++) {
		const struct flowview_flow *f = &now->table.flows[i], *old = NULL;
		struct row *row = &r->rows[i];

		if (r->known)
			old = bsearch(f, then->table.flows, then->table.n, sizeof(*f), key_order);
		row->f = f;
		/* A flow absent before started since: all its counts are of this interval. */
		row->pps = per_second(r, f->v.packets, old ? old->v.packets : 0);
		row->bps = r->known ? 8 * per_second(r, f->v.octets, old ? old->v.octets : 0) : -1;
		if (r->known && f->key.direction <= FLOW_DIR_EGRESS) {
			r->pps[f->key.direction] += row->pps;
			r->bps[f->key.direction] += row->bps;
		}
	}
	qsort(r->rows, r->n, sizeof(r->rows[0]), busiest_first);
	return 0;
}

/* ---- the frame ------------------------------------------------------------------------------ */

struct frame {
	char *text;		/* lines, each ending with '\n' */
	size_t len, cap;
	int lines;
	int bar;		/* the line shown in reverse video on a terminal; -1: none */
};

static void __attribute__((format(printf, 2, 3))) add_line(struct frame *fr, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	n = strlen(line);
	while (n && line[n - 1] == ' ')
		n--;
	if (fr->len + n + 2 > fr->cap) {
		size_t cap = (fr->cap + n + 2) * 2;
		char *p = realloc(fr->text, cap);

		if (!p)
			return;	/* a shorter frame; the next one tries again */
		fr->text = p;
		fr->cap = cap;
	}
	memcpy(fr->text + fr->len, line, n);
	fr->len += n;
	fr->text[fr->len++] = '\n';
	fr->text[fr->len] = '\0';
	fr->lines++;
}

/* 1234567 -> "1.2M": SI prefixes, two or three digits; "-" when unknown. */
static const char *si(double v, char *buf, size_t len)
{
	static const char prefix[] = " kMGTPE";
	int i = 0;

	if (v < 0 || isnan(v))
		return "-";
	while (v >= 999.5 && i < 6) {
		v /= 1000;
		i++;
	}
	if (!i)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, v < 9.95 ? "%.1f%c" : "%.0f%c", v, prefix[i]);
	return buf;
}

/* "N (R/s)" for a counter: its value and how fast it grew. */
static const char *counter(const struct rates *r, __u64 now, __u64 then, char *buf, size_t len)
{
	char rate[16];

	snprintf(buf, len, "%llu (%s/s)", (unsigned long long)now,
		 si(per_second(r, now, then), rate, sizeof(rate)));
	return buf;
}

static void add_daemon_line(struct frame *fr, const struct top_opts *o, const struct sample *s)
{
	const struct daemon_status *d = &s->st.daemon;
	char every[16], age[48], who[160];

	snprintf(every, sizeof(every), "%g s", (double)o->interval_ms / 1000);
	if (s->st.running)
		snprintf(who, sizeof(who), "daemon running (pid %llu, updated %s)",
			 (unsigned long long)d->pid, status_age(s->real_ms, d->updated_ms, age,
								  sizeof(age)));
	else if (d->pid)
		snprintf(who, sizeof(who), "no daemon (the last, pid %llu, updated %s)",
			 (unsigned long long)d->pid, status_age(s->real_ms, d->updated_ms, age,
								  sizeof(age)));
	else
		snprintf(who, sizeof(who), "no daemon has run");
	add_line(fr, "flowmeta top %s: %s; every %s%s", o->ifname, who, every,
		 term.keys ? "; q quits" : "");
}

static void add_counter_lines(struct frame *fr, const struct sample *s, const struct sample *then,
			      const struct rates *r)
{
	const struct flowmeta_stats *k = &s->st.kernel, *k0 = &then->st.kernel;
	const struct daemon_status *d = &s->st.daemon, *d0 = &then->st.daemon;
	char drops[48], full[48], lost[48], ended[16], records[16], colls[48];
	char ipps[16], ibps[16], opps[16], obps[16];
	__u32 capacity = s->st.tables[FLOW_TABLE_FLOWS].capacity;
	struct rates same_daemon = *r;
	int down = 0;

	/* Another daemon started over: its counters began again, no rate against the last one's. */
	same_daemon.known = r->known && d->pid == d0->pid;
	for (int i = 0; i < s->st.n_collectors; i++)
		down += s->st.collectors[i].down != 0;
	if (s->st.n_collectors)
		snprintf(colls, sizeof(colls), "collectors %d up, %d down",
			 s->st.n_collectors - down, down);
	else
		snprintf(colls, sizeof(colls), "no collector");
	add_line(fr, "flows %zu of %u (%.1f %%)   ended %s/s   records %s/s   %s", s->table.n,
		 capacity, capacity ? 100.0 * (double)s->table.n / capacity : 0.0,
		 si(per_second(&same_daemon, d->flows_ended, d0->flows_ended), ended,
		    sizeof(ended)),
		 si(per_second(&same_daemon, d->flow_records, d0->flow_records), records,
		    sizeof(records)),
		 colls);
	add_line(fr, "drops %s   table full %s   events lost %s",
		 counter(r, k->policy_dropped, k0->policy_dropped, drops, sizeof(drops)),
		 counter(r, k->table_full_packets, k0->table_full_packets, full, sizeof(full)),
		 counter(r, k->events_lost, k0->events_lost, lost, sizeof(lost)));
	add_line(fr, "in %s pkt/s %s bit/s   out %s pkt/s %s bit/s",
		 si(r->known ? r->pps[FLOW_DIR_INGRESS] : -1, ipps, sizeof(ipps)),
		 si(r->known ? r->bps[FLOW_DIR_INGRESS] : -1, ibps, sizeof(ibps)),
		 si(r->known ? r->pps[FLOW_DIR_EGRESS] : -1, opps, sizeof(opps)),
		 si(r->known ? r->bps[FLOW_DIR_EGRESS] : -1, obps, sizeof(obps)));
}

static void add_flow_lines(struct frame *fr, const struct rates *r, size_t max)
{
	size_t n = r->n < max ? r->n : max;
	int src_w = 3, dst_w = 3;

	for (size_t i = 0; i < n; i++)
		flowview_widen(&r->rows[i].f->key, &src_w, &dst_w);
	add_line(fr, "%s", "");
	fr->bar = fr->lines;
	add_line(fr, "%-7s %-6s %-*s %5s %-*s %5s %7s %7s %10s %12s %s", "DIR", "PROTO", src_w,
		 "SRC", "SPORT", dst_w, "DST", "DPORT", "PKT/S", "BIT/S", "PACKETS", "OCTETS", "INFO");
	for (size_t i = 0; i < n; i++) {
		const struct flowview_flow *f = r->rows[i].f;
		const struct flow_key *key = &f->key;
		char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], sport[8], dport[8], proto[8];
		char pps[16], bps[16], icmp[ICMP_NAME_LEN];
		/* What is not forwarded says so, before the ICMP type. */
		const char *verdict = key->verdict == FLOW_VERDICT_FORWARDED ?
					      "" : flow_verdict_name(key->verdict);

		flowview_ports(key, sport, dport);
		flowview_icmp(key, icmp, sizeof(icmp));
		add_line(fr, "%-7s %-6s %-*s %5s %-*s %5s %7s %7s %10llu %12llu %s%s%s",
			 flow_direction_name(key->direction), flowview_protocol(key, proto), src_w,
			 flow_addr_format(key->src_addr, key->ip_version, src, sizeof(src)), sport,
			 dst_w, flow_addr_format(key->dst_addr, key->ip_version, dst, sizeof(dst)),
			 dport, si(r->rows[i].pps, pps, sizeof(pps)),
			 si(r->rows[i].bps, bps, sizeof(bps)), (unsigned long long)f->v.packets,
			 (unsigned long long)f->v.octets, verdict, *verdict && *icmp ? " " : "",
			 icmp);
	}
}

static void render(struct frame *fr, const struct top_opts *o, const struct sample *now,
		   const struct sample *then, const struct rates *r)
{
	size_t max = o->max_flows;

	fr->len = 0;
	fr->lines = 0;
	fr->bar = -1;
	if (term.screen) {
		size_t room = term.rows > HEAD_LINES ? (size_t)(term.rows - HEAD_LINES) : 0;

		max = max && max < room ? max : room;
	} else if (!max) {
		max = PLAIN_FLOWS;
	}
	if (!now->valid) {
		add_line(fr, "flowmeta top %s: %s", o->ifname, now->why);
		return;
	}
	add_daemon_line(fr, o, now);
	add_counter_lines(fr, now, then, r);
	add_flow_lines(fr, r, max);
}

/*
 * On a terminal: from the top-left corner, each line cut to the width and the rest of it cleared,
 * no newline after the last row (it would scroll), then the rest of the screen cleared. Plain:
 * the lines as they are and a blank line.
 */
static int show(const struct frame *fr)
{
	const char *p = fr->text ? fr->text : "";
	size_t cap = fr->len + (size_t)fr->lines * 16 + 64, len = 0;
	char *out;
	int err;

	if (!term.screen) {
		err = write_all(STDOUT_FILENO, p, fr->len);
		return err ? err : write_all(STDOUT_FILENO, "\n", 1);
	}
	out = malloc(cap);
	if (!out)
		return -ENOMEM;
	len += (size_t)snprintf(out, cap, "\033[H");
	for (int i = 0; i < fr->lines && i < term.rows; i++) {
		const char *nl = strchr(p, '\n');
		size_t n = (size_t)(nl - p);

		if (n > (size_t)term.cols)
			n = (size_t)term.cols;
		if (i == fr->bar)
			len += (size_t)snprintf(out + len, cap - len, "\033[7m");
		memcpy(out + len, p, n);
		len += n;
		/* The bar spans the whole width. */
		for (; i == fr->bar && n < (size_t)term.cols; n++)
			out[len++] = ' ';
		len += (size_t)snprintf(out + len, cap - len, "%s\033[K%s",
					i == fr->bar ? "\033[m" : "", i + 1 < term.rows ? "\r\n" : "");
		p = nl + 1;
	}
	len += (size_t)snprintf(out + len, cap - len, "\033[J");
	err = write_all(STDOUT_FILENO, out, len);
	free(out);
	return err;
}

/* ---- the loop ------------------------------------------------------------------------------- */

static const int handled[] = { SIGINT, SIGTERM, SIGHUP, SIGWINCH, SIGTSTP };

/* Ctrl-Z: give the terminal back, stop, and take it again when continued. */
static int suspend(void)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL }, on = { .sa_handler = on_signal };
	sigset_t tstp;

	term_release();
	sigemptyset(&tstp);
	sigaddset(&tstp, SIGTSTP);
	sigaction(SIGTSTP, &dfl, NULL);
	sigprocmask(SIG_UNBLOCK, &tstp, NULL);
	raise(SIGTSTP);		/* stopped here until SIGCONT */
	sigprocmask(SIG_BLOCK, &tstp, NULL);
	sigaction(SIGTSTP, &on, NULL);
	term_size();
	return term_take();
}

/* Read the keys typed; true when one of them asks to quit. */
static bool quit_key(void)
{
	char keys[64];
	ssize_t n = read(STDIN_FILENO, keys, sizeof(keys));

	for (ssize_t i = 0; i < n; i++)
		if (keys[i] == 'q' || keys[i] == 'Q')
			return true;
	return false;
}

static uint64_t ms_until(uint64_t deadline_ns)
{
	uint64_t now = fm_mono_ns();

	return deadline_ns > now ? (deadline_ns - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC : 0;
}

/*
 * Wait until deadline_ns, redrawing on resize and handling Ctrl-Z. 1: time for the next sample,
 * 0: stop (a key or a signal), negative errno: the output failed.
 */
static int wait_next(uint64_t deadline_ns, const sigset_t *during, struct frame *fr,
		     const struct top_opts *o, const struct sample *now, const struct sample *then,
		     const struct rates *r)
{
	for (;;) {
		uint64_t ms = ms_until(deadline_ns);
		struct timespec ts = { .tv_sec = (time_t)(ms / 1000),
				       .tv_nsec = (long)(ms % 1000) * 1000000 };
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		int n, err = 0;

		if (got_stop)
			return 0;
		if (got_tstp) {
			got_tstp = 0;
			err = suspend();
			got_winch = 1;
		}
		if (!err && got_winch) {
			got_winch = 0;
			term_size();
			render(fr, o, now, then, r);
			err = show(fr);
		}
		if (err)
			return err;
		if (!ms)
			return 1;
		n = ppoll(&pfd, term.keys ? 1 : 0, &ts, during);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0 && (pfd.revents & (POLLHUP | POLLERR | POLLNVAL)))
			term.keys = false;	/* no more keys; signals still stop the view */
		else if (n > 0 && quit_key())
			return 0;
	}
}

int top_run(const struct top_opts *o)
{
	struct sample *s[2] = { calloc(1, sizeof(*s[0])), calloc(1, sizeof(*s[1])) };
	struct sigaction on = { .sa_handler = on_signal }, ign = { .sa_handler = SIG_IGN };
	struct frame fr = { .bar = -1 };
	struct rates r = { 0 };
	sigset_t block, during;
	uint64_t next;
	int err = 0, latest = 0;
	static bool registered;

	if (!s[0] || !s[1]) {
		free(s[0]);
		free(s[1]);
		log_errx("top: out of memory");
		return EXIT_RUNTIME;
	}
	term_init(o->once);
	if (!registered && atexit(term_release) == 0)
		registered = true;
	sigemptyset(&block);
	for (size_t i = 0; i < sizeof(handled) / sizeof(handled[0]); i++) {
		/* Without a screen, Ctrl-Z and resizes keep their usual meaning. */
		if (!term.screen && (handled[i] == SIGWINCH || handled[i] == SIGTSTP))
			continue;
		sigaddset(&block, handled[i]);
		sigaction(handled[i], &on, NULL);
	}
	sigaction(SIGPIPE, &ign, NULL);	/* a closed pipe is an EPIPE from write() */
	sigprocmask(SIG_BLOCK, &block, &during);

	read_sample(o, s[latest]);
	next = s[latest]->mono_ns ? s[latest]->mono_ns : fm_mono_ns();
	if (term.screen) {
		err = term_take();
		if (!err && !(err = compute_rates(s[latest], s[!latest], &r))) {
			render(&fr, o, s[latest], s[!latest], &r);
			err = show(&fr);
		}
	}
	while (!err) {
		int older = latest;

		next += o->interval_ms * NSEC_PER_MSEC;
		if (next < fm_mono_ns())
			next = fm_mono_ns();	/* after a slow read or a stop: no catch-up burst */
		err = wait_next(next, &during, &fr, o, s[latest], s[!latest], &r);
		if (err <= 0)
			break;
		err = 0;
		latest = !latest;
		read_sample(o, s[latest]);
		err = compute_rates(s[latest], s[older], &r);
		if (err)
			break;
		render(&fr, o, s[latest], s[older], &r);
		err = show(&fr);
		if (o->once)
			break;
	}
	term_release();
	sigprocmask(SIG_SETMASK, &during, NULL);
	for (int i = 0; i < 2; i++) {
		flowview_free(&s[i]->table);
		free(s[i]);
	}
	free(r.rows);
	free(fr.text);
	/* A reader gone (a closed pipe, a hung-up terminal) ends the view; it is not an error. */
	if (err && err != -EPIPE && err != -EIO) {
		errno = -err;
		log_err("top on %s", o->ifname);
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}
