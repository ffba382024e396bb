#!/usr/bin/env python3
"""The demo's notification receiver (stdlib only): the webhook channels of
conf/demo.json post here.

    demo/hookrecv.py [--addr 127.0.0.1] [--port 16180] [--log FILE]

Answers every POST 200 and prints one line per notification on stderr:

    demo: notification to oncall: trigger web-02 critical "..." vigil:3:0:0

(the channel is the last part of the URL path), and appends the request
as one JSON line to FILE when given. Exits on SIGTERM or SIGINT.
"""
import argparse
import json
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

args = None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n > 0 else b""
        try:
            body = json.loads(raw.decode("utf-8", "replace"))
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        channel = self.path.rstrip("/").rsplit("/", 1)[-1] or "?"
        key = self.headers.get("X-Vigil-Dedup-Key") or body.get("dedup_key")
        sys.stderr.write('demo: notification to %s: %s %s %s "%s" %s\n' % (
            channel, body.get("event"), body.get("host"), body.get("severity"),
            body.get("summary"), key))
        sys.stderr.flush()
        if args.log:
            with open(args.log, "a") as f:
                f.write(json.dumps({"path": self.path, "dedup_key": key, "body": body}) + "\n")
        out = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


def main():
    global args
    p = argparse.ArgumentParser()
    p.add_argument("--addr", default="127.0.0.1")
    p.add_argument("--port", type=int, default=16180)
    p.add_argument("--log")
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    try:
        srv = ThreadingHTTPServer((args.addr, args.port), Handler)
    except OSError as e:
        sys.stderr.write("demo/hookrecv.py: cannot listen on %s:%d: %s\n"
                         % (args.addr, args.port, e))
        return 1
    srv.daemon_threads = True
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
