import type { Client } from 'pg';
import type { CloneNames } from '../naming/template-clone';
import { databaseComment, databaseExists } from '../postgres/catalog';
import { connect, ident, literal } from '../postgres/connect';
import { describeDrift } from '../postgres/drift';
import type { Golden } from './golden';
import { stagedGolden } from './reset';
import { refusedForSessions, sessionsOn } from './sandbox-sessions';
import { takeSnapshot } from './snapshot';
import {
  CLONE_APPLICATION,
  CLONE_RESET_GUARD,
  copyAcl,
  noProgress,
  run,
  sqlstateOf,
  TemplateCloneError,
  withCloneLock,
  type TemplateCloneOptions,
} from './template-clone-session';

/**
 * The golden DATABASE the template-clone reset clones: built from the golden archive with the clone login only, checked
 * against the golden's content hash, and replaced whole when the golden changes, so a clone never starts from a
 * half-built or stale one.
 */

/** What the golden database's comment says: which golden it holds. */
const GOLDEN_MARK = 'erp-rehearsal golden ';

export interface GoldenDatabaseResult {
  readonly database: string;
  /** False when the golden database already held this golden. */
  readonly rebuilt: boolean;
  readonly durationMs: number;
}

/** The golden database's comment for a golden: which content hash it holds. */
export function goldenMark(golden: Golden): string {
  return `${GOLDEN_MARK}${golden.manifest.root}`;
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
    throw new TemplateCloneError(
      `the golden database built in ${database} holds objects ${names.ownerRole} does not own (${describeDrift(snapshot.drift).join(', ')}), copied from the sandbox — reset the sandbox dropping them, then retry`,
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
export async function buildGoldenIfStale(client: Client, options: TemplateCloneOptions, names: CloneNames): Promise<GoldenDatabaseResult> {
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
  return withCloneLock(options, (client, names) => buildGoldenIfStale(client, options, names));
}

