/**
 * The one renewal mechanism of a Vault session, for its token and for each lease alike: renew at a fraction of the
 * granted duration on an `unref()`'d timer, retry transient failures while time is left, stop when Vault stops
 * extending. Failures are reported to the owner, never thrown into nowhere.
 */
import { VaultError, VaultUnreachable } from './errors';

/** Never renew sooner than this after a grant (a 0-second delay would spin). */
const MIN_RENEW_DELAY_MS = 200;

/** What Vault granted at a renewal. */
export interface Grant {
  readonly durationSeconds: number;
  readonly renewable: boolean;
  /** When the grant was received: the new expiry is this plus the duration. */
  readonly at: Date;
  readonly expiresAt: Date;
}

/** What is renewed, and whom to tell. */
export interface RenewalSpec {
  /** When to renew, as a fraction of the granted duration. */
  readonly renewAt: number;
  /** Renew again after each grant (false: only when asked, with `now`). */
  readonly automatic: boolean;
  /** The duration Vault granted last (at issue or login). */
  readonly grantedSeconds: number;
  /** Sends one renewal; Vault's grant, or a VaultError. */
  readonly send: (incrementSeconds: number | undefined) => Promise<{ readonly durationSeconds: number; readonly renewable: boolean }>;
  /** The current expiry; undefined for one that is not known (then a failure is not retried). */
  readonly expiresAt: () => Date | undefined;
  /** False once what is renewed is gone (a lease revoked, a token replaced): a late answer then changes nothing. */
  readonly current: () => boolean;
  readonly closed: () => boolean;
  readonly renewed: (grant: Grant, automatic: boolean) => void;
  /** An automatic renewal failed; `retryAt` when it is tried again. */
  readonly failed: (error: VaultError, retryAt: Date | undefined) => void;
  /** Automatic renewal stopped for `reason`. */
  readonly stopped: (expiresAt: Date, reason: string) => void;
}

export class Renewal {
  readonly #spec: RenewalSpec;
  #grantedSeconds: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(spec: RenewalSpec) {
    this.#spec = spec;
    this.#grantedSeconds = spec.grantedSeconds;
  }

  /** Arms the first automatic renewal, at the fraction of the duration granted last. */
  start(): void {
    this.#arm(this.#grantedSeconds * 1000 * this.#spec.renewAt);
  }

  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Renews now; Vault's refusal is thrown (and reported only when automatic). */
  now(incrementSeconds?: number): Promise<void> {
    return this.#renew(incrementSeconds, false);
  }

  #arm(delayMs: number): void {
    this.stop();
    if (this.#spec.closed()) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#renew(undefined, true).catch(() => undefined); // reported through `failed`
    }, Math.max(MIN_RENEW_DELAY_MS, delayMs));
    this.#timer.unref();
  }

  async #renew(incrementSeconds: number | undefined, automatic: boolean): Promise<void> {
    const spec = this.#spec;
    const before = spec.expiresAt()?.getTime() ?? Date.now();
    const previousSeconds = this.#grantedSeconds;
    let answer: { readonly durationSeconds: number; readonly renewable: boolean };
    try {
      answer = await spec.send(incrementSeconds);
    } catch (error) {
      if (automatic && spec.current() && error instanceof VaultError) {
        const retryAt = this.#retryAt(error);
        spec.failed(error, retryAt);
        if (retryAt !== undefined) this.#arm(retryAt.getTime() - Date.now());
      }
      throw error;
    }
    if (!spec.current()) return;
    const at = new Date();
    const grant: Grant = { ...answer, at, expiresAt: new Date(at.getTime() + answer.durationSeconds * 1000) };
    this.#grantedSeconds = grant.durationSeconds;
    spec.renewed(grant, automatic);
    if (!spec.automatic || spec.closed()) return;
    // A renewal asked for may come any time: only an automatic one judges whether Vault still extends the expiry.
    const stop = stopReason(grant, automatic ? grant.expiresAt.getTime() - before : Infinity, previousSeconds);
    if (stop === undefined) {
      this.#arm(grant.durationSeconds * 1000 * spec.renewAt);
    } else {
      this.stop();
      spec.stopped(grant.expiresAt, stop);
    }
  }

  /** A transient failure is retried halfway to the expiry, if at least half a second is left. */
  #retryAt(error: VaultError): Date | undefined {
    const expiresAt = this.#spec.expiresAt();
    if (expiresAt === undefined) return undefined;
    const transient = error instanceof VaultUnreachable || error.status >= 500;
    const left = expiresAt.getTime() - Date.now();
    if (!transient || this.#spec.closed() || left < 500) return undefined;
    return new Date(Date.now() + Math.max(MIN_RENEW_DELAY_MS, left / 2));
  }
}

/** Why automatic renewal stops after a grant, or undefined to go on. */
function stopReason(grant: Grant, extendedByMs: number, previousSeconds: number): string | undefined {
  if (!grant.renewable || grant.durationSeconds <= 0) return 'Vault says it is not renewable any more';
  // At max TTL Vault grants only what is left: the expiry no longer moves.
  if (extendedByMs < Math.min(1000, (previousSeconds * 1000) / 6)) return 'Vault no longer extends it (max TTL reached)';
  return undefined;
}
