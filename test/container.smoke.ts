/**
 * Smoke check of the container provider against a real Docker engine (not a unit test):
 *
 *   node --require ts-node/register/transpile-only test/container.smoke.ts
 *
 * Uses ERP_REHEARSAL_PG_IMAGE, else erp-rehearsal/postgres:15 (bash .ci/build-postgres-image.sh).
 * Proves the endpoint works, the tools run in the container, binary stdout survives (pg_dump -Fc)
 * and stdin reaches the tool (the dump piped into pg_restore -l).
 */
import assert from 'node:assert/strict';
import { Client } from 'pg';
import type { PostgresCluster, ToolRun } from '../support/postgres/cluster';
import { dockerAvailable, startContainerCluster } from '../support/postgres/container';

const image = process.env.ERP_REHEARSAL_PG_IMAGE ?? 'erp-rehearsal/postgres:15';

async function timed<T>(label: string, step: () => Promise<T>): Promise<T> {
  const started = process.hrtime.bigint();
  const result = await step();
  console.log(`${label}: ${Number((process.hrtime.bigint() - started) / 1_000_000n)} ms`);
  return result;
}

async function exercise(cluster: PostgresCluster): Promise<void> {
  console.log(`${cluster.serverVersion} at ${cluster.endpoint.host}:${cluster.endpoint.port}, tools in ${cluster.tools.location}`);

  const client = new Client({ ...cluster.endpoint, ...cluster.superuser, database: 'postgres' });
  await client.connect();
  try {
    await timed('create table over pg', () =>
      client.query(`CREATE TABLE smoke (id int PRIMARY KEY, payload bytea);
                    INSERT INTO smoke SELECT i, decode(md5(i::text), 'hex') FROM generate_series(1, 1000) i`),
    );
  } finally {
    await client.end();
  }

  const asSuperuser: ToolRun = { login: cluster.superuser, database: 'postgres' };
  const select = await timed('psql -c "select 1"', () => cluster.tools.run('psql', ['-At', '-c', 'select 1'], asSuperuser));
  assert.equal(select.exitCode, 0, select.stderr);
  assert.equal(select.stdout.toString(), '1\n');

  const failing = await cluster.tools.run('psql', ['-v', 'ON_ERROR_STOP=1', '-c', 'select nope'], asSuperuser);
  assert.notEqual(failing.exitCode, 0, 'a failing tool must report a non-zero exit code');
  assert.match(failing.stderr, /column "nope" does not exist/);

  const dump = await timed('pg_dump -Fc', () => cluster.tools.run('pg_dump', ['-Fc', '--table=smoke'], asSuperuser));
  assert.equal(dump.exitCode, 0, dump.stderr);
  assert.equal(dump.stdout.subarray(0, 5).toString('latin1'), 'PGDMP', 'custom-format dump magic');
  console.log(`dump: ${dump.stdout.length} bytes`);

  const listing = await timed('pg_restore -l (dump on stdin)', () =>
    cluster.tools.run('pg_restore', ['-l'], { ...asSuperuser, stdin: dump.stdout }),
  );
  assert.equal(listing.exitCode, 0, listing.stderr);
  assert.match(listing.stdout.toString(), /TABLE DATA public smoke/);

  // The listing only reads the dump's table of contents; restoring it proves every byte survived.
  const created = await cluster.tools.run('psql', ['-c', 'CREATE DATABASE smoke_copy'], asSuperuser);
  assert.equal(created.exitCode, 0, created.stderr);
  const restore = await timed('pg_restore -d smoke_copy (dump on stdin)', () =>
    cluster.tools.run('pg_restore', ['--exit-on-error', '-d', 'smoke_copy'], { ...asSuperuser, stdin: dump.stdout }),
  );
  assert.equal(restore.exitCode, 0, restore.stderr);
  const checksum = ['-At', '-c', "SELECT md5(string_agg(payload::text, ',' ORDER BY id)) FROM smoke"];
  const original = await cluster.tools.run('psql', checksum, asSuperuser);
  const copy = await cluster.tools.run('psql', checksum, { ...asSuperuser, database: 'smoke_copy' });
  assert.match(original.stdout.toString(), /^[0-9a-f]{32}\n$/, original.stderr);
  assert.equal(copy.stdout.toString(), original.stdout.toString(), 'restored rows differ from the original');
}

async function main(): Promise<void> {
  assert.ok(await timed('docker available', dockerAvailable), 'no Docker engine answers: bash .ci/install-docker.sh');
  const cluster = await timed(`container start (${image})`, () => startContainerCluster({ image }));
  try {
    await exercise(cluster);
  } finally {
    await timed('stop', () => cluster.stop());
    await cluster.stop();
  }
  console.log('container smoke: OK');
}

main().catch((err: unknown) => {
  console.error('container smoke: FAILED', err);
  process.exitCode = 1;
});
