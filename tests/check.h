/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A tiny test harness for the C test programs. Each test case is a function; RUN_TEST() runs it and
 * prints one line "PASS name" or "FAIL name: file:line: what differed", which tests/run.sh counts.
 * SKIP_TEST() inside a case prints "SKIP name: why" (a missing kernel feature, not a failure).
 */
#ifndef FLOWMETA_CHECK_H
#define FLOWMETA_CHECK_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char *check_case;
static int check_case_failed, check_case_skipped, check_failures;

static inline void check_fail_line(const char *file, int line, const char *what)
{
	if (!check_case_failed)
		printf("FAIL %s: %s:%d: %s\n", check_case, file, line, what);
	else
		printf("     %s:%d: %s\n", file, line, what);
	check_case_failed = 1;
}

static inline int check_u64(const char *file, int line, const char *expr_a, const char *expr_b,
			    uint64_t a, uint64_t b)
{
	char what[512];

	if (a == b)
		return 1;
	snprintf(what, sizeof(what), "%s == %s: got %" PRIu64 " (0x%" PRIx64 "), want %" PRIu64
		 " (0x%" PRIx64 ")", expr_a, expr_b, a, a, b, b);
	check_fail_line(file, line, what);
	return 0;
}

static inline int check_mem(const char *file, int line, const char *expr, const void *got,
			    const void *want, size_t len)
{
	const uint8_t *g = got, *w = want;
	char what[512];

	for (size_t i = 0; i < len; i++) {
		if (g[i] == w[i])
			continue;
		snprintf(what, sizeof(what), "%s: byte %zu of %zu is 0x%02x, want 0x%02x", expr, i,
			 len, g[i], w[i]);
		check_fail_line(file, line, what);
		return 0;
	}
	return 1;
}

static inline int check_true(const char *file, int line, const char *expr, int ok)
{
	if (!ok)
		check_fail_line(file, line, expr);
	return ok;
}

#define EXPECT_EQ(a, b)	     check_u64(__FILE__, __LINE__, #a, #b, (uint64_t)(a), (uint64_t)(b))
#define EXPECT_MEM(a, b, n)  check_mem(__FILE__, __LINE__, #a " vs " #b, (a), (b), (n))
#define EXPECT_TRUE(c)	     check_true(__FILE__, __LINE__, #c, !!(c))
#define EXPECT_STR(a, b)     check_true(__FILE__, __LINE__, #a " equals " #b, strcmp((a), (b)) == 0)

#define SKIP_TEST(why)                                                                             \
	do {                                                                                       \
		printf("SKIP %s: %s\n", check_case, (why));                                        \
		check_case_skipped = 1;                                                            \
		return;                                                                            \
	} while (0)

static inline void check_run(const char *name, void (*fn)(void))
{
	check_case = name;
	check_case_failed = 0;
	check_case_skipped = 0;
	fn();
	if (check_case_failed)
		check_failures++;
	else if (!check_case_skipped)
		printf("PASS %s\n", name);
	fflush(stdout);
}

#define RUN_TEST(fn) check_run(#fn, fn)

/* Exit status of a test program: non-zero when any case failed. */
static inline int check_exit_status(void)
{
	return check_failures ? 1 : 0;
}

#endif /* FLOWMETA_CHECK_H */
