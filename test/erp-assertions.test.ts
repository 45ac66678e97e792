/**
 * The domain assertions (support/erp/assertions/): the period parser and the exact arithmetic of the VAT summary, the
 * invoice audit, the payment state and the completeness check, then the SQL against a real cluster holding the
 * Dolibarr-shaped fixture, read by a minted prod login (changes made in transactions that are rolled back).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from 'pg';
import { DEFAULT_SEED } from '../fixtures/dolibarr';
import {
  DecimalError,
  formatDecimal,
  parseDecimal,
  percentToCents,
  productToCents,
  roundDiv,
  sameCents,
  toCents,
  withinACent,
} from '../support/erp/assertions/decimal';
import { auditInvoice, auditSupplierInvoice, describeDiscrepancy, readSupplierInvoice, type AuditedInvoice, type AuditedLine } from '../support/erp/assertions/invoice-audit';
import {
  paymentDiscrepancies,
  paymentStateOf,
  supplierInvoicePayment,
  supplierInvoicesOfThirdpartyBalance,
  type InvoicePayment,
} from '../support/erp/assertions/payment-state';
import { missingFields, thirdpartyCompleteness, thirdpartyNamed, type ThirdpartyRecord } from '../support/erp/assertions/thirdparty-completeness';
import {
  canonicalAmounts,
  erpToday,
  inPeriod,
  parsePeriod,
  PeriodError,
  periodOf,
  supplierInvoiceDate,
  vatGrowth,
  vatOfLines,
  vatSummary,
  type VatSummary,
} from '../support/erp/assertions/vat-summary';
import { knownSupplierInvoice, writeSupplierInvoice } from '../support/erp/supplier-invoice';
import type { LookupFunction } from 'node:net';
import { AI_AGENT_RIGHTS } from '../fixtures/dolibarr/data/users';
import { DolibarrClient } from '../support/dolibarr/client';
import { DOLIBARR_PROFILES, DOLIBARR_VERSIONS } from '../support/dolibarr/versions';
import { grantApiAccess, RIGHT, startDolibarrStandin } from '../support/hermetic/dolibarr-standin/server';
import type { Endpoint } from '../support/postgres/cluster';
import { selfSignedCertificate } from './helpers/certificate';
import { countryIdOf } from '../support/erp/thirdparty-details';
import { instanceNames } from '../support/naming';
import { connect } from '../support/postgres/connect';
import { provisionFactoryLayout } from '../support/postgres/provision';
import { loadFixtureAsOwner } from '../support/targets/seed-prod';
import { testCluster } from './helpers/cluster';
import { DirectMinter } from './helpers/direct-minter';

const d = parseDecimal;

describe('VAT periods', () => {
  it('reads a quarter, a month and a year as half-open date ranges', () => {
    assert.deepEqual(parsePeriod('2026-Q2'), { label: '2026-Q2', kind: 'quarter', from: '2026-04-01', until: '2026-07-01' });
    assert.deepEqual(parsePeriod('2026-Q4'), { label: '2026-Q4', kind: 'quarter', from: '2026-10-01', until: '2027-01-01' });
    assert.deepEqual(parsePeriod('2026-05'), { label: '2026-05', kind: 'month', from: '2026-05-01', until: '2026-06-01' });
    assert.deepEqual(parsePeriod('2026-12'), { label: '2026-12', kind: 'month', from: '2026-12-01', until: '2027-01-01' });
    assert.deepEqual(parsePeriod('2026'), { label: '2026', kind: 'year', from: '2026-01-01', until: '2027-01-01' });
  });

  it('canonicalises a lowercase quarter and surrounding blanks', () => {
    assert.equal(parsePeriod(' 2026-q1 ').label, '2026-Q1');
  });

  it('refuses anything else, saying how to write a period', () => {
    for (const bad of ['2026-Q5', '2026-Q0', '2026-13', '2026-00', '2026-5', '26-Q1', 'Q2 2026', '2026/05', '2026-05-01', '', 'this quarter']) {
      assert.throws(() => parsePeriod(bad), (error: Error) => error instanceof PeriodError && error.message.includes(`"${bad}"`) && /2026-Q2/.test(error.message), bad);
    }
    assert.throws(() => parsePeriod('0999'), /between 1000 and 9998/);
  });

  it('finds the quarter, month or year of a date, and whether a date is in a period', () => {
    assert.equal(periodOf('2026-11-26').label, '2026-Q4');
    assert.equal(periodOf('2026-03-31').label, '2026-Q1');
    assert.equal(periodOf('2026-04-01', 'month').label, '2026-04');
    assert.equal(periodOf('2026-04-01', 'year').label, '2026');
    assert.throws(() => periodOf('26/11/2026'), PeriodError);
    const q2 = parsePeriod('2026-Q2');
    assert.deepEqual(['2026-03-31', '2026-04-01', '2026-06-30', '2026-07-01'].map((date) => inPeriod(q2, date)), [false, true, true, false]);
  });
});

describe('exact decimals', () => {
  it('round-trips numeric text, keeping two decimals at least', () => {
    assert.equal(formatDecimal(d('37.50000000')), '37.50');
    assert.equal(formatDecimal(d('-0.5')), '-0.50');
    assert.equal(formatDecimal(d('12.34567891')), '12.34567891');
    assert.equal(formatDecimal(d('20.0000'), 0), '20');
    assert.equal(formatDecimal(d('5.5000'), 0), '5.5');
    assert.equal(formatDecimal(d('0')), '0.00');
    assert.equal(d('1.000000000000'), d('1'));
  });

  it('refuses what is not a decimal, or finer than 10⁻⁸', () => {
    for (const bad of ['', 'abc', '1,5', '1e3', '0x10', '1.2.3']) assert.throws(() => parseDecimal(bad), DecimalError, bad);
    assert.throws(() => parseDecimal('0.000000001'), /more than 8 decimals/);
  });

  it('sums without float error: a thousand 0.10 are 100.00', () => {
    const total = Array.from({ length: 1000 }, () => d('0.10')).reduce((a, b) => a + b, 0n);
    assert.equal(formatDecimal(total), '100.00');
  });

  it('rounds half away from zero, as PHP and PostgreSQL do', () => {
    assert.equal(roundDiv(5n, 2n), 3n);
    assert.equal(roundDiv(-5n, 2n), -3n);
    assert.equal(roundDiv(4n, 3n), 1n);
    assert.equal(roundDiv(-4n, 3n), -1n);
    assert.equal(formatDecimal(toCents(d('0.005'))), '0.01');
    assert.equal(formatDecimal(toCents(d('-0.005'))), '-0.01');
    assert.equal(formatDecimal(toCents(d('0.00499999'))), '0.00');
  });

  it('computes a line: HT = round(qty × price, 2), VAT = round(HT × rate / 100, 2)', () => {
    assert.equal(formatDecimal(productToCents(d('3'), d('12.345'))), '37.04'); // 37.035
    assert.equal(formatDecimal(percentToCents(d('12.50'), d('20'))), '2.50');
    assert.equal(formatDecimal(percentToCents(d('18.30'), d('5.5'))), '1.01'); // 1.0065
    assert.equal(formatDecimal(percentToCents(d('0.05'), d('50'))), '0.03'); // 0.025
    assert.equal(formatDecimal(percentToCents(d('-0.05'), d('50'))), '-0.03');
    assert.equal(formatDecimal(percentToCents(d('100'), d('0'))), '0.00');
  });

  it('compares to the cent, or within a cent', () => {
    assert.equal(sameCents(d('10.004'), d('10')), true);
    assert.equal(sameCents(d('10.005'), d('10')), false);
    assert.equal(withinACent(d('2.51'), d('2.50')), true);
    assert.equal(withinACent(d('2.52'), d('2.50')), false);
  });
});

function summary(period: string, rates: [rate: string, ht: string, vat: string, ttc: string][]): VatSummary {
  return { period, rates: rates.map(([rate, ht, vat, ttc]) => ({ rate, ht, vat, ttc, lines: 1, invoices: 1 })), total: { ht: '0', vat: '0', ttc: '0' } };
}

describe('VAT arithmetic', () => {
  it("prices the known rehearsal write as Dolibarr does: 2 lines at 20 % add 37.50 HT, 7.50 VAT, 45.00 TTC", () => {
    assert.deepEqual(vatOfLines(knownSupplierInvoice(2).lines), [{ rate: '20', ht: '37.50', vat: '7.50', ttc: '45.00' }]);
    assert.deepEqual(vatOfLines(knownSupplierInvoice(3).lines), [{ rate: '20', ht: '75.00', vat: '15.00', ttc: '90.00' }]);
  });

  it('groups lines by rate, lowest first, rounding each line before summing', () => {
    const lines = [
      { description: 'a', quantity: 1, unitPrice: 18.3, vatRate: 5.5 },
      { description: 'b', quantity: 1, unitPrice: 18.3, vatRate: 5.5 },
      { description: 'c', quantity: 3, unitPrice: 0.1, vatRate: 20 },
    ];
    assert.deepEqual(vatOfLines(lines), [
      { rate: '5.5', ht: '36.60', vat: '2.02', ttc: '38.62' }, // 1.0065 rounds to 1.01 per line, twice
      { rate: '20', ht: '0.30', vat: '0.06', ttc: '0.36' },
    ]);
  });

  it('grows by the difference per rate: a new rate, a moved one, and an unchanged one left out', () => {
    const before = summary('2026-Q4', [['5.5', '100.00', '5.50', '105.50'], ['20', '10.00', '2.00', '12.00']]);
    const after = summary('2026-Q4', [['5.5', '100.00', '5.50', '105.50'], ['10', '1.00', '0.10', '1.10'], ['20', '47.50', '9.50', '57.00']]);
    assert.deepEqual(vatGrowth(before, after), [
      { rate: '10', ht: '1.00', vat: '0.10', ttc: '1.10' },
      { rate: '20', ht: '37.50', vat: '7.50', ttc: '45.00' },
    ]);
    assert.deepEqual(vatGrowth(after, before), [
      { rate: '10', ht: '-1.00', vat: '-0.10', ttc: '-1.10' },
      { rate: '20', ht: '-37.50', vat: '-7.50', ttc: '-45.00' },
    ]);
    assert.deepEqual(vatGrowth(before, before), []);
  });

  it('reads a table of expected amounts the way the summary writes them', () => {
    assert.deepEqual(canonicalAmounts([{ rate: '20.000', ht: '37.5', vat: '7.5', ttc: '45' }]), [{ rate: '20', ht: '37.50', vat: '7.50', ttc: '45.00' }]);
  });
});

function line(rowid: number, rate: string, ht: string, vat: string, ttc?: string): AuditedLine {
  return { rowid, rate, totalHt: ht, vat, localtax1: '0', localtax2: '0', totalTtc: ttc ?? formatDecimal(d(ht) + d(vat)) };
}

function invoice(lines: AuditedLine[], header: Partial<AuditedInvoice> = {}): AuditedInvoice {
  const total = (pick: (l: AuditedLine) => string) => formatDecimal(lines.reduce((sum, l) => sum + d(pick(l)), 0n));
  return {
    rowid: 7, ref: '(PROV7)', totalHt: total((l) => l.totalHt), totalVat: total((l) => l.vat), localtax1: '0', localtax2: '0',
    totalTtc: total((l) => l.totalTtc), lines, ...header,
  };
}

describe('the invoice audit', () => {
  const balanced = [line(1, '20.0000', '12.50000000', '2.50000000'), line(2, '20.0000', '25.00000000', '5.00000000')];

  it('finds nothing wrong with a balanced invoice', () => {
    assert.deepEqual(auditInvoice(invoice(balanced)), []);
    assert.deepEqual(auditInvoice(invoice([])), []);
  });

  it('names a header total that is not the sum of its lines, with both amounts', () => {
    const found = auditInvoice(invoice(balanced, { totalHt: '37.49', totalTtc: '44.99' }));
    assert.deepEqual(found.map(describeDiscrepancy), [
      "(PROV7) (rowid 7): total_ht = sum of the lines' total_ht: expected 37.50, found 37.49",
      "(PROV7) (rowid 7): total_ttc = sum of the lines' total_ttc: expected 45.00, found 44.99",
    ]);
  });

  it('names a header whose TTC is not HT + VAT', () => {
    const lines = [line(1, '20', '10.00', '2.00', '12.50')];
    const found = auditInvoice(invoice(lines));
    assert.deepEqual(found.map((f) => [f.line, f.check]), [
      [undefined, 'total_ttc = total_ht + total_tva + localtax1 + localtax2'],
      [1, 'total_ttc = total_ht + tva + total_localtax1 + total_localtax2'],
    ]);
  });

  it("tolerates a line's VAT a cent off its rate, not two", () => {
    assert.deepEqual(auditInvoice(invoice([line(1, '20', '12.50', '2.51')])), []);
    const found = auditInvoice(invoice([line(3, '20', '12.50', '2.52')]));
    assert.deepEqual(found.map(describeDiscrepancy), ['(PROV7) (rowid 7), line 3: tva = round(total_ht × tva_tx / 100, 2) within a cent (tva_tx 20): expected 2.50, found 2.52']);
  });

  it('compares header and lines to the cent, not beyond', () => {
    assert.deepEqual(auditInvoice(invoice(balanced, { totalHt: '37.504', totalTtc: '45.004' })), []);
  });

  it('names header totals of an invoice without lines', () => {
    assert.deepEqual(auditInvoice(invoice([], { totalHt: '1.00', totalTtc: '1.00' })).map((f) => f.check), [
      "total_ht = sum of the lines' total_ht",
      "total_ttc = sum of the lines' total_ttc",
    ]);
  });
});

function payment(totalTtc: string, paid: string, fields: Partial<InvoicePayment> = {}): InvoicePayment {
  return {
    invoiceId: 1, ref: 'SI2501-0001', status: 1, paye: 0, closeCode: null, totalTtc, paid, remaining: formatDecimal(d(totalTtc) - d(paid)),
    payments: d(paid) === 0n ? 0 : 1, state: paymentStateOf(d(totalTtc), d(paid)), ...fields,
  };
}

describe('the payment state', () => {
  it('is unpaid, partially paid or paid from the total and the payments', () => {
    assert.equal(paymentStateOf(d('45.00'), 0n), 'unpaid');
    assert.equal(paymentStateOf(d('45.00'), d('0.01')), 'partially paid');
    assert.equal(paymentStateOf(d('45.00'), d('45.00')), 'paid');
    assert.equal(paymentStateOf(d('45.00'), d('50.00')), 'paid');
    assert.equal(paymentStateOf(0n, 0n), 'paid');
    assert.equal(paymentStateOf(d('-10.00'), 0n), 'unpaid');
    assert.equal(paymentStateOf(d('-10.00'), d('-4.00')), 'partially paid');
    assert.equal(paymentStateOf(d('-10.00'), d('-10.00')), 'paid');
  });

  it('finds payments that contradict the total or the paye flag', () => {
    assert.deepEqual(paymentDiscrepancies(payment('45.00', '0.00')), []);
    assert.deepEqual(paymentDiscrepancies(payment('45.00', '45.00', { paye: 1, status: 2 })), []);
    assert.deepEqual(paymentDiscrepancies(payment('45.00', '20.00', { paye: 1, closeCode: 'discount_vat' })), []);
    assert.deepEqual(paymentDiscrepancies(payment('45.00', '50.00', { paye: 1 })).map((f) => f.check), ['payments linked to it ≤ total_ttc']);
    assert.deepEqual(paymentDiscrepancies(payment('45.00', '20.00', { paye: 1 })).map((f) => f.check), ['paye = 1 only when paid in full or closed with a close_code']);
    assert.deepEqual(paymentDiscrepancies(payment('45.00', '45.00')).map((f) => f.check), ['paye = 1 once paid in full']);
  });
});

function thirdparty(fields: Partial<ThirdpartyRecord>): ThirdpartyRecord {
  return { id: 1, name: 'Rehearsal Supplies SARL', countryId: 1, countryCode: 'FR', client: 0, supplier: 1, customerCode: null, supplierCode: 'SU-RH-0001', ...fields };
}

describe('thirdparty completeness', () => {
  it('asks a supplier for a name, a country and a supplier code; a customer for a customer code', () => {
    assert.deepEqual(missingFields(thirdparty({})), []);
    assert.deepEqual(missingFields(thirdparty({ countryId: null, countryCode: null, supplierCode: null })), ['country', 'supplier code']);
    assert.deepEqual(missingFields(thirdparty({ name: '  ', supplierCode: '' })), ['name', 'supplier code']);
    assert.deepEqual(missingFields(thirdparty({ supplier: 0, supplierCode: null })), []);
    assert.deepEqual(missingFields(thirdparty({ client: 2 })), ['customer code']);
    assert.deepEqual(missingFields(thirdparty({ countryId: 999, countryCode: null })), ['country (fk_pays 999 is not a country of llx_c_country)']);
  });
});

// --- against a real cluster with the fixture ---------------------------------------------------------------------

const prod = instanceNames('erp');
const sandbox = instanceNames('erp', 'sandbox');
let stopCluster: (() => Promise<void>) | undefined;
let endpoint: Endpoint;
let minter: DirectMinter | undefined;
let client: Client | undefined;

const db = () => client!;

/** Runs `work` as prod's owner role in a transaction that is rolled back. */
async function rolledBack<T>(work: (client: Client) => Promise<T>): Promise<T> {
  await db().query(`BEGIN; SET LOCAL ROLE ${prod.ownerRole}`);
  try {
    return await work(db());
  } finally {
    await db().query('ROLLBACK');
  }
}

describe('the assertions on the fixture', () => {
  before(async () => {
    const started = await testCluster();
    stopCluster = started.stop;
    endpoint = started.cluster.endpoint;
    const layout = await provisionFactoryLayout(started.cluster, [prod, sandbox]);
    minter = new DirectMinter({ endpoint: started.cluster.endpoint, credentialsEditor: layout.credentialsEditor });
    await loadFixtureAsOwner(started.cluster.endpoint, minter, prod, { seed: DEFAULT_SEED, scale: 0.2 });
    client = await connect(started.cluster.endpoint, await minter.mint(prod), prod.database);
  });

  after(async () => {
    await client?.end();
    await minter?.revokeAll();
    await stopCluster?.();
  });

  it('finds every supplier invoice of every supplier balanced, and every supplier complete', async () => {
    const { rows } = await db().query<{ fk_soc: number }>('SELECT DISTINCT fk_soc FROM llx_facture_fourn ORDER BY 1');
    assert.ok(rows.length > 0);
    let invoices = 0;
    for (const { fk_soc } of rows) {
      const result = await supplierInvoicesOfThirdpartyBalance(db(), fk_soc);
      assert.deepEqual(result.discrepancies.map(describeDiscrepancy), [], `supplier ${fk_soc}`);
      invoices += result.invoices;
      assert.deepEqual((await thirdpartyCompleteness(db(), fk_soc)).missing, [], `supplier ${fk_soc}`);
    }
    const { rows: [count] } = await db().query<{ n: number }>('SELECT count(*)::int AS n FROM llx_facture_fourn');
    assert.equal(invoices, count!.n);
  });

  it('sums a year as its four quarters and its twelve months, counting drafts, validated and paid invoices', async () => {
    const { rows: [latest] } = await db().query<{ year: string }>("SELECT max(to_char(datef, 'YYYY')) AS year FROM llx_facture_fourn");
    const y = latest!.year;
    const year = await vatSummary(db(), parsePeriod(y));
    assert.ok(year.rates.length > 0);
    const quarters: VatSummary[] = [];
    for (let q = 1; q <= 4; q += 1) quarters.push(await vatSummary(db(), parsePeriod(`${y}-Q${q}`)));
    const months: VatSummary[] = [];
    for (let m = 1; m <= 12; m += 1) months.push(await vatSummary(db(), parsePeriod(`${y}-${String(m).padStart(2, '0')}`)));
    const empty = summary(y, []);
    const added = (parts: VatSummary[]) => summary(y, canonicalAmounts(parts.flatMap((part) => part.rates)).map((a) => [a.rate, a.ht, a.vat, a.ttc]));
    assert.deepEqual(vatGrowth(empty, added(quarters)), vatGrowth(empty, year));
    assert.deepEqual(vatGrowth(empty, added(months)), vatGrowth(empty, year));
    const independent = async (statuses: string) => (await db().query<{ ht: string; lines: number }>(
      `SELECT COALESCE(sum(d.total_ht), 0)::text AS ht, count(*)::int AS lines
         FROM llx_facture_fourn_det d JOIN llx_facture_fourn f ON f.rowid = d.fk_facture_fourn
        WHERE to_char(f.datef, 'YYYY') = $1 AND f.fk_statut IN (${statuses})`,
      [y],
    )).rows[0]!;
    const counted = await independent('0, 1, 2');
    assert.equal(year.total.ht, formatDecimal(d(counted.ht)));
    assert.equal(year.rates.reduce((n, rate) => n + rate.lines, 0), counted.lines);
  });

  it('sees a new draft invoice in its quarter, and names what does not balance in it', async () => {
    await rolledBack(async (c) => {
      const period = parsePeriod('2026-Q2');
      const before = await vatSummary(c, period);
      const soc = await thirdpartyNamed(c, (await c.query<{ nom: string }>('SELECT nom FROM llx_societe WHERE fournisseur = 1 ORDER BY rowid LIMIT 1')).rows[0]!.nom);
      const { rows: [inv] } = await c.query<{ rowid: number }>(
        `INSERT INTO llx_facture_fourn (ref, ref_supplier, fk_soc, datef, fk_statut, total_ht, total_tva, total_ttc)
         VALUES ('(PROVX)', 'T-1', $1, '2026-05-14', 0, 37.49, 7.50, 44.99) RETURNING rowid`,
        [soc],
      );
      await c.query(
        `INSERT INTO llx_facture_fourn_det (fk_facture_fourn, pu_ht, qty, tva_tx, total_ht, tva, total_ttc)
         VALUES ($1, 12.5, 1, 20, 12.50, 2.50, 15.00), ($1, 12.5, 2, 20, 25.00, 5.02, 30.02)`,
        [inv!.rowid],
      );
      assert.equal(await supplierInvoiceDate(c, inv!.rowid), '2026-05-14');
      assert.deepEqual(vatGrowth(before, await vatSummary(c, period)), [{ rate: '20', ht: '37.50', vat: '7.52', ttc: '45.02' }]);
      assert.deepEqual((await auditSupplierInvoice(c, inv!.rowid)).map((f) => [f.line === undefined ? 'header' : 'line', f.check, f.expected, f.actual]), [
        ['header', "total_ht = sum of the lines' total_ht", '37.50', '37.49'],
        ['header', "total_tva = sum of the lines' tva", '7.52', '7.50'],
        ['header', "total_ttc = sum of the lines' total_ttc", '45.02', '44.99'],
        ['line', 'tva = round(total_ht × tva_tx / 100, 2) within a cent (tva_tx 20)', '5.00', '5.02'],
      ]);
      // Neither an abandoned invoice nor one without a date counts (their headers were left at zero: they do not balance).
      const others: number[] = [];
      for (const [status, datef] of [[3, '2026-05-14'], [1, null]] as const) {
        const { rows: [other] } = await c.query<{ rowid: number }>(
          `INSERT INTO llx_facture_fourn (ref, ref_supplier, fk_soc, datef, fk_statut) VALUES ($1, $1, $2, $3, $4) RETURNING rowid`,
          [`T-${datef === null ? "undated" : "abandoned"}`, soc, datef, status],
        );
        await c.query('INSERT INTO llx_facture_fourn_det (fk_facture_fourn, tva_tx, total_ht, tva, total_ttc) VALUES ($1, 20, 100, 20, 120)', [other!.rowid]);
        others.push(other!.rowid);
      }
      assert.deepEqual(vatGrowth(before, await vatSummary(c, period)), [{ rate: '20', ht: '37.50', vat: '7.52', ttc: '45.02' }]);
      assert.deepEqual(vatGrowth(before, await vatSummary(c, parsePeriod('2026-Q3'))), vatGrowth(before, before));
      const unpaid = await supplierInvoicePayment(c, inv!.rowid);
      assert.deepEqual([unpaid.state, unpaid.paid, unpaid.payments, unpaid.paye], ['unpaid', '0.00', 0, 0]);

      const { rows: [pay] } = await c.query<{ rowid: number }>(
        `INSERT INTO llx_paiementfourn (ref, datep, amount, fk_paiement, fk_bank)
         VALUES ('SPAYX', now(), 20, (SELECT min(rowid) FROM llx_c_paiement), (SELECT min(rowid) FROM llx_bank)) RETURNING rowid`,
      );
      await c.query('INSERT INTO llx_paiementfourn_facturefourn (fk_paiementfourn, fk_facturefourn, amount) VALUES ($1, $2, 20)', [pay!.rowid, inv!.rowid]);
      const partial = await supplierInvoicePayment(c, inv!.rowid);
      assert.deepEqual([partial.state, partial.paid, partial.remaining, partial.payments], ['partially paid', '20.00', '24.99', 1]);
      const ofSupplier = await supplierInvoicesOfThirdpartyBalance(c, soc);
      assert.deepEqual([...new Set(ofSupplier.discrepancies.map((f) => f.invoiceId))], [inv!.rowid, ...others]);
      assert.equal(ofSupplier.discrepancies.filter((f) => f.invoiceId === inv!.rowid).length, 4, 'the payment itself agrees: partial, not flagged paid');
    });
  });

  it('names what a new supplier lacks, and resolves a country by its code', async () => {
    await rolledBack(async (c) => {
      const { rows: [soc] } = await c.query<{ rowid: number }>("INSERT INTO llx_societe (nom, client, fournisseur) VALUES ('Rehearsal Supplies SARL', 0, 1) RETURNING rowid");
      assert.deepEqual((await thirdpartyCompleteness(c, soc!.rowid)).missing, ['country', 'supplier code']);
      await c.query("UPDATE llx_societe SET fk_pays = $2, code_fournisseur = 'SU-RH-0001' WHERE rowid = $1", [soc!.rowid, await countryIdOf(c, 'FR')]);
      assert.deepEqual((await thirdpartyCompleteness(c, soc!.rowid)).missing, []);
      await assert.rejects(countryIdOf(c, 'XX'), /no countries with code "XX"/);
      await c.query("INSERT INTO llx_societe (nom) VALUES ('Rehearsal Supplies SARL')");
      await assert.rejects(thirdpartyNamed(c, 'Rehearsal Supplies SARL'), /2 thirdparties are named "Rehearsal Supplies SARL"/);
      await assert.rejects(thirdpartyNamed(c, 'Nobody SA'), /no thirdparty named "Nobody SA"/);
    });
  });
  it('the known rehearsal write, through the write tooling, has the same totals on every Dolibarr version: the audit and the VAT summary agree', async () => {
    // Each version's stand-in serves this database under the sandbox's name, so the write tooling can reach it.
    const certificate = selfSignedCertificate([sandbox.host]);
    const lookup = ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) =>
      (options.all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4))) as unknown as LookupFunction;
    const instanceId = 'every-version-instance';
    const apiKey = 'every-version-agent-key-0123456789';
    await grantApiAccess(db(), { instanceId, login: 'ai_agent', apiKey, rights: [...AI_AGENT_RIGHTS, RIGHT.societeCreer, RIGHT.factureFournCreer] });
    const write = knownSupplierInvoice(2);
    const totals: Record<string, unknown> = {};
    for (const name of DOLIBARR_PROFILES) {
      const standin = await startDolibarrStandin({
        host: sandbox.host, instanceId, key: certificate.key, cert: certificate.cert, profile: DOLIBARR_VERSIONS[name],
        database: { endpoint, login: await minter!.mint(prod), name: prod.database },
      });
      const tooling = new DolibarrClient({ sandbox, port: standin.port, apiKey, ca: certificate.cert, lookup });
      try {
        assert.equal((await tooling.status()).answersAs, name);
        const period = periodOf(await erpToday(db()));
        const before = await vatSummary(db(), period);
        const written = await writeSupplierInvoice(tooling, write);
        const invoice = await readSupplierInvoice(db(), written.invoiceId);
        totals[name] = { ht: invoice.totalHt, vat: invoice.totalVat, ttc: invoice.totalTtc };
        assert.deepEqual((await auditSupplierInvoice(db(), written.invoiceId)).map(describeDiscrepancy), [], `Dolibarr ${name}`);
        assert.deepEqual(vatGrowth(before, await vatSummary(db(), period)), vatOfLines(write.lines), `Dolibarr ${name}`);
      } finally {
        await tooling.close();
        await standin.close();
      }
    }
    const expected = { ht: '37.50000000', vat: '7.50000000', ttc: '45.00000000' };
    assert.deepEqual(totals, Object.fromEntries(DOLIBARR_PROFILES.map((name) => [name, expected])));
  });
});
