import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RelationChange, RowChange, RowChanges } from '../support/lifecycle/diff';
import { compareDiffs } from '../support/promote/compare';

function table(name: string, rows: Partial<RowChanges>): RelationChange {
  return { key: `table ${name}`, kind: 'table', name, change: 'content changed', rows: { added: [], removed: [], changed: [], ...rows } };
}

function sequence(name: string, before: [string, boolean], after: [string, boolean]): RelationChange {
  return {
    key: `sequence ${name}`,
    kind: 'sequence',
    name,
    change: 'content changed',
    sequence: { before: { lastValue: before[0], isCalled: before[1] }, after: { lastValue: after[0], isCalled: after[1] } },
  };
}

function added(row: Record<string, string | null>, key = 'rowid'): RowChange {
  return { key: { [key]: row[key] }, after: row };
}

/** One side of a promotion: a thirdparty, its supplier invoice with two lines, the agenda event, the sequences moved. */
interface Side {
  readonly thirdparty: string;
  readonly invoice: string;
  readonly lines: readonly [string, string];
  readonly event: string;
  readonly at: string;
  readonly sequencesFrom: number;
}

const SANDBOX: Side = { thirdparty: '1234', invoice: '88', lines: ['301', '302'], event: '40', at: '2026-05-01 10:00:00.123456+00', sequencesFrom: 1233 };
const PROD: Side = { thirdparty: '5678', invoice: '4321', lines: ['9001', '9002'], event: '7000', at: '2026-05-03 16:42:07.5+00', sequencesFrom: 5677 };

function thirdparty(side: Side): Record<string, string | null> {
  return { rowid: side.thirdparty, nom: 'ACME', fournisseur: '1', code_fournisseur: 'SU2605-0001', fk_pays: '1', datec: side.at, tms: side.at, import_key: null };
}

function invoice(side: Side, total = '15.00000000'): Record<string, string | null> {
  return {
    rowid: side.invoice,
    ref: `(PROV${side.invoice})`,
    ref_supplier: 'F-2026-001',
    fk_soc: side.thirdparty,
    datef: '2026-05-01',
    date_lim_reglement: null,
    total_ht: total,
    fk_user_author: '1',
    datec: side.at,
    tms: side.at,
  };
}

function line(side: Side, n: 0 | 1, product: string, qty: string, total: string): Record<string, string | null> {
  return { rowid: side.lines[n], fk_facture_fourn: side.invoice, fk_product: product, qty, total_ht: total, date_start: null };
}

function event(side: Side): Record<string, string | null> {
  return { id: side.event, ref: side.event, code: 'AC_BILL_SUPPLIER_CREATE', fk_soc: side.thirdparty, fk_element: side.invoice, elementtype: 'invoice_supplier', datep: side.at };
}

/** The diff of one side; `edit` changes a row before it is put in. */
function promotion(side: Side, edit: { total?: string; extraLine?: boolean; moved?: number; withoutEvent?: boolean } = {}): RelationChange[] {
  const lines = [added(line(side, 0, '7', '2', '10.00000000')), added(line(side, 1, '501', '1', '5.00000000'))];
  if (edit.extraLine) lines.push(added({ ...line(side, 1, '501', '1', '5.00000000'), rowid: String(Number(side.lines[1]) + 1) }));
  const from = side.sequencesFrom;
  return [
    ...(edit.withoutEvent ? [] : [table('public.llx_actioncomm', { added: [added(event(side), 'id')] })]),
    table('public.llx_facture_fourn', { added: [added(invoice(side, edit.total))] }),
    table('public.llx_facture_fourn_det', { added: lines }),
    sequence('public.llx_facture_fourn_rowid_seq', [String(from), true], [String(from + 1), true]),
    table('public.llx_societe', {
      added: [added(thirdparty(side))],
      changed: [
        {
          key: { rowid: '12' },
          before: { rowid: '12', nom: 'Old Supplier', fk_parent: null, tms: '2025-01-01 00:00:00+00' },
          after: { rowid: '12', nom: 'Old Supplier', fk_parent: side.thirdparty, tms: side.at },
          columns: ['fk_parent', 'tms'],
        },
      ],
    }),
    sequence('public.llx_societe_rowid_seq', [String(from), true], [String(from + (edit.moved ?? 1)), true]),
  ];
}

describe('comparing the rehearsed diff with prod', () => {
  it('finds them equal when only generated ids, timestamps and provisional refs differ', () => {
    assert.deepEqual(compareDiffs(promotion(SANDBOX), promotion(PROD)), { equal: true, differences: [] });
  });

  it('finds them equal when the acting user differs: the agent in the rehearsal, promote\'s user on prod', () => {
    const actedBy = (changes: RelationChange[], user: string) =>
      changes.map((change) =>
        change.name === 'public.llx_facture_fourn'
          ? { ...change, rows: { ...change.rows!, added: change.rows!.added.map((row) => ({ ...row, after: { ...row.after, fk_user_author: user } })) } }
          : change,
      );
    assert.deepEqual(compareDiffs(actedBy(promotion(SANDBOX), '2'), actedBy(promotion(PROD), '3')), { equal: true, differences: [] });
  });

  it('finds equal rows whatever their order, and nothing changed on both sides equal', () => {
    const reversed = promotion(PROD).map((change) => (change.rows ? { ...change, rows: { ...change.rows, added: [...change.rows.added].reverse() } } : change));
    assert.deepEqual(compareDiffs(promotion(SANDBOX), reversed.reverse()), { equal: true, differences: [] });
    assert.deepEqual(compareDiffs([], []), { equal: true, differences: [] });
  });

  it('counts a sequence by the values it handed out, whatever is_called', () => {
    const fresh = [sequence('public.llx_c_seq', ['1', false], ['2', true])];
    assert.deepEqual(compareDiffs(fresh, [sequence('public.llx_c_seq', ['40', true], ['42', true])]), { equal: true, differences: [] });
    assert.deepEqual(compareDiffs(fresh, [sequence('public.llx_c_seq', ['40', true], ['41', true])]), {
      equal: false,
      differences: ['public.llx_c_seq: moved by 2 in the rehearsal, by 1 on prod'],
    });
  });

  it('reports different amounts by the columns that differ', () => {
    const result = compareDiffs(promotion(SANDBOX), promotion(PROD, { total: '150.00000000' }));
    assert.deepEqual(result, {
      equal: false,
      differences: [`public.llx_facture_fourn: row added rowid=<generated id> differs: total_ht '15.00000000' in the rehearsal, '150.00000000' on prod`],
    });
  });

  it('reports an extra row by the counts and the row, compactly', () => {
    const result = compareDiffs(promotion(SANDBOX), promotion(PROD, { extraLine: true }));
    assert.deepEqual(result, {
      equal: false,
      differences: [
        'public.llx_facture_fourn_det: 2 rows added in the rehearsal, 3 on prod',
        `public.llx_facture_fourn_det: row added on prod only: fk_facture_fourn=<generated id> fk_product='501' qty='1' rowid=<generated id> total_ht='5.00000000'`,
      ],
    });
  });

  it('lists the rows of one side one by one when several are left unmatched', () => {
    const twoEach = compareDiffs(promotion(SANDBOX, { extraLine: true, total: '20.00000000' }), promotion(PROD, { extraLine: true })).differences;
    assert.deepEqual(twoEach, [`public.llx_facture_fourn: row added rowid=<generated id> differs: total_ht '20.00000000' in the rehearsal, '15.00000000' on prod`]);
    const lines = (side: Side, qty: string): RelationChange =>
      table('public.llx_facture_fourn_det', { added: [added(line(side, 0, '7', qty, '1.00000000')), added(line(side, 1, '7', qty, '1.00000000'))] });
    assert.deepEqual(compareDiffs([lines(SANDBOX, '1')], [lines(PROD, '2')]).differences, [
      `public.llx_facture_fourn_det: row added in the rehearsal only: fk_facture_fourn='88' fk_product='7' qty='1' rowid=<generated id> total_ht='1.00000000'`,
      `public.llx_facture_fourn_det: row added in the rehearsal only: fk_facture_fourn='88' fk_product='7' qty='1' rowid=<generated id> total_ht='1.00000000'`,
      `public.llx_facture_fourn_det: row added on prod only: fk_facture_fourn='4321' fk_product='7' qty='2' rowid=<generated id> total_ht='1.00000000'`,
      `public.llx_facture_fourn_det: row added on prod only: fk_facture_fourn='4321' fk_product='7' qty='2' rowid=<generated id> total_ht='1.00000000'`,
    ]);
    const gone = compareDiffs([table('public.llx_x', { removed: [{ key: { rowid: '3' }, before: { rowid: '3', label: 'a', note: null } }] })], [table('public.llx_x', {})]);
    assert.deepEqual(gone.differences, ['public.llx_x: 1 row removed in the rehearsal, 0 on prod', `public.llx_x: row removed in the rehearsal only: label='a' rowid='3'`]);
  });

  it('reports a table changed in the rehearsal but not on prod, and the other way round', () => {
    const result = compareDiffs(promotion(SANDBOX), promotion(PROD, { withoutEvent: true }));
    assert.deepEqual(result, { equal: false, differences: ['public.llx_actioncomm: content changed in the rehearsal, unchanged on prod'] });
    assert.deepEqual(compareDiffs(promotion(SANDBOX, { withoutEvent: true }), promotion(PROD)).differences, ['public.llx_actioncomm: content changed on prod, unchanged in the rehearsal']);
  });

  it('reports a sequence moved by a different amount', () => {
    const result = compareDiffs(promotion(SANDBOX), promotion(PROD, { moved: 2 }));
    assert.deepEqual(result, { equal: false, differences: ['public.llx_societe_rowid_seq: moved by 1 in the rehearsal, by 2 on prod'] });
  });

  it('keeps references to rows both sides had: an invoice for another existing thirdparty differs', () => {
    const rehearsed = [table('public.llx_facture_fourn', { added: [added({ rowid: '88', fk_soc: '12' })] })];
    const onProd = [table('public.llx_facture_fourn', { added: [added({ rowid: '4321', fk_soc: '13' })] })];
    assert.deepEqual(compareDiffs(rehearsed, onProd).differences, [`public.llx_facture_fourn: row added rowid=<generated id> differs: fk_soc '12' in the rehearsal, '13' on prod`]);
  });

  it('keeps plain dates and timestamps in columns not named as such', () => {
    const row = (datef: string, closed: string): RowChange => added({ rowid: '1', datef, closed_at: closed });
    const result = compareDiffs([table('public.t', { added: [row('2026-05-01', '2026-05-01 10:00:00')] })], [table('public.t', { added: [row('2026-05-02', '2026-05-03 10:00:00')] })]);
    assert.deepEqual(result.differences, [`public.t: row added rowid=<generated id> differs: closed_at '2026-05-01 10:00:00' in the rehearsal, '2026-05-03 10:00:00' on prod; datef '2026-05-01' in the rehearsal, '2026-05-02' on prod`]);
  });

  it('compares a changed row before and after: prod that had drifted from the golden differs', () => {
    const change = (before: string): RelationChange =>
      table('public.llx_societe', { changed: [{ key: { rowid: '12' }, before: { rowid: '12', nom: before, tms: '2025-01-01 00:00:00' }, after: { rowid: '12', nom: 'New', tms: '2026-05-01 10:00:00' }, columns: ['nom', 'tms'] }] });
    assert.equal(compareDiffs([change('Old')], [change('Old')]).equal, true);
    assert.deepEqual(compareDiffs([change('Old')], [change('Drifted')]).differences, [`public.llx_societe: row changed rowid='12' differs: nom 'Old' → 'New' in the rehearsal, 'Drifted' → 'New' on prod`]);
  });

  it('lists changed rows under different keys by their key and changed columns', () => {
    const change = (rowid: string): RelationChange => table('public.llx_societe', { changed: [{ key: { rowid }, before: { rowid, nom: 'A', fk_pays: '1' }, after: { rowid, nom: 'B', fk_pays: '1' }, columns: ['nom'] }] });
    assert.deepEqual(compareDiffs([change('12')], [change('13')]).differences, [
      `public.llx_societe: row changed in the rehearsal only: rowid='12' nom='A' → 'B'`,
      `public.llx_societe: row changed on prod only: rowid='13' nom='A' → 'B'`,
    ]);
  });

  it('counts identical rows of a table without a primary key', () => {
    const row: RowChange = { key: { fk_categorie: '3', fk_soc: '12' }, after: { fk_categorie: '3', fk_soc: '12' } };
    const result = compareDiffs([table('public.llx_categorie_fournisseur', { added: [row, row] })], [table('public.llx_categorie_fournisseur', { added: [row] })]);
    assert.deepEqual(result.differences, [
      'public.llx_categorie_fournisseur: 2 rows added in the rehearsal, 1 on prod',
      `public.llx_categorie_fournisseur: row added in the rehearsal only: fk_categorie='3' fk_soc='12'`,
    ]);
  });

  it('reports a relation changed differently, or that cannot be compared without row images', () => {
    const defined: RelationChange = { key: 'table public.t', kind: 'table', name: 'public.t', change: 'definition changed' };
    const content: RelationChange = { ...defined, change: 'content changed' };
    assert.deepEqual(compareDiffs([content], [defined]).differences, ['public.t: content changed in the rehearsal, definition changed on prod']);
    assert.deepEqual(compareDiffs([content], [content]).differences, ['public.t: content changed on both sides, but without row images or sequence values on both sides it cannot be compared']);
    assert.deepEqual(compareDiffs([content], [table('public.t', {})]).differences.length, 1);
    const removed: RelationChange = { ...defined, change: 'removed' };
    assert.deepEqual(compareDiffs([removed], [removed]), { equal: true, differences: [] });
  });
});
