import HTTPTypes
import Hummingbird
import NIOCore

/// The pages' two small ES modules, hand-written, no build step, no third-party code. Each keeps
/// its page current by polling one cacheable GraphQL GET (the sign-in cookie identifies the
/// shopper) at the interval the server names plus jitter, pauses while the tab is hidden, obeys
/// `Retry-After` on 429 and 503, warns when the connection is lost and keeps retrying. A change of
/// state reloads the page, which the server renders whole; smaller changes (place, ETA) are
/// written in place and announced, at most every 20 s, in the polite live region.
enum PageScripts {
    static func register(on router: Router<GatewayRequestContext>) {
        for (name, source) in [("line.js", line), ("order.js", order)] {
            let bytes = ByteBuffer(string: source)
            router.get("shop/assets/\(name)") { _, _ -> Response in
                Response(
                    status: .ok,
                    headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "public, max-age=300"],
                    body: .init(byteBuffer: bytes))
            }
        }
    }

    /// Shared by both modules: the poll loop.
    static let loop = """
        const view = document.getElementById("poll");
        const live = document.getElementById("live");
        const offline = document.getElementById("offline");
        const fill = (t, values) => t.replace(/\\{(\\w+)\\}/g, (_, k) => values[k] ?? "");
        let failures = 0;
        let announced = 0;
        function announce(text) {
          const now = Date.now();
          if (now - announced < 20000) return;
          announced = now;
          live.textContent = text;
        }
        async function poll(query, variables, apply) {
          if (document.hidden) {
            document.addEventListener("visibilitychange", () => poll(query, variables, apply), { once: true });
            return;
          }
          let wait = 5000;
          let floor = false;
          try {
            const url = "/graphql?query=" + encodeURIComponent(query) + "&variables=" + encodeURIComponent(JSON.stringify(variables));
            const response = await fetch(url, { headers: { accept: "application/graphql-response+json" }, credentials: "same-origin" });
            if (response.status === 429 || response.status === 503) {
              wait = 1000 * (parseInt(response.headers.get("retry-after"), 10) || 5);
              floor = true;
            } else {
              const body = await response.json();
              wait = apply(body);
              if (wait === undefined) return;
            }
            failures = 0;
            offline.hidden = true;
          } catch (error) {
            failures += 1;
            offline.hidden = false;
            wait = Math.min(30000, 1000 * 2 ** Math.min(failures, 5));
          }
          // Jitter spreads the shoppers' polls; after a Retry-After it only ever adds.
          setTimeout(() => poll(query, variables, apply), wait * (floor ? 1 + Math.random() * 0.2 : 0.8 + Math.random() * 0.4));
        }

        """

    static let line =
        loop + """
            const d = view.dataset;
            const query = "query A($d: ID!, $t: ID!) { admission(dealId: $d, ticket: $t) { state position etaSeconds pollAfterMs } }";
            const span = (seconds) => seconds < 120 ? fill(d.tSeconds, { n: Math.round(seconds) }) : fill(d.tMinutes, { n: Math.round(seconds / 60) });
            const key = "flashdeal-first-place-" + d.ticket;
            function apply(body) {
              const a = body.data && body.data.admission;
              if (!a || a.state !== d.state) { location.reload(); return undefined; }
              if (a.state === "WAITING") {
                const first = Math.max(parseInt(sessionStorage.getItem(key) || a.position, 10), a.position);
                sessionStorage.setItem(key, first);
                const place = fill(d.tPosition, { position: a.position });
                document.querySelector("[data-field=position]").textContent = place;
                document.querySelector("[data-field=ahead]").textContent = fill(d.tAhead, { ahead: Math.max(0, a.position - 1) });
                const eta = document.querySelector("[data-field=eta]");
                if (a.etaSeconds == null) {
                  eta.textContent = d.tEstimating;
                } else {
                  eta.textContent = fill(d.tEta, { low: span(a.etaSeconds * 0.8), high: span(a.etaSeconds * 1.3 + 5) })
                    + " (" + fill(d.tAsOf, { time: new Date().toLocaleTimeString(document.documentElement.lang) }) + ")";
                }
                const bar = document.getElementById("progress");
                if (first > 1) {
                  bar.hidden = false;
                  bar.value = Math.round(100 * (first - a.position) / (first - 1));
                }
                announce(place + " " + eta.textContent);
              }
              return a.pollAfterMs;
            }
            if (d.state === "WAITING" || d.state === "PRE_QUEUE" || d.state === "PAUSED") {
              poll(query, { d: d.deal, t: d.ticket }, apply);
            }

            """

    static let order =
        loop + """
            const d = view.dataset;
            const query = "query O($id: ID!) { order(id: $id) { status } }";
            function apply(body) {
              const o = body.data && body.data.order;
              const status = o ? o.status : "UNRECORDED";
              if (status !== d.status) { location.reload(); return undefined; }
              return 2000;
            }
            if (d.status === "PENDING" || d.status === "UNRECORDED") {
              poll(query, { id: d.order }, apply);
            }

            """
}
