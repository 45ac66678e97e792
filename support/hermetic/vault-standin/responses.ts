/**
 * The JSON envelopes of Vault's HTTP API (http/logical.go `LogicalResponse`, the auth block of logins).
 */
import { randomUUID } from 'node:crypto';
import type { TokenEntry } from './tokens';

/** What a handler answers: a status and a JSON body, or no body (204 and the like). */
export interface Reply {
  readonly status: number;
  readonly body?: unknown;
  /** Extra headers (a redirect's Location). */
  readonly headers?: Readonly<Record<string, string>>;
  /** A non-JSON body, when `body` is undefined. */
  readonly text?: string;
}

export interface LogicalFields {
  readonly leaseId?: string;
  readonly renewable?: boolean;
  readonly leaseDuration?: number;
  readonly data?: unknown;
  readonly warnings?: readonly string[];
  readonly auth?: unknown;
  readonly mountType?: string;
}

export function logical(fields: LogicalFields): Reply {
  return {
    status: 200,
    body: {
      request_id: randomUUID(),
      lease_id: fields.leaseId ?? '',
      renewable: fields.renewable ?? false,
      lease_duration: fields.leaseDuration ?? 0,
      data: fields.data ?? null,
      wrap_info: null,
      warnings: fields.warnings === undefined || fields.warnings.length === 0 ? null : [...fields.warnings],
      auth: fields.auth ?? null,
      mount_type: fields.mountType ?? '',
    },
  };
}

/** The `auth` block of a login or a renew-self. Carries the token: only ever sent to its own holder. */
export function authBlock(entry: TokenEntry, leaseDuration: number): Record<string, unknown> {
  return {
    client_token: entry.id,
    accessor: entry.accessor,
    policies: [...entry.policies],
    token_policies: [...entry.policies],
    metadata: entry.meta === null ? null : { ...entry.meta },
    lease_duration: leaseDuration,
    renewable: entry.renewable,
    entity_id: entry.entityId,
    token_type: 'service',
    orphan: true,
    mfa_requirement: null,
    num_uses: 0,
  };
}

export const noContent: Reply = { status: 204 };
