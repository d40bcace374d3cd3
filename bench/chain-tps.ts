// Confirmed transactions per second through @solana/web3.js Connection against the embedded chain
// (surfpool): one at a time (send, then confirm over WebSocket), and with N in flight.
//
//   tsx bench/chain-tps.ts [--count 400] [--inflight 32] [--slot-ms 400] [--url http://127.0.0.1:8899 --ws-url ws://127.0.0.1:8900]
//
// Without --url it starts surfpool (its own process) on free ports.
import { parseArgs } from 'node:util';
import {
  Connection,
  Keypair,
  LAMPORTS_PER_SOL,
  SystemProgram,
  Transaction,
  type BlockhashWithExpiryBlockHeight,
  type PublicKey,
} from '@solana/web3.js';
import { startSurfnet } from '../sandbox/chain/surfnet.ts';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '400' },
    inflight: { type: 'string', default: '32' },
    url: { type: 'string' },
    'ws-url': { type: 'string' },
    'slot-ms': { type: 'string', default: '400' },
  },
});
const count = Number(values.count);
const inflight = Number(values.inflight);

class Blockhashes {
  #current: BlockhashWithExpiryBlockHeight | null = null;
  #fetchedAt = 0;
  constructor(private readonly connection: Connection) {}
  /** A blockhash no older than a second, shared by many transactions as real clients do. */
  async get(): Promise<BlockhashWithExpiryBlockHeight> {
    if (this.#current === null || Date.now() - this.#fetchedAt > 1000) {
      this.#current = await this.connection.getLatestBlockhash('confirmed');
      this.#fetchedAt = Date.now();
    }
    return this.#current;
  }
}

async function sendAndConfirm(connection: Connection, hashes: Blockhashes, payer: Keypair, to: PublicKey, lamports: number) {
  const latest = await hashes.get();
  const tx = new Transaction({ feePayer: payer.publicKey, recentBlockhash: latest.blockhash }).add(
    SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: to, lamports }),
  );
  tx.sign(payer);
  const signature = await connection.sendRawTransaction(tx.serialize());
  const result = await connection.confirmTransaction({ signature, ...latest }, 'confirmed');
  if (result.value.err !== null) throw new Error(`transaction ${signature} failed: ${JSON.stringify(result.value.err)}`);
}

// Every transfer carries a different amount, so no two transactions share a signature.
let sequence = 0;

async function run(label: string, workers: number, total: number, connection: Connection, payers: Keypair[], to: PublicKey) {
  const hashes = new Blockhashes(connection);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      const payer = payers[w % payers.length];
      if (payer === undefined) throw new Error('no payer');
      while (next++ < total) await sendAndConfirm(connection, hashes, payer, to, 1_000 + sequence++);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const tps = total / seconds;
  console.log(JSON.stringify({ bench: 'chain-tps', mode: label, inflight: workers, transactions: total, seconds: Number(seconds.toFixed(2)), tps: Number(tps.toFixed(1)) }));
  return tps;
}

const started = values.url === undefined ? await startSurfnet({ slotMs: Number(values['slot-ms']) }) : null;
const rpcUrl = values.url ?? started?.rpcUrl ?? '';
const wsUrl = values['ws-url'] ?? started?.wsUrl;
const connection = new Connection(rpcUrl, { commitment: 'confirmed', ...(wsUrl !== undefined ? { wsEndpoint: wsUrl } : {}) });
let exitCode = 0;
try {
  const payers = Array.from({ length: Math.max(1, inflight) }, () => Keypair.generate());
  const recipient = Keypair.generate();
  for (const kp of [...payers, recipient]) {
    const signature = await connection.requestAirdrop(kp.publicKey, 100 * LAMPORTS_PER_SOL);
    await connection.confirmTransaction({ signature, ...(await connection.getLatestBlockhash()) }, 'confirmed');
  }
  await run('warm-up', 1, 20, connection, payers, recipient.publicKey);
  await run('sequential', 1, Math.min(count, 200), connection, payers, recipient.publicKey);
  await run('in-flight', inflight, count, connection, payers, recipient.publicKey);
} catch (err) {
  console.error(err);
  exitCode = 1;
} finally {
  await started?.stop();
  process.exit(exitCode);
}
