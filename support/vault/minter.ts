/**
 * Login roles for the gates, obtained the only way the harness obtains them: from Vault's database secrets engine,
 * through the Vault identity of the instance's own workload (Kubernetes auth as role `<instance>`). One session per
 * instance, opened on first use; every lease is revoked at the end, or by the minter's teardown on a signal.
 */
import type { InstanceNames } from '../naming';
import type { Endpoint } from '../postgres/cluster';
import { withClient } from '../postgres/connect';
import { RevocationError, type CredentialMinter, type MintedLogin } from '../postgres/minting';
import { interruptedBy, registerTeardown } from '../process/teardown';
import { describeDrift, findDrift } from '../postgres/drift';
import type { VaultConfigInput } from './config';
import { VaultError, VaultLeaseRevocationError } from './errors';
import type { DatabaseLease } from './lease';
import type { LedgerEntry, MintLedger } from './ledger';
import { VaultSession, type VaultSessionOptions } from './session';

export interface VaultMinterOptions {
  /** How the workload of an instance logs in to Vault. */
  readonly identity: (names: InstanceNames) => VaultConfigInput;
  readonly session?: VaultSessionOptions;
  /** The cluster, to ask a login role Vault could not revoke what it owns. */
  readonly endpoint: Endpoint;
  /** Live: where each login minted and revoked is noted, so a run that dies leaves a trace (see ledger.ts). */
  readonly ledger?: MintLedger;
}

interface Held {
  readonly lease: DatabaseLease;
  readonly session: VaultSession;
  readonly login: MintedLogin;
}

/** The auth role an identity logs in as (Kubernetes or JWT), for the record of where a login came from. */
function authRoleOf(identity: VaultConfigInput): { readonly authRole?: string } {
  return 'role' in identity.auth ? { authRole: identity.auth.role } : {};
}

export class VaultMinter implements CredentialMinter {
  readonly #sessions = new Map<string, Promise<VaultSession>>();
  readonly #held = new Map<string, Held>();
  readonly #revoked = new Set<string>();
  readonly #issuing = new Set<Promise<unknown>>();
  #stopping = false;
  readonly #unregister: () => void;

  constructor(private readonly options: VaultMinterOptions) {
    // Registered when made, so it stops after the sessions' own teardowns and before anything registered earlier
    // (the cluster): scenarios still running cannot slip a new login role past the end.
    this.#unregister = registerTeardown({ name: 'the Vault leases of the run', stop: () => this.#stop() });
  }

  /** The logged-in session of the instance's workload (opened on first use). */
  session(names: InstanceNames): Promise<VaultSession> {
    let session = this.#sessions.get(names.instance);
    if (session === undefined) {
      session = VaultSession.open(this.options.identity(names), this.options.session);
      session.catch(() => this.#sessions.delete(names.instance));
      this.#sessions.set(names.instance, session);
    }
    return session;
  }

  mint(names: InstanceNames): Promise<MintedLogin> {
    if (this.#stopping || interruptedBy()) {
      return Promise.reject(new Error(`the run is stopping (${interruptedBy() ?? 'closed'}): no new credential for ${names.instance}`));
    }
    const issuing = this.#mint(names);
    this.#issuing.add(issuing);
    void issuing.catch(() => undefined).finally(() => this.#issuing.delete(issuing));
    return issuing;
  }

  async #mint(names: InstanceNames): Promise<MintedLogin> {
    const session = await this.session(names);
    const lease = await session.databaseCredentials(names.credsPath);
    const login: MintedLogin = {
      user: lease.username,
      password: lease.password.reveal(),
      instance: names.instance,
      ownerRole: names.ownerRole,
      leaseId: lease.leaseId,
      expiresAt: lease.expiresAt,
      vault: {
        path: names.credsPath, auth: session.identity?.method ?? 'token', role: names.vaultRole, database: names.database,
        ...authRoleOf(this.options.identity(names)),
      },
    };
    this.#held.set(lease.leaseId, { lease, session, login });
    this.options.ledger?.minted({
      username: login.user, instance: names.instance, leaseId: lease.leaseId, mintedAt: new Date().toISOString(),
      cluster: `${this.options.endpoint.host}:${this.options.endpoint.port}`,
    });
    return login;
  }

  /** Revokes the login's lease; revoking it again is a no-op, as in Vault. */
  async revoke(login: MintedLogin): Promise<void> {
    if (this.#revoked.has(login.leaseId)) return;
    const held = this.#held.get(login.leaseId);
    if (held === undefined) throw new RevocationError(login.user, undefined, `lease ${login.leaseId} was not obtained by this run`);
    try {
      await held.session.revoke(held.lease);
    } catch (error) {
      throw await this.#explained(held, error);
    }
    this.#held.delete(login.leaseId);
    this.#revoked.add(login.leaseId);
    this.options.ledger?.revoked(login.user);
  }

  /**
   * Revokes a lease a run that is gone minted (a ledger's entry), through the Vault identity of the instance it was
   * minted for — the identity whose policy lets it revoke (sys/leases/revoke); the ledger notes it revoked. Throws a
   * RevocationError carrying Vault's SQLSTATE (2BP01: the login owns objects, so Vault cannot drop it).
   */
  async revokeLeftover(names: InstanceNames, entry: LedgerEntry): Promise<void> {
    const session = await this.session(names);
    try {
      await session.revoke(entry.leaseId);
    } catch (error) {
      if (!(error instanceof VaultError)) throw error;
      const text = messageOf(error);
      throw new RevocationError(entry.username, sqlstateOf(text), `cannot revoke lease ${entry.leaseId} (${entry.username}): ${text}`);
    }
    this.options.ledger?.revoked(entry.username);
  }

  /** Revokes every lease still held; one error names each failure (and its drift). */
  async revokeAll(): Promise<void> {
    const failures: string[] = [];
    for (const held of [...this.#held.values()]) {
      await this.revoke(held.login).catch((error: Error) => failures.push(error.message));
    }
    if (failures.length > 0) throw new RevocationError('', undefined, failures.join('\n'));
  }

  /** Stops issuing, waits for what is being issued, revokes everything held. */
  async #stop(): Promise<void> {
    this.#stopping = true;
    await Promise.allSettled([...this.#issuing]);
    await this.revokeAll();
  }

  /** Closes the sessions (revoking nothing: call revokeAll first). */
  async close(): Promise<void> {
    this.#stopping = true;
    this.#unregister();
    for (const session of this.#sessions.values()) await (await session.catch(() => undefined))?.close();
  }

  /**
   * A revocation Vault could not complete because the login owns objects (made without `SET ROLE <owner role>`:
   * SQLSTATE 2BP01) is reported as the ownership drift it is: the failing role itself says which objects it owns.
   */
  async #explained(held: Held, error: unknown): Promise<Error> {
    if (!(error instanceof VaultError)) return error as Error;
    const text = messageOf(error);
    const code = sqlstateOf(text);
    const { login } = held;
    if (code !== '2BP01') return new RevocationError(login.user, code, `cannot revoke lease ${login.leaseId} (${login.user}): ${text}`);
    const owned = await withClient(this.options.endpoint, login, login.vault?.database ?? login.instance, (client) =>
      findDrift(client, { ownerRole: login.ownerRole }),
    ).then((drift) => describeDrift(drift.filter((object) => object.owner === login.user)), () => []);
    const what = owned.length > 0 ? `ownership drift: ${owned.join(', ')}` : 'it owns objects';
    return new RevocationError(
      login.user,
      code,
      `cannot revoke lease ${login.leaseId} (${login.user}): Vault could not drop the role, ${what} — ` +
        `whatever made them must SET ROLE ${login.ownerRole} first; drop them (or reset the sandbox dropping the login's own drift) and revoke again`,
    );
  }
}

/** What Vault said about a failed revocation, each failure of a batch joined. */
function messageOf(error: VaultError): string {
  return error instanceof VaultLeaseRevocationError ? error.failures.map((failure) => failure.error.message).join('; ') : error.message;
}

/** The SQLSTATE PostgreSQL gave Vault, as Vault quotes it: `(SQLSTATE 2BP01)`. */
function sqlstateOf(text: string): string | undefined {
  return /\(SQLSTATE ([0-9A-Z]{5})\)/.exec(text)?.[1];
}
