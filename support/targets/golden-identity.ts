import type { Client } from 'pg';
import { connectReadOnly, readOnlySettings, type ReadOnlySettings } from '../lifecycle/golden';
import { goldenNames } from '../naming/golden';
import { attemptAsGolden, goldenAttempt, type GoldenAttemptOutcome } from '../postgres/golden-fence';
import { runBounded } from '../postgres/probes';
import type { MintedLogin } from '../postgres/minting';
import type { Login } from '../postgres/cluster';
import { readAccess, type ReadAccess } from '../postgres/catalog';
import { ident } from '../postgres/connect';
import { VaultSession } from '../vault';
import { NotApplicable } from '../not-applicable';
import type { Target } from './target';

/**
 * Prod's read-only golden identity on a target (support/naming/golden.ts): its logins minted through Vault by its own
 * identity, its fence attempted in the form the target allows, and its sessions opened exactly as the golden opens them.
 */

/** The target has no golden identity configured: its logins cannot be minted there. */
export class NoGoldenIdentityError extends Error {
  override readonly name = 'NoGoldenIdentityError';
  constructor(readonly target: Target['kind'], readonly vaultRole: string) {
    super(
      `the ${target} target has no golden identity configured (Vault Kubernetes role ${vaultRole}): the read-only ` +
        "golden identity's logins cannot be minted there",
    );
  }
}

/**
 * A short-lived login of prod's reader role, from Vault at `postgres/creds/<prod>-golden` through the golden's own
 * identity (Kubernetes role `<prod>-golden`). Revoke it with `target.minter.revoke(login)` (the target revokes whatever is
 * left at close). Throws NoGoldenIdentityError where the target has none.
 */
export function mintGoldenLogin(target: Target): Promise<MintedLogin> {
  const names = goldenNames(target.prod);
  if (target.vault.golden === undefined) return Promise.reject(new NoGoldenIdentityError(target.kind, names.vaultRole));
  return target.minter.mint(names.minting);
}

/** A Vault session of the golden identity's workload (Kubernetes auth), not yet logged in; the caller closes it. */
export function goldenVaultSession(target: Target): VaultSession {
  const golden = target.vault.golden;
  if (golden === undefined) throw new NoGoldenIdentityError(target.kind, goldenNames(target.prod).vaultRole);
  return new VaultSession(golden, { lookup: target.vault.lookup });
}

/**
 * A Vault session of the golden CI job: JWT auth as its CI role with a CI token of `repository`; not yet logged in,
 * the caller closes it. Hermetic: a token signed by the run's CI issuer. Live: the run's own golden identity, when it
 * is that CI role with a token of that repository (a CI run of the nightly); NotApplicable otherwise, since the
 * harness holds no issuer Vault trusts there.
 */
export function goldenJobVaultSession(target: Target, repository: string): VaultSession {
  const { vault } = target;
  const role = goldenNames(target.prod).ciJwtRole;
  if (vault.hermetic) {
    const auth = { method: 'jwt', role, token: vault.hermetic.issuers.ciToken({ repository }) } as const;
    return new VaultSession({ address: vault.address, ca: vault.ca, auth }, { lookup: vault.lookup });
  }
  const own = vault.golden;
  if (own?.auth.method !== 'jwt' || own.auth.role !== role || own.auth.token === undefined) {
    throw new NotApplicable(`the ${target.kind} target holds no CI issuer Vault trusts, and does not log in as the golden job (JWT auth as ${role}): it cannot make the golden job's token`);
  }
  const claimed = jwtClaim(own.auth.token.reveal(), 'repository');
  if (claimed !== repository) throw new NotApplicable(`this run's CI token is of repository ${claimed ?? '(none named)'}, not ${repository}`);
  return new VaultSession(own, { lookup: vault.lookup });
}

/** A claim of a JWT's payload, read without checking the signature (Vault checks it; this only picks the case). */
function jwtClaim(token: string, claim: string): string | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    return typeof payload[claim] === 'string' ? payload[claim] : undefined;
  } catch {
    return undefined;
  }
}

/** The attempt of the golden identity's fence (support/postgres/golden-fence.ts) as `login`; the target decides the form. */
export function attemptOnTarget(target: Target, login: Login, attempt: string): Promise<GoldenAttemptOutcome> {
  return attemptAsGolden((database) => target.endpointFor(database), login, { prod: target.prod, sandbox: target.sandbox }, attempt, target.kind === 'hermetic' ? 'hermetic' : 'live');
}

/** What a session on prod opened as the golden opens it says of itself, and what a write in it (rolled back) met. */
export interface GoldenSessionWrite {
  readonly settings: ReadOnlySettings;
  readonly sql: string;
  readonly sqlstate?: string;
  readonly message?: string;
}

/**
 * Opens a session on prod exactly as makeGolden does (connectReadOnly: read-only, and checked to be), then makes the
 * fence's attempt `attempt` in it, inside BEGIN … ROLLBACK under the fence's bounds: only the read-only session, not
 * the privileges, should be what refuses it first. The attempt itself is sent (a write's EXPLAIN passes a read-only
 * transaction), and only once the transaction reads transaction_read_only = on: PostgreSQL then refuses a write before
 * it checks its privileges or executes anything, so none of prod's triggers, defaults or rules can run.
 */
export async function writeInGoldenSession(target: Target, login: Login, attempt: string): Promise<GoldenSessionWrite> {
  const { statement } = goldenAttempt({ prod: target.prod, sandbox: target.sandbox }, attempt);
  return inGoldenSession(target, login, async (client) => {
    const settings = await readOnlySettings(client);
    const error = await runBounded(client, statement, 'read only by its session');
    return { settings, sql: statement, ...(error ? { sqlstate: error.code, message: error.message } : {}) };
  });
}

/** Runs `work` in a session on prod opened exactly as makeGolden opens one (read-only, and checked to be). */
async function inGoldenSession<T>(target: Target, login: Login, work: (client: Client) => Promise<T>): Promise<T> {
  const client = await connectReadOnly(target.endpointFor(target.prod.database), login, target.prod.database);
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The rows of prod's table `table` (schema public), counted in a golden session as `login`. */
export function countProdRowsAsGolden(target: Target, login: Login, table: string): Promise<number> {
  return inGoldenSession(target, login, async (client) =>
    Number((await client.query<{ rows: string }>(`SELECT count(*) AS rows FROM public.${ident(table)}`)).rows[0]!.rows));
}

/** What `login` may do to everything prod's owner role owns in prod (catalog.ts readAccess), asked in a golden session. */
export function prodReadAccessOf(target: Target, login: Login): Promise<ReadAccess> {
  return inGoldenSession(target, login, (client) => readAccess(client, login.user, target.prod.ownerRole));
}
