/**
 * The one node-vault client of a session, and the only place that calls it. node-vault builds every request; the HTTPS
 * exchange is ours, so that only the configured Vault is reached, through the configured CA, with no redirect and no
 * proxy. Errors are rebuilt into VaultError with every known secret redacted.
 */
import * as https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { LookupFunction } from 'node:net';
import vault = require('node-vault');
import type { VaultConfig } from './config';
import { Secret } from '../secret';
import { VaultError, VaultPermissionDenied, VaultUnexpectedResponse, VaultUnreachable } from './errors';

export type VaultClient = vault.client;

/** How a call may be repeated: only idempotent reads are retried (never a write, never a credential read). */
export type CallKind = 'read' | 'write' | 'mint';

export interface TransportOptions {
  /** DNS hook (hermetic: the Vault stand-in's real name → loopback). */
  readonly lookup?: LookupFunction;
}

const RETRY_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const RETRY_DELAY_MS = 100;
/** Shorter values are not redacted (they would mangle every message and are no secret anyway). */
const MIN_REDACTED_LENGTH = 4;
/** Vault's answers are small; anything bigger is not Vault. */
const MAX_BODY_BYTES = 1024 * 1024;

/** What node-vault hands its `request-promise`, and what it expects back. */
interface RpOptions {
  readonly method: string;
  readonly uri: string;
  readonly headers?: Record<string, string>;
  readonly json?: unknown;
}
interface RpResponse {
  readonly statusCode: number;
  readonly body: unknown;
  readonly request: { readonly path: string };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const networkError = (code: string, message: string): Error => Object.assign(new Error(message), { code });

/** One HTTPS exchange with the configured Vault: no redirect, no proxy, a wall-clock timeout. */
function exchange(agent: https.Agent, host: string, port: number, timeoutMs: number, options: RpOptions): Promise<RpResponse> {
  return new Promise((resolve, reject) => {
    const url = new URL(options.uri);
    if (url.protocol !== 'https:' || url.hostname.toLowerCase() !== host.toLowerCase() || Number(url.port || 443) !== port) {
      reject(networkError('ERR_VAULT_HOST_REFUSED', `refusing ${url.protocol}//${url.host}: only the configured Vault ${host}:${port} is reached`));
      return;
    }
    const body = options.json !== undefined && options.json !== null && typeof options.json === 'object' ? JSON.stringify(options.json) : undefined;
    const headers: Record<string, string | number> = { ...options.headers, accept: 'application/json' };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(body);
    }
    const request = https.request(url, { method: options.method, agent, headers }, (response: IncomingMessage) => {
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400) {
        response.resume();
        const location = response.headers.location;
        reject(networkError('ERR_VAULT_REDIRECT', `answered ${status} towards ${location === undefined ? '(no location)' : new URL(location, url).origin}: redirects are never followed`));
        request.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) request.destroy(networkError('ERR_VAULT_BODY_TOO_LARGE', `answer larger than ${MAX_BODY_BYTES} bytes`));
        else chunks.push(chunk);
      });
      response.on('error', reject);
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text === '' ? undefined : text;
        try {
          if (text !== '') parsed = JSON.parse(text);
        } catch {
          // not JSON: kept as text
        }
        resolve({ statusCode: status, body: parsed, request: { path: url.pathname } });
      });
    });
    const timer = setTimeout(() => request.destroy(networkError('ERR_VAULT_TIMEOUT', `no answer within ${timeoutMs} ms`)), timeoutMs);
    request.on('error', reject);
    request.on('close', () => clearTimeout(timer));
    request.end(body);
  });
}

export class VaultTransport {
  readonly #client: VaultClient;
  readonly #agent: https.Agent;
  readonly #readRetries: number;
  readonly #secrets = new Set<string>();

  constructor(config: VaultConfig, options: TransportOptions = {}) {
    this.#agent = new https.Agent({
      rejectUnauthorized: true,
      ...(config.ca === undefined ? {} : { ca: config.ca }),
      ...(options.lookup === undefined ? {} : { lookup: options.lookup }),
    });
    this.#readRetries = config.readRetries;
    const agent = this.#agent;
    const rp = (rpOptions: RpOptions) => exchange(agent, config.host, config.port, config.timeoutMs, rpOptions);
    // Not node-vault's axios transport: it follows redirects, resending X-Vault-Token to whatever host a 3xx names
    // (node-vault hands axios no maxRedirects or proxy option, so this cannot be switched off), logs every request's
    // headers under DEBUG=follow-redirects, honours HTTP(S)_PROXY, and drops certificate checks on VAULT_SKIP_VERIFY.
    const client = vault({
      apiVersion: 'v1',
      endpoint: config.address,
      // node-vault's logger prints request bodies (a login JWT) under DEBUG=node-vault.
      debug: () => undefined,
      'request-promise': { defaults: () => rp },
    });
    // node-vault takes these from VAULT_ADDR, VAULT_TOKEN, VAULT_PREFIX and VAULT_NAMESPACE: only the configuration
    // decides.
    client.endpoint = config.address;
    client.token = '';
    const untyped = client as unknown as Record<string, unknown>;
    untyped['pathPrefix'] = '';
    untyped['namespace'] = undefined;
    this.#client = client;
  }

  /** The token sent as X-Vault-Token from now on (none: `undefined`). */
  useToken(token: Secret | undefined): void {
    if (token !== undefined) this.addSecret(token.reveal());
    this.#client.token = token === undefined ? '' : token.reveal();
  }

  /** A value to redact from every error text from now on. */
  addSecret(value: string): void {
    if (value.length >= MIN_REDACTED_LENGTH) this.#secrets.add(value);
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.#secrets) out = out.split(secret).join('[redacted]');
    return out;
  }

  /**
   * One logical call: `operation` with node-vault, retried (idempotent reads only) on network errors and 5xx,
   * errors rebuilt as VaultError (403 → `denied`, default VaultPermissionDenied).
   */
  async call(
    method: string,
    path: string,
    kind: CallKind,
    operation: (client: VaultClient) => Promise<unknown>,
    denied: typeof VaultError = VaultPermissionDenied,
  ): Promise<unknown> {
    const retries = kind === 'read' ? this.#readRetries : 0;
    for (let attempt = 0; ; attempt++) {
      try {
        return await operation(this.#client);
      } catch (raw) {
        const error = this.translate(raw, method, path, denied);
        if (attempt < retries && retryable(error)) {
          await sleep(RETRY_DELAY_MS * 2 ** attempt);
          continue;
        }
        throw error;
      }
    }
  }

  /**
   * Rebuilds any error of node-vault or of the exchange from the status, Vault's messages and the error code only,
   * secrets redacted; node-vault's and Node's error objects are never kept (`cause`).
   */
  translate(raw: unknown, method: string, path: string, denied: typeof VaultError = VaultPermissionDenied): VaultError {
    if (raw instanceof VaultError) return raw;
    const response = (raw as { response?: { statusCode?: unknown; body?: unknown } } | null)?.response;
    if (response !== undefined && typeof response.statusCode === 'number') {
      const status = response.statusCode;
      const body = response.body as { errors?: unknown } | string | null | undefined;
      let errors: string[] = [];
      if (body !== null && typeof body === 'object' && Array.isArray(body.errors)) {
        errors = body.errors.filter((e): e is string => typeof e === 'string');
      } else if (typeof body === 'string' && body.trim() !== '') {
        errors = [body.trim().slice(0, 200)];
      }
      errors = errors.map((e) => this.redact(e));
      const Kind = status === 403 ? denied : status >= 200 && status < 300 ? VaultUnexpectedResponse : VaultError;
      return new Kind(status, errors, method, path);
    }
    const code = (raw as { code?: unknown } | null)?.code;
    const message = this.redact(raw instanceof Error ? raw.message : String(raw));
    if ((raw as { isAxiosError?: unknown } | null)?.isAxiosError === true || typeof code === 'string') {
      return new VaultUnreachable(typeof code === 'string' ? code : undefined, message, method, path);
    }
    return new VaultError(0, [message], method, path);
  }

  /** Closes idle connections. */
  close(): void {
    this.#agent.destroy();
  }
}

function retryable(error: VaultError): boolean {
  if (error instanceof VaultUnreachable) return error.code !== undefined && RETRY_CODES.has(error.code);
  return error.status >= 500 && error.status !== 501;
}
