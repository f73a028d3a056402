// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Policy tests (SPEC §6): the production programs flowmeta_tc_ingress, flowmeta_tc_egress and
 * flowmeta_xdp_ingress under BPF_PROG_TEST_RUN, with a policy written as an operator writes it
 * (the FlowMetadata JSON, through config_load_string) and installed by policy_apply() on the
 * skeleton's maps. Each case states one behaviour: a crafted packet, the verdict it must get (read
 * from the flow key the meter wrote, and the hook's return code), and where it matters the exact
 * counters and events. Needs root. The fixture is tests/bpf/fixture.h.
 *
 * Addresses: this node is 100.64.0.1 / fd00::1; peers are other addresses of 100.64.0.0/10 and
 * fd00::/8. An ingress packet comes from the peer, an egress packet goes to it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "config.h"
#include "fixture.h"
#include "loader.h"
#include "policy.h"

#define TEST_MAX_FLOWS 1024	/* room for a flood of spoofed sources */

#define ME4 "100.64.0.1"
#define PEER4 "100.64.0.2"
#define ME6 "fd00::1"
#define PEER6 "fd00::2"

enum { FWD = FLOW_VERDICT_FORWARDED, DENY = FLOW_VERDICT_ACL_DENY, UNTRUSTED = FLOW_VERDICT_UNTRUSTED };

/* ---- fixture ---------------------------------------------------------------------------------- */

static struct flowmeta_maps maps_of(struct flowmeta *s)
{
	return (struct flowmeta_maps){
		.flows = bpf_map__fd(s->maps.flows),
		.drop_flows = bpf_map__fd(s->maps.drop_flows),
		.stats = bpf_map__fd(s->maps.stats),
		.events = bpf_map__fd(s->maps.events),
		.export_state = bpf_map__fd(s->maps.export_state),
		.daemon_status = bpf_map__fd(s->maps.daemon_status),
		.collector_status = bpf_map__fd(s->maps.collector_status),
		.policy = bpf_map__fd(s->maps.policy),
		.policy_peers = bpf_map__fd(s->maps.policy_peers),
		.policy_conns = bpf_map__fd(s->maps.policy_conns),
	};
}

/*
 * Put in force the policy written as the members of FlowMetadata, e.g.
 * "\"AccessControl\": {\"Rules\": [...]}"; "" is no policy at all. Returns policy_apply's result.
 */
static int apply(struct flowmeta *s, const char *members)
{
	struct config *cfg = malloc(sizeof(*cfg));
	struct flowmeta_maps maps = maps_of(s);
	char *doc = NULL, err[CONFIG_ERR_LEN] = "";
	int ret = -EINVAL;

	if (!EXPECT_TRUE(cfg != NULL) ||
	    !EXPECT_TRUE(asprintf(&doc, "{\"FlowMetadata\": {%s}}", members) > 0)) {
		free(cfg);
		return -ENOMEM;
	}
	config_defaults(cfg);
	if (EXPECT_EQ(config_load_string(cfg, doc, err, sizeof(err)), 0))
		ret = policy_apply(&maps, &cfg->policy);
	else
		printf("     config: %s\n", err);
	free(doc);
	free(cfg);
	return ret;
}

/* A fresh skeleton (these options) with this policy in force. */
static struct flowmeta *fx_policy_opts(struct fixture_opts o, const char *members)
{
	struct flowmeta *s = fx_load(o);

	if (s && !EXPECT_EQ(apply(s, members), 0)) {
		flowmeta__destroy(s);
		return NULL;
	}
	return s;
}

static struct flowmeta *fx_policy(const char *members)
{
	return fx_policy_opts((struct fixture_opts){ .max_flows = TEST_MAX_FLOWS,
						     .max_drop_flows = TEST_MAX_FLOWS },
			      members);
}

/* Run through a hook (a dropped frame comes out too, unchecked); the program's return code. */
static int run_ctx(struct flowmeta *s, enum hook hook, const struct pkt *p, int repeat,
		   const struct __sk_buff *skb)
{
	return fx_run(s, hook, p, repeat, skb, false);
}

/* What the hook returns for a verdict: the policy's drops are the only drops. */
static int code_for(enum hook hook, int verdict)
{
	if (hook == XDP_INGRESS)
		return verdict == FWD ? XDP_PASS : XDP_DROP;
	return verdict == FWD ? TC_ACT_UNSPEC : TC_ACT_SHOT;
}

static void flows_clear(struct flowmeta *s)
{
	int fds[] = { bpf_map__fd(s->maps.flows), bpf_map__fd(s->maps.drop_flows) };
	struct flow_key k;

	for (int i = 0; i < 2; i++)
		while (bpf_map_get_next_key(fds[i], NULL, &k) == 0)
			bpf_map_delete_elem(fds[i], &k);
}

/*
 * The verdict the policy gives one packet: the verdict in the key of the flow it was metered in
 * (the flow map is emptied first), checked against the hook's return code. -1 on failure.
 */
static int judge(struct flowmeta *s, enum hook hook, const struct pkt *p)
{
	struct flow_value v;
	struct flow_key k;
	int code;

	flows_clear(s);
	code = run_ctx(s, hook, p, 1, NULL);
	if (!only_flow(s, &k, &v))
		return -1;
	EXPECT_EQ(code, code_for(hook, k.verdict));
	return k.verdict;
}

/* judge() == want, with the line of the case in the message. */
#define EXPECT_VERDICT(s, hook, p, want) EXPECT_EQ(judge((s), (hook), (p)), (want))

/* ---- packets ---------------------------------------------------------------------------------- */

/*
 * The builders fill a caller's frame and return it, so a case reads judge(s, hook, tcp(&p, ...)).
 * (Never a frame returned by value: pkt_finish() stores the IP length through a header pointer
 * into the byte array, which a by-value copy may, by the aliasing rules, not see.)
 */
static struct pkt *tcp(struct pkt *p, const char *src, const char *dst, uint16_t sport,
		       uint16_t dport, uint8_t flags)
{
	ip_start(p, src, dst, IPPROTO_TCP);
	pkt_tcp(p, sport, dport, flags, 0);
	pkt_payload(p, 20);
	pkt_finish(p);
	return p;
}

static struct pkt *udp(struct pkt *p, const char *src, const char *dst, uint16_t sport,
		       uint16_t dport)
{
	ip_start(p, src, dst, IPPROTO_UDP);
	pkt_udp(p, sport, dport);
	pkt_payload(p, 20);
	pkt_finish(p);
	return p;
}

/* ICMP for IPv4 addresses, ICMPv6 for IPv6 ones. */
static struct pkt *icmp(struct pkt *p, const char *src, const char *dst, uint8_t type,
			uint8_t code)
{
	ip_start(p, src, dst, family(src) == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6);
	pkt_icmp(p, type, code);
	pkt_payload(p, 28);
	pkt_finish(p);
	return p;
}

static struct pkt *raw(struct pkt *p, const char *src, const char *dst, uint8_t proto)
{
	ip_start(p, src, dst, proto);
	pkt_payload(p, 24);
	pkt_finish(p);
	return p;
}

/* IPv4 UDP fragment: the first (offset 0, MF, with the UDP header) or a later one at offset. */
static struct pkt *udp4_frag(struct pkt *p, const char *src, const char *dst, uint16_t sport,
			     uint16_t dport, uint16_t id, unsigned int offset)
{
	struct iphdr *iph;

	pkt_init(p);
	pkt_eth(p, ETH_P_IP);
	iph = pkt_ipv4(p, src, dst, IPPROTO_UDP);
	iph->id = htons(id);
	if (offset) {
		iph->frag_off = htons(offset / 8);
		pkt_payload(p, 64);
	} else {
		iph->frag_off = htons(0x2000);
		pkt_udp(p, sport, dport);
		pkt_payload(p, 56);
	}
	pkt_finish(p);
	return p;
}

static struct pkt *udp6_frag(struct pkt *p, const char *src, const char *dst, uint16_t sport,
			     uint16_t dport, uint32_t id, unsigned int offset)
{
	pkt_init(p);
	pkt_eth(p, ETH_P_IPV6);
	pkt_ipv6(p, src, dst, IPPROTO_FRAGMENT);
	pkt_ipv6_frag(p, IPPROTO_UDP, offset, !offset, id);
	if (!offset)
		pkt_udp(p, sport, dport);
	pkt_payload(p, 56);
	pkt_finish(p);
	return p;
}

/* ---- no policy -------------------------------------------------------------------------------- */

static void without_policy_every_packet_is_forwarded_and_no_policy_state_is_kept(void)
{
	struct flowmeta *s = fx_policy("");
	struct flowmeta_maps m;
	struct flow_value v;
	struct flow_key k;
	struct pkt p;
	__u32 zero = 0, id;

	if (!s)
		return;
	m = maps_of(s);
	tcp(&p, PEER4, ME4, 40000, 23, TCP_SYN);
	EXPECT_EQ(run_ctx(s, TC_INGRESS, &p, 3, NULL), TC_ACT_UNSPEC);
	if (only_flow(s, &k, &v)) {
		EXPECT_EQ(k.verdict, FWD);
		EXPECT_EQ(v.packets, 3);
	}
	EXPECT_VERDICT(s, TC_EGRESS, udp(&p, ME6, PEER6, 1, 2), FWD);
	EXPECT_VERDICT(s, XDP_INGRESS, icmp(&p, PEER4, ME4, 8, 0), FWD);
	/* Nothing but the flow map changed: no policy, no prefixes, no connections, no events. */
	EXPECT_EQ(bpf_map_lookup_elem(m.policy, &zero, &id), -ENOENT);
	EXPECT_EQ(map_size(m.policy_peers, sizeof(struct policy_peer_key)), 0);
	EXPECT_EQ(map_size(m.policy_conns, sizeof(struct policy_conn_key)), 0);
	EXPECT_EQ(stats_get(s).policy_dropped, 0);
	EXPECT_EQ(stats_get(s).events_lost, 0);
	EXPECT_EQ(events_drain(s).count, 0);
	flowmeta__destroy(s);
}

static void access_control_disabled_enforces_no_rule(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {\"Enabled\": false, \"Rules\": "
				       "[{\"Peers\": [\"any\"], \"Protocol\": \"Tcp\", \"Ports\": \"22\"}]}");
	struct pkt p;
	__u32 zero = 0, id;

	if (!s)
		return;
	EXPECT_VERDICT(s, TC_INGRESS, udp(&p, PEER4, ME4, 1, 2), FWD);
	EXPECT_VERDICT(s, TC_EGRESS, tcp(&p, ME4, PEER4, 1, 23, TCP_SYN), FWD);
	/* Nothing to enforce: the programs skip the policy entirely. */
	EXPECT_EQ(bpf_map_lookup_elem(bpf_map__fd(s->maps.policy), &zero, &id), -ENOENT);
	flowmeta__destroy(s);
}

/* ---- rules ------------------------------------------------------------------------------------ */

static void access_control_without_rules_denies_everything(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {}");
	struct pkt p;

	if (!s)
		return;
	EXPECT_VERDICT(s, TC_INGRESS, tcp(&p, PEER4, ME4, 40000, 22, TCP_SYN), DENY);
	EXPECT_VERDICT(s, TC_EGRESS, tcp(&p, ME4, PEER4, 40000, 22, TCP_SYN), DENY);
	EXPECT_VERDICT(s, XDP_INGRESS, udp(&p, PEER6, ME6, 5353, 53), DENY);
	EXPECT_VERDICT(s, TC_EGRESS, icmp(&p, ME4, PEER4, 8, 0), DENY);
	EXPECT_VERDICT(s, TC_INGRESS, raw(&p, PEER4, ME4, IPPROTO_GRE), DENY);
	flowmeta__destroy(s);
}

static void tcp_rule_with_one_port_allows_that_port_only(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {\"Rules\": [{\"Peers\": [\"any\"], "
				       "\"Protocol\": \"Tcp\", \"Ports\": \"22\"}]}");
	struct pkt p;

	if (!s)
		return;
	EXPECT_VERDICT(s, TC_INGRESS, tcp(&p, PEER4, ME4, 40000, 22, TCP_SYN), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, tcp(&p, PEER4, ME4, 40000, 23, TCP_SYN), DENY);
	EXPECT_VERDICT(s, TC_INGRESS, tcp(&p, PEER4, ME4, 40000, 21, TCP_SYN), DENY);
	EXPECT_VERDICT(s, TC_INGRESS, udp(&p, PEER4, ME4, 40000, 22), DENY);
	EXPECT_VERDICT(s, XDP_INGRESS, tcp(&p, PEER6, ME6, 40000, 22, TCP_SYN), FWD);
	flowmeta__destroy(s);
}

static void port_range_includes_both_bounds(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {\"Rules\": [{\"Peers\": [\"any\"], "
				       "\"Protocol\": \"Tcp\", \"Ports\": \"8000-8100\"}]}");
	static const struct {
		uint16_t port;
		int verdict;
	} cases[] = { { 7999, DENY }, { 8000, FWD }, { 8050, FWD }, { 8100, FWD }, { 8101, DENY } };
	struct pkt p;

	if (!s)
		return;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tcp(&p, PEER4, ME4, 40000 + i, cases[i].port, TCP_SYN);
		EXPECT_VERDICT(s, TC_INGRESS, &p, cases[i].verdict);
	}
	flowmeta__destroy(s);
}

static void udp_rule_allows_udp_and_not_tcp(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {\"Rules\": [{\"Peers\": [\"any\"], "
				       "\"Protocol\": \"Udp\", \"Ports\": \"53\"}]}");
	struct pkt p;

	if (!s)
		return;
	EXPECT_VERDICT(s, TC_INGRESS, udp(&p, PEER4, ME4, 5353, 53), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, tcp(&p, PEER4, ME4, 5353, 53, TCP_SYN), DENY);
	EXPECT_VERDICT(s, TC_INGRESS, raw(&p, PEER4, ME4, IPPROTO_UDPLITE), DENY);	/* not UDP */
	flowmeta__destroy(s);
}

static void icmp_rule_allows_icmpv4_and_icmpv6_only(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {\"Rules\": [{\"Peers\": [\"any\"], "
				       "\"Protocol\": \"Icmp\"}]}");
	struct pkt p;

	if (!s)
		return;
	EXPECT_VERDICT(s, TC_INGRESS, icmp(&p, PEER4, ME4, 8, 0), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, icmp(&p, PEER6, ME6, 128, 0), FWD);
	EXPECT_VERDICT(s, TC_EGRESS, icmp(&p, ME4, PEER4, 3, 1), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, tcp(&p, PEER4, ME4, 1, 22, TCP_SYN), DENY);
	/* ICMPv6 inside IPv4 is some other protocol, not ICMP. */
	EXPECT_VERDICT(s, TC_INGRESS, raw(&p, PEER4, ME4, IPPROTO_ICMPV6), DENY);
	flowmeta__destroy(s);
}

static void any_protocol_rule_allows_every_protocol_and_port(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {\"Rules\": [{\"Peers\": [\"any\"], "
				       "\"Protocol\": \"Any\", \"Direction\": \"Inbound\"}]}");
	struct pkt p;

	if (!s)
		return;
	EXPECT_VERDICT(s, TC_INGRESS, tcp(&p, PEER4, ME4, 1, 65535, TCP_SYN), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, udp(&p, PEER6, ME6, 1, 0), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, icmp(&p, PEER4, ME4, 13, 0), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, raw(&p, PEER4, ME4, IPPROTO_GRE), FWD);
	EXPECT_VERDICT(s, XDP_INGRESS, raw(&p, PEER4, ME4, IPPROTO_SCTP), FWD);
	/* Inbound only: this node opening to the peer is not allowed. */
	EXPECT_VERDICT(s, TC_EGRESS, tcp(&p, ME4, "100.64.0.3", 1, 80, TCP_SYN), DENY);
	flowmeta__destroy(s);
}

static void inbound_rule_lets_the_peer_open_and_not_this_node(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {\"Rules\": [{\"Peers\": [\"any\"], "
				       "\"Protocol\": \"Tcp\", \"Ports\": \"22\", \"Direction\": "
				       "\"Inbound\"}]}");
	struct pkt p;

	if (!s)
		return;
	EXPECT_VERDICT(s, TC_INGRESS, tcp(&p, PEER4, ME4, 40000, 22, TCP_SYN), FWD);
	EXPECT_VERDICT(s, XDP_INGRESS, &p, FWD);
	EXPECT_VERDICT(s, TC_EGRESS, tcp(&p, ME4, PEER4, 40001, 22, TCP_SYN), DENY);
	flowmeta__destroy(s);
}

static void outbound_rule_lets_this_node_open_and_not_the_peer(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {\"Rules\": [{\"Peers\": [\"any\"], "
				       "\"Protocol\": \"Tcp\", \"Ports\": \"443\", \"Direction\": "
				       "\"Outbound\"}]}");
	struct pkt p;

	if (!s)
		return;
	EXPECT_VERDICT(s, TC_EGRESS, tcp(&p, ME6, PEER6, 40000, 443, TCP_SYN), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, tcp(&p, PEER6, ME6, 40001, 443, TCP_SYN), DENY);
	EXPECT_VERDICT(s, XDP_INGRESS, &p, DENY);
	flowmeta__destroy(s);
}

static void both_directions_rule_lets_either_side_open(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {\"Rules\": [{\"Peers\": [\"any\"], "
				       "\"Protocol\": \"Udp\", \"Ports\": \"5000-5001\"}]}");
	struct pkt p;

	if (!s)
		return;
	EXPECT_VERDICT(s, TC_EGRESS, udp(&p, ME4, PEER4, 40000, 5000), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, udp(&p, PEER4, ME4, 40001, 5001), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, udp(&p, PEER4, ME4, 40002, 5002), DENY);
	flowmeta__destroy(s);
}

static void ipv4_peer_prefix_limits_the_rule_to_its_peers(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {\"Rules\": [{\"Peers\": "
				       "[\"100.64.0.0/24\", \"100.64.7.9\"], \"Protocol\": \"Tcp\"}]}");
	struct pkt p;

	if (!s)
		return;
	EXPECT_VERDICT(s, TC_INGRESS, tcp(&p, "100.64.0.200", ME4, 1, 22, TCP_SYN), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, tcp(&p, "100.64.7.9", ME4, 1, 22, TCP_SYN), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, tcp(&p, "100.64.7.8", ME4, 1, 22, TCP_SYN), DENY);
	EXPECT_VERDICT(s, TC_INGRESS, tcp(&p, "100.64.1.2", ME4, 1, 22, TCP_SYN), DENY);
	/* The peer of an egress packet is its destination, never its source. */
	EXPECT_VERDICT(s, TC_EGRESS, tcp(&p, "100.64.0.9", "100.64.1.2", 1, 22, TCP_SYN), DENY);
	EXPECT_VERDICT(s, TC_EGRESS, tcp(&p, "100.64.1.2", "100.64.0.9", 1, 22, TCP_SYN), FWD);
	/* An IPv4 prefix says nothing of IPv6 peers, even ::100.64.0.2. */
	EXPECT_VERDICT(s, TC_INGRESS, tcp(&p, "::6440:2", ME6, 1, 22, TCP_SYN), DENY);
	flowmeta__destroy(s);
}

static void ipv6_peer_prefix_limits_the_rule_to_its_peers(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {\"Rules\": [{\"Peers\": "
				       "[\"fd00:1::/48\"], \"Protocol\": \"Udp\"}]}");
	struct pkt p;

	if (!s)
		return;
	EXPECT_VERDICT(s, TC_INGRESS, udp(&p, "fd00:1:0:5::2", ME6, 1, 53), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, udp(&p, "fd00:1:1::2", ME6, 1, 53), DENY);
	EXPECT_VERDICT(s, TC_EGRESS, udp(&p, ME6, "fd00:1:0:ffff::1", 1, 53), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, udp(&p, PEER4, ME4, 1, 53), DENY);
	flowmeta__destroy(s);
}

static void any_peer_covers_ipv4_and_ipv6(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {\"Rules\": [{\"Peers\": [\"any\"], "
				       "\"Protocol\": \"Udp\", \"Ports\": \"53\"}]}");
	struct pkt p;

	if (!s)
		return;
	EXPECT_VERDICT(s, TC_INGRESS, udp(&p, "198.18.3.4", ME4, 1, 53), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, udp(&p, "2001:db8::77", ME6, 1, 53), FWD);
	flowmeta__destroy(s);
}

/*
 * A peer inside prefixes of several rules gets every one of them, though the trie answers with
 * the longest prefix only (the union is compiled in).
 */
static void peer_inside_nested_prefixes_gets_the_rules_of_each(void)
{
	struct flowmeta *s = fx_policy(
		"\"AccessControl\": {\"Rules\": ["
		"{\"Peers\": [\"100.64.0.0/16\"], \"Protocol\": \"Tcp\", \"Ports\": \"22\"},"
		"{\"Peers\": [\"100.64.0.0/24\"], \"Protocol\": \"Udp\", \"Ports\": \"53\"},"
		"{\"Peers\": [\"100.64.0.5\"], \"Protocol\": \"Tcp\", \"Ports\": \"80\"},"
		"{\"Peers\": [\"any\"], \"Protocol\": \"Icmp\"}]}");
	struct pkt p;

	if (!s)
		return;
	EXPECT_VERDICT(s, TC_INGRESS, tcp(&p, "100.64.0.5", ME4, 1, 22, TCP_SYN), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, udp(&p, "100.64.0.5", ME4, 1, 53), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, tcp(&p, "100.64.0.5", ME4, 1, 80, TCP_SYN), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, icmp(&p, "100.64.0.5", ME4, 8, 0), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, tcp(&p, "100.64.0.6", ME4, 1, 80, TCP_SYN), DENY);
	EXPECT_VERDICT(s, TC_INGRESS, udp(&p, "100.64.1.5", ME4, 1, 53), DENY);
	EXPECT_VERDICT(s, TC_INGRESS, tcp(&p, "100.64.1.5", ME4, 1, 22, TCP_SYN), FWD);
	flowmeta__destroy(s);
}

/* Every rule index of the bitmaps is reachable: 256 one-port rules, each its own port. */
static void each_of_256_port_rules_allows_its_own_port(void)
{
	static char members[65536];
	struct flowmeta *s;
	size_t n;
	struct pkt p;
	int bad = 0;

	n = (size_t)snprintf(members, sizeof(members), "\"AccessControl\": {\"Rules\": [");
	for (int i = 0; i < 256; i++)
		n += (size_t)snprintf(members + n, sizeof(members) - n,
				      "%s{\"Peers\": [\"100.64.0.2\"], \"Protocol\": \"Udp\", "
				      "\"Ports\": \"%d\"}", i ? "," : "", 10000 + 2 * i);
	snprintf(members + n, sizeof(members) - n, "]}");
	s = fx_policy(members);
	if (!s)
		return;
	for (int i = 0; i < 256; i++) {
		udp(&p, PEER4, ME4, 1, 10000 + 2 * i);
		bad += judge(s, TC_INGRESS, &p) != FWD;
		udp(&p, PEER4, ME4, 1, 10001 + 2 * i);
		bad += judge(s, TC_INGRESS, &p) != DENY;
	}
	EXPECT_EQ(bad, 0);
	flowmeta__destroy(s);
}

/* ---- state ------------------------------------------------------------------------------------ */

static void reply_of_an_allowed_tcp_connection_passes_and_unsolicited_reverse_is_denied(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {\"Rules\": [{\"Peers\": [\"any\"], "
				       "\"Protocol\": \"Tcp\", \"Ports\": \"22\", \"Direction\": "
				       "\"Inbound\"}]}");
	struct pkt p;

	if (!s)
		return;
	/* Unsolicited: nothing opened this connection yet. */
	EXPECT_VERDICT(s, TC_EGRESS, tcp(&p, ME4, PEER4, 22, 40000, TCP_SYN | TCP_ACK), DENY);
	EXPECT_VERDICT(s, TC_INGRESS, tcp(&p, PEER4, ME4, 40000, 22, TCP_SYN), FWD);
	EXPECT_VERDICT(s, TC_EGRESS, tcp(&p, ME4, PEER4, 22, 40000, TCP_SYN | TCP_ACK), FWD);
	EXPECT_VERDICT(s, XDP_INGRESS, tcp(&p, PEER4, ME4, 40000, 22, TCP_ACK), FWD);
	/* Another peer port, another peer, or this node's port 22 to the peer's 40000 opening: no. */
	EXPECT_VERDICT(s, TC_EGRESS, tcp(&p, ME4, PEER4, 22, 40001, TCP_ACK), DENY);
	EXPECT_VERDICT(s, TC_EGRESS, tcp(&p, ME4, "100.64.0.3", 22, 40000, TCP_ACK), DENY);
	EXPECT_VERDICT(s, TC_EGRESS, tcp(&p, ME4, PEER4, 40000, 22, TCP_SYN), DENY);
	flowmeta__destroy(s);
}

static void reply_of_an_allowed_udp_exchange_passes(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {\"Rules\": [{\"Peers\": [\"any\"], "
				       "\"Protocol\": \"Udp\", \"Ports\": \"53\", \"Direction\": "
				       "\"Outbound\"}]}");
	struct pkt p;

	if (!s)
		return;
	EXPECT_VERDICT(s, TC_EGRESS, udp(&p, ME6, PEER6, 5353, 53), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, udp(&p, PEER6, ME6, 53, 5353), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, udp(&p, PEER6, ME6, 53, 5354), DENY);
	flowmeta__destroy(s);
}

static void echo_reply_passes_only_for_an_echo_request_allowed_the_other_way(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {\"Rules\": [{\"Peers\": [\"any\"], "
				       "\"Protocol\": \"Icmp\", \"Direction\": \"Outbound\"}]}");
	struct pkt p;

	if (!s)
		return;
	EXPECT_VERDICT(s, TC_INGRESS, icmp(&p, PEER4, ME4, 0, 0), DENY);	/* a reply nothing asked for */
	EXPECT_VERDICT(s, TC_EGRESS, icmp(&p, ME4, PEER4, 8, 0), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, icmp(&p, PEER4, ME4, 0, 0), FWD);
	/* The remembered echo does not let the peer ping this node. */
	EXPECT_VERDICT(s, TC_INGRESS, icmp(&p, PEER4, ME4, 8, 0), DENY);
	EXPECT_VERDICT(s, TC_EGRESS, icmp(&p, ME6, PEER6, 128, 0), FWD);
	EXPECT_VERDICT(s, XDP_INGRESS, icmp(&p, PEER6, ME6, 129, 0), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, icmp(&p, PEER6, ME6, 128, 0), DENY);
	flowmeta__destroy(s);
}

static void icmp_error_is_not_admitted_through_a_tcp_connection(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {\"Rules\": [{\"Peers\": [\"any\"], "
				       "\"Protocol\": \"Tcp\", \"Ports\": \"80\", \"Direction\": "
				       "\"Outbound\"}]}");
	struct pkt p;

	if (!s)
		return;
	EXPECT_VERDICT(s, TC_EGRESS, tcp(&p, ME4, PEER4, 40000, 80, TCP_SYN), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, tcp(&p, PEER4, ME4, 80, 40000, TCP_SYN | TCP_ACK), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, icmp(&p, PEER4, ME4, 3, 3), DENY);	/* port unreachable */
	EXPECT_VERDICT(s, TC_INGRESS, icmp(&p, PEER4, ME4, 11, 0), DENY);	/* time exceeded */
	EXPECT_VERDICT(s, TC_INGRESS, icmp(&p, PEER6, ME6, 1, 4), DENY);	/* ICMPv6 port unreachable */
	/* An Icmp rule for that peer is what admits them. */
	EXPECT_EQ(apply(s, "\"AccessControl\": {\"Rules\": [{\"Peers\": [\"any\"], \"Protocol\": "
			   "\"Tcp\", \"Ports\": \"80\", \"Direction\": \"Outbound\"}, {\"Peers\": "
			   "[\"100.64.0.2\"], \"Protocol\": \"Icmp\", \"Direction\": \"Inbound\"}]}"),
		  0);
	EXPECT_VERDICT(s, TC_INGRESS, icmp(&p, PEER4, ME4, 3, 3), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, icmp(&p, "100.64.0.3", ME4, 3, 3), DENY);
	flowmeta__destroy(s);
}

static void ipv6_neighbour_discovery_passes_the_rules(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {}, \"TrustRequirements\": "
				       "{\"UntrustedPeers\": [\"fd00::9\"]}");
	struct pkt p;

	if (!s)
		return;
	EXPECT_VERDICT(s, TC_EGRESS, icmp(&p, ME6, "ff02::1:ff00:2", 135, 0), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, icmp(&p, PEER6, ME6, 136, 0), FWD);
	/* A router advertisement is not exempt; an untrusted peer's advertisement neither. */
	EXPECT_VERDICT(s, TC_INGRESS, icmp(&p, PEER6, ME6, 134, 0), DENY);
	EXPECT_VERDICT(s, TC_INGRESS, icmp(&p, "fd00::9", ME6, 136, 0), UNTRUSTED);
	flowmeta__destroy(s);
}

/* ---- trust ------------------------------------------------------------------------------------ */

static void untrusted_peer_is_dropped_both_ways_whatever_the_rules_allow(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {\"Rules\": [{\"Peers\": [\"any\"], "
				       "\"Protocol\": \"Any\"}]}, \"TrustRequirements\": "
				       "{\"UntrustedPeers\": [\"100.64.9.7\", \"100.64.10.0/24\", "
				       "\"fd00:bad::/32\"]}");
	struct pkt p;

	if (!s)
		return;
	EXPECT_VERDICT(s, TC_INGRESS, tcp(&p, "100.64.9.7", ME4, 1, 22, TCP_SYN), UNTRUSTED);
	EXPECT_VERDICT(s, XDP_INGRESS, &p, UNTRUSTED);
	EXPECT_VERDICT(s, TC_EGRESS, udp(&p, ME4, "100.64.10.200", 1, 53), UNTRUSTED);
	EXPECT_VERDICT(s, TC_INGRESS, icmp(&p, "fd00:bad:1::1", ME6, 128, 0), UNTRUSTED);
	EXPECT_VERDICT(s, TC_INGRESS, tcp(&p, "100.64.9.8", ME4, 1, 22, TCP_SYN), FWD);
	/* This node's own address as the source does not make it the peer. */
	EXPECT_VERDICT(s, TC_EGRESS, tcp(&p, "100.64.9.7", "100.64.0.9", 1, 22, TCP_SYN), FWD);
	flowmeta__destroy(s);
}

static void untrusted_peers_are_dropped_without_access_control(void)
{
	struct flowmeta *s = fx_policy("\"TrustRequirements\": {\"UntrustedPeers\": "
				       "[\"100.64.9.0/24\"]}");
	struct pkt p;

	if (!s)
		return;
	EXPECT_VERDICT(s, TC_INGRESS, udp(&p, "100.64.9.1", ME4, 1, 2), UNTRUSTED);
	EXPECT_VERDICT(s, TC_EGRESS, udp(&p, ME4, "100.64.9.1", 2, 1), UNTRUSTED);
	EXPECT_VERDICT(s, TC_INGRESS, udp(&p, PEER4, ME4, 1, 2), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, udp(&p, PEER6, ME6, 1, 2), FWD);
	flowmeta__destroy(s);
}

/* A peer nested inside an allowed prefix, and a rule prefix inside an untrusted one. */
static void untrusted_prefix_wins_over_longer_and_shorter_rule_prefixes(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {\"Rules\": [{\"Peers\": "
				       "[\"100.64.0.0/16\", \"100.64.5.5\"], \"Protocol\": \"Any\"}]}, "
				       "\"TrustRequirements\": {\"UntrustedPeers\": "
				       "[\"100.64.5.0/24\"]}");
	struct pkt p;

	if (!s)
		return;
	EXPECT_VERDICT(s, TC_INGRESS, udp(&p, "100.64.5.5", ME4, 1, 2), UNTRUSTED);
	EXPECT_VERDICT(s, TC_INGRESS, udp(&p, "100.64.5.6", ME4, 1, 2), UNTRUSTED);
	EXPECT_VERDICT(s, TC_INGRESS, udp(&p, "100.64.6.6", ME4, 1, 2), FWD);
	flowmeta__destroy(s);
}

static void connection_of_a_peer_made_untrusted_is_dropped(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {\"Rules\": [{\"Peers\": [\"any\"], "
				       "\"Protocol\": \"Tcp\", \"Ports\": \"22\"}]}");
	struct pkt open, reply;

	if (!s)
		return;
	tcp(&open, PEER4, ME4, 40000, 22, TCP_SYN);
	tcp(&reply, ME4, PEER4, 22, 40000, TCP_ACK);
	EXPECT_VERDICT(s, TC_INGRESS, &open, FWD);
	EXPECT_VERDICT(s, TC_EGRESS, &reply, FWD);
	EXPECT_EQ(apply(s, "\"AccessControl\": {\"Rules\": [{\"Peers\": [\"any\"], \"Protocol\": "
			   "\"Tcp\", \"Ports\": \"22\"}]}, \"TrustRequirements\": "
			   "{\"UntrustedPeers\": [\"100.64.0.2\"]}"),
		  0);
	EXPECT_VERDICT(s, TC_EGRESS, &reply, UNTRUSTED);
	EXPECT_VERDICT(s, TC_INGRESS, &open, UNTRUSTED);
	flowmeta__destroy(s);
}

/* ---- fragments, extension headers, truncation -------------------------------------------------- */

static void later_fragments_are_judged_with_the_ports_of_their_first(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {\"Rules\": [{\"Peers\": [\"any\"], "
				       "\"Protocol\": \"Udp\", \"Ports\": \"53\", \"Direction\": "
				       "\"Inbound\"}]}");
	struct pkt p;

	if (!s)
		return;
	EXPECT_VERDICT(s, TC_INGRESS, udp4_frag(&p, PEER4, ME4, 5353, 53, 77, 0), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, udp4_frag(&p, PEER4, ME4, 0, 0, 77, 64), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, udp4_frag(&p, PEER4, ME4, 5353, 54, 78, 0), DENY);
	EXPECT_VERDICT(s, TC_INGRESS, udp4_frag(&p, PEER4, ME4, 0, 0, 78, 64), DENY);
	EXPECT_VERDICT(s, TC_INGRESS, udp6_frag(&p, PEER6, ME6, 5353, 53, 99, 0), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, udp6_frag(&p, PEER6, ME6, 0, 0, 99, 64), FWD);
	/* The reply's fragments pass through the remembered exchange. */
	EXPECT_VERDICT(s, TC_EGRESS, udp4_frag(&p, ME4, PEER4, 53, 5353, 200, 0), FWD);
	EXPECT_VERDICT(s, TC_EGRESS, udp4_frag(&p, ME4, PEER4, 0, 0, 200, 64), FWD);
	flowmeta__destroy(s);
}

/* The flow a fragment was metered in (the flow map is emptied first), and its verdict. */
static int judge_key(struct flowmeta *s, enum hook hook, const struct pkt *p, struct flow_key *k)
{
	struct flow_value v;
	int verdict = judge(s, hook, p);

	memset(k, 0, sizeof(*k));
	if (verdict >= 0)
		only_flow(s, k, &v);
	return verdict;
}

/*
 * A spoofed duplicate of an allowed first fragment, with a denied port, is dropped; it never
 * changes how the rest of the allowed datagram is judged, whether it comes after the real first
 * fragment or before it: the later fragments pass, in the allowed flow.
 */
static void denied_duplicate_first_fragment_never_changes_the_allowed_datagram(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {\"Rules\": [{\"Peers\": [\"any\"], "
				       "\"Protocol\": \"Udp\", \"Ports\": \"53\", \"Direction\": "
				       "\"Inbound\"}]}");
	struct flow_key k;
	struct pkt p;

	if (!s)
		return;
	/* The spoofed one after the real one. */
	EXPECT_VERDICT(s, TC_INGRESS, udp4_frag(&p, PEER4, ME4, 5353, 53, 500, 0), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, udp4_frag(&p, PEER4, ME4, 5353, 54, 500, 0), DENY);
	EXPECT_EQ(judge_key(s, TC_INGRESS, udp4_frag(&p, PEER4, ME4, 0, 0, 500, 64), &k), FWD);
	EXPECT_EQ(k.dst_port, 53);
	EXPECT_VERDICT(s, XDP_INGRESS, udp6_frag(&p, PEER6, ME6, 5353, 53, 501, 0), FWD);
	EXPECT_VERDICT(s, XDP_INGRESS, udp6_frag(&p, PEER6, ME6, 5353, 54, 501, 0), DENY);
	EXPECT_EQ(judge_key(s, XDP_INGRESS, udp6_frag(&p, PEER6, ME6, 0, 0, 501, 64), &k), FWD);
	EXPECT_EQ(k.dst_port, 53);
	/* The spoofed one first: the real one takes the record over. */
	EXPECT_VERDICT(s, TC_INGRESS, udp4_frag(&p, PEER4, ME4, 5353, 54, 502, 0), DENY);
	EXPECT_VERDICT(s, TC_INGRESS, udp4_frag(&p, PEER4, ME4, 5353, 53, 502, 0), FWD);
	EXPECT_EQ(judge_key(s, TC_INGRESS, udp4_frag(&p, PEER4, ME4, 0, 0, 502, 64), &k), FWD);
	EXPECT_EQ(k.dst_port, 53);
	flowmeta__destroy(s);
}

/* A later fragment whose first fragment was dropped is dropped with it, metered in its flow. */
static void later_fragment_of_a_dropped_first_fragment_is_dropped_in_its_flow(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {\"Rules\": [{\"Peers\": [\"any\"], "
				       "\"Protocol\": \"Udp\", \"Ports\": \"53\"}]}");
	struct flow_key k;
	struct pkt p;

	if (!s)
		return;
	EXPECT_VERDICT(s, TC_EGRESS, udp4_frag(&p, ME4, PEER4, 5353, 54, 600, 0), DENY);
	EXPECT_EQ(judge_key(s, TC_EGRESS, udp4_frag(&p, ME4, PEER4, 0, 0, 600, 64), &k), DENY);
	EXPECT_EQ(k.src_port, 5353);
	EXPECT_EQ(k.dst_port, 54);
	flowmeta__destroy(s);
}

static void orphan_later_fragment_never_matches_a_port_range(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {\"Rules\": [{\"Peers\": [\"any\"], "
				       "\"Protocol\": \"Udp\", \"Ports\": \"0-53\"}, {\"Peers\": "
				       "[\"100.64.0.3\"], \"Protocol\": \"Udp\"}]}");
	struct pkt p;

	if (!s)
		return;
	/* Ports 0 here means unknown, not port 0: the range 0-53 must not match it. */
	EXPECT_VERDICT(s, TC_INGRESS, udp4_frag(&p, PEER4, ME4, 0, 0, 300, 64), DENY);
	EXPECT_VERDICT(s, XDP_INGRESS, udp6_frag(&p, PEER6, ME6, 0, 0, 301, 64), DENY);
	/* A rule that allows every UDP port of the peer allows its fragments, seen or not. */
	EXPECT_VERDICT(s, TC_INGRESS, udp4_frag(&p, "100.64.0.3", ME4, 0, 0, 302, 64), FWD);
	flowmeta__destroy(s);
}

static void truncated_transport_header_never_matches_a_port_range(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {\"Rules\": [{\"Peers\": [\"any\"], "
				       "\"Protocol\": \"Tcp\", \"Ports\": \"0-100\"}]}");
	struct pkt p;

	if (!s)
		return;
	ip_start(&p, PEER4, ME4, IPPROTO_TCP);
	pkt_payload(&p, 10);	/* 10 octets where a 20-octet TCP header should be */
	pkt_finish(&p);
	EXPECT_VERDICT(s, TC_INGRESS, &p, DENY);
	flowmeta__destroy(s);
}

static void ipv6_extension_headers_are_walked_to_the_ports_the_rules_check(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {\"Rules\": [{\"Peers\": [\"any\"], "
				       "\"Protocol\": \"Tcp\", \"Ports\": \"22\"}]}");
	struct pkt p;

	if (!s)
		return;
	for (int port = 22; port <= 23; port++) {
		pkt_init(&p);
		pkt_eth(&p, ETH_P_IPV6);
		pkt_ipv6(&p, PEER6, ME6, IPPROTO_HOPOPTS);
		pkt_ipv6_ext(&p, IPPROTO_HOPOPTS, IPPROTO_ROUTING, 8);
		pkt_ipv6_ext(&p, IPPROTO_ROUTING, IPPROTO_DSTOPTS, 24);
		pkt_ipv6_ext(&p, IPPROTO_DSTOPTS, IPPROTO_TCP, 16);
		pkt_tcp(&p, 40000, port, TCP_SYN, 0);
		pkt_finish(&p);
		EXPECT_VERDICT(s, TC_INGRESS, &p, port == 22 ? FWD : DENY);
	}
	flowmeta__destroy(s);
}

/*
 * However long the chain of extension headers, the rules check the real transport header behind
 * it: the walk has no limit short of the frame, and never takes an extension header for the
 * transport (a TCP rule can be neither fooled nor made to drop allowed traffic by it).
 */
static void tcp_behind_a_long_extension_chain_is_judged_by_its_real_port(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {\"Rules\": [{\"Peers\": [\"any\"], "
				       "\"Protocol\": \"Tcp\", \"Ports\": \"22\"}]}");
	static const int lengths[] = { 9, 40, 200 };
	struct pkt p;

	if (!s)
		return;
	for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		for (int port = 22; port <= 23; port++) {
			pkt_init(&p);
			pkt_eth(&p, ETH_P_IPV6);
			pkt_ipv6(&p, PEER6, ME6, IPPROTO_DSTOPTS);
			for (int h = 0; h < lengths[i]; h++)
				pkt_ipv6_ext(&p, IPPROTO_DSTOPTS,
					     h + 1 < lengths[i] ? IPPROTO_DSTOPTS : IPPROTO_TCP, 8);
			pkt_tcp(&p, 40000, port, TCP_SYN, 0);
			pkt_finish(&p);
			EXPECT_VERDICT(s, TC_INGRESS, &p, port == 22 ? FWD : DENY);
			EXPECT_VERDICT(s, XDP_INGRESS, &p, port == 22 ? FWD : DENY);
		}
	}
	flowmeta__destroy(s);
}

/* The same packet behind a stack of n VLAN tags of VLAN ID 0, the outer one 802.1ad. */
static struct pkt *tagged(struct pkt *p, const struct pkt *inner, int n)
{
	pkt_init(p);
	pkt_eth(p, ETH_P_8021AD);
	for (int i = 0; i < n; i++)
		pkt_vlan(p, 0, i + 1 < n ? ETH_P_8021Q : (inner->ip_version == 4 ? ETH_P_IP
										: ETH_P_IPV6));
	memcpy(pkt_put(p, inner->len - inner->l3), inner->data + inner->l3, inner->len - inner->l3);
	return p;
}

/*
 * A stack of priority tags (VLAN ID 0) is stripped by the kernel, which delivers what follows as
 * IP: the policy judges it as the packet inside, on every hook, at any depth.
 */
static void vlan_tag_stacks_are_judged_as_the_packet_inside(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {\"Rules\": [{\"Peers\": [\"any\"], "
				       "\"Protocol\": \"Any\"}]}, \"TrustRequirements\": "
				       "{\"UntrustedPeers\": [\"100.64.9.7\", \"fd00:bad::/32\"]}");
	static const int depths[] = { 3, 4, 20 };
	struct pkt inner, p;

	if (!s)
		return;
	for (size_t i = 0; i < sizeof(depths) / sizeof(depths[0]); i++) {
		int n = depths[i];

		tagged(&p, tcp(&inner, "100.64.9.7", ME4, 1, 22, TCP_SYN), n);
		EXPECT_VERDICT(s, TC_INGRESS, &p, UNTRUSTED);
		EXPECT_VERDICT(s, XDP_INGRESS, &p, UNTRUSTED);
		tagged(&p, udp(&inner, ME4, "100.64.9.7", 53, 5353), n);
		EXPECT_VERDICT(s, TC_EGRESS, &p, UNTRUSTED);
		tagged(&p, udp(&inner, "fd00:bad::1", ME6, 53, 5353), n);
		EXPECT_VERDICT(s, XDP_INGRESS, &p, UNTRUSTED);
		tagged(&p, udp(&inner, PEER4, ME4, 53, 5353), n);
		EXPECT_VERDICT(s, TC_INGRESS, &p, FWD);
	}
	flowmeta__destroy(s);
}

/* ---- fail closed ----------------------------------------------------------------------------- */

/* What a hook returns for a frame it drops. */
static int drop_code(enum hook hook)
{
	return hook == XDP_INGRESS ? XDP_DROP : TC_ACT_SHOT;
}

/*
 * While a policy is in force, a frame the parser cannot read (malformed: an IP header or VLAN stack
 * cut short or invalid) is dropped: the policy cannot judge it, and the kernel might still make
 * something of it. Counted in malformed, fail_closed and policy_dropped, and metered in the drop
 * flow of its direction that has no key (IPv4, 0.0.0.0, protocol 0, denied), octets past the
 * Ethernet header. Without a policy the same frames pass (and are counted malformed only), no
 * flow. Not-IP frames (ARP) always pass.
 */
static void malformed_frames_are_dropped_while_a_policy_is_in_force(void)
{
	struct flowmeta *s = fx_policy("\"TrustRequirements\": {\"UntrustedPeers\": "
				       "[\"100.64.9.9\"]}");
	static const enum hook hooks[] = { TC_INGRESS, TC_EGRESS, XDP_INGRESS };
	struct pkt bad_ihl, cut_tags, arp;
	struct flowmeta_stats st;

	if (!s)
		return;
	tcp(&bad_ihl, PEER4, ME4, 1, 22, TCP_SYN);
	((struct iphdr *)(bad_ihl.data + bad_ihl.l3))->ihl = 4;
	pkt_init(&cut_tags);
	pkt_eth(&cut_tags, ETH_P_8021Q);
	pkt_vlan(&cut_tags, 0, ETH_P_8021Q);
	pkt_vlan(&cut_tags, 0, ETH_P_8021Q);
	cut_tags.len -= 1;
	pkt_init(&arp);
	pkt_eth(&arp, ETH_P_ARP);
	pkt_payload(&arp, 28);
	for (int i = 0; i < 3; i++) {
		EXPECT_EQ(run_ctx(s, hooks[i], &bad_ihl, 1, NULL), drop_code(hooks[i]));
		EXPECT_EQ(run_ctx(s, hooks[i], &cut_tags, 1, NULL), drop_code(hooks[i]));
		EXPECT_EQ(run_ctx(s, hooks[i], &arp, 1, NULL), code_for(hooks[i], FWD));
	}
	st = stats_get(s);
	EXPECT_EQ(st.malformed, 6);
	EXPECT_EQ(st.fail_closed, 6);
	EXPECT_EQ(st.policy_dropped, 6);
	EXPECT_EQ(st.not_ip, 3);
	EXPECT_EQ(flow_count(s), 2);
	/* TC and XDP ingress share the ingress flow: 2 frames each; TC egress has its own. */
	for (int dir = FLOW_DIR_INGRESS; dir <= FLOW_DIR_EGRESS; dir++) {
		struct flow_key k = { .ip_version = 4, .direction = (uint8_t)dir,
				      .verdict = FLOW_VERDICT_ACL_DENY };
		struct flow_value v;
		uint64_t frames = dir == FLOW_DIR_INGRESS ? 2 : 1;

		if (flow_get(s, &k, &v)) {
			EXPECT_EQ(v.packets, 2 * frames);
			EXPECT_EQ(v.octets, frames * (bad_ihl.len + cut_tags.len - 2 * ETH_HLEN));
		}
	}
	flows_clear(s);
	/* No policy: they pass. */
	EXPECT_EQ(apply(s, ""), 0);
	for (int i = 0; i < 3; i++) {
		EXPECT_EQ(run_ctx(s, hooks[i], &bad_ihl, 1, NULL), code_for(hooks[i], FWD));
		EXPECT_EQ(run_ctx(s, hooks[i], &cut_tags, 1, NULL), code_for(hooks[i], FWD));
	}
	st = stats_get(s);
	EXPECT_EQ(st.malformed, 12);
	EXPECT_EQ(st.fail_closed, 6);
	EXPECT_EQ(st.policy_dropped, 6);
	EXPECT_EQ(flow_count(s), 0);
	flowmeta__destroy(s);
}

/*
 * The same for an unparseable frame: here one XDP sees on an IP-only device that is neither IPv4
 * nor IPv6 by its version nibble (a tun writer may have named it VLAN).
 */
static void unparseable_frames_are_dropped_while_a_policy_is_in_force(void)
{
	struct flowmeta *s = fx_policy_opts((struct fixture_opts){ .l3_device = true },
					    "\"AccessControl\": {\"Rules\": [{\"Peers\": "
					    "[\"any\"], \"Protocol\": \"Any\"}]}");
	struct flowmeta_stats st;
	struct pkt p;

	if (!s)
		return;
	pkt_init(&p);
	pkt_vlan(&p, 0, ETH_P_IP);
	pkt_ipv4(&p, "100.64.9.7", ME4, IPPROTO_UDP);
	pkt_udp(&p, 7, 9);
	pkt_finish(&p);
	EXPECT_EQ(run_ctx(s, XDP_INGRESS, &p, 3, NULL), XDP_DROP);
	st = stats_get(s);
	EXPECT_EQ(st.unparseable, 3);
	EXPECT_EQ(st.fail_closed, 3);
	EXPECT_EQ(st.policy_dropped, 3);
	/* On an L3 device the keyless drop flow counts the whole frame. */
	{
		struct flow_key k = { .ip_version = 4, .direction = FLOW_DIR_INGRESS,
				      .verdict = FLOW_VERDICT_ACL_DENY };
		struct flow_value v;

		EXPECT_EQ(flow_count(s), 1);
		if (flow_get(s, &k, &v)) {
			EXPECT_EQ(v.packets, 3);
			EXPECT_EQ(v.octets, 3 * (uint64_t)p.len);
		}
	}
	flows_clear(s);
	EXPECT_EQ(apply(s, ""), 0);
	EXPECT_EQ(run_ctx(s, XDP_INGRESS, &p, 1, NULL), XDP_PASS);
	EXPECT_EQ(stats_get(s).unparseable, 4);
	EXPECT_EQ(stats_get(s).fail_closed, 3);
	flowmeta__destroy(s);
}

/* ---- address spellings ----------------------------------------------------------------------- */

/*
 * An IPv4-mapped IPv6 peer (::ffff:a.b.c.d) is the IPv4 peer a.b.c.d to a dual-stack socket: it is
 * judged as a.b.c.d, its trust and its rules both, and an IPv6 rule prefix (::/0 here) never admits
 * it where the IPv4 rules do not. Other embeddings of an IPv4 address are ordinary IPv6 addresses.
 */
static void ipv4_mapped_peer_is_judged_as_its_ipv4_address(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {\"Rules\": [{\"Peers\": "
				       "[\"100.64.0.0/24\"], \"Protocol\": \"Tcp\", "
				       "\"Ports\": \"22\", \"Direction\": \"Inbound\"}, "
				       "{\"Peers\": [\"::/0\"], "
				       "\"Protocol\": \"Tcp\", \"Ports\": \"80\"}]}, "
				       "\"TrustRequirements\": {\"UntrustedPeers\": "
				       "[\"100.64.9.7\"]}");
	struct pkt p;

	if (!s)
		return;
	EXPECT_VERDICT(s, TC_INGRESS, tcp(&p, "::ffff:100.64.9.7", ME6, 1, 80, TCP_SYN), UNTRUSTED);
	EXPECT_VERDICT(s, XDP_INGRESS, &p, UNTRUSTED);
	EXPECT_VERDICT(s, TC_EGRESS, tcp(&p, ME6, "::ffff:100.64.9.7", 1, 80, TCP_SYN), UNTRUSTED);
	/* The IPv4 rule admits the mapped spelling of its peers, and their replies. */
	EXPECT_VERDICT(s, TC_INGRESS, tcp(&p, "::ffff:100.64.0.2", ME6, 40000, 22, TCP_SYN), FWD);
	EXPECT_VERDICT(s, TC_EGRESS, tcp(&p, ME6, "::ffff:100.64.0.2", 22, 40000, TCP_ACK), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, tcp(&p, "::ffff:100.64.1.2", ME6, 40000, 22, TCP_SYN), DENY);
	/* The IPv6 rule does not admit a mapped peer; it does admit IPv6 peers. */
	EXPECT_VERDICT(s, TC_INGRESS, tcp(&p, "::ffff:100.64.0.2", ME6, 40001, 80, TCP_SYN), DENY);
	EXPECT_VERDICT(s, TC_INGRESS, tcp(&p, PEER6, ME6, 40001, 80, TCP_SYN), FWD);
	/* IPv4-compatible and NAT64 spellings are IPv6 peers: the IPv6 rule, not 100.64.9.7's. */
	EXPECT_VERDICT(s, TC_INGRESS, tcp(&p, "::100.64.9.7", ME6, 40002, 80, TCP_SYN), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, tcp(&p, "64:ff9b::100.64.9.7", ME6, 40002, 80, TCP_SYN), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, tcp(&p, "::100.64.0.2", ME6, 40002, 22, TCP_SYN), DENY);
	flowmeta__destroy(s);
}

/* A mapped peer whose IPv6 form lies in an untrusted IPv6 prefix is untrusted too (fail closed). */
static void ipv4_mapped_peer_in_an_untrusted_ipv6_prefix_is_untrusted(void)
{
	struct flowmeta *s = fx_policy("\"TrustRequirements\": {\"UntrustedPeers\": [\"::/8\"]}");
	struct pkt p;

	if (!s)
		return;
	EXPECT_VERDICT(s, TC_INGRESS, udp(&p, "::ffff:100.64.0.2", ME6, 1, 53), UNTRUSTED);
	EXPECT_VERDICT(s, TC_EGRESS, udp(&p, ME6, "::ffff:100.64.0.2", 53, 1), UNTRUSTED);
	EXPECT_VERDICT(s, TC_INGRESS, udp(&p, PEER4, ME4, 1, 53), FWD);
	EXPECT_VERDICT(s, TC_INGRESS, udp(&p, PEER6, ME6, 1, 53), FWD);
	flowmeta__destroy(s);
}

/* ---- replacement ------------------------------------------------------------------------------ */

static void replacement_puts_the_new_rules_in_force_and_stops_the_old_connections(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {\"Rules\": [{\"Peers\": [\"any\"], "
				       "\"Protocol\": \"Tcp\", \"Ports\": \"22\", \"Direction\": "
				       "\"Inbound\"}]}");
	struct pkt open22, reply22, open80, reply80;

	if (!s)
		return;
	tcp(&open22, PEER4, ME4, 40000, 22, TCP_SYN);
	tcp(&reply22, ME4, PEER4, 22, 40000, TCP_ACK);
	tcp(&open80, PEER4, ME4, 40001, 80, TCP_SYN);
	tcp(&reply80, ME4, PEER4, 80, 40001, TCP_ACK);
	EXPECT_VERDICT(s, TC_INGRESS, &open22, FWD);
	EXPECT_VERDICT(s, TC_EGRESS, &reply22, FWD);
	EXPECT_VERDICT(s, TC_INGRESS, &open80, DENY);
	EXPECT_EQ(apply(s, "\"AccessControl\": {\"Rules\": [{\"Peers\": [\"any\"], \"Protocol\": "
			   "\"Tcp\", \"Ports\": \"80\", \"Direction\": \"Inbound\"}]}"),
		  0);
	/* The removed rule's connection stops at its next packet, either way. */
	EXPECT_VERDICT(s, TC_EGRESS, &reply22, DENY);
	EXPECT_VERDICT(s, TC_INGRESS, &open22, DENY);
	EXPECT_VERDICT(s, TC_INGRESS, &open80, FWD);
	EXPECT_VERDICT(s, TC_EGRESS, &reply80, FWD);
	/* And back: generations alternate halves of the trie; each one is whole. */
	EXPECT_EQ(apply(s, "\"AccessControl\": {\"Rules\": [{\"Peers\": [\"any\"], \"Protocol\": "
			   "\"Tcp\", \"Ports\": \"22\", \"Direction\": \"Inbound\"}]}"),
		  0);
	EXPECT_VERDICT(s, TC_EGRESS, &reply80, DENY);
	EXPECT_VERDICT(s, TC_INGRESS, &open22, FWD);
	flowmeta__destroy(s);
}

/* A reply with no packet of its opening side since the change passes, judged by its opening. */
static void connection_still_allowed_by_the_new_rules_keeps_its_replies(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {\"Rules\": [{\"Peers\": [\"any\"], "
				       "\"Protocol\": \"Tcp\", \"Ports\": \"22\", \"Direction\": "
				       "\"Inbound\"}]}");
	struct pkt open, reply;

	if (!s)
		return;
	tcp(&open, PEER4, ME4, 40000, 22, TCP_SYN);
	tcp(&reply, ME4, PEER4, 22, 40000, TCP_ACK);
	EXPECT_VERDICT(s, TC_INGRESS, &open, FWD);
	EXPECT_EQ(apply(s, "\"AccessControl\": {\"Rules\": [{\"Peers\": [\"100.64.0.0/24\"], "
			   "\"Protocol\": \"Tcp\", \"Ports\": \"20-25\", \"Direction\": "
			   "\"Inbound\"}, {\"Peers\": [\"any\"], \"Protocol\": \"Icmp\"}]}"),
		  0);
	EXPECT_VERDICT(s, TC_EGRESS, &reply, FWD);
	EXPECT_VERDICT(s, TC_EGRESS, &reply, FWD);
	flowmeta__destroy(s);
}

static void removing_the_policy_returns_to_the_state_without_one(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {\"Rules\": [{\"Peers\": [\"any\"], "
				       "\"Protocol\": \"Udp\"}]}, \"TrustRequirements\": "
				       "{\"UntrustedPeers\": [\"100.64.9.9\"]}");
	struct flowmeta_maps m;
	struct pkt p;
	__u32 zero = 0, id;

	if (!s)
		return;
	m = maps_of(s);
	EXPECT_VERDICT(s, TC_INGRESS, udp(&p, PEER4, ME4, 1, 2), FWD);
	EXPECT_EQ(map_size(m.policy_conns, sizeof(struct policy_conn_key)), 1);
	EXPECT_EQ(map_size(m.policy_peers, sizeof(struct policy_peer_key)), 3);
	EXPECT_EQ(apply(s, ""), 0);
	EXPECT_EQ(bpf_map_lookup_elem(m.policy, &zero, &id), -ENOENT);
	EXPECT_EQ(map_size(m.policy_peers, sizeof(struct policy_peer_key)), 0);
	EXPECT_EQ(map_size(m.policy_conns, sizeof(struct policy_conn_key)), 0);
	EXPECT_VERDICT(s, TC_INGRESS, tcp(&p, "100.64.9.9", ME4, 1, 2, TCP_SYN), FWD);
	flowmeta__destroy(s);
}

/*
 * Two policies whose halves, mixed, would allow what neither allows: A lets 100.64.0.0/24 reach
 * TCP 22, B lets 100.64.1.0/24 reach TCP 80 (both are rule 0). A packet that saw A's header with
 * B's prefixes, or the reverse, would let 100.64.1.2 reach 22 or 100.64.0.2 reach 80. A thread
 * sends those two while the policy is replaced 200 times: neither may ever be forwarded, and the
 * two legitimate ones must each be forwarded under their own policy.
 */
struct swap_ctx {
	struct flowmeta *s;
	atomic_bool stop;
	long runs;
};

static void *swap_sender(void *arg)
{
	struct swap_ctx *c = arg;
	int fd = bpf_program__fd(c->s->progs.flowmeta_tc_ingress);
	LIBBPF_OPTS(bpf_test_run_opts, opts, .repeat = 1);
	static struct pkt p[4];

	tcp(&p[0], "100.64.1.2", ME4, 40000, 22, TCP_SYN);	/* never */
	tcp(&p[1], "100.64.0.2", ME4, 40000, 80, TCP_SYN);	/* never */
	tcp(&p[2], "100.64.0.2", ME4, 40001, 22, TCP_SYN);	/* under A */
	tcp(&p[3], "100.64.1.2", ME4, 40001, 80, TCP_SYN);	/* under B */

	while (!atomic_load(&c->stop)) {
		for (int i = 0; i < 4; i++) {
			opts.data_in = p[i].data;
			opts.data_size_in = p[i].len;
			bpf_prog_test_run_opts(fd, &opts);
			c->runs++;
		}
	}
	return NULL;
}

/* Packets forwarded in the ingress TCP flow src:sport -> this node:dport. */
static uint64_t forwarded_packets(struct flowmeta *s, const char *src, uint16_t sport,
				  uint16_t dport)
{
	struct flow_key k = key_of(4, src, ME4, IPPROTO_TCP, sport, dport, FLOW_DIR_INGRESS);
	struct flow_value percpu[ncpus], v;

	if (!flow_percpu(s, &k, percpu))
		return 0;
	flow_value_fold(percpu, ncpus, &v);
	return v.packets;
}

static void concurrent_replacement_never_mixes_two_generations(void)
{
	static const char *const policies[2] = {
		"\"AccessControl\": {\"Rules\": [{\"Peers\": [\"100.64.0.0/24\"], \"Protocol\": "
		"\"Tcp\", \"Ports\": \"22\", \"Direction\": \"Inbound\"}]}",
		"\"AccessControl\": {\"Rules\": [{\"Peers\": [\"100.64.1.0/24\"], \"Protocol\": "
		"\"Tcp\", \"Ports\": \"80\", \"Direction\": \"Inbound\"}]}",
	};
	struct swap_ctx c = { .s = fx_policy(policies[0]) };
	pthread_t t;
	int failures = 0;

	if (!c.s)
		return;
	if (!EXPECT_EQ(pthread_create(&t, NULL, swap_sender, &c), 0)) {
		flowmeta__destroy(c.s);
		return;
	}
	for (int i = 1; i <= 200; i++)
		failures += apply(c.s, policies[i % 2]) != 0;
	atomic_store(&c.stop, true);
	pthread_join(t, NULL);
	EXPECT_EQ(failures, 0);
	EXPECT_TRUE(c.runs > 200);
	EXPECT_EQ(forwarded_packets(c.s, "100.64.1.2", 40000, 22), 0);
	EXPECT_EQ(forwarded_packets(c.s, "100.64.0.2", 40000, 80), 0);
	EXPECT_TRUE(forwarded_packets(c.s, "100.64.0.2", 40001, 22) > 0);
	EXPECT_TRUE(forwarded_packets(c.s, "100.64.1.2", 40001, 80) > 0);
	flowmeta__destroy(c.s);
}

/* ---- drop accounting -------------------------------------------------------------------------- */

static void drop_counts_are_exact_over_repeated_runs_and_raise_one_event(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {}");
	struct event_sink ev;
	struct flow_value v;
	struct flow_key k;
	struct pkt p;

	if (!s)
		return;
	tcp(&p, PEER4, ME4, 40000, 22, TCP_SYN);
	EXPECT_EQ(run_ctx(s, TC_INGRESS, &p, 1000, NULL), TC_ACT_SHOT);
	EXPECT_EQ(run_ctx(s, TC_INGRESS, &p, 234, NULL), TC_ACT_SHOT);
	if (only_flow(s, &k, &v)) {
		EXPECT_EQ(k.verdict, DENY);
		EXPECT_EQ(v.packets, 1234);
		EXPECT_EQ(v.octets, 1234 * 60);
	}
	EXPECT_EQ(stats_get(s).policy_dropped, 1234);
	EXPECT_EQ(stats_get(s).events_lost, 0);
	ev = events_drain(s);
	EXPECT_EQ(ev.count, 1);
	EXPECT_EQ(ev.last.type, FLOW_EVENT_DROP);
	EXPECT_MEM(&ev.last.key, &k, sizeof(k));
	EXPECT_EQ(ev.last.timestamp_jiffies, v.first_seen_jiffies);
	flowmeta__destroy(s);
}

static void xdp_and_egress_drops_are_counted_like_tc_ingress_ones(void)
{
	struct flowmeta *s = fx_policy("\"TrustRequirements\": {\"UntrustedPeers\": [\"0.0.0.0/0\"]}");
	struct pkt p;

	if (!s)
		return;
	EXPECT_EQ(run_ctx(s, XDP_INGRESS, udp(&p, PEER4, ME4, 1, 2), 300, NULL), XDP_DROP);
	EXPECT_EQ(run_ctx(s, TC_EGRESS, udp(&p, ME4, PEER4, 2, 1), 200, NULL), TC_ACT_SHOT);
	EXPECT_EQ(flow_count(s), 2);
	EXPECT_EQ(stats_get(s).policy_dropped, 500);
	EXPECT_EQ(events_drain(s).drops, 2);
	flowmeta__destroy(s);
}

static void denied_gso_skb_counts_each_segment_as_dropped(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {}");
	struct __sk_buff skb = { .gso_segs = 4, .gso_size = 20 };
	struct flow_value v;
	struct flow_key k;
	struct pkt p;

	if (!s)
		return;
	EXPECT_EQ(run_ctx(s, TC_INGRESS, tcp(&p, PEER4, ME4, 40000, 22, TCP_ACK), 1, &skb),
		  TC_ACT_SHOT);
	if (only_flow(s, &k, &v))
		EXPECT_EQ(v.packets, 4);
	EXPECT_EQ(stats_get(s).policy_dropped, 4);
	flowmeta__destroy(s);
}

/* A denied FIN raises the flow's drop event only: TCP-end events are for forwarded flows. */
static void denied_fin_raises_a_drop_event_and_no_tcp_end_event(void)
{
	struct flowmeta *s = fx_policy("\"AccessControl\": {}");
	struct event_sink ev;
	struct pkt p;

	if (!s)
		return;
	EXPECT_EQ(run_ctx(s, TC_INGRESS, tcp(&p, PEER4, ME4, 40000, 22, TCP_FIN | TCP_ACK), 3, NULL),
		  TC_ACT_SHOT);
	ev = events_drain(s);
	EXPECT_EQ(ev.count, 1);
	EXPECT_EQ(ev.drops, 1);
	flowmeta__destroy(s);
}

static uint64_t drop_window_now(void)
{
	return monotonic_coarse_ns() >> FLOWMETA_DROP_EVENT_WINDOW_SHIFT;
}

/*
 * A flood of new drop flows (spoofed sources) on one CPU: the first FLOWMETA_DROP_EVENTS_PER_WINDOW
 * raise an event, the rest are counted in events_lost; every packet is still counted in its flow
 * and in policy_dropped. A run that straddles a window boundary is retried (the budget renews).
 */
static void drop_events_beyond_the_per_cpu_budget_are_counted_lost(void)
{
	const int n = FLOWMETA_DROP_EVENTS_PER_WINDOW + 88;
	struct flowmeta *s = NULL;
	struct event_sink ev;
	char src[32];
	struct pkt p;

	if (!pin_to_cpu(0))
		SKIP_TEST("cannot pin to CPU 0");
	for (int attempt = 0; attempt < 3; attempt++) {
		uint64_t w0;

		if (s)
			flowmeta__destroy(s);
		s = fx_policy("\"AccessControl\": {}");
		if (!s)
			break;
		w0 = drop_window_now();
		for (int i = 0; i < n; i++) {
			snprintf(src, sizeof(src), "100.64.%d.%d", 1 + i / 250, 1 + i % 250);
			udp(&p, src, ME4, 1000, 53);
			run_ctx(s, TC_INGRESS, &p, 1, NULL);
		}
		if (drop_window_now() == w0)
			break;
	}
	unpin();
	if (!s)
		return;
	EXPECT_EQ(flow_count(s), n);
	EXPECT_EQ(stats_get(s).policy_dropped, n);
	EXPECT_EQ(stats_get(s).events_lost, n - FLOWMETA_DROP_EVENTS_PER_WINDOW);
	ev = events_drain(s);
	EXPECT_EQ(ev.count, FLOWMETA_DROP_EVENTS_PER_WINDOW);
	EXPECT_EQ(ev.drops, FLOWMETA_DROP_EVENTS_PER_WINDOW);
	flowmeta__destroy(s);
}

/* The first drop of a flow on each CPU raises its event (the daemon reads every CPU's share). */
static void first_drop_of_a_flow_on_each_cpu_raises_an_event(void)
{
	struct flowmeta *s;
	struct pkt p;

	udp(&p, PEER4, ME4, 1, 2);
	if (ncpus < 2 || !pin_to_cpu(0))
		SKIP_TEST("needs two CPUs");
	s = fx_policy("\"AccessControl\": {}");
	if (s) {
		run_ctx(s, TC_INGRESS, &p, 5, NULL);
		if (pin_to_cpu(1))
			run_ctx(s, TC_INGRESS, &p, 5, NULL);
		EXPECT_EQ(events_drain(s).drops, 2);
		EXPECT_EQ(stats_get(s).policy_dropped, 10);
		flowmeta__destroy(s);
	}
	unpin();
}

/*
 * Drop flows have a table of their own (`drop_flows`): a flood of denied new flows fills it and
 * never `flows`, where an allowed flow still finds room. Drops it refuses are counted exactly by
 * verdict and direction (drop_table_full_*, and policy_dropped), and raise at most
 * FLOWMETA_TABLE_FULL_EVENTS_PER_WINDOW events per CPU per window (key zeroed). Retried when the
 * run straddles a window boundary.
 */
static void denied_flood_fills_drop_flows_and_never_the_flow_table(void)
{
	const char *policy = "\"AccessControl\": {\"Rules\": [{\"Peers\": [\"any\"], "
			     "\"Protocol\": \"Tcp\", \"Ports\": \"22\", \"Direction\": "
			     "\"Inbound\"}]}, \"TrustRequirements\": {\"UntrustedPeers\": "
			     "[\"100.64.9.0/24\"]}";
	struct flowmeta *s = NULL;
	struct flowmeta_stats st;
	struct event_sink ev;
	char addr[32];
	struct pkt p;

	if (!pin_to_cpu(0))
		SKIP_TEST("cannot pin to CPU 0");
	for (int attempt = 0; attempt < 3; attempt++) {
		uint64_t w0;

		if (s)
			flowmeta__destroy(s);
		s = fx_policy_opts((struct fixture_opts){ .max_flows = 8, .max_drop_flows = 4 },
				   policy);
		if (!s)
			break;
		w0 = drop_window_now();
		/* 4 denied flows fill drop_flows; 3 more, of 2 packets each, find it full. */
		for (int i = 1; i <= 7; i++) {
			snprintf(addr, sizeof(addr), "100.64.1.%d", i);
			run_ctx(s, TC_INGRESS, udp(&p, addr, ME4, 1000, 53), i <= 4 ? 1 : 2, NULL);
		}
		/* 2 untrusted egress flows find it full too. */
		for (int i = 1; i <= 2; i++) {
			snprintf(addr, sizeof(addr), "100.64.9.%d", i);
			run_ctx(s, TC_EGRESS, udp(&p, ME4, addr, 53, 1000), 1, NULL);
		}
		/* A drop flow in the table still counts; an allowed flow finds room. */
		run_ctx(s, TC_INGRESS, udp(&p, "100.64.1.1", ME4, 1000, 53), 1, NULL);
		EXPECT_EQ(run_ctx(s, TC_INGRESS, tcp(&p, PEER4, ME4, 40000, 22, TCP_SYN), 1, NULL),
			  TC_ACT_UNSPEC);
		if (drop_window_now() == w0)
			break;
	}
	unpin();
	if (!s)
		return;
	EXPECT_EQ(map_size(bpf_map__fd(s->maps.drop_flows), sizeof(struct flow_key)), 4);
	EXPECT_EQ(map_size(bpf_map__fd(s->maps.flows), sizeof(struct flow_key)), 1);
	st = stats_get(s);
	EXPECT_EQ(st.drop_table_full_packets[DENY - 1][FLOW_DIR_INGRESS], 6);
	EXPECT_EQ(st.drop_table_full_octets[DENY - 1][FLOW_DIR_INGRESS], 6 * 48);
	EXPECT_EQ(st.drop_table_full_packets[UNTRUSTED - 1][FLOW_DIR_EGRESS], 2);
	EXPECT_EQ(st.drop_table_full_octets[UNTRUSTED - 1][FLOW_DIR_EGRESS], 2 * 48);
	EXPECT_EQ(st.drop_table_full_packets[DENY - 1][FLOW_DIR_EGRESS], 0);
	EXPECT_EQ(st.drop_table_full_packets[UNTRUSTED - 1][FLOW_DIR_INGRESS], 0);
	EXPECT_EQ(st.table_full_packets, 0);
	EXPECT_EQ(st.policy_dropped, 4 + 6 + 2 + 1);
	ev = events_drain(s);
	EXPECT_EQ(ev.drops, 4);
	EXPECT_EQ(ev.drop_table_full, FLOWMETA_TABLE_FULL_EVENTS_PER_WINDOW);
	EXPECT_EQ(ev.table_full, 0);
	EXPECT_EQ(ev.count, 4 + FLOWMETA_TABLE_FULL_EVENTS_PER_WINDOW);
	flowmeta__destroy(s);
}

int main(void)
{
	int status = fx_start("policy_test");

	if (status >= 0)
		return status;

	RUN_TEST(without_policy_every_packet_is_forwarded_and_no_policy_state_is_kept);
	RUN_TEST(access_control_disabled_enforces_no_rule);
	RUN_TEST(access_control_without_rules_denies_everything);
	RUN_TEST(tcp_rule_with_one_port_allows_that_port_only);
	RUN_TEST(port_range_includes_both_bounds);
	RUN_TEST(udp_rule_allows_udp_and_not_tcp);
	RUN_TEST(icmp_rule_allows_icmpv4_and_icmpv6_only);
	RUN_TEST(any_protocol_rule_allows_every_protocol_and_port);
	RUN_TEST(inbound_rule_lets_the_peer_open_and_not_this_node);
	RUN_TEST(outbound_rule_lets_this_node_open_and_not_the_peer);
	RUN_TEST(both_directions_rule_lets_either_side_open);
	RUN_TEST(ipv4_peer_prefix_limits_the_rule_to_its_peers);
	RUN_TEST(ipv6_peer_prefix_limits_the_rule_to_its_peers);
	RUN_TEST(any_peer_covers_ipv4_and_ipv6);
	RUN_TEST(peer_inside_nested_prefixes_gets_the_rules_of_each);
	RUN_TEST(each_of_256_port_rules_allows_its_own_port);
	RUN_TEST(reply_of_an_allowed_tcp_connection_passes_and_unsolicited_reverse_is_denied);
	RUN_TEST(reply_of_an_allowed_udp_exchange_passes);
	RUN_TEST(echo_reply_passes_only_for_an_echo_request_allowed_the_other_way);
	RUN_TEST(icmp_error_is_not_admitted_through_a_tcp_connection);
	RUN_TEST(ipv6_neighbour_discovery_passes_the_rules);
	RUN_TEST(untrusted_peer_is_dropped_both_ways_whatever_the_rules_allow);
	RUN_TEST(untrusted_peers_are_dropped_without_access_control);
	RUN_TEST(untrusted_prefix_wins_over_longer_and_shorter_rule_prefixes);
	RUN_TEST(connection_of_a_peer_made_untrusted_is_dropped);
	RUN_TEST(later_fragments_are_judged_with_the_ports_of_their_first);
	RUN_TEST(denied_duplicate_first_fragment_never_changes_the_allowed_datagram);
	RUN_TEST(later_fragment_of_a_dropped_first_fragment_is_dropped_in_its_flow);
	RUN_TEST(orphan_later_fragment_never_matches_a_port_range);
	RUN_TEST(truncated_transport_header_never_matches_a_port_range);
	RUN_TEST(ipv6_extension_headers_are_walked_to_the_ports_the_rules_check);
	RUN_TEST(tcp_behind_a_long_extension_chain_is_judged_by_its_real_port);
	RUN_TEST(vlan_tag_stacks_are_judged_as_the_packet_inside);
	RUN_TEST(malformed_frames_are_dropped_while_a_policy_is_in_force);
	RUN_TEST(unparseable_frames_are_dropped_while_a_policy_is_in_force);
	RUN_TEST(ipv4_mapped_peer_is_judged_as_its_ipv4_address);
	RUN_TEST(ipv4_mapped_peer_in_an_untrusted_ipv6_prefix_is_untrusted);
	RUN_TEST(replacement_puts_the_new_rules_in_force_and_stops_the_old_connections);
	RUN_TEST(connection_still_allowed_by_the_new_rules_keeps_its_replies);
	RUN_TEST(removing_the_policy_returns_to_the_state_without_one);
	RUN_TEST(concurrent_replacement_never_mixes_two_generations);
	RUN_TEST(drop_counts_are_exact_over_repeated_runs_and_raise_one_event);
	RUN_TEST(xdp_and_egress_drops_are_counted_like_tc_ingress_ones);
	RUN_TEST(denied_gso_skb_counts_each_segment_as_dropped);
	RUN_TEST(denied_fin_raises_a_drop_event_and_no_tcp_end_event);
	RUN_TEST(drop_events_beyond_the_per_cpu_budget_are_counted_lost);
	RUN_TEST(first_drop_of_a_flow_on_each_cpu_raises_an_event);
	RUN_TEST(denied_flood_fills_drop_flows_and_never_the_flow_table);
	return check_exit_status();
}
