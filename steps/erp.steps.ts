import { Given, Then, When, type DataTable } from '@cucumber/cucumber';
import { expect } from 'chai';
import { CENT, formatDecimal, formatRate, parseDecimal, parseRate, toCents } from '../support/erp/assertions/decimal';
import { describeDiscrepancy, expectBalanced, readSupplierInvoice } from '../support/erp/assertions/invoice-audit';
import { expectUnpaid, supplierInvoicePayment, supplierInvoicesOfThirdpartyBalance } from '../support/erp/assertions/payment-state';
import { thirdpartyCompleteness, thirdpartyNamed } from '../support/erp/assertions/thirdparty-completeness';
import {
  canonicalAmounts,
  describeAmounts,
  erpToday,
  inPeriod,
  parsePeriod,
  periodOf,
  supplierInvoiceDate,
  vatGrowth,
  vatOfLines,
  vatSummary,
  type VatAmounts,
  type VatPeriod,
} from '../support/erp/assertions/vat-summary';
import { knownSupplierInvoice, rehearsedInvoice, rehearsedThirdpartyId } from '../support/erp/supplier-invoice';
import { completeSupplier, countryIdOf } from '../support/erp/thirdparty-details';
import type { RehearsalWorld } from '../support/world';

// Domain assertions: what the ERP's own books say, read from its tables through the scenario's sandbox login
// (support/erp/assertions/). Thin: each step resolves what the scenario names, calls support/, asserts.

const REHEARSED_PERIOD = "the rehearsed invoice's period";

function noted(world: RehearsalWorld, name: string) {
  const found = world.vatNotes.get(name);
  const quoted = name === REHEARSED_PERIOD ? name : `"${name}"`;
  if (!found) throw new Error(`the VAT summary for ${quoted} was not noted: add "Given the VAT summary for ${quoted} is noted" before the write`);
  return found;
}

async function note(world: RehearsalWorld, name: string, period: VatPeriod): Promise<void> {
  const summary = await world.inSandbox((client) => vatSummary(client, period));
  world.vatNotes.set(name, { period, summary });
  world.attach(`VAT summary ${period.label} noted: ${describeAmounts(summary.rates)}`, 'text/plain');
}

/**
 * The period "the rehearsed invoice's period" stands for: the quarter of today on the ERP, since Dolibarr dates an
 * invoice created through its API today (the stand-in too).
 */
async function rehearsedPeriod(world: RehearsalWorld): Promise<VatPeriod> {
  return periodOf(await world.inSandbox(erpToday), 'quarter');
}

async function assertUnchanged(world: RehearsalWorld, name: string): Promise<void> {
  const { period, summary } = noted(world, name);
  const now = await world.inSandbox((client) => vatSummary(client, period));
  expect(now, `the VAT summary for ${period.label} (changed by: ${describeAmounts(vatGrowth(summary, now))})`).to.deep.equal(summary);
}

async function assertGrowth(world: RehearsalWorld, name: string, expected: readonly VatAmounts[], what: string): Promise<void> {
  const { period, summary } = noted(world, name);
  const now = await world.inSandbox((client) => vatSummary(client, period));
  const growth = vatGrowth(summary, now);
  const wanted = canonicalAmounts(expected);
  expect(growth, `the VAT summary for ${period.label} grew by ${describeAmounts(growth)}; ${what}: ${describeAmounts(wanted)}`).to.deep.equal(wanted);
  world.evidence(`VAT ${period.label} grew by ${describeAmounts(growth)}`);
}

/** What the rehearsed invoice must add: the known write's lines (steps/dolibarr.steps.ts), priced as Dolibarr does. */
async function rehearsedInvoiceAmounts(world: RehearsalWorld, period: VatPeriod): Promise<VatAmounts[]> {
  const written = rehearsedInvoice(world.written);
  const dated = await world.inSandbox((client) => supplierInvoiceDate(client, written.invoiceId));
  expect(inPeriod(period, dated), `the rehearsed invoice is dated ${dated}, in ${period.label}`).to.equal(true);
  return vatOfLines(knownSupplierInvoice(written.lineIds.length).lines);
}

/** Rows `rate | HT | VAT | TTC` → amounts, each checked (an exact decimal; the rate may end in %). */
function amountsOf(table: DataTable): VatAmounts[] {
  const rows = table.hashes();
  const columns = ['rate', 'HT', 'VAT', 'TTC'];
  const header = rows.length > 0 ? Object.keys(rows[0]!) : table.raw()[0] ?? [];
  expect(header, 'the columns of the VAT table').to.deep.equal(columns);
  return rows.map((row) => ({
    rate: formatRate(parseRate(row['rate']!)),
    ht: formatDecimal(parseDecimal(row['HT']!)),
    vat: formatDecimal(parseDecimal(row['VAT']!)),
    ttc: formatDecimal(parseDecimal(row['TTC']!)),
  }));
}

// --- VAT summary ------------------------------------------------------------------------------------------------

/**
 * Notes the VAT summary of supplier invoices for a period (a year, a quarter or a month), for a later comparison.
 *
 * @example Given the VAT summary for "2026-Q2" is noted
 */
Given('the VAT summary for {string} is noted', async function (this: RehearsalWorld, period: string) {
  await note(this, period, parsePeriod(period));
});

/**
 * Notes the VAT summary for the quarter a supplier invoice written now falls in (today on the ERP), for a later
 * comparison.
 *
 * @example Given the VAT summary for the rehearsed invoice's period is noted
 */
Given("the VAT summary for the rehearsed invoice's period is noted", async function (this: RehearsalWorld) {
  await note(this, REHEARSED_PERIOD, await rehearsedPeriod(this));
});

/**
 * Checks that the VAT summary for a period is exactly as noted: every rate, amount, line and invoice count.
 *
 * @example Then the VAT summary for "2025" is unchanged
 */
Then('the VAT summary for {string} is unchanged', async function (this: RehearsalWorld, period: string) {
  await assertUnchanged(this, period);
});

/**
 * Checks that the VAT summary for the rehearsed invoice's period is exactly as noted (after a reset, say).
 *
 * @example Then the VAT summary for the rehearsed invoice's period is unchanged
 */
Then("the VAT summary for the rehearsed invoice's period is unchanged", async function (this: RehearsalWorld) {
  await assertUnchanged(this, REHEARSED_PERIOD);
});

/**
 * Checks that the VAT summary for a period grew, per rate, by exactly what the rehearsed supplier invoice's lines add.
 *
 * @example Then the VAT summary for "2026-Q4" grew by exactly the rehearsed invoice
 */
Then('the VAT summary for {string} grew by exactly the rehearsed invoice', async function (this: RehearsalWorld, period: string) {
  await assertGrowth(this, period, await rehearsedInvoiceAmounts(this, noted(this, period).period), 'the rehearsed invoice adds');
});

/**
 * Checks that the VAT summary for the rehearsed invoice's period grew, per rate, by exactly what its lines add.
 *
 * @example Then the VAT summary for the rehearsed invoice's period grew by exactly the rehearsed invoice
 */
Then(
  "the VAT summary for the rehearsed invoice's period grew by exactly the rehearsed invoice",
  async function (this: RehearsalWorld) {
    await assertGrowth(this, REHEARSED_PERIOD, await rehearsedInvoiceAmounts(this, noted(this, REHEARSED_PERIOD).period), 'the rehearsed invoice adds');
  },
);

/**
 * Checks that the VAT summary for a period grew by exactly the amounts of a table (rate | HT | VAT | TTC), rates not
 * listed unchanged.
 *
 * @example Then the VAT summary for "2026-Q4" grew by exactly:
 *   | rate | HT    | VAT  | TTC   |
 *   | 20   | 37.50 | 7.50 | 45.00 |
 */
Then('the VAT summary for {string} grew by exactly:', async function (this: RehearsalWorld, period: string, table: DataTable) {
  await assertGrowth(this, period, amountsOf(table), 'the table says');
});

/**
 * Checks that the VAT summary for the rehearsed invoice's period grew by exactly the amounts of a table (rate | HT |
 * VAT | TTC).
 *
 * @example Then the VAT summary for the rehearsed invoice's period grew by exactly:
 *   | rate | HT    | VAT  | TTC   |
 *   | 20   | 37.50 | 7.50 | 45.00 |
 */
Then("the VAT summary for the rehearsed invoice's period grew by exactly:", async function (this: RehearsalWorld, table: DataTable) {
  await assertGrowth(this, REHEARSED_PERIOD, amountsOf(table), 'the table says');
});

// --- invoices: audit and payment ----------------------------------------------------------------------------------

/**
 * Checks that the rehearsed supplier invoice balances: header totals equal the sums of its lines, each line's VAT its
 * rate.
 *
 * @example Then the rehearsed supplier invoice balances
 */
Then('the rehearsed supplier invoice balances', async function (this: RehearsalWorld) {
  const { invoiceId } = rehearsedInvoice(this.written);
  this.attach(expectBalanced(await this.inSandbox((client) => readSupplierInvoice(client, invoiceId))), 'text/plain');
});

/**
 * Checks the rehearsed supplier invoice's total including VAT, to the cent, as the ERP stored it.
 *
 * @example Then the rehearsed supplier invoice totals 45.00 € including VAT
 */
Then('the rehearsed supplier invoice totals {amount} including VAT', async function (this: RehearsalWorld, cents: number) {
  const { invoiceId } = rehearsedInvoice(this.written);
  const invoice = await this.inSandbox((client) => readSupplierInvoice(client, invoiceId));
  expect(formatDecimal(toCents(parseDecimal(invoice.totalTtc))), `the total TTC of ${invoice.ref}`).to.equal(formatDecimal(BigInt(cents) * CENT));
});

/**
 * Checks that the rehearsed supplier invoice is unpaid: no payment linked to it, not flagged paid.
 *
 * @example Then the rehearsed supplier invoice is unpaid
 */
Then('the rehearsed supplier invoice is unpaid', async function (this: RehearsalWorld) {
  const { invoiceId } = rehearsedInvoice(this.written);
  expectUnpaid(await this.inSandbox((client) => supplierInvoicePayment(client, invoiceId)));
});

/**
 * Checks that every supplier invoice of the thirdparty named so balances: totals, VAT, and payments against its paid
 * flag.
 *
 * @example Then every supplier invoice of thirdparty "Rehearsal Supplies SARL" balances
 */
Then('every supplier invoice of thirdparty {string} balances', async function (this: RehearsalWorld, name: string) {
  const { invoices, discrepancies } = await this.inSandbox(async (client) => supplierInvoicesOfThirdpartyBalance(client, await thirdpartyNamed(client, name)));
  expect(invoices, `supplier invoices of thirdparty "${name}"`).to.be.greaterThan(0);
  expect(discrepancies.map(describeDiscrepancy), `what does not balance among the ${invoices} supplier invoices of "${name}"`).to.deep.equal([]);
});

// --- thirdparties ------------------------------------------------------------------------------------------------

/**
 * Checks that the thirdparty named so has every required field (name, country, a supplier's or customer's code).
 *
 * @example Then thirdparty "Rehearsal Supplies SARL" is complete
 */
Then('thirdparty {string} is complete', async function (this: RehearsalWorld, name: string) {
  const { missing } = await this.inSandbox(async (client) => thirdpartyCompleteness(client, await thirdpartyNamed(client, name)));
  expect(missing, `what thirdparty "${name}" lacks`).to.deep.equal([]);
});

/**
 * Checks that the thirdparty the rehearsal created has every required field (name, country, supplier code).
 *
 * @example Then the rehearsed thirdparty is complete
 */
Then('the rehearsed thirdparty is complete', async function (this: RehearsalWorld) {
  const id = rehearsedThirdpartyId(this.written);
  const { name, missing } = await this.inSandbox((client) => thirdpartyCompleteness(client, id));
  expect(missing, `what the rehearsed thirdparty "${name}" (rowid ${id}) lacks`).to.deep.equal([]);
});

/**
 * The agent gives the thirdparty it created a country (ISO code) and a supplier code, through the sandbox's Dolibarr
 * API.
 *
 * @example When the agent completes the rehearsed thirdparty with country "FR" and supplier code "SU-RH-0001" through the sandbox's Dolibarr
 */
When(
  "the agent completes the rehearsed thirdparty with country {string} and supplier code {string} through the sandbox's Dolibarr",
  async function (this: RehearsalWorld, country: string, supplierCode: string) {
    const id = rehearsedThirdpartyId(this.written);
    const countryId = await this.inSandbox((client) => countryIdOf(client, country));
    await completeSupplier(this.writeTooling(), id, { countryId, supplierCode });
  },
);
