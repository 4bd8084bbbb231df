"""The report of a chaos campaign (scripts/chaos): report.md and a self-contained report.html.

Runs by fault type with recovery times, orders, shoppers' answers by code, every violation with the
seed that replays it, and one line per run. Written again after every run, so an interrupted
campaign still has its report.
"""
import html
import os
import statistics

DESIGNED = {"RATE_LIMITED", "QUEUED", "SOLD_OUT", "DEAL_NOT_OPEN", "DEAL_ENDED", "LIMIT_EXCEEDED",
            "PASS_USED", "UNAVAILABLE"}


def spread(values):
    values = [v for v in values if v is not None]
    if not values:
        return "—"
    return f"{statistics.median(values):.1f} / {max(values):.1f}"


def tables(meta, results):
    """The report as (title, header, rows, note) tables."""
    passed = sum(1 for r in results if r["verdict"] == "PASS")
    violations = [(r["seed"], " / ".join(v.splitlines())) for r in results for v in r["violations"]]
    kinds = {}
    for r in results:
        for f in r["faults"]:
            kinds.setdefault(f["kind"], []).append((r, f))
    by_kind = []
    for kind in sorted(kinds):
        entries = kinds[kind]
        runs = {r["seed"]: r for r, _ in entries}
        by_kind.append([
            kind, len(runs), sum(1 for r in runs.values() if r["verdict"] == "PASS"), len(entries),
            spread(f.get("admission_after_s") for _, f in entries), spread(f.get("admission_gap_s") for _, f in entries),
            spread(f.get("decisions_after_s") for _, f in entries), spread(f.get("decisions_gap_s") for _, f in entries),
        ])
    total = {k: sum(r.get("statuses", {}).get(k, 0) for r in results) for k in
             ("CONFIRMED", "REJECTED", "FAILED", "CANCELLED", "PENDING")}
    orders = [[
        sum(r.get("told") or 0 for r in results), sum(r.get("unknown_only") or 0 for r in results),
        sum(r.get("accepted") or 0 for r in results), total["CONFIRMED"], total["REJECTED"], total["FAILED"],
        total["CANCELLED"], total["PENDING"], sum(r.get("sold") or 0 for r in results),
        sum(r["plan"]["stock"] for r in results),
    ]]
    answers = {}
    for r in results:
        for code, n in r.get("answers", {}).items():
            answers[code] = answers.get(code, 0) + n
    kind_of = {"HTTP_0": "no answer: accepted only within 2 s of a gateway's kill, on a shopper's first request after a kill it slept through, or while every gateway is down",
               "NOT_FOUND": "a lost ticket: accepted only to a ticket poll after a redis-lossy",
               "PASS_INVALID": "a lost pass: accepted only to createOrder (reason UNKNOWN) after a redis-lossy"}
    answer_rows = [[code, n, "designed" if code in DESIGNED else kind_of.get(code, "NOT designed")]
                   for code, n in sorted(answers.items(), key=lambda x: -x[1])]
    per_run = [[
        r["seed"], r["plan"]["stock"], r["plan"]["limit"], "; ".join(f["description"] for f in r["faults"])
        or "; ".join(f"{f['kind']}" for f in r["plan"]["faults"]),
        r.get("told", "—"), r.get("statuses", {}).get("CONFIRMED", 0), r.get("statuses", {}).get("REJECTED", 0),
        r.get("statuses", {}).get("FAILED", 0), f"{r.get('peak', '—')} / {r['plan']['stock']}", r["verdict"],
        r.get("seconds", "—"),
    ] for r in results]
    return passed, violations, [
        ("Runs by fault type", ["fault", "runs with it", "passed", "injected", "admission resumed after heal, s (median / max)",
                                "longest admission gap, s", "decisions resumed after heal, s", "longest decision gap, s"],
         by_kind, "Recovery: from the fault's end (the restart, the link healed) to the first shopper admitted / the "
                  "first decision a shopper saw; the gap is the longest time without one from just before the fault "
                  "to that moment. — : none came after the fault (the deal had sold out or the load had ended)."),
        ("Orders", ["order ids given to shoppers", "of them only UNKNOWN", "accepted (per Redis)", "CONFIRMED",
                    "REJECTED", "FAILED", "CANCELLED", "PENDING", "units sold", "units on sale"], orders,
         "Every accepted order and every order id a shopper was given must be decided (not PENDING)."),
        ("Shoppers' answers other than success, by code", ["code", "answers", "kind"], answer_rows,
         "Designed: the business outcomes and UNAVAILABLE (docs/api.md, Errors). Any other code is a violation "
         "where it is not accepted as the table says; the Violations table lists each one."),
        ("Violations", ["seed", "violation", "replay"],
         [[s, v, f"scripts/chaos --seed {s} --runs 1"] for s, v in violations], "None." if not violations else ""),
        ("Runs", ["seed", "stock", "limit", "faults (time after the opening)", "order ids given", "confirmed",
                  "rejected", "failed", "peak held / stock", "verdict", "seconds"], per_run, ""),
    ]


def markdown(meta, results):
    passed, violations, parts = tables(meta, results)
    m = meta["machine"]
    lines = [
        "# Chaos report", "",
        f"**{len(results)} runs, {passed} passed, {len(violations)} violations.**", "",
        f"- command: `{meta['command']}` (first seed {meta['first_seed']}; run *n* has seed {meta['first_seed']} + *n* − 1)",
        f"- machine: {m['host']}, {m['cpus']} cores, {m['memory_gib']} GiB, Linux {m['kernel']}; commit {m['commit']}",
        f"- from {meta['started']} to {meta.get('finished', '…')}",
        f"- servers started again only at a second or third try after a kill: "
        f"{sum(f.get('restart_retries', 0) > 0 for r in results for f in r['faults'])}", "",
    ]
    for title, header, rows, note in parts:
        lines += [f"## {title}", ""]
        if rows:
            lines.append("| " + " | ".join(header) + " |")
            lines.append("|" + "---|" * len(header))
            for row in rows:
                lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |")
            lines.append("")
        if note:
            lines += [note, ""]
    return "\n".join(lines)


def page(meta, results):
    passed, violations, parts = tables(meta, results)
    m = meta["machine"]
    e = html.escape
    out = ["<!doctype html><html lang=en><meta charset=utf-8><title>Chaos report</title>",
           "<style>body{font:14px/1.45 system-ui,sans-serif;margin:2rem;max-width:80rem;color:#1b1b1b}"
           "table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border:1px solid #bbb;padding:.25rem .5rem;"
           "text-align:left;vertical-align:top}th{background:#eef}.FAIL{background:#fdd}.PASS{background:#dfd}"
           ".bar{fill:#4a6fd0}</style>",
           "<h1>Chaos report</h1>",
           f"<p><strong>{len(results)} runs, {passed} passed, {len(violations)} violations.</strong></p>",
           f"<p>command: <code>{e(meta['command'])}</code> (first seed {meta['first_seed']})<br>"
           f"machine: {e(m['host'])}, {m['cpus']} cores, {m['memory_gib']} GiB, Linux {e(m['kernel'])}; "
           f"commit {e(m['commit'])}<br>from {e(meta['started'])} to {e(meta.get('finished', '…'))}</p>"]
    by_kind = parts[0][2]
    if by_kind:
        width, row_h = 520, 22
        most = max(r[1] for r in by_kind) or 1
        svg = [f"<svg role=img aria-label='runs per fault type' width={width + 180} height={row_h * len(by_kind) + 10}>"]
        for i, r in enumerate(by_kind):
            w = int(width * r[1] / most)
            svg.append(f"<text x=0 y={i * row_h + 15}>{e(r[0])}</text><rect class=bar x=170 y={i * row_h + 3} "
                       f"width={w} height={row_h - 6}></rect><text x={175 + w} y={i * row_h + 15}>{r[1]} runs, {r[2]} passed</text>")
        svg.append("</svg>")
        out.append("".join(svg))
    for title, header, rows, note in parts:
        out.append(f"<h2>{e(title)}</h2>")
        if rows:
            out.append("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr>")
            for row in rows:
                cls = f" class={row[-2]}" if title == "Runs" else ""
                out.append(f"<tr{cls}>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>")
            out.append("</table>")
        if note:
            out.append(f"<p>{e(note)}</p>")
    out.append("</html>")
    return "\n".join(out)


def write(out, meta, results):
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write(markdown(meta, results))
    with open(os.path.join(out, "report.html"), "w") as f:
        f.write(page(meta, results))
