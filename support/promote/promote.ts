import type { LookupFunction } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { DolibarrClient } from '../dolibarr/client';
import { grantProdWrites } from '../dolibarr/prod-grant';
import { diffSnapshots, type RelationChange } from '../lifecycle/diff';
import type { Snapshot, SnapshotEntry } from '../lifecycle/snapshot';
import { entriesIn, stateOf } from '../lifecycle/state';
import type { InstanceNames } from '../naming';
import type { Endpoint, Login } from '../postgres/cluster';
import { killPoint } from '../process/kill-point';
import { holdSignals } from '../process/teardown';
import type { Secret } from '../secret';
import type { VaultConfigInput } from '../vault';
import { appendAudit, type AuditRecord } from './audit';
import { ChangesetError, readChangeset, type Changeset, type RecordedOperation } from './changeset';
import { compareDiffs } from './compare';
import { loadProdWriteCredential, type ProdWriteCredential } from './credential';
import { dressRehearse, type DressRehearsalSite } from './dress-rehearsal';
import { Journal, journalPath, readJournal, type RelationHashes } from './journal';
import { keepProdBefore, readProdBefore } from './prod-before';
import { PromotionRefused } from './refusal';
import { checkReplayable, sendOperation } from './replay';
import { IdMap, leftOut, remapOperation, replayOrder } from './replay-plan';
import { resumeFromJournal, type ResumePlan } from './resume';

/**
 * Promote (ADR-0003 §4): the only path from a rehearsal to prod. It refuses at the first failed check, before anything
 * reaches prod; then it replays the rehearsed operations through the write tooling, granted prod's host for this
 * command only, and compares prod's diff with the rehearsed one. Every attempt, refused or not, appends an audit record.
 */

/** What promote needs of the target it runs against: a gate target (support/targets/) with its dress-rehearsal site. */
export interface PromoteTarget {
  /** The instance the changeset must have been rehearsed on. */
  readonly sandbox: InstanceNames;
  /** The instance promote replays on. */
  readonly prod: InstanceNames;
  /** Where a database of the target is reached, for prod's state before and after the replay. */
  endpointFor(database: string): Endpoint;
  /** Promote's own Vault identity (undefined: none configured, and promote refuses) and Vault's name resolution. */
  readonly vault: { readonly promoter?: VaultConfigInput; readonly lookup?: LookupFunction };
  /** How prod's Dolibarr is reached, and the agent's sandbox key, which the prod-write credential must not be. */
  readonly dolibarr: {
    readonly prod: { readonly url: string };
    readonly port: number;
    readonly ca: string;
    readonly lookup?: LookupFunction;
    readonly keys: { readonly sandboxAgent: Secret };
  };
  /** A directory of the run; prod's row images go under it. */
  readonly workDir: string;
  /** The sandbox as the dress rehearsal uses it: reset to the golden, its state, the agent's write tooling. */
  readonly dressRehearsal: DressRehearsalSite;
}

export interface PromoteOptions {
  readonly changesetPath: string;
  /** The digest given with `--approve`. */
  readonly approve?: string;
  /** Interactive confirmation: shows the digest and returns what the human typed. Absent when not on a terminal. */
  readonly confirm?: (digest: string) => Promise<string>;
  /** Who is promoting (OS user or CI actor), for the audit. */
  readonly who: string;
  readonly auditPath: string;
  readonly progress?: (line: string) => void;
  /** `--resume`: continue the unfinished promotion its journal records, after checking prod against it. */
  readonly resume?: boolean;
}

/** An operation as it was sent to prod (ids remapped), and prod's answer. */
export interface ReplayedOperation {
  readonly method: string;
  readonly path: string;
  readonly body?: Record<string, unknown>;
  readonly answer: unknown;
}

export interface Promotion {
  readonly digest: string;
  readonly replayed: readonly ReplayedOperation[];
  /** Prod's diff, before to after the replay. */
  readonly prodChanges: readonly RelationChange[];
  /** Prod's diff against the rehearsed one, modulo generated ids and timestamps. */
  readonly comparison: { readonly equal: boolean; readonly differences: readonly string[] };
  /** A resumed promotion: the first operation (1-based) this run sent; `replayed` holds the earlier ones too. */
  readonly resumedAt?: number;
}

/** A replay that failed midway: what reached prod before the failure. */
export class PromotionFailed extends Error {
  override readonly name = 'PromotionFailed';
  constructor(
    message: string,
    readonly replayed: readonly ReplayedOperation[],
    options: { cause: unknown },
  ) {
    super(message, options);
  }
}

/** A SIGINT or SIGTERM stopped the replay between two operations: what reached prod is journaled, the rest was not sent. */
export class PromotionStopped extends Error {
  override readonly name = 'PromotionStopped';
  constructor(
    readonly signal: NodeJS.Signals,
    readonly sent: number,
    readonly of: number,
    journal: string,
    changesetPath: string,
  ) {
    super(
      `promote stopped by ${signal} between two operations: ${sent} of ${of} operation(s) reached prod, the rest were not sent (journal ${journal}); ` +
        `run rehearse promote ${changesetPath} --resume to check prod against the journal and finish`,
    );
  }
}

/** A human approved exactly the changeset's digest: `--approve <digest>`, or typed at an interactive prompt. */
function approved(changeset: Changeset, options: PromoteOptions): Promise<void> | void {
  const { digest } = changeset;
  if (options.approve !== undefined) {
    if (options.approve.trim() !== digest) {
      throw new PromotionRefused('approval mismatch', `--approve ${JSON.stringify(options.approve)} is not the changeset's digest ${digest}: review it again (rehearse review)`);
    }
    return;
  }
  if (!options.confirm) {
    throw new PromotionRefused('no approval', 'not on a terminal and no --approve <digest>: a human must approve the reviewed digest');
  }
  return options.confirm(digest).then((typed) => {
    if (typed.trim() !== digest) throw new PromotionRefused('not confirmed', `the digest typed does not match ${digest}; nothing was sent to prod`);
  });
}

/** Rehearsed on this target's sandbox host, for this target's prod, holding only writes promote can replay. */
function checkRehearsal(changeset: Changeset, target: PromoteTarget): void {
  const { sandbox, prod } = target;
  if (changeset.rehearsal.host !== sandbox.host || changeset.rehearsal.instance !== sandbox.instance) {
    throw new PromotionRefused(
      'not rehearsed on the sandbox',
      `the changeset was recorded against ${changeset.rehearsal.host} (${changeset.rehearsal.instance}), not the sandbox ${sandbox.host}: only a rehearsal on the sandbox can be promoted`,
    );
  }
  if (changeset.prod.instance !== prod.instance || changeset.prod.host !== prod.host) {
    throw new PromotionRefused('not rehearsed on the sandbox', `the changeset is for ${changeset.prod.host}, not this target's prod ${prod.host}`);
  }
  checkReplayable(replayOrder(changeset.operations));
}

/**
 * Relations the rehearsal changed whose hash on prod is no longer the one the rehearsal started from. Sequences are
 * not compared: an insert rolled back on prod moves one without changing a row, and the replay remaps the ids.
 */
function conflicts(changeset: Changeset, prodNow: Snapshot): string[] {
  const now = new Map(prodNow.entries.map((entry) => [entry.key, entry]));
  return changeset.changes.filter((change) => change.kind !== 'sequence').flatMap((change) => {
    const before = changeset.before.relations[change.key];
    const current = now.get(change.key);
    if (before === current?.hash) return [];
    const rows = current?.rows === undefined ? '' : ` (${current.rows} rows on prod now)`;
    return [`${change.name}: changed on prod since the rehearsal started${before === undefined ? ' (absent then)' : current === undefined ? ' (absent on prod now)' : ''}${rows}`];
  });
}

async function prodLogin(credential: ProdWriteCredential, target: PromoteTarget): Promise<Login> {
  const lease = await credential.session.databaseCredentials(target.prod.credsPath);
  return { user: lease.username, password: lease.password.reveal() };
}

/** The relations a changeset changes, sequences aside (see conflicts): those a journal records prod's hashes of. */
function touchedRelations(changeset: Changeset): string[] {
  return changeset.changes.filter((change) => change.kind !== 'sequence').map((change) => change.key);
}

function relationHashes(entries: Iterable<SnapshotEntry>, keys: readonly string[]): RelationHashes {
  const hashes = new Map([...entries].map((entry) => [entry.key, entry.hash]));
  return Object.fromEntries(keys.map((key) => [key, hashes.get(key) ?? null]));
}

/** A replay under way: the operations, where it starts, what it journals, and whether a signal asked it to stop. */
interface ReplayRun {
  readonly operations: readonly RecordedOperation[];
  /** Index of the first operation to send (0 unless resumed). */
  readonly from: number;
  readonly ids: IdMap;
  /** What reached prod before `from`. */
  readonly sent: readonly ReplayedOperation[];
  readonly journal: Journal;
  readonly prodHashes: () => Promise<RelationHashes>;
  readonly stopRequested: () => NodeJS.Signals | undefined;
  readonly changesetPath: string;
}

/**
 * Sends the operations from `run.from` on, one at a time: each is journaled before it is sent and after prod answered
 * (with prod's hashes then), so a crash leaves at most one operation in doubt. A signal noted meanwhile stops it at the
 * next boundary, never mid-write.
 */
async function replay(run: ReplayRun, client: DolibarrClient, progress: (line: string) => void): Promise<ReplayedOperation[]> {
  const { operations, ids, journal } = run;
  const replayed = [...run.sent];
  const stopHere = () => {
    const signal = run.stopRequested();
    if (signal) throw new PromotionStopped(signal, replayed.length, operations.length, journal.path, run.changesetPath);
  };
  for (let index = run.from; index < operations.length; index++) {
    stopHere();
    const operation = operations[index]!;
    const remapped = remapOperation(operation, ids);
    const step = { operation: index + 1, of: operations.length, method: remapped.method, path: remapped.path };
    journal.append({ event: 'sending', ...step });
    killPoint(`promote:before-write:${index + 1}`);
    let answer: unknown;
    try {
      answer = await sendOperation(client, remapped);
    } catch (error) {
      throw new PromotionFailed(
        `operation ${index + 1} of ${operations.length} (${remapped.method} ${remapped.path}) failed on prod after ${replayed.length} succeeded: ${(error as Error).message}`,
        replayed,
        { cause: error },
      );
    }
    journal.append({ event: 'sent', ...step, answer });
    replayed.push({ ...remapped, answer });
    ids.recordCreation(operation, answer);
    journal.append({ event: 'settled', operation: index + 1, relations: await run.prodHashes() });
    killPoint(`promote:after-write:${index + 1}`);
    progress(`replayed ${index + 1}/${operations.length}: ${remapped.method} ${remapped.path} → ${JSON.stringify(answer)}`);
  }
  // A signal during the last operation stops here too: the resume finishes with nothing left to send.
  stopHere();
  return replayed;
}

export async function promote(target: PromoteTarget, options: PromoteOptions): Promise<Promotion> {
  const progress = options.progress ?? (() => undefined);
  /** The digest the changeset carries, once it was read. */
  let digest: string | undefined;
  const record = (outcome: AuditRecord['outcome'], extra: Partial<AuditRecord> = {}) =>
    appendAudit(options.auditPath, { at: new Date().toISOString(), who: options.who, changeset: options.changesetPath, ...(digest ? { digest } : {}), ...extra, outcome });
  let credential: ProdWriteCredential | undefined;
  let client: DolibarrClient | undefined;
  let journal: Journal | undefined;
  /** Set while the replay holds SIGINT/SIGTERM back (holdSignals). */
  let releaseSignals: (() => void) | undefined;
  try {
    let loaded;
    try {
      loaded = readChangeset(options.changesetPath);
    } catch (error) {
      if (error instanceof ChangesetError) throw new PromotionRefused('unreadable changeset', error.message);
      throw error;
    }
    const { changeset, computed } = loaded;
    digest = changeset.digest;
    if (computed !== changeset.digest) {
      throw new PromotionRefused('edited after review', `the changeset's content no longer matches its digest ${changeset.digest} (it is ${computed} now): it was edited after review; record and review it again`);
    }
    await approved(changeset, options);
    checkRehearsal(changeset, target);
    // Before anything can reach prod: the diff the human approved must be what the operations do from the golden.
    await dressRehearse(changeset, target.dressRehearsal, progress);

    // The prod-write credential is read only here, only now, from promote's own Vault identity.
    credential = await loadProdWriteCredential(
      { identity: target.vault.promoter, lookup: target.vault.lookup },
      target.prod,
      { policy: target.sandbox.instance, sandboxKey: target.dolibarr.keys.sandboxAgent },
    );
    const login = await prodLogin(credential, target);
    const endpoint = target.endpointFor(target.prod.database);
    const touched = touchedRelations(changeset);
    // After each write, only the relations the changeset touches are hashed: a whole prod per write is too much load.
    const prodHashes = async () => relationHashes((await entriesIn(endpoint, login, target.prod, touched)).values(), touched);
    // An unfinished promotion of this digest is never replayed afresh: its journal says what already reached prod.
    const journalFile = journalPath(options.auditPath, changeset.digest);
    const earlier = readJournal(journalFile);
    const operations = replayOrder(changeset.operations);
    let resumed: ResumePlan | undefined;
    let before: Snapshot;
    if (options.resume || (earlier !== undefined && earlier.ended !== 'finished')) {
      if (earlier === undefined || earlier.ended === 'finished') {
        throw new PromotionRefused('nothing to resume', `no unfinished promotion of ${changeset.digest} in ${journalFile}: promote it without --resume`);
      }
      resumed = resumeFromJournal(earlier, operations, await prodHashes(), { resume: options.resume === true, changesetPath: options.changesetPath, journalPath: journalFile });
      before = readProdBefore(join(dirname(journalFile), earlier.started.before));
    } else {
      before = await stateOf(endpoint, login, target.prod, join(target.workDir, 'promote'));
      const conflicting = conflicts(changeset, before);
      if (conflicting.length > 0) {
        throw new PromotionRefused('conflict', "prod's rows that the rehearsal changed have changed since it started; rehearse again from a fresh golden", conflicting);
      }
    }

    const { dolibarr } = target;
    client = new DolibarrClient({
      prodGrant: grantProdWrites(target.prod),
      url: dolibarr.prod.url,
      port: dolibarr.port,
      apiKey: credential.key.reveal(),
      ca: dolibarr.ca,
      lookup: dolibarr.lookup,
    });
    for (const skipped of leftOut(changeset.operations)) {
      progress(`not replayed: operation ${skipped.index + 1}, ${skipped.operation.method} ${skipped.operation.path}, ${skipped.reason}`);
    }
    let stopRequested: NodeJS.Signals | undefined;
    releaseSignals = holdSignals((signal) => {
      stopRequested ??= signal;
      progress(`${signal}: promote stops once the operation in flight is answered and journaled`);
    });
    journal = Journal.open(journalFile);
    if (resumed) {
      journal.append({ event: 'resumed', who: options.who, from: resumed.from + 1 });
    } else {
      const beforeFile = `${basename(journalFile, '.ndjson')}.before.json`;
      keepProdBefore(before, touched, join(dirname(journalFile), beforeFile));
      journal.append({ event: 'started', digest: changeset.digest, changeset: options.changesetPath, who: options.who, operations: operations.length, relations: relationHashes(before.entries, touched), before: beforeFile });
    }
    // In the audit before the first write: a promotion killed midway is on record, its journal named.
    record('replaying', { journal: journalFile, ...(resumed ? { resumedAt: resumed.from + 1 } : {}) });
    progress(`replaying ${operations.length - (resumed?.from ?? 0)} operation(s) of ${changeset.digest} on ${target.prod.host}${resumed ? `, resumed at operation ${resumed.from + 1} of ${operations.length}` : ''}`);
    const replayed = await replay(
      {
        operations,
        from: resumed?.from ?? 0,
        ids: resumed?.ids ?? new IdMap(),
        sent: resumed?.sent ?? [],
        journal,
        prodHashes,
        stopRequested: () => stopRequested,
        changesetPath: options.changesetPath,
      },
      client,
      progress,
    );
    // Every operation reached prod: what is left reads prod, and a signal now stops it as usual.
    releaseSignals();
    releaseSignals = undefined;
    const after = await stateOf(endpoint, login, target.prod, join(target.workDir, 'promote'));
    const prodChanges = (await diffSnapshots(before, after)).changes;
    const comparison = compareDiffs(changeset.changes, prodChanges);
    journal.append({ event: 'finished', prodDiffEqual: comparison.equal });
    record('promoted', { prodDiffEqual: comparison.equal, operations: replayed.length, journal: journalFile, ...(resumed ? { resumedAt: resumed.from + 1 } : {}) });
    return { digest: changeset.digest, replayed, prodChanges, comparison, ...(resumed ? { resumedAt: resumed.from + 1 } : {}) };
  } catch (error) {
    const journaled = journal ? { journal: journal.path } : {};
    if (error instanceof PromotionRefused) record('refused', { reason: error.reason });
    else if (error instanceof PromotionStopped) {
      journal?.append({ event: 'stopped', signal: error.signal, sent: error.sent });
      record('stopped', { reason: error.message, operations: error.sent, ...journaled });
    } else {
      journal?.append({ event: 'failed', reason: (error as Error).message });
      record('failed', { reason: (error as Error).message, ...(error instanceof PromotionFailed ? { operations: error.replayed.length } : {}), ...journaled });
    }
    throw error;
  } finally {
    journal?.close();
    await client?.close();
    await credential?.session.close({ revokeOutstanding: true });
    // Last: a signal held during the replay now stops the process, its journal and audit written.
    releaseSignals?.();
  }
}
