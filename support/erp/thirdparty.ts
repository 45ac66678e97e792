import type { Client } from 'pg';

/** The names of the thirdparty `id` in the ERP's own table (none when it does not exist), read through `client`. */
export async function thirdpartyNames(client: Client, id: number): Promise<string[]> {
  const { rows } = await client.query<{ nom: string }>('SELECT nom FROM llx_societe WHERE rowid = $1', [id]);
  return rows.map((row) => row.nom);
}
