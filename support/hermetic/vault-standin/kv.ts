/**
 * A KV version 2 mount, read-only over the API: `GET <mount>/data/<path>` answers `{data: {data, metadata}}` with the
 * latest version of each secret; an unknown path answers 404 `{"errors":[]}` as captures of real Vault show. Secrets are given in the
 * options or written out of band with `put` (the operator's side); API writes, older versions and the metadata
 * endpoints are not served (the harness only reads its instance configuration).
 */
import { VaultApiError } from './errors';

export interface KvOptions {
  /** The mount; default `kvv2`. */
  readonly mount?: string;
  /** `<path>` → the secret's keys, e.g. `{ 'erp-sandbox/config': { … } }` served at `kvv2/data/erp-sandbox/config`. */
  readonly secrets: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

export interface KvSecretVersion {
  readonly data: Readonly<Record<string, unknown>>;
  readonly metadata: {
    readonly created_time: string;
    readonly custom_metadata: null;
    readonly deletion_time: string;
    readonly destroyed: boolean;
    readonly version: number;
  };
}

export class KvMount {
  private readonly secrets = new Map<string, KvSecretVersion>();

  constructor(options: KvOptions, createdAt = new Date()) {
    for (const [path, data] of Object.entries(options.secrets)) this.put(path, data, createdAt);
  }

  /** Writes a new version of `path`, as an operator's `vault kv put` would (out of band, not over the API). */
  put(path: string, data: Readonly<Record<string, unknown>>, createdAt = new Date()): void {
    if (path === '' || path.startsWith('/') || path.endsWith('/')) throw new TypeError(`kv: secret path ${JSON.stringify(path)} must not be empty or start/end with "/"`);
    if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new TypeError(`kv: secret ${path} must be an object of keys`);
    const version = (this.secrets.get(path)?.metadata.version ?? 0) + 1;
    this.secrets.set(path, {
      data: structuredClone(data),
      metadata: { created_time: createdAt.toISOString(), custom_metadata: null, deletion_time: '', destroyed: false, version },
    });
  }

  /**
   * Replaces `path` with `data` (a new version), or removes it when `data` is undefined (`vault kv metadata delete`),
   * and returns what puts the previous secret back, without handing its values out.
   */
  replace(path: string, data: Readonly<Record<string, unknown>> | undefined): () => void {
    const previous = this.secrets.get(path);
    if (data === undefined) this.secrets.delete(path);
    else this.put(path, data);
    return () => {
      if (previous === undefined) this.secrets.delete(path);
      else this.secrets.set(path, previous);
    };
  }

  read(path: string): KvSecretVersion {
    const secret = this.secrets.get(path);
    if (secret === undefined) throw new VaultApiError(404, []);
    return structuredClone(secret);
  }
}
