/**
 * Dolibarr's API errors as Restler words them: `{"error":{"code":<n>,"message":"<reason>[: detail]"}}`, where
 * `source` is the PHP file the real one names in its `debug` object. The reason prefix is always there (19.0.2 and
 * 23 show it on every error, `Not Found: Thirdparty not found` included).
 */
import { missingRight, type DolibarrProfile } from '../../dolibarr/versions';

export const REASONS: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  409: 'Conflict', 500: 'Internal Server Error', 503: 'Service Unavailable',
};

/** A Restler RestException: `message` is the full `error.message` of the body. */
export class ApiError extends Error {
  constructor(readonly code: number, message: string, readonly source: string) {
    super(message);
  }
}

/** `Forbidden`, `Forbidden: <detail>`, `Not Found: <detail>`… as Restler words them. */
export const fail = (code: number, source: string, detail?: string): ApiError =>
  new ApiError(code, detail === undefined ? REASONS[code]! : `${REASONS[code]}: ${detail}`, source);

/** A rights check that fails, as the version words it (401 on 19, 403 since 20). */
export function denied(profile: DolibarrProfile, source: string, detail?: string): ApiError {
  const { status, message } = missingRight(profile, detail);
  return new ApiError(status, message, source);
}

/**
 * PostgreSQL's error as Dolibarr passes it on (`$db->lasterror()` with libpq's verbose text): the SQLSTATE after the
 * severity, the statement line with a caret under the position, and the server's source location.
 */
export function verboseDatabaseError(error: unknown, sql: string): string {
  const e = error as { severity?: string; code?: string; message?: string; position?: string; routine?: string; file?: string; line?: string };
  const lines = [`${e.severity ?? 'ERROR'}:  ${e.code === undefined ? '' : `${e.code}: `}${e.message ?? String(error)}`];
  const position = Number(e.position);
  if (Number.isInteger(position) && position > 0) {
    const before = sql.slice(0, position - 1);
    const lineNumber = before.split('\n').length;
    const column = before.length - (before.lastIndexOf('\n') + 1);
    const prefix = `LINE ${lineNumber}: `;
    lines.push(`${prefix}${sql.split('\n')[lineNumber - 1] ?? ''}`, `${' '.repeat(prefix.length + column)}^`);
  }
  if (e.routine !== undefined) lines.push(`LOCATION:  ${e.routine}, ${e.file ?? '?'}:${e.line ?? '?'}`);
  return lines.join('\n');
}

