import { availableParallelism } from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { InstanceNames } from '../naming';
import type { ClientTools, Endpoint, Login } from '../postgres/cluster';
import { connect, readServerVersion } from '../postgres/connect';
import { dumpArchive, entriesOwnedBy, listArchive } from '../postgres/archive';
import { snapshotInTransaction, type SnapshotEntry } from './snapshot';

/**
 * The golden checkpoint: a read-only dump of prod, scoped by ownership, and a manifest whose content
 * hash was taken from the same MVCC snapshot as the dump.
 *
 * Files in the golden's directory:
 *   golden.dump    pg_dump --format=custom of the whole prod database
 *   golden.list    its table of contents, filtered to the entries the prod owner role owns
 *   manifest.json  GoldenManifest
 */

export const ARCHIVE_FILE = 'golden.dump';
export const LIST_FILE = 'golden.list';
export const MANIFEST_FILE = 'manifest.json';

/** Every session that reads prod for the golden refuses writes, whatever the fences say. */
export const READ_ONLY_SESSION = '-c default_transaction_read_only=on';

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
  /** A login that is a member of prod's owner role; it only reads. */
  readonly login: Login;
  readonly prod: InstanceNames;
  /** Directory the golden's files are written to (created if missing). */
  readonly dir: string;
}

/**
 * Dumps prod read-only: a REPEATABLE READ READ ONLY transaction exports its snapshot, pg_dump imports
 * it, and the content hash is computed inside that same transaction, so the manifest describes
 * exactly what the archive holds even while prod is being written.
 */
export async function makeGolden(options: MakeGoldenOptions): Promise<Golden> {
  const { prod } = options;
  const client = await connect(options.endpoint, options.login, prod.database, { options: READ_ONLY_SESSION });
  try {
    const serverVersion = await readServerVersion(client);
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const { rows } = await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id');
    const [archive, snapshot] = await Promise.all([
      dumpArchive(options.tools, options.login, prod.database, [`--snapshot=${rows[0]!.id}`], READ_ONLY_SESSION),
      snapshotInTransaction(client, {
        ownerRole: prod.ownerRole,
        parallel: { sessions: availableParallelism(), connect: () => connect(options.endpoint, options.login, prod.database, { options: READ_ONLY_SESSION }) },
      }),
    ]);
    await client.query('COMMIT');
    if (snapshot.drift.length > 0) {
      const names = snapshot.drift.map((object) => `${object.kind} ${object.name} (owner ${object.owner})`);
      throw new GoldenError(`prod holds objects its owner role does not own; the golden would not restore them: ${names.join(', ')}`);
    }

    const owned = entriesOwnedBy(await listArchive(options.tools, options.login, archive), prod.ownerRole);
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
