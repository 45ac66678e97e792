import type { Client } from 'pg';
import type { CloneNames } from '../naming/template-clone';
import { databaseExists } from '../postgres/catalog';
import { ident } from '../postgres/connect';
import { DEFAULT_SESSION_GRACE_MS, refusedForSessions, refuseWhileInUse, sessionsOn } from './sandbox-sessions';
import { buildGoldenIfStale, type GoldenDatabaseResult } from './template-clone-golden';
import {
  CLONE_RESET_GUARD,
  CloneResetRefusedError,
  copyAcl,
  noProgress,
  run,
  sqlstateOf,
  TemplateCloneError,
  withCloneLock,
  type TemplateCloneOptions,
} from './template-clone-session';

/**
 * The opt-in template-clone reset, ADR-0003's escape hatch for scale: the sandbox is replaced by a clone of the golden
 * database, made by a CREATEDB role that owns only the sandbox and golden databases (support/naming/template-clone.ts),
 * so the role that drops and recreates the sandbox cannot drop, rename or copy prod's.
 */

/**
 * How CREATE DATABASE copies the golden database. WAL_LOG, PostgreSQL 15's own default, by default: FILE_COPY
 * checkpoints the whole cluster, which on the factory's server is prod's I/O too. For a large golden FILE_COPY writes
 * far less WAL: measure (the README's benchmark) and choose it with the option.
 */
export type CloneStrategy = 'WAL_LOG' | 'FILE_COPY';
export const DEFAULT_CLONE_STRATEGY: CloneStrategy = 'WAL_LOG';

export interface CloneResetOptions extends TemplateCloneOptions {
  readonly strategy?: CloneStrategy;
  /** How long other sessions get to go away before the reset refuses; default 2 s. */
  readonly sessionGraceMs?: number;
}

export interface CloneResetResult {
  readonly durationMs: number;
  readonly lockWaitMs: number;
  readonly strategy: CloneStrategy;
  /** The CREATE DATABASE … TEMPLATE alone. */
  readonly cloneMs: number;
  /** Whether the golden database had to be (re)built first, and how long that took. */
  readonly golden: GoldenDatabaseResult;
  /** What was repaired from an interrupted earlier clone reset, one line each. */
  readonly recovered: readonly string[];
}

/** Repairs what an interrupted clone reset left: a leftover next database, or a sandbox dropped but not yet replaced. */
async function recover(client: Client, names: CloneNames, progress: (line: string) => void): Promise<string[]> {
  const sandbox = await databaseExists(client, names.sandboxDatabase);
  const next = await databaseExists(client, names.nextDatabase);
  if (!sandbox && !next) {
    throw new CloneResetRefusedError(
      'no sandbox',
      `neither ${names.sandboxDatabase} nor ${names.nextDatabase} exists; nothing was changed — the sandbox must be provisioned again (by the provisioner) before it can be reset`,
    );
  }
  const recovered: string[] = [];
  if (!sandbox) {
    // CREATE DATABASE is atomic, so the next database is a whole clone; the reset below clones again anyway.
    await run(client, `ALTER DATABASE ${ident(names.nextDatabase)} RENAME TO ${ident(names.sandboxDatabase)}`, `completing an interrupted clone reset`, 'retry');
    recovered.push(`${names.sandboxDatabase} was missing: an interrupted clone reset was completed by renaming ${names.nextDatabase}`);
  } else if (next) {
    await run(client, `DROP DATABASE ${ident(names.nextDatabase)}`, `dropping the leftover ${names.nextDatabase}`, 'end its sessions and retry');
    recovered.push(`a leftover ${names.nextDatabase} of an interrupted clone reset was dropped`);
  }
  for (const line of recovered) progress(line);
  return recovered;
}

/**
 * Resets the sandbox by cloning the golden database, with a minted clone login only: serialized by the advisory lock,
 * refused (nothing changed) while other sessions use the sandbox (listed); the golden database (re)built first when
 * stale; then `CREATE DATABASE "<sandbox>-next" OWNER <owner role> TEMPLATE "<golden db>" STRATEGY …`, the sandbox's
 * ACL applied to it, `DROP DATABASE "<sandbox>"` and `ALTER DATABASE "<sandbox>-next" RENAME TO "<sandbox>"`.
 *
 * NOT atomic, since CREATE and DROP DATABASE cannot run in a transaction block: a crash between the drop and the rename
 * leaves no sandbox until the next clone reset completes it (recover). A session that connects between the check and
 * the drop makes the drop fail; the next database is then dropped and the reset refused, the sandbox as it was.
 */
export function cloneResetSandbox(options: CloneResetOptions): Promise<CloneResetResult> {
  const started = Date.now();
  const progress = options.progress ?? noProgress;
  const strategy = options.strategy ?? DEFAULT_CLONE_STRATEGY;
  return withCloneLock(options, async (client, names, lockWaitMs) => {
    const recovered = await recover(client, names, progress);
    const watched = [names.sandboxDatabase, names.goldenDatabase];
    await refuseWhileInUse(CLONE_RESET_GUARD, names.sandboxDatabase, () => sessionsOn(client, watched, 'as any session'), options.sessionGraceMs ?? DEFAULT_SESSION_GRACE_MS);

    const golden = await buildGoldenIfStale(client, options, names);
    const cloneStarted = Date.now();
    await run(
      client,
      `CREATE DATABASE ${ident(names.nextDatabase)} OWNER ${ident(names.ownerRole)} TEMPLATE ${ident(names.goldenDatabase)} STRATEGY ${strategy}`,
      `cloning ${names.goldenDatabase} to ${names.nextDatabase}`,
      'nothing was changed; retry',
    );
    const cloneMs = Date.now() - cloneStarted;
    try {
      await copyAcl(client, names.sandboxDatabase, names.nextDatabase, names.ownerRole);
      await client.query(`DROP DATABASE ${ident(names.sandboxDatabase)}`);
    } catch (error) {
      await client.query(`DROP DATABASE IF EXISTS ${ident(names.nextDatabase)}`).catch(() => undefined);
      if (sqlstateOf(error) === '55006') throw refusedForSessions(CLONE_RESET_GUARD, await sessionsOn(client, [names.sandboxDatabase], 'as any session'), names.sandboxDatabase);
      if (error instanceof TemplateCloneError) throw error;
      throw new TemplateCloneError(`dropping ${names.sandboxDatabase} failed: ${(error as Error).message} — the sandbox is as it was`, sqlstateOf(error));
    }
    await run(
      client,
      `ALTER DATABASE ${ident(names.nextDatabase)} RENAME TO ${ident(names.sandboxDatabase)}`,
      `renaming ${names.nextDatabase} to ${names.sandboxDatabase}`,
      `the sandbox is missing: run the clone reset again, it completes the rename`,
    );
    progress(`${names.sandboxDatabase} replaced by a clone of ${names.goldenDatabase} (${strategy}) in ${cloneMs} ms`);
    return { durationMs: Date.now() - started, lockWaitMs, strategy, cloneMs, golden, recovered };
  });
}
