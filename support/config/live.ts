import { isIP } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { LIST_FILE, MANIFEST_FILE } from '../lifecycle/golden';
import type { InstanceNames } from '../naming';
import { Secret } from '../secret';
import { DEFAULT_KUBERNETES_TOKEN_PATH, vaultConfig, VaultConfigError, vaultPathProblem, type VaultAuthInput } from '../vault/config';
import { setting, type EnvRecord } from './env';
import { fileProblem, pemCertificateProblem, type ConfigFiles } from './files';

/**
 * The live target's configuration: where the real Vault, the two databases and the golden are, and how the harness
 * proves who it is to Vault. Read only when ERP_REHEARSAL_TARGET=live; every problem is reported at once, one
 * line each, naming the variable to set. Secrets (VAULT_TOKEN, ERP_REHEARSAL_VAULT_JWT) become `Secret`s and are
 * never quoted. Files are checked here (CA certificates read as PEM, golden files readable, the manifest a JSON
 * object with a `root`), so a run never starts on a configuration that cannot work.
 */

export const SSL_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];
export const VAULT_AUTH_METHODS = ['kubernetes', 'jwt', 'token'] as const;
export type VaultAuthMethod = (typeof VAULT_AUTH_METHODS)[number];
export const DEFAULT_DB_PORT = 5432;
export const DEFAULT_SSLMODE: SslMode = 'verify-full';

export interface DatabaseAddress {
  readonly host: string;
  readonly port: number;
  readonly sslmode: SslMode;
  /** PEM of the CA to trust, read from the file (absent with sslmode disable, or when no CA file is configured). */
  readonly ca?: string;
}

export interface LiveConfig {
  readonly vault: {
    /** The origin, https, without a trailing slash. */
    readonly address: string;
    /** PEM of the CA that signed Vault's certificate (the homelab CA); without it, the system's store. */
    readonly ca?: string;
    /** Defaults applied: mount, and the token path for kubernetes. */
    readonly auth: VaultAuthInput;
  };
  readonly databases: { readonly sandbox: DatabaseAddress; readonly prod: DatabaseAddress };
  /** Absolute paths, each checked readable; the manifest parses as JSON with a `root`. */
  readonly golden: { readonly archive: string; readonly list: string; readonly manifest: string };
  readonly clientTools: { readonly bindir?: string };
  readonly dolibarr: { readonly ca?: string /* PEM; default: the Vault CA (the homelab CA) */ };
  /**
   * The sandbox overlay, declared as SQL the harness runs as the sandbox's owner role after a reset's round-trip
   * check: the agent's own sandbox API key (as Dolibarr stores it) and its sandbox rights (122, 1232).
   */
  readonly overlaySql?: string;
  /** Name → address overrides (like curl --resolve), for emulation and debugging: host=address,host=address */
  readonly resolve: ReadonlyMap<string, string>;
  /**
   * The service-account token file of promote's own identity (support/promote/names.ts: Kubernetes role
   * `<prod>-promote`), read only by `rehearse promote`. Unset: promote refuses, naming it.
   */
  readonly promoteTokenFile?: string;
}

export interface LiveSources {
  readonly env: EnvRecord;
  readonly files: ConfigFiles;
  /** Relative paths are taken from here. */
  readonly cwd: string;
  /** The sandbox instance's names (for the default Vault role); undefined when the naming settings are bad. */
  readonly sandbox?: InstanceNames;
}

export interface LiveResult {
  readonly live?: LiveConfig;
  readonly problems: readonly string[];
}

const VAULT_EXAMPLE = 'https://vault.arcodange.lab:8200';
const ROLE = /^[A-Za-z0-9_.-]+$/;
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/** `[::1]` → `::1`; other text unchanged. */
const unbracket = (address: string): string => address.replace(/^\[(.*)\]$/, '$1');

/** Parses `host=address,host=address` (spaces around entries allowed, empty entries skipped). */
export function parseResolve(spec: string, name = 'ERP_REHEARSAL_RESOLVE'): { map: Map<string, string>; problems: string[] } {
  const map = new Map<string, string>();
  const problems: string[] = [];
  for (const entry of spec.split(',').map((part) => part.trim()).filter(Boolean)) {
    const [host, address, extra] = entry.split('=').map((part) => part.trim());
    if (host === undefined || address === undefined || extra !== undefined || !HOST_NAME.test(host) || isIP(unbracket(address)) === 0) {
      problems.push(`${name} entry "${entry}": write host=address with an IP address, comma-separated, e.g. erp-sandbox.arcodange.lab=127.0.0.1,vault.arcodange.lab=127.0.0.1`);
      continue;
    }
    const key = host.toLowerCase().replace(/\.$/, '');
    if (map.has(key)) {
      problems.push(`${name} names "${key}" twice: give each host one address`);
      continue;
    }
    map.set(key, unbracket(address));
  }
  return { map, problems };
}

/**
 * Reads and checks the live settings. `live` is present when there is no problem; without `sandbox` (bad naming
 * settings, reported by the caller) and without ERP_REHEARSAL_VAULT_ROLE, the role has no default and `live` is absent.
 */
export function parseLiveConfig(sources: LiveSources): LiveResult {
  const { env, files, cwd, sandbox } = sources;
  const problems: string[] = [];
  const get = (name: string) => setting(env, name);
  const named = (name: string, value: string, defaulted: boolean) => (defaulted ? `${name} (default "${value}")` : `${name}="${value}"`);

  // CA files: each read once, a bad one reported once (under the first variable that names it).
  const pems = new Map<string, string | undefined>();
  const pem = (name: string, path: string, what: string): string | undefined => {
    const file = resolve(cwd, path);
    if (pems.has(file)) return pems.get(file);
    pems.set(file, undefined);
    let text: string;
    try {
      text = files.readText(file);
    } catch (error) {
      problems.push(`${name}="${path}": the file ${fileProblem(error)}; set ${name} to the PEM file of ${what}`);
      return undefined;
    }
    const problem = pemCertificateProblem(text);
    if (problem !== null) {
      problems.push(`${name}="${path}" ${problem}: set ${name} to the PEM file of ${what}`);
      return undefined;
    }
    pems.set(file, text);
    return text;
  };
  /** The absolute path if the file is readable, else undefined (and a problem). */
  const readable = (name: string, path: string, defaulted: boolean, what: string, action: string): string | undefined => {
    const file = resolve(cwd, path);
    try {
      files.checkReadable(file);
      return file;
    } catch (error) {
      problems.push(`${named(name, path, defaulted)}: ${what} ${fileProblem(error)}; ${action}`);
      return undefined;
    }
  };

  // Vault.
  const address = vaultAddress(get('VAULT_ADDR'), problems);
  const vaultCaPath = get('VAULT_CACERT');
  const vaultCa = vaultCaPath === undefined ? undefined : pem('VAULT_CACERT', vaultCaPath, "the CA that signed Vault's certificate (the homelab CA)");
  const auth = vaultAuth();

  function vaultAuth(): VaultAuthInput | undefined {
    const chosen = get('ERP_REHEARSAL_VAULT_AUTH') ?? 'kubernetes';
    if (!(VAULT_AUTH_METHODS as readonly string[]).includes(chosen)) {
      problems.push(`ERP_REHEARSAL_VAULT_AUTH="${chosen}": use kubernetes (in the cluster), jwt (e.g. the CI's OIDC token) or token (VAULT_TOKEN)`);
      return undefined;
    }
    const method = chosen as VaultAuthMethod;
    if (method === 'token') {
      const token = get('VAULT_TOKEN');
      if (token === undefined) {
        problems.push('VAULT_TOKEN is not set: ERP_REHEARSAL_VAULT_AUTH=token needs a Vault token (or choose ERP_REHEARSAL_VAULT_AUTH=kubernetes or jwt)');
        return undefined;
      }
      return { method, token: new Secret('VAULT_TOKEN', token) };
    }
    const before = problems.length;
    const givenRole = get('ERP_REHEARSAL_VAULT_ROLE');
    const role = givenRole ?? (method === 'jwt' ? sandbox?.ciJwtRole : sandbox?.vaultRole);
    if (givenRole !== undefined && !ROLE.test(givenRole)) {
      problems.push(`ERP_REHEARSAL_VAULT_ROLE="${givenRole}": a Vault role name is made of letters, digits, "_", "-" and "."`);
    }
    const givenMount = get('ERP_REHEARSAL_VAULT_MOUNT');
    const mount = givenMount ?? method;
    const mountProblem = vaultPathProblem(mount);
    if (mountProblem !== null) problems.push(`ERP_REHEARSAL_VAULT_MOUNT="${mount}" ${mountProblem}`);
    const tokenFile = get('ERP_REHEARSAL_VAULT_TOKEN_FILE');
    if (method === 'kubernetes') {
      const tokenPath = readable('ERP_REHEARSAL_VAULT_TOKEN_FILE', tokenFile ?? DEFAULT_KUBERNETES_TOKEN_PATH, tokenFile === undefined,
        "the pod's service-account token",
        'Kubernetes auth runs in the pod; elsewhere set ERP_REHEARSAL_VAULT_TOKEN_FILE, or ERP_REHEARSAL_VAULT_AUTH=jwt or token');
      return problems.length > before || role === undefined || tokenPath === undefined ? undefined : { method, role, mount, tokenPath };
    }
    const jwt = get('ERP_REHEARSAL_VAULT_JWT');
    if (jwt !== undefined && tokenFile !== undefined) {
      problems.push('ERP_REHEARSAL_VAULT_JWT and ERP_REHEARSAL_VAULT_TOKEN_FILE are both set: jwt auth takes exactly one of them; unset the other');
      return undefined;
    }
    if (jwt === undefined && tokenFile === undefined) {
      problems.push('ERP_REHEARSAL_VAULT_AUTH=jwt needs a JWT: set ERP_REHEARSAL_VAULT_JWT (e.g. the CI\'s OIDC token) or ERP_REHEARSAL_VAULT_TOKEN_FILE (a file holding it)');
      return undefined;
    }
    const tokenPath = tokenFile === undefined ? undefined
      : readable('ERP_REHEARSAL_VAULT_TOKEN_FILE', tokenFile, false, 'the JWT file', 'point it at the file holding the JWT, or give the JWT in ERP_REHEARSAL_VAULT_JWT');
    if (problems.length > before || role === undefined) return undefined;
    if (jwt !== undefined) return { method, role, mount, token: new Secret('ERP_REHEARSAL_VAULT_JWT', jwt) };
    return tokenPath === undefined ? undefined : { method, role, mount, tokenPath };
  }

  // The two databases.
  const database = (kind: 'SANDBOX' | 'PROD'): DatabaseAddress | undefined => {
    const name = (suffix: string) => `ERP_REHEARSAL_${kind}_DB_${suffix}`;
    const which = kind === 'SANDBOX' ? 'sandbox' : 'prod';
    const before = problems.length;
    const host = get(name('HOST'));
    if (host === undefined) {
      problems.push(`${name('HOST')} is not set: give the host name of the PostgreSQL server that holds the ${which} database`);
    } else if (!HOST_NAME.test(host) && isIP(unbracket(host)) === 0) {
      problems.push(`${name('HOST')}="${host}": give a host name or an IP address only (no scheme, port or path; the port is ${name('PORT')})`);
    }
    const rawPort = get(name('PORT'));
    const port = rawPort === undefined ? DEFAULT_DB_PORT : Number(rawPort);
    if (rawPort !== undefined && (!/^\d+$/.test(rawPort) || port < 1 || port > 65535)) {
      problems.push(`${name('PORT')}="${rawPort}": must be a TCP port number from 1 to 65535 (default ${DEFAULT_DB_PORT})`);
    }
    const sslmode = get(name('SSLMODE')) ?? DEFAULT_SSLMODE;
    if (!(SSL_MODES as readonly string[]).includes(sslmode)) {
      problems.push(`${name('SSLMODE')}="${sslmode}": use ${SSL_MODES.join(', ')} (default ${DEFAULT_SSLMODE})`);
    }
    let ca: string | undefined;
    if (sslmode !== 'disable') {
      const caPath = get(name('CA'));
      ca = caPath === undefined ? vaultCa : pem(name('CA'), caPath, `the CA that signed the ${which} PostgreSQL server's certificate`);
    }
    if (problems.length > before || host === undefined) return undefined;
    return { host: unbracket(host), port, sslmode: sslmode as SslMode, ...(ca === undefined ? {} : { ca }) };
  };
  const sandboxDb = database('SANDBOX');
  const prodDb = database('PROD');

  // The golden.
  const golden = (): LiveConfig['golden'] | undefined => {
    const given = get('ERP_REHEARSAL_GOLDEN_ARCHIVE');
    if (given === undefined) {
      problems.push('ERP_REHEARSAL_GOLDEN_ARCHIVE is not set: give the path of the golden archive (pg_dump custom format, e.g. golden/golden.dump)');
      return undefined;
    }
    const dir = dirname(resolve(cwd, given));
    const archive = readable('ERP_REHEARSAL_GOLDEN_ARCHIVE', given, false, 'the golden archive', 'point it at the golden archive (pg_dump custom format)');
    // A missing archive says it all: the list and manifest beside it are not checked unless named explicitly.
    const beside = archive !== undefined;
    const givenList = get('ERP_REHEARSAL_GOLDEN_LIST');
    const listPath = givenList ?? join(dir, LIST_FILE);
    const list = !beside && givenList === undefined ? undefined
      : readable('ERP_REHEARSAL_GOLDEN_LIST', listPath, givenList === undefined, 'the restore list',
        'point ERP_REHEARSAL_GOLDEN_LIST at the restore list written with the golden archive');
    const givenManifest = get('ERP_REHEARSAL_GOLDEN_MANIFEST');
    const manifestPath = givenManifest ?? join(dir, MANIFEST_FILE);
    const manifestFix = 'point ERP_REHEARSAL_GOLDEN_MANIFEST at the manifest.json written with the golden archive';
    let manifest: string | undefined;
    if (beside || givenManifest !== undefined) {
      const file = resolve(cwd, manifestPath);
      const shown = named('ERP_REHEARSAL_GOLDEN_MANIFEST', manifestPath, givenManifest === undefined);
      try {
        const problem = manifestProblem(files.readText(file));
        if (problem === null) manifest = file;
        else problems.push(`${shown} ${problem}; ${manifestFix}`);
      } catch (error) {
        problems.push(`${shown}: the golden manifest ${fileProblem(error)}; ${manifestFix}`);
      }
    }
    return archive && list && manifest ? { archive, list, manifest } : undefined;
  };
  const goldenFiles = golden();

  const dolibarrCaPath = get('ERP_REHEARSAL_DOLIBARR_CA');
  const dolibarrCa = dolibarrCaPath === undefined ? vaultCa
    : pem('ERP_REHEARSAL_DOLIBARR_CA', dolibarrCaPath, "the CA that signed the Dolibarr hosts' certificates (the homelab CA)");

  const resolved = parseResolve(get('ERP_REHEARSAL_RESOLVE') ?? '');
  problems.push(...resolved.problems);

  const overlayPath = get('ERP_REHEARSAL_SANDBOX_OVERLAY');
  let overlaySql: string | undefined;
  if (overlayPath !== undefined) {
    try {
      overlaySql = files.readText(resolve(cwd, overlayPath));
      if (overlaySql.trim() === '') problems.push(`ERP_REHEARSAL_SANDBOX_OVERLAY="${overlayPath}" is empty; write the overlay's SQL in it, or unset it`);
    } catch (error) {
      problems.push(`ERP_REHEARSAL_SANDBOX_OVERLAY="${overlayPath}": the overlay file ${fileProblem(error)}; point it at the overlay's SQL, or unset it`);
    }
  }

  if (problems.length > 0 || address === undefined || auth === undefined || !sandboxDb || !prodDb || !goldenFiles) {
    return { problems };
  }
  // The Vault layer validates its own input again; a disagreement here is a bug of this file, said plainly.
  try {
    vaultConfig({ address, ...(vaultCa === undefined ? {} : { ca: vaultCa }), auth });
  } catch (error) {
    if (!(error instanceof VaultConfigError)) throw error;
    return { problems: error.problems.map((problem) => `Vault settings: ${problem}`) };
  }
  const bindir = get('ERP_REHEARSAL_PG_BINDIR');
  const promoteTokenFile = get('ERP_REHEARSAL_PROMOTE_TOKEN_FILE');
  return {
    problems: [],
    live: {
      vault: { address, ...(vaultCa === undefined ? {} : { ca: vaultCa }), auth },
      databases: { sandbox: sandboxDb, prod: prodDb },
      golden: goldenFiles,
      clientTools: bindir === undefined ? {} : { bindir },
      dolibarr: dolibarrCa === undefined ? {} : { ca: dolibarrCa },
      resolve: resolved.map,
      ...(overlaySql === undefined ? {} : { overlaySql }),
      ...(promoteTokenFile === undefined ? {} : { promoteTokenFile: resolve(cwd, promoteTokenFile) }),
    },
  };
}

/** The Vault origin from VAULT_ADDR, or undefined (and a problem). Credentials in the URL are never echoed. */
function vaultAddress(raw: string | undefined, problems: string[]): string | undefined {
  if (raw === undefined) {
    problems.push(`VAULT_ADDR is not set: the live target needs the Vault URL, e.g. VAULT_ADDR=${VAULT_EXAMPLE}`);
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    problems.push(`VAULT_ADDR="${raw}" is not a URL: give e.g. VAULT_ADDR=${VAULT_EXAMPLE}`);
    return undefined;
  }
  const shown = `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
  const before = problems.length;
  if (url.protocol !== 'https:') problems.push(`VAULT_ADDR="${shown}": Vault is reached over https only; give e.g. VAULT_ADDR=${VAULT_EXAMPLE}`);
  if (url.username !== '' || url.password !== '') {
    problems.push('VAULT_ADDR carries credentials (user:password@): remove them; give a token with ERP_REHEARSAL_VAULT_AUTH=token and VAULT_TOKEN');
  }
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    problems.push(`VAULT_ADDR="${shown}": give the origin only, without path, query or fragment (the API path /v1 is added), e.g. ${VAULT_EXAMPLE}`);
  }
  return problems.length > before ? undefined : url.origin;
}

/** `null` when `text` is a golden manifest as far as the start-up check goes (JSON, an object with a root). */
function manifestProblem(text: string): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'is not valid JSON';
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return 'is not a JSON object';
  const root = (parsed as Record<string, unknown>)['root'];
  if (typeof root !== 'string' || root === '') return 'has no "root" field (the golden\'s content hash)';
  return null;
}
