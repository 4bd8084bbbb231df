// Spike: a steady request rate, then a sudden jump (BASE_RATE → SPIKE_RATE within RAMP_SECONDS),
// held, then back to the steady rate — does the gateway hold during the spike, and does it recover
// after? Three open-model scenarios one after the other (before: constant-arrival-rate, spike:
// ramping-arrival-rate, after: constant-arrival-rate), each judged by its own thresholds: latency
// of a milestone, error rate, `dropped_iterations`. One iteration is one request of a shopper's
// journey (the lib's Traffic). k6/flash-sale.js is the other kind of spike: shoppers arriving at
// the opening, each going through the whole journey.
//
//   scripts/load spike                                    (local stack)
//   BASE_RATE=20 SPIKE_RATE=200 BASE_SECONDS=5 SPIKE_SECONDS=5 RECOVERY_SECONDS=5 scripts/load spike
//   k6 run -e BASE_URL=… -e DEAL=… -e TOKENS=… k6/spike.js
//
// Environment:
//   BASE_URL, DEAL, TOKENS   the gateway, a deal with plenty of stock, `userId<TAB>token` lines
//   BASE_RATE (100/s) for BASE_SECONDS (30); SPIKE_RATE (1000/s) reached in RAMP_SECONDS (1), held
//   SPIKE_SECONDS (20); back to BASE_RATE for RECOVERY_SECONDS (30)
//   MILESTONE        thresholds before and after the spike: M1 (default), M2, M3, TARGET
//   SPIKE_MILESTONE  thresholds during the spike (default: MILESTONE)
//   DROPPED_MAX_RATE dropped iterations allowed, as a fraction of a phase's requests (0.005)
//   POOL             shoppers each VU keeps in flight (32); MAX_VUS caps VUs per phase (1500)
import { SharedArray } from 'k6/data';
import { TREND_STATS, Traffic, milestone, milestoneThresholds, parseTokens, vuStride, vusFor } from './lib/flashdeal.js';

const DEAL = __ENV.DEAL || 'load-deal';
const BASE_RATE = Number(__ENV.BASE_RATE || 100);
const SPIKE_RATE = Number(__ENV.SPIKE_RATE || 1000);
const BASE_S = Number(__ENV.BASE_SECONDS || 30);
const RAMP_S = Number(__ENV.RAMP_SECONDS || 1);
const SPIKE_S = Number(__ENV.SPIKE_SECONDS || 20);
const RECOVERY_S = Number(__ENV.RECOVERY_SECONDS || 30);
const M = milestone(__ENV.MILESTONE || 'M1');
const SPIKE_M = milestone(__ENV.SPIKE_MILESTONE || M.id);
const DROPPED = Number(__ENV.DROPPED_MAX_RATE || 0.005);
const POOL = Number(__ENV.POOL || 32);

const tokens = new SharedArray('tokens', () => parseTokens(open(__ENV.TOKENS)));

const spikeEnd = BASE_S + 2 * RAMP_S + SPIKE_S;
const scenarios = {
  before: {
    executor: 'constant-arrival-rate', exec: 'step', rate: BASE_RATE, timeUnit: '1s', duration: `${BASE_S}s`,
    gracefulStop: '2s', ...vusFor(BASE_RATE),
  },
  spike: {
    executor: 'ramping-arrival-rate', exec: 'step', startRate: BASE_RATE, timeUnit: '1s', startTime: `${BASE_S}s`,
    stages: [
      { target: SPIKE_RATE, duration: `${RAMP_S}s` },
      { target: SPIKE_RATE, duration: `${SPIKE_S}s` },
      { target: BASE_RATE, duration: `${RAMP_S}s` },
    ],
    gracefulStop: '2s', ...vusFor(SPIKE_RATE),
  },
  after: {
    executor: 'constant-arrival-rate', exec: 'step', rate: BASE_RATE, timeUnit: '1s', duration: `${RECOVERY_S}s`,
    startTime: `${spikeEnd}s`, gracefulStop: '5s', ...vusFor(BASE_RATE),
  },
};
const STRIDE = vuStride(scenarios);

export const options = {
  scenarios,
  thresholds: {
    ...milestoneThresholds(M, 'scenario:before', Math.floor(BASE_RATE * BASE_S * DROPPED)),
    ...milestoneThresholds(SPIKE_M, 'scenario:spike', Math.floor(SPIKE_RATE * (SPIKE_S + RAMP_S) * DROPPED)),
    ...milestoneThresholds(M, 'scenario:after', Math.floor(BASE_RATE * RECOVERY_S * DROPPED)),
    ...Object.fromEntries(['joinWaitingRoom', 'admission', 'createOrder', 'order'].map((n) => [`http_req_duration{name:${n}}`, ['max>=0']])),
  },
  summaryTrendStats: TREND_STATS,
};

let traffic = null;
export function step() {
  if (traffic === null) traffic = new Traffic(DEAL, tokens, STRIDE, POOL);
  traffic.step();
}
