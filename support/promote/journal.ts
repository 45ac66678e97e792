import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { redact } from '../redaction';

/**
 * The journal of a promotion: one JSON line per step of the replay, each on the disk (written and fsync'ed) before the
 * next step proceeds, so that after a crash or a SIGKILL the next `rehearse promote` knows exactly which operations
 * reached prod, which did not, and which one was in flight. One file per digest beside the promote audit, appended,
 * never rewritten: a promotion begins with `started` and, resumed, goes on after `resumed`. Each line passes the
 * redaction point; it holds the operations' paths and prod's answers (ids), no credential.
 */

/** Prod's content hash of each relation the changeset changes, `kind name` → hash (null: absent on prod). */
export type RelationHashes = Readonly<Record<string, string | null>>;

export type JournalEntry =
  | {
      readonly event: 'started';
      readonly at: string;
      readonly digest: string;
      readonly changeset: string;
      readonly who: string;
      readonly operations: number;
      /** Prod's hashes before the first write. */
      readonly relations: RelationHashes;
      /** Prod's state before the first write, as a snapshot file beside the journal. */
      readonly before: string;
    }
  | { readonly event: 'resumed'; readonly at: string; readonly who: string; readonly from: number }
  | { readonly event: 'sending'; readonly at: string; readonly operation: number; readonly of: number; readonly method: string; readonly path: string }
  | { readonly event: 'sent'; readonly at: string; readonly operation: number; readonly of: number; readonly method: string; readonly path: string; readonly answer: unknown }
  /** Prod's hashes once `operation` was sent: what a resume checks prod against. */
  | { readonly event: 'settled'; readonly at: string; readonly operation: number; readonly relations: RelationHashes }
  | { readonly event: 'finished'; readonly at: string; readonly prodDiffEqual: boolean }
  | { readonly event: 'stopped'; readonly at: string; readonly signal: string; readonly sent: number }
  | { readonly event: 'failed'; readonly at: string; readonly reason: string };

/** Distributes Omit over the union, so each event keeps its own fields. */
type WithoutAt<T> = T extends unknown ? Omit<T, 'at'> : never;

/** `<the audit's directory>/promote-journal/<digest's hex>.ndjson`. */
export function journalPath(auditPath: string, digest: string): string {
  return join(dirname(auditPath), 'promote-journal', `${digest.replace(/^sha256:/, '')}.ndjson`);
}

/** An open journal: each entry is on the disk when `append` returns. */
export class Journal {
  private constructor(readonly path: string, private fd: number | undefined) {}

  static open(path: string): Journal {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    return new Journal(path, openSync(path, 'a', 0o600));
  }

  append(entry: WithoutAt<JournalEntry>): void {
    if (this.fd === undefined) throw new Error(`the journal ${this.path} is closed`);
    const line = Buffer.from(redact(`${JSON.stringify({ at: new Date().toISOString(), ...entry })}\n`));
    for (let written = 0; written < line.length; ) written += writeSync(this.fd, line, written);
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** What a journal says of its last promotion. */
export interface JournalState {
  readonly started: Extract<JournalEntry, { event: 'started' }>;
  /** Operation number (1-based) → prod's answer, for each operation that reached prod. */
  readonly sent: ReadonlyMap<number, unknown>;
  /** Operation number → prod's hashes once it was sent. */
  readonly settled: ReadonlyMap<number, RelationHashes>;
  /** The operation announced as sending with no answer after it: it may or may not have reached prod. */
  readonly inDoubt?: { readonly operation: number; readonly method: string; readonly path: string };
  /** How it ended; undefined when the process died during it. */
  readonly ended?: 'finished' | 'stopped' | 'failed';
}

export class JournalError extends Error {
  override readonly name = 'JournalError';
}

/** The last promotion in the journal at `path`, or undefined when there is no journal. A torn last line is ignored. */
export function readJournal(path: string): JournalState | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new JournalError(`cannot read the promote journal ${path}: ${(error as Error).message}`);
  }
  const lines = text.split('\n');
  // A crash mid-write leaves at most the last line torn; only that one may fail to parse.
  const entries = lines.flatMap((line, at) => {
    if (line.trim() === '') return [];
    try {
      return [JSON.parse(line) as JournalEntry];
    } catch {
      if (at >= lines.length - 2) return [];
      throw new JournalError(`the promote journal ${path} is damaged at line ${at + 1}: compare prod with the changeset by hand`);
    }
  });
  const start = entries.map((entry) => entry.event).lastIndexOf('started');
  if (start < 0) return undefined;
  return stateOf(entries.slice(start));
}

function stateOf(entries: readonly JournalEntry[]): JournalState {
  const started = entries[0] as Extract<JournalEntry, { event: 'started' }>;
  const sent = new Map<number, unknown>();
  const settled = new Map<number, RelationHashes>();
  let inDoubt: JournalState['inDoubt'];
  let ended: JournalState['ended'];
  for (const entry of entries) {
    switch (entry.event) {
      case 'sending':
        inDoubt = { operation: entry.operation, method: entry.method, path: entry.path };
        break;
      case 'sent':
        sent.set(entry.operation, entry.answer);
        inDoubt = undefined;
        break;
      case 'settled':
        settled.set(entry.operation, entry.relations);
        break;
      case 'resumed':
        ended = undefined;
        break;
      case 'finished':
      case 'stopped':
      case 'failed':
        ended = entry.event;
        break;
    }
  }
  return { started, sent, settled, ...(inDoubt ? { inDoubt } : {}), ...(ended ? { ended } : {}) };
}

/** The number of the first operation that did not reach prod (operations reach prod in order). */
export function firstNotSent(state: JournalState): number {
  let next = 1;
  while (state.sent.has(next)) next += 1;
  return next;
}

/**
 * Prod's hashes as the journal last recorded them: after the last operation sent, or before the first write. Undefined
 * when the last operation sent has no hashes (the process died between its answer and reading prod): then nothing
 * proves that prod holds only what the journal says.
 */
export function lastRecorded(state: JournalState): RelationHashes | undefined {
  const last = firstNotSent(state) - 1;
  return last === 0 ? state.started.relations : state.settled.get(last);
}

/** The relations whose hash on prod now is not the one the journal last recorded. */
export function movedSince(recorded: RelationHashes, now: RelationHashes): string[] {
  const keys = [...new Set([...Object.keys(recorded), ...Object.keys(now)])].sort();
  return keys.filter((key) => (recorded[key] ?? null) !== (now[key] ?? null));
}
