#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""The receiving node's oracle of tests/e2e/flood.sh: what of a flood reached a socket.

  flood_recv.py PORT...

Binds a UDP socket on port PORT of every address for each PORT, and a raw socket of protocol UDP
(it gets a copy of every UDP datagram the stack delivers, whatever its port, with its IP header;
those to 127.0.0.0/8, a collector's, are left out). Prints "ready" once bound; on SIGTERM prints
this, then exits:

  udp DPORT SRC SPORT PACKETS BYTES   # per source, datagrams a UDP socket received
  raw SRC SPORT DPORT PACKETS         # per source and port, datagrams the stack delivered
  drops N                             # datagrams the kernel dropped at these sockets (full)

The receive buffers are 32 MiB (SO_RCVBUFFORCE: root), so a flood that was delivered is counted,
and the drops line says if some were not.
"""
import select
import signal
import socket
import struct
import sys

BUF = 32 << 20
SO_RXQ_OVFL = 40
SO_RCVBUFFORCE = 33


def main(argv):
    addr, ports = "0.0.0.0", [int(p) for p in argv[1:]]
    socks = {}
    for port in ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, BUF)
        s.setsockopt(socket.SOL_SOCKET, SO_RXQ_OVFL, 1)
        s.bind((addr, port))
        s.setblocking(False)
        socks[s.fileno()] = (s, port)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
    raw.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, BUF)
    raw.setsockopt(socket.SOL_SOCKET, SO_RXQ_OVFL, 1)
    raw.bind((addr, 0))
    raw.setblocking(False)
    socks[raw.fileno()] = (raw, None)
    udp, rawc, drops = {}, {}, {}
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    print("ready", flush=True)
    poller = select.poll()
    for fd in socks:
        poller.register(fd, select.POLLIN)
    while not stop:
        try:
            ready = poller.poll(200)
        except InterruptedError:
            continue
        for fd, _ in ready:
            s, port = socks[fd]
            while True:
                try:
                    data, anc, _, src = s.recvmsg(65535, socket.CMSG_SPACE(4))
                except BlockingIOError:
                    break
                for level, kind, val in anc:
                    if level == socket.SOL_SOCKET and kind == SO_RXQ_OVFL and len(val) >= 4:
                        drops[fd] = struct.unpack("I", val[:4])[0]
                if port is None:
                    ihl = (data[0] & 15) * 4
                    if data[16] == 127:
                        continue
                    sport, dport = struct.unpack_from("!HH", data, ihl)
                    k = (src[0], sport, dport)
                    rawc[k] = rawc.get(k, 0) + 1
                else:
                    k = (port, src[0], src[1])
                    n, b = udp.get(k, (0, 0))
                    udp[k] = (n + 1, b + len(data))
    for (port, src, sport), (n, b) in sorted(udp.items()):
        print(f"udp {port} {src} {sport} {n} {b}")
    for (src, sport, dport), n in sorted(rawc.items()):
        print(f"raw {src} {sport} {dport} {n}")
    print(f"drops {sum(drops.values())}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
