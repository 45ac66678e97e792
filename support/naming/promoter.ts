import type { InstanceNames } from './index';

/**
 * Where promote's own identity and the prod-write credential live, derived from prod's names like every other name
 * (ADR-0002 gives the instance's; these are the harness's convention for the promote-time credential of ADR-0003 §4):
 * a Kubernetes service account `<prod>-promote` in prod's namespace, logging in to Vault as role `<prod>-promote`,
 * whose policy alone reads `kvv2/<prod>/promote` (the prod Dolibarr key used at promote time) and prod's database
 * credentials (to snapshot prod around the replay).
 */

export interface PromoterNames {
  readonly vaultRole: string;
  readonly policy: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  /** The KV v2 path of the prod-write credential, e.g. `kvv2/erp/promote`; its key `DOLIBARR_API_KEY`. */
  readonly kvPath: string;
}

export const PROD_WRITE_KEY = 'DOLIBARR_API_KEY';

export function promoterNames(prod: InstanceNames): PromoterNames {
  const name = `${prod.instance}-promote`;
  return { vaultRole: name, policy: name, namespace: prod.namespace, serviceAccount: name, kvPath: `kvv2/${prod.instance}/promote` };
}
