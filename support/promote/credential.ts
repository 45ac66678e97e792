import type { InstanceNames } from '../naming';
import { registerSecret } from '../redaction';
import type { Secret } from '../secret';
import { VaultError, VaultSession, type VaultConfigInput } from '../vault';
import type { LookupFunction } from 'node:net';
import { PROD_WRITE_KEY, promoterNames } from '../naming/promoter';
import { PromotionRefused } from './refusal';

/**
 * The only loader of the prod-write credential (ADR-0003 §4: "a separate, deliberately-scoped prod-write credential
 * used exclusively at promote time"). Only support/promote imports this module (test/promote-boundary.test.ts), and
 * promote calls it only after the changeset's digest was approved. It logs in to Vault as promote's own identity and
 * refuses a credential the agent could hold: one read by an identity that carries the agent's policy, or equal to
 * the agent's own sandbox key.
 */

export interface ProdWriteAccess {
  /** Promote's Vault identity; undefined when the target has none configured. */
  readonly identity: VaultConfigInput | undefined;
  readonly lookup?: LookupFunction;
}

export interface AgentCredentials {
  /** The agent's Vault policy (the sandbox instance's). */
  readonly policy: string;
  /** The agent's Dolibarr key on the sandbox. */
  readonly sandboxKey: Secret;
}

export interface ProdWriteCredential {
  /** Prod's Dolibarr key of promote's user. */
  readonly key: Secret;
  /** Promote's Vault session, for prod's database credentials around the replay; close it when done. */
  readonly session: VaultSession;
}

export async function loadProdWriteCredential(access: ProdWriteAccess, prod: InstanceNames, agent: AgentCredentials): Promise<ProdWriteCredential> {
  const names = promoterNames(prod);
  if (access.identity === undefined) {
    throw new PromotionRefused('no prod-write credential', `no promote identity is configured: promote logs in to Vault as role ${names.vaultRole}, never as the agent`);
  }
  const session = new VaultSession(access.identity, access.lookup ? { lookup: access.lookup } : {});
  try {
    const identity = await session.login();
    if (identity.policies.includes(agent.policy)) {
      throw new PromotionRefused(
        "the agent's identity",
        `the prod-write credential would be read by an identity holding the agent's policy ${agent.policy} (${identity.displayName}): promote needs its own identity, ${names.vaultRole}`,
      );
    }
    let values;
    try {
      ({ values } = await session.readKv(names.kvPath));
    } catch (error) {
      if (!(error instanceof VaultError)) throw error;
      throw new PromotionRefused('no prod-write credential', `the prod-write credential cannot be read at ${names.kvPath}: ${error.message}`);
    }
    const key = values[PROD_WRITE_KEY];
    if (key === undefined) throw new PromotionRefused('no prod-write credential', `${names.kvPath} holds no ${PROD_WRITE_KEY}`);
    // Prod's write key is registered as it is read, whatever the KV's key names say.
    registerSecret(key.reveal());
    if (key.reveal() === agent.sandboxKey.reveal()) {
      throw new PromotionRefused("the agent's key", `the prod-write credential at ${names.kvPath} is the agent's own sandbox key: give promote a key of its own`);
    }
    return { key, session };
  } catch (error) {
    await session.close({ revokeOutstanding: true });
    throw error;
  }
}
