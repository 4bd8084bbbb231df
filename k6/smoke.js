// Smoke: a few shoppers through the whole journey — join (the pre-queue when the deal opens a few
// seconds later), poll until admitted, createOrder with the pass, poll the order until the worker
// decided — and nothing may go wrong: no error of any kind, every journey CONFIRMED.
//
//   scripts/load smoke                                   (local stack: seeds a deal, starts everything)
//   k6 run -e BASE_URL=https://gw.example -e DEAL=deal-1 -e TOKENS=tokens.tsv k6/smoke.js
//
// Environment:
//   BASE_URL          the gateway (default http://127.0.0.1:8080)
//   DEAL              a deal with stock for every shopper (one unit each), open or opening soon
//   TOKENS            `userId<TAB>bearer token` per line (`flashdeal token --count N`); one line per shopper
//   SHOPPER_RATE      shoppers arriving per second (1)
//   DURATION          how long shoppers arrive (20s)
//   PATIENCE_SECONDS  a shopper gives up waiting for admission after this long (30)
//   SMOKE_P95_MS      bound on p95 of every request, in ms (500: a sanity bound, debug builds included)
// Arrivals are an open model (constant-arrival-rate).
import { check } from 'k6';
import http from 'k6/http';
import { SharedArray } from 'k6/data';
import exec from 'k6/execution';
import { BASE_URL, GRAPHQL_URL, TREND_STATS, failures, journey, parseTokens, seconds } from './lib/flashdeal.js';

const DEAL = __ENV.DEAL || 'smoke-deal';
const RATE = Number(__ENV.SHOPPER_RATE || 1);
const DURATION_S = seconds(__ENV.DURATION, '20s');
const PATIENCE_S = Number(__ENV.PATIENCE_SECONDS || 30);
const P95_MS = Number(__ENV.SMOKE_P95_MS || 500);

const tokens = new SharedArray('tokens', () => parseTokens(open(__ENV.TOKENS)));

export const options = {
  scenarios: {
    shoppers: {
      executor: 'constant-arrival-rate', exec: 'shopper', rate: RATE, timeUnit: '1s', duration: `${DURATION_S}s`,
      preAllocatedVUs: Math.max(5, Math.ceil(RATE * 10)), maxVUs: Math.max(50, Math.ceil(RATE * 60)),
      gracefulStop: `${PATIENCE_S + 40}s`,
    },
  },
  thresholds: {
    failures: ['count<1'],
    checks: ['rate==1'],
    http_req_failed: ['rate==0'],
    dropped_iterations: ['count<1'],
    'shopper_outcomes{result:CONFIRMED}': ['count>0'],
    http_req_duration: [`p(95)<${P95_MS}`],
    ...Object.fromEntries(['joinWaitingRoom', 'admission', 'createOrder', 'order'].map(
      (n) => [`http_req_duration{name:${n}}`, ['max>=0']])),
  },
  summaryTrendStats: TREND_STATS,
};

export function setup() {
  const res = http.post(GRAPHQL_URL, JSON.stringify({ query: 'query D($id: ID!) { deal(id: $id) { id startsAt totalStock } }', variables: { id: DEAL } }),
    { headers: { 'Content-Type': 'application/json' }, tags: { name: 'setup' } });
  const deal = res.status === 200 ? res.json('data.deal') : null;
  if (!deal) throw new Error(`no deal ${DEAL} at ${BASE_URL} (status ${res.status}): seed one, e.g. scripts/load smoke`);
  if (tokens.length < Math.ceil(RATE * DURATION_S)) {
    throw new Error(`TOKENS has ${tokens.length} shoppers; ${Math.ceil(RATE * DURATION_S)} arrive`);
  }
  return { startsAt: deal.startsAt };
}

export function shopper() {
  const i = exec.scenario.iterationInTest;
  if (i >= tokens.length) { failures.add(1, { code: 'OUT_OF_TOKENS' }); return; }
  const [user, token] = tokens[i];
  const result = journey(DEAL, user, token, { patienceS: PATIENCE_S, keyPrefix: 'smoke-' });
  check(result, { 'journey ends CONFIRMED': (r) => r === 'CONFIRMED' });
}
