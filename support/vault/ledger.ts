import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { processMarkOf, thisProcess, type ProcessMark } from '../process/liveness';

/**
 * The login roles a live run minted and has not yet seen revoked, kept in a file so that a run that died (a SIGKILL,
 * a lost machine) leaves a trace: the next live run revokes those of runs that are gone, and `rehearse status` names
 * the rest. One JSON line per event (`minted`, `revoked`, `gone`), appended only, so runs writing at the same time do
 * not lose one another's lines; usernames, lease ids and the minting process only — a lease id lets a holder of the
 * right policy revoke, never log in, and no password is ever written.
 */

export interface LedgerEntry {
  readonly username: string;
  readonly instance: string;
  readonly leaseId: string;
  readonly mintedAt: string;
  /** The cluster it was minted on, `host:port`, so a ledger shared by several targets judges each on its own. */
  readonly cluster: string;
  /** The process that minted it (absent in entries written before it was kept): whether that run is gone. */
  readonly by?: ProcessMark;
}

type Event =
  | ({ readonly event: 'minted' } & LedgerEntry)
  | { readonly event: 'revoked'; readonly username: string }
  | { readonly event: 'gone'; readonly username: string };

export class MintLedger {
  constructor(readonly path: string) {}

  /** Notes a login this process minted. */
  minted(entry: Omit<LedgerEntry, 'by'>): void {
    this.#append({ event: 'minted', ...entry, by: thisProcess() });
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
        const { event: _event, by, ...entry } = event;
        const mark = processMarkOf(by);
        open.set(entry.username, { ...entry, ...(mark ? { by: mark } : {}) });
      } else if (event.event === 'revoked' || event.event === 'gone') {
        open.delete(event.username);
      }
    }
    return [...open.values()];
  }

  /** Notes that `usernames` are gone from the cluster (their leases expired or were revoked elsewhere). */
  forget(usernames: readonly string[]): void {
    for (const username of usernames) this.#append({ event: 'gone', username });
  }

  #append(event: Event): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    appendFileSync(this.path, `${JSON.stringify(event)}\n`, { mode: 0o600 });
  }
}
