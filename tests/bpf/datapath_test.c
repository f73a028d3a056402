// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Datapath tests: crafted frames through flowmeta_tc_ingress, flowmeta_tc_egress and
 * flowmeta_xdp_ingress with BPF_PROG_TEST_RUN, one case per packet class. Each case loads its own
 * skeleton (small maps) and asserts the exact flow key, counters, verdict, the untouched frame, the
 * per-CPU stats and the ring-buffer events. Needs root. The fixture is tests/bpf/fixture.h.
 */
#include "clock.h"
#include "fixture.h"

static struct flowmeta *fx_default(void)
{
	return fx_load((struct fixture_opts){ 0 });
}

/* What a hook returns for a packet it lets pass (see bpf/hooks.h for why TC says UNSPEC). */
static int pass_code(enum hook hook)
{
	return hook == XDP_INGRESS ? XDP_PASS : TC_ACT_UNSPEC;
}

/* Run through a hook; a meter never changes a frame, so every run checks it came out unchanged. */
static int run_ctx(struct flowmeta *s, enum hook hook, const struct pkt *p, int repeat,
		   const struct __sk_buff *skb)
{
	return fx_run(s, hook, p, repeat, skb, true);
}

/* Run once and expect the packet to pass. */
static void run_pass(struct flowmeta *s, enum hook hook, const struct pkt *p)
{
	EXPECT_EQ(run_ctx(s, hook, p, 1, NULL), pass_code(hook));
}

static void expect_key(const struct flow_key *got, const struct flow_key *want)
{
	EXPECT_EQ(got->ip_version, want->ip_version);
	EXPECT_MEM(got->src_addr, want->src_addr, sizeof(want->src_addr));
	EXPECT_MEM(got->dst_addr, want->dst_addr, sizeof(want->dst_addr));
	EXPECT_EQ(got->protocol, want->protocol);
	EXPECT_EQ(got->src_port, want->src_port);
	EXPECT_EQ(got->dst_port, want->dst_port);
	EXPECT_EQ(got->direction, want->direction);
	EXPECT_EQ(got->verdict, want->verdict);
	EXPECT_MEM(got, want, sizeof(*want));	/* padding and all */
}

static void expect_counts(const struct flow_value *v, uint64_t packets, uint64_t octets,
			  uint8_t tcp_flags, uint8_t end_flags)
{
	EXPECT_EQ(v->packets, packets);
	EXPECT_EQ(v->octets, octets);
	EXPECT_EQ(v->tcp_flags, tcp_flags);
	EXPECT_EQ(v->end_flags, end_flags);
	EXPECT_TRUE(v->first_seen_jiffies != 0);
	EXPECT_TRUE(v->first_seen_jiffies <= v->last_seen_jiffies);
}

/* The map's only flow has this key and these counts. */
static void expect_only_flow(struct flowmeta *s, const struct flow_key *want, uint64_t packets,
			     uint64_t octets, uint8_t tcp_flags)
{
	struct flow_value v;
	struct flow_key k;

	if (!only_flow(s, &k, &v))
		return;
	expect_key(&k, want);
	expect_counts(&v, packets, octets, tcp_flags, 0);
}

/* Every stats counter equals want's (fields not named there: 0). */
#define EXPECT_STATS(s, ...) expect_stats((s), (struct flowmeta_stats){ __VA_ARGS__ })

static void expect_stats(struct flowmeta *s, struct flowmeta_stats want)
{
	struct flowmeta_stats got = stats_get(s);

	EXPECT_EQ(got.not_ip, want.not_ip);
	EXPECT_EQ(got.malformed, want.malformed);
	EXPECT_EQ(got.truncated_l4, want.truncated_l4);
	EXPECT_EQ(got.fragments, want.fragments);
	EXPECT_EQ(got.table_full_packets, want.table_full_packets);
	EXPECT_EQ(got.table_full_octets, want.table_full_octets);
	EXPECT_EQ(got.events_lost, want.events_lost);
	EXPECT_EQ(got.policy_dropped, want.policy_dropped);
	EXPECT_EQ(got.unparseable, want.unparseable);
	EXPECT_EQ(got.fail_closed, want.fail_closed);
	for (int v = 0; v < 2; v++) {
		for (int d = 0; d < 2; d++) {
			EXPECT_EQ(got.drop_table_full_packets[v][d],
				  want.drop_table_full_packets[v][d]);
			EXPECT_EQ(got.drop_table_full_octets[v][d],
				  want.drop_table_full_octets[v][d]);
		}
	}
}

/* IPv4 TCP 100.64.0.1:40000 -> 100.64.0.2:22 with payload octets; IP length 40 + payload. */
static void ipv4_tcp(struct pkt *p, uint8_t flags, size_t payload)
{
	eth_ipv4(p, "100.64.0.1", "100.64.0.2", IPPROTO_TCP);
	pkt_tcp(p, 40000, 22, flags, 0);
	pkt_payload(p, payload);
	pkt_finish(p);
}

static struct flow_key ipv4_tcp_key(enum flow_direction dir)
{
	return key_of(4, "100.64.0.1", "100.64.0.2", IPPROTO_TCP, 40000, 22, dir);
}

/* ---- one case per packet class ---- */

static void ipv4_tcp_flow_is_keyed_and_counted_on_tc_ingress(void)
{
	struct flowmeta *s = fx_default();
	struct flow_key want = ipv4_tcp_key(FLOW_DIR_INGRESS);
	struct pkt p;

	if (!s)
		return;
	ipv4_tcp(&p, TCP_PSH | TCP_ACK, 100);
	run_pass(s, TC_INGRESS, &p);
	expect_only_flow(s, &want, 1, 140, TCP_PSH | TCP_ACK);
	EXPECT_STATS(s, 0);
	EXPECT_EQ(events_drain(s).count, 0);
	flowmeta__destroy(s);
}

static void ipv4_udp_flow_on_tc_egress_has_direction_egress(void)
{
	struct flowmeta *s = fx_default();
	struct flow_key want = key_of(4, "100.64.0.2", "100.64.0.53", IPPROTO_UDP, 5353, 53,
				      FLOW_DIR_EGRESS);
	struct pkt p;

	if (!s)
		return;
	eth_ipv4(&p, "100.64.0.2", "100.64.0.53", IPPROTO_UDP);
	pkt_udp(&p, 5353, 53);
	pkt_payload(&p, 30);
	pkt_finish(&p);
	run_pass(s, TC_EGRESS, &p);
	expect_only_flow(s, &want, 1, 58, 0);
	EXPECT_STATS(s, 0);
	flowmeta__destroy(s);
}

static void ipv4_icmp_type_and_code_go_to_dst_port(void)
{
	struct flowmeta *s = fx_default();
	struct flow_key want = key_of(4, "100.64.0.1", "100.64.0.9", IPPROTO_ICMP, 0, 3 << 8 | 1,
				      FLOW_DIR_INGRESS);
	struct pkt p;

	if (!s)
		return;
	eth_ipv4(&p, "100.64.0.1", "100.64.0.9", IPPROTO_ICMP);
	pkt_icmp(&p, 3, 1);	/* destination unreachable, host unreachable */
	pkt_payload(&p, 28);
	pkt_finish(&p);
	run_pass(s, TC_INGRESS, &p);
	expect_only_flow(s, &want, 1, 56, 0);
	EXPECT_STATS(s, 0);
	flowmeta__destroy(s);
}

static void ipv4_sctp_ports_are_read(void)
{
	struct flowmeta *s = fx_default();
	struct flow_key want = key_of(4, "100.64.1.1", "100.64.1.2", IPPROTO_SCTP, 5000, 36412,
				      FLOW_DIR_INGRESS);
	struct pkt p;

	if (!s)
		return;
	eth_ipv4(&p, "100.64.1.1", "100.64.1.2", IPPROTO_SCTP);
	pkt_sctp(&p, 5000, 36412);
	pkt_payload(&p, 16);
	pkt_finish(&p);
	run_pass(s, TC_INGRESS, &p);
	expect_only_flow(s, &want, 1, 48, 0);
	EXPECT_STATS(s, 0);
	flowmeta__destroy(s);
}

static void ipv4_udplite_ports_are_read(void)
{
	struct flowmeta *s = fx_default();
	struct flow_key want = key_of(4, "100.64.1.1", "100.64.1.2", IPPROTO_UDPLITE, 6000, 6001,
				      FLOW_DIR_EGRESS);
	struct pkt p;

	if (!s)
		return;
	eth_ipv4(&p, "100.64.1.1", "100.64.1.2", IPPROTO_UDPLITE);
	pkt_udp(&p, 6000, 6001);
	pkt_payload(&p, 10);
	pkt_finish(&p);
	run_pass(s, TC_EGRESS, &p);
	expect_only_flow(s, &want, 1, 38, 0);
	EXPECT_STATS(s, 0);
	flowmeta__destroy(s);
}

static void ipv4_other_protocol_has_ports_zero(void)
{
	struct flowmeta *s = fx_default();
	struct flow_key want = key_of(4, "198.18.0.1", "198.18.0.2", IPPROTO_GRE, 0, 0,
				      FLOW_DIR_INGRESS);
	struct pkt p;

	if (!s)
		return;
	eth_ipv4(&p, "198.18.0.1", "198.18.0.2", IPPROTO_GRE);
	pkt_payload(&p, 24);	/* non-zero bytes where ports would be */
	pkt_finish(&p);
	run_pass(s, TC_INGRESS, &p);
	expect_only_flow(s, &want, 1, 44, 0);
	EXPECT_STATS(s, 0);
	flowmeta__destroy(s);
}

static void ipv6_tcp_flow_is_keyed_and_counted(void)
{
	struct flowmeta *s = fx_default();
	struct flow_key want = key_of(6, "fd00::1", "fd00::2", IPPROTO_TCP, 443, 50000,
				      FLOW_DIR_INGRESS);
	struct pkt p;

	if (!s)
		return;
	eth_ipv6(&p, "fd00::1", "fd00::2", IPPROTO_TCP);
	pkt_tcp(&p, 443, 50000, TCP_ACK, 0);
	pkt_payload(&p, 200);
	pkt_finish(&p);
	run_pass(s, TC_INGRESS, &p);
	expect_only_flow(s, &want, 1, 260, TCP_ACK);
	EXPECT_STATS(s, 0);
	flowmeta__destroy(s);
}

static void ipv6_udp_flow_is_keyed_and_counted(void)
{
	struct flowmeta *s = fx_default();
	struct flow_key want = key_of(6, "2001:db8::1", "2001:db8::2", IPPROTO_UDP, 123, 124,
				      FLOW_DIR_EGRESS);
	struct pkt p;

	if (!s)
		return;
	eth_ipv6(&p, "2001:db8::1", "2001:db8::2", IPPROTO_UDP);
	pkt_udp(&p, 123, 124);
	pkt_payload(&p, 48);
	pkt_finish(&p);
	run_pass(s, TC_EGRESS, &p);
	expect_only_flow(s, &want, 1, 96, 0);
	EXPECT_STATS(s, 0);
	flowmeta__destroy(s);
}

static void ipv6_icmpv6_type_and_code_go_to_dst_port(void)
{
	struct flowmeta *s = fx_default();
	struct flow_key want = key_of(6, "fd00::1", "fd00::2", IPPROTO_ICMPV6, 0, 128 << 8 | 0,
				      FLOW_DIR_INGRESS);
	struct pkt p;

	if (!s)
		return;
	eth_ipv6(&p, "fd00::1", "fd00::2", IPPROTO_ICMPV6);
	pkt_icmp(&p, 128, 0);	/* echo request */
	pkt_payload(&p, 56);
	pkt_finish(&p);
	run_pass(s, TC_INGRESS, &p);
	expect_only_flow(s, &want, 1, 104, 0);
	EXPECT_STATS(s, 0);
	flowmeta__destroy(s);
}

static void ipv6_other_protocol_has_ports_zero(void)
{
	struct flowmeta *s = fx_default();
	struct flow_key want = key_of(6, "fd00::1", "fd00::2", IPPROTO_GRE, 0, 0, FLOW_DIR_INGRESS);
	struct pkt p;

	if (!s)
		return;
	eth_ipv6(&p, "fd00::1", "fd00::2", IPPROTO_GRE);
	pkt_payload(&p, 20);
	pkt_finish(&p);
	run_pass(s, TC_INGRESS, &p);
	expect_only_flow(s, &want, 1, 60, 0);
	EXPECT_STATS(s, 0);
	flowmeta__destroy(s);
}

static void vlan_8021q_tag_is_skipped(void)
{
	struct flowmeta *s = fx_default();
	struct flow_key want = key_of(4, "100.64.0.1", "100.64.0.2", IPPROTO_UDP, 1000, 2000,
				      FLOW_DIR_INGRESS);
	struct pkt p;

	if (!s)
		return;
	pkt_init(&p);
	pkt_eth(&p, ETH_P_8021Q);
	pkt_vlan(&p, 100, ETH_P_IP);
	pkt_ipv4(&p, "100.64.0.1", "100.64.0.2", IPPROTO_UDP);
	pkt_udp(&p, 1000, 2000);
	pkt_payload(&p, 12);
	pkt_finish(&p);
	run_pass(s, TC_INGRESS, &p);
	expect_only_flow(s, &want, 1, 40, 0);	/* the tag is L2: not in the octets */
	EXPECT_STATS(s, 0);
	flowmeta__destroy(s);
}

static void qinq_tags_are_skipped(void)
{
	struct flowmeta *s = fx_default();
	struct flow_key want = key_of(6, "fd00::a", "fd00::b", IPPROTO_TCP, 22, 60000,
				      FLOW_DIR_EGRESS);
	struct pkt p;

	if (!s)
		return;
	pkt_init(&p);
	pkt_eth(&p, ETH_P_8021AD);
	pkt_vlan(&p, 10, ETH_P_8021Q);
	pkt_vlan(&p, 20, ETH_P_IPV6);
	pkt_ipv6(&p, "fd00::a", "fd00::b", IPPROTO_TCP);
	pkt_tcp(&p, 22, 60000, TCP_ACK, 0);
	pkt_payload(&p, 8);
	pkt_finish(&p);
	run_pass(s, TC_EGRESS, &p);
	expect_only_flow(s, &want, 1, 68, TCP_ACK);
	EXPECT_STATS(s, 0);
	flowmeta__destroy(s);
}

/*
 * A stack of n tags (the outer one TPID outer, then alternating 802.1Q and 802.1ad, VID 0 and
 * others) ending in ethertype; the frame continues after it.
 */
static void eth_vlan_stack(struct pkt *p, int n, uint16_t outer, uint16_t ethertype)
{
	pkt_init(p);
	pkt_eth(p, n ? outer : ethertype);
	for (int i = 0; i < n; i++)
		pkt_vlan(p, i % 3 ? 0 : 100 + i, i + 1 < n ? (i % 2 ? ETH_P_8021Q : ETH_P_8021AD)
						       : ethertype);
}

/*
 * The kernel strips every tag of VLAN ID 0 around the hooks (the outer one before TC ingress) and
 * delivers what follows as IP, however deep the stack: the parser walks any mix of 802.1Q and
 * 802.1ad tags, any VID, to the IP header, on every hook. The tags are L2: not in the octets.
 */
static void vlan_stacks_of_any_depth_and_mix_are_walked_to_ip(void)
{
	static const int depths[] = { 3, 4, 17, 100, 700 };
	static const enum hook hooks[] = { TC_INGRESS, TC_EGRESS, XDP_INGRESS };

	for (size_t d = 0; d < sizeof(depths) / sizeof(depths[0]); d++) {
		for (int v6 = 0; v6 < 2; v6++) {
			struct flowmeta *s = fx_default();
			struct flow_key want;
			struct flow_value v;
			struct pkt p;

			if (!s)
				return;
			eth_vlan_stack(&p, depths[d], v6 ? ETH_P_8021Q : ETH_P_8021AD,
				       v6 ? ETH_P_IPV6 : ETH_P_IP);
			if (v6)
				pkt_ipv6(&p, "fd00::a", "fd00::b", IPPROTO_TCP);
			else
				pkt_ipv4(&p, "100.64.0.1", "100.64.0.2", IPPROTO_TCP);
			pkt_tcp(&p, 4000 + depths[d], 22, TCP_SYN, 0);
			pkt_payload(&p, 10);
			pkt_finish(&p);
			for (size_t h = 0; h < 3; h++)
				run_pass(s, hooks[h], &p);
			want = v6 ? key_of(6, "fd00::a", "fd00::b", IPPROTO_TCP, 4000 + depths[d],
					   22, FLOW_DIR_INGRESS)
				  : key_of(4, "100.64.0.1", "100.64.0.2", IPPROTO_TCP,
					   4000 + depths[d], 22, FLOW_DIR_INGRESS);
			EXPECT_EQ(flow_count(s), 2);
			if (flow_get(s, &want, &v))
				expect_counts(&v, 2, 2 * (v6 ? 70 : 50), TCP_SYN, 0);
			want.direction = FLOW_DIR_EGRESS;
			if (flow_get(s, &want, &v))
				expect_counts(&v, 1, v6 ? 70 : 50, TCP_SYN, 0);
			EXPECT_STATS(s, 0);
			flowmeta__destroy(s);
		}
	}
}

static void vlan_stack_ending_in_another_type_is_not_ip(void)
{
	struct flowmeta *s = fx_default();
	struct pkt p;

	if (!s)
		return;
	eth_vlan_stack(&p, 5, ETH_P_8021Q, ETH_P_ARP);
	pkt_payload(&p, 28);
	run_pass(s, TC_INGRESS, &p);
	run_pass(s, XDP_INGRESS, &p);
	EXPECT_EQ(flow_count(s), 0);
	EXPECT_STATS(s, .not_ip = 2);
	flowmeta__destroy(s);
}

/* A stack whose tags run past the end of the frame: malformed (the kernel drops it). */
static void vlan_stack_cut_short_is_malformed(void)
{
	struct flowmeta *s = fx_default();
	struct pkt p;

	if (!s)
		return;
	eth_vlan_stack(&p, 6, ETH_P_8021AD, ETH_P_IP);
	p.len -= 2;	/* the last tag is cut in two */
	run_pass(s, TC_INGRESS, &p);
	run_pass(s, TC_EGRESS, &p);
	run_pass(s, XDP_INGRESS, &p);
	EXPECT_EQ(flow_count(s), 0);
	EXPECT_STATS(s, .malformed = 3);
	flowmeta__destroy(s);
}

static void l3_device_frames_start_at_the_ip_header(void)
{
	struct flowmeta *s = fx_load((struct fixture_opts){ .l3_device = true });
	struct flow_key k4 = key_of(4, "100.64.0.1", "100.64.0.2", IPPROTO_TCP, 40000, 22,
				    FLOW_DIR_INGRESS);
	struct flow_key k6 = key_of(6, "fd00::1", "fd00::2", IPPROTO_UDP, 53, 5353,
				    FLOW_DIR_EGRESS);
	struct flow_key kx = key_of(4, "100.64.0.3", "100.64.0.4", IPPROTO_ICMP, 0, 8 << 8,
				    FLOW_DIR_INGRESS);
	struct flow_value v;
	struct pkt p;

	if (!s)
		return;
	pkt_init(&p);
	pkt_ipv4(&p, "100.64.0.1", "100.64.0.2", IPPROTO_TCP);
	pkt_tcp(&p, 40000, 22, TCP_SYN, 0);
	pkt_finish(&p);
	run_pass(s, TC_INGRESS, &p);

	pkt_init(&p);
	pkt_ipv6(&p, "fd00::1", "fd00::2", IPPROTO_UDP);
	pkt_udp(&p, 53, 5353);
	pkt_payload(&p, 20);
	pkt_finish(&p);
	run_pass(s, TC_EGRESS, &p);

	pkt_init(&p);
	pkt_ipv4(&p, "100.64.0.3", "100.64.0.4", IPPROTO_ICMP);
	pkt_icmp(&p, 8, 0);
	pkt_payload(&p, 56);
	pkt_finish(&p);
	run_pass(s, XDP_INGRESS, &p);

	EXPECT_EQ(flow_count(s), 3);
	if (flow_get(s, &k4, &v))
		expect_counts(&v, 1, 40, TCP_SYN, 0);
	if (flow_get(s, &k6, &v))
		expect_counts(&v, 1, 68, 0, 0);
	if (flow_get(s, &kx, &v))
		expect_counts(&v, 1, 84, 0, 0);
	EXPECT_STATS(s, 0);
	flowmeta__destroy(s);
}

/*
 * BPF_PROG_TEST_RUN derives skb->protocol from bytes 12-13 as if they were an Ethernet type; in an
 * IPv4 header those are the first two octets of the source address. 134.221.x.x reads as 0x86dd,
 * IPv6: TC must believe skb->protocol (and find no IPv6 header), XDP has only the version nibble.
 * (The address is only ever inside this crafted buffer; nothing is sent.)
 */
static void l3_device_tc_takes_ip_version_from_skb_protocol(void)
{
	struct flowmeta *s = fx_load((struct fixture_opts){ .l3_device = true });
	struct flow_key want = key_of(4, "134.221.0.1", "100.64.0.2", IPPROTO_UDP, 7, 9,
				      FLOW_DIR_INGRESS);
	struct pkt p;

	if (!s)
		return;
	pkt_init(&p);
	pkt_ipv4(&p, "134.221.0.1", "100.64.0.2", IPPROTO_UDP);
	pkt_udp(&p, 7, 9);
	pkt_payload(&p, 40);
	pkt_finish(&p);
	run_pass(s, TC_INGRESS, &p);
	EXPECT_EQ(flow_count(s), 0);
	EXPECT_STATS(s, .malformed = 1);
	run_pass(s, XDP_INGRESS, &p);
	expect_only_flow(s, &want, 1, 68, 0);
	EXPECT_STATS(s, .malformed = 1);
	flowmeta__destroy(s);
}

/*
 * On an IP-only device the frame's type is skb->protocol: a tun writer's packet information may
 * name a VLAN type, and the kernel then strips the tags (the first one before TC ingress) and
 * delivers what follows as IP. TC walks them from the start of the frame.
 */
static void l3_device_tc_walks_vlan_tags_named_by_skb_protocol(void)
{
	struct flowmeta *s = fx_load((struct fixture_opts){ .l3_device = true });
	struct flow_key want = key_of(4, "100.64.0.1", "100.64.0.2", IPPROTO_UDP, 7, 9,
				      FLOW_DIR_INGRESS);
	struct __sk_buff ctx = { 0 };
	struct pkt p;

	if (!s)
		return;
	pkt_init(&p);
	pkt_vlan(&p, 0, ETH_P_8021Q);
	pkt_vlan(&p, 0, ETH_P_IP);
	pkt_ipv4(&p, "100.64.0.1", "100.64.0.2", IPPROTO_UDP);
	pkt_udp(&p, 7, 9);
	pkt_payload(&p, 12);
	pkt_finish(&p);
	/* BPF_PROG_TEST_RUN takes skb->protocol from the frame: octets 12-13 are 0x8100 here. */
	memcpy(p.data + 12, (uint16_t[]){ htons(ETH_P_8021Q) }, 2);
	EXPECT_EQ(run_ctx(s, TC_INGRESS, &p, 1, &ctx), TC_ACT_UNSPEC);
	expect_only_flow(s, &want, 1, 40, 0);
	EXPECT_STATS(s, 0);
	flowmeta__destroy(s);
}

/*
 * XDP on an IP-only device has no protocol to go by: a frame that is not IPv4 or IPv6 by its
 * version nibble could still be delivered as IP (VLAN tags named by a tun writer), so it is
 * unparseable, never "not IP". Without a policy it passes.
 */
static void l3_device_xdp_frame_of_unknown_version_is_unparseable(void)
{
	struct flowmeta *s = fx_load((struct fixture_opts){ .l3_device = true });
	struct pkt p;

	if (!s)
		return;
	pkt_init(&p);
	pkt_vlan(&p, 0, ETH_P_IP);
	pkt_ipv4(&p, "100.64.0.1", "100.64.0.2", IPPROTO_UDP);
	pkt_udp(&p, 7, 9);
	pkt_finish(&p);
	run_pass(s, XDP_INGRESS, &p);
	EXPECT_EQ(flow_count(s), 0);
	EXPECT_STATS(s, .unparseable = 1);
	flowmeta__destroy(s);
}

static void ipv4_options_are_skipped_to_find_ports(void)
{
	struct flowmeta *s = fx_default();
	struct flow_key want = key_of(4, "100.64.0.1", "100.64.0.2", IPPROTO_TCP, 1234, 80,
				      FLOW_DIR_INGRESS);
	struct pkt p;

	if (!s)
		return;
	eth_ipv4(&p, "100.64.0.1", "100.64.0.2", IPPROTO_TCP);
	pkt_ipv4_options(&p, 12);
	pkt_tcp(&p, 1234, 80, TCP_SYN, 0);
	pkt_payload(&p, 10);
	pkt_finish(&p);
	run_pass(s, TC_INGRESS, &p);
	expect_only_flow(s, &want, 1, 62, TCP_SYN);
	EXPECT_STATS(s, 0);
	flowmeta__destroy(s);
}

static void ipv6_hop_routing_and_destination_options_are_walked_to_find_ports(void)
{
	struct flowmeta *s = fx_default();
	struct flow_key want = key_of(6, "fd00::1", "fd00::2", IPPROTO_UDP, 4000, 4001,
				      FLOW_DIR_INGRESS);
	struct pkt p;

	if (!s)
		return;
	eth_ipv6(&p, "fd00::1", "fd00::2", IPPROTO_HOPOPTS);
	pkt_ipv6_ext(&p, IPPROTO_HOPOPTS, IPPROTO_ROUTING, 8);
	pkt_ipv6_ext(&p, IPPROTO_ROUTING, IPPROTO_DSTOPTS, 24);
	pkt_ipv6_ext(&p, IPPROTO_DSTOPTS, IPPROTO_UDP, 16);
	pkt_udp(&p, 4000, 4001);
	pkt_payload(&p, 12);
	pkt_finish(&p);
	run_pass(s, TC_INGRESS, &p);
	expect_only_flow(s, &want, 1, 108, 0);
	EXPECT_STATS(s, 0);
	/* The same through XDP, which walks with its own copy of the code. */
	run_pass(s, XDP_INGRESS, &p);
	expect_only_flow(s, &want, 2, 216, 0);
	flowmeta__destroy(s);
}

static void ipv6_ah_is_walked_to_find_ports(void)
{
	struct flowmeta *s = fx_default();
	struct flow_key want = key_of(6, "fd00::1", "fd00::2", IPPROTO_TCP, 22, 50022,
				      FLOW_DIR_EGRESS);
	struct pkt p;

	if (!s)
		return;
	eth_ipv6(&p, "fd00::1", "fd00::2", IPPROTO_AH);
	pkt_ipv6_ext(&p, IPPROTO_AH, IPPROTO_TCP, 24);
	pkt_tcp(&p, 22, 50022, TCP_ACK, 0);
	pkt_finish(&p);
	run_pass(s, TC_EGRESS, &p);
	expect_only_flow(s, &want, 1, 84, TCP_ACK);
	EXPECT_STATS(s, 0);
	flowmeta__destroy(s);
}

/*
 * The kernel walks any chain of extension headers: so does the parser, to the real transport
 * header, never stopping short and taking an extension header for the transport.
 */
static void long_ipv6_extension_chains_are_walked_to_the_transport(void)
{
	static const int lengths[] = { 9, 20, 100, 300 };

	for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		struct flowmeta *s = fx_default();
		struct flow_key want = key_of(6, "fd00::1", "fd00::2", IPPROTO_TCP, 1000 + i, 22,
					      FLOW_DIR_INGRESS);
		struct pkt p;
		int n = lengths[i];

		if (!s)
			return;
		eth_ipv6(&p, "fd00::1", "fd00::2", IPPROTO_HOPOPTS);
		pkt_ipv6_ext(&p, IPPROTO_HOPOPTS, IPPROTO_ROUTING, 8);
		pkt_ipv6_ext(&p, IPPROTO_ROUTING, IPPROTO_DSTOPTS, 8);
		for (int h = 2; h < n; h++)
			pkt_ipv6_ext(&p, IPPROTO_DSTOPTS, h + 1 < n ? IPPROTO_DSTOPTS : IPPROTO_TCP,
				     8);
		pkt_tcp(&p, 1000 + i, 22, TCP_ACK, 0);
		pkt_finish(&p);
		run_pass(s, TC_INGRESS, &p);
		run_pass(s, XDP_INGRESS, &p);
		expect_only_flow(s, &want, 2, 2 * (40 + 8 * n + 20), TCP_ACK);
		EXPECT_STATS(s, 0);
		flowmeta__destroy(s);
	}
}

/* An extension header cut short by the end of the frame: malformed, never metered as 43. */
static void ipv6_extension_header_cut_short_is_malformed(void)
{
	struct flowmeta *s = fx_default();
	struct pkt p;

	if (!s)
		return;
	eth_ipv6(&p, "fd00::1", "fd00::2", IPPROTO_HOPOPTS);
	pkt_ipv6_ext(&p, IPPROTO_HOPOPTS, IPPROTO_ROUTING, 8);
	pkt_ipv6_ext(&p, IPPROTO_ROUTING, IPPROTO_UDP, 24);
	pkt_udp(&p, 1, 2);
	pkt_finish(&p);			/* payload_len 40: IP length 80 */
	p.len = p.l3 + 40 + 8 + 1;	/* the frame ends one octet into the routing header */
	run_pass(s, TC_INGRESS, &p);
	run_pass(s, XDP_INGRESS, &p);
	EXPECT_EQ(flow_count(s), 0);
	EXPECT_STATS(s, .malformed = 2);
	flowmeta__destroy(s);
}

/* A header past the datagram's own length (payload_len), with the frame longer: malformed too. */
static void ipv6_extension_header_past_the_payload_length_is_malformed(void)
{
	struct flowmeta *s = fx_default();
	struct pkt p;

	if (!s)
		return;
	eth_ipv6(&p, "fd00::1", "fd00::2", IPPROTO_DSTOPTS);
	pkt_ipv6_ext(&p, IPPROTO_DSTOPTS, IPPROTO_DSTOPTS, 8);
	pkt_ipv6_ext(&p, IPPROTO_DSTOPTS, IPPROTO_UDP, 16);
	pkt_udp(&p, 1, 2);
	pkt_finish(&p);
	/* The datagram says 8 + 8 octets of payload: the second header ends past it. */
	memcpy(p.data + p.l3 + 4, (uint16_t[]){ htons(16) }, 2);
	run_pass(s, TC_EGRESS, &p);
	EXPECT_EQ(flow_count(s), 0);
	EXPECT_STATS(s, .malformed = 1);
	flowmeta__destroy(s);
}

static void ipv4_later_fragment_takes_ports_of_first_fragment(void)
{
	struct flowmeta *s = fx_default();
	struct flow_key want = key_of(4, "100.64.0.1", "100.64.0.2", IPPROTO_UDP, 7000, 7001,
				      FLOW_DIR_INGRESS);
	struct iphdr *iph;
	struct pkt p;

	if (!s)
		return;
	eth_ipv4(&p, "100.64.0.1", "100.64.0.2", IPPROTO_UDP);
	iph = (struct iphdr *)(p.data + p.l3);
	iph->id = htons(0x4242);
	iph->frag_off = htons(0x2000);		/* MF, offset 0 */
	pkt_udp(&p, 7000, 7001);
	pkt_payload(&p, 72);
	pkt_finish(&p);				/* 100 */
	run_pass(s, TC_INGRESS, &p);

	eth_ipv4(&p, "100.64.0.1", "100.64.0.2", IPPROTO_UDP);
	iph = (struct iphdr *)(p.data + p.l3);
	iph->id = htons(0x4242);
	iph->frag_off = htons(80 / 8);		/* last fragment at octet 80 */
	pkt_payload(&p, 40);
	pkt_finish(&p);				/* 60 */
	run_pass(s, TC_INGRESS, &p);

	expect_only_flow(s, &want, 2, 160, 0);
	EXPECT_STATS(s, .fragments = 2);
	flowmeta__destroy(s);
}

static void ipv6_later_fragment_takes_ports_of_first_fragment(void)
{
	struct flowmeta *s = fx_default();
	struct flow_key want = key_of(6, "fd00::1", "fd00::2", IPPROTO_UDP, 8000, 8001,
				      FLOW_DIR_EGRESS);
	struct pkt p;

	if (!s)
		return;
	eth_ipv6(&p, "fd00::1", "fd00::2", IPPROTO_FRAGMENT);
	pkt_ipv6_frag(&p, IPPROTO_UDP, 0, 1, 0xabcdef01);
	pkt_udp(&p, 8000, 8001);
	pkt_payload(&p, 64);
	pkt_finish(&p);				/* 120 */
	run_pass(s, TC_EGRESS, &p);

	eth_ipv6(&p, "fd00::1", "fd00::2", IPPROTO_FRAGMENT);
	pkt_ipv6_frag(&p, IPPROTO_UDP, 72, 0, 0xabcdef01);
	pkt_payload(&p, 30);
	pkt_finish(&p);				/* 78 */
	run_pass(s, TC_EGRESS, &p);

	expect_only_flow(s, &want, 2, 198, 0);
	EXPECT_STATS(s, .fragments = 2);
	flowmeta__destroy(s);
}

/* Only the first fragment shows the TCP header behind the options; the later one joins its flow. */
static void ipv6_later_fragment_joins_first_when_options_follow_the_fragment_header(void)
{
	struct flowmeta *s = fx_default();
	struct flow_key want = key_of(6, "fd00::1", "fd00::2", IPPROTO_TCP, 179, 40179,
				      FLOW_DIR_INGRESS);
	struct pkt p;

	if (!s)
		return;
	eth_ipv6(&p, "fd00::1", "fd00::2", IPPROTO_FRAGMENT);
	pkt_ipv6_frag(&p, IPPROTO_DSTOPTS, 0, 1, 0x600d);
	pkt_ipv6_ext(&p, IPPROTO_DSTOPTS, IPPROTO_TCP, 8);
	pkt_tcp(&p, 179, 40179, TCP_PSH | TCP_ACK, 0);
	pkt_payload(&p, 36);
	pkt_finish(&p);				/* 40 + 8 + 8 + 20 + 36 = 112 */
	run_pass(s, TC_INGRESS, &p);

	eth_ipv6(&p, "fd00::1", "fd00::2", IPPROTO_FRAGMENT);
	pkt_ipv6_frag(&p, IPPROTO_DSTOPTS, 64, 0, 0x600d);
	pkt_payload(&p, 20);
	pkt_finish(&p);				/* 68 */
	run_pass(s, TC_INGRESS, &p);

	expect_only_flow(s, &want, 2, 180, TCP_PSH | TCP_ACK);
	EXPECT_STATS(s, .fragments = 2);
	flowmeta__destroy(s);
}

static void later_fragment_alone_is_metered_with_ports_zero(void)
{
	struct flowmeta *s = fx_default();
	struct flow_key want = key_of(4, "100.64.0.1", "100.64.0.2", IPPROTO_UDP, 0, 0,
				      FLOW_DIR_INGRESS);
	struct iphdr *iph;
	struct pkt p;

	if (!s)
		return;
	eth_ipv4(&p, "100.64.0.1", "100.64.0.2", IPPROTO_UDP);
	iph = (struct iphdr *)(p.data + p.l3);
	iph->id = htons(0x1111);
	iph->frag_off = htons(0x2000 | 185);	/* MF, offset 1480 */
	pkt_payload(&p, 40);			/* would read as ports if taken for a header */
	pkt_finish(&p);
	run_pass(s, TC_INGRESS, &p);
	expect_only_flow(s, &want, 1, 60, 0);
	EXPECT_STATS(s, .fragments = 1);
	flowmeta__destroy(s);
}

static void ipv6_atomic_fragment_is_a_whole_datagram(void)
{
	struct flowmeta *s = fx_default();
	struct flow_key want = key_of(6, "fd00::1", "fd00::2", IPPROTO_UDP, 9, 10,
				      FLOW_DIR_INGRESS);
	struct pkt p;

	if (!s)
		return;
	eth_ipv6(&p, "fd00::1", "fd00::2", IPPROTO_FRAGMENT);
	pkt_ipv6_frag(&p, IPPROTO_UDP, 0, 0, 77);
	pkt_udp(&p, 9, 10);
	pkt_finish(&p);
	run_pass(s, TC_INGRESS, &p);
	expect_only_flow(s, &want, 1, 56, 0);
	EXPECT_STATS(s, 0);
	flowmeta__destroy(s);
}

static void arp_is_counted_not_ip_and_passed(void)
{
	struct flowmeta *s = fx_default();
	struct pkt p;

	if (!s)
		return;
	pkt_init(&p);
	pkt_eth(&p, ETH_P_ARP);
	pkt_payload(&p, 28);
	run_pass(s, TC_INGRESS, &p);
	run_pass(s, XDP_INGRESS, &p);
	EXPECT_EQ(flow_count(s), 0);
	EXPECT_STATS(s, .not_ip = 2);
	flowmeta__destroy(s);
}

/* Malformed frames: passed untouched, counted, not metered. */
static void expect_malformed(struct pkt *p)
{
	struct flowmeta *s = fx_default();

	if (!s)
		return;
	run_pass(s, TC_INGRESS, p);
	run_pass(s, XDP_INGRESS, p);
	EXPECT_EQ(flow_count(s), 0);
	EXPECT_STATS(s, .malformed = 2);
	flowmeta__destroy(s);
}

/*
 * BPF_PROG_TEST_RUN refuses a TC frame typed IPv4/IPv6 whose IP header is shorter than the minimum,
 * so the frames cut inside the IP header carry a VLAN tag: the kernel then leaves them to us.
 */
static void truncated_ipv4_header_is_malformed(void)
{
	struct pkt p;

	pkt_init(&p);
	pkt_eth(&p, ETH_P_8021Q);
	pkt_vlan(&p, 7, ETH_P_IP);
	pkt_ipv4(&p, "100.64.0.1", "100.64.0.2", IPPROTO_TCP);
	pkt_tcp(&p, 1, 2, TCP_SYN, 0);
	pkt_finish(&p);
	p.len = p.l3 + 12;
	expect_malformed(&p);
}

static void ipv4_ihl_below_5_is_malformed(void)
{
	struct pkt p;

	ipv4_tcp(&p, TCP_SYN, 0);
	((struct iphdr *)(p.data + p.l3))->ihl = 4;
	expect_malformed(&p);
}

static void ipv4_total_length_below_header_length_is_malformed(void)
{
	struct pkt p;

	ipv4_tcp(&p, TCP_SYN, 0);
	((struct iphdr *)(p.data + p.l3))->tot_len = htons(16);
	expect_malformed(&p);
}

static void ipv4_options_cut_short_are_malformed(void)
{
	struct pkt p;

	ipv4_tcp(&p, TCP_SYN, 0);
	((struct iphdr *)(p.data + p.l3))->ihl = 15;	/* 60 octets of header; 40 in the frame */
	expect_malformed(&p);
}

static void ipv4_ethertype_with_ipv6_header_is_malformed(void)
{
	struct pkt p;

	pkt_init(&p);
	pkt_eth(&p, ETH_P_IP);
	pkt_ipv6(&p, "fd00::1", "fd00::2", IPPROTO_UDP);
	pkt_udp(&p, 1, 2);
	pkt_finish(&p);
	expect_malformed(&p);
}

static void ipv6_header_cut_is_malformed(void)
{
	struct pkt p;

	pkt_init(&p);
	pkt_eth(&p, ETH_P_8021Q);
	pkt_vlan(&p, 7, ETH_P_IPV6);
	pkt_ipv6(&p, "fd00::1", "fd00::2", IPPROTO_TCP);
	pkt_tcp(&p, 1, 2, TCP_SYN, 0);
	pkt_finish(&p);
	p.len = p.l3 + 30;
	expect_malformed(&p);
}

static void truncated_tcp_header_is_metered_with_ports_zero(void)
{
	struct flowmeta *s = fx_default();
	struct flow_key want = key_of(4, "100.64.0.1", "100.64.0.2", IPPROTO_TCP, 0, 0,
				      FLOW_DIR_INGRESS);
	struct pkt p;

	if (!s)
		return;
	ipv4_tcp(&p, TCP_SYN, 0);	/* tot_len 40 */
	p.len = p.l3 + 20 + 10;		/* half the TCP header made it into the frame */
	run_pass(s, TC_INGRESS, &p);
	expect_only_flow(s, &want, 1, 40, 0);
	EXPECT_STATS(s, .truncated_l4 = 1);
	flowmeta__destroy(s);
}

static void tcp_header_beyond_ip_total_length_is_truncated(void)
{
	struct flowmeta *s = fx_default();
	struct flow_key want = key_of(4, "100.64.0.1", "100.64.0.2", IPPROTO_TCP, 0, 0,
				      FLOW_DIR_INGRESS);
	struct pkt p;

	if (!s)
		return;
	ipv4_tcp(&p, TCP_SYN, 20);
	/* The datagram says it holds 10 octets of TCP; the rest of the frame is trailer. */
	((struct iphdr *)(p.data + p.l3))->tot_len = htons(30);
	run_pass(s, XDP_INGRESS, &p);
	expect_only_flow(s, &want, 1, 30, 0);
	EXPECT_STATS(s, .truncated_l4 = 1);
	flowmeta__destroy(s);
}

static void ethernet_padding_is_not_counted_in_octets(void)
{
	struct flowmeta *s = fx_default();
	struct flow_key want = key_of(4, "100.64.0.1", "100.64.0.2", IPPROTO_UDP, 1, 2,
				      FLOW_DIR_INGRESS);
	struct pkt p;

	if (!s)
		return;
	eth_ipv4(&p, "100.64.0.1", "100.64.0.2", IPPROTO_UDP);
	pkt_udp(&p, 1, 2);
	pkt_payload(&p, 4);
	pkt_finish(&p);			/* 32 */
	pkt_put(&p, 60 - p.len);	/* padded to the Ethernet minimum */
	run_pass(s, TC_INGRESS, &p);
	expect_only_flow(s, &want, 1, 32, 0);
	EXPECT_STATS(s, 0);
	flowmeta__destroy(s);
}

static void gso_skb_counts_its_segments_and_their_octets(void)
{
	struct flowmeta *s = fx_default();
	struct flow_key want = ipv4_tcp_key(FLOW_DIR_EGRESS);
	struct __sk_buff ctx = { .gso_segs = 3, .gso_size = 1000 };
	struct pkt p;

	if (!s)
		return;
	eth_ipv4(&p, "100.64.0.1", "100.64.0.2", IPPROTO_TCP);
	pkt_tcp(&p, 40000, 22, TCP_ACK | TCP_PSH, 12);	/* each segment repeats 20 + 32 octets */
	pkt_payload(&p, 3000);
	pkt_finish(&p);
	EXPECT_EQ(run_ctx(s, TC_EGRESS, &p, 1, &ctx), TC_ACT_UNSPEC);
	expect_only_flow(s, &want, 3, 3 * (20 + 32 + 1000), TCP_ACK | TCP_PSH);
	EXPECT_STATS(s, 0);
	flowmeta__destroy(s);
}

static void ipv6_udp_gso_skb_counts_its_segments_and_their_octets(void)
{
	struct flowmeta *s = fx_default();
	struct flow_key want = key_of(6, "fd00::1", "fd00::2", IPPROTO_UDP, 4433, 50000,
				      FLOW_DIR_EGRESS);
	struct __sk_buff ctx = { .gso_segs = 4, .gso_size = 500 };
	struct pkt p;

	if (!s)
		return;
	eth_ipv6(&p, "fd00::1", "fd00::2", IPPROTO_UDP);
	pkt_udp(&p, 4433, 50000);
	pkt_payload(&p, 2000);
	pkt_finish(&p);
	EXPECT_EQ(run_ctx(s, TC_EGRESS, &p, 1, &ctx), TC_ACT_UNSPEC);
	expect_only_flow(s, &want, 4, 4 * (40 + 8 + 500), 0);
	flowmeta__destroy(s);
}

/*
 * A super-packet written by a tun/tap writer with a virtio-net header (wireguard-go, Tailscale)
 * has gso_size and gso_segs 0: it counts as the segments the kernel will cut it into,
 * DIV_ROUND_UP(payload, gso_size), each with its own IP and transport headers. payload octets
 * after the headers; want the segments. The IP length fields of such a super-packet need not
 * describe it (tot_len 0 here): the octets come from the skb length.
 */
struct gso_case {
	int ip_version;
	uint8_t protocol;
	size_t tcp_options;
	size_t payload;
	uint32_t gso_size;
	uint64_t segments;
	bool l3_device;
};

static void tun_gso_case(const struct gso_case *c)
{
	struct flowmeta *s = fx_load((struct fixture_opts){ .l3_device = c->l3_device });
	struct __sk_buff ctx = { .gso_segs = 0, .gso_size = c->gso_size };
	size_t hdr, l3_len;
	struct flow_key want;
	struct flow_value v;
	struct flow_key k;
	struct pkt p;

	if (!s)
		return;
	pkt_init(&p);
	if (!c->l3_device)
		pkt_eth(&p, c->ip_version == 4 ? ETH_P_IP : ETH_P_IPV6);
	if (c->ip_version == 4)
		pkt_ipv4(&p, "100.64.0.1", "100.64.0.2", c->protocol);
	else
		pkt_ipv6(&p, "fd00::1", "fd00::2", c->protocol);
	if (c->protocol == IPPROTO_TCP)
		pkt_tcp(&p, 40000, 22, TCP_ACK, c->tcp_options);
	else
		pkt_udp(&p, 40000, 22);
	pkt_payload(&p, c->payload);
	l3_len = pkt_finish(&p);
	/* tot_len / payload_len 0, as BIG TCP and some writers leave them. */
	memset(p.data + p.l3 + (c->ip_version == 4 ? 2 : 4), 0, 2);
	hdr = l3_len - c->payload;
	want = c->ip_version == 4 ? key_of(4, "100.64.0.1", "100.64.0.2", c->protocol, 40000, 22,
					   FLOW_DIR_INGRESS)
				  : key_of(6, "fd00::1", "fd00::2", c->protocol, 40000, 22,
					   FLOW_DIR_INGRESS);
	EXPECT_EQ(run_ctx(s, TC_INGRESS, &p, 1, &ctx), TC_ACT_UNSPEC);
	if (only_flow(s, &k, &v)) {
		expect_key(&k, &want);
		EXPECT_EQ(v.packets, c->segments);
		EXPECT_EQ(v.octets, l3_len + (c->segments - 1) * hdr);
	}
	EXPECT_STATS(s, 0);
	flowmeta__destroy(s);
}

static void gso_skb_of_a_tun_writer_counts_the_segments_the_kernel_will_make(void)
{
	static const struct gso_case cases[] = {
		/* TCPV4, gso_size 300, 10 full segments; on a tun (IP-only) device */
		{ 4, IPPROTO_TCP, 0, 3000, 300, 10, true },
		/* the last segment shorter: 10 x 300 + 50 */
		{ 4, IPPROTO_TCP, 0, 3050, 300, 11, false },
		/* TCPV6 with 12 octets of options, repeated by every segment */
		{ 6, IPPROTO_TCP, 12, 2400, 240, 10, true },
		/* UDP_L4 (USO), IPv4 and IPv6 */
		{ 4, IPPROTO_UDP, 0, 2000, 200, 10, true },
		{ 6, IPPROTO_UDP, 0, 1999, 200, 10, false },
		/* no more payload than one segment: one packet */
		{ 4, IPPROTO_TCP, 0, 200, 300, 1, true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		tun_gso_case(&cases[i]);
}

static void tcp_flags_are_ored_over_the_packets_of_a_flow(void)
{
	struct flowmeta *s = fx_default();
	struct flow_key want = ipv4_tcp_key(FLOW_DIR_INGRESS);
	struct pkt p;

	if (!s)
		return;
	ipv4_tcp(&p, TCP_SYN, 0);
	run_pass(s, TC_INGRESS, &p);
	ipv4_tcp(&p, TCP_ACK, 0);
	run_pass(s, TC_INGRESS, &p);
	ipv4_tcp(&p, TCP_PSH | TCP_ACK, 10);
	run_pass(s, TC_INGRESS, &p);
	expect_only_flow(s, &want, 3, 40 + 40 + 50, TCP_SYN | TCP_ACK | TCP_PSH);
	EXPECT_EQ(events_drain(s).count, 0);
	flowmeta__destroy(s);
}

static void fin_raises_exactly_one_event_per_flow(void)
{
	struct flowmeta *s = fx_default();
	struct flow_key want = ipv4_tcp_key(FLOW_DIR_INGRESS);
	struct event_sink ev;
	struct flow_value v;
	struct flow_key k;
	struct pkt p;

	if (!s)
		return;
	ipv4_tcp(&p, TCP_SYN, 0);
	run_pass(s, TC_INGRESS, &p);
	ipv4_tcp(&p, TCP_FIN | TCP_ACK, 0);
	run_pass(s, TC_INGRESS, &p);
	run_pass(s, TC_INGRESS, &p);	/* a retransmitted FIN */
	ipv4_tcp(&p, TCP_RST, 0);
	run_pass(s, TC_INGRESS, &p);	/* the end was already signalled */

	ev = events_drain(s);
	EXPECT_EQ(ev.count, 1);
	expect_key(&ev.last.key, &want);
	EXPECT_EQ(ev.last.type, FLOW_EVENT_TCP_END);
	if (only_flow(s, &k, &v)) {
		expect_counts(&v, 4, 160, TCP_SYN | TCP_FIN | TCP_ACK | TCP_RST,
			      FLOW_END_FIN | FLOW_END_RST);
		/* Flow times are ticks: the three packets may share one. */
		EXPECT_TRUE(ev.last.timestamp_jiffies >= v.first_seen_jiffies);
		EXPECT_TRUE(ev.last.timestamp_jiffies <= v.last_seen_jiffies);
	}
	EXPECT_STATS(s, 0);
	flowmeta__destroy(s);
}

static void rst_on_a_new_flow_raises_one_event(void)
{
	struct flowmeta *s = fx_default();
	struct flow_key want = ipv4_tcp_key(FLOW_DIR_EGRESS);
	struct event_sink ev;
	struct flow_value v;
	struct flow_key k;
	struct pkt p;

	if (!s)
		return;
	ipv4_tcp(&p, TCP_RST | TCP_ACK, 0);
	run_pass(s, TC_EGRESS, &p);
	ev = events_drain(s);
	EXPECT_EQ(ev.count, 1);
	expect_key(&ev.last.key, &want);
	EXPECT_EQ(ev.last.type, FLOW_EVENT_TCP_END);
	if (only_flow(s, &k, &v)) {
		expect_counts(&v, 1, 40, TCP_RST | TCP_ACK, FLOW_END_RST);
		EXPECT_EQ(ev.last.timestamp_jiffies, v.first_seen_jiffies);
	}
	flowmeta__destroy(s);
}

/*
 * A 4096-octet ring holds 63 events of 56 octets (each takes 64 with its 8-octet header; the
 * producer may not catch up with the consumer entirely). The 70 FINs of 70 flows: 63 + 7 lost.
 */
static void events_that_do_not_fit_are_counted_lost(void)
{
	struct flowmeta *s = fx_load((struct fixture_opts){ .max_flows = 128, .ring_bytes = 4096 });
	struct event_sink ev;
	struct pkt p;

	if (!s)
		return;
	for (int i = 0; i < 70; i++) {
		eth_ipv4(&p, "100.64.0.1", "100.64.0.2", IPPROTO_TCP);
		pkt_tcp(&p, 30000 + i, 80, TCP_FIN | TCP_ACK, 0);
		pkt_finish(&p);
		run_pass(s, TC_INGRESS, &p);
	}
	ev = events_drain(s);
	EXPECT_EQ(ev.count, 63);
	EXPECT_STATS(s, .events_lost = 7);
	EXPECT_EQ(flow_count(s), 70);
	flowmeta__destroy(s);
}

static void repeated_runs_count_every_packet(void)
{
	struct flowmeta *s = fx_default();
	struct flow_key want = ipv4_tcp_key(FLOW_DIR_INGRESS);
	struct pkt p;

	if (!s)
		return;
	ipv4_tcp(&p, TCP_ACK, 60);
	EXPECT_EQ(run_ctx(s, TC_INGRESS, &p, 1000, NULL), TC_ACT_UNSPEC);
	expect_only_flow(s, &want, 1000, 1000 * 100, TCP_ACK);
	EXPECT_STATS(s, 0);
	flowmeta__destroy(s);
}

static void full_flow_table_counts_the_overflow_and_passes_the_packet(void)
{
	struct flowmeta *s = fx_load((struct fixture_opts){ .max_flows = 2 });
	struct flow_key k1 = ipv4_tcp_key(FLOW_DIR_INGRESS);
	struct flow_value v;
	struct pkt p;

	if (!s)
		return;
	ipv4_tcp(&p, TCP_ACK, 0);
	run_pass(s, TC_INGRESS, &p);
	run_pass(s, TC_EGRESS, &p);
	ipv4_tcp(&p, TCP_ACK, 10);
	run_pass(s, XDP_INGRESS, &p);	/* an existing flow still counts */
	eth_ipv6(&p, "fd00::1", "fd00::2", IPPROTO_UDP);
	pkt_udp(&p, 1, 2);
	pkt_payload(&p, 12);
	pkt_finish(&p);			/* 60 */
	EXPECT_EQ(run_ctx(s, TC_INGRESS, &p, 2, NULL), TC_ACT_UNSPEC);
	EXPECT_EQ(run_ctx(s, XDP_INGRESS, &p, 1, NULL), XDP_PASS);

	EXPECT_EQ(flow_count(s), 2);
	if (flow_get(s, &k1, &v))
		expect_counts(&v, 2, 90, TCP_ACK, 0);
	EXPECT_STATS(s, .table_full_packets = 3, .table_full_octets = 180);
	flowmeta__destroy(s);
}

static uint64_t event_window_now(void)
{
	return monotonic_coarse_ns() >> FLOWMETA_DROP_EVENT_WINDOW_SHIFT;
}

/*
 * A refused insert raises FLOW_EVENT_TABLE_FULL (key zeroed) so the daemon relieves the table at
 * once, at most FLOWMETA_TABLE_FULL_EVENTS_PER_WINDOW per CPU per window however many packets
 * find it full; each refused packet is counted all the same. A run that straddles a window
 * boundary is retried (the budget renews).
 */
static void full_flow_table_raises_a_few_table_full_events_per_window(void)
{
	const int refused = FLOWMETA_TABLE_FULL_EVENTS_PER_WINDOW + 20;
	struct flow_key zero_key = { 0 };
	struct flowmeta *s = NULL;
	struct event_sink ev = { 0 };
	struct pkt p;

	if (!pin_to_cpu(0))
		SKIP_TEST("cannot pin to CPU 0");
	for (int attempt = 0; attempt < 3; attempt++) {
		uint64_t w0;

		if (s)
			flowmeta__destroy(s);
		s = fx_load((struct fixture_opts){ .max_flows = 1 });
		if (!s)
			break;
		w0 = event_window_now();
		ipv4_tcp(&p, TCP_ACK, 0);
		run_pass(s, TC_INGRESS, &p);		/* the one flow the table holds */
		for (int i = 0; i < refused; i++) {
			eth_ipv4(&p, "100.64.0.1", "100.64.0.2", IPPROTO_UDP);
			pkt_udp(&p, 1000 + i, 53);
			pkt_finish(&p);			/* 28 */
			run_pass(s, TC_INGRESS, &p);
		}
		if (event_window_now() == w0)
			break;
	}
	unpin();
	if (!s)
		return;
	ev = events_drain(s);
	EXPECT_EQ(ev.count, FLOWMETA_TABLE_FULL_EVENTS_PER_WINDOW);
	EXPECT_EQ(ev.table_full, FLOWMETA_TABLE_FULL_EVENTS_PER_WINDOW);
	EXPECT_MEM(&ev.last.key, &zero_key, sizeof(zero_key));
	EXPECT_EQ(flow_count(s), 1);
	EXPECT_STATS(s, .table_full_packets = refused, .table_full_octets = refused * 28);
	flowmeta__destroy(s);
}

static void xdp_meters_ingress_and_passes(void)
{
	struct flowmeta *s = fx_default();
	struct flow_key want = ipv4_tcp_key(FLOW_DIR_INGRESS);
	struct pkt p;

	if (!s)
		return;
	ipv4_tcp(&p, TCP_SYN, 0);
	run_pass(s, XDP_INGRESS, &p);
	expect_only_flow(s, &want, 1, 40, TCP_SYN);
	EXPECT_STATS(s, 0);
	flowmeta__destroy(s);
}

static void the_same_packet_on_ingress_and_egress_makes_two_flows(void)
{
	struct flowmeta *s = fx_default();
	struct flow_key in = ipv4_tcp_key(FLOW_DIR_INGRESS), out = ipv4_tcp_key(FLOW_DIR_EGRESS);
	struct flow_value v;
	struct pkt p;

	if (!s)
		return;
	ipv4_tcp(&p, TCP_ACK, 0);
	run_pass(s, TC_INGRESS, &p);
	run_pass(s, TC_EGRESS, &p);
	run_pass(s, TC_EGRESS, &p);
	EXPECT_EQ(flow_count(s), 2);
	if (flow_get(s, &in, &v))
		expect_counts(&v, 1, 40, TCP_ACK, 0);
	if (flow_get(s, &out, &v))
		expect_counts(&v, 2, 80, TCP_ACK, 0);
	flowmeta__destroy(s);
}

/* CONFIG_HZ of the running kernel from /proc/config.gz; 0 when it does not say. */
static uint32_t kernel_config_hz(void)
{
	FILE *f = popen("zcat /proc/config.gz 2>/dev/null | sed -n 's/^CONFIG_HZ=//p'", "r");
	unsigned int hz = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%u", &hz) != 1)
		hz = 0;
	pclose(f);
	return hz;
}

/*
 * Flow times are jiffies: the first and last packets' ticks, read from the kernel around each
 * packet; the daemon's clock (user/clock.c) learns the kernel's HZ exactly and converts a flow time
 * to the start of its tick on CLOCK_MONOTONIC: not after the packet, less than a tick before it
 * (an eighth of a tick of slack: how far the relation may be off before it is measured again).
 */
static void first_and_last_seen_are_jiffies_and_convert_exactly_to_their_tick(void)
{
	struct flowmeta *s = fx_default();
	struct fm_jiffies_sample a, b, c, d;
	uint32_t config_hz = kernel_config_hz();
	uint64_t m0, m1, m2, m3, tick, first, last;
	struct timespec pause = { 0, 12 * 1000 * 1000 };
	struct fm_time t;
	struct flow_value v;
	struct flow_key k;
	struct pkt p;

	if (!s)
		return;
	if (fm_clock_start()) {
		flowmeta__destroy(s);
		SKIP_TEST("the flow clock's program does not load");
	}
	if (config_hz)
		EXPECT_EQ(fm_clock_hz(), config_hz);
	ipv4_tcp(&p, TCP_ACK, 0);
	m0 = fm_mono_ns();
	EXPECT_EQ(fm_clock_read_jiffies(&a), 0);
	run_pass(s, TC_INGRESS, &p);
	EXPECT_EQ(fm_clock_read_jiffies(&b), 0);
	m1 = fm_mono_ns();
	nanosleep(&pause, NULL);	/* 12 ms: a later tick at any HZ >= 250 */
	m2 = fm_mono_ns();
	EXPECT_EQ(fm_clock_read_jiffies(&c), 0);
	run_pass(s, TC_INGRESS, &p);
	EXPECT_EQ(fm_clock_read_jiffies(&d), 0);
	m3 = fm_mono_ns();
	fm_time_now(&t);
	tick = t.ticks.tick_ns;
	EXPECT_EQ(tick, fm_tick_ns(fm_clock_hz()));
	if (only_flow(s, &k, &v)) {
		EXPECT_TRUE(v.first_seen_jiffies >= a.jiffies && v.first_seen_jiffies <= b.jiffies);
		EXPECT_TRUE(v.last_seen_jiffies >= c.jiffies && v.last_seen_jiffies <= d.jiffies);
		if (fm_clock_hz() >= 250)
			EXPECT_TRUE(v.last_seen_jiffies > v.first_seen_jiffies);
		first = fm_jiffies_mono_ns(&t, v.first_seen_jiffies);
		last = fm_jiffies_mono_ns(&t, v.last_seen_jiffies);
		EXPECT_TRUE(first <= m1 + tick / 8 && first + tick + tick / 8 > m0);
		EXPECT_TRUE(last <= m3 + tick / 8 && last + tick + tick / 8 > m2);
		EXPECT_EQ(last - first, (v.last_seen_jiffies - v.first_seen_jiffies) * tick);
	}
	flowmeta__destroy(s);
}

static void each_cpu_counts_its_own_share_of_a_flow(void)
{
	struct flowmeta *s;
	struct flow_key want = ipv4_tcp_key(FLOW_DIR_INGRESS);
	struct flow_value percpu[ncpus];
	struct pkt p;

	if (ncpus < 2 || !pin_to_cpu(0))
		SKIP_TEST("needs two CPUs");
	s = fx_default();
	if (!s) {
		unpin();
		return;
	}
	ipv4_tcp(&p, TCP_ACK, 0);
	run_pass(s, TC_INGRESS, &p);
	if (pin_to_cpu(1))
		EXPECT_EQ(run_ctx(s, TC_INGRESS, &p, 2, NULL), TC_ACT_UNSPEC);
	if (EXPECT_TRUE(flow_percpu(s, &want, percpu))) {
		EXPECT_EQ(percpu[0].packets, 1);
		EXPECT_EQ(percpu[1].packets, 2);
		EXPECT_EQ(percpu[1].octets, 80);
		/* CPU 1's copy started at zero: its first packet set its own first_seen. */
		EXPECT_TRUE(percpu[1].first_seen_jiffies != 0);
		EXPECT_TRUE(percpu[1].first_seen_jiffies >= percpu[0].last_seen_jiffies);
	}
	flowmeta__destroy(s);
	unpin();
}

int main(void)
{
	int status = fx_start("datapath_test");

	if (status >= 0)
		return status;

	RUN_TEST(ipv4_tcp_flow_is_keyed_and_counted_on_tc_ingress);
	RUN_TEST(ipv4_udp_flow_on_tc_egress_has_direction_egress);
	RUN_TEST(ipv4_icmp_type_and_code_go_to_dst_port);
	RUN_TEST(ipv4_sctp_ports_are_read);
	RUN_TEST(ipv4_udplite_ports_are_read);
	RUN_TEST(ipv4_other_protocol_has_ports_zero);
	RUN_TEST(ipv6_tcp_flow_is_keyed_and_counted);
	RUN_TEST(ipv6_udp_flow_is_keyed_and_counted);
	RUN_TEST(ipv6_icmpv6_type_and_code_go_to_dst_port);
	RUN_TEST(ipv6_other_protocol_has_ports_zero);
	RUN_TEST(vlan_8021q_tag_is_skipped);
	RUN_TEST(qinq_tags_are_skipped);
	RUN_TEST(vlan_stacks_of_any_depth_and_mix_are_walked_to_ip);
	RUN_TEST(vlan_stack_ending_in_another_type_is_not_ip);
	RUN_TEST(vlan_stack_cut_short_is_malformed);
	RUN_TEST(l3_device_frames_start_at_the_ip_header);
	RUN_TEST(l3_device_tc_takes_ip_version_from_skb_protocol);
	RUN_TEST(l3_device_tc_walks_vlan_tags_named_by_skb_protocol);
	RUN_TEST(l3_device_xdp_frame_of_unknown_version_is_unparseable);
	RUN_TEST(ipv4_options_are_skipped_to_find_ports);
	RUN_TEST(ipv6_hop_routing_and_destination_options_are_walked_to_find_ports);
	RUN_TEST(ipv6_ah_is_walked_to_find_ports);
	RUN_TEST(long_ipv6_extension_chains_are_walked_to_the_transport);
	RUN_TEST(ipv6_extension_header_cut_short_is_malformed);
	RUN_TEST(ipv6_extension_header_past_the_payload_length_is_malformed);
	RUN_TEST(ipv4_later_fragment_takes_ports_of_first_fragment);
	RUN_TEST(ipv6_later_fragment_takes_ports_of_first_fragment);
	RUN_TEST(ipv6_later_fragment_joins_first_when_options_follow_the_fragment_header);
	RUN_TEST(later_fragment_alone_is_metered_with_ports_zero);
	RUN_TEST(ipv6_atomic_fragment_is_a_whole_datagram);
	RUN_TEST(arp_is_counted_not_ip_and_passed);
	RUN_TEST(truncated_ipv4_header_is_malformed);
	RUN_TEST(ipv4_ihl_below_5_is_malformed);
	RUN_TEST(ipv4_total_length_below_header_length_is_malformed);
	RUN_TEST(ipv4_options_cut_short_are_malformed);
	RUN_TEST(ipv4_ethertype_with_ipv6_header_is_malformed);
	RUN_TEST(ipv6_header_cut_is_malformed);
	RUN_TEST(truncated_tcp_header_is_metered_with_ports_zero);
	RUN_TEST(tcp_header_beyond_ip_total_length_is_truncated);
	RUN_TEST(ethernet_padding_is_not_counted_in_octets);
	RUN_TEST(gso_skb_counts_its_segments_and_their_octets);
	RUN_TEST(ipv6_udp_gso_skb_counts_its_segments_and_their_octets);
	RUN_TEST(gso_skb_of_a_tun_writer_counts_the_segments_the_kernel_will_make);
	RUN_TEST(tcp_flags_are_ored_over_the_packets_of_a_flow);
	RUN_TEST(fin_raises_exactly_one_event_per_flow);
	RUN_TEST(rst_on_a_new_flow_raises_one_event);
	RUN_TEST(events_that_do_not_fit_are_counted_lost);
	RUN_TEST(repeated_runs_count_every_packet);
	RUN_TEST(full_flow_table_counts_the_overflow_and_passes_the_packet);
	RUN_TEST(full_flow_table_raises_a_few_table_full_events_per_window);
	RUN_TEST(xdp_meters_ingress_and_passes);
	RUN_TEST(the_same_packet_on_ingress_and_egress_makes_two_flows);
	RUN_TEST(first_and_last_seen_are_jiffies_and_convert_exactly_to_their_tick);
	RUN_TEST(each_cpu_counts_its_own_share_of_a_flow);
	return check_exit_status();
}
