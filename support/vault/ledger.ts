import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The login roles a live run minted and has not yet seen revoked, kept in a file so that a run that died (a SIGKILL,
 * a lost machine) leaves a trace: `rehearse status` names those still in the cluster. One JSON line per event
 * (`minted`, `revoked`); usernames and lease ids only — a lease id lets a holder of the right policy revoke, never log
 * in, and no password is ever written.
 */

export interface LedgerEntry {
  readonly username: string;
  readonly instance: string;
  readonly leaseId: string;
  readonly mintedAt: string;
  /** The cluster it was minted on, `host:port`, so a ledger shared by several targets judges each on its own. */
  readonly cluster: string;
}

type Event = ({ readonly event: 'minted' } & LedgerEntry) | { readonly event: 'revoked'; readonly username: string };

export class MintLedger {
  constructor(readonly path: string) {}

  minted(entry: LedgerEntry): void {
    this.#append({ event: 'minted', ...entry });
  }

  revoked(username: string): void {
    this.#append({ event: 'revoked', username });
  }

  /** Minted and not revoked, oldest first. A line that does not parse (a write cut by a crash) is passed over. */
  outstanding(): LedgerEntry[] {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const open = new Map<string, LedgerEntry>();
    for (const line of text.split('\n')) {
      let event: Event;
      try {
        event = JSON.parse(line) as Event;
      } catch {
        continue;
      }
      if (event.event === 'minted') {
        const { event: _event, ...entry } = event;
        open.set(entry.username, entry);
      } else if (event.event === 'revoked') {
        open.delete(event.username);
      }
    }
    return [...open.values()];
  }

  /** Rewrites the ledger without `usernames` (roles found gone: their leases expired or were revoked elsewhere). */
  forget(usernames: readonly string[]): void {
    if (usernames.length === 0) return;
    const gone = new Set(usernames);
    const kept = this.outstanding().filter((entry) => !gone.has(entry.username));
    const partial = `${this.path}.partial`;
    writeFileSync(partial, kept.map((entry) => `${JSON.stringify({ event: 'minted', ...entry })}\n`).join(''), { mode: 0o600 });
    renameSync(partial, this.path);
  }

  #append(event: Event): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    appendFileSync(this.path, `${JSON.stringify(event)}\n`, { mode: 0o600 });
  }
}
