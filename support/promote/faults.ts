import type { Client } from 'pg';
import { readFileSync } from 'node:fs';
import { NotApplicable, requireOnTarget } from '../not-applicable';
import { ident, literal, withClient } from '../postgres/connect';
import { writeRedacted } from '../redacted-files';
import type { Target } from '../targets/target';
import { digestOf, type Changeset } from './changeset';
import { PROD_WRITE_KEY, promoterNames } from '../naming/promoter';
import type { Promotion } from './promote';

/**
 * What the promotion gate does to a rehearsal, a target or prod to see promote refuse: a changeset edited after review
 * (its recorded digest kept) or rewritten as if recorded elsewhere (re-digested), the prod-write credential taken away
 * or replaced by the agent's key, promote pointed at the agent's identity, prod changed under the rehearsal.
 */

function rewrite(path: string, edit: (changeset: Changeset) => Changeset): void {
  writeRedacted(path, `${JSON.stringify(edit(JSON.parse(readFileSync(path, 'utf8')) as Changeset), null, 2)}\n`);
}

/** A reviewer's nightmare: an amount changed in the file after review, its digest left as it was. */
export function editInvoiceAmount(path: string): void {
  rewrite(path, (changeset) => ({
    ...changeset,
    operations: changeset.operations.map((operation) =>
      Array.isArray(operation.body?.['lines'])
        ? { ...operation, body: { ...operation.body, lines: (operation.body['lines'] as Record<string, unknown>[]).map((line) => ({ ...line, subprice: 1250 })) } }
        : operation,
    ),
  }));
}

/** The changeset as if it had been recorded against prod's host, with a digest of its own. */
export function rehearsedOnProdHost(path: string, target: Target): void {
  rewrite(path, (changeset) => {
    const content = { ...changeset, rehearsal: { ...changeset.rehearsal, host: target.prod.host } };
    return { ...content, digest: digestOf(content) };
  });
}

/** The target's Vault KV as an operator changes it; `change` says what the scenario would do to it, where it cannot. */
function hermeticKv(target: Target, change: string) {
  return requireOnTarget(target.vault.hermetic, `${change} changes the ${target.kind} target's Vault KV, which is the operator's: a gate run never changes it`);
}

const kvPath = (target: Target) => promoterNames(target.prod).kvPath.replace(/^kvv2\//, '');

/** Each returns what puts the credential back as it was, for the scenarios that follow (its value never leaves Vault). */
export function removeProdWriteCredential(target: Target): () => void {
  return hermeticKv(target, `removing promote's prod-write credential from ${promoterNames(target.prod).kvPath}`).replaceKv(kvPath(target), undefined);
}

export function prodWriteCredentialIsAgentKey(target: Target): () => void {
  return hermeticKv(target, `putting the agent's sandbox key at ${promoterNames(target.prod).kvPath} as promote's prod-write credential`)
    .replaceKv(kvPath(target), { [PROD_WRITE_KEY]: target.dolibarr.keys.sandboxAgent.reveal() });
}

/** The target as it would be if promote were configured to log in as the agent (the sandbox's workload). */
export function promoterAsAgent(target: Target): Target {
  return { ...target, vault: { ...target.vault, promoter: target.vault.identity(target.sandbox) } };
}

/**
 * Takes back from prod the rows a promotion added, so the scenarios after it rehearse from a golden that is prod's
 * again (their rehearsals would otherwise conflict). Rows referencing others go first: tables are tried in passes
 * until every one is empty of the promotion's rows. Sequences stay where the promotion left them, as after any insert.
 */
export function withdrawPromotion(target: Target, promotion: Promotion): Promise<void> {
  const why = "taking a promotion's rows back from prod writes prod as its owner: only a hermetic target's promotions are taken back";
  return asProdOwner(target, why, async (client) => {
    let left = promotion.prodChanges.filter((change) => change.kind === 'table' && (change.rows?.added.length ?? 0) > 0);
    while (left.length > 0) {
      const failed: typeof left = [];
      for (const change of left) {
        const keys = change.rows!.added.map((row) => row.key);
        const where = keys.map((key) => `(${Object.entries(key).map(([column, value]) => `${ident(column)} = ${literal(String(value))}`).join(' AND ')})`).join(' OR ');
        await client.query('SAVEPOINT withdraw');
        try {
          await client.query(`DELETE FROM ${change.name} WHERE ${where}`);
          await client.query('RELEASE SAVEPOINT withdraw');
        } catch (error) {
          if ((error as { code?: string }).code !== '23503') throw error; // still referenced: next pass
          await client.query('ROLLBACK TO SAVEPOINT withdraw');
          failed.push(change);
        }
      }
      if (failed.length === left.length) throw new Error(`cannot withdraw the promotion's rows from ${failed.map((change) => change.name).join(', ')}`);
      left = failed;
    }
  });
}

/**
 * Runs `work` in one transaction on prod as its owner role, through a prod login of its own (revoked after). A live run
 * never writes prod, whatever identities it holds: there it is not applicable, for the reason `why`.
 */
async function asProdOwner(target: Target, why: string, work: (client: Client) => Promise<void>): Promise<void> {
  if (target.kind !== 'hermetic') throw new NotApplicable(why);
  const login = await target.minter.mint(target.prod);
  try {
    await withClient(target.endpointFor(target.prod.database), login, target.prod.database, async (client) => {
      await client.query('BEGIN');
      await client.query(`SET LOCAL ROLE ${ident(target.prod.ownerRole)}`);
      await work(client);
      await client.query('COMMIT');
    });
  } finally {
    await target.minter.revoke(login);
  }
}

/** A thirdparty added on prod by prod's own owner role, as a user of prod would. */
export function changeProdThirdparties(target: Target): Promise<void> {
  const why = "the conflict is prod changed under the rehearsal: a thirdparty inserted on prod as prod's owner, then seen by promote through its " +
    'prod-write credential; a live run holds neither and never writes prod';
  return asProdOwner(target, why, async (client) => {
    await client.query("INSERT INTO public.llx_societe (nom, entity, datec) VALUES ('Changed on prod since the rehearsal', 1, now())");
  });
}

/** Prod's thirdparty ids moved on without a row, as an insert rolled back leaves them: prod's next id is not the sandbox's. */
export function advanceProdThirdpartyIds(target: Target): Promise<void> {
  const why = "the scenario replays the changeset on prod: prod's thirdparty ids moved on by a nextval as prod's owner, then the writes replayed " +
    "with promote's prod-write credential; a live run holds neither and never writes prod (on a live target only a human promotes, with rehearse promote)";
  return asProdOwner(target, why, async (client) => {
    await client.query("SELECT nextval('public.llx_societe_rowid_seq')");
  });
}
