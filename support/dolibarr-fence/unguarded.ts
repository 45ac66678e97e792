/**
 * NOT THE WRITE TOOLING. A test-only way to send one request to a Dolibarr host *without* the host-guard, so that
 * the prod-undroppable gate can show that prod's Dolibarr itself refuses a write made with a key that must not
 * write there. Rehearsals never use it: the write tooling (support/dolibarr) has no way to reach prod, and nothing
 * under support/dolibarr imports this module (a unit test checks it).
 *
 * Every call opens its own connection pool and closes it; the key is only ever sent in the DOLAPIKEY header and
 * never appears in a message.
 */
import type { LookupFunction } from 'node:net';
import { Agent, request } from 'undici';
import type { Secret } from '../secret';
import type { ApiRequest } from './attempts';

export interface ReachableSite {
  /** e.g. `https://erp.arcodange.lab` (443) or `https://erp.arcodange.lab:8443` */
  readonly url: string;
  readonly ca?: string;
  readonly lookup?: LookupFunction;
}

export interface DolibarrAnswer {
  readonly status: number;
  /** `error.message` of an error body, else undefined. */
  readonly message: string | undefined;
  readonly body: unknown;
}

/** An answer as the evidence and failure messages quote it: its status and its error message, else its body. */
export function describeAnswer(answer: DolibarrAnswer): string {
  return `HTTP ${answer.status} ${JSON.stringify(answer.message ?? answer.body)}`;
}

export async function sendWithoutGuard(site: ReachableSite, key: Secret | undefined, call: ApiRequest, timeoutMs = 15_000): Promise<DolibarrAnswer> {
  const connect: Record<string, unknown> = {};
  if (site.ca !== undefined) connect['ca'] = site.ca;
  if (site.lookup !== undefined) connect['lookup'] = site.lookup;
  const agent = new Agent({ connect });
  const url = `${site.url.replace(/\/+$/, '')}/api/index.php${call.path}`;
  try {
    const res = await request(url, {
      dispatcher: agent,
      method: call.method,
      headers: {
        accept: 'application/json',
        ...(key === undefined ? {} : { DOLAPIKEY: key.reveal() }),
        ...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: call.body === undefined ? null : JSON.stringify(call.body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.body.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: kept as text
    }
    const message = (body as { error?: { message?: unknown } } | null)?.error?.message;
    return { status: res.statusCode, message: typeof message === 'string' ? message : undefined, body };
  } catch (error) {
    const text = key === undefined ? String((error as Error).message) : String((error as Error).message).split(key.reveal()).join('[redacted]');
    throw new Error(`${call.method} ${url} without the host-guard: no answer (${text})`);
  } finally {
    await agent.close();
  }
}
