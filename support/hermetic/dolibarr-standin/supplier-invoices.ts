/**
 * `/supplierinvoices` and `/supplierinvoices/{id}` (api_supplier_invoices.class.php): rows of `llx_facture_fourn`
 * and their lines `llx_facture_fourn_det`.
 */
import { hasRight, RIGHT } from './auth';
import { asObject, createdId, fieldValue, numberField, positiveId, type Call } from './call';
import { inTransaction, type Queryable } from './database';
import { ApiError, denied, fail, verboseDatabaseError } from './errors';
import { canSee, listTail, sqlFilters, visibility, type Sql } from './list-query';
import { supplierInvoiceObject } from './render';

const SI = 'api_supplier_invoices.class.php';

async function list(db: Queryable, call: Call): Promise<unknown> {
  const { user, query } = call;
  if (!hasRight(user, RIGHT.factureFournLire)) throw denied(call.profile, SI);
  const sql: Sql = { text: '', values: [] };
  const where = ['t.entity IN (0, 1)', visibility(user)];
  const ids = query.get('thirdparty_ids');
  if (ids !== null && ids !== '') {
    if (!/^\d+(,\d+)*$/.test(ids)) throw fail(400, SI, `Error when validating parameter thirdparty_ids -> ${ids}`);
    sql.values.push(ids.split(',').map(Number));
    where.push(`t.fk_soc = ANY($${sql.values.length}::int[])`);
  }
  const status = query.get('status');
  if (status === 'draft') where.push('t.fk_statut = 0');
  if (status === 'unpaid') where.push('t.fk_statut = 1 AND t.paye = 0');
  if (status === 'paid') where.push('t.paye = 1');
  if (status === 'cancelled') where.push('t.fk_statut = 3');
  const filters = query.get('sqlfilters');
  if (filters !== null && filters !== '') where.push(sqlFilters(filters, sql.values, SI));
  sql.text = `SELECT t.* FROM llx_facture_fourn t WHERE ${where.join(' AND ')}`;
  sql.text += listTail(query, sql, SI);
  const { rows } = await db.query(sql.text, sql.values).catch((error: Error) => {
    throw fail(503, SI, `Error when retrieve supplier invoice list : ${verboseDatabaseError(error, sql.text)}`);
  });
  return rows.map((row) => supplierInvoiceObject(row as Record<string, unknown>));
}

/**
 * Creates a draft invoice `(PROV<id>)` with its lines and totals, in one transaction on the request's connection. A
 * line's unit price is read from the fields the version reads (19: `pu_ht` only, so a line with `subprice` alone is
 * priced 0).
 */
async function create(db: Queryable, call: Call): Promise<number | string> {
  const { user, profile } = call;
  if (!hasRight(user, RIGHT.factureFournCreer)) throw denied(profile, SI, profile.insufficientRights.value);
  const body = asObject(call.body, SI);
  if (body['socid'] === undefined || body['socid'] === null || body['socid'] === '') throw fail(400, SI, 'socid field missing');
  const socid = numberField(body['socid'], 'socid', 0, SI);
  const lines = body['lines'] === undefined || body['lines'] === null ? [] : body['lines'];
  if (!Array.isArray(lines)) throw fail(400, SI, 'lines must be an array');
  const date = body['date'] ?? body['datef'];
  const datef = date === undefined || date === null || date === ''
    ? new Date()
    : typeof date === 'number' || /^\d+$/.test(String(date)) ? new Date(Number(date) * 1000) : new Date(String(date));
  if (Number.isNaN(datef.getTime())) throw fail(400, SI, 'invalid date');
  const lineValues = lines.map((raw, index) => {
    const line = asObject(raw, SI);
    const qty = numberField(line['qty'], `lines[${index}].qty`, 1, SI);
    const priceField = profile.linePriceFields.value.find((field) => line[field] !== undefined && line[field] !== null);
    const pu = priceField === undefined ? 0 : numberField(line[priceField], `lines[${index}].${priceField}`, 0, SI);
    const tva = numberField(line['tva_tx'], `lines[${index}].tva_tx`, 0, SI);
    const remise = numberField(line['remise_percent'], `lines[${index}].remise_percent`, 0, SI);
    const productType = numberField(line['product_type'], `lines[${index}].product_type`, 0, SI);
    const fkProduct = line['fk_product'] === undefined || line['fk_product'] === null ? null : numberField(line['fk_product'], 'fk_product', 0, SI);
    const description = fieldValue(line['description'] ?? line['desc'] ?? null, 'description', SI);
    const label = fieldValue(line['label'] ?? null, 'label', SI);
    const ref = fieldValue(line['ref'] ?? null, 'ref', SI);
    return [description, label, ref, pu, qty, tva, remise, productType, fkProduct, index + 1];
  });
  const header = [
    fieldValue(body['ref_supplier'] ?? '', 'ref_supplier', SI), numberField(body['type'], 'type', 0, SI), socid,
    datef, fieldValue(body['label'] ?? body['libelle'] ?? null, 'label', SI), user.id,
    fieldValue(body['note_public'] ?? null, 'note_public', SI), fieldValue(body['note_private'] ?? null, 'note_private', SI),
  ];
  try {
    return await inTransaction(db, async () => {
      const { rows } = await db.query<{ rowid: number }>(
        `INSERT INTO llx_facture_fourn (ref, ref_supplier, entity, type, fk_soc, datec, datef, libelle, fk_statut,
           fk_user_author, note_public, note_private, date_lim_reglement)
         VALUES ('(PROV)', $1, 1, $2, $3, now(), $4, $5, 0, $6, $7, $8, $4) RETURNING rowid`,
        header,
      );
      const id = rows[0]!.rowid;
      await db.query("UPDATE llx_facture_fourn SET ref = '(PROV' || rowid || ')' WHERE rowid = $1", [id]);
      for (const values of lineValues) {
        // Dolibarr's price calculation: total_ht = pu × qty × (1 − remise), VAT on it, both rounded to 2 decimals.
        await db.query(
          `INSERT INTO llx_facture_fourn_det (fk_facture_fourn, description, label, ref, pu_ht, qty, tva_tx, remise_percent,
             product_type, fk_product, rang, pu_ttc, total_ht, tva, total_ttc)
           SELECT $1, $2, $3, $4, $5::numeric, $6::real, $7::numeric, $8::real, $9, $10, $11,
                  round($5::numeric * (1 + $7::numeric / 100), 8), c.ht, c.vat, c.ht + c.vat
             FROM (SELECT round($5::numeric * $6::numeric * (1 - $8::numeric / 100), 2) AS ht) h,
                  LATERAL (SELECT h.ht, round(h.ht * $7::numeric / 100, 2) AS vat) c`,
          [id, ...values],
        );
      }
      await db.query(
        `UPDATE llx_facture_fourn f SET total_ht = s.ht, total_tva = s.vat, total_ttc = s.ttc
           FROM (SELECT COALESCE(sum(total_ht), 0) AS ht, COALESCE(sum(tva), 0) AS vat, COALESCE(sum(total_ttc), 0) AS ttc
                   FROM llx_facture_fourn_det WHERE fk_facture_fourn = $1) s
          WHERE f.rowid = $1`,
        [id],
      );
      return createdId(call, id);
    });
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw fail(500, SI, `Error creating invoice : ${(error as Error).message}`);
  }
}

async function read(db: Queryable, call: Call): Promise<unknown> {
  const { user, segments } = call;
  const id = positiveId(segments[1], SI);
  if (!hasRight(user, RIGHT.factureFournLire)) throw denied(call.profile, SI);
  const { rows } = await db.query('SELECT * FROM llx_facture_fourn t WHERE t.rowid = $1 AND t.entity IN (0, 1)', [id]);
  if (rows.length === 0) throw fail(404, SI, 'Supplier invoice not found');
  if (!canSee(user)) throw denied(call.profile, SI, `Access not allowed for login ${user.login}`);
  const lines = await db.query('SELECT * FROM llx_facture_fourn_det WHERE fk_facture_fourn = $1 ORDER BY rang, rowid', [id]);
  return supplierInvoiceObject(rows[0] as Record<string, unknown>, lines.rows as Record<string, unknown>[]);
}

export async function supplierInvoices(db: Queryable, call: Call): Promise<unknown> {
  const { method, segments } = call;
  if (segments.length === 1 && method === 'GET') return list(db, call);
  if (segments.length === 1 && method === 'POST') return create(db, call);
  if (segments.length === 2 && method === 'GET') return read(db, call);
  if (segments.length <= 2) throw fail(405, SI);
  throw fail(404, SI);
}
