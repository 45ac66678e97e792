import type { Client } from 'pg';
import { NotApplicable, requireOnTarget } from '../not-applicable';
import { ident, withClient } from '../postgres/connect';
import { PROD_WRITE_KEY, promoterNames } from '../naming/promoter';
import { advanceThirdpartyIds, deleteInsertedProdThirdparty, deletePromotedRows, insertProdThirdparty } from '../promote/faults';
import type { Promotion } from '../promote/promote';
import type { Target } from './target';

/**
 * What the promotion gate does to a target to see promote refuse: the prod-write credential taken away or replaced by
 * the agent's key, promote pointed at the agent's identity, prod changed under the rehearsal; and a promotion's rows
 * taken back from prod. Each says why it cannot run on a live target, where it would change the operator's Vault or prod.
 */

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
 * again (their rehearsals would otherwise conflict).
 */
export function withdrawPromotion(target: Target, promotion: Promotion): Promise<void> {
  const why = "taking a promotion's rows back from prod writes prod as its owner: only a hermetic target's promotions are taken back";
  return asProdOwner(target, why, (client) => deletePromotedRows(client, promotion));
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
export async function changeProdThirdparties(target: Target, undo: (() => void | Promise<void>)[]): Promise<void> {
  const why = "the conflict is prod changed under the rehearsal: a thirdparty inserted on prod as prod's owner, then seen by promote through its " +
    'prod-write credential; a live run holds neither and never writes prod';
  await asProdOwner(target, why, insertProdThirdparty);
  // Taken back after the scenario, so the features after it rehearse from a golden that is prod's again.
  undo.push(() => asProdOwner(target, why, deleteInsertedProdThirdparty));
}

/** Prod's thirdparty ids moved on without a row, as an insert rolled back leaves them: prod's next id is not the sandbox's. */
export function advanceProdThirdpartyIds(target: Target): Promise<void> {
  const why = "the scenario replays the changeset on prod: prod's thirdparty ids moved on by a nextval as prod's owner, then the writes replayed " +
    "with promote's prod-write credential; a live run holds neither and never writes prod (on a live target only a human promotes, with rehearse promote)";
  return asProdOwner(target, why, advanceThirdpartyIds);
}
