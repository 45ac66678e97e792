import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { tableLookup } from '../name-lookup';

/**
 * Name resolution for the live target: the system's DNS, except for the names the operator overrides
 * (ERP_REHEARSAL_RESOLVE, like curl's --resolve), which resolve to the address given, whatever DNS says.
 */
export function overridingLookup(overrides: ReadonlyMap<string, string>): LookupFunction | undefined {
  if (overrides.size === 0) return undefined;
  return tableLookup(overrides, (hostname, options, callback) =>
    dnsLookup(hostname, options, callback as (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void));
}
