/**
 * What the parts of a Vault session share to call Vault: the session's state they check first, the request paths
 * they validate, and the readers of Vault's JSON answers.
 */
import { vaultPathProblem } from './config';
import { VaultError } from './errors';
import type { VaultTransport } from './transport';

/** The session, as its parts (login, leases, KV, capabilities) see it. */
export interface SessionContext {
  readonly transport: VaultTransport;
  readonly closed: () => boolean;
  /** Logs in first if the session has not yet. */
  readonly loggedIn: () => Promise<void>;
}

export type Body = Record<string, unknown>;

export const isObject = (value: unknown): value is Body => value !== null && typeof value === 'object' && !Array.isArray(value);

export const isDuration = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;

export function checkPath(what: string, path: string, method: string): void {
  const problem = vaultPathProblem(path);
  if (problem !== null) throw new TypeError(`Vault ${method} ${what} ${JSON.stringify(path)}: ${problem}`);
}

export function checkOpen(context: SessionContext, method: string, path: string): void {
  if (context.closed()) throw new VaultError(0, ['the session is closed'], method, path);
}
