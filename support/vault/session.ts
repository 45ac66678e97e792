/**
 * The harness's only way to Vault: one identity (login.ts), the database credentials it obtained (leases.ts), KV reads
 * (kv.ts) and capability questions (capabilities.ts). Secrets stay in Secrets or private fields, so no error, message,
 * `inspect`, JSON or `String()` of a session holds one; node-vault, which keeps the token public, stays in transport.ts.
 */
import type { LookupFunction } from 'node:net';
import { inspect } from 'node:util';
import { registerTeardown } from '../process/teardown';
import { checkOpen, type SessionContext } from './calls';
import { capabilities } from './capabilities';
import { VaultConfig, VaultConfigInput, vaultConfig } from './config';
import { reportToStderr, type VaultEvent } from './events';
import { readKv, type KvSecret } from './kv';
import type { DatabaseLease } from './lease';
import { VaultLeases } from './leases';
import { VaultLogin, type VaultIdentity } from './login';
import { VaultTransport } from './transport';

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

export class VaultSession {
  readonly #config: VaultConfig;
  readonly #transport: VaultTransport;
  readonly #onEvent: (event: VaultEvent) => void;
  readonly #autoRenew: boolean;
  readonly #context: SessionContext;
  readonly #login: VaultLogin;
  readonly #leases: VaultLeases;
  #unregister: (() => void) | undefined;
  #closed = false;

  constructor(config: VaultConfigInput, options: VaultSessionOptions = {}) {
    this.#config = vaultConfig(config);
    const renewAt = options.renewAt ?? 2 / 3;
    if (!(typeof renewAt === 'number' && renewAt > 0 && renewAt < 1)) {
      throw new TypeError(`VaultSession: renewAt ${JSON.stringify(options.renewAt)} must be a fraction between 0 and 1 (default 2/3)`);
    }
    this.#autoRenew = options.autoRenew ?? true;
    this.#onEvent = options.onEvent ?? reportToStderr;
    this.#transport = new VaultTransport(this.#config, options.lookup === undefined ? {} : { lookup: options.lookup });
    this.#context = {
      transport: this.#transport,
      closed: () => this.#closed,
      loggedIn: async () => {
        if (this.#login.identity === undefined) await this.login();
      },
    };
    const emit = (event: VaultEvent): void => this.#emit(event);
    this.#login = new VaultLogin(this.#config, this.#context, { autoRenew: this.#autoRenew, renewAt, emit });
    this.#leases = new VaultLeases(this.#context, {
      autoRenew: this.#autoRenew,
      renewAt,
      emit,
      held: () => this.#ensureTeardown(),
      released: () => this.#forgetTeardown(),
    });
  }

  /** A session, logged in. */
  static async open(config: VaultConfigInput, options: VaultSessionOptions = {}): Promise<VaultSession> {
    const session = new VaultSession(config, options);
    await session.login();
    return session;
  }

  /** Who the session is (after `login()`). */
  get identity(): VaultIdentity | undefined {
    return this.#login.identity;
  }

  /** Every lease obtained and not (successfully) revoked yet. */
  get outstandingLeases(): readonly DatabaseLease[] {
    return this.#leases.outstanding;
  }

  /** The ids of the outstanding leases, including any issued with an unusable answer. */
  get outstandingLeaseIds(): readonly string[] {
    return this.#leases.ids;
  }

  /**
   * Logs in: POST auth/<mount>/login (Kubernetes: the service-account JWT read from its file now; JWT: the given or
   * read JWT), or the configured token as is; then GET auth/token/lookup-self for policies and TTL. A refusal is a
   * VaultAuthenticationError carrying Vault's message.
   */
  async login(): Promise<VaultIdentity> {
    checkOpen(this.#context, 'POST', this.#login.path);
    return this.#login.login();
  }

  /**
   * Reads dynamic database credentials (GET <credsPath>, e.g. `postgres/creds/erp-sandbox`): a new login role and
   * lease at each call, tracked until revoked, renewed automatically when renewable (unless `autoRenew: false`).
   * Logs in first if needed. Never retried (a retry could mint a second lease).
   */
  databaseCredentials(credsPath: string, options: { readonly autoRenew?: boolean } = {}): Promise<DatabaseLease> {
    return this.#leases.obtain(credsPath, options.autoRenew ?? this.#autoRenew);
  }

  /** PUT sys/leases/renew {lease_id, increment?}: extends an outstanding lease of this session; never retried. */
  renew(lease: DatabaseLease | string, incrementSeconds?: number): Promise<DatabaseLease> {
    return this.#leases.renew(lease, incrementSeconds);
  }

  /**
   * PUT sys/leases/revoke {lease_id}: stops its renewal, then revokes. On failure the lease stays outstanding and a
   * VaultLeaseRevocationError names it with Vault's answer. Allowed after `close()`.
   */
  revoke(lease: DatabaseLease | string): Promise<void> {
    return this.#leases.revoke(lease);
  }

  /**
   * Revokes every outstanding lease, one after the other. Leases whose revocation failed stay outstanding; one
   * VaultLeaseRevocationError then lists each with Vault's message.
   */
  revokeAll(): Promise<void> {
    return this.#leases.revokeAll();
  }

  /**
   * KV v2: `kvPath` is `<mount>/<path>` (`kvv2/erp-sandbox/config`), read as GET <mount>/data/<path>. Every value is
   * wrapped in a Secret: reveal only what must be sent. Retried on network errors and 5xx.
   */
  readKv(kvPath: string): Promise<KvSecret> {
    return readKv(this.#context, kvPath);
  }

  /**
   * POST sys/capabilities-self {paths}: what this identity's policies allow on each API path (e.g. `kvv2/data/erp/config`),
   * as Vault itself answers it: sorted capability names, `["deny"]` where nothing is allowed, `["root"]` for a root
   * token. It only asks: nothing is read, minted or changed. Retried like a read.
   */
  capabilities(paths: readonly string[]): Promise<Readonly<Record<string, readonly string[]>>> {
    return capabilities(this.#context, paths);
  }

  /**
   * Stops every renewal timer; revokes nothing unless `revokeOutstanding` (then like `revokeAll`, whose error it
   * throws). Leases still outstanding after close stay registered for revocation at the end of the run.
   */
  async close(options: { readonly revokeOutstanding?: boolean } = {}): Promise<void> {
    this.#closed = true;
    this.#stopRenewals();
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
    const identity = this.#login.identity;
    return {
      address: this.#config.address,
      auth: auth.method === 'token' ? { method: 'token' } : { method: auth.method, role: auth.role, mount: auth.mount },
      loggedIn: identity !== undefined,
      ...(identity === undefined ? {} : { policies: [...identity.policies] }),
      outstandingLeases: [...this.#leases.ids],
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

  #stopRenewals(): void {
    this.#login.stopRenewal();
    this.#leases.stopRenewals();
  }

  /** While a lease is outstanding, the end of the run, a failure or SIGINT/SIGTERM revokes it. */
  #ensureTeardown(): void {
    if (this.#unregister !== undefined) return;
    this.#unregister = registerTeardown({
      name: `${this} leases`,
      stop: async () => {
        this.#unregister = undefined; // the teardown stack forgets it once stopped; a later lease registers again
        this.#stopRenewals();
        await this.revokeAll();
        if (this.#closed) this.#transport.close();
      },
      lastResort: () => {
        if (this.#leases.size === 0) return;
        process.stderr.write(`${this}: ${this.#leases.size} lease(s) left outstanding, they expire on their own: ${this.#leases.ids.join(', ')}\n`);
      },
    });
  }

  #forgetTeardown(): void {
    this.#unregister?.();
    this.#unregister = undefined;
  }

  #emit(event: VaultEvent): void {
    try {
      this.#onEvent(event);
    } catch {
      // A listener's failure must not break a renewal timer or a revocation.
    }
  }
}
