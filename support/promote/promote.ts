import type { LookupFunction } from 'node:net';
import { join } from 'node:path';
import { DolibarrClient } from '../dolibarr/client';
import { grantProdWrites } from '../dolibarr/prod-grant';
import { diffSnapshots, type RelationChange } from '../lifecycle/diff';
import type { Snapshot } from '../lifecycle/snapshot';
import { stateOf } from '../lifecycle/state';
import type { InstanceNames } from '../naming';
import type { Endpoint, Login } from '../postgres/cluster';
import type { Secret } from '../secret';
import type { VaultConfigInput } from '../vault';
import { appendAudit, type AuditRecord } from './audit';
import { ChangesetError, readChangeset, type Changeset } from './changeset';
import { compareDiffs } from './compare';
import { loadProdWriteCredential, type ProdWriteCredential } from './credential';
import { dressRehearse, type DressRehearsalSite } from './dress-rehearsal';
import { PromotionRefused } from './refusal';
import { checkReplayable, sendOperation } from './replay';
import { IdMap, leftOut, remapOperation, replayOrder } from './replay-plan';

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

async function replay(changeset: Changeset, client: DolibarrClient, progress: (line: string) => void): Promise<ReplayedOperation[]> {
  const ids = new IdMap();
  const replayed: ReplayedOperation[] = [];
  const operations = replayOrder(changeset.operations);
  for (const [index, operation] of operations.entries()) {
    const remapped = remapOperation(operation, ids);
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
    ids.recordCreation(operation, answer);
    replayed.push({ ...remapped, answer });
    progress(`replayed ${index + 1}/${operations.length}: ${remapped.method} ${remapped.path} → ${JSON.stringify(answer)}`);
  }
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
    const before = await stateOf(endpoint, login, target.prod, join(target.workDir, 'promote'));
    const conflicting = conflicts(changeset, before);
    if (conflicting.length > 0) {
      throw new PromotionRefused('conflict', "prod's rows that the rehearsal changed have changed since it started; rehearse again from a fresh golden", conflicting);
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
    progress(`replaying ${replayOrder(changeset.operations).length} operation(s) of ${changeset.digest} on ${target.prod.host}`);
    const replayed = await replay(changeset, client, progress);
    const after = await stateOf(endpoint, login, target.prod, join(target.workDir, 'promote'));
    const prodChanges = (await diffSnapshots(before, after)).changes;
    const comparison = compareDiffs(changeset.changes, prodChanges);
    record('promoted', { prodDiffEqual: comparison.equal, operations: replayed.length });
    return { digest: changeset.digest, replayed, prodChanges, comparison };
  } catch (error) {
    if (error instanceof PromotionRefused) record('refused', { reason: error.reason });
    else record('failed', { reason: (error as Error).message, ...(error instanceof PromotionFailed ? { operations: error.replayed.length } : {}) });
    throw error;
  } finally {
    await client?.close();
    await credential?.session.close({ revokeOutstanding: true });
  }
}
