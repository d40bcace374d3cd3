import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseHermesMessage } from '../../domain/payload.ts';
import { loadRecording } from './replay.ts';
import { SOL, sleep, startSim } from './test-support.ts';

/** The shipped sample: 15 s of the simulator's own Hermes stream, recorded by `npm run record`. */
const SAMPLE = fileURLToPath(new URL('./samples/hermes-15s.jsonl', import.meta.url));

describe('replaying a recorded Hermes stream', () => {
  it('reads the sample: every line a message, offsets from the first', () => {
    const records = loadRecording(SAMPLE);
    expect(records.length).toBe(readFileSync(SAMPLE, 'utf8').trim().split('\n').length);
    expect(records[0]!.offsetMs).toBe(0);
    expect(records.at(-1)!.offsetMs).toBeGreaterThan(10_000);
    expect(records.every((r) => r.quotes.length > 0)).toBe(true);
  });

  it('serves the recorded prices, faster, with fresh publish times, over and over', async () => {
    const recordedSol = new Set(loadRecording(SAMPLE).flatMap((r) => r.quotes.filter((q) => q.feedId === SOL).map((q) => q.quote.price.toString())));
    // 15 s at 20× is about 0.75 s a round.
    const sim = await startSim({ replay: { file: SAMPLE, speed: 20 } });
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) {
      await sleep(250);
      const body = await (await fetch(`${sim.url}/v2/updates/price/latest?ids[]=${SOL}&parsed=true`)).text();
      const r = parseHermesMessage(body);
      if (!r.ok) throw new Error(`not a Hermes answer: ${body.slice(0, 200)}`);
      const o = r.observations[0]!;
      expect(recordedSol.has(String(o.price))).toBe(true);
      expect(Math.floor(Date.now() / 1000) - Number(o.publishTime)).toBeLessThanOrEqual(1);
      seen.add(String(o.price));
    }
    // It moved through the recording (several of its prices), and kept going after the first round.
    expect(seen.size).toBeGreaterThan(3);
  });

  it('refuses a file that is not a recording, naming the line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qd-replay-'));
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, `${readFileSync(SAMPLE, 'utf8').split('\n')[0]}\n{"t": "soon"}\n`);
    expect(() => loadRecording(bad)).toThrow(/bad\.jsonl:2: not a recorded message/);
    writeFileSync(bad, '');
    expect(() => loadRecording(bad)).toThrow(/no recorded messages/);
  });
});
