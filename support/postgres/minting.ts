import { randomBytes, randomInt } from 'node:crypto';
import type { InstanceNames } from '../naming';
import type { Endpoint, Login } from './cluster';
import { ident, withClient } from './connect';

/**
 * Dynamic login roles, minted the way Vault's database secrets engine mints them: as
 * `credentials_editor`, by the instance's creation statement, with a Vault-style username, and dropped
 * again at revocation. A later layer puts Vault's HTTP API in front of this; the interface stays.
 */

/** A short-lived login role and the lease it belongs to. `password` is a secret. */
export interface MintedLogin extends Login {
  readonly instance: string;
  readonly ownerRole: string;
  readonly leaseId: string;
  readonly expiresAt: Date;
  /** Where Vault minted it: the creds path, the auth method and role of the identity, the instance's database. */
  readonly vault?: { readonly path: string; readonly auth: string; readonly role: string; readonly database: string };
}

export interface CredentialMinter {
  mint(names: InstanceNames): Promise<MintedLogin>;
  revoke(login: MintedLogin): Promise<void>;
  /** Revokes every lease this minter handed out and has not revoked yet. */
  revokeAll(): Promise<void>;
}

/** The factory's creation statement (tools app_roles module): login plus membership, nothing else. */
export function creationStatements(ownerRole: string): string {
  return `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'; GRANT ${ident(ownerRole)} TO "{{name}}";`;
}

/** Vault's default revocation for PostgreSQL ends with this; it never reassigns or drops owned objects. */
export const REVOCATION_STATEMENTS = 'DROP ROLE IF EXISTS "{{name}}";';

/** Substitutes Vault's template variables. */
export function renderStatements(template: string, values: { name: string; password?: string; expiration?: string }): string {
  return template
    .replace(/\{\{name\}\}/g, values.name)
    .replace(/\{\{password\}\}/g, values.password ?? '')
    .replace(/\{\{expiration\}\}/g, values.expiration ?? '');
}

/** Vault's expiration format, Go layout `2006-01-02 15:04:05-0700`, in UTC. */
export function vaultExpiration(at: Date): string {
  return `${at.toISOString().slice(0, 19).replace('T', ' ')}+0000`;
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Vault's default username template: `v-<display ≤8>-<role ≤8>-<20 random>-<unix seconds>`, ≤ 63 chars. */
export function vaultUsername(displayName: string, roleName: string, now: Date): string {
  const random = Array.from({ length: 20 }, () => ALPHANUMERIC[randomInt(ALPHANUMERIC.length)]).join('');
  const unix = Math.floor(now.getTime() / 1000);
  return `v-${displayName.slice(0, 8)}-${roleName.slice(0, 8)}-${random}-${unix}`.slice(0, 63);
}

/** Vault's default username shape, for assertions about minted roles. */
export const VAULT_USERNAME = /^v-[^-]{1,8}-[a-z0-9-]{1,8}-[A-Za-z0-9]{20}-\d{10}$/;

export class RevocationError extends Error {
  override readonly name = 'RevocationError';
  constructor(
    readonly username: string,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

export interface PostgresMinterOptions {
  readonly endpoint: Endpoint;
  readonly credentialsEditor: Login;
  /** Vault prefixes the token's display name with the auth mount: `token`, `kubernet`… */
  readonly displayName?: string;
  readonly ttlSeconds?: number;
}

export class PostgresMinter implements CredentialMinter {
  private readonly outstanding = new Map<string, MintedLogin>();
  private serial = 0;

  constructor(private readonly options: PostgresMinterOptions) {}

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
