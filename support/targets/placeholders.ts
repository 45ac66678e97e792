import { isIPv6 } from 'node:net';
import { addressesOf } from '../dolibarr-fence/seen';
import type { Target } from './target';

/**
 * The placeholders feature files may write in URLs and host names, so that one feature reads the same on every
 * target: {domain}, {prod}, {sandbox} (hosts by the naming rule), {port} (the port both Dolibarr instances are
 * served on besides 443), {other port} (a port that is neither), {prod address} and {sandbox address} (the
 * address each host resolves to, asked the way the Dolibarr clients ask: the target's own lookup, else DNS).
 */
export async function expandPlaceholders(target: Target, text: string): Promise<string> {
  const { dolibarr, config } = target;
  const values: Record<string, () => string | Promise<string>> = {
    domain: () => config.domain,
    prod: () => dolibarr.prod.host,
    sandbox: () => dolibarr.sandbox.host,
    port: () => String(dolibarr.port),
    'other port': () => String(dolibarr.port === 8443 ? 8444 : 8443),
    'prod address': () => addressOf(target, dolibarr.prod.host),
    'sandbox address': () => addressOf(target, dolibarr.sandbox.host),
  };
  const names = [...text.matchAll(/\{([a-z ]+)\}/g)].map((match) => match[1]!);
  const unknown = names.find((name) => values[name] === undefined);
  if (unknown !== undefined) {
    throw new Error(`unknown placeholder {${unknown}} in "${text}"; known: ${Object.keys(values).map((known) => `{${known}}`).join(', ')}`);
  }
  const expanded = new Map<string, string>();
  for (const name of new Set(names)) expanded.set(name, await values[name]!());
  return text.replace(/\{([a-z ]+)\}/g, (_whole, name: string) => expanded.get(name)!);
}

/** The address a URL would spell for `host`: its first IPv4 address, else its first, bracketed as a URL writes IPv6. */
async function addressOf(target: Target, host: string): Promise<string> {
  const addresses = await addressesOf(host, target.dolibarr.lookup);
  const address = addresses.find((candidate) => !isIPv6(candidate)) ?? addresses[0];
  if (address === undefined) throw new Error(`${host} resolves to no address on the ${target.kind} target`);
  return isIPv6(address) ? `[${address}]` : address;
}
