// The shoppers of one chaos run (scripts/chaos): the flash-sale journeys of k6/lib/flashdeal.js
// in a spike shaped by the run's seed, with every fact the checker needs written to the console
// (one line each, milliseconds since the epoch first), independently of the system under test:
//
//   <ms> ORDER_ID <id> <PENDING|UNKNOWN>   an order id the gateway gave a shopper
//   <ms> ADMITTED                          a shopper was admitted (recovery of admission)
//   <ms> DECIDED <id> <status>             a shopper saw the decision (recovery of confirmations)
//   <ms> ANSWER <operation> <code> [reason] [since=<ms>]
//                                          every answer that was not a plain success: its code (a
//                                          GraphQL code, HTTP_<status>, HTTP_0 for no answer), the
//                                          error's `reason` extension when it has one, and when
//                                          the VU's previous request ended
//
//   k6 run --console-output events.log -e BASE_URL=… -e DEAL=… -e TOKENS=tokens.tsv k6/chaos.js
//
// Environment: WARMUP_SECONDS (4) at WARMUP_RATE (10/s) before the opening, SPIKE_RATE (120/s)
// for SPIKE_SECONDS (6), SUSTAIN_RATE (30/s) for SUSTAIN_SECONDS (10); QUANTITY_MAX (1): a shopper
// orders 1…QUANTITY_MAX units (drawn from the user id); PATIENCE_SECONDS (60) for admission,
// DECISION_PATIENCE_SECONDS (90) for the decision.
import { SharedArray } from 'k6/data';
import exec from 'k6/execution';
import { failures, journey, onAnswer, parseTokens } from './lib/flashdeal.js';

const DEAL = __ENV.DEAL || 'chaos-deal';
const WARMUP_S = Number(__ENV.WARMUP_SECONDS || 4);
const WARMUP_RATE = Number(__ENV.WARMUP_RATE || 10);
const SPIKE_RATE = Number(__ENV.SPIKE_RATE || 120);
const SPIKE_S = Number(__ENV.SPIKE_SECONDS || 6);
const SUSTAIN_RATE = Number(__ENV.SUSTAIN_RATE || 30);
const SUSTAIN_S = Number(__ENV.SUSTAIN_SECONDS || 10);
const QUANTITY_MAX = Math.max(1, Number(__ENV.QUANTITY_MAX || 1));
const PATIENCE_S = Number(__ENV.PATIENCE_SECONDS || 60);
const DECISION_PATIENCE_S = Number(__ENV.DECISION_PATIENCE_SECONDS || 90);

const tokens = new SharedArray('tokens', () => parseTokens(open(__ENV.TOKENS)));

export const options = {
  scenarios: {
    shoppers: {
      executor: 'ramping-arrival-rate', exec: 'shopper', timeUnit: '1s', startRate: WARMUP_RATE,
      preAllocatedVUs: 200, maxVUs: 3000,
      // Journeys under way when the arrivals end are let finish (a decision delayed by a fault
      // included): an interrupted request would read as a shopper left without an answer.
      gracefulStop: `${PATIENCE_S + DECISION_PATIENCE_S}s`,
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

onAnswer((name, r, previousEnd) => {
  if (r.code === null && r.failure === null) return;
  const reason = r.ext && r.ext.reason ? ` ${r.ext.reason}` : '';
  // When the VU's previous request ended: a transport failure on a connection that a killed
  // gateway left behind while the VU slept is designed, however late.
  console.log(`${Date.now()} ANSWER ${name} ${r.code || r.failure}${reason} since=${previousEnd}`);
});

/** 1…QUANTITY_MAX from the user id, so a replayed run asks the same. */
function quantityOf(user) {
  let h = 0;
  for (let k = 0; k < user.length; k++) h = (h * 31 + user.charCodeAt(k)) >>> 0;
  return 1 + (h % QUANTITY_MAX);
}

export function shopper() {
  const i = exec.scenario.iterationInTest;
  if (i >= tokens.length) { failures.add(1, { code: 'OUT_OF_TOKENS' }); return; }
  const [user, token] = tokens[i];
  journey(DEAL, user, token, {
    patienceS: PATIENCE_S, decisionPatienceS: DECISION_PATIENCE_S, keyPrefix: 'chaos-',
    quantity: quantityOf(user),
    onOrderId: (id, how) => console.log(`${Date.now()} ORDER_ID ${id} ${how}`),
    onAdmitted: () => console.log(`${Date.now()} ADMITTED`),
    onDecided: (id, status) => console.log(`${Date.now()} DECIDED ${id} ${status}`),
  });
}
