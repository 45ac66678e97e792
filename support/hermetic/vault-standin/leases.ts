/**
 * The expiration manager for secret leases (vault/expiration.go): a lease expires at its TTL, then an expiry job
 * revokes it, with Vault's retries, until it succeeds or the lease turns irrevocable. Operations on one lease are
 * serialized; `close()` revokes nothing, so leftover leases stay visible in `list()`.
 */
import { badRequest } from './errors';
import { base62 } from './tokens';
import { scheduleAt } from './ttl';

export const MAX_REVOKE_ATTEMPTS = 6;
const MAX_IRREVOCABLE_ERROR_LENGTH = 240;

/** What a test or the harness sees of an outstanding lease; never the password. */
export interface LeaseInfo {
  readonly leaseId: string;
  readonly mount: string;
  /** The secrets engine role (`erp-sandbox`). */
  readonly role: string;
  /** The database login role it stands for. */
  readonly username: string;
  /** The accessor of the token that created it (not the token). */
  readonly tokenAccessor: string;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
  readonly lastRenewal: Date | undefined;
  /** Failed attempts of the expiry job so far. */
  readonly revokeAttempts: number;
  readonly irrevocable: boolean;
  /** Set once irrevocable. */
  readonly revokeError: string | undefined;
}

/** The secrets engine behind the leases. Both throw an Error whose message Vault would wrap. */
export interface LeaseBackend {
  revoke(lease: LeaseInfo): Promise<void>;
  renew(lease: LeaseInfo, incrementSeconds: number, now: Date): Promise<{ ttlSeconds: number; warnings: readonly string[] }>;
}

interface Lease {
  readonly id: string;
  readonly mount: string;
  readonly mountAccessor: string;
  readonly role: string;
  readonly username: string;
  readonly tokenId: string;
  readonly tokenAccessor: string;
  readonly issuedAt: Date;
  expiresAt: Date;
  lastRenewal: Date | undefined;
  attempts: number;
  revokeError: string | undefined;
  cancelTimer: (() => void) | undefined;
}

export interface RegisterRequest {
  readonly mount: string;
  readonly mountAccessor: string;
  readonly role: string;
  readonly username: string;
  readonly tokenId: string;
  readonly tokenAccessor: string;
  readonly ttlSeconds: number;
  readonly now: Date;
}

export interface IrrevocableLease {
  readonly lease_id: string;
  readonly mount_id: string;
  readonly error: string;
}

const info = (lease: Lease): LeaseInfo => ({
  leaseId: lease.id,
  mount: lease.mount,
  role: lease.role,
  username: lease.username,
  tokenAccessor: lease.tokenAccessor,
  issuedAt: lease.issuedAt,
  expiresAt: lease.expiresAt,
  lastRenewal: lease.lastRenewal,
  revokeAttempts: lease.attempts,
  irrevocable: lease.revokeError !== undefined,
  revokeError: lease.revokeError,
});

export class LeaseManager {
  private readonly leases = new Map<string, Lease>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly running = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly backend: LeaseBackend,
    private readonly retryBaseMs: number,
  ) {}

  register(request: RegisterRequest): LeaseInfo {
    const lease: Lease = {
      id: `${request.mount}/creds/${request.role}/${base62(24)}`, // Vault's `<path>/<24 base62>`
      mount: request.mount,
      mountAccessor: request.mountAccessor,
      role: request.role,
      username: request.username,
      tokenId: request.tokenId,
      tokenAccessor: request.tokenAccessor,
      issuedAt: request.now,
      expiresAt: new Date(request.now.getTime() + request.ttlSeconds * 1000),
      lastRenewal: undefined,
      attempts: 0,
      revokeError: undefined,
      cancelTimer: undefined,
    };
    this.leases.set(lease.id, lease);
    this.arm(lease, lease.expiresAt);
    return info(lease);
  }

  lookup(id: string): LeaseInfo | undefined {
    const lease = this.leases.get(id);
    return lease === undefined ? undefined : info(lease);
  }

  list(): LeaseInfo[] {
    return [...this.leases.values()].map(info);
  }

  irrevocable(): IrrevocableLease[] {
    return [...this.leases.values()]
      .filter((lease) => lease.revokeError !== undefined)
      .sort((a, b) => a.expiresAt.getTime() - b.expiresAt.getTime() || (a.id < b.id ? -1 : 1))
      .map((lease) => ({ lease_id: lease.id, mount_id: lease.mountAccessor, error: lease.revokeError! }));
  }

  /** `sys/leases/renew`. Throws VaultApiError (400). */
  renew(id: string, incrementSeconds: number, now = new Date()): Promise<{ lease: LeaseInfo; ttlSeconds: number; warnings: readonly string[] }> {
    return this.locked(id, async () => {
      const lease = this.leases.get(id);
      if (lease === undefined) throw badRequest('lease not found');
      if (lease.revokeError !== undefined) throw badRequest('lease is expired and has failed previous revocation attempts');
      if (lease.expiresAt.getTime() < now.getTime()) throw badRequest('lease expired');
      let result: { ttlSeconds: number; warnings: readonly string[] };
      try {
        result = await this.backend.renew(info(lease), incrementSeconds, now);
      } catch (error) {
        throw badRequest(`failed to renew entry: resp: (*logical.Response)(nil) err: ${(error as Error).message}`);
      }
      lease.expiresAt = new Date(now.getTime() + result.ttlSeconds * 1000);
      lease.lastRenewal = now;
      this.arm(lease, lease.expiresAt);
      return { lease: info(lease), ...result };
    });
  }

  /**
   * `sys/leases/revoke` with sync=true. Throws VaultApiError (400) when the backend fails; the lease stays, and the
   * failure is not one of the expiry job's attempts. An unknown lease is not an error.
   */
  async revoke(id: string): Promise<void> {
    try {
      await this.revokeNow(id);
    } catch (error) {
      throw badRequest((error as Error).message);
    }
  }

  /** Expires the lease now and lets the expiry job revoke it (sync=false). Returns whether the lease exists. */
  lazyRevoke(id: string, now = new Date()): boolean {
    const lease = this.leases.get(id);
    if (lease === undefined) return false;
    lease.expiresAt = now;
    if (lease.revokeError === undefined) this.arm(lease, now);
    return true;
  }

  /** Every lease created with the token (Vault's RevokeByToken): expired now, revoked by the expiry job. */
  revokeByToken(tokenId: string, now = new Date()): void {
    for (const lease of this.leases.values()) {
      if (lease.tokenId === tokenId) this.lazyRevoke(lease.id, now);
    }
  }

  /** Stops every timer and waits for the jobs in progress; revokes nothing. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    for (const lease of this.leases.values()) {
      lease.cancelTimer?.();
      lease.cancelTimer = undefined;
    }
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private revokeNow(id: string): Promise<void> {
    return this.locked(id, async () => {
      const lease = this.leases.get(id);
      if (lease === undefined) return;
      try {
        await this.backend.revoke(info(lease));
      } catch (error) {
        throw new Error(`failed to revoke entry: resp: (*logical.Response)(nil) err: ${(error as Error).message}`);
      }
      lease.cancelTimer?.();
      this.leases.delete(id);
    });
  }

  private arm(lease: Lease, at: Date): void {
    lease.cancelTimer?.();
    lease.cancelTimer = undefined;
    if (this.closed) return;
    lease.cancelTimer = scheduleAt(at, () => {
      lease.cancelTimer = undefined;
      this.job(lease.id);
    });
  }

  /**
   * One attempt of the expiry job. On failure Vault retries after (2^attempt × base) ± 50 % (base 10 s); after 6
   * failures the lease is irrevocable, keeping `out of retries: <error>` cut at 240 characters, and stays.
   */
  private job(id: string): void {
    if (this.closed) return;
    const run = this.revokeNow(id).catch((error: Error) => {
      const lease = this.leases.get(id);
      if (lease === undefined || lease.revokeError !== undefined) return;
      lease.attempts += 1;
      if (lease.attempts >= MAX_REVOKE_ATTEMPTS) {
        lease.revokeError = `out of retries: ${error.message}`.slice(0, MAX_IRREVOCABLE_ERROR_LENGTH);
        lease.cancelTimer?.();
        lease.cancelTimer = undefined;
        return;
      }
      const backoff = (1 << lease.attempts) * this.retryBaseMs;
      this.arm(lease, new Date(Date.now() + backoff * (0.5 + Math.random())));
    });
    const tracked = run.finally(() => this.running.delete(tracked));
    this.running.add(tracked);
  }

  private locked<T>(id: string, work: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(id) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    this.locks.set(id, settled);
    void settled.then(() => {
      if (this.locks.get(id) === settled) this.locks.delete(id);
    });
    return next;
  }
}
