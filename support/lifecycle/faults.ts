import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ARCHIVE_FILE, LIST_FILE, type Golden } from './golden';

/**
 * Broken goldens, to prove that a reset which fails midway changes nothing. Each is a copy of a good
 * golden with one known defect, written to its own directory.
 */

async function variant(golden: Golden, dir: string, archive: Buffer | undefined, list: string | undefined): Promise<Golden> {
  await mkdir(dir, { recursive: true });
  const archivePath = join(dir, ARCHIVE_FILE);
  const listPath = join(dir, LIST_FILE);
  await (archive ? writeFile(archivePath, archive) : copyFile(golden.archivePath, archivePath));
  await (list !== undefined ? writeFile(listPath, list) : copyFile(golden.listPath, listPath));
  return { dir, archivePath, listPath, manifest: golden.manifest };
}

/**
 * The verified trap: a golden scoped by table name (`pg_dump -t 'llx_*'`) holds the tables and their
 * triggers but not the trigger functions, so after DROP OWNED BY its restore fails at the first trigger.
 */
export async function nameScopedGolden(golden: Golden, dir: string): Promise<Golden> {
  const entries = (await readFile(golden.listPath, 'utf8')).split('\n').filter(Boolean);
  const byName = entries.filter((line) => !/ FUNCTION /.test(line) && / llx_/.test(line));
  return variant(golden, dir, undefined, `${byName.join('\n')}\n`);
}

/** The archive with a run of bytes overwritten in the middle, where the table data lies. */
export async function corruptedGolden(golden: Golden, dir: string): Promise<Golden> {
  const archive = await readFile(golden.archivePath);
  const middle = Math.floor(archive.length / 2);
  archive.fill(0xff, middle, Math.min(archive.length, middle + 256));
  return variant(golden, dir, archive, undefined);
}
