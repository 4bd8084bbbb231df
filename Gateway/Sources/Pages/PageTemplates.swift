import Mustache

/// The shopper pages' templates (Mustache; every `{{value}}` is HTML-escaped). They live in the
/// binary, not in files beside it, so the container image needs nothing more than the executable.
/// Each page renders its whole current state: it works without JavaScript.
enum PageTemplates {
    static let library: MustacheLibrary = {
        do {
            return MustacheLibrary(templates: [
                "layout": try MustacheTemplate(string: layout), "deal": try MustacheTemplate(string: deal),
                "line": try MustacheTemplate(string: line), "order": try MustacheTemplate(string: order),
                "message": try MustacheTemplate(string: message),
            ])
        } catch {
            preconditionFailure("a shopper page template does not parse: \(error)")
        }
    }()

    static let layout = """
        <!doctype html>
        <html lang="{{lang}}">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · {{site}}</title>
        <style>
        :root{color-scheme:light dark;font:16px/1.5 system-ui,"Noto Sans CJK KR","Noto Sans KR",sans-serif}
        body{margin:0 auto;max-width:40rem;padding:1rem}
        :lang(ko){word-break:keep-all;overflow-wrap:anywhere}
        header{display:flex;justify-content:space-between;gap:1rem;margin-bottom:1rem}
        a{color:#0b57d0}button{font:inherit;padding:.6rem 1.2rem;border-radius:.4rem;border:1px solid #0b57d0;background:#0b57d0;color:#fff;cursor:pointer}
        button:focus-visible,a:focus-visible,input:focus-visible{outline:3px solid #f9ab00;outline-offset:2px}
        .note{color:#555}.price{font-size:1.4rem;font-weight:600}
        progress{width:100%;height:1rem}
        .sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
        #offline{background:#fce8e6;color:#a50e0e;padding:.5rem}
        @media (prefers-color-scheme:dark){a{color:#8ab4f8}.note{color:#bbb}}
        @media (prefers-reduced-motion:reduce){*{animation:none!important;transition:none!important}}
        </style>
        </head>
        <body>
        <header><a href="/shop/deals/{{dealId}}">{{site}}</a>
        <a href="{{switchHref}}" lang="{{otherLang}}" hreflang="{{otherLang}}">{{switchText}}</a></header>
        <main id="main">
        <h1>{{title}}</h1>
        {{{content}}}
        <p id="live" class="sr-only" aria-live="polite"></p>
        <p id="offline" role="alert" hidden>{{offline}}</p>
        </main>
        </body>
        </html>

        """

    static let deal = """
        {{#product}}<p>{{.}}</p>{{/product}}
        <p class="price">{{price}}</p>
        <p>{{stock}}</p>
        <p class="note">{{limit}}</p>
        {{#opens}}<p><time datetime="{{iso}}">{{text}}</time></p>{{/opens}}
        {{#state}}<p role="status">{{.}}</p>{{/state}}
        {{#preQueueRule}}<p class="note">{{.}}</p>{{/preQueueRule}}
        {{#join}}<form method="post" action="/shop/deals/{{dealId}}/line"><button type="submit">{{join}}</button></form>{{/join}}
        {{#lineOpens}}<p>{{.}}</p>{{/lineOpens}}
        {{#signIn}}<p>{{.}}</p>{{/signIn}}

        """

    static let line = """
        {{#waiting}}
        <p data-field="position">{{position}}</p>
        <p data-field="ahead">{{ahead}}</p>
        <progress id="progress" max="100" value="0" aria-label="{{progressLabel}}" hidden></progress>
        <p><span data-field="eta">{{eta}}</span></p>
        {{/waiting}}
        {{#preQueue}}
        <p>{{draw}}</p>
        <p class="note">{{rule}}</p>
        <p class="note">{{seed}}</p>
        {{/preQueue}}
        {{#admitted}}
        <p><time datetime="{{iso}}">{{until}}</time></p>
        <form method="post" action="/shop/deals/{{dealId}}/orders">
        <input type="hidden" name="pass" value="{{pass}}">
        <input type="hidden" name="key" value="{{key}}">
        <label for="quantity">{{quantityLabel}}</label>
        <input id="quantity" name="quantity" type="number" min="1" max="{{max}}" value="1" required autofocus>
        <button type="submit">{{placeOrder}}</button>
        </form>
        {{/admitted}}
        {{#outcome}}<p role="status">{{.}}</p>{{/outcome}}
        {{#orderLink}}<p><a href="{{href}}">{{text}}</a></p>{{/orderLink}}
        {{#joinAgain}}<form method="post" action="/shop/deals/{{dealId}}/line"><button type="submit">{{.}}</button></form>{{/joinAgain}}
        {{#refresh}}<p><a href="{{href}}">{{text}}</a></p>{{/refresh}}
        {{#poll}}<div id="poll" hidden data-deal="{{dealId}}" data-ticket="{{ticket}}" data-state="{{state}}"
        data-t-position="{{tPosition}}" data-t-ahead="{{tAhead}}" data-t-eta="{{tEta}}" data-t-as-of="{{tAsOf}}"
        data-t-estimating="{{tEstimating}}" data-t-seconds="{{tSeconds}}" data-t-minutes="{{tMinutes}}"></div>
        <script type="module" src="/shop/assets/line.js"></script>{{/poll}}

        """

    static let order = """
        <p role="status">{{status}}</p>
        {{#reason}}<p>{{.}}</p>{{/reason}}
        {{#quantity}}<p class="note">{{orderId}} · {{quantity}}</p>{{/quantity}}
        {{#cancel}}<form method="post" action="/shop/orders/{{orderId}}/cancel"><button type="submit">{{.}}</button></form>{{/cancel}}
        {{#refresh}}<p><a href="{{href}}">{{text}}</a></p>{{/refresh}}
        {{#poll}}<div id="poll" hidden data-order="{{orderId}}" data-status="{{code}}"></div>
        <script type="module" src="/shop/assets/order.js"></script>{{/poll}}

        """

    static let message = """
        <p role="alert">{{message}}</p>
        {{#retry}}<p>{{.}}</p>{{/retry}}
        {{#back}}<p><a href="{{href}}">{{text}}</a></p>{{/back}}

        """
}
