import { PROD_ENV, instanceNames, type InstanceNames } from '../naming';

/**
 * The one exception to the host-guard: promote (support/promote) replays a reviewed and approved changeset on prod,
 * and only for that command does the write tooling's guard allow prod's host instead of the sandbox's. The
 * exception is an object only `grantProdWrites` makes (it is remembered here, so a look-alike object is refused),
 * and only support/promote calls it (test/promote-boundary.test.ts checks the module graph).
 */

const grants = new WeakSet<ProdWriteGrant>();

export interface ProdWriteGrant {
  /** The prod instance the grant lets the tooling write to: its host becomes the guard's only host. */
  readonly prod: InstanceNames;
}

/** Made by promote once a changeset is approved. `prod` must be the naming rule's prod instance. */
export function grantProdWrites(prod: InstanceNames): ProdWriteGrant {
  const domain = prod.host.startsWith(`${prod.instance}.`) ? prod.host.slice(prod.instance.length + 1) : '';
  if (prod.env !== PROD_ENV || instanceNames(prod.app, PROD_ENV, domain).host !== prod.host) {
    throw new TypeError(`a prod-write grant is for a prod instance of the naming rule, not ${JSON.stringify(prod.host)}`);
  }
  const grant: ProdWriteGrant = Object.freeze({ prod });
  grants.add(grant);
  return grant;
}

/** The prod host a grant made by grantProdWrites allows; throws for anything else. */
export function grantedHost(grant: ProdWriteGrant): string {
  if (!grants.has(grant)) throw new TypeError('DolibarrClient: a prod-write grant must come from grantProdWrites (support/promote)');
  return grant.prod.host;
}
