/**
 * A stand-in for HashiCorp Vault 1.15 on the hermetic target: a loopback HTTPS server that answers the part of Vault's
 * HTTP API the harness uses (routes.ts) with Vault's JSON shapes, status codes and texts, so the real node-vault client
 * talks to it as to Vault. Where an answer comes from in Vault's source is noted next to the code that gives it.
 */
import { readRequestBody } from '../request-body';
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { isIPv4, type AddressInfo } from 'node:net';
import { PolicyStore, type Capability, type PolicyDocument } from './acl';
import { validateJwtOptions, type JwtAuthOptions } from './auth-jwt';
import { validateKubernetesOptions, type KubernetesAuthOptions } from './auth-kubernetes';
import { DatabaseEngine, type DatabaseEngineOptions } from './database';
import { aclDenied, invalidToken, missingToken, noHandler, unsupportedOperation, unsupportedPath, VaultApiError } from './errors';
import { KvMount, type KvOptions } from './kv';
import { LeaseManager, type LeaseInfo } from './leases';
import type { Reply } from './responses';
import { createRouter, type Operation, type StandinState } from './routes';
import { TokenStore, type TokenEntry } from './tokens';
import { calculateTtl } from './ttl';

export type { Capability, PolicyDocument, PolicyRules } from './acl';
export type { JwtAuthOptions, JwtAuthRole } from './auth-jwt';
export { projectedServiceAccountClaims, type KubernetesAuthOptions, type KubernetesAuthRole, type ServiceAccountTokenRequest } from './auth-kubernetes';
export type { DatabaseEngineOptions, DatabaseRole } from './database';
export type { KvOptions } from './kv';
export { MAX_REVOKE_ATTEMPTS, type LeaseInfo } from './leases';
export { generateSigningKey, signJwt, verifyJwtSignature, type JwtClaims, type JwtHeader, type PublicKeyInput, type SigningKey } from './jwt';

const DEFAULT_ADDRESS = '127.0.0.1';
const MAX_BODY = 1 << 20;

/** A token known from the start, as if created with `vault token create` (display name `token`). */
export interface StaticToken {
  /** The token value: a secret. */
  readonly token: string;
  /** `["root"]` makes a root token (every path allowed). Others get `default` too unless `noDefaultPolicy`. */
  readonly policies: readonly string[];
  /** Default `token`. */
  readonly displayName?: string;
  /** Default: never expires. */
  readonly ttlSeconds?: number;
  readonly noDefaultPolicy?: boolean;
  readonly meta?: Readonly<Record<string, string>>;
}

export interface VaultStandinOptions {
  /** The loopback IPv4 address it listens on, 127.x.y.z; default 127.0.0.1. */
  readonly address?: string;
  /** Default 0 (a random free port). */
  readonly port?: number;
  /** The name clients reach it by, for `url` (e.g. `vault.arcodange.lab`); default the address. */
  readonly host?: string;
  /** PEM key and certificate (from the run's CA). */
  readonly key: string | Buffer;
  readonly cert: string | Buffer;
  /** Reported by sys/health; default `1.15.6`. */
  readonly version?: string;
  readonly clusterName?: string;
  /** The database secrets engine: its connection as credentials_editor and its roles. */
  readonly database: DatabaseEngineOptions;
  readonly kv?: KvOptions;
  /** Named ACL policies (rules or HCL); `default` is built in, `root` is reserved. */
  readonly policies?: Readonly<Record<string, PolicyDocument>>;
  readonly tokens?: readonly StaticToken[];
  readonly kubernetes?: KubernetesAuthOptions;
  readonly jwt?: JwtAuthOptions;
  /** Base of the expiry job's retry backoff; default 10 000 ms like Vault. */
  readonly revocationRetryBaseMs?: number;
}

export interface VaultStandin {
  readonly address: string;
  readonly port: number;
  /** `https://<host>:<port>`: the endpoint to give node-vault. */
  readonly url: string;
  /** HTTP requests received so far. */
  requests(): number;
  /** Outstanding leases, irrevocable ones included (never a password). */
  leases(): readonly LeaseInfo[];
  /** Writes a new version of a KV v2 secret out of band, as an operator would (`vault kv put`). */
  putKv(path: string, data: Readonly<Record<string, unknown>>): void;
  /**
   * Out of band: a new version of `path`, or (`data` undefined) the secret removed as `vault kv metadata delete`
   * would; returns what puts the previous secret back, without handing its values out.
   */
  replaceKv(path: string, data: Readonly<Record<string, unknown>> | undefined): () => void;
  /** Stops listening and every timer; waits for requests and revocation jobs in progress. Revokes nothing. Idempotent. */
  close(): Promise<void>;
}

function checkOptions(options: VaultStandinOptions): { address: string; port: number } {
  const address = options.address ?? DEFAULT_ADDRESS;
  if (typeof address !== 'string' || !isIPv4(address) || !address.startsWith('127.')) {
    throw new TypeError(`startVaultStandin: address must be a loopback IPv4 address 127.x.y.z, not ${JSON.stringify(address)}`);
  }
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`startVaultStandin: port must be an integer from 0 to 65535, not ${String(port)}`);
  if (options.key === undefined || options.cert === undefined) throw new TypeError('startVaultStandin: key and cert (PEM) are required');
  if (options.database === undefined) throw new TypeError('startVaultStandin: database (endpoint, credentialsEditor, roles) is required');
  const retry = options.revocationRetryBaseMs ?? 10_000;
  if (!Number.isFinite(retry) || retry <= 0) throw new TypeError('startVaultStandin: revocationRetryBaseMs must be a positive number');
  (options.tokens ?? []).forEach((token, index) => {
    // Never quote the value: it is a secret.
    if (typeof token.token !== 'string' || token.token.length < 8) throw new TypeError(`startVaultStandin: tokens[${index}] needs a token value of at least 8 characters`);
    if (!Array.isArray(token.policies)) throw new TypeError(`startVaultStandin: tokens[${index}] needs a list of policies`);
    if ((options.tokens ?? []).findIndex((other) => other.token === token.token) !== index) {
      throw new TypeError(`startVaultStandin: tokens[${index}] has the same value as an earlier token`);
    }
  });
  if (options.kubernetes !== undefined) validateKubernetesOptions(options.kubernetes);
  if (options.jwt !== undefined) validateJwtOptions(options.jwt);
  return { address, port };
}

function operationOf(method: string, query: URLSearchParams): Operation | undefined {
  switch (method) {
    case 'GET':
      return query.get('list') === 'true' || query.get('list') === '1' ? 'list' : 'read';
    case 'HEAD':
      return 'head';
    case 'LIST':
      return 'list';
    case 'POST':
    case 'PUT':
      return 'update';
    case 'DELETE':
      return 'delete';
    case 'PATCH':
      return 'patch';
    default:
      return undefined;
  }
}

const CAPABILITY: Readonly<Record<Operation, Capability>> = { read: 'read', head: 'read', list: 'list', update: 'update', delete: 'delete', patch: 'patch' };

/** Vault's `failed to parse JSON input: …` (the texts after it are chosen). */
function parseBody(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new VaultApiError(400, ['failed to parse JSON input: invalid character in JSON input']);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new VaultApiError(400, ['failed to parse JSON input: json: cannot unmarshal into Go value of type map[string]interface {}']);
  }
  return value as Record<string, unknown>;
}

/** Go's ServeMux path cleaning (Vault serves `/v1/` through it, http/handler.go): `//`, `.` and `..` removed, a trailing slash kept. */
function cleanPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const cleaned = `/${segments.join('/')}`;
  return path.endsWith('/') && cleaned !== '/' ? `${cleaned}/` : cleaned;
}

/**
 * Go's ServeMux answer to an unclean path: 301 to the cleaned one (a small HTML body for GET). node-vault 0.12's
 * `kubernetesLogin` without `mount_point` posts to `auth//login`: followed as a GET to `auth/login`, no login path, it
 * ends in 403.
 */
function redirect(req: IncomingMessage, location: string): Reply {
  return {
    status: 301,
    headers: { location, ...(req.method === 'GET' || req.method === 'HEAD' ? { 'content-type': 'text/html; charset=utf-8' } : {}) },
    text: req.method === 'GET' ? `<a href="${location.replace(/&/g, '&amp;').replace(/"/g, '&#34;').replace(/</g, '&lt;')}">Moved Permanently</a>.\n\n` : undefined,
  };
}

function presentedToken(req: IncomingMessage): string | undefined {
  const header = req.headers['x-vault-token'];
  const token = Array.isArray(header) ? header[0] : header;
  if (token !== undefined && token !== '') return token;
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return bearer?.[1];
}

export async function startVaultStandin(options: VaultStandinOptions): Promise<VaultStandin> {
  const listen = checkOptions(options);
  let requests = 0;
  let closing: Promise<void> | undefined;
  const inFlight = new Set<Promise<void>>();

  const database = new DatabaseEngine(options.database);
  const leases = new LeaseManager({
    revoke: (lease) => database.revoke(database.role(lease.role), lease.username),
    renew: async (lease, increment, now) => {
      const role = database.role(lease.role);
      if (role === undefined) throw new Error(`error during renew: could not find role with name ${JSON.stringify(lease.role)}`);
      let result: { ttlSeconds: number; warnings: readonly string[] };
      try {
        result = calculateTtl({ increment, backendTtl: role.defaultTtlSeconds ?? 0, backendMaxTtl: role.maxTtlSeconds ?? 0, startTime: lease.issuedAt, now });
      } catch (error) {
        throw new Error(error instanceof VaultApiError ? error.errors.join('; ') : 'internal error');
      }
      await database.renew(role, lease.username, result.ttlSeconds, now);
      return result;
    },
  }, options.revocationRetryBaseMs ?? 10_000);
  const tokens = new TokenStore((entry) => leases.revokeByToken(entry.id));
  const state: StandinState = {
    version: options.version ?? '1.15.6',
    clusterName: options.clusterName ?? `vault-cluster-${randomBytes(4).toString('hex')}`,
    clusterId: randomUUID(),
    tokens,
    policies: new PolicyStore(options.policies ?? {}),
    leases,
    database,
    databaseAccessor: `database_${randomBytes(4).toString('hex')}`,
    kv: options.kv === undefined ? undefined : new KvMount(options.kv),
    kvMount: options.kv?.mount ?? 'kvv2',
    kubernetes: options.kubernetes,
    jwt: options.jwt,
    entities: new Map(),
  };
  for (const token of options.tokens ?? []) {
    tokens.issue({
      id: token.token,
      policies: token.policies,
      noDefaultPolicy: token.noDefaultPolicy,
      displayName: token.displayName ?? 'token',
      path: 'auth/token/create',
      meta: token.meta ?? null,
      ttlSeconds: token.ttlSeconds ?? 0,
      renewable: token.ttlSeconds !== undefined,
      mountType: 'token',
    });
  }
  const route = createRouter(state);

  async function answer(req: IncomingMessage): Promise<Reply> {
    const raw = req.url ?? '/';
    const clean = cleanPath(raw.split('?')[0]!);
    if (clean !== raw.split('?')[0]) return redirect(req, clean + raw.slice(raw.split('?')[0]!.length));
    const url = new URL(raw, 'https://vault.invalid');
    if (!url.pathname.startsWith('/v1/')) return { status: 404, body: { errors: [] } };
    let path: string;
    try {
      path = decodeURIComponent(url.pathname.slice('/v1/'.length));
    } catch {
      return { status: 400, body: { errors: ['invalid request path'] } };
    }
    const op = operationOf(req.method ?? 'GET', url.searchParams);
    if (op === undefined) return { status: 405, body: { errors: [] } };
    const body = op === 'update' || op === 'patch' ? parseBody(await readRequestBody(req, MAX_BODY, () => new VaultApiError(413, ['request body too large']))) : {};
    const { route: found, mounted } = route(path);

    let token: TokenEntry | undefined;
    if (found?.unauthenticated !== true) {
      const presented = presentedToken(req);
      if (presented === undefined) throw missingToken();
      token = tokens.lookup(presented);
      if (token === undefined) throw invalidToken();
      if (!state.policies.acl(token.policies).allows(path, CAPABILITY[op], found?.sudo === true)) throw aclDenied();
    }
    if (found === undefined) throw mounted ? unsupportedPath() : noHandler(path);
    if (!found.operations.includes(op)) throw unsupportedOperation();
    return found.handle({ op, path, query: url.searchParams, body, token });
  }

  function write(res: ServerResponse, reply: Reply): void {
    if (res.headersSent || res.destroyed) return;
    if (reply.body === undefined) {
      res.writeHead(reply.status, { 'cache-control': 'no-store', ...reply.headers });
      res.end(reply.text);
      return;
    }
    const text = JSON.stringify(reply.body);
    res.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
    res.end(text);
  }

  const server: Server = createServer({ key: options.key, cert: options.cert }, (req, res) => {
    requests += 1;
    const work = (async () => {
      if (closing !== undefined) return write(res, { status: 503, body: { errors: ['Vault is sealed'] } });
      try {
        write(res, await answer(req));
      } catch (error) {
        // Only VaultApiError texts go out: they are built without secrets. Anything else is an internal error (chosen:
        // never a raw message).
        const reply = error instanceof VaultApiError
          ? { status: error.status, body: { errors: [...error.errors] } }
          : { status: 500, body: { errors: ['1 error occurred:\n\t* internal error\n\n'] } };
        write(res, reply);
      }
    })();
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.address, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    address: listen.address,
    port,
    url: `https://${options.host ?? listen.address}:${port}`,
    requests: () => requests,
    leases: () => leases.list(),
    putKv(path, data) {
      if (state.kv === undefined) throw new Error('putKv: the stand-in was started without a KV mount');
      state.kv.put(path, data);
    },
    replaceKv(path, data) {
      if (state.kv === undefined) throw new Error('replaceKv: the stand-in was started without a KV mount');
      return state.kv.replace(path, data);
    },
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
        server.closeAllConnections();
        await stopped;
        tokens.close();
        await leases.close();
        await database.close();
      })();
      return closing;
    },
  };
}
