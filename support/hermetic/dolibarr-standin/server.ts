/**
 * A stand-in for one Dolibarr instance, version 19, 20 or 23, on the hermetic target: a loopback HTTPS server answering
 * the REST endpoints the harness uses as that version does (support/dolibarr/versions.ts holds what real installs
 * answered), from the instance's own database. It counts connections and requests, so a test can prove that a refused
 * request never reached it.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIPv4, type AddressInfo } from 'node:net';
import { DEFAULT_DOLIBARR_PROFILE, DOLIBARR_VERSIONS, EVERY_VERSION, type DolibarrProfile } from '../../dolibarr/versions';
import type { Login } from '../../postgres/cluster';
import { readRequestBody } from '../request-body';
import { authenticate, type ApiUser } from './auth';
import type { Call } from './call';
import { openConnection, type Connection, type DatabaseTarget, type Queryable } from './database';
import { ApiError, fail } from './errors';
import { status } from './status';
import { supplierInvoices } from './supplier-invoices';
import { thirdparties } from './thirdparties';
import { usersInfo } from './users';

export { grantApiAccess, storedApiKey, RIGHT } from './auth';

const API_PREFIX = '/api/index.php/';
const MAX_BODY = 1 << 20;
const DEFAULT_ADDRESS = '127.0.0.1';
/** The APIs it serves, by the first path segment (api/index.php includes `api_<segment>.class.php`). */
const APIS = new Set(['status', 'thirdparties', 'supplierinvoices', 'users']);

export interface DolibarrStandinOptions {
  /** The name it serves (certificate, reports, application_name of its database sessions). */
  readonly host: string;
  /** The instance unique id of its conf.php: API keys are stored and looked up with it (auth.ts). */
  readonly instanceId: string;
  /** The loopback IPv4 address it listens on, 127.x.y.z; default 127.0.0.1. Anything else is a TypeError. */
  readonly address?: string;
  /** The TCP port it listens on; default 0 (a random free port). */
  readonly port?: number;
  readonly key: Buffer;
  readonly cert: Buffer;
  /** The instance's own database, reached through the instance's own login role. */
  readonly database: DatabaseTarget;
  /** The version it answers as; default the harness's default (support/dolibarr/versions.ts). */
  readonly profile?: DolibarrProfile;
  /** The delay before refusing an unknown key; default 1000 ms like the real one. */
  readonly unknownKeyDelayMs?: number;
  /** conf.php's `$dolibarr_main_prod = '1'`: `/status` has no `environment` (error bodies keep `debug`: see API_PRODUCTION_MODE). */
  readonly mainProd?: boolean;
}

export interface DolibarrStandin {
  readonly host: string;
  /** The loopback address it listens on. */
  readonly address: string;
  readonly port: number;
  /** The version it answers as. */
  readonly profile: DolibarrProfile;
  /** TCP connections accepted so far. */
  connections(): number;
  /** HTTP requests received so far. */
  requests(): number;
  /**
   * A fault: while `location` is set, every request is answered (before auth, without touching the database) with
   * `status` (default 307), `Location: <location>` and an empty body; still counted. `undefined` stops it.
   */
  redirectEverythingTo(location: string | undefined, status?: number): void;
  /** The login its next requests connect with (the one it had may have been revoked: then it cannot reach its database). */
  useDatabaseLogin(login: Login): void;
  /** Stops listening, drops the HTTP connections and closes any database connection still open. Idempotent. */
  close(): Promise<void>;
}

/** What to answer: a JSON body, or a page as text, with its status. */
type Reply =
  | { readonly status: number; readonly body: unknown }
  | { readonly status: number; readonly text: string; readonly contentType: string };

/** Opening the request's database connection failed: the real one answers its technical-error page then. */
class DatabaseUnreachable extends Error {}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** True for a dotted IPv4 address in 127.0.0.0/8. */
function isLoopbackIPv4(address: unknown): address is string {
  return typeof address === 'string' && isIPv4(address) && address.startsWith('127.');
}

function checkOptions(options: DolibarrStandinOptions): { address: string; port: number } {
  if (typeof options.instanceId !== 'string' || options.instanceId === '') {
    throw new TypeError('startDolibarrStandin: instanceId must be a non-empty string');
  }
  const address = options.address ?? DEFAULT_ADDRESS;
  if (!isLoopbackIPv4(address)) {
    throw new TypeError(`startDolibarrStandin: address must be a loopback IPv4 address 127.x.y.z, not ${JSON.stringify(address)}`);
  }
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError(`startDolibarrStandin: port must be an integer from 0 to 65535, not ${String(port)}`);
  }
  return { address, port };
}

/** The key as api_access.class.php reads it: the DOLAPIKEY header, else the query, else (when the version reads it) `Authorization: Bearer`. */
function presentedKey(req: IncomingMessage, query: URLSearchParams, profile: DolibarrProfile): string | undefined {
  const header = req.headers['dolapikey'];
  const fromHeader = Array.isArray(header) ? header[0] : header;
  if (fromHeader !== undefined && fromHeader !== '') return fromHeader;
  const fromQuery = query.get('DOLAPIKEY') ?? query.get('api_key');
  if (fromQuery !== null && fromQuery !== '') return fromQuery;
  if (!profile.bearer.value) return undefined;
  // PHP's getallheaders() keeps the name as sent, and Dolibarr reads $headers['Authorization']: that spelling only.
  const at = req.rawHeaders.findIndex((name, index) => index % 2 === 0 && name === 'Authorization');
  const bearer = at < 0 ? null : /^Bearer\s+(\S+)$/i.exec(req.rawHeaders[at + 1] ?? '');
  return bearer?.[1];
}

/**
 * Dolibarr's technical-error page, answered to any request, key or not, while its database is unreachable (its first
 * words are the version's; the rest is chosen).
 */
function databaseDownPage(profile: DolibarrProfile): Reply {
  const text = [
    '<!DOCTYPE html>',
    '<html><head><meta charset="UTF-8"><title>Dolibarr</title></head><body>',
    `<div class="error">${profile.databaseDownPage.value}.</div>`,
    '<div>Failed to connect to the database server. Check that it is running and that conf.php names it and a valid login.</div>',
    '</body></html>',
    '',
  ].join('\n');
  const { status, contentType } = EVERY_VERSION.databaseDown.value;
  return { status, text, contentType: `${contentType}; charset=UTF-8` };
}

/** Whether the `llx_const` row API_PRODUCTION_MODE is set (PHP's !empty: neither empty nor "0"). */
async function apiProductionMode(db: Queryable): Promise<boolean> {
  const { rows } = await db
    .query<{ value: string | null }>("SELECT value FROM llx_const WHERE name = 'API_PRODUCTION_MODE' AND entity IN (0, 1) ORDER BY entity DESC LIMIT 1")
    .catch(() => ({ rows: [] as { value: string | null }[] })); // a database without its tables: not set, as PHP reads a missing constant
  const value = rows[0]?.value;
  return value !== undefined && value !== null && value !== '' && value !== '0';
}

function checkRedirect(location: string | undefined, status: number): void {
  if (location === undefined) return;
  if (typeof location !== 'string' || location === '' || /[\x00-\x1f\x7f]/.test(location)) {
    throw new TypeError('redirectEverythingTo: location must be a non-empty string without control characters');
  }
  if (!Number.isInteger(status) || status < 300 || status > 399) {
    throw new TypeError(`redirectEverythingTo: status must be a 3xx status, not ${String(status)}`);
  }
}

export async function startDolibarrStandin(options: DolibarrStandinOptions): Promise<DolibarrStandin> {
  const listen = checkOptions(options);
  const delay = options.unknownKeyDelayMs ?? 1000;
  const profile = options.profile ?? DOLIBARR_VERSIONS[DEFAULT_DOLIBARR_PROFILE];
  const mainProd = options.mainProd ?? false;
  const applicationName = `dolibarr-standin ${options.host}`;
  let database = options.database;
  // Fail fast on a wrong login, as Dolibarr's install check would; the check's session is closed at once.
  await (await openConnection(database, applicationName)).close();

  let connections = 0;
  let requests = 0;
  let redirect: { location: string; status: number } | undefined;
  let closing: Promise<void> | undefined;
  /** Database connections of requests in progress, closed by close() if still open. */
  const open = new Set<Connection>();
  /** Requests in progress, awaited by close(). */
  const inFlight = new Set<Promise<void>>();

  /** Restler's error body; `debug` unless API_PRODUCTION_MODE (unknown before the database answered: then shown). */
  function errorReply(error: ApiError, stage: string, debug = true): Reply {
    const body: Record<string, unknown> = { error: { code: error.code, message: error.message } };
    if (debug) {
      body['debug'] = {
        source: `${error.source} at ${stage} stage`,
        stages: { success: ['get', 'route', 'negotiate', ...(stage === 'call' ? ['authenticate', 'validate'] : [])], failure: [stage, 'message'] },
      };
    }
    return { status: error.code, body };
  }

  function write(res: ServerResponse, reply: Reply): void {
    if (res.headersSent || res.destroyed) return;
    const [text, contentType] = 'text' in reply ? [reply.text, reply.contentType] : [JSON.stringify(reply.body), 'application/json; charset=utf-8'];
    res.writeHead(reply.status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-cache, must-revalidate' });
    res.end(text);
  }

  /**
   * This request's database connection; DatabaseUnreachable when the database cannot be reached. Like PHP's Dolibarr
   * (main.inc.php) it opens one per request, first thing, and closes it once the request's database work is done (no
   * pool): no session stays connected between requests, which the sandbox reset's other-sessions check relies on.
   */
  async function connect(): Promise<Connection> {
    const stopping = (): ApiError => fail(503, 'index.php', 'Failed to connect to database: the instance is stopping');
    if (closing !== undefined) throw stopping();
    let db: Connection;
    try {
      db = await openConnection(database, applicationName);
    } catch (error) {
      throw new DatabaseUnreachable((error as Error).message);
    }
    if (closing !== undefined) {
      await db.close();
      throw stopping();
    }
    open.add(db);
    return db;
  }

  async function release(db: Connection): Promise<void> {
    await db.close();
    open.delete(db);
  }

  /** The authenticated part: parse the body, then the endpoint. */
  async function dispatch(db: Queryable, req: IncomingMessage, url: URL, segments: string[], text: string, user: ApiUser, debug: boolean): Promise<Reply> {
    let body: unknown;
    if (text.trim() !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        return errorReply(fail(400, 'index.php', 'Error parsing JSON'), 'validate', debug);
      }
    }
    const call: Call = { method: (req.method ?? 'GET').toUpperCase(), segments, query: url.searchParams, body, user, profile };
    try {
      const resource = segments[0];
      const answer = resource === 'status' ? status(call, mainProd)
        : resource === 'thirdparties' ? await thirdparties(db, call)
        : resource === 'supplierinvoices' ? await supplierInvoices(db, call)
        : usersInfo(call);
      return { status: 200, body: answer };
    } catch (error) {
      if (error instanceof ApiError) return errorReply(error, 'call', debug);
      throw error;
    }
  }

  /** What api/index.php does once main.inc.php has the database: route, authenticate, call. Undefined: an unknown key. */
  async function route(db: Queryable, req: IncomingMessage, url: URL, text: string, debug: boolean): Promise<Reply | undefined> {
    // The 404 of an unknown path, and the 400/405/409/500 texts elsewhere, are chosen (no record of a real answer).
    if (!url.pathname.startsWith(API_PREFIX)) return errorReply(fail(404, 'index.php'), 'route', debug);
    const segments = url.pathname.slice(API_PREFIX.length).split('/').filter((s) => s !== '');
    const resource = segments[0];
    if (resource !== undefined && !APIS.has(resource)) { // before any key is looked at
      const { status: code, text: page } = EVERY_VERSION.unknownRoute.value;
      return { status: code, text: page, contentType: 'text/html; charset=UTF-8' };
    }
    const known = resource === 'status' ? segments.length === 1
      : resource === 'thirdparties' || resource === 'supplierinvoices' ? segments.length <= 2
      : resource === 'users' ? segments.length === 2 && segments[1] === 'info'
      : false;
    if (!known) return errorReply(fail(404, 'index.php'), 'route', debug);
    const key = presentedKey(req, url.searchParams, profile);
    if (key === undefined) return errorReply(new ApiError(401, profile.noKeyMessage.value, 'api_access.class.php'), 'authenticate', debug);
    const user = await authenticate(db, options.instanceId, key);
    return user === undefined ? undefined : dispatch(db, req, url, segments, text, user, debug);
  }

  async function handle(req: IncomingMessage): Promise<Reply> {
    const url = new URL(req.url ?? '/', 'https://standin.invalid');
    const text = await readRequestBody(req, MAX_BODY, () => fail(400, 'index.php', 'request body too large'));
    let db: Connection;
    try {
      db = await connect();
    } catch (error) {
      if (error instanceof DatabaseUnreachable) return databaseDownPage(profile);
      throw error;
    }
    let debug = true;
    let reply: Reply | undefined;
    try {
      debug = !(await apiProductionMode(db));
      reply = await route(db, req, url, text, debug);
    } finally {
      await release(db); // before answering: once the client has its answer, the session is already closing
    }
    if (reply !== undefined) return reply;
    await sleep(delay); // Dolibarr's anti-brute-force sleep (the database is not needed for it)
    return errorReply(new ApiError(401, EVERY_VERSION.unknownKey.value, 'api_access.class.php'), 'authenticate', debug);
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let reply: Reply;
    try {
      reply = await handle(req);
    } catch (error) {
      const apiError = error instanceof ApiError ? error : fail(500, 'index.php', (error as Error)?.message ?? String(error));
      reply = errorReply(apiError, 'call');
    }
    write(res, reply);
  }

  const server: Server = createServer({ key: options.key, cert: options.cert }, (req, res) => {
    requests += 1;
    if (redirect !== undefined) {
      req.resume(); // drop any body
      res.writeHead(redirect.status, { location: redirect.location, 'content-length': 0 });
      res.end();
      return;
    }
    const work = serve(req, res).catch(() => undefined); // serve answers every error itself; never crash
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  });
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.address, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;

  return {
    host: options.host,
    address: bound.address,
    port: bound.port,
    profile,
    connections: () => connections,
    requests: () => requests,
    redirectEverythingTo(location: string | undefined, status = 307) {
      checkRedirect(location, status);
      redirect = location === undefined ? undefined : { location, status };
    },
    useDatabaseLogin(login: Login) {
      database = { ...database, login };
    },
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        // A request still running loses its database connection now (its answer has nowhere to go anyway).
        await Promise.all([...open].map((db) => db.close()));
        await Promise.all([...inFlight]);
        await stopped;
      })();
      return closing;
    },
  };
}
