import { randomBytes } from 'node:crypto';
import type { InstanceNames } from '../../support/naming';
import type { Endpoint, Login } from '../../support/postgres/cluster';
import { withClient } from '../../support/postgres/connect';
import {
  creationStatements,
  renderStatements,
  REVOCATION_STATEMENTS,
  RevocationError,
  vaultExpiration,
  vaultUsername,
  type CredentialMinter,
  type MintedLogin,
} from '../../support/postgres/minting';

/**
 * TEST SETUP ONLY: mints login roles directly as `credentials_editor`, with Vault's creation statement and username
 * template but without Vault, for tests that build a cluster by hand. The harness itself obtains every login from
 * Vault (support/vault).
 */
export interface DirectMinterOptions {
  readonly endpoint: Endpoint;
  readonly credentialsEditor: Login;
  /** Vault prefixes the token's display name with the auth mount: `token`, `kubernet`… */
  readonly displayName?: string;
  readonly ttlSeconds?: number;
}

export class DirectMinter implements CredentialMinter {
  private readonly outstanding = new Map<string, MintedLogin>();
  private serial = 0;

  constructor(private readonly options: DirectMinterOptions) {}

  async mint(names: InstanceNames): Promise<MintedLogin> {
    const now = new Date();
    const expiresAt = new Date(now.getTime() + (this.options.ttlSeconds ?? 3600) * 1000);
    const user = vaultUsername(this.options.displayName ?? 'token', names.vaultRole, now);
    const password = randomBytes(15).toString('base64url');
    const sql = renderStatements(creationStatements(names.ownerRole), {
      name: user,
      password,
      expiration: vaultExpiration(expiresAt),
    });
    await withClient(this.options.endpoint, this.options.credentialsEditor, 'postgres', async (client) => {
      // Vault runs the creation statements in one transaction: a role without its grant never exists.
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
    });
    const login: MintedLogin = {
      user,
      password,
      instance: names.instance,
      ownerRole: names.ownerRole,
      leaseId: `${names.credsPath}/${(++this.serial).toString().padStart(6, '0')}`,
      expiresAt,
    };
    this.outstanding.set(login.leaseId, login);
    return login;
  }

  async revoke(login: MintedLogin): Promise<void> {
    await withClient(this.options.endpoint, this.options.credentialsEditor, 'postgres', async (client) => {
      try {
        await client.query(renderStatements(REVOCATION_STATEMENTS, { name: login.user }));
      } catch (error) {
        const { code, message } = error as { code?: string; message: string };
        // 2BP01: the login role owns objects (made without SET ROLE); Vault would leave it irrevocable.
        const hint = code === '2BP01' ? ` — it owns objects: whatever made them must SET ROLE ${login.ownerRole} first` : '';
        throw new RevocationError(login.user, code, `cannot revoke lease ${login.leaseId} (${login.user}): ${message}${hint}`);
      }
    });
    this.outstanding.delete(login.leaseId);
  }

  async revokeAll(): Promise<void> {
    const failures: string[] = [];
    for (const login of [...this.outstanding.values()]) {
      await this.revoke(login).catch((error: Error) => failures.push(error.message));
    }
    if (failures.length > 0) throw new RevocationError('', undefined, failures.join('\n'));
  }
}
