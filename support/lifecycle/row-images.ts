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
import { ask, askEach, ONE_MESSAGE_BYTES, readingWhat, rowHashSql, type OwnedRelation, type TableContent } from './snapshot-sql';

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

interface ImageRow {
  readonly o: string;
  readonly k: string;
  readonly h: string;
  readonly v: string | null;
}

/** A relation's image to write: its file and its snapshot key. */
export interface ImageOf {
  readonly path: string;
  readonly key: string;
  readonly relation: OwnedRelation;
}

/** The image's rows in sort order, with the row hashes the content hash sums. */
function imageSelect(relation: OwnedRelation): string {
  const byKey = relation.primaryKey.length > 0;
  const identity = `to_json(${textArraySql(byKey ? relation.primaryKey : relation.columns)})::text`;
  const values = byKey ? `to_json(${textArraySql(relation.columns)})::text` : 'NULL';
  // OFFSET 0 keeps the subquery whole, so each identity is built once, not again for its sort key (it also keeps the
  // query serial, as a cursor is anyway).
  return `SELECT hashtextextended(k COLLATE "C", 0) AS o, k, h, v
       FROM (SELECT ${identity} AS k, (${rowHashSql('r', relation)})::text AS h, ${values} AS v FROM ONLY ${relation.name} r OFFSET 0) s
      ORDER BY 1`;
}

/**
 * Writes each relation's image into a new file, read in the caller's transaction so the rows are those of the
 * snapshot's MVCC snapshot, and returns its content (row count and the exact sum of the row hashes, as tableContents
 * reads them): the rows are read once, not again for the hash. The small tables' reads go in one message; a table
 * larger than ONE_MESSAGE_BYTES streams through a cursor, so memory stays at one message or one fetch whatever the sizes.
 */
export async function writeRowImages(client: Client, images: readonly ImageOf[]): Promise<TableContent[]> {
  const small = images.filter(({ relation }) => !relation.noPages && relation.bytes <= ONE_MESSAGE_BYTES);
  const answers = await askEach<ImageRow>(client, small.map(({ relation }) => ({ what: readingWhat(relation), sql: imageSelect(relation) })));
  const read = new Map(small.map((image, index) => [image, answers[index]!]));
  const contents: TableContent[] = [];
  for (const image of images) {
    const rows = read.get(image);
    contents.push(
      await writeImage(image, async (take) => {
        // A heap without pages holds no row: its image is the header alone.
        if (rows) await take(rows);
        else if (!image.relation.noPages) await readThroughCursor(client, image.relation, take);
      }),
    );
  }
  return contents;
}

/** Writes the image's header, then the rows `read` gives `take`; returns their content. */
async function writeImage({ path, key, relation }: ImageOf, read: (take: (batch: readonly ImageRow[]) => Promise<void>) => Promise<void>): Promise<TableContent> {
  const header: RowImageHeader = { relation: key, columns: relation.columns, primaryKey: relation.primaryKey };
  let rows = 0;
  let sum = 0n;
  // 'wx': an image is never rewritten (two snapshots sharing a directory would corrupt each other's diffs).
  const out = createWriteStream(path, { flags: 'wx' });
  const take = async (batch: readonly ImageRow[]) => {
    rows += batch.length;
    for (const row of batch) sum += BigInt(row.h);
    await write(out, batch.map((row) => `{"o":"${row.o}","h":"${row.h}","k":${row.k}${row.v === null ? '' : `,"v":${row.v}`}}\n`).join(''));
  };
  try {
    await write(out, `${JSON.stringify(header)}\n`);
    await read(take);
    out.end();
    await finished(out);
  } catch (error) {
    // A cursor left open is closed with the snapshot's savepoint.
    out.destroy();
    throw error;
  }
  return { rows, sum: sum.toString() };
}

/** Feeds a large table's image rows to `take` a fetch at a time. */
async function readThroughCursor(client: Client, relation: OwnedRelation, take: (batch: readonly ImageRow[]) => Promise<void>): Promise<void> {
  const what = readingWhat(relation);
  await ask(client, what, `DECLARE ${CURSOR} NO SCROLL CURSOR FOR ${imageSelect(relation)}`);
  for (let batch = await fetchRows(client, what); batch.length > 0; batch = await fetchRows(client, what)) await take(batch);
  await ask(client, what, `CLOSE ${CURSOR}`);
}

function fetchRows(client: Client, what: string): Promise<ImageRow[]> {
  return ask<ImageRow>(client, what, `FETCH ${FETCH_ROWS} FROM ${CURSOR}`);
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
