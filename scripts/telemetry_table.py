#!/usr/bin/env python3
"""The telemetry overhead table (scripts/bench-telemetry): tracing off against tracing on, from the
runs' k6 summaries, CPU rows and OTLP sink stats.

    telemetry_table.py --rate RATE --seconds S MODE:RUN_DIR [...]
"""
import argparse
import json
import os


def run(mode, path, rate, seconds):
    m = json.load(open(os.path.join(path, f"k6-{rate}.json")))["metrics"]
    reqs = m.get("http_reqs", {}).get("count", 0)
    errors = m.get("failures", {}).get("count", 0)
    business = m.get("business_answers", {}).get("count", 0)
    d = m.get("http_req_duration", {})
    # table.md: the step row (rate as "1,000") first, the CPU row (rate as "1000") last.
    lines = [line for line in open(os.path.join(path, "table.md"))
             if line.startswith(f"| {rate} |") or line.startswith(f"| {rate:,} |")]
    cells = [c.strip() for c in lines[-1].strip().strip("|").split("|")]
    sink = {}
    if os.path.exists(os.path.join(path, "otlp-sink.json")):
        sink = json.load(open(os.path.join(path, "otlp-sink.json")))
    return {
        "mode": mode, "accepted": (reqs - errors - business) / seconds, "errors": errors, "reqs": reqs,
        "p50": d.get("med", 0), "p95": d.get("p(95)", 0), "p99": d.get("p(99)", 0),
        "gateway_ms": float(cells[1]), "worker_ms": float(cells[5]), "verify": "| PASS |" in lines[0], "spans": sink.get("spans"), "sink_cpu": sink.get("cpu_seconds"),
    }


def rounds():
    """Reads `--rate R --seconds S LABEL:RUN_DIR ...` (the rounds of one comparison, each a
    bench-steps run at the same rate), prints the line saying what was offered, returns the rows."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=int, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("runs", nargs="+")
    a = ap.parse_args()
    rows = [run(*spec.split(":", 1), a.rate, a.seconds) for spec in a.runs]
    print(f"createOrder offered at {a.rate:,}/s for {a.seconds:.0f} s (k6 constant-arrival-rate), release builds, local stack, 2 cores")
    print()
    return rows


def main():
    rows = rounds()
    print("| tracing | accepted/s | errors | p50 ms | p95 ms | p99 ms | gateway CPU ms/req | worker CPU ms/req | spans exported | sink CPU s | verify |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        spans = "—" if r["spans"] is None else f"{r['spans']:,}"
        sink = "—" if r["sink_cpu"] is None else f"{r['sink_cpu']:.1f}"
        print(f"| {r['mode']} | {r['accepted']:,.0f} | {r['errors']:,} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | "
              f"{r['gateway_ms']:.3f} | {r['worker_ms']:.3f} | {spans} | {sink} | {'PASS' if r['verify'] else 'FAIL'} |")
    off = [r["accepted"] for r in rows if r["mode"] == "off"]
    if off:
        base = sum(off) / len(off)
        print()
        for mode in dict.fromkeys(r["mode"] for r in rows if r["mode"] != "off"):
            on = [r["accepted"] for r in rows if r["mode"] == mode]
            ratio = (sum(on) / len(on)) / base
            print(f"- throughput with tracing {mode} ÷ off: {ratio:.1%} (target ≥ 90 %: {'met' if ratio >= 0.9 else 'NOT met'})")


if __name__ == "__main__":
    main()
