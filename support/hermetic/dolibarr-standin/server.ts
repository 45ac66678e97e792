/**
 * HERMETIC STAND-IN for one Dolibarr 20.0.2 instance (a test double of a third-party service; see DESIGN.md).
 *
 * A loopback HTTPS server (127.0.0.1, random port) serving the REST endpoints the harness uses, under
 * `/api/index.php/`, backed by the instance's own database through the instance's own login role (node-postgres
 * pool; rows only, never DDL). It answers like the real one (shared/facts/vault-and-dolibarr.md):
 *
 * - auth: `DOLAPIKEY` header, `?DOLAPIKEY=`, `?api_key=`, `Authorization: Bearer`; no key → 401; unknown key or
 *   disabled user → 401 after `unknownKeyDelayMs` (the real anti-brute-force sleep is 1 s). See auth.ts.
 * - rights from llx_user_rights (admin bypasses), with Dolibarr's 403 messages (`Forbidden`,
 *   `Forbidden: Insuffisant rights`, `Forbidden: Not allowed`).
 * - error bodies `{"error":{"code","message"},"debug":{…}}`, no `debug` when `production`.
 * - creates answer the new id as a bare JSON number with status 200; empty lists answer 404.
 *
 * Endpoints: GET /status; GET|POST /thirdparties; GET|PUT|DELETE /thirdparties/{id}; GET|POST /supplierinvoices;
 * GET /supplierinvoices/{id}; GET /users/info. Anything else: 404 "Not Found".
 *
 * Not verified against a real instance (documented choices): the 404 messages of single objects
 * (`Thirdparty not found`, `Supplier invoice not found`), the empty supplier-invoice list (`No supplier invoice
 * found`), 400/409/500/503 messages. Without right 262 a non-admin sees no thirdparty at all: the fixture has no
 * `llx_societe_commerciaux` (sales representatives), so nothing is "linked to the user".
 *
 * It counts TCP connections and HTTP requests so that a test can prove a refused request never reached it.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool, type PoolClient } from 'pg';
import type { Endpoint, Login } from '../../postgres/cluster';
import { authenticate, hasRight, RIGHT, type ApiUser } from './auth';

export { grantApiAccess, storedApiKey, RIGHT } from './auth';

export const DOLIBARR_VERSION = '20.0.2';
const API_PREFIX = '/api/index.php/';
const MAX_BODY = 1 << 20;

export interface DolibarrStandinOptions {
  /** Where it listens: the stand-in always binds 127.0.0.1; `host` is the name it serves (for reports). */
  readonly host: string;
  readonly key: Buffer;
  readonly cert: Buffer;
  /** The instance's own database, reached through the instance's own login role. */
  readonly database: { readonly endpoint: Endpoint; readonly login: Login; readonly name: string };
  /** The delay before refusing an unknown key; default 1000 ms like the real one. */
  readonly unknownKeyDelayMs?: number;
  /** `$dolibarr_main_prod = '1'`: no `debug` in error bodies, status says `production`. */
  readonly production?: boolean;
}

export interface DolibarrStandin {
  readonly host: string;
  readonly port: number;
  /** TCP connections accepted so far. */
  connections(): number;
  /** HTTP requests received so far. */
  requests(): number;
  close(): Promise<void>;
}

const REASONS: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  409: 'Conflict', 500: 'Internal Server Error', 503: 'Service Unavailable',
};

/** A Restler RestException: `message` is the full `error.message` of the body. */
class ApiError extends Error {
  constructor(readonly code: number, message: string, readonly source: string) {
    super(message);
  }
}

/** `Forbidden`, `Forbidden: <detail>`, `Bad Request: <detail>`… as Restler words them. */
const fail = (code: number, source: string, detail?: string): ApiError =>
  new ApiError(code, detail === undefined ? REASONS[code]! : `${REASONS[code]}: ${detail}`, source);
/** Messages the facts show without the reason prefix (lists' and objects' "not found"). */
const notFound = (message: string, source: string): ApiError => new ApiError(404, message, source);

const NO_KEY = "Failed to login to API. No parameter 'HTTP_DOLAPIKEY' on HTTP header (and no parameter DOLAPIKEY in URL).";
const BAD_KEY = 'Error user not valid (not found with api key or bad status or bad validity dates) (conf->entity=1)';

interface Call {
  readonly method: string;
  readonly segments: readonly string[];
  readonly query: URLSearchParams;
  readonly body: unknown;
  readonly user: ApiUser;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function positiveId(text: string | undefined, source: string): number {
  if (text === undefined || !/^[1-9]\d{0,9}$/.test(text) || Number(text) > 2147483647) throw fail(404, source);
  return Number(text);
}

function requestBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(fail(400, 'index.php', 'request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function presentedKey(req: IncomingMessage, query: URLSearchParams): string | undefined {
  const header = req.headers['dolapikey'];
  const fromHeader = Array.isArray(header) ? header[0] : header;
  if (fromHeader !== undefined && fromHeader !== '') return fromHeader;
  const fromQuery = query.get('DOLAPIKEY') ?? query.get('api_key');
  if (fromQuery !== null && fromQuery !== '') return fromQuery;
  const auth = req.headers.authorization;
  const bearer = auth !== undefined ? /^Bearer\s+(\S+)$/i.exec(auth) : null;
  return bearer?.[1];
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering rows the way Dolibarr's API does: ids and numbers as strings, dates as unix seconds.

function scalar(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return Math.floor(value.getTime() / 1000);
  return String(value);
}

const THIRDPARTY_FIELDS: ReadonlyArray<readonly [api: string, column: string]> = [
  ['entity', 'entity'], ['name', 'nom'], ['name_alias', 'name_alias'], ['status', 'status'],
  ['client', 'client'], ['fournisseur', 'fournisseur'], ['code_client', 'code_client'],
  ['code_fournisseur', 'code_fournisseur'], ['address', 'address'], ['zip', 'zip'], ['town', 'town'],
  ['country_id', 'fk_pays'], ['phone', 'phone'], ['fax', 'fax'], ['email', 'email'], ['url', 'url'],
  ['siren', 'siren'], ['siret', 'siret'], ['tva_intra', 'tva_intra'], ['note_public', 'note_public'],
  ['note_private', 'note_private'], ['date_creation', 'datec'], ['date_modification', 'tms'],
  ['user_creation_id', 'fk_user_creat'], ['parent', 'parent'], ['ref_ext', 'ref_ext'],
];
/** Fields a POST/PUT may set (api name → column). */
const THIRDPARTY_WRITABLE = new Map<string, string>(
  THIRDPARTY_FIELDS.filter(([api]) => !['entity', 'date_creation', 'date_modification', 'user_creation_id'].includes(api)),
);

function thirdpartyObject(row: Record<string, unknown>): Record<string, unknown> {
  const object: Record<string, unknown> = { id: String(row['rowid']), ref: scalar(row['nom']) };
  for (const [api, column] of THIRDPARTY_FIELDS) object[api] = scalar(row[column]);
  return object;
}

function supplierInvoiceObject(row: Record<string, unknown>, lines?: Record<string, unknown>[]): Record<string, unknown> {
  const object: Record<string, unknown> = {
    id: String(row['rowid']), ref: scalar(row['ref']), ref_supplier: scalar(row['ref_supplier']),
    entity: scalar(row['entity']), type: scalar(row['type']), socid: scalar(row['fk_soc']), label: scalar(row['libelle']),
    date: scalar(row['datef']), date_creation: scalar(row['datec']), date_echeance: scalar(row['date_lim_reglement']),
    paye: scalar(row['paye']), status: scalar(row['fk_statut']), statut: scalar(row['fk_statut']),
    total_ht: scalar(row['total_ht']), total_tva: scalar(row['total_tva']), total_ttc: scalar(row['total_ttc']),
    note_public: scalar(row['note_public']), note_private: scalar(row['note_private']),
    user_author: scalar(row['fk_user_author']),
  };
  if (lines !== undefined) {
    object['lines'] = lines.map((l) => ({
      id: String(l['rowid']), rowid: String(l['rowid']), fk_facture_fourn: scalar(l['fk_facture_fourn']),
      fk_product: scalar(l['fk_product']), ref: scalar(l['ref']), label: scalar(l['label']),
      description: scalar(l['description']), pu_ht: scalar(l['pu_ht']), subprice: scalar(l['pu_ht']),
      pu_ttc: scalar(l['pu_ttc']), qty: scalar(l['qty']), remise_percent: scalar(l['remise_percent']),
      tva_tx: scalar(l['tva_tx']), total_ht: scalar(l['total_ht']), total_tva: scalar(l['tva']),
      total_ttc: scalar(l['total_ttc']), product_type: scalar(l['product_type']), rang: scalar(l['rang']),
    }));
  }
  return object;
}

// ---------------------------------------------------------------------------------------------------------------
// List parameters: limit/page/sort and a subset of Dolibarr's sqlfilters syntax "(t.col:op:value) AND (…)".

const COLUMN = /^t\.([a-z_][a-z0-9_]{0,62})$/;
const FILTER_OPS: Record<string, string> = {
  '=': '=', '!=': '<>', '<>': '<>', '<': '<', '>': '>', '<=': '<=', '>=': '>=', like: 'LIKE', notlike: 'NOT LIKE',
};

interface Sql {
  text: string;
  values: unknown[];
}

function sqlFilters(filters: string, values: unknown[], source: string): string {
  const bad = (why: string): ApiError => fail(400, source, `Error when validating parameter sqlfilters -> ${why}`);
  const parts: string[] = [];
  let rest = filters.trim();
  const term = /^\(\s*(t\.[a-z_][a-z0-9_]*)\s*:\s*(=|!=|<>|<=|>=|<|>|like|notlike)\s*:\s*('(?:[^'\\]|\\.|'')*'|-?\d+(?:\.\d+)?)\s*\)/i;
  for (;;) {
    const m = term.exec(rest);
    if (m === null) throw bad(filters);
    const column = COLUMN.exec(m[1]!.toLowerCase())![1]!;
    const raw = m[3]!;
    const value = raw.startsWith("'") ? raw.slice(1, -1).replace(/''/g, "'").replace(/\\(.)/g, '$1') : Number(raw);
    values.push(value);
    parts.push(`t."${column}"${raw.startsWith("'") ? '::text' : ''} ${FILTER_OPS[m[2]!.toLowerCase()]} $${values.length}`);
    rest = rest.slice(m[0].length).trim();
    if (rest === '') break;
    const join = /^(AND|OR)\s+/i.exec(rest);
    if (join === null) throw bad(filters);
    parts.push(join[1]!.toUpperCase());
    rest = rest.slice(join[0].length);
  }
  return `(${parts.join(' ')})`;
}

function listTail(query: URLSearchParams, sql: Sql, source: string): string {
  const sortfield = query.get('sortfield') ?? 't.rowid';
  const columns = sortfield.split(',').map((f) => COLUMN.exec(f.trim().toLowerCase()));
  if (columns.some((c) => c === null)) throw fail(400, source, `Error when validating parameter sortfield -> ${sortfield}`);
  const order = (query.get('sortorder') ?? 'ASC').toUpperCase() === 'DESC' ? 'DESC' : 'ASC';
  const limit = Math.min(Math.max(Number.parseInt(query.get('limit') ?? '100', 10) || 100, 1), 1000);
  const page = Math.max(Number.parseInt(query.get('page') ?? '0', 10) || 0, 0);
  sql.values.push(limit, limit * page);
  return ` ORDER BY ${columns.map((c) => `t."${c![1]}" ${order}`).join(', ')} LIMIT $${sql.values.length - 1} OFFSET $${sql.values.length}`;
}

/** Where a non-admin without societe→client→voir may see a thirdparty: only those they represent (none here). */
function visibility(user: ApiUser): string {
  return canSee(user) ? 'TRUE' : 'FALSE';
}

function canSee(user: ApiUser): boolean {
  return user.admin || user.rights.has(RIGHT.clientVoir);
}

function asObject(body: unknown, source: string): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw fail(400, source, 'Error parsing request body');
  return body as Record<string, unknown>;
}

function fieldValue(value: unknown, field: string, source: string): string | number | null {
  if (value === null || typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  throw fail(400, source, `invalid value for field ${field}`);
}

function numberField(value: unknown, field: string, fallback: number, source: string): number {
  if (value === undefined || value === null || value === '') return fallback;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isFinite(n)) throw fail(400, source, `invalid number for field ${field}`);
  return n;
}

async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Endpoints

const TP = 'api_thirdparties.class.php';
const SI = 'api_supplier_invoices.class.php';

async function fetchThirdparty(pool: Pool, user: ApiUser, id: number): Promise<Record<string, unknown>> {
  const { rows } = await pool.query('SELECT * FROM llx_societe t WHERE t.rowid = $1 AND t.entity IN (0, 1)', [id]);
  if (rows.length === 0) throw notFound('Thirdparty not found', TP);
  if (!canSee(user)) throw fail(403, TP, `Access not allowed for login ${user.login}`);
  return rows[0] as Record<string, unknown>;
}

async function thirdparties(pool: Pool, call: Call): Promise<unknown> {
  const { method, segments, user, query } = call;
  if (segments.length === 1 && method === 'GET') {
    if (!hasRight(user, RIGHT.societeLire)) throw fail(403, TP);
    const sql: Sql = { text: '', values: [] };
    const where = ['t.entity IN (0, 1)', visibility(user)];
    const mode = query.get('mode');
    if (mode === '1') where.push('t.client IN (1, 3)');
    if (mode === '2') where.push('t.client IN (2, 3)');
    if (mode === '3') where.push('t.client = 0 AND t.fournisseur = 0');
    if (mode === '4') where.push('t.fournisseur = 1');
    const filters = query.get('sqlfilters');
    if (filters !== null && filters !== '') where.push(sqlFilters(filters, sql.values, TP));
    sql.text = `SELECT t.* FROM llx_societe t WHERE ${where.join(' AND ')}`;
    sql.text += listTail(query, sql, TP);
    const { rows } = await pool.query(sql.text, sql.values).catch((error: Error) => {
      throw fail(503, TP, `Error when retrieve thirdparties : ${error.message}`);
    });
    if (rows.length === 0) throw notFound('Thirdparties not found', TP);
    return rows.map(thirdpartyObject);
  }
  if (segments.length === 1 && method === 'POST') {
    if (!hasRight(user, RIGHT.societeCreer)) throw fail(403, TP);
    const body = asObject(call.body, TP);
    if (body['name'] === undefined || body['name'] === null || body['name'] === '') throw fail(400, TP, 'name field missing');
    const columns = ['entity', 'datec', 'fk_user_creat', 'status'];
    const values: unknown[] = [1, new Date(), user.id, 1];
    for (const [field, value] of Object.entries(body)) {
      const column = THIRDPARTY_WRITABLE.get(field);
      if (column === undefined) continue; // Dolibarr ignores unknown properties
      const at = columns.indexOf(column);
      if (at >= 0) values[at] = fieldValue(value, field, TP);
      else {
        columns.push(column);
        values.push(fieldValue(value, field, TP));
      }
    }
    const { rows } = await pool
      .query<{ rowid: number }>(
        `INSERT INTO llx_societe (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING rowid`,
        values,
      )
      .catch((error: Error) => {
        throw fail(500, TP, `Error creating thirdparty: ${error.message}`);
      });
    return rows[0]!.rowid;
  }
  if (segments.length === 2) {
    const id = positiveId(segments[1], TP);
    if (method === 'GET') {
      if (!hasRight(user, RIGHT.societeLire)) throw fail(403, TP);
      return thirdpartyObject(await fetchThirdparty(pool, user, id));
    }
    if (method === 'PUT') {
      if (!hasRight(user, RIGHT.societeCreer)) throw fail(403, TP);
      await fetchThirdparty(pool, user, id);
      const body = asObject(call.body, TP);
      const sets: string[] = ['fk_user_modif = $2'];
      const values: unknown[] = [id, user.id];
      for (const [field, value] of Object.entries(body)) {
        const column = THIRDPARTY_WRITABLE.get(field);
        if (column === undefined) continue;
        values.push(fieldValue(value, field, TP));
        sets.push(`"${column}" = $${values.length}`);
      }
      await pool.query(`UPDATE llx_societe SET ${sets.join(', ')}, tms = now() WHERE rowid = $1`, values).catch((error: Error) => {
        throw fail(500, TP, `Error updating thirdparty: ${error.message}`);
      });
      return thirdpartyObject(await fetchThirdparty(pool, user, id));
    }
    if (method === 'DELETE') {
      if (!hasRight(user, RIGHT.societeSupprimer)) throw fail(403, TP);
      await fetchThirdparty(pool, user, id);
      try {
        await pool.query('DELETE FROM llx_societe WHERE rowid = $1', [id]);
      } catch (error) {
        if ((error as { code?: string }).code === '23503') throw fail(409, TP, "Can't delete, that product is probably used");
        throw fail(500, TP, "Can't delete, error occurs");
      }
      return { success: { code: 200, message: 'Object deleted' } };
    }
    throw fail(405, TP);
  }
  throw fail(404, TP);
}

async function supplierInvoices(pool: Pool, call: Call): Promise<unknown> {
  const { method, segments, user, query } = call;
  if (segments.length === 1 && method === 'GET') {
    if (!hasRight(user, RIGHT.factureFournLire)) throw fail(403, SI);
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
    const { rows } = await pool.query(sql.text, sql.values).catch((error: Error) => {
      throw fail(503, SI, `Error when retrieve supplier invoice list : ${error.message}`);
    });
    if (rows.length === 0) throw notFound('No supplier invoice found', SI);
    return rows.map((row) => supplierInvoiceObject(row as Record<string, unknown>));
  }
  if (segments.length === 1 && method === 'POST') {
    if (!hasRight(user, RIGHT.factureFournCreer)) throw fail(403, SI, 'Insuffisant rights');
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
      const pu = numberField(line['subprice'] ?? line['pu_ht'], `lines[${index}].subprice`, 0, SI);
      const tva = numberField(line['tva_tx'], `lines[${index}].tva_tx`, 0, SI);
      const remise = numberField(line['remise_percent'], `lines[${index}].remise_percent`, 0, SI);
      const productType = numberField(line['product_type'], `lines[${index}].product_type`, 0, SI);
      const fkProduct = line['fk_product'] === undefined || line['fk_product'] === null ? null : numberField(line['fk_product'], 'fk_product', 0, SI);
      const description = fieldValue(line['description'] ?? line['desc'] ?? null, 'description', SI);
      const label = fieldValue(line['label'] ?? null, 'label', SI);
      const ref = fieldValue(line['ref'] ?? null, 'ref', SI);
      return [description, label, ref, pu, qty, tva, remise, productType, fkProduct, index + 1];
    });
    try {
      return await inTransaction(pool, async (client) => {
        const { rows } = await client.query<{ rowid: number }>(
          `INSERT INTO llx_facture_fourn (ref, ref_supplier, entity, type, fk_soc, datec, datef, libelle, fk_statut,
             fk_user_author, note_public, note_private, date_lim_reglement)
           VALUES ('(PROV)', $1, 1, $2, $3, now(), $4, $5, 0, $6, $7, $8, $4) RETURNING rowid`,
          [
            fieldValue(body['ref_supplier'] ?? '', 'ref_supplier', SI), numberField(body['type'], 'type', 0, SI), socid,
            datef, fieldValue(body['label'] ?? body['libelle'] ?? null, 'label', SI), user.id,
            fieldValue(body['note_public'] ?? null, 'note_public', SI), fieldValue(body['note_private'] ?? null, 'note_private', SI),
          ],
        );
        const id = rows[0]!.rowid;
        await client.query("UPDATE llx_facture_fourn SET ref = '(PROV' || rowid || ')' WHERE rowid = $1", [id]);
        for (const values of lineValues) {
          // Dolibarr's price calculation: total_ht = pu × qty × (1 − remise), VAT on it, both rounded to 2 decimals.
          await client.query(
            `INSERT INTO llx_facture_fourn_det (fk_facture_fourn, description, label, ref, pu_ht, qty, tva_tx, remise_percent,
               product_type, fk_product, rang, pu_ttc, total_ht, tva, total_ttc)
             SELECT $1, $2, $3, $4, $5::numeric, $6::real, $7::numeric, $8::real, $9, $10, $11,
                    round($5::numeric * (1 + $7::numeric / 100), 8), c.ht, c.vat, c.ht + c.vat
               FROM (SELECT round($5::numeric * $6::numeric * (1 - $8::numeric / 100), 2) AS ht) h,
                    LATERAL (SELECT h.ht, round(h.ht * $7::numeric / 100, 2) AS vat) c`,
            [id, ...values],
          );
        }
        await client.query(
          `UPDATE llx_facture_fourn f SET total_ht = s.ht, total_tva = s.vat, total_ttc = s.ttc
             FROM (SELECT COALESCE(sum(total_ht), 0) AS ht, COALESCE(sum(tva), 0) AS vat, COALESCE(sum(total_ttc), 0) AS ttc
                     FROM llx_facture_fourn_det WHERE fk_facture_fourn = $1) s
            WHERE f.rowid = $1`,
          [id],
        );
        return id;
      });
    } catch (error) {
      if (error instanceof ApiError) throw error;
      throw fail(500, SI, `Error creating invoice : ${(error as Error).message}`);
    }
  }
  if (segments.length === 2 && method === 'GET') {
    const id = positiveId(segments[1], SI);
    if (!hasRight(user, RIGHT.factureFournLire)) throw fail(403, SI);
    const { rows } = await pool.query('SELECT * FROM llx_facture_fourn t WHERE t.rowid = $1 AND t.entity IN (0, 1)', [id]);
    if (rows.length === 0) throw notFound('Supplier invoice not found', SI);
    if (!canSee(user)) throw fail(403, SI, `Access not allowed for login ${user.login}`);
    const lines = await pool.query('SELECT * FROM llx_facture_fourn_det WHERE fk_facture_fourn = $1 ORDER BY rang, rowid', [id]);
    return supplierInvoiceObject(rows[0] as Record<string, unknown>, lines.rows as Record<string, unknown>[]);
  }
  if (segments.length <= 2) throw fail(405, SI);
  throw fail(404, SI);
}

function usersInfo(call: Call): unknown {
  const { user } = call;
  if (call.method !== 'GET') throw fail(405, 'api_users.class.php');
  if (!user.admin && !user.rights.has(RIGHT.userLire) && !user.rights.has(RIGHT.userSelfCreer)) {
    throw fail(403, 'api_users.class.php', 'Not allowed');
  }
  return {
    id: String(user.id), login: user.login, admin: user.admin ? '1' : '0', entity: String(user.entity), statut: '1', status: '1',
    lastname: user.lastname, firstname: user.firstname, email: user.email,
  };
}

// ---------------------------------------------------------------------------------------------------------------

export async function startDolibarrStandin(options: DolibarrStandinOptions): Promise<DolibarrStandin> {
  const delay = options.unknownKeyDelayMs ?? 1000;
  const production = options.production ?? false;
  const pool = new Pool({
    host: options.database.endpoint.host,
    port: options.database.endpoint.port,
    user: options.database.login.user,
    password: options.database.login.password,
    database: options.database.name,
    application_name: `dolibarr-standin ${options.host}`,
    max: 4,
    connectionTimeoutMillis: 15_000,
  });
  pool.on('error', () => undefined); // an idle client dying (cluster stopping) must not crash the process
  // Fail fast on a wrong login, as Dolibarr's install check would.
  (await pool.connect()).release();

  let connections = 0;
  let requests = 0;

  function send(res: ServerResponse, status: number, body: unknown): void {
    if (res.headersSent || res.destroyed) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-cache, must-revalidate' });
    res.end(text);
  }

  function sendError(res: ServerResponse, error: ApiError, stage: string): void {
    const body: Record<string, unknown> = { error: { code: error.code, message: error.message } };
    if (!production) {
      body['debug'] = {
        source: `${error.source} at ${stage} stage`,
        stages: { success: ['get', 'route', 'negotiate', ...(stage === 'call' ? ['authenticate', 'validate'] : [])], failure: [stage, 'message'] },
      };
    }
    send(res, error.code, body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://standin.invalid');
    const method = (req.method ?? 'GET').toUpperCase();
    if (!url.pathname.startsWith(API_PREFIX)) {
      sendError(res, fail(404, 'index.php'), 'route');
      return;
    }
    const segments = url.pathname.slice(API_PREFIX.length).split('/').filter((s) => s !== '');
    const resource = segments[0];
    const known = resource === 'status' ? segments.length === 1
      : resource === 'thirdparties' || resource === 'supplierinvoices' ? segments.length <= 2
      : resource === 'users' ? segments.length === 2 && segments[1] === 'info'
      : false;
    if (!known) {
      sendError(res, fail(404, 'index.php'), 'route');
      return;
    }
    const text = await requestBody(req);
    const key = presentedKey(req, url.searchParams);
    if (key === undefined) {
      sendError(res, fail(401, 'api_access.class.php', NO_KEY), 'authenticate');
      return;
    }
    const user = await authenticate(pool, key);
    if (user === undefined) {
      await sleep(delay); // Dolibarr's anti-brute-force sleep
      sendError(res, fail(401, 'api_access.class.php', BAD_KEY), 'authenticate');
      return;
    }
    let body: unknown;
    if (text.trim() !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        sendError(res, fail(400, 'index.php', 'Error parsing JSON'), 'validate');
        return;
      }
    }
    const call: Call = { method, segments, query: url.searchParams, body, user };
    try {
      let answer: unknown;
      if (resource === 'status') {
        if (method !== 'GET') throw fail(405, 'api_status.class.php');
        answer = {
          success: {
            code: 200, dolibarr_version: DOLIBARR_VERSION, access_locked: '0',
            environment: production ? 'production' : 'non-production',
          },
        };
      } else if (resource === 'thirdparties') answer = await thirdparties(pool, call);
      else if (resource === 'supplierinvoices') answer = await supplierInvoices(pool, call);
      else answer = usersInfo(call);
      send(res, 200, answer);
    } catch (error) {
      if (error instanceof ApiError) sendError(res, error, 'call');
      else throw error;
    }
  }

  const server: Server = createServer({ key: options.key, cert: options.cert }, (req, res) => {
    requests += 1;
    handle(req, res).catch((error: unknown) => {
      const apiError = error instanceof ApiError ? error : fail(500, 'index.php', (error as Error)?.message ?? String(error));
      sendError(res, apiError, 'call');
    });
  });
  server.on('connection', () => {
    connections += 1;
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await pool.end();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;

  return {
    host: options.host,
    port,
    connections: () => connections,
    requests: () => requests,
    close() {
      closing ??= (async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await pool.end();
      })();
      return closing;
    },
  };
}
