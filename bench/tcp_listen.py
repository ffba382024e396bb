#!/usr/bin/python3
"""A TCP listener for bench/storm_run.sh: every address of 127.0.0.0/8.

    tcp_listen.py PORT

Binds 0.0.0.0:PORT (so one process answers for every 127.a.b.c host of a
range), accepts and closes every connection, as fast as they come.
"""
import selectors
import socket
import sys

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(4096)
s.setblocking(False)
sel = selectors.DefaultSelector()
sel.register(s, selectors.EVENT_READ)
while True:
    sel.select(1.0)
    while True:
        try:
            c, _ = s.accept()
        except (BlockingIOError, InterruptedError):
            break
        except OSError:
            break
        c.close()
