/**
 * HERMETIC: name resolution for the stand-ins. The clients are handed this lookup so that the real host names
 * (`erp.<domain>`, `erp-sandbox.<domain>`) resolve to the loopback addresses their stand-ins listen on: the
 * host-guard sees the real names, and a request that slipped past it would really reach prod's stand-in.
 * Any other name is not found (the hermetic run never asks a real DNS server).
 */
import type { LookupFunction } from 'node:net';

/** A `net.lookup`-compatible function resolving exactly the names of `hosts` (case-insensitive, FQDN dot allowed). */
export function loopbackLookup(hosts: ReadonlyMap<string, string>): LookupFunction {
  const table = new Map([...hosts].map(([name, address]) => [name.toLowerCase(), address]));
  const lookup = (hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void): void => {
    const address = table.get(hostname.toLowerCase().replace(/\.$/, ''));
    process.nextTick(() => {
      if (address === undefined) {
        callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname }));
      } else if (options?.all) {
        callback(null, [{ address, family: 4 }]);
      } else {
        callback(null, address, 4);
      }
    });
  };
  return lookup as unknown as LookupFunction;
}
