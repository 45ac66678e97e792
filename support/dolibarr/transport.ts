/**
 * The write tooling's HTTP to one Dolibarr: undici through a private guarded dispatcher (every request and redirect
 * checked by the host-guard before any DNS lookup or socket, redirects never followed), a timeout per attempt, GETs
 * retried, and each answer read as JSON or as the error it is. The API key travels only in the `DOLAPIKEY` header.
 */
import type { LookupFunction } from 'node:net';
import { Dispatcher, request } from 'undici';
import { guardedDispatcher } from './guarded-dispatcher';
import { checkTarget, HostGuardRefusal, sandboxPolicy, type HostPolicy } from './host-guard';
import { isDatabaseDownPage, refusalOf, type DolibarrProfile } from './versions';
import {
  DolibarrAuthenticationError,
  DolibarrError,
  DolibarrNetworkError,
  DolibarrNotFoundError,
  DolibarrPermissionError,
  DolibarrTimeoutError,
  DolibarrUnavailable,
} from './errors';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface TransportOptions {
  readonly policy: HostPolicy;
  /** The Dolibarr URL's origin and path prefix, without a trailing slash. */
  readonly base: string;
  /** The host named in messages. */
  readonly host: string;
  /** Secret: redacted from every error text. */
  readonly apiKey: string;
  readonly ca?: string | Buffer;
  readonly lookup?: LookupFunction;
  /** Per attempt, covering headers and body. */
  readonly timeoutMs: number;
  /** Retries of GETs on network errors and 502/503/504. */
  readonly readRetries: number;
}

/** Where a transport goes: the one host it may reach, its port, and the Dolibarr URL it is configured with. */
export interface TransportTarget extends Omit<TransportOptions, 'policy' | 'base'> {
  readonly port: number;
  readonly url: string;
}

/**
 * The transport to `target.host` alone, once the host-guard accepted its URL (a URL with a query or fragment is refused
 * too); returns the URL as the guard read it.
 */
export function guardedTransport(target: TransportTarget): { readonly transport: DolibarrTransport; readonly url: URL } {
  const { port, url: configured, ...options } = target;
  const policy = sandboxPolicy(options.host, port);
  const url = checkTarget(policy, configured);
  if (url.search !== '' || url.hash !== '') {
    throw new TypeError(`the Dolibarr URL ${JSON.stringify(url.origin + url.pathname)} must not carry a query or fragment`);
  }
  return { url, transport: new DolibarrTransport({ ...options, policy, base: `${url.origin}${url.pathname.replace(/\/+$/, '')}` }) };
}

/** Dolibarr's answer to one request, not yet read. */
export interface Reply {
  readonly method: Method;
  readonly path: string;
  readonly status: number;
  readonly text: string;
}

const RETRY_STATUSES = new Set([502, 503, 504]);
const RETRY_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_CLOSED',
]);
const RETRY_DELAY_MS = 100;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class DolibarrTransport {
  // In ECMAScript private fields: nothing hands the dispatcher or the key out.
  readonly #dispatcher: Dispatcher;
  readonly #options: TransportOptions;

  constructor(options: TransportOptions) {
    const connect: Record<string, unknown> = {};
    if (options.ca !== undefined) connect['ca'] = options.ca;
    if (options.lookup !== undefined) connect['lookup'] = options.lookup;
    this.#dispatcher = guardedDispatcher(options.policy, { connect });
    this.#options = options;
  }

  /**
   * One request to its answer: GETs retried on transient network errors and 502/503/504, writes never (a retried
   * write could apply twice), a timeout never. No answer is a DolibarrNetworkError or DolibarrTimeoutError.
   */
  async send(method: Method, path: string, fields: Record<string, unknown> | undefined, withKey: boolean): Promise<Reply> {
    const retries = method === 'GET' ? this.#options.readRetries : 0;
    for (let attempt = 0; ; attempt++) {
      let status: number;
      let text: string;
      try {
        ({ status, text } = await this.#attempt(method, path, fields, withKey));
      } catch (error) {
        // Only transient network errors are retried (not a TLS verification failure, a refusal, a timeout).
        const code = error instanceof DolibarrNetworkError ? (error.cause as { code?: unknown } | undefined)?.code : undefined;
        if (attempt < retries && typeof code === 'string' && RETRY_CODES.has(code)) {
          await sleep(RETRY_DELAY_MS * 2 ** attempt);
          continue;
        }
        throw error;
      }
      if (attempt < retries && RETRY_STATUSES.has(status)) {
        await sleep(RETRY_DELAY_MS * 2 ** attempt);
        continue;
      }
      return { method, path, status, text };
    }
  }

  /**
   * The answer's JSON, or the error it is: a refusal told by `profile`'s version (403, or 401 with its message on 19),
   * 404 as DolibarrNotFoundError; an answer that is not JSON is a DolibarrUnavailable of one line (the target counts as
   * not reached).
   */
  read(reply: Reply, profile: DolibarrProfile | undefined): unknown {
    const { method, path, status, text } = reply;
    let body: unknown;
    let json = true;
    try {
      body = JSON.parse(text);
    } catch {
      json = false;
    }
    if (!json) throw new DolibarrUnavailable(status, this.#notJson(status, text), method, path);
    if (status >= 200 && status < 300) return body;
    const errorPart = (body as { error?: { message?: unknown } } | null)?.error;
    const message = this.#redact(typeof errorPart?.message === 'string' ? errorPart.message : text.slice(0, 200));
    const refusal = refusalOf(status, message, profile);
    const Kind =
      refusal === 'permission' ? DolibarrPermissionError
      : refusal === 'authentication' ? DolibarrAuthenticationError
      : status === 404 ? DolibarrNotFoundError
      : DolibarrError;
    throw new Kind(status, message, method, path);
  }

  async close(): Promise<void> {
    await this.#dispatcher.close();
  }

  async #attempt(method: Method, path: string, fields: Record<string, unknown> | undefined, withKey: boolean): Promise<{ status: number; text: string }> {
    const { timeoutMs, apiKey, base } = this.#options;
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const res = await request(`${base}${path}`, {
        dispatcher: this.#dispatcher,
        method,
        headers: {
          ...(withKey ? { DOLAPIKEY: apiKey } : {}),
          accept: 'application/json',
          ...(fields === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: fields === undefined ? null : JSON.stringify(fields),
        signal,
      });
      return { status: res.statusCode, text: await res.body.text() };
    } catch (error) {
      if (error instanceof HostGuardRefusal || error instanceof DolibarrError) throw error;
      if (signal.aborted) {
        throw new DolibarrTimeoutError(0, `no answer within ${timeoutMs} ms`, method, path);
      }
      const code = (error as { code?: unknown })?.code;
      const message = this.#redact(error instanceof Error ? error.message : String(error));
      throw new DolibarrNetworkError(0, `${typeof code === 'string' ? `${code}: ` : ''}${message}`, method, path, { cause: error });
    }
  }

  /** The one line for an answer that is not JSON: an HTML page (Dolibarr's own technical-error page, or another), or text. */
  #notJson(status: number, text: string): string {
    const at = `Dolibarr at ${this.#options.host}`;
    if (isDatabaseDownPage(text)) return `${at} answered an error page, status ${status}: its database may be unreachable`;
    if (/^\s*</.test(text)) return `${at} answered an error page, status ${status}, not its API's JSON: check that Dolibarr and its API are up behind that host`;
    const first = this.#redact(text.split('\n').find((line) => line.trim() !== '')?.trim().slice(0, 120) ?? '');
    return `${at} answered status ${status} with ${first === '' ? 'an empty body' : `text, not JSON: ${JSON.stringify(first)}`}`;
  }

  #redact(text: string): string {
    return text.split(this.#options.apiKey).join('[redacted]');
  }
}
