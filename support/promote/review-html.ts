import type { RelationChange, RowChange } from '../lifecycle/diff';
import type { Changeset, RecordedOperation } from './changeset';
import {
  approvalCommand,
  bodyText,
  changedColumns,
  countsText,
  keyText,
  rehearsalText,
  reviewSections,
  sequenceText,
  shownColumns,
  valueText,
  visible,
  type StatesCompared,
} from './review';

/**
 * The review of a changeset as one self-contained HTML page, for the human who approves its replay on prod: the
 * same content as the terminal review (review.ts), in full (no value is cut), with inline CSS and nothing else — no
 * script, no external resource, and a Content-Security-Policy that would refuse them. Every text taken from the
 * changeset is HTML-escaped.
 */

const CSS = `
:root { color-scheme: light; --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --added: #dafbe1; --removed: #ffebe9; --changed: #fff3b0; }
* { box-sizing: border-box; }
body { margin: 0; padding: 2rem 2.5rem 3rem; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #fff; }
header { border-bottom: 1px solid var(--line); padding-bottom: 1rem; margin-bottom: 1.5rem; }
.eyebrow { margin: 0; color: var(--muted); text-transform: uppercase; letter-spacing: .08em; font-size: .8rem; }
h1 { margin: .2rem 0 1rem; font-size: 1.6rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; }
.kind { color: var(--muted); font-weight: normal; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1.25rem; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
code { font: 13px/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; overflow-wrap: anywhere; }
#digest { font-weight: bold; }
.approve { margin: 1rem 0 0; padding: .6rem .9rem; background: #f6f8fa; border: 1px solid var(--line); border-radius: 6px; }
.summary { margin: 0 0 .5rem; color: var(--muted); }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: .3rem .55rem; text-align: left; vertical-align: top; }
thead th { background: #f6f8fa; font-weight: 600; white-space: nowrap; }
td, th[scope="row"] { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; max-width: 32rem; overflow-wrap: anywhere; }
td.sign { text-align: center; font-weight: bold; width: 1.5rem; }
tr.added td, tr.added th { background: var(--added); }
tr.removed td, tr.removed th { background: var(--removed); }
tr.removed td:not(.sign) { text-decoration: line-through; text-decoration-color: #cf222e80; }
td.changed { background: var(--changed); font-weight: 600; }
td.changed .before { color: #82071e; }
td.changed .after { color: #116329; }
td.null { color: var(--muted); font-style: italic; }
td.failed { color: #cf222e; font-weight: bold; }
.note { color: var(--muted); font-style: italic; }
ul.definitions { padding-left: 1.2rem; }
footer { margin-top: 2.5rem; padding-top: 1rem; border-top: 1px solid var(--line); color: var(--muted); }
`;

/** `text` safe as HTML text and as a double- or single-quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** Shown text (see `visible`), escaped. */
function html(text: string): string {
  return escapeHtml(visible(text));
}

function operationRow(operation: RecordedOperation): string {
  const status = operation.status >= 400 ? ' class="failed"' : '';
  return (
    `<tr><td>${html(operation.method)}</td><td><code>${html(operation.path)}</code></td>` +
    `<td${status}>${html(String(operation.status))}</td><td><code>${escapeHtml(bodyText(operation))}</code></td></tr>`
  );
}

function operationsSection(operations: readonly RecordedOperation[]): string {
  if (operations.length === 0) return '<section class="operations"><h2>Operations</h2><p class="note">None.</p></section>';
  return (
    `<section class="operations"><h2>Operations (${operations.length})</h2>` +
    '<table><thead><tr><th>Method</th><th>Path</th><th>Status</th><th>Body</th></tr></thead>' +
    `<tbody>${operations.map(operationRow).join('')}</tbody></table></section>`
  );
}

/** The columns of a relation's grid: those any of its rows shows, in the order they first appear. */
function gridColumns(change: RelationChange): readonly string[] {
  const rows = change.rows!;
  return [
    ...new Set([
      ...rows.added.flatMap((row) => shownColumns(row, row.after)),
      ...rows.removed.flatMap((row) => shownColumns(row, row.before)),
      ...rows.changed.flatMap(changedColumns),
    ]),
  ];
}

function valueCell(image: Record<string, unknown> | undefined, column: string): string {
  if (!image || !Object.hasOwn(image, column)) return '<td></td>';
  const value = image[column];
  return `<td${value === null ? ' class="null"' : ''}>${escapeHtml(valueText(value))}</td>`;
}

function changedCell(row: RowChange, column: string): string {
  return (
    `<td class="changed"><span class="before">${escapeHtml(valueText(row.before?.[column]))}</span> → ` +
    `<span class="after">${escapeHtml(valueText(row.after?.[column]))}</span></td>`
  );
}

function gridRow(kind: 'added' | 'removed' | 'changed', row: RowChange, columns: readonly string[]): string {
  const key = keyText(row);
  const sign = kind === 'added' ? '+' : kind === 'removed' ? '−' : '~';
  const changed = kind === 'changed' ? new Set(changedColumns(row)) : undefined;
  const cells = columns.map((column) => {
    if (changed) return changed.has(column) ? changedCell(row, column) : '<td></td>';
    return valueCell(kind === 'added' ? row.after : row.before, column);
  });
  return `<tr class="${kind}" data-key="${escapeHtml(key)}"><td class="sign">${sign}</td><th scope="row">${escapeHtml(key)}</th>${cells.join('')}</tr>`;
}

function relationSection(change: RelationChange): string {
  const heading = `<h2><span class="kind">${html(change.kind)}</span> ${html(change.name)}</h2>`;
  const open = `<section class="relation" data-relation="${html(change.name)}">${heading}`;
  if (!change.rows) return `${open}<p class="summary">${html(change.change)}; no row images were kept: its rows cannot be shown.</p></section>`;
  const columns = gridColumns(change);
  const head = `<thead><tr><th></th><th>key</th>${columns.map((column) => `<th>${html(column)}</th>`).join('')}</tr></thead>`;
  const body = [
    ...change.rows.added.map((row) => gridRow('added', row, columns)),
    ...change.rows.removed.map((row) => gridRow('removed', row, columns)),
    ...change.rows.changed.map((row) => gridRow('changed', row, columns)),
  ];
  return (
    `${open}<p class="summary">${html(change.change)}: ${countsText(change.rows)}. Added and removed rows show their columns that are not NULL; ` +
    `changed rows only their changed columns.</p><div class="scroll"><table class="rows">${head}<tbody>${body.join('')}</tbody></table></div></section>`
  );
}

function sequencesSection(sequences: readonly RelationChange[]): string {
  const rows = sequences.map(
    (change) => `<tr data-relation="${html(change.name)}"><th scope="row">${html(change.name)}</th><td>${escapeHtml(sequenceText(change))}</td></tr>`,
  );
  return `<section class="sequences"><h2>Sequences moved (${sequences.length})</h2><table><tbody>${rows.join('')}</tbody></table></section>`;
}

function definitionsSection(definitions: readonly RelationChange[]): string {
  const items = definitions.map(
    (change) => `<li data-relation="${html(change.name)}"><span class="kind">${html(change.kind)}</span> <code>${html(change.name)}</code>: ${html(change.change)}</li>`,
  );
  return `<section class="definitions"><h2>Relations added, removed or redefined (${definitions.length})</h2><ul class="definitions">${items.join('')}</ul></section>`;
}

/** What changed: one section per relation whose rows changed, then the sequences moved, then the relations redefined. */
function changesSections(changes: readonly RelationChange[], none: string): string[] {
  const sections = reviewSections(changes);
  return [
    changes.length === 0 ? `<p class="note">${escapeHtml(none)}</p>` : '',
    ...sections.rows.map(relationSection),
    sections.sequences.length > 0 ? sequencesSection(sections.sequences) : '',
    sections.definitions.length > 0 ? definitionsSection(sections.definitions) : '',
  ];
}

/** A self-contained page: no script, no outside resource (its Content-Security-Policy allows none). */
function page(title: string, body: readonly string[]): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${html(title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    `<body>${body.filter(Boolean).join('\n')}</body>`,
    '</html>',
    '',
  ].join('\n');
}

/**
 * The review page: a header with the title, where it was rehearsed, for which prod and the digest (`code#digest`);
 * the operations; one `section.relation[data-relation]` per relation whose rows changed, its rows in a table
 * (`tr.added|removed|changed[data-key]`, changed cells `td.changed` showing before → after); the sequences moved;
 * the relations added, removed or redefined; and how to approve. `options.file` names the changeset in the
 * approval command.
 */
export function renderReviewHtml(changeset: Changeset, options: { readonly file?: string } = {}): string {
  const where = rehearsalText(changeset);
  const approve = `<p class="approve">Approve its replay on prod with <code>${escapeHtml(approvalCommand(changeset, options.file))}</code></p>`;
  return page(`Review: ${changeset.title}`, [
    '<header><p class="eyebrow">Changeset review</p>',
    `<h1>${html(changeset.title)}</h1>`,
    '<dl class="facts">',
    `<dt>Rehearsed on</dt><dd>${escapeHtml(where.sandbox)}</dd>`,
    `<dt>For prod</dt><dd>${escapeHtml(where.prod)}</dd>`,
    `<dt>Digest</dt><dd><code id="digest">${html(changeset.digest)}</code></dd>`,
    `</dl>${approve}</header>`,
    '<main>',
    operationsSection(changeset.operations),
    ...changesSections(changeset.changes, 'No change on the sandbox.'),
    '</main>',
    `<footer>${approve}</footer>`,
  ]);
}

/** The diff of two states as a page, in the review's shape (the same sections, classes and data attributes). */
export function renderDiffHtml(diff: StatesCompared): string {
  return page(`Diff: ${diff.from.name} → ${diff.to.name}`, [
    '<header><p class="eyebrow">Diff of two states</p>',
    `<h1>${html(diff.from.name)} → ${html(diff.to.name)}</h1>`,
    '<dl class="facts">',
    `<dt>From</dt><dd><code id="from">${html(diff.from.root)}</code></dd>`,
    `<dt>To</dt><dd><code id="to">${html(diff.to.root)}</code></dd>`,
    '</dl></header>',
    '<main>',
    ...changesSections(diff.changes, 'The two states are identical.'),
    '</main>',
  ]);
}
