// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Policy: compile a struct policy_config into map contents and install it (SPEC §6).
 *
 * Compiling. Every peer prefix named by a rule ("any": 0.0.0.0/0 and ::/0) or by UntrustedPeers
 * becomes one entry of the LPM trie `policy_peers`. An entry's value is the union of what every
 * prefix of the policy containing it says (untrusted; per direction and protocol class, the rules
 * that allow all ports, and the bitmap of the rules with a port range): the trie returns only the
 * longest match, so the union over the shorter prefixes is folded in here. The port ranges live in
 * the generation's header, indexed by rule. Rule direction maps onto the direction of the packet
 * that opens a connection: Inbound = an ingress packet from the peer to the rule's ports, Outbound
 * = an egress packet to the peer's ports, Both = either.
 *
 * Installing atomically. Two generations share the maps: the trie's keys carry a slot (generation
 * & 1), and the generation in force is the inner map of the outer array-of-maps `policy`, a
 * one-element array holding its header (number, flags, port ranges). A packet reads the outer map
 * once, so it sees one header, and through its slot one set of prefixes: never half of two. An
 * update writes the unused slot, which no program reads, then creates the new header map and puts
 * it in the outer map: one pointer exchange. The kernel returns from that update only after a
 * synchronize_rcu() (maybe_wait_bpf_programs(), for map-in-map updates), so once it returns no
 * program still runs with the old header, and the old slot may be rewritten by the next update. An
 * update that fails before the exchange leaves the old generation in force untouched.
 *
 * Remembered connections carry the generation that allowed them; under a newer one the kernel
 * judges a connection again by its opening packet at its next packet, so a connection whose rule
 * was removed is dropped from then on, and one still allowed carries on without a gap. With no
 * policy at all the outer map is emptied (the programs then skip the policy entirely), and the
 * trie and the connections are cleared. The first generation after that starts from a random
 * number, so that no connection left behind by a daemon that died half-way can pass for current.
 */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "bpfmap.h"
#include "log.h"
#include "policy.h"

_Static_assert(CONFIG_MAX_RULES <= FLOWMETA_POLICY_MAX_RULES, "a rule index must fit the bitmaps");

#define POLICY_MAX_PREFIX_LEN	128	/* bits: IPv6 */
_Static_assert(CONFIG_MAX_RULES * CONFIG_MAX_PEERS + CONFIG_MAX_PEERS + 2 <=
		       FLOWMETA_POLICY_MAX_PREFIXES,
	       "every prefix of a valid configuration must fit one slot of policy_peers");

/* ---- compiling ------------------------------------------------------------------------------ */

static void peer_or(struct policy_peer *dst, const struct policy_peer *src)
{
	dst->untrusted |= src->untrusted;
	dst->allow_all |= src->allow_all;
	for (int d = 0; d < 2; d++)
		for (int c = 0; c < 2; c++)
			for (int w = 0; w < FLOWMETA_POLICY_MAX_RULES / 64; w++)
				dst->port_rules[d][c][w] |= src->port_rules[d][c][w];
}

/* What rule number idx allows to any peer inside one of its prefixes. */
static void rule_contribution(const struct acl_rule *r, unsigned int idx, struct policy_peer *out)
{
	static const uint8_t classes[][POLICY_CLASSES + 1] = {
		[RULE_PROTO_ANY] = { POLICY_CLASS_TCP, POLICY_CLASS_UDP, POLICY_CLASS_ICMP,
				     POLICY_CLASS_OTHER, POLICY_CLASSES },
		[RULE_PROTO_TCP] = { POLICY_CLASS_TCP, POLICY_CLASSES },
		[RULE_PROTO_UDP] = { POLICY_CLASS_UDP, POLICY_CLASSES },
		[RULE_PROTO_ICMP] = { POLICY_CLASS_ICMP, POLICY_CLASSES },
	};
	bool all_ports = r->port_min == 0 && r->port_max == 65535;

	memset(out, 0, sizeof(*out));
	for (int dir = FLOW_DIR_INGRESS; dir <= FLOW_DIR_EGRESS; dir++) {
		if ((r->direction == RULE_DIR_INBOUND && dir != FLOW_DIR_INGRESS) ||
		    (r->direction == RULE_DIR_OUTBOUND && dir != FLOW_DIR_EGRESS))
			continue;
		for (const uint8_t *c = classes[r->protocol]; *c != POLICY_CLASSES; c++) {
			if (*c <= POLICY_CLASS_UDP && !all_ports)
				out->port_rules[dir][*c][idx / 64] |= 1ULL << (idx % 64);
			else
				out->allow_all |= 1U << (dir * POLICY_CLASSES + *c);
		}
	}
}

/* The documented order of an image: IP version, prefix length, address. */
static int entry_cmp(const void *a, const void *b)
{
	const struct policy_peer_key *x = &((const struct policy_entry *)a)->key;
	const struct policy_peer_key *y = &((const struct policy_entry *)b)->key;

	if (x->ip_version != y->ip_version)
		return x->ip_version < y->ip_version ? -1 : 1;
	if (x->prefixlen != y->prefixlen)
		return x->prefixlen < y->prefixlen ? -1 : 1;
	return memcmp(x->addr, y->addr, sizeof(x->addr));
}

/*
 * The folding order: IP version, address, then prefix length. Host bits are zero, so a prefix
 * comes before every prefix it contains, and those follow it without a gap: from it up to the
 * first prefix it does not contain, every one is inside it.
 */
static int entry_cmp_addr(const void *a, const void *b)
{
	const struct policy_peer_key *x = &((const struct policy_entry *)a)->key;
	const struct policy_peer_key *y = &((const struct policy_entry *)b)->key;
	int c;

	if (x->ip_version != y->ip_version)
		return x->ip_version < y->ip_version ? -1 : 1;
	c = memcmp(x->addr, y->addr, sizeof(x->addr));
	if (c)
		return c;
	return x->prefixlen < y->prefixlen ? -1 : x->prefixlen > y->prefixlen;
}

/* Whether prefix outer contains prefix inner (same IP version). */
static bool prefix_contains(const struct policy_peer_key *outer,
			    const struct policy_peer_key *inner)
{
	unsigned int len = outer->prefixlen - POLICY_PEER_KEY_BITS, bytes = len / 8, bits = len % 8;

	if (outer->ip_version != inner->ip_version || outer->prefixlen > inner->prefixlen)
		return false;
	if (memcmp(outer->addr, inner->addr, bytes))
		return false;
	return !bits || !((outer->addr[bytes] ^ inner->addr[bytes]) & (0xff << (8 - bits)));
}

static void entry_add(struct policy_image *img, unsigned int version, const uint8_t *addr,
		      unsigned int len, const struct policy_peer *own)
{
	struct policy_entry *e = &img->entries[img->n_entries++];

	memset(e, 0, sizeof(*e));
	e->key.prefixlen = POLICY_PEER_KEY_BITS + len;
	e->key.ip_version = version;
	memcpy(e->key.addr, addr, sizeof(e->key.addr));
	e->value = *own;
}

static void prefix_add(struct policy_image *img, const struct prefix *p,
		       const struct policy_peer *own)
{
	if (p->ip_version) {
		entry_add(img, p->ip_version, p->addr, p->len, own);
		return;
	}
	entry_add(img, 4, p->addr, 0, own);	/* "any": all zero */
	entry_add(img, 6, p->addr, 0, own);
}

/*
 * Merge equal prefixes, then fold into each one what the prefixes containing it say; leave the
 * entries in the documented order. In the folding order the prefixes containing an entry are the
 * stack of open containers: pop those that do not contain it (nor anything after it), and the top,
 * already folded, holds what all the others say. O(n log n): comparing every pair instead took
 * 0.35 s for the largest configuration (256 rules of 64 peers), blocking the loop on SIGHUP.
 */
static int fold_entries(struct policy_image *img)
{
	/* Each container is longer than the one below it: at most 129 deep. */
	size_t stack[POLICY_MAX_PREFIX_LEN + 1], depth = 0, n = 0;

	qsort(img->entries, img->n_entries, sizeof(img->entries[0]), entry_cmp_addr);
	for (size_t i = 0; i < img->n_entries; i++) {
		if (n && !entry_cmp_addr(&img->entries[n - 1], &img->entries[i]))
			peer_or(&img->entries[n - 1].value, &img->entries[i].value);
		else
			img->entries[n++] = img->entries[i];
	}
	img->n_entries = n;
	if (n > FLOWMETA_POLICY_MAX_PREFIXES)
		return -E2BIG;

	for (size_t i = 0; i < n; i++) {
		struct policy_entry *e = &img->entries[i];

		while (depth && !prefix_contains(&img->entries[stack[depth - 1]].key, &e->key))
			depth--;
		if (depth)
			peer_or(&e->value, &img->entries[stack[depth - 1]].value);
		stack[depth++] = i;
	}
	qsort(img->entries, n, sizeof(img->entries[0]), entry_cmp);
	return 0;
}

int policy_compile(const struct policy_config *pc, struct policy_image *img)
{
	size_t max = pc->n_untrusted * 2;
	struct policy_peer own;
	int err;

	memset(img, 0, sizeof(*img));
	img->active = pc->acl_enabled || pc->n_untrusted;
	if (!img->active)
		return 0;
	if (pc->n_rules > FLOWMETA_POLICY_MAX_RULES)
		return -E2BIG;
	if (pc->acl_enabled) {
		img->header.flags |= POLICY_F_ACL;
		for (size_t i = 0; i < pc->n_rules; i++)
			max += pc->rules[i].n_peers * 2;
	}
	img->entries = calloc(max + 1, sizeof(*img->entries));
	if (!img->entries)
		return -ENOMEM;

	for (size_t i = 0; pc->acl_enabled && i < pc->n_rules; i++) {
		const struct acl_rule *r = &pc->rules[i];

		img->header.ports[i].min = r->port_min;
		img->header.ports[i].max = r->port_max;
		rule_contribution(r, i, &own);
		for (size_t j = 0; j < r->n_peers; j++)
			prefix_add(img, &r->peers[j], &own);
	}
	memset(&own, 0, sizeof(own));
	own.untrusted = 1;
	for (size_t i = 0; i < pc->n_untrusted; i++)
		prefix_add(img, &pc->untrusted[i], &own);

	err = fold_entries(img);
	if (err)
		policy_image_free(img);
	return err;
}

void policy_image_free(struct policy_image *img)
{
	free(img->entries);
	img->entries = NULL;
	img->n_entries = 0;
}

/* ---- installing ----------------------------------------------------------------------------- */

/* The generation in force: 1 and *gen, 0 when there is no policy, or -errno. */
static int current_gen(int outer_fd, uint32_t *gen)
{
	struct policy_header hdr;
	uint32_t zero = 0, id;
	int fd, err;

	if (bpf_map_lookup_elem(outer_fd, &zero, &id))
		return errno == ENOENT ? 0 : -errno;
	fd = bpf_map_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	err = bpf_map_lookup_elem(fd, &zero, &hdr) ? -errno : 1;
	close(fd);
	*gen = hdr.gen;
	return err;
}

/* A generation number no earlier policy on these maps is likely to have used. */
static uint32_t fresh_gen(void)
{
	uint32_t g;

	if (getrandom(&g, sizeof(g), GRND_NONBLOCK) != sizeof(g))
		g = (uint32_t)time(NULL) ^ (uint32_t)getpid() << 16;
	return g;
}

static bool other_slot(const void *key, const void *slot)
{
	return ((const struct policy_peer_key *)key)->slot != *(const uint32_t *)slot;
}

/*
 * A one-element array holding hdr, to become the inner map of `policy`. It takes the BTF of the
 * programs' object, where the outer map was declared, so `bpftool map dump` shows named fields.
 */
static int header_map_create(int outer_fd, const struct policy_header *hdr)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info), zero = 0;
	struct btf *btf = NULL;
	int fd, btf_fd = -1, err = 0;

	if (!bpf_obj_get_info_by_fd(outer_fd, &info, &len) && info.btf_id) {
		btf = btf__load_from_kernel_by_id(info.btf_id);
		btf_fd = bpf_btf_get_fd_by_id(info.btf_id);
	}
	if (btf && btf_fd >= 0) {
		int key_id = btf__find_by_name_kind(btf, "__u32", BTF_KIND_TYPEDEF);
		int value_id = btf__find_by_name_kind(btf, "policy_header", BTF_KIND_STRUCT);

		if (key_id > 0 && value_id > 0) {
			opts.btf_fd = btf_fd;
			opts.btf_key_type_id = key_id;
			opts.btf_value_type_id = value_id;
		}
	}
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "policy_header", sizeof(zero), sizeof(*hdr), 1,
			    &opts);
	if (fd < 0 && opts.btf_fd) {
		LIBBPF_OPTS(bpf_map_create_opts, plain);

		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "policy_header", sizeof(zero),
				    sizeof(*hdr), 1, &plain);
	}
	if (fd < 0)
		err = -errno;
	else if (bpf_map_update_elem(fd, &zero, hdr, BPF_ANY))
		err = -errno;
	if (btf_fd >= 0)
		close(btf_fd);
	btf__free(btf);
	if (err && fd >= 0)
		close(fd);
	return err ? err : fd;
}

static int install(const struct flowmeta_maps *maps, struct policy_image *img, const char **what)
{
	uint32_t cur = 0, zero = 0, slot;
	int have, fd, err;

	*what = "read the policy in force";
	have = current_gen(maps->policy, &cur);
	if (have < 0)
		return have;
	img->header.gen = have ? cur + 1 : fresh_gen();
	slot = img->header.gen & 1;

	*what = "clear the unused half of policy_peers";
	err = bpfmap_delete_keys(maps->policy_peers, other_slot, &slot);
	if (err)
		return err;
	*what = "write policy_peers";
	for (size_t i = 0; i < img->n_entries; i++) {
		img->entries[i].key.slot = slot;
		if (bpf_map_update_elem(maps->policy_peers, &img->entries[i].key,
					&img->entries[i].value, BPF_ANY))
			return -errno;
	}
	*what = "create the policy header";
	fd = header_map_create(maps->policy, &img->header);
	if (fd < 0)
		return fd;
	*what = "put the new generation in force";
	err = bpf_map_update_elem(maps->policy, &zero, &fd, BPF_ANY) ? -errno : 0;
	close(fd);
	return err;
}

/* No policy: empty the outer map (the programs skip the policy), then the trie and connections. */
static int remove_policy(const struct flowmeta_maps *maps, bool *was, bool *removed,
			 const char **what)
{
	uint32_t zero = 0, cur;
	int have, err;

	*what = "read the policy in force";
	have = current_gen(maps->policy, &cur);
	if (have < 0)
		return have;
	*was = have;
	*what = "remove the policy in force";
	if (have && bpf_map_delete_elem(maps->policy, &zero) && errno != ENOENT)
		return -errno;
	*removed = true;
	*what = "clear policy_peers";
	err = bpfmap_delete_keys(maps->policy_peers, NULL, NULL);
	if (err)
		return err;
	*what = "clear policy_conns";
	return bpfmap_delete_keys(maps->policy_conns, NULL, NULL);
}

int policy_apply(const struct flowmeta_maps *maps, const struct policy_config *pc)
{
	const char *what = "compile the policy";
	struct policy_image img;
	bool was = false, removed = false;
	int err;

	err = policy_compile(pc, &img);
	if (!err && img.active)
		err = install(maps, &img, &what);
	else if (!err)
		err = remove_policy(maps, &was, &removed, &what);
	if (err && removed) {
		log_warnx("policy: none in force any more, but %s: %s", what, strerror(-err));
	} else if (err) {
		log_warnx("policy: %s: %s; the previous policy stays in force", what,
			  strerror(-err));
	} else if (img.active) {
		log_info("policy: generation %u in force: access control %s (%zu rule(s)), %zu "
			 "untrusted peer prefix(es), %zu peer prefix(es) in the kernel",
			 img.header.gen, pc->acl_enabled ? "on" : "off",
			 pc->acl_enabled ? pc->n_rules : 0, pc->n_untrusted, img.n_entries);
	} else if (was) {
		log_info("policy: none in force any more (no AccessControl enabled, no "
			 "UntrustedPeers)");
	}
	policy_image_free(&img);
	return err;
}
