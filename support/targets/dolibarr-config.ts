import type { InstanceNames } from '../naming';
import { registerSecret } from '../redaction';
import type { Secret } from '../secret';
import type { KvSecret, VaultMinter } from '../vault';
import type { DolibarrSite } from '../dolibarr/sites';

/**
 * Each instance's Dolibarr configuration, where its workload reads it: KV v2 at `kvv2/<instance>/config`
 * (`DOLIBARR_URL`, `DOLIBARR_API_KEY`), through the instance's own Vault identity.
 */
export interface DolibarrConfig {
  readonly site: DolibarrSite;
  readonly port: number;
  readonly apiKey: Secret;
}

function setting(kv: KvSecret, key: string): Secret {
  const value = kv.values[key];
  if (value === undefined) throw new Error(`Vault ${kv.path} has no ${key}: the instance's Dolibarr configuration is incomplete`);
  return value;
}

export async function dolibarrConfigOf(minter: VaultMinter, names: InstanceNames): Promise<DolibarrConfig> {
  const kv = await (await minter.session(names)).readKv(names.kvPath);
  const url = new URL(setting(kv, 'DOLIBARR_URL').reveal());
  if (url.hostname !== names.host) {
    throw new Error(`Vault ${kv.path} DOLIBARR_URL names host ${url.hostname}, not ${names.host} (the naming rule's host of ${names.instance})`);
  }
  const apiKey = setting(kv, 'DOLIBARR_API_KEY');
  // The key is a secret whatever the KV's key names say: registered as it is read.
  registerSecret(apiKey.reveal());
  return {
    site: { host: names.host, url: url.href.replace(/\/$/, '') },
    port: url.port === '' ? 443 : Number(url.port),
    apiKey,
  };
}
