/**
 * Row images: a table's rows as NDJSON, one file per table, sorted so that two images of the same
 * table merge-join in constant memory. The order is a 64-bit hash of the row's identity (its primary
 * key values, or the whole row when there is none), an int8 that node orders exactly as PostgreSQL
 * does (compareSortKeys); rows whose identities share a hash are told apart by the identity itself.
 * The first line is a header naming the columns.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { finished } from 'node:stream/promises';
import type { Client } from 'pg';
import { ident } from '../postgres/connect';
import { ask, rowHashSql, type OwnedRelation } from './snapshot-sql';

/** Column values as the server renders them as text (exact, whatever the type); null is SQL NULL. */
export type Values = readonly (string | null)[];

export interface RowImageHeader {
  /** The snapshot entry's key, e.g. `table public.llx_societe`. */
  readonly relation: string;
  readonly columns: readonly string[];
  /** Primary key columns; empty when rows are identified by their whole value (duplicates allowed). */
  readonly primaryKey: readonly string[];
}

export interface RowImageLine {
  /** The sort key: a hash of the identity's JSON text, an int8 in decimal. */
  readonly o: string;
  /** The row's identity: its primary key values, or all its values. */
  readonly k: Values;
  /** The row's hash, the one the content hash sums. */
  readonly h: string;
  /** All the row's values in column order; absent when `k` already holds them. */
  readonly v?: Values;
}

export interface RowImage {
  readonly header: RowImageHeader;
  /** The rows in sort order; return() it to close the file early. */
  readonly lines: AsyncGenerator<RowImageLine>;
}

const CURSOR = 'erp_rehearsal_row_image';
const FETCH_ROWS = 1000;

/** The image file of an entry: readable, safe for any relation name, distinct per key. */
export function rowImagePath(rowsDir: string, key: string): string {
  const readable = key.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 80);
  return join(rowsDir, `${readable}-${createHash('sha256').update(key).digest('hex').slice(0, 16)}.ndjson`);
}

/** The order of `o` in an image: PostgreSQL's order of int8. */
export function compareSortKeys(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Creates `rowsDir` if needed; refuses one that already holds another snapshot's images. */
export async function prepareRowsDir(rowsDir: string): Promise<void> {
  await mkdir(rowsDir, { recursive: true });
  if ((await readdir(rowsDir)).some((file) => file.endsWith('.ndjson'))) {
    throw new Error(`${rowsDir} already holds row images: give each snapshot a directory of its own`);
  }
}

/** The identity columns of an image: the primary key, else the whole row. */
export function identityColumns(header: RowImageHeader): readonly string[] {
  return header.primaryKey.length > 0 ? header.primaryKey : header.columns;
}

function textArraySql(columns: readonly string[]): string {
  return columns.length === 0 ? `'{}'::text[]` : `ARRAY[${columns.map((column) => `r.${ident(column)}::text`).join(', ')}]`;
}

async function write(out: WriteStream, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

/**
 * Streams `relation` into a new image file through a cursor in the caller's transaction, so the rows
 * are those of the snapshot's MVCC snapshot; memory stays at one fetch whatever the table's size.
 */
export async function writeRowImage(client: Client, path: string, key: string, relation: OwnedRelation): Promise<void> {
  const what = `cannot read ${relation.kind} ${relation.name}`;
  const byKey = relation.primaryKey.length > 0;
  const identity = `to_json(${textArraySql(byKey ? relation.primaryKey : relation.columns)})::text`;
  const values = byKey ? `to_json(${textArraySql(relation.columns)})::text` : 'NULL';
  await ask(
    client,
    what,
    // OFFSET 0 keeps the subquery whole, so each identity is built once, not again for its sort key
    // (a cursor never runs in parallel, so nothing is lost).
    `DECLARE ${CURSOR} NO SCROLL CURSOR FOR
     SELECT hashtextextended(k COLLATE "C", 0) AS o, k, h, v
       FROM (SELECT ${identity} AS k, (${rowHashSql('r', relation)})::text AS h, ${values} AS v FROM ONLY ${relation.name} r OFFSET 0) s
      ORDER BY 1`,
  );
  const header: RowImageHeader = { relation: key, columns: relation.columns, primaryKey: relation.primaryKey };
  // 'wx': an image is never rewritten (two snapshots sharing a directory would corrupt each other's diffs).
  const out = createWriteStream(path, { flags: 'wx' });
  try {
    await write(out, `${JSON.stringify(header)}\n`);
    for (;;) {
      const rows = await ask<{ o: string; k: string; h: string; v: string | null }>(client, what, `FETCH ${FETCH_ROWS} FROM ${CURSOR}`);
      if (rows.length === 0) break;
      await write(out, rows.map((row) => `{"o":"${row.o}","h":"${row.h}","k":${row.k}${row.v === null ? '' : `,"v":${row.v}`}}\n`).join(''));
    }
    out.end();
    await finished(out);
  } catch (error) {
    out.destroy();
    throw error;
  }
  await ask(client, what, `CLOSE ${CURSOR}`);
}

/** Opens an image: its header now, its rows as they are read. */
export async function openRowImage(path: string): Promise<RowImage> {
  const input = createReadStream(path);
  // readline does not pass the file's errors on: a missing file would look empty.
  await once(input, 'open');
  const reader = createInterface({ input, crlfDelay: Infinity });
  const iterator = reader[Symbol.asyncIterator]();
  const close = () => {
    reader.close();
    input.destroy();
  };
  const first = await iterator.next();
  if (first.done) {
    close();
    throw new Error(`${path} is not a row image: it is empty`);
  }
  async function* lines(): AsyncGenerator<RowImageLine> {
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield JSON.parse(next.value) as RowImageLine;
      }
    } finally {
      close();
    }
  }
  return { header: JSON.parse(first.value) as RowImageHeader, lines: lines() };
}
