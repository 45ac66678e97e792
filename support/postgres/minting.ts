import { randomInt } from 'node:crypto';
import type { InstanceNames } from '../naming';
import type { Login } from './cluster';
import { ident } from './connect';

/**
 * Dynamic login roles as Vault's database secrets engine mints them: by the instance's creation statement, run as
 * `credentials_editor`, with Vault's username template, dropped again at revocation. The harness obtains them from
 * Vault only (support/vault, VaultMinter); this module holds the shapes they share and the statements the Vault
 * stand-in runs.
 */

/** A short-lived login role and the lease it belongs to. `password` is a secret. */
export interface MintedLogin extends Login {
  readonly instance: string;
  readonly ownerRole: string;
  readonly leaseId: string;
  readonly expiresAt: Date;
  /** Where Vault minted it: the creds path, the auth method and role of the identity, the instance's database. */
  /**
   * Where Vault issued it: the creds path, the auth method and role the identity logged in as (a JWT role may serve
   * several instances), the database role whose creation statement made it, its database.
   */
  readonly vault?: { readonly path: string; readonly auth: string; readonly authRole?: string; readonly role: string; readonly database: string };
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
export const VAULT_USERNAME = /^v-[A-Za-z0-9_.-]{1,8}-[A-Za-z0-9_.-]{1,8}-[A-Za-z0-9]{20}-\d{10}$/;

/**
 * Whether `username` is one Vault's default template makes for database role `role`, whatever the auth method:
 * v-<display name ≤ 8>-<role ≤ 8>-<20 random>-<unix seconds>, where the display name may hold a hyphen (`jwt-arco`).
 */
export function mintedForRole(username: string, role: string): boolean {
  return VAULT_USERNAME.test(username) && username.split('-').slice(1, -2).join('-').endsWith(`-${role.slice(0, 8)}`);
}

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
