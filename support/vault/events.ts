/** What a Vault session reports as it goes, and the report a session makes when nobody listens. */
import type { LeaseEvent } from './leases';
import type { TokenEvent } from './login';

export type VaultEvent = TokenEvent | LeaseEvent;

/** Renewal failures and expiries to stderr (never a secret: events carry ids, dates and redacted errors). */
export function reportToStderr(event: VaultEvent): void {
  if (event.kind === 'lease-renewal-failed' || event.kind === 'token-renewal-failed') {
    process.stderr.write(`[vault] ${event.kind === 'token-renewal-failed' ? 'token' : `lease ${event.leaseId}`}: renewal failed: ${event.error.message}\n`);
  } else if (event.kind === 'lease-expiring' || event.kind === 'token-expiring') {
    process.stderr.write(`[vault] ${event.kind === 'token-expiring' ? 'token' : `lease ${event.leaseId}`} expires at ${event.expiresAt.toISOString()}: ${event.reason}\n`);
  }
}
