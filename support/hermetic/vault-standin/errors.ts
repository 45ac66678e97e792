/**
 * Vault's error answers: an HTTP status and `{"errors":[…]}`, with Vault's texts (vault/request_handling.go) unless
 * marked chosen. A message never carries a token, a password or a JWT: it is built from names, paths and sanitized
 * database texts only.
 */

export class VaultApiError extends Error {
  override readonly name = 'VaultApiError';
  constructor(
    readonly status: number,
    readonly errors: readonly string[],
  ) {
    super(errors.length === 0 ? `status ${status}` : errors.join('; '));
  }
}

/** go-multierror's list format, which Vault's core uses when it wraps an error on its way out. */
export function multierror(...messages: readonly string[]): string {
  if (messages.length === 1) return `1 error occurred:\n\t* ${messages[0]}\n\n`;
  return `${messages.length} errors occurred:\n\t${messages.map((message) => `* ${message}`).join('\n\t')}\n\n`;
}

/** No token on a path that needs one: the core's bare ErrPermissionDenied (its HTTP wrapping chosen). */
export const missingToken = (): VaultApiError => new VaultApiError(403, ['permission denied']);

/** A token Vault does not know (never issued, revoked or expired), as Vault's token docs give it ("Error responses"). */
export const invalidToken = (): VaultApiError => new VaultApiError(403, [multierror('permission denied', 'invalid token')]);

/**
 * A valid token whose policies do not allow the operation on the path. Often quoted as a bare `permission denied`,
 * Vault 1.15 wraps it (checkToken appends ErrPermissionDenied to a multierror): match on the text being contained.
 */
export const aclDenied = (): VaultApiError => new VaultApiError(403, [multierror('permission denied')]);

/** A backend's `logical.ErrorResponse`: 400 with the message as is. */
export const badRequest = (message: string): VaultApiError => new VaultApiError(400, [message]);

/** A backend's `logical.CodedError(status, message)`. */
export const coded = (status: number, message: string): VaultApiError => new VaultApiError(status, [message]);

/** A backend's plain error, wrapped by the core: 500. */
export const internalError = (message: string): VaultApiError => new VaultApiError(500, [multierror(message)]);

/** Chosen texts, multierror-wrapped like the core's. */
export const unsupportedOperation = (): VaultApiError => new VaultApiError(405, [multierror('unsupported operation')]);

export const unsupportedPath = (): VaultApiError => new VaultApiError(404, [multierror('unsupported path')]);

/** The text seen in captures of real Vault for an unmounted path. */
export const noHandler = (path: string): VaultApiError =>
  new VaultApiError(404, [`no handler for route ${JSON.stringify(path)}. route entry not found.`]);

/** Replaces every secret in `text` by `[redacted]` (database error texts may quote a statement). */
export function sanitize(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length > 0) out = out.split(secret).join('[redacted]');
  }
  return out;
}
