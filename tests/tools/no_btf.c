// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * LD_PRELOAD shim for the tests: a kernel that takes no BTF. Every bpf(BPF_BTF_LOAD) that libbpf
 * makes through syscall() fails with EINVAL, as on a kernel without BTF support; libbpf then loads
 * the programs without their BTF, as it does there. Built by tests/e2e/views.sh:
 *   cc -shared -fPIC -o no_btf.so no_btf.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

long syscall(long nr, ...)
{
	static long (*real)(long nr, ...);
	long a[6];
	va_list ap;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (nr == __NR_bpf && a[0] == BPF_BTF_LOAD) {
		errno = EINVAL;
		return -1;
	}
	if (!real)
		real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	return real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
