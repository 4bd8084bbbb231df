// One operation of the CPU-per-request benchmark (scripts/bench-cpu, part of `make bench`) at a
// constant arrival rate (open model) well below saturation: what matters is the CPU every process
// spends per request, not how fast k6 can go.
//
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e OP=create -e DEAL=cpu-create -e SHOPPERS=shoppers.tsv \
//          -e RATE=400 -e SECONDS=30 k6/cpu.js
//
// OP is one of:
//   livez    GET /livez
//   join     joinWaitingRoom, a new shopper per request
//   poll     the admission query, shoppers' tickets in turn (waiting or admitted: the deal decides)
//   create   createOrder on the accepted path, a shopper and a pass per request
//   order    the order query, the orders `create` placed, in turn
// SHOPPERS: `flashdeal-bench gateway-prepare` lines (userId, bearer, ticket, pass, orderId).
//
// The load generator shares the machine, so its cost per request is kept small: every request
// body is built once, at start-up, and an answer is checked by its status and a substring search
// (no JSON parsing).
import http from 'k6/http';
import { SharedArray } from 'k6/data';
import exec from 'k6/execution';
import { Counter } from 'k6/metrics';

const BASE = (__ENV.BASE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
const OP = __ENV.OP || 'livez';
const DEAL = __ENV.DEAL || 'cpu-deal';
const RATE = Number(__ENV.RATE || 400);
const SECONDS = Number(__ENV.SECONDS || 30);
const KEY_PREFIX = __ENV.KEY_PREFIX || 'cpu-';
const GRAPHQL = `${BASE}/graphql`;
const LIVEZ = `${BASE}/livez`;

const QUERIES = {
  join: 'mutation J($d: ID!) { joinWaitingRoom(dealId: $d) { ticket state position pollAfterMs } }',
  poll: 'query A($d: ID!, $t: ID!) { admission(dealId: $d, ticket: $t) { state position pollAfterMs pass { token } } }',
  create: 'mutation C($i: CreateOrderInput!) { createOrder(input: $i) { id status } }',
  order: 'query O($id: ID!) { order(id: $id) { status reason } }',
};

function variables(line) {
  const [user, , ticket, pass, orderId] = line;
  switch (OP) {
    case 'join': return { d: DEAL };
    case 'poll': return { d: DEAL, t: ticket };
    case 'create': return { i: { dealId: DEAL, quantity: 1, idempotencyKey: `${KEY_PREFIX}${user}`, pass } };
    case 'order': return { id: orderId };
    default: return {};
  }
}

// [bearer header, body] per shopper, built once.
const requests = new SharedArray('requests', () => {
  if (OP === 'livez') return [];
  const head = `{"query":${JSON.stringify(QUERIES[OP])},"variables":`;
  return open(__ENV.SHOPPERS).split('\n').filter((l) => l.length > 0).map((l) => l.split('\t'))
    .map((line) => [`Bearer ${line[1]}`, `${head}${JSON.stringify(variables(line))}}`]);
});

export const errors = new Counter('errors');

export const options = {
  discardResponseBodies: false,
  scenarios: {
    op: {
      executor: 'constant-arrival-rate', exec: 'run', rate: RATE, timeUnit: '1s', duration: `${SECONDS}s`,
      preAllocatedVUs: Math.max(20, Math.ceil(RATE / 10)), maxVUs: Math.max(100, RATE),
    },
  },
  thresholds: { errors: ['count>=0'], dropped_iterations: ['count>=0'] },
  summaryTrendStats: ['avg', 'med', 'p(95)', 'p(99)', 'max', 'count'],
};

const PARAMS = { headers: { 'Content-Type': 'application/json', Authorization: '' } };
// Reused objects: one per VU (k6 runs each VU in its own JavaScript runtime).
const LIVEZ_PARAMS = { responseType: 'none' };

export function run() {
  if (OP === 'livez') {
    if (http.get(LIVEZ, LIVEZ_PARAMS).status !== 200) errors.add(1);
    return;
  }
  const n = requests.length;
  const i = exec.scenario.iterationInTest;
  // join and create take each shopper once; poll and order go round the list.
  if ((OP === 'join' || OP === 'create') && i >= n) { errors.add(1, { code: 'OUT_OF_SHOPPERS' }); return; }
  const [bearer, body] = requests[i % n];
  PARAMS.headers.Authorization = bearer;
  const res = http.post(GRAPHQL, body, PARAMS);
  if (res.status !== 200 || res.body === null || res.body.indexOf('"errors"') >= 0) {
    // The answer's error code when it has one (a business refusal, UNAVAILABLE…), else the status;
    // the first few bodies go to the log so that a run's errors can be told apart afterwards.
    const m = res.body ? /"code":"([A-Z_]+)"/.exec(res.body) : null;
    const code = m ? m[1] : `HTTP_${res.status}`;
    errors.add(1, { code });
    if (logged < 3) {
      logged += 1;
      console.warn(`${OP}: error ${code}: ${String(res.body).slice(0, 300)}`);
    }
  }
}

let logged = 0;
