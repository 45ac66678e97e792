/**
 * The content-addressable snapshot of an ERP database's state (ADR-0003): everything the owner role
 * owns, hashed canonically, so that prod and a sandbox restored from prod's dump give the same root
 * hash, and the objects the owner role does not own (which a reset by DROP OWNED cannot see) as drift.
 *
 * Read-only and needs only the owner's privileges: a login that is a member of the owner role can take
 * it on a session with default_transaction_read_only = on.
 */
import { createHash } from 'node:crypto';
import type { Client } from 'pg';
import { driftAmong, type DriftObject, type DriftOptions } from '../postgres/drift';
import { prepareRowsDir, rowImagePath, writeRowImages } from './row-images';
import {
  ask,
  checkRoleExists,
  ONE_MESSAGE_BYTES,
  ownedFunctions,
  ownedRelations,
  ownedTypes,
  pinSettings,
  sequenceStates,
  SnapshotError,
  tableContents,
  unownedObjects,
  type OwnedRelation,
  type SequenceState,
} from './snapshot-sql';

export { SnapshotError } from './snapshot-sql';

export interface SnapshotOptions extends DriftOptions {
  /** The owner role whose objects are the state, e.g. 'erp_sandbox_role'. Objects are included by OWNERSHIP, not by name. */
  readonly ownerRole: string;
  /** When given, row images are written under this directory so diffSnapshots can name rows; otherwise only hashes. */
  readonly rowsDir?: string;
  /**
   * More sessions to hash tables in parallel, each importing the snapshot's MVCC snapshot (`SET TRANSACTION
   * SNAPSHOT`), so the content is the same as one session would read. Opened only when the tables are large
   * enough for it to pay (PARALLEL_FROM_BYTES); closed before the snapshot returns.
   */
  readonly parallel?: SnapshotSessions;
  /** Called after each table is hashed: for a terminal's progress line. */
  readonly onTable?: (progress: SnapshotProgress) => void;
}

export interface SnapshotSessions {
  /** Sessions in all, counting the snapshot's own; e.g. the machine's cores. */
  readonly sessions: number;
  /** Opens a session as a login that can read what the owner role owns (the snapshot's own login). */
  connect(): Promise<Client>;
  /** Table data below which one session reads everything; default PARALLEL_FROM_BYTES. */
  readonly fromBytes?: number;
}

export interface SnapshotProgress {
  readonly tablesDone: number;
  readonly tables: number;
  readonly rowsDone: number;
}

/** Below this much table data, opening more sessions costs more than it saves. */
export const PARALLEL_FROM_BYTES = 32 * 2 ** 20;

export interface SnapshotEntry {
  readonly key: string;
  readonly kind: 'table' | 'sequence' | 'view' | 'materialized view' | 'function' | 'type';
  /** Schema-qualified (quoted where SQL needs it), functions with their argument types. */
  readonly name: string;
  /** sha256 hex of the canonical definition text. */
  readonly definitionHash: string;
  /** Tables and materialized views: of the rows, whatever their order; sequences: of (last_value, is_called). */
  readonly contentHash?: string;
  readonly rows?: number;
  readonly sequence?: { readonly lastValue: string; readonly isCalled: boolean };
  /** sha256 over key, definitionHash and contentHash. */
  readonly hash: string;
}

export interface Snapshot {
  /** sha256 hex over the sorted entries' keys and hashes: THE content hash. */
  readonly root: string;
  readonly database: string;
  readonly ownerRole: string;
  /** When the snapshot's transaction started, ISO. */
  readonly takenAt: string;
  /** Sorted by key. */
  readonly entries: readonly SnapshotEntry[];
  /** Sorted by kind, then name. */
  readonly drift: readonly DriftObject[];
  readonly rowsDir?: string;
}

const SAVEPOINT = 'erp_rehearsal_snapshot';
const SNAPSHOT_TRANSACTION = 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY';

/** Opens its own REPEATABLE READ READ ONLY transaction on `client` (which must be idle), so every table is read from one MVCC snapshot. */
export function takeSnapshot(client: Client, options: SnapshotOptions): Promise<Snapshot> {
  return inOwnTransaction(client, SNAPSHOT_TRANSACTION, () => snapshotInTransaction(client, options));
}

/**
 * Same, inside the caller's already-open REPEATABLE READ (or SERIALIZABLE) transaction, e.g. one whose
 * snapshot is exported to pg_dump. Leaves that transaction as it found it: settings restored, no cursor open.
 */
export async function snapshotInTransaction(client: Client, options: SnapshotOptions): Promise<Snapshot> {
  // Exported before the savepoint: PostgreSQL exports no snapshot from a subtransaction.
  const shared = options.parallel && options.parallel.sessions > 1 ? await exportSnapshot(client) : undefined;
  return withPinnedSettings(client, async () => {
    const [row] = await ask<{ isolation: string }>(client, 'cannot read the isolation level', "SELECT current_setting('transaction_isolation') AS isolation");
    if (row!.isolation !== 'repeatable read' && row!.isolation !== 'serializable') {
      throw new SnapshotError(
        `a snapshot reads every table from one MVCC snapshot: run it in a REPEATABLE READ or SERIALIZABLE transaction, not ${row!.isolation.toUpperCase()}`,
      );
    }
    return readSnapshot(client, options, shared);
  });
}

async function exportSnapshot(client: Client): Promise<string> {
  const [row] = await ask<{ id: string }>(client, 'cannot export the snapshot to the parallel sessions', 'SELECT pg_export_snapshot() AS id');
  return row!.id;
}

async function inOwnTransaction<T>(client: Client, begin: string, work: () => Promise<T>): Promise<T> {
  if (client.getTransactionStatus() !== 'I') {
    throw new SnapshotError('the connection is inside a transaction: takeSnapshot opens its own; inside one, use snapshotInTransaction');
  }
  await ask(client, 'cannot open the snapshot transaction', begin);
  let result: T;
  try {
    result = await work();
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
  await ask(client, 'cannot end the snapshot transaction', 'ROLLBACK');
  return result;
}

/**
 * Runs `work` under a savepoint with the pinned settings; rolling back to the savepoint afterwards
 * undoes the SET LOCALs and closes any cursor a failure left open, and keeps the caller's transaction
 * usable after a failed read.
 */
async function withPinnedSettings<T>(client: Client, work: () => Promise<T>): Promise<T> {
  await ask(client, "a snapshot runs inside the caller's open transaction", `SAVEPOINT ${SAVEPOINT}`);
  const restore = () => ask(client, 'cannot restore the session settings', `ROLLBACK TO SAVEPOINT ${SAVEPOINT}; RELEASE SAVEPOINT ${SAVEPOINT}`);
  let result: T;
  try {
    await pinSettings(client);
    result = await work();
  } catch (error) {
    await restore().catch(() => undefined);
    throw error;
  }
  await restore();
  return result;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Code-unit order: the same on every machine, unlike localeCompare. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface Content {
  readonly contentHash: string;
  readonly rows?: number;
  readonly sequence?: SequenceState;
}

/** An entry's key: `kind name`. */
function entryKey(kind: SnapshotEntry['kind'], name: string): string {
  return `${kind} ${name}`;
}

function entry(kind: SnapshotEntry['kind'], name: string, definition: string, content?: Content): SnapshotEntry {
  const key = entryKey(kind, name);
  const definitionHash = sha256(definition);
  return { key, kind, name, definitionHash, ...content, hash: sha256(`${key}\n${definitionHash}\n${content?.contentHash ?? ''}`) };
}

/** A sequence's entry, or a relation's without rows of its own (a view, an unpopulated materialized view). */
function relationEntry(relation: OwnedRelation, states: ReadonlyMap<string, SequenceState>): SnapshotEntry {
  if (relation.kind === 'sequence') {
    const state = states.get(relation.name)!;
    return entry(relation.kind, relation.name, relation.definition, { contentHash: sha256(`${state.lastValue}:${state.isCalled}`), sequence: state });
  }
  return entry(relation.kind, relation.name, relation.definition);
}

/** At most this many tables a message: a snapshot's progress line moves as each message is answered. */
const TABLES_PER_MESSAGE = 100;

/**
 * The entries of tables and populated materialized views: their rows' multiset hashes, their row images written when
 * kept. With an image, the rows are read once: the image's reading gives the content too.
 */
async function tableEntries(client: Client, relations: readonly OwnedRelation[], rowsDir: string | undefined): Promise<SnapshotEntry[]> {
  const imageOf = (dir: string, relation: OwnedRelation) => {
    const key = entryKey(relation.kind, relation.name);
    return { path: rowImagePath(dir, key), key, relation };
  };
  const contents =
    rowsDir === undefined ? await tableContents(client, relations) : await writeRowImages(client, relations.map((relation) => imageOf(rowsDir, relation)));
  return relations.map((relation, index) => {
    const content = contents[index]!;
    return entry(relation.kind, relation.name, relation.definition, { contentHash: sha256(`${content.rows}:${content.sum}`), rows: content.rows });
  });
}

/**
 * The relations, largest first, in the batches they are read in: a table larger than ONE_MESSAGE_BYTES alone, smaller
 * ones together, up to that much data (and TABLES_PER_MESSAGE) a batch.
 */
function readingBatches(relations: readonly OwnedRelation[]): OwnedRelation[][] {
  const batches: OwnedRelation[][] = [];
  let batch: OwnedRelation[] = [];
  let bytes = 0;
  for (const relation of [...relations].sort((a, b) => b.bytes - a.bytes)) {
    if (relation.bytes > ONE_MESSAGE_BYTES) {
      batches.push([relation]);
      continue;
    }
    if (batch.length === TABLES_PER_MESSAGE || (batch.length > 0 && bytes + relation.bytes > ONE_MESSAGE_BYTES)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(relation);
    bytes += relation.bytes;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/**
 * Hashes the relations with rows on `sessions` (the first is the snapshot's own), each taking the next batch
 * (readingBatches) when it is free; returns the entries by relation name.
 */
async function hashRelations(
  sessions: readonly Client[],
  relations: readonly OwnedRelation[],
  rowsDir: string | undefined,
  onTable: SnapshotOptions['onTable'],
): Promise<Map<string, SnapshotEntry>> {
  const queue = readingBatches(relations);
  const entries = new Map<string, SnapshotEntry>();
  let rowsDone = 0;
  const work = async (client: Client) => {
    for (let batch = queue.shift(); batch; batch = queue.shift()) {
      for (const hashed of await tableEntries(client, batch, rowsDir)) {
        entries.set(hashed.name, hashed);
        rowsDone += hashed.rows ?? 0;
        onTable?.({ tablesDone: entries.size, tables: relations.length, rowsDone });
      }
    }
  };
  await Promise.all(sessions.map(work));
  return entries;
}

/** Sessions that import snapshot `id`, with the pinned settings; none when the tables are too small to pay. */
async function parallelSessions(parallel: SnapshotSessions | undefined, id: string | undefined, bytes: number): Promise<Client[]> {
  if (!parallel || id === undefined || bytes < (parallel.fromBytes ?? PARALLEL_FROM_BYTES)) return [];
  const opened: Client[] = [];
  try {
    for (let i = 1; i < parallel.sessions; i++) {
      const client = await parallel.connect();
      opened.push(client);
      await ask(client, 'cannot open a parallel snapshot session', SNAPSHOT_TRANSACTION);
      await ask(client, 'cannot import the snapshot into a parallel session', `SET TRANSACTION SNAPSHOT '${id.replace(/'/g, "''")}'`);
      await pinSettings(client);
    }
    return opened;
  } catch (error) {
    await closeSessions(opened);
    throw error;
  }
}

async function closeSessions(sessions: readonly Client[]): Promise<void> {
  await Promise.all(sessions.map((client) => client.end().catch(() => undefined)));
}

/** last_value and is_called of the sequences among `relations`. */
function sequenceStatesOf(client: Client, relations: readonly OwnedRelation[]): Promise<Map<string, SequenceState>> {
  return sequenceStates(client, relations.filter((relation) => relation.kind === 'sequence').map((relation) => relation.name));
}

/** Each relation's entry: a table's as `hashed` holds it, any other's from its definition (and a sequence's state). */
function relationEntries(relations: readonly OwnedRelation[], hashed: ReadonlyMap<string, SnapshotEntry>, states: ReadonlyMap<string, SequenceState>): SnapshotEntry[] {
  return relations.map((relation) => hashed.get(relation.name) ?? relationEntry(relation, states));
}

/** The entries of the functions and types the role owns. */
async function functionAndTypeEntries(client: Client, ownerRole: string): Promise<SnapshotEntry[]> {
  const functions = (await ownedFunctions(client, ownerRole)).map((fn) => entry('function', fn.name, fn.definition));
  const types = (await ownedTypes(client, ownerRole)).map((type) => entry('type', type.name, type.definition));
  return [...functions, ...types];
}

async function readSnapshot(client: Client, options: SnapshotOptions, shared?: string): Promise<Snapshot> {
  const { ownerRole, rowsDir } = options;
  await checkRoleExists(client, ownerRole);
  const [now] = await ask<{ database: string; takenAt: Date }>(client, 'cannot read the session', 'SELECT current_database() AS database, now() AS "takenAt"');
  const relations = await ownedRelations(client, ownerRole);
  const states = await sequenceStatesOf(client, relations);
  if (rowsDir !== undefined) await prepareRowsDir(rowsDir);

  const withRows = relations.filter((relation) => relation.hasRows);
  const extra = await parallelSessions(options.parallel, shared, withRows.reduce((sum, relation) => sum + relation.bytes, 0));
  let hashed: Map<string, SnapshotEntry>;
  try {
    hashed = await hashRelations([client, ...extra], withRows, rowsDir, options.onTable);
  } finally {
    await closeSessions(extra);
  }

  const entries = [...relationEntries(relations, hashed, states), ...(await functionAndTypeEntries(client, ownerRole))];
  entries.sort((a, b) => compare(a.key, b.key));

  const root = createHash('sha256');
  for (const e of entries) root.update(`${e.key}\n${e.hash}\n`);
  return {
    root: root.digest('hex'),
    database: now!.database,
    ownerRole,
    takenAt: now!.takenAt.toISOString(),
    entries,
    drift: await driftIn(client, options),
    ...(rowsDir === undefined ? {} : { rowsDir }),
  };
}

const KEY = /^(table|sequence|view|materialized view|function|type) (.+)$/s;

/**
 * The entries of what `keys` names (a snapshot's keys, `kind name`), each hashed exactly as a whole snapshot hashes
 * it, in a REPEATABLE READ READ ONLY transaction of its own: for a few relations' hashes without reading a whole
 * database (promote's journal, after each write to prod). A key that nothing the role owns answers to is absent.
 */
export function entriesOf(client: Client, ownerRole: string, keys: readonly string[]): Promise<Map<string, SnapshotEntry>> {
  return inOwnTransaction(client, SNAPSHOT_TRANSACTION, () =>
    withPinnedSettings(client, async () => {
      await checkRoleExists(client, ownerRole);
      const parsed = keys.map((key) => KEY.exec(key)).filter((match) => match !== null);
      const relations = await ownedRelations(client, ownerRole, parsed.map((match) => match[2]!));
      const hashed = await hashRelations([client], relations.filter((relation) => relation.hasRows), undefined, undefined);
      const entries = relationEntries(relations, hashed, await sequenceStatesOf(client, relations));
      if (parsed.some((match) => match[1] === 'function' || match[1] === 'type')) entries.push(...(await functionAndTypeEntries(client, ownerRole)));
      const wanted = new Set(keys);
      return new Map(entries.filter((e) => wanted.has(e.key)).map((e) => [e.key, e]));
    }),
  );
}

/** The snapshot's drift (postgres/drift.ts), read in its own transaction under its pinned settings. */
async function driftIn(client: Client, options: SnapshotOptions): Promise<DriftObject[]> {
  return driftAmong(await unownedObjects(client, options.ownerRole), options.infrastructure);
}
