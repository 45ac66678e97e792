import type { Client } from 'pg';
import type { Endpoint, Login } from '../cluster';
import { connect } from '../connect';

/**
 * Watching the server's lock queue while the harness works: a session of its own polls pg_locks for every lock a session
 * of the cluster is waiting for (granted = false: what pg_stat_activity shows as wait_event_type 'Lock'), how long it
 * has waited (from pg_locks.waitstart, by the server's clock) and who it waits behind (pg_blocking_pids: the holders of a
 * conflicting lock and the sessions queued ahead for one). pg_locks and pg_blocking_pids are readable by any login,
 * and a session's role name by any login too, so the sandbox's own login can watch a live cluster; the watch itself
 * only reads and never waits on a lock.
 */

/** A session, as the watch saw it. */
export interface WatchedSession {
  readonly pid: number;
  /** Its role (login) name; null when the session was gone by the time it was read. */
  readonly user: string | null;
}

/** One wait for one lock by one session, however many samples saw it. */
export interface LockWait extends WatchedSession {
  readonly application: string | null;
  /** What it waited for: the lock's type and mode, and its object (relation, database, transaction…) by id. */
  readonly lock: string;
  /** The longest the samples saw it waiting, in milliseconds: a lower bound of the whole wait. */
  readonly waitedMs: number;
  /** Every session a sample named as blocking it. */
  readonly blockers: readonly WatchedSession[];
  /** How many samples saw it. */
  readonly seen: number;
}

export interface LockWaitRecord {
  /** How many times the lock queue was read. */
  readonly samples: number;
  readonly waits: readonly LockWait[];
}

export interface LockWatch {
  /** Stops the watch (after the sample in flight) and gives what it saw; throws if a sample failed. */
  stop(): Promise<LockWaitRecord>;
}

/** Every lock waited for, but the watch's own: the waiter, the lock, how long, and who it waits behind. */
const SAMPLE = `
SELECT l.pid, a.usename AS "user", a.application_name AS application,
       concat_ws(' ', l.locktype, l.mode, 'database ' || l.database, 'relation ' || l.relation, 'transaction ' || l.transactionid,
                 'virtual transaction ' || l.virtualxid, 'object ' || l.classid || '/' || l.objid || '/' || l.objsubid,
                 'page ' || l.page, 'tuple ' || l.tuple) AS lock,
       COALESCE(l.waitstart, clock_timestamp())::text AS since,
       (extract(epoch FROM clock_timestamp() - COALESCE(l.waitstart, clock_timestamp())) * 1000)::float8 AS waited_ms,
       ARRAY(SELECT b.pid || ':' || COALESCE(s.usename, '')
             FROM unnest(pg_catalog.pg_blocking_pids(l.pid)) AS b(pid) LEFT JOIN pg_catalog.pg_stat_activity s ON s.pid = b.pid) AS blockers
FROM pg_catalog.pg_locks l LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
WHERE NOT l.granted AND l.pid <> pg_catalog.pg_backend_pid()`;

interface SampleRow {
  pid: number;
  user: string | null;
  application: string | null;
  lock: string;
  since: string;
  waited_ms: number;
  blockers: string[];
}

/** A pid:user pair as the sample writes it. */
function sessionOf(text: string): WatchedSession {
  const colon = text.indexOf(':');
  const user = text.slice(colon + 1);
  return { pid: Number(text.slice(0, colon)), user: user === '' ? null : user };
}

/**
 * Starts watching the lock queue of the cluster `endpoint` reaches, as `login` connected to `database`, every
 * `intervalMs` (a sample is a few catalogue reads of the lock manager's state, taken under its shared locks). Resolves
 * once the first sample was read, so whatever runs next is watched.
 */
export async function watchLockWaits(endpoint: Endpoint, login: Login, database: string, intervalMs = 10): Promise<LockWatch> {
  const client = await connect(endpoint, login, database, { applicationName: 'erp-rehearsal lock watch' });
  const waits = new Map<string, { wait: LockWait; blockers: Map<number, WatchedSession> }>();
  let samples = 0;
  let stopped = false;
  const sample = async (watcher: Client) => {
    const { rows } = await watcher.query<SampleRow>(SAMPLE);
    samples += 1;
    for (const row of rows) {
      const key = `${row.pid} ${row.lock} ${row.since}`;
      const known = waits.get(key) ?? { wait: { pid: row.pid, user: row.user, application: row.application, lock: row.lock, waitedMs: 0, blockers: [], seen: 0 }, blockers: new Map() };
      for (const blocker of row.blockers.map(sessionOf)) known.blockers.set(blocker.pid, blocker);
      known.wait = { ...known.wait, waitedMs: Math.max(known.wait.waitedMs, row.waited_ms), seen: known.wait.seen + 1, blockers: [...known.blockers.values()] };
      waits.set(key, known);
    }
  };
  try {
    await sample(client);
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  const loop = (async () => {
    while (!stopped) {
      // Polling at an interval: the samples watch the queue, nothing waits on them.
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
      if (!stopped) await sample(client);
    }
  })();
  loop.catch(() => undefined);
  return {
    async stop() {
      stopped = true;
      try {
        await loop;
      } finally {
        await client.end().catch(() => undefined);
      }
      return { samples, waits: [...waits.values()].map(({ wait }) => wait) };
    },
  };
}

/** Runs `work` while the lock queue is watched (watchLockWaits): what it gave, and what the watch saw meanwhile. */
export async function whileWatched<T>(endpoint: Endpoint, login: Login, database: string, work: () => Promise<T>): Promise<{ readonly result: T; readonly record: LockWaitRecord }> {
  const watch = await watchLockWaits(endpoint, login, database);
  let result: T;
  try {
    result = await work();
  } catch (error) {
    await watch.stop().catch(() => undefined);
    throw error;
  }
  return { result, record: await watch.stop() };
}

/** The waits of sessions `waiter` picks, behind a session `blocker` picks. */
export function waitsBehind(record: LockWaitRecord, waiter: (session: WatchedSession) => boolean, blocker: (session: WatchedSession) => boolean): LockWait[] {
  return record.waits.filter((wait) => waiter(wait) && wait.blockers.some(blocker));
}

/** What the lock queue showed of the harness's sessions. */
export interface LockJudgement {
  /** The harness's waits on a lock a session outside it held or queued for first. */
  readonly waitedOnOthers: readonly LockWait[];
  /** The waits of sessions outside the harness behind one of its own. */
  readonly heldOthersBack: readonly LockWait[];
  /** The longest wait of a harness session for any lock, in milliseconds (0: none seen). */
  readonly longestHarnessWaitMs: number;
}

/** Judges `record` for the harness, whose sessions are those of the role names in `harness` (its logins'). */
export function judgeLockWaits(record: LockWaitRecord, harness: ReadonlySet<string>): LockJudgement {
  const ours = (session: WatchedSession) => session.user !== null && harness.has(session.user);
  const theirs = (session: WatchedSession) => !ours(session);
  return {
    waitedOnOthers: waitsBehind(record, ours, theirs),
    heldOthersBack: waitsBehind(record, theirs, ours),
    longestHarnessWaitMs: Math.max(0, ...record.waits.filter(ours).map((wait) => wait.waitedMs)),
  };
}

/** One line for a report or an assertion. */
export function describeWait(wait: LockWait): string {
  const blockers = wait.blockers.map((session) => `${session.pid} (${session.user ?? 'gone'})`).join(', ') || 'nobody named';
  return `pid ${wait.pid} (${wait.user ?? 'gone'}${wait.application ? `, ${wait.application}` : ''}) waited at least ${Math.round(wait.waitedMs)} ms for ${wait.lock}, behind ${blockers}`;
}
