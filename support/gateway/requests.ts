/**
 * What the recording gateway makes of one request of the agent's, before anything is sent: forwarded to the sandbox's
 * API (its path, its JSON fields, whether it is a write to record), or refused with Dolibarr's own error shape. The
 * agent never holds a key, so a request carrying one is refused; a write promote could not replay is refused at once,
 * so the agent learns of it while it can still do otherwise.
 */
import type { Method } from '../dolibarr/transport';
import { checkReplayable } from '../promote/replay';

/** Dolibarr's API root, under the URL its clients are configured with. */
export const API_ROOT = '/api/index.php';

/** The key parameters Dolibarr reads from a query string (`DOLAPIKEY`, and the older `api_key`). */
const KEY_PARAMETERS = new Set(['dolapikey', 'api_key']);

/** An API path: letters, digits, `_`, `-` and `/` under the root, no dot segment, no doubled slash, no encoding. */
const API_PATH = /^\/api\/index\.php(?:\/[A-Za-z0-9_-]+)+$/;

const METHODS: ReadonlySet<string> = new Set<Method>(['GET', 'POST', 'PUT', 'DELETE']);

export type WriteMethod = Exclude<Method, 'GET'>;

/** A request the gateway refuses, as Dolibarr's API words an error: `{"error":{"code":…,"message":…}}`. */
export interface Refusal {
  readonly kind: 'refused';
  readonly status: number;
  /** Why, in one sentence with what to do. */
  readonly message: string;
}

/** A request the gateway sends on to the sandbox. */
export interface Forward {
  readonly kind: 'forward';
  readonly method: Method;
  /** Path and query under the configured URL, e.g. `/api/index.php/thirdparties?limit=1`. */
  readonly path: string;
  /** The JSON object the agent sent (writes), or undefined. */
  readonly fields?: Record<string, unknown>;
  /** Undefined for a GET; the path under the API root for a write, as a changeset records it. */
  readonly write?: { readonly method: WriteMethod; readonly path: string };
}

export interface AgentRequest {
  readonly method: string;
  /** The request target as received: path and query. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

/** Dolibarr's error body for `status` and `message`. */
export function errorBody(status: number, message: string): string {
  return JSON.stringify({ error: { code: status, message } });
}

function refused(status: number, message: string): Refusal {
  return { kind: 'refused', status, message };
}

/** Decides what to do with one request of the agent's. */
export function decide(request: AgentRequest): Refusal | Forward {
  const { method } = request;
  if (!METHODS.has(method)) return refused(405, `the rehearsal gateway forwards GET, POST, PUT and DELETE to Dolibarr's API, not ${method}`);
  const at = request.url.indexOf('?');
  const path = at < 0 ? request.url : request.url.slice(0, at);
  const query = at < 0 ? '' : request.url.slice(at + 1);
  if (request.headers['dolapikey'] !== undefined) {
    return refused(403, 'the request carries its own DOLAPIKEY header: the rehearsal gateway adds the agent\'s sandbox key itself; send no key');
  }
  const params = new URLSearchParams(query);
  const keyParameter = [...params.keys()].find((name) => KEY_PARAMETERS.has(name.toLowerCase()));
  if (keyParameter !== undefined) {
    return refused(403, `the request carries its own key in the query (${keyParameter}): the rehearsal gateway adds the agent's sandbox key itself; send no key`);
  }
  if (!API_PATH.test(path)) {
    return refused(404, `the rehearsal gateway forwards only Dolibarr's API (${API_ROOT}/<resource>…), not ${JSON.stringify(path.slice(0, 200))}`);
  }
  const target = query === '' ? path : `${path}?${query}`;
  if (method === 'GET') return { kind: 'forward', method, path: target };
  const write = { method: method as WriteMethod, path: target.slice(API_ROOT.length) };
  try {
    checkReplayable([write]);
  } catch (error) {
    return refused(403, `the rehearsal gateway refuses ${method} ${write.path}: promote could not replay it on prod (${(error as Error).message}); ` +
      'use the writes promote replays: POST /thirdparties, PUT or DELETE /thirdparties/{id}, POST /supplierinvoices');
  }
  if (method === 'DELETE') return { kind: 'forward', method: write.method, path: target, write };
  let fields: unknown;
  try {
    fields = JSON.parse(request.body);
  } catch {
    return refused(400, `${method} ${write.path}: the body is not JSON; send the fields as a JSON object (Content-Type: application/json)`);
  }
  if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) {
    return refused(400, `${method} ${write.path}: the body is not a JSON object of fields`);
  }
  return { kind: 'forward', method: write.method, path: target, fields: fields as Record<string, unknown>, write };
}
