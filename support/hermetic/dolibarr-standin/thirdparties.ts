/** `/thirdparties` and `/thirdparties/{id}` (api_thirdparties.class.php): rows of `llx_societe`. */
import { hasRight, RIGHT } from './auth';
import { asObject, createdId, fieldValue, positiveId, type Call } from './call';
import type { Queryable } from './database';
import { ApiError, denied, fail, verboseDatabaseError } from './errors';
import { canSee, listTail, sqlFilters, visibility, type Sql } from './list-query';
import { THIRDPARTY_WRITABLE, thirdpartyObject } from './render';

const TP = 'api_thirdparties.class.php';

async function fetchThirdparty(db: Queryable, call: Call, id: number): Promise<Record<string, unknown>> {
  const { user, profile } = call;
  const { rows } = await db.query('SELECT * FROM llx_societe t WHERE t.rowid = $1 AND t.entity IN (0, 1)', [id]);
  if (rows.length === 0) throw fail(404, TP, 'Thirdparty not found');
  if (!canSee(user)) throw denied(profile, TP, `Access not allowed for login ${user.login}`);
  return rows[0] as Record<string, unknown>;
}

async function list(db: Queryable, call: Call): Promise<unknown> {
  const { user, query, profile } = call;
  if (!hasRight(user, RIGHT.societeLire)) throw denied(profile, TP);
  const sql: Sql = { text: '', values: [] };
  const where = ['t.entity IN (0, 1)', visibility(user)];
  const mode = query.get('mode');
  if (mode === '1') where.push('t.client IN (1, 3)');
  if (mode === '2') where.push('t.client IN (2, 3)');
  if (mode === '3') where.push('t.client = 0 AND t.fournisseur = 0');
  if (mode === '4') where.push('t.fournisseur = 1');
  const filters = query.get('sqlfilters');
  if (filters !== null && filters !== '') where.push(sqlFilters(filters, sql.values, TP));
  sql.text = `SELECT t.* FROM llx_societe t WHERE ${where.join(' AND ')}`;
  sql.text += listTail(query, sql, TP);
  const { rows } = await db.query(sql.text, sql.values).catch((error: Error) => {
    throw fail(503, TP, `Error when retrieve thirdparties : ${verboseDatabaseError(error, sql.text)}`);
  });
  if (rows.length === 0) throw new ApiError(404, profile.noThirdparties.value, TP);
  return rows.map(thirdpartyObject);
}

async function create(db: Queryable, call: Call): Promise<number | string> {
  const { user } = call;
  if (!hasRight(user, RIGHT.societeCreer)) throw denied(call.profile, TP);
  const body = asObject(call.body, TP);
  if (body['name'] === undefined || body['name'] === null || body['name'] === '') throw fail(400, TP, 'name field missing');
  const columns = ['entity', 'datec', 'fk_user_creat', 'status'];
  const values: unknown[] = [1, new Date(), user.id, 1];
  for (const [field, value] of Object.entries(body)) {
    const column = THIRDPARTY_WRITABLE.get(field);
    if (column === undefined) continue; // Dolibarr ignores unknown properties
    const at = columns.indexOf(column);
    if (at >= 0) values[at] = fieldValue(value, field, TP);
    else {
      columns.push(column);
      values.push(fieldValue(value, field, TP));
    }
  }
  const { rows } = await db
    .query<{ rowid: number }>(
      `INSERT INTO llx_societe (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING rowid`,
      values,
    )
    .catch((error: Error) => {
      throw fail(500, TP, `Error creating thirdparty: ${error.message}`);
    });
  return createdId(call, rows[0]!.rowid);
}

async function update(db: Queryable, call: Call, id: number): Promise<unknown> {
  const { user } = call;
  if (!hasRight(user, RIGHT.societeCreer)) throw denied(call.profile, TP);
  await fetchThirdparty(db, call, id);
  const body = asObject(call.body, TP);
  const sets: string[] = ['fk_user_modif = $2'];
  const values: unknown[] = [id, user.id];
  for (const [field, value] of Object.entries(body)) {
    const column = THIRDPARTY_WRITABLE.get(field);
    if (column === undefined) continue;
    values.push(fieldValue(value, field, TP));
    sets.push(`"${column}" = $${values.length}`);
  }
  await db.query(`UPDATE llx_societe SET ${sets.join(', ')}, tms = now() WHERE rowid = $1`, values).catch((error: Error) => {
    throw fail(500, TP, `Error updating thirdparty: ${error.message}`);
  });
  return thirdpartyObject(await fetchThirdparty(db, call, id));
}

async function remove(db: Queryable, call: Call, id: number): Promise<unknown> {
  const { user } = call;
  if (!hasRight(user, RIGHT.societeSupprimer)) throw denied(call.profile, TP);
  await fetchThirdparty(db, call, id);
  try {
    await db.query('DELETE FROM llx_societe WHERE rowid = $1', [id]);
  } catch (error) {
    if ((error as { code?: string }).code === '23503') throw fail(409, TP, "Can't delete, that product is probably used");
    throw fail(500, TP, "Can't delete, error occurs");
  }
  return { success: { code: 200, message: 'Object deleted' } };
}

export async function thirdparties(db: Queryable, call: Call): Promise<unknown> {
  const { method, segments, user } = call;
  if (segments.length === 1 && method === 'GET') return list(db, call);
  if (segments.length === 1 && method === 'POST') return create(db, call);
  if (segments.length === 2) {
    const id = positiveId(segments[1], TP);
    if (method === 'GET') {
      if (!hasRight(user, RIGHT.societeLire)) throw denied(call.profile, TP);
      return thirdpartyObject(await fetchThirdparty(db, call, id));
    }
    if (method === 'PUT') return update(db, call, id);
    if (method === 'DELETE') return remove(db, call, id);
    throw fail(405, TP);
  }
  throw fail(404, TP);
}
