import { expect } from 'chai';
import type { InstanceNames } from '../naming';
import { NotApplicable } from '../not-applicable';
import type { VaultSession } from '../vault';

/**
 * The reads the Vault fence tries, and the form safe for a live Vault: asking instead of reading. Under a broken
 * policy, reading prod's database credentials would make Vault mint a login that can write prod, and reading prod's
 * configuration would hand over prod's API key; Vault's sys/capabilities-self answers the same question (would this
 * identity's policies let the read through?) without anything being read, minted or changed.
 */

/** One read of the Vault fence: what Vault says the identity may do on the path, and (where sent) the read's outcome. */
export interface ReadAttempt {
  /** As the feature names it, e.g. `postgres/creds/erp` or `kvv2/erp/config`. */
  readonly path: string;
  /** The API path Vault's policies name, e.g. `kvv2/data/erp/config`. */
  readonly apiPath: string;
  /** Vault's answer to sys/capabilities-self for `apiPath`, e.g. `["deny"]`. */
  readonly capabilities: readonly string[];
  /** Only where the read itself may be sent (a hermetic Vault): what was read, or Vault's refusal. */
  readonly read?: { readonly text: string } | { readonly refusal: Error };
}

/** The API path a feature's Vault path names: a KV v2 secret `<mount>/<path>` is read at `<mount>/data/<path>`. */
export function apiPath(path: string): string {
  return path.startsWith('kvv2/') ? path.replace(/^kvv2\//, 'kvv2/data/') : path;
}

/** Reads a Vault path as `session`: KV v2 configuration, or database credentials (a lease, revoked with the session). */
export async function read(session: VaultSession, path: string): Promise<string> {
  if (path.startsWith('kvv2/')) {
    const kv = await session.readKv(path);
    return `${path} version ${kv.version}: ${Object.keys(kv.values).sort().join(', ')}`;
  }
  const lease = await session.databaseCredentials(path, { autoRenew: false });
  return `${path}: lease ${lease.leaseId} for ${lease.username}`;
}

/** What Vault says `session`'s identity may do on `path` (sys/capabilities-self), e.g. `["read"]` or `["deny"]`. */
export async function capabilitiesOn(session: VaultSession, path: string): Promise<readonly string[]> {
  const answer = await session.capabilities([apiPath(path)]);
  return answer[apiPath(path)]!;
}

/** Asks Vault what `session` may do on `path`; where `send` (a hermetic Vault only), reads it too. */
export async function attemptRead(session: VaultSession, path: string, send: boolean): Promise<ReadAttempt> {
  const asked = { path, apiPath: apiPath(path), capabilities: await capabilitiesOn(session, path) };
  if (!send) return asked;
  try {
    return { ...asked, read: { text: await read(session, path) } };
  } catch (error) {
    return { ...asked, read: { refusal: error as Error } };
  }
}

/**
 * The sandbox's own counterpart of one of prod's paths: prod's credentials or configuration → the sandbox's. Asked as
 * the sandbox's identity it must answer `read`, or a `deny` on prod's path proves nothing (a path Vault matches no rule
 * to is denied too).
 */
export function sandboxCounterpart(path: string, prod: InstanceNames, sandbox: InstanceNames): string {
  const counterparts = new Map([[prod.credsPath, sandbox.credsPath], [prod.kvPath, sandbox.kvPath]]);
  const counterpart = counterparts.get(path);
  if (counterpart === undefined) {
    throw new Error(`"${path}" has no counterpart of the sandbox's: give one of ${[...counterparts.keys()].map((known) => `"${known}"`).join(', ')}`);
  }
  return counterpart;
}

/** The scenario's last read of the Vault fence: there must be one. */
export function attemptedRead(attempt: ReadAttempt | undefined): ReadAttempt {
  if (attempt === undefined) throw new Error('no Vault read was attempted in this scenario: a "When it reads …" step comes first');
  return attempt;
}

/** The refusal the read itself met, where it was sent and refused. */
export function refusalOf(read: NonNullable<ReadAttempt['read']>): Error | undefined {
  return 'refusal' in read ? read.refusal : undefined;
}

/**
 * Vault says the identity's policies deny the path, the refusal an ACL gives (403 permission denied); where the read was
 * not sent, no other refusal can be asked of Vault, so another is not applicable. The line of evidence.
 */
export function expectDenied(attempt: ReadAttempt, status: number, message: string): string {
  if (attempt.read === undefined && (status !== 403 || message !== 'permission denied')) {
    throw new NotApplicable(`only an ACL refusal (403 permission denied) can be asked of Vault without sending the read, not ${status} "${message}"`);
  }
  expect(attempt.capabilities, `what Vault says the identity may do on ${attempt.apiPath}`).to.deep.equal(['deny']);
  return `${attempt.path}: ${attempt.read === undefined ? '' : `read refused ${status}; `}sys/capabilities-self on ${attempt.apiPath} → ${JSON.stringify(attempt.capabilities)}`;
}

/** Vault says the sandbox's identity (`session`) may read its own `counterpart` (sandboxCounterpart). */
export async function expectSandboxMayRead(session: VaultSession, counterpart: string): Promise<void> {
  const capabilities = await capabilitiesOn(session, counterpart);
  expect(capabilities, `what Vault says the sandbox's identity may do on its own ${counterpart}`).to.include('read');
}
