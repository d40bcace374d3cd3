import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { isReady, Supervisor, type ProcessSpec, type RestartPolicy, type SupervisorEvents } from './supervisor.ts';
import { freePort } from '../sandbox/free-port.ts';

// Real processes (scripts/fixtures/supervised-child.mjs), real signals, short restart delays.
const CHILD = fileURLToPath(new URL('./fixtures/supervised-child.mjs', import.meta.url));
const FAST: Partial<RestartPolicy> = { initialDelayMs: 100, maxDelayMs: 400, resetAfterMs: 60_000, maxCrashes: 4, crashWindowMs: 30_000 };


async function child(name: string, mode = 'serve', restart: Partial<RestartPolicy> = FAST): Promise<ProcessSpec> {
  const port = await freePort();
  return { name, command: process.execPath, args: [CHILD, String(port), mode], ready: { kind: 'tcp', host: '127.0.0.1', port }, readyTimeoutMs: 10_000, restart };
}

/** A supervisor whose output and events are recorded. */
function recorded() {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c) => (text += c));
  const supervisor = new Supervisor(['a', 'b', 'c'], out, false);
  const events: string[] = [];
  for (const name of ['started', 'ready', 'exited', 'restarting', 'gaveUp', 'stopped'] as const) {
    supervisor.on(name, (...args: SupervisorEvents[typeof name]) => events.push(`${name} ${args[0]}`));
  }
  return { supervisor, events, output: () => text };
}

function next<K extends keyof SupervisorEvents>(s: Supervisor, event: K, name: string): Promise<SupervisorEvents[K]> {
  return new Promise((resolve) => {
    const on = (...args: SupervisorEvents[K]) => {
      if (args[0] !== name) return;
      s.off(event, on as never);
      resolve(args);
    };
    s.on(event, on as never);
  });
}

let current: Supervisor | undefined;
afterEach(async () => {
  await current?.stopAll(1_000);
  current = undefined;
});

describe('Supervisor', () => {
  it('restarts a process killed with SIGKILL, with doubling delays, and waits until it is ready again; others keep running', async () => {
    const { supervisor, output } = recorded();
    current = supervisor;
    const [a, b] = [await child('a'), await child('b')];
    await supervisor.start(a);
    await supervisor.start(b);
    const pidA = supervisor.pid('a')!;
    const firstB = supervisor.pid('b')!;

    const delays: number[] = [];
    supervisor.on('restarting', (name, delayMs) => name === 'b' && delays.push(delayMs));
    for (const round of [1, 2]) {
      const pid = supervisor.pid('b')!;
      const exited = next(supervisor, 'exited', 'b');
      const readyAgain = next(supervisor, 'ready', 'b');
      const killedAt = Date.now();
      process.kill(pid, 'SIGKILL');
      expect((await exited)[1]).toEqual({ signal: 'SIGKILL' });
      expect((await readyAgain)[1]).toBe(round);
      expect(Date.now() - killedAt).toBeGreaterThanOrEqual(FAST.initialDelayMs! * round);
      expect(supervisor.pid('b')).not.toBe(pid);
      expect(await isReady(b.ready)).toBe(true);
    }
    expect(delays).toEqual([100, 200]);
    expect(supervisor.pid('b')).not.toBe(firstB);
    expect(supervisor.pid('a')).toBe(pidA); // the other process was left alone
    expect(output()).toMatch(/^supervisor +\| b: killed by SIGKILL after [\d.]+ s; restarting in 100 ms/m);
    expect(output()).toMatch(/b: ready again \(pid \d+, restart 1, [\d.]+ s after it died\)/);
    expect(output()).not.toMatch(/code 128/);
  });

  it('gives up on a process that crash-loops and reports it; one that never got ready fails its start', async () => {
    const { supervisor, events, output } = recorded();
    current = supervisor;
    const a = await child('a', 'crash', { ...FAST, maxCrashes: 3 });
    await expect(supervisor.start(a)).rejects.toThrow(/a crash-looped: exited with code 3, 3 crashes within 30 s/);
    expect(await supervisor.failed).toMatch(/^a crash-looped: exited with code 3/);
    expect(events.filter((e) => e.startsWith('restarting'))).toHaveLength(2);
    expect(events.at(-1)).toBe('gaveUp a');
    expect(output()).toContain('a: exited with code 3 after');
    expect(supervisor.pid('a')).toBeUndefined();
  });

  it('gives up on a process that keeps dying after it was ready', async () => {
    const { supervisor, events } = recorded();
    current = supervisor;
    await supervisor.start(await child('a', 'crash-after-ready', { ...FAST, maxCrashes: 3 }));
    const reason = await supervisor.failed;
    expect(reason).toMatch(/^a crash-looped: exited with code 3, 3 crashes/);
    expect(events.filter((e) => e === 'ready a').length).toBeGreaterThanOrEqual(2);
  });

  it('starts the delays over once a process has stayed up long enough', async () => {
    const { supervisor } = recorded();
    current = supervisor;
    // Long enough that a process killed as soon as it is ready has not stayed up that long, even on a busy machine.
    await supervisor.start(await child('a', 'serve', { ...FAST, resetAfterMs: 2_500 }));
    const delays: number[] = [];
    supervisor.on('restarting', (_, d) => delays.push(d));
    for (const upMs of [0, 0, 2_700]) {
      await new Promise((r) => setTimeout(r, upMs));
      const ready = next(supervisor, 'ready', 'a');
      process.kill(supervisor.pid('a')!, 'SIGKILL');
      await ready;
    }
    // Quick crashes double the delay; after 2.7 s up (> 2.5 s), the next one starts again from 100.
    expect(delays).toEqual([100, 200, 100]);
  });

  it('stops in reverse start order, SIGTERM first, SIGKILL after the grace period', async () => {
    const { supervisor, events, output } = recorded();
    const specs = [await child('a'), await child('b', 'ignore-term'), await child('c')];
    for (const s of specs) await supervisor.start(s);
    const started = Date.now();
    await supervisor.stopAll(500);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(events.filter((e) => e.startsWith('stopped'))).toEqual(['stopped c', 'stopped b', 'stopped a']);
    expect(events.filter((e) => e.startsWith('restarting'))).toEqual([]);
    expect(output()).toMatch(/c +\| got SIGTERM[^]*b +\| ignoring SIGTERM[^]*b: did not stop within 500 ms, killing it[^]*b: stopped \(killed by SIGKILL\)[^]*a +\| got SIGTERM/);
    for (const s of specs) expect(await isReady(s.ready)).toBe(false);
  });

  it('does not restart what dies while it stops, and cancels a pending restart', async () => {
    const { supervisor, events } = recorded();
    const a = await child('a', 'serve', { ...FAST, initialDelayMs: 5_000 });
    await supervisor.start(a);
    const restarting = next(supervisor, 'restarting', 'a');
    process.kill(supervisor.pid('a')!, 'SIGKILL');
    await restarting;
    const started = Date.now();
    await supervisor.stopAll(500);
    await new Promise((r) => setTimeout(r, 200));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(events.filter((e) => e === 'started a')).toHaveLength(1);
    expect(await isReady(a.ready)).toBe(false);
  });
});
