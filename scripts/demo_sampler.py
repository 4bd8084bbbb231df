#!/usr/bin/env python3
"""The time series of `make demo`: scrapes the gateway's and the worker's /metrics every INTERVAL
seconds and appends one JSON line per scrape; every PROGRESS seconds it prints a progress line on
stderr. Runs until SIGTERM or SIGINT. Standard library only.

    demo_sampler.py --gateway URL --worker URL --out samples.jsonl [--deal-file deal.txt]
                    [--k6-text k6.txt] [--interval 0.5] [--progress 3]

One line: {"t": <unix seconds>, "gateway": {"name{labels}": value, …} | null, "worker": {…} | null}
(every flashdeal_* sample except histogram buckets; null when the scrape failed).
"""
import argparse
import json
import os
import re
import signal
import sys
import time
import urllib.request
from datetime import datetime

SAMPLE = re.compile(r"^(flashdeal_[A-Za-z0-9_:]*)(\{[^}]*\})?\s+(\S+)")
K6_RUNNING = re.compile(r"running \(([^)]*)\), (\d+)/(\d+) VUs, (\d+) complete")


def scrape(url, timeout):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            text = r.read().decode("utf-8", "replace")
    except Exception:
        return None
    out = {}
    for line in text.splitlines():
        m = SAMPLE.match(line)
        if not m or m.group(1).endswith("_bucket"):
            continue
        try:
            out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
        except ValueError:
            pass
    return out


def total(sample, name, **labels):
    """Sum of the samples of one metric whose labels include `labels`."""
    if not sample:
        return None
    found, s = False, 0.0
    for key, value in sample.items():
        base, _, rest = key.partition("{")
        if base != name:
            continue
        if all(f'{k}="{v}"' in rest for k, v in labels.items()):
            found, s = True, s + value
    return s if found else None


def opening(deal_file):
    """The deal's opening (unix seconds) from `flashdeal deal create`'s output."""
    try:
        m = re.search(r"window\s+(\S+)", open(deal_file).read())
        return datetime.fromisoformat(m.group(1).replace("Z", "+00:00")).timestamp()
    except Exception:
        return None


def k6_progress(path):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 4096))
            tail = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    found = K6_RUNNING.findall(tail)
    return found[-1] if found else None


def fmt(v, default="–"):
    return default if v is None else f"{v:.0f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gateway", required=True, help="the gateway's /metrics URL")
    ap.add_argument("--worker", required=True, help="the worker's /metrics URL")
    ap.add_argument("--out", required=True)
    ap.add_argument("--deal-file")
    ap.add_argument("--k6-text")
    ap.add_argument("--interval", type=float, default=0.5)
    ap.add_argument("--progress", type=float, default=3.0, help="seconds between progress lines (0: none)")
    a = ap.parse_args()
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    opens = opening(a.deal_file) if a.deal_file else None
    last_progress, previous = 0.0, None
    with open(a.out, "a") as out:
        while not stop:
            started = time.time()
            gateway = scrape(a.gateway, a.interval)
            worker = scrape(a.worker, a.interval)
            out.write(json.dumps({"t": round(started, 3), "gateway": gateway, "worker": worker},
                                 separators=(",", ":")) + "\n")
            out.flush()
            if a.progress > 0 and started - last_progress >= a.progress:
                progress(started, opens, gateway, worker, previous, a.k6_text)
                last_progress, previous = started, (started, gateway)
            time.sleep(max(0.0, a.interval - (time.time() - started)))


def progress(now, opens, gateway, worker, previous, k6_text):
    parts = [f"[{time.strftime('%H:%M:%S', time.localtime(now))}]"]
    if opens is not None:
        parts.append(f"t={now - opens:+6.1f}s" if now >= opens else f"opens in {opens - now:4.1f}s")
    k6 = k6_progress(k6_text) if k6_text else None
    if k6:
        parts.append(f"k6 {int(k6[1])} VUs, {int(k6[3])} journeys done")
    ops = total(gateway, "flashdeal_gateway_operations_total")
    if ops is not None and previous and previous[1]:
        before = total(previous[1], "flashdeal_gateway_operations_total") or 0.0
        parts.append(f"{(ops - before) / max(1e-3, now - previous[0]):.0f} req/s")
    if gateway is None:
        parts.append("gateway: no answer")
    else:
        parts.append("waiting " + fmt(total(gateway, "flashdeal_waitingroom_waiting"))
                     + " · admitted " + fmt(total(gateway, "flashdeal_waitingroom_admitted_total"), "0")
                     + " · stock " + fmt(total(gateway, "flashdeal_deal_stock_remaining"))
                     + " · accepted " + fmt(total(gateway, "flashdeal_gateway_operations_total",
                                                   operation="createOrder", outcome="ok"), "0"))
    if worker is None:
        parts.append("worker: no answer")
    else:
        parts.append("confirmed " + fmt(total(worker, "flashdeal_worker_orders_total", status="CONFIRMED"), "0")
                     + " · rejected " + fmt(total(worker, "flashdeal_worker_orders_total", status="REJECTED"), "0"))
    print(parts[0] + " " + " │ ".join(parts[1:]), file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
