// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The stream state file (user/streamstate.c): what a clean stop writes is what the next start
 * reads, every field; a missing file and a file of something else are told apart; the paths of
 * two instances never meet.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "streamstate.h"

static char dir[] = "/tmp/fm-streamstate-XXXXXX";

static struct journal_collector entry(int family, const char *addr, const char *local,
				      uint16_t port, uint32_t seq)
{
	struct journal_collector e = { .family = (uint8_t)family, .port = port,
				       .local_port = (uint16_t)(port + 1000),
				       .observation_domain_id = 1681915905, .seq = seq };

	inet_pton(family, addr, e.addr);
	inet_pton(family, local, e.local_addr);
	e.cnt.messages = seq + 1;
	e.cnt.records = seq;
	e.cnt.flow_records = 7;
	e.cnt.octets = 123456789012ULL;
	e.cnt.template_messages = 3;
	e.cnt.send_errors = 4;
	e.cnt.not_sent_flows = 5;
	e.cnt.not_sent_packets = 6;
	e.cnt.not_sent_octets = 7;
	e.cnt.refused = 8;
	e.cnt.refused_unquoted = 9;
	return e;
}

static void what_a_stop_saves_the_next_start_reads_field_by_field(void)
{
	struct journal_collector in[2], out[4];
	char path[256];

	snprintf(path, sizeof(path), "%s/a.streams", dir);
	in[0] = entry(AF_INET, "127.0.0.1", "127.0.0.1", 4739, 4294967290U);
	in[1] = entry(AF_INET6, "2001:db8::5", "2001:db8::1", 4740, 12);
	EXPECT_EQ(streamstate_save(path, in, 2), 0);
	EXPECT_EQ(streamstate_load(path, out, 4), 2);
	for (int i = 0; i < 2; i++) {
		EXPECT_EQ(out[i].family, in[i].family);
		EXPECT_MEM(out[i].addr, in[i].addr, 16);
		EXPECT_MEM(out[i].local_addr, in[i].local_addr, 16);
		EXPECT_EQ(out[i].port, in[i].port);
		EXPECT_EQ(out[i].local_port, in[i].local_port);
		EXPECT_EQ(out[i].observation_domain_id, in[i].observation_domain_id);
		EXPECT_EQ(out[i].seq, in[i].seq);
		EXPECT_MEM(&out[i].cnt, &in[i].cnt, sizeof(in[i].cnt));
	}
	EXPECT_EQ(streamstate_load(path, out, 1), 1);	/* no more than asked */
	unlink(path);
}

static void a_missing_file_and_a_foreign_one_are_told_apart(void)
{
	struct journal_collector out[2];
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/none.streams", dir);
	EXPECT_EQ(streamstate_load(path, out, 2), -ENOENT);
	f = fopen(path, "w");
	fputs("{\"version\": 99, \"streams\": []}\n", f);
	fclose(f);
	EXPECT_EQ(streamstate_load(path, out, 2), -EINVAL);
	f = fopen(path, "w");
	fputs("not json", f);
	fclose(f);
	EXPECT_EQ(streamstate_load(path, out, 2), -EINVAL);
	f = fopen(path, "w");
	fputs("{\"version\": 1, \"streams\": [{\"address\": \"nowhere\", \"port\": 1}]}\n", f);
	fclose(f);
	EXPECT_EQ(streamstate_load(path, out, 2), -EINVAL);
	unlink(path);
}

static void each_pin_directory_has_a_file_of_its_own(void)
{
	char a[256], b[256], c[256];

	EXPECT_EQ(streamstate_path("wg0", NULL, a, sizeof(a)), 0);
	EXPECT_STR(a, "/var/lib/flowmeta/wg0.streams");
	EXPECT_EQ(streamstate_path("wg0", "/sys/fs/bpf/ns1/wg0", b, sizeof(b)), 0);
	EXPECT_STR(b, "/var/lib/flowmeta/sys_fs_bpf_ns1_wg0.streams");
	EXPECT_EQ(streamstate_path("wg0", "/sys/fs/bpf/ns2/wg0", c, sizeof(c)), 0);
	EXPECT_TRUE(strcmp(b, c) != 0);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		printf("FAIL streamstate_test: mkdtemp\n");
		return 1;
	}
	RUN_TEST(what_a_stop_saves_the_next_start_reads_field_by_field);
	RUN_TEST(a_missing_file_and_a_foreign_one_are_told_apart);
	RUN_TEST(each_pin_directory_has_a_file_of_its_own);
	rmdir(dir);
	return check_exit_status();
}
