import type { Client } from 'pg';

/**
 * A known rehearsal write, done the way Dolibarr writes it: a new thirdparty (a supplier) and a supplier
 * invoice with its lines, in one transaction, with totals consistent with the lines. It stands for the
 * agent's write until the API client replaces it.
 */

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

const cents = (euros: number) => Math.round(euros * 100);
const euros = (amount: number) => (amount / 100).toFixed(2);

export async function writeSupplierInvoice(client: Client, write: SupplierInvoiceWrite): Promise<WrittenSupplierInvoice> {
  const lines = write.lines.map((line) => {
    const ht = cents(line.quantity * line.unitPrice);
    const tva = Math.round((ht * line.vatRate) / 100);
    return { ...line, ht, tva, ttc: ht + tva };
  });
  const total = lines.reduce((sum, line) => ({ ht: sum.ht + line.ht, tva: sum.tva + line.tva }), { ht: 0, tva: 0 });

  await client.query('BEGIN');
  try {
    const supplier = await client.query<{ rowid: number }>(
      `INSERT INTO llx_societe (nom, entity, client, fournisseur, status, datec)
       VALUES ($1, 1, 0, 1, 1, now()) RETURNING rowid`,
      [write.supplier],
    );
    const thirdpartyId = supplier.rows[0]!.rowid;
    const invoice = await client.query<{ rowid: number }>(
      `INSERT INTO llx_facture_fourn (ref, ref_supplier, entity, fk_soc, datec, datef, libelle, total_ht, total_tva, total_ttc, fk_statut)
       VALUES ('(PROV' || currval(pg_get_serial_sequence('llx_facture_fourn', 'rowid'))::text || ')', $1, 1, $2, now(), current_date, $3, $4, $5, $6, 0)
       RETURNING rowid`,
      [write.supplierReference, thirdpartyId, `Rehearsal ${write.supplierReference}`, euros(total.ht), euros(total.tva), euros(total.ht + total.tva)],
    );
    const invoiceId = invoice.rows[0]!.rowid;
    const lineIds: number[] = [];
    for (const [rank, line] of lines.entries()) {
      const inserted = await client.query<{ rowid: number }>(
        `INSERT INTO llx_facture_fourn_det (fk_facture_fourn, description, qty, pu_ht, tva_tx, total_ht, tva, total_ttc, rang)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING rowid`,
        [invoiceId, line.description, line.quantity, line.unitPrice, line.vatRate, euros(line.ht), euros(line.tva), euros(line.ttc), rank + 1],
      );
      lineIds.push(inserted.rows[0]!.rowid);
    }
    await client.query('COMMIT');
    return { thirdpartyId, invoiceId, lineIds };
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
}
