import type { Client } from 'pg';
import { advisoryLockSessions, LOCKS, takeAdvisoryLock } from '../postgres/advisory-lock';

/**
 * The sandbox's sessions as every reset mode meets them (the atomic and parallel resets of reset.ts, the template-clone
 * reset): the advisory lock that serializes a mode's resets, the client sessions a reset refuses to run beside, and the
 * refusal that names them. The modes differ only in what their guard says (ResetGuard).
 */

/** Resets name their sessions so they recognise each other; see `resetSessionsWithoutLock`. */
export const RESET_APPLICATION = 'erp-rehearsal reset';
/** How long a reset waits for another of its mode, and for each lock its statements take, unless configured. */
export const DEFAULT_LOCK_TIMEOUT_MS = 60_000;
/** How long other sessions get to go away before a reset refuses, unless configured. */
export const DEFAULT_SESSION_GRACE_MS = 2_000;
const SESSION_POLL_MS = 100;

/** A refusal's message, then one line per detail (a session, an object) it names. */
export function withDetails(message: string, details: readonly string[]): string {
  return details.length > 0 ? `${message}:\n${details.map((line) => `  - ${line}`).join('\n')}` : message;
}

/** A reset that did not start (or stopped before it changed anything), with why and what it names. */
export class RefusedError<Reason extends string> extends Error {
  constructor(
    readonly reason: Reason,
    message: string,
    readonly details: readonly string[] = [],
  ) {
    super(withDetails(message, details));
  }
}

/** What one reset mode's lock and refusals say; the rest is the same for every mode. */
export interface ResetGuard {
  /** The advisory lock the mode's resets serialize on (LOCKS), in the database its session connects to. */
  readonly lock: number;
  /** How the messages name one of its resets and its lock, e.g. 'reset' and "the sandbox's reset lock". */
  readonly named: { readonly reset: string; readonly lock: string };
  /** How to make the other sessions go away, in the refusal's advice. */
  readonly stopThem: string;
  /** How a refused session is named: where from and since when (the mode watches one database), or on which one. */
  readonly sessionLines: 'where from' | 'which database';
  /** The mode's refusal: nothing was changed. */
  readonly refusal: new (reason: 'lock timeout' | 'sessions', message: string, details?: readonly string[]) => Error;
}

/** A client session on a database a reset watches. */
export interface SandboxSession {
  readonly pid: number;
  readonly user: string;
  readonly application: string;
  readonly database: string;
  readonly client: string;
  readonly since: string;
  /** Named like an atomic or parallel reset's session (only where those are told apart, see sessionsOn). */
  readonly reset: boolean;
}

/**
 * Takes the guard's lock on `client`'s session (released when it ends), waiting up to `timeoutMs` for another reset of
 * the mode; refuses when it is still held then. Returns the milliseconds waited.
 */
export async function lockForReset(client: Client, guard: ResetGuard, timeoutMs: number, progress: (line: string) => void): Promise<number> {
  const { reset, lock } = guard.named;
  const waited = await takeAdvisoryLock(client, guard.lock, timeoutMs, () =>
    progress(`another ${reset} of this sandbox is running; waiting up to ${timeoutMs / 1000} s for it`),
  );
  if (waited === undefined) {
    throw new guard.refusal('lock timeout', `another ${reset} held ${lock} for more than ${timeoutMs / 1000} s; nothing was changed — retry when it has finished`);
  }
  return waited;
}

/**
 * Client sessions on `databases` (null: the session's own database) other than this one. The atomic and parallel
 * resets' own sessions are `flagged` (counted, marked `reset`), `left out` (they wait for the lock, or are the backend
 * of a reset that has just finished and is still exiting), or counted `as any session`. Not the server's own workers,
 * which run as no role: autovacuum analyses the tables a restore has just filled, and yields to the reset's locks (and
 * DROP DATABASE ends it). (backend_type would say so too, but PostgreSQL hides it from a login that does not own the
 * session.)
 */
export async function sessionsOn(
  client: Client,
  databases: readonly string[] | null,
  resets: 'flagged' | 'left out' | 'as any session',
): Promise<SandboxSession[]> {
  const { rows } = await client.query<SandboxSession>(
    `SELECT pid, coalesce(usename, '?') AS user, coalesce(application_name, '') AS application, datname AS database,
            coalesce(host(client_addr), 'local socket') AS client, to_char(backend_start, 'YYYY-MM-DD HH24:MI:SS') AS since,
            ($3 = 'flagged' AND application_name = $2) AS reset
       FROM pg_stat_activity
      WHERE datname = ANY(coalesce($1::text[], ARRAY[current_database()::text])) AND pid <> pg_backend_pid()
        AND ($3 <> 'left out' OR application_name <> $2) AND usesysid IS NOT NULL
      ORDER BY pid`,
    [databases, RESET_APPLICATION, resets],
  );
  return rows;
}

/** One line per session, as refusals and status name them; a reset's session no running reset owns says what it is. */
export function describeSessions(sessions: readonly SandboxSession[], lines: ResetGuard['sessionLines'] = 'where from'): string[] {
  return sessions.map((session) => {
    const who = `pid ${session.pid} ${session.user} (${session.application || 'no application name'})`;
    if (lines === 'which database') return `${who} on ${session.database}`;
    const line = `${who} from ${session.client} since ${session.since}`;
    return session.reset
      ? `${line}: a reset's session that no running reset owns — its harness was killed and its last statement has not ended ` +
          `(a wait for a lock ends at its lock_timeout); it ends by itself, or the server's administrator ends it now: SELECT pg_terminate_backend(${session.pid})`
      : line;
  });
}

/** The client sessions an atomic or parallel reset would refuse for, now, described one per line (for `rehearse status`). */
export async function sessionsBlockingReset(client: Client): Promise<string[]> {
  return describeSessions(await sessionsOn(client, null, 'left out'));
}

/**
 * The sessions on the session's database, the atomic and parallel resets' included but for those waiting for the reset
 * lock: while this session holds it, another reset's session that is not waiting for it is one whose harness is gone.
 */
export async function resetSessionsWithoutLock(client: Client): Promise<SandboxSession[]> {
  const sessions = await sessionsOn(client, null, 'flagged');
  if (!sessions.some((session) => session.reset)) return sessions;
  const { waiting } = await advisoryLockSessions(client, LOCKS.reset);
  return sessions.filter((session) => !session.reset || !waiting.includes(session.pid));
}

/**
 * Reset sessions whose harness is gone, described one per line (for `rehearse status`): sessions named like a reset's,
 * not waiting for the reset lock, while no session holds it (a running reset holds it until it ends). Those of a reset
 * that has just ended may show for a moment.
 */
export async function orphanedResetSessions(client: Client): Promise<string[]> {
  const resets = (await resetSessionsWithoutLock(client)).filter((session) => session.reset);
  if (resets.length === 0 || (await advisoryLockSessions(client, LOCKS.reset)).holders.length > 0) return [];
  return describeSessions(resets);
}

/**
 * What `read` lists once it is empty, or when `graceMs` has passed: a client that has just disconnected (the step before
 * the reset, or Dolibarr scaled to 0 by the pre-reset command) leaves pg_stat_activity only once its backend has exited,
 * a moment later. What is still listed when the grace period ends is real.
 */
export async function afterGrace<T>(read: () => Promise<T[]>, graceMs: number): Promise<T[]> {
  const deadline = Date.now() + graceMs;
  for (;;) {
    const found = await read();
    if (found.length === 0 || Date.now() >= deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, SESSION_POLL_MS));
  }
}

/** The guard's refusal for `sessions` on `database`: how many, how many a killed reset left, and each named. */
export function refusedForSessions(guard: ResetGuard, sessions: readonly SandboxSession[], database: string): Error {
  const orphans = sessions.filter((session) => session.reset).length;
  return new guard.refusal(
    'sessions',
    `${sessions.length} other session(s) use ${database}${orphans > 0 ? ` (${orphans} of them left by a reset whose harness was killed)` : ''}; ` +
      `nothing was changed — stop them (${guard.stopThem}) and retry`,
    describeSessions(sessions, guard.sessionLines),
  );
}

/** Refuses, naming them, when `read` still lists sessions once the grace period for those just leaving has passed. */
export async function refuseWhileInUse(guard: ResetGuard, database: string, read: () => Promise<SandboxSession[]>, graceMs: number): Promise<void> {
  const sessions = await afterGrace(read, graceMs);
  if (sessions.length > 0) throw refusedForSessions(guard, sessions, database);
}
