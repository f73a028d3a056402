#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Crash injection by system call: attach to a running process (its main thread) with ptrace and
kill it with SIGKILL when it enters its N-th system call after the attach: the calls before it
have run, that one and the rest never will. "After each syscall of the export path" is then N =
1, 2, ... over the calls a poll makes.

    syskill.py kill PID N [--timeout S]   wait for call N; kill there; print "killed N NAME"
                                          (or "exited" / "timeout" when it never came)
    syskill.py count PID [--until NAME] [--after K] [--timeout S]
                                          count the calls until the K-th entry into NAME
                                          (epoll_wait: the poll is over), print the count and
                                          the names, one line; the process goes on (the call
                                          NAME itself is not counted: killing there is killing
                                          after the poll)

Only the thread PID is traced (another thread of the process runs freely). x86_64 only.
"""
import ctypes
import os
import signal
import sys
import time

PTRACE_SYSCALL = 24
PTRACE_DETACH = 17
PTRACE_PEEKUSER = 3
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
PTRACE_O_TRACESYSGOOD = 1
ORIG_RAX = 15 * 8
SYSCALL_STOP = signal.SIGTRAP | 0x80
PTRACE_EVENT_STOP = 128

NAMES = {0: "read", 1: "write", 3: "close", 7: "poll", 16: "ioctl", 20: "writev",
         41: "socket", 42: "connect", 44: "sendto", 45: "recvfrom", 46: "sendmsg",
         47: "recvmsg", 49: "bind", 51: "getsockname", 54: "setsockopt", 55: "getsockopt",
         202: "futex", 228: "clock_gettime", 232: "epoll_wait", 257: "openat", 281: "epoll_pwait",
         307: "sendmmsg", 321: "bpf", 9: "mmap", 11: "munmap", 12: "brk", 25: "mremap",
         28: "madvise", 5: "fstat", 262: "newfstatat", 318: "getrandom", 39: "getpid",
         283: "timerfd_create", 286: "timerfd_settime", 13: "rt_sigaction",
         14: "rt_sigprocmask", 72: "fcntl", 4: "stat", 6: "lstat", 8: "lseek", 89: "readlink",
         96: "gettimeofday", 201: "time", 441: "epoll_pwait2"}

libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]


def ptrace(req, pid, addr=0, data=0):
    ctypes.set_errno(0)
    r = libc.ptrace(req, pid, ctypes.c_void_p(addr), ctypes.c_void_p(data))
    err = ctypes.get_errno()
    if r == -1 and err:
        raise OSError(err, os.strerror(err))
    return r


def syscall_name(pid):
    nr = ptrace(PTRACE_PEEKUSER, pid, ORIG_RAX)
    return NAMES.get(nr, str(nr))


class Tracee:
    def __init__(self, pid):
        self.pid = pid
        ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_TRACESYSGOOD)
        ptrace(PTRACE_INTERRUPT, pid)
        self.wait()             # the interrupt's group stop
        self.entering = True

    def wait(self, timeout=None):
        """The next stop of the tracee: ('syscall'|'signal'|'event'|'exited', signo)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            flags = 0 if deadline is None else os.WNOHANG
            pid, status = os.waitpid(self.pid, flags | 0x40000000)   # __WALL
            if pid == 0:
                if time.monotonic() > deadline:
                    return ("timeout", 0)
                time.sleep(0.001)
                continue
            if os.WIFEXITED(status) or os.WIFSIGNALED(status):
                return ("exited", 0)
            sig = os.WSTOPSIG(status)
            if sig == SYSCALL_STOP:
                return ("syscall", 0)
            if status >> 16 == PTRACE_EVENT_STOP:
                return ("event", 0)
            return ("signal", sig)

    def next_entry(self, timeout):
        """Resume until the next system-call entry; its name, or None when it exited."""
        sig = 0
        deadline = time.monotonic() + timeout
        while True:
            ptrace(PTRACE_SYSCALL, self.pid, 0, sig)
            sig = 0
            kind, signo = self.wait(max(0.0, deadline - time.monotonic()))
            if kind in ("exited", "timeout"):
                return kind
            if kind == "signal":
                sig = signo     # deliver it
                continue
            if kind == "event":
                continue
            entering, self.entering = self.entering, not self.entering
            if entering:
                return syscall_name(self.pid)


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, pid = argv[1], int(argv[2])
    opts = argv[3:]
    timeout = float(opts[opts.index("--timeout") + 1]) if "--timeout" in opts else 60.0
    t = Tracee(pid)
    if cmd == "kill":
        n = int(opts[0])
        for i in range(1, n + 1):
            name = t.next_entry(timeout)
            if name in ("exited", "timeout"):
                print(name)
                return 1
        os.kill(pid, signal.SIGKILL)
        t.wait()
        print("killed", n, name)
        return 0
    if cmd == "count":
        until = opts[opts.index("--until") + 1] if "--until" in opts else "epoll_wait"
        after = int(opts[opts.index("--after") + 1]) if "--after" in opts else 1
        names, seen = [], 0
        while True:
            name = t.next_entry(timeout)
            if name in ("exited", "timeout"):
                print(len(names), "(" + name + ")", " ".join(names))
                return 1
            if name == until:
                seen += 1
                if seen == after:
                    break
            names.append(name)
        ptrace(PTRACE_DETACH, pid)
        print(len(names), " ".join(names))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
