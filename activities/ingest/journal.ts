import { appendFileSync, closeSync, existsSync, fsync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/**
 * The ingest worker's write-ahead journal: every accepted price (and rejection) is appended here
 * the moment it is accepted, before it is queued for the database, and is forgotten only once the
 * database holds it. A worker killed with unwritten prices, or a database that stays away longer
 * than memory can hold, loses nothing: the next worker on this machine (or this one, once the
 * database is back) writes what the journal still holds — exactly once, since the store refuses a
 * repeated update.
 *
 * Layout: one folder per worker process under the journal root, `<host>-<pid>-<started>`, holding
 * numbered segments of JSON lines (`<first entry number>.jsonl`) and an `owner` file. A folder
 * whose process is gone (same host, no such pid) is adopted by the next worker that starts.
 */

export interface JournalOptions {
  /** The root folder shared by the workers of one machine. */
  root: string;
  /** A segment is closed (and a new one opened) beyond this size. */
  segmentBytes?: number;
}

export interface JournalEntry {
  /** Position in its journal: consecutive, from 1. */
  n: number;
  value: unknown;
}

const ENTRY_DIGITS = 15;
const segmentName = (first: number) => `${String(first).padStart(ENTRY_DIGITS, '0')}.jsonl`;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Segment files of a journal folder, oldest first, with their first entry number. */
function segmentsOf(dir: string): { first: number; file: string }[] {
  return readdirSync(dir)
    .filter((f) => /^\d+\.jsonl$/.test(f))
    .map((f) => ({ first: Number(f.slice(0, -'.jsonl'.length)), file: join(dir, f) }))
    .sort((a, b) => a.first - b.first);
}

function readSegment(file: string, first: number): JournalEntry[] {
  const out: JournalEntry[] = [];
  const lines = readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    try {
      out.push({ n: first + i, value: JSON.parse(line) });
    } catch {
      // A line cut short by a crash mid-write: it was never acknowledged to anyone; skip it.
    }
  }
  return out;
}

/** A journal this process writes. */
export class Journal {
  readonly dir: string;
  private readonly segmentBytes: number;
  private fd: number | undefined;
  private openFirst = 1;
  private openBytes = 0;
  /** Number of the next entry appended. */
  private next = 1;
  /** Every entry numbered up to here is in the database. */
  private committed = 0;
  private dirty = false;
  /** A background fsync is running; segments rotated meanwhile wait in `retired` to be synced and closed. */
  private syncing = false;
  private readonly retired: number[] = [];
  /** Lines appended and not yet written, and the number of the first of them. */
  private lines: string[] = [];
  private linesFirst = 1;

  constructor(o: JournalOptions) {
    this.segmentBytes = o.segmentBytes ?? 4 << 20;
    this.dir = join(o.root, `${hostname()}-${process.pid}-${Date.now()}`);
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(join(this.dir, 'owner'), JSON.stringify({ host: hostname(), pid: process.pid }));
  }

  /** Entries appended and not yet committed. */
  get pending(): number {
    return this.next - 1 - this.committed;
  }

  /** Number the next appended entry gets. */
  get nextNumber(): number {
    return this.next;
  }

  /** Numbers an entry; it is on disk once `write` returned (one write for a whole batch of entries). */
  append(value: unknown): number {
    if (this.lines.length === 0) this.linesFirst = this.next;
    this.lines.push(`${JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
    return this.next++;
  }

  /** Writes the entries appended since the last write in one system call: from then on a killed process loses none of them. */
  write(): void {
    if (this.lines.length === 0) return;
    if (this.fd === undefined || this.openBytes >= this.segmentBytes) this.rotate(this.linesFirst);
    const chunk = this.lines.join('');
    appendFileSync(this.fd!, chunk);
    this.lines = []; // only once written: a failed write is tried again with the next
    this.openBytes += chunk.length;
    this.dirty = true;
  }

  private rotate(first: number): void {
    if (this.fd !== undefined) {
      // A segment is synced before it is closed; while a background sync may still use its fd, later.
      if (this.syncing) this.retired.push(this.fd);
      else this.retire(this.fd);
    }
    this.openFirst = first;
    this.openBytes = 0;
    this.fd = openSync(join(this.dir, segmentName(this.openFirst)), 'a');
  }

  private retire(fd: number): void {
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Makes appended entries survive a machine crash, not only a process crash (on close). */
  sync(): void {
    this.write();
    for (const fd of this.retired.splice(0)) this.retire(fd);
    if (this.fd !== undefined && this.dirty) {
      fsyncSync(this.fd);
      this.dirty = false;
    }
  }

  /**
   * `sync` on the thread pool (called about once a second): an fsync can take tens of milliseconds
   * on a busy disk, and the event loop that validates and publishes prices must not wait for it.
   */
  syncInBackground(): void {
    this.write();
    if (this.syncing || this.fd === undefined || !this.dirty) return;
    this.syncing = true;
    this.dirty = false;
    fsync(this.fd, (e) => {
      this.syncing = false;
      if (e) this.dirty = true;
      for (const fd of this.retired.splice(0)) this.retire(fd);
    });
  }

  /** Entries up to `n` are in the database: segments holding only such entries are deleted. */
  commit(n: number): void {
    if (n <= this.committed) return;
    this.committed = n;
    const segments = segmentsOf(this.dir);
    for (let i = 0; i + 1 < segments.length; i++) {
      if (segments[i + 1]!.first - 1 <= n) rmSync(segments[i]!.file, { force: true });
    }
  }

  /** Up to `max` entries from number `from` on, read back from disk (entries no longer kept in memory). */
  read(from: number, max: number): JournalEntry[] {
    this.write();
    const out: JournalEntry[] = [];
    const segments = segmentsOf(this.dir);
    for (let i = 0; i < segments.length && out.length < max; i++) {
      const last = (segments[i + 1]?.first ?? this.next) - 1;
      if (last < from) continue;
      for (const e of readSegment(segments[i]!.file, segments[i]!.first)) {
        if (e.n >= from && out.length < max) out.push(e);
      }
    }
    return out;
  }

  close(): void {
    this.write();
    if (this.fd !== undefined) {
      this.sync();
      closeSync(this.fd);
      this.fd = undefined;
    }
    // Nothing left to write: the folder goes; otherwise it stays for the next worker to adopt.
    if (this.pending === 0) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A journal left behind by a worker that is gone, being written to the database by this one. */
export interface OrphanJournal {
  dir: string;
  /** Its entries, oldest first, a segment at a time. */
  segments: { first: number; file: string }[];
}

/** Journals under `root` whose worker (on this host) is no longer running. */
export function orphanJournals(root: string, exceptDir?: string): OrphanJournal[] {
  if (!existsSync(root)) return [];
  const out: OrphanJournal[] = [];
  for (const name of readdirSync(root)) {
    const dir = join(root, name);
    if (dir === exceptDir || !statSync(dir).isDirectory()) continue;
    let owner: { host?: string; pid?: number } = {};
    try {
      owner = JSON.parse(readFileSync(join(dir, 'owner'), 'utf8'));
    } catch {
      // No readable owner: a folder half made by a crash at start; adopt it.
    }
    if (owner.host === hostname() && owner.pid !== undefined && owner.pid !== process.pid && processAlive(owner.pid)) continue;
    if (owner.host !== undefined && owner.host !== hostname()) continue;
    out.push({ dir, segments: segmentsOf(dir) });
  }
  return out;
}

export { readSegment };
