import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import type { Client } from 'pg';
import { ident } from '../postgres/connect';
import { join } from 'node:path';
import { ARCHIVE_FILE, LIST_FILE, type Golden } from './golden';

/**
 * Faults the reset must survive or refuse: broken goldens, to prove that a reset which fails midway
 * changes nothing (each a copy of a good golden with one known defect, in its own directory), and
 * ownership drift, to prove the reset names what it cannot see.
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

/**
 * The verified trap of ownership drift: a table made by a login role without `SET ROLE` belongs to the
 * login, not to the owner role, so `DROP OWNED BY <owner role>` leaves it behind.
 */
export async function createDriftTable(client: Client, table: string): Promise<void> {
  await client.query(`CREATE TABLE public.${ident(table)} (note text)`);
}
