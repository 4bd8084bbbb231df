#!/usr/bin/env python3
"""Prints a Markdown table from a k6 --summary-export file, one row per scenario.

    k6_table.py SUMMARY.json --scenario NAME:RATE:SECONDS [...] [--redis-metrics URL]

Rates are computed from each scenario's own request count and duration (k6's `rate` field is
over the whole run). The first scenario is taken as the ceiling the others are compared with.
"""
import argparse
import json
import urllib.request


def metric(summary, name, scenario):
    return summary["metrics"].get(f"{name}{{scenario:{scenario}}}", {})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("summary")
    parser.add_argument("--scenario", action="append", default=[])
    parser.add_argument("--redis-metrics")
    args = parser.parse_args()
    summary = json.load(open(args.summary))
    rows = []
    for spec in args.scenario:
        name, rate, seconds = spec.split(":")
        reqs = metric(summary, "http_reqs", name).get("count", 0)
        duration = metric(summary, "http_req_duration", name)
        dropped = metric(summary, "dropped_iterations", name).get("count", 0)
        failures = metric(summary, "failures", name).get("count", 0)
        business = metric(summary, "business_outcomes", name).get("count", 0)
        achieved = reqs / float(seconds)
        rows.append((name, float(rate), achieved, duration, dropped, failures, business, reqs))
    print("| scenario | offered/s | achieved/s | p50 ms | p95 ms | p99 ms | p99.9 ms | max ms | failures | business answers | dropped |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, rate, achieved, d, dropped, failures, business, _ in rows:
        print(f"| {name} | {rate:,.0f} | {achieved:,.0f} | {d.get('med', float('nan')):.2f} | {d.get('p(95)', float('nan')):.2f} | "
              f"{d.get('p(99)', float('nan')):.2f} | {d.get('p(99.9)', float('nan')):.2f} | {d.get('max', float('nan')):.2f} | "
              f"{failures:,.0f} | {business:,.0f} | {dropped:,.0f} |")
    if rows:
        ceiling = rows[0]
        print()
        for name, _, achieved, d, *_ in rows[1:]:
            ratio = achieved / ceiling[2] if ceiling[2] else float("nan")
            p99_ratio = d.get("p(99)", float("nan")) / ceiling[3].get("p(99)", float("nan"))
            print(f"- {name}: {achieved:,.0f}/s = {ratio:.1%} of the bare {ceiling[0]} rate ({ceiling[2]:,.0f}/s); "
                  f"p99 {p99_ratio:.1f}× the bare p99")
    if args.redis_metrics:
        text = urllib.request.urlopen(args.redis_metrics, timeout=5).read().decode()
        values = {}
        for line in text.splitlines():
            for key in ("flashdeal_redis_round_trips_total", "flashdeal_redis_commands_total"):
                if line.startswith(key + '{client="requests"}'):
                    values[key] = float(line.split()[-1])
        graphql = sum(r[7] for r in rows[1:])
        if graphql and values:
            print(f"- Redis on the request path: {values.get('flashdeal_redis_commands_total', 0) / graphql:.2f} commands and "
                  f"{values.get('flashdeal_redis_round_trips_total', 0) / graphql:.2f} round trips per GraphQL request "
                  f"({values.get('flashdeal_redis_commands_total', 0) / max(1, values.get('flashdeal_redis_round_trips_total', 1)):.1f} commands per round trip)")


if __name__ == "__main__":
    main()
