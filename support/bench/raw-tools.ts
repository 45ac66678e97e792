/**
 * The references a benchmark compares the harness with: PostgreSQL's own tools, run by the cluster's
 * superuser with nothing of the harness around them (no lock, no session check, no drift check).
 */
import type { StagedGolden } from '../lifecycle/reset';
import type { PostgresCluster } from '../postgres/cluster';
import { ident, withClient } from '../postgres/connect';

/** Seconds since `started` (process.hrtime.bigint()). */
export function secondsSince(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}

const SCRATCH_DATABASE = 'bench_raw_restore';

/**
 * `pg_restore` of the golden's entries (the same list the reset restores) into an empty database, by
 * the superuser: `--single-transaction` for the atomic reference, `--jobs N` for the parallel one.
 * Only pg_restore is timed; creating and dropping the scratch database is not.
 */
export async function rawRestore(cluster: PostgresCluster, staged: StagedGolden, how: { readonly jobs?: number }): Promise<number> {
  const admin = (sql: string) => withClient(cluster.endpoint, cluster.superuser, 'postgres', (client) => client.query(sql));
  await admin(`DROP DATABASE IF EXISTS ${ident(SCRATCH_DATABASE)}`);
  await admin(`CREATE DATABASE ${ident(SCRATCH_DATABASE)} TEMPLATE template0 ENCODING 'UTF8'`);
  try {
    const mode = how.jobs === undefined ? ['--single-transaction'] : [`--jobs=${how.jobs}`];
    const started = process.hrtime.bigint();
    const result = await cluster.tools.run(
      'pg_restore',
      ['--no-owner', '--exit-on-error', ...mode, `--use-list=${staged.list}`, `--dbname=${SCRATCH_DATABASE}`, staged.archive],
      { login: cluster.superuser, database: SCRATCH_DATABASE },
    );
    const seconds = secondsSince(started);
    if (result.exitCode !== 0) throw new Error(`raw pg_restore ${mode.join(' ')} failed: ${result.stderr.trim()}`);
    return seconds;
  } finally {
    await admin(`DROP DATABASE IF EXISTS ${ident(SCRATCH_DATABASE)}`);
  }
}

/** `CREATE DATABASE … TEMPLATE` by the superuser, for reference: the cost a template clone cannot go below. */
export async function rawTemplateClone(cluster: PostgresCluster, template: string): Promise<number> {
  return withClient(cluster.endpoint, cluster.superuser, 'postgres', async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${ident(SCRATCH_DATABASE)}`);
    const started = process.hrtime.bigint();
    await client.query(`CREATE DATABASE ${ident(SCRATCH_DATABASE)} TEMPLATE ${ident(template)}`);
    const seconds = secondsSince(started);
    await client.query(`DROP DATABASE ${ident(SCRATCH_DATABASE)}`);
    return seconds;
  });
}

/** Every table `ownerRole` owns in `database` with rows to read, schema-qualified, largest first. */
export function ownedTables(cluster: PostgresCluster, database: string, ownerRole: string): Promise<string[]> {
  return withClient(cluster.endpoint, cluster.superuser, database, async (client) =>
    (
      await client.query<{ name: string }>(
        `SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind = 'r' AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = $1) ORDER BY c.relpages DESC, 1`,
        [ownerRole],
      )
    ).rows.map((row) => row.name),
  );
}

/** `COPY … TO STDOUT` of every table, in one psql session, its output thrown away: the raw cost of reading every row. */
export async function rawCopyRead(cluster: PostgresCluster, database: string, tables: readonly string[]): Promise<number> {
  const script = tables.map((table) => `COPY ${table} TO STDOUT;`).join('\n');
  const started = process.hrtime.bigint();
  const result = await cluster.tools.run('psql', ['--no-psqlrc', '--quiet', '--set=ON_ERROR_STOP=1'], {
    login: cluster.superuser,
    database,
    stdin: script,
    discardStdout: true,
  });
  const seconds = secondsSince(started);
  if (result.exitCode !== 0) throw new Error(`raw COPY read failed: ${result.stderr.trim()}`);
  return seconds;
}

/** Rows in the tables, counted exactly (the snapshot's rows/s divides by this). */
export function rowCount(cluster: PostgresCluster, database: string, tables: readonly string[]): Promise<number> {
  if (tables.length === 0) return Promise.resolve(0);
  return withClient(cluster.endpoint, cluster.superuser, database, async (client) => {
    const { rows } = await client.query<{ total: string }>(`SELECT (${tables.map((table) => `(SELECT count(*) FROM ONLY ${table})`).join(' + ')})::text AS total`);
    return Number(rows[0]!.total);
  });
}

/** Bytes of table data (heap and TOAST, not indexes) of the tables: what "≈ 1 GB" measures. */
export function tableBytes(cluster: PostgresCluster, database: string, tables: readonly string[]): Promise<number> {
  if (tables.length === 0) return Promise.resolve(0);
  return withClient(cluster.endpoint, cluster.superuser, database, async (client) => {
    const { rows } = await client.query<{ bytes: string }>(
      'SELECT coalesce(sum(pg_table_size(t::regclass)), 0)::text AS bytes FROM unnest($1::text[]) AS t',
      [tables],
    );
    return Number(rows[0]!.bytes);
  });
}
