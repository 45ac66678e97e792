/**
 * What prod's and the sandbox's Dolibarr saw in a scenario, from every vantage point the target has: the hermetic
 * stand-ins count the connections and requests they accept (the server side), and on every target this process's
 * observed attempts record what they opened and sent (support/process/connections.ts, the client side). A claim such as
 * "refused before any connection" holds only if every observer agrees.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { hostKey, type NetworkLog } from '../process/connections';
import type { DolibarrSite, StandinCounts } from '../dolibarr/sites';

export type Instance = 'prod' | 'sandbox';
export type Seen = 'connections' | 'requests';

export interface Observers {
  /** What each stand-in accepted since the scenario started (hermetic targets only). */
  readonly standins?: Readonly<Record<Instance, StandinCounts>>;
  /** What this process's observed attempts opened and sent in the scenario. */
  readonly log: NetworkLog;
  /** Name resolution for the Dolibarr hosts: the target's, else the system's DNS. */
  readonly lookup?: LookupFunction;
}

/** What each stand-in accepted between `before` (the scenario's start) and `now`. */
export function standinsSince(now: Readonly<Record<Instance, StandinCounts>>, before: Readonly<Record<Instance, StandinCounts>>): Record<Instance, StandinCounts> {
  const since = (instance: Instance): StandinCounts =>
    ({ connections: now[instance].connections - before[instance].connections, requests: now[instance].requests - before[instance].requests });
  return { prod: since('prod'), sandbox: since('sandbox') };
}

/** Every address `host` resolves to, through `lookup` where the target has one (as its clients do), else DNS. */
export function addressesOf(host: string, lookup: LookupFunction | undefined): Promise<string[]> {
  const resolve = (lookup ?? dnsLookup) as unknown as (
    host: string, options: { all: true }, callback: (error: Error | null, addresses: LookupAddress[]) => void) => void;
  return new Promise((done, fail) =>
    resolve(host, { all: true }, (error, addresses) =>
      error ? fail(new Error(`cannot resolve ${host} as the Dolibarr clients do: ${error.message}`)) : done(addresses.map((entry) => entry.address))));
}

/** The host and port a Dolibarr site's clients connect to. */
function endpointOf(site: DolibarrSite): { host: string; port: number } {
  const url = new URL(site.url);
  return { host: hostKey(url.hostname), port: url.port === '' ? 443 : Number(url.port) };
}

/** On a target without stand-ins, the process's own log is the only observer: it must have observed something. */
function checkObserved(observers: Observers): void {
  if (observers.standins === undefined && observers.log.observed === 0) {
    throw new Error('no step of this scenario observed its network traffic (NetworkLog.observe): there is nothing to say what a Dolibarr saw');
  }
}

/** One line per connection any observer saw in the scenario, whatever its destination: none when nothing left. */
export function connectionsSeen(observers: Observers): string[] {
  checkObserved(observers);
  const { standins, log } = observers;
  const accepted = standins === undefined ? [] : (['prod', 'sandbox'] as const)
    .filter((instance) => standins[instance].connections > 0)
    .map((instance) => `${instance}'s stand-in accepted ${standins[instance].connections} connection(s)`);
  return [
    ...accepted,
    ...log.sockets.map((socket) => `this process opened a socket to ${socket.address}:${socket.port}`),
    ...log.connections.map((connection) => `undici connected to ${connection.host}:${connection.port}`),
  ];
}

/**
 * How many connections (or requests) the Dolibarr of `site` saw in the scenario, by observer: its stand-in (hermetic),
 * and the connections (requests) this process's observed attempts made to its host. Counted by host name, since two
 * instances behind one ingress share an address; a connection counted there must also show as a socket to one of the
 * host's addresses, or the socket observer is blind and nothing it says can be trusted.
 */
export async function seenAt(observers: Observers, instance: Instance, site: DolibarrSite, what: Seen): Promise<Record<string, number>> {
  checkObserved(observers);
  const { standins, log, lookup } = observers;
  const { host, port } = endpointOf(site);
  const at = (entry: { host: string; port: number }) => entry.host === host && entry.port === port;
  const sent = what === 'connections' ? log.connections.filter(at).length : log.requests.filter(at).length;
  if (what === 'connections' && sent > 0) {
    const addresses = new Set(await addressesOf(host, lookup));
    const sockets = log.sockets.filter((socket) => addresses.has(socket.address) && socket.port === port).length;
    if (sockets < sent) {
      throw new Error(`undici connected to ${host}:${port} ${sent} time(s) but only ${sockets} socket(s) to ${[...addresses].join(', ')} were seen: the socket observer misses connections`);
    }
  }
  return {
    ...(standins === undefined ? {} : { [`accepted by ${instance}'s stand-in`]: standins[instance][what] }),
    [`${what === 'connections' ? 'opened' : 'sent'} to ${host}:${port} by this process`]: sent,
  };
}

/** What `seen` would be if every observer had seen exactly `count`. */
export function allSaw(seen: Record<string, number>, count: number): Record<string, number> {
  return Object.fromEntries(Object.keys(seen).map((observer) => [observer, count]));
}
