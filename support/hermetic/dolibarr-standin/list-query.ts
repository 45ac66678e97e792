/**
 * List parameters: limit/page/sort and a subset of Dolibarr's sqlfilters syntax "(t.col:op:value) AND (…)", and
 * which rows a user may see in a list.
 */
import { hasRight, RIGHT, type ApiUser } from './auth';
import { fail, type ApiError } from './errors';

const COLUMN = /^t\.([a-z_][a-z0-9_]{0,62})$/;
const FILTER_OPS: Record<string, string> = {
  '=': '=', '!=': '<>', '<>': '<>', '<': '<', '>': '>', '<=': '<=', '>=': '>=', like: 'LIKE', notlike: 'NOT LIKE',
};

/** A statement being built: `values` are its `$n` parameters, in order. */
export interface Sql {
  text: string;
  values: unknown[];
}

/** The WHERE term for `sqlfilters`; pushes its values onto `values`. Throws 400 on anything it cannot parse. */
export function sqlFilters(filters: string, values: unknown[], source: string): string {
  const bad = (why: string): ApiError => fail(400, source, `Error when validating parameter sqlfilters -> ${why}`);
  const parts: string[] = [];
  let rest = filters.trim();
  const term = /^\(\s*(t\.[a-z_][a-z0-9_]*)\s*:\s*(=|!=|<>|<=|>=|<|>|like|notlike)\s*:\s*('(?:[^'\\]|\\.|'')*'|-?\d+(?:\.\d+)?)\s*\)/i;
  for (;;) {
    const m = term.exec(rest);
    if (m === null) throw bad(filters);
    const column = COLUMN.exec(m[1]!.toLowerCase())![1]!;
    const raw = m[3]!;
    const value = raw.startsWith("'") ? raw.slice(1, -1).replace(/''/g, "'").replace(/\\(.)/g, '$1') : Number(raw);
    values.push(value);
    parts.push(`t."${column}"${raw.startsWith("'") ? '::text' : ''} ${FILTER_OPS[m[2]!.toLowerCase()]} $${values.length}`);
    rest = rest.slice(m[0].length).trim();
    if (rest === '') break;
    const join = /^(AND|OR)\s+/i.exec(rest);
    if (join === null) throw bad(filters);
    parts.push(join[1]!.toUpperCase());
    rest = rest.slice(join[0].length);
  }
  return `(${parts.join(' ')})`;
}

/** ` ORDER BY … LIMIT … OFFSET …` from sortfield/sortorder/limit/page; pushes its values onto `sql.values`. */
export function listTail(query: URLSearchParams, sql: Sql, source: string): string {
  const sortfield = query.get('sortfield') ?? 't.rowid';
  const columns = sortfield.split(',').map((f) => COLUMN.exec(f.trim().toLowerCase()));
  if (columns.some((c) => c === null)) throw fail(400, source, `Error when validating parameter sortfield -> ${sortfield}`);
  const order = (query.get('sortorder') ?? 'ASC').toUpperCase() === 'DESC' ? 'DESC' : 'ASC';
  const limit = Math.min(Math.max(Number.parseInt(query.get('limit') ?? '100', 10) || 100, 1), 1000);
  const page = Math.max(Number.parseInt(query.get('page') ?? '0', 10) || 0, 0);
  sql.values.push(limit, limit * page);
  return ` ORDER BY ${columns.map((c) => `t."${c![1]}" ${order}`).join(', ')} LIMIT $${sql.values.length - 1} OFFSET $${sql.values.length}`;
}

/** Where a non-admin without societe→client→voir may see a thirdparty: only those they represent (none here). */
export function visibility(user: ApiUser): string {
  return canSee(user) ? 'TRUE' : 'FALSE';
}

/** True when the user sees every thirdparty (admin, or societe→client→voir). */
export function canSee(user: ApiUser): boolean {
  return hasRight(user, RIGHT.clientVoir);
}
