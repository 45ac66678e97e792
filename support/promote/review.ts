import type { RelationChange, RowChange, RowChanges } from '../lifecycle/diff';
import type { Changeset, RecordedOperation } from './changeset';

/**
 * The review of a changeset, for the human who approves its replay on prod: what was rehearsed and where, the
 * operations sent, what they did to the sandbox (relation by relation, down to rows), and the digest to approve.
 * This module renders it for a terminal, and holds what the HTML page (review-html.ts) shares with it: how the
 * changes are grouped, and how keys, values and operations read. Every text taken from the changeset is shown with
 * its control and invisible characters escaped, so a row value can neither drive the terminal nor hide what it says.
 */

/** The changes of a changeset as the review shows them; a relation can appear in more than one group. */
export interface ReviewSections {
  /** Relations whose content changed, with their rows when the snapshots kept row images. */
  readonly rows: readonly RelationChange[];
  /** Sequences that moved. */
  readonly sequences: readonly RelationChange[];
  /** Relations added, removed or redefined. */
  readonly definitions: readonly RelationChange[];
}

export function reviewSections(changes: readonly RelationChange[]): ReviewSections {
  return {
    rows: changes.filter((change) => change.sequence === undefined && (change.rows !== undefined || change.change === 'content changed')),
    sequences: changes.filter((change) => change.sequence !== undefined),
    definitions: changes.filter((change) => change.change !== 'content changed'),
  };
}

const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;
const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `text` with control characters, bidirectional overrides and zero-width characters written as escapes. */
export function visible(text: string): string {
  return text.replace(INVISIBLE, (char) => NAMED[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A column's value as PostgreSQL rendered it: `NULL` for null, `''` for the empty string, `(absent)` for no such column. */
export function valueText(value: unknown): string {
  if (value === null) return 'NULL';
  if (value === undefined) return '(absent)';
  if (value === '') return "''";
  return visible(typeof value === 'string' ? value : JSON.stringify(value));
}

/** A row's identity, its key columns as `column=value` joined by `,`, e.g. `rowid=12`. */
export function keyText(row: RowChange): string {
  return Object.entries(row.key)
    .map(([column, value]) => `${visible(column)}=${valueText(value)}`)
    .join(',');
}

/** The columns a changed row changed (as the diff listed them, else found by comparing its two images). */
export function changedColumns(row: RowChange): readonly string[] {
  if (row.columns) return row.columns;
  const names = new Set([...Object.keys(row.before ?? {}), ...Object.keys(row.after ?? {})]);
  return [...names].filter((name) => row.before?.[name] !== row.after?.[name]);
}

/** The columns of an added or removed row worth showing: not part of its key, not NULL. */
export function shownColumns(row: RowChange, image: Record<string, unknown> | undefined): readonly string[] {
  return Object.entries(image ?? {})
    .filter(([column, value]) => value !== null && value !== undefined && !Object.hasOwn(row.key, column))
    .map(([column]) => column);
}

export function countsText(rows: RowChanges): string {
  return `${rows.added.length} added, ${rows.removed.length} removed, ${rows.changed.length} changed`;
}

/** An operation's body as one compact line of JSON; empty when it had none. */
export function bodyText(operation: RecordedOperation): string {
  return operation.body === undefined ? '' : visible(JSON.stringify(operation.body));
}

export function sequenceText(change: RelationChange): string {
  const { before, after } = change.sequence!;
  const called = before.isCalled === after.isCalled ? '' : `, is_called ${before.isCalled} → ${after.isCalled}`;
  return visible(`last_value ${before.lastValue} → ${after.lastValue}${called}`);
}

export function approvalCommand(changeset: Changeset, file = '<changeset file>'): string {
  return `rehearse promote ${visible(file)} --approve ${visible(changeset.digest)}`;
}

/** Where the changeset was rehearsed and for which prod, in two sentences' worth of facts. */
export function rehearsalText(changeset: Changeset): { readonly sandbox: string; readonly prod: string } {
  const { rehearsal, prod } = changeset;
  return {
    sandbox: visible(`${rehearsal.host} (instance ${rehearsal.instance}, database ${rehearsal.database}) at ${rehearsal.at} by ${rehearsal.by}`),
    prod: visible(`${prod.host} (instance ${prod.instance}, database ${prod.database})`),
  };
}

/** Values wider than this are cut in the terminal, with an ellipsis. */
const VALUE_WIDTH = 80;
/** How much of the common part stays before the first difference when a changed value had to be cut. */
const CONTEXT = 20;

function excerpt(chars: readonly string[], start: number): string {
  const head = start > 0 ? '…' : '';
  const room = VALUE_WIDTH - head.length;
  if (chars.length - start <= room) return head + chars.slice(start).join('');
  return head + chars.slice(start, start + room - 1).join('') + '…';
}

/** `text` cut to VALUE_WIDTH characters, an ellipsis in place of the rest. */
function clip(text: string): string {
  return excerpt(Array.from(text), 0);
}

/** A changed value's two sides, cut so that the first difference stays in sight. */
function clipPair(before: string, after: string): readonly [string, string] {
  const was = Array.from(before);
  const is = Array.from(after);
  let first = 0;
  while (first < was.length && first < is.length && was[first] === is[first]) first += 1;
  const start = first < VALUE_WIDTH - 1 ? 0 : first - CONTEXT;
  return [excerpt(was, start), excerpt(is, start)];
}

/**
 * Whether to colour what goes to `stream`: FORCE_COLOR=1 (or 2, 3, true) forces colour and FORCE_COLOR=0 (or false)
 * refuses it; otherwise only a TTY is coloured, and only when NO_COLOR is unset or empty (https://no-color.org).
 */
export function shouldColour(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  const force = env.FORCE_COLOR;
  if (force === '1' || force === '2' || force === '3' || force === 'true') return true;
  if (force === '0' || force === 'false') return false;
  return stream.isTTY === true && (env.NO_COLOR ?? '') === '';
}

const STYLES = { bold: '1', dim: '2', red: '31', green: '32', highlight: '1;33' } as const;
type Paint = (style: keyof typeof STYLES, text: string) => string;

function painter(colour: boolean): Paint {
  return colour ? (style, text) => `\u001b[${STYLES[style]}m${text}\u001b[0m` : (_style, text) => text;
}

/** The lines of one row: its key after its sign, then one line per column under it. */
function rowLines(paint: Paint, sign: '+' | '-' | '~', row: RowChange): string[] {
  const colour = sign === '+' ? 'green' : sign === '-' ? 'red' : undefined;
  const line = (text: string) => `    ${colour ? paint(colour, `${sign} ${text}`) : `${sign} ${text}`}`;
  const lines = [line(clip(keyText(row)))];
  if (sign === '~') {
    const columns = changedColumns(row);
    const width = Math.max(0, ...columns.map((column) => visible(column).length));
    for (const column of columns) {
      const [before, after] = clipPair(valueText(row.before?.[column]), valueText(row.after?.[column]));
      lines.push(line(`  ${`${visible(column)}:`.padEnd(width + 1)} ${paint('highlight', before)} → ${paint('highlight', after)}`));
    }
    return lines;
  }
  const image = sign === '+' ? row.after : row.before;
  const columns = shownColumns(row, image);
  const width = Math.max(0, ...columns.map((column) => visible(column).length));
  for (const column of columns) lines.push(line(`  ${`${visible(column)}:`.padEnd(width + 1)} ${clip(valueText(image![column]))}`));
  const nulls = Object.entries(image ?? {}).filter(([column, value]) => value === null && !Object.hasOwn(row.key, column)).length;
  if (nulls > 0) lines.push(line(`  (${nulls} more ${nulls === 1 ? 'column' : 'columns'} NULL)`));
  return lines;
}

function relationLines(paint: Paint, change: RelationChange): string[] {
  const heading = `  ${visible(change.kind)} ${paint('bold', visible(change.name))}  ${visible(change.change)}`;
  if (!change.rows) return [`${heading}  ${paint('dim', '(no row images were kept: its rows cannot be shown)')}`];
  return [
    `${heading}  ${countsText(change.rows)}`,
    ...change.rows.added.flatMap((row) => rowLines(paint, '+', row)),
    ...change.rows.removed.flatMap((row) => rowLines(paint, '-', row)),
    ...change.rows.changed.flatMap((row) => rowLines(paint, '~', row)),
  ];
}

function operationLines(paint: Paint, operations: readonly RecordedOperation[]): string[] {
  if (operations.length === 0) return ['Operations: none'];
  const methods = Math.max(...operations.map((operation) => visible(operation.method).length));
  const paths = Math.max(...operations.map((operation) => visible(operation.path).length));
  return [
    paint('bold', `Operations (${operations.length})`),
    ...operations.map((operation) => {
      const status = visible(String(operation.status));
      return `  ${visible(operation.method).padEnd(methods)}  ${visible(operation.path).padEnd(paths)}  ${operation.status >= 400 ? paint('red', status) : status}  ${bodyText(operation)}`.trimEnd();
    }),
  ];
}

/** The lines of what changed: rows table by table, then the sequences moved, then relations added, removed or redefined. */
function changesLines(paint: Paint, changes: readonly RelationChange[], none: string): string[] {
  const sections = reviewSections(changes);
  const lines: string[] = [];
  if (changes.length === 0) lines.push('', none);
  if (sections.rows.length > 0) {
    lines.push('', paint('bold', `Rows (${sections.rows.length} ${sections.rows.length === 1 ? 'relation' : 'relations'})`));
    for (const change of sections.rows) lines.push(...relationLines(paint, change));
  }
  if (sections.sequences.length > 0) {
    lines.push('', paint('bold', `Sequences (${sections.sequences.length})`));
    for (const change of sections.sequences) lines.push(`  ${visible(change.kind)} ${paint('bold', visible(change.name))}  ${sequenceText(change)}`);
  }
  if (sections.definitions.length > 0) {
    lines.push('', paint('bold', `Relations added, removed or redefined (${sections.definitions.length})`));
    for (const change of sections.definitions) lines.push(`  ${visible(change.kind)} ${paint('bold', visible(change.name))}  ${visible(change.change)}`);
  }
  return lines;
}

/**
 * The review for a terminal: the title and where it was rehearsed, the operations, the rows changed table by table
 * (added `+` in green, removed `-` in red, changed `~` with only the changed columns, their values highlighted), the
 * sequences moved and the relations added, removed or redefined, then the digest and how to approve it. ANSI colours
 * only when `options.colour` (see shouldColour); `options.file` names the changeset in the approval command.
 */
export function renderReviewText(changeset: Changeset, options: { readonly colour: boolean; readonly file?: string }): string {
  const paint = painter(options.colour);
  const where = rehearsalText(changeset);
  return [
    `${paint('bold', 'Changeset')}  ${paint('bold', visible(changeset.title))}`,
    `rehearsed  on ${where.sandbox}`,
    `for prod   ${where.prod}`,
    '',
    ...operationLines(paint, changeset.operations),
    ...changesLines(paint, changeset.changes, 'No change on the sandbox.'),
    '',
    paint('bold', `digest ${visible(changeset.digest)}`),
    `To approve its replay on prod, check the above and run: ${approvalCommand(changeset, options.file)}`,
  ].join('\n');
}

/** Two states compared (`rehearse diff`): which, by name and content hash. */
export interface StatesCompared {
  readonly from: { readonly name: string; readonly root: string };
  readonly to: { readonly name: string; readonly root: string };
  readonly changes: readonly RelationChange[];
}

/** The diff of two states for a terminal, in the review's shape: rows table by table, sequences, relations. */
export function renderDiffText(diff: StatesCompared, options: { readonly colour: boolean }): string {
  const paint = painter(options.colour);
  return [
    `${paint('bold', 'Diff')}  ${visible(diff.from.name)} → ${visible(diff.to.name)}`,
    `from  ${visible(diff.from.root)}`,
    `to    ${visible(diff.to.root)}`,
    ...changesLines(paint, diff.changes, 'The two states are identical.'),
  ].join('\n');
}
