import { DolibarrClient, type WriteExchange } from '../dolibarr/client';
import type { Target } from './target';

/**
 * The agent's write tooling on a target: the guarded Dolibarr client of the sandbox, with the agent's sandbox key and
 * the target's CA and name resolution. `url` is the Dolibarr URL it is configured with (default: the sandbox's);
 * `onWrite` hears of every write it sends (a rehearsal's recording).
 */
export function agentWriteTooling(target: Target, options: { readonly url?: string; readonly onWrite?: (exchange: WriteExchange) => void } = {}): DolibarrClient {
  const { sandbox, dolibarr } = target;
  return new DolibarrClient({
    sandbox,
    url: options.url ?? dolibarr.sandbox.url,
    port: dolibarr.port,
    apiKey: dolibarr.keys.sandboxAgent.reveal(),
    ca: dolibarr.ca,
    lookup: dolibarr.lookup,
    ...(options.onWrite ? { onWrite: options.onWrite } : {}),
  });
}
