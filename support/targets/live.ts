import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { HarnessConfig } from '../config';
import type { DatabaseAddress, LiveConfig } from '../config/live';
import { GOLDEN_FORMAT, verifyGoldenFiles, type Golden, type GoldenManifest } from '../lifecycle/golden';
import { DolibarrClient } from '../dolibarr/client';
import { NotApplicable } from '../not-applicable';
import type { Endpoint } from '../postgres/cluster';
import { ident, withClient } from '../postgres/connect';
import { LocalTools } from '../postgres/local';
import { CLIENT_PROGRAMS, findLocalBinaries } from '../postgres/local-binaries';
import { makeWorkDir } from '../process/work-dirs';
import { VaultMinter, type VaultEvent } from '../vault';
import { dolibarrConfigOf } from './dolibarr-config';
import type { DolibarrSites } from '../dolibarr/sites';
import { overridingLookup } from './live-network';
import type { Target } from './target';
import { promoterNames } from '../naming/promoter';
import { cloneNames } from '../naming/template-clone';
import { stateOf } from '../lifecycle/state';
import { goldenNames } from '../naming/golden';
import type { VaultAuthInput } from '../vault/config';
import { ProdWatch } from './prod-watch';
import { MintLedger } from '../vault/ledger';
import type { VaultAccess } from './vault-access';
import { heldIdentities, removeDeadRunsFiles, revokeLeftoverLogins, type LedgerSweep } from './leftovers';

export type Progress = (line: string) => void;

/**
 * The live target: the operator's real stack, reached only through the sandbox's own identity. The harness logs in
 * to Vault as the configured identity (Kubernetes auth in-cluster, or the CI's JWT), obtains the sandbox's database
 * credentials from postgres/creds/<sandbox> and its Dolibarr configuration from kvv2/<sandbox>/config, and resets
 * the sandbox to the golden the operator provides (made read-only from prod by the harness's makeGolden). It holds
 * nothing of prod: no Vault identity, no database credential, no API key; prod is only the thing that must refuse.
 * (`rehearse promote` alone may be configured with promote's own identity, ERP_REHEARSAL_PROMOTE_TOKEN_FILE: the
 * target carries its token's path, and only support/promote/credential.ts logs in with it.)
 * What would need more is not applicable here, and says so. This builder is the only code that knows the target is live.
 */

/** The agent's sandbox key is refused after a reset: the operator's overlay is missing or wrong (a configuration to fix). */
export class SandboxOverlayError extends Error {
  override readonly name = 'SandboxOverlayError';
}

/** Where a database of the live target is reached; its CA is also written to `workDir`, where libpq's tools read it. */
export function endpointOf(address: DatabaseAddress, workDir: string, name: string): Endpoint {
  if (address.sslmode === 'disable') return { host: address.host, port: address.port };
  let caFile: string | undefined;
  if (address.ca !== undefined) {
    caFile = join(workDir, `${name}-ca.pem`);
    writeFileSync(caFile, address.ca, { mode: 0o600 });
  }
  return { host: address.host, port: address.port, tls: { mode: address.sslmode, ...(address.ca === undefined ? {} : { ca: address.ca }), ...(caFile ? { caFile } : {}) } };
}

/** The golden the operator provides, refused with what to do when it is not one this version can compare with. */
export function loadGolden(paths: LiveConfig['golden']): Golden {
  const manifest = JSON.parse(readFileSync(paths.manifest, 'utf8')) as GoldenManifest;
  if ((manifest.format as number) === 1) {
    throw new Error(`${paths.manifest} is a golden of format 1, made by an earlier version of the harness whose content hash is computed differently: make the golden again (rehearse golden --out DIR)`);
  }
  if (manifest.format !== GOLDEN_FORMAT || typeof manifest.root !== 'string' || !Array.isArray(manifest.entries)) {
    throw new Error(`${paths.manifest} is not a golden manifest of format ${GOLDEN_FORMAT} (with root and entries): the golden's three files (golden.dump, golden.list, manifest.json) come from rehearse golden`);
  }
  return { dir: dirname(paths.archive), archivePath: paths.archive, listPath: paths.list, manifest };
}

/** The ledger of the login roles live runs mint, in the state directory (see support/vault/ledger.ts). */
export function mintLedger(stateDir: string): MintLedger {
  return new MintLedger(join(stateDir, 'minted-logins.ndjson'));
}

/** A live target's ledger and what judging its entries needs (support/targets/leftovers.ts); undefined on a hermetic target. */
export function ledgerSweepOf(target: Target): LedgerSweep | undefined {
  const { config } = target;
  if (!config.live) return undefined;
  return {
    ledger: mintLedger(config.live.stateDir), minter: target.minter, endpoint: target.endpointFor(target.sandbox.database),
    sandbox: target.sandbox, identities: heldIdentities(config),
  };
}

export async function buildLiveTarget(config: HarnessConfig, progress: Progress): Promise<Target> {
  const live = config.live;
  if (!live) throw new Error('the live target needs its configuration (ERP_REHEARSAL_TARGET=live with VAULT_ADDR…)');
  const { sandbox, prod } = config;
  // What a killed run left here first: its work directories hold prod's data (the staged golden).
  await removeDeadRunsFiles(progress);
  const work = makeWorkDir('live');
  const workDir = work.path;
  const endpoints = new Map([
    [sandbox.database, endpointOf(live.databases.sandbox, workDir, 'sandbox')],
    [prod.database, endpointOf(live.databases.prod, workDir, 'prod')],
  ]);
  const lookup = overridingLookup(live.resolve);
  const vaultAt = { address: live.vault.address, ...(live.vault.ca === undefined ? {} : { ca: live.vault.ca }) };
  // The identities the live target may log in as: the sandbox's, and the golden's and the clone's where configured.
  const reader = goldenNames(prod);
  const clone = cloneNames(sandbox);
  const identities = new Map<string, VaultAuthInput>([[sandbox.instance, live.vault.auth]]);
  if (live.vault.golden) identities.set(reader.minting.instance, live.vault.golden);
  if (live.vault.clone) identities.set(clone.minting.instance, live.vault.clone);
  const identityMissing = (instance: string) =>
    instance === reader.minting.instance
      ? `the live target has no golden identity configured (ERP_REHEARSAL_GOLDEN_VAULT_ROLE, Vault role ${reader.vaultRole}): prod's content is read only through it`
      : `the live target holds only the sandbox's Vault identity${identities.size > 1 ? ' (and those configured for it)' : ''}, never ${instance}'s`;
  const vaultAccess: VaultAccess = {
    address: live.vault.address,
    ca: live.vault.ca ?? '',
    lookup,
    identity(names) {
      const auth = identities.get(names.instance);
      if (auth === undefined) throw new NotApplicable(identityMissing(names.instance));
      return { ...vaultAt, auth };
    },
    ...(live.vault.clone === undefined ? {} : { cloner: { ...vaultAt, auth: live.vault.clone } }),
    ...(live.vault.golden === undefined ? {} : { golden: { ...vaultAt, auth: live.vault.golden } }),
    // Promote's own identity, never the sandbox's: only `rehearse promote` logs in with it (support/promote/credential.ts).
    ...(live.promoteTokenFile === undefined
      ? {}
      : { promoter: { ...vaultAt, auth: { method: 'kubernetes', role: promoterNames(prod).vaultRole, tokenPath: live.promoteTokenFile } } }),
  };
  const ledger = mintLedger(live.stateDir);
  const minter = new VaultMinter({
    identity: (names) => vaultAccess.identity(names),
    endpoint: endpoints.get(sandbox.database)!,
    ledger,
    session: { ...(lookup ? { lookup } : {}), onEvent: (event: VaultEvent) => { if ('error' in event) progress(`Vault: ${event.kind}: ${event.error.message}`); } },
  });
  try {
    // The golden first: a damaged one is said before anything is reached.
    const golden = loadGolden(live.golden);
    await verifyGoldenFiles(golden);
    const session = await minter.session(sandbox);
    progress(`Vault: ${live.vault.address} as ${session.identity?.method ?? 'token'} role ${'role' in live.vault.auth ? live.vault.auth.role : '(token)'} (policies ${session.identity?.policies.join(', ') ?? '?'})`);
    progress(`golden ${golden.manifest.root.slice(0, 12)} from ${live.golden.archive} (${golden.manifest.restoredEntries} entries)`);
    // The login roles runs that are gone minted and never revoked (a SIGKILL, a lost machine): revoked now, each said.
    await revokeLeftoverLogins(
      { ledger, minter, endpoint: endpoints.get(sandbox.database)!, sandbox, identities: heldIdentities(config) },
      'gone runs',
      progress,
    ).catch((error: Error) => progress(`could not look for the login roles of runs that are gone: ${error.message} (rehearse status names them)`));
    const binaries = findLocalBinaries(live.clientTools.bindir, CLIENT_PROGRAMS);
    if (!binaries.bindir) throw new Error(`no PostgreSQL client tools (${binaries.tried.join('; ')}): install postgresql-client or set ERP_REHEARSAL_PG_BINDIR`);
    const tools = new LocalTools(binaries.bindir, endpoints.get(sandbox.database)!, mkdtempSync(join(workDir, 'staged-')));
    const sandboxDolibarr = await dolibarrConfigOf(minter, sandbox);
    progress(`Dolibarr: ${sandboxDolibarr.site.url}, configured from Vault ${sandbox.kvPath}`);
    const dolibarr: DolibarrSites = {
      sandbox: sandboxDolibarr.site,
      prod: { host: prod.host, url: `https://${prod.host}${sandboxDolibarr.port === 443 ? '' : `:${sandboxDolibarr.port}`}` },
      port: sandboxDolibarr.port,
      ca: live.dolibarr.ca ?? live.vault.ca ?? '',
      ...(lookup ? { lookup } : {}),
      keys: { sandboxAgent: sandboxDolibarr.apiKey },
      // The overlay the operator declared (SQL in Dolibarr's own key storage), run as the sandbox's owner role; then
      // checked: the agent's sandbox key must be accepted by the sandbox's Dolibarr.
      applySandboxOverlay: async () => {
        if (live.overlaySql !== undefined) {
          const login = await minter.mint(sandbox);
          try {
            await withClient(endpoints.get(sandbox.database)!, login, sandbox.database, (client) =>
              client.query(`SET ROLE ${ident(sandbox.ownerRole)}; ${live.overlaySql}; RESET ROLE`));
          } finally {
            await minter.revoke(login);
          }
        }
        const tooling = new DolibarrClient({ sandbox, url: sandboxDolibarr.site.url, port: sandboxDolibarr.port, apiKey: sandboxDolibarr.apiKey.reveal(), ca: live.dolibarr.ca ?? live.vault.ca, ...(lookup ? { lookup } : {}) });
        try {
          await tooling.status();
        } catch (error) {
          throw new SandboxOverlayError(`the sandbox overlay is not in place: the agent's sandbox key is refused (${(error as Error).message}); declare it in ERP_REHEARSAL_SANDBOX_OVERLAY`);
        } finally {
          await tooling.close();
        }
      },
    };
    // Prod's content, through the golden identity only: hashed at most twice a run (recorded once, compared at the end).
    const prodWatch = live.vault.golden === undefined ? undefined : new ProdWatch(async () => {
      const login = await minter.mint(reader.minting);
      try {
        return await stateOf(endpoints.get(prod.database)!, login, prod);
      } finally {
        await minter.revoke(login);
      }
    });
    let closed = false;
    return {
      kind: 'live',
      ...(prodWatch ? { prodWatch } : {}),
      config,
      prod,
      sandbox,
      endpointFor(database) {
        const endpoint = endpoints.get(database);
        if (!endpoint) throw new NotApplicable(`the live target reaches only ${sandbox.database} and ${prod.database}, not ${database}`);
        return endpoint;
      },
      tools,
      minter,
      vault: vaultAccess,
      golden,
      dolibarr,
      workDir,
      progress,
      async close() {
        if (closed) return;
        closed = true;
        try {
          await minter.revokeAll().finally(() => minter.close());
        } finally {
          work.remove();
        }
      },
    };
  } catch (error) {
    await minter.revokeAll().catch(() => undefined);
    await minter.close();
    work.remove();
    throw error;
  }
}
