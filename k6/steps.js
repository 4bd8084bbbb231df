// One step of the stepped createOrder benchmark (`make bench`, scripts/bench-steps): the accepted
// path at a constant arrival rate (open model: a slow answer does not slow the arrivals, a request
// k6 could not start in time is counted in `dropped_iterations`). Every iteration is one shopper
// with its own pass, so every request should be accepted; errors are what k6/lib/flashdeal.js says.
//
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e DEAL=steps-1000 -e PASSES=passes.tsv \
//          -e RATE=1000 -e SECONDS=30 k6/steps.js
//
// Environment: BASE_URL, DEAL, PASSES (`flashdeal-bench gateway-prepare`: userId, token, ticket,
// pass per line, at least RATE × SECONDS of them), RATE (requests/s), SECONDS, KEY_PREFIX.
import http from 'k6/http';
import { SharedArray } from 'k6/data';
import exec from 'k6/execution';
import { Counter } from 'k6/metrics';
import { CREATE_ORDER, GRAPHQL_URL, TREND_STATS, classify, failures, requestErrors } from './lib/flashdeal.js';

// Business answers (RATE_LIMITED, SOLD_OUT, …) are not errors, but on this path none is expected:
// they are counted apart and shown in the table.
const business = new Counter('business_answers');

const DEAL = __ENV.DEAL || 'steps-deal';
const RATE = Number(__ENV.RATE || 500);
const SECONDS = Number(__ENV.SECONDS || 30);
const KEY_PREFIX = __ENV.KEY_PREFIX || 'step-';

// [bearer header, request body] per shopper, built once at start-up: the load generator shares the
// machine, so no per-request string or JSON work is done in JavaScript.
const shoppers = new SharedArray('shoppers', () =>
  open(__ENV.PASSES).split('\n').filter((l) => l.length > 0).map((l) => l.split('\t')).map(([user, token, , pass]) => [
    `Bearer ${token}`,
    `${CREATE_ORDER.head}{"i":{"dealId":"${DEAL}","quantity":1,"idempotencyKey":"${KEY_PREFIX}${user}","pass":"${pass}"}}}`,
  ]));
const PARAMS = { headers: { 'Content-Type': 'application/json', Authorization: '' }, tags: CREATE_ORDER.tags };

export const options = {
  discardResponseBodies: false,
  scenarios: {
    step: {
      executor: 'constant-arrival-rate', exec: 'order', rate: RATE, timeUnit: '1s', duration: `${SECONDS}s`,
      preAllocatedVUs: Math.max(20, Math.ceil(RATE / 10)), maxVUs: Math.max(100, RATE),
    },
  },
  // Listed so the summary keeps them; the verdicts per milestone are computed by scripts/steps_table.py.
  thresholds: { http_req_duration: ['max>=0'], request_errors: ['rate>=0'], dropped_iterations: ['count>=0'],
    business_answers: ['count>=0'], failures: ['count>=0'] },
  summaryTrendStats: TREND_STATS,
};

export function order() {
  const i = exec.scenario.iterationInTest;
  if (i >= shoppers.length) { failures.add(1, { name: 'createOrder', code: 'OUT_OF_PASSES' }); requestErrors.add(true); return; }
  const [bearer, body] = shoppers[i];
  PARAMS.headers.Authorization = bearer;
  const res = http.post(GRAPHQL_URL, body, PARAMS);
  // An accepted order (200, no errors) needs no parsing; anything else is classified in full.
  if (res.status === 200 && res.body !== null && res.body.indexOf('"errors"') < 0) { requestErrors.add(false); return; }
  const r = classify(res);
  requestErrors.add(r.failure !== null);
  if (r.failure !== null) failures.add(1, { name: 'createOrder', code: r.failure });
  else if (r.code !== null) business.add(1, { code: r.code });
}
