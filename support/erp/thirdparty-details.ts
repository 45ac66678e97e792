import type { Client } from 'pg';
import type { DolibarrClient } from '../dolibarr/client';

/**
 * A rehearsal write that completes a supplier, as the agent's write tooling makes it through Dolibarr's API
 * (`PUT /thirdparties/{id}`): its country and supplier code. The known rehearsal write (supplier-invoice.ts) creates its
 * supplier with a name only; a supplier the books can use needs both (see assertions/thirdparty-completeness.ts).
 */

export interface SupplierDetails {
  /** llx_c_country.rowid, as the API's `country_id`. */
  readonly countryId: number;
  readonly supplierCode: string;
}

export async function completeSupplier(tooling: DolibarrClient, thirdpartyId: number, details: SupplierDetails): Promise<void> {
  await tooling.updateThirdparty(thirdpartyId, { country_id: details.countryId, code_fournisseur: details.supplierCode });
}

/** The rowid of the country `code` (ISO 3166, e.g. "FR") in the ERP's dictionary `llx_c_country`, read through `client`. */
export async function countryIdOf(client: Client, code: string): Promise<number> {
  const { rows } = await client.query<{ rowid: number }>('SELECT rowid FROM llx_c_country WHERE code = $1', [code]);
  if (rows.length !== 1) throw new Error(`the ERP's llx_c_country has ${rows.length === 0 ? 'no' : rows.length} countries with code "${code}"`);
  return rows[0]!.rowid;
}
