import type { Client } from 'pg';
import type { InvoiceLine } from '../supplier-invoice';
import { decimalOfNumber, formatDecimal, formatRate, parseDecimal, parseRate, percentToCents, productToCents, type Units } from './decimal';

/**
 * The VAT summary of supplier invoices for a period, from the ERP's own tables: per VAT rate, the total before tax
 * (HT), the VAT and the total with tax (TTC) of the lines (`llx_facture_fourn_det`) of the supplier invoices
 * (`llx_facture_fourn`) dated in the period by their invoice date `datef`.
 */

/**
 * fk_statut values that count in the summary: draft, validated, paid (a validated invoice settled); not abandoned (3).
 * Dolibarr's own VAT report leaves drafts out; here they count because a rehearsal's writes are drafts (the API creates
 * `(PROV…)` invoices), and the summary must move when the agent writes one.
 */
export const COUNTED_STATUSES: readonly number[] = [0, 1, 2];

export type PeriodKind = 'year' | 'quarter' | 'month';

/** A period of invoice dates: from `from` (inclusive) until `until` (exclusive), ISO dates. */
export interface VatPeriod {
  /** Canonical: `2026`, `2026-Q2`, `2026-05`. */
  readonly label: string;
  readonly kind: PeriodKind;
  readonly from: string;
  readonly until: string;
}

export class PeriodError extends Error {
  override readonly name = 'PeriodError';
}

const PERIOD = /^(\d{4})(?:-(?:[Qq]([1-4])|(0[1-9]|1[0-2])))?$/;

const pad2 = (n: number) => String(n).padStart(2, '0');
const firstOfMonth = (year: number, month: number) => (month > 12 ? `${year + 1}-01-01` : `${year}-${pad2(month)}-01`);

/** `2026` (a year), `2026-Q2` (a quarter), `2026-05` (a month) → the period; anything else is refused, saying why. */
export function parsePeriod(text: string): VatPeriod {
  const match = PERIOD.exec(text.trim());
  if (!match) {
    throw new PeriodError(`"${text}" is not a VAT period: write a year (2026), a quarter (2026-Q2) or a month (2026-05)`);
  }
  const year = Number(match[1]);
  if (year < 1000 || year > 9998) throw new PeriodError(`"${text}": the year must be between 1000 and 9998`);
  if (match[2] !== undefined) {
    const quarter = Number(match[2]);
    return { label: `${year}-Q${quarter}`, kind: 'quarter', from: firstOfMonth(year, quarter * 3 - 2), until: firstOfMonth(year, quarter * 3 + 1) };
  }
  if (match[3] !== undefined) {
    const month = Number(match[3]);
    return { label: `${year}-${pad2(month)}`, kind: 'month', from: firstOfMonth(year, month), until: firstOfMonth(year, month + 1) };
  }
  return { label: String(year), kind: 'year', from: `${year}-01-01`, until: `${year + 1}-01-01` };
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The quarter (or month, or year) an ISO date `YYYY-MM-DD` falls in. */
export function periodOf(date: string, kind: PeriodKind = 'quarter'): VatPeriod {
  const match = ISO_DATE.exec(date);
  if (!match) throw new PeriodError(`"${date}" is not an ISO date (YYYY-MM-DD)`);
  const [, year, month] = match;
  if (kind === 'year') return parsePeriod(year!);
  if (kind === 'month') return parsePeriod(`${year}-${month}`);
  return parsePeriod(`${year}-Q${Math.ceil(Number(month) / 3)}`);
}

/** Whether the ISO date `date` falls in `period`. */
export function inPeriod(period: VatPeriod, date: string): boolean {
  return date >= period.from && date < period.until;
}

/** Amounts of one VAT rate, as exact decimal text (at least two decimals). */
export interface VatAmounts {
  /** The rate in percent: "20", "5.5", "0". */
  readonly rate: string;
  readonly ht: string;
  readonly vat: string;
  readonly ttc: string;
}

export interface VatRateTotals extends VatAmounts {
  readonly lines: number;
  readonly invoices: number;
}

export interface VatSummary {
  readonly period: string;
  /** By rate, lowest first; only rates with at least one line. */
  readonly rates: readonly VatRateTotals[];
  readonly total: { readonly ht: string; readonly vat: string; readonly ttc: string };
}

interface RateRow {
  rate: string;
  ht: string;
  vat: string;
  ttc: string;
  lines: number;
  invoices: number;
}

/**
 * The VAT summary of `period`, read through `client`: the invoices of `statuses` dated in it (none without a date),
 * credit notes with their negative amounts. Lines are grouped by `tva_tx` (5.5 and 5.50 are one rate), the TTC is the
 * lines' own `total_ttc` (local taxes included), and the sums are PostgreSQL's exact numeric ones, handed over as text.
 */
export async function vatSummary(client: Client, period: VatPeriod, statuses: readonly number[] = COUNTED_STATUSES): Promise<VatSummary> {
  const { rows } = await client.query<RateRow>(
    `SELECT COALESCE(d.tva_tx, 0)::text AS rate,
            COALESCE(sum(d.total_ht), 0)::text AS ht, COALESCE(sum(d.tva), 0)::text AS vat,
            COALESCE(sum(d.total_ttc), 0)::text AS ttc,
            count(*)::int AS lines, count(DISTINCT f.rowid)::int AS invoices
       FROM llx_facture_fourn f
       JOIN llx_facture_fourn_det d ON d.fk_facture_fourn = f.rowid
      WHERE f.datef >= $1::date AND f.datef < $2::date AND f.fk_statut = ANY($3::int[])
      GROUP BY COALESCE(d.tva_tx, 0)
      ORDER BY COALESCE(d.tva_tx, 0)`,
    [period.from, period.until, [...statuses]],
  );
  const rates = rows.map((row) => ({
    rate: formatRate(parseRate(row.rate)),
    ht: formatDecimal(parseDecimal(row.ht)),
    vat: formatDecimal(parseDecimal(row.vat)),
    ttc: formatDecimal(parseDecimal(row.ttc)),
    lines: row.lines,
    invoices: row.invoices,
  }));
  return { period: period.label, rates, total: totalOf(rates) };
}

/** Today's date on the ERP's database (`current_date`), ISO: the date the API gives an invoice created now. */
export async function erpToday(client: Client): Promise<string> {
  const { rows } = await client.query<{ today: string }>('SELECT current_date::text AS today');
  return rows[0]!.today;
}

function totalOf(rates: readonly VatAmounts[]) {
  const add = (pick: (amounts: VatAmounts) => string) => formatDecimal(rates.reduce((sum, rate) => sum + parseDecimal(pick(rate)), 0n));
  return { ht: add((r) => r.ht), vat: add((r) => r.vat), ttc: add((r) => r.ttc) };
}

interface Exact {
  ht: Units;
  vat: Units;
  ttc: Units;
}

function byRate(amounts: readonly VatAmounts[]): Map<string, Exact> {
  const map = new Map<string, Exact>();
  for (const { rate, ht, vat, ttc } of amounts) {
    const key = formatRate(parseRate(rate));
    const into = map.get(key) ?? { ht: 0n, vat: 0n, ttc: 0n };
    map.set(key, { ht: into.ht + parseDecimal(ht), vat: into.vat + parseDecimal(vat), ttc: into.ttc + parseDecimal(ttc) });
  }
  return map;
}

function listOf(map: Map<string, Exact>): VatAmounts[] {
  return [...map.entries()]
    .filter(([, { ht, vat, ttc }]) => ht !== 0n || vat !== 0n || ttc !== 0n)
    .sort(([a], [b]) => {
      const [x, y] = [parseRate(a), parseRate(b)];
      return x < y ? -1 : x > y ? 1 : 0;
    })
    .map(([rate, { ht, vat, ttc }]) => ({ rate, ht: formatDecimal(ht), vat: formatDecimal(vat), ttc: formatDecimal(ttc) }));
}

/** Amounts per rate in canonical form (rates merged, zero rows dropped, lowest rate first): what growth is compared as. */
export function canonicalAmounts(amounts: readonly VatAmounts[]): VatAmounts[] {
  return listOf(byRate(amounts));
}

/** What changed from `before` to `after`, per rate (after − before), rates that did not move left out. */
export function vatGrowth(before: VatSummary, after: VatSummary): VatAmounts[] {
  const diff = byRate(after.rates);
  for (const [rate, amounts] of byRate(before.rates)) {
    const into = diff.get(rate) ?? { ht: 0n, vat: 0n, ttc: 0n };
    diff.set(rate, { ht: into.ht - amounts.ht, vat: into.vat - amounts.vat, ttc: into.ttc - amounts.ttc });
  }
  return listOf(diff);
}

/**
 * What lines add to the VAT summary once Dolibarr has priced them: per line HT = round(quantity × unit price, 2),
 * VAT = round(HT × rate / 100, 2), TTC = HT + VAT (no discount, no local tax: what the known rehearsal write sends).
 */
export function vatOfLines(lines: readonly InvoiceLine[]): VatAmounts[] {
  return canonicalAmounts(
    lines.map((line) => {
      const rate = decimalOfNumber(line.vatRate);
      const ht = productToCents(decimalOfNumber(line.quantity), decimalOfNumber(line.unitPrice));
      const vat = percentToCents(ht, rate);
      return { rate: formatRate(rate), ht: formatDecimal(ht), vat: formatDecimal(vat), ttc: formatDecimal(ht + vat) };
    }),
  );
}

/** A summary in one line, for the report: `2026-Q4: 20 % HT 37.50 VAT 7.50 TTC 45.00`. */
export function describeAmounts(amounts: readonly VatAmounts[]): string {
  if (amounts.length === 0) return 'nothing';
  return amounts.map((a) => `${a.rate} %: HT ${a.ht}, VAT ${a.vat}, TTC ${a.ttc}`).join('; ');
}

/** The invoice date (`datef`, ISO) of the supplier invoice `invoiceId`; an error when it has none or does not exist. */
export async function supplierInvoiceDate(client: Client, invoiceId: number): Promise<string> {
  const { rows } = await client.query<{ datef: string | null }>('SELECT datef::text AS datef FROM llx_facture_fourn WHERE rowid = $1', [invoiceId]);
  if (rows.length === 0) throw new Error(`no supplier invoice with rowid ${invoiceId} in llx_facture_fourn`);
  if (rows[0]!.datef === null) throw new Error(`supplier invoice ${invoiceId} has no invoice date (datef): it is in no VAT period`);
  return rows[0]!.datef;
}
