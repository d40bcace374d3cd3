// `npm run record -- --minutes N [--out file] [--feeds id,id,…]`: saves the Hermes price stream
// (QD_HERMES_URL, with QD_HERMES_API_KEY; every feed of QD_MARKETS_FILE unless --feeds) as JSON
// lines: `{"t": <epoch ms received>, "parsed": [<Hermes parsed updates, as sent>]}`. The market
// simulator replays such a file (`--replay <file> [--replay-speed x]`), at its original pace or faster.
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { createHermesClient } from '../activities/ingest/hermes.ts';
import { parseHermesMessage } from '../domain/payload.ts';
import { loadConfigOrExit } from '../runtime/config.ts';
import { loadMarkets } from '../runtime/markets.ts';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '1' }, out: { type: 'string' }, feeds: { type: 'string' } } });
const minutes = Number(values.minutes);
if (!Number.isFinite(minutes) || minutes <= 0 || minutes > 24 * 60) {
  process.stderr.write('--minutes must be a number of minutes in (0, 1440]\n');
  process.exit(2);
}
const config = loadConfigOrExit();
const ids = values.feeds ? values.feeds.split(',').map((f) => f.trim().toLowerCase().replace(/^0x/, '')) : loadMarkets(config.marketsFile).all.map((m) => m.pythFeedId);
const out = values.out ?? join(config.dataDir, 'recordings', `hermes-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`);
mkdirSync(dirname(out), { recursive: true });
const file = createWriteStream(out);

const hermes = createHermesClient({ url: config.hermes.url, ...(config.hermes.apiKey && { apiKey: config.hermes.apiKey }), timeoutMs: 10_000 });
const stream = await hermes.getPriceUpdatesStream(ids, { parsed: true, encoding: 'hex', ignoreInvalidPriceIds: true });
let messages = 0;
let updates = 0;
let refused = 0;
const done = new Promise<void>((resolve, reject) => {
  stream.onmessage = (event: MessageEvent) => {
    const t = Date.now();
    const data = String(event.data);
    // Only what parses as a Hermes update is kept (the replay serves it as Hermes would).
    const parsed = parseHermesMessage(data);
    if (!parsed.ok) return void (refused += 1);
    const body = JSON.parse(data) as { parsed: unknown[] };
    file.write(`${JSON.stringify({ t, parsed: body.parsed })}\n`);
    messages += 1;
    updates += body.parsed.length;
  };
  stream.onerror = () => reject(new Error(`the Hermes stream at ${config.hermes.url} failed`));
  setTimeout(resolve, minutes * 60_000);
});
const finish = async (code: number) => {
  stream.close();
  await new Promise((r) => file.end(r));
  process.stdout.write(`${messages} messages, ${updates} updates (${refused} refused) → ${out}\n`);
  process.exit(code);
};
process.once('SIGINT', () => void finish(0));
await done.then(
  () => finish(0),
  async (e: Error) => {
    process.stderr.write(`${e.message}\n`);
    await finish(1);
  },
);
