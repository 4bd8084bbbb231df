#!/usr/bin/env python3
"""The stepped createOrder benchmark's table (scripts/bench-steps): one row per step from k6
summaries, the milestone each rate is judged by, and ratios to the ceilings measured in the run.

    steps_table.py --livez RPS --reserve CALLS_PER_S --step RATE:SECONDS:SUMMARY.json:VERIFY_EXIT [...]
"""
import argparse
import json

# The original plan's milestones and our target (the same data as k6/lib/flashdeal.js MILESTONES).
MILESTONES = {
    500: ("M1", "p(95)", 200, None),
    1000: ("M2", "p(95)", 180, None),
    2000: ("M3", "p(95)", 150, 0.005),
    3000: ("target", "p(99)", 20, 0.005),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--livez", type=float, required=True)
    ap.add_argument("--reserve", type=float, required=True)
    ap.add_argument("--step", action="append", default=[])
    a = ap.parse_args()
    print("| offered/s | achieved/s | p50 ms | p95 ms | p99 ms | p99.9 ms | errors | error % | business answers | dropped | verify | judged by | verdict | achieved ÷ /livez ceiling |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|---:|")
    for spec in a.step:
        rate, seconds, path, verify = spec.split(":", 3)
        rate, seconds = int(rate), float(seconds)
        m = json.load(open(path))["metrics"]
        d = m.get("http_req_duration", {})
        reqs = m.get("http_reqs", {}).get("count", 0)
        errors = m.get("failures", {}).get("count", 0)
        business = m.get("business_answers", {}).get("count", 0)
        dropped = m.get("dropped_iterations", {}).get("count", 0)
        achieved = reqs / seconds
        error_rate = errors / reqs if reqs else 1.0
        judged, verdict = "—", "—"
        if rate in MILESTONES:
            name, stat, ms, budget = MILESTONES[rate]
            value = d.get(stat, float("inf"))
            ok = value <= ms and error_rate <= (budget if budget is not None else 0.005) and dropped <= 0.005 * rate * seconds
            judged = f"{name}: {stat.replace('p(', 'p').replace(')', '')} ≤ {ms} ms" + (f", errors ≤ {budget:.1%}" if budget else "")
            verdict = "met" if ok else f"NOT met ({stat.replace('p(', 'p').replace(')', '')} {value:,.1f} ms)"
        ratio = f"{achieved / a.livez:.1%}" if a.livez else "—"
        print(f"| {rate:,} | {achieved:,.0f} | {d.get('med', 0):.2f} | {d.get('p(95)', 0):.2f} | {d.get('p(99)', 0):.2f} | "
              f"{d.get('p(99.9)', 0):.2f} | {errors:,.0f} | {error_rate:.2%} | {business:,.0f} | {dropped:,.0f} | "
              f"{'PASS' if verify == '0' else 'FAIL'} | {judged} | {verdict} | {ratio} |")
    if not a.livez:
        return
    print()
    print(f"Ceilings measured in the same run: `GET /livez` {a.livez:,.0f} req/s (wrk, 32 connections); "
          f"the reserve function {a.reserve:,.0f} calls/s (redis-benchmark, pipelined).")


if __name__ == "__main__":
    main()
