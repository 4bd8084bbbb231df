#!/usr/bin/env python3
"""The A/B table (scripts/bench-ab): two gateway executables under the same createOrder load, from
the rounds' k6 summaries and CPU rows.

    ab_table.py --rate RATE --seconds S A:RUN_DIR B:RUN_DIR [...]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from telemetry_table import rounds  # noqa: E402  (the rounds' arguments and rows, read one way)


def mean(rows, side, key):
    values = [r[key] for r in rows if r["mode"] == side]
    return sum(values) / len(values) if values else float("nan")


def main():
    rows = rounds()
    print("| round | gateway | accepted/s | errors | p50 ms | p95 ms | p99 ms | gateway CPU ms/req | worker CPU ms/req | verify |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for i, r in enumerate(rows, 1):
        print(f"| {i} | {r['mode']} | {r['accepted']:,.0f} | {r['errors']:,} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | "
              f"{r['gateway_ms']:.3f} | {r['worker_ms']:.3f} | {'PASS' if r['verify'] else 'FAIL'} |")
    print()
    for key, what in (("gateway_ms", "gateway CPU per request"), ("p95", "p95"), ("accepted", "accepted/s")):
        a, b = mean(rows, "A", key), mean(rows, "B", key)
        print(f"- {what}: A {a:.3f}, B {b:.3f}, B ÷ A {b / a:.3f}")


if __name__ == "__main__":
    main()
