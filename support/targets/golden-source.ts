import type { HarnessConfig } from '../config';
import type { InstanceNames } from '../naming';
import { goldenNames } from '../naming/golden';
import type { ClientTools, Endpoint } from '../postgres/cluster';
import { LocalTools } from '../postgres/local';
import { CLIENT_PROGRAMS, findLocalBinaries } from '../postgres/local-binaries';
import type { MintedLogin } from '../postgres/minting';
import { makeWorkDir } from '../process/work-dirs';
import { VaultMinter } from '../vault';
import { removeDeadRunsFiles } from './leftovers';
import { endpointOf, mintLedger } from './live';
import { overridingLookup } from './live-network';
import { closeTarget, openTarget } from './session';
import type { Progress } from './hermetic';

/**
 * Where `rehearse golden` reads prod: through the read-only golden identity only. Hermetic: the whole throwaway target
 * (its golden identity is provisioned like the others). Live: nothing of the sandbox's — Vault as the golden identity,
 * prod's database, the client tools.
 */
export interface GoldenSource {
  readonly prod: InstanceNames;
  readonly endpoint: Endpoint;
  readonly tools: ClientTools;
  /** A login of the golden identity, from Vault. */
  mintReader(): Promise<MintedLogin>;
  revoke(login: MintedLogin): Promise<void>;
  close(): Promise<void>;
}

export async function openGoldenSource(config: HarnessConfig, progress: Progress): Promise<GoldenSource> {
  if (config.target === 'hermetic') {
    const target = await openTarget('runner', 'hermetic', progress);
    return {
      prod: target.prod,
      endpoint: target.endpointFor(target.prod.database),
      tools: target.tools,
      mintReader: () => target.minter.mint(goldenNames(target.prod).minting),
      revoke: (login) => target.minter.revoke(login),
      close: () => closeTarget('runner'),
    };
  }
  const source = config.goldenSource;
  if (!source) throw new Error('the live golden needs its configuration (ERP_REHEARSAL_TARGET=live, VAULT_ADDR, the golden identity, ERP_REHEARSAL_PROD_DB_HOST)');
  const { prod } = config;
  const reader = goldenNames(prod);
  const binaries = findLocalBinaries(source.clientTools.bindir, CLIENT_PROGRAMS);
  if (!binaries.bindir) throw new Error(`no PostgreSQL client tools (${binaries.tried.join('; ')}): install postgresql-client or set ERP_REHEARSAL_PG_BINDIR`);
  // What a killed run left first; then the run's own directory (prod's CA for libpq, nothing of prod's data: the archive
  // streams back), removed at exit, and by the next run after a kill.
  await removeDeadRunsFiles(progress);
  const work = makeWorkDir('golden');
  const workDir = work.path;
  const endpoint = endpointOf(source.prod, workDir, 'prod');
  const lookup = overridingLookup(source.resolve);
  const minter = new VaultMinter({
    identity: (names) => {
      if (names.instance !== reader.minting.instance) throw new Error(`the golden job holds only the golden identity, never ${names.instance}'s`);
      return { address: source.vault.address, ...(source.vault.ca === undefined ? {} : { ca: source.vault.ca }), auth: source.vault.golden };
    },
    endpoint,
    ledger: mintLedger(source.stateDir),
    session: { ...(lookup ? { lookup } : {}), onEvent: (event) => { if ('error' in event) progress(`Vault: ${event.kind}: ${event.error.message}`); } },
  });
  return {
    prod,
    endpoint,
    tools: new LocalTools(binaries.bindir, endpoint, workDir),
    mintReader: () => minter.mint(reader.minting),
    revoke: (login) => minter.revoke(login),
    async close() {
      try {
        await minter.revokeAll().finally(() => minter.close());
      } finally {
        work.remove();
      }
    },
  };
}
