// Shared by every k6 profile in k6/: the GraphQL call, THE definition of an error, the shopper
// journey, the request-level traffic model and the original plan's milestones (docs/load.md).
//
// What is an error: a business outcome (the answers in BUSINESS_CODES: sold out, queued, rate
// limited, not open yet, ended, over the limit, pass already used) is an answer, not an error.
// Errors are: transport failures (status 0), any 5xx, a body that is not JSON, and any other
// GraphQL error code (client errors included: in a load run they mean the script or the set-up is
// wrong). `classify` is the one place that decides; `gql` counts what it decides.
//
// Cost per request is kept small (these scripts share a 2-core box with the server): the query
// text of an operation is JSON-encoded once, each request's body is that prefix plus its
// variables, the tags object is shared, and a response body is parsed once.
import http from 'k6/http';
import { sleep } from 'k6';
import exec from 'k6/execution';
import { Counter, Rate, Trend } from 'k6/metrics';

export const BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
export const GRAPHQL_URL = `${BASE_URL}/graphql`;

// ---------------------------------------------------------------------------------------------
// What counts as an error (docs/api.md, "Errors": the codes whose kind is "business").

export const BUSINESS_CODES = Object.freeze(['RATE_LIMITED', 'QUEUED', 'SOLD_OUT', 'DEAL_NOT_OPEN', 'DEAL_ENDED',
  'LIMIT_EXCEEDED', 'PASS_USED']);
const BUSINESS = new Set(BUSINESS_CODES);
export function isBusiness(code) { return BUSINESS.has(code); }

// k6's own http_req_failed follows the same line as far as a status can tell: 2xx, and 429
// (RATE_LIMITED, a business answer), are expected.
http.setResponseCallback(http.expectedStatuses({ min: 200, max: 299 }, 429));

/** Non-business errors, tagged `name` (operation) and `code` (the GraphQL code, HTTP_0, HTTP_<status>…). */
export const failures = new Counter('failures');
/** One sample per `gql` call: 1 when it was an error. Thresholds on error rates use this. */
export const requestErrors = new Rate('request_errors');
/** How journeys ended (`result` tag): CONFIRMED, REJECTED, SOLD_OUT, join_SOLD_OUT… */
export const outcomes = new Counter('shopper_outcomes');
export const timeToAdmission = new Trend('time_to_admission', true);
export const timeToDecision = new Trend('time_to_decision', true);

/**
 * Reads one GraphQL-over-HTTP response. Returns
 *   { status, data, code, ext, retryAfter, transport, failure }
 * where `code` is the first error's `extensions.code` (null without errors), `ext` its
 * extensions, `transport` true when there is no usable answer (status 0, not JSON, neither data
 * nor errors), and
 * `failure` null for a success or a business outcome, else the error's code for the metrics.
 */
export function classify(res) {
  const status = res.status;
  if (status === 0) return { status, data: null, code: null, ext: null, retryAfter: 0, transport: true, failure: 'HTTP_0' };
  let body;
  try { body = JSON.parse(res.body); } catch (e) { body = null; }
  if (body === null || typeof body !== 'object') {
    return { status, data: null, code: null, ext: null, retryAfter: 0, transport: true, failure: `HTTP_${status}` };
  }
  const errors = body.errors;
  if ((!errors || errors.length === 0) && (body.data === null || body.data === undefined)) {
    // Neither data nor errors: not a GraphQL answer (a proxy's page, an empty object).
    return { status, data: null, code: null, ext: null, retryAfter: 0, transport: true, failure: status >= 500 ? `HTTP_${status}` : 'NO_DATA' };
  }
  let code = null;
  let ext = null;
  let failure = null;
  if (errors && errors.length > 0) {
    ext = errors[0].extensions || {};
    code = ext.code ? String(ext.code) : 'NO_CODE';
    for (let k = 0; k < errors.length && failure === null; k++) {
      const c = (errors[k].extensions && errors[k].extensions.code) || 'NO_CODE';
      if (!BUSINESS.has(c)) failure = String(c);
    }
  }
  if (failure === null && (status >= 500 || (status >= 400 && status !== 429 && code === null))) failure = code || `HTTP_${status}`;
  return { status, data: body.data === undefined ? null : body.data, code, ext, retryAfter: ext && ext.retryAfter ? ext.retryAfter : 0, transport: false, failure };
}

// ---------------------------------------------------------------------------------------------
// Requests.

/** One GraphQL operation: `name` is its root field (the `name` tag of its requests). */
export function operation(name, query) {
  return { name, head: `{"query":${JSON.stringify(query)},"variables":`, tags: { name } };
}

const JSON_ONLY = { 'Content-Type': 'application/json' };

/** POSTs one operation; no classification, no metrics (functional checks read the raw response). */
export function post(op, token, variables, headers) {
  let h = token ? { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` } : JSON_ONLY;
  if (headers) h = Object.assign({}, h, headers);
  return http.post(GRAPHQL_URL, `${op.head}${JSON.stringify(variables || {})}}`, { headers: h, tags: op.tags });
}

let answerHook = null;
/**
 * `hook(name, r, previousEnd)` is told every classified answer (`r` as `classify` returns it) and
 * when this VU's previous request ended (epoch ms, 0 for its first): a request on a kept-alive
 * connection that died while the VU slept fails whenever it is sent. null: nobody.
 */
export function onAnswer(hook) { answerHook = hook; }

let previousEnd = 0;  // module state is per VU

/** POSTs one operation and counts it: `failures` and `request_errors` follow `classify`. */
export function gql(op, token, variables) {
  const r = classify(post(op, token, variables));
  requestErrors.add(r.failure !== null);
  if (r.failure !== null) failures.add(1, { name: op.name, code: r.failure });
  if (answerHook !== null) answerHook(op.name, r, previousEnd);
  previousEnd = Date.now();
  return r;
}

export const JOIN = operation('joinWaitingRoom',
  'mutation J($d: ID!) { joinWaitingRoom(dealId: $d) { ticket state position pollAfterMs pass { token } } }');
export const ADMISSION = operation('admission',
  'query A($d: ID!, $t: ID!) { admission(dealId: $d, ticket: $t) { state position pollAfterMs pass { token } } }');
export const CREATE_ORDER = operation('createOrder',
  'mutation C($i: CreateOrderInput!) { createOrder(input: $i) { id status } }');
export const ORDER = operation('order', 'query O($id: ID!) { order(id: $id) { status reason } }');

/** `userId<TAB>bearer token` lines (`flashdeal token --count N`), as [user, token] pairs. */
export function parseTokens(text) {
  return text.split('\n').filter((l) => l.length > 0).map((l) => l.split('\t'));
}

// ---------------------------------------------------------------------------------------------
// One shopper's whole journey, as a person would go through it (sleeps included): join the
// waiting room, poll until admitted (as often as pollAfterMs says), order once with the pass
// (again with the same idempotency key while the answer is UNAVAILABLE with outcome UNKNOWN),
// poll the order until the worker decided. Records `shopper_outcomes{result}`, the two times
// and failures; returns the result, or null when a transport failure ended it. Options:
// patienceS (60) waiting for admission, decisionPatienceS (30) waiting for the decision,
// keyPrefix of the idempotency key, quantity (1), onOrderId(id, how) told every order id the
// gateway gave, onAdmitted() told the admission, onDecided(id, status) told the decision seen.
const GONE = new Set(['SOLD_OUT', 'ENDED', 'EXPIRED', 'PASS_USED']);

export function journey(deal, user, token, opts) {
  const patienceMs = ((opts && opts.patienceS) || 60) * 1000;
  const keyPrefix = (opts && opts.keyPrefix) || 'demo-';
  const end = (result) => { outcomes.add(1, { result }); return result; };
  const start = Date.now();
  let r = gql(JOIN, token, { d: deal });
  if (r.transport) return null;
  if (r.code) return end(`join_${r.code}`);
  let a = r.data.joinWaitingRoom;
  let ticket = a.ticket;
  let rejoins = 0;
  while (a.state !== 'ADMITTED') {
    if (GONE.has(a.state)) return end(a.state);
    if (Date.now() - start > patienceMs) return end('GAVE_UP');
    sleep(Math.max(0.2, (a.pollAfterMs || 1000) / 1000));
    r = gql(ADMISSION, token, { d: deal, t: ticket });
    if (r.transport) return null;
    if (r.code === 'NOT_FOUND' && rejoins < 3) {
      // The waiting room no longer knows the ticket (docs/api.md): join again, as a client should.
      rejoins++;
      r = gql(JOIN, token, { d: deal });
      if (r.transport) return null;
      if (r.code) return end(`join_${r.code}`);
      a = r.data.joinWaitingRoom;
      ticket = a.ticket;
      continue;
    }
    if (r.code) { sleep(Math.max(0.5, r.retryAfter || 1)); continue; }
    a = r.data.admission;
  }
  timeToAdmission.add(Date.now() - start);
  if (opts && opts.onAdmitted) opts.onAdmitted();
  const input = { i: { dealId: deal, quantity: (opts && opts.quantity) || 1, idempotencyKey: `${keyPrefix}${user}`, pass: a.pass.token } };
  const told = (opts && opts.onOrderId) || (() => {});
  let created = null;
  let unknown = false;
  for (let attempt = 0; attempt < 5 && !created; attempt++) {
    r = gql(CREATE_ORDER, token, input);
    if (r.transport) return null;
    if (!r.code) { created = r.data.createOrder; break; }
    if (r.code === 'SOLD_OUT') return end('SOLD_OUT_AT_ORDER');
    // The order was kept but its queueing not confirmed: as docs/api.md tells clients, the same
    // request again (same idempotency key) is safe and never makes a second order.
    if (r.code === 'UNAVAILABLE' && r.ext && r.ext.outcome === 'UNKNOWN' && r.ext.orderId) {
      told(String(r.ext.orderId), 'UNKNOWN');
      unknown = true;
    } else if (r.code !== 'RATE_LIMITED') {
      return end(`order_${r.code}`);
    }
    sleep(Math.max(0.2, r.retryAfter || 1));
  }
  if (!created) return end(unknown ? 'ORDER_UNKNOWN' : 'ORDER_RATE_LIMITED');
  told(created.id, created.status);
  const accepted = Date.now();
  const polls = Math.ceil(((opts && opts.decisionPatienceS) || 30) * 2);
  for (let k = 0; k < polls; k++) {
    sleep(0.5);
    r = gql(ORDER, token, { id: created.id });
    if (r.transport || r.code) continue;
    const o = r.data.order;
    if (o && o.status !== 'PENDING') {
      timeToDecision.add(Date.now() - accepted);
      if (opts && opts.onDecided) opts.onDecided(created.id, o.status);
      return end(o.status);
    }
  }
  failures.add(1, { code: 'ORDER_NOT_DECIDED' });
  return 'ORDER_NOT_DECIDED';
}

// ---------------------------------------------------------------------------------------------
// Request-level traffic (spike, soak, stress, breakpoint): ONE request per iteration, so an
// arrival-rate executor's rate is the request rate. Each VU keeps a small pool of shoppers at
// different steps of the journey above; an iteration sends the request of the shopper whose turn
// is due (a poll no earlier than pollAfterMs asked, an order right after admission, an order
// poll every 500 ms), or, when nobody is due, brings a new shopper in (joinWaitingRoom). So the
// mix of operations is the one real shoppers make: joins, admission polls, createOrder at the
// admission pace, order polls.
//
// Shopper i of VU v uses token line (v − 1) + i·stride (mod the file's length): `stride` must be
// at least the number of VUs of the whole test (use `vuStride(options)`), so VUs never share a
// shopper until the file wraps round (a reused shopper finds its old place: PASS_USED, done).
const POLL_ORDER_MS = 500;
const ORDER_POLLS = 60;

export class Traffic {
  constructor(deal, tokens, stride, maxActive) {
    this.deal = deal;
    this.tokens = tokens;
    this.stride = stride;
    this.maxActive = maxActive || 32;
    this.active = [];
    this.started = 0;
  }

  /** Sends one request; returns nothing. */
  step() {
    const now = Date.now();
    const active = this.active;
    let pick = -1;
    let due = Infinity;
    for (let k = 0; k < active.length; k++) {
      if (active[k].due < due) { due = active[k].due; pick = k; }
    }
    if (pick < 0 || (due > now && active.length < this.maxActive)) { this.join(now); return; }
    const s = active[pick];
    if (s.step === 1) this.poll(s, pick, now);
    else if (s.step === 2) this.order(s, pick, now);
    else this.follow(s, pick, now);
  }

  /** Drops shopper `pick` from the pool and counts its result (none for a failure, counted already). */
  finish(pick, result) {
    const last = this.active.pop();
    if (pick < this.active.length) this.active[pick] = last;
    if (result) outcomes.add(1, { result });
  }

  join(now) {
    const vu = exec.vu.idInTest - 1;
    const line = this.tokens[(vu + this.started * this.stride) % this.tokens.length];
    this.started++;
    const s = { user: line[0], token: line[1], ticket: null, pass: null, orderId: null, step: 1, due: now, since: now, polls: 0 };
    const r = gql(JOIN, s.token, { d: this.deal });
    if (r.transport) return;
    if (r.code) { outcomes.add(1, { result: `join_${r.code}` }); return; }
    this.active.push(s);
    this.admitted(s, r.data.joinWaitingRoom, this.active.length - 1, now);
  }

  admitted(s, a, pick, now) {
    if (a.ticket) s.ticket = a.ticket;
    if (a.state === 'ADMITTED') {
      timeToAdmission.add(now - s.since);
      s.pass = a.pass.token; s.step = 2; s.due = now;
    } else if (GONE.has(a.state)) {
      this.finish(pick, a.state);
    } else {
      s.due = now + Math.max(200, a.pollAfterMs || 1000);
    }
  }

  poll(s, pick, now) {
    const r = gql(ADMISSION, s.token, { d: this.deal, t: s.ticket });
    if (r.transport) { s.due = now + 1000; return; }
    if (r.code) { s.due = now + Math.max(500, (r.retryAfter || 1) * 1000); return; }
    this.admitted(s, r.data.admission, pick, Date.now());
  }

  order(s, pick, now) {
    const r = gql(CREATE_ORDER, s.token, { i: { dealId: this.deal, quantity: 1, idempotencyKey: `load-${s.user}`, pass: s.pass } });
    if (r.transport) { s.due = now + 1000; return; }
    if (r.code === 'RATE_LIMITED' || r.code === 'UNAVAILABLE') { s.due = now + Math.max(200, (r.retryAfter || 1) * 1000); return; }
    if (r.code === 'SOLD_OUT') { this.finish(pick, 'SOLD_OUT_AT_ORDER'); return; }
    if (r.code) { this.finish(pick, `order_${r.code}`); return; }
    s.orderId = r.data.createOrder.id; s.step = 3; s.since = Date.now(); s.due = s.since + POLL_ORDER_MS;
  }

  follow(s, pick, now) {
    const r = gql(ORDER, s.token, { id: s.orderId });
    const o = r.data && r.data.order;
    if (o && o.status !== 'PENDING') {
      timeToDecision.add(Date.now() - s.since);
      this.finish(pick, o.status);
    } else if (++s.polls >= ORDER_POLLS) {
      failures.add(1, { code: 'ORDER_NOT_DECIDED' });
      this.finish(pick, null);
    } else {
      s.due = now + POLL_ORDER_MS;
    }
  }
}

/** The sum of every scenario's VUs: a safe `stride` for Traffic. */
export function vuStride(scenarios) {
  let n = 0;
  for (const s of Object.values(scenarios)) n += s.maxVUs || s.preAllocatedVUs || s.vus || 1;
  return n;
}

/**
 * VUs for an arrival rate: pre-allocated for answers of ~100 ms, at most enough for 1 s answers
 * (capped by MAX_VUS, 1500). Starting a VU mid-run costs time, so too few pre-allocated ones show
 * up as dropped iterations.
 */
export function vusFor(rate) {
  const cap = Number(__ENV.MAX_VUS || 1500);
  return { preAllocatedVUs: Math.min(cap, Math.max(10, Math.ceil(rate / 10))), maxVUs: Math.max(50, Math.min(cap, Math.ceil(rate))) };
}

// ---------------------------------------------------------------------------------------------
// Targets, as data. The original plan's milestones (p95 at a request rate; M3 adds an error
// budget) and our stricter target (p99 ≤ 20 ms at 3,000 requests/s), which keeps M3's budget.

export const MILESTONES = Object.freeze({
  M1: Object.freeze({ id: 'M1', rate: 500, stat: 'p(95)', ms: 200, maxErrorRate: null }),
  M2: Object.freeze({ id: 'M2', rate: 1000, stat: 'p(95)', ms: 180, maxErrorRate: null }),
  M3: Object.freeze({ id: 'M3', rate: 2000, stat: 'p(95)', ms: 150, maxErrorRate: 0.005 }),
  TARGET: Object.freeze({ id: 'TARGET', rate: 3000, stat: 'p(99)', ms: 20, maxErrorRate: 0.005 }),
});

/** A milestone by id (M1, M2, M3, TARGET; case-insensitive); throws on anything else. */
export function milestone(id) {
  const m = MILESTONES[String(id || '').toUpperCase()];
  if (!m) throw new Error(`unknown milestone ${id}: use one of ${Object.keys(MILESTONES).join(', ')}`);
  return m;
}

/**
 * k6 thresholds for a milestone, optionally on a tag filter (e.g. `scenario:m1`):
 * latency (`http_req_duration`), the error rate (`request_errors`; 0.5 % when the milestone has
 * none, so a run that merely answers fast with errors does not pass) and dropped iterations
 * (`dropped_iterations` at most `droppedMax`, the open model could not keep its rate).
 */
export function milestoneThresholds(m, filter, droppedMax, abort) {
  const f = filter ? `{${filter}}` : '';
  const wrap = (t) => (abort ? { threshold: t, abortOnFail: true, delayAbortEval: '10s' } : t);
  return {
    [`http_req_duration${f}`]: [wrap(`${m.stat}<=${m.ms}`)],
    [`request_errors${f}`]: [wrap(`rate<=${m.maxErrorRate === null ? 0.005 : m.maxErrorRate}`)],
    [`dropped_iterations${f}`]: [wrap(`count<=${droppedMax || 0}`)],
  };
}

/** Summary statistics every profile reports. */
export const TREND_STATS = ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'p(99.9)', 'max', 'count'];

/** Seconds from a duration string such as `90s`, `5m`, `1h` or a bare number of seconds. */
export function seconds(text, fallback) {
  const s = String(text === undefined || text === '' ? fallback : text).trim();
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(s);
  if (!m) throw new Error(`not a duration: ${s}`);
  const v = Number(m[1]);
  return m[2] === 'ms' ? v / 1000 : m[2] === 'm' ? v * 60 : m[2] === 'h' ? v * 3600 : v;
}
