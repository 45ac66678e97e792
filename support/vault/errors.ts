/**
 * Errors of the harness's Vault access (support/vault/session.ts).
 *
 * Every error is rebuilt from the HTTP status and Vault's `{"errors":[…]}` body only (never kept: node-vault's or
 * the HTTP stack's error objects, which may carry the request and its `X-Vault-Token` header), with every secret the
 * session knows redacted. `status` is 0 when there was no HTTP answer. `path` is the Vault API path without `/v1/`, e.g.
 * `postgres/creds/erp-sandbox`; messages read `Vault GET postgres/creds/erp → 403 permission denied`.
 */

export interface VaultErrorOptions {
  readonly cause?: unknown;
  /** Replaces the default message (the status, method, path and errors stay available as fields). */
  readonly message?: string;
}

export class VaultError extends Error {
  override name = 'VaultError';
  readonly status: number;
  /** Vault's own messages (the `errors` array of its answer), redacted; or what went wrong without an answer. */
  readonly errors: readonly string[];
  readonly method: string;
  readonly path: string;

  constructor(status: number, errors: readonly string[], method: string, path: string, options: VaultErrorOptions = {}) {
    super(options.message ?? describe(status, errors, method, path), options.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.errors = Object.freeze([...errors]);
    this.method = method;
    this.path = path;
  }
}

/** `Vault GET postgres/creds/erp → 403 permission denied` */
export function describe(status: number, errors: readonly string[], method: string, path: string): string {
  const what = errors.length === 0 ? '' : `${status === 0 ? ': ' : ' '}${errors.join('; ')}`;
  return `Vault ${method} ${path} → ${status === 0 ? 'no answer' : status}${what}`;
}

/** 403 (Vault's `permission denied`): the identity's policies do not allow this path. */
export class VaultPermissionDenied extends VaultError {
  override name = 'VaultPermissionDenied';
}

/**
 * The login was refused (400 `invalid role name`, 403 `permission denied`, a token lookup-self refused…), or the
 * credential to present could not be read (status 0: e.g. the service-account token file is missing).
 */
export class VaultAuthenticationError extends VaultError {
  override name = 'VaultAuthenticationError';
}

/** No usable HTTP answer: connection refused or reset, DNS, TLS verification, timeout, a redirect (never followed); status 0. */
export class VaultUnreachable extends VaultError {
  override name = 'VaultUnreachable';
  /**
   * The network error's code: `ECONNREFUSED`, `ENOTFOUND`, a TLS code (`DEPTH_ZERO_SELF_SIGNED_CERT`, …),
   * `ERR_VAULT_TIMEOUT`, `ERR_VAULT_REDIRECT`, `ERR_VAULT_HOST_REFUSED`, `ERR_VAULT_BODY_TOO_LARGE`.
   */
  readonly code: string | undefined;

  constructor(code: string | undefined, detail: string, method: string, path: string) {
    super(0, [code === undefined ? detail : `${code}: ${detail}`], method, path);
    this.code = code;
  }
}

/** An answer that is not what Vault's API promises (a 200 without `data.password`, an HTML page, …). */
export class VaultUnexpectedResponse extends VaultError {
  override name = 'VaultUnexpectedResponse';
}

export interface LeaseRevocationFailure {
  readonly leaseId: string;
  readonly error: VaultError;
}

/**
 * One or more leases could not be revoked; they stay outstanding (and are tried again by `revokeAll` and at the
 * end of the run). `failures` names each lease with Vault's answer.
 */
export class VaultLeaseRevocationError extends VaultError {
  override name = 'VaultLeaseRevocationError';
  readonly failures: readonly LeaseRevocationFailure[];

  constructor(failures: readonly LeaseRevocationFailure[]) {
    const statuses = new Set(failures.map((failure) => failure.error.status));
    const status = statuses.size === 1 ? [...statuses][0]! : 0;
    const lines = failures.map((failure) => `${failure.leaseId}: ${failure.error.message}`);
    super(status, failures.flatMap((failure) => failure.error.errors), 'PUT', 'sys/leases/revoke', {
      message:
        failures.length === 1
          ? `Vault could not revoke lease ${lines[0]}`
          : `Vault could not revoke ${failures.length} leases:\n${lines.map((line) => `  - ${line}`).join('\n')}`,
      ...(failures.length === 1 ? { cause: failures[0]!.error } : {}),
    });
    this.failures = Object.freeze([...failures]);
  }
}
