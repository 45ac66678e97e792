import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';

/**
 * Name resolution for the live target: the system's DNS, except for the names the operator overrides
 * (ERP_REHEARSAL_RESOLVE, like curl's --resolve), which resolve to the address given, whatever DNS says.
 */
export function overridingLookup(overrides: ReadonlyMap<string, string>): LookupFunction | undefined {
  if (overrides.size === 0) return undefined;
  const table = new Map([...overrides].map(([name, address]) => [name.toLowerCase(), address]));
  const lookup = (hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void): void => {
    const address = table.get(hostname.toLowerCase().replace(/\.$/, ''));
    if (address === undefined) {
      dnsLookup(hostname, options ?? {}, callback as (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void);
      return;
    }
    const family = address.includes(':') ? 6 : 4;
    process.nextTick(() => (options?.all ? callback(null, [{ address, family }]) : callback(null, address, family)));
  };
  return lookup as unknown as LookupFunction;
}
