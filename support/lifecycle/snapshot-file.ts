import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { GoldenManifest } from './golden';
import type { Snapshot } from './snapshot';

/**
 * A state kept on disk for `rehearse diff`: the snapshot's manifest as JSON, and beside it, in `<file>.rows/`, its row
 * images, so a later diff can name rows. The golden is a state too: its manifest, and the row images `rehearse golden`
 * keeps in its directory's `rows/`.
 */

export const SNAPSHOT_KIND = 'erp-rehearsal snapshot';
export const SNAPSHOT_FILE_FORMAT = 1;

interface SnapshotFile extends Omit<Snapshot, 'rowsDir'> {
  readonly kind: typeof SNAPSHOT_KIND;
  readonly format: typeof SNAPSHOT_FILE_FORMAT;
  /** The row images' directory, relative to the file; absent when none were kept. */
  readonly rows?: string;
}

/** A file given as a state that is not one: said in one line, nothing read further. */
export class StateFileError extends Error {
  override readonly name = 'StateFileError';
}

/** Where a snapshot file keeps its row images: `<file without .json>.rows` beside it. */
export function rowsDirOf(file: string): string {
  const path = resolve(file);
  return join(dirname(path), `${basename(path).replace(/\.json$/, '')}.rows`);
}

/** Refuses a snapshot file or row-image directory that would overwrite something. */
export function checkSnapshotPlace(file: string): void {
  const path = resolve(file);
  if (existsSync(path)) throw new StateFileError(`--out ${file} already exists: give a new file for the snapshot`);
  const rows = rowsDirOf(path);
  if (existsSync(rows) && readdirSync(rows).length > 0) throw new StateFileError(`${rows} already holds files: give the snapshot a new name`);
}

/** Writes `snapshot` (whose row images are already in rowsDirOf(file), if any) to `file`, whole or not at all. */
export function writeSnapshotFile(file: string, snapshot: Snapshot): void {
  const path = resolve(file);
  const { rowsDir, ...state } = snapshot;
  const content: SnapshotFile = {
    kind: SNAPSHOT_KIND,
    format: SNAPSHOT_FILE_FORMAT,
    ...state,
    ...(rowsDir === undefined ? {} : { rows: basename(rowsDir) }),
  };
  const partial = `${path}.partial`;
  writeFileSync(partial, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  renameSync(partial, path);
}

/** A snapshot file read back, its row images found beside it. */
export function readSnapshotFile(file: string): Snapshot {
  const path = resolve(file);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new StateFileError(`${file} does not exist: give a snapshot file (rehearse snapshot --out FILE), golden or sandbox`);
    if (code !== undefined) throw new StateFileError(`${file} cannot be read (${code})`);
    throw new StateFileError(`${file} is not a snapshot: it is not JSON (make one with rehearse snapshot --out FILE)`);
  }
  const content = parsed as Partial<SnapshotFile> | null;
  if (content === null || typeof content !== 'object' || content.kind !== SNAPSHOT_KIND) {
    throw new StateFileError(`${file} is not a snapshot of rehearse snapshot (no "kind": "${SNAPSHOT_KIND}")`);
  }
  if (content.format !== SNAPSHOT_FILE_FORMAT || typeof content.root !== 'string' || !Array.isArray(content.entries)) {
    throw new StateFileError(`${file} is a snapshot of another format than ${SNAPSHOT_FILE_FORMAT}: take it again with this version`);
  }
  const { kind: _kind, format: _format, rows, ...state } = content as SnapshotFile;
  const rowsDir = rows === undefined ? undefined : join(dirname(path), rows);
  return { ...state, ...(rowsDir !== undefined && existsSync(rowsDir) ? { rowsDir } : {}) };
}

/** The golden as a state: its manifest, with the row images kept in its directory if there are any. */
export function goldenState(manifest: GoldenManifest, goldenDir: string, rowsDirName: string): Snapshot {
  const rowsDir = join(goldenDir, rowsDirName);
  return {
    root: manifest.root,
    database: manifest.database,
    ownerRole: manifest.ownerRole,
    takenAt: manifest.createdAt,
    entries: manifest.entries,
    drift: [],
    ...(existsSync(rowsDir) ? { rowsDir } : {}),
  };
}
