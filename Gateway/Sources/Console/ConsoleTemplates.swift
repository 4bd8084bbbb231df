import Admission
import Domain
import Foundation
import Mustache

/// The console's pages (Mustache, in the binary) and its one script. The page renders the whole
/// snapshot on the server; the script keeps it current from the event stream and draws the charts
/// (inline SVG, the last two minutes).
enum ConsoleTemplates {
    static let library: MustacheLibrary = {
        do {
            return MustacheLibrary(templates: [
                "layout": try MustacheTemplate(string: layout), "console": try MustacheTemplate(string: console),
                "confirm": try MustacheTemplate(string: confirm), "message": try MustacheTemplate(string: message),
                "signIn": try MustacheTemplate(string: signIn),
            ])
        } catch {
            preconditionFailure("a console template does not parse: \(error)")
        }
    }()

    static func render(_ template: String, title: String, _ view: [String: Any]) -> String {
        let content = library.render(view, withTemplate: template) ?? ""
        return library.render(["title": title, "content": content], withTemplate: "layout") ?? ""
    }

    /// The snapshot as the page's fields (what the script writes later under the same names).
    static func view(_ snapshot: [String: Any]) -> [String: Any] {
        let room = snapshot["room"] as? [String: Any] ?? [:]
        let stock = snapshot["stock"] as? [String: Any] ?? [:]
        let controls = snapshot["controls"] as? [String: Any] ?? [:]
        let lag = snapshot["lag"] as? [String: Any]
        func number(_ value: Any?, _ digits: Int = 0) -> String {
            guard let value = value as? Double ?? (value as? Int).map(Double.init) else { return "—" }
            return String(format: "%.\(digits)f", value)
        }
        var state = [controls["paused"] as? Bool == true ? "paused" : "admitting"]
        if let closure = controls["closure"] as? String {
            state.append(closure == "queue" ? "line closed" : "marked sold out")
        }
        return [
            "deal": snapshot["deal"] ?? "", "at": snapshot["at"] ?? "", "phase": snapshot["phase"] ?? "",
            "state": state.joined(separator: ", "),
            "rate": controls["rateOverride"].map { "\(number($0)) /s (operator)" }
                ?? "\(number(controls["configuredPerSecond"])) /s (configured)",
            "pending": controls["pendingAdmissions"] ?? 0, "startsAt": controls["startsAt"] ?? "",
            "endsAt": controls["endsAt"] ?? "", "waiting": number(room["waiting"]),
            "admittedPerSecond": number(room["admittedPerSecond"], 1), "target": number(room["targetPerSecond"], 1),
            "eta": room["backOfLineEtaSeconds"].map { "\(number($0)) s" } ?? "estimating",
            "active": number(room["activePasses"]), "remaining": number(stock["remaining"]),
            "total": number(stock["total"]), "soldPerSecond": number(stock["soldPerSecond"], 1),
            "sellOut": stock["sellOutInSeconds"].map { "\(number($0)) s" } ?? "—",
            "lag": lag.map { number($0["messages"]) } ?? "unknown", "audit": snapshot["audit"] ?? [],
            "actions": OperatorAction.names.map { ["name": $0] },
        ]
    }

    static func confirmation(
        _ change: SaleControlChange, deal: String, action: String, value: String?, reason: String
    ) -> [String: Any] {
        let before = OperatorAPI.fields(change.before)
        let after = OperatorAPI.fields(change.after)
        let rows = Set(before.keys).union(after.keys).sorted().map { key -> [String: Any] in
            let old = before[key] ?? "none"
            let new = after[key] ?? "none"
            return ["field": key, "before": old, "after": new, "changed": old != new]
        }
        return ["deal": deal, "action": action, "value": value ?? "", "reason": reason, "rows": rows]
    }

    static let layout = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · Flash Deal</title>
        <style>
        :root{color-scheme:light dark;font:15px/1.45 system-ui,sans-serif}
        body{margin:0 auto;max-width:70rem;padding:1rem}
        .grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(15rem,1fr));gap:.8rem}
        section{border:1px solid #8886;border-radius:.4rem;padding:.6rem .8rem}
        h2{font-size:1rem;margin:0 0 .3rem}.big{font-size:1.6rem;font-weight:600}
        svg{width:100%;height:3rem}polyline{fill:none;stroke:#0b57d0;stroke-width:2}
        table{border-collapse:collapse}td,th{padding:.2rem .6rem;text-align:left;border-bottom:1px solid #8884}
        .changed{font-weight:600}.stale{color:#a50e0e}
        .sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
        button,select,input{font:inherit}button{padding:.4rem 1rem}
        :focus-visible{outline:3px solid #f9ab00;outline-offset:2px}
        @media (prefers-reduced-motion:reduce){*{animation:none!important;transition:none!important}}
        </style>
        </head>
        <body>
        <main>
        <h1>{{title}}</h1>
        {{{content}}}
        </main>
        </body>
        </html>

        """

    static let console = """
        <p id="header">Phase <strong data-f="phase">{{phase}}</strong> · <span data-f="state">{{state}}</span> ·
        admission rate <span data-f="rate">{{rate}}</span> · opens {{startsAt}}, ends {{endsAt}} ·
        data as of <time data-f="at" id="freshness">{{at}}</time></p>
        {{#notice}}<p role="status">{{.}}</p>{{/notice}}
        <div class="grid" id="console" data-deal="{{deal}}">
        <section><h2>Waiting room</h2><p class="big" data-f="waiting">{{waiting}}</p>
        <p>in line; the back of the line waits <span data-f="eta">{{eta}}</span></p><svg data-chart="waiting" role="img" aria-label="waiting, last two minutes"></svg></section>
        <section><h2>Admitted per second</h2><p class="big" data-f="admittedPerSecond">{{admittedPerSecond}}</p>
        <p>target <span data-f="target">{{target}}</span>; <span data-f="active">{{active}}</span> passes out; <span data-f="pending">{{pending}}</span> granted, not yet in</p>
        <svg data-chart="admittedPerSecond" role="img" aria-label="admitted per second, last two minutes"></svg></section>
        <section><h2>Stock</h2><p class="big"><span data-f="remaining">{{remaining}}</span> / {{total}}</p>
        <p><span data-f="soldPerSecond">{{soldPerSecond}}</span> sold per second; sold out in <span data-f="sellOut">{{sellOut}}</span></p>
        <svg data-chart="remaining" role="img" aria-label="stock remaining, last two minutes"></svg></section>
        <section><h2>Order worker lag</h2><p class="big" data-f="lag">{{lag}}</p><p>messages behind</p>
        <svg data-chart="lag" role="img" aria-label="lag, last two minutes"></svg></section>
        </div>
        <h2>Act on the sale</h2>
        <form method="post" action="/ops/deals/{{deal}}/actions">
        <input type="hidden" name="step" value="preview">
        <label for="action">Action</label>
        <select id="action" name="action">{{#actions}}<option>{{name}}</option>{{/actions}}</select>
        <label for="value">Value</label> <input id="value" name="value" placeholder="rate, count or RFC 3339 time">
        <label for="reason">Reason</label> <input id="reason" name="reason" required maxlength="500">
        <button type="submit">Preview</button>
        </form>
        <h2>Audit</h2>
        <table><thead><tr><th>When</th><th>Who</th><th>What</th><th>Why</th><th>Outcome</th><th>Gateway</th></tr></thead>
        <tbody id="audit">{{#audit}}<tr><td>{{at}}</td><td>{{actor}}</td><td>{{action}} {{value}}</td><td>{{reason}}</td><td>{{outcome}}</td><td>{{gateway}}</td></tr>{{/audit}}</tbody></table>
        <p id="live" class="sr-only" aria-live="polite"></p>
        <script type="module" src="/ops/assets/console.js"></script>

        """

    static let confirm = """
        <p>{{action}} {{value}} on {{deal}} — reason: {{reason}}</p>
        <table><thead><tr><th>Setting</th><th>Before</th><th>After</th></tr></thead><tbody>
        {{#rows}}<tr{{#changed}} class="changed"{{/changed}}><td>{{field}}</td><td>{{before}}</td><td>{{after}}</td></tr>{{/rows}}
        </tbody></table>
        <form method="post" action="/ops/deals/{{deal}}/actions">
        <input type="hidden" name="step" value="apply"><input type="hidden" name="action" value="{{action}}">
        <input type="hidden" name="value" value="{{value}}"><input type="hidden" name="reason" value="{{reason}}">
        <button type="submit" autofocus>Apply</button> <a href="/ops/deals/{{deal}}">Cancel</a>
        </form>

        """

    static let signIn = """
        <form method="post" action="/ops/sign-in">
        <label for="token">Operator token</label> <input id="token" name="token" type="password" required autocomplete="off">
        <label for="deal">Deal</label> <input id="deal" name="deal" value="{{deal}}">
        <button type="submit">Open the console</button>
        </form>

        """

    static let message = """
        <p role="alert">{{message}}</p>
        <p>{{code}}</p>

        """

    static let script = """
        const root = document.getElementById("console");
        const deal = root.dataset.deal;
        const series = {};
        const fixed = (v, d) => (typeof v === "number" ? v.toFixed(d) : "—");
        function set(name, text) {
          for (const el of document.querySelectorAll(`[data-f="${name}"]`)) el.textContent = text;
        }
        function chart(name, value) {
          if (typeof value !== "number") return;
          const points = (series[name] = (series[name] || []).concat(value).slice(-120));
          const max = Math.max(1, ...points);
          const svg = document.querySelector(`[data-chart="${name}"]`);
          svg.setAttribute("viewBox", `0 0 ${Math.max(1, points.length - 1)} 40`);
          svg.setAttribute("preserveAspectRatio", "none");
          svg.innerHTML = `<polyline vector-effect="non-scaling-stroke" points="${points.map((p, i) => `${i},${40 - 38 * p / max}`).join(" ")}"/>`;
        }
        function show(s) {
          const c = s.controls, r = s.room, k = s.stock;
          set("phase", s.phase);
          set("state", [c.paused ? "paused" : "admitting"].concat(c.closure ? [c.closure === "queue" ? "line closed" : "marked sold out"] : []).join(", "));
          set("rate", c.rateOverride != null ? `${fixed(c.rateOverride, 0)} /s (operator)` : `${fixed(c.configuredPerSecond, 0)} /s (configured)`);
          set("at", s.at);
          set("waiting", fixed(r.waiting, 0));
          set("eta", r.backOfLineEtaSeconds != null ? `${fixed(r.backOfLineEtaSeconds, 0)} s` : "estimating");
          set("admittedPerSecond", fixed(r.admittedPerSecond, 1));
          set("target", fixed(r.targetPerSecond, 1));
          set("active", fixed(r.activePasses, 0));
          set("pending", String(c.pendingAdmissions));
          set("remaining", fixed(k.remaining, 0));
          set("soldPerSecond", fixed(k.soldPerSecond, 1));
          set("sellOut", k.sellOutInSeconds != null ? `${fixed(k.sellOutInSeconds, 0)} s` : "—");
          set("lag", s.lag ? fixed(s.lag.messages, 0) : "unknown");
          chart("waiting", r.waiting); chart("admittedPerSecond", r.admittedPerSecond);
          chart("remaining", k.remaining); chart("lag", s.lag && s.lag.messages);
          const rows = s.audit.map((a) => {
            const tr = document.createElement("tr");
            for (const v of [a.at, a.actor, `${a.action} ${a.value}`, a.reason, a.outcome, a.gateway]) {
              const td = document.createElement("td"); td.textContent = v; tr.append(td);
            }
            return tr;
          });
          document.getElementById("audit").replaceChildren(...rows);
          document.getElementById("freshness").classList.remove("stale");
          last = Date.now();
        }
        let last = Date.now();
        setInterval(() => {
          if (Date.now() - last > 3000) document.getElementById("freshness").classList.add("stale");
        }, 1000);
        async function poll() {
          try {
            const response = await fetch(`/ops/deals/${encodeURIComponent(deal)}/snapshot`, { credentials: "same-origin" });
            if (response.ok) show(await response.json());
          } catch (e) { /* shown as stale */ }
          setTimeout(poll, 2000);
        }
        if ("EventSource" in window) {
          const events = new EventSource(`/ops/deals/${encodeURIComponent(deal)}/events`);
          let failures = 0;
          events.onmessage = (e) => { failures = 0; show(JSON.parse(e.data)); };
          events.onerror = () => { if (++failures >= 3) { events.close(); poll(); } };
        } else {
          poll();
        }

        """
}
