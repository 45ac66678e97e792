/**
 * The dynamic database credentials a session obtained: each lease tracked from the moment Vault issues it until
 * revoked, and renewed while renewable. A credential read mints a new lease at each call, so it is never retried.
 */
import { registerSecret } from '../redaction';
import { Secret } from '../secret';
import { checkOpen, checkPath, isDuration, isObject, type SessionContext } from './calls';
import { VaultError, VaultLeaseRevocationError, VaultUnexpectedResponse, type LeaseRevocationFailure } from './errors';
import { DatabaseLease, type LeaseUpdater } from './lease';
import { Renewal } from './renewal';

export type LeaseEvent =
  | { readonly kind: 'lease-obtained'; readonly leaseId: string; readonly credsPath: string; readonly leaseDurationSeconds: number; readonly renewable: boolean }
  | { readonly kind: 'lease-renewed'; readonly leaseId: string; readonly leaseDurationSeconds: number; readonly expiresAt: Date; readonly automatic: boolean }
  /** An automatic renewal failed; `retryAt` when it is tried again (transient error, time left), else renewal stopped. */
  | { readonly kind: 'lease-renewal-failed'; readonly leaseId: string; readonly error: VaultError; readonly retryAt?: Date }
  /** Automatic renewal stopped: the lease is not renewable (any more) or Vault no longer extends it (max TTL). */
  | { readonly kind: 'lease-expiring'; readonly leaseId: string; readonly expiresAt: Date; readonly reason: string }
  | { readonly kind: 'lease-revoked'; readonly leaseId: string }
  | { readonly kind: 'lease-revocation-failed'; readonly leaseId: string; readonly error: VaultError };

export interface LeasesOptions {
  readonly autoRenew: boolean;
  readonly renewAt: number;
  readonly emit: (event: LeaseEvent) => void;
  /** The first lease is held: the session must revoke it at the end of the run. */
  readonly held: () => void;
  /** No lease is held any more. */
  readonly released: () => void;
}

interface Tracked {
  readonly leaseId: string;
  /** Absent for a lease Vault issued with an unusable answer (still revoked like any other). */
  readonly lease?: DatabaseLease;
  readonly renewal?: Renewal;
}

const RENEW_PATH = 'sys/leases/renew';
const REVOKE_PATH = 'sys/leases/revoke';

export class VaultLeases {
  readonly #context: SessionContext;
  readonly #options: LeasesOptions;
  readonly #tracked = new Map<string, Tracked>();

  constructor(context: SessionContext, options: LeasesOptions) {
    this.#context = context;
    this.#options = options;
  }

  get size(): number {
    return this.#tracked.size;
  }

  /** Every lease obtained and not (successfully) revoked yet. */
  get outstanding(): readonly DatabaseLease[] {
    return [...this.#tracked.values()].flatMap((tracked) => (tracked.lease === undefined ? [] : [tracked.lease]));
  }

  /** The ids of the outstanding leases, including any issued with an unusable answer. */
  get ids(): readonly string[] {
    return [...this.#tracked.keys()];
  }

  /** GET <credsPath>: a new login role and lease, tracked until revoked. */
  async obtain(credsPath: string, autoRenew: boolean): Promise<DatabaseLease> {
    const transport = this.#context.transport;
    checkPath('credentials path', credsPath, 'GET');
    checkOpen(this.#context, 'GET', credsPath);
    await this.#context.loggedIn();
    const body = await transport.call('GET', credsPath, 'mint', (client) => client.read(credsPath));
    const obtainedAt = new Date();
    const leaseId = isObject(body) && typeof body['lease_id'] === 'string' && body['lease_id'] !== '' ? body['lease_id'] : undefined;
    const data = isObject(body) ? body['data'] : undefined;
    const username = isObject(data) ? data['username'] : undefined;
    const password = isObject(data) ? data['password'] : undefined;
    // Registered as it arrives, before anything is checked: even an unusable answer's password is never printed.
    if (typeof password === 'string') {
      transport.addSecret(password);
      registerSecret(password);
    }
    const duration = isObject(body) ? body['lease_duration'] : undefined;
    const renewable = isObject(body) ? body['renewable'] : undefined;
    if (leaseId === undefined || typeof username !== 'string' || username === '' || typeof password !== 'string' || password === ''
      || !isDuration(duration) || typeof renewable !== 'boolean') {
      if (leaseId !== undefined) {
        // Vault did create something: it must not outlive the run.
        this.#track({ leaseId });
        await this.revoke(leaseId).catch(() => undefined);
      }
      throw new VaultUnexpectedResponse(200, [
        `credentials answer without lease_id, lease_duration, renewable, data.username and data.password${leaseId === undefined ? '' : ` (lease ${leaseId} ${this.#tracked.has(leaseId) ? 'stays outstanding' : 'revoked'})`}`,
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
    const automatic = autoRenew && renewable && duration > 0;
    const tracked: Tracked = { leaseId, lease, renewal: this.#leaseRenewal(leaseId, lease, update, automatic) };
    this.#track(tracked);
    this.#options.emit({ kind: 'lease-obtained', leaseId, credsPath, leaseDurationSeconds: duration, renewable });
    if (automatic) tracked.renewal!.start();
    return lease;
  }

  /** PUT sys/leases/renew {lease_id, increment?}; never retried. */
  async renew(lease: DatabaseLease | string, incrementSeconds?: number): Promise<DatabaseLease> {
    const tracked = this.#find(lease, 'PUT', RENEW_PATH);
    checkOpen(this.#context, 'PUT', RENEW_PATH);
    if (incrementSeconds !== undefined && !(Number.isSafeInteger(incrementSeconds) && incrementSeconds > 0)) {
      throw new TypeError(`Vault renew: incrementSeconds ${JSON.stringify(incrementSeconds)} must be a positive integer`);
    }
    if (tracked.lease === undefined || tracked.renewal === undefined) {
      throw new VaultError(0, [`lease ${tracked.leaseId} has no usable credential to renew`], 'PUT', RENEW_PATH);
    }
    await tracked.renewal.now(incrementSeconds);
    return tracked.lease;
  }

  /** PUT sys/leases/revoke {lease_id} after stopping its renewal; on failure the lease stays outstanding. */
  async revoke(lease: DatabaseLease | string): Promise<void> {
    const leaseId = typeof lease === 'string' ? lease : lease?.leaseId;
    if (typeof leaseId !== 'string' || leaseId === '') throw new TypeError('Vault revoke: give a DatabaseLease or its lease id');
    const tracked = this.#tracked.get(leaseId);
    tracked?.renewal?.stop();
    try {
      await this.#context.transport.call('PUT', REVOKE_PATH, 'write', (client) => client.revoke({ lease_id: leaseId }));
    } catch (error) {
      const failure = this.#context.transport.translate(error, 'PUT', REVOKE_PATH);
      this.#options.emit({ kind: 'lease-revocation-failed', leaseId, error: failure });
      throw new VaultLeaseRevocationError([{ leaseId, error: failure }]);
    }
    if (this.#tracked.get(leaseId) === tracked) this.#tracked.delete(leaseId);
    this.#options.emit({ kind: 'lease-revoked', leaseId });
    if (this.#tracked.size === 0) this.#options.released();
  }

  /** Revokes every outstanding lease, one after the other; one error then lists each that failed. */
  async revokeAll(): Promise<void> {
    const failures: LeaseRevocationFailure[] = [];
    for (const leaseId of [...this.#tracked.keys()]) {
      try {
        await this.revoke(leaseId);
      } catch (error) {
        failures.push(...(error as VaultLeaseRevocationError).failures);
      }
    }
    if (failures.length > 0) throw new VaultLeaseRevocationError(failures);
  }

  stopRenewals(): void {
    for (const tracked of this.#tracked.values()) tracked.renewal?.stop();
  }

  #track(tracked: Tracked): void {
    this.#tracked.set(tracked.leaseId, tracked);
    this.#options.held();
  }

  #leaseRenewal(leaseId: string, lease: DatabaseLease, update: LeaseUpdater, automatic: boolean): Renewal {
    const transport = this.#context.transport;
    const emit = this.#options.emit;
    return new Renewal({
      renewAt: this.#options.renewAt,
      automatic,
      grantedSeconds: lease.leaseDurationSeconds,
      send: async (incrementSeconds) => {
        try {
          const body = await transport.call('PUT', RENEW_PATH, 'write', (client) =>
            client.renew(incrementSeconds === undefined ? { lease_id: leaseId } : { lease_id: leaseId, increment: incrementSeconds }));
          if (!isObject(body) || !isDuration(body['lease_duration'])) {
            throw new VaultUnexpectedResponse(200, ['renew answer without lease_duration'], 'PUT', RENEW_PATH);
          }
          return { durationSeconds: body['lease_duration'], renewable: body['renewable'] !== false };
        } catch (raw) {
          throw transport.translate(raw, 'PUT', RENEW_PATH);
        }
      },
      expiresAt: () => lease.expiresAt,
      current: () => this.#tracked.get(leaseId)?.lease === lease,
      closed: this.#context.closed,
      renewed: (grant, automatic) => {
        update(grant.durationSeconds, grant.renewable, grant.at);
        emit({ kind: 'lease-renewed', leaseId, leaseDurationSeconds: grant.durationSeconds, expiresAt: lease.expiresAt, automatic });
      },
      failed: (error, retryAt) => emit({ kind: 'lease-renewal-failed', leaseId, error, ...(retryAt === undefined ? {} : { retryAt }) }),
      stopped: (_expiresAt, reason) => emit({ kind: 'lease-expiring', leaseId, expiresAt: lease.expiresAt, reason }),
    });
  }

  #find(lease: DatabaseLease | string, method: string, path: string): Tracked {
    const leaseId = typeof lease === 'string' ? lease : lease?.leaseId;
    const tracked = typeof leaseId === 'string' ? this.#tracked.get(leaseId) : undefined;
    if (tracked === undefined) throw new VaultError(0, [`lease ${String(leaseId)} is not outstanding in this session`], method, path);
    return tracked;
  }
}
