/**
 * The replay plan of a promotion: which of the operations recorded on the sandbox are sent again to prod, in which
 * order, and how the ids in them are rewritten on the way. A create answers the id its own instance's sequence handed
 * out, so a later operation naming the sandbox's id must reach prod with prod's (IdMap): sent as recorded it would fail,
 * or touch an unrelated prod row. Ids the rehearsal did not create name rows both instances had, and go as recorded.
 */
import type { RecordedOperation } from './changeset';

/** The request sent to prod for one recorded operation. */
export interface ReplayRequest {
  readonly method: RecordedOperation['method'];
  readonly path: string;
  readonly body?: Record<string, unknown>;
}

/** A recorded operation the replay leaves out, with its position among the recorded ones. */
export interface LeftOutOperation {
  readonly index: number;
  readonly operation: RecordedOperation;
  readonly reason: string;
}

export class ReplayPlanError extends Error {
  override readonly name = 'ReplayPlanError';
}

/**
 * Reference fields of Dolibarr's API bodies → the resource (first path segment) of the objects they name. Only these
 * are rewritten in a body, at any depth: an id in any other field, in free text or in a query string goes as recorded.
 */
const REFERENCES: ReadonlyMap<string, string> = new Map([
  ['socid', 'thirdparties'],
  ['fk_soc', 'thirdparties'],
  ['fk_facture_fourn', 'supplierinvoices'],
  ['fk_product', 'products'],
]);

/** An object id: a positive safe integer, or the decimal text of one (no sign, no leading zero). */
function idValue(value: unknown): number | undefined {
  const id = typeof value === 'number' ? value : typeof value === 'string' && /^[1-9]\d*$/.test(value) ? Number(value) : undefined;
  return id !== undefined && Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

function succeeded(operation: RecordedOperation): boolean {
  return operation.status >= 200 && operation.status < 300;
}

function routeOf(path: string): { readonly route: string; readonly query: string } {
  const at = path.indexOf('?');
  return at < 0 ? { route: path, query: '' } : { route: path.slice(0, at), query: path.slice(at) };
}

/** The collection a path points into: its segments that are not ids, e.g. `/supplierinvoices/5/lines` → `supplierinvoices/lines`. */
export function collectionOf(path: string): string {
  return routeOf(path)
    .route.split('/')
    .filter((segment) => segment !== '' && idValue(segment) === undefined)
    .join('/');
}

/** The id a successful POST to a collection created (Dolibarr answers it as a bare number), else undefined. */
export function createdId(operation: RecordedOperation): number | undefined {
  if (operation.method !== 'POST' || !succeeded(operation)) return undefined;
  const last = routeOf(operation.path).route.split('/').filter((segment) => segment !== '').at(-1);
  if (last === undefined || idValue(last) !== undefined) return undefined;
  return idValue(operation.response);
}

/** Sandbox id → prod id of the objects the replay created so far, one map per collection. */
export class IdMap {
  readonly #byResource = new Map<string, Map<number, number>>();

  record(resource: string, sandboxId: number, prodId: number): void {
    const ids = this.#byResource.get(resource) ?? new Map<number, number>();
    const known = ids.get(sandboxId);
    if (known !== undefined && known !== prodId) {
      throw new ReplayPlanError(`${resource} ${sandboxId} of the sandbox is already prod's ${known}, not ${prodId}`);
    }
    ids.set(sandboxId, prodId);
    this.#byResource.set(resource, ids);
  }

  /** Prod's id for an object the rehearsal created, or undefined when it did not create it. */
  lookup(resource: string, sandboxId: number): number | undefined {
    return this.#byResource.get(resource)?.get(sandboxId);
  }

  /**
   * After replaying `rehearsed` on prod: when it created an object on the sandbox, records the id prod answered for
   * it. Throws when prod's answer is not an id: the later operations could not be rewritten.
   */
  recordCreation(rehearsed: RecordedOperation, prodResponse: unknown): void {
    const sandboxId = createdId(rehearsed);
    if (sandboxId === undefined) return;
    const prodId = idValue(prodResponse);
    const resource = collectionOf(rehearsed.path);
    if (prodId === undefined) {
      throw new ReplayPlanError(`POST ${rehearsed.path} created ${resource} ${sandboxId} on the sandbox, but prod answered ${JSON.stringify(prodResponse)}, not an id`);
    }
    this.record(resource, sandboxId, prodId);
  }
}

/**
 * Each id is looked up in the collection the path names up to it: in `/supplierinvoices/5/lines/77`, 77 among
 * `supplierinvoices/lines`, where `POST /supplierinvoices/5/lines` recorded it. So in `/thirdparties/5/categories/7`,
 * 7 is looked up among `thirdparties/categories`, where no create put it: a category the rehearsal created stays 7.
 */
function remapPath(path: string, ids: IdMap): string {
  const { route, query } = routeOf(path);
  const names: string[] = [];
  const segments = route.split('/').map((segment) => {
    const id = idValue(segment);
    if (id === undefined) {
      if (segment !== '') names.push(segment);
      return segment;
    }
    const prodId = ids.lookup(names.join('/'), id);
    return prodId === undefined ? segment : String(prodId);
  });
  return segments.join('/') + query;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Rewrites `value`, found under `field`: objects and arrays item by item, a reference field's id when the rehearsal created it. */
function remapValue(value: unknown, field: string | undefined, ids: IdMap): unknown {
  if (Array.isArray(value)) return value.map((item) => remapValue(item, field, ids));
  if (isRecord(value)) return remapBody(value, ids);
  const resource = field === undefined ? undefined : REFERENCES.get(field);
  const id = idValue(value);
  if (resource === undefined || id === undefined) return value;
  const prodId = ids.lookup(resource, id);
  if (prodId === undefined) return value;
  return typeof value === 'string' ? String(prodId) : prodId;
}

function remapBody(body: Record<string, unknown>, ids: IdMap): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).map(([field, value]) => [field, remapValue(value, field, ids)]));
}

/** The request to send to prod for `operation`, its ids created earlier in the rehearsal rewritten to prod's. */
export function remapOperation(operation: RecordedOperation, ids: IdMap): ReplayRequest {
  const path = remapPath(operation.path, ids);
  return operation.body === undefined ? { method: operation.method, path } : { method: operation.method, path, body: remapBody(operation.body, ids) };
}

/** Why an operation is not replayed, or undefined when it is: only what the sandbox accepted (2xx) is. */
function whyLeftOut(operation: RecordedOperation): string | undefined {
  if (succeeded(operation)) return undefined;
  if (operation.status >= 400 && operation.status < 500) return `refused by the sandbox (HTTP ${operation.status})`;
  return operation.status === 0 ? 'failed on the sandbox (no answer)' : `failed on the sandbox (HTTP ${operation.status})`;
}

/** The operations to replay, in the order they were recorded: those that succeeded in the rehearsal. */
export function replayOrder(operations: readonly RecordedOperation[]): RecordedOperation[] {
  return operations.filter((operation) => whyLeftOut(operation) === undefined);
}

/** The operations the replay leaves out, and why: those the sandbox refused or that failed there. */
export function leftOut(operations: readonly RecordedOperation[]): LeftOutOperation[] {
  return operations.flatMap((operation, index) => {
    const reason = whyLeftOut(operation);
    return reason === undefined ? [] : [{ index, operation, reason }];
  });
}
