import type { Client } from 'pg';

/**
 * Whether a thirdparty (`llx_societe`) holds what the business needs before it is used. The required fields, and of
 * whom each is required, live in REQUIRED_THIRDPARTY_FIELDS and nowhere else.
 */

export interface ThirdpartyRecord {
  readonly id: number;
  readonly name: string | null;
  readonly countryId: number | null;
  /** The code of `countryId` in llx_c_country; null when it is not set or not a known country. */
  readonly countryCode: string | null;
  /** llx_societe.client: 0 none, 1 customer, 2 prospect, 3 both. */
  readonly client: number;
  /** llx_societe.fournisseur: 1 for a supplier. */
  readonly supplier: number;
  readonly customerCode: string | null;
  readonly supplierCode: string | null;
}

export interface RequiredField {
  /** How the field is named in findings, e.g. "supplier code". */
  readonly label: string;
  readonly column: string;
  /** Who must have it, in words. */
  readonly requiredOf: string;
  readonly appliesTo: (thirdparty: ThirdpartyRecord) => boolean;
  /** Whether it is there; a reason when it is set but not usable (e.g. an unknown country). */
  readonly check: (thirdparty: ThirdpartyRecord) => true | string | false;
}

const filled = (value: string | null) => value !== null && value.trim() !== '';

export const REQUIRED_THIRDPARTY_FIELDS: readonly RequiredField[] = [
  { label: 'name', column: 'nom', requiredOf: 'every thirdparty', appliesTo: () => true, check: (t) => filled(t.name) },
  {
    label: 'country',
    column: 'fk_pays',
    requiredOf: 'every thirdparty',
    appliesTo: () => true,
    check: (t) => (t.countryId === null ? false : t.countryCode !== null || `fk_pays ${t.countryId} is not a country of llx_c_country`),
  },
  { label: 'supplier code', column: 'code_fournisseur', requiredOf: 'a supplier (fournisseur = 1)', appliesTo: (t) => t.supplier === 1, check: (t) => filled(t.supplierCode) },
  {
    label: 'customer code',
    column: 'code_client',
    requiredOf: 'a customer or prospect (client = 1, 2 or 3)',
    appliesTo: (t) => [1, 2, 3].includes(t.client),
    check: (t) => filled(t.customerCode),
  },
];

/** What the thirdparty lacks, by label (`country`, or `country (fk_pays 99 is not a country of llx_c_country)`); empty: complete. */
export function missingFields(thirdparty: ThirdpartyRecord, required: readonly RequiredField[] = REQUIRED_THIRDPARTY_FIELDS): string[] {
  const missing: string[] = [];
  for (const field of required) {
    if (!field.appliesTo(thirdparty)) continue;
    const outcome = field.check(thirdparty);
    if (outcome === true) continue;
    missing.push(outcome === false ? field.label : `${field.label} (${outcome})`);
  }
  return missing;
}

interface SocieteRow {
  rowid: number;
  nom: string | null;
  fk_pays: number | null;
  country_code: string | null;
  client: number | null;
  fournisseur: number | null;
  code_client: string | null;
  code_fournisseur: string | null;
}

/** The thirdparty `id` as the completeness check reads it; an error when there is none. */
export async function readThirdparty(client: Client, id: number): Promise<ThirdpartyRecord> {
  const { rows } = await client.query<SocieteRow>(
    `SELECT s.rowid, s.nom, s.fk_pays, c.code AS country_code, s.client, s.fournisseur, s.code_client, s.code_fournisseur
       FROM llx_societe s LEFT JOIN llx_c_country c ON c.rowid = s.fk_pays
      WHERE s.rowid = $1`,
    [id],
  );
  const row = rows[0];
  if (!row) throw new Error(`no thirdparty with rowid ${id} in llx_societe`);
  return {
    id: row.rowid,
    name: row.nom,
    countryId: row.fk_pays,
    countryCode: row.country_code,
    client: row.client ?? 0,
    supplier: row.fournisseur ?? 0,
    customerCode: row.code_client,
    supplierCode: row.code_fournisseur,
  };
}

/** The thirdparty `id` and what it lacks (empty `missing`: complete). */
export async function thirdpartyCompleteness(client: Client, id: number): Promise<{ id: number; name: string | null; missing: string[] }> {
  const thirdparty = await readThirdparty(client, id);
  return { id, name: thirdparty.name, missing: missingFields(thirdparty) };
}

/** The rowid of the one thirdparty named `name`; an error naming them when there are none or several. */
export async function thirdpartyNamed(client: Client, name: string): Promise<number> {
  const { rows } = await client.query<{ rowid: number }>('SELECT rowid FROM llx_societe WHERE nom = $1 ORDER BY rowid', [name]);
  if (rows.length === 0) throw new Error(`no thirdparty named "${name}" in llx_societe`);
  if (rows.length > 1) throw new Error(`${rows.length} thirdparties are named "${name}" (rowids ${rows.map((row) => row.rowid).join(', ')}): name one`);
  return rows[0]!.rowid;
}
