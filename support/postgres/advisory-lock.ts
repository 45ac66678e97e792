import type { Client } from 'pg';

/** pg_advisory_lock(int, int) keys of the harness: "ERPR", then the lock's own number. Advisory locks are per database. */
const LOCK_CLASS = 0x45525052;

export const LOCKS = { reset: 1, cloneReset: 2 } as const;

/**
 * Takes the session-level advisory lock `key` on `client`'s session (released when the session ends), waiting up to
 * `timeoutMs` for another holder; `onWait` is called once if it has to wait. Returns the milliseconds waited, or
 * undefined when the wait timed out (lock_timeout, SQLSTATE 55P03) and the lock was not taken.
 */
export async function takeAdvisoryLock(client: Client, key: number, timeoutMs: number, onWait: () => void): Promise<number | undefined> {
  const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [LOCK_CLASS, key]);
  if (rows[0]!.locked) return 0;
  onWait();
  const started = Date.now();
  await client.query(`SET lock_timeout = ${Math.max(1, Math.round(timeoutMs))}`);
  try {
    await client.query('SELECT pg_advisory_lock($1, $2)', [LOCK_CLASS, key]);
  } catch (error) {
    if ((error as { code?: string }).code !== '55P03') throw error;
    return undefined;
  } finally {
    await client.query('RESET lock_timeout');
  }
  return Date.now() - started;
}

/**
 * The sessions that hold the advisory lock `key` on `client`'s database, and those waiting for it (pg_locks is readable
 * by any login).
 */
export async function advisoryLockSessions(client: Client, key: number): Promise<{ readonly holders: number[]; readonly waiting: number[] }> {
  const { rows } = await client.query<{ pid: number; granted: boolean }>(
    `SELECT pid, granted FROM pg_locks
      WHERE locktype = 'advisory' AND classid = $1 AND objid = $2 AND objsubid = 2
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    [LOCK_CLASS, key],
  );
  return { holders: rows.filter((row) => row.granted).map((row) => row.pid), waiting: rows.filter((row) => !row.granted).map((row) => row.pid) };
}
