// Gateway benchmark (issue: gateway acceptance). Open-model load with constant-arrival-rate, so
// latency is not hidden by coordinated omission; `dropped_iterations` is reported.
//
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e PASSES=.bench/passes.tsv k6/gateway-bench.js
//
// Scenarios, one after the other:
//   livez       bare GET /livez at LIVEZ_RATE for LIVEZ_SECONDS: the HTTP ceiling of this box
//   orders      createOrder, accepted path, ORDER_RATE for ORDER_SECONDS, each with its own pass
//   admission   admission polls at POLL_RATE for POLL_SECONDS
// PASSES is a TSV written by `flashdeal-bench gateway-prepare`: userId, bearer token, ticket, pass.
import http from 'k6/http';
import { check } from 'k6';
import { SharedArray } from 'k6/data';
import exec from 'k6/execution';
import { Counter } from 'k6/metrics';

const BASE = __ENV.BASE_URL || 'http://127.0.0.1:8080';
const DEAL = __ENV.DEAL || 'bench-deal';
const LIVEZ_RATE = Number(__ENV.LIVEZ_RATE || 12000);
const LIVEZ_SECONDS = Number(__ENV.LIVEZ_SECONDS || 15);
const ORDER_RATE = Number(__ENV.ORDER_RATE || 2000);
const ORDER_SECONDS = Number(__ENV.ORDER_SECONDS || 60);
const POLL_RATE = Number(__ENV.POLL_RATE || 8000);
const POLL_SECONDS = Number(__ENV.POLL_SECONDS || 30);
const GAP = 5;

const shoppers = new SharedArray('shoppers', () =>
  open(__ENV.PASSES).split('\n').filter((l) => l.length > 0).map((l) => l.split('\t')));

const businessErrors = new Counter('business_outcomes');
const failures = new Counter('failures');

const CREATE = 'mutation C($i: CreateOrderInput!) { createOrder(input: $i) { id status } }';
const ADMISSION = 'query A($d: ID!, $t: ID!) { admission(dealId: $d, ticket: $t) { state position } }';
// Business outcomes are answers, not errors (docs/api.md).
const BUSINESS = new Set(['RATE_LIMITED', 'QUEUED', 'SOLD_OUT', 'DEAL_NOT_OPEN', 'DEAL_ENDED', 'LIMIT_EXCEEDED', 'PASS_USED']);

function rate(name, fn, r, seconds, start, vus) {
  return {
    executor: 'constant-arrival-rate', exec: fn, rate: r, timeUnit: '1s', duration: `${seconds}s`,
    preAllocatedVUs: vus, maxVUs: vus * 4, startTime: `${start}s`, tags: { scenario: name },
  };
}

const orderStart = LIVEZ_SECONDS + GAP;
const pollStart = orderStart + ORDER_SECONDS + GAP;

export const options = {
  discardResponseBodies: false,
  scenarios: {
    livez: rate('livez', 'livez', LIVEZ_RATE, LIVEZ_SECONDS, 0, 200),
    orders: rate('orders', 'order', ORDER_RATE, ORDER_SECONDS, orderStart, 200),
    admission: rate('admission', 'poll', POLL_RATE, POLL_SECONDS, pollStart, 400),
  },
  // Thresholds are the acceptance targets; they also make k6 keep per-scenario figures.
  thresholds: {
    'http_req_duration{scenario:orders}': ['p(99)<25'],
    'failures{scenario:orders}': ['count<1'],
    'dropped_iterations{scenario:orders}': ['count<1'],
    'http_reqs{scenario:orders}': ['count>0'],
    'business_outcomes{scenario:orders}': ['count<1'],
    'http_req_duration{scenario:admission}': ['p(99)<50'],
    'failures{scenario:admission}': ['count<1'],
    'dropped_iterations{scenario:admission}': ['count<1'],
    'http_reqs{scenario:admission}': ['count>0'],
    'business_outcomes{scenario:admission}': ['count<1'],
    'http_req_duration{scenario:livez}': ['p(99)<50'],
    'failures{scenario:livez}': ['count<1'],
    'dropped_iterations{scenario:livez}': ['count<1'],
    'http_reqs{scenario:livez}': ['count>0'],
  },
  summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'p(99.9)', 'max', 'count'],
};

export function livez() {
  const res = http.get(`${BASE}/livez`);
  if (res.status !== 200) failures.add(1);
}

function classify(res, field) {
  if (res.status === 0 || res.status >= 500) { failures.add(1); return; }
  let body;
  try { body = res.json(); } catch (e) { failures.add(1); return; }
  if (body.errors && body.errors.length > 0) {
    const code = body.errors[0].extensions && body.errors[0].extensions.code;
    if (BUSINESS.has(code)) businessErrors.add(1, { code });
    else failures.add(1, { code: String(code) });
    return;
  }
  if (!body.data || !body.data[field]) failures.add(1);
}

export function order() {
  // Each iteration takes the next shopper: one pass, one accepted order.
  const i = exec.scenario.iterationInTest;
  if (i >= shoppers.length) { failures.add(1, { code: 'OUT_OF_PASSES' }); return; }
  const [user, token, , pass] = shoppers[i];
  const res = http.post(`${BASE}/graphql`, JSON.stringify({
    query: CREATE, variables: { i: { dealId: DEAL, quantity: 1, idempotencyKey: `bench-${user}`, pass } },
  }), { headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` } });
  classify(res, 'createOrder');
}

export function poll() {
  const i = exec.scenario.iterationInTest % shoppers.length;
  const [, token, ticket] = shoppers[i];
  const res = http.post(`${BASE}/graphql`, JSON.stringify({ query: ADMISSION, variables: { d: DEAL, t: ticket } }),
    { headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` } });
  classify(res, 'admission');
}
