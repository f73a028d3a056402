// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * policy_compile(): what a configuration becomes before it reaches the kernel. One trie entry
 * per distinct prefix ("any" is both families' /0), each carrying the union of every prefix of
 * the policy that contains it; rule directions and protocols land in the right (direction, class)
 * slots; port ranges go to the header; nothing at all when there is nothing to enforce.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "policy.h"

static struct config *cfg;

/* Load FlowMetadata members over the defaults and compile them into img. */
static int compile(const char *members, struct policy_image *img)
{
	char *doc = NULL, err[CONFIG_ERR_LEN] = "";
	int ret;

	config_defaults(cfg);
	if (asprintf(&doc, "{\"FlowMetadata\": {%s}}", members) < 0)
		return -ENOMEM;
	ret = config_load_string(cfg, doc, err, sizeof(err));
	free(doc);
	if (!EXPECT_EQ(ret, 0)) {
		printf("     config: %s\n", err);
		return ret;
	}
	return policy_compile(&cfg->policy, img);
}

/* The entry of exactly this prefix ("ADDRESS/LEN"), or NULL. */
static const struct policy_peer *entry(const struct policy_image *img, int version,
				       const char *addr, unsigned int len)
{
	uint8_t a[16] = { 0 };

	if (inet_pton(version == 4 ? AF_INET : AF_INET6, addr, a) != 1)
		return NULL;
	for (size_t i = 0; i < img->n_entries; i++) {
		const struct policy_peer_key *k = &img->entries[i].key;

		if (k->ip_version == version && k->prefixlen == POLICY_PEER_KEY_BITS + len &&
		    !memcmp(k->addr, a, sizeof(a)))
			return &img->entries[i].value;
	}
	return NULL;
}

static unsigned int all_bit(int dir, int class)
{
	return 1U << (dir * POLICY_CLASSES + class);
}

static void nothing_to_enforce_compiles_to_an_inactive_image(void)
{
	struct policy_image img;

	if (compile("\"AccessControl\": {\"Enabled\": false, \"Rules\": [{\"Peers\": [\"any\"]}]}",
		    &img))
		return;
	EXPECT_TRUE(!img.active);
	EXPECT_EQ(img.n_entries, 0);
	policy_image_free(&img);
}

static void any_peer_is_the_zero_prefix_of_both_families(void)
{
	struct policy_image img;
	const struct policy_peer *v4, *v6;

	if (compile("\"AccessControl\": {\"Rules\": [{\"Peers\": [\"any\"], \"Protocol\": "
		    "\"Icmp\", \"Direction\": \"Outbound\"}]}", &img))
		return;
	EXPECT_TRUE(img.active);
	EXPECT_EQ(img.header.flags, POLICY_F_ACL);
	EXPECT_EQ(img.n_entries, 2);
	v4 = entry(&img, 4, "0.0.0.0", 0);
	v6 = entry(&img, 6, "::", 0);
	if (EXPECT_TRUE(v4 && v6)) {
		EXPECT_EQ(v4->allow_all, all_bit(FLOW_DIR_EGRESS, POLICY_CLASS_ICMP));
		EXPECT_MEM(v4, v6, sizeof(*v4));
	}
	policy_image_free(&img);
}

static void protocols_and_directions_fill_their_slots(void)
{
	struct policy_image img;
	const struct policy_peer *v;

	if (compile("\"AccessControl\": {\"Rules\": ["
		    "{\"Peers\": [\"100.64.0.2\"], \"Protocol\": \"Any\", \"Direction\": \"Inbound\"},"
		    "{\"Peers\": [\"100.64.0.2\"], \"Protocol\": \"Tcp\", \"Ports\": \"22\"},"
		    "{\"Peers\": [\"100.64.0.2\"], \"Protocol\": \"Udp\", \"Ports\": \"0-65535\", "
		    "\"Direction\": \"Outbound\"}]}", &img))
		return;
	EXPECT_EQ(img.n_entries, 1);
	v = entry(&img, 4, "100.64.0.2", 32);
	if (EXPECT_TRUE(v != NULL)) {
		/* Any inbound: every class of ingress; Udp with the full range: all egress UDP. */
		EXPECT_EQ(v->allow_all, all_bit(FLOW_DIR_INGRESS, POLICY_CLASS_TCP) |
					all_bit(FLOW_DIR_INGRESS, POLICY_CLASS_UDP) |
					all_bit(FLOW_DIR_INGRESS, POLICY_CLASS_ICMP) |
					all_bit(FLOW_DIR_INGRESS, POLICY_CLASS_OTHER) |
					all_bit(FLOW_DIR_EGRESS, POLICY_CLASS_UDP));
		/* Tcp 22, both directions: rule 1 in the TCP bitmaps of either direction. */
		EXPECT_EQ(v->port_rules[FLOW_DIR_INGRESS][POLICY_CLASS_TCP][0], 1ULL << 1);
		EXPECT_EQ(v->port_rules[FLOW_DIR_EGRESS][POLICY_CLASS_TCP][0], 1ULL << 1);
		EXPECT_EQ(v->port_rules[FLOW_DIR_INGRESS][POLICY_CLASS_UDP][0], 0);
		EXPECT_EQ(v->port_rules[FLOW_DIR_EGRESS][POLICY_CLASS_UDP][0], 0);
		EXPECT_TRUE(!v->untrusted);
	}
	EXPECT_EQ(img.header.ports[1].min, 22);
	EXPECT_EQ(img.header.ports[1].max, 22);
	policy_image_free(&img);
}

static void nested_prefixes_carry_the_union_of_their_containers(void)
{
	struct policy_image img;
	const struct policy_peer *p16, *p24, *p32, *other;

	if (compile("\"AccessControl\": {\"Rules\": ["
		    "{\"Peers\": [\"100.64.0.0/16\"], \"Protocol\": \"Tcp\", \"Ports\": \"22\"},"
		    "{\"Peers\": [\"100.64.0.0/24\", \"100.65.0.0/24\"], \"Protocol\": \"Udp\", "
		    "\"Ports\": \"53\"},"
		    "{\"Peers\": [\"100.64.0.7\"], \"Protocol\": \"Icmp\"}]}, "
		    "\"TrustRequirements\": {\"UntrustedPeers\": [\"100.64.0.0/23\"]}", &img))
		return;
	EXPECT_EQ(img.n_entries, 5);
	p16 = entry(&img, 4, "100.64.0.0", 16);
	p24 = entry(&img, 4, "100.64.0.0", 24);
	p32 = entry(&img, 4, "100.64.0.7", 32);
	other = entry(&img, 4, "100.65.0.0", 24);
	if (!EXPECT_TRUE(p16 && p24 && p32 && other))
		goto out;
	EXPECT_EQ(p16->port_rules[0][POLICY_CLASS_TCP][0], 1);
	EXPECT_EQ(p16->port_rules[0][POLICY_CLASS_UDP][0], 0);
	EXPECT_TRUE(!p16->untrusted);
	EXPECT_EQ(p24->port_rules[0][POLICY_CLASS_TCP][0], 1);
	EXPECT_EQ(p24->port_rules[0][POLICY_CLASS_UDP][0], 2);
	EXPECT_TRUE(p24->untrusted);	/* inside the untrusted /23 */
	EXPECT_EQ(p32->port_rules[1][POLICY_CLASS_TCP][0], 1);
	EXPECT_EQ(p32->port_rules[1][POLICY_CLASS_UDP][0], 2);
	EXPECT_EQ(p32->allow_all, all_bit(0, POLICY_CLASS_ICMP) | all_bit(1, POLICY_CLASS_ICMP));
	EXPECT_TRUE(p32->untrusted);
	EXPECT_EQ(other->port_rules[0][POLICY_CLASS_TCP][0], 0);
	EXPECT_EQ(other->port_rules[0][POLICY_CLASS_UDP][0], 2);
	EXPECT_TRUE(!other->untrusted);
out:
	policy_image_free(&img);
}

static void a_prefix_named_twice_is_one_entry(void)
{
	struct policy_image img;
	const struct policy_peer *v;

	if (compile("\"AccessControl\": {\"Rules\": ["
		    "{\"Peers\": [\"fd00::/8\", \"fd00::/8\"], \"Protocol\": \"Tcp\", \"Ports\": \"80\"},"
		    "{\"Peers\": [\"fd00::/8\"], \"Protocol\": \"Tcp\", \"Ports\": \"443\"}]}, "
		    "\"TrustRequirements\": {\"UntrustedPeers\": [\"fd00::/8\"]}", &img))
		return;
	EXPECT_EQ(img.n_entries, 1);
	v = entry(&img, 6, "fd00::", 8);
	if (EXPECT_TRUE(v != NULL)) {
		EXPECT_EQ(v->port_rules[0][POLICY_CLASS_TCP][0], 3);
		EXPECT_TRUE(v->untrusted);
	}
	policy_image_free(&img);
}

static void untrusted_peers_alone_make_an_active_policy_without_access_control(void)
{
	struct policy_image img;
	const struct policy_peer *v;

	if (compile("\"TrustRequirements\": {\"UntrustedPeers\": [\"100.64.9.7\"]}", &img))
		return;
	EXPECT_TRUE(img.active);
	EXPECT_EQ(img.header.flags, 0);
	EXPECT_EQ(img.n_entries, 1);
	v = entry(&img, 4, "100.64.9.7", 32);
	if (EXPECT_TRUE(v != NULL)) {
		EXPECT_TRUE(v->untrusted);
		EXPECT_EQ(v->allow_all, 0);
	}
	policy_image_free(&img);
}

static void the_256th_rule_index_255_fills_the_last_bit_of_the_bitmaps(void)
{
	struct policy_config *pc = &cfg->policy;
	struct policy_image img;

	config_defaults(cfg);
	pc->acl_enabled = true;
	pc->n_rules = CONFIG_MAX_RULES;
	for (size_t i = 0; i < pc->n_rules; i++) {
		struct acl_rule *r = &pc->rules[i];

		memset(r, 0, sizeof(*r));
		r->n_peers = 1;
		r->peers[0].ip_version = 4;
		r->peers[0].len = 32;
		r->peers[0].addr[3] = 1;
		r->protocol = RULE_PROTO_UDP;
		r->port_min = r->port_max = (uint16_t)(1000 + i);
		r->direction = RULE_DIR_INBOUND;
	}
	if (!EXPECT_EQ(policy_compile(pc, &img), 0))
		return;
	EXPECT_EQ(img.n_entries, 1);
	for (int w = 0; w < FLOWMETA_POLICY_MAX_RULES / 64; w++)
		EXPECT_EQ(img.entries[0].value.port_rules[0][POLICY_CLASS_UDP][w], ~0ULL);
	EXPECT_EQ(img.header.ports[255].min, 1255);
	policy_image_free(&img);
}

int main(void)
{
	cfg = malloc(sizeof(*cfg));
	if (!cfg)
		return 1;
	RUN_TEST(nothing_to_enforce_compiles_to_an_inactive_image);
	RUN_TEST(any_peer_is_the_zero_prefix_of_both_families);
	RUN_TEST(protocols_and_directions_fill_their_slots);
	RUN_TEST(nested_prefixes_carry_the_union_of_their_containers);
	RUN_TEST(a_prefix_named_twice_is_one_entry);
	RUN_TEST(untrusted_peers_alone_make_an_active_policy_without_access_control);
	RUN_TEST(the_256th_rule_index_255_fills_the_last_bit_of_the_bitmaps);
	free(cfg);
	return check_exit_status();
}
