import { environmentWithoutSecrets } from '../secret-free-env';
import { API_ROOT } from './requests';

/**
 * The environment of the agent's command under `rehearse record`: the operator's own without any secret (the key
 * included: the gateway adds it), and the Dolibarr URLs the ERP's tools read, pointing at the gateway. A proxy
 * configured for the operator's traffic is bypassed for it: the gateway is on loopback.
 */

/** The variables the ERP's tools read their Dolibarr from: the site's URL, and its API root. */
export const DOLIBARR_VARIABLES = {
  DOLIBARR_URL: 'the Dolibarr URL, as in the instance configuration (its API under /api/index.php)',
  DOLIBARR_API_URL: "the API root itself, for tools that take it whole (…/api/index.php)",
} as const;

export function commandEnvironment(gatewayUrl: string, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const kept = environmentWithoutSecrets(env);
  const noProxy = [kept['NO_PROXY'] ?? kept['no_proxy'], '127.0.0.1', 'localhost'].filter(Boolean).join(',');
  return { ...kept, DOLIBARR_URL: gatewayUrl, DOLIBARR_API_URL: `${gatewayUrl}${API_ROOT}`, NO_PROXY: noProxy, no_proxy: noProxy };
}
