import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CHANGESET_FORMAT, digestOf, type Changeset, type ChangesetContent } from '../support/promote/changeset';
import { renderReviewText, shouldColour } from '../support/promote/review';
import { renderReviewHtml } from '../support/promote/review-html';

const LONG_NOTE = `${'x'.repeat(100)}END`;

/** A rehearsal that created one thirdparty, renamed another, deleted a third, and redefined a view. */
function changeset(overrides: Partial<ChangesetContent> = {}): Changeset {
  const content: ChangesetContent = {
    format: CHANGESET_FORMAT,
    title: 'Create ACME, rename Globex, delete Initech',
    rehearsal: { host: 'erp-sandbox.example.test', instance: 'erp', database: 'dolibarr_sandbox', at: '2025-05-02T10:00:00Z', by: 'alice' },
    prod: { instance: 'erp', host: 'erp.example.test', database: 'dolibarr' },
    operations: [
      { method: 'POST', path: '/thirdparties', body: { name: 'ACME', client: 1 }, status: 200, response: 13 },
      { method: 'PUT', path: '/thirdparties/12', body: { name: 'Globex Corporation' }, status: 200, response: { id: 12 } },
      { method: 'DELETE', path: '/thirdparties/7', status: 200, response: { success: { code: 200 } } },
    ],
    before: { root: 'r1', relations: {} },
    after: { root: 'r2', relations: {} },
    changes: [
      {
        key: 'table public.llx_societe',
        kind: 'table',
        name: 'public.llx_societe',
        change: 'content changed',
        rows: {
          added: [{ key: { rowid: '13' }, after: { rowid: '13', nom: 'ACME', client: '1', note_private: LONG_NOTE, fax: null } }],
          removed: [{ key: { rowid: '7' }, before: { rowid: '7', nom: 'Initech', client: '0', note_private: null, fax: null } }],
          changed: [
            {
              key: { rowid: '12' },
              before: { rowid: '12', nom: 'Globex', client: '1', note_private: '<script>alert(1)</script>', fax: null },
              after: { rowid: '12', nom: 'Globex Corporation', client: '1', note_private: '<script>alert(1)</script>', fax: null },
              columns: ['nom'],
            },
          ],
        },
      },
      {
        key: 'table public.llx_societe_extrafields',
        kind: 'table',
        name: 'public.llx_societe_extrafields',
        change: 'content changed',
        rows: { added: [{ key: { rowid: '5' }, after: { rowid: '5', fk_object: '13', siren: '<script>x</script>' } }], removed: [], changed: [] },
      },
      {
        key: 'sequence public.llx_societe_rowid_seq',
        kind: 'sequence',
        name: 'public.llx_societe_rowid_seq',
        change: 'content changed',
        sequence: { before: { lastValue: '12', isCalled: true }, after: { lastValue: '13', isCalled: true } },
      },
      { key: 'view public.llx_v_thirdparties', kind: 'view', name: 'public.llx_v_thirdparties', change: 'definition changed' },
    ],
    ...overrides,
  };
  return { ...content, digest: digestOf(content) };
}

const ESC = '\u001b[';

describe('terminal review', () => {
  const plain = renderReviewText(changeset(), { colour: false, file: 'changes/acme.json' });

  it('names what was rehearsed, where, when and by whom', () => {
    assert.match(plain, /Create ACME, rename Globex, delete Initech/);
    assert.match(plain, /erp-sandbox\.example\.test \(instance erp, database dolibarr_sandbox\) at 2025-05-02T10:00:00Z by alice/);
    assert.match(plain, /for prod\s+erp\.example\.test/);
  });

  it('lists the operations with their status and body as one line of JSON', () => {
    assert.match(plain, /^ {2}POST\s+\/thirdparties\s+200 {2}\{"name":"ACME","client":1\}$/m);
    assert.match(plain, /^ {2}PUT\s+\/thirdparties\/12\s+200 {2}\{"name":"Globex Corporation"\}$/m);
    assert.match(plain, /^ {2}DELETE\s+\/thirdparties\/7\s+200$/m);
  });

  it('groups the rows by table, with each table’s change kind and counts', () => {
    const societe = plain.indexOf('table public.llx_societe  content changed  1 added, 1 removed, 1 changed');
    const extrafields = plain.indexOf('table public.llx_societe_extrafields  content changed  1 added, 0 removed, 0 changed');
    assert.ok(societe >= 0 && extrafields > societe, plain);
    const societeRows = plain.slice(societe, extrafields);
    assert.match(societeRows, /^ {4}\+ rowid=13$/m);
    assert.match(societeRows, /^ {4}\+ {3}nom: +ACME$/m);
    assert.match(societeRows, /^ {4}- rowid=7$/m);
    assert.match(societeRows, /^ {4}- {3}nom: +Initech$/m);
    assert.match(societeRows, /^ {4}~ rowid=12$/m);
    assert.match(plain.slice(extrafields), /^ {4}\+ {3}fk_object: +13$/m);
  });

  it('shows only the changed columns of a changed row, as before → after', () => {
    assert.match(plain, /^ {4}~ {3}nom: Globex → Globex Corporation$/m);
    const changedRow = plain.slice(plain.indexOf('~ rowid=12'));
    assert.doesNotMatch(changedRow.split('\n').slice(0, 3).join('\n'), /client|note_private/);
  });

  it('leaves NULL columns of added and removed rows out, counting them', () => {
    assert.match(plain, /^ {4}\+ {3}\(1 more column NULL\)$/m);
    assert.match(plain, /^ {4}- {3}\(2 more columns NULL\)$/m);
  });

  it('shows sequences moved and relations redefined', () => {
    assert.match(plain, /^ {2}sequence public\.llx_societe_rowid_seq {2}last_value 12 → 13$/m);
    assert.match(plain, /^ {2}view public\.llx_v_thirdparties {2}definition changed$/m);
  });

  it('ends with the digest and how to approve it', () => {
    const { digest } = changeset();
    assert.match(digest, /^sha256:[0-9a-f]{64}$/);
    const lines = plain.split('\n');
    assert.equal(lines.at(-2), `digest ${digest}`);
    assert.match(lines.at(-1)!, new RegExp(`rehearse promote changes/acme\\.json --approve ${digest}$`));
  });

  it('cuts values longer than 80 characters with an ellipsis', () => {
    const line = plain.split('\n').find((candidate) => candidate.includes('note_private:'))!;
    const value = line.slice(line.indexOf('note_private:') + 'note_private:'.length).trim();
    assert.equal(Array.from(value).length, 80);
    assert.ok(value.endsWith('…'), value);
    assert.ok(!plain.includes('END'), 'the end of the long value is cut');
  });

  it('keeps the first difference of a long changed value in sight', () => {
    const long = changeset({
      changes: [
        {
          key: 'table public.t',
          kind: 'table',
          name: 'public.t',
          change: 'content changed',
          rows: { added: [], removed: [], changed: [{ key: { id: '1' }, before: { id: '1', v: `${'a'.repeat(120)}OLD` }, after: { id: '1', v: `${'a'.repeat(120)}NEW` }, columns: ['v'] }] },
        },
      ],
    });
    assert.match(renderReviewText(long, { colour: false }), /v: …a+OLD → …a+NEW$/m);
  });

  it('has no ANSI sequence at all when not coloured', () => {
    assert.ok(!plain.includes(ESC));
  });

  it('escapes control characters of values, so a value cannot drive the terminal', () => {
    const hostile = changeset({ title: 'evil \u001b[2J\u202etitle\nsecond line' });
    const text = renderReviewText(hostile, { colour: false });
    assert.ok(!text.includes(ESC));
    assert.match(text, /evil \\u001b\[2J\\u202etitle\\nsecond line/);
  });

  it('in colour, adds in green, removes in red and highlights the changed values', () => {
    const colour = renderReviewText(changeset(), { colour: true });
    assert.ok(colour.includes(`${ESC}32m+ rowid=13${ESC}0m`), colour);
    assert.ok(colour.includes(`${ESC}31m- rowid=7${ESC}0m`), colour);
    assert.ok(colour.includes(`nom: ${ESC}1;33mGlobex${ESC}0m → ${ESC}1;33mGlobex Corporation${ESC}0m`), colour);
  });

  it('says so when nothing changed or no row images were kept', () => {
    assert.match(renderReviewText(changeset({ changes: [], operations: [] }), { colour: false }), /Operations: none[\s\S]*No change on the sandbox\./);
    const imageless = changeset({ changes: [{ key: 'table public.t', kind: 'table', name: 'public.t', change: 'content changed' }] });
    assert.match(renderReviewText(imageless, { colour: false }), /table public\.t {2}content changed {2}\(no row images were kept/);
  });
});

describe('when to colour', () => {
  const tty = { isTTY: true };
  const pipe = { isTTY: false };

  it('colours a TTY when NO_COLOR is unset or empty', () => {
    assert.equal(shouldColour(tty, {}), true);
    assert.equal(shouldColour(tty, { NO_COLOR: '' }), true);
  });

  it('does not colour when NO_COLOR is set, or off a TTY', () => {
    assert.equal(shouldColour(tty, { NO_COLOR: '1' }), false);
    assert.equal(shouldColour(pipe, {}), false);
    assert.equal(shouldColour({}, {}), false);
  });

  it('lets FORCE_COLOR=1 force colour, and FORCE_COLOR=0 refuse it', () => {
    assert.equal(shouldColour(pipe, { FORCE_COLOR: '1' }), true);
    assert.equal(shouldColour(tty, { FORCE_COLOR: '1', NO_COLOR: '1' }), true);
    assert.equal(shouldColour(tty, { FORCE_COLOR: '0' }), false);
  });
});

describe('HTML review', () => {
  const page = renderReviewHtml(changeset(), { file: 'changes/acme.json' });
  const section = (relation: string) => {
    const match = new RegExp(`<section class="relation" data-relation="${relation.replace(/\./g, '\\.')}">([\\s\\S]*?)</section>`).exec(page);
    assert.ok(match, `no section for ${relation}`);
    return match[1]!;
  };

  it('is one self-contained page: utf-8, inline CSS, no script, no external resource', () => {
    assert.match(page, /^<!DOCTYPE html>/);
    assert.match(page, /<meta charset="utf-8">/);
    assert.match(page, /<style>[\s\S]+<\/style>/);
    assert.doesNotMatch(page, /<script|<link|<img|src=|href=|@import|url\(/i);
  });

  it('shows the title, the rehearsal and the digest', () => {
    const { digest } = changeset();
    assert.match(page, /<h1>Create ACME, rename Globex, delete Initech<\/h1>/);
    assert.match(page, /erp-sandbox\.example\.test \(instance erp, database dolibarr_sandbox\) at 2025-05-02T10:00:00Z by alice/);
    assert.ok(page.includes(`<code id="digest">${digest}</code>`));
    assert.ok(page.includes(`rehearse promote changes/acme.json --approve ${digest}`));
  });

  it('lists the operations in a table', () => {
    assert.match(page, /<tr><td>POST<\/td><td><code>\/thirdparties<\/code><\/td><td>200<\/td><td><code>\{&#34;name&#34;:&#34;ACME&#34;,&#34;client&#34;:1\}<\/code><\/td><\/tr>/);
    assert.match(page, /<tr><td>DELETE<\/td><td><code>\/thirdparties\/7<\/code><\/td><td>200<\/td><td><code><\/code><\/td><\/tr>/);
  });

  it('gives each changed table its section, its rows marked added, removed or changed by key', () => {
    const societe = section('public.llx_societe');
    assert.match(societe, /<h2><span class="kind">table<\/span> public\.llx_societe<\/h2>/);
    assert.match(societe, /1 added, 1 removed, 1 changed/);
    assert.match(societe, /<tr class="added" data-key="rowid=13">.*<th scope="row">rowid=13<\/th>.*<td>ACME<\/td>/);
    assert.match(societe, /<tr class="removed" data-key="rowid=7">.*<td>Initech<\/td>/);
    assert.match(societe, /<tr class="changed" data-key="rowid=12">/);
    assert.match(section('public.llx_societe_extrafields'), /<tr class="added" data-key="rowid=5">/);
  });

  it('marks the changed cells, showing before → after, and only those', () => {
    const changedRow = /<tr class="changed" data-key="rowid=12">(.*?)<\/tr>/.exec(section('public.llx_societe'))![1]!;
    assert.match(changedRow, /<td class="changed"><span class="before">Globex<\/span> → <span class="after">Globex Corporation<\/span><\/td>/);
    assert.equal(changedRow.match(/class="changed"/g)!.length, 1);
    assert.doesNotMatch(changedRow, /script/, 'an unchanged column of a changed row is not shown');
  });

  it('shows values in full', () => {
    assert.ok(page.includes(LONG_NOTE));
  });

  it('escapes every value', () => {
    assert.ok(!page.includes('<script>'), 'a row value is never markup');
    assert.ok(page.includes('&#60;script&#62;x&#60;/script&#62;'));
    const hostile = renderReviewHtml(changeset({ title: '</title><script>alert(1)</script>', rehearsal: { ...changeset().rehearsal, by: '"><img src=x>' } }));
    assert.ok(!hostile.includes('<script>') && !hostile.includes('<img'));
    assert.ok(hostile.includes('&#60;/title&#62;&#60;script&#62;alert(1)&#60;/script&#62;'));
  });

  it('has sections for the sequences moved and the relations redefined', () => {
    assert.match(page, /<section class="sequences">.*<tr data-relation="public\.llx_societe_rowid_seq"><th scope="row">public\.llx_societe_rowid_seq<\/th><td>last_value 12 → 13<\/td><\/tr>/);
    assert.match(page, /<section class="definitions">.*<li data-relation="public\.llx_v_thirdparties">.*definition changed<\/li>/);
    assert.doesNotMatch(page, /<section class="relation" data-relation="public\.llx_(societe_rowid_seq|v_thirdparties)"/);
  });
});
