/**
 * `sys/capabilities-self`: what the session's policies allow on API paths, asked without reading, minting or changing
 * anything (Vault's default policy grants it to every token).
 */
import { checkOpen, checkPath, isObject, type SessionContext } from './calls';
import { VaultUnexpectedResponse } from './errors';

const CAPABILITIES_SELF_PATH = 'sys/capabilities-self';

/** Sorted capability names per path, `["deny"]` where nothing is allowed, `["root"]` for a root token; retried like a read. */
export async function capabilities(context: SessionContext, paths: readonly string[]): Promise<Readonly<Record<string, readonly string[]>>> {
  if (!Array.isArray(paths) || paths.length === 0) throw new TypeError('Vault capabilities: give at least one API path');
  for (const path of paths) checkPath('capabilities of', path, 'POST');
  checkOpen(context, 'POST', CAPABILITIES_SELF_PATH);
  await context.loggedIn();
  const body = await context.transport.call('POST', CAPABILITIES_SELF_PATH, 'read', (client) => client.write(CAPABILITIES_SELF_PATH, { paths: [...paths] }));
  // Vault puts the answer both at the top level and under `data` (http/handler.go injectDataIntoTopRoutes).
  const data = isObject(body) ? body['data'] : undefined;
  const answer: Record<string, readonly string[]> = {};
  for (const path of paths) {
    const allowed = isObject(data) ? data[path] : undefined;
    if (!Array.isArray(allowed) || !allowed.every((capability) => typeof capability === 'string')) {
      throw new VaultUnexpectedResponse(200, [`capabilities answer without data[${JSON.stringify(path)}] as a list of names`], 'POST', CAPABILITIES_SELF_PATH);
    }
    answer[path] = Object.freeze([...allowed as string[]]);
  }
  return Object.freeze(answer);
}
