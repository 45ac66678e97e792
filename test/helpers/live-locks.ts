import { DEFAULT_SEED } from '../../fixtures/dolibarr';
import { cloneNames } from '../../support/naming/template-clone';
import { instanceNames } from '../../support/naming';
import { goldenNames } from '../../support/naming/golden';
import type { Endpoint, Login, PostgresCluster } from '../../support/postgres/cluster';
import { connect } from '../../support/postgres/connect';
import type { LiveMatrixLogins } from '../../support/postgres/live-matrix';
import type { ProbeContext } from '../../support/postgres/probes';
import { provisionFactoryLayout, userLookupSignature } from '../../support/postgres/provision';
import { provisionCloneRole } from '../../support/postgres/provision-clone';
import { loadFixtureAsOwner } from '../../support/targets/seed-prod';
import { testCluster } from './cluster';
import { DirectMinter } from './direct-minter';

/**
 * TEST SETUP ONLY: a cluster laid out as provisioned today (the sandbox's login reaches prod, so every live form really
 * gets there), with the clone role, Dolibarr's fixture in prod and in the sandbox, a login of each fence's identity and
 * one of prod's owner role to stand for prod's own Dolibarr; and prod's own write traffic, for the live forms to meet.
 */
export interface LiveLocksRig {
  readonly cluster: PostgresCluster;
  readonly context: ProbeContext;
  readonly logins: LiveMatrixLogins & { readonly golden: Login; readonly clone: Login };
  /** A login of prod's owner role, as prod's Dolibarr connects. */
  readonly prodOwner: Login;
  /** The role names of the harness's logins: whose sessions are the harness's. */
  readonly harness: ReadonlySet<string>;
  stop(): Promise<void>;
}

export async function liveLocksRig(): Promise<LiveLocksRig> {
  const { cluster, stop } = await testCluster();
  try {
    const prod = instanceNames('erp');
    const sandbox = instanceNames('erp', 'sandbox');
    const provisioned = await provisionFactoryLayout(cluster, [prod, sandbox], 'as-provisioned');
    await provisionCloneRole(cluster, sandbox);
    const minter = new DirectMinter({ endpoint: cluster.endpoint, credentialsEditor: provisioned.credentialsEditor });
    await loadFixtureAsOwner(cluster.endpoint, minter, prod, { seed: DEFAULT_SEED, scale: 0.05 });
    await loadFixtureAsOwner(cluster.endpoint, minter, sandbox, { seed: DEFAULT_SEED, scale: 0.05 });
    const logins = {
      sandbox: await minter.mint(sandbox),
      golden: await minter.mint(goldenNames(prod).minting),
      clone: await minter.mint(cloneNames(sandbox).minting),
    };
    return {
      cluster,
      context: { prod, sandbox, userLookup: userLookupSignature('as-provisioned') },
      logins,
      prodOwner: await minter.mint(prod),
      harness: new Set(Object.values(logins).map((login) => login.user)),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Prod's own writes, one after the other, each committed, until stopped. */
export interface ProdWriter {
  readonly pid: number;
  /** Stops after the write in flight: how many writes completed; throws if one failed. */
  stop(): Promise<number>;
}

/**
 * A session of prod's owner role writing prod's llx_societe over and over — a row other than the one a held write locks,
 * each UPDATE in a transaction of its own — as prod's Dolibarr serves requests. Each UPDATE needs ROW EXCLUSIVE on the
 * table: it waits behind any session queued for a lock that conflicts with it, CREATE TRIGGER's SHARE ROW EXCLUSIVE
 * among them.
 */
export async function writeProdRepeatedly(endpoint: Endpoint, login: Login, database: string): Promise<ProdWriter> {
  const session = await connect(endpoint, login, database, { applicationName: "prod's own writes" });
  const pid = (await session.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  let stopped = false;
  let writes = 0;
  const loop = (async () => {
    while (!stopped) {
      await session.query('UPDATE public.llx_societe SET nom = nom WHERE rowid = (SELECT max(rowid) FROM public.llx_societe)');
      writes += 1;
      // Paced like a busy Dolibarr, not as fast as the machine allows: this is load, not synchronisation.
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();
  loop.catch(() => undefined);
  return {
    pid,
    async stop() {
      stopped = true;
      try {
        await loop;
      } finally {
        await session.end().catch(() => undefined);
      }
      return writes;
    },
  };
}
