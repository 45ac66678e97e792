import { copyFileSync, mkdirSync, readFileSync, rmSync, truncateSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARCHIVE_FILE, LIST_FILE, MANIFEST_FILE, type Golden } from '../../support/lifecycle/golden';

/**
 * A copy of a golden, damaged the way goldens get damaged in the field: a manifest of another prod or of an older
 * format, an archive cut short by a failed download or changed after it was made, an archive missing. The operator's
 * commands must refuse each at once, with one line, before the sandbox is touched.
 */
const DAMAGES: Readonly<Record<string, (dir: string) => void>> = {
  'is of another prod': (dir) => editManifest(dir, { database: 'webapp', ownerRole: 'webapp_role' }),
  'is of format 1': (dir) => editManifest(dir, { format: 1 }),
  'has an archive cut short': (dir) => truncateSync(join(dir, ARCHIVE_FILE), Math.floor(statSync(join(dir, ARCHIVE_FILE)).size / 2)),
  'has an archive changed after it was made': (dir) => {
    const path = join(dir, ARCHIVE_FILE);
    const bytes = readFileSync(path);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = bytes[middle]! ^ 0xff;
    writeFileSync(path, bytes);
  },
  'has no archive': (dir) => rmSync(join(dir, ARCHIVE_FILE)),
};

export const GOLDEN_DAMAGE_NAMES = Object.keys(DAMAGES);

function editManifest(dir: string, fields: Record<string, unknown>): void {
  const path = join(dir, MANIFEST_FILE);
  writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), ...fields }, null, 2));
}

/** Copies `golden` into `dir` and damages the copy as `damage` says. */
export function damagedGoldenCopy(golden: Golden, dir: string, damage: string): void {
  const damageIt = DAMAGES[damage];
  if (!damageIt) throw new Error(`no golden damage "${damage}"; known: ${GOLDEN_DAMAGE_NAMES.join('; ')}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  copyFileSync(golden.archivePath, join(dir, ARCHIVE_FILE));
  copyFileSync(golden.listPath, join(dir, LIST_FILE));
  copyFileSync(join(golden.dir, MANIFEST_FILE), join(dir, MANIFEST_FILE));
  damageIt(dir);
}
