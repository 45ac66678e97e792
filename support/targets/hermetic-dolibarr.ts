import { randomBytes } from 'node:crypto';
import { AI_AGENT_RIGHTS } from '../../fixtures/dolibarr/data/users';
import type { HarnessConfig } from '../config';
import { loopbackLookup } from '../hermetic/dns';
import { perRunCertificate } from '../hermetic/certificates';
import { grantApiAccess, RIGHT, startDolibarrStandin, type DolibarrStandin } from '../hermetic/dolibarr-standin/server';
import type { Endpoint } from '../postgres/cluster';
import { withClient } from '../postgres/connect';
import type { CredentialMinter } from '../postgres/minting';
import type { InstanceNames } from '../naming';
import { Secret } from '../secret';
import type { DolibarrSites } from './dolibarr-sites';

/**
 * HERMETIC: the two Dolibarr instances of the hermetic target, as stand-ins (support/hermetic/dolibarr-standin)
 * each backed by its own database through its own login role. Both listen on the same port, prod on
 * 127.0.0.2 and the sandbox on 127.0.0.3, and the clients resolve the real host names to those addresses:
 * a request for `https://erp.<domain>:<port>` that slipped past the host-guard would really reach prod.
 */

const ADDRESSES = { prod: '127.0.0.2', sandbox: '127.0.0.3' } as const;
/** The agent on the sandbox: prod's read-only rights plus thirdparty and supplier-invoice writes. */
export const SANDBOX_AGENT_RIGHTS: readonly number[] = [...AI_AGENT_RIGHTS, RIGHT.societeCreer, RIGHT.factureFournCreer];
const AGENT_LOGIN = 'ai_agent';
const PORT_ATTEMPTS = 5;

/** The per-run identities of the two instances: conf.php's unique ids, and the agent's keys. */
export interface HermeticDolibarrIdentity {
  readonly prodInstanceId: string;
  readonly sandboxInstanceId: string;
  readonly prodAgentKey: Secret;
  readonly sandboxAgentKey: Secret;
}

const token = (): string => randomBytes(24).toString('hex');

/**
 * Gives prod's agent its read-only API key, as the real install was given one. Runs before the golden is dumped,
 * so the golden carries prod's users and keys like a real restore does (unusable on the sandbox: its instance
 * id differs).
 */
export async function installProdAgentKey(endpoint: Endpoint, minter: CredentialMinter, prod: InstanceNames): Promise<HermeticDolibarrIdentity> {
  const identity: HermeticDolibarrIdentity = {
    prodInstanceId: token(),
    sandboxInstanceId: token(),
    prodAgentKey: new Secret('prod agent API key', token()),
    sandboxAgentKey: new Secret('sandbox agent API key', token()),
  };
  const login = await minter.mint(prod);
  try {
    await withClient(endpoint, login, prod.database, (client) =>
      grantApiAccess(client, { instanceId: identity.prodInstanceId, login: AGENT_LOGIN, apiKey: identity.prodAgentKey.reveal(), rights: [...AI_AGENT_RIGHTS] }),
    );
  } finally {
    await minter.revoke(login);
  }
  return identity;
}

export interface HermeticDolibarr {
  readonly sites: DolibarrSites;
  close(): Promise<void>;
}

function isAddressInUse(error: unknown): boolean {
  return (error as { code?: unknown })?.code === 'EADDRINUSE';
}

/** Starts prod's and the sandbox's stand-ins on one port, and describes how to reach them. */
export async function startHermeticDolibarr(
  config: HarnessConfig,
  endpoint: Endpoint,
  minter: CredentialMinter,
  identity: HermeticDolibarrIdentity,
): Promise<HermeticDolibarr> {
  const { prod, sandbox } = config;
  const certificate = await perRunCertificate([prod.host, sandbox.host]);
  const tls = { key: Buffer.from(certificate.key), cert: Buffer.from(certificate.cert) };
  const prodLogin = await minter.mint(prod);
  const sandboxLogin = await minter.mint(sandbox);

  let standins: { prod: DolibarrStandin; sandbox: DolibarrStandin } | undefined;
  for (let attempt = 1; standins === undefined; attempt++) {
    const prodStandin = await startDolibarrStandin({
      host: prod.host, ...tls, address: ADDRESSES.prod, instanceId: identity.prodInstanceId,
      database: { endpoint, login: prodLogin, name: prod.database },
    });
    try {
      const sandboxStandin = await startDolibarrStandin({
        host: sandbox.host, ...tls, address: ADDRESSES.sandbox, port: prodStandin.port, instanceId: identity.sandboxInstanceId,
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
  const url = (host: string): string => `https://${host}:${port}`;

  const sites: DolibarrSites = {
    prod: { host: prod.host, url: url(prod.host) },
    sandbox: { host: sandbox.host, url: url(sandbox.host) },
    port,
    ca: certificate.ca,
    lookup: loopbackLookup(new Map([[prod.host, ADDRESSES.prod], [sandbox.host, ADDRESSES.sandbox]])),
    keys: { sandboxAgent: identity.sandboxAgentKey, prodAgent: identity.prodAgentKey },
    async applySandboxOverlay() {
      const login = await minter.mint(sandbox);
      try {
        await withClient(endpoint, login, sandbox.database, (client) =>
          grantApiAccess(client, {
            instanceId: identity.sandboxInstanceId, login: AGENT_LOGIN, apiKey: identity.sandboxAgentKey.reveal(), rights: [...SANDBOX_AGENT_RIGHTS],
          }),
        );
      } finally {
        await minter.revoke(login);
      }
    },
    standins: {
      counts: () => ({
        prod: { connections: started.prod.connections(), requests: started.prod.requests() },
        sandbox: { connections: started.sandbox.connections(), requests: started.sandbox.requests() },
      }),
      addresses: ADDRESSES,
      redirectSandboxTo: (location) => started.sandbox.redirectEverythingTo(location),
    },
  };
  return {
    sites,
    async close() {
      await Promise.all([started.prod.close(), started.sandbox.close()]);
    },
  };
}
