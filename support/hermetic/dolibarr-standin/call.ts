/** One authenticated API call as the endpoints see it, and the checks on its path, parameters and body. */
import type { DolibarrProfile } from '../../dolibarr/versions';
import type { ApiUser } from './auth';
import { fail } from './errors';

export interface Call {
  readonly method: string;
  /** Path segments after `/api/index.php/`, e.g. `['thirdparties', '12']`. */
  readonly segments: readonly string[];
  readonly query: URLSearchParams;
  /** The parsed JSON body, undefined when there is none. */
  readonly body: unknown;
  readonly user: ApiUser;
  /** The version the stand-in answers as. */
  readonly profile: DolibarrProfile;
}

/** The id of a path segment; anything but a positive 32-bit integer is a 404 like an unknown route. */
export function positiveId(text: string | undefined, source: string): number {
  if (text === undefined || !/^[1-9]\d{0,9}$/.test(text) || Number(text) > 2147483647) throw fail(404, source);
  return Number(text);
}

export function asObject(body: unknown, source: string): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw fail(400, source, 'Error parsing request body');
  return body as Record<string, unknown>;
}

/** A value to store in a text or number column; booleans become 1/0. */
export function fieldValue(value: unknown, field: string, source: string): string | number | null {
  if (value === null || typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  throw fail(400, source, `invalid value for field ${field}`);
}

/** A number given as a number or a numeric string; `fallback` when absent or empty. */
export function numberField(value: unknown, field: string, fallback: number, source: string): number {
  if (value === undefined || value === null || value === '') return fallback;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isFinite(n)) throw fail(400, source, `invalid number for field ${field}`);
  return n;
}

/** The id a create answers, as the version answers it: a bare JSON number, or a JSON string (19). */
export function createdId(call: Call, id: number): number | string {
  return call.profile.createdId.value === 'string' ? String(id) : id;
}
