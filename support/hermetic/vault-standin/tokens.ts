/**
 * The token store: the options' static tokens and the service tokens that logins issue. A token has policies (plus
 * `default`, unless it is a root token or asked not to), a display name, a TTL and a max TTL; past its expiry it is
 * unknown (Vault's `invalid token`) and it is revoked, which lazily revokes every lease created with it (Vault's
 * `RevokeByToken`). Token values are secrets: nothing here prints them.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { calculateTtl, scheduleAt, SYSTEM_MAX_TTL_SECONDS } from './ttl';

export interface TokenEntry {
  /** The token value: a secret. */
  readonly id: string;
  readonly accessor: string;
  /** Sorted, as Vault returns them. */
  readonly policies: readonly string[];
  readonly displayName: string;
  /** The login path that created it, e.g. `auth/kubernetes/login`, or `auth/token/create`. */
  readonly path: string;
  readonly meta: Readonly<Record<string, string>> | null;
  readonly entityId: string;
  readonly createdAt: Date;
  readonly creationTtlSeconds: number;
  /** Undefined for a non-expiring (static root) token. */
  expiresAt: Date | undefined;
  readonly maxTtlSeconds: number;
  readonly renewable: boolean;
  lastRenewal: Date | undefined;
  /** The mount type for responses (`token`, `kubernetes`, `jwt`). */
  readonly mountType: string;
}

export interface TokenRequest {
  readonly policies: readonly string[];
  readonly noDefaultPolicy?: boolean;
  readonly displayName: string;
  readonly path: string;
  readonly meta: Readonly<Record<string, string>> | null;
  readonly entityId?: string;
  /** 0: no expiry (static tokens only). */
  readonly ttlSeconds: number;
  readonly maxTtlSeconds?: number;
  readonly renewable: boolean;
  readonly mountType: string;
  /** A given value (static tokens); otherwise a new `hvs.` token. */
  readonly id?: string;
}

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Vault's base62 random string (lease ids, accessors). */
export function base62(length: number): string {
  return Array.from({ length }, () => BASE62[randomInt(BASE62.length)]).join('');
}

export function sortedPolicies(policies: readonly string[], noDefault = false): string[] {
  const set = new Set(policies);
  if (set.has('root')) return ['root'];
  if (!noDefault) set.add('default');
  return [...set].sort();
}

export class TokenStore {
  private readonly tokens = new Map<string, TokenEntry>();
  private readonly timers = new Map<string, () => void>();
  private closed = false;

  /** `onRevoke` runs once per revoked token, with its entry, to revoke the leases created with it. */
  constructor(private readonly onRevoke: (entry: TokenEntry) => void) {}

  issue(request: TokenRequest, now = new Date()): TokenEntry {
    const id = request.id ?? `hvs.${base62(24)}`; // chosen: real tokens are longer
    if (this.tokens.has(id)) throw new TypeError('a token with this value already exists');
    const entry: TokenEntry = {
      id,
      accessor: base62(24),
      policies: sortedPolicies(request.policies, request.noDefaultPolicy),
      displayName: request.displayName,
      path: request.path,
      meta: request.meta,
      entityId: request.entityId ?? '',
      createdAt: now,
      creationTtlSeconds: request.ttlSeconds,
      expiresAt: request.ttlSeconds > 0 ? new Date(now.getTime() + request.ttlSeconds * 1000) : undefined,
      maxTtlSeconds: request.maxTtlSeconds ?? (request.ttlSeconds > 0 ? SYSTEM_MAX_TTL_SECONDS : 0),
      renewable: request.renewable && request.ttlSeconds > 0,
      lastRenewal: undefined,
      mountType: request.mountType,
    };
    this.tokens.set(id, entry);
    this.arm(entry);
    return entry;
  }

  /** The live entry of `id`, or undefined (unknown, revoked or expired). */
  lookup(id: string, now = new Date()): TokenEntry | undefined {
    const entry = this.tokens.get(id);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt.getTime() <= now.getTime()) {
      this.revoke(entry);
      return undefined;
    }
    return entry;
  }

  /** Revokes the token now; its leases are handed to `onRevoke`. Idempotent. */
  revoke(entry: TokenEntry): void {
    if (!this.tokens.delete(entry.id)) return;
    this.timers.get(entry.id)?.();
    this.timers.delete(entry.id);
    if (!this.closed) this.onRevoke(entry);
  }

  /** `auth/token/renew-self`: a new TTL from now, capped at creation + max TTL. */
  renew(entry: TokenEntry, incrementSeconds: number, now = new Date()): { ttlSeconds: number; warnings: readonly string[] } {
    const { ttlSeconds, warnings } = calculateTtl({
      increment: incrementSeconds,
      backendTtl: entry.creationTtlSeconds,
      backendMaxTtl: entry.maxTtlSeconds,
      startTime: entry.createdAt,
      now,
    });
    entry.expiresAt = new Date(now.getTime() + ttlSeconds * 1000);
    entry.lastRenewal = now;
    this.arm(entry);
    return { ttlSeconds, warnings };
  }

  ttlSeconds(entry: TokenEntry, now = new Date()): number {
    return entry.expiresAt === undefined ? 0 : Math.max(0, Math.round((entry.expiresAt.getTime() - now.getTime()) / 1000));
  }

  /** Stops the expiry timers; tokens are neither revoked nor their leases touched. */
  close(): void {
    this.closed = true;
    for (const cancel of this.timers.values()) cancel();
    this.timers.clear();
  }

  private arm(entry: TokenEntry): void {
    this.timers.get(entry.id)?.();
    if (entry.expiresAt === undefined || this.closed) return;
    this.timers.set(entry.id, scheduleAt(entry.expiresAt, () => {
      this.timers.delete(entry.id);
      // A timer may fire a millisecond early: re-arm rather than miss the expiry.
      if (this.lookup(entry.id) !== undefined) this.arm(entry);
    }));
  }
}

export const newEntityId = (): string => randomUUID();
