// `npm run soak -- [--minutes 10] [--seed 1] [--port-base 29000] [--replay file.jsonl]`: the whole
// system as `npm start` composes it (every service embedded, on ports of its own and a temporary
// data folder), under a seeded schedule of faults — kill -9 of each process, upstream outages,
// stalls, delays and bad payloads — while a dashboard client records every price and positions
// are pushed under water again and again. It prints one table and fails on any price lost or
// stored twice, any liquidation missed or done twice, any crash it did not cause, any durable
// workflow not running at the end, and memory that keeps growing.
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Writable } from 'node:stream';
import { Connection, Keypair, PublicKey, Transaction, type TransactionInstruction } from '@solana/web3.js';
import { getAssociatedTokenAddressSync } from '@solana/spl-token';
import { percentile, rssMb } from '../bench/support.ts';
import { LIQUIDATION_SCAN_SCHEDULE_ID, SYNC_WORKFLOW_ID, ingestWorkflowId, scannerWorkflowId } from '../contracts/temporal.ts';
import { NOTIONAL_DIVISOR, isLiquidatable, toMarginPrice } from '../domain/margin.ts';
import { decodeConfig, decodeKeeper, decodeMarket, decodePosition, configAddress, depositInstruction, keeperAddress, marketAddress, openPositionInstruction, positionAddress } from '../programs/client/quantdesk-perp.ts';
import { loadConfig, type Config } from '../runtime/config.ts';
import { loadMarkets } from '../runtime/markets.ts';
import { CORRUPTIONS } from '../sandbox/market-sim/faults.ts';
import { createMarketSim } from '../sandbox/market-sim/market-sim.ts';
import { openStore } from '../store/mongo/connection.ts';
import { createMongoStore } from '../store/mongo/store.ts';
import { MAX_UPDATES_WINDOW_SEC } from '../store/roles.ts';
import { connectClient } from '../temporal/connection.ts';
import { LiveClient, compareWithHistory, priceKey } from '../tests/support.ts';
import { composeSystem } from './composition.ts';
import { describeFault, failures, faultSchedule, renderReport, secondsToStore, summarizeRss, type Fault, type RssSample, type ScheduledFault, type SoakReport } from './soak-plan.ts';
import { Supervisor, describeExit, type ProcessSpec } from './supervisor.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const minutes = Number(arg('minutes') ?? 10);
const seed = arg('seed') ?? '1';
// Below the ephemeral port range (32768 and up on Linux), where another process's outgoing
// connection or a randomly chosen internal port (Temporal's dev server) could take one first.
const portBase = Number(arg('port-base') ?? 29_000);
const replay = arg('replay');
if (!(minutes > 0 && minutes <= 24 * 60) || !Number.isInteger(portBase) || portBase < 1_024 || portBase > 65_000) {
  process.stderr.write('usage: npm run soak -- [--minutes N (default 10)] [--seed S] [--port-base P (default 29000)] [--replay recorded.jsonl]\n');
  process.exit(2);
}
const durationMs = minutes * 60_000;

// ── Composition: npm start's, every service embedded, on the soak's own ports and folder ──────────
const dataDir = mkdtempSync(join(tmpdir(), 'qd-soak-'));
// PostgreSQL runs as its own user when we are root: it must reach its folder inside this one.
chmodSync(dataDir, 0o755);
const logDir = join(ROOT, '.data', 'soak');
mkdirSync(logDir, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const logFile = join(logDir, `soak-${stamp}.log`);
const port = (i: number) => portBase + i;
const url = (i: number) => `http://127.0.0.1:${port(i)}`;
const soakEnv: Record<string, string> = {
  QD_LOG_LEVEL: 'warn',
  QD_DATA_DIR: dataDir,
  QD_TEMPORAL_ADDRESS: `127.0.0.1:${port(0)}`,
  QD_TEMPORAL_NAMESPACE: 'default',
  QD_TEMPORAL_UI_URL: `http://localhost:${port(1)}`,
  QD_MONGODB_URI: `mongodb://127.0.0.1:${port(2)}/quantdesk`,
  QD_REDIS_URL: `redis://127.0.0.1:${port(4)}`,
  QD_HERMES_URL: url(5),
  QD_COINGECKO_URL: url(5),
  QD_GATEWAY_PORT: String(port(6)),
  QD_GATEWAY_URL: url(6),
  QD_WEB_PORT: String(port(7)),
  QD_SOLANA_RPC_URL: url(8),
  QD_SOLANA_WS_URL: `ws://127.0.0.1:${port(9)}`,
  QD_SOLANA_LOCALNET: 'true',
};
// Only the soak's values reach its processes (npm test's would point them at the test services).
for (const name of Object.keys(process.env)) if (name.startsWith('QD_') && name !== 'QD_CACHE_DIR') delete process.env[name];
Object.assign(process.env, soakEnv);
const loaded = loadConfig();
const config: Config = { ...loaded, embedded: { temporal: true, mongodb: true, redis: true, hermes: true, coingecko: true, solana: true } };
const markets = loadMarkets(config.marketsFile);
const { specs: composed } = composeSystem(config, { metricsPorts: { ingest: port(10), sync: port(11), keeper: port(12) }, postgresPort: port(3) });
// The simulator runs in this process: the soak plays its faults and reads when each update left it.
const FAST_RESTART = { initialDelayMs: 500, maxDelayMs: 4_000, maxCrashes: 6 };
const specs: ProcessSpec[] = composed.filter((s) => s.name !== 'market-sim').map((s) => ({ ...s, cwd: ROOT, restart: FAST_RESTART }));

const log = (line: string) => {
  const text = `${new Date().toISOString()} soak | ${line}\n`;
  process.stdout.write(text);
  appendFileSync(logFile, text);
};
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    appendFileSync(logFile, chunk);
    done();
  },
});

// It remembers every update it published over the run (2.5 a second per feed), for the loss check.
const sim = createMarketSim({ port: port(5), seed, coingeckoIntervalMs: 1_000, logLevel: 'warn', publishLogSize: Math.max(4_096, Math.ceil(minutes * 60 * 3) + 1_000), ...(replay && { replay: { file: replay, speed: 1 } }) });
const supervisor = new Supervisor(specs.map((s) => s.name), sink, false);

/** Kills the soak itself caused: an exit of that process within a few seconds is expected. */
const kills: { name: string; at: number }[] = [];
const crashed: string[] = [];
const readyAgain: { name: string; at: number }[] = [];
supervisor.on('exited', (name, exit) => {
  const expected = kills.some((k) => k.name === name && Date.now() - k.at < 5_000);
  if (!expected && !stopping) {
    crashed.push(`${name} ${describeExit(exit)}`);
    log(`UNEXPECTED: ${name} ${describeExit(exit)}`);
  }
});
supervisor.on('ready', (name, restarts) => restarts > 0 && readyAgain.push({ name, at: Date.now() }));
supervisor.on('gaveUp', (name, reason) => crashed.push(`${name} given up: ${reason}`));
let stopping = false;

async function stopEverything(keepData = false): Promise<void> {
  stopping = true;
  client?.close();
  await supervisor.stopAll();
  await sim.stop();
  if (keepData) log(`the system's data is kept for a look: ${dataDir}`);
  else rmSync(dataDir, { recursive: true, force: true });
}
process.on('SIGINT', () => void stopEverything().then(() => process.exit(130)));
// Whatever ends this process, none of the system's processes outlives it.
process.on('exit', () => supervisor.killAll());
for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(event, (e) => {
    log(`the soak itself failed: ${(e as Error)?.stack ?? String(e)}`);
    process.exit(1);
  });
}

let client: LiveClient | undefined;
log(`starting the system (log: ${logFile})`);
await sim.start();
try {
  for (const spec of specs) {
    await supervisor.start(spec);
    log(`${spec.name} ready`);
  }
} catch (e) {
  log(`the system did not start: ${(e as Error).message}`);
  await stopEverything();
  process.exit(1);
}

const manifest = JSON.parse(readFileSync(join(dataDir, 'localnet', 'manifest.json'), 'utf8')) as { quantdesk: { programId: string; keepers: { publicKey: string }[] } };
const keeper = manifest.quantdesk.keepers[0]!.publicKey;
const programId = new PublicKey(manifest.quantdesk.programId);
const connection = new Connection(config.solana.rpcUrl, 'confirmed');
const db = await openStore(config.mongodbUri);
// The soak kills the database under its own connection too: that is expected, and retried.
db.on('error', () => undefined);
const store = createMongoStore(db, markets);
const temporal = await connectClient(config.temporal);
client = new LiveClient(config.gateway.url);
const symbols = markets.all.map((m) => m.symbol);
await client.subscribe(symbols);

// ── Samplers: memory of every process, and publish → client latency of Pyth prices ─────────────────
/** Direct children of a process (Linux /proc); none when it is gone. */
function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
const commandOf = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return String(pid);
  }
};
const rss = new Map<string, RssSample[]>();
const latencies: number[] = [];
let latencyCursor = 0;
const samplers = setInterval(() => {
  const now = Date.now();
  const sample = (name: string, pid: number) => {
    try {
      const mb = rssMb(pid);
      if (!Number.isFinite(mb)) return;
      if (!rss.has(name)) rss.set(name, []);
      rss.get(name)!.push({ atMs: now, pid, mb });
    } catch {
      // It died between pid() and the read: the next sample sees its successor.
    }
  };
  for (const s of specs) {
    const pid = supervisor.pid(s.name);
    if (pid === undefined) continue;
    sample(s.name, pid);
    // The chain's own child, surfpool, is where the chain's memory is (`chain/qd-surfnet`).
    if (s.name === 'chain') for (const child of childPids(pid)) sample(`${s.name}/${commandOf(child)}`, child);
  }
  const fresh = client!.prices.slice(latencyCursor);
  latencyCursor = client!.prices.length;
  for (const p of fresh) {
    if (p.source !== 'pyth') continue;
    const at = sim.publishedAt(p.feedId, p.publishTime, p.price);
    if (at !== undefined && p.arrivedAt - at < 60_000) latencies.push(p.arrivedAt - at);
  }
}, 2_000);

// ── Faults ───────────────────────────────────────────────────────────────────────────────────────
const pythFresh = (since: number) => symbols.every((s) => client!.prices.some((p) => p.symbol === s && p.source === 'pyth' && p.arrivedAt > since && p.publishTime * 1_000 >= since - 1_000));

async function waitUntil(probe: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 200): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    // A probe that fails (the database or the RPC is the process just killed) is a "not yet".
    if (await Promise.resolve().then(probe).catch(() => false)) return true;
    await sleep(everyMs);
  }
  return false;
}

function applySource(f: Fault, on: boolean): void {
  const c = sim.control;
  switch (f.kind) {
    case 'pyth-paused':
      return void (on ? c.pause('pyth') : c.resume('pyth'));
    case 'pyth-stalled':
      return void (on ? c.stall('pyth') : c.unstall('pyth'));
    case 'pyth-dropped':
      return void (on ? c.drop('pyth') : undefined);
    case 'pyth-delayed':
      return void c.delay('pyth', on ? f.ms : 0);
    case 'pyth-corrupt':
    case 'coingecko-corrupt': {
      const source = f.kind === 'pyth-corrupt' ? 'pyth' : 'coingecko';
      if (!on) return void c.clearInjections(source);
      // In turn (the first unspent injection applies to an update): 8 updates of each kind.
      for (const kind of CORRUPTIONS) c.inject(source, kind, { count: 8 });
      return;
    }
    case 'both-down':
      for (const source of ['pyth', 'coingecko'] as const) on ? c.kill(source) : c.restore(source);
      // `restore` lifts every fault of a source, the liquidation cycle's bias with it: put that back.
      if (!on) for (const [symbol, bps] of biased) setBias(symbol, bps);
      return;
    case 'kill':
      return;
  }
}

async function play(s: ScheduledFault, startedAt: number): Promise<SoakReport['faults'][number]> {
  const at = `${((Date.now() - startedAt) / 1000).toFixed(0)} s`;
  const what = describeFault(s.fault);
  log(`fault at ${at}: ${what}`);
  let from: number;
  if (s.fault.kind === 'kill') {
    const target = s.fault.target;
    const pid = supervisor.pid(target);
    if (pid === undefined) return { at, fault: `${what} (not running)`, recoveredMs: undefined };
    from = Date.now();
    kills.push({ name: target, at: from });
    process.kill(pid, 'SIGKILL');
    const back = await waitUntil(() => readyAgain.some((r) => r.name === target && r.at > from), 120_000);
    if (!back) return { at, fault: what, recoveredMs: undefined };
  } else {
    applySource(s.fault, true);
    await sleep(s.holdMs);
    applySource(s.fault, false);
    from = Date.now();
  }
  const flowing = await waitUntil(() => pythFresh(from), 90_000);
  const recoveredMs = flowing ? Date.now() - from : undefined;
  log(`  ${flowing ? `recovered in ${(recoveredMs! / 1000).toFixed(1)} s` : 'NOT recovered within 90 s'}`);
  return { at, fault: what, recoveredMs };
}

// ── Liquidations: fresh traders, longs at 99 % of initial margin, the market pushed 6 % down ───────
const LIQUIDATION_MARKETS = ['SOL-PERP', 'BTC-PERP', 'ETH-PERP'].filter((s) => markets.bySymbol(s));
const COLLATERAL = 1_000_000_000n; // 1,000 USDC
const BPS = 10_000n;
const opened: { position: string; owner: string; symbol: string }[] = [];
const missed: string[] = [];
let openFailures = 0;

async function confirm(signature: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = (await connection.getSignatureStatuses([signature])).value[0];
    if (s?.err) throw new Error(`transaction failed: ${JSON.stringify(s.err)}`);
    if (s && (s.confirmationStatus === 'confirmed' || s.confirmationStatus === 'finalized')) return;
    if (Date.now() > deadline) throw new Error(`${signature} not confirmed within ${timeoutMs} ms`);
    await sleep(200);
  }
}

async function send(signer: Keypair, instructions: TransactionInstruction[]): Promise<void> {
  const { blockhash, lastValidBlockHeight } = await connection.getLatestBlockhash('confirmed');
  const tx = new Transaction({ feePayer: signer.publicKey, blockhash, lastValidBlockHeight }).add(...instructions);
  tx.sign(signer);
  await confirm(await connection.sendRawTransaction(tx.serialize()));
}

/** Funds a new trader and opens a long near its initial margin; retried while a fault is in the way. */
async function openNearLiquidation(symbol: string): Promise<{ position: string; owner: string; symbol: string } | undefined> {
  const trader = Keypair.generate();
  const m = markets.bySymbol(symbol)!;
  const market = marketAddress(symbol, programId);
  const deadline = Date.now() + 90_000;
  let funded = false;
  let last = '';
  while (Date.now() < deadline) {
    try {
      if (!funded) {
        const res = await fetch(`${config.gateway.url}/api/faucet`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ wallet: trader.publicKey.toBase58() }), signal: AbortSignal.timeout(40_000) });
        if (!res.ok) throw new Error(`faucet ${res.status}: ${await res.text()}`);
        funded = true;
      }
      const { mint } = decodeConfig((await connection.getAccountInfo(configAddress(programId)))!.data);
      const onChain = decodeMarket((await connection.getAccountInfo(market))!.data);
      const mark = toMarginPrice(onChain.price, onChain.expo, 'trunc');
      const notional = (COLLATERAL * BPS * 99n) / (BigInt(m.margin.initialBps) * 100n);
      const size = (notional * NOTIONAL_DIVISOR) / mark;
      await send(trader, [
        depositInstruction({ owner: trader.publicKey, market, ownerTokenAccount: getAssociatedTokenAddressSync(mint, trader.publicKey), amount: COLLATERAL, programId }),
        openPositionInstruction({ owner: trader.publicKey, market, size, ...(onChain.oracle && { priceUpdate: onChain.oracle }), programId }),
      ]);
      return { position: positionAddress(market, trader.publicKey, programId).toBase58(), owner: trader.publicKey.toBase58(), symbol };
    } catch (e) {
      last = (e as Error).message;
      await sleep(2_000);
    }
  }
  openFailures += 1;
  log(`  could not open a ${symbol} position within 90 s: ${last.slice(0, 200)}`);
  return undefined;
}

/** A read of the soak's own that a fault may fail for a while: again until it answers (2 min at most). */
async function retried<T>(read: () => Promise<T>): Promise<T> {
  for (let deadline = Date.now() + 120_000; ; ) {
    try {
      return await read();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(1_000);
    }
  }
}

const doneFor = async (p: { position: string; owner: string }) => (await store.liquidations.byWallet(p.owner, 50)).some((d) => d.position === p.position && d.state === 'done');

/** The markets a liquidation cycle has pushed down now, and by how much (bps). */
const biased = new Map<string, number>();
function setBias(symbol: string, bps: number): void {
  for (const source of ['pyth', 'coingecko'] as const) sim.control.bias(source, bps, [symbol]);
  if (bps === 0) biased.delete(symbol);
  else biased.set(symbol, bps);
}

/** What the chain, the gateway and the store say about a position no saga liquidated: for the log. */
async function explainMiss(p: { position: string; owner: string; symbol: string }): Promise<string> {
  const m = markets.bySymbol(p.symbol)!;
  const onChain = decodeMarket((await connection.getAccountInfo(marketAddress(p.symbol, programId)))!.data);
  const info = await connection.getAccountInfo(new PublicKey(p.position));
  const position = info && decodePosition(info.data);
  const mark = toMarginPrice(onChain.price, onChain.expo, 'trunc');
  const served = ((await (await fetch(`${config.gateway.url}/api/prices`)).json()) as { prices: { symbol: string; price: unknown }[] }).prices.find((x) => x.symbol === p.symbol);
  const sagas = (await store.liquidations.byWallet(p.owner, 10)).map((d) => `${d._id} ${d.state} ${d.attempts.map((a) => a.reason).join('|')}`);
  return JSON.stringify({
    chain: { price: String(onChain.price), expo: onChain.expo, publishTime: String(onChain.publishTime), ageSec: Math.round(Date.now() / 1000 - Number(onChain.publishTime)), lastUsedPublishTime: String(onChain.lastUsedPublishTime) },
    position: position && { size: String(position.size), collateral: String(position.collateral), entryPrice: String(position.entryPrice), liquidatableAtPushedPrice: isLiquidatable(position, mark, m.margin) },
    served: served?.price,
    sagas,
  });
}

async function liquidationCycle(symbol: string): Promise<void> {
  const positions = (await Promise.all([openNearLiquidation(symbol), openNearLiquidation(symbol)])).filter((p) => p !== undefined);
  if (positions.length === 0) return;
  opened.push(...positions);
  const crossedAt = Date.now();
  setBias(symbol, -600);
  try {
    // Longer than any fault and its recovery: a miss is a position no saga liquidated at all.
    await waitUntil(async () => (await Promise.all(positions.map(doneFor))).every(Boolean), 150_000, 1_000);
    for (const p of positions) {
      if (await retried(() => doneFor(p))) continue;
      missed.push(`${p.symbol} ${p.position}`);
      log(`  MISSED ${p.symbol} ${p.position}: ${await explainMiss(p).catch((e: Error) => `(no diagnosis: ${e.message})`)}`);
    }
    log(`  ${symbol}: ${positions.length} positions under water, liquidated in ${((Date.now() - crossedAt) / 1000).toFixed(1)} s${missed.length ? ` (${missed.length} missed so far)` : ''}`);
  } finally {
    setBias(symbol, 0);
  }
  await sleep(8_000);
}

const keeperCount = async () => decodeKeeper((await connection.getAccountInfo(keeperAddress(new PublicKey(keeper), programId)))!.data).liquidations;
const doneSagas = async () => new Set((await store.liquidations.recent(100_000)).filter((d) => d.state === 'done').map((d) => d._id));

// ── The run ──────────────────────────────────────────────────────────────────────────────────────
await waitUntil(() => pythFresh(Date.now() - 5_000), 60_000);
const countedBefore = await keeperCount();
const doneBefore = await doneSagas();
const startedAt = Date.now();
const endsAt = startedAt + durationMs;
log(`system up; soaking for ${minutes} min, seed ${seed}${replay ? `, replaying ${replay}` : ''}`);

const liquidations = (async () => {
  for (let i = 0; Date.now() < endsAt - 60_000; i++) {
    await liquidationCycle(LIQUIDATION_MARKETS[i % LIQUIDATION_MARKETS.length]!).catch((e: Error) => log(`  liquidation cycle failed: ${e.message}`));
  }
})();
const schedule = faultSchedule(seed, durationMs);
const played: SoakReport['faults'] = [];
for (const s of schedule) {
  const wait = startedAt + s.atMs - Date.now();
  if (wait > 0) await sleep(wait);
  played.push(await play(s, startedAt));
}
if (endsAt > Date.now()) await sleep(endsAt - Date.now());
await liquidations;
log('faults over; checking');

// ── Checks ───────────────────────────────────────────────────────────────────────────────────────
const received = new Map(client.prices.map((p) => [priceKey(p), p]));
async function storageCheck() {
  const r = await compareWithHistory(store.history, received.values());
  return { lost: r.missing, duplicates: [...r.duplicates.map((k) => `stored twice: ${k}`), ...r.different.map((k) => `stored with other values: ${k}`)] };
}
// Every second the simulator published an acceptable update of, from just after the start to just
// before the end, has an update in history — whether a client saw it or not (a gateway down, the
// stream cut and backfilled).
const checkFrom = Math.floor(startedAt / 1_000) + 5;
const checkTo = Math.floor(endsAt / 1_000) - 5;
const toStore = secondsToStore(new Map(markets.all.map((m) => [m.pythFeedId, sim.published(m.pythFeedId)])), checkFrom, checkTo);
async function secondsCheck(): Promise<{ checked: number; lost: string[] }> {
  let checked = 0;
  const lost: string[] = [];
  for (const m of markets.all) {
    const stored = new Set<number>();
    for (let from = checkFrom; from <= checkTo; from += MAX_UPDATES_WINDOW_SEC) {
      for (const row of await store.history.updates(m.pythFeedId, from, Math.min(checkTo, from + MAX_UPDATES_WINDOW_SEC - 1))) if (row.source === 'pyth') stored.add(row.publishTime);
    }
    for (const second of toStore.get(m.pythFeedId) ?? []) {
      checked += 1;
      if (!stored.has(second)) lost.push(`${m.symbol} ${second}`);
    }
  }
  return { checked, lost };
}
// The writer stores in batches and retries what failed: give the last ones time to land.
let storage = await storageCheck();
let seconds = await secondsCheck();
for (const deadline = Date.now() + 60_000; storage.lost.length + seconds.lost.length > 0 && Date.now() < deadline; ) {
  await sleep(2_000);
  storage = await storageCheck();
  seconds = await secondsCheck();
}
if (seconds.lost.length > 0) log(`  published seconds not in history: ${seconds.lost.slice(0, 20).join(', ')}`);

await sleep(10_000); // the keeper's last sagas finish
const counted = (await keeperCount()) - countedBefore;
const doneDuring = [...(await doneSagas())].filter((id) => !doneBefore.has(id));
const duplicates = [...storage.duplicates];
if (counted !== BigInt(doneDuring.length)) duplicates.push(`the keeper counted ${counted} liquidations on chain, ${doneDuring.length} sagas are done`);

const expected = [SYNC_WORKFLOW_ID, ...[...markets.groups().keys()].map(ingestWorkflowId), scannerWorkflowId(keeper)];
const workflowsMissing: string[] = [];
for (const id of expected) {
  const status = await temporal.workflow
    .getHandle(id)
    .describe()
    .then((d) => d.status.name)
    .catch((e: Error) => `unknown (${e.message})`);
  if (status !== 'RUNNING') workflowsMissing.push(`${id}: ${status}`);
}
await temporal.schedule
  .getHandle(LIQUIDATION_SCAN_SCHEDULE_ID)
  .describe()
  .then((d) => d.state.paused && workflowsMissing.push(`${LIQUIDATION_SCAN_SCHEDULE_ID}: paused`))
  .catch((e: Error) => workflowsMissing.push(`${LIQUIDATION_SCAN_SCHEDULE_ID}: ${e.message}`));

clearInterval(samplers);
const sorted = [...latencies].sort((a, b) => a - b);
const report: SoakReport = {
  minutes,
  seed,
  faults: played,
  received: received.size,
  lost: storage.lost,
  publishedSeconds: seconds.checked,
  lostSeconds: seconds.lost,
  duplicates,
  missed,
  liquidated: opened.length - missed.length,
  crashed,
  workflowsMissing,
  rss: [...rss].map(([name, samples]) => ({ name, summary: summarizeRss(samples)! })),
  latencyMs: { p50: percentile(sorted, 50), p99: percentile(sorted, 99), samples: sorted.length },
};
const text = renderReport(report) + (openFailures ? `\n(${openFailures} positions could not be opened during faults)` : '');
process.stdout.write(`\n${text}\n`);
// The RSS samples too (per process: [seconds since start, pid, MB]), to tell a plateau from a leak afterwards.
const rssSamples = Object.fromEntries([...rss].map(([name, list]) => [name, list.map((s) => [Math.round((s.atMs - startedAt) / 1000), s.pid, s.mb])]));
writeFileSync(join(logDir, `soak-${stamp}.json`), JSON.stringify({ ...report, openFailures, rssSamples }));
log(`report: ${join(logDir, `soak-${stamp}.json`)}; processes' output: ${logFile}`);

await temporal.connection.close();
await db.close();
const passed = failures(report).length === 0;
await stopEverything(!passed && !process.env.CI);
process.exit(passed ? 0 : 1);
