#!/usr/bin/env python3
"""What systemd's notification socket sees, for vigild's tests (stdlib only).

    sdnotify_recv.py --socket S --log L

Binds an AF_UNIX SOCK_DGRAM socket at path S (a stale file there is
removed first), as systemd does for NOTIFY_SOCKET, with SO_PASSCRED so
each datagram carries its sender's pid (what NotifyAccess=main checks).
Every datagram becomes one JSON line appended to L, flushed at once:

    {"mono": <CLOCK_MONOTONIC seconds>, "ts": <unix float>, "pid": <sender>,
     "msg": "<the datagram>", "fields": {"READY": "1", "STATUS": "...", ...}}

"mono" is the clock MONOTONIC_USEC= is read from. The socket file exists
only once the socket is bound: a test waits for it before starting the
daemon. SIGTERM/SIGINT end it and remove S.
"""
import argparse
import json
import os
import signal
import socket
import struct
import sys
import time


def fields_of(msg):
    out = {}
    for line in msg.split("\n"):
        if "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--log", required=True)
    args = ap.parse_args()

    try:
        os.unlink(args.socket)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    s.bind(args.socket)

    def done(*_):
        try:
            os.unlink(args.socket)
        except OSError:
            pass
        sys.exit(0)

    signal.signal(signal.SIGTERM, done)
    signal.signal(signal.SIGINT, done)
    ucred = struct.calcsize("3i")
    with open(args.log, "a") as log:
        while True:
            data, anc, _flags, _addr = s.recvmsg(65536, socket.CMSG_SPACE(ucred))
            pid = None
            for level, kind, blob in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("3i", blob[:ucred])[0]
            msg = data.decode("utf-8", "replace")
            entry = {"mono": time.monotonic(), "ts": time.time(), "pid": pid,
                     "msg": msg, "fields": fields_of(msg)}
            log.write(json.dumps(entry, sort_keys=True) + "\n")
            log.flush()


if __name__ == "__main__":
    main()
