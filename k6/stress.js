// Stress: the original plan's milestones, one step each, at their request rates — M1 p95 ≤ 200 ms
// at 500 requests/s, M2 p95 ≤ 180 ms at 1,000/s, M3 p95 ≤ 150 ms at 2,000/s with ≤ 0.5 % errors —
// then our target, p99 ≤ 20 ms at 3,000/s. Each step is a constant-arrival-rate scenario (open
// model: a slow answer does not slow the arrivals) judged by its own thresholds: latency, error
// rate (`request_errors`, k6/lib/flashdeal.js) and `dropped_iterations` (k6 could not keep the
// rate). One iteration is one request of a shopper's journey (the lib's Traffic: joins, admission
// polls, createOrder, order polls, in the proportions real shoppers make them).
//
//   scripts/load stress                                   (local stack)
//   STEPS=M1@50,M2@100,M3@150,TARGET@200 STEP_SECONDS=10 scripts/load stress   (scaled down)
//   k6 run -e BASE_URL=… -e DEAL=… -e TOKENS=… k6/stress.js
//
// Environment:
//   BASE_URL, DEAL, TOKENS   the gateway, a deal with plenty of stock (open, or opening within seconds),
//                            `userId<TAB>token` lines (tens of thousands: one per shopper brought in)
//   STEPS          comma-separated MILESTONE[@rate]: which thresholds each step is judged by and its
//                  request rate (default M1,M2,M3,TARGET, each at its own rate)
//   STEP_SECONDS   how long each step lasts (60); GAP_SECONDS between steps (3)
//   DROPPED_MAX_RATE  dropped iterations allowed, as a fraction of a step's requests (0.005)
//   POOL           shoppers each VU keeps in flight (32); MAX_VUS caps VUs per step (1500)
import { SharedArray } from 'k6/data';
import { MILESTONES, TREND_STATS, Traffic, milestone, milestoneThresholds, parseTokens, vuStride, vusFor } from './lib/flashdeal.js';

const DEAL = __ENV.DEAL || 'load-deal';
const STEP_S = Number(__ENV.STEP_SECONDS || 60);
const GAP_S = Number(__ENV.GAP_SECONDS || 3);
const DROPPED = Number(__ENV.DROPPED_MAX_RATE || 0.005);
const POOL = Number(__ENV.POOL || 32);
const STEPS = (__ENV.STEPS || Object.keys(MILESTONES).join(',')).split(',').map((s) => {
  const [id, rate] = s.trim().split('@');
  const m = milestone(id);
  return { m, rate: rate ? Number(rate) : m.rate };
});

const tokens = new SharedArray('tokens', () => parseTokens(open(__ENV.TOKENS)));

const scenarios = {};
let thresholds = {};
STEPS.forEach((s, k) => {
  const name = `${s.m.id.toLowerCase()}_${s.rate}`;
  scenarios[name] = {
    executor: 'constant-arrival-rate', exec: 'step', rate: s.rate, timeUnit: '1s', duration: `${STEP_S}s`,
    startTime: `${k * (STEP_S + GAP_S)}s`, gracefulStop: `${GAP_S}s`, ...vusFor(s.rate),
  };
  thresholds = { ...thresholds, ...milestoneThresholds(s.m, `scenario:${name}`, Math.floor(s.rate * STEP_S * DROPPED)) };
});
const STRIDE = vuStride(scenarios);

export const options = {
  scenarios,
  thresholds: {
    ...thresholds,
    ...Object.fromEntries(['joinWaitingRoom', 'admission', 'createOrder', 'order'].map((n) => [`http_req_duration{name:${n}}`, ['max>=0']])),
  },
  summaryTrendStats: TREND_STATS,
};

let traffic = null;
export function step() {
  if (traffic === null) traffic = new Traffic(DEAL, tokens, STRIDE, POOL);
  traffic.step();
}
