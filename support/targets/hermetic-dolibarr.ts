import { randomBytes } from 'node:crypto';
import { AI_AGENT_RIGHTS } from '../../fixtures/dolibarr/data/users';
import type { HarnessConfig } from '../config';
import { DOLIBARR_VERSIONS } from '../dolibarr/versions';
import { grantApiAccess, RIGHT, startDolibarrStandin, storedApiKey, type DolibarrStandin } from '../hermetic/dolibarr-standin/server';
import type { Endpoint } from '../postgres/cluster';
import { withClient } from '../postgres/connect';
import type { CredentialMinter } from '../postgres/minting';
import type { InstanceNames } from '../naming';
import { Secret } from '../secret';
import type { DolibarrStandins } from '../dolibarr/sites';
import type { HermeticNetwork } from './hermetic-network';

/**
 * HERMETIC: the two Dolibarr instances of the hermetic target, as stand-ins (support/hermetic/dolibarr-standin)
 * answering as the configured Dolibarr version (ERP_REHEARSAL_DOLIBARR_VERSION), each backed by its own database
 * through its own login role (from Vault, like every login). Both listen on the same port, prod and the sandbox each on its own loopback address, and the clients resolve the real host names to
 * those addresses: a request for `https://erp.<domain>:<port>` that slipped past the host-guard would really reach
 * prod.
 */

/** The agent on the sandbox: prod's read-only rights plus thirdparty and supplier-invoice writes. */
export const SANDBOX_AGENT_RIGHTS: readonly number[] = [...AI_AGENT_RIGHTS, RIGHT.societeCreer, RIGHT.factureFournCreer];
const AGENT_LOGIN = 'ai_agent';
const PORT_ATTEMPTS = 5;

/** What the operator set up for the two instances: conf.php's unique ids, the agent's keys, and promote's prod key. */
export interface HermeticDolibarrIdentity {
  readonly prodInstanceId: string;
  readonly sandboxInstanceId: string;
  readonly prodAgentKey: Secret;
  readonly sandboxAgentKey: Secret;
  /** The promote-time prod-write credential (ADR-0003 §4): a prod user with exactly the writes a rehearsal makes. */
  readonly promoterKey: Secret;
}

/** The prod user promote replays as. */
export const PROMOTER_LOGIN = 'user003';

const token = (): string => randomBytes(24).toString('hex');

/**
 * Gives prod's agent its read-only API key, as the real install was given one, and promote's user its prod-write key. Runs before the golden is dumped,
 * so the golden carries prod's users and keys like a real restore does (unusable on the sandbox: its instance
 * id differs).
 */
export async function installProdAgentKey(endpoint: Endpoint, minter: CredentialMinter, prod: InstanceNames): Promise<HermeticDolibarrIdentity> {
  const identity: HermeticDolibarrIdentity = {
    prodInstanceId: token(),
    sandboxInstanceId: token(),
    prodAgentKey: new Secret('prod agent API key', token()),
    sandboxAgentKey: new Secret('sandbox agent API key', token()),
    promoterKey: new Secret('prod-write API key of promote', token()),
  };
  const login = await minter.mint(prod);
  try {
    await withClient(endpoint, login, prod.database, async (client) => {
      await grantApiAccess(client, { instanceId: identity.prodInstanceId, login: AGENT_LOGIN, apiKey: identity.prodAgentKey.reveal(), rights: [...AI_AGENT_RIGHTS] });
      await grantApiAccess(client, { instanceId: identity.prodInstanceId, login: PROMOTER_LOGIN, apiKey: identity.promoterKey.reveal(), rights: [...SANDBOX_AGENT_RIGHTS] });
    });
  } finally {
    await minter.revoke(login);
  }
  return identity;
}

export interface HermeticDolibarr {
  readonly port: number;
  readonly urls: { readonly prod: string; readonly sandbox: string };
  readonly standins: DolibarrStandins;
  /** The post-restore overlay: the agent's sandbox key (as the sandbox's config in Vault has it) and rights. */
  applySandboxOverlay(key: Secret): Promise<void>;
  close(): Promise<void>;
}

/** grantApiAccess for the sandbox's agent, as one SQL script (keys stored as the stand-in stores them). */
function overlaySql(identity: HermeticDolibarrIdentity): string {
  const stored = storedApiKey(identity.sandboxInstanceId, identity.sandboxAgentKey.reveal());
  const rights = SANDBOX_AGENT_RIGHTS.join(', ');
  return [
    'BEGIN;',
    `UPDATE llx_user SET api_key = '${stored}' WHERE login = '${AGENT_LOGIN}' AND entity IN (0, 1);`,
    `DELETE FROM llx_user_rights WHERE fk_user = (SELECT rowid FROM llx_user WHERE login = '${AGENT_LOGIN}') AND entity = 1 AND NOT (fk_id = ANY(ARRAY[${rights}]));`,
    `INSERT INTO llx_user_rights (entity, fk_user, fk_id) SELECT 1, (SELECT rowid FROM llx_user WHERE login = '${AGENT_LOGIN}'), r FROM unnest(ARRAY[${rights}]) AS r ON CONFLICT (entity, fk_user, fk_id) DO NOTHING;`,
    'COMMIT;',
  ].join('\n');
}

function isAddressInUse(error: unknown): boolean {
  return (error as { code?: unknown })?.code === 'EADDRINUSE';
}

/** Starts prod's and the sandbox's stand-ins on one port. */
export async function startHermeticDolibarr(
  config: HarnessConfig,
  network: HermeticNetwork,
  endpoint: Endpoint,
  minter: CredentialMinter,
  identity: HermeticDolibarrIdentity,
): Promise<HermeticDolibarr> {
  const { prod, sandbox } = config;
  const issued = await network.authority.issue([prod.host, sandbox.host]);
  const tls = { key: Buffer.from(issued.key), cert: Buffer.from(issued.cert) };
  const profile = DOLIBARR_VERSIONS[config.dolibarrVersion];
  const prodLogin = await minter.mint(prod);
  let sandboxLogin = await minter.mint(sandbox);

  let standins: { prod: DolibarrStandin; sandbox: DolibarrStandin } | undefined;
  for (let attempt = 1; standins === undefined; attempt++) {
    const prodStandin = await startDolibarrStandin({
      host: prod.host, ...tls, address: network.addresses.prod, instanceId: identity.prodInstanceId, profile,
      database: { endpoint, login: prodLogin, name: prod.database },
    });
    try {
      const sandboxStandin = await startDolibarrStandin({
        host: sandbox.host, ...tls, address: network.addresses.sandbox, port: prodStandin.port, instanceId: identity.sandboxInstanceId, profile,
        database: { endpoint, login: sandboxLogin, name: sandbox.database },
      });
      standins = { prod: prodStandin, sandbox: sandboxStandin };
    } catch (error) {
      await prodStandin.close();
      if (!isAddressInUse(error) || attempt === PORT_ATTEMPTS) throw error;
    }
  }
  const { port } = standins.prod;
  const started = standins;
  return {
    port,
    urls: { prod: `https://${prod.host}:${port}`, sandbox: `https://${sandbox.host}:${port}` },
    standins: {
      counts: () => ({
        prod: { connections: started.prod.connections(), requests: started.prod.requests() },
        sandbox: { connections: started.sandbox.connections(), requests: started.sandbox.requests() },
      }),
      addresses: { prod: network.addresses.prod, sandbox: network.addresses.sandbox },
      redirectSandboxTo: (location) => started.sandbox.redirectEverythingTo(location),
      async loseSandboxDatabase() {
        // Vault revokes the stand-in's lease (its login role is dropped), as an outage of its credentials would look.
        await minter.revoke(sandboxLogin);
        let restored = false;
        return async () => {
          if (restored) return;
          restored = true;
          sandboxLogin = await minter.mint(sandbox);
          started.sandbox.useDatabaseLogin(sandboxLogin);
        };
      },
      overlaySql: () => overlaySql(identity),
    },
    async applySandboxOverlay(key) {
      const login = await minter.mint(sandbox);
      try {
        await withClient(endpoint, login, sandbox.database, (client) =>
          grantApiAccess(client, { instanceId: identity.sandboxInstanceId, login: AGENT_LOGIN, apiKey: key.reveal(), rights: [...SANDBOX_AGENT_RIGHTS] }),
        );
      } finally {
        await minter.revoke(login);
      }
    },
    async close() {
      await Promise.all([started.prod.close(), started.sandbox.close()]);
    },
  };
}
