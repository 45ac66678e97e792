/**
 * The harness's only way to Vault: one identity (token, Kubernetes or JWT login), the dynamic database credentials it
 * obtained (leases: tracked, renewed while the run needs them, revoked at the end), and KV v2 reads.
 *
 * - Secrets (the token, a login JWT, passwords, KV values) are Secrets or stay in private fields: no error, message,
 *   `util.inspect`, `JSON.stringify` or `String()` of the session, a lease or an error contains one. The node-vault
 *   client (which keeps the token as a public property) lives in the private transport (transport.ts).
 * - Every lease obtained is tracked until revoked. While outstanding, the session is registered with
 *   `registerTeardown`: at the end of the run, on failure and on SIGINT/SIGTERM its leases are revoked.
 * - Renewable leases (and a renewable token) are renewed automatically at 2/3 of their duration by an `unref()`'d
 *   timer, until revoked, closed, or Vault stops extending them (max TTL). Failures are reported as events
 *   (`onEvent`), never thrown into nowhere; transient ones are retried while the lease has time left.
 * - Only idempotent reads (token lookup-self, KV) are retried. A credential read mints a new lease at each call and
 *   is never retried, nor is any write.
 */
import { readFile } from 'node:fs/promises';
import type { LookupFunction } from 'node:net';
import { inspect } from 'node:util';
import { registerSecret } from '../redaction';
import { Secret } from '../secret';
import { registerTeardown } from '../process/teardown';
import { VaultConfig, VaultConfigInput, vaultConfig, vaultPathProblem } from './config';
import { DatabaseLease, LeaseUpdater } from './lease';
import { VaultTransport } from './transport';
import {
  VaultAuthenticationError,
  VaultError,
  VaultLeaseRevocationError,
  VaultUnexpectedResponse,
  VaultUnreachable,
  type LeaseRevocationFailure,
} from './errors';

export type VaultEvent =
  | { readonly kind: 'logged-in'; readonly identity: VaultIdentity }
  | { readonly kind: 'lease-obtained'; readonly leaseId: string; readonly credsPath: string; readonly leaseDurationSeconds: number; readonly renewable: boolean }
  | { readonly kind: 'lease-renewed'; readonly leaseId: string; readonly leaseDurationSeconds: number; readonly expiresAt: Date; readonly automatic: boolean }
  /** An automatic renewal failed; `retryAt` when it is tried again (transient error, time left), else renewal stopped. */
  | { readonly kind: 'lease-renewal-failed'; readonly leaseId: string; readonly error: VaultError; readonly retryAt?: Date }
  /** Automatic renewal stopped: the lease is not renewable (any more) or Vault no longer extends it (max TTL). */
  | { readonly kind: 'lease-expiring'; readonly leaseId: string; readonly expiresAt: Date; readonly reason: string }
  | { readonly kind: 'lease-revoked'; readonly leaseId: string }
  | { readonly kind: 'lease-revocation-failed'; readonly leaseId: string; readonly error: VaultError }
  | { readonly kind: 'token-renewed'; readonly ttlSeconds: number; readonly expiresAt: Date }
  | { readonly kind: 'token-renewal-failed'; readonly error: VaultError; readonly retryAt?: Date }
  | { readonly kind: 'token-expiring'; readonly expiresAt: Date; readonly reason: string };

/** KV keys whose values are secrets: API keys, tokens, passwords, private keys… (DOLIBARR_URL is not). */
const SECRET_KEY = /KEY|TOKEN|PASS|SECRET|CREDENTIAL|PRIVATE|CERT|JWT/i;

export interface VaultSessionOptions {
  /** Progress and renewal problems. Default: renewal failures and expiries are written to stderr (never a secret). */
  readonly onEvent?: (event: VaultEvent) => void;
  /** Renew renewable leases and the token automatically (default true). */
  readonly autoRenew?: boolean;
  /** When to renew, as a fraction of the granted duration (default 2/3). */
  readonly renewAt?: number;
  /** DNS hook (hermetic: the stand-in's real name → loopback). */
  readonly lookup?: LookupFunction;
}

/** Who the session is, from `auth/token/lookup-self`. */
export interface VaultIdentity {
  readonly method: 'token' | 'kubernetes' | 'jwt';
  readonly displayName: string;
  readonly policies: readonly string[];
  /** Seconds left at login; 0 for a token that never expires. */
  readonly ttlSeconds: number;
  readonly renewable: boolean;
  readonly expiresAt?: Date;
}

/** A KV v2 secret: every value is a Secret (non-string values as their JSON text). */
export interface KvSecret {
  readonly path: string;
  readonly version: number;
  readonly createdTime?: string;
  readonly values: Readonly<Record<string, Secret>>;
  /** Keys whose value is the empty string (a Secret cannot be empty). */
  readonly emptyKeys: readonly string[];
}

interface Tracked {
  readonly leaseId: string;
  /** Absent for a lease Vault issued with an unusable answer (still revoked like any other). */
  readonly lease?: DatabaseLease;
  readonly update?: LeaseUpdater;
  readonly autoRenew: boolean;
  timer?: NodeJS.Timeout;
}

const RENEW_PATH = 'sys/leases/renew';
const REVOKE_PATH = 'sys/leases/revoke';
const LOOKUP_SELF_PATH = 'auth/token/lookup-self';
const RENEW_SELF_PATH = 'auth/token/renew-self';
const CAPABILITIES_SELF_PATH = 'sys/capabilities-self';
/** Never renew sooner than this after a grant (a 0-second delay would spin). */
const MIN_RENEW_DELAY_MS = 200;

type Body = Record<string, unknown>;
const isObject = (value: unknown): value is Body => value !== null && typeof value === 'object' && !Array.isArray(value);
const isDuration = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;

function defaultReporter(event: VaultEvent): void {
  if (event.kind === 'lease-renewal-failed' || event.kind === 'token-renewal-failed') {
    process.stderr.write(`[vault] ${event.kind === 'token-renewal-failed' ? 'token' : `lease ${event.leaseId}`}: renewal failed: ${event.error.message}\n`);
  } else if (event.kind === 'lease-expiring' || event.kind === 'token-expiring') {
    process.stderr.write(`[vault] ${event.kind === 'token-expiring' ? 'token' : `lease ${event.leaseId}`} expires at ${event.expiresAt.toISOString()}: ${event.reason}\n`);
  }
}

function checkPath(what: string, path: string, method: string): void {
  const problem = vaultPathProblem(path);
  if (problem !== null) throw new TypeError(`Vault ${method} ${what} ${JSON.stringify(path)}: ${problem}`);
}

export class VaultSession {
  readonly #config: VaultConfig;
  readonly #transport: VaultTransport;
  readonly #onEvent: (event: VaultEvent) => void;
  readonly #autoRenew: boolean;
  readonly #renewAt: number;
  readonly #leases = new Map<string, Tracked>();
  #identity: VaultIdentity | undefined;
  #loggingIn: Promise<VaultIdentity> | undefined;
  #tokenTimer: NodeJS.Timeout | undefined;
  #tokenExpiresAt: Date | undefined;
  #unregister: (() => void) | undefined;
  #closed = false;

  constructor(config: VaultConfigInput, options: VaultSessionOptions = {}) {
    this.#config = vaultConfig(config);
    const renewAt = options.renewAt ?? 2 / 3;
    if (!(typeof renewAt === 'number' && renewAt > 0 && renewAt < 1)) {
      throw new TypeError(`VaultSession: renewAt ${JSON.stringify(options.renewAt)} must be a fraction between 0 and 1 (default 2/3)`);
    }
    this.#renewAt = renewAt;
    this.#autoRenew = options.autoRenew ?? true;
    this.#onEvent = options.onEvent ?? defaultReporter;
    this.#transport = new VaultTransport(this.#config, options.lookup === undefined ? {} : { lookup: options.lookup });
    if (this.#config.auth.method === 'token') this.#transport.addSecret(this.#config.auth.token.reveal());
    if (this.#config.auth.method === 'jwt' && this.#config.auth.token !== undefined) this.#transport.addSecret(this.#config.auth.token.reveal());
  }

  /** A session, logged in. */
  static async open(config: VaultConfigInput, options: VaultSessionOptions = {}): Promise<VaultSession> {
    const session = new VaultSession(config, options);
    await session.login();
    return session;
  }

  /** Who the session is (after `login()`). */
  get identity(): VaultIdentity | undefined {
    return this.#identity;
  }

  /** Every lease obtained and not (successfully) revoked yet. */
  get outstandingLeases(): readonly DatabaseLease[] {
    return [...this.#leases.values()].flatMap((tracked) => (tracked.lease === undefined ? [] : [tracked.lease]));
  }

  /** The ids of the outstanding leases, including any issued with an unusable answer. */
  get outstandingLeaseIds(): readonly string[] {
    return [...this.#leases.keys()];
  }

  /**
   * Logs in: POST auth/<mount>/login (Kubernetes: the service-account JWT read from its file now; JWT: the given or
   * read JWT), or the configured token as is; then GET auth/token/lookup-self for policies and TTL. A refusal is a
   * VaultAuthenticationError carrying Vault's message.
   */
  async login(): Promise<VaultIdentity> {
    this.#checkOpen('POST', this.#loginPath());
    this.#loggingIn ??= this.#login().finally(() => (this.#loggingIn = undefined));
    return this.#loggingIn;
  }

  /**
   * Reads dynamic database credentials (GET <credsPath>, e.g. `postgres/creds/erp-sandbox`): a new login role and
   * lease at each call, tracked until revoked, renewed automatically when renewable (unless `autoRenew: false`).
   * Logs in first if needed. Never retried (a retry could mint a second lease).
   */
  async databaseCredentials(credsPath: string, options: { readonly autoRenew?: boolean } = {}): Promise<DatabaseLease> {
    checkPath('credentials path', credsPath, 'GET');
    this.#checkOpen('GET', credsPath);
    await this.#loggedIn();
    const body = await this.#transport.call('GET', credsPath, 'mint', (client) => client.read(credsPath));
    const obtainedAt = new Date();
    const leaseId = isObject(body) && typeof body['lease_id'] === 'string' && body['lease_id'] !== '' ? body['lease_id'] : undefined;
    const data = isObject(body) ? body['data'] : undefined;
    const username = isObject(data) ? data['username'] : undefined;
    const password = isObject(data) ? data['password'] : undefined;
    // Registered as it arrives, before anything is checked: even an unusable answer's password is never printed.
    if (typeof password === 'string') {
      this.#transport.addSecret(password);
      registerSecret(password);
    }
    const duration = isObject(body) ? body['lease_duration'] : undefined;
    const renewable = isObject(body) ? body['renewable'] : undefined;
    if (leaseId === undefined || typeof username !== 'string' || username === '' || typeof password !== 'string' || password === ''
      || !isDuration(duration) || typeof renewable !== 'boolean') {
      if (leaseId !== undefined) {
        // Vault did create something: it must not outlive the run.
        this.#leases.set(leaseId, { leaseId, autoRenew: false });
        this.#ensureTeardown();
        await this.revoke(leaseId).catch(() => undefined);
      }
      throw new VaultUnexpectedResponse(200, [
        `credentials answer without lease_id, lease_duration, renewable, data.username and data.password${leaseId === undefined ? '' : ` (lease ${leaseId} ${this.#leases.has(leaseId) ? 'stays outstanding' : 'revoked'})`}`,
      ], 'GET', credsPath);
    }
    const { lease, update } = DatabaseLease.create({
      credsPath,
      username,
      password: new Secret(`password of ${username}`, password),
      leaseId,
      leaseDurationSeconds: duration,
      renewable,
      obtainedAt,
    });
    const tracked: Tracked = { leaseId, lease, update, autoRenew: (options.autoRenew ?? this.#autoRenew) && renewable && duration > 0 };
    this.#leases.set(leaseId, tracked);
    this.#ensureTeardown();
    this.#emit({ kind: 'lease-obtained', leaseId, credsPath, leaseDurationSeconds: duration, renewable });
    if (tracked.autoRenew) this.#scheduleLeaseRenewal(tracked, duration * 1000 * this.#renewAt);
    return lease;
  }

  /** PUT sys/leases/renew {lease_id, increment?}: extends an outstanding lease of this session; never retried. */
  async renew(lease: DatabaseLease | string, incrementSeconds?: number): Promise<DatabaseLease> {
    const tracked = this.#tracked(lease, 'PUT', RENEW_PATH);
    this.#checkOpen('PUT', RENEW_PATH);
    if (incrementSeconds !== undefined && !(Number.isSafeInteger(incrementSeconds) && incrementSeconds > 0)) {
      throw new TypeError(`Vault renew: incrementSeconds ${JSON.stringify(incrementSeconds)} must be a positive integer`);
    }
    if (tracked.lease === undefined) throw new VaultError(0, [`lease ${tracked.leaseId} has no usable credential to renew`], 'PUT', RENEW_PATH);
    await this.#renewLease(tracked, incrementSeconds, false);
    return tracked.lease;
  }

  /**
   * PUT sys/leases/revoke {lease_id}: stops its renewal, then revokes. On failure the lease stays outstanding and a
   * VaultLeaseRevocationError names it with Vault's answer. Allowed after `close()`.
   */
  async revoke(lease: DatabaseLease | string): Promise<void> {
    const leaseId = typeof lease === 'string' ? lease : lease?.leaseId;
    if (typeof leaseId !== 'string' || leaseId === '') throw new TypeError('Vault revoke: give a DatabaseLease or its lease id');
    const tracked = this.#leases.get(leaseId);
    if (tracked !== undefined) this.#disarm(tracked);
    try {
      await this.#transport.call('PUT', REVOKE_PATH, 'write', (client) => client.revoke({ lease_id: leaseId }));
    } catch (error) {
      const failure = this.#transport.translate(error, 'PUT', REVOKE_PATH);
      this.#emit({ kind: 'lease-revocation-failed', leaseId, error: failure });
      throw new VaultLeaseRevocationError([{ leaseId, error: failure }]);
    }
    if (this.#leases.get(leaseId) === tracked) this.#leases.delete(leaseId);
    this.#emit({ kind: 'lease-revoked', leaseId });
    if (this.#leases.size === 0) this.#forgetTeardown();
  }

  /**
   * Revokes every outstanding lease, one after the other. Leases whose revocation failed stay outstanding; one
   * VaultLeaseRevocationError then lists each with Vault's message.
   */
  async revokeAll(): Promise<void> {
    const failures: LeaseRevocationFailure[] = [];
    for (const leaseId of [...this.#leases.keys()]) {
      try {
        await this.revoke(leaseId);
      } catch (error) {
        failures.push(...(error as VaultLeaseRevocationError).failures);
      }
    }
    if (failures.length > 0) throw new VaultLeaseRevocationError(failures);
  }

  /**
   * KV v2: `kvPath` is `<mount>/<path>` (`kvv2/erp-sandbox/config`), read as GET <mount>/data/<path>. Every value is
   * wrapped in a Secret: reveal only what must be sent. Retried on network errors and 5xx.
   */
  async readKv(kvPath: string): Promise<KvSecret> {
    checkPath('KV path', kvPath, 'GET');
    const slash = kvPath.indexOf('/');
    if (slash < 0) throw new TypeError(`Vault KV path ${JSON.stringify(kvPath)}: give <mount>/<path>, e.g. "kvv2/erp-sandbox/config"`);
    const apiPath = `${kvPath.slice(0, slash)}/data/${kvPath.slice(slash + 1)}`;
    this.#checkOpen('GET', apiPath);
    await this.#loggedIn();
    const body = await this.#transport.call('GET', apiPath, 'read', (client) => client.read(apiPath));
    const outer = isObject(body) ? body['data'] : undefined;
    const data = isObject(outer) ? outer['data'] : undefined;
    const metadata = isObject(outer) ? outer['metadata'] : undefined;
    const version = isObject(metadata) ? metadata['version'] : undefined;
    if (isObject(data)) this.#rememberSecrets(data);
    if (!isObject(data) || typeof version !== 'number') {
      throw new VaultUnexpectedResponse(200, ['KV v2 answer without data.data and data.metadata.version (is the mount KV version 2?)'], 'GET', apiPath);
    }
    const values: Record<string, Secret> = {};
    const emptyKeys: string[] = [];
    for (const [key, value] of Object.entries(data)) {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      if (text === '') emptyKeys.push(key);
      // Every value stays behind reveal(); those whose key names a secret are also redacted from all output.
      else values[key] = new Secret(`${kvPath}#${key}`, text, { redact: SECRET_KEY.test(key) });
    }
    const createdTime = isObject(metadata) && typeof metadata['created_time'] === 'string' ? metadata['created_time'] : undefined;
    return {
      path: kvPath,
      version,
      ...(createdTime === undefined ? {} : { createdTime }),
      values: Object.freeze(values),
      emptyKeys: Object.freeze(emptyKeys),
    };
  }

  /**
   * POST sys/capabilities-self {paths}: what this identity's policies allow on each API path (e.g. `kvv2/data/erp/config`),
   * as Vault itself answers it: sorted capability names, `["deny"]` where nothing is allowed, `["root"]` for a root
   * token. It only asks: nothing is read, minted or changed. Vault's default policy grants it to every token; retried
   * like a read.
   */
  async capabilities(paths: readonly string[]): Promise<Readonly<Record<string, readonly string[]>>> {
    if (!Array.isArray(paths) || paths.length === 0) throw new TypeError('Vault capabilities: give at least one API path');
    for (const path of paths) checkPath('capabilities of', path, 'POST');
    this.#checkOpen('POST', CAPABILITIES_SELF_PATH);
    await this.#loggedIn();
    const body = await this.#transport.call('POST', CAPABILITIES_SELF_PATH, 'read', (client) => client.write(CAPABILITIES_SELF_PATH, { paths: [...paths] }));
    // Vault puts the answer both at the top level and under `data` (http/handler.go injectDataIntoTopRoutes).
    const data = isObject(body) ? body['data'] : undefined;
    const answer: Record<string, readonly string[]> = {};
    for (const path of paths) {
      const capabilities = isObject(data) ? data[path] : undefined;
      if (!Array.isArray(capabilities) || !capabilities.every((capability) => typeof capability === 'string')) {
        throw new VaultUnexpectedResponse(200, [`capabilities answer without data[${JSON.stringify(path)}] as a list of names`], 'POST', CAPABILITIES_SELF_PATH);
      }
      answer[path] = Object.freeze([...capabilities as string[]]);
    }
    return Object.freeze(answer);
  }

  /**
   * Stops every renewal timer; revokes nothing unless `revokeOutstanding` (then like `revokeAll`, whose error it
   * throws). Leases still outstanding after close stay registered for revocation at the end of the run.
   */
  async close(options: { readonly revokeOutstanding?: boolean } = {}): Promise<void> {
    this.#closed = true;
    this.#stopTimers();
    try {
      if (options.revokeOutstanding === true) await this.revokeAll();
    } finally {
      if (this.#leases.size === 0) {
        this.#forgetTeardown();
        this.#transport.close();
      }
    }
  }

  toJSON(): Record<string, unknown> {
    const auth = this.#config.auth;
    return {
      address: this.#config.address,
      auth: auth.method === 'token' ? { method: 'token' } : { method: auth.method, role: auth.role, mount: auth.mount },
      loggedIn: this.#identity !== undefined,
      ...(this.#identity === undefined ? {} : { policies: [...this.#identity.policies] }),
      outstandingLeases: [...this.#leases.keys()],
      closed: this.#closed,
    };
  }

  toString(): string {
    const auth = this.#config.auth;
    return `VaultSession(${this.#config.address}, ${auth.method === 'token' ? 'token' : `${auth.method} role ${auth.role}`})`;
  }

  [inspect.custom](): string {
    return `VaultSession ${inspect(this.toJSON(), { depth: 3 })}`;
  }

  // ---- login ----

  #loginPath(): string {
    const auth = this.#config.auth;
    return auth.method === 'token' ? LOOKUP_SELF_PATH : `auth/${auth.mount}/login`;
  }

  async #login(): Promise<VaultIdentity> {
    const auth = this.#config.auth;
    if (auth.method === 'token') {
      this.#transport.useToken(auth.token);
    } else {
      const path = this.#loginPath();
      const jwt = auth.method === 'jwt' && auth.token !== undefined ? auth.token.reveal() : await this.#readJwt(auth.tokenPath!, path);
      this.#transport.addSecret(jwt);
      this.#transport.useToken(undefined);
      const args = { role: auth.role, jwt, mount_point: auth.mount };
      const body = await this.#refusalIsAuthentication(() =>
        this.#transport.call('POST', path, 'write', (client) => (auth.method === 'kubernetes' ? client.kubernetesLogin(args) : client.jwtLogin(args))));
      const granted = isObject(body) ? body['auth'] : undefined;
      const clientToken = isObject(granted) ? granted['client_token'] : undefined;
      if (typeof clientToken !== 'string' || clientToken === '') {
        this.#transport.useToken(undefined);
        throw new VaultUnexpectedResponse(200, ['login answer without auth.client_token'], 'POST', path);
      }
      this.#transport.useToken(new Secret('Vault token', clientToken));
    }
    const looked = await this.#refusalIsAuthentication(() =>
      this.#transport.call('GET', LOOKUP_SELF_PATH, 'read', (client) => client.tokenLookupSelf()));
    const data = isObject(looked) ? looked['data'] : undefined;
    if (!isObject(data) || !isDuration(data['ttl'])) {
      throw new VaultUnexpectedResponse(200, ['lookup-self answer without data.ttl'], 'GET', LOOKUP_SELF_PATH);
    }
    const ttl = data['ttl'];
    const policies = Array.isArray(data['policies']) ? data['policies'].filter((p): p is string => typeof p === 'string') : [];
    const renewable = data['renewable'] === true;
    const identity: VaultIdentity = {
      method: auth.method,
      displayName: typeof data['display_name'] === 'string' ? data['display_name'] : '',
      policies: Object.freeze(policies),
      ttlSeconds: ttl,
      renewable,
      ...(ttl > 0 ? { expiresAt: new Date(Date.now() + ttl * 1000) } : {}),
    };
    this.#identity = Object.freeze(identity);
    this.#emit({ kind: 'logged-in', identity: this.#identity });
    this.#disarmToken();
    this.#tokenExpiresAt = identity.expiresAt;
    if (this.#autoRenew && renewable && ttl > 0) this.#scheduleTokenRenewal(ttl * 1000 * this.#renewAt);
    return this.#identity;
  }

  async #readJwt(file: string, path: string): Promise<string> {
    const what = this.#config.auth.method === 'kubernetes' ? 'the service-account token' : 'the JWT';
    let text: string;
    try {
      text = (await readFile(file, 'utf8')).trim();
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw new VaultAuthenticationError(0, [`cannot read ${what} from ${file}${typeof code === 'string' ? ` (${code})` : ''}`], 'POST', path);
    }
    if (text === '') throw new VaultAuthenticationError(0, [`${what} file ${file} is empty`], 'POST', path);
    // Registered the moment it is read. The whole token is enough: a JWT's header and payload alone authenticate nobody.
    registerSecret(text);
    return text;
  }

  /** Any HTTP refusal during login (400, 401, 403…) is an authentication failure; no answer stays VaultUnreachable. */
  async #refusalIsAuthentication<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof VaultError && error.status >= 400 && !(error instanceof VaultAuthenticationError)) {
        throw new VaultAuthenticationError(error.status, error.errors, error.method, error.path);
      }
      throw error;
    }
  }

  async #loggedIn(): Promise<void> {
    if (this.#identity === undefined) await this.login();
  }

  // ---- renewals ----

  #scheduleLeaseRenewal(tracked: Tracked, delayMs: number): void {
    this.#disarm(tracked);
    if (this.#closed) return;
    tracked.timer = setTimeout(() => {
      tracked.timer = undefined;
      void this.#renewLease(tracked, undefined, true).catch(() => undefined); // reported as an event by #renewLease
    }, Math.max(MIN_RENEW_DELAY_MS, delayMs));
    tracked.timer.unref();
  }

  async #renewLease(tracked: Tracked, incrementSeconds: number | undefined, automatic: boolean): Promise<void> {
    const lease = tracked.lease!;
    const before = lease.expiresAt.getTime();
    const previousDuration = lease.leaseDurationSeconds;
    let body: unknown;
    try {
      body = await this.#transport.call('PUT', RENEW_PATH, 'write', (client) =>
        client.renew(incrementSeconds === undefined ? { lease_id: tracked.leaseId } : { lease_id: tracked.leaseId, increment: incrementSeconds }));
      if (!isObject(body) || !isDuration(body['lease_duration'])) {
        throw new VaultUnexpectedResponse(200, ['renew answer without lease_duration'], 'PUT', RENEW_PATH);
      }
    } catch (raw) {
      const error = this.#transport.translate(raw, 'PUT', RENEW_PATH);
      if (automatic && this.#leases.get(tracked.leaseId) === tracked) {
        const retryAt = this.#retryAt(error, lease.expiresAt);
        this.#emit({ kind: 'lease-renewal-failed', leaseId: tracked.leaseId, error, ...(retryAt === undefined ? {} : { retryAt }) });
        if (retryAt !== undefined) this.#scheduleLeaseRenewal(tracked, retryAt.getTime() - Date.now());
      }
      throw error;
    }
    if (this.#leases.get(tracked.leaseId) !== tracked) return; // revoked meanwhile
    const duration = body['lease_duration'] as number;
    const renewable = body['renewable'] !== false;
    const at = new Date();
    tracked.update!(duration, renewable, at);
    this.#emit({ kind: 'lease-renewed', leaseId: tracked.leaseId, leaseDurationSeconds: duration, expiresAt: lease.expiresAt, automatic });
    if (!tracked.autoRenew || this.#closed) return;
    // A manual renewal may come any time: only an automatic one judges whether Vault still extends the lease.
    const stop = this.#stopReason(duration, renewable, automatic ? lease.expiresAt.getTime() - before : Infinity, previousDuration);
    if (stop !== undefined) {
      this.#disarm(tracked);
      this.#emit({ kind: 'lease-expiring', leaseId: tracked.leaseId, expiresAt: lease.expiresAt, reason: stop });
    } else {
      this.#scheduleLeaseRenewal(tracked, duration * 1000 * this.#renewAt);
    }
  }

  #scheduleTokenRenewal(delayMs: number): void {
    this.#disarmToken();
    if (this.#closed) return;
    this.#tokenTimer = setTimeout(() => {
      this.#tokenTimer = undefined;
      void this.#renewToken();
    }, Math.max(MIN_RENEW_DELAY_MS, delayMs));
    this.#tokenTimer.unref();
  }

  async #renewToken(): Promise<void> {
    const before = this.#tokenExpiresAt?.getTime() ?? Date.now();
    const previousTtl = this.#identity?.ttlSeconds ?? 0;
    let granted: Body;
    try {
      const body = await this.#transport.call('POST', RENEW_SELF_PATH, 'write', (client) => client.tokenRenewSelf());
      const auth = isObject(body) ? body['auth'] : undefined;
      if (!isObject(auth) || !isDuration(auth['lease_duration'])) {
        throw new VaultUnexpectedResponse(200, ['renew-self answer without auth.lease_duration'], 'POST', RENEW_SELF_PATH);
      }
      granted = auth;
    } catch (raw) {
      const error = this.#transport.translate(raw, 'POST', RENEW_SELF_PATH);
      const retryAt = this.#tokenExpiresAt === undefined ? undefined : this.#retryAt(error, this.#tokenExpiresAt);
      this.#emit({ kind: 'token-renewal-failed', error, ...(retryAt === undefined ? {} : { retryAt }) });
      if (retryAt !== undefined) this.#scheduleTokenRenewal(retryAt.getTime() - Date.now());
      return;
    }
    const ttl = granted['lease_duration'] as number;
    const expiresAt = new Date(Date.now() + ttl * 1000);
    this.#tokenExpiresAt = expiresAt;
    this.#emit({ kind: 'token-renewed', ttlSeconds: ttl, expiresAt });
    if (this.#closed) return;
    const stop = this.#stopReason(ttl, granted['renewable'] !== false, expiresAt.getTime() - before, previousTtl);
    if (stop !== undefined) this.#emit({ kind: 'token-expiring', expiresAt, reason: stop });
    else this.#scheduleTokenRenewal(ttl * 1000 * this.#renewAt);
  }

  /** Why automatic renewal stops after a grant, or undefined to go on. */
  #stopReason(durationSeconds: number, renewable: boolean, extendedByMs: number, previousSeconds: number): string | undefined {
    if (!renewable || durationSeconds <= 0) return 'Vault says it is not renewable any more';
    // At max TTL Vault grants only what is left: the expiry no longer moves.
    if (extendedByMs < Math.min(1000, (previousSeconds * 1000) / 6)) return 'Vault no longer extends it (max TTL reached)';
    return undefined;
  }

  /** A transient failure is retried halfway to the expiry, if at least half a second is left. */
  #retryAt(error: VaultError, expiresAt: Date): Date | undefined {
    const transient = error instanceof VaultUnreachable || error.status >= 500;
    const left = expiresAt.getTime() - Date.now();
    if (!transient || this.#closed || left < 500) return undefined;
    return new Date(Date.now() + Math.max(MIN_RENEW_DELAY_MS, left / 2));
  }

  #disarm(tracked: Tracked): void {
    if (tracked.timer !== undefined) clearTimeout(tracked.timer);
    tracked.timer = undefined;
  }

  #disarmToken(): void {
    if (this.#tokenTimer !== undefined) clearTimeout(this.#tokenTimer);
    this.#tokenTimer = undefined;
  }

  #stopTimers(): void {
    this.#disarmToken();
    for (const tracked of this.#leases.values()) this.#disarm(tracked);
  }

  // ---- tracking ----

  #tracked(lease: DatabaseLease | string, method: string, path: string): Tracked {
    const leaseId = typeof lease === 'string' ? lease : lease?.leaseId;
    const tracked = typeof leaseId === 'string' ? this.#leases.get(leaseId) : undefined;
    if (tracked === undefined) throw new VaultError(0, [`lease ${String(leaseId)} is not outstanding in this session`], method, path);
    return tracked;
  }

  #ensureTeardown(): void {
    if (this.#unregister !== undefined) return;
    this.#unregister = registerTeardown({
      name: `${this} leases`,
      stop: async () => {
        this.#unregister = undefined; // the teardown stack forgets it once stopped; a later lease registers again
        this.#stopTimers();
        await this.revokeAll();
        if (this.#closed) this.#transport.close();
      },
      lastResort: () => {
        if (this.#leases.size === 0) return;
        process.stderr.write(`${this}: ${this.#leases.size} lease(s) left outstanding, they expire on their own: ${[...this.#leases.keys()].join(', ')}\n`);
      },
    });
  }

  #forgetTeardown(): void {
    this.#unregister?.();
    this.#unregister = undefined;
  }

  #checkOpen(method: string, path: string): void {
    if (this.#closed) throw new VaultError(0, ['the session is closed'], method, path);
  }

  #rememberSecrets(value: unknown): void {
    if (typeof value === 'string') this.#transport.addSecret(value);
    else if (typeof value === 'number') this.#transport.addSecret(String(value));
    else if (Array.isArray(value)) value.forEach((item) => this.#rememberSecrets(item));
    else if (isObject(value)) {
      this.#transport.addSecret(JSON.stringify(value));
      Object.values(value).forEach((item) => this.#rememberSecrets(item));
    }
  }

  #emit(event: VaultEvent): void {
    try {
      this.#onEvent(event);
    } catch {
      // A listener's failure must not break a renewal timer or a revocation.
    }
  }
}
