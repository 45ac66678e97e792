/**
 * How the harness reaches Vault: plain data, validated once with one clear line per bad value.
 */
import { registerSecret } from '../redaction';
import { Secret } from '../secret';

export const DEFAULT_KUBERNETES_TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token';
export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_READ_RETRIES = 2;

export type VaultAuthInput =
  | { readonly method: 'token'; readonly token: Secret }
  | { readonly method: 'kubernetes'; readonly role: string; readonly mount?: string; readonly tokenPath?: string }
  | { readonly method: 'jwt'; readonly role: string; readonly mount?: string; readonly token?: Secret; readonly tokenPath?: string };

export interface VaultConfigInput {
  /** The Vault origin, https only, no credentials, path, query or fragment (`https://vault.arcodange.lab:8200`). */
  readonly address: string;
  /** The PEM of the CA to trust (the homelab CA live, the per-run CA hermetic); without it, the system's store. */
  readonly ca?: string;
  /** Per HTTP attempt (default DEFAULT_TIMEOUT_MS). */
  readonly timeoutMs?: number;
  /**
   * Retries of idempotent reads (lookup-self, KV) on network errors and 5xx (default DEFAULT_READ_RETRIES). Writes and
   * credential reads (each one mints a new lease) are never retried.
   */
  readonly readRetries?: number;
  /**
   * A token given as a Secret, Kubernetes auth (the service-account JWT is read from `tokenPath` at login time) or
   * JWT/OIDC auth (such as the Gitea CI role `gitea_cicd_erp`; the JWT given as a Secret or read from a file).
   */
  readonly auth: VaultAuthInput;
}

export type VaultAuth =
  | { readonly method: 'token'; readonly token: Secret }
  | { readonly method: 'kubernetes'; readonly role: string; readonly mount: string; readonly tokenPath: string }
  | {
      readonly method: 'jwt';
      readonly role: string;
      readonly mount: string;
      /** Exactly one of `token` and `tokenPath`. */
      readonly token?: Secret;
      readonly tokenPath?: string;
    };

/** A validated configuration, defaults applied (what `vaultConfig` returns). */
export interface VaultConfig {
  /** The origin, without a trailing slash. */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  readonly ca?: string;
  readonly timeoutMs: number;
  readonly readRetries: number;
  readonly auth: VaultAuth;
}

export class VaultConfigError extends TypeError {
  override name = 'VaultConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`The Vault configuration is not usable:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}

/** Mount names and API paths: segments of letters, digits, `_`, `-`, `.` (never `.` or `..` alone). */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** `null` when `path` is a plain relative Vault path (`postgres/creds/erp-sandbox`), else why not. */
export function vaultPathProblem(path: unknown): string | null {
  if (typeof path !== 'string' || path === '') return 'must be a non-empty string';
  const segments = path.split('/');
  if (segments.some((segment) => !SEGMENT.test(segment) || /^\.+$/.test(segment))) {
    return 'must be slash-separated segments of letters, digits, "_", "-" and "." (no leading or double slash, no "..", no query)';
  }
  return null;
}

function isSecret(value: unknown): value is Secret {
  return value instanceof Secret;
}

/** A token given to the configuration is registered with the redaction point, whatever its Secret was made with. */
function given(token: Secret): Secret {
  registerSecret(token.reveal());
  return token;
}

/** Validates `input`; throws VaultConfigError listing every problem. Secrets are never quoted. */
export function vaultConfig(input: VaultConfigInput): VaultConfig {
  const problems: string[] = [];
  const raw = (input ?? {}) as Partial<Record<keyof VaultConfigInput, unknown>>;

  let origin = '';
  let host = '';
  let port = 443;
  if (typeof raw.address !== 'string' || raw.address.trim() === '') {
    problems.push('address: give the Vault URL, e.g. "https://vault.arcodange.lab:8200"');
  } else {
    let url: URL | undefined;
    try {
      url = new URL(raw.address.trim());
    } catch {
      problems.push(`address "${raw.address}" is not a URL: give e.g. "https://vault.arcodange.lab:8200"`);
    }
    if (url !== undefined) {
      if (url.protocol !== 'https:') problems.push(`address "${url.origin}": Vault is only reached over https`);
      if (url.username !== '' || url.password !== '') problems.push('address must not carry credentials (user:password@)');
      if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
        problems.push(`address "${url.origin}${url.pathname}": give the origin only, without path, query or fragment (the API path /v1 is added)`);
      }
      origin = url.origin;
      host = url.hostname.replace(/^\[|\]$/g, '');
      port = url.port === '' ? 443 : Number(url.port);
    }
  }

  if (raw.ca !== undefined && (typeof raw.ca !== 'string' || !raw.ca.includes('-----BEGIN CERTIFICATE-----'))) {
    problems.push('ca must be a PEM string ("-----BEGIN CERTIFICATE-----…")');
  }

  const timeoutMs = raw.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    problems.push(`timeoutMs ${JSON.stringify(raw.timeoutMs)} must be a positive integer (milliseconds)`);
  }
  const readRetries = raw.readRetries ?? DEFAULT_READ_RETRIES;
  if (typeof readRetries !== 'number' || !Number.isInteger(readRetries) || readRetries < 0 || readRetries > 10) {
    problems.push(`readRetries ${JSON.stringify(raw.readRetries)} must be an integer from 0 to 10`);
  }

  const auth = checkAuth(raw.auth, problems);
  if (problems.length > 0 || auth === undefined) throw new VaultConfigError(problems);
  return {
    address: origin,
    host,
    port,
    ...(raw.ca === undefined ? {} : { ca: raw.ca as string }),
    timeoutMs: timeoutMs as number,
    readRetries: readRetries as number,
    auth,
  };
}

function checkAuth(value: unknown, problems: string[]): VaultAuth | undefined {
  if (value === null || typeof value !== 'object') {
    problems.push('auth: give { method: "token" | "kubernetes" | "jwt", … }');
    return undefined;
  }
  const auth = value as Record<string, unknown>;
  const before = problems.length;
  const role = (): string => {
    if (typeof auth['role'] !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(auth['role'])) {
      problems.push(`auth.role ${JSON.stringify(auth['role'])} must be a Vault role name (letters, digits, "_", "-", ".")`);
    }
    return auth['role'] as string;
  };
  const mount = (fallback: string): string => {
    const given = auth['mount'] ?? fallback;
    const problem = vaultPathProblem(given);
    if (problem !== null) problems.push(`auth.mount ${JSON.stringify(given)} ${problem}`);
    return given as string;
  };
  const tokenPath = (fallback?: string): string | undefined => {
    const given = auth['tokenPath'] ?? fallback;
    if (given !== undefined && (typeof given !== 'string' || given.trim() === '')) {
      problems.push(`auth.tokenPath ${JSON.stringify(given)} must be a file path`);
    }
    return given as string | undefined;
  };

  switch (auth['method']) {
    case 'token': {
      if (!isSecret(auth['token'])) problems.push('auth.token must be a Secret (new Secret("vault token", value))');
      return problems.length > before ? undefined : { method: 'token', token: given(auth['token'] as Secret) };
    }
    case 'kubernetes': {
      const result = { method: 'kubernetes' as const, role: role(), mount: mount('kubernetes'), tokenPath: tokenPath(DEFAULT_KUBERNETES_TOKEN_PATH)! };
      return problems.length > before ? undefined : result;
    }
    case 'jwt': {
      const result = { method: 'jwt' as const, role: role(), mount: mount('jwt') };
      const path = tokenPath();
      const token = auth['token'];
      if (token !== undefined && !isSecret(token)) problems.push('auth.token must be a Secret (new Secret("CI JWT", value))');
      if ((token === undefined) === (path === undefined)) {
        problems.push('auth (jwt): give exactly one of token (a Secret) and tokenPath (a file holding the JWT)');
      }
      if (problems.length > before) return undefined;
      return token !== undefined ? { ...result, token: given(token as Secret) } : { ...result, tokenPath: path! };
    }
    default:
      problems.push(`auth.method ${JSON.stringify(auth['method'])}: use "token", "kubernetes" or "jwt"`);
      return undefined;
  }
}
