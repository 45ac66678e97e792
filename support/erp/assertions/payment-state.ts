import { expect } from 'chai';
import type { Client } from 'pg';
import { formatDecimal, parseDecimal, type Units } from './decimal';
import { auditInvoice, readSupplierInvoicesOf, type Discrepancy } from './invoice-audit';

/**
 * A supplier invoice's payment state, from the ERP's own tables: its total TTC (`llx_facture_fourn.total_ttc`) against
 * the amounts of the payments linked to it (`llx_paiementfourn_facturefourn.amount`, one row per payment and
 * invoice), with its `paye` flag and status as Dolibarr left them.
 */

export type PaymentState = 'unpaid' | 'partially paid' | 'paid';

export interface InvoicePayment {
  readonly invoiceId: number;
  readonly ref: string;
  /** fk_statut: 0 draft, 1 validated, 2 paid (closed), 3 abandoned. */
  readonly status: number;
  /** Dolibarr's "classified paid" flag. */
  readonly paye: number;
  /** Why Dolibarr closed it with an amount left (close_code), if it did. */
  readonly closeCode: string | null;
  readonly totalTtc: string;
  readonly paid: string;
  readonly remaining: string;
  /** How many payments are linked to it. */
  readonly payments: number;
  readonly state: PaymentState;
}

/**
 * The state of an invoice of total `totalTtc` of which `paid` is paid (pure): unpaid when nothing is paid (and
 * something is to pay), paid when nothing is left (a zero total, or an overpaid invoice, which is also a discrepancy),
 * else partially paid. Credit notes (negative totals) follow the same rules on the amounts' magnitude.
 */
export function paymentStateOf(totalTtc: Units, paid: Units): PaymentState {
  const sign = totalTtc < 0n ? -1n : 1n;
  const [total, settled] = [totalTtc * sign, paid * sign];
  if (settled >= total) return 'paid';
  return settled === 0n ? 'unpaid' : 'partially paid';
}

/** What in an invoice's payments contradicts its totals or its `paye` flag (pure). */
export function paymentDiscrepancies(payment: InvoicePayment): Discrepancy[] {
  const at = { invoiceId: payment.invoiceId, ref: payment.ref };
  const [total, paid] = [parseDecimal(payment.totalTtc), parseDecimal(payment.paid)];
  const found: Discrepancy[] = [];
  if ((total < 0n ? -paid : paid) > (total < 0n ? -total : total)) {
    found.push({ ...at, check: 'payments linked to it ≤ total_ttc', expected: `at most ${payment.totalTtc}`, actual: payment.paid });
  }
  if (payment.paye === 1 && payment.state !== 'paid' && payment.closeCode === null) {
    found.push({ ...at, check: 'paye = 1 only when paid in full or closed with a close_code', expected: `paid ${payment.totalTtc}`, actual: `paid ${payment.paid}` });
  }
  if (payment.paye !== 1 && payment.state === 'paid' && payment.payments > 0) {
    found.push({ ...at, check: 'paye = 1 once paid in full', expected: 'paye 1', actual: `paye ${payment.paye}` });
  }
  return found;
}

interface PaymentRow {
  rowid: number;
  ref: string;
  status: number;
  paye: number;
  close_code: string | null;
  total_ttc: string;
  paid: string;
  payments: number;
}

async function readPayments(client: Client, where: string, values: unknown[]): Promise<InvoicePayment[]> {
  const { rows } = await client.query<PaymentRow>(
    `SELECT f.rowid, f.ref, f.fk_statut AS status, f.paye, f.close_code, COALESCE(f.total_ttc, 0)::text AS total_ttc,
            COALESCE(sum(pf.amount), 0)::text AS paid, count(pf.fk_paiementfourn)::int AS payments
       FROM llx_facture_fourn f
       LEFT JOIN llx_paiementfourn_facturefourn pf ON pf.fk_facturefourn = f.rowid
      WHERE ${where}
      GROUP BY f.rowid
      ORDER BY f.rowid`,
    values,
  );
  return rows.map((row) => {
    const [total, paid] = [parseDecimal(row.total_ttc), parseDecimal(row.paid)];
    return {
      invoiceId: row.rowid,
      ref: row.ref,
      status: row.status,
      paye: row.paye,
      closeCode: row.close_code,
      totalTtc: formatDecimal(total),
      paid: formatDecimal(paid),
      remaining: formatDecimal(total - paid),
      payments: row.payments,
      state: paymentStateOf(total, paid),
    };
  });
}

/** The payment state of the supplier invoice `invoiceId`; an error when there is none. */
export async function supplierInvoicePayment(client: Client, invoiceId: number): Promise<InvoicePayment> {
  const [payment] = await readPayments(client, 'f.rowid = $1', [invoiceId]);
  if (!payment) throw new Error(`no supplier invoice with rowid ${invoiceId} in llx_facture_fourn`);
  return payment;
}

/** Payment states of every supplier invoice of the thirdparty `thirdpartyId`, by rowid. */
export function supplierInvoicePaymentsOf(client: Client, thirdpartyId: number): Promise<InvoicePayment[]> {
  return readPayments(client, 'f.fk_soc = $1', [thirdpartyId]);
}

/**
 * Whether every supplier invoice of the thirdparty `thirdpartyId` balances: each passes the invoice audit (header
 * totals = sums of the lines, VAT consistent, see invoice-audit.ts) and its payments agree with its total and its
 * `paye` flag. Returns how many invoices were checked and what differs (empty: they all balance).
 */
export async function supplierInvoicesOfThirdpartyBalance(client: Client, thirdpartyId: number): Promise<{ invoices: number; discrepancies: Discrepancy[] }> {
  const invoices = await readSupplierInvoicesOf(client, thirdpartyId);
  const payments = await supplierInvoicePaymentsOf(client, thirdpartyId);
  const discrepancies = [...invoices.flatMap(auditInvoice), ...payments.flatMap(paymentDiscrepancies)];
  discrepancies.sort((a, b) => a.invoiceId - b.invoiceId);
  return { invoices: invoices.length, discrepancies };
}

/** The invoice is unpaid: no payment linked to it, nothing paid, not flagged paid. */
export function expectUnpaid(payment: InvoicePayment): void {
  expect(
    { state: payment.state, payments: payment.payments, paid: payment.paid, paye: payment.paye },
    `the payment state of ${payment.ref} (total TTC ${payment.totalTtc})`,
  ).to.deep.equal({ state: 'unpaid', payments: 0, paid: '0.00', paye: 0 });
}
