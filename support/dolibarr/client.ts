/**
 * The Dolibarr REST client of the write tooling: the API calls, for the sandbox alone (or, for promote's replay of an
 * approved changeset, for prod under a grant); its HTTP, guarded by the host-guard, is transport.ts's.
 */
import type { LookupFunction } from 'node:net';
import { inspect } from 'node:util';
import { InstanceNames, PROD_ENV, instanceNames } from '../naming';
import { grantedHost, type ProdWriteGrant } from './prod-grant';
import { guardedTransport, type DolibarrTransport, type Method } from './transport';
import { profileOf, type DolibarrProfile, type DolibarrProfileName } from './versions';
import { DolibarrAuthenticationError, DolibarrNotFoundError, DolibarrUnexpectedResponse } from './errors';

/** A write the client sent and what Dolibarr answered, for the rehearsal's changeset (support/promote). */
export interface WriteExchange {
  readonly method: 'POST' | 'PUT' | 'DELETE';
  /** Under the API root, e.g. `/thirdparties/12`. */
  readonly path: string;
  readonly body?: Record<string, unknown>;
  readonly status: number;
  /** The parsed answer, or the error message Dolibarr gave. */
  readonly response: unknown;
}

export interface DolibarrClientOptions {
  /** The sandbox's names (`instanceNames('erp', 'sandbox', domain)`); its `host` builds the guard's policy. */
  readonly sandbox?: InstanceNames;
  /**
   * Instead of `sandbox`, for promote only: a grant from `grantProdWrites` (prod-grant.ts) makes prod's host the guard's
   * only host, for this client alone.
   */
  readonly prodGrant?: ProdWriteGrant;
  /** Told of every write (not reads) once Dolibarr answered it, success or not; never of the key. */
  readonly onWrite?: (exchange: WriteExchange) => void;
  /** The port allowed besides 443 (the configured one); default 443. */
  readonly port?: number;
  /**
   * The Dolibarr URL the tooling is configured with (e.g. read from its Vault config), possibly with a path
   * prefix; default `https://<sandbox host>[:port]`. Checked against the host-guard policy at construction (a
   * misconfigured URL fails at once) and again, like every request, by the dispatcher.
   */
  readonly url?: string;
  /** Secret: never in messages, errors, inspect or JSON output. */
  readonly apiKey: string;
  /** Trusted CA (homelab CA live, per-run CA hermetic). */
  readonly ca?: string | Buffer;
  /** Per attempt, default 15 000 ms. */
  readonly timeoutMs?: number;
  /** Retries of idempotent GETs on network errors and 502/503/504, default 2. */
  readonly readRetries?: number;
  /** DNS hook (hermetic: real names → loopback stand-ins). */
  readonly lookup?: LookupFunction;
}

export type Thirdparty = Record<string, unknown> & { id?: string | number };
export type SupplierInvoice = Record<string, unknown> & { id?: string | number };

export interface ListQuery {
  readonly limit?: number;
  readonly page?: number;
  readonly sortfield?: string;
  readonly sortorder?: 'ASC' | 'DESC';
  readonly sqlfilters?: string;
}

export interface SupplierInvoiceQuery extends ListQuery {
  /** Comma-separated thirdparty ids, e.g. "1,2". */
  readonly thirdparty_ids?: string;
  readonly status?: 'draft' | 'unpaid' | 'paid' | 'cancelled';
}

const API = '/api/index.php';

/**
 * Checks that `sandbox` are the naming rule's names of a non-prod instance (never a bare host: not prod's env, and the
 * host the rule derives from its app and env, which is not prod's); returns its host.
 */
function sandboxHost(sandbox: InstanceNames): string {
  if (sandbox === null || typeof sandbox !== 'object' || typeof sandbox.host !== 'string' || typeof sandbox.env !== 'string') {
    throw new TypeError('DolibarrClient: `sandbox` must be the InstanceNames of the sandbox (instanceNames(app, env, domain))');
  }
  if (sandbox.env === PROD_ENV) {
    throw new TypeError(
      `DolibarrClient: refusing the prod instance ${JSON.stringify(sandbox.host)}: the write tooling only talks to a sandbox ` +
        '(give instanceNames(app, "sandbox", domain))',
    );
  }
  const prefix = `${sandbox.instance}.`;
  const domain = sandbox.host.startsWith(prefix) ? sandbox.host.slice(prefix.length) : '';
  let expected: string;
  let prod: string;
  try {
    expected = instanceNames(sandbox.app, sandbox.env, domain).host;
    prod = instanceNames(sandbox.app, PROD_ENV, domain).host;
  } catch (error) {
    throw new TypeError(`DolibarrClient: ${JSON.stringify(sandbox.host)} is not a host of the naming rule: ${(error as Error).message}`);
  }
  if (expected !== sandbox.host || prod === sandbox.host) {
    throw new TypeError(
      `DolibarrClient: host ${JSON.stringify(sandbox.host)} is not the naming rule's host for ` +
        `(${JSON.stringify(sandbox.app)}, ${JSON.stringify(sandbox.env)})`,
    );
  }
  return sandbox.host;
}

function checkId(id: number): number {
  if (!Number.isSafeInteger(id) || id <= 0) throw new TypeError(`Dolibarr id ${JSON.stringify(id)} is not a positive integer`);
  return id;
}

function queryString(query: object | undefined): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined) params.set(key, String(value));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/** The module exports this class alone: no raw request helper; `inspect` and JSON show only the host and port. */
export class DolibarrClient {
  readonly #transport: DolibarrTransport;
  readonly #origin: string;
  readonly #host: string;
  readonly #port: number;
  readonly #onWrite: ((exchange: WriteExchange) => void) | undefined;
  /** What the Dolibarr answers like, once status() read its version. */
  #profile: DolibarrProfile | undefined;

  constructor(options: DolibarrClientOptions) {
    if ((options?.sandbox === undefined) === (options?.prodGrant === undefined)) {
      throw new TypeError('DolibarrClient: give `sandbox` (the write tooling) or `prodGrant` (promote), not both');
    }
    const host = options.prodGrant ? grantedHost(options.prodGrant) : sandboxHost(options.sandbox!);
    const port = options.port ?? 443;
    if (typeof options.apiKey !== 'string' || options.apiKey.length === 0 || /[\u0000-\u0020\u007f]/.test(options.apiKey)) {
      // The key itself is never quoted.
      throw new TypeError('DolibarrClient: apiKey must be a non-empty string without whitespace or control characters');
    }
    const timeoutMs = options.timeoutMs ?? 15_000;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new TypeError(`DolibarrClient: timeoutMs ${timeoutMs} is not a positive number`);
    const readRetries = options.readRetries ?? 2;
    if (!Number.isInteger(readRetries) || readRetries < 0) throw new TypeError(`DolibarrClient: readRetries ${readRetries} is not an integer ≥ 0`);

    const { transport, url } = guardedTransport({
      host,
      port,
      url: options.url ?? `https://${host}${port === 443 ? '' : `:${port}`}`,
      apiKey: options.apiKey,
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      ...(options.lookup === undefined ? {} : { lookup: options.lookup }),
      timeoutMs,
      readRetries,
    });
    this.#transport = transport;
    this.#host = host;
    this.#port = port;
    this.#origin = url.origin;
    this.#onWrite = options.onWrite;
  }

  /**
   * GET /status: the version, and which known version's answers to expect from it from now on (`answersAs`, absent
   * when the version is not one: the client then tells refusals apart by their messages alone).
   */
  async status(): Promise<{ dolibarrVersion: string; environment?: string; answersAs?: DolibarrProfileName }> {
    const path = `${API}/status`;
    const body = await this.#call('GET', path);
    const success = (body as { success?: Record<string, unknown> } | null)?.success;
    if (!success || typeof success['dolibarr_version'] !== 'string') {
      throw new DolibarrUnexpectedResponse(200, 'status answer without success.dolibarr_version', 'GET', path);
    }
    const dolibarrVersion = success['dolibarr_version'];
    this.#profile = profileOf(dolibarrVersion);
    const environment = success['environment'];
    return {
      dolibarrVersion,
      ...(typeof environment === 'string' ? { environment } : {}),
      ...(this.#profile === undefined ? {} : { answersAs: this.#profile.name }),
    };
  }

  /**
   * GET /status without the key: whether Dolibarr's API and its database answer at all (Dolibarr reads its database
   * before it looks at the key, so its 401 for the missing key is the answer expected). Throws what the client throws
   * otherwise: a DolibarrUnavailable for an error page, a DolibarrNetworkError or DolibarrTimeoutError for no answer.
   */
  async checkAnswers(): Promise<void> {
    try {
      await this.#call('GET', `${API}/status`, undefined, false);
    } catch (error) {
      if (!(error instanceof DolibarrAuthenticationError)) throw error;
    }
  }

  listThirdparties(query?: ListQuery): Promise<Thirdparty[]> {
    return this.#list('thirdparties', query);
  }

  async getThirdparty(id: number): Promise<Thirdparty> {
    return this.#object('GET', `${API}/thirdparties/${checkId(id)}`);
  }

  createThirdparty(fields: Record<string, unknown>): Promise<number> {
    return this.#create('thirdparties', fields);
  }

  updateThirdparty(id: number, fields: Record<string, unknown>): Promise<Thirdparty> {
    return this.#object('PUT', `${API}/thirdparties/${checkId(id)}`, fields);
  }

  async deleteThirdparty(id: number): Promise<void> {
    await this.#call('DELETE', `${API}/thirdparties/${checkId(id)}`);
  }

  listSupplierInvoices(query?: SupplierInvoiceQuery): Promise<SupplierInvoice[]> {
    return this.#list('supplierinvoices', query);
  }

  getSupplierInvoice(id: number): Promise<SupplierInvoice> {
    return this.#object('GET', `${API}/supplierinvoices/${checkId(id)}`);
  }

  createSupplierInvoice(fields: Record<string, unknown> & { lines?: readonly Record<string, unknown>[] }): Promise<number> {
    return this.#create('supplierinvoices', fields);
  }

  /** GET /users/info: the user behind the key (403 "Forbidden: Not allowed" for a plain user on some setups). */
  userInfo(): Promise<Record<string, unknown>> {
    return this.#object('GET', `${API}/users/info`);
  }

  async close(): Promise<void> {
    await this.#transport.close();
  }

  toJSON(): { host: string; port: number } {
    return { host: this.#host, port: this.#port };
  }

  toString(): string {
    return `DolibarrClient(${this.#origin})`;
  }

  [inspect.custom](): string {
    return `DolibarrClient { host: ${JSON.stringify(this.#host)}, port: ${this.#port} }`;
  }

  async #list<T extends Record<string, unknown>>(resource: string, query: object | undefined): Promise<T[]> {
    const path = `${API}/${resource}${queryString(query)}`;
    let body: unknown;
    try {
      body = await this.#call('GET', path);
    } catch (error) {
      if (error instanceof DolibarrNotFoundError) return []; // "Thirdparties not found": Dolibarr never answers []
      throw error;
    }
    if (!Array.isArray(body) || !body.every((item) => item !== null && typeof item === 'object' && !Array.isArray(item))) {
      throw new DolibarrUnexpectedResponse(200, 'list answer is not an array of objects', 'GET', path);
    }
    return body as T[];
  }

  async #object<T extends Record<string, unknown>>(method: Method, path: string, fields?: Record<string, unknown>): Promise<T> {
    const body = await this.#call(method, path, fields);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new DolibarrUnexpectedResponse(200, 'answer is not a JSON object', method, path);
    }
    return body as T;
  }

  /** A create: the new id, recorded as such for `onWrite` whichever way the version answered it. */
  async #create(resource: string, fields: Record<string, unknown>): Promise<number> {
    const path = `${API}/${resource}`;
    const id = await this.#call('POST', path, fields, true, (body) => {
      // A bare JSON number (20, 23) or a JSON string (19: "4").
      const value = typeof body === 'string' && /^\d+$/.test(body) ? Number(body) : body;
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
        throw new DolibarrUnexpectedResponse(200, 'create answer is not a bare positive id', 'POST', path);
      }
      return value;
    });
    return id as number;
  }

  /** One call, its answer read, then `read` (what the answer means, which is what `onWrite` is told of a write). */
  async #call(method: Method, path: string, fields?: Record<string, unknown>, withKey = true, read: (body: unknown) => unknown = (body) => body): Promise<unknown> {
    if (fields !== undefined && (fields === null || typeof fields !== 'object' || Array.isArray(fields))) {
      throw new TypeError(`Dolibarr ${method} ${path}: fields must be a plain object`);
    }
    const reply = await this.#transport.send(method, path, fields, withKey);
    if (method === 'GET' || this.#onWrite === undefined) return read(this.#transport.read(reply, this.#profile));
    const exchange = { method, path: path.slice(API.length), ...(fields === undefined ? {} : { body: fields }), status: reply.status };
    try {
      const answer = read(this.#transport.read(reply, this.#profile));
      this.#onWrite({ ...exchange, response: answer });
      return answer;
    } catch (error) {
      this.#onWrite({ ...exchange, response: (error as Error).message });
      throw error;
    }
  }
}
