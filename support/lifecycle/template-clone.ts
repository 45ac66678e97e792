import type { Client } from 'pg';
import type { InstanceNames } from '../naming';
import type { ClientTools, Endpoint, Login } from '../postgres/cluster';
import { LOCKS } from '../postgres/advisory-lock';
import { connect, ident, literal } from '../postgres/connect';
import type { Golden } from './golden';
import { stagedGolden } from './reset';
import {
  DEFAULT_LOCK_TIMEOUT_MS,
  DEFAULT_SESSION_GRACE_MS,
  lockForReset,
  RefusedError,
  refusedForSessions,
  refuseWhileInUse,
  sessionsOn,
  type ResetGuard,
} from './sandbox-sessions';
import { takeSnapshot } from './snapshot';
import { cloneNames, MAINTENANCE_DATABASE, type CloneNames } from '../naming/template-clone';

/**
 * The opt-in template-clone reset, ADR-0003's escape hatch for scale: the sandbox is replaced by a clone of a golden
 * DATABASE (`CREATE DATABASE … TEMPLATE`), made by a dedicated CREATEDB role that owns — through its membership of
 * the sandbox's owner role — only the sandbox and golden databases (support/naming/template-clone.ts). It
 * runs with a minted login of that role only, never the provisioner, never a prod credential: prod's database is
 * owned by prod's owner role, so the role that drops and recreates the sandbox cannot drop, rename or copy it.
 *
 * Unlike the default reset (reset.ts: DROP OWNED + restore in one transaction), this reset is NOT atomic: CREATE and
 * DROP DATABASE cannot run in a transaction block. It replaces the sandbox in three steps — clone the golden database
 * to `<sandbox>-next`, drop the sandbox, rename `<sandbox>-next` — and repairs what a crash between them leaves at its
 * next start: a leftover `<sandbox>-next` (crash before the drop) is dropped; a missing sandbox with a `<sandbox>-next`
 * (crash between the drop and the rename) is completed by the rename. Until then, a crash after the drop leaves the
 * sandbox missing.
 *
 * Both calls serialize on an advisory lock held in the `postgres` database: the golden database can have no session
 * while it is a template source, and the sandbox is being replaced.
 */

export const CLONE_APPLICATION = 'erp-rehearsal clone reset';
/** What the golden database's comment says: which golden it holds. */
const GOLDEN_MARK = 'erp-rehearsal golden ';

/**
 * How CREATE DATABASE copies the golden database (PostgreSQL 15). Measured on the scale-1 fixture (2 cores, local
 * provider, alternating strategies, one run each, machine shared with other work):
 * - with durable settings (fsync, synchronous_commit, full_page_writes on, as a real server runs): clone reset total
 *   median WAL_LOG 2.7 s vs FILE_COPY 3.9 s (the CREATE DATABASE alone 1.8 s vs 2.4 s), 6 runs each;
 * - with the hermetic cluster's fsync=off: WAL_LOG 0.38 s vs FILE_COPY 0.21 s (clone alone 0.20 s vs 0.13 s), 7 runs.
 * FILE_COPY copies the files whole but forces two checkpoints of the WHOLE cluster — cheap only when nothing is
 * fsynced, and on the factory's cluster that is prod's I/O too — while WAL_LOG touches nothing but the new database.
 * Hence WAL_LOG (PostgreSQL 15's own default) by default; for a large golden FILE_COPY writes far less WAL: measure
 * and choose it with the option.
 */
export type CloneStrategy = 'WAL_LOG' | 'FILE_COPY';
export const DEFAULT_CLONE_STRATEGY: CloneStrategy = 'WAL_LOG';

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

export interface CloneResetOptions extends TemplateCloneOptions {
  readonly strategy?: CloneStrategy;
  /** How long other sessions get to go away before the reset refuses; default 2 s. */
  readonly sessionGraceMs?: number;
}

export interface GoldenDatabaseResult {
  readonly database: string;
  /** False when the golden database already held this golden. */
  readonly rebuilt: boolean;
  readonly durationMs: number;
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

export type CloneRefusalReason = 'lock timeout' | 'sessions' | 'no sandbox';

/** The clone reset did not start, or stopped before it dropped the sandbox: the sandbox is as it was. */
export class CloneResetRefusedError extends RefusedError<CloneRefusalReason> {
  override readonly name = 'CloneResetRefusedError';
}

/** The clone reset's lock and session refusal (sandbox-sessions.ts), in the maintenance database, for both databases. */
const CLONE_RESET_GUARD: ResetGuard = {
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

/** One entry of a database's ACL, as aclexplode() gives it; grantee null is PUBLIC. */
export interface DatabaseAclEntry {
  readonly grantee: string | null;
  readonly privilege: string;
  readonly grantable: boolean;
}

/**
 * The statements that give a freshly created database (whose ACL is the default, NULL) the ACL `entries` describe.
 * `null` (the source database's ACL is the default too) needs none. Otherwise every default privilege is revoked —
 * from PUBLIC and from the owner — and exactly the entries are granted, grouped by grantee and grant option, in a
 * stable order. Run by a member of the owner role, the grants are recorded as the owner's, as the source's were.
 */
export function databaseAclStatements(database: string, owner: string, entries: readonly DatabaseAclEntry[] | null): string[] {
  if (entries === null) return [];
  const target = ident(database);
  const who = (grantee: string | null) => (grantee === null ? 'PUBLIC' : ident(grantee));
  const statements = [`REVOKE ALL ON DATABASE ${target} FROM PUBLIC`, `REVOKE ALL ON DATABASE ${target} FROM ${ident(owner)}`];
  const groups = new Map<string, { grantee: string | null; grantable: boolean; privileges: Set<string> }>();
  for (const entry of entries) {
    const key = `${entry.grantee === null ? '' : `"${entry.grantee}`}\u0000${entry.grantable}`;
    const group = groups.get(key) ?? { grantee: entry.grantee, grantable: entry.grantable, privileges: new Set<string>() };
    group.privileges.add(entry.privilege.toUpperCase());
    groups.set(key, group);
  }
  for (const key of [...groups.keys()].sort()) {
    const group = groups.get(key)!;
    const privileges = [...group.privileges].sort().join(', ');
    statements.push(`GRANT ${privileges} ON DATABASE ${target} TO ${who(group.grantee)}${group.grantable ? ' WITH GRANT OPTION' : ''}`);
  }
  return statements;
}

/** The golden database's comment for a golden: which content hash it holds. */
export function goldenMark(golden: Golden): string {
  return `${GOLDEN_MARK}${golden.manifest.root}`;
}

const noProgress = (): void => undefined;

function sqlstateOf(error: unknown): string | undefined {
  return (error as { code?: string }).code;
}

/** Runs `sql`; a server error becomes a TemplateCloneError saying what failed and what to do. */
async function run(client: Client, sql: string, what: string, advice: string): Promise<void> {
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

async function withLock<T>(options: TemplateCloneOptions, work: (client: Client, names: CloneNames, lockWaitMs: number) => Promise<T>): Promise<T> {
  const names = cloneNames(options.sandbox);
  const client = await cloneSession(options, names);
  try {
    const lockWaitMs = await lockForReset(client, CLONE_RESET_GUARD, options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS, options.progress ?? noProgress);
    return await work(client, names, lockWaitMs);
  } finally {
    await client.end(); // releases the advisory lock
  }
}

async function databaseExists(client: Client, database: string): Promise<boolean> {
  const { rows } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
  return rows.length > 0;
}

/** A database's comment (the golden database's names the golden it holds), or undefined. */
export async function databaseComment(client: Client, database: string): Promise<string | undefined> {
  const { rows } = await client.query<{ comment: string | null }>(
    "SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1",
    [database],
  );
  return rows[0]?.comment ?? undefined;
}

/** A database's ACL as PostgreSQL prints it (null: the default), to compare before and after. */
export async function databaseAclText(client: Client, database: string): Promise<string | null | undefined> {
  const { rows } = await client.query<{ acl: string | null }>('SELECT datacl::text AS acl FROM pg_database WHERE datname = $1', [database]);
  return rows[0]?.acl;
}

/** The database's ACL as entries, or null when it is the default (datacl NULL). */
export async function databaseAcl(client: Client, database: string): Promise<DatabaseAclEntry[] | null> {
  const { rows } = await client.query<{ acl: string | null }>('SELECT datacl::text AS acl FROM pg_database WHERE datname = $1', [database]);
  if (rows.length === 0) throw new TemplateCloneError(`database ${database} does not exist`);
  if (rows[0]!.acl === null) return null;
  const entries = await client.query<{ grantee: string | null; privilege: string; grantable: boolean }>(
    `SELECT CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END AS grantee, a.privilege_type AS privilege, a.is_grantable AS grantable
       FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = $1 ORDER BY 1 NULLS FIRST, 2`,
    [database],
  );
  return entries.rows;
}

async function copyAcl(client: Client, from: string, to: string, owner: string): Promise<void> {
  for (const statement of databaseAclStatements(to, owner, await databaseAcl(client, from))) {
    await run(client, statement, `copying the ACL of ${from} to ${to}`, 'the clone role must be a member of the owner role of both');
  }
}

/** pg_restore of the golden's owned entries into `database`, as the owner role, two jobs; any error fails it. */
async function restoreGolden(options: TemplateCloneOptions, names: CloneNames, database: string): Promise<void> {
  const { tools, golden } = options;
  const { archive, list } = await stagedGolden(tools, golden);
  const result = await tools.run(
    'pg_restore',
    ['--no-owner', `--role=${names.ownerRole}`, `--use-list=${list}`, '--jobs=2', '--exit-on-error', `--dbname=${database}`, archive],
    { login: options.login, database, applicationName: CLONE_APPLICATION },
  );
  if (result.exitCode !== 0) {
    const lines = result.stderr.split('\n');
    const first = lines.find((line) => line.includes('ERROR')) ?? lines.find((line) => line.includes('error')) ?? result.stderr.trim();
    throw new TemplateCloneError(
      `restoring the golden in ${golden.dir} into ${database} failed: ${first} — the golden database was not replaced; check that the golden restores (the default reset reports the same)`,
      undefined,
      result.stderr,
    );
  }
}

/** In `database`, as a member of the owner role: what the owner role owns there is dropped (the copied sandbox's state). */
async function emptyOfOwnedObjects(options: TemplateCloneOptions, names: CloneNames, database: string): Promise<void> {
  const client = await connect(options.endpoint, options.login, database, { applicationName: CLONE_APPLICATION });
  try {
    await run(client, `DROP OWNED BY ${ident(names.ownerRole)} CASCADE`, `emptying ${database}`, `the clone login must have the privileges of ${names.ownerRole}`);
  } finally {
    await client.end();
  }
}

/** The built database's content hash must be the golden's, with no drift, before it is recorded as the golden. */
async function verifyGolden(options: TemplateCloneOptions, names: CloneNames, database: string): Promise<void> {
  const client = await connect(options.endpoint, options.login, database, { applicationName: CLONE_APPLICATION, options: '-c default_transaction_read_only=on' });
  let snapshot;
  try {
    snapshot = await takeSnapshot(client, { ownerRole: names.ownerRole });
  } finally {
    await client.end();
  }
  if (snapshot.drift.length > 0) {
    const drift = snapshot.drift.map((object) => `${object.kind} ${object.name} owned by ${object.owner}`);
    throw new TemplateCloneError(
      `the golden database built in ${database} holds objects ${names.ownerRole} does not own (${drift.join(', ')}), copied from the sandbox — reset the sandbox dropping them, then retry`,
    );
  }
  if (snapshot.root !== options.golden.manifest.root) {
    throw new TemplateCloneError(
      `the golden database built in ${database} has content hash ${snapshot.root}, not the golden's ${options.golden.manifest.root}; it was not recorded — check the golden's archive and list`,
    );
  }
}

/**
 * Under the lock: (re)builds the golden database when it is missing or records another golden.
 *
 * The base is a copy of the SANDBOX database, not template0: it carries the provisioner's objects of the instance
 * (user_lookup, and its schema pgbouncer when hardened) that the clone role cannot create, so a sandbox cloned from
 * the golden database keeps them. What the owner role owns in the copy is dropped, the golden restored, the sandbox's
 * ACL applied (the hardened layout's CONNECT fence), and the content hash checked against the manifest before the
 * golden database replaces the previous one, under its final name: a half-built golden database is never used.
 * It is then closed to connections, so nothing can change it or keep it from being a template.
 */
async function buildGoldenIfStale(client: Client, options: TemplateCloneOptions, names: CloneNames): Promise<GoldenDatabaseResult> {
  const started = Date.now();
  const progress = options.progress ?? noProgress;
  const mark = goldenMark(options.golden);
  if ((await databaseExists(client, names.goldenDatabase)) && (await databaseComment(client, names.goldenDatabase)) === mark) {
    return { database: names.goldenDatabase, rebuilt: false, durationMs: Date.now() - started };
  }
  progress(`building the golden database ${names.goldenDatabase} for golden ${options.golden.manifest.root.slice(0, 12)}`);
  const building = names.buildingDatabase;
  await run(client, `DROP DATABASE IF EXISTS ${ident(building)}`, `dropping a leftover ${building}`, 'drop it by hand as the clone role');
  try {
    await client.query(`CREATE DATABASE ${ident(building)} OWNER ${ident(names.ownerRole)} TEMPLATE ${ident(names.sandboxDatabase)}`);
  } catch (error) {
    if (sqlstateOf(error) === '55006') {
      throw refusedForSessions(CLONE_RESET_GUARD, await sessionsOn(client, [names.sandboxDatabase], 'as any session'), names.sandboxDatabase);
    }
    throw new TemplateCloneError(`copying ${names.sandboxDatabase} to build the golden database failed: ${(error as Error).message}`, sqlstateOf(error));
  }
  try {
    await emptyOfOwnedObjects(options, names, building);
    await restoreGolden(options, names, building);
    await copyAcl(client, names.sandboxDatabase, building, names.ownerRole);
    await verifyGolden(options, names, building);
    await run(client, `COMMENT ON DATABASE ${ident(building)} IS ${literal(mark)}`, `recording the golden in ${building}`, 'retry');
    await run(client, `ALTER DATABASE ${ident(building)} ALLOW_CONNECTIONS false`, `closing ${building} to connections`, 'retry');
    await run(client, `DROP DATABASE IF EXISTS ${ident(names.goldenDatabase)}`, `dropping the previous ${names.goldenDatabase}`, 'end its sessions and retry');
    await run(client, `ALTER DATABASE ${ident(building)} RENAME TO ${ident(names.goldenDatabase)}`, `renaming ${building}`, 'retry: the golden database is built again');
  } catch (error) {
    await client.query(`DROP DATABASE IF EXISTS ${ident(building)}`).catch(() => undefined);
    throw error;
  }
  return { database: names.goldenDatabase, rebuilt: true, durationMs: Date.now() - started };
}

/**
 * (Re)builds the sandbox's golden database from the golden archive when it is missing or records another golden (its
 * comment names the golden's content hash), with a minted clone login only. See buildGoldenIfStale.
 */
export function prepareGoldenDatabase(options: TemplateCloneOptions): Promise<GoldenDatabaseResult> {
  return withLock(options, (client, names) => buildGoldenIfStale(client, options, names));
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
 * NOT atomic (see the module's comment): a crash between the drop and the rename leaves no sandbox until the next
 * clone reset completes it. A session that connects between the check and the drop makes the drop fail; the next
 * database is then dropped and the reset refused, the sandbox as it was.
 */
export function cloneResetSandbox(options: CloneResetOptions): Promise<CloneResetResult> {
  const started = Date.now();
  const progress = options.progress ?? noProgress;
  const strategy = options.strategy ?? DEFAULT_CLONE_STRATEGY;
  return withLock(options, async (client, names, lockWaitMs) => {
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
