/**
 * HERMETIC: name resolution for the stand-ins. The clients are handed this lookup so that the real host names
 * (`erp.<domain>`, `erp-sandbox.<domain>`) resolve to the loopback addresses their stand-ins listen on: the
 * host-guard sees the real names, and a request that slipped past it would really reach prod's stand-in.
 * Any other name is not found (the hermetic run never asks a real DNS server).
 */
import type { LookupFunction } from 'node:net';
import { tableLookup } from '../name-lookup';

/** Resolves exactly the names of `hosts` (case-insensitive, FQDN dot allowed); every other name is not found. */
export function loopbackLookup(hosts: ReadonlyMap<string, string>): LookupFunction {
  return tableLookup(hosts);
}
