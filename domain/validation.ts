import {
  BPS,
  DecimalError,
  I64_BOUNDS,
  I64_MAX,
  I64_MIN,
  U64_MAX_BOUND,
  deviatesBeyond,
  fromNumber,
  fromPyth,
  parseDecimal,
  parseInteger,
  rescale,
  type Fixed,
  type IntegerBounds,
} from './decimal.ts';
import { ACTIONS, type Action, type Market, type ValidationBounds } from './markets.ts';
import { confOf, priceOf, type Source, type ValidPrice } from './price.ts';

/**
 * Price validation, pure. An update is either rejected with one named reason, or accepted and then
 * graded per action (display, push, margin, liquidation), as Drift grades oracle validity: a price
 * too uncertain to liquidate with can still be shown.
 */

export const REJECTION_REASONS = [
  /** The publish time is missing or not a positive integer of seconds, or Hermes' slot is not a non-negative integer. */
  'malformed',
  /** The feed id is not in the registry. */
  'unknown_feed',
  /** Pyth's exponent is not an integer in the market's range, or a CoinGecko price needs more decimals than it allows. */
  'exponent_out_of_range',
  /** The price is NaN or ±Infinity, as a number or as a string ("NaN", "-Infinity", "inf"). */
  'non_finite_price',
  /** A Pyth price mantissa is a finite number but not an exact integer: "150.25", "1e5", 150.5, a double beyond 2^53. */
  'non_integer_price',
  /** The price is not a number at all: missing, null, a boolean or object, an empty or non-numeric string. */
  'malformed_price',
  /**
   * A mantissa outside Pyth's types: price or EMA price beyond i64, conf or EMA conf beyond u64; or a
   * CoinGecko price whose mantissa at its exponent exceeds i64 (the program stores i64).
   */
  'mantissa_out_of_range',
  /** The price is zero or negative. */
  'non_positive_price',
  /** The confidence is missing, not an integer, or negative. */
  'invalid_confidence',
  /** An EMA price or EMA conf is present but not an integer (any form), or the EMA conf is negative. */
  'invalid_ema',
  /** Published further in the future than the allowed clock skew. */
  'future_publish_time',
  /** Older than the display bound: usable for nothing. */
  'stale',
  /** Published before the last accepted update of the same source and feed. */
  'publish_time_regressed',
  /** The same publish time as the last accepted update, without a strictly later slot: already seen. */
  'duplicate',
  /** The confidence interval is wider than the display bound. */
  'confidence_too_wide',
  /** A jump beyond the sanity band from the last good price, not confirmed by the other source. */
  'sanity_band_exceeded',
  /** Beyond the EMA band from the EMA price, not confirmed by the other source. */
  'ema_band_exceeded',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

/** Why an accepted price may not serve one action. */
export type UnusableReason = 'stale' | 'confidence_too_wide' | 'source_not_allowed';

/** What each source's prices may be used for: a fallback without a confidence interval never moves money. */
export const SOURCE_ACTIONS: Record<Source, readonly Action[]> = {
  pyth: ACTIONS,
  coingecko: ['display', 'margin'],
};

export interface Observation {
  source: Source;
  feedId: string;
  /** Pyth: integer mantissa (string). CoinGecko: a decimal number or string. */
  price: unknown;
  /** Pyth: integer mantissa (string). Absent for CoinGecko. */
  conf?: unknown;
  /** Pyth's exponent. Absent for CoinGecko. */
  expo?: unknown;
  /** Unix seconds. */
  publishTime: unknown;
  emaPrice?: unknown;
  emaConf?: unknown;
  /** Pyth: the Pythnet slot of the aggregate (Hermes' `metadata.slot`); orders updates within one publish second. */
  slot?: unknown;
}

/** Where the last accepted update of a source and feed stands: its publish time, and its slot when known. */
export interface PublishMark {
  publishTime: number;
  slot?: number;
}

export interface ValidationContext {
  market: Market | undefined;
  /** Unix seconds. */
  now: number;
  /** The last accepted update of the same source and feed. */
  lastAccepted?: PublishMark;
  /** The last good price of this feed, from any source. */
  lastGood?: ValidPrice;
  /** The latest good price of the other source: a jump it confirms is accepted. */
  otherSource?: ValidPrice;
}

export type Verdict = { ok: true } | { ok: false; reason: UnusableReason };
export type Grades = Record<Action, Verdict>;

export type Assessment =
  | { ok: true; price: ValidPrice; grades: Grades }
  | { ok: false; reason: RejectionReason; detail: string };

const reject = (reason: RejectionReason, detail: string): Assessment => ({ ok: false, reason, detail });

/** conf ≤ maxBps/10000 × price, exactly (same exponent on both sides). */
export function confidenceWithin(price: bigint, conf: bigint, maxBps: number): boolean {
  return conf * BPS <= BigInt(maxBps) * price;
}

/**
 * An update against the last accepted one of its source and feed. Pythnet publishes 2–3 aggregates
 * per feed per second that share a publish time; a strictly later slot makes one newer. Without
 * both slots, the same publish time is the same update.
 */
export function orderAgainst(p: PublishMark, last: PublishMark): 'newer' | 'duplicate' | 'regressed' {
  if (p.publishTime !== last.publishTime) return p.publishTime > last.publishTime ? 'newer' : 'regressed';
  return p.slot !== undefined && last.slot !== undefined && p.slot > last.slot ? 'newer' : 'duplicate';
}

/** Seconds since publication; negative when published in the future. */
const ageOf = (p: Pick<ValidPrice, 'publishTime'>, now: number) => now - p.publishTime;

/**
 * Per-action usability of an accepted price at time `now`: its age, its confidence, its source.
 * Serving a stored price re-grades it with the current time, so an old price degrades by itself.
 */
export function gradePrice(p: ValidPrice, now: number, bounds: ValidationBounds): Grades {
  const grades = {} as Grades;
  for (const action of ACTIONS) {
    if (!SOURCE_ACTIONS[p.source].includes(action)) grades[action] = { ok: false, reason: 'source_not_allowed' };
    else if (ageOf(p, now) > bounds.maxAgeSec[action]) grades[action] = { ok: false, reason: 'stale' };
    else if (!confidenceWithin(p.price, p.conf, bounds.maxConfBps[action])) grades[action] = { ok: false, reason: 'confidence_too_wide' };
    else grades[action] = { ok: true };
  }
  return grades;
}

interface Parsed {
  value: Fixed;
  conf: bigint;
  ema?: { price: bigint; conf: bigint };
}

/** The rejection a DecimalError of a price field stands for. */
function priceRejection(e: DecimalError): Assessment {
  switch (e.code) {
    case 'EXPONENT_OUT_OF_RANGE':
    case 'SCALE_OUT_OF_RANGE':
      return reject('exponent_out_of_range', e.message);
    case 'NON_FINITE':
      return reject('non_finite_price', e.message);
    case 'NOT_AN_INTEGER':
      return reject('non_integer_price', e.message);
    case 'OUT_OF_RANGE':
      return reject('mantissa_out_of_range', e.message);
    default:
      return reject('malformed_price', e.message);
  }
}

/** Parses one integer field; a DecimalError becomes `mantissa_out_of_range` when out of bounds, else `otherwise`. */
function integerField(raw: unknown, what: string, bounds: IntegerBounds, otherwise: RejectionReason): bigint | Assessment {
  try {
    return parseInteger(raw, what, bounds);
  } catch (e) {
    if (!(e instanceof DecimalError)) throw e;
    return reject(e.code === 'OUT_OF_RANGE' ? 'mantissa_out_of_range' : otherwise, e.message);
  }
}

function parsePyth(o: Observation, bounds: ValidationBounds): Parsed | Assessment {
  let value: Fixed;
  try {
    value = fromPyth(o.price, o.expo, bounds.expoRange);
  } catch (e) {
    if (!(e instanceof DecimalError)) throw e;
    return priceRejection(e);
  }
  const conf = integerField(o.conf, 'conf', U64_MAX_BOUND, 'invalid_confidence');
  if (typeof conf !== 'bigint') return conf;
  if (conf < 0n) return reject('invalid_confidence', `conf ${conf} is negative`);
  if (o.emaPrice === undefined) return { value, conf };
  const emaPrice = integerField(o.emaPrice, 'ema price', I64_BOUNDS, 'invalid_ema');
  if (typeof emaPrice !== 'bigint') return emaPrice;
  const emaConf = integerField(o.emaConf ?? '0', 'ema conf', U64_MAX_BOUND, 'invalid_ema');
  if (typeof emaConf !== 'bigint') return emaConf;
  if (emaConf < 0n) return reject('invalid_ema', `ema conf ${emaConf} is negative`);
  return { value, conf, ema: { price: emaPrice, conf: emaConf } };
}

/**
 * A CoinGecko price at the exponent it is stored with: its own decimals, but no exponent above the
 * market's range (upscaling is exact). That mantissa must fit i64, as Pyth's and the program's do.
 */
function parseCoinGecko(o: Observation, bounds: ValidationBounds): Parsed | Assessment {
  let exact: Fixed;
  try {
    exact = typeof o.price === 'string' ? parseDecimal(o.price) : fromNumber(o.price);
  } catch (e) {
    if (!(e instanceof DecimalError)) throw e;
    return priceRejection(e);
  }
  if (-exact.scale < bounds.expoRange[0]) {
    return reject('exponent_out_of_range', `${String(o.price)} needs ${exact.scale} decimals, beyond exponent ${bounds.expoRange[0]}`);
  }
  const scale = Math.max(exact.scale, -bounds.expoRange[1]);
  const mantissa = rescale(exact, scale, 'trunc');
  if (mantissa > I64_MAX || mantissa < I64_MIN) {
    return reject('mantissa_out_of_range', `${String(o.price).slice(0, 40)} at exponent ${-scale} has mantissa ${mantissa.toString().slice(0, 50)}, beyond i64`);
  }
  return { value: { mantissa, scale }, conf: 0n };
}

/** Hermes' slot when present: a non-negative integer, or absent (CoinGecko; `null` from Hermes). */
function parseSlot(raw: unknown): number | undefined | Assessment {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 0) return raw;
  return reject('malformed', `slot ${String(raw).slice(0, 40)} is not a non-negative integer`);
}

/** Which of the time rules apply: a live update's, or a past one's filling a gap in history. */
interface TimeRules {
  /** Reject what is older than the display bound (against `now`). */
  age: boolean;
  /** Order against the last accepted update of the source (regressed, duplicate). */
  order: boolean;
}
const LIVE: TimeRules = { age: true, order: true };
const HISTORY: TimeRules = { age: false, order: false };

/** Validates one observation against its market's bounds and the feed's recent history. */
export function validateObservation(o: Observation, ctx: ValidationContext): Assessment {
  return assess(o, ctx, LIVE);
}

/** What a past update is judged against: its market, the clock, and the accepted update before it. */
export interface BackfillContext {
  market: Market | undefined;
  /** Unix seconds. */
  now: number;
  /** The last good update of this feed published before it (the one before it in the gap, else the last before the gap). */
  lastGood?: ValidPrice;
}

/**
 * A past update fetched to fill a gap in history (the live stream was interrupted): every rule of a
 * live update — feed, fields, exponent, mantissas, confidence, sanity and EMA bands, the future
 * skew against `now` — except the two it fails by definition: it is old (no age bound against
 * `now`), and it comes before what the live stream accepted since (no order against the live book;
 * history refuses an update it holds already). Its sanity anchor counts when published within the
 * display window before it, not before now. Its grades are against `now` (stale for most actions).
 */
export function validateBackfilled(o: Observation, ctx: BackfillContext): Assessment {
  return assess(o, { market: ctx.market, now: ctx.now, ...(ctx.lastGood && { lastGood: ctx.lastGood }) }, HISTORY);
}

function assess(o: Observation, ctx: ValidationContext, rules: TimeRules): Assessment {
  const { market, now } = ctx;
  if (!market) return reject('unknown_feed', `feed ${String(o.feedId).slice(0, 80)} is not in the registry`);
  const bounds = market.validation;

  if (typeof o.publishTime !== 'number' || !Number.isSafeInteger(o.publishTime) || o.publishTime <= 0) {
    return reject('malformed', `publish time ${String(o.publishTime).slice(0, 40)} is not a positive integer of seconds`);
  }
  const slot = parseSlot(o.slot);
  if (typeof slot === 'object') return slot;
  const parsed = o.source === 'pyth' ? parsePyth(o, bounds) : parseCoinGecko(o, bounds);
  if ('ok' in parsed) return parsed;
  const { value, conf, ema } = parsed;
  if (value.mantissa <= 0n) return reject('non_positive_price', `price ${value.mantissa}e-${value.scale} is not positive`);

  const publishTime = o.publishTime;
  if (publishTime - now > bounds.maxFutureSkewSec) {
    return reject('future_publish_time', `published ${publishTime - now} s in the future (skew allowed: ${bounds.maxFutureSkewSec} s)`);
  }
  if (rules.age && now - publishTime > bounds.maxAgeSec.display) {
    return reject('stale', `published ${now - publishTime} s ago (max ${bounds.maxAgeSec.display} s)`);
  }
  if (rules.order && ctx.lastAccepted !== undefined) {
    const last = ctx.lastAccepted;
    const order = orderAgainst({ publishTime, ...(slot !== undefined && { slot }) }, last);
    if (order === 'regressed') {
      return reject('publish_time_regressed', `publish time ${publishTime} is before the last accepted ${last.publishTime}`);
    }
    if (order === 'duplicate') {
      const slots = last.slot === undefined || slot === undefined ? 'no slots to order them' : `slot ${slot} is not after ${last.slot}`;
      return reject('duplicate', `publish time ${publishTime} was already accepted (${slots})`);
    }
  }
  if (!confidenceWithin(value.mantissa, conf, bounds.maxConfBps.display)) {
    return reject('confidence_too_wide', `conf ${conf} exceeds ${bounds.maxConfBps.display} bps of price ${value.mantissa}`);
  }

  // Sanity bands: a large jump is accepted only when the other source agrees with it. Anchors are
  // aged against now for a live update, against the update itself for a past one.
  const at = rules.age ? now : publishTime;
  const confirmed =
    ctx.otherSource !== undefined &&
    ageOf(ctx.otherSource, at) <= bounds.maxAgeSec.display &&
    !deviatesBeyond(value, priceOf(ctx.otherSource), bounds.sanityBandBps);
  if (!confirmed) {
    // A last good price older than the display window no longer anchors anything: after an outage
    // the market may really have moved.
    const anchor = ctx.lastGood && ageOf(ctx.lastGood, at) <= bounds.maxAgeSec.display ? ctx.lastGood : undefined;
    if (anchor && deviatesBeyond(value, priceOf(anchor), bounds.sanityBandBps)) {
      return reject('sanity_band_exceeded', `moved beyond ${bounds.sanityBandBps} bps from the last good price ${anchor.price}e${anchor.expo}`);
    }
    if (ema && ema.price > 0n && deviatesBeyond(value, { mantissa: ema.price, scale: value.scale }, bounds.emaBandBps)) {
      return reject('ema_band_exceeded', `lies beyond ${bounds.emaBandBps} bps from the EMA price ${ema.price}`);
    }
  }

  const price: ValidPrice = {
    symbol: market.symbol,
    feedId: market.pythFeedId,
    source: o.source,
    price: value.mantissa,
    conf,
    expo: value.scale === 0 ? 0 : -value.scale,
    publishTime,
    ...(slot !== undefined && { slot }),
    ...(ema && { emaPrice: ema.price, emaConf: ema.conf }),
    hasConfidence: o.source === 'pyth',
  };
  return { ok: true, price, grades: gradePrice(price, now, bounds) };
}

/** Whether two sources disagree beyond the market's divergence bound (the Pyth ↔ CoinGecko alarm). */
export function sourcesDiverge(a: ValidPrice, b: ValidPrice, bounds: ValidationBounds): boolean {
  return deviatesBeyond(priceOf(a), priceOf(b), bounds.divergenceBps);
}

export { confOf, priceOf };
