import { Given, Then, When, type DataTable } from '@cucumber/cucumber';
import { expect } from 'chai';
import { CENT, formatDecimal, parseDecimal, toCents } from '../support/erp/assertions/decimal';
import { describeDiscrepancy, expectBalanced, readSupplierInvoice } from '../support/erp/assertions/invoice-audit';
import { expectUnpaid, supplierInvoicePayment, supplierInvoicesOfThirdpartyBalance } from '../support/erp/assertions/payment-state';
import { thirdpartyCompleteness, thirdpartyNamed } from '../support/erp/assertions/thirdparty-completeness';
import {
  describeNote,
  expectVatGrowth,
  expectVatGrowthByRehearsedInvoice,
  expectVatUnchanged,
  notedVat,
  noteRehearsedPeriodVat,
  noteVat,
  REHEARSED_PERIOD,
  vatAmountsOfTable,
} from '../support/erp/assertions/vat-notes';
import { parsePeriod } from '../support/erp/assertions/vat-summary';
import { rehearsedInvoice, rehearsedThirdpartyId } from '../support/erp/supplier-invoice';
import { completeSupplier, countryIdOf } from '../support/erp/thirdparty-details';
import type { RehearsalWorld } from '../support/world';

// Domain assertions: what the ERP's own books say, read from its tables through the scenario's sandbox login
// (support/erp/assertions/). Thin: each step resolves what the scenario names, calls support/, asserts.

// --- VAT summary ------------------------------------------------------------------------------------------------

/**
 * Notes the VAT summary of supplier invoices for a period (a year, a quarter or a month), for a later comparison.
 *
 * @example Given the VAT summary for "2026-Q2" is noted
 */
Given('the VAT summary for {string} is noted', async function (this: RehearsalWorld, period: string) {
  const noted = await noteVat(this.inSandbox.bind(this), parsePeriod(period));
  this.vatNotes.set(period, noted);
  this.attach(describeNote(noted), 'text/plain');
});

/**
 * Notes the VAT summary for the quarter a supplier invoice written now falls in (today on the ERP), for a later
 * comparison.
 *
 * @example Given the VAT summary for the rehearsed invoice's period is noted
 */
Given("the VAT summary for the rehearsed invoice's period is noted", async function (this: RehearsalWorld) {
  const noted = await noteRehearsedPeriodVat(this.inSandbox.bind(this));
  this.vatNotes.set(REHEARSED_PERIOD, noted);
  this.attach(describeNote(noted), 'text/plain');
});

/**
 * Checks that the VAT summary for a period is exactly as noted: every rate, amount, line and invoice count.
 *
 * @example Then the VAT summary for "2025" is unchanged
 */
Then('the VAT summary for {string} is unchanged', async function (this: RehearsalWorld, period: string) {
  await expectVatUnchanged(this.inSandbox.bind(this), notedVat(this.vatNotes, period));
});

/**
 * Checks that the VAT summary for the rehearsed invoice's period is exactly as noted (after a reset, say).
 *
 * @example Then the VAT summary for the rehearsed invoice's period is unchanged
 */
Then("the VAT summary for the rehearsed invoice's period is unchanged", async function (this: RehearsalWorld) {
  await expectVatUnchanged(this.inSandbox.bind(this), notedVat(this.vatNotes, REHEARSED_PERIOD));
});

/**
 * Checks that the VAT summary for a period grew, per rate, by exactly what the rehearsed supplier invoice's lines add.
 *
 * @example Then the VAT summary for "2026-Q4" grew by exactly the rehearsed invoice
 */
Then('the VAT summary for {string} grew by exactly the rehearsed invoice', async function (this: RehearsalWorld, period: string) {
  this.evidence(await expectVatGrowthByRehearsedInvoice(this.inSandbox.bind(this), notedVat(this.vatNotes, period), this.written));
});

/**
 * Checks that the VAT summary for the rehearsed invoice's period grew, per rate, by exactly what its lines add.
 *
 * @example Then the VAT summary for the rehearsed invoice's period grew by exactly the rehearsed invoice
 */
Then(
  "the VAT summary for the rehearsed invoice's period grew by exactly the rehearsed invoice",
  async function (this: RehearsalWorld) {
    this.evidence(await expectVatGrowthByRehearsedInvoice(this.inSandbox.bind(this), notedVat(this.vatNotes, REHEARSED_PERIOD), this.written));
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
  const expected = vatAmountsOfTable(table);
  this.evidence(await expectVatGrowth(this.inSandbox.bind(this), notedVat(this.vatNotes, period), expected, 'the table says'));
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
  const expected = vatAmountsOfTable(table);
  this.evidence(await expectVatGrowth(this.inSandbox.bind(this), notedVat(this.vatNotes, REHEARSED_PERIOD), expected, 'the table says'));
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
