// Breakpoint: the request rate climbs steadily (ramping-arrival-rate, open model) from START_RATE
// to MAX_RATE until a milestone's thresholds break — latency, error rate or dropped iterations —
// and k6 stops there (abortOnFail; evaluation starts after 10 s). The rate reached is the
// `offered_rate` gauge's last value in the summary. The run ends with k6's exit 99 when the
// gateway broke before MAX_RATE: that is the answer, not a fault of the script. One iteration is
// one request of a shopper's journey (the lib's Traffic).
//
//   scripts/load breakpoint                               (local stack: 50 → 5,000 requests/s over 10 min)
//   START_RATE=10 MAX_RATE=200 DURATION=20s scripts/load breakpoint
//   k6 run -e BASE_URL=… -e DEAL=… -e TOKENS=… k6/breakpoint.js
//
// Environment:
//   BASE_URL, DEAL, TOKENS   the gateway, a deal with plenty of stock, `userId<TAB>token` lines
//   START_RATE (50/s), MAX_RATE (5000/s), DURATION of the climb (10m)
//   BREAK_ON       whose thresholds define "broken": TARGET (default, p99 ≤ 20 ms), M1, M2, M3
//   DROPPED_MAX    dropped iterations that count as broken (100)
//   POOL           shoppers each VU keeps in flight (32); MAX_VUS caps VUs (1500)
import { SharedArray } from 'k6/data';
import exec from 'k6/execution';
import { Gauge } from 'k6/metrics';
import { TREND_STATS, Traffic, milestone, milestoneThresholds, parseTokens, seconds, vuStride, vusFor } from './lib/flashdeal.js';

const DEAL = __ENV.DEAL || 'load-deal';
const START_RATE = Number(__ENV.START_RATE || 50);
const MAX_RATE = Number(__ENV.MAX_RATE || 5000);
const DURATION_S = seconds(__ENV.DURATION, '10m');
const M = milestone(__ENV.BREAK_ON || 'TARGET');
const DROPPED_MAX = Number(__ENV.DROPPED_MAX || 100);
const POOL = Number(__ENV.POOL || 32);

const tokens = new SharedArray('tokens', () => parseTokens(open(__ENV.TOKENS)));
const offered = new Gauge('offered_rate');

const scenarios = {
  climb: {
    executor: 'ramping-arrival-rate', exec: 'step', startRate: START_RATE, timeUnit: '1s',
    stages: [{ target: MAX_RATE, duration: `${DURATION_S}s` }], gracefulStop: '5s', ...vusFor(MAX_RATE),
  },
};
const STRIDE = vuStride(scenarios);

export const options = {
  scenarios,
  thresholds: {
    ...milestoneThresholds(M, null, DROPPED_MAX, true),
    offered_rate: ['value>=0'],
    ...Object.fromEntries(['joinWaitingRoom', 'admission', 'createOrder', 'order'].map((n) => [`http_req_duration{name:${n}}`, ['max>=0']])),
  },
  summaryTrendStats: TREND_STATS,
};

let traffic = null;
let lastGauge = 0;
export function step() {
  if (traffic === null) traffic = new Traffic(DEAL, tokens, STRIDE, POOL);
  traffic.step();
  const now = Date.now();
  if (now - lastGauge >= 1000) {   // at most once a second per VU
    lastGauge = now;
    const t = Math.min(1, exec.instance.currentTestRunDuration / 1000 / DURATION_S);
    offered.add(Math.round(START_RATE + (MAX_RATE - START_RATE) * t));
  }
}
