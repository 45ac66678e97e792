import type { DolibarrClient } from '../dolibarr/client';

/**
 * A known rehearsal write, as the agent's write tooling makes it through Dolibarr's API: a new thirdparty
 * (a supplier), then a supplier invoice with its lines. Dolibarr computes the totals from the lines.
 */

/**
 * A line as the API takes it. The unit price goes in both `pu_ht` and `subprice`: 19 reads `pu_ht` only (a line with
 * `subprice` alone is priced 0 there), 23 computes from `subprice` (support/dolibarr/versions.ts).
 */
export function apiLine(line: InvoiceLine): Record<string, unknown> {
  return { description: line.description, qty: line.quantity, pu_ht: line.unitPrice, subprice: line.unitPrice, tva_tx: line.vatRate };
}

export interface InvoiceLine {
  readonly description: string;
  readonly quantity: number;
  /** Unit price before tax, in euros. */
  readonly unitPrice: number;
  /** VAT rate in percent, e.g. 20. */
  readonly vatRate: number;
}

export interface SupplierInvoiceWrite {
  readonly supplier: string;
  readonly supplierReference: string;
  readonly lines: readonly InvoiceLine[];
}

export interface WrittenSupplierInvoice {
  readonly thirdpartyId: number;
  readonly invoiceId: number;
  readonly lineIds: readonly number[];
}

/** The known rehearsal write of the gates: a new supplier and an invoice of `count` lines (line n: n × 12.50 € at 20 %). */
export function knownSupplierInvoice(count: number): SupplierInvoiceWrite {
  const lines = Array.from({ length: count }, (_, n) => ({ description: `Rehearsed line ${n + 1}`, quantity: n + 1, unitPrice: 12.5, vatRate: 20 }));
  return { supplier: 'Rehearsal Supplies SARL', supplierReference: 'RH-0001', lines };
}

export async function writeSupplierInvoice(tooling: DolibarrClient, write: SupplierInvoiceWrite): Promise<WrittenSupplierInvoice> {
  const thirdpartyId = await tooling.createThirdparty({ name: write.supplier, client: 0, fournisseur: 1 });
  const invoiceId = await tooling.createSupplierInvoice({
    socid: thirdpartyId,
    ref_supplier: write.supplierReference,
    label: `Rehearsal ${write.supplierReference}`,
    lines: write.lines.map(apiLine),
  });
  const invoice = await tooling.getSupplierInvoice(invoiceId);
  const lines = Array.isArray(invoice['lines']) ? (invoice['lines'] as { id?: unknown }[]) : [];
  const lineIds = lines.map((line) => Number(line.id));
  if (lineIds.length !== write.lines.length || !lineIds.every((id) => Number.isSafeInteger(id) && id > 0)) {
    throw new Error(`supplier invoice ${invoiceId} was created with ${lineIds.length} readable lines, not ${write.lines.length}`);
  }
  return { thirdpartyId, invoiceId, lineIds };
}

/** The supplier invoice the scenario's rehearsal wrote: there must be one. */
export function rehearsedInvoice(written: WrittenSupplierInvoice | undefined): WrittenSupplierInvoice {
  if (!written) throw new Error('no rehearsal write in this scenario: the agent must write a supplier invoice first');
  if (!written.invoiceId) throw new Error('the rehearsal wrote no supplier invoice (only a thirdparty)');
  return written;
}

/** The rowid of the thirdparty the scenario's rehearsal created: there must be one. */
export function rehearsedThirdpartyId(written: WrittenSupplierInvoice | undefined): number {
  const id = written?.thirdpartyId;
  if (!id) throw new Error('no rehearsal write in this scenario created a thirdparty');
  return id;
}

/** The keys of the rows `written` created, by relation, as a diff of the sandbox names them. */
export function writtenRows(written: WrittenSupplierInvoice): Record<string, number[]> {
  return {
    'public.llx_societe': [written.thirdpartyId],
    'public.llx_facture_fourn': [written.invoiceId],
    'public.llx_facture_fourn_det': [...written.lineIds],
  };
}
