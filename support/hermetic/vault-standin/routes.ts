/**
 * The API paths the stand-in serves, each with its operations, whether it needs a token and sudo, and its handler.
 * The server (server.ts) authenticates, applies the ACL and then calls the handler; handlers answer a Reply or throw
 * a VaultApiError. A success body carries only what Vault gives that caller (a login its token, creds their password).
 */
import { randomUUID } from 'node:crypto';
import type { PolicyStore } from './acl';
import { jwtLogin, type JwtAuthOptions } from './auth-jwt';
import { kubernetesLogin, type KubernetesAuthOptions } from './auth-kubernetes';
import type { DatabaseEngine } from './database';
import { badRequest } from './errors';
import type { KvMount } from './kv';
import type { LeaseManager } from './leases';
import { authBlock, logical, noContent, type Reply } from './responses';
import type { TokenEntry, TokenRequest, TokenStore } from './tokens';
import { parseDurationSeconds } from './ttl';

export type Operation = 'read' | 'list' | 'update' | 'delete' | 'patch' | 'head';

export interface ApiRequest {
  readonly op: Operation;
  /** Without `/v1/`, e.g. `postgres/creds/erp-sandbox`. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly body: Readonly<Record<string, unknown>>;
  /** The caller's token; set on every authenticated route. */
  readonly token?: TokenEntry;
}

/** Everything the handlers work on. */
export interface StandinState {
  readonly version: string;
  readonly clusterName: string;
  readonly clusterId: string;
  readonly tokens: TokenStore;
  readonly policies: PolicyStore;
  readonly leases: LeaseManager;
  readonly database: DatabaseEngine;
  readonly databaseAccessor: string;
  readonly kv: KvMount | undefined;
  readonly kvMount: string;
  readonly kubernetes: KubernetesAuthOptions | undefined;
  readonly jwt: JwtAuthOptions | undefined;
  /** Entity ids per auth mount and alias, stable across logins like Vault's identity store. */
  readonly entities: Map<string, string>;
}

export interface Route {
  readonly operations: readonly Operation[];
  readonly unauthenticated?: boolean;
  /** Root-protected: the ACL must also grant `sudo`. */
  readonly sudo?: boolean;
  handle(request: ApiRequest): Promise<Reply> | Reply;
}

const iso = (at: Date): string => at.toISOString();
const unix = (at: Date): number => Math.floor(at.getTime() / 1000);

function login(state: StandinState, request: TokenRequest, alias: string): Reply {
  const key = `${request.path}\u0000${alias}`;
  const entityId = state.entities.get(key) ?? randomUUID();
  state.entities.set(key, entityId);
  const entry = state.tokens.issue({ ...request, entityId });
  return logical({ auth: authBlock(entry, request.ttlSeconds), mountType: request.mountType });
}

function leaseIdOf(request: ApiRequest, prefix: string): string {
  const fromBody = request.body['lease_id'];
  if (typeof fromBody === 'string' && fromBody !== '') return fromBody;
  const fromUrl = request.path.length > prefix.length ? request.path.slice(prefix.length + 1) : '';
  if (fromUrl === '') throw badRequest('lease_id must be specified');
  return fromUrl;
}

/** The `paths` of a capabilities request: a list, or a comma-separated string (Vault's TypeCommaStringSlice), else `path`. */
function pathsOf(body: Readonly<Record<string, unknown>>): string[] {
  const list = (value: unknown): string[] => {
    if (value === undefined || value === null || value === '') return [];
    if (typeof value === 'string') return value.split(',').map((item) => item.trim());
    if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value.map((item: string) => item.trim());
    throw badRequest('error converting input for field "paths": expected a list of strings');
  };
  const paths = list(body['paths']);
  return paths.length > 0 ? paths : list(body['path']);
}

function syncOf(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return true;
  if (typeof value === 'boolean') return value;
  if (value === 'false' || value === '0' || value === 0) return false;
  if (value === 'true' || value === '1' || value === 1) return true;
  throw badRequest('error converting input for field "sync": cannot parse as bool');
}

function lookupSelf(state: StandinState, token: TokenEntry): Reply {
  const ttl = state.tokens.ttlSeconds(token);
  return logical({
    data: {
      accessor: token.accessor,
      creation_time: unix(token.createdAt),
      creation_ttl: token.creationTtlSeconds,
      display_name: token.displayName,
      entity_id: token.entityId,
      expire_time: token.expiresAt === undefined ? null : iso(token.expiresAt),
      explicit_max_ttl: 0,
      id: token.id,
      issue_time: iso(token.createdAt),
      ...(token.lastRenewal === undefined ? {} : { last_renewal: iso(token.lastRenewal), last_renewal_time: unix(token.lastRenewal) }),
      meta: token.meta === null ? null : { ...token.meta },
      num_uses: 0,
      orphan: true,
      path: token.path,
      policies: [...token.policies],
      renewable: token.renewable,
      ttl,
      type: 'service',
    },
    mountType: 'token',
  });
}

export type Router = (path: string) => { route: Route | undefined; mounted: boolean };

/** The router of `state`: the route serving a path, or undefined, and whether some mount owns the path. */
export function createRouter(state: StandinState): Router {
  const routes: [RegExp | string, Route][] = [
    // The body's fields as Vault's sys/health API page lists them.
    ['sys/health', {
      operations: ['read', 'head'],
      unauthenticated: true,
      handle: ({ query }) => ({
        status: /^[1-5]\d\d$/.test(query.get('activecode') ?? '') ? Number(query.get('activecode')) : 200,
        body: {
          initialized: true,
          sealed: false,
          standby: false,
          performance_standby: false,
          replication_performance_mode: 'disabled',
          replication_dr_mode: 'disabled',
          server_time_utc: unix(new Date()),
          version: state.version,
          enterprise: false,
          cluster_name: state.clusterName,
          cluster_id: state.clusterId,
          echo_duration_ms: 0,
          clock_skew_ms: 0,
          replication_primary_canary_age_ms: 0,
        },
      }),
    }],
    ['auth/token/lookup-self', { operations: ['read', 'update'], handle: ({ token }) => lookupSelf(state, token!) }],
    ['auth/token/renew-self', {
      operations: ['update'],
      handle: ({ token, body }) => {
        if (!token!.renewable) throw badRequest('lease is not renewable');
        const { ttlSeconds, warnings } = state.tokens.renew(token!, parseDurationSeconds(body['increment'], 'increment') ?? 0);
        return logical({ auth: authBlock(token!, ttlSeconds), warnings, mountType: 'token' });
      },
    }],
    ['auth/token/revoke-self', {
      operations: ['update'],
      handle: ({ token }) => {
        state.tokens.revoke(token!);
        return noContent;
      },
    }],
    [`${state.database.mount}/creds/`, {
      operations: ['read'],
      handle: async ({ path, token }) => {
        const name = path.slice(`${state.database.mount}/creds/`.length);
        const role = state.database.role(name);
        if (role === undefined) throw badRequest(`unknown role: ${name}`);
        const now = new Date();
        const credential = await state.database.create(role, token!.displayName, now);
        const lease = state.leases.register({
          mount: state.database.mount,
          mountAccessor: state.databaseAccessor,
          role: role.name,
          username: credential.username,
          tokenId: token!.id,
          tokenAccessor: token!.accessor,
          ttlSeconds: credential.ttlSeconds,
          now,
        });
        return logical({
          leaseId: lease.leaseId,
          renewable: true,
          leaseDuration: credential.ttlSeconds,
          data: { username: credential.username, password: credential.password },
          warnings: credential.warnings,
          mountType: 'database',
        });
      },
    }],
    ['sys/capabilities-self', {
      operations: ['update'],
      handle: ({ body, token }) => {
        // Vault's texts (vault/logical_system.go); `mount_type` `system` and the text of a malformed `paths` are chosen.
        const paths = pathsOf(body);
        if (paths.length === 0) throw badRequest('paths must be supplied');
        if (paths.includes('')) throw badRequest('missing path');
        const acl = state.policies.acl(token!.policies);
        // Each path is answered under its name as asked; the ACL reads it without leading slashes (vault/acl.go).
        const data: Record<string, string[]> = Object.fromEntries(paths.map((path) => [path, acl.capabilityNames(path.replace(/^\/+/, ''))]));
        // Kept for older clients when one path is asked (vault/logical_system.go handleCapabilities).
        if (paths.length === 1) data['capabilities'] = data[paths[0]!]!;
        const reply = logical({ data, mountType: 'system' });
        // http/handler.go serves sys/capabilities-self among injectDataIntoTopRoutes: the data also at the top level.
        return { ...reply, body: { ...data, ...(reply.body as object) } };
      },
    }],
    [/^sys\/leases\/renew(\/.+)?$/, {
      operations: ['update'],
      handle: async (request) => {
        const leaseId = leaseIdOf(request, 'sys/leases/renew');
        const increment = parseDurationSeconds(request.body['increment'], 'increment') ?? 0;
        const { ttlSeconds, warnings } = await state.leases.renew(leaseId, increment);
        return logical({ leaseId, renewable: true, leaseDuration: ttlSeconds, warnings, mountType: 'system' });
      },
    }],
    [/^sys\/leases\/revoke(\/.+)?$/, {
      operations: ['update'],
      handle: async (request) => {
        const leaseId = leaseIdOf(request, 'sys/leases/revoke');
        // `sync` defaults to true in Vault's code (its API page says false); sync=false's 202 and empty envelope are chosen.
        if (syncOf(request.body['sync'])) {
          await state.leases.revoke(leaseId);
          return noContent;
        }
        state.leases.lazyRevoke(leaseId);
        return { status: 202, body: (logical({ mountType: 'system' }).body) };
      },
    }],
    ['sys/leases/lookup', {
      operations: ['update'],
      handle: ({ body }) => {
        const leaseId = typeof body['lease_id'] === 'string' ? body['lease_id'] : '';
        if (leaseId === '') throw badRequest('lease_id must be specified');
        const lease = state.leases.lookup(leaseId);
        if (lease === undefined) throw badRequest('invalid lease');
        return logical({
          data: {
            id: lease.leaseId,
            issue_time: iso(lease.issuedAt),
            expire_time: iso(lease.expiresAt),
            last_renewal: lease.lastRenewal === undefined ? null : iso(lease.lastRenewal),
            renewable: !lease.irrevocable && lease.expiresAt.getTime() >= Date.now(),
            ttl: Math.max(0, Math.round((lease.expiresAt.getTime() - Date.now()) / 1000)),
          },
          mountType: 'system',
        });
      },
    }],
    // `{lease_count, leases: [{lease_id, mount_id, error}]}` as Vault's sys/leases API page has it; sudo is chosen.
    ['sys/leases', {
      operations: ['read'],
      sudo: true,
      handle: ({ query }) => {
        if ((query.get('type') ?? '').toLowerCase() !== 'irrevocable') return noContent;
        const all = state.leases.irrevocable();
        const limitRaw = query.get('limit') ?? '';
        const limit = limitRaw === 'none' ? Infinity : limitRaw === '' ? 10_000 : Number(limitRaw);
        if (!(limit > 0)) throw badRequest('limit must be "none" or a positive integer');
        const leases = all.slice(0, limit === Infinity ? undefined : limit);
        const warnings = leases.length < all.length
          ? ['Command halted because many irrevocable leases were found. To emit the entire list, re-run the command with force set true.']
          : [];
        return logical({ data: { lease_count: leases.length, leases }, warnings, mountType: 'system' });
      },
    }],
    ['sys/leases/count', {
      operations: ['read'],
      sudo: true,
      handle: ({ query }) => {
        if ((query.get('type') ?? '').toLowerCase() !== 'irrevocable') return noContent;
        const counts: Record<string, number> = {};
        for (const lease of state.leases.irrevocable()) counts[lease.mount_id] = (counts[lease.mount_id] ?? 0) + 1;
        return logical({ data: { lease_count: state.leases.irrevocable().length, counts }, mountType: 'system' });
      },
    }],
  ];
  if (state.kubernetes !== undefined) {
    const options = state.kubernetes;
    routes.push([`auth/${options.mount ?? 'kubernetes'}/login`, {
      operations: ['update'],
      unauthenticated: true,
      handle: ({ body }) => {
        const request = kubernetesLogin(options, body);
        return login(state, request, request.meta?.['service_account_uid'] ?? '');
      },
    }]);
  }
  if (state.jwt !== undefined) {
    const options = state.jwt;
    routes.push([`auth/${options.mount ?? 'jwt'}/login`, {
      operations: ['update'],
      unauthenticated: true,
      handle: ({ body }) => {
        const request = jwtLogin(options, body);
        return login(state, request, request.displayName);
      },
    }]);
  }
  if (state.kv !== undefined) {
    const kv = state.kv;
    routes.push([`${state.kvMount}/data/`, {
      operations: ['read'],
      handle: ({ path }) => logical({ data: kv.read(path.slice(`${state.kvMount}/data/`.length)), mountType: 'kv' }),
    }]);
  }

  const mounts = ['sys/', 'auth/token/', `${state.database.mount}/`, 'cubbyhole/'];
  if (state.kv !== undefined) mounts.push(`${state.kvMount}/`);
  if (state.kubernetes !== undefined) mounts.push(`auth/${state.kubernetes.mount ?? 'kubernetes'}/`);
  if (state.jwt !== undefined) mounts.push(`auth/${state.jwt.mount ?? 'jwt'}/`);

  return (path) => {
    for (const [pattern, route] of routes) {
      const hit = typeof pattern !== 'string'
        ? pattern.test(path)
        : pattern.endsWith('/') ? path.startsWith(pattern) && path.length > pattern.length : path === pattern;
      if (hit) return { route, mounted: true };
    }
    return { route: undefined, mounted: mounts.some((mount) => path.startsWith(mount) || `${path}/` === mount) };
  };
}
