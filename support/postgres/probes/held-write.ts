import type { Client } from 'pg';
import type { Endpoint, Login } from '../cluster';
import { connect } from '../connect';

/**
 * A write of prod's own held open, as prod's Dolibarr holds one in the middle of a request: one row of llx_societe
 * updated (ROW EXCLUSIVE on the table, the row locked) and the transaction left open, so the live forms can be shown
 * never to queue behind it. Only a credential entitled to write prod can hold one (a hermetic target's, a test's).
 */
export interface HeldWrite {
  readonly session: Client;
  readonly pid: number;
  readonly user: string;
  readonly sql: string;
  /** Whether it is still held: its session alive, in the transaction that wrote. */
  held(): Promise<boolean>;
  /** Rolls it back and ends its session. */
  release(): Promise<void>;
}

/** The row write prod's Dolibarr makes mid-request, on the table's first row. */
export const PROD_WRITE = 'UPDATE public.llx_societe SET nom = nom WHERE rowid = (SELECT min(rowid) FROM public.llx_societe)';

/** Opens a session as `login` in `database` and leaves PROD_WRITE open in it; the caller releases it. */
export async function holdWrite(endpoint: Endpoint, login: Login, database: string): Promise<HeldWrite> {
  const session = await connect(endpoint, login, database, { applicationName: "prod's own write" });
  try {
    await session.query('BEGIN');
    const pid = (await session.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const { rowCount } = await session.query(PROD_WRITE);
    if (rowCount !== 1) throw new Error(`llx_societe of ${database} has no row to hold a write on (${PROD_WRITE} updated ${rowCount})`);
    return {
      session,
      pid,
      user: login.user,
      sql: PROD_WRITE,
      async held() {
        try {
          return (await session.query<{ open: boolean }>('SELECT txid_current_if_assigned() IS NOT NULL AS open')).rows[0]?.open === true;
        } catch {
          return false;
        }
      },
      async release() {
        await session.end().catch(() => undefined);
      },
    };
  } catch (error) {
    await session.end().catch(() => undefined);
    throw error;
  }
}
