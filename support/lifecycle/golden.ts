import { availableParallelism } from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from 'pg';
import type { InstanceNames } from '../naming';
import type { ClientTools, Endpoint, Login } from '../postgres/cluster';
import { connect, readServerVersion } from '../postgres/connect';
import { dumpArchive, listArchive, restorableEntries } from '../postgres/archive';
import { snapshotInTransaction, type SnapshotEntry } from './snapshot';

/**
 * The golden checkpoint: a read-only dump of prod, scoped by ownership, and a manifest whose content
 * hash was taken from the same MVCC snapshot as the dump.
 *
 * Files in the golden's directory:
 *   golden.dump    pg_dump --format=custom of the whole prod database
 *   golden.list    its table of contents, filtered to the entries the prod owner role owns, privileges left out
 *   manifest.json  GoldenManifest
 */

export const ARCHIVE_FILE = 'golden.dump';
export const LIST_FILE = 'golden.list';
export const MANIFEST_FILE = 'manifest.json';

/** Every session that reads prod for the golden refuses writes, whatever the fences say. */
export const READ_ONLY_SESSION = '-c default_transaction_read_only=on';

/** How the golden's sessions show in prod's pg_stat_activity. */
export const GOLDEN_APPLICATION = 'erp-rehearsal golden';

/**
 * The manifest's format. 2: integers, numerics of a declared scale and timestamps are hashed by their type's own hash
 * function (snapshot-sql.ts), so a format-1 root cannot be compared with a snapshot taken today.
 */
export const GOLDEN_FORMAT = 2;

export interface GoldenManifest {
  readonly format: typeof GOLDEN_FORMAT;
  /** The content hash of the owner role's objects at the moment of the dump. */
  readonly root: string;
  readonly database: string;
  readonly ownerRole: string;
  readonly serverVersion: string;
  readonly createdAt: string;
  /** Entries of the archive that the restore replays (owned by ownerRole). */
  readonly restoredEntries: number;
  readonly entries: readonly SnapshotEntry[];
}

export interface Golden {
  readonly dir: string;
  readonly archivePath: string;
  readonly listPath: string;
  readonly manifest: GoldenManifest;
}

export class GoldenError extends Error {
  override readonly name = 'GoldenError';
}

export interface MakeGoldenOptions {
  readonly endpoint: Endpoint;
  readonly tools: ClientTools;
  /** A login of prod's read-only golden identity (support/naming/golden.ts), or any login that may read prod's tables. */
  readonly login: Login;
  readonly prod: InstanceNames;
  /** Directory the golden's files are written to (created if missing). */
  readonly dir: string;
}

export interface ReadOnlySettings {
  readonly default_transaction_read_only: string;
  readonly transaction_read_only: string;
}

/** The session's read-only settings, as SHOW gives them (`on` or `off`). */
export async function readOnlySettings(client: Client): Promise<ReadOnlySettings> {
  const setting = async (name: keyof ReadOnlySettings) => String((await client.query<Record<string, string>>(`SHOW ${name}`)).rows[0]![name]);
  return { default_transaction_read_only: await setting('default_transaction_read_only'), transaction_read_only: await setting('transaction_read_only') };
}

/**
 * Refuses (GoldenError) a session on prod that does not refuse writes. The session asked for
 * `default_transaction_read_only` at start-up, but a pooler in between may drop startup options (pgbouncer with
 * `ignore_startup_parameters = options`), and then nothing but the fences would keep the golden from writing.
 */
export async function requireReadOnlySession(client: Client, database: string): Promise<void> {
  const off = Object.entries(await readOnlySettings(client)).filter(([, value]) => value !== 'on');
  if (off.length > 0) {
    throw new GoldenError(
      `the golden's session on ${database} is not read-only (${off.map(([name, value]) => `${name} = ${value}`).join(', ')}): ` +
        `the startup option "${READ_ONLY_SESSION}" did not take effect, as when a pooler drops startup options; ` +
        "nothing was dumped — connect the golden to prod's server directly, or through a pooler that passes the option on",
    );
  }
}

/** A session on prod for the golden, read-only and checked to be (requireReadOnlySession); the caller ends it. */
export async function connectReadOnly(endpoint: Endpoint, login: Login, database: string): Promise<Client> {
  const client = await connect(endpoint, login, database, { options: READ_ONLY_SESSION, applicationName: GOLDEN_APPLICATION });
  try {
    await requireReadOnlySession(client, database);
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  return client;
}

/**
 * Dumps prod read-only: a REPEATABLE READ READ ONLY transaction exports its snapshot, pg_dump imports
 * it, and the content hash is computed inside that same transaction, so the manifest describes
 * exactly what the archive holds even while prod is being written.
 */
export async function makeGolden(options: MakeGoldenOptions): Promise<Golden> {
  const { prod } = options;
  const client = await connectReadOnly(options.endpoint, options.login, prod.database);
  try {
    const serverVersion = await readServerVersion(client);
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const { rows } = await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id');
    const [archive, snapshot] = await Promise.all([
      dumpArchive(options.tools, options.login, prod.database, [`--snapshot=${rows[0]!.id}`], READ_ONLY_SESSION),
      snapshotInTransaction(client, {
        ownerRole: prod.ownerRole,
        parallel: { sessions: availableParallelism(), connect: () => connectReadOnly(options.endpoint, options.login, prod.database) },
      }),
    ]);
    await client.query('COMMIT');
    if (snapshot.drift.length > 0) {
      const names = snapshot.drift.map((object) => `${object.kind} ${object.name} (owner ${object.owner})`);
      throw new GoldenError(`prod holds objects its owner role does not own; the golden would not restore them: ${names.join(', ')}`);
    }

    const owned = restorableEntries(await listArchive(options.tools, options.login, archive), prod.ownerRole);
    if (owned.length === 0) throw new GoldenError(`no archive entry of ${prod.database} is owned by ${prod.ownerRole}`);
    const manifest: GoldenManifest = {
      format: GOLDEN_FORMAT,
      root: snapshot.root,
      database: prod.database,
      ownerRole: prod.ownerRole,
      serverVersion,
      createdAt: new Date().toISOString(),
      restoredEntries: owned.length,
      entries: snapshot.entries,
    };
    await mkdir(options.dir, { recursive: true });
    const golden = paths(options.dir, manifest);
    await writeFile(golden.archivePath, archive);
    await writeFile(golden.listPath, `${owned.join('\n')}\n`);
    await writeFile(join(options.dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    return golden;
  } finally {
    await client.end();
  }
}

function paths(dir: string, manifest: GoldenManifest): Golden {
  return { dir, archivePath: join(dir, ARCHIVE_FILE), listPath: join(dir, LIST_FILE), manifest };
}
