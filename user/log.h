/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Logging to stderr, one line per event, prefixed by its level (OpenBSD daemon style).
 * log_warn() and log_err() append strerror(errno); the x variants do not. fatal()/fatalx() also exit
 * with the given code.
 */
#ifndef FLOWMETA_LOG_H
#define FLOWMETA_LOG_H

#include <stdbool.h>

void log_init(int verbosity);
int log_verbosity(void);

/* An error the command gives up on (the caller then exits non-zero). */
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
void fatalx(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

/* Exit codes (SPEC §2). */
enum {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1,	/* load, attach, permission, I/O */
	EXIT_USAGE = 2,		/* bad usage or bad configuration */
};

#endif /* FLOWMETA_LOG_H */
