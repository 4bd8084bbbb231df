#!/usr/bin/env python3
"""The flash-sale report of `make demo`: k6's summary and the oracle's verdict, read at a glance."""
import argparse
import json
import re


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--k6", required=True)
    ap.add_argument("--k6-text", required=True)
    ap.add_argument("--verify", required=True)
    ap.add_argument("--deal", required=True)
    ap.add_argument("--k6-status", type=int, required=True)
    ap.add_argument("--verify-status", type=int, required=True)
    ap.add_argument("--markdown", required=True)
    a = ap.parse_args()
    metrics = json.load(open(a.k6))["metrics"]
    verify = open(a.verify).read().rstrip()
    deal = open(a.deal).read().rstrip()

    def count(name):
        m = metrics.get(name)
        return int(m.get("count", 0)) if m else 0

    outcomes = {}
    for key, m in metrics.items():
        g = re.fullmatch(r"shopper_outcomes\{result:(.+)\}", key)
        if g and m.get("count", 0):
            outcomes[g.group(1)] = int(m["count"])
    lines = ["# Flash sale report", "", "## Deal", "", "```", deal, "```", "", "## Shoppers", ""]
    shoppers = sum(outcomes.values())
    lines.append(f"- journeys finished: {shoppers}; HTTP requests: {count('http_reqs')}; "
                 f"non-business errors: {count('failures')}")
    for k in sorted(outcomes, key=lambda k: -outcomes[k]):
        lines.append(f"- {k}: {outcomes[k]}")
    errors = {}
    for key, m in metrics.items():
        g = re.fullmatch(r"failures\{code:(.+)\}", key)
        if g and m.get("count", 0):
            errors[g.group(1)] = int(m["count"])
    if errors:
        lines.append("- errors by code: " + ", ".join(f"{k} {v}" for k, v in sorted(errors.items(), key=lambda kv: -kv[1])))
    lines += ["", "## Latency per operation (ms)", "",
              "| operation | requests | p50 | p95 | p99 | p99.9 | max |", "|---|---:|---:|---:|---:|---:|---:|"]
    for op in ["joinWaitingRoom", "admission", "createOrder", "order"]:
        m = metrics.get(f"http_req_duration{{name:{op}}}")
        if not m:
            continue
        lines.append(f"| {op} | {int(m.get('count', 0))} | {m.get('med', 0):.1f} | {m.get('p(95)', 0):.1f} | "
                     f"{m.get('p(99)', 0):.1f} | {m.get('p(99.9)', 0):.1f} | {m.get('max', 0):.1f} |")
    for name, label in [("time_to_admission", "join → admitted"), ("time_to_decision", "order accepted → decided")]:
        m = metrics.get(name)
        if m:
            lines.append(f"| {label} | {int(m.get('count', 0))} | {m.get('med', 0):.0f} | {m.get('p(95)', 0):.0f} | "
                         f"{m.get('p(99)', 0):.0f} | {m.get('p(99.9)', 0):.0f} | {m.get('max', 0):.0f} |")
    lines += ["", "## Invariants (flashdeal verify)", "", "```", verify, "```", ""]
    verdict = "PASS" if a.verify_status == 0 else "FAIL"
    k6v = "met" if a.k6_status == 0 else f"NOT met (k6 exit {a.k6_status})"
    lines.append(f"VERDICT: invariants {verdict}; k6 thresholds {k6v}")
    text = "\n".join(lines)
    open(a.markdown, "w").write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
