import type { Client } from 'pg';
import { ident, literal } from '../postgres/connect';

/**
 * Writes a rehearsal may make besides rows, as the sandbox owner role (SET ROLE, as every write of the app): a
 * sequence step and a schema change. The snapshot must see both, or a reset could leave them behind unseen.
 */

async function asOwner(client: Client, ownerRole: string, sql: string): Promise<void> {
  await client.query(`SET ROLE ${ident(ownerRole)}`);
  try {
    await client.query(sql);
  } finally {
    await client.query('RESET ROLE');
  }
}

/** `nextval` on `sequence` (schema-qualified): the sequence moves, no row does. */
export function advanceSequence(client: Client, ownerRole: string, sequence: string): Promise<void> {
  return asOwner(client, ownerRole, `SELECT nextval(${literal(sequence)}::regclass)`);
}

/** `ALTER TABLE … ALTER COLUMN … SET DEFAULT '<value>'`: the table's definition changes, no row does. */
export function setColumnDefault(client: Client, ownerRole: string, table: string, column: string, value: string): Promise<void> {
  return asOwner(client, ownerRole, `ALTER TABLE ${table} ALTER COLUMN ${ident(column)} SET DEFAULT ${literal(value)}`);
}
