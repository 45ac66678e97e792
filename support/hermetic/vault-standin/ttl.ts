/**
 * Lease and token durations as Vault computes them (sdk/framework `CalculateTTL`): whole seconds, the requested
 * increment or the backend's default, capped so the lease never outlives `issue time + max TTL`, with Vault's warning
 * when it caps. Also Go's `time.Duration` text, which that warning quotes.
 */
import { badRequest } from './errors';

/** Vault's default mount lease TTLs (32 days), used when a role gives none. */
export const SYSTEM_DEFAULT_TTL_SECONDS = 32 * 24 * 3600;
export const SYSTEM_MAX_TTL_SECONDS = 32 * 24 * 3600;

export interface TtlRequest {
  /** Requested seconds (0: none). */
  readonly increment: number;
  /** The backend's (role's) default seconds (0: the system default). */
  readonly backendTtl: number;
  /** The backend's (role's) max seconds (0: the system max). */
  readonly backendMaxTtl: number;
  /** When the lease or token was issued; absent for a new one. */
  readonly startTime?: Date;
  readonly now: Date;
}

export interface TtlResult {
  readonly ttlSeconds: number;
  readonly warnings: readonly string[];
}

/** Go's `time.Duration.String()` for whole seconds: `0s`, `59s`, `1m30s`, `2h0m0s`. */
export function goDuration(seconds: number): string {
  const s = Math.trunc(seconds);
  if (s === 0) return '0s';
  const sign = s < 0 ? '-' : '';
  const abs = Math.abs(s);
  const h = Math.floor(abs / 3600);
  const m = Math.floor((abs % 3600) / 60);
  const r = abs % 60;
  if (h > 0) return `${sign}${h}h${m}m${r}s`;
  if (m > 0) return `${sign}${m}m${r}s`;
  return `${sign}${r}s`;
}

const seconds = (at: Date): number => Math.floor(at.getTime() / 1000);

export function calculateTtl(request: TtlRequest): TtlResult {
  const now = seconds(request.now);
  const start = request.startTime === undefined ? now : seconds(request.startTime);
  let maxTtl = SYSTEM_MAX_TTL_SECONDS;
  if (request.backendMaxTtl > 0 && request.backendMaxTtl < maxTtl) maxTtl = request.backendMaxTtl;
  const ttl = request.increment > 0 ? request.increment : request.backendTtl > 0 ? request.backendTtl : SYSTEM_DEFAULT_TTL_SECONDS;
  const maxValidTtl = start + maxTtl - now;
  if (maxValidTtl < 0) throw badRequest('past the max TTL, cannot renew');
  if (maxValidTtl - ttl < 0) {
    return {
      ttlSeconds: maxValidTtl,
      warnings: [`TTL of ${JSON.stringify(goDuration(ttl))} exceeded the effective max_ttl of ${JSON.stringify(goDuration(maxValidTtl))}; TTL value is capped accordingly`],
    };
  }
  return { ttlSeconds: ttl, warnings: [] };
}

/**
 * Runs `work` at `at`, even when that is further away than setTimeout's limit (~24.8 days); unref'd, so a pending
 * expiry never keeps the process alive. Returns a cancel function.
 */
export function scheduleAt(at: Date, work: () => void): () => void {
  const LIMIT = 2 ** 31 - 1;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    const delay = at.getTime() - Date.now();
    if (delay <= 0) {
      timer = setTimeout(work, 0);
    } else if (delay > LIMIT) {
      timer = setTimeout(arm, LIMIT);
    } else {
      timer = setTimeout(work, delay);
    }
    timer.unref();
  };
  arm();
  return () => {
    if (timer !== undefined) clearTimeout(timer);
  };
}

/**
 * A `TypeDurationSecond` field as Vault parses it: a number of seconds, a numeric string, or a Go duration such as
 * `1h30m`, `90s`. Undefined when absent; throws VaultApiError 400 when unreadable.
 */
export function parseDurationSeconds(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return Math.trunc(value);
  if (typeof value === 'string') {
    if (/^-?\d+$/.test(value)) return Number(value);
    const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(value);
    if (match !== null && value !== '') return Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0);
  }
  throw badRequest(`error converting input for field ${JSON.stringify(field)}: invalid duration`);
}
