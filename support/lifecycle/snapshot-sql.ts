/**
 * The catalog and row questions a snapshot asks, as SQL. Every text that feeds a hash is rendered by
 * the server under the pinned settings (postgres/pinned-settings.ts), and nothing that differs between prod and a sandbox
 * restored from its dump (owner names, OIDs, relfilenodes, ACLs, attnums after dropped columns) is read.
 */
import type { Client, QueryResult, QueryResultRow } from 'pg';
import { ident } from '../postgres/connect';
import { UNOWNED_OBJECTS_SQL, type DriftObject } from '../postgres/drift';
import { PIN_SETTINGS_PARAMS, PIN_SETTINGS_SQL } from '../postgres/pinned-settings';
import { ReadError, readRows } from '../postgres/read-error';
import { FUNCTION_NAME, NOT_ARRAY_TYPE, NOT_ROW_TYPE, OWNER, RELATION_KIND, USER_SCHEMA } from '../postgres/user-objects';

/** A server error while snapshotting, with what was being read and PostgreSQL's SQLSTATE. */
export class SnapshotError extends ReadError {
  override readonly name = 'SnapshotError';
}

/** Runs `sql`; a failure becomes a SnapshotError that says what was being read. */
export function ask<R extends QueryResultRow>(client: Client, what: string, sql: string, params?: unknown[]): Promise<R[]> {
  return readRows<R>(client, what, sql, params, SnapshotError);
}

/** A read without parameters, and what it reads (for its error). */
export interface Read {
  readonly what: string;
  readonly sql: string;
}

const BATCH_SAVEPOINT = 'erp_rehearsal_batch';

/**
 * The rows of each read, the reads sent in one message: for a small table or a sequence, a round trip costs more than
 * the read. They run under a savepoint, so that a refused one can be found: the reads then run again one at a time, in
 * the same MVCC snapshot, and the one the server refuses fails saying what it reads.
 */
export async function askEach<R extends QueryResultRow>(client: Client, reads: readonly Read[]): Promise<R[][]> {
  if (reads.length === 0) return [];
  if (reads.length === 1) return [await ask<R>(client, reads[0]!.what, reads[0]!.sql)];
  const sql = [`SAVEPOINT ${BATCH_SAVEPOINT}`, ...reads.map((read) => read.sql), `RELEASE SAVEPOINT ${BATCH_SAVEPOINT}`].join(';\n');
  try {
    // Several statements: node-postgres answers with one result each.
    const results = (await client.query<R>(sql)) as unknown as QueryResult<R>[];
    return results.slice(1, -1).map((result) => result.rows);
  } catch (error) {
    await ask(client, `cannot read ${reads.length} relations (${(error as Error).message}), nor go back to before`, `ROLLBACK TO SAVEPOINT ${BATCH_SAVEPOINT}; RELEASE SAVEPOINT ${BATCH_SAVEPOINT}`);
    const one: R[][] = [];
    for (const read of reads) one.push(await ask<R>(client, read.what, read.sql));
    return one;
  }
}

/** SET LOCAL of every pinned setting, in one round trip. */
export async function pinSettings(client: Client): Promise<void> {
  await ask(client, 'cannot pin the session settings', PIN_SETTINGS_SQL, [...PIN_SETTINGS_PARAMS]);
}

/** A column's collation when it is not its type's default, schema-qualified. */
const COLUMN_COLLATION = `(SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
   WHERE co.oid = a.attcollation AND a.attcollation <> (SELECT typcollation FROM pg_type WHERE oid = a.atttypid))`;

/** Columns in order, by name and not attnum: a restore renumbers around dropped columns. */
const COLUMNS = `(SELECT jsonb_agg(jsonb_build_array(a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
     pg_get_expr(d.adbin, d.adrelid), ${COLUMN_COLLATION}, a.attidentity, a.attgenerated) ORDER BY a.attnum)
   FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)`;

const SEQUENCE_DEFINITION = `(SELECT jsonb_build_object('type', format_type(s.seqtypid, NULL), 'start', s.seqstart,
     'increment', s.seqincrement, 'min', s.seqmin, 'max', s.seqmax, 'cycle', s.seqcycle, 'cache', s.seqcache,
     'owned by', (SELECT jsonb_build_array(format('%I.%I', tn.nspname, tc.relname), ta.attname, d.deptype)
        FROM pg_depend d JOIN pg_class tc ON tc.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = tc.relnamespace
        JOIN pg_attribute ta ON ta.attrelid = d.refobjid AND ta.attnum = d.refobjsubid
        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))
   FROM pg_sequence s WHERE s.seqrelid = c.oid)`;

/**
 * A table, view or materialized view. Not indisclustered (CLUSTER sets it; it is a storage hint) and
 * no statistics or storage settings: only what the data means.
 */
const RELATION_DEFINITION = `jsonb_build_object(
     'kind', c.relkind, 'persistence', c.relpersistence, 'options', c.reloptions,
     'inherits', (SELECT jsonb_agg(i.inhparent::regclass::text ORDER BY i.inhseqno) FROM pg_inherits i WHERE i.inhrelid = c.oid),
     'partition key', pg_get_partkeydef(c.oid), 'partition bound', pg_get_expr(c.relpartbound, c.oid),
     'query', CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END, 'populated', c.relispopulated,
     'columns', ${COLUMNS},
     'constraints', (SELECT jsonb_agg(jsonb_build_array(k.conname, pg_get_constraintdef(k.oid)) ORDER BY k.conname)
        FROM pg_constraint k WHERE k.conrelid = c.oid),
     'indexes', (SELECT jsonb_agg(x.def ORDER BY x.def COLLATE "C")
        FROM (SELECT pg_get_indexdef(i.indexrelid) AS def FROM pg_index i WHERE i.indrelid = c.oid) x),
     'triggers', (SELECT jsonb_agg(jsonb_build_array(pg_get_triggerdef(t.oid), t.tgenabled) ORDER BY t.tgname)
        FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal))`;

export interface OwnedRelation {
  readonly kind: 'table' | 'sequence' | 'view' | 'materialized view';
  /** Schema-qualified, quoted where needed: usable in SQL as is. */
  readonly name: string;
  readonly definition: string;
  /** Whether the relation has rows of its own to hash: plain tables and populated materialized views. */
  readonly hasRows: boolean;
  readonly columns: string[];
  /** Each column's type as format_type renders it, in column order: how its values are hashed (columnHashSql). */
  readonly columnTypes: string[];
  /** Primary key columns in key order; empty without a primary key. */
  readonly primaryKey: string[];
  /** With rows: its size on disk (heap and TOAST), only to schedule the reading, never hashed; 0 otherwise. */
  readonly bytes: number;
  /**
   * With rows: its heap has no page at all, so it holds no row and its content is known without reading it. Exact: a
   * row the snapshot sees is on a page that no vacuum can cut off while the snapshot lasts.
   */
  readonly noPages: boolean;
}

/** A relation with rows of its own to hash: a plain table or a populated materialized view. */
const HAS_ROWS = `(c.relkind = 'r' OR (c.relkind = 'm' AND c.relispopulated))`;

/** Tables (plain, partitioned, foreign), sequences, views and materialized views the role owns; with `names`, only those. */
export function ownedRelations(client: Client, ownerRole: string, names?: readonly string[]): Promise<OwnedRelation[]> {
  return ask<OwnedRelation>(
    client,
    `cannot list the relations owned by ${ownerRole}`,
    `SELECT ${RELATION_KIND} AS kind, format('%I.%I', n.nspname, c.relname) AS name,
            (CASE WHEN c.relkind = 'S' THEN ${SEQUENCE_DEFINITION} ELSE ${RELATION_DEFINITION} END)::text AS definition,
            ${HAS_ROWS} AS "hasRows",
            ARRAY(SELECT a.attname::text FROM pg_attribute a
                   WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum) AS columns,
            ARRAY(SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
                   WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum) AS "columnTypes",
            ARRAY(SELECT a.attname::text FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position)
                   JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                   WHERE i.indrelid = c.oid AND i.indisprimary ORDER BY k.position) AS "primaryKey",
            coalesce(heap.size + coalesce(pg_relation_size(nullif(c.reltoastrelid, 0)), 0), 0)::float8 AS bytes,
            coalesce(heap.size = 0, false) AS "noPages"
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            -- Each size is a lookup of the relation's files: once, and only where rows are read.
            CROSS JOIN LATERAL (SELECT CASE WHEN ${HAS_ROWS} THEN pg_relation_size(c.oid) END AS size) heap
      WHERE c.relowner = ${OWNER} AND c.relkind IN ('r', 'p', 'f', 'S', 'v', 'm') AND ${USER_SCHEMA}
            ${names ? "AND format('%I.%I', n.nspname, c.relname) = ANY($2)" : ''}`,
    names ? [ownerRole, names] : [ownerRole],
  );
}

/** pg_get_functiondef cannot render aggregates; their definition is what CREATE AGGREGATE names. */
const AGGREGATE_DEFINITION = `(SELECT jsonb_build_object('arguments', pg_get_function_arguments(p.oid), 'kind', g.aggkind,
     'transition', g.aggtransfn::text, 'state', format_type(g.aggtranstype, NULL), 'initial', g.agginitval,
     'final', g.aggfinalfn::text, 'combine', g.aggcombinefn::text, 'sort operator', g.aggsortop::regoperator::text)::text
   FROM pg_aggregate g WHERE g.aggfnoid = p.oid)`;

export interface NamedDefinition {
  readonly name: string;
  readonly definition: string;
}

export function ownedFunctions(client: Client, ownerRole: string): Promise<NamedDefinition[]> {
  return ask<NamedDefinition>(
    client,
    `cannot list the functions owned by ${ownerRole}`,
    `SELECT ${FUNCTION_NAME} AS name,
            CASE WHEN p.prokind = 'a' THEN ${AGGREGATE_DEFINITION} ELSE pg_get_functiondef(p.oid) END AS definition
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE p.proowner = ${OWNER} AND ${USER_SCHEMA}`,
    [ownerRole],
  );
}

/** Enums, domains, standalone composite types and ranges (their multiranges come with them). */
export function ownedTypes(client: Client, ownerRole: string): Promise<NamedDefinition[]> {
  return ask<NamedDefinition>(
    client,
    `cannot list the types owned by ${ownerRole}`,
    `SELECT format('%I.%I', n.nspname, t.typname) AS name,
            jsonb_build_object('kind', t.typtype,
              'labels', (SELECT jsonb_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid),
              'base', CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END,
              'not null', t.typnotnull, 'default', pg_get_expr(t.typdefaultbin, 0),
              'collation', (SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_collation co
                             JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = t.typcollation),
              'constraints', (SELECT jsonb_agg(jsonb_build_array(k.conname, pg_get_constraintdef(k.oid)) ORDER BY k.conname)
                               FROM pg_constraint k WHERE k.contypid = t.oid),
              'attributes', (SELECT jsonb_agg(jsonb_build_array(a.attname, format_type(a.atttypid, a.atttypmod), ${COLUMN_COLLATION}) ORDER BY a.attnum)
                              FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped),
              'range', (SELECT jsonb_build_array(format_type(r.rngsubtype, NULL),
                                                 (SELECT format('%I.%I', ocn.nspname, oc.opcname) FROM pg_opclass oc
                                                   JOIN pg_namespace ocn ON ocn.oid = oc.opcnamespace WHERE oc.oid = r.rngsubopc),
                                                 (SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_collation co
                                                   JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = r.rngcollation),
                                                 r.rngcanonical::text, r.rngsubdiff::text, format_type(r.rngmultitypid, NULL))
                          FROM pg_range r WHERE r.rngtypid = t.oid))::text AS definition
       FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE t.typowner = ${OWNER} AND t.typtype IN ('c', 'd', 'e', 'r') AND ${NOT_ROW_TYPE} AND ${NOT_ARRAY_TYPE} AND ${USER_SCHEMA}`,
    [ownerRole],
  );
}

export interface SequenceState {
  readonly lastValue: string;
  readonly isCalled: boolean;
}

/** last_value and is_called of every sequence, in one message (needs SELECT on each: the owner has it). */
export async function sequenceStates(client: Client, sequences: readonly string[]): Promise<Map<string, SequenceState>> {
  const answers = await askEach<{ lastValue: string; isCalled: boolean }>(
    client,
    sequences.map((name) => ({ what: `cannot read the state of sequence ${name}`, sql: `SELECT last_value::text AS "lastValue", is_called AS "isCalled" FROM ${name}` })),
  );
  return new Map(sequences.map((name, index) => [name, answers[index]![0]!]));
}

/**
 * Types whose values are equal exactly when their text is (under the pinned settings), hashed by the type's own
 * extended hash function instead of through their text: rendering numbers is most of the cost of reading a row.
 * A numeric with a declared scale stores every value at that scale, so equal values render alike; an unconstrained
 * numeric keeps its display scale (1.0 is not 1.00), floats tell -0 from 0 in text only, and domains may carry
 * their own meaning: those, and every other type, are hashed by their text.
 */
const HASHED_BY_TYPE: readonly [RegExp, string][] = [
  [/^smallint$/, 'hashint2extended'],
  [/^integer$/, 'hashint4extended'],
  [/^bigint$/, 'hashint8extended'],
  [/^numeric\(\d+,\d+\)$/, 'hash_numeric_extended'],
  [/^timestamp(\(\d\))? without time zone$/, 'timestamp_hash_extended'],
];

/** One column's 64-bit hash seeded with its position; NULL hashes to the position itself, so NULL and '' differ. */
export function columnHashSql(alias: string, column: string, type: string, position: number): string {
  const byType = HASHED_BY_TYPE.find(([pattern]) => pattern.test(type))?.[1];
  const value = `${alias}.${ident(column)}`;
  const hash = byType ? `${byType}(${value}, ${position})` : `hashtextextended(${value}::text COLLATE "C", ${position})`;
  return `coalesce(${hash}, ${position})`;
}

/**
 * One row's 64-bit hash, as an SQL expression over `alias`: the columns' hashes xor'ed across the row. The xor only
 * combines different columns of one row; rows are combined by an exact sum. Per-column hashing is about three times
 * faster than the whole-row record's text, and COLLATE "C" makes text of a nondeterministic collation hash by its bytes.
 */
export function rowHashSql(alias: string, relation: Pick<OwnedRelation, 'columns' | 'columnTypes'>): string {
  if (relation.columns.length === 0) return '0::int8';
  return relation.columns.map((column, index) => columnHashSql(alias, column, relation.columnTypes[index]!, index + 1)).join(' # ');
}

export interface TableContent {
  readonly rows: number;
  /** The exact sum of the rows' hashes, as decimal text. */
  readonly sum: string;
}

/** The content of a table without rows, as the server sums it. */
export const NO_ROWS: TableContent = { rows: 0, sum: '0' };

/** Table data up to this much is read in one message: small tables' reads go together, a larger table's alone. */
export const ONE_MESSAGE_BYTES = 2 ** 20;

/** What a failed read of `relation` says. */
export function readingWhat(relation: OwnedRelation): string {
  return `cannot read ${relation.kind} ${relation.name}`;
}

/**
 * The order-independent multiset hash of each relation's rows, computed by the server in one scan each: the row count
 * and the exact (numeric) sum of the row hashes. A sum, not an xor, so duplicate rows count. ONLY: an inheritance
 * parent's query would include its children's rows, which they carry. A relation without a page is not read (NO_ROWS).
 */
export async function tableContents(client: Client, relations: readonly OwnedRelation[]): Promise<TableContent[]> {
  const read = relations.filter((relation) => !relation.noPages);
  const answers = await askEach<{ rows: string; sum: string }>(
    client,
    read.map((relation) => ({
      what: readingWhat(relation),
      sql: `SELECT count(*) AS rows, coalesce(sum(${rowHashSql('r', relation)}), 0)::text AS sum FROM ONLY ${relation.name} r`,
    })),
  );
  const byName = new Map(read.map((relation, index) => [relation.name, answers[index]![0]!]));
  return relations.map((relation) => {
    const row = byName.get(relation.name);
    return row ? { rows: Number(row.rows), sum: row.sum } : NO_ROWS;
  });
}

/** The objects the owner role does not own (UNOWNED_OBJECTS_SQL), which the snapshot sifts for drift. */
export function unownedObjects(client: Client, ownerRole: string): Promise<DriftObject[]> {
  return ask<DriftObject>(client, `cannot list the objects ${ownerRole} does not own`, UNOWNED_OBJECTS_SQL, [ownerRole]);
}

/** Fails with a plain message when the owner role does not exist (every list would be empty). */
export async function checkRoleExists(client: Client, role: string): Promise<void> {
  const rows = await ask(client, `cannot look up role ${role}`, 'SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
  if (rows.length === 0) throw new SnapshotError(`role "${role}" does not exist in this cluster: name the role that owns the state`);
}
