#!/usr/bin/env python3
"""The flash-sale report of `make demo`, read at a glance: what was offered, queued, admitted,
accepted, rejected and sold, how fast the deal sold out, latency per operation, the admission
timeline and the oracle's verdict. Writes report.md (printed too) and, with --html, a
self-contained report.html with SVG plots (latency over time, waiting room, stock, admissions,
requests per second). Standard library only.

Inputs: k6's summary (k6.json) and text output, `flashdeal verify` and `flashdeal deal create`
outputs, `flashdeal deal show` after the sale (--deal-final), and when present the sampler's time
series (samples.jsonl, scripts/demo_sampler.py) and k6's per-request CSV (k6-requests.csv.gz).
Times are seconds from the deal's opening.

The verdict (and `make demo`'s exit code) is `verdict()`, a pure function of the invariants, k6's
exit status, the thresholds it crossed and the error count. Its command-line mode prints the
verdict line and exits with the code:

    demo_report.py verdict --k6 k6.json --k6-text k6.txt --k6-status N --verify verify.txt
                           --verify-status N [--allow-threshold-miss]

PASS (exit 0): invariants hold, k6 met every threshold, no error. FAIL (exit 1): an invariant
failed (always), k6 itself failed, or — unless --allow-threshold-miss — a threshold was missed
or there were errors (k6's `failures` threshold counts them). PARTIAL (exit 0): invariants hold
and only thresholds/errors were missed, allowed by --allow-threshold-miss; the line names them.
"""
import argparse
import csv
import gzip
import html
import json
import math
import os
import re
import sys
import time
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from datetime import datetime, timezone

OPERATIONS = ["joinWaitingRoom", "admission", "createOrder", "order"]
# Journey outcomes (k6/flash-sale.js) that are refusals, with the reason a person reads.
REFUSALS = {
    "join_SOLD_OUT": "sold out when joining the waiting room",
    "SOLD_OUT": "sold out while waiting in line",
    "SOLD_OUT_AT_ORDER": "sold out at createOrder",
    "REJECTED": "rejected by the worker",
    "join_RATE_LIMITED": "rate limited when joining",
    "ORDER_RATE_LIMITED": "rate limited at createOrder (5 tries)",
    "ENDED": "deal ended while waiting",
    "EXPIRED": "place expired while waiting",
    "PASS_USED": "pass already used",
    "FAILED": "failed by the worker (compensated)",
}
# Error codes that are refusals by design (docs/api.md); join_X and order_X outcomes with any other
# code are failures, counted under errors.
BUSINESS_CODES = {"RATE_LIMITED", "QUEUED", "SOLD_OUT", "DEAL_NOT_OPEN", "DEAL_ENDED", "LIMIT_EXCEEDED", "PASS_USED"}


# --------------------------------------------------------------------------------------- verdict

K6_THRESHOLDS_FAILED = 99  # k6's exit code when a threshold was crossed (any other non-zero: k6 failed)
RELAX_FLAG = "--allow-threshold-miss"


def k6_crossed(metrics):
    """The thresholds k6's summary export marks as crossed (`"thresholds": {expr: true}`), each as
    "metric expr, got value" (value of the aggregate the expression tests, when the summary has it)."""
    out = []
    for name, m in (metrics or {}).items():
        for expr, crossed in (m.get("thresholds") or {}).items():
            if not crossed:
                continue
            agg = re.match(r"\s*([a-z]+(?:\([0-9.]+\))?)\s*(?:<=|>=|==|!=|<|>)", expr)
            got = m.get(agg.group(1)) if agg else None
            unit = " ms" if name.startswith(("http_req_duration", "time_to_")) else ""
            out.append(f"{name} {expr}" + ("" if got is None else f", got {f'{got:,.1f}'.removesuffix('.0')}{unit}"))
    return out


def k6_crossed_from_text(text):
    """The crossed thresholds (✗) of k6's text output's THRESHOLDS block, for a run without a summary."""
    out, base, metric, inside = [], None, None, False
    for line in (text or "").splitlines():
        s = line.strip()
        if "THRESHOLDS" in s:
            inside = True
            continue
        if not inside or not s:
            continue
        if s.startswith("█") or "TOTAL RESULTS" in s:
            break
        m = re.match(r"✗\s+'([^']*)'\s*(.*)", s)
        if m:
            out.append(f"{metric} {m.group(1)}" + (f", got {m.group(2)}" if m.group(2) else ""))
        elif s.startswith("{"):
            metric = f"{base}{s.replace(' ', '')}"
        elif not s.startswith("✓"):
            base = metric = s
    return out


def k6_errors(metrics, text=None):
    """(errors, {code: count}): k6's `failures` counter from the summary, else from its text output;
    (None, {}) when neither says."""
    codes = {}
    for key, m in (metrics or {}).items():
        g = re.fullmatch(r"failures\{code:(.+)\}", key)
        if g and m.get("count"):
            codes[g.group(1)] = int(m["count"])
    if metrics:
        total = int((metrics.get("failures") or {}).get("count", 0))
        return max(total, sum(codes.values())), codes
    m = re.search(r"^\s*failures\.*:\s*([0-9][0-9,]*)", text or "", re.M)
    if m:
        return int(m.group(1).replace(",", "")), codes
    return None, codes


def invariants_hold(verify_status, verify_text=""):
    return verify_status == 0 and "invariants: FAIL" not in (verify_text or "")


def verdict(invariants_ok, k6_status, crossed, errors, allow_threshold_miss=False, error_codes=None):
    """The run's verdict and `make demo`'s exit code; pure.

    invariants_ok: flashdeal verify passed. k6_status: k6's exit code. crossed: the thresholds it
    missed (names). errors: non-business errors k6 counted (None: unknown). allow_threshold_miss:
    missed thresholds and errors do not fail the run (invariant failures and a failed k6 always do).
    Returns {"word": PASS|PARTIAL|FAIL, "code": exit code, "line": "VERDICT: …", "level": pass|partial|fail,
    "parts": [invariants, k6, errors], "failed": [what did not pass]}.
    """
    failed = []
    invariants = "invariants PASS" if invariants_ok else "invariants FAIL"
    if not invariants_ok:
        failed.append("invariants FAIL (flashdeal verify)")
    k6_broke = k6_status not in (0, K6_THRESHOLDS_FAILED)
    missed = bool(crossed) or k6_status == K6_THRESHOLDS_FAILED
    if k6_broke:
        k6 = f"k6 failed (exit {k6_status}, not a threshold miss)"
        failed.append(k6)
    elif missed:
        k6 = "k6 thresholds missed (" + ("; ".join(crossed) if crossed else f"k6 exit {k6_status}") + ")"
        failed.append(k6)
    else:
        k6 = "k6 thresholds met"
    if errors is None:
        errs = "errors unknown (no k6 summary)"
        failed.append(errs)
    else:
        errs = f"{errors:,} error{'' if errors == 1 else 's'}"
        if error_codes:
            errs += " (" + ", ".join(f"{c} {v:,}" for c, v in sorted(error_codes.items(), key=lambda kv: -kv[1])) + ")"
        if errors:
            failed.append(errs)
    hard = not invariants_ok or k6_broke
    soft = missed or errors is None or errors > 0
    if not hard and not soft:
        word, code, level, tail = "PASS", 0, "pass", ""
    elif hard or not allow_threshold_miss:
        word, code, level, tail = "FAIL", 1, "fail", ""
        if not hard:
            tail = f" (exit 1; {RELAX_FLAG} or DEMO_STRICT=0 accepts missed thresholds and errors)"
    else:
        word, code, level = "PARTIAL", 0, "partial"
        tail = f" (exit 0: missed thresholds and errors allowed by {RELAX_FLAG} / DEMO_STRICT=0)"
    parts = [invariants, k6, errs]
    return {"word": word, "code": code, "level": level, "parts": parts, "failed": failed,
            "line": f"VERDICT: {word} — " + ", ".join(parts) + tail}


def read_text(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except (OSError, TypeError):
        return ""


def read_k6_summary(path):
    """k6's summary export's metrics; {} when the file is missing or not JSON (k6 did not finish)."""
    try:
        with open(path) as f:
            return json.load(f).get("metrics") or {}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def run_verdict(metrics, k6_text, k6_status, verify_text, verify_status, allow_threshold_miss):
    """verdict() from the run's outputs as scripts/demo writes them."""
    crossed = k6_crossed(metrics) if metrics else k6_crossed_from_text(k6_text)
    errors, codes = k6_errors(metrics, k6_text)
    return verdict(invariants_hold(verify_status, verify_text), k6_status, crossed, errors,
                   allow_threshold_miss, codes)


def verdict_main(argv):
    ap = argparse.ArgumentParser(prog="demo_report.py verdict",
                                 description="Print the demo's verdict line and exit with its code (0 or 1).")
    ap.add_argument("--k6", required=True, help="k6's --summary-export file (k6.json)")
    ap.add_argument("--k6-text", help="k6's text output (k6.txt): the thresholds when the summary is missing")
    ap.add_argument("--k6-status", type=int, required=True, help="k6's exit code")
    ap.add_argument("--verify", required=True, help="flashdeal verify's output (verify.txt)")
    ap.add_argument("--verify-status", type=int, required=True, help="flashdeal verify's exit code")
    ap.add_argument(RELAX_FLAG, action="store_true", dest="allow_threshold_miss",
                    help="missed k6 thresholds and errors give PARTIAL, exit 0 (invariant failures still fail)")
    a = ap.parse_args(argv)
    v = run_verdict(read_k6_summary(a.k6), read_text(a.k6_text), a.k6_status, read_text(a.verify),
                    a.verify_status, a.allow_threshold_miss)
    print(v["line"])
    return v["code"]


# ---------------------------------------------------------------------------------------- inputs

def parse_deal(text):
    deal = {"text": text}
    m = re.search(r"^deal\s+(\S+)", text, re.M)
    deal["id"] = m.group(1) if m else None
    m = re.search(r"window\s+(\S+)", text)
    deal["opens"] = datetime.fromisoformat(m.group(1).replace("Z", "+00:00")).timestamp() if m else None
    m = re.search(r"stock\s+(\d+) units", text)
    deal["stock"] = int(m.group(1)) if m else None
    return deal


def value(sample, name, **labels):
    """Sum of one metric's samples whose labels include `labels`; None when there is none."""
    if not sample:
        return None
    found, total = False, 0.0
    for key, v in sample.items():
        base, _, rest = key.partition("{")
        if base == name and all(f'{k}="{lv}"' in rest for k, lv in labels.items()):
            found, total = True, total + v
    return total if found else None


def labelled(sample, name, label, **labels):
    """{label value: sample value} for one metric."""
    out = {}
    for key, v in (sample or {}).items():
        base, _, rest = key.partition("{")
        if base != name or not all(f'{k}="{lv}"' in rest for k, lv in labels.items()):
            continue
        m = re.search(label + r'="([^"]*)"', rest)
        if m:
            out[m.group(1)] = out.get(m.group(1), 0) + v
    return out


def read_metrics(path):
    """A Prometheus text file as {"name{labels}": value} (flashdeal_* samples, no buckets)."""
    if not path or not os.path.exists(path):
        return None
    out = {}
    for line in open(path):
        m = re.match(r"^(flashdeal_[A-Za-z0-9_:]*)(\{[^}]*\})?\s+(\S+)", line)
        if m and not m.group(1).endswith("_bucket"):
            out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


def load_samples(path, t0):
    rows = []
    if not path or not os.path.exists(path):
        return rows
    for line in open(path):
        try:
            s = json.loads(line)
        except ValueError:
            continue
        rows.append((s["t"] - t0, s.get("gateway"), s.get("worker")))
    return rows


def load_requests(path, t0):
    """Per operation [(t, ms)], journey outcomes and failures by (operation, code), from k6's CSV."""
    durations, outcomes, failures = defaultdict(list), Counter(), Counter()
    if not path or not os.path.exists(path):
        return None
    with gzip.open(path, "rt", newline="") as f:
        for row in csv.DictReader(f):
            metric = row["metric_name"]
            if metric == "http_req_duration":
                durations[row["name"]].append((int(row["timestamp"]) / 1000 - t0, float(row["metric_value"])))
            elif metric in ("shopper_outcomes", "failures"):
                tags = dict(p.split("=", 1) for p in row.get("extra_tags", "").split("&") if "=" in p)
                n = int(float(row["metric_value"]))
                if metric == "shopper_outcomes":
                    outcomes[tags.get("result", "?")] += n
                else:
                    failures[(row.get("name") or tags.get("name") or "-", tags.get("code", "?"))] += n
    return {"durations": durations, "outcomes": outcomes, "failures": failures}


# ----------------------------------------------------------------------------------- computation

def percentile(sorted_values, p):
    if not sorted_values:
        return None
    return sorted_values[max(0, math.ceil(p / 100 * len(sorted_values)) - 1)]


def series(samples, source, name, **labels):
    """[(t, value)] of one metric over the samples (absent values skipped)."""
    out = []
    for t, gateway, worker in samples:
        v = value(gateway if source == "gateway" else worker, name, **labels)
        if v is not None:
            out.append((t, v))
    return out


def at(points, t):
    """The last value at or before t (a counter's reading at t), 0 before the first."""
    last = 0.0
    for pt, v in points:
        if pt > t:
            break
        last = v
    return last


def per_second(points, start, end):
    """{second: increase of a counter during [second, second + 1)}."""
    return {s: max(0.0, at(points, s + 1) - at(points, s)) for s in range(start, end)}


def first_time(points, predicate):
    for t, v in points:
        if predicate(v):
            return t
    return None


def latency_buckets(durations):
    """{operation: [(second, count, p50, p95, p99)]} per 1 s bucket."""
    out = {}
    for op, points in durations.items():
        buckets = defaultdict(list)
        for t, ms in points:
            buckets[math.floor(t)].append(ms)
        rows = []
        for s in sorted(buckets):
            v = sorted(buckets[s])
            rows.append((s, len(v), percentile(v, 50), percentile(v, 95), percentile(v, 99)))
        out[op] = rows
    return out


def spark(values):
    """A Unicode sparkline, scaled from 0 to the largest value."""
    bars = "▁▂▃▄▅▆▇█"
    top = max([v for v in values if v is not None] or [0])
    if top <= 0:
        return "".join(" " if v is None else bars[0] for v in values)
    return "".join(" " if v is None else bars[min(7, int(v / top * 7.999))] for v in values)


def n(v):
    return "–" if v is None else f"{v:,.0f}"


def secs(t):
    return "–" if t is None else f"{t:+.1f} s"


def clock(ts):
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%H:%M:%S.%f")[:-3] + "Z"


# ------------------------------------------------------------------------------------------ SVG

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"]


def nice_ticks(lo, hi, count=5):
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.floor(lo / step) * step
    ticks, v = [], first
    while True:
        ticks.append(round(v, 10))
        if v >= hi - step * 1e-9:
            return ticks
        v += step


def log_ticks(lo, hi):
    ticks = []
    for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
        for m in (1, 2, 5):
            v = m * 10 ** e
            if lo <= v <= hi:
                ticks.append(v)
    return ticks


def fmt_tick(v):
    if v >= 1000:
        return f"{v / 1000:g}k" if v % 1000 == 0 else f"{v:,.0f}"
    return f"{v:g}"


def svg_chart(title, lines=(), bars=(), x_range=(0, 1), y_label="", log=False, markers=(), note=None,
              width=900, height=250):
    """A line (and bar) chart as inline SVG. lines: (label, color, [(x, y)], dashed)."""
    left, right, top, bottom = 58, 16, 46, 34
    pw, ph = width - left - right, height - top - bottom
    x0, x1 = x_range
    ys = [y for _, _, pts, *_ in lines for _, y in pts if y is not None]
    ys += [y for _, _, pts in bars for _, y in pts]
    if log:
        positive = [y for y in ys if y > 0]
        lo = 10 ** math.floor(math.log10(min(positive))) if positive else 1
        hi = 10 ** math.ceil(math.log10(max(positive))) if positive else 10
        hi = max(hi, lo * 10)
        ticks = log_ticks(lo, hi)
        def ymap(y):
            return top + ph - (math.log10(max(y, lo)) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)) * ph
    else:
        hi = max(ys) if ys else 1
        ticks = nice_ticks(0, hi if hi > 0 else 1)
        hi = ticks[-1]
        def ymap(y):
            return top + ph - y / hi * ph

    def xmap(x):
        return left + (x - x0) / (x1 - x0 or 1) * pw

    e = html.escape
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
           f'role="img" aria-label="{e(title)}" class="chart">',
           f'<text x="{left}" y="18" class="title">{e(title)}</text>',
           f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" class="plot"/>']
    for t in ticks:
        y = ymap(t)
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                   f'<text x="{left - 6}" y="{y + 4:.1f}" class="ytick">{fmt_tick(t)}</text>')
    for t in nice_ticks(x0, x1, 10):
        if x0 <= t <= x1 and not (t < x1 and x1 - t < (x1 - x0) * 0.02):
            x = xmap(t)
            out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top + ph}" y2="{top + ph + 4}" class="axis"/>'
                       f'<text x="{x:.1f}" y="{top + ph + 16}" class="xtick">{t:+g}</text>')
    out.append(f'<text x="{left + pw}" y="{height - 2}" class="xlabel">seconds from the opening</text>')
    if y_label:
        out.append(f'<text x="12" y="{top + ph / 2}" class="ylabel" '
                   f'transform="rotate(-90 12 {top + ph / 2})">{e(y_label)}</text>')
    for label, color, pts in bars:
        bw = max(1.0, pw / (x1 - x0 or 1) * 0.8)
        for x, y in pts:
            if x0 <= x <= x1 and y > 0:
                out.append(f'<rect x="{xmap(x):.1f}" y="{ymap(y):.1f}" width="{bw:.1f}" '
                           f'height="{top + ph - ymap(y):.1f}" fill="{color}" opacity="0.45">'
                           f'<title>{e(label)} {x:+g} s: {y:g}</title></rect>')
    for label, color, pts, *rest in lines:
        dashed = rest[0] if rest else False
        label = label or ""
        inside = [(x, y) for x, y in pts if x0 <= x <= x1 and y is not None]
        if not inside:
            continue
        path = " ".join(f"{'M' if i == 0 else 'L'}{xmap(x):.1f},{ymap(y):.1f}" for i, (x, y) in enumerate(inside))
        dash = ' stroke-dasharray="5,3"' if dashed else ""
        out.append(f'<path d="{path}" stroke="{color}" fill="none" stroke-width="1.6"{dash}>'
                   f'<title>{e(label)}</title></path>')
    for i, (label, x) in enumerate(markers):
        if x is not None and x0 <= x <= x1:
            out.append(f'<line x1="{xmap(x):.1f}" x2="{xmap(x):.1f}" y1="{top}" y2="{top + ph}" class="marker"/>'
                       f'<text x="{xmap(x) + 3:.1f}" y="{top + 11 + 12 * i}" class="mlabel">{e(label)}</text>')
    lx = left
    legend = [(label, color) for label, color, *_ in bars] + [(label, color) for label, color, *_ in lines if label]
    for label, color in legend:
        out.append(f'<rect x="{lx:.0f}" y="27" width="10" height="10" fill="{color}"/>'
                   f'<text x="{lx + 14:.0f}" y="36" class="legend">{e(label)}</text>')
        lx += 30 + 6.5 * len(label)
    out.append("</svg>")
    if note:
        out.append(f'<p class="note">{e(note)}</p>')
    return "\n".join(out)


def held_after(label, color, points, t):
    """A gauge drawn solid up to t and dashed after it (where it only holds its last value)."""
    if t is None:
        return [(label, color, points)]
    before = [(x, y) for x, y in points if x <= t]
    after = [(x, y) for x, y in points if x > t]
    return [(label, color, before), (None, color, before[-1:] + after, True)]


# ---------------------------------------------------------------------------------------- report

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--k6", required=True)
    ap.add_argument("--k6-text", required=True)
    ap.add_argument("--verify", required=True)
    ap.add_argument("--deal", required=True)
    ap.add_argument("--k6-status", type=int, required=True)
    ap.add_argument("--verify-status", type=int, required=True)
    ap.add_argument("--markdown", required=True)
    ap.add_argument("--samples", help="the sampler's JSON lines (scripts/demo_sampler.py)")
    ap.add_argument("--k6-csv", help="k6's per-request CSV output (gzip)")
    ap.add_argument("--html", help="also write this self-contained HTML report with plots")
    ap.add_argument("--gateway-metrics", help="the gateway's /metrics at the end (when there are no samples)")
    ap.add_argument("--worker-metrics", help="the worker's /metrics at the end (when there are no samples)")
    ap.add_argument("--prometheus", help="the run's Prometheus (base URL): a few figures are read back from it")
    ap.add_argument("--prometheus-since", type=float, help="when Prometheus started scraping (Unix seconds)")
    ap.add_argument("--deal-final", help="`flashdeal deal show` read after the sale (its file's time is when)")
    ap.add_argument(RELAX_FLAG, action="store_true", dest="allow_threshold_miss",
                    help="missed k6 thresholds and errors make the verdict PARTIAL instead of FAIL")
    a = ap.parse_args()
    metrics = read_k6_summary(a.k6)
    verify = read_text(a.verify).rstrip()
    deal = parse_deal(read_text(a.deal).rstrip())
    t0 = deal["opens"] or 0.0
    samples = load_samples(a.samples, t0)
    requests = load_requests(a.k6_csv, t0)
    r = compute(metrics, verify, deal, samples, requests, a)
    r["k6_errors"] = k6_errors(metrics, read_text(a.k6_text))[0]
    r["verdict_v"] = run_verdict(metrics, read_text(a.k6_text), a.k6_status, verify, a.verify_status,
                                 a.allow_threshold_miss)
    r["deal_created_at"] = os.path.getmtime(a.deal) if os.path.exists(a.deal) else None
    r["deal_final"] = None
    if a.deal_final and read_text(a.deal_final).strip():
        r["deal_final"] = (read_text(a.deal_final).rstrip(), os.path.getmtime(a.deal_final))
    r["prometheus"] = read_back(a.prometheus, a.prometheus_since) if a.prometheus else None
    text = markdown(r, a)
    open(a.markdown, "w").write(text + "\n")
    if a.html:
        open(a.html, "w").write(render_html(r))
    print(text)


# The availability SLI's selectors (prometheus/rules/flashdeal-recording.yml): the shopper path, and
# its answers that are neither ok nor a business outcome.
SLI_PATH = 'operation=~"joinWaitingRoom|admission|createOrder"'
SLI_ERRORS = 'outcome!~"ok|RATE_LIMITED|QUEUED|SOLD_OUT|DEAL_NOT_OPEN|DEAL_ENDED|LIMIT_EXCEEDED|PASS_USED"'
# Figures read back from the run's Prometheus: (label, PromQL with {w} = the run's window, scale, unit).
PROMETHEUS_FIGURES = [
    ("targets up (gateway, worker)", "count(up == 1)", 1, ""),
    ("peak GraphQL operations/s (5 s rate)", "max_over_time(sum(rate(flashdeal_gateway_operations_total[5s]))[{w}:1s])", 1, "/s"),
    ("createOrder p99 over the run (gateway histogram)",
     'histogram_quantile(0.99, sum by (le) (increase(flashdeal_gateway_operation_duration_seconds_bucket{{operation="createOrder"}}[{w}])))',
     1000, " ms"),
    ("accept → outcome p99 (worker histogram)",
     "histogram_quantile(0.99, sum by (le) (increase(flashdeal_worker_accept_to_outcome_seconds_bucket[{w}])))", 1000, " ms"),
    ("orders confirmed (worker counter)", 'sum(flashdeal_worker_orders_total{{status="CONFIRMED"}})', 1, ""),
    ("orders rejected (worker counter)", 'sum(flashdeal_worker_orders_total{{status="REJECTED"}})', 1, ""),
    ("peak waiting-room depth", "max_over_time(sum(flashdeal_waitingroom_waiting)[{w}:1s])", 1, ""),
    ("peak consumer lag (recording rule topic:…:sum)", "max(max_over_time(topic:flashdeal_kafka_consumer_lag_messages:sum[{w}]))", 1, " messages"),
    # The availability SLI over the whole run. The gateway was started for this run, so its counters'
    # values at the end are the run's totals. (The SLO rule's 5-minute rate read after the run is no
    # measure of it: a series that first appears with errors already counted has no earlier sample,
    # so rate() and increase() miss them — that read 0 % beside 20 errors.)
    ("shopper-path errors over the run (gateway counters since it started; the availability SLI's errors)",
     f"sum(flashdeal_gateway_operations_total{{{{{SLI_PATH},{SLI_ERRORS}}}}}) or vector(0)", 1, ""),
    ("availability errors over the run (share of the gateway's shopper-path answers)",
     f"(sum(flashdeal_gateway_operations_total{{{{{SLI_PATH},{SLI_ERRORS}}}}}) or vector(0))"
     f" / sum(flashdeal_gateway_operations_total{{{{{SLI_PATH}}}}})", 100, " %"),
]


def read_back(base, since):
    """Evaluates PROMETHEUS_FIGURES at the end of the run; None values when Prometheus cannot answer."""
    window = f"{max(10, int(time.time() - (since or time.time())) + 1)}s"
    out = []
    for label, query, scale, unit in PROMETHEUS_FIGURES:
        expr = query.format(w=window)
        try:
            url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
            reply = json.load(urllib.request.urlopen(url, timeout=10))
            result = reply["data"]["result"]
            v = float(result[0]["value"][1]) * scale if result else None
            out.append((label, None if v is None or v != v else v, unit, expr))
        except Exception as error:  # noqa: BLE001 - reported as "no answer" with the reason
            out.append((label, None, f" (no answer: {error})", expr))
    return out


def prometheus_rows(r):
    rows = []
    for label, v, unit, expr in r["prometheus"] or []:
        if v is None:
            shown = "—" + unit
        elif unit == " %":  # a small share must not round to 0 beside a non-zero count
            shown = f"{v:.3g}" + unit
        else:
            shown = (f"{v:,.1f}" if abs(v) < 100 and v != int(v) else f"{v:,.0f}") + unit
        rows.append((label, shown, expr))
    return rows


def prometheus_note(r):
    """Where the gateway's error count read back differs from k6's, why (they count different things)."""
    gateway = next((v for label, v, _, _ in r["prometheus"] or [] if label.startswith("shopper-path errors")), None)
    k6 = r.get("k6_errors")
    if gateway is None or k6 is None or round(gateway) == k6:
        return None
    return (f"k6 counted {k6:,} errors end to end, the gateway's counters {gateway:,.0f}: they count at different "
            "ends — k6 also counts transport failures and refusals that never reached a GraphQL field (the gateway "
            "never answered them), the gateway also counts answers k6 gave up waiting for. The verdict uses k6's "
            "count.")


def compute(metrics, verify, deal, samples, requests, a):
    r = {"deal": deal, "verify": verify, "metrics": metrics, "samples": samples, "requests": requests}

    def count(name):
        m = metrics.get(name)
        return int(m.get("count", 0)) if m else 0

    # Journey outcomes and failures: complete from the CSV, else the summary's listed ones.
    if requests:
        outcomes, failures = dict(requests["outcomes"]), dict(requests["failures"])
    else:
        outcomes, failures = {}, {}
        for key, m in metrics.items():
            g = re.fullmatch(r"shopper_outcomes\{result:(.+)\}", key)
            if g and m.get("count", 0):
                outcomes[g.group(1)] = int(m["count"])
            g = re.fullmatch(r"failures\{code:(.+)\}", key)
            if g and m.get("count", 0):
                failures[("-", g.group(1))] = int(m["count"])
    r["outcomes"], r["failures"] = outcomes, failures
    r["started"], r["dropped"] = count("iterations"), count("dropped_iterations")
    r["http_reqs"], r["failure_count"] = count("http_reqs"), count("failures")

    dealid = deal["id"]
    last_gw = next((g for _, g, _ in reversed(samples) if g), None) or read_metrics(a.gateway_metrics)
    last_wk = next((w for _, _, w in reversed(samples) if w), None) or read_metrics(a.worker_metrics)
    r["last_gateway"] = last_gw
    r["queued"] = value(last_gw, "flashdeal_waitingroom_joins_total", deal=dealid)
    r["admitted"] = value(last_gw, "flashdeal_waitingroom_admitted_total", deal=dealid)
    r["accepted"] = value(last_gw, "flashdeal_gateway_operations_total", operation="createOrder", outcome="ok")
    if r["accepted"] is None:
        m = re.search(r"requested orders\s*:\s*(\d+)", verify)
        r["accepted"] = int(m.group(1)) if m else None
    r["worker_reasons"] = {k: v for k, v in labelled(last_wk, "flashdeal_worker_reservations_total", "result",
                                                      replay="false").items() if k != "RESERVED" and v}
    m = re.search(r"sold \(confirmed\)\s*:\s*(\d+)", verify)
    r["sold"] = int(m.group(1)) if m else value(last_wk, "flashdeal_worker_orders_total", status="CONFIRMED")
    r["refusals"] = {k: v for k, v in outcomes.items()
                     if k in REFUSALS or (k.startswith(("join_", "order_")) and k.split("_", 1)[1] in BUSINESS_CODES)}
    # Other workers consuming the same topic (a shared stack) decide part of the orders: this run's
    # worker counters are then partial.
    m = re.search(r"in MongoDB\s*:\s*(.*)", verify)
    stored = {k: int(v) for k, v in re.findall(r"([A-Z]+) (\d+)", m.group(1))} if m else {}
    decided = sum(v for k, v in stored.items() if k != "PENDING")
    mine = sum(labelled(last_wk, "flashdeal_worker_orders_total", "status").values())
    r["worker_share"] = (int(mine), decided) if last_wk is not None and decided and mine < decided else None
    # The verdict (invariants, thresholds, errors) is run_verdict()'s, set by main().

    # Time series, seconds from the opening.
    gs = lambda name, **kw: series(samples, "gateway", name, **kw)  # noqa: E731
    ws = lambda name, **kw: series(samples, "worker", name, **kw)  # noqa: E731
    ts = {
        "waiting": gs("flashdeal_waitingroom_waiting", deal=dealid),
        "passes": gs("flashdeal_waitingroom_active_passes", deal=dealid),
        "rate": gs("flashdeal_waitingroom_admission_rate", deal=dealid),
        "admitted": gs("flashdeal_waitingroom_admitted_total", deal=dealid),
        "joins": gs("flashdeal_waitingroom_joins_total", deal=dealid),
        "stock": gs("flashdeal_deal_stock_remaining", deal=dealid),
        "accepted": gs("flashdeal_gateway_operations_total", operation="createOrder", outcome="ok"),
        "operations": gs("flashdeal_gateway_operations_total"),
        "confirmed": ws("flashdeal_worker_orders_total", status="CONFIRMED"),
        "rejected": ws("flashdeal_worker_orders_total", status="REJECTED"),
    }
    if deal["stock"] and ts["stock"] and ts["stock"][0][0] > 0:
        ts["stock"].insert(0, (0.0, float(deal["stock"])))  # nothing can be reserved before the opening
    r["ts"] = ts
    r["sold_out_at"] = first_time(ts["stock"], lambda v: v <= 0)
    before = [t for t, v in ts["stock"] if v > 0 and (r["sold_out_at"] is None or t < r["sold_out_at"])]
    r["sold_out_after"] = max(before) if before else None
    total = deal["stock"] or r["sold"] or 0
    r["all_confirmed_at"] = first_time(ts["confirmed"], lambda v: total and v >= total)
    r["first_admission_at"] = first_time(ts["admitted"], lambda v: v > 0)

    # The span to plot and tabulate: from the first sample (or request) to the last request.
    ends = [t for t, _, _ in samples[:1]] + [t for t, _, _ in samples[-1:]]
    if requests and requests["durations"]:
        all_t = [t for pts in requests["durations"].values() for t, _ in pts]
        ends = [min(all_t + ends[:1]), max(all_t)]
    r["span"] = (math.floor(min(ends)), math.ceil(max(ends)) + 1) if ends else (0, 1)
    s0, s1 = r["span"]
    r["admitted_per_s"] = per_second(ts["admitted"], s0, s1) if ts["admitted"] else {}
    r["joins_per_s"] = per_second(ts["joins"], s0, s1) if ts["joins"] else {}
    r["accepted_per_s"] = per_second(ts["accepted"], s0, s1) if ts["accepted"] else {}
    r["ops_per_s"] = per_second(ts["operations"], s0, s1) if ts["operations"] else {}
    r["latency"] = latency_buckets(requests["durations"]) if requests else {}
    r["reqs_per_s"] = {op: Counter(math.floor(t) for t, _ in pts)
                       for op, pts in (requests["durations"].items() if requests else [])}
    if r["reqs_per_s"]:  # what k6 sent, rather than the gateway's counter between two scrapes
        r["ops_per_s"] = {sec: sum(c.get(sec, 0) for c in r["reqs_per_s"].values()) for sec in range(s0, s1)}
    return r


def glance_rows(r):
    """(figure, value, what it counts) — the at-a-glance block."""
    rows = []
    started = r["started"]
    rows.append(("offered", n(started), "shoppers who arrived and started a journey"
                 + (f" (k6 dropped {r['dropped']:,} more scheduled arrivals: no free VU in time)" if r["dropped"] else "")))
    rows.append(("queued", n(r["queued"]), "took a place in the waiting room (pre-queue before the opening, "
                 "first come first served after)"))
    rows.append(("admitted", n(r["admitted"]), "passes the waiting room issued"))
    requested = re.search(r"requested orders\s*:\s*(\d+)", r["verify"])
    also = f"; flashdeal verify counts {int(requested.group(1)):,} requested orders" \
        if requested and r["accepted"] is not None and int(requested.group(1)) != r["accepted"] else ""
    rows.append(("accepted", n(r["accepted"]), "orders createOrder accepted (durably queued in Kafka)" + also))
    refusals = r["refusals"]
    parts = []
    for k, v in sorted(refusals.items(), key=lambda kv: -kv[1]):
        part = f"{REFUSALS.get(k, k.replace('_', ' ').lower())}: {v:,}"
        if k == "REJECTED" and r["worker_reasons"]:
            part += (" (worker's reasons: " if r["worker_share"] is None else " (this run's worker's reasons: ") \
                + ", ".join(f"{rk} {rv:,.0f}" for rk, rv in r["worker_reasons"].items()) + ")"
        parts.append(part)
    rows.append(("rejected", n(sum(refusals.values())), "; ".join(parts) or "none"))
    stock = r["deal"]["stock"]
    rows.append(("sold", f"{n(r['sold'])} of {n(stock)}", "units confirmed (flashdeal verify)"))
    if r["sold_out_at"] is not None:
        how = f"stock 0 at {clock(r['deal']['opens'] + r['sold_out_at'])} (sampled every 0.5 s"
        how += f"; still {n(at(r['ts']['stock'], r['sold_out_after']))} left at {secs(r['sold_out_after'])})" \
            if r["sold_out_after"] is not None else ")"
        if r["all_confirmed_at"] is not None:
            how += f"; every unit confirmed by {secs(r['all_confirmed_at'])}"
        rows.append(("time to sell out", f"{r['sold_out_at']:.1f} s", "from the opening; " + how))
    else:
        rows.append(("time to sell out", "–", "not sold out" if r["samples"] else "no time series for this run"))
    errors = sum(r["failures"].values())
    detail = "; ".join(f"{code} at {op}: {v:,}" for (op, code), v in sorted(r["failures"].items(), key=lambda kv: -kv[1]))
    causes = []
    limiter = value(r["last_gateway"], "flashdeal_ratelimit_requests_total", outcome="unavailable")
    if limiter:
        causes.append(f"the rate limiter answered UNAVAILABLE {limiter:,.0f} times (Redis past its budget, "
                      "circuit breaker)")
    for reason, v in labelled(r["last_gateway"], "flashdeal_gateway_shed_total", "reason").items():
        if v:
            causes.append(f"createOrder shed {v:,.0f} times ({reason})")
    if causes:
        detail += " — " + "; ".join(causes)
    rows.append(("errors", n(errors), detail or "no transport failures, 5xx or undesigned error codes"))
    if r["worker_share"]:
        mine, decided = r["worker_share"]
        rows.append(("this run's worker", f"{mine:,} of {decided:,}", "orders it decided; other workers consuming the "
                     "same topic on this stack decided the rest, so its counters and curves show its share only"))
    return rows


def latency_rows(r):
    rows = []
    for op in OPERATIONS:
        m = r["metrics"].get(f"http_req_duration{{name:{op}}}")
        if m:
            rows.append((op, int(m.get("count", 0)), m.get("med", 0), m.get("p(95)", 0), m.get("p(99)", 0),
                         m.get("p(99.9)", 0), m.get("max", 0), 1))
    for name, label in [("time_to_admission", "join → admitted"), ("time_to_decision", "order accepted → decided")]:
        m = r["metrics"].get(name)
        if m:
            rows.append((label, int(m.get("count", 0)), m.get("med", 0), m.get("p(95)", 0), m.get("p(99)", 0),
                         m.get("p(99.9)", 0), m.get("max", 0), 0))
    return rows


def timeline_rows(r):
    """Per second around the opening and the sell-out: the admission timeline."""
    ts = r["ts"]
    if not ts["admitted"] and not ts["joins"]:
        return []
    s0, s1 = r["span"]
    end = math.ceil(r["sold_out_at"]) + 3 if r["sold_out_at"] is not None else s1
    first = max(s0, -3)
    lat = {s: p99 for s, _, _, _, p99 in r["latency"].get("createOrder", [])}
    rows = []
    for s in range(first, min(s1, end + 1)):
        rows.append((s, r["joins_per_s"].get(s), r["admitted_per_s"].get(s), at(ts["waiting"], s + 1),
                     at(ts["passes"], s + 1), at(ts["stock"], s + 1) if ts["stock"] and ts["stock"][0][0] <= s + 1 else None,
                     r["accepted_per_s"].get(s), at(ts["confirmed"], s + 1), r["ops_per_s"].get(s), lat.get(s)))
    return rows


def spark_rows(r):
    s0, s1 = r["span"]
    ts, secs_ = r["ts"], range(s0, s1)
    out = []

    def add(label, values, unit=""):
        vals = [v for v in values if v is not None]
        if vals:
            out.append((label, spark(values), f"{min(vals):,.0f}–{max(vals):,.0f}{unit}"))

    add("gateway requests/s", [r["ops_per_s"].get(s) for s in secs_])
    add("joined/s", [r["joins_per_s"].get(s) for s in secs_])
    add("admitted/s", [r["admitted_per_s"].get(s) for s in secs_])
    add("waiting (queue)", [at(ts["waiting"], s + 1) for s in secs_])
    add("stock remaining", [at(ts["stock"], s + 1) if ts["stock"] and ts["stock"][0][0] <= s + 1 else None for s in secs_])
    add("confirmed" + (" (this run's worker)" if r["worker_share"] else ""), [at(ts["confirmed"], s + 1) for s in secs_])
    for op in OPERATIONS:
        b = {s: p99 for s, _, _, _, p99 in r["latency"].get(op, [])}
        add(f"p99 {op}", [b.get(s) for s in secs_], " ms")
    return out


def markdown(r, a):
    deal = r["deal"]
    verdict_line = r["verdict_v"]["line"]
    lines = [f"# Flash sale report — {deal['id'] or ''}", "", f"**{verdict_line}**", ""]
    if a.html:
        lines += [f"Plots: [report.html]({os.path.basename(a.html)}) (latency over time, waiting room, stock, "
                  "admissions, requests per second).", ""]
    lines += ["## At a glance", "", "| | | |", "|---|---:|---|"]
    lines += [f"| {k} | {v} | {what} |" for k, v, what in glance_rows(r)]
    lines += ["", "## Latency per operation (ms, as k6 saw it)", "",
              "| operation | requests | p50 | p95 | p99 | p99.9 | max |", "|---|---:|---:|---:|---:|---:|---:|"]
    for op, cnt, p50, p95, p99, p999, mx, fine in latency_rows(r):
        f = "{:.1f}" if fine else "{:.0f}"
        lines.append(f"| {op} | {cnt} | " + " | ".join(f.format(v) for v in (p50, p95, p99, p999, mx)) + " |")
    trows = timeline_rows(r)
    if trows:
        lines += ["", "## Admission timeline (per second from the opening)", "",
                  "| t (s) | joined | admitted | waiting | passes | stock | accepted | confirmed | req/s | createOrder p99 ms |",
                  "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for s, j, ad, w, p, st, acc, conf, ops, lat in trows:
            lines.append(f"| {s:+d} | {n(j)} | {n(ad)} | {n(w)} | {n(p)} | {n(st)} | {n(acc)} | {n(conf)} | {n(ops)} | "
                         f"{n(lat)} |")
        lines += ["", "Counts per second (joined, admitted, accepted, req/s) and readings at the end of the second "
                  "(waiting, passes, stock, confirmed). The waiting room stops pacing at the sell-out: its gauges "
                  "(waiting, passes) keep their last value after it; shoppers still in line are told SOLD_OUT when "
                  "they poll." + (" Confirmed counts this run's worker's decisions only (see above)."
                                  if r["worker_share"] else "")]
    sp = spark_rows(r)
    if sp:
        s0, s1 = r["span"]
        lines += ["", f"## Over the whole run ({s0:+d} s … {s1 - 1:+d} s, one character per second)", "", "```"]
        width = max(len(label) for label, _, _ in sp)
        lines += [f"{label.ljust(width)}  {bars}  {rng}" for label, bars, rng in sp]
        lines += ["```"]
    if r["prometheus"] is not None:
        lines += ["", "## Read back from Prometheus", "",
                  "The run's Prometheus scraped the gateway and the worker every second, with the project's "
                  "recording rules; these figures are its answers at the end of the run (\"over the run\": from "
                  "its start to the end; peaks over the same window).", "",
                  "| figure | value | PromQL |", "|---|---:|---|"]
        lines += [f"| {k} | {v} | `{q.replace('|', chr(92) + '|')}` |" for k, v, q in prometheus_rows(r)]
        note = prometheus_note(r)
        if note:
            lines += ["", note]
    lines += ["", "## Shoppers", ""]
    shoppers = sum(r["outcomes"].values())
    lines.append(f"- journeys finished: {shoppers}; HTTP requests: {r['http_reqs']}; "
                 f"non-business errors: {r['failure_count']}")
    for k in sorted(r["outcomes"], key=lambda k: -r["outcomes"][k]):
        lines.append(f"- {k}: {r['outcomes'][k]}")
    errors = Counter()
    for (_, code), v in r["failures"].items():
        errors[code] += v
    if errors:
        lines.append("- errors by code: " + ", ".join(f"{k} {v}" for k, v in errors.most_common()))
    lines += ["", "## Deal", ""]
    for title, text in deal_sections(r):
        lines += [f"{title}:", ""] + (["```", text, "```", ""] if text else [])
    lines += ["", "## Invariants (flashdeal verify)", "", "```", r["verify"], "```", "", verdict_line]
    return "\n".join(lines)


def deal_sections(r):
    """(title, text) of the Deal section: its state after the sale first, then as it was created."""
    out = []
    if r.get("deal_final"):
        text, at_ = r["deal_final"]
        out.append((f"After the sale — `flashdeal deal show`, read at {clock(at_)} (after flashdeal verify)", text))
    else:
        m = re.search(r"Redis stock\s*:\s*(.*)", r["verify"])
        out.append(("After the sale — not read with `flashdeal deal show`; "
                    + (f"flashdeal verify read the Redis stock: {m.group(1).strip()}" if m else
                       "flashdeal verify did not report the Redis stock"), None))
    created = r.get("deal_created_at")
    out.append(("At creation, before the opening — `flashdeal deal create`"
                + (f", at {clock(created)}" if created else "") + " (its stock line is the stock then)", r["deal"]["text"]))
    return out


CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:960px;color:#222;padding:0 12px}
h1{font-size:22px;margin:0 0 8px} h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.verdict{padding:14px 18px;border-radius:8px;color:#fff;font-size:20px;font-weight:600;margin:12px 0}
.verdict small{display:block;font-size:13px;font-weight:400;opacity:.95;margin-top:4px}
.pass{background:#1e7b34} .fail{background:#b3261e} .partial{background:#a15c00}
.verdict ul{margin:6px 0 0 18px;padding:0;font-size:13px;font-weight:400}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(140px,1fr));gap:8px;margin:10px 0}
.card{border:1px solid #ddd;border-radius:6px;padding:8px 10px} .card b{display:block;font-size:22px}
.card span{font-size:12px;color:#555}
table{border-collapse:collapse;margin:8px 0;font-size:13px} td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
td:first-child,th:first-child{text-align:left} th{background:#f5f5f5}
table.glance td:last-child{text-align:left;color:#444}
pre{background:#f7f7f7;border:1px solid #e3e3e3;padding:8px;overflow:auto;font-size:12px}
.chart{margin:6px 0 2px;font-family:system-ui,sans-serif} .chart .title{font-size:13px;font-weight:600}
.chart .plot{fill:#fff;stroke:#bbb} .chart .grid{stroke:#eee} .chart .axis{stroke:#999}
.chart .ytick{font-size:10px;text-anchor:end;fill:#555} .chart .xtick{font-size:10px;text-anchor:middle;fill:#555}
.chart .xlabel{font-size:10px;text-anchor:end;fill:#777} .chart .ylabel{font-size:10px;text-anchor:middle;fill:#777}
.chart .legend{font-size:11px;fill:#333} .chart .marker{stroke:#555;stroke-dasharray:3,3}
.chart .mlabel{font-size:10px;fill:#555} .note{font-size:12px;color:#666;margin:0 0 14px}
"""


def render_html(r):
    e = html.escape
    deal = r["deal"]
    v = r["verdict_v"]
    invariants, k6v, errs = v["parts"]
    detail = (f"{invariants} (flashdeal verify: no oversell, conservation, nothing lost, no duplicates) · "
              f"{k6v} · {errs}")
    banner = f'<div class="verdict {v["level"]}">VERDICT: {v["word"]}<small>{e(detail)}</small>'
    if v["failed"]:
        banner += ("<small>" + ("what failed" if v["word"] == "FAIL" else "what was missed (allowed: exit 0)")
                   + ":</small><ul>" + "".join(f"<li>{e(f)}</li>" for f in v["failed"]) + "</ul>")
    banner += "</div>"
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>Flash sale {e(deal['id'] or '')} — {v['word']}</title>", f"<style>{CSS}</style></head><body>",
           f"<h1>Flash sale report — {e(deal['id'] or '')}</h1>", banner]
    rows = glance_rows(r)
    out.append('<div class="cards">' + "".join(
        f'<div class="card"><span>{e(k)}</span><b>{e(v)}</b></div>' for k, v, _ in rows) + "</div>")
    out.append('<table class="glance"><tr><th>figure</th><th>value</th><th>what it counts</th></tr>' + "".join(
        f"<tr><td>{e(k)}</td><td>{e(v)}</td><td>{e(w)}</td></tr>" for k, v, w in rows) + "</table>")

    out.append("<h2>Latency per operation (ms, as k6 saw it)</h2><table><tr><th>operation</th><th>requests</th>"
               "<th>p50</th><th>p95</th><th>p99</th><th>p99.9</th><th>max</th></tr>")
    for op, cnt, *vals, fine in latency_rows(r):
        f = "{:.1f}" if fine else "{:.0f}"
        out.append(f"<tr><td>{e(op)}</td><td>{cnt}</td>" + "".join(f"<td>{f.format(v)}</td>" for v in vals) + "</tr>")
    out.append("</table>")

    s0, s1 = r["span"]
    xr = (s0, s1)
    markers = [("opening", 0.0), ("sold out", r["sold_out_at"])]
    ts = r["ts"]
    if r["latency"]:
        out.append("<h2>Latency over time (k6, per 1 s bucket, log scale)</h2>")
        for op in OPERATIONS:
            b = r["latency"].get(op)
            if not b:
                continue
            out.append(svg_chart(f"{op}: p50 / p95 / p99 (ms)", x_range=xr, log=True, markers=markers, y_label="ms",
                                 height=210, lines=[
                                     ("p50", PALETTE[0], [(s + 0.5, p50) for s, _, p50, _, _ in b]),
                                     ("p95", PALETTE[3], [(s + 0.5, p95) for s, _, _, p95, _ in b]),
                                     ("p99", PALETTE[1], [(s + 0.5, p99) for s, _, _, _, p99 in b])]))
    if ts["waiting"] or ts["passes"]:
        out.append("<h2>Waiting room</h2>")
        out.append(svg_chart("queue depth: shoppers waiting, passes active", x_range=xr, markers=markers,
                             y_label="shoppers",
                             lines=held_after("waiting", PALETTE[0], ts["waiting"], r["sold_out_at"])
                             + held_after("active passes", PALETTE[2], ts["passes"], r["sold_out_at"]),
                             note="Sampled every 0.5 s from the gateway's /metrics. The waiting room stops pacing at "
                                  "the sell-out, so its gauges keep their last value after it (dashed); shoppers "
                                  "still in line are told SOLD_OUT when they poll."))
    if ts["stock"] or ts["confirmed"]:
        out.append("<h2>Stock</h2>")
        out.append(svg_chart("stock remaining and orders decided", x_range=xr, markers=markers, y_label="units / orders",
                             lines=[("stock remaining (gateway)", PALETTE[3], ts["stock"]),
                                    ("confirmed (worker)", PALETTE[2], ts["confirmed"]),
                                    ("rejected (worker)", PALETTE[1], ts["rejected"], True)],
                             note="Stock is the units not yet reserved, as the gateway last read it; confirmed and "
                                  "rejected are the worker's outcome counters"
                                  + (f" — this run's worker decided {r['worker_share'][0]:,} of "
                                     f"{r['worker_share'][1]:,} orders; other workers on this stack decided the rest."
                                     if r["worker_share"] else ".")))
    if ts["admitted"]:
        out.append("<h2>Admissions</h2>")
        out.append(svg_chart("admitted per second, and the measured admission rate", x_range=xr, markers=markers,
                             y_label="shoppers/s",
                             bars=[("admitted in the second", PALETTE[0],
                                    sorted(r["admitted_per_s"].items()))],
                             lines=held_after("measured rate (gateway gauge)", PALETTE[1], ts["rate"],
                                              r["sold_out_at"]),
                             note="At the opening a full bucket (admissionBurst) is admitted in the first pacing "
                                  "step, in the pre-queue's drawn order; then the room paces at the admission rate, "
                                  "slowed when the worker lags (docs/admission.md). The measured rate is a moving "
                                  "average (τ = 5 s) and holds its last value after the sell-out (dashed)."))
        trows = timeline_rows(r)
        if trows:
            out.append("<table><tr><th>t (s)</th><th>joined</th><th>admitted</th><th>waiting</th><th>passes</th>"
                       "<th>stock</th><th>accepted</th><th>confirmed</th><th>req/s</th><th>createOrder p99 ms</th></tr>")
            for row in trows:
                out.append(f"<tr><td>{row[0]:+d}</td>" + "".join(f"<td>{n(v)}</td>" for v in row[1:]) + "</tr>")
            out.append("</table>")
    if r["reqs_per_s"]:
        out.append("<h2>Requests per second (k6)</h2>")
        out.append(svg_chart("requests per second by operation", x_range=xr, markers=markers, y_label="requests/s",
                             lines=[(op, PALETTE[i], [(s + 0.5, c) for s, c in sorted(r["reqs_per_s"][op].items())])
                                    for i, op in enumerate(OPERATIONS) if op in r["reqs_per_s"]]))
    if r["prometheus"] is not None:
        out.append("<h2>Read back from Prometheus</h2><p class=\"note\">The run's Prometheus scraped the gateway and "
                   "the worker every second, with the project's recording rules; its answers at the end of the run.</p>"
                   "<table><tr><th>figure</th><th>value</th><th>PromQL</th></tr>")
        for k, v, q in prometheus_rows(r):
            out.append(f"<tr><td>{e(k)}</td><td>{e(v)}</td><td style=\"text-align:left\"><code>{e(q)}</code></td></tr>")
        out.append("</table>")
        note = prometheus_note(r)
        if note:
            out.append(f'<p class="note">{e(note)}</p>')
    out.append("<h2>Shoppers</h2><table><tr><th>journey outcome</th><th>shoppers</th></tr>")
    for k in sorted(r["outcomes"], key=lambda k: -r["outcomes"][k]):
        out.append(f"<tr><td>{e(k)}</td><td>{r['outcomes'][k]:,}</td></tr>")
    out.append("</table>")
    if r["failures"]:
        out.append("<table><tr><th>error (operation, code)</th><th>count</th></tr>")
        for (op, code), v in sorted(r["failures"].items(), key=lambda kv: -kv[1]):
            out.append(f"<tr><td>{e(op)} {e(code)}</td><td>{v:,}</td></tr>")
        out.append("</table>")
    out.append(f"<h2>Invariants (flashdeal verify)</h2><pre>{e(r['verify'])}</pre>")
    out.append("<h2>Deal</h2>")
    for title, text in deal_sections(r):
        out.append(f'<p class="note">{e(title.replace("`", ""))}</p>' + (f"<pre>{e(text)}</pre>" if text else ""))
    out.append("</body></html>")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    if sys.argv[1:2] == ["verdict"]:
        sys.exit(verdict_main(sys.argv[2:]))
    main()
