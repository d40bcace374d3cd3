// A keeper: worker for task queue `liquidations` (the scanner, the liquidation sagas' steps). Start
// more of them — on this machine or others that reach Temporal and the RPC, each with its own
// keypair — to liquidate faster; they share the queue, and a saga's id keeps any trade from being
// liquidated twice.
import { fileURLToPath } from 'node:url';
import bs58 from 'bs58';
import { getAssociatedTokenAddressSync } from '@solana/spl-token';
import { Connection, PublicKey, Transaction } from '@solana/web3.js';
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { Redis } from 'ioredis';
import { createLiquidationActivities } from '../../activities/liquidation/activities.ts';
import { createKeeperChain } from '../../activities/liquidation/chain.ts';
import { landTransaction } from '../../activities/chain/landing.ts';
import { PriceFollower } from '../../bus/follower.ts';
import { createRedisPublisher, createRedisSubscriber } from '../../bus/redis.ts';
import { createWalletAlerts } from '../../bus/wallet-alerts.ts';
import { LIQUIDATION_SCAN_SCHEDULE_ID, TASK_QUEUES, liquidationWorkflowId, scannerWorkflowId } from '../../contracts/temporal.ts';
import {
  QUANTDESK_PERP_PROGRAM_ID,
  configAddress,
  decodeConfig,
  decodeKeeper,
  keeperAddress,
  registerKeeperInstruction,
} from '../../programs/client/quantdesk-perp.ts';
import { loadConfigOrExit } from '../../runtime/config.ts';
import { createLogger } from '../../runtime/logger.ts';
import { loadMarkets } from '../../runtime/markets.ts';
import { createMetricsRegistry } from '../../runtime/metrics.ts';
import { openStore } from '../../store/mongo/connection.ts';
import { createMongoStore } from '../../store/mongo/store.ts';
import { connectClient, connectWorker } from '../../temporal/connection.ts';
import { SA } from '../../temporal/search-attributes.ts';
import { liquidationSaga } from '../../workflows/liquidation-saga.ts';
import { liquidationScanner } from '../../workflows/liquidation-scanner.ts';
import { installTemporalLogging, loadKeypairOrExit, runUntilStopped, serveMetrics } from '../process.ts';

const config = loadConfigOrExit();
const log = createLogger('worker-keeper', config.logLevel);
installTemporalLogging(log);
const markets = loadMarkets(config.marketsFile);
const registry = createMetricsRegistry('worker-keeper');
const keeper = loadKeypairOrExit(config.keeper.keypair, 'keeper (QD_KEEPER_KEYPAIR)', log);
// Metrics first: a keeper waiting for its RPC is up (its log says what it waits for), as the sync is.
const metricsServer = await serveMetrics(registry, config.metricsPort, log);
const programId = config.solana.programId ? new PublicKey(config.solana.programId) : QUANTDESK_PERP_PROGRAM_ID;
const connection = new Connection(config.solana.rpcUrl, {
  commitment: config.solana.commitment,
  ...(config.solana.wsUrl && { wsEndpoint: config.solana.wsUrl }),
  disableRetryOnRateLimit: true,
});

// The program's collateral mint names the keeper's default payout account. An RPC that does not
// answer yet is waited for (it may be starting, or restarting); a program that is not there is fatal.
async function readProgramConfig() {
  for (let attempt = 1; ; attempt++) {
    try {
      return await connection.getAccountInfo(configAddress(programId));
    } catch (e) {
      if (attempt === 1 || attempt % 30 === 0) log.warn({ rpc: config.solana.rpcUrl, err: (e as Error).message, attempt }, 'rpc_unreachable_waiting');
      await new Promise((r) => setTimeout(r, 2_000));
    }
  }
}
const configInfo = await readProgramConfig();
if (!configInfo) {
  log.fatal({ programId: programId.toBase58(), rpc: config.solana.rpcUrl }, 'the program has no config account on this cluster');
  process.exit(78);
}
const programConfig = decodeConfig(configInfo.data);
const payoutAccount = config.keeper.payoutAccount ? new PublicKey(config.keeper.payoutAccount) : getAssociatedTokenAddressSync(programConfig.mint, keeper.publicKey);

/** A keeper registers itself (locking its stake) on first start; a deregistering one does not liquidate. */
async function ensureRegistered(): Promise<void> {
  const info = await connection.getAccountInfo(keeperAddress(keeper.publicKey, programId));
  const status = info ? decodeKeeper(info.data).status : 'inactive';
  if (status === 'active') return;
  if (status === 'deregistering') {
    log.warn({ keeper: keeper.publicKey.toBase58() }, 'keeper_deregistering: it will not be able to liquidate until it registers again');
    return;
  }
  const stake = config.keeper.stake ?? programConfig.minKeeperStake;
  const { blockhash, lastValidBlockHeight } = await connection.getLatestBlockhash(config.solana.commitment);
  const tx = new Transaction({ feePayer: keeper.publicKey, blockhash, lastValidBlockHeight }).add(
    registerKeeperInstruction({ authority: keeper.publicKey, authorityTokenAccount: payoutAccount, stake, programId }),
  );
  tx.sign(keeper);
  const landed = await landTransaction(connection, { signature: bs58.encode(tx.signature!), raw: tx.serialize(), lastValidBlockHeight }, { commitment: config.solana.commitment });
  if (landed.status !== 'confirmed') {
    log.fatal({ keeper: keeper.publicKey.toBase58(), outcome: landed }, 'keeper registration failed');
    process.exit(1);
  }
  log.info({ keeper: keeper.publicKey.toBase58(), stake: stake.toString() }, 'keeper_registered');
}
await ensureRegistered();

const db = await openStore(config.mongodbUri);
const store = createMongoStore(db, markets);
await store.ensureIndexes();
const client = await connectClient(config.temporal);
const bus = createRedisPublisher({ url: config.redisUrl, prefix: config.busPrefix, log });
const subscriber = createRedisSubscriber({ url: config.redisUrl, prefix: config.busPrefix, log });
const prices = new PriceFollower({ subscriber, store: store.latest, markets, log: log.child({ module: 'follower' }) });
await prices.start();
const emitterRedis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(2_000, 100 * n) });
emitterRedis.on('error', () => undefined);

const activities = createLiquidationActivities({
  markets,
  chain: createKeeperChain({ connection, programId, keeper, payoutAccount, markets, commitment: config.solana.commitment, priorityFeeMicroLamports: config.solana.priorityFeeMicroLamports }),
  liquidations: store.liquidations,
  alertLog: store.alerts,
  alerts: createWalletAlerts(emitterRedis, config.busPrefix, (e) => log.debug({ err: e.message }, 'wallet_alert_dropped')),
  bus,
  prices,
  registry,
  log,
  warnBufferBps: config.keeper.marginWarningBps,
  // However many scanners see a trade underwater, one saga runs: a second start of a running one is
  // a no-op; a finished one may start again (its claim in the store tells whether it is done).
  async startSaga(input) {
    await client.workflow.start(liquidationSaga, {
      workflowId: liquidationWorkflowId(input.position, input.openSlot, input.lastLiquidationSlot),
      taskQueue: TASK_QUEUES.liquidations,
      args: [input],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      typedSearchAttributes: [
        { key: SA.TraderWallet, value: input.owner },
        { key: SA.Markets, value: [input.symbol] },
      ],
    });
  },
});

const worker = await Worker.create({
  connection: await connectWorker(config.temporal),
  namespace: config.temporal.namespace,
  taskQueue: TASK_QUEUES.liquidations,
  workflowsPath: fileURLToPath(new URL('../../workflows/index.ts', import.meta.url)),
  activities,
  maxConcurrentActivityTaskExecutions: config.keeper.concurrency,
});

// This keeper's scanner, and the shared backstop: a full scan every minute.
await client.workflow.start(liquidationScanner, {
  workflowId: scannerWorkflowId(keeper.publicKey.toBase58()),
  taskQueue: TASK_QUEUES.liquidations,
  workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
});
try {
  await client.schedule.create({
    scheduleId: LIQUIDATION_SCAN_SCHEDULE_ID,
    spec: { intervals: [{ every: '1 minute' }] },
    policies: { overlap: ScheduleOverlapPolicy.SKIP },
    action: { type: 'startWorkflow', workflowType: 'liquidationScan', taskQueue: TASK_QUEUES.liquidations, args: [] },
  });
} catch (e) {
  if (!(e instanceof ScheduleAlreadyRunning)) throw e;
}
log.info({ taskQueue: TASK_QUEUES.liquidations, keeper: keeper.publicKey.toBase58(), payout: payoutAccount.toBase58(), concurrency: config.keeper.concurrency }, 'worker_started');

await runUntilStopped(worker, log, [
  ['metrics', () => metricsServer && new Promise((r) => metricsServer.close(r))],
  ['bus', () => Promise.all([prices.stop(), subscriber.close(), bus.close(), emitterRedis.quit()])],
  ['temporal client', () => client.connection.close()],
  ['database', () => db.close()],
]);
