#!/usr/bin/env python3
"""A webhook receiver for vigil's notification tests (stdlib only).

    hookrecv.py --port-file F --log L [--ctl C]

Binds 127.0.0.1 on a free port and writes the port to F (atomically: a
reader never sees half a number). Every request becomes one JSON line
appended to L, flushed at once:

    {"ts": <unix float>, "method", "path", "headers": {...},
     "body": <parsed JSON, else the text>, "status": <what it answered>}

The mode file C is read again on every request, so a test changes the
receiver's behaviour between two posts without restarting it:

    up          200 {}            (also when C is missing or empty)
    down        503
    hang        read the request, never answer, keep the socket open
    status NNN  that status, body {}

A hung request is logged with "status": null before the hang.
"""
import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

args = None
log_lock = threading.Lock()
# sockets of hung requests: kept referenced so they stay open
hung = []


def mode():
    if not args.ctl:
        return "up"
    try:
        with open(args.ctl) as f:
            m = f.read().strip()
    except OSError:
        return "up"
    return m or "up"


def log(entry):
    line = json.dumps(entry, sort_keys=True)
    with log_lock:
        with open(args.log, "a") as f:
            f.write(line + "\n")
            f.flush()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n > 0 else b""
        text = raw.decode("utf-8", "replace")
        try:
            body = json.loads(text) if text else None
        except ValueError:
            body = text
        m = mode()
        status = 200
        if m == "down":
            status = 503
        elif m == "hang":
            status = None
        elif m.startswith("status "):
            try:
                status = int(m.split()[1])
            except (IndexError, ValueError):
                status = 500
        entry = {"ts": time.time(), "method": self.command, "path": self.path,
                 "headers": dict(self.headers.items()), "body": body, "status": status}
        log(entry)
        if status is None:
            hung.append(self.connection)
            # never answer; the thread parks until the process ends
            threading.Event().wait()
            return
        out = b"{}" if status != 503 else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_POST = handle_any
    do_PUT = handle_any
    do_GET = handle_any


def main():
    global args
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--ctl")
    args = p.parse_args()
    # listen(5) by default: a burst of posts beyond it would wait for SYN
    # retransmits, and a test of concurrency would measure those
    ThreadingHTTPServer.request_queue_size = 128
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.replace(tmp, args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
