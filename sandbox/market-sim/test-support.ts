import type { HermesClient } from '@pythnetwork/hermes-client';
import { afterEach } from 'vitest';
import { createMarketSim, type MarketSim, type MarketSimOptions } from './market-sim.ts';

/** Feed ids of the registry (config/markets.json), without 0x. */
export const SOL = 'ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d';
export const BTC = 'e62df6c8b4a85fe1a67db44dc12de5db330f7ac66b72dc658afedf0f4a415b43';
export const ETH = 'ff61491a931112ddf1bd8147cd1b641375f79f5825126d665480874634fd0ace';
export const JUP = '0a0408d619e9380abad35060f9192039ed5042fa6f82301d0e48bb52be830996';
export const BONK = '72b021217ca3fe68922a19aaf990109cb9d84e9ad004b4d2025ad6f529314419';

/** The stream the Hermes client opens. */
type EventSource = Awaited<ReturnType<HermesClient['getPriceUpdatesStream']>>;

const running: MarketSim[] = [];
const sources: EventSource[] = [];

afterEach(async () => {
  for (const es of sources.splice(0)) es.close();
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

/** Starts a simulator on a free port; stopped after the test. */
export async function startSim(options: MarketSimOptions = {}): Promise<MarketSim> {
  const sim = createMarketSim({ port: 0, logLevel: 'silent', ...options });
  running.push(sim);
  await sim.start();
  return sim;
}

/** Closes the EventSource after the test. */
export function track<T extends EventSource>(es: T): T {
  sources.push(es);
  return es;
}

/** Raw SSE messages of an EventSource, with their receipt time. */
export function recordMessages(es: EventSource) {
  const messages: { data: string; at: number }[] = [];
  const errors: { code: number | undefined; message: string | undefined; at: number }[] = [];
  let opens = 0;
  es.addEventListener('message', (e) => messages.push({ data: e.data, at: Date.now() }));
  es.addEventListener('error', (e) => errors.push({ code: e.code, message: e.message, at: Date.now() }));
  es.addEventListener('open', () => {
    opens += 1;
  });
  return {
    messages,
    errors,
    get opens() {
      return opens;
    },
  };
}

export async function waitFor(
  condition: () => boolean,
  what: string,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
