import { loadConfig } from '../../support/config';
import type { PostgresCluster } from '../../support/postgres/cluster';
import { startCluster } from '../../support/postgres/provider';

/**
 * One throwaway cluster for a test file, from whichever provider the environment selects
 * (ERP_REHEARSAL_PG_PROVIDER=local|container, as CI runs the tests once with each).
 */
export async function testCluster(): Promise<{ cluster: PostgresCluster; stop(): Promise<void> }> {
  const { postgres } = loadConfig();
  const cluster = await startCluster({ ...postgres, choice: postgres.provider });
  return { cluster, stop: () => cluster.stop() };
}
