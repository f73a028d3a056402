// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The saturating sender of bench/compare.sh (a helper, not a benchmark: bench/run.sh runs only
 * the *_bench programs). Pinned to one CPU, it sends UDP as fast as that CPU allows, in rounds of
 * a fixed length, each round to one target (a veth pair of its own, metered by one tool or by
 * none). A veth's receive path runs in softirq on the sending CPU, in this thread's context (this
 * kernel has no IRQ time accounting, so that time is charged to the thread), or in ksoftirqd when
 * the softirq is deferred: the thread's CPU time plus that ksoftirqd's, per packet, is what the
 * CPU spent on one packet, sent and received, metering included. It is the inverse of the
 * saturated rate, without the time other work on the machine took from the CPU, which only a
 * wall-clock rate would count (both are printed).
 *
 * The first target is the baseline. A cycle pairs every other target with a baseline round, the
 * pairs in a shuffled order and the two rounds of each pair in a random order (seeded), so that a
 * drift of the machine's speed, or the leftover work of the tool metered just before, falls on
 * tools and baseline alike. Per round it prints one line:
 *
 *   round CYCLE NAME packets=N wall_ns=W cpu_ns=C softirqd_ns=K proc_ns=P1,P2,...
 *
 * proc_ns: the CPU time in that round of each target's processes (its PIDs, with all their
 * threads), in target order, so a tool's process share can be summed per cycle. Last, per target,
 * every frame sent to it, the unreported warm-up included: "total NAME packets=N".
 *
 *   udp_flood [-c CPU] [-r ROUND_MS] [-n CYCLES] [-w WARMUP_MS] [-s SEED] [-k KSOFTIRQD_PID]
 *             [-p PAYLOAD] [-f FLOWS] [-P SPORT] NAME=IFACE,SRC,DST[/PID,PID...]...
 */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_TARGETS	8
#define MAX_PIDS	8
#define MAX_FLOWS	64
#define BATCH		32
#define NSEC_PER_SEC	1000000000ULL
#define DPORT		4744
#define FRAME_MAX	1514

struct target {
	const char *name;
	int ifindex;
	struct in_addr src, dst;
	int pids[MAX_PIDS];
	int npids;
	int fd;
	uint64_t sent;	/* every frame sent to it, the warm-up's too */
	size_t frame_len;
	uint8_t frames[MAX_FLOWS][FRAME_MAX];
};

struct counters {
	uint64_t wall_ns, cpu_ns, softirqd_ns;
	uint64_t proc_ns[MAX_TARGETS];
};

static struct target targets[MAX_TARGETS];
static int ntargets, flows = 16, payload = 64, sport = 40000, ksoftirqd = -1;
static uint64_t rng_state;

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* Run time in ns of one task (the first field of its schedstat), 0 when it is gone. */
static uint64_t task_ns(const char *path)
{
	unsigned long long ns = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	if (fscanf(f, "%llu", &ns) != 1)
		ns = 0;
	fclose(f);
	return ns;
}

/* Run time of every thread of a process. */
static uint64_t process_ns(int pid)
{
	char path[64];
	struct dirent *d;
	uint64_t ns = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/schedstat", pid, d->d_name);
		ns += task_ns(path);
	}
	closedir(dir);
	return ns;
}

static void sample(struct counters *c)
{
	char path[64];

	c->wall_ns = clock_ns(CLOCK_MONOTONIC);
	c->cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	c->softirqd_ns = 0;
	if (ksoftirqd > 0) {
		snprintf(path, sizeof(path), "/proc/%d/schedstat", ksoftirqd);
		c->softirqd_ns = task_ns(path);
	}
	for (int t = 0; t < ntargets; t++) {
		c->proc_ns[t] = 0;
		for (int i = 0; i < targets[t].npids; i++)
			c->proc_ns[t] += process_ns(targets[t].pids[i]);
	}
}

/* NAME=IFACE,SRC,DST[/PID,PID...] */
static int parse_target(char *arg, struct target *t)
{
	char *eq = strchr(arg, '='), *slash, *end, *src, *dst;

	if (!eq || eq == arg)
		return -1;
	*eq = '\0';
	t->name = arg;
	slash = strchr(eq + 1, '/');
	if (slash)
		*slash = '\0';
	src = strchr(eq + 1, ',');
	dst = src ? strchr(src + 1, ',') : NULL;
	if (!dst)
		return -1;
	*src++ = '\0';
	*dst++ = '\0';
	t->ifindex = (int)if_nametoindex(eq + 1);
	if (!t->ifindex || inet_pton(AF_INET, src, &t->src) != 1 ||
	    inet_pton(AF_INET, dst, &t->dst) != 1)
		return -1;
	for (char *p = slash ? slash + 1 : NULL; p && *p; p = end) {
		long pid = strtol(p, &end, 10);

		if (end == p || pid < 1 || t->npids == MAX_PIDS || (*end && *end != ','))
			return -1;
		t->pids[t->npids++] = (int)pid;
		if (*end == ',')
			end++;
	}
	return 0;
}

static uint16_t ip_checksum(const void *hdr, size_t len)
{
	const uint16_t *w = hdr;
	uint32_t sum = 0;

	for (size_t i = 0; i < len / 2; i++)
		sum += w[i];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * The frames of a target, one a flow: Ethernet to a MAC that is not the receiver's (the
 * receiving stack marks the frame PACKET_OTHERHOST and ip_rcv drops it at once, after the meters:
 * TC ingress and AF_PACKET taps come first), IPv4 from src to dst, UDP from SPORT+i to DPORT.
 */
static void build_frames(struct target *t)
{
	static const uint8_t dst_mac[ETH_ALEN] = { 0x00, 0x00, 0x5e, 0x00, 0x53, 0x01 };
	static const uint8_t src_mac[ETH_ALEN] = { 0x00, 0x00, 0x5e, 0x00, 0x53, 0x02 };

	t->frame_len = sizeof(struct ethhdr) + sizeof(struct iphdr) + sizeof(struct udphdr) +
		       (size_t)payload;
	for (int i = 0; i < flows; i++) {
		uint8_t *f = t->frames[i];
		struct ethhdr *eth = (struct ethhdr *)f;
		struct iphdr *ip = (struct iphdr *)(eth + 1);
		struct udphdr *udp = (struct udphdr *)(ip + 1);

		memset(f, 0, t->frame_len);
		memcpy(eth->h_dest, dst_mac, ETH_ALEN);
		memcpy(eth->h_source, src_mac, ETH_ALEN);
		eth->h_proto = htons(ETH_P_IP);
		ip->version = 4;
		ip->ihl = 5;
		ip->ttl = 64;
		ip->protocol = IPPROTO_UDP;
		ip->tot_len = htons((uint16_t)(t->frame_len - sizeof(*eth)));
		ip->saddr = t->src.s_addr;
		ip->daddr = t->dst.s_addr;
		ip->check = ip_checksum(ip, sizeof(*ip));
		udp->source = htons((uint16_t)(sport + i));
		udp->dest = htons(DPORT);
		udp->len = htons((uint16_t)(sizeof(*udp) + (size_t)payload));
	}
}

/*
 * A packet socket per target that bypasses the qdisc: the frame goes from sendmmsg straight to
 * veth_xmit, no UDP or IP stack on the sending side to add cost and noise to every round.
 */
static int open_sockets(void)
{
	for (int t = 0; t < ntargets; t++) {
		struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP),
					  .sll_ifindex = targets[t].ifindex };
		int one = 1, fd = socket(AF_PACKET, SOCK_RAW, 0);

		targets[t].fd = fd;
		if (fd < 0 || bind(fd, (struct sockaddr *)&ll, sizeof(ll)) ||
		    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one))) {
			fprintf(stderr, "udp_flood: packet socket for %s: %s\n", targets[t].name,
				strerror(errno));
			return -1;
		}
		build_frames(&targets[t]);
	}
	return 0;
}

/* Send to one target until ms have passed, the flows interleaved; datagrams sent, or -1. */
static long long flood(struct target *t, unsigned int ms)
{
	static struct iovec iov[MAX_FLOWS];
	static struct mmsghdr msgs[MAX_FLOWS + BATCH];
	uint64_t end = clock_ns(CLOCK_MONOTONIC) + (uint64_t)ms * 1000000ULL;
	long long sent = 0;
	int f = 0;

	/* Message i carries flow i % flows: a batch starting at msgs[f] goes on from flow f. */
	for (int i = 0; i < flows; i++)
		iov[i] = (struct iovec){ .iov_base = t->frames[i], .iov_len = t->frame_len };
	for (int i = 0; i < flows + BATCH; i++)
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i % flows],
							 .msg_iovlen = 1 } };
	do {
		int n = sendmmsg(t->fd, &msgs[f], BATCH, 0);

		if (n < 0) {
			/* A full queue: not sent, go on. */
			if (errno != ENOBUFS && errno != EAGAIN) {
				fprintf(stderr, "udp_flood: send on %s: %s\n", t->name,
					strerror(errno));
				return -1;
			}
			n = 0;
		}
		sent += n;
		f = (f + n) % flows;
	} while (clock_ns(CLOCK_MONOTONIC) < end);
	return sent;
}

static uint32_t rng(uint32_t n)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)((rng_state >> 33) % n);
}

static int round_once(int cycle, int t, unsigned int ms, bool print)
{
	struct counters a, b;
	long long sent;

	sample(&a);
	sent = flood(&targets[t], ms);
	sample(&b);
	if (sent < 0)
		return -1;
	targets[t].sent += (uint64_t)sent;
	if (!print)
		return 0;
	printf("round %d %s packets=%lld wall_ns=%llu cpu_ns=%llu softirqd_ns=%llu proc_ns=", cycle,
	       targets[t].name, sent, (unsigned long long)(b.wall_ns - a.wall_ns),
	       (unsigned long long)(b.cpu_ns - a.cpu_ns),
	       (unsigned long long)(b.softirqd_ns - a.softirqd_ns));
	for (int i = 0; i < ntargets; i++)
		printf("%s%llu", i ? "," : "", (unsigned long long)(b.proc_ns[i] - a.proc_ns[i]));
	printf("\n");
	fflush(stdout);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: udp_flood [-c CPU] [-r ROUND_MS] [-n CYCLES] [-w WARMUP_MS] "
		"[-s SEED] [-k KSOFTIRQD_PID] [-p PAYLOAD] [-f FLOWS] [-P SPORT] "
		"NAME=IFACE,SRC,DST[/PID,...]...\n");
}

int main(int argc, char **argv)
{
	unsigned int round_ms = 250, warmup_ms = 500;
	int cpu = 0, cycles = 10, opt, order[MAX_TARGETS];
	cpu_set_t set;

	rng_state = 1;
	while ((opt = getopt(argc, argv, "c:r:n:w:s:k:p:f:P:")) != -1) {
		switch (opt) {
		case 'c': cpu = atoi(optarg); break;
		case 'r': round_ms = (unsigned int)atoi(optarg); break;
		case 'n': cycles = atoi(optarg); break;
		case 'w': warmup_ms = (unsigned int)atoi(optarg); break;
		case 's': rng_state = strtoull(optarg, NULL, 10); break;
		case 'k': ksoftirqd = atoi(optarg); break;
		case 'p': payload = atoi(optarg); break;
		case 'f': flows = atoi(optarg); break;
		case 'P': sport = atoi(optarg); break;
		default: usage(); return 2;
		}
	}
	if (optind + 2 > argc || argc - optind > MAX_TARGETS || round_ms < 10 || cycles < 1 ||
	    payload < 0 || payload > 1472 || flows < 1 || flows > MAX_FLOWS || sport < 1 ||
	    sport + flows > 65536) {
		usage();
		return 2;
	}
	for (int i = optind; i < argc; i++) {
		if (parse_target(argv[i], &targets[ntargets])) {
			fprintf(stderr, "udp_flood: bad target %s: expected "
				"NAME=IFACE,SRC,DST[/PID,...]\n", argv[i]);
			return 2;
		}
		ntargets++;
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fprintf(stderr, "udp_flood: pin to CPU %d: %s\n", cpu, strerror(errno));
		return 1;
	}
	if (open_sockets())
		return 1;
	/* Warm every path up once (caches, neighbours, the sink's full buffer), unreported. */
	for (int t = 0; t < ntargets; t++)
		if (round_once(0, t, warmup_ms / (unsigned int)ntargets + 1, false))
			return 1;
	for (int c = 1; c <= cycles; c++) {
		for (int i = 1; i < ntargets; i++)
			order[i - 1] = i;
		for (int i = ntargets - 2; i > 0; i--) {
			int j = (int)rng((uint32_t)i + 1), x = order[i];

			order[i] = order[j];
			order[j] = x;
		}
		for (int i = 0; i < ntargets - 1; i++) {
			int first = rng(2) ? order[i] : 0, second = first ? 0 : order[i];

			if (round_once(c, first, round_ms, true) ||
			    round_once(c, second, round_ms, true))
				return 1;
		}
	}
	for (int t = 0; t < ntargets; t++)
		printf("total %s packets=%llu\n", targets[t].name,
		       (unsigned long long)targets[t].sent);
	return 0;
}
