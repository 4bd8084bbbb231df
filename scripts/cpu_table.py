#!/usr/bin/env python3
"""The table (and JSON) of scripts/bench-cpu from its raw samples.

Each operation has four samples (idle-from, idle-to, from, to) and a result line. A process's CPU
per request is its ticks from `from` to `to`, less its idle rate (idle-from → idle-to) over that
span, divided by the requests; negative remainders (noise on a process that did nothing) show as 0.
The pipeline figure of a createOrder row is the sum of the gateway, Redis, the broker (and its
object store), the worker and the MongoDB-protocol server divided by the orders confirmed.
"""
import argparse
import json
import sys

PROCESSES = ["gateway", "worker", "redis", "broker", "mongo"]
NAMES = {"gateway": "gateway", "worker": "worker", "redis": "Redis", "broker": "broker", "mongo": "MongoDB server",
         "k6": "k6"}


def figures(samples, hz):
    by_label = {s["label"]: s for s in samples}
    ops = []
    for s in samples:
        if s["label"].endswith(":result"):
            ops.append(s["label"][: -len(":result")])
    result = {}
    for op in ops:
        r = by_label[f"{op}:result"]
        idle_from, idle_to = by_label[f"{op}:idle-from"], by_label[f"{op}:idle-to"]
        start, end = by_label[f"{op}:from"], by_label[f"{op}:to"]
        requests = max(1, r["requests"])
        idle_span = max(1e-9, idle_to["t"] - idle_from["t"])
        span = end["t"] - start["t"]

        def busy(field_from, field_to, idle_a, idle_b):
            return (field_to - field_from) - (idle_b - idle_a) / idle_span * span

        cpu = {}
        for p in PROCESSES + ["s3"]:
            ticks = busy(start["ticks"][p], end["ticks"][p], idle_from["ticks"][p], idle_to["ticks"][p])
            cpu[p] = max(0.0, ticks / hz * 1e6 / requests)
        # The broker's object store (durable mode only) counts as the broker.
        cpu["broker"] += cpu.pop("s3")
        user, system = (float(x) for x in r["k6_cpu"].split())
        cpu["k6"] = (user + system) * 1e6 / requests
        redis_all = busy(start["redis_calls"], end["redis_calls"], idle_from["redis_calls"], idle_to["redis_calls"])
        gateway_cmds = busy(start["gateway_redis_commands"], end["gateway_redis_commands"],
                            idle_from["gateway_redis_commands"], idle_to["gateway_redis_commands"])
        ctx = r["ctx"] - r["ctx_idle"] / max(1e-9, r["idle_seconds"]) * span
        confirmed = end["confirmed"] - start["confirmed"]
        entry = {
            "requests": r["requests"],
            "errors": r["errors"],
            "seconds": round(span, 2),
            "cpu_us_per_request": {p: round(v, 1) for p, v in cpu.items()},
            "redis_calls_incl_function_bodies_per_request": round(max(0.0, redis_all) / requests, 2),
            "gateway_redis_commands_per_request": round(max(0.0, gateway_cmds) / requests, 2),
            "gateway_context_switches_per_request": round(max(0.0, ctx) / requests, 2),
        }
        if op.startswith("create"):
            entry["confirmed"] = confirmed
            total = sum(cpu[p] * requests for p in PROCESSES)
            entry["pipeline_us_per_confirmed_order"] = round(total / max(1, confirmed), 1)
        result[op] = entry
    livez = result.get("livez", {}).get("cpu_us_per_request", {}).get("gateway")
    for op, entry in result.items():
        if livez:
            entry["gateway_ratio_to_livez"] = round(entry["cpu_us_per_request"]["gateway"] / livez, 2)
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", required=True)
    ap.add_argument("--rate", type=float, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--hz", type=float, default=100)
    ap.add_argument("--json")
    args = ap.parse_args()
    samples = [json.loads(line) for line in open(args.samples) if line.strip()]
    result = figures(samples, args.hz)
    if not result:
        print("no operation was measured", file=sys.stderr)
        sys.exit(1)
    head = ["operation", "requests", "errors"] + [NAMES[p] for p in PROCESSES] + [
        "k6", "gateway ÷ /livez", "gateway ctx switches", "Redis cmds sent by the gateway", "Redis calls incl. function bodies",
        "pipeline per confirmed order"]
    print("| " + " | ".join(head) + " |")
    print("|---|" + "---:|" * (len(head) - 1))
    for op, e in result.items():
        cpu = e["cpu_us_per_request"]
        row = [op, f"{e['requests']:,}", f"{e['errors']:,}"] + [f"{cpu[p]:.1f}" for p in PROCESSES] + [
            f"{cpu['k6']:.1f}",
            f"{e['gateway_ratio_to_livez']:.2f}×" if "gateway_ratio_to_livez" in e else "—",
            f"{e['gateway_context_switches_per_request']:.2f}",
            f"{e['gateway_redis_commands_per_request']:.2f}",
            f"{e['redis_calls_incl_function_bodies_per_request']:.2f}",
            f"{e['pipeline_us_per_confirmed_order']:.1f} ({e['confirmed']:,} confirmed)"
            if "pipeline_us_per_confirmed_order" in e else "—",
        ]
        print("| " + " | ".join(row) + " |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rate_per_second": args.rate, "seconds": args.seconds, "unit": "µs of CPU per request",
                       "operations": result}, f, indent=2, ensure_ascii=False)
            f.write("\n")
        print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
