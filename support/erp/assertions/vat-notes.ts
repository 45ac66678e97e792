import { expect } from 'chai';
import type { Client } from 'pg';
import { knownSupplierInvoice, rehearsedInvoice, type WrittenSupplierInvoice } from '../supplier-invoice';
import { formatDecimal, formatRate, parseDecimal, parseRate } from './decimal';
import {
  canonicalAmounts,
  describeAmounts,
  erpToday,
  inPeriod,
  periodOf,
  supplierInvoiceDate,
  vatGrowth,
  vatOfLines,
  vatSummary,
  type VatAmounts,
  type VatPeriod,
  type VatSummary,
} from './vat-summary';

/**
 * VAT summaries noted before a write and compared after it: a scenario notes the summary of a period by the name its
 * feature gives it, then checks that the summary is unchanged or grew by exactly what was written. The notes
 * themselves stay with the scenario; these functions read the sandbox through the question runner they are handed.
 */

/** Runs a question in the sandbox database, as the scenario reads it. */
export type InSandbox = <T>(work: (client: Client) => Promise<T>) => Promise<T>;

/** A VAT summary as noted, with the period it was noted for. */
export interface VatNote {
  readonly period: VatPeriod;
  readonly summary: VatSummary;
}

/** The name the rehearsed invoice's period is noted under: the steps name it in words, not as a quoted period. */
export const REHEARSED_PERIOD = "the rehearsed invoice's period";

/** The note taken under `name`; an error saying which step notes it when there is none. */
export function notedVat(notes: ReadonlyMap<string, VatNote>, name: string): VatNote {
  const found = notes.get(name);
  const quoted = name === REHEARSED_PERIOD ? name : `"${name}"`;
  if (!found) throw new Error(`the VAT summary for ${quoted} was not noted: add "Given the VAT summary for ${quoted} is noted" before the write`);
  return found;
}

/** The VAT summary of `period` as the sandbox has it now, to be noted. */
export async function noteVat(inSandbox: InSandbox, period: VatPeriod): Promise<VatNote> {
  return { period, summary: await inSandbox((client) => vatSummary(client, period)) };
}

/** A note in one line, for the report. */
export function describeNote({ period, summary }: VatNote): string {
  return `VAT summary ${period.label} noted: ${describeAmounts(summary.rates)}`;
}

/**
 * The period "the rehearsed invoice's period" stands for: the quarter of today on the ERP, since Dolibarr dates an
 * invoice created through its API today (the stand-in too).
 */
async function rehearsedPeriod(inSandbox: InSandbox): Promise<VatPeriod> {
  return periodOf(await inSandbox(erpToday), 'quarter');
}

/** The VAT summary of the rehearsed invoice's period as the sandbox has it now, to be noted. */
export async function noteRehearsedPeriodVat(inSandbox: InSandbox): Promise<VatNote> {
  return noteVat(inSandbox, await rehearsedPeriod(inSandbox));
}

/** Checks that the summary of the noted period is exactly as noted, naming what moved when it is not. */
export async function expectVatUnchanged(inSandbox: InSandbox, { period, summary }: VatNote): Promise<void> {
  const now = await inSandbox((client) => vatSummary(client, period));
  expect(now, `the VAT summary for ${period.label} (changed by: ${describeAmounts(vatGrowth(summary, now))})`).to.deep.equal(summary);
}

/**
 * Checks that the summary of the noted period grew by exactly `expected` per rate (`what` says where the amounts come
 * from, for the message); returns the growth in one line, as evidence for the report.
 */
export async function expectVatGrowth(inSandbox: InSandbox, { period, summary }: VatNote, expected: readonly VatAmounts[], what: string): Promise<string> {
  const now = await inSandbox((client) => vatSummary(client, period));
  const growth = vatGrowth(summary, now);
  const wanted = canonicalAmounts(expected);
  expect(growth, `the VAT summary for ${period.label} grew by ${describeAmounts(growth)}; ${what}: ${describeAmounts(wanted)}`).to.deep.equal(wanted);
  return `VAT ${period.label} grew by ${describeAmounts(growth)}`;
}

/**
 * What the rehearsed invoice must add to `period`: the known write's lines, priced as Dolibarr does; an error when the
 * invoice is dated outside the period.
 */
export async function rehearsedInvoiceAmounts(inSandbox: InSandbox, written: WrittenSupplierInvoice | undefined, period: VatPeriod): Promise<VatAmounts[]> {
  const invoice = rehearsedInvoice(written);
  const dated = await inSandbox((client) => supplierInvoiceDate(client, invoice.invoiceId));
  expect(inPeriod(period, dated), `the rehearsed invoice is dated ${dated}, in ${period.label}`).to.equal(true);
  return vatOfLines(knownSupplierInvoice(invoice.lineIds.length).lines);
}

/** Checks that the summary of the noted period grew by exactly what the rehearsed invoice adds; returns the evidence. */
export async function expectVatGrowthByRehearsedInvoice(inSandbox: InSandbox, note: VatNote, written: WrittenSupplierInvoice | undefined): Promise<string> {
  return expectVatGrowth(inSandbox, note, await rehearsedInvoiceAmounts(inSandbox, written, note.period), 'the rehearsed invoice adds');
}

/** A table as a feature gives it: its rows by header, and its raw cells (for the header of a table without rows). */
export interface AmountsTable {
  hashes(): Record<string, string>[];
  raw(): string[][];
}

/** Rows `rate | HT | VAT | TTC` → amounts, each checked (an exact decimal; the rate may end in %). */
export function vatAmountsOfTable(table: AmountsTable): VatAmounts[] {
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
