/**
 * The recording gateway: a plain-HTTP server on loopback that the agent's command is pointed at instead of Dolibarr.
 * It forwards each request it accepts to the sandbox's Dolibarr through the write tooling's transport (the host-guard's
 * dispatcher: the sandbox's host alone, no redirect followed), adding the agent's sandbox key itself, and tells its
 * recorder of every write and what the sandbox answered. The command never holds a key, and nothing it sends can leave
 * the sandbox: a redirect answered by the sandbox comes back as a refusal, never as a Location.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, LookupFunction } from 'node:net';
import type { WriteExchange } from '../dolibarr/client';
import { DolibarrError, DolibarrTimeoutError } from '../dolibarr/errors';
import { HostGuardRefusal } from '../dolibarr/host-guard';
import { guardedTransport, type Reply } from '../dolibarr/transport';
import { PROD_ENV, type InstanceNames } from '../naming';
import { redact } from '../redaction';
import { decide, errorBody, type Forward } from './requests';

const LOOPBACK = '127.0.0.1';
const MAX_BODY = 1 << 20;

export interface GatewayOptions {
  /** The sandbox's names: its host is the only one the gateway's transport may reach. */
  readonly sandbox: InstanceNames;
  /** The sandbox Dolibarr's configured URL, e.g. `https://erp-sandbox.arcodange.lab`. */
  readonly url: string;
  /** The port allowed besides 443. */
  readonly port: number;
  /** The agent's sandbox key: added to every forwarded request, never answered, recorded or printed. */
  readonly apiKey: string;
  readonly ca?: string | Buffer;
  readonly lookup?: LookupFunction;
  /** Per forwarded request, default 15 000 ms. */
  readonly timeoutMs?: number;
  /** Told of every write the sandbox answered, success or not. */
  readonly onWrite: (exchange: WriteExchange) => void;
  /** Told of every request the gateway refused or could not complete, in a line. */
  readonly onRefusal?: (line: string) => void;
}

export interface RecordingGateway {
  /** `http://127.0.0.1:<port>`: what the command's DOLIBARR_URL is. */
  readonly url: string;
  /** Requests refused or not completed so far, each in a line. */
  readonly refusals: readonly string[];
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) resolve(undefined);
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function answer(res: ServerResponse, status: number, text: string): void {
  let json = true;
  try {
    JSON.parse(text);
  } catch {
    json = false;
  }
  res.writeHead(status, { 'content-type': json ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  res.end(redact(text));
}

/** What a changeset keeps of the sandbox's answer: its JSON (a create: the new id), else its text. */
function responseOf(reply: Reply): unknown {
  try {
    return JSON.parse(reply.text) as unknown;
  } catch {
    return reply.text.slice(0, 500);
  }
}

/** Starts the gateway on a free loopback port. */
export async function startGateway(options: GatewayOptions): Promise<RecordingGateway> {
  const { sandbox } = options;
  if (sandbox.env === PROD_ENV) throw new TypeError(`the rehearsal gateway forwards to a sandbox only, not to ${sandbox.instance}`);
  if (!options.apiKey) throw new TypeError("the rehearsal gateway needs the agent's sandbox key");
  const { transport } = guardedTransport({
    host: sandbox.host,
    port: options.port,
    url: options.url,
    apiKey: options.apiKey,
    ...(options.ca === undefined ? {} : { ca: options.ca }),
    ...(options.lookup === undefined ? {} : { lookup: options.lookup }),
    timeoutMs: options.timeoutMs ?? 15_000,
    readRetries: 2,
  });
  const refusals: string[] = [];
  const refuse = (res: ServerResponse, status: number, line: string, message: string) => {
    refusals.push(line);
    options.onRefusal?.(line);
    answer(res, status, errorBody(status, message));
  };
  let allowedHosts: ReadonlySet<string> = new Set();

  async function forward(res: ServerResponse, request: Forward): Promise<void> {
    let reply: Reply;
    try {
      reply = await transport.send(request.method, request.path, request.fields, true);
    } catch (error) {
      const message = redact((error as Error).message);
      if (error instanceof HostGuardRefusal) {
        return refuse(res, 403, `${request.method} ${request.path}: refused, it would leave the sandbox: ${message}`, `the rehearsal gateway refused to leave the sandbox: ${message}`);
      }
      const status = error instanceof DolibarrTimeoutError ? 504 : 502;
      const why = error instanceof DolibarrError ? message : `unexpected: ${message}`;
      return refuse(res, status, `${request.method} ${request.path}: the sandbox's Dolibarr did not answer: ${why}`, `the sandbox's Dolibarr did not answer: ${why}`);
    }
    if (request.write) {
      options.onWrite({ ...request.write, ...(request.fields === undefined ? {} : { body: request.fields }), status: reply.status, response: responseOf(reply) });
    }
    answer(res, reply.status, reply.text);
  }

  const server = createServer((req, res) => {
    void (async () => {
      const method = req.method ?? '';
      const target = req.url ?? '';
      // Only a client of this machine that names the gateway itself: a web page elsewhere cannot drive it (DNS rebinding).
      if (!allowedHosts.has(req.headers.host ?? '')) {
        return refuse(res, 403, `${method} ${target}: refused, Host ${JSON.stringify(req.headers.host ?? '')} is not the gateway's`, `the rehearsal gateway answers requests to ${[...allowedHosts][0]} only`);
      }
      const body = await readBody(req);
      if (body === undefined) return refuse(res, 413, `${method} ${target}: refused, body over ${MAX_BODY} bytes`, `the body is larger than ${MAX_BODY} bytes`);
      const decision = decide({ method, url: target, headers: req.headers, body });
      if (decision.kind === 'refused') return refuse(res, decision.status, `${method} ${target.split('?')[0]}: ${decision.message}`, decision.message);
      return forward(res, decision);
    })().catch((error: Error) => {
      if (!res.headersSent) refuse(res, 500, `${req.method} ${req.url}: ${redact(error.message)}`, `the rehearsal gateway failed: ${redact(error.message)}`);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  allowedHosts = new Set([`${LOOPBACK}:${port}`, `localhost:${port}`]);
  let closed = false;
  return {
    url: `http://${LOOPBACK}:${port}`,
    refusals,
    async close() {
      if (closed) return;
      closed = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await transport.close();
    },
  };
}
