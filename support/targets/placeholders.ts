import { NotApplicable } from '../not-applicable';
import type { Target } from './target';

/**
 * The placeholders feature files may write in URLs and host names, so that one feature reads the same on every
 * target: {domain}, {prod}, {sandbox} (hosts by the naming rule), {port} (the port both Dolibarr instances are
 * served on besides 443), {other port} (a port that is neither), {prod address} and {sandbox address} (the
 * addresses their names resolve to; known only where the target runs the stand-ins).
 */
export function expandPlaceholders(target: Target, text: string): string {
  const { dolibarr, config } = target;
  const values: Record<string, () => string> = {
    domain: () => config.domain,
    prod: () => dolibarr.prod.host,
    sandbox: () => dolibarr.sandbox.host,
    port: () => String(dolibarr.port),
    'other port': () => String(dolibarr.port === 8443 ? 8444 : 8443),
    'prod address': () => standins(target).addresses.prod,
    'sandbox address': () => standins(target).addresses.sandbox,
  };
  return text.replace(/\{([a-z ]+)\}/g, (whole, name: string) => {
    const value = values[name];
    if (!value) throw new Error(`unknown placeholder ${whole} in "${text}"; known: ${Object.keys(values).map((known) => `{${known}}`).join(', ')}`);
    return value();
  });
}

function standins(target: Target) {
  const { standins } = target.dolibarr;
  if (!standins) throw new NotApplicable(`the ${target.kind} target does not say which addresses its Dolibarr hosts resolve to`);
  return standins;
}
