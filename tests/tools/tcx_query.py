#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""What is attached to IFACE's tcx hooks (kernel 6.6+), one line a program, in the order it runs:

  tcx ingress: name NAME id PROG_ID link LINK_ID
  tcx egress: ...

Debian's bpftool (7.1) predates tcx: this asks the kernel itself (BPF_PROG_QUERY on the interface
of the current network namespace, then each program's name). Prints nothing on a kernel without
tcx or for an interface with nothing on it; exit 1 when IFACE does not exist.
"""
import ctypes
import os
import socket
import struct
import sys

SYS_BPF = 321            # x86-64
BPF_PROG_GET_FD_BY_ID = 13
BPF_OBJ_GET_INFO_BY_FD = 15
BPF_PROG_QUERY = 16
HOOKS = (("ingress", 46), ("egress", 47))   # BPF_TCX_INGRESS, BPF_TCX_EGRESS
MAX = 64

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def bpf(cmd, attr):
    ret = libc.syscall(SYS_BPF, cmd, ctypes.byref(attr), ctypes.sizeof(attr))
    if ret < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return ret


def query(ifindex, attach_type):
    progs = (ctypes.c_uint32 * MAX)()
    links = (ctypes.c_uint32 * MAX)()
    attr = ctypes.create_string_buffer(64)
    struct.pack_into("=IIII", attr, 0, ifindex, attach_type, 0, 0)
    struct.pack_into("=Q", attr, 16, ctypes.addressof(progs))
    struct.pack_into("=I", attr, 24, MAX)
    struct.pack_into("=Q", attr, 40, ctypes.addressof(links))
    try:
        bpf(BPF_PROG_QUERY, attr)
    except OSError:
        return []       # no tcx on this kernel (or nothing was ever attached)
    count = struct.unpack_from("=I", attr, 24)[0]
    return [(progs[i], links[i]) for i in range(count)]


def prog_name(prog_id):
    attr = ctypes.create_string_buffer(16)
    struct.pack_into("=I", attr, 0, prog_id)
    try:
        fd = bpf(BPF_PROG_GET_FD_BY_ID, attr)
    except OSError:
        return "?"
    info = ctypes.create_string_buffer(256)
    attr = ctypes.create_string_buffer(16)
    struct.pack_into("=IIQ", attr, 0, fd, len(info), ctypes.addressof(info))
    try:
        bpf(BPF_OBJ_GET_INFO_BY_FD, attr)
    finally:
        os.close(fd)
    return info.raw[64:80].split(b"\0")[0].decode() or "?"


def main():
    try:
        ifindex = socket.if_nametoindex(sys.argv[1])
    except OSError as e:
        print("tcx_query: %s: %s" % (sys.argv[1], e), file=sys.stderr)
        return 1
    for name, attach_type in HOOKS:
        for prog_id, link_id in query(ifindex, attach_type):
            print("tcx %s: name %s id %d link %d" % (name, prog_name(prog_id), prog_id, link_id))
    return 0


if __name__ == "__main__":
    sys.exit(main())
