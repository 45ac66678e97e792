/**
 * Vault's JWT/OIDC auth method (vault-plugin-auth-jwt, path_login.go) for JWTs validated with the per-run OIDC
 * issuer's public key (`jwt_validation_pubkeys`), as the Gitea CI role `gitea_cicd_<app>` uses it: its refusals in the
 * plugin's order and texts, each a 400 `logical.ErrorResponse`.
 */
import { audienceOf, ClaimsError, validateClaims } from './claims';
import { badRequest } from './errors';
import { JwtFormatError, JwtSignatureError, verifyJwtSignature, type JwtClaims, type PublicKeyInput } from './jwt';
import type { TokenRequest } from './tokens';

export interface JwtAuthRole {
  /** Lower case (Vault lower-cases role names). */
  readonly name: string;
  readonly boundAudiences?: readonly string[];
  readonly boundSubject?: string;
  /** Claim → accepted value(s). */
  readonly boundClaims?: Readonly<Record<string, string | readonly string[]>>;
  readonly userClaim: string;
  readonly policies: readonly string[];
  readonly ttlSeconds: number;
  readonly maxTtlSeconds?: number;
  /** Vault's role defaults: 60, 150, 150. */
  readonly clockSkewLeewaySeconds?: number;
  readonly expirationLeewaySeconds?: number;
  readonly notBeforeLeewaySeconds?: number;
}

export interface JwtAuthOptions {
  /** The auth mount; default `jwt`. */
  readonly mount?: string;
  /** The OIDC issuer's public keys (`jwt_validation_pubkeys`). */
  readonly publicKeys: readonly PublicKeyInput[];
  /** When set, `iss` must equal it (`bound_issuer`). */
  readonly boundIssuer?: string;
  readonly roles: readonly JwtAuthRole[];
}

const str = (value: unknown): string => (typeof value === 'string' ? value : '');

export function validateJwtOptions(options: JwtAuthOptions): void {
  if (!Array.isArray(options.publicKeys) || options.publicKeys.length === 0) {
    throw new TypeError('jwt auth: publicKeys needs the OIDC issuer public key');
  }
  const names = new Set<string>();
  for (const role of options.roles) {
    if (typeof role.name !== 'string' || role.name === '' || role.name !== role.name.toLowerCase()) {
      throw new TypeError(`jwt auth: role name ${JSON.stringify(role.name)} must be non-empty and lower case (Vault lower-cases role names)`);
    }
    if (names.has(role.name)) throw new TypeError(`jwt auth: role ${role.name} is defined twice`);
    names.add(role.name);
    if (typeof role.userClaim !== 'string' || role.userClaim === '') throw new TypeError(`jwt auth: role ${role.name} needs a userClaim`);
    if (!Number.isInteger(role.ttlSeconds) || role.ttlSeconds <= 0) throw new TypeError(`jwt auth: role ${role.name} needs a positive integer ttlSeconds`);
  }
}

/** Vault's `validateBoundClaims` for string and list claims (no JSON pointers, no globs). */
function checkBoundClaims(bound: Readonly<Record<string, string | readonly string[]>>, claims: JwtClaims): void {
  for (const [claim, expected] of Object.entries(bound)) {
    const actual = claims[claim];
    if (actual === undefined || actual === null) throw badRequest(`error validating claims: claim ${JSON.stringify(claim)} is missing`);
    const actualValues = typeof actual === 'string' ? [actual] : Array.isArray(actual) ? actual : undefined;
    if (actualValues === undefined) throw badRequest(`error validating claims: received claim is not a string or list: ${String(actual)}`);
    const expectedValues = typeof expected === 'string' ? [expected] : expected;
    if (!expectedValues.some((value) => actualValues.includes(value))) {
      throw badRequest(`error validating claims: claim ${JSON.stringify(claim)} does not match any associated bound claim values`);
    }
  }
}

/** `POST auth/<mount>/login {role, jwt}` → the token to issue, or a VaultApiError. */
export function jwtLogin(options: JwtAuthOptions, body: Readonly<Record<string, unknown>>, now = new Date()): TokenRequest {
  const mount = options.mount ?? 'jwt';
  const roleName = str(body['role']).toLowerCase();
  if (roleName === '') throw badRequest('missing role');
  const role = options.roles.find((candidate) => candidate.name === roleName);
  if (role === undefined) throw badRequest(`role ${JSON.stringify(roleName)} could not be found`);
  const jwt = str(body['jwt']);
  if (jwt === '') throw badRequest('missing token');

  let claims: JwtClaims;
  try {
    claims = verifyJwtSignature(jwt, options.publicKeys).claims;
    validateClaims(claims, {
      issuer: options.boundIssuer,
      subject: role.boundSubject,
      audiences: role.boundAudiences ?? [],
      clockSkewLeewaySeconds: role.clockSkewLeewaySeconds ?? 60,
      expirationLeewaySeconds: role.expirationLeewaySeconds ?? 150,
      notBeforeLeewaySeconds: role.notBeforeLeewaySeconds ?? 150,
      now,
    });
  } catch (error) {
    if (error instanceof JwtSignatureError) throw badRequest(`error validating token: error verifying token signature: ${error.message}`);
    if (error instanceof JwtFormatError) throw badRequest(`error validating token: error verifying token signature: go-jose/go-jose: ${error.message}`);
    if (error instanceof ClaimsError) throw badRequest(`error validating token: ${error.message}`);
    throw error;
  }
  if (audienceOf(claims).length > 0 && (role.boundAudiences ?? []).length === 0) {
    throw badRequest('audience claim found in JWT but no audiences bound to the role');
  }
  const user = claims[role.userClaim];
  if (user === undefined) throw badRequest(`claim ${JSON.stringify(role.userClaim)} not found in token`);
  if (typeof user !== 'string') throw badRequest(`claim ${JSON.stringify(role.userClaim)} could not be converted to string`);
  checkBoundClaims(role.boundClaims ?? {}, claims);

  return {
    policies: role.policies,
    // The user claim's value, prefixed by the core with `<mount>-`.
    displayName: `${mount.replace(/\//g, '-')}-${user}`,
    path: `auth/${mount}/login`,
    meta: { role: roleName },
    ttlSeconds: role.ttlSeconds,
    maxTtlSeconds: role.maxTtlSeconds,
    renewable: true,
    mountType: 'jwt',
  };
}
