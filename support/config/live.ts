import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { GOLDEN_FORMAT, LIST_FILE, MANIFEST_FILE } from '../lifecycle/golden';
import { cloneNames } from '../naming/template-clone';
import { goldenNames } from '../naming/golden';
import type { InstanceNames } from '../naming';
import { Secret } from '../secret';
import { registerSqlSecrets } from '../sql-secrets';
import { DEFAULT_KUBERNETES_TOKEN_PATH, vaultConfig, VaultConfigError, vaultPathProblem, type VaultAuthInput } from '../vault/config';
import { setting, type EnvRecord } from '../env';
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
    /** The sandbox's identity. Defaults applied: mount, and the token path for kubernetes. */
    readonly auth: VaultAuthInput;
    /**
     * The read-only golden identity (support/naming/golden.ts), when configured: prod's content hash is read through it,
     * never through the sandbox's identity. Unset, whatever needs prod's hash is not applicable.
     */
    readonly golden?: VaultAuthInput;
    /** The sandbox's template-clone identity (support/naming/template-clone.ts), when the factory has one. */
    readonly clone?: VaultAuthInput;
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
   * The service-account token file of promote's own identity (support/naming/promoter.ts: Kubernetes role
   * `<prod>-promote`), read only by `rehearse promote`. Unset: promote refuses, naming it.
   */
  readonly promoteTokenFile?: string;
  /** Where the live target keeps what must outlive a run: the ledger of the login roles it minted. */
  readonly stateDir: string;
  /** A golden older than this refuses the run (ERP_REHEARSAL_GOLDEN_MAX_AGE_HOURS); `rehearse status` says so too. */
  readonly goldenMaxAgeHours: number;
}

/**
 * What `rehearse golden --target live` needs, and nothing of the sandbox's: Vault, the golden identity, prod's database
 * and the client tools. The golden job holds no sandbox credential.
 */
export interface GoldenSourceConfig {
  readonly vault: { readonly address: string; readonly ca?: string; readonly golden: VaultAuthInput };
  readonly prod: DatabaseAddress;
  readonly clientTools: { readonly bindir?: string };
  readonly resolve: ReadonlyMap<string, string>;
  readonly stateDir: string;
}

/** What a live command reads: every gate's settings, or only the golden job's. */
export type LivePurpose = 'gates' | 'golden';

/** A golden older than this refuses the live run (ERP_REHEARSAL_GOLDEN_MAX_AGE_HOURS): 8 days, a weekly golden and a day's slack. */
export const DEFAULT_GOLDEN_MAX_AGE_HOURS = 192;

export interface LiveSources {
  readonly env: EnvRecord;
  readonly files: ConfigFiles;
  /** Relative paths are taken from here. */
  readonly cwd: string;
  /** The sandbox instance's names (for the default Vault role); undefined when the naming settings are bad. */
  readonly sandbox?: InstanceNames;
  /** Prod's names: the golden must be of this prod, and the golden identity's role defaults from them. */
  readonly prod?: InstanceNames;
  /** When the golden's age is judged; now by default. */
  readonly now?: Date;
}

export interface LiveResult {
  readonly live?: LiveConfig;
  readonly problems: readonly string[];
}

export interface GoldenSourceResult {
  readonly goldenSource?: GoldenSourceConfig;
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

/** An identity besides the sandbox's, read from its own ERP_REHEARSAL_<WHO>_VAULT_* variables. */
interface ExtraIdentity {
  /** e.g. GOLDEN for ERP_REHEARSAL_GOLDEN_VAULT_ROLE. */
  readonly who: 'GOLDEN' | 'CLONE';
  /** What it is, for messages. */
  readonly what: string;
  /** Its Kubernetes role, and its CI JWT role (undefined: none by convention, the role must be given). */
  readonly kubernetesRole?: string;
  readonly jwtRole?: string;
}

/**
 * The checks every live command shares, each reporting into `problems`: CA files, readable files, Vault's address
 * and the identities' logins, the databases.
 */
function liveParser(sources: LiveSources) {
  const { files, cwd } = sources;
  const { env } = sources;
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

  const address = vaultAddress(get('VAULT_ADDR'), problems);
  const vaultCaPath = get('VAULT_CACERT');
  const vaultCa = vaultCaPath === undefined ? undefined : pem('VAULT_CACERT', vaultCaPath, "the CA that signed Vault's certificate (the homelab CA)");

  /** The sandbox's identity: ERP_REHEARSAL_VAULT_*. */
  function sandboxAuth(): VaultAuthInput | undefined {
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
    const role = givenRole ?? (method === 'jwt' ? sources.sandbox?.ciJwtRole : sources.sandbox?.vaultRole);
    if (givenRole !== undefined && !ROLE.test(givenRole)) {
      problems.push(`ERP_REHEARSAL_VAULT_ROLE="${givenRole}": a Vault role name is made of letters, digits, "_", "-" and "."`);
    }
    const mount = vaultMount('ERP_REHEARSAL_VAULT_MOUNT', method);
    const tokenFile = get('ERP_REHEARSAL_VAULT_TOKEN_FILE');
    if (method === 'kubernetes') {
      const tokenPath = readable('ERP_REHEARSAL_VAULT_TOKEN_FILE', tokenFile ?? DEFAULT_KUBERNETES_TOKEN_PATH, tokenFile === undefined,
        "the pod's service-account token",
        'Kubernetes auth runs in the pod; elsewhere set ERP_REHEARSAL_VAULT_TOKEN_FILE, or ERP_REHEARSAL_VAULT_AUTH=jwt or token');
      return problems.length > before || role === undefined || tokenPath === undefined ? undefined : { method, role, mount, tokenPath };
    }
    const jwt = jwtSource('ERP_REHEARSAL_VAULT', 'ERP_REHEARSAL_VAULT_AUTH');
    if (problems.length > before || role === undefined || jwt === undefined) return undefined;
    return { method, role, mount, ...jwt };
  }

  function vaultMount(name: string, method: VaultAuthMethod): string {
    const mount = get(name) ?? method;
    const problem = vaultPathProblem(mount);
    if (problem !== null) problems.push(`${name}="${mount}" ${problem}`);
    return mount;
  }

  /** The JWT of jwt auth from <prefix>_JWT or <prefix>_TOKEN_FILE: exactly one; undefined (and a problem) otherwise. */
  function jwtSource(prefix: string, chosenBy: string, fallback?: { token?: Secret; tokenPath?: string }): { token: Secret } | { tokenPath: string } | undefined {
    const jwt = get(`${prefix}_JWT`);
    const tokenFile = get(`${prefix}_TOKEN_FILE`);
    if (jwt !== undefined && tokenFile !== undefined) {
      problems.push(`${prefix}_JWT and ${prefix}_TOKEN_FILE are both set: jwt auth takes exactly one of them; unset the other`);
      return undefined;
    }
    if (jwt !== undefined) return { token: new Secret(`${prefix}_JWT`, jwt) };
    if (tokenFile !== undefined) {
      const tokenPath = readable(`${prefix}_TOKEN_FILE`, tokenFile, false, 'the JWT file', `point it at the file holding the JWT, or give the JWT in ${prefix}_JWT`);
      return tokenPath === undefined ? undefined : { tokenPath };
    }
    if (fallback?.token) return { token: fallback.token };
    if (fallback?.tokenPath) return { tokenPath: fallback.tokenPath };
    problems.push(`${chosenBy}=jwt needs a JWT: set ${prefix}_JWT (e.g. the CI's OIDC token) or ${prefix}_TOKEN_FILE (a file holding it)`);
    return undefined;
  }

  /**
   * Another identity than the sandbox's (the golden's, the clone's), configured when any of its variables is set:
   * ERP_REHEARSAL_<WHO>_VAULT_{AUTH,ROLE,MOUNT,TOKEN_FILE,JWT,TOKEN}. Its method defaults to the sandbox's; under jwt
   * auth it may share the sandbox's JWT (one CI token, two Vault roles); under Kubernetes auth it needs its own
   * service-account token (the pod's own is the sandbox's).
   */
  function extraAuth(identity: ExtraIdentity, required: boolean): VaultAuthInput | undefined {
    const prefix = `ERP_REHEARSAL_${identity.who}_VAULT`;
    const fields = ['AUTH', 'ROLE', 'MOUNT', 'TOKEN_FILE', 'JWT', 'TOKEN'];
    if (!fields.some((field) => get(`${prefix}_${field}`) !== undefined)) {
      if (required) problems.push(`${prefix}_ROLE is not set: ${identity.what} needs its own Vault identity (its role, and ${prefix}_TOKEN_FILE under Kubernetes auth)`);
      return undefined;
    }
    const chosen = get(`${prefix}_AUTH`) ?? get('ERP_REHEARSAL_VAULT_AUTH') ?? 'kubernetes';
    if (!(VAULT_AUTH_METHODS as readonly string[]).includes(chosen)) {
      problems.push(`${prefix}_AUTH="${chosen}": use kubernetes, jwt or token`);
      return undefined;
    }
    const method = chosen as VaultAuthMethod;
    if (method === 'token') {
      const token = get(`${prefix}_TOKEN`);
      if (token === undefined) {
        problems.push(`${prefix}_TOKEN is not set: token auth of ${identity.what} needs its own Vault token (never the sandbox's VAULT_TOKEN)`);
        return undefined;
      }
      return { method, token: new Secret(`${prefix}_TOKEN`, token) };
    }
    const before = problems.length;
    const givenRole = get(`${prefix}_ROLE`);
    const role = givenRole ?? (method === 'jwt' ? identity.jwtRole : identity.kubernetesRole);
    if (role === undefined) problems.push(`${prefix}_ROLE is not set: give the Vault ${method} role of ${identity.what}`);
    else if (!ROLE.test(role)) problems.push(`${prefix}_ROLE="${role}": a Vault role name is made of letters, digits, "_", "-" and "."`);
    const mount = vaultMount(`${prefix}_MOUNT`, method);
    if (method === 'kubernetes') {
      const tokenFile = get(`${prefix}_TOKEN_FILE`);
      if (tokenFile === undefined) {
        problems.push(`${prefix}_TOKEN_FILE is not set: Kubernetes auth of ${identity.what} needs its own service account's token (the pod's own token is the sandbox's)`);
        return undefined;
      }
      const tokenPath = readable(`${prefix}_TOKEN_FILE`, tokenFile, false, `the service-account token of ${identity.what}`, 'point it at the projected token of its service account');
      return problems.length > before || role === undefined || tokenPath === undefined ? undefined : { method, role, mount, tokenPath };
    }
    // One CI token may log in as two roles: the sandbox's JWT serves unless this identity has its own.
    const shared = get('ERP_REHEARSAL_VAULT_JWT');
    const sharedFile = get('ERP_REHEARSAL_VAULT_TOKEN_FILE');
    const jwt = jwtSource(prefix, get(`${prefix}_AUTH`) === undefined ? 'ERP_REHEARSAL_VAULT_AUTH' : `${prefix}_AUTH`, shared !== undefined ? { token: new Secret('ERP_REHEARSAL_VAULT_JWT', shared) } : sharedFile !== undefined ? { tokenPath: resolve(cwd, sharedFile) } : undefined);
    if (problems.length > before || role === undefined || jwt === undefined) return undefined;
    return { method, role, mount, ...jwt };
  }

  /** One of the two databases, from ERP_REHEARSAL_<KIND>_DB_*. */
  function database(kind: 'SANDBOX' | 'PROD'): DatabaseAddress | undefined {
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
  }

  function resolved(): ReadonlyMap<string, string> {
    const parsed = parseResolve(get('ERP_REHEARSAL_RESOLVE') ?? '');
    problems.push(...parsed.problems);
    return parsed.map;
  }

  /** ERP_REHEARSAL_STATE_DIR, else $XDG_STATE_HOME/erp-rehearsal, else ~/.local/state/erp-rehearsal. */
  function stateDir(): string {
    const given = get('ERP_REHEARSAL_STATE_DIR');
    if (given !== undefined) return resolve(cwd, given);
    const xdg = get('XDG_STATE_HOME');
    return join(xdg ?? join(get('HOME') ?? homedir(), '.local', 'state'), 'erp-rehearsal');
  }

  function clientTools(): { readonly bindir?: string } {
    const bindir = get('ERP_REHEARSAL_PG_BINDIR');
    return bindir === undefined ? {} : { bindir };
  }

  /** The Vault layer validates its own input again; a disagreement here is a bug of this file, said plainly. */
  function vaultProblems(auth: VaultAuthInput): string[] {
    try {
      vaultConfig({ address: address!, ...(vaultCa === undefined ? {} : { ca: vaultCa }), auth });
      return [];
    } catch (error) {
      if (!(error instanceof VaultConfigError)) throw error;
      return error.problems.map((problem) => `Vault settings: ${problem}`);
    }
  }

  return { problems, get, named, pem, readable, address, vaultCa, sandboxAuth, extraAuth, database, resolved, clientTools, stateDir, vaultProblems };
}

/** The golden identity as a live command takes it: roles by the harness's convention for prod's golden. */
function goldenIdentity(prod: InstanceNames | undefined): ExtraIdentity {
  const names = prod === undefined ? undefined : goldenNames(prod);
  return {
    who: 'GOLDEN',
    what: 'the read-only golden identity',
    ...(names ? { kubernetesRole: names.vaultRole, jwtRole: names.ciJwtRole } : {}),
  };
}

/**
 * Reads and checks the live settings of a gate run (and of the lifecycle commands on the sandbox). `live` is present
 * when there is no problem; without `sandbox` (bad naming settings, reported by the caller) and without
 * ERP_REHEARSAL_VAULT_ROLE, the role has no default and `live` is absent.
 */
export function parseLiveConfig(sources: LiveSources): LiveResult {
  const { cwd } = sources;
  const parser = liveParser(sources);
  const { problems, get, named, pem, readable, address, vaultCa } = parser;
  const auth = parser.sandboxAuth();
  const golden = parser.extraAuth(goldenIdentity(sources.prod), false);
  const clone = parser.extraAuth({
    who: 'CLONE',
    what: "the sandbox's template-clone identity",
    ...(sources.sandbox ? { kubernetesRole: cloneNames(sources.sandbox).vaultRole } : {}),
  }, false);
  const sandboxDb = parser.database('SANDBOX');
  const prodDb = parser.database('PROD');

  // The golden files.
  const goldenFiles = (): LiveConfig['golden'] | undefined => {
    const given = get('ERP_REHEARSAL_GOLDEN_ARCHIVE');
    if (given === undefined) {
      problems.push('ERP_REHEARSAL_GOLDEN_ARCHIVE is not set: give the path of the golden archive (pg_dump custom format, e.g. golden/golden.dump, made by rehearse golden)');
      return undefined;
    }
    const dir = dirname(resolve(cwd, given));
    const archive = readable('ERP_REHEARSAL_GOLDEN_ARCHIVE', given, false, 'the golden archive', 'point it at the golden archive (pg_dump custom format) that rehearse golden made');
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
        const problem = manifestProblem(sources.files.readText(file), { prod: sources.prod, maxAgeHours, now: sources.now ?? new Date() });
        if (problem === null) manifest = file;
        else problems.push(`${shown} ${problem}`);
      } catch (error) {
        problems.push(`${shown}: the golden manifest ${fileProblem(error)}; ${manifestFix}`);
      }
    }
    return archive && list && manifest ? { archive, list, manifest } : undefined;
  };
  const maxAgeHours = goldenMaxAgeHours(get('ERP_REHEARSAL_GOLDEN_MAX_AGE_HOURS'), problems);
  const goldenPaths = goldenFiles();

  const dolibarrCaPath = get('ERP_REHEARSAL_DOLIBARR_CA');
  const dolibarrCa = dolibarrCaPath === undefined ? vaultCa
    : pem('ERP_REHEARSAL_DOLIBARR_CA', dolibarrCaPath, "the CA that signed the Dolibarr hosts' certificates (the homelab CA)");

  const resolvedNames = parser.resolved();

  const overlayPath = get('ERP_REHEARSAL_SANDBOX_OVERLAY');
  let overlaySql: string | undefined;
  if (overlayPath !== undefined) {
    try {
      overlaySql = sources.files.readText(resolve(cwd, overlayPath));
      registerSqlSecrets(overlaySql);
      if (overlaySql.trim() === '') problems.push(`ERP_REHEARSAL_SANDBOX_OVERLAY="${overlayPath}" is empty; write the overlay's SQL in it, or unset it`);
    } catch (error) {
      problems.push(`ERP_REHEARSAL_SANDBOX_OVERLAY="${overlayPath}": the overlay file ${fileProblem(error)}; point it at the overlay's SQL, or unset it`);
    }
  }

  if (problems.length > 0 || address === undefined || auth === undefined || !sandboxDb || !prodDb || !goldenPaths) {
    return { problems };
  }
  const vaultProblems = [auth, golden, clone].flatMap((identity) => (identity ? parser.vaultProblems(identity) : []));
  if (vaultProblems.length > 0) return { problems: vaultProblems };
  const promoteTokenFile = get('ERP_REHEARSAL_PROMOTE_TOKEN_FILE');
  return {
    problems: [],
    live: {
      vault: { address, ...(vaultCa === undefined ? {} : { ca: vaultCa }), auth, ...(golden ? { golden } : {}), ...(clone ? { clone } : {}) },
      databases: { sandbox: sandboxDb, prod: prodDb },
      golden: goldenPaths,
      clientTools: parser.clientTools(),
      dolibarr: dolibarrCa === undefined ? {} : { ca: dolibarrCa },
      resolve: resolvedNames,
      ...(overlaySql === undefined ? {} : { overlaySql }),
      ...(promoteTokenFile === undefined ? {} : { promoteTokenFile: resolve(cwd, promoteTokenFile) }),
      stateDir: parser.stateDir(),
      goldenMaxAgeHours: maxAgeHours,
    },
  };
}

/**
 * Reads and checks what `rehearse golden --target live` needs: Vault, the golden identity (required), prod's
 * database, the client tools. Nothing of the sandbox's is read.
 */
export function parseGoldenSourceConfig(sources: LiveSources): GoldenSourceResult {
  const parser = liveParser(sources);
  const { problems, address, vaultCa } = parser;
  const golden = parser.extraAuth(goldenIdentity(sources.prod), true);
  const prodDb = parser.database('PROD');
  const resolvedNames = parser.resolved();
  if (problems.length > 0 || address === undefined || golden === undefined || !prodDb) return { problems };
  const vaultProblems = parser.vaultProblems(golden);
  if (vaultProblems.length > 0) return { problems: vaultProblems };
  return {
    problems: [],
    goldenSource: {
      vault: { address, ...(vaultCa === undefined ? {} : { ca: vaultCa }), golden },
      prod: prodDb,
      clientTools: parser.clientTools(),
      resolve: resolvedNames,
      stateDir: parser.stateDir(),
    },
  };
}

function goldenMaxAgeHours(raw: string | undefined, problems: string[]): number {
  if (raw === undefined) return DEFAULT_GOLDEN_MAX_AGE_HOURS;
  const hours = Number(raw);
  if (!Number.isFinite(hours) || hours <= 0) {
    problems.push(`ERP_REHEARSAL_GOLDEN_MAX_AGE_HOURS="${raw}": must be a number of hours greater than 0 (default ${DEFAULT_GOLDEN_MAX_AGE_HOURS})`);
    return DEFAULT_GOLDEN_MAX_AGE_HOURS;
  }
  return hours;
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

/**
 * `null` when `text` is a golden manifest a run can use: JSON with a root, of the current format, of this prod, made
 * within the allowed age. Otherwise the problem and what to do, in one line.
 */
function manifestProblem(text: string, expect: { readonly prod?: InstanceNames; readonly maxAgeHours: number; readonly now: Date }): string | null {
  const remake = 'make the golden again (rehearse golden --target live --out DIR)';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return `is not valid JSON: the golden's files are damaged; ${remake}`;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return `is not a JSON object; ${remake}`;
  const manifest = parsed as Record<string, unknown>;
  const root = manifest['root'];
  if (typeof root !== 'string' || root === '') return `has no "root" field (the golden's content hash); ${remake}`;
  if (manifest['format'] === 1) return `is a golden of format 1, made by an earlier version whose content hash is computed differently; ${remake}`;
  if (manifest['format'] !== GOLDEN_FORMAT) return `is not a golden manifest of format ${GOLDEN_FORMAT}; ${remake}`;
  if (expect.prod && manifest['database'] !== expect.prod.database) {
    return `is a golden of database "${String(manifest['database'])}", not of this prod "${expect.prod.database}"; point it at ${expect.prod.database}'s golden, or ${remake}`;
  }
  const createdAt = typeof manifest['createdAt'] === 'string' ? Date.parse(manifest['createdAt']) : Number.NaN;
  if (Number.isNaN(createdAt)) return `has no valid "createdAt": its age cannot be told; ${remake}`;
  const ageHours = (expect.now.getTime() - createdAt) / 3_600_000;
  if (ageHours > expect.maxAgeHours) {
    return `is ${ageHours.toFixed(0)} hours old, older than ERP_REHEARSAL_GOLDEN_MAX_AGE_HOURS (${expect.maxAgeHours}): ${remake}, or raise the limit`;
  }
  return null;
}
