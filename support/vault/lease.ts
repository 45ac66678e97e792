/**
 * A dynamic database credential and its Vault lease. The password is a Secret; the lease's duration and expiry
 * follow its renewals (the session that obtained it updates them), so a holder always reads the current values.
 */
import { inspect } from 'node:util';
import { Secret } from '../secret';

export interface DatabaseLeaseData {
  readonly credsPath: string;
  readonly username: string;
  readonly password: Secret;
  readonly leaseId: string;
  readonly leaseDurationSeconds: number;
  readonly renewable: boolean;
  readonly obtainedAt: Date;
}

/** Updates a lease after a renewal; held by the session only (not exported from the package index). */
export type LeaseUpdater = (leaseDurationSeconds: number, renewable: boolean, at: Date) => void;

export class DatabaseLease {
  /** The creds path it was read from, e.g. `postgres/creds/erp-sandbox`. */
  readonly credsPath: string;
  /** The login role Vault created (`v-kubernet-erp-sand-…`): not a secret. */
  readonly username: string;
  readonly password: Secret;
  readonly leaseId: string;
  #leaseDurationSeconds: number;
  #renewable: boolean;
  #expiresAt: Date;

  private constructor(data: DatabaseLeaseData) {
    this.credsPath = data.credsPath;
    this.username = data.username;
    this.password = data.password;
    this.leaseId = data.leaseId;
    this.#leaseDurationSeconds = data.leaseDurationSeconds;
    this.#renewable = data.renewable;
    this.#expiresAt = new Date(data.obtainedAt.getTime() + data.leaseDurationSeconds * 1000);
  }

  /** A lease and the function that updates it (for the session that tracks it). */
  static create(data: DatabaseLeaseData): { lease: DatabaseLease; update: LeaseUpdater } {
    const lease = new DatabaseLease(data);
    return {
      lease,
      update: (leaseDurationSeconds, renewable, at) => {
        lease.#leaseDurationSeconds = leaseDurationSeconds;
        lease.#renewable = renewable;
        lease.#expiresAt = new Date(at.getTime() + leaseDurationSeconds * 1000);
      },
    };
  }

  /** The duration Vault granted at the last issue or renewal. */
  get leaseDurationSeconds(): number {
    return this.#leaseDurationSeconds;
  }

  get renewable(): boolean {
    return this.#renewable;
  }

  /** When the credential stops working unless renewed (issue or last renewal + duration). */
  get expiresAt(): Date {
    return new Date(this.#expiresAt.getTime());
  }

  toJSON(): Record<string, unknown> {
    return {
      credsPath: this.credsPath,
      username: this.username,
      password: this.password.toJSON(),
      leaseId: this.leaseId,
      leaseDurationSeconds: this.#leaseDurationSeconds,
      renewable: this.#renewable,
      expiresAt: this.#expiresAt.toISOString(),
    };
  }

  toString(): string {
    return `DatabaseLease(${this.leaseId})`;
  }

  [inspect.custom](): string {
    return `DatabaseLease ${inspect(this.toJSON())}`;
  }
}
