/**
 * Whether prod changed as the rehearsal changed the sandbox: the rehearsed diff and prod's own before/after diff of
 * the promotion, compared "equal modulo generated ids and timestamps". Normalization replaces exactly the values that
 * must differ between the two instances (generated ids, timestamps, provisional refs, the acting user).
 */
import type { RelationChange, RowChange, RowChanges } from '../lifecycle/diff';

export interface DiffComparison {
  readonly equal: boolean;
  /** One line per difference, naming the relation. */
  readonly differences: string[];
}

type Category = keyof RowChanges;

/** A row change normalized: its key and columns as display text, `'before' → 'after'` in the columns it changed. */
interface NormalizedRow {
  readonly category: Category;
  readonly keyColumns: readonly string[];
  readonly values: Readonly<Record<string, string>>;
  readonly changedColumns: readonly string[];
  /** Equal for rows equal once normalized. */
  readonly identity: string;
}

const GENERATED_ID = '<generated id>';
const TIMESTAMP = '<timestamp>';
const ACTING_USER = /^fk_user_(?:author|creat|modif|valid)$/;
/** How a difference names the two diffs compared: the rehearsed one, then the other. */
export type Sides = readonly [string, string];

const ON_PROD: Sides = ['in the rehearsal', 'on prod'];

export function compareDiffs(rehearsed: readonly RelationChange[], onProd: readonly RelationChange[], labels: Sides = ON_PROD): DiffComparison {
  const sandbox = new Map(rehearsed.map((change) => [change.key, change]));
  const prod = new Map(onProd.map((change) => [change.key, change]));
  const generated = [generatedIds(rehearsed), generatedIds(onProd)] as const;
  const keys = [...new Set([...sandbox.keys(), ...prod.keys()])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const differences = keys.flatMap((key) => compareRelation(sandbox.get(key), prod.get(key), generated, labels));
  return { equal: differences.length === 0, differences };
}

function compareRelation(
  rehearsed: RelationChange | undefined,
  onProd: RelationChange | undefined,
  generated: readonly [ReadonlySet<string>, ReadonlySet<string>],
  labels: Sides,
): string[] {
  if (!rehearsed || !onProd) {
    const { name, change } = (rehearsed ?? onProd)!;
    return [`${name}: ${change} ${rehearsed ? labels[0] : labels[1]}, unchanged ${rehearsed ? labels[1] : labels[0]}`];
  }
  const { name } = rehearsed;
  if (rehearsed.change !== onProd.change) return [`${name}: ${rehearsed.change} ${labels[0]}, ${onProd.change} ${labels[1]}`];
  if (rehearsed.sequence && onProd.sequence) return compareSequences(name, rehearsed.sequence, onProd.sequence, labels);
  if (rehearsed.rows && onProd.rows) {
    return (['added', 'removed', 'changed'] as const).flatMap((category) =>
      compareRows(name, category, normalizeAll(rehearsed.rows![category], category, generated[0]), normalizeAll(onProd.rows![category], category, generated[1]), labels),
    );
  }
  // Without row images or sequence values a change cannot be shown equal, save a removal on both sides.
  if (rehearsed.change === 'removed') return [];
  return [`${name}: ${rehearsed.change} on both sides, but without row images or sequence values on both sides it cannot be compared`];
}

type SequenceChange = NonNullable<RelationChange['sequence']>;

/** How many values a sequence has handed out: last_value counts once is_called is set. */
function position(state: SequenceChange['before']): bigint {
  return BigInt(state.lastValue) - (state.isCalled ? 0n : 1n);
}

/**
 * A sequence must move by the same amount on both sides, not to the same value: prod's sequences were ahead of or
 * behind the sandbox's. An increment of 1 is assumed, as Dolibarr's serials have. An operation that failed on the
 * sandbox after taking a value is not replayed (replay-plan.ts), so that sequence shows as having moved less on prod.
 */
function compareSequences(name: string, rehearsed: SequenceChange, onProd: SequenceChange, labels: Sides): string[] {
  const moved = [position(rehearsed.after) - position(rehearsed.before), position(onProd.after) - position(onProd.before)];
  return moved[0] === moved[1] ? [] : [`${name}: moved by ${moved[0]} ${labels[0]}, by ${moved[1]} ${labels[1]}`];
}

/**
 * The single-column key values, integers, of the rows added on one side: the ids that side's sequences generated
 * (composite keys are references, not generated). They are not told apart by table: a reference to an existing row
 * whose id equals one generated on that side is replaced there only, a false alarm rather than a false match.
 */
function generatedIds(changes: readonly RelationChange[]): Set<string> {
  const ids = new Set<string>();
  for (const row of changes.flatMap((change) => change.rows?.added ?? [])) {
    const id = ownId(row);
    if (id !== undefined) ids.add(id);
  }
  return ids;
}

function ownId(row: RowChange): string | undefined {
  const values = Object.values(row.key);
  if (values.length !== 1) return undefined;
  const text = typeof values[0] === 'number' ? String(values[0]) : values[0];
  return typeof text === 'string' && /^\d+$/.test(text) ? text : undefined;
}

/** A reference column, where a generated id is replaced in any row; a reference to a row both sides had is compared. */
function isReference(column: string): boolean {
  return column.startsWith('fk_') || column.endsWith('_id') || column === 'socid';
}

function quoted(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  return typeof value === 'string' ? `'${value.replaceAll("'", "''")}'` : JSON.stringify(value);
}

/**
 * One value as display text, generated ids, timestamps and provisional refs replaced. Timestamps are values with a
 * time of day in `tms` or `date*` columns (when the rehearsal or the replay ran): plain dates and NULLs are kept.
 * A provisional ref `(PROV<n>)` is derived by Dolibarr from the rowid. The acting user is the user behind the API key:
 * the agent in the rehearsal, promote's own user on prod (a separate credential), so never the same. A generated id
 * is replaced in any column of the row it identifies (agenda events' `ref` holds it) and in reference columns.
 */
function normalizeValue(column: string, value: unknown, own: string | undefined, generated: ReadonlySet<string>): string {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string') return quoted(value);
  if ((column === 'tms' || column.startsWith('date')) && /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}/.test(text)) return TIMESTAMP;
  if (column === 'ref' && /^\(PROV\d+\)$/.test(text)) return `(PROV${GENERATED_ID})`;
  if (ACTING_USER.test(column)) return '<acting user>';
  if (generated.has(text) && (text === own || isReference(column))) return GENERATED_ID;
  return quoted(value);
}

function normalizeImage(image: Record<string, unknown>, own: string | undefined, generated: ReadonlySet<string>): Record<string, string> {
  return Object.fromEntries(Object.entries(image).map(([column, value]) => [column, normalizeValue(column, value, own, generated)]));
}

function normalize(row: RowChange, category: Category, generated: ReadonlySet<string>): NormalizedRow {
  const own = category === 'added' ? ownId(row) : undefined;
  const before = normalizeImage(row.before ?? {}, own, generated);
  const after = normalizeImage(row.after ?? {}, own, generated);
  const columns = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const changedColumns = category === 'changed' ? columns.filter((column) => before[column] !== after[column]) : [];
  const values = Object.fromEntries(
    columns.map((column) => {
      if (category === 'added') return [column, after[column]];
      if (category === 'removed') return [column, before[column]];
      return [column, changedColumns.includes(column) ? `${before[column] ?? '(no such column)'} → ${after[column] ?? '(no such column)'}` : after[column]];
    }),
  );
  const keyColumns = Object.keys(row.key).length < columns.length ? Object.keys(row.key).sort() : [];
  return { category, keyColumns, values, changedColumns, identity: JSON.stringify(columns.map((column) => [column, values[column]])) };
}

function normalizeAll(rows: readonly RowChange[], category: Category, generated: ReadonlySet<string>): NormalizedRow[] {
  return rows.map((row) => normalize(row, category, generated));
}

/** The rows of `rows` with no equal row in `others`, each matched at most once. */
function unmatched(rows: readonly NormalizedRow[], others: readonly NormalizedRow[]): NormalizedRow[] {
  const available = new Map<string, number>();
  for (const row of others) available.set(row.identity, (available.get(row.identity) ?? 0) + 1);
  return rows.filter((row) => {
    const count = available.get(row.identity) ?? 0;
    if (count > 0) available.set(row.identity, count - 1);
    return count === 0;
  });
}

function rowsOf(count: number): string {
  return `${count} ${count === 1 ? 'row' : 'rows'}`;
}

function keyText(row: NormalizedRow): string {
  return row.keyColumns.map((column) => `${column}=${row.values[column]}`).join(' ');
}

/** A row on one line: an added or removed row's non-NULL columns; a changed row's key and the columns it changed. */
function shown(row: NormalizedRow): string {
  const columns = row.category === 'changed' ? [...row.keyColumns, ...row.changedColumns] : Object.keys(row.values).filter((column) => row.values[column] !== 'NULL');
  return columns.map((column) => `${column}=${row.values[column]}`).join(' ');
}

/**
 * The rows of one category that differ, compared as multisets of normalized rows (a changed row by its before and
 * after images, so a row that differed on prod before the promotion shows): the counts when they do, then the rows
 * left without an equal on the other side, grouped by key: a row alone on each side under the same key by the columns
 * that differ, others one by one.
 */
function compareRows(name: string, category: Category, rehearsed: readonly NormalizedRow[], onProd: readonly NormalizedRow[], labels: Sides): string[] {
  const differences = rehearsed.length === onProd.length ? [] : [`${name}: ${rowsOf(rehearsed.length)} ${category} ${labels[0]}, ${onProd.length} ${labels[1]}`];
  const sides = [unmatched(rehearsed, onProd), unmatched(onProd, rehearsed)];
  for (const key of new Set(sides.flat().map(keyText))) {
    const underKey = sides.map((rows) => rows.filter((row) => keyText(row) === key));
    const [rehearsedRows, prodRows] = underKey;
    if (rehearsedRows.length === 1 && prodRows.length === 1) {
      differences.push(`${name}: row ${category}${key === '' ? '' : ` ${key}`} differs: ${columnDifferences(rehearsedRows[0], prodRows[0], labels)}`);
    } else {
      underKey.forEach((rows, side) => differences.push(...rows.map((row) => `${name}: row ${category} ${labels[side]} only: ${shown(row)}`)));
    }
  }
  return differences;
}

function columnDifferences(rehearsed: NormalizedRow, onProd: NormalizedRow, labels: Sides): string {
  const columns = [...new Set([...Object.keys(rehearsed.values), ...Object.keys(onProd.values)])].sort();
  return columns
    .filter((column) => rehearsed.values[column] !== onProd.values[column])
    .map((column) => `${column} ${rehearsed.values[column] ?? '(no such column)'} ${labels[0]}, ${onProd.values[column] ?? '(no such column)'} ${labels[1]}`)
    .join('; ');
}
