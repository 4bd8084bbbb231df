#!/usr/bin/env python3
"""The side-by-side table of scripts/bench-ab (two gateway executables, A and B) and
scripts/bench-executor (Dispatch against NIO): the rounds of one comparison, each a bench-steps run
at the same rate, from their k6 summaries and CPU rows; every other variant against the first.

    ab_table.py --rate RATE --seconds S VARIANT:RUN_DIR [...]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from telemetry_table import rounds  # noqa: E402  (the rounds' arguments and rows, read one way)


def mean(rows, variant, key):
    values = [r[key] for r in rows if r["mode"] == variant]
    return sum(values) / len(values)


def main():
    rows = rounds()
    print("| round | variant | accepted/s | errors | p50 ms | p95 ms | p99 ms | gateway CPU ms/req | worker CPU ms/req | verify |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for i, r in enumerate(rows, 1):
        print(f"| {i} | {r['mode']} | {r['accepted']:,.0f} | {r['errors']:,} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | "
              f"{r['gateway_ms']:.3f} | {r['worker_ms']:.3f} | {'PASS' if r['verify'] else 'FAIL'} |")
    print()
    variants = list(dict.fromkeys(r["mode"] for r in rows))
    base = variants[0]
    for other in variants[1:]:
        for key, what in (("gateway_ms", "gateway CPU per request"), ("worker_ms", "worker CPU per order"),
                          ("p95", "p95"), ("accepted", "accepted/s")):
            a, b = mean(rows, base, key), mean(rows, other, key)
            print(f"- {what}: {base} {a:.3f}, {other} {b:.3f}, {other} ÷ {base} {b / a:.3f}")


if __name__ == "__main__":
    main()
