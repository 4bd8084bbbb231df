// Soak: a steady request rate for a long time — leaks, growing queues, slow drifts show up as
// latency or errors late in the run. Open model (constant-arrival-rate); one iteration is one
// request of a shopper's journey (the lib's Traffic). Judged by a milestone's thresholds over the
// whole run, the error rate and `dropped_iterations`.
//
//   scripts/load soak                                     (local stack: 250 requests/s for 30 minutes)
//   RATE=100 DURATION=20s scripts/load soak               (a short proof)
//   k6 run -e BASE_URL=… -e DEAL=… -e TOKENS=… k6/soak.js
//
// Environment:
//   BASE_URL, DEAL, TOKENS   the gateway, a deal with plenty of stock, `userId<TAB>token` lines (about
//                            one shopper per 5 requests: RATE × DURATION / 5)
//   RATE           requests per second (250: half of M1's rate)
//   DURATION       how long (30m)
//   MILESTONE      whose thresholds apply: M1 (default), M2, M3, TARGET
//   DROPPED_MAX_RATE  dropped iterations allowed, as a fraction of the requests (0.005)
//   POOL           shoppers each VU keeps in flight (32); MAX_VUS caps VUs (1500)
import { SharedArray } from 'k6/data';
import { TREND_STATS, Traffic, milestone, milestoneThresholds, parseTokens, seconds, vuStride, vusFor } from './lib/flashdeal.js';

const DEAL = __ENV.DEAL || 'load-deal';
const RATE = Number(__ENV.RATE || 250);
const DURATION_S = seconds(__ENV.DURATION, '30m');
const M = milestone(__ENV.MILESTONE || 'M1');
const DROPPED = Number(__ENV.DROPPED_MAX_RATE || 0.005);
const POOL = Number(__ENV.POOL || 32);

const tokens = new SharedArray('tokens', () => parseTokens(open(__ENV.TOKENS)));

const scenarios = {
  soak: { executor: 'constant-arrival-rate', exec: 'step', rate: RATE, timeUnit: '1s', duration: `${DURATION_S}s`, gracefulStop: '10s', ...vusFor(RATE) },
};
const STRIDE = vuStride(scenarios);

export const options = {
  scenarios,
  thresholds: {
    ...milestoneThresholds(M, null, Math.floor(RATE * DURATION_S * DROPPED)),
    failures: [`count<=${Math.floor(RATE * DURATION_S * (M.maxErrorRate === null ? 0.005 : M.maxErrorRate))}`],
    ...Object.fromEntries(['joinWaitingRoom', 'admission', 'createOrder', 'order'].map((n) => [`http_req_duration{name:${n}}`, ['max>=0']])),
  },
  summaryTrendStats: TREND_STATS,
};

let traffic = null;
export function step() {
  if (traffic === null) traffic = new Traffic(DEAL, tokens, STRIDE, POOL);
  traffic.step();
}
