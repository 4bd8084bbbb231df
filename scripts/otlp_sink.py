#!/usr/bin/env python3
"""An OTLP/HTTP endpoint that accepts trace exports and discards them, counting what arrived:
the collector stand-in of the telemetry overhead benchmark (scripts/bench-steps TRACING=on).

    otlp_sink.py --port 4318 --stats stats.json

Spans are counted in both encodings: OTLP/protobuf bodies by walking the message
(ExportTraceServiceRequest → resource_spans → scope_spans → spans), OTLP/JSON bodies by their
"spanId" keys. The stats file (requests, bytes, spans, the sink's own CPU
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


def fields(buf, start=0, end=None):
    """(field number, wire type, value or (offset, length)) of one protobuf message."""
    i, end = start, len(buf) if end is None else end
    while i < end:
        tag, i = varint(buf, i)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            _, i = varint(buf, i)
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            length, i = varint(buf, i)
            yield number, (i, length)
            i += length
        else:
            raise ValueError(f"wire type {wire}")


def varint(buf, i):
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i
        shift += 7


def protobuf_spans(body):
    count = 0
    for n1, (o1, l1) in fields(body):
        if n1 != 1:
            continue
        for n2, (o2, l2) in fields(body, o1, o1 + l1):
            if n2 != 2:
                continue
            count += sum(1 for n3, _ in fields(body, o2, o2 + l2) if n3 == 2)
    return count
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
            else:
                stats["spans"] += protobuf_spans(body)
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
