// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * IPFIX encoding rate on one core (SPEC §9: >= 10 million records/s). Encodes a mix of IPv4/IPv6
 * TCP/UDP flow records into messages of MaxMessageSize 1400 (the default), filling each message
 * until the encoder refuses a record, finishing it and starting the next, as the exporter does.
 * Time is the thread's CPU time, so other load on the machine does not count against the encoder.
 * Prints one line: the figure, the target and OK or MISSED. Exits 0 either way.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipfix.h"

#define RECORDS		20000000UL	/* at least 10 M, enough for a stable figure */
#define FLOWS		4096		/* distinct flows, cycled, so records differ */
#define MESSAGE_SIZE	1400
#define TARGET_PER_SEC	10e6

static struct ipfix_flow flows[FLOWS];

/* Deterministic mix: a quarter each of IPv4 TCP, IPv4 UDP, IPv6 TCP, IPv6 UDP. */
static void make_flows(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	for (int i = 0; i < FLOWS; i++) {
		struct ipfix_flow *f = &flows[i];

		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		memset(f, 0, sizeof(*f));
		f->ip_version = (i & 1) ? 6 : 4;
		f->protocol = (i & 2) ? 17 : 6;
		f->start_ms = 1700000000000ULL + (x >> 40);
		f->end_ms = f->start_ms + (x & 0xffff);
		f->packets = 1 + (x >> 48);
		f->octets = f->packets * (40 + (x & 0x3ff));
		memcpy(f->src_addr, &x, sizeof(x));
		memcpy(f->dst_addr + 8, &x, sizeof(x));
		f->src_addr[0] = f->ip_version == 4 ? 100 : 0xfd;
		f->dst_addr[0] = f->src_addr[0];
		f->src_port = (uint16_t)(x >> 16);
		f->dst_port = (uint16_t)(x >> 32);
		f->direction = i & 4 ? 1 : 0;
		f->end_reason = 1 + (i % 5);
		f->forwarding_status = 64;
		f->tcp_flags = (uint8_t)x;
		f->ingress_ifindex = f->direction ? 0 : 7;
		f->egress_ifindex = f->direction ? 7 : 0;
	}
}

static double thread_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
	static uint8_t buf[MESSAGE_SIZE];
	uint64_t messages = 0, octets = 0, checksum = 0;
	struct ipfix_msg msg;
	uint32_t sequence = 0;
	double start, secs, rate;

	make_flows();
	start = thread_seconds();
	ipfix_msg_begin(&msg, buf, sizeof(buf));
	for (unsigned long i = 0; i < RECORDS; i++) {
		const struct ipfix_flow *f = &flows[i % FLOWS];

		if (ipfix_msg_add_flow(&msg, f) == 0)
			continue;
		sequence += msg.data_records;
		octets += ipfix_msg_finish(&msg, 1700000000, sequence, 1);
		checksum += buf[msg.len - 1];	/* keeps the compiler from dropping the writes */
		messages++;
		ipfix_msg_begin(&msg, buf, sizeof(buf));
		if (ipfix_msg_add_flow(&msg, f)) {
			fprintf(stderr, "ipfix_bench: a record does not fit an empty message\n");
			return 1;
		}
	}
	octets += ipfix_msg_finish(&msg, 1700000000, sequence, 1);
	messages++;
	secs = thread_seconds() - start;

	rate = RECORDS / secs;
	printf("ipfix encoding            %.1f M records/s (%.1f ns/record)  target >= %.0f M/s  %s\n",
	       rate / 1e6, secs * 1e9 / RECORDS, TARGET_PER_SEC / 1e6,
	       rate >= TARGET_PER_SEC ? "OK" : "MISSED");
	fprintf(stderr, "ipfix_bench: %lu records, %lu messages, %lu octets, %.3f s CPU (check %lu)\n",
		RECORDS, (unsigned long)messages, (unsigned long)octets, secs,
		(unsigned long)checksum);
	return 0;
}
