#!/usr/bin/env python3
"""An OTLP/HTTP endpoint that accepts trace exports and discards them, counting what arrived:
the collector stand-in of the telemetry overhead benchmark (scripts/bench-steps TRACING=on).

    otlp_sink.py --port 4318 --stats stats.json

Spans are counted in OTLP/JSON bodies (occurrences of the "spanId" key); protobuf bodies are
counted as requests and bytes only. The stats file (requests, bytes, spans, the sink's own CPU
seconds) is rewritten every second and on SIGTERM.
"""
import argparse
import json
import resource
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

stats = {"requests": 0, "bytes": 0, "spans": 0}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with lock:
            stats["requests"] += 1
            stats["bytes"] += len(body)
            if self.headers.get("Content-Type", "").startswith("application/json"):
                stats["spans"] += body.count(b'"spanId"')
        reply = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


def write(path):
    usage = resource.getrusage(resource.RUSAGE_SELF)
    with lock:
        snapshot = dict(stats, cpu_seconds=round(usage.ru_utime + usage.ru_stime, 3))
    with open(path, "w") as f:
        json.dump(snapshot, f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--stats", required=True)
    a = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)

    def stop(*_):
        write(a.stats)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)

    def every_second():
        while True:
            write(a.stats)
            threading.Event().wait(1)

    threading.Thread(target=every_second, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
