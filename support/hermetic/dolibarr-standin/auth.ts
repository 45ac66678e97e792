/**
 * The Dolibarr stand-in's API authentication and rights model, read from the instance's own database: keys that
 * depend on the instance's unique id as real ones do, and rights from `llx_user_rights` (group rights not modelled:
 * the fixture has no groups).
 */
import { createHmac } from 'node:crypto';
import type { Queryable } from './database';

/** Rights ids of `llx_rights_def` that gate the API endpoints the stand-in serves. */
export const RIGHT = {
  societeLire: 121,
  societeCreer: 122,
  societeSupprimer: 125,
  /** societe→client→voir: without it, a non-admin only sees the thirdparties they are sales representative of. */
  clientVoir: 262,
  userLire: 251,
  userSelfCreer: 255,
  fournisseurLire: 1181,
  factureFournLire: 1231,
  factureFournCreer: 1232,
  factureFournSupprimer: 1234,
} as const;

export interface ApiUser {
  readonly id: number;
  readonly login: string;
  readonly admin: boolean;
  readonly entity: number;
  readonly lastname: string | null;
  readonly firstname: string | null;
  readonly email: string | null;
  readonly rights: ReadonlySet<number>;
}

/** Prefix of what the stand-in stores in `llx_user.api_key` (the real one stores `dolcrypt:…`). */
export const STORED_KEY_PREFIX = 'standin-hmac-sha256:';

/**
 * What the stand-in of instance `instanceId` stores in `llx_user.api_key` for `apiKey`: the HMAC-SHA256 of the key
 * keyed by the instance id, so that the same key has a different stored value on every instance. The real Dolibarr
 * encrypts the key with the instance id (`dolcrypt:…`) to the same effect: a database restored under another instance
 * id knows none of its keys (401) until they are re-issued there. The stored value never contains the key.
 */
export function storedApiKey(instanceId: string, apiKey: string): string {
  if (typeof instanceId !== 'string' || instanceId === '') throw new TypeError('storedApiKey: instanceId must be a non-empty string');
  return STORED_KEY_PREFIX + createHmac('sha256', instanceId).update(apiKey, 'utf8').digest('hex');
}

/** True when the user may do what right `id` allows (admins may do everything). */
export function hasRight(user: ApiUser, id: number): boolean {
  return user.admin || user.rights.has(id);
}

/**
 * The enabled user behind `apiKey` on instance `instanceId`, or undefined (unknown key, disabled user): an equality on
 * the stored value, within `entity IN (0, 1)` (conf->entity = 1).
 */
export async function authenticate(db: Queryable, instanceId: string, apiKey: string): Promise<ApiUser | undefined> {
  const { rows } = await db.query<{
    rowid: number; login: string; admin: number | null; entity: number; statut: number | null;
    lastname: string | null; firstname: string | null; email: string | null;
  }>(
    `SELECT rowid, login, admin, entity, statut, lastname, firstname, email
       FROM llx_user WHERE api_key = $1 AND entity IN (0, 1)`,
    [storedApiKey(instanceId, apiKey)],
  );
  const row = rows[0];
  if (row === undefined || rows.length !== 1 || row.statut !== 1) return undefined;
  const rights = await db.query<{ fk_id: number }>(
    `SELECT r.fk_id FROM llx_user_rights r
       JOIN llx_rights_def d ON d.id = r.fk_id AND d.entity = r.entity
      WHERE r.fk_user = $1 AND r.entity = 1`,
    [row.rowid],
  );
  return {
    id: row.rowid,
    login: row.login,
    admin: row.admin === 1,
    entity: row.entity,
    lastname: row.lastname,
    firstname: row.firstname,
    email: row.email,
    rights: new Set(rights.rows.map((r) => r.fk_id)),
  };
}

/**
 * The post-restore overlay: gives the existing llx_user `login` the API key `apiKey` for the instance `instanceId`
 * (stored as `storedApiKey(instanceId, apiKey)`, see above) and exactly the rights `rights` (entity 1), in one
 * transaction. Rows only. The caller's client must not be inside a transaction. Throws if no such user exists.
 */
export async function grantApiAccess(
  client: Queryable,
  user: { instanceId: string; login: string; apiKey: string; rights: readonly number[] },
): Promise<void> {
  if (typeof user.instanceId !== 'string' || user.instanceId === '') throw new TypeError('grantApiAccess: instanceId must be a non-empty string');
  if (typeof user.apiKey !== 'string' || user.apiKey.length < 8) throw new TypeError('grantApiAccess: apiKey must have at least 8 characters');
  if (!user.rights.every((r) => Number.isSafeInteger(r) && r > 0)) throw new TypeError('grantApiAccess: rights must be positive integers');
  await client.query('BEGIN');
  try {
    const { rows } = await client.query<{ rowid: number }>(
      'UPDATE llx_user SET api_key = $2 WHERE login = $1 AND entity IN (0, 1) RETURNING rowid',
      [user.login, storedApiKey(user.instanceId, user.apiKey)],
    );
    if (rows.length !== 1) throw new Error(`grantApiAccess: no single llx_user with login ${JSON.stringify(user.login)}`);
    const id = rows[0]!.rowid;
    await client.query('DELETE FROM llx_user_rights WHERE fk_user = $1 AND entity = 1 AND NOT (fk_id = ANY($2::int[]))', [id, user.rights]);
    await client.query(
      `INSERT INTO llx_user_rights (entity, fk_user, fk_id)
       SELECT 1, $1, r FROM unnest($2::int[]) AS r
       ON CONFLICT (entity, fk_user, fk_id) DO NOTHING`,
      [id, user.rights],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
}
