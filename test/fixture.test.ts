import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { DEFAULT_SEED, fixtureChunks, fixtureShape, renderFixture, type FixtureOptions } from '../fixtures/dolibarr';
import { FOREIGN_KEYS, FUNCTIONS, TABLES, TRIGGERS } from '../fixtures/dolibarr/catalogue';
import { fixtureData, planFor } from '../fixtures/dolibarr/data';
import { invoices, type Side } from '../fixtures/dolibarr/data/ledger';
import { AI_AGENT_RIGHTS } from '../fixtures/dolibarr/data/users';
import { VAT_RATES } from '../fixtures/dolibarr/dictionaries/reference';
import { MAX_ROWS_PER_INSERT } from '../fixtures/dolibarr/inserts';
import { hasColumn } from '../fixtures/dolibarr/model';

const rendered = new Map<string, string>();
/** Renders once per (seed, scale): the tests below compare several of the same renderings. */
function render(opts: FixtureOptions): string {
  const key = `${opts.seed}/${opts.scale}`;
  const cached = rendered.get(key) ?? renderFixture(opts);
  rendered.set(key, cached);
  return cached;
}

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * The INSERT statements in the SQL, each with its tuples. Once string literals are blanked, a tuple
 * is exactly one line, because literals are the only place a newline or a ';' can hide.
 */
function* inserts(sql: string): Generator<{ table: string; tuples: string[] }> {
  const blanked = sql.replace(/'(?:[^']|'')*'/g, "''");
  for (const m of blanked.matchAll(/^INSERT INTO public\.(\w+) \([^)]*\) VALUES\n([^;]*);$/gm)) {
    yield { table: m[1] ?? '', tuples: (m[2] ?? '').split('\n') };
  }
}

function rowsPerTable(sql: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { table, tuples } of inserts(sql)) counts.set(table, (counts.get(table) ?? 0) + tuples.length);
  return counts;
}

const tuplesOf = (sql: string, table: string): string[] => [...inserts(sql)].filter((i) => i.table === table).flatMap((i) => i.tuples);

const total = (counts: Map<string, number>): number => [...counts.values()].reduce((a, b) => a + b, 0);
const count = (sql: string, pattern: RegExp): number => [...sql.matchAll(pattern)].length;

const SCALE_1: FixtureOptions = { seed: DEFAULT_SEED, scale: 1 };

describe('Dolibarr fixture: determinism', () => {
  it('renders byte-identical SQL for the same seed and scale', () => {
    const first = renderFixture(SCALE_1);
    const second = renderFixture(SCALE_1);
    assert.equal(first, second);
    assert.equal(sha256(first), sha256(second));
    assert.equal([...fixtureChunks(SCALE_1)].join(''), first, 'renderFixture is the chunks joined');
  });

  it('renders different data for a different seed, over the same schema', () => {
    const a = render(SCALE_1);
    const b = render({ seed: DEFAULT_SEED + 1, scale: 1 });
    assert.notEqual(sha256(a), sha256(b));
    const schemaOf = (sql: string): string => sql.slice(0, sql.indexOf('INSERT INTO'));
    assert.equal(schemaOf(a), schemaOf(b));
  });

  it('grows row counts with the scale', () => {
    const one = rowsPerTable(render(SCALE_1));
    const two = rowsPerTable(render({ seed: DEFAULT_SEED, scale: 2 }));
    assert.ok(total(two) > total(one), `scale 2 has ${total(two)} rows, scale 1 has ${total(one)}`);
    for (const table of ['llx_societe', 'llx_socpeople', 'llx_product', 'llx_facture', 'llx_facturedet', 'llx_facture_fourn', 'llx_paiement', 'llx_bank']) {
      assert.ok((two.get(table) ?? 0) > (one.get(table) ?? 0), `${table} grows with the scale`);
    }
    assert.ok(total(one) >= 2000 && total(one) <= 10_000, `scale 1 is a few thousand rows, got ${total(one)}`);
  });

  it('counts the rows in the SQL that the generator produced', () => {
    const generated = new Map<string, number>();
    for (const data of fixtureData(planFor(SCALE_1.seed, SCALE_1.scale))) {
      let n = 0;
      for (const _row of data.rows) n += 1;
      if (n > 0) generated.set(data.table, n);
    }
    assert.deepEqual(rowsPerTable(render(SCALE_1)), generated);
  });

  it('keeps at least one row in each main table at a tiny scale', () => {
    const counts = rowsPerTable(renderFixture({ seed: 3, scale: 0.001 }));
    for (const table of ['llx_societe', 'llx_socpeople', 'llx_product', 'llx_facture', 'llx_facturedet', 'llx_facture_fourn', 'llx_facture_fourn_det']) {
      assert.ok((counts.get(table) ?? 0) >= 1, `${table} has a row`);
    }
  });

  it('rejects options it cannot honour', () => {
    assert.throws(() => fixtureChunks({ seed: 1.5, scale: 1 }), RangeError);
    assert.throws(() => fixtureChunks({ seed: 1, scale: 0 }), RangeError);
    assert.throws(() => fixtureChunks({ seed: 1, scale: Number.NaN }), RangeError);
  });
});

describe('Dolibarr fixture: shape', () => {
  const shape = fixtureShape();
  const sql = render(SCALE_1);

  it('has the core Dolibarr tables', () => {
    const core = [
      'llx_const', 'llx_user', 'llx_rights_def', 'llx_user_rights', 'llx_societe', 'llx_socpeople', 'llx_product',
      'llx_facture', 'llx_facturedet', 'llx_facture_fourn', 'llx_facture_fourn_det', 'llx_paiement', 'llx_paiement_facture',
      'llx_paiementfourn', 'llx_paiementfourn_facturefourn', 'llx_bank', 'llx_bank_account',
    ];
    assert.ok(core.length >= 15);
    for (const name of core) assert.match(sql, new RegExp(`^CREATE TABLE public\\.${name} \\(`, 'm'), `${name} is created`);
  });

  it('reaches the catalogue shape of a real install', () => {
    assert.ok(shape.tables >= 262 && shape.tables <= 290, `tables ${shape.tables}`);
    assert.ok(shape.sequences >= 237 && shape.sequences <= 263, `sequences ${shape.sequences}`);
    assert.ok(shape.indexes >= 715 && shape.indexes <= 790, `indexes ${shape.indexes}`);
    assert.equal(shape.functions, 16);
    assert.ok(shape.triggers >= 100 && shape.triggers <= 112, `triggers ${shape.triggers}`);
    assert.ok(shape.views >= 1, `views ${shape.views}`);
    assert.ok(FOREIGN_KEYS.length >= 143 && FOREIGN_KEYS.length <= 157, `foreign keys ${FOREIGN_KEYS.length}`);
    assert.ok(TABLES.every((t) => t.name.startsWith('llx_')));
  });

  it('renders exactly what fixtureShape() counts', () => {
    assert.equal(count(sql, /^CREATE TABLE /gm), shape.tables);
    assert.equal(count(sql, /^ {2}\w+ SERIAL,?$/gm), shape.sequences);
    assert.equal(count(sql, /^ {2}PRIMARY KEY /gm) + count(sql, /^ {2}CONSTRAINT \w+ UNIQUE /gm) + count(sql, /^CREATE INDEX /gm), shape.indexes);
    assert.equal(count(sql, /^CREATE FUNCTION /gm), shape.functions);
    assert.equal(count(sql, /^CREATE TRIGGER /gm), shape.triggers);
    assert.equal(count(sql, /^CREATE VIEW /gm), shape.views);
    assert.equal(count(sql, /^SELECT setval\(pg_get_serial_sequence\(/gm), shape.sequences, 'every serial is reset');
    assert.equal(count(sql, /^ALTER TABLE public\.\w+ ADD CONSTRAINT \w+ FOREIGN KEY /gm), FOREIGN_KEYS.length);
    assert.equal(count(sql, /^ {2}CONSTRAINT \w+ CHECK /gm) >= 1, true, 'a check constraint');
    assert.ok(/ bytea,?$/m.test(sql), 'a bytea column');
    assert.equal(TABLES.filter((t) => t.primaryKey === undefined).length, 1, 'one table without a primary key');
  });

  it('puts the BEFORE UPDATE tms trigger on every table with a tms column', () => {
    const withTms = TABLES.filter((t) => hasColumn(t, 'tms'));
    assert.ok(withTms.length > 0);
    for (const t of withTms) {
      assert.ok(
        sql.includes(`CREATE TRIGGER update_customer_modtime BEFORE UPDATE ON public.${t.name} FOR EACH ROW EXECUTE PROCEDURE public.update_modified_column_tms();\n`),
        `${t.name} has the tms trigger`,
      );
    }
    assert.equal(TRIGGERS.filter((tr) => tr.function === 'update_modified_column_tms').length, withTms.length);
    for (const tr of TRIGGERS) assert.ok(FUNCTIONS.some((f) => f.name === tr.function), `${tr.function} is defined`);
  });

  it('names every relation uniquely and within the 63-byte identifier limit', () => {
    const relations = TABLES.flatMap((t) => [
      t.name,
      ...t.uniques.map((u) => u.name),
      ...t.indexes.map((i) => i.name),
      ...t.columns.filter((c) => c.type === 'SERIAL').map((c) => `${t.name}_${c.name}_seq`),
    ]);
    assert.equal(new Set(relations).size, relations.length);
    for (const name of [...relations, ...FOREIGN_KEYS.map((fk) => fk.name)]) assert.ok(Buffer.byteLength(name) <= 63, name);
  });

  it('references only tables and columns that exist', () => {
    for (const fk of FOREIGN_KEYS) {
      const target = TABLES.find((t) => t.name === fk.references);
      assert.ok(target, `${fk.name} points at ${fk.references}`);
      for (const c of fk.referencedColumns) assert.ok(hasColumn(target, c), `${fk.references}.${c}`);
    }
  });
});

describe('Dolibarr fixture: SQL form', () => {
  it('packs the SQL into complete chunks below 1.1 MB', () => {
    const chunks = [...fixtureChunks({ seed: DEFAULT_SEED, scale: 3 })];
    assert.ok(chunks.length > 1);
    for (const chunk of chunks) {
      assert.ok(Buffer.byteLength(chunk, 'utf8') < 1.1 * 1024 * 1024, `chunk of ${Buffer.byteLength(chunk)} bytes`);
      assert.ok(chunk.endsWith(';\n'));
      assert.ok(/^(CREATE|INSERT|SELECT|ALTER) /.test(chunk), 'a chunk starts with a statement');
    }
  });

  it('keeps each INSERT to at most 1000 rows', () => {
    for (const { table, tuples } of inserts(render({ seed: DEFAULT_SEED, scale: 2 }))) {
      assert.ok(tuples.length <= MAX_ROWS_PER_INSERT, `${table}: ${tuples.length} rows in one INSERT`);
      assert.ok(tuples.every((t) => t.startsWith('(')));
    }
  });

  it('stores awkward text and binary data as literals the server reads back unchanged', () => {
    const sql = render(SCALE_1);
    assert.ok(sql.includes("'Line one\nLine two\n\tindented with a tab'"), 'newlines and tabs stay literal');
    assert.ok(sql.includes("'O''Brien said \"it''s fine\"'"), 'single quotes are doubled');
    assert.ok(sql.includes("E'Path C:\\\\Dolibarr\\\\documents\\\\facture\\\\'"), 'backslashes only inside E strings');
    assert.ok(sql.includes('東京商事株式会社'), 'unicode is written as is');
    assert.match(sql, /E'\\\\x255044462d/, 'bytea in hex format');
  });
});

describe('Dolibarr fixture: business data', () => {
  const plan = planFor(DEFAULT_SEED, 1);

  for (const side of ['customer', 'supplier'] as const satisfies readonly Side[]) {
    it(`totals ${side} invoices from their lines, at the allowed VAT rates`, () => {
      const rates = new Set<number>(VAT_RATES.map((r) => r.tenths));
      let paid = 0;
      let unpaid = 0;
      for (const inv of invoices(plan, side)) {
        assert.equal(inv.htCents, inv.lines.reduce((s, l) => s + l.htCents, 0));
        assert.equal(inv.vatCents, inv.lines.reduce((s, l) => s + l.vatCents, 0));
        assert.equal(inv.ttcCents, inv.htCents + inv.vatCents);
        for (const l of inv.lines) assert.ok(rates.has(l.vatTenths));
        if (inv.paidAt === null) unpaid += 1;
        else paid += 1;
      }
      assert.ok(paid > 0 && unpaid > 0, `${paid} paid, ${unpaid} unpaid`);
    });
  }

  it('gives ai_agent exactly the production read-only rights and leaves every api_key NULL', () => {
    const sql = render(SCALE_1);
    assert.deepEqual([...AI_AGENT_RIGHTS], [121, 262, 1181, 1231]);
    const users = [...fixtureData(plan)].find((d) => d.table === 'llx_user');
    assert.ok(users);
    const login = users.columns.indexOf('login');
    const apiKey = users.columns.indexOf('api_key');
    const rows = [...users.rows];
    assert.ok(rows.some((r) => r[login] === 'admin'));
    assert.ok(rows.some((r) => r[login] === 'ai_agent'));
    assert.ok(rows.every((r) => r[apiKey] === null));
    const agentId = rows.find((r) => r[login] === 'ai_agent')?.[users.columns.indexOf('rowid')];
    const rights = tuplesOf(sql, 'llx_user_rights')
      .map((tuple) => tuple.replace(/[(),]/g, ' ').trim().split(/\s+/).map(Number))
      .filter(([, , user]) => user === agentId)
      .map(([, , , right]) => right);
    assert.deepEqual(rights, [121, 262, 1181, 1231]);
    const defined = tuplesOf(sql, 'llx_rights_def').map((tuple) => Number(/^\((\d+),/.exec(tuple)?.[1]));
    for (const id of [121, 122, 125, 262, 1181, 1231, 1232, 1234]) assert.ok(defined.includes(id), `right ${id} is defined`);
  });
});
