/**
 * The local provider's cluster keeps what its server leaves behind when it is killed inside its own directory, which
 * the next run removes with the rest of a dead run's work directories (test/kill-points.test.ts): here, its dynamic
 * shared memory, which PostgreSQL puts in the machine's /dev/shm by default and removes only when a new server starts
 * on the same data directory.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../support/config';
import type { PostgresCluster } from '../support/postgres/cluster';
import { withClient } from '../support/postgres/connect';
import { startLocalCluster } from '../support/postgres/local';
import { findLocalBinaries } from '../support/postgres/local-binaries';

let cluster: PostgresCluster | undefined;

before(async () => {
  const { postgres } = loadConfig({ ...process.env, ERP_REHEARSAL_PG_PROVIDER: 'local' });
  const { bindir } = findLocalBinaries(postgres.bindir);
  assert.ok(bindir, 'PostgreSQL is installed');
  cluster = await startLocalCluster({ bindir, osUser: postgres.osUser });
});

after(() => cluster?.stop());

describe('a local cluster', () => {
  it("keeps its dynamic shared memory in its data directory, never in the machine's /dev/shm", async () => {
    const { endpoint, superuser } = cluster!;
    await withClient(endpoint, superuser, 'postgres', async (client) => {
      const { rows } = await client.query<{ pid: number; dataDir: string }>(`SELECT pg_backend_pid() AS pid, current_setting('data_directory') AS "dataDir"`);
      const { pid, dataDir } = rows[0]!;
      // Every backend maps the control segment of the server's dynamic shared memory for as long as it runs.
      const mapped = readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').map((line) => line.split(/\s+/).slice(5).join(' '));
      assert.deepEqual(mapped.filter((file) => file.startsWith('/dev/shm/PostgreSQL.')), []);
      assert.ok(mapped.some((file) => file.startsWith(join(dataDir, 'pg_dynshmem', 'mmap.'))), `mapped files:\n${[...new Set(mapped)].join('\n')}`);
    });
  });
});
