/**
 * HERMETIC STAND-IN for one Dolibarr 20.0.2 instance (a test double of a third-party service; see DESIGN.md).
 *
 * A loopback HTTPS server (a 127.x.y.z address, default 127.0.0.1; random port unless given) serving the REST
 * endpoints the harness uses, under `/api/index.php/`, backed by the instance's own database through the instance's
 * own login role (rows only, never DDL). Like PHP's Dolibarr it opens one database connection per HTTP request and
 * closes it when the request's database work is done (no pool), so no session stays connected between requests:
 * the sandbox reset refuses to run while any other session is connected to the sandbox database (database.ts).
 * It answers like the real one (shared/facts/vault-and-dolibarr.md):
 *
 * - auth: `DOLAPIKEY` header, `?DOLAPIKEY=`, `?api_key=`, `Authorization: Bearer`; no key → 401; unknown key or
 *   disabled user → 401 after `unknownKeyDelayMs` (the real anti-brute-force sleep is 1 s). Keys are stored and
 *   looked up with the instance unique id (`instanceId`), so a key issued for another instance is unknown here even
 *   on the same database. See auth.ts.
 * - rights from llx_user_rights (admin bypasses), with Dolibarr's 403 messages (`Forbidden`,
 *   `Forbidden: Insuffisant rights`, `Forbidden: Not allowed`).
 * - error bodies `{"error":{"code","message"},"debug":{…}}`, no `debug` when `production`.
 * - creates answer the new id as a bare JSON number with status 200; empty lists answer 404.
 *
 * Endpoints: GET /status; GET|POST /thirdparties; GET|PUT|DELETE /thirdparties/{id}; GET|POST /supplierinvoices;
 * GET /supplierinvoices/{id}; GET /users/info. Anything else: 404 "Not Found".
 *
 * Not verified against a real instance (documented choices): the 404 messages of single objects
 * (`Thirdparty not found`, `Supplier invoice not found`), the empty supplier-invoice list (`No supplier invoice
 * found`), 400/409/500/503 messages. Without right 262 a non-admin sees no thirdparty at all: the fixture has no
 * `llx_societe_commerciaux` (sales representatives), so nothing is "linked to the user". A database that cannot be
 * reached answers 503 `Service Unavailable: Failed to connect to database: <cause>` (the real one prints a
 * dol_print_error page instead); the process never stops on a database error.
 *
 * It counts TCP connections and HTTP requests so that a test can prove a refused request never reached it. A fault
 * for the host-guard gate, `redirectEverythingTo`, makes it answer every request with a redirect (before auth).
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIPv4, type AddressInfo } from 'node:net';
import { readRequestBody } from '../request-body';
import { authenticate, type ApiUser } from './auth';
import type { Call } from './call';
import { openConnection, type Connection, type DatabaseTarget, type Queryable } from './database';
import { ApiError, BAD_KEY, fail, NO_KEY } from './errors';
import { status } from './status';
import { supplierInvoices } from './supplier-invoices';
import { thirdparties } from './thirdparties';
import { usersInfo } from './users';

export { grantApiAccess, storedApiKey, RIGHT } from './auth';
export { DOLIBARR_VERSION } from './status';

const API_PREFIX = '/api/index.php/';
const MAX_BODY = 1 << 20;
const DEFAULT_ADDRESS = '127.0.0.1';

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
  /** The delay before refusing an unknown key; default 1000 ms like the real one. */
  readonly unknownKeyDelayMs?: number;
  /** `$dolibarr_main_prod = '1'`: no `debug` in error bodies, status says `production`. */
  readonly production?: boolean;
}

export interface DolibarrStandin {
  readonly host: string;
  /** The loopback address it listens on. */
  readonly address: string;
  readonly port: number;
  /** TCP connections accepted so far. */
  connections(): number;
  /** HTTP requests received so far. */
  requests(): number;
  /**
   * A fault: while `location` is set, every request is answered (before auth, without touching the database) with
   * `status` (default 307), `Location: <location>` and an empty body; still counted. `undefined` stops it.
   */
  redirectEverythingTo(location: string | undefined, status?: number): void;
  /** Stops listening, drops the HTTP connections and closes any database connection still open. Idempotent. */
  close(): Promise<void>;
}

/** What to answer: a JSON body with its status. */
interface Reply {
  readonly status: number;
  readonly body: unknown;
}

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

function presentedKey(req: IncomingMessage, query: URLSearchParams): string | undefined {
  const header = req.headers['dolapikey'];
  const fromHeader = Array.isArray(header) ? header[0] : header;
  if (fromHeader !== undefined && fromHeader !== '') return fromHeader;
  const fromQuery = query.get('DOLAPIKEY') ?? query.get('api_key');
  if (fromQuery !== null && fromQuery !== '') return fromQuery;
  const auth = req.headers.authorization;
  const bearer = auth !== undefined ? /^Bearer\s+(\S+)$/i.exec(auth) : null;
  return bearer?.[1];
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
  const production = options.production ?? false;
  const applicationName = `dolibarr-standin ${options.host}`;
  // Fail fast on a wrong login, as Dolibarr's install check would; the check's session is closed at once.
  await (await openConnection(options.database, applicationName)).close();

  let connections = 0;
  let requests = 0;
  let redirect: { location: string; status: number } | undefined;
  let closing: Promise<void> | undefined;
  /** Database connections of requests in progress, closed by close() if still open. */
  const open = new Set<Connection>();
  /** Requests in progress, awaited by close(). */
  const inFlight = new Set<Promise<void>>();

  function errorReply(error: ApiError, stage: string): Reply {
    const body: Record<string, unknown> = { error: { code: error.code, message: error.message } };
    if (!production) {
      body['debug'] = {
        source: `${error.source} at ${stage} stage`,
        stages: { success: ['get', 'route', 'negotiate', ...(stage === 'call' ? ['authenticate', 'validate'] : [])], failure: [stage, 'message'] },
      };
    }
    return { status: error.code, body };
  }

  function write(res: ServerResponse, reply: Reply): void {
    if (res.headersSent || res.destroyed) return;
    const text = JSON.stringify(reply.body);
    res.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-cache, must-revalidate' });
    res.end(text);
  }

  /** This request's database connection; a 503 when the database cannot be reached. */
  async function connect(): Promise<Connection> {
    const stopping = (): ApiError => fail(503, 'index.php', 'Failed to connect to database: the instance is stopping');
    if (closing !== undefined) throw stopping();
    let db: Connection;
    try {
      db = await openConnection(options.database, applicationName);
    } catch (error) {
      throw fail(503, 'index.php', `Failed to connect to database: ${(error as Error).message}`);
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
  async function dispatch(db: Queryable, req: IncomingMessage, url: URL, segments: string[], text: string, user: ApiUser): Promise<Reply> {
    let body: unknown;
    if (text.trim() !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        return errorReply(fail(400, 'index.php', 'Error parsing JSON'), 'validate');
      }
    }
    const call: Call = { method: (req.method ?? 'GET').toUpperCase(), segments, query: url.searchParams, body, user };
    try {
      const resource = segments[0];
      const answer = resource === 'status' ? status(call, production)
        : resource === 'thirdparties' ? await thirdparties(db, call)
        : resource === 'supplierinvoices' ? await supplierInvoices(db, call)
        : usersInfo(call);
      return { status: 200, body: answer };
    } catch (error) {
      if (error instanceof ApiError) return errorReply(error, 'call');
      throw error;
    }
  }

  async function handle(req: IncomingMessage): Promise<Reply> {
    const url = new URL(req.url ?? '/', 'https://standin.invalid');
    if (!url.pathname.startsWith(API_PREFIX)) return errorReply(fail(404, 'index.php'), 'route');
    const segments = url.pathname.slice(API_PREFIX.length).split('/').filter((s) => s !== '');
    const resource = segments[0];
    const known = resource === 'status' ? segments.length === 1
      : resource === 'thirdparties' || resource === 'supplierinvoices' ? segments.length <= 2
      : resource === 'users' ? segments.length === 2 && segments[1] === 'info'
      : false;
    if (!known) return errorReply(fail(404, 'index.php'), 'route');
    const text = await readRequestBody(req, MAX_BODY, () => fail(400, 'index.php', 'request body too large'));
    const key = presentedKey(req, url.searchParams);
    if (key === undefined) return errorReply(fail(401, 'api_access.class.php', NO_KEY), 'authenticate');
    const db = await connect();
    let reply: Reply | undefined;
    try {
      const user = await authenticate(db, options.instanceId, key);
      if (user !== undefined) reply = await dispatch(db, req, url, segments, text, user);
    } finally {
      await release(db); // before answering: once the client has its answer, the session is already closing
    }
    if (reply !== undefined) return reply;
    await sleep(delay); // Dolibarr's anti-brute-force sleep (the database is not needed for it)
    return errorReply(fail(401, 'api_access.class.php', BAD_KEY), 'authenticate');
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
    connections: () => connections,
    requests: () => requests,
    redirectEverythingTo(location: string | undefined, status = 307) {
      checkRedirect(location, status);
      redirect = location === undefined ? undefined : { location, status };
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
