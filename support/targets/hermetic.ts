import { join } from 'node:path';
import { allInstances, type HarnessConfig } from '../config';
import { makeGolden } from '../lifecycle/golden';
import { interruptedBy, registerTeardown, runTeardowns } from '../process/teardown';
import { makeWorkDir } from '../process/work-dirs';
import type { Login, PostgresCluster } from '../postgres/cluster';
import { withClient } from '../postgres/connect';
import { startCluster } from '../postgres/provider';
import { provisionFactoryLayout } from '../postgres/provision';
import { provisionCloneRole } from '../postgres/provision-clone';
import { VaultMinter, type VaultEvent } from '../vault';
import { dolibarrConfigOf } from './dolibarr-config';
import type { DolibarrSites } from '../dolibarr/sites';
import { installProdAgentKey, startHermeticDolibarr } from './hermetic-dolibarr';
import { identityIssuers } from '../hermetic/identities';
import { hermeticNetwork } from './hermetic-network';
import { startHermeticVault } from './hermetic-vault';
import { PROD_WRITE_KEY, promoterNames } from '../naming/promoter';
import { goldenNames } from '../naming/golden';
import { loadFixtureAsOwner } from './seed-prod';
import type { Target } from './target';
import { removeDeadRunsFiles } from './leftovers';

export type Progress = (line: string) => void;

function timed<T>(progress: Progress, what: string, work: () => Promise<T>): Promise<T> {
  const started = process.hrtime.bigint();
  return work().then((result) => {
    progress(`${what} in ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(2)} s`);
    return result;
  });
}

export interface HermeticOptions {
  /** Server settings of the cluster, e.g. statement logging for the live-emulation test. */
  readonly serverSettings?: Readonly<Record<string, string>>;
}

/** Renewal and revocation problems of the run's Vault sessions (messages carry no secret). */
function reportVaultEvent(progress: Progress, event: VaultEvent): void {
  if ('error' in event) progress(`Vault: ${event.kind}${'leaseId' in event ? ` ${event.leaseId}` : ''}: ${event.error.message}`);
  else if ('reason' in event) progress(`Vault: ${event.kind}: ${event.reason}`);
}

/** Login roles named by Vault's username template that are still in the cluster. */
async function mintedRolesLeft(cluster: PostgresCluster, login: Login): Promise<string[]> {
  return withClient(cluster.endpoint, login, 'postgres', async (client) =>
    (await client.query<{ rolname: string }>("SELECT rolname FROM pg_roles WHERE rolname LIKE 'v-%' ORDER BY rolname")).rows.map((row) => row.rolname));
}

/**
 * The hermetic target: a fresh cluster laid out like the factory's postgres/iac; Vault (a stand-in) set up like the
 * factory's app_roles, through which every login role of the run is obtained; the Dolibarr-shaped fixture loaded
 * into prod through a prod login, as the real install was; prod's agent given its read-only API key; the golden
 * dumped read-only; a Dolibarr stand-in serving each instance's database; and each instance's Dolibarr
 * configuration in Vault's KV, where the harness reads it.
 */
export async function buildHermeticTarget(config: HarnessConfig, progress: Progress, options: HermeticOptions = {}): Promise<Target> {
  // What a killed run left first: its cluster's directory (and server, if it outlived it) and its work directory.
  await removeDeadRunsFiles(progress);
  // The identity issuers' keys are a prime search each: made on the thread pool while the cluster starts, and awaited
  // with Vault (a failed build before then ignores them).
  const issuers = identityIssuers(config.domain);
  issuers.catch(() => undefined);
  const cluster: PostgresCluster = await timed(progress, 'cluster started', () =>
    startCluster({ ...config.postgres, choice: config.postgres.provider, progress, ...(options.serverSettings ? { settings: options.serverSettings } : {}) }),
  );
  /** What was started after the cluster, stopped in reverse order if the build fails. */
  const started: (() => Promise<void>)[] = [];
  try {
    const layout = await timed(progress, `factory layout provisioned (${config.layout})`, () =>
      provisionFactoryLayout(cluster, allInstances(config), config.layout),
    );
    // The opt-in template-clone reset's CREATEDB role (ADR-0003's escape hatch), a member of the sandbox's owner role only.
    await provisionCloneRole(cluster, config.sandbox);
    // Runs after the Vault sessions' own teardowns (registered later) and before the cluster's: a finding if
    // a login role minted by the run is still there, on a signal as at a normal end.
    const audit = async (): Promise<void> => {
      const left = await mintedRolesLeft(cluster, layout.provisioner);
      progress(`login roles minted by the run left in the cluster: ${left.length === 0 ? 'none' : left.join(', ')}`);
      if (left.length > 0) throw new Error(`login roles minted by the run are still in the cluster: ${left.join(', ')}`);
    };
    const unregisterAudit = registerTeardown({ name: 'the audit of minted login roles', stop: audit });
    started.push(async () => unregisterAudit());

    const work = makeWorkDir('run');
    const workDir = work.path;
    started.push(async () => work.remove());

    const network = await hermeticNetwork(config);
    const vault = await timed(progress, 'Vault stand-in started', async () =>
      startHermeticVault(config, network, await issuers, { endpoint: cluster.endpoint, credentialsEditor: layout.credentialsEditor }, workDir),
    );
    started.push(() => vault.close());
    progress(`Vault: ${vault.access.address} (stand-in, per-run CA); workloads log in with Kubernetes auth as their own role`);
    const minter = new VaultMinter({
      identity: (names) => vault.access.identity(names),
      endpoint: cluster.endpoint,
      session: { lookup: network.lookup, onEvent: (event) => reportVaultEvent(progress, event) },
    });
    started.push(() => minter.revokeAll().finally(() => minter.close()));

    const load = await timed(progress, `fixture loaded into ${config.prod.database} as ${config.prod.ownerRole}`, () =>
      loadFixtureAsOwner(cluster.endpoint, minter, config.prod, config.fixture),
    );
    progress(`fixture seed ${config.fixture.seed}, scale ${config.fixture.scale}: ${(load.bytes / 1e6).toFixed(1)} MB of SQL in ${load.chunks} batches`);
    const identity = await installProdAgentKey(cluster.endpoint, minter, config.prod);

    // Prod's read-only golden identity dumps it: no credential that can write prod is used for the golden.
    const reader = await minter.mint(goldenNames(config.prod).minting);
    const golden = await timed(progress, `golden dumped read-only from ${config.prod.database}`, () =>
      makeGolden({ endpoint: cluster.endpoint, tools: cluster.tools, login: reader, prod: config.prod, dir: join(workDir, 'golden') }),
    ).finally(() => minter.revoke(reader));
    progress(`golden ${golden.manifest.root.slice(0, 12)}: ${golden.manifest.restoredEntries} entries owned by ${config.prod.ownerRole}`);

    const dolibarr = await timed(progress, 'Dolibarr stand-ins started', () => startHermeticDolibarr(config, network, cluster.endpoint, minter, identity));
    started.push(() => dolibarr.close());
    // The operator's side: each instance's Dolibarr configuration, written to Vault's KV.
    vault.standin.putKv(`${config.prod.instance}/config`, { DOLIBARR_URL: dolibarr.urls.prod, DOLIBARR_API_KEY: identity.prodAgentKey.reveal() });
    vault.standin.putKv(`${config.sandbox.instance}/config`, { DOLIBARR_URL: dolibarr.urls.sandbox, DOLIBARR_API_KEY: identity.sandboxAgentKey.reveal() });
    vault.standin.putKv(promoterNames(config.prod).kvPath.replace(/^kvv2\//, ''), { [PROD_WRITE_KEY]: identity.promoterKey.reveal() });
    const [sandboxSite, prodSite] = await Promise.all([dolibarrConfigOf(minter, config.sandbox), dolibarrConfigOf(minter, config.prod)]);
    progress(`Dolibarr: ${prodSite.site.url} and ${sandboxSite.site.url} (stand-ins, per-run CA), configured from Vault KV`);
    const sites: DolibarrSites = {
      prod: prodSite.site,
      sandbox: sandboxSite.site,
      port: sandboxSite.port,
      ca: network.authority.ca,
      lookup: network.lookup,
      keys: { sandboxAgent: sandboxSite.apiKey, prodAgent: prodSite.apiKey },
      applySandboxOverlay: () => dolibarr.applySandboxOverlay(sandboxSite.apiKey),
      standins: dolibarr.standins,
    };

    let closed = false;
    return {
      kind: 'hermetic',
      config,
      prod: config.prod,
      sandbox: config.sandbox,
      endpointFor: () => cluster.endpoint,
      tools: cluster.tools,
      cluster,
      provisioner: layout.provisioner,
      credentialsEditor: layout.credentialsEditor,
      minter,
      vault: {
        ...vault.access,
        hermetic: {
          issuers: vault.issuers,
          leases: () => vault.standin.leases(),
          replaceKv: (path, data) => vault.standin.replaceKv(path, data),
        },
      },
      golden,
      dolibarr: sites,
      workDir,
      progress,
      async close() {
        if (closed) return;
        closed = true;
        if (interruptedBy()) {
          // The signal's teardown revokes the leases, audits pg_roles and stops the cluster, in that order:
          // wait for it rather than race it, then stop the in-process servers.
          await runTeardowns();
          await Promise.allSettled([dolibarr.close(), vault.close()]);
          return;
        }
        try {
          await dolibarr.close();
          await minter.revokeAll().finally(() => minter.close());
          await audit();
        } finally {
          unregisterAudit();
          await vault.close();
          work.remove();
          await cluster.stop();
        }
      },
    };
  } catch (error) {
    for (const stop of started.reverse()) await stop().catch(() => undefined);
    await cluster.stop();
    throw error;
  }
}
