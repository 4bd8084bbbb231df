// A short flash sale for crash runs (scripts/crash-sale): the flash-sale model's shopper journeys
// (k6/lib/flashdeal.js), smaller, and every order id the gateway gives a shopper written to the
// console as `ORDER_ID <id> <how>` (how: PENDING, or UNKNOWN when the answer was UNAVAILABLE
// with that order id), so the checker knows what shoppers were told independently of the system.
//
//   k6 run --console-output ids.log -e BASE_URL=… -e DEAL=… -e TOKENS=tokens.tsv k6/crash-sale.js
//
// Environment: WARMUP_SECONDS (5) at WARMUP_RATE (20/s) before the opening, SPIKE_RATE (120/s)
// for SPIKE_SECONDS (6), SUSTAIN_RATE (30/s) for SUSTAIN_SECONDS (8); PATIENCE_SECONDS (60) for
// admission, DECISION_PATIENCE_SECONDS (90) for the decision (a crash delays it).
import { SharedArray } from 'k6/data';
import exec from 'k6/execution';
import { failures, journey, parseTokens } from './lib/flashdeal.js';

const DEAL = __ENV.DEAL || 'crash-deal';
const WARMUP_S = Number(__ENV.WARMUP_SECONDS || 5);
const WARMUP_RATE = Number(__ENV.WARMUP_RATE || 20);
const SPIKE_RATE = Number(__ENV.SPIKE_RATE || 120);
const SPIKE_S = Number(__ENV.SPIKE_SECONDS || 6);
const SUSTAIN_RATE = Number(__ENV.SUSTAIN_RATE || 30);
const SUSTAIN_S = Number(__ENV.SUSTAIN_SECONDS || 8);
const PATIENCE_S = Number(__ENV.PATIENCE_SECONDS || 60);
const DECISION_PATIENCE_S = Number(__ENV.DECISION_PATIENCE_SECONDS || 90);

const tokens = new SharedArray('tokens', () => parseTokens(open(__ENV.TOKENS)));

export const options = {
  scenarios: {
    shoppers: {
      executor: 'ramping-arrival-rate', exec: 'shopper', timeUnit: '1s', startRate: WARMUP_RATE,
      preAllocatedVUs: 200, maxVUs: 3000,
      stages: [
        { target: WARMUP_RATE, duration: `${WARMUP_S}s` },
        { target: SPIKE_RATE, duration: '1s' },
        { target: SPIKE_RATE, duration: `${SPIKE_S}s` },
        { target: SUSTAIN_RATE, duration: '1s' },
        { target: SUSTAIN_RATE, duration: `${SUSTAIN_S}s` },
      ],
    },
  },
  summaryTrendStats: ['med', 'p(95)', 'p(99)', 'max', 'count'],
};

export function shopper() {
  const i = exec.scenario.iterationInTest;
  if (i >= tokens.length) { failures.add(1, { code: 'OUT_OF_TOKENS' }); return; }
  const [user, token] = tokens[i];
  journey(DEAL, user, token, {
    patienceS: PATIENCE_S, decisionPatienceS: DECISION_PATIENCE_S, keyPrefix: 'crash-',
    onOrderId: (id, how) => console.log(`ORDER_ID ${id} ${how}`),
  });
}
