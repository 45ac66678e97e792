import { expect } from 'chai';
import type { Client } from 'pg';
import { formatDecimal, parseDecimal, percentToCents, sameCents, sum, withinACent, type Units } from './decimal';

/**
 * The audit of a supplier invoice, from the ERP's own tables (`llx_facture_fourn` and its lines
 * `llx_facture_fourn_det`): whether its header's totals are the sums of its lines' and each total adds up, to the cent.
 * It returns one discrepancy per difference, naming the invoice (ref and rowid), the line when it is one, and both
 * amounts; an empty list means the invoice balances.
 */

export interface AuditedLine {
  readonly rowid: number;
  /** VAT rate in percent, numeric text. */
  readonly rate: string;
  readonly totalHt: string;
  readonly vat: string;
  readonly localtax1: string;
  readonly localtax2: string;
  readonly totalTtc: string;
}

export interface AuditedInvoice {
  readonly rowid: number;
  readonly ref: string;
  readonly totalHt: string;
  readonly totalVat: string;
  readonly localtax1: string;
  readonly localtax2: string;
  readonly totalTtc: string;
  readonly lines: readonly AuditedLine[];
}

export interface Discrepancy {
  readonly invoiceId: number;
  readonly ref: string;
  /** The line's rowid, when the discrepancy is a line's. */
  readonly line?: number;
  /** What was checked, e.g. "total_ht = sum of the lines' total_ht". */
  readonly check: string;
  readonly expected: string;
  readonly actual: string;
}

/** `SI2501-0042 (rowid 42), line 7: tva = round(total_ht × tva_tx / 100, 2) within a cent: expected 2.50, found 2.60`. */
export function describeDiscrepancy(d: Discrepancy): string {
  return `${d.ref} (rowid ${d.invoiceId})${d.line === undefined ? '' : `, line ${d.line}`}: ${d.check}: expected ${d.expected}, found ${d.actual}`;
}

const HEADER_SUMS: readonly [header: keyof AuditedInvoice & string, line: keyof AuditedLine & string, column: string, lineColumn: string][] = [
  ['totalHt', 'totalHt', 'total_ht', 'total_ht'],
  ['totalVat', 'vat', 'total_tva', 'tva'],
  ['localtax1', 'localtax1', 'localtax1', 'total_localtax1'],
  ['localtax2', 'localtax2', 'localtax2', 'total_localtax2'],
  ['totalTtc', 'totalTtc', 'total_ttc', 'total_ttc'],
];

/** The discrepancies of one invoice (pure: the rows as read; exact arithmetic, decimal.ts; no lines: zero totals). */
export function auditInvoice(invoice: AuditedInvoice): Discrepancy[] {
  const found: Discrepancy[] = [];
  const at = { invoiceId: invoice.rowid, ref: invoice.ref };
  const fmt = (units: Units) => formatDecimal(units);
  for (const [header, line, column, lineColumn] of HEADER_SUMS) {
    const actual = parseDecimal(invoice[header] as string);
    const expected = sum(invoice.lines.map((l) => parseDecimal(l[line] as string)));
    if (!sameCents(actual, expected)) found.push({ ...at, check: `${column} = sum of the lines' ${lineColumn}`, expected: fmt(expected), actual: fmt(actual) });
  }
  const [ht, vat, lt1, lt2, ttc] = [invoice.totalHt, invoice.totalVat, invoice.localtax1, invoice.localtax2, invoice.totalTtc].map(parseDecimal) as [Units, Units, Units, Units, Units];
  if (!sameCents(ttc, ht + vat + lt1 + lt2)) {
    found.push({ ...at, check: 'total_ttc = total_ht + total_tva + localtax1 + localtax2', expected: fmt(ht + vat + lt1 + lt2), actual: fmt(ttc) });
  }
  for (const l of invoice.lines) {
    const lineAt = { ...at, line: l.rowid };
    const lineHt = parseDecimal(l.totalHt);
    const lineVat = parseDecimal(l.vat);
    const expectedVat = percentToCents(lineHt, parseDecimal(l.rate));
    // Within a cent: Dolibarr may round per unit.
    if (!withinACent(lineVat, expectedVat)) {
      found.push({ ...lineAt, check: `tva = round(total_ht × tva_tx / 100, 2) within a cent (tva_tx ${formatDecimal(parseDecimal(l.rate), 0)})`, expected: fmt(expectedVat), actual: fmt(lineVat) });
    }
    const lineTtc = lineHt + lineVat + parseDecimal(l.localtax1) + parseDecimal(l.localtax2);
    if (!sameCents(parseDecimal(l.totalTtc), lineTtc)) {
      found.push({ ...lineAt, check: 'total_ttc = total_ht + tva + total_localtax1 + total_localtax2', expected: fmt(lineTtc), actual: fmt(parseDecimal(l.totalTtc)) });
    }
  }
  return found;
}

interface InvoiceRow {
  rowid: number;
  ref: string;
  total_ht: string;
  total_tva: string;
  localtax1: string;
  localtax2: string;
  total_ttc: string;
  lines: AuditedLine[];
}

/**
 * Supplier invoices with their lines, in one statement (one snapshot), selected by `where` on `llx_facture_fourn f`
 * with `values`. Missing amounts read as 0.
 */
async function readInvoices(client: Client, where: string, values: unknown[]): Promise<AuditedInvoice[]> {
  const { rows } = await client.query<InvoiceRow>(
    `SELECT f.rowid, f.ref,
            COALESCE(f.total_ht, 0)::text AS total_ht, COALESCE(f.total_tva, 0)::text AS total_tva,
            COALESCE(f.localtax1, 0)::text AS localtax1, COALESCE(f.localtax2, 0)::text AS localtax2,
            COALESCE(f.total_ttc, 0)::text AS total_ttc,
            COALESCE((SELECT json_agg(json_build_object(
                        'rowid', d.rowid, 'rate', COALESCE(d.tva_tx, 0)::text,
                        'totalHt', COALESCE(d.total_ht, 0)::text, 'vat', COALESCE(d.tva, 0)::text,
                        'localtax1', COALESCE(d.total_localtax1, 0)::text, 'localtax2', COALESCE(d.total_localtax2, 0)::text,
                        'totalTtc', COALESCE(d.total_ttc, 0)::text) ORDER BY d.rang, d.rowid)
                        FROM llx_facture_fourn_det d WHERE d.fk_facture_fourn = f.rowid), '[]'::json) AS lines
       FROM llx_facture_fourn f
      WHERE ${where}
      ORDER BY f.rowid`,
    values,
  );
  return rows.map((row) => ({
    rowid: row.rowid,
    ref: row.ref,
    totalHt: row.total_ht,
    totalVat: row.total_tva,
    localtax1: row.localtax1,
    localtax2: row.localtax2,
    totalTtc: row.total_ttc,
    lines: row.lines,
  }));
}

/** The supplier invoice `invoiceId` as the audit reads it; an error when there is none. */
export async function readSupplierInvoice(client: Client, invoiceId: number): Promise<AuditedInvoice> {
  const [invoice] = await readInvoices(client, 'f.rowid = $1', [invoiceId]);
  if (!invoice) throw new Error(`no supplier invoice with rowid ${invoiceId} in llx_facture_fourn`);
  return invoice;
}

/** Every supplier invoice of the thirdparty `thirdpartyId` (`fk_soc`), by rowid. */
export function readSupplierInvoicesOf(client: Client, thirdpartyId: number): Promise<AuditedInvoice[]> {
  return readInvoices(client, 'f.fk_soc = $1', [thirdpartyId]);
}

/** The discrepancies of the supplier invoice `invoiceId` (empty: it balances). */
export async function auditSupplierInvoice(client: Client, invoiceId: number): Promise<Discrepancy[]> {
  return auditInvoice(await readSupplierInvoice(client, invoiceId));
}

/** The invoice balances (its audit finds nothing); its totals as one line for the report. */
export function expectBalanced(invoice: AuditedInvoice): string {
  expect(auditInvoice(invoice).map(describeDiscrepancy), `what does not balance in ${invoice.ref}`).to.deep.equal([]);
  return `${invoice.ref}: HT ${formatDecimal(parseDecimal(invoice.totalHt))}, VAT ${formatDecimal(parseDecimal(invoice.totalVat))}, TTC ${formatDecimal(parseDecimal(invoice.totalTtc))}, ${invoice.lines.length} lines`;
}
