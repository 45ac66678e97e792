import type { DolibarrClient } from '../dolibarr/client';
import type { RecordedOperation } from './changeset';
import { PromotionRefused } from './refusal';

/**
 * The writes promote knows how to replay, each mapped to the write tooling's own method: no raw request reaches prod.
 * A changeset holding any other operation is refused before anything is sent.
 */

export type Replayable = Pick<RecordedOperation, 'method' | 'path' | 'body'>;

interface Route {
  readonly method: RecordedOperation['method'];
  readonly path: RegExp;
  send(client: DolibarrClient, body: Record<string, unknown>, id: number): Promise<unknown>;
}

const ROUTES: readonly Route[] = [
  { method: 'POST', path: /^\/thirdparties$/, send: (client, body) => client.createThirdparty(body) },
  { method: 'PUT', path: /^\/thirdparties\/(\d+)$/, send: (client, body, id) => client.updateThirdparty(id, body) },
  { method: 'DELETE', path: /^\/thirdparties\/(\d+)$/, send: (client, _body, id) => client.deleteThirdparty(id) },
  { method: 'POST', path: /^\/supplierinvoices$/, send: (client, body) => client.createSupplierInvoice(body) },
];

function routeOf(operation: Replayable): { route: Route; id: number } | undefined {
  for (const route of ROUTES) {
    const match = route.method === operation.method ? route.path.exec(operation.path) : null;
    if (match) return { route, id: Number(match[1] ?? 0) };
  }
  return undefined;
}

/** Refuses the whole changeset if one of its operations is not a write promote can replay. */
export function checkReplayable(operations: readonly Replayable[]): void {
  const unknown = operations.filter((operation) => routeOf(operation) === undefined).map((operation) => `${operation.method} ${operation.path}`);
  if (unknown.length > 0) {
    throw new PromotionRefused('unsupported operation', 'the changeset holds operations promote cannot replay; nothing was sent to prod', unknown);
  }
}

/** Sends one operation through the client; returns Dolibarr's answer (a create: the new id). */
export function sendOperation(client: DolibarrClient, operation: Replayable): Promise<unknown> {
  const found = routeOf(operation);
  if (!found) throw new PromotionRefused('unsupported operation', `${operation.method} ${operation.path} cannot be replayed`);
  return found.route.send(client, operation.body ?? {}, found.id);
}
