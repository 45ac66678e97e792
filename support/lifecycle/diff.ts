/**
 * What changed between two snapshots: per relation whether it was added, removed, redefined or its
 * content changed, and, when both snapshots kept row images, which rows — found by merge-joining the
 * two sorted images of a table in constant memory (only the changes are kept).
 */
import { compareSortKeys, identityColumns, openRowImage, rowImagePath, type RowImage, type RowImageHeader, type RowImageLine, type Values } from './row-images';
import type { Snapshot, SnapshotEntry } from './snapshot';

export interface RowChange {
  /** Primary key columns to values, or every column for a table without a primary key. */
  readonly key: Record<string, unknown>;
  readonly before?: Record<string, unknown>;
  readonly after?: Record<string, unknown>;
  /** For a changed row: the columns whose values differ. */
  readonly columns?: readonly string[];
}

export interface RowChanges {
  readonly added: readonly RowChange[];
  readonly removed: readonly RowChange[];
  readonly changed: readonly RowChange[];
}

export interface RelationChange {
  readonly key: string;
  readonly kind: SnapshotEntry['kind'];
  readonly name: string;
  readonly change: 'added' | 'removed' | 'definition changed' | 'content changed';
  /** When both snapshots have row images of the relation. */
  readonly rows?: RowChanges;
  readonly sequence?: { readonly before: { lastValue: string; isCalled: boolean }; readonly after: { lastValue: string; isCalled: boolean } };
}

export interface SnapshotDiff {
  readonly identical: boolean;
  /** Sorted by key. */
  readonly changes: readonly RelationChange[];
}

export async function diffSnapshots(before: Snapshot, after: Snapshot): Promise<SnapshotDiff> {
  const was = new Map(before.entries.map((e) => [e.key, e]));
  const is = new Map(after.entries.map((e) => [e.key, e]));
  const keys = [...new Set([...was.keys(), ...is.keys()])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const changes: RelationChange[] = [];
  for (const key of keys) {
    const old = was.get(key);
    const now = is.get(key);
    if (!now) changes.push({ key, kind: old!.kind, name: old!.name, change: 'removed' });
    else if (!old) changes.push({ key, kind: now.kind, name: now.name, change: 'added' });
    else if (old.hash !== now.hash) changes.push(await relationChange(old, now, before.rowsDir, after.rowsDir));
  }
  return { identical: changes.length === 0, changes };
}

async function relationChange(old: SnapshotEntry, now: SnapshotEntry, beforeDir?: string, afterDir?: string): Promise<RelationChange> {
  const change = old.definitionHash !== now.definitionHash ? 'definition changed' : 'content changed';
  const base = { key: now.key, kind: now.kind, name: now.name, change } as const;
  if (old.contentHash === now.contentHash) return base;
  if (old.sequence && now.sequence) return { ...base, sequence: { before: { ...old.sequence }, after: { ...now.sequence } } };
  // Both sides hashed rows (tables, populated materialized views) and kept their images.
  if (old.rows !== undefined && now.rows !== undefined && beforeDir !== undefined && afterDir !== undefined) {
    return { ...base, rows: await diffRowImages(rowImagePath(beforeDir, old.key), rowImagePath(afterDir, now.key)) };
  }
  return base;
}

/** Merge-joins two images of a table (each sorted by `o`) into the rows added, removed and changed. */
export async function diffRowImages(beforePath: string, afterPath: string): Promise<RowChanges> {
  const before = await openRowImage(beforePath);
  let after: RowImage;
  try {
    after = await openRowImage(afterPath);
  } catch (error) {
    await before.lines.return(undefined);
    throw error;
  }
  const changes = new ChangeCollector(before.header, after.header);
  try {
    const olds = runs(before.lines, beforePath);
    const news = runs(after.lines, afterPath);
    let old = await olds.next();
    let now = await news.next();
    for (;;) {
      const was = old.done ? undefined : old.value;
      const is = now.done ? undefined : now.value;
      if (!was && !is) break;
      const order = was && is ? compareSortKeys(was.o, is.o) : 0;
      if (was && (!is || order < 0)) {
        changes.compare(was.rows, EMPTY);
        old = await olds.next();
      } else if (is && (!was || order > 0)) {
        changes.compare(EMPTY, is.rows);
        now = await news.next();
      } else {
        changes.compare(was!.rows, is!.rows);
        old = await olds.next();
        now = await news.next();
      }
    }
  } finally {
    await before.lines.return(undefined);
    await after.lines.return(undefined);
  }
  return changes.result();
}

interface Counted {
  readonly line: RowImageLine;
  count: number;
}

/** The rows of one sort key, by identity: almost always one; identical rows of a keyless table are counted, not kept. */
interface Run {
  readonly o: string;
  readonly rows: Map<string, Counted>;
}

const EMPTY: ReadonlyMap<string, Counted> = new Map();

async function* runs(lines: AsyncIterable<RowImageLine>, path: string): AsyncGenerator<Run> {
  let run: Run | undefined;
  for await (const line of lines) {
    if (run && line.o !== run.o) {
      if (compareSortKeys(line.o, run.o) < 0) throw new Error(`${path} is not a row image sorted by its key: ${line.o} after ${run.o}`);
      yield run;
      run = undefined;
    }
    run ??= { o: line.o, rows: new Map() };
    const identity = JSON.stringify(line.k);
    const seen = run.rows.get(identity);
    if (seen) seen.count += 1;
    else run.rows.set(identity, { line, count: 1 });
  }
  if (run) yield run;
}

function record(columns: readonly string[], values: Values): Record<string, unknown> {
  return Object.fromEntries(columns.map((column, index) => [column, values[index]]));
}

/** Turns matched runs into row changes; only the changes are kept. */
class ChangeCollector {
  private readonly added: RowChange[] = [];
  private readonly removed: RowChange[] = [];
  private readonly changed: RowChange[] = [];

  constructor(
    private readonly before: RowImageHeader,
    private readonly after: RowImageHeader,
  ) {}

  compare(olds: ReadonlyMap<string, Counted>, news: ReadonlyMap<string, Counted>): void {
    for (const [identity, old] of olds) {
      const now = news.get(identity);
      const kept = Math.min(old.count, now?.count ?? 0);
      if (now && kept > 0) this.changedRow(old.line, now.line);
      for (let i = kept; i < old.count; i++) this.removed.push({ key: this.key(this.before, old.line), before: this.values(this.before, old.line) });
    }
    for (const [identity, now] of news) {
      const kept = Math.min(now.count, olds.get(identity)?.count ?? 0);
      for (let i = kept; i < now.count; i++) this.added.push({ key: this.key(this.after, now.line), after: this.values(this.after, now.line) });
    }
  }

  result(): RowChanges {
    return { added: this.added, removed: this.removed, changed: this.changed };
  }

  /** Same identity on both sides: changed when a value differs, column by column by name. */
  private changedRow(old: RowImageLine, now: RowImageLine): void {
    if (old.h === now.h && this.before.columns.join('\0') === this.after.columns.join('\0')) return;
    const before = this.values(this.before, old);
    const after = this.values(this.after, now);
    const names = [...new Set([...this.before.columns, ...this.after.columns])];
    const columns = names.filter((name) => before[name] !== after[name]);
    if (columns.length > 0) this.changed.push({ key: this.key(this.after, now), before, after, columns });
  }

  private key(header: RowImageHeader, line: RowImageLine): Record<string, unknown> {
    return record(identityColumns(header), line.k);
  }

  private values(header: RowImageHeader, line: RowImageLine): Record<string, unknown> {
    return record(header.columns, line.v ?? line.k);
  }
}
