/**
 * Claims validation after the signature, as hashicorp/cap's `jwt.Validator` does it (both the JWT/OIDC and the
 * Kubernetes auth plugins of Vault ≥ 1.13 use it): issuer, subject, audience, then the time claims with leeways —
 * defaults 60 s of clock skew, 150 s for a missing `exp` / `nbf`. The messages are cap's.
 */

export class ClaimsError extends Error {
  override readonly name = 'ClaimsError';
}

export interface ExpectedClaims {
  readonly issuer?: string;
  readonly subject?: string;
  /** Valid if the token's `aud` holds any of them; empty or absent skips the check. */
  readonly audiences?: readonly string[];
  /** cap's `ValidateAllowMissingIatNbfExp` (Kubernetes auth) rather than `Validate` (JWT auth). */
  readonly allowMissingTimes?: boolean;
  /** 0 means cap's default (60 s), a negative value means none. */
  readonly clockSkewLeewaySeconds?: number;
  /** 0 means cap's default (150 s); used only when `exp` is missing. */
  readonly expirationLeewaySeconds?: number;
  /** 0 means cap's default (150 s); used only when `nbf` and `iat` are missing. */
  readonly notBeforeLeewaySeconds?: number;
  readonly now?: Date;
}

const DEFAULT_LEEWAY = 150;
const DEFAULT_CLOCK_SKEW = 60;

const leeway = (value: number | undefined, fallback: number): number =>
  value === undefined || value === 0 ? fallback : value < 0 ? 0 : value;

/** `aud` as go-jose reads it: a string or a list of strings. */
export function audienceOf(claims: Readonly<Record<string, unknown>>): string[] {
  const aud = claims['aud'];
  if (aud === undefined || aud === null) return [];
  if (typeof aud === 'string') return [aud];
  if (Array.isArray(aud) && aud.every((entry) => typeof entry === 'string')) return aud as string[];
  throw new ClaimsError('json: cannot unmarshal aud claim');
}

function numericDate(claims: Readonly<Record<string, unknown>>, name: string): number {
  const value = claims[name];
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ClaimsError(`json: cannot unmarshal ${name} claim`);
  return Math.trunc(value);
}

export function validateClaims(claims: Readonly<Record<string, unknown>>, expected: ExpectedClaims): void {
  if (expected.issuer !== undefined && expected.issuer !== '' && claims['iss'] !== expected.issuer) {
    throw new ClaimsError('invalid issuer (iss) claim');
  }
  if (expected.subject !== undefined && expected.subject !== '' && claims['sub'] !== expected.subject) {
    throw new ClaimsError('invalid subject (sub) claim');
  }
  const audiences = expected.audiences ?? [];
  if (audiences.length > 0) {
    const aud = audienceOf(claims);
    if (!audiences.some((audience) => aud.includes(audience))) {
      throw new ClaimsError('invalid audience (aud) claim: audience claim does not match any expected audience');
    }
  }

  const iat = numericDate(claims, 'iat');
  let exp = numericDate(claims, 'exp');
  let nbf = numericDate(claims, 'nbf');
  if (iat === 0 && exp === 0 && nbf === 0) {
    if (expected.allowMissingTimes) return;
    throw new ClaimsError('no issued at (iat), not before (nbf), or expiration time (exp) claims in token');
  }
  if (exp === 0) exp = Math.max(iat, nbf) + leeway(expected.expirationLeewaySeconds, DEFAULT_LEEWAY);
  if (nbf === 0) nbf = iat !== 0 ? iat : exp - leeway(expected.notBeforeLeewaySeconds, DEFAULT_LEEWAY);

  const skew = leeway(expected.clockSkewLeewaySeconds, DEFAULT_CLOCK_SKEW) * 1000;
  const now = (expected.now ?? new Date()).getTime();
  if (now + skew < nbf * 1000) throw new ClaimsError('invalid not before (nbf) claim: token not yet valid');
  if (now - skew > exp * 1000) throw new ClaimsError('invalid expiration time (exp) claim: token is expired');
  if (iat !== 0 && now + skew < iat * 1000) throw new ClaimsError('invalid issued at (iat) claim: token issued in the future');
}

/** A glob as Vault's `strutil.StrListContainsGlob` reads it: `*` matches any run of characters. */
export function globMatch(pattern: string, value: string): boolean {
  const regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return regex.test(value);
}
