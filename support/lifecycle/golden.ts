import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { pipeline } from 'node:stream/promises';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from 'pg';
import type { InstanceNames } from '../naming';
import type { ClientTools, Endpoint, Login } from '../postgres/cluster';
import { connect, readServerVersion } from '../postgres/connect';
import { dumpArchive, listArchive, restorableEntries } from '../postgres/archive';
import { snapshotInTransaction, type SnapshotEntry } from './snapshot';
import { snapshotProgress } from './progress';

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
  /** sha256 (hex) of golden.dump and golden.list as written, so a damaged or mixed-up golden is told before a reset. */
  readonly files?: Readonly<Record<string, string>>;
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
  /** Where to keep the row images of prod's state at the dump, for row-level diffs against the golden. */
  readonly rowsDir?: string;
  /** A line a second while prod's content is hashed (pg_dump runs alongside), e.g. for a terminal. */
  readonly everySecond?: (line: string) => void;
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
        ...(options.rowsDir === undefined ? {} : { rowsDir: options.rowsDir }),
        ...(options.everySecond ? { onTable: snapshotProgress(prod.database, options.everySecond) } : {}),
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
    const list = `${owned.join('\n')}\n`;
    const manifest: GoldenManifest = {
      format: GOLDEN_FORMAT,
      root: snapshot.root,
      database: prod.database,
      ownerRole: prod.ownerRole,
      serverVersion,
      createdAt: new Date().toISOString(),
      restoredEntries: owned.length,
      files: { [ARCHIVE_FILE]: sha256(archive), [LIST_FILE]: sha256(list) },
      entries: snapshot.entries,
    };
    // Prod's data: readable by the golden's owner only.
    await mkdir(options.dir, { recursive: true, mode: 0o700 });
    const golden = paths(options.dir, manifest);
    await writeFile(golden.archivePath, archive, { mode: 0o600 });
    await writeFile(golden.listPath, list, { mode: 0o600 });
    await writeFile(join(options.dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
    return golden;
  } finally {
    await client.end();
  }
}

const sha256 = (content: Buffer | string) => createHash('sha256').update(content).digest('hex');

/** The golden's files are not the ones its manifest was made with (changed, cut short, mixed with another golden's). */
export class GoldenFilesError extends Error {
  override readonly name = 'GoldenFilesError';
}

/**
 * Checks the archive and list against the checksums in the manifest, reading each file once (streamed). A golden made
 * before checksums were kept is refused too: nothing says its archive is the one its hash describes.
 */
export async function verifyGoldenFiles(golden: Golden): Promise<void> {
  const remake = 'make the golden again (rehearse golden), or fetch it whole';
  if (!golden.manifest.files) throw new GoldenFilesError(`${golden.dir}: the golden's manifest has no checksums of its files, so its archive cannot be shown to be the one its hash describes: ${remake}`);
  for (const [name, path] of [[ARCHIVE_FILE, golden.archivePath], [LIST_FILE, golden.listPath]] as const) {
    const expected = golden.manifest.files[name];
    const hash = createHash('sha256');
    await pipeline(createReadStream(path), hash);
    const actual = hash.digest('hex');
    if (actual !== expected) {
      throw new GoldenFilesError(`${path} is not the ${name} its manifest was made with (sha256 ${actual.slice(0, 12)}…, the manifest says ${String(expected).slice(0, 12)}…): it was changed, cut short or mixed with another golden's; ${remake}`);
    }
  }
}

function paths(dir: string, manifest: GoldenManifest): Golden {
  return { dir, archivePath: join(dir, ARCHIVE_FILE), listPath: join(dir, LIST_FILE), manifest };
}
