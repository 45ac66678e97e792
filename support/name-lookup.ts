import type { LookupFunction } from 'node:net';

type Callback = (...args: unknown[]) => void;
type Fallback = (hostname: string, options: { all?: boolean }, callback: Callback) => void;

/**
 * A `net.lookup`-compatible function resolving the names of `hosts` (case-insensitive, one FQDN dot allowed) to
 * their address; any other name goes to `fallback`, or is not found when there is none.
 */
export function tableLookup(hosts: ReadonlyMap<string, string>, fallback?: Fallback): LookupFunction {
  const table = new Map([...hosts].map(([name, address]) => [name.toLowerCase(), address]));
  const lookup = (hostname: string, options: { all?: boolean }, callback: Callback): void => {
    const address = table.get(hostname.toLowerCase().replace(/\.$/, ''));
    if (address === undefined && fallback) {
      fallback(hostname, options ?? {}, callback);
      return;
    }
    const family = address?.includes(':') ? 6 : 4;
    process.nextTick(() => {
      if (address === undefined) callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname }));
      else if (options?.all) callback(null, [{ address, family }]);
      else callback(null, address, family);
    });
  };
  return lookup as unknown as LookupFunction;
}
