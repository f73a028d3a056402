// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Fixed-rate UDP traffic for bench/compare.sh (a helper, not a benchmark: bench/run.sh only runs
 * the *_bench programs). Sends RATE datagrams a second for SECONDS seconds to DST:PORT from the
 * source ports SPORT .. SPORT+FLOWS-1 in turn, PAYLOAD octets each, paced in 1 ms slices against
 * an absolute clock so the rate holds whatever a slice cost. Prints "packets=N octets=M" when done
 * (octets: IP header and payload, what a flow meter counts).
 *
 *   udp_rate DST PORT SPORT FLOWS RATE SECONDS PAYLOAD
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FLOWS	64
#define SLICE_NS	1000000ULL
#define NSEC_PER_SEC	1000000000ULL

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = { .tv_sec = t / NSEC_PER_SEC, .tv_nsec = t % NSEC_PER_SEC };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* One socket per flow, bound to its source port. */
static int open_flows(const struct sockaddr_in *dst, int sport, int flows, int *fd)
{
	for (int i = 0; i < flows; i++) {
		struct sockaddr_in src = { .sin_family = AF_INET, .sin_port = htons(sport + i) };

		fd[i] = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd[i] < 0 || bind(fd[i], (struct sockaddr *)&src, sizeof(src)) ||
		    connect(fd[i], (const struct sockaddr *)dst, sizeof(*dst))) {
			fprintf(stderr, "udp_rate: socket for source port %d: %s\n", sport + i,
				strerror(errno));
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in dst = { .sin_family = AF_INET };
	uint64_t rate, total, sent = 0, t0;
	int port, sport, flows, seconds, payload, fd[MAX_FLOWS];
	static char buf[65507];

	if (argc != 8) {
		fprintf(stderr, "usage: udp_rate DST PORT SPORT FLOWS RATE SECONDS PAYLOAD\n");
		return 2;
	}
	port = atoi(argv[2]);
	sport = atoi(argv[3]);
	flows = atoi(argv[4]);
	rate = strtoull(argv[5], NULL, 10);
	seconds = atoi(argv[6]);
	payload = atoi(argv[7]);
	if (inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1 || port <= 0 || port > 65535 ||
	    sport <= 0 || flows < 1 || flows > MAX_FLOWS || sport + flows > 65536 || rate < 1 ||
	    seconds < 1 || payload < 0 || payload > (int)sizeof(buf)) {
		fprintf(stderr, "udp_rate: bad arguments\n");
		return 2;
	}
	dst.sin_port = htons(port);
	if (open_flows(&dst, sport, flows, fd))
		return 1;

	total = rate * seconds;
	t0 = now_ns();
	while (sent < total) {
		uint64_t slice_end = now_ns() + SLICE_NS;
		/* What the clock says should have gone by the end of this slice. */
		uint64_t due = (slice_end - t0) * rate / NSEC_PER_SEC;

		if (due > total)
			due = total;
		while (sent < due) {
			if (send(fd[sent % flows], buf, payload, 0) >= 0) {
				sent++;
				continue;
			}
			/* Not sent: a full queue, or an earlier ICMP error reported; try again. */
			if (errno != ENOBUFS && errno != EAGAIN && errno != ECONNREFUSED) {
				fprintf(stderr, "udp_rate: send: %s\n", strerror(errno));
				return 1;
			}
		}
		sleep_until(slice_end);
	}
	printf("packets=%llu octets=%llu\n", (unsigned long long)sent,
	       (unsigned long long)(sent * (20 + 8 + payload)));
	return 0;
}
