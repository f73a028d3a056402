// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Logging to stderr: level prefix, colour only on a terminal, debug lines only with -v. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static int verbose;
static bool colour;

void log_init(int verbosity)
{
	verbose = verbosity;
	colour = isatty(STDERR_FILENO);
}

int log_verbosity(void)
{
	return verbose;
}

static void vlog(const char *level, const char *ansi, const char *fmt, va_list ap, int errnum)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* The metrics server's thread logs too: a line is written whole. */
	flockfile(stderr);
	if (colour)
		fprintf(stderr, "%s%s\033[0m: %s", ansi, level, msg);
	else
		fprintf(stderr, "%s: %s", level, msg);
	if (errnum)
		fprintf(stderr, ": %s", strerror(errnum));
	fputc('\n', stderr);
	funlockfile(stderr);
}

void log_err(const char *fmt, ...)
{
	int errnum = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog("error", "\033[31m", fmt, ap, errnum);
	va_end(ap);
}

void log_errx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("error", "\033[31m", fmt, ap, 0);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	int errnum = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog("warning", "\033[33m", fmt, ap, errnum);
	va_end(ap);
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning", "\033[33m", fmt, ap, 0);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("info", "\033[32m", fmt, ap, 0);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (verbose < 1)
		return;
	va_start(ap, fmt);
	vlog("debug", "\033[36m", fmt, ap, 0);
	va_end(ap);
}

void fatal(int code, const char *fmt, ...)
{
	int errnum = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog("error", "\033[31m", fmt, ap, errnum);
	va_end(ap);
	exit(code);
}

void fatalx(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("error", "\033[31m", fmt, ap, 0);
	va_end(ap);
	exit(code);
}
