/** Rendering rows the way Dolibarr's API does: ids and numbers as strings, dates as unix seconds. */

export function scalar(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return Math.floor(value.getTime() / 1000);
  return String(value);
}

/** Thirdparty fields: api name → `llx_societe` column. */
export const THIRDPARTY_FIELDS: ReadonlyArray<readonly [api: string, column: string]> = [
  ['entity', 'entity'], ['name', 'nom'], ['name_alias', 'name_alias'], ['status', 'status'],
  ['client', 'client'], ['fournisseur', 'fournisseur'], ['code_client', 'code_client'],
  ['code_fournisseur', 'code_fournisseur'], ['address', 'address'], ['zip', 'zip'], ['town', 'town'],
  ['country_id', 'fk_pays'], ['phone', 'phone'], ['fax', 'fax'], ['email', 'email'], ['url', 'url'],
  ['siren', 'siren'], ['siret', 'siret'], ['tva_intra', 'tva_intra'], ['note_public', 'note_public'],
  ['note_private', 'note_private'], ['date_creation', 'datec'], ['date_modification', 'tms'],
  ['user_creation_id', 'fk_user_creat'], ['parent', 'parent'], ['ref_ext', 'ref_ext'],
];

/** Fields a POST/PUT may set (api name → column). */
export const THIRDPARTY_WRITABLE: ReadonlyMap<string, string> = new Map<string, string>(
  THIRDPARTY_FIELDS.filter(([api]) => !['entity', 'date_creation', 'date_modification', 'user_creation_id'].includes(api)),
);

export function thirdpartyObject(row: Record<string, unknown>): Record<string, unknown> {
  const object: Record<string, unknown> = { id: String(row['rowid']), ref: scalar(row['nom']) };
  for (const [api, column] of THIRDPARTY_FIELDS) object[api] = scalar(row[column]);
  return object;
}

/** An `llx_facture_fourn` row, with its `llx_facture_fourn_det` lines when given (single-object reads). */
export function supplierInvoiceObject(row: Record<string, unknown>, lines?: Record<string, unknown>[]): Record<string, unknown> {
  const object: Record<string, unknown> = {
    id: String(row['rowid']), ref: scalar(row['ref']), ref_supplier: scalar(row['ref_supplier']),
    entity: scalar(row['entity']), type: scalar(row['type']), socid: scalar(row['fk_soc']), label: scalar(row['libelle']),
    date: scalar(row['datef']), date_creation: scalar(row['datec']), date_echeance: scalar(row['date_lim_reglement']),
    paye: scalar(row['paye']), status: scalar(row['fk_statut']), statut: scalar(row['fk_statut']),
    total_ht: scalar(row['total_ht']), total_tva: scalar(row['total_tva']), total_ttc: scalar(row['total_ttc']),
    note_public: scalar(row['note_public']), note_private: scalar(row['note_private']),
    user_author: scalar(row['fk_user_author']),
  };
  if (lines !== undefined) {
    object['lines'] = lines.map((l) => ({
      id: String(l['rowid']), rowid: String(l['rowid']), fk_facture_fourn: scalar(l['fk_facture_fourn']),
      fk_product: scalar(l['fk_product']), ref: scalar(l['ref']), label: scalar(l['label']),
      description: scalar(l['description']), pu_ht: scalar(l['pu_ht']), subprice: scalar(l['pu_ht']),
      pu_ttc: scalar(l['pu_ttc']), qty: scalar(l['qty']), remise_percent: scalar(l['remise_percent']),
      tva_tx: scalar(l['tva_tx']), total_ht: scalar(l['total_ht']), total_tva: scalar(l['tva']),
      total_ttc: scalar(l['total_ttc']), product_type: scalar(l['product_type']), rang: scalar(l['rang']),
    }));
  }
  return object;
}
