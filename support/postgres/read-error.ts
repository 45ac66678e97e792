import type { Client, QueryResultRow } from 'pg';

/**
 * A read the server refused, saying what was being read: the snapshot and the drift check name the catalog or table
 * they could not read, with PostgreSQL's SQLSTATE, so the operator knows which privilege is missing.
 */
export class ReadError extends Error {
  constructor(
    message: string,
    readonly code?: string,
    options?: ErrorOptions,
  ) {
    super(code === undefined ? message : `${message} (SQLSTATE ${code})`, options);
  }
}

/** Runs `sql`; a failure becomes an `As` (a ReadError) that says what was being read. */
export async function readRows<R extends QueryResultRow>(
  client: Client,
  what: string,
  sql: string,
  params: readonly unknown[] | undefined,
  As: new (message: string, code?: string, options?: ErrorOptions) => ReadError,
): Promise<R[]> {
  try {
    return (await client.query<R>(sql, params as unknown[] | undefined)).rows;
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    throw new As(`${what}: ${message}`, code, { cause: error });
  }
}
