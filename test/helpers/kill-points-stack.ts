import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'pg';
import { loadConfig } from '../../support/config';
import { connect, ident } from '../../support/postgres/connect';
import { buildHermeticTarget } from '../../support/targets/hermetic';
import { liveEnvironmentOf } from '../../support/targets/live-environment';
import type { Target } from '../../support/targets/target';

/**
 * Test only: the hermetic stack dressed as a live one (as test/helpers/live-emulation.ts makes it) for the kill points:
 * the live commands a test SIGKILLs reach it through the environment a live run needs, and the test holds locks on its
 * objects to stop a command at a chosen statement — through a prepared transaction where the command would refuse
 * another session (a reset counts the sandbox's sessions; a prepared transaction has none). The secrets a live run is
 * given are planted where it reads them: the CI's JWT (its Vault login), a database password in the sandbox's Vault
 * KV (registered when read, like every KV value that names a secret), and the sandbox's Dolibarr API key.
 */
export interface KillPointStack {
  readonly target: Target;
  /** The live environment, with the run's private temporary directory and the test's marker. */
  readonly env: Record<string, string>;
  readonly dir: string;
  /** TMPDIR of every command the test runs: whatever they leave in it is theirs. */
  readonly tmp: string;
  readonly stateDir: string;
  readonly reportDir: string;
  /** A value only the commands' environment holds (and their children that inherit it). */
  readonly marker: string;
  readonly planted: Readonly<Record<string, string>>;
  /** A session as the cluster's superuser on `database`; the caller ends it. */
  superuser(database: string): Promise<Client>;
  /** Holds `mode` on `table` of `database` in a prepared transaction (no session); returns what releases it. */
  holdPrepared(database: string, table: string, mode: string): Promise<() => Promise<void>>;
  /** Holds `mode` on `table` of `database` in an open transaction of a session; returns what releases it. */
  holdInSession(database: string, table: string, mode: string): Promise<() => Promise<void>>;
  /** Waits until `condition` holds, asking every 50 ms, for at most `boundMs`; throws naming `what` otherwise. */
  waitFor(what: string, condition: () => Promise<boolean>, boundMs?: number): Promise<void>;
  close(): Promise<void>;
}

export const PLANTED_PASSWORD_KEY = 'DB_PASSWORD';

export async function killPointStack(): Promise<KillPointStack> {
  const dir = mkdtempSync(join(tmpdir(), 'erp-rehearsal-kill-points-'));
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp);
  // Like /tmp: a local cluster's server runs as another OS user when the harness is root, and keeps its files there.
  chmodSync(dir, 0o711);
  chmodSync(tmp, 0o1777);
  const config = loadConfig({ ...process.env, ERP_REHEARSAL_PG_PROVIDER: 'local', ERP_REHEARSAL_TARGET: 'hermetic', ERP_REHEARSAL_LAYOUT: 'as-provisioned' });
  const target = await buildHermeticTarget(config, () => undefined, { serverSettings: { max_prepared_transactions: '4' } });
  let prepared = 0;
  try {
    const { cluster, sandbox, dolibarr, vault } = target;
    const planted = {
      'Vault login token (the CI JWT)': '',
      'database password (Vault KV)': `pl4nted"db<pass&${randomBytes(9).toString('base64url')}`,
      'Dolibarr API key (Vault KV)': dolibarr.keys.sandboxAgent.reveal(),
    };
    vault.hermetic!.replaceKv(`${sandbox.instance}/config`, {
      DOLIBARR_URL: dolibarr.sandbox.url, DOLIBARR_API_KEY: planted['Dolibarr API key (Vault KV)'], [PLANTED_PASSWORD_KEY]: planted['database password (Vault KV)'],
    });
    const live = await liveEnvironmentOf(target, dir);
    planted['Vault login token (the CI JWT)'] = live['ERP_REHEARSAL_VAULT_JWT']!;
    const marker = `kill-point-marker-${process.pid}-${Date.now()}`;
    const env = { ...live, TMPDIR: tmp, ERP_REHEARSAL_KILL_POINT_MARKER: marker };
    const superuser = (database: string) => connect(cluster!.endpoint, cluster!.superuser, database);
    return {
      target, env, dir, tmp, marker, planted,
      stateDir: live['ERP_REHEARSAL_STATE_DIR']!,
      reportDir: live['ERP_REHEARSAL_REPORT_DIR']!,
      superuser,
      async holdPrepared(database, table, mode) {
        const gid = `kill-points-${++prepared}`;
        const client = await superuser(database);
        try {
          await client.query(`BEGIN; LOCK TABLE ${table} IN ${mode} MODE; PREPARE TRANSACTION '${gid}'`);
        } finally {
          await client.end();
        }
        return async () => {
          const again = await superuser(database);
          try {
            await again.query(`ROLLBACK PREPARED '${gid}'`);
          } finally {
            await again.end();
          }
        };
      },
      async holdInSession(database, table, mode) {
        const client = await superuser(database);
        await client.query(`BEGIN; LOCK TABLE ${table} IN ${mode} MODE`);
        return async () => {
          await client.query('ROLLBACK');
          await client.end();
        };
      },
      async waitFor(what, condition, boundMs = 30_000) {
        for (const deadline = Date.now() + boundMs; Date.now() < deadline; ) {
          if (await condition()) return;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        if (!(await condition())) throw new Error(`${what}: not within ${boundMs / 1000} s`);
      },
      async close() {
        try {
          await target.close();
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    await target.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Whether a session on `database` named `application` (or any, when undefined) waits on a lock now, as `client` sees it. */
export async function waitsOnLock(client: Client, database: string, query: RegExp, application?: string): Promise<boolean> {
  const { rows } = await client.query<{ query: string; application: string }>(
    `SELECT query, application_name AS application FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'`,
    [database],
  );
  return rows.some((row) => query.test(row.query) && (application === undefined || row.application === application));
}

/** A table name as SQL writes it. */
export const table = (schema: string, name: string) => `${ident(schema)}.${ident(name)}`;
