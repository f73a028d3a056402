// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The sender of tests/e2e/flood.sh: floods of new IPv4/UDP flows written as whole Ethernet frames
 * to a packet socket in a tight loop, so 200,000 frames take a second or less rather than the
 * minutes a per-packet tool needs. Built by the test with cc (no library of the daemon).
 *
 *   flood_send IFACE SRCMAC DSTMAC PAYLOAD SPEC...
 *   SPEC = SRC,NSRC,SPORT,NSPORT,DST,DPORT,COUNT
 *
 * Frame i of a SPEC comes from address SRC + (i / NSPORT) % NSRC, port SPORT + i % NSPORT, to
 * DST:DPORT: COUNT distinct flows when COUNT <= NSRC * NSPORT. The SPECs are interleaved in
 * proportion to their counts, so a small one (an allowed stream) runs evenly through a large one.
 * The frames go through the qdisc layer, so the sending device's TC egress sees them. Prints what
 * was sent, octets counting the IP header and payload (what a meter counts):
 *
 *   frames=N octets=M dropped=D ms=T
 *
 * D of the N were dropped at the sending device's TC egress (send says ENOBUFS: the qdisc
 * layer's NET_XMIT_DROP); they count as sent, the hook saw them. EAGAIN is retried after a short
 * pause: every frame is sent exactly once.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SPECS 8
#define FRAME_MAX 1514

struct spec {
	uint32_t src, nsrc, dst;	/* host order */
	uint32_t sport, nsport, dport;
	uint64_t count, next;
};

static struct spec specs[MAX_SPECS];
static int nspecs;
static uint8_t smac[6], dmac[6];
static unsigned int payload;

static int parse_mac(const char *s, uint8_t *mac)
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3],
		      &mac[4], &mac[5]) == 6 ? 0 : -1;
}

static int parse_spec(char *s, struct spec *sp)
{
	char *f[7];
	struct in_addr a;
	int n = 0;

	for (char *tok = strtok(s, ","); tok && n < 7; tok = strtok(NULL, ","))
		f[n++] = tok;
	if (n != 7 || inet_pton(AF_INET, f[0], &a) != 1)
		return -1;
	sp->src = ntohl(a.s_addr);
	if (inet_pton(AF_INET, f[4], &a) != 1)
		return -1;
	sp->dst = ntohl(a.s_addr);
	sp->nsrc = (uint32_t)strtoul(f[1], NULL, 10);
	sp->sport = (uint32_t)strtoul(f[2], NULL, 10);
	sp->nsport = (uint32_t)strtoul(f[3], NULL, 10);
	sp->dport = (uint32_t)strtoul(f[5], NULL, 10);
	sp->count = strtoull(f[6], NULL, 10);
	return sp->nsrc && sp->nsport ? 0 : -1;
}

static uint16_t csum(const void *data, size_t len)
{
	const uint16_t *p = data;
	uint32_t sum = 0;

	for (; len > 1; len -= 2)
		sum += *p++;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Frame i of sp into buf; returns its length. UDP checksum 0 (none, valid for IPv4). */
static size_t build(uint8_t *buf, const struct spec *sp, uint64_t i)
{
	struct ethhdr *eth = (struct ethhdr *)buf;
	struct iphdr *ip = (struct iphdr *)(eth + 1);
	struct udphdr *udp = (struct udphdr *)(ip + 1);
	size_t iplen = sizeof(*ip) + sizeof(*udp) + payload;

	memcpy(eth->h_dest, dmac, 6);
	memcpy(eth->h_source, smac, 6);
	eth->h_proto = htons(ETH_P_IP);
	memset(ip, 0, sizeof(*ip));
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons((uint16_t)iplen);
	ip->saddr = htonl(sp->src + (uint32_t)((i / sp->nsport) % sp->nsrc));
	ip->daddr = htonl(sp->dst);
	ip->check = csum(ip, sizeof(*ip));
	udp->source = htons((uint16_t)(sp->sport + i % sp->nsport));
	udp->dest = htons((uint16_t)sp->dport);
	udp->len = htons((uint16_t)(sizeof(*udp) + payload));
	udp->check = 0;
	memset(udp + 1, 0x5a, payload);
	return sizeof(*eth) + iplen;
}

/* The spec with frames left whose share sent (next / count) is the smallest. */
static struct spec *behind(void)
{
	struct spec *best = NULL;

	for (int s = 0; s < nspecs; s++) {
		struct spec *sp = &specs[s];

		if (sp->next < sp->count &&
		    (!best || sp->next * best->count < best->next * sp->count))
			best = sp;
	}
	return best;
}

int main(int argc, char **argv)
{
	static uint8_t frame[FRAME_MAX];
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP),
				   .sll_halen = 6 };
	uint64_t sent = 0, octets = 0, dropped = 0;
	struct timespec t0, t1;
	int fd;

	if (argc < 6 || parse_mac(argv[2], smac) || parse_mac(argv[3], dmac)) {
		fprintf(stderr, "usage: flood_send IFACE SRCMAC DSTMAC PAYLOAD "
				"SRC,NSRC,SPORT,NSPORT,DST,DPORT,COUNT...\n");
		return 2;
	}
	payload = (unsigned int)strtoul(argv[4], NULL, 10);
	if (payload > FRAME_MAX - 42)
		return 2;
	for (int a = 5; a < argc && nspecs < MAX_SPECS; a++)
		if (parse_spec(argv[a], &specs[nspecs++])) {
			fprintf(stderr, "flood_send: bad spec %s\n", argv[a]);
			return 2;
		}
	sll.sll_ifindex = (int)if_nametoindex(argv[1]);
	memcpy(sll.sll_addr, dmac, 6);
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (!sll.sll_ifindex || fd < 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		perror("flood_send: packet socket");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/*
	 * One frame a call: a frame the hook dropped fails its call alone, so none is sent twice
	 * (sendmmsg stops at a failed frame without saying which one it was).
	 */
	for (struct spec *sp; (sp = behind());) {
		size_t len = build(frame, sp, sp->next++);

		while (send(fd, frame, len, 0) < 0) {
			if (errno == ENOBUFS) {
				/* The device's TC egress dropped it (NET_XMIT_DROP): it was sent. */
				dropped++;
				break;
			}
			if (errno != EAGAIN && errno != EINTR) {
				perror("flood_send: send");
				return 1;
			}
			usleep(100);
		}
		octets += len - sizeof(struct ethhdr);
		sent++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("frames=%llu octets=%llu dropped=%llu ms=%lld\n", (unsigned long long)sent,
	       (unsigned long long)octets, (unsigned long long)dropped,
	       (long long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
	return 0;
}
