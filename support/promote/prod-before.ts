import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { readSnapshotFile, rowsDirOf, writeSnapshotFile } from '../lifecycle/snapshot-file';
import { rowImagePath } from '../lifecycle/row-images';
import type { Snapshot } from '../lifecycle/snapshot';

/**
 * Prod's state before a promotion's first write, kept beside its journal so that a resumed promotion diffs prod from
 * where the replay began, not from where the resume did. Only the row images of the tables the changeset changes are
 * kept (the rows a diff names; prod's other tables, its users' keys among them, stay out of the operator's files);
 * read back, a table without its image is diffed by hash alone, so a change there still shows.
 */

/** Writes `snapshot` to `file`, with the row images of the relations `keys` beside it. */
export function keepProdBefore(snapshot: Snapshot, keys: readonly string[], file: string): void {
  const rows = rowsDirOf(file);
  mkdirSync(rows, { recursive: true, mode: 0o700 });
  if (snapshot.rowsDir === undefined) throw new Error("prod's state before the replay was taken without row images");
  for (const key of keys) {
    const image = rowImagePath(snapshot.rowsDir, key);
    if (existsSync(image)) copyFileSync(image, rowImagePath(rows, key));
  }
  writeSnapshotFile(file, { ...snapshot, rowsDir: rows });
}

/** Prod's state before the replay, as kept by keepProdBefore. */
export function readProdBefore(file: string): Snapshot {
  const snapshot = readSnapshotFile(file);
  const { rowsDir } = snapshot;
  return {
    ...snapshot,
    entries: snapshot.entries.map((entry) => {
      if (entry.rows === undefined || (rowsDir !== undefined && existsSync(rowImagePath(rowsDir, entry.key)))) return entry;
      const { rows: _dropped, ...hashOnly } = entry;
      return hashOnly;
    }),
  };
}
