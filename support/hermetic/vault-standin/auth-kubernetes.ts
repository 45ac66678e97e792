/**
 * Vault's Kubernetes auth method (vault-plugin-auth-kubernetes, path_login.go), configured with the per-run
 * service-account issuer's public key (`pem_keys`): its refusals in the plugin's order and texts. The stand-in also
 * plays the cluster's TokenReview API.
 */
import { randomUUID } from 'node:crypto';
import { ClaimsError, globMatch, validateClaims } from './claims';
import { badRequest, coded, VaultApiError } from './errors';
import { JwtFormatError, JwtSignatureError, verifyJwtSignature, type JwtClaims, type PublicKeyInput } from './jwt';
import type { TokenRequest } from './tokens';

export interface KubernetesAuthRole {
  readonly name: string;
  /** Service account names (globs allowed; `["*"]` for any). */
  readonly boundServiceAccountNames: readonly string[];
  /** Namespaces (globs allowed; `["*"]` for any). */
  readonly boundServiceAccountNamespaces: readonly string[];
  /** The audience the service-account token must carry; none checked if absent. */
  readonly audience?: string;
  readonly policies: readonly string[];
  readonly ttlSeconds: number;
  readonly maxTtlSeconds?: number;
}

export interface KubernetesAuthOptions {
  /** The auth mount; default `kubernetes`. */
  readonly mount?: string;
  /** The service-account issuer's public keys (`pem_keys`). */
  readonly issuerPublicKeys: readonly PublicKeyInput[];
  /** When set, `iss` must equal it (Vault's `issuer` with `disable_iss_validation=false`). */
  readonly issuer?: string;
  readonly roles: readonly KubernetesAuthRole[];
}

interface ServiceAccount {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly secretName: string;
}

const str = (value: unknown): string => (typeof value === 'string' ? value : '');

/** Reads the service account from a projected token (`kubernetes.io` claim) or a legacy secret-based one. */
function serviceAccountOf(claims: JwtClaims): ServiceAccount {
  const projected = claims['kubernetes.io'];
  if (projected !== null && typeof projected === 'object') {
    const k8s = projected as Record<string, unknown>;
    const sa = (k8s['serviceaccount'] ?? {}) as Record<string, unknown>;
    return { name: str(sa['name']), namespace: str(k8s['namespace']), uid: str(sa['uid']), secretName: '' };
  }
  return {
    name: str(claims['kubernetes.io/serviceaccount/service-account.name']),
    namespace: str(claims['kubernetes.io/serviceaccount/namespace']),
    uid: str(claims['kubernetes.io/serviceaccount/service-account.uid']),
    secretName: str(claims['kubernetes.io/serviceaccount/secret.name']),
  };
}

function bound(patterns: readonly string[], value: string): boolean {
  return patterns.some((pattern) => pattern === '*' || globMatch(pattern, value));
}

/** The TokenReview the API server would answer: a valid signature and a token inside its validity window. */
function tokenReview(jwt: string, keys: readonly PublicKeyInput[], now: Date): boolean {
  try {
    const { claims } = verifyJwtSignature(jwt, keys);
    const seconds = now.getTime() / 1000;
    if (typeof claims['exp'] === 'number' && seconds > claims['exp']) return false;
    if (typeof claims['nbf'] === 'number' && seconds < claims['nbf']) return false;
    return true;
  } catch {
    return false;
  }
}

export function validateKubernetesOptions(options: KubernetesAuthOptions): void {
  if (!Array.isArray(options.issuerPublicKeys) || options.issuerPublicKeys.length === 0) {
    throw new TypeError('kubernetes auth: issuerPublicKeys needs the service-account issuer public key');
  }
  const names = new Set<string>();
  for (const role of options.roles) {
    if (typeof role.name !== 'string' || role.name === '') throw new TypeError('kubernetes auth: every role needs a name');
    if (names.has(role.name)) throw new TypeError(`kubernetes auth: role ${role.name} is defined twice`);
    names.add(role.name);
    if (role.boundServiceAccountNames.length === 0 || role.boundServiceAccountNamespaces.length === 0) {
      throw new TypeError(`kubernetes auth: role ${role.name} needs bound service account names and namespaces (Vault requires both)`);
    }
    if (!Number.isInteger(role.ttlSeconds) || role.ttlSeconds <= 0) throw new TypeError(`kubernetes auth: role ${role.name} needs a positive integer ttlSeconds`);
  }
}

/** `POST auth/<mount>/login {role, jwt}` → the token to issue, or a VaultApiError. */
export function kubernetesLogin(options: KubernetesAuthOptions, body: Readonly<Record<string, unknown>>, now = new Date()): TokenRequest {
  const mount = options.mount ?? 'kubernetes';
  const roleName = str(body['role']);
  if (roleName === '') throw badRequest('missing role');
  const jwt = str(body['jwt']);
  if (jwt === '') throw badRequest('missing jwt');
  const role = options.roles.find((candidate) => candidate.name === roleName);
  if (role === undefined) throw badRequest(`invalid role name ${JSON.stringify(roleName)}`);

  let claims: JwtClaims;
  try {
    claims = verifyJwtSignature(jwt, options.issuerPublicKeys).claims;
  } catch (error) {
    // cap wraps any parse or signature failure in "error verifying token signature: …", which the plugin turns
    // into a bare permission denied.
    if (error instanceof JwtSignatureError || error instanceof JwtFormatError) throw coded(403, 'permission denied');
    throw error;
  }
  try {
    validateClaims(claims, {
      issuer: options.issuer,
      audiences: role.audience === undefined || role.audience.trim() === '' ? [] : [role.audience],
      allowMissingTimes: true,
      now,
    });
  } catch (error) {
    if (error instanceof ClaimsError) throw coded(403, error.message);
    throw error;
  }

  const sa = serviceAccountOf(claims);
  if (!(role.boundServiceAccountNames.length === 1 && role.boundServiceAccountNames[0] === '*') && !bound(role.boundServiceAccountNames, sa.name)) {
    throw coded(403, 'service account name not authorized');
  }
  if (!bound(role.boundServiceAccountNamespaces, sa.namespace)) throw coded(403, 'namespace not authorized');
  if (sa.uid === '') throw new VaultApiError(500, ['could not parse UID from claims']);
  // The API server's TokenReview, modelled (chosen) as the signature again and `exp`/`nbf` without leeway.
  if (!tokenReview(jwt, options.issuerPublicKeys, now)) throw coded(403, 'permission denied');

  return {
    policies: role.policies,
    // `<namespace>-<service account>`, prefixed by the core with `<mount>-`: usernames read `v-kubernet-<role ≤8>-…`.
    displayName: `${mount.replace(/\//g, '-')}-${sa.namespace}-${sa.name}`,
    path: `auth/${mount}/login`,
    meta: {
      role: roleName,
      service_account_name: sa.name,
      service_account_namespace: sa.namespace,
      service_account_secret_name: sa.secretName,
      service_account_uid: sa.uid,
    },
    ttlSeconds: role.ttlSeconds,
    maxTtlSeconds: role.maxTtlSeconds,
    renewable: true,
    mountType: 'kubernetes',
  };
}

export interface ServiceAccountTokenRequest {
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly issuer: string;
  readonly audiences: readonly string[];
  /** Default: a fresh UUID. */
  readonly uid?: string;
  readonly podName?: string;
  /** Default 3600 (the kubelet's projected tokens last an hour by default). */
  readonly ttlSeconds?: number;
  readonly now?: Date;
}

/** The claims of a projected service-account token, as the kubelet requests them from the API server. */
export function projectedServiceAccountClaims(request: ServiceAccountTokenRequest): JwtClaims {
  const iat = Math.floor((request.now ?? new Date()).getTime() / 1000);
  return {
    aud: [...request.audiences],
    exp: iat + (request.ttlSeconds ?? 3600),
    iat,
    nbf: iat,
    iss: request.issuer,
    sub: `system:serviceaccount:${request.namespace}:${request.serviceAccount}`,
    'kubernetes.io': {
      namespace: request.namespace,
      ...(request.podName === undefined ? {} : { pod: { name: request.podName, uid: randomUUID() } }),
      serviceaccount: { name: request.serviceAccount, uid: request.uid ?? randomUUID() },
    },
  };
}
