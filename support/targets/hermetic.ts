import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allInstances, type HarnessConfig } from '../config';
import { makeGolden } from '../lifecycle/golden';
import { registerTeardown } from '../process/teardown';
import type { PostgresCluster } from '../postgres/cluster';
import { PostgresMinter } from '../postgres/minting';
import { startCluster } from '../postgres/provider';
import { provisionFactoryLayout } from '../postgres/provision';
import { installProdAgentKey, startHermeticDolibarr } from './hermetic-dolibarr';
import { loadFixtureAsOwner } from './seed-prod';
import type { Target } from './target';

export type Progress = (line: string) => void;

function timed<T>(progress: Progress, what: string, work: () => Promise<T>): Promise<T> {
  const started = process.hrtime.bigint();
  return work().then((result) => {
    progress(`${what} in ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(2)} s`);
    return result;
  });
}

/**
 * The hermetic target: a fresh cluster laid out like the factory's postgres/iac, with the
 * Dolibarr-shaped fixture loaded into prod through a prod login role, as the real install was, prod's agent
 * given its read-only API key, and a Dolibarr stand-in serving each instance's database.
 */
export async function buildHermeticTarget(config: HarnessConfig, progress: Progress): Promise<Target> {
  const cluster: PostgresCluster = await timed(progress, 'cluster started', () =>
    startCluster({ ...config.postgres, choice: config.postgres.provider, progress }),
  );
  try {
    const layout = await timed(progress, `factory layout provisioned (${config.layout})`, () =>
      provisionFactoryLayout(cluster, allInstances(config), config.layout),
    );
    const minter = new PostgresMinter({ endpoint: cluster.endpoint, credentialsEditor: layout.credentialsEditor });
    const load = await timed(progress, `fixture loaded into ${config.prod.database} as ${config.prod.ownerRole}`, () =>
      loadFixtureAsOwner(cluster.endpoint, minter, config.prod, config.fixture),
    );
    progress(`fixture seed ${config.fixture.seed}, scale ${config.fixture.scale}: ${(load.bytes / 1e6).toFixed(1)} MB of SQL in ${load.chunks} batches`);
    const identity = await installProdAgentKey(cluster.endpoint, minter, config.prod);

    const workDir = mkdtempSync(join(tmpdir(), 'erp-rehearsal-run-'));
    const removeWorkDir = () => rmSync(workDir, { recursive: true, force: true });
    const unregister = registerTeardown({ name: `work directory ${workDir}`, stop: async () => removeWorkDir(), lastResort: removeWorkDir });
    const reader = await minter.mint(config.prod);
    const golden = await timed(progress, `golden dumped read-only from ${config.prod.database}`, () =>
      makeGolden({ endpoint: cluster.endpoint, tools: cluster.tools, login: reader, prod: config.prod, dir: join(workDir, 'golden') }),
    ).finally(() => minter.revoke(reader));
    progress(`golden ${golden.manifest.root.slice(0, 12)}: ${golden.manifest.restoredEntries} entries owned by ${config.prod.ownerRole}`);
    const dolibarr = await timed(progress, 'Dolibarr stand-ins started', () => startHermeticDolibarr(config, cluster.endpoint, minter, identity));
    progress(`Dolibarr: ${dolibarr.sites.prod.url} and ${dolibarr.sites.sandbox.url} (stand-ins, per-run CA)`);

    let closed = false;
    return {
      kind: 'hermetic',
      config,
      prod: config.prod,
      sandbox: config.sandbox,
      cluster,
      provisioner: layout.provisioner,
      credentialsEditor: layout.credentialsEditor,
      minter,
      golden,
      dolibarr: dolibarr.sites,
      workDir,
      async close() {
        if (closed) return;
        closed = true;
        try {
          await dolibarr.close().finally(() => minter.revokeAll());
        } finally {
          removeWorkDir();
          unregister();
          await cluster.stop();
        }
      },
    };
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}
