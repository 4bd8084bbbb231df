#!/usr/bin/env python3
"""The executor table (scripts/bench-executor): the gateway and the worker on SwiftNIO's event
loops against the Dispatch pool, from the rounds' k6 summaries and CPU rows.

    executor_table.py --rate RATE --seconds S EXECUTOR:RUN_DIR [...]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from telemetry_table import rounds  # noqa: E402  (the rounds' arguments and rows, read one way)


def main():
    rows = rounds()
    print("| round | executor | accepted/s | errors | p50 ms | p95 ms | p99 ms | gateway CPU ms/req | worker CPU ms/req | verify |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for i, r in enumerate(rows, 1):
        print(f"| {i} | {r['mode']} | {r['accepted']:,.0f} | {r['errors']:,} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | "
              f"{r['gateway_ms']:.3f} | {r['worker_ms']:.3f} | {'PASS' if r['verify'] else 'FAIL'} |")
    print()
    for i in range(1, len(rows)):
        before, r = rows[i - 1], rows[i]
        if r["mode"] == "nio" and before["mode"] == "dispatch":
            print(f"- round {i + 1} (nio) ÷ round {i} (dispatch): accepted {r['accepted'] / before['accepted']:.2f}×, "
                  f"gateway CPU per request {r['gateway_ms'] / before['gateway_ms']:.2f}×, "
                  f"worker CPU per order {r['worker_ms'] / before['worker_ms']:.2f}×, p95 {r['p95'] / before['p95']:.2f}×")


if __name__ == "__main__":
    main()
