import type { SimFeed } from './feeds.ts';
import { createRng, type Rng } from './random.ts';

/** A Pyth-style quote: integer mantissas at `expo` (value = mantissa × 10^expo). */
export interface PythQuote {
  readonly price: bigint;
  readonly conf: bigint;
  readonly expo: number;
  readonly emaPrice: bigint;
  readonly emaConf: bigint;
}

const SECONDS_PER_DAY = 86_400;
/** Pyth's EMA spans about 5,921 slots of 400 ms (≈ 40 minutes). */
const EMA_WINDOW_SEC = 5_921 * 0.4;
/** Pull towards the feed's level, so a long run stays around realistic prices. */
const REVERSION_HALF_LIFE_SEC = 6 * 3_600;
/** CoinGecko aggregates other venues, so its price sits a few bps away from Pyth's. */
const COINGECKO_NOISE_BPS = 3;
/** Spread of the starting price around the level, so different seeds start apart. */
const START_SPREAD = 0.02;

/**
 * One feed's underlying market: an Ornstein–Uhlenbeck walk of the log price around the feed's level,
 * a confidence interval wandering inside the feed's bps range, and Pyth-like EMAs of both.
 * Each step draws from the feed's own seeded stream, so the n-th quote of a feed depends only on the
 * seed, the feed and the step sizes.
 */
export class PriceWalk {
  readonly #feed: SimFeed;
  readonly #rng: Rng;
  readonly #cgRng: Rng;
  readonly #logLevel: number;
  readonly #sigmaPerSqrtSec: number;
  #log: number;
  #confBps: number;
  #ema: number;
  #emaConf: number;

  constructor(feed: SimFeed, seed: string | number) {
    this.#feed = feed;
    this.#rng = createRng(seed, `walk/${feed.id}`);
    this.#cgRng = createRng(seed, `coingecko/${feed.id}`);
    this.#logLevel = Math.log(feed.level);
    this.#sigmaPerSqrtSec = feed.dailyVol / Math.sqrt(SECONDS_PER_DAY);
    this.#log = this.#logLevel + START_SPREAD * this.#rng.normal();
    this.#confBps = (feed.confBps[0] + feed.confBps[1]) / 2;
    this.#ema = this.value;
    this.#emaConf = this.conf;
  }

  /** Current price in USD. */
  get value(): number {
    return Math.exp(this.#log);
  }

  /** Current confidence (one standard deviation) in USD. */
  get conf(): number {
    return (this.value * this.#confBps) / 10_000;
  }

  step(dtSec: number): void {
    const [lo, hi] = this.#feed.confBps;
    const kappa = Math.LN2 / REVERSION_HALF_LIFE_SEC;
    this.#log +=
      -kappa * (this.#log - this.#logLevel) * dtSec +
      this.#sigmaPerSqrtSec * Math.sqrt(dtSec) * this.#rng.normal();
    const mid = (lo + hi) / 2;
    const conf = this.#confBps + 0.2 * (mid - this.#confBps) + 0.08 * (hi - lo) * this.#rng.normal();
    this.#confBps = Math.min(hi, Math.max(lo, conf));
    const alpha = 1 - Math.exp(-dtSec / EMA_WINDOW_SEC);
    this.#ema += alpha * (this.value - this.#ema);
    this.#emaConf += alpha * (this.conf - this.#emaConf);
  }

  quote(): PythQuote {
    const { expo } = this.#feed;
    const toMantissa = (usd: number) => BigInt(Math.round(usd * 10 ** -expo));
    const atLeastOne = (m: bigint) => (m < 1n ? 1n : m);
    return {
      price: toMantissa(this.value),
      conf: atLeastOne(toMantissa(this.conf)),
      expo,
      emaPrice: toMantissa(this.#ema),
      emaConf: atLeastOne(toMantissa(this.#emaConf)),
    };
  }

  /** What CoinGecko would quote now: the same market plus its own small, independent noise. */
  coingeckoSample(): number {
    return this.value * (1 + (COINGECKO_NOISE_BPS / 10_000) * this.#cgRng.normal());
  }
}
