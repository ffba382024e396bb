#!/usr/bin/python3
"""Counts the values collectd's network plugin sends: a stand-in write
plugin that costs collectd one sendto per ~1.4 KiB packet and no disk.

    sink.py PORT STATUS_FILE RECENT_S

Listens on udp 127.0.0.1:PORT and parses collectd's binary protocol just
far enough to count values (part 0x0006 holds a count) and to remember when
each host (part 0x0000) last sent one. Once a second it rewrites
STATUS_FILE with "values=N packets=N hosts=N recent=N", recent being the
hosts heard from in the last RECENT_S seconds. Exits on SIGTERM.
"""
import os
import select
import signal
import socket
import struct
import sys
import time

running = True


def stop(_sig, _frame):
    global running
    running = False


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    port, status, recent_s = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    signal.signal(signal.SIGTERM, stop)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind(("127.0.0.1", port))
    sock.setblocking(False)
    values = packets = 0
    last_seen = {}
    next_write = 0.0
    while running:
        now = time.monotonic()
        if now >= next_write:
            recent = sum(1 for t in last_seen.values() if now - t <= recent_s)
            tmp = status + ".tmp"
            with open(tmp, "w") as f:
                f.write("values=%d packets=%d hosts=%d recent=%d\n"
                        % (values, packets, len(last_seen), recent))
            os.replace(tmp, status)
            next_write = now + 1.0
        try:
            r, _, _ = select.select([sock], [], [], 0.2)
        except InterruptedError:
            continue
        if not r:
            continue
        while True:
            try:
                buf = sock.recv(65536)
            except BlockingIOError:
                break
            packets += 1
            now = time.monotonic()
            host = None
            off = 0
            while off + 4 <= len(buf):
                ptype, plen = struct.unpack_from("!HH", buf, off)
                if plen < 4 or off + plen > len(buf):
                    break
                if ptype == 0x0000:
                    host = buf[off + 4:off + plen].rstrip(b"\0")
                elif ptype == 0x0006 and plen >= 6:
                    (n,) = struct.unpack_from("!H", buf, off + 4)
                    values += n
                    if host is not None:
                        last_seen[host] = now
                off += plen


if __name__ == "__main__":
    main()
