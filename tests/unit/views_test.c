// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Tests of what the views for people print (user/flowvalue.c ICMP names, user/flowview.c sorting,
 * user/status.c ages): every branch of the ICMP and ICMPv6 names, the sort orders with their tie
 * breaks, and ages at each unit boundary.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "flowvalue.h"
#include "flowview.h"
#include "status.h"

static const char *icmp(unsigned int protocol, unsigned int type, unsigned int code)
{
	static char buf[ICMP_NAME_LEN];

	return icmp_type_code_name(protocol, type, code, buf, sizeof(buf));
}

static void icmp_named_types_and_codes(void)
{
	EXPECT_STR(icmp(IPPROTO_ICMP, 8, 0), "echo-request");
	EXPECT_STR(icmp(IPPROTO_ICMP, 0, 0), "echo-reply");
	EXPECT_STR(icmp(IPPROTO_ICMP, 3, 3), "dest-unreachable/port-unreachable");
	EXPECT_STR(icmp(IPPROTO_ICMP, 3, 4), "dest-unreachable/frag-needed");
	EXPECT_STR(icmp(IPPROTO_ICMP, 3, 15), "dest-unreachable/precedence-cutoff");
	EXPECT_STR(icmp(IPPROTO_ICMP, 11, 0), "time-exceeded/ttl-exceeded");
	EXPECT_STR(icmp(IPPROTO_ICMP, 5, 1), "redirect/host-redirect");
	EXPECT_STR(icmp(IPPROTO_ICMPV6, 128, 0), "echo-request");
	EXPECT_STR(icmp(IPPROTO_ICMPV6, 129, 0), "echo-reply");
	EXPECT_STR(icmp(IPPROTO_ICMPV6, 1, 4), "dest-unreachable/port-unreachable");
	EXPECT_STR(icmp(IPPROTO_ICMPV6, 2, 0), "packet-too-big");
	EXPECT_STR(icmp(IPPROTO_ICMPV6, 3, 1), "time-exceeded/reassembly-time-exceeded");
	EXPECT_STR(icmp(IPPROTO_ICMPV6, 135, 0), "neighbor-solicitation");
	EXPECT_STR(icmp(IPPROTO_ICMPV6, 136, 0), "neighbor-advertisement");
	EXPECT_STR(icmp(IPPROTO_ICMPV6, 143, 0), "mld2-report");
}

/* The same numbers mean different things in ICMP and ICMPv6. */
static void icmp_tables_are_per_protocol(void)
{
	EXPECT_STR(icmp(IPPROTO_ICMP, 3, 0), "dest-unreachable/net-unreachable");
	EXPECT_STR(icmp(IPPROTO_ICMPV6, 3, 0), "time-exceeded/hop-limit-exceeded");
	EXPECT_STR(icmp(IPPROTO_ICMP, 128, 0), "128/0");
	EXPECT_STR(icmp(IPPROTO_ICMPV6, 8, 0), "8/0");
}

/*
 * Numbers where there is no name: a code past the type's table, a code of a type without codes,
 * an unknown type (always with its code).
 */
static void icmp_numbers_for_unknown_values(void)
{
	EXPECT_STR(icmp(IPPROTO_ICMP, 3, 99), "dest-unreachable/99");
	EXPECT_STR(icmp(IPPROTO_ICMP, 3, 16), "dest-unreachable/16");
	EXPECT_STR(icmp(IPPROTO_ICMP, 8, 1), "echo-request/1");
	EXPECT_STR(icmp(IPPROTO_ICMPV6, 2, 255), "packet-too-big/255");
	EXPECT_STR(icmp(IPPROTO_ICMP, 200, 3), "200/3");
	EXPECT_STR(icmp(IPPROTO_ICMPV6, 255, 255), "255/255");
}

/* The longest name fits ICMP_NAME_LEN; a short buffer truncates, never overflows. */
static void icmp_name_bounded(void)
{
	char small[8];

	EXPECT_TRUE(strlen(icmp(IPPROTO_ICMP, 3, 14)) < ICMP_NAME_LEN);
	EXPECT_STR(icmp_type_code_name(IPPROTO_ICMP, 3, 3, small, sizeof(small)), "dest-un");
}

static struct flowview_flow flow(__u16 sport, __u64 packets, __u64 octets, __u64 last)
{
	struct flowview_flow f = { 0 };

	f.key.ip_version = 4;
	f.key.protocol = IPPROTO_UDP;
	f.key.src_port = sport;
	f.v.packets = packets;
	f.v.octets = octets;
	f.v.last_seen_jiffies = last;
	return f;
}

static void sorted_ports(struct flowview_flow *flows, size_t n, enum flowview_sort by, char *out)
{
	struct flowview_table t = { .flows = flows, .n = n, .cap = n };

	flowview_sort(&t, by);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		sprintf(out + strlen(out), "%s%u", i ? " " : "", t.flows[i].key.src_port);
}

/* Descending by the key; ties by the other counts, then by the flow key, whatever the order. */
static void sort_orders_and_ties(void)
{
	struct flowview_flow f[] = {
		flow(1, 10, 500, 3000), flow(2, 10, 900, 1000), flow(3, 20, 100, 2000),
		flow(4, 5, 900, 3000),	flow(5, 10, 500, 3000),
	};
	char got[64];

	sorted_ports(f, 5, FLOWVIEW_SORT_PACKETS, got);
	EXPECT_STR(got, "3 2 1 5 4");
	sorted_ports(f, 5, FLOWVIEW_SORT_OCTETS, got);
	EXPECT_STR(got, "2 4 1 5 3");
	sorted_ports(f, 5, FLOWVIEW_SORT_LAST, got);
	EXPECT_STR(got, "1 5 4 3 2");
}

static void sort_keys_parsed(void)
{
	enum flowview_sort by = FLOWVIEW_SORT_NONE;

	EXPECT_EQ(flowview_parse_sort("packets", &by), 0);
	EXPECT_EQ(by, FLOWVIEW_SORT_PACKETS);
	EXPECT_EQ(flowview_parse_sort("octets", &by), 0);
	EXPECT_EQ(by, FLOWVIEW_SORT_OCTETS);
	EXPECT_EQ(flowview_parse_sort("last", &by), 0);
	EXPECT_EQ(by, FLOWVIEW_SORT_LAST);
	EXPECT_EQ(flowview_parse_sort("Packets", &by), -EINVAL);
	EXPECT_EQ(flowview_parse_sort("", &by), -EINVAL);
	EXPECT_EQ(by, FLOWVIEW_SORT_LAST);
}

static const char *age(uint64_t now_ms, uint64_t then_ms)
{
	static char buf[64];

	return status_age(now_ms, then_ms, buf, sizeof(buf));
}

static void ages_at_unit_boundaries(void)
{
	const uint64_t t = 1700000000000ULL;

	EXPECT_STR(age(t, t), "0 s ago");
	EXPECT_STR(age(t + 999, t), "0 s ago");
	EXPECT_STR(age(t + 3000, t), "3 s ago");
	EXPECT_STR(age(t + 119999, t), "119 s ago");
	EXPECT_STR(age(t + 120000, t), "2 min ago");
	EXPECT_STR(age(t + 7199999, t), "119 min ago");
	EXPECT_STR(age(t + 7200000, t), "2 h ago");
	EXPECT_STR(age(t + 47 * 3600000ULL + 3599999, t), "47 h ago");
	EXPECT_STR(age(t + 48 * 3600000ULL, t), "2 days ago");
	EXPECT_STR(age(t + 400 * 86400000ULL, t), "400 days ago");
	/* Never published: the epoch itself. */
	EXPECT_STR(age(t, 0), "19675 days ago");
	/* The clock was set back after the daemon published. */
	EXPECT_STR(age(t, t + 1), "in the future (1 s)");
	EXPECT_STR(age(t, t + 5000), "in the future (5 s)");
}

int main(void)
{
	RUN_TEST(icmp_named_types_and_codes);
	RUN_TEST(icmp_tables_are_per_protocol);
	RUN_TEST(icmp_numbers_for_unknown_values);
	RUN_TEST(icmp_name_bounded);
	RUN_TEST(sort_orders_and_ties);
	RUN_TEST(sort_keys_parsed);
	RUN_TEST(ages_at_unit_boundaries);
	return check_exit_status();
}
