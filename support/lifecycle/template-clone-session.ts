import type { Client } from 'pg';
import type { InstanceNames } from '../naming';
import { cloneNames, MAINTENANCE_DATABASE, type CloneNames } from '../naming/template-clone';
import { LOCKS } from '../postgres/advisory-lock';
import type { ClientTools, Endpoint, Login } from '../postgres/cluster';
import { connect, ident } from '../postgres/connect';
import { databaseAcl, databaseAclStatements } from '../postgres/database-acl';
import type { Golden } from './golden';
import { DEFAULT_LOCK_TIMEOUT_MS, lockForReset, RefusedError, type ResetGuard } from './sandbox-sessions';

/**
 * What the golden database's build (template-clone-golden.ts) and the clone reset (template-clone.ts) share: the clone
 * login's session in the maintenance database as the clone role, under the clone reset's lock, and their errors.
 */

export const CLONE_APPLICATION = 'erp-rehearsal clone reset';

export interface TemplateCloneOptions {
  /** Where the harness reaches the cluster (the sandbox's server). */
  readonly endpoint: Endpoint;
  readonly tools: ClientTools;
  /** A minted login of the clone role: a member of it and of nothing else. */
  readonly login: Login;
  readonly sandbox: InstanceNames;
  readonly golden: Golden;
  /** How long to wait for another clone reset before giving up; default 60 s. */
  readonly lockTimeoutMs?: number;
  readonly progress?: (line: string) => void;
}

export type CloneRefusalReason = 'lock timeout' | 'sessions' | 'no sandbox';

/** The clone reset did not start, or stopped before it dropped the sandbox: the sandbox is as it was. */
export class CloneResetRefusedError extends RefusedError<CloneRefusalReason> {
  override readonly name = 'CloneResetRefusedError';
}

/** The clone reset's lock and session refusal (sandbox-sessions.ts), in the maintenance database, for both databases. */
export const CLONE_RESET_GUARD: ResetGuard = {
  lock: LOCKS.cloneReset,
  named: { reset: 'clone reset', lock: 'the lock' },
  stopThem: 'e.g. scale Dolibarr to 0',
  sessionLines: 'which database',
  refusal: CloneResetRefusedError,
};

/** A statement or tool failed; `sqlstate` is PostgreSQL's code when it came from the server. */
export class TemplateCloneError extends Error {
  override readonly name = 'TemplateCloneError';
  constructor(
    message: string,
    readonly sqlstate?: string,
    readonly stderr?: string,
  ) {
    super(message);
  }
}

export const noProgress = (): void => undefined;

export function sqlstateOf(error: unknown): string | undefined {
  return (error as { code?: string }).code;
}

/** Runs `sql`; a server error becomes a TemplateCloneError saying what failed and what to do. */
export async function run(client: Client, sql: string, what: string, advice: string): Promise<void> {
  try {
    await client.query(sql);
  } catch (error) {
    const code = sqlstateOf(error);
    throw new TemplateCloneError(`${what} failed (SQLSTATE ${code ?? 'none'}: ${(error as Error).message}) — ${advice}`, code);
  }
}

/** The session everything runs in: the clone login in `postgres`, acting as the clone role (whose CREATEDB is not inherited). */
async function cloneSession(options: TemplateCloneOptions, names: CloneNames): Promise<Client> {
  const client = await connect(options.endpoint, options.login, MAINTENANCE_DATABASE, { applicationName: CLONE_APPLICATION });
  try {
    await run(client, `SET ROLE ${ident(names.role)}`, `SET ROLE ${names.role}`, `the login ${options.login.user} must be a minted login of ${names.role}`);
  } catch (error) {
    await client.end();
    throw error;
  }
  return client;
}

/**
 * Runs `work` in the clone session under the clone reset's lock, held in the `postgres` database: the golden database
 * can have no session while it is a template source, and one call at a time replaces the sandbox or the golden database.
 */
export async function withCloneLock<T>(options: TemplateCloneOptions, work: (client: Client, names: CloneNames, lockWaitMs: number) => Promise<T>): Promise<T> {
  const names = cloneNames(options.sandbox);
  const client = await cloneSession(options, names);
  try {
    const lockWaitMs = await lockForReset(client, CLONE_RESET_GUARD, options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS, options.progress ?? noProgress);
    return await work(client, names, lockWaitMs);
  } finally {
    await client.end(); // releases the advisory lock
  }
}

/** Gives `to` the ACL of `from` (the sandbox's: the hardened layout's CONNECT fence), as a member of their owner role. */
export async function copyAcl(client: Client, from: string, to: string, owner: string): Promise<void> {
  const entries = await databaseAcl(client, from);
  if (entries === undefined) throw new TemplateCloneError(`database ${from} does not exist`);
  for (const statement of databaseAclStatements(to, owner, entries)) {
    await run(client, statement, `copying the ACL of ${from} to ${to}`, 'the clone role must be a member of the owner role of both');
  }
}
