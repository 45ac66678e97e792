/** KV v2 reads: every value comes back as a Secret, and is redacted from Vault's error texts from then on. */
import { Secret } from '../secret';
import { checkOpen, checkPath, isObject, type SessionContext } from './calls';
import { VaultUnexpectedResponse } from './errors';
import type { VaultTransport } from './transport';

/** A KV v2 secret: every value is a Secret (non-string values as their JSON text). */
export interface KvSecret {
  readonly path: string;
  readonly version: number;
  readonly createdTime?: string;
  readonly values: Readonly<Record<string, Secret>>;
  /** Keys whose value is the empty string (a Secret cannot be empty). */
  readonly emptyKeys: readonly string[];
}

/** KV keys whose values are secrets: API keys, tokens, passwords, private keys… (DOLIBARR_URL is not). */
const SECRET_KEY = /KEY|TOKEN|PASS|SECRET|CREDENTIAL|PRIVATE|CERT|JWT/i;

/** Reads `<mount>/<path>` as GET <mount>/data/<path>; retried like any read. */
export async function readKv(context: SessionContext, kvPath: string): Promise<KvSecret> {
  checkPath('KV path', kvPath, 'GET');
  const slash = kvPath.indexOf('/');
  if (slash < 0) throw new TypeError(`Vault KV path ${JSON.stringify(kvPath)}: give <mount>/<path>, e.g. "kvv2/erp-sandbox/config"`);
  const apiPath = `${kvPath.slice(0, slash)}/data/${kvPath.slice(slash + 1)}`;
  checkOpen(context, 'GET', apiPath);
  await context.loggedIn();
  const body = await context.transport.call('GET', apiPath, 'read', (client) => client.read(apiPath));
  const outer = isObject(body) ? body['data'] : undefined;
  const data = isObject(outer) ? outer['data'] : undefined;
  const metadata = isObject(outer) ? outer['metadata'] : undefined;
  const version = isObject(metadata) ? metadata['version'] : undefined;
  if (isObject(data)) rememberSecrets(context.transport, data);
  if (!isObject(data) || typeof version !== 'number') {
    throw new VaultUnexpectedResponse(200, ['KV v2 answer without data.data and data.metadata.version (is the mount KV version 2?)'], 'GET', apiPath);
  }
  const values: Record<string, Secret> = {};
  const emptyKeys: string[] = [];
  for (const [key, value] of Object.entries(data)) {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    if (text === '') emptyKeys.push(key);
    // Every value stays behind reveal(); those whose key names a secret are also redacted from all output.
    else values[key] = new Secret(`${kvPath}#${key}`, text, { redact: SECRET_KEY.test(key) });
  }
  const createdTime = isObject(metadata) && typeof metadata['created_time'] === 'string' ? metadata['created_time'] : undefined;
  return {
    path: kvPath,
    version,
    ...(createdTime === undefined ? {} : { createdTime }),
    values: Object.freeze(values),
    emptyKeys: Object.freeze(emptyKeys),
  };
}

function rememberSecrets(transport: VaultTransport, value: unknown): void {
  if (typeof value === 'string') transport.addSecret(value);
  else if (typeof value === 'number') transport.addSecret(String(value));
  else if (Array.isArray(value)) value.forEach((item) => rememberSecrets(transport, item));
  else if (isObject(value)) {
    transport.addSecret(JSON.stringify(value));
    Object.values(value).forEach((item) => rememberSecrets(transport, item));
  }
}
