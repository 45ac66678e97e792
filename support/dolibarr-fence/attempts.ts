/**
 * The writes the Dolibarr half of the prod-undroppable proof sends to prod with a key that must not write there, each
 * in two forms like the PostgreSQL probes: the write itself, and a form safe to send to a live prod, which a broken
 * fence lets past the rights check and which still writes nothing.
 */
import { apiLine } from '../erp/supplier-invoice';

export interface ApiRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Under /api/index.php, e.g. `/thirdparties`. */
  readonly path: string;
  readonly body?: Readonly<Record<string, unknown>>;
}

export interface WriteAttempt {
  readonly name: string;
  /** The write itself; on the hermetic target, prod's content hash is checked after it. */
  readonly write: ApiRequest;
  /**
   * The same endpoint, made invalid in a way Dolibarr checks only after authentication and the rights check (a missing
   * required field, an id that does not exist): a holding fence answers it as it answers the write (401 or 403), a
   * broken one answers `pastRights` (400 or 404) and still writes nothing. Dolibarr's order (api_thirdparties,
   * api_supplier_invoices, 19 to 23): authenticate, `hasRight(…)` (403, or 401 on 19), then `_validate` (400) or
   * `fetch($id)` (404).
   */
  readonly liveSafe: ApiRequest;
  /** What `liveSafe` answers once the key passed authentication and the rights check. */
  readonly pastRights: { readonly status: number; readonly message: string };
  /** How the rights check words its refusal: the bare reason, or with the version's "insufficient rights" detail. */
  readonly rightsDetail: 'none' | 'insufficient rights';
}

/** No such row: ids are positive 32-bit integers and no fixture or ERP gets near this one. */
const MISSING_ID = 2147483647;

const ATTEMPTS: readonly WriteAttempt[] = [
  {
    name: 'create a thirdparty',
    write: { method: 'POST', path: '/thirdparties', body: { name: 'Rehearsal intrusion SARL', fournisseur: 1 } },
    liveSafe: { method: 'POST', path: '/thirdparties', body: {} },
    pastRights: { status: 400, message: 'Bad Request: name field missing' },
    rightsDetail: 'none',
  },
  {
    name: 'create a supplier invoice',
    write: {
      method: 'POST',
      path: '/supplierinvoices',
      body: { socid: 1, ref_supplier: 'RH-INTRUSION', lines: [apiLine({ description: 'Intrusion', quantity: 1, unitPrice: 100, vatRate: 20 })] },
    },
    liveSafe: { method: 'POST', path: '/supplierinvoices', body: {} },
    pastRights: { status: 400, message: 'Bad Request: socid field missing' },
    rightsDetail: 'insufficient rights',
  },
  {
    name: 'update a thirdparty',
    write: { method: 'PUT', path: '/thirdparties/1', body: { name_alias: 'written with a key that must not write' } },
    liveSafe: { method: 'PUT', path: `/thirdparties/${MISSING_ID}`, body: {} },
    pastRights: { status: 404, message: 'Not Found: Thirdparty not found' },
    rightsDetail: 'none',
  },
  {
    name: 'delete a thirdparty',
    write: { method: 'DELETE', path: '/thirdparties/1' },
    liveSafe: { method: 'DELETE', path: `/thirdparties/${MISSING_ID}` },
    pastRights: { status: 404, message: 'Not Found: Thirdparty not found' },
    rightsDetail: 'none',
  },
];

export function writeAttempt(name: string): WriteAttempt {
  const attempt = ATTEMPTS.find((candidate) => candidate.name === name);
  if (!attempt) {
    throw new Error(`no Dolibarr write attempt "${name}"; known: ${ATTEMPTS.map((a) => `"${a.name}"`).join(', ')}`);
  }
  return attempt;
}

export const writeAttempts = (): readonly WriteAttempt[] => ATTEMPTS;
