/**
 * What this process sends over the network while a piece of work runs, seen beneath the code under test, so that
 * "refused before any connection" can be checked on any target, not only where a stand-in counts what it accepts:
 * every TCP connection the work opens, whatever library opens it, and for undici's clients (both Dolibarr clients)
 * the host name each connection is for and every request sent on one.
 */
import { AsyncLocalStorage, createHook, type AsyncHook } from 'node:async_hooks';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';

/** A TCP connection the work opened (or tried to: a refused connect counts, it left the process). */
export interface OpenedSocket {
  readonly address: string;
  readonly port: number;
}

/** A host an undici client connected (or tried to connect) to, or a request it sent there. */
export interface HostPort {
  /** Lower case, without a trailing dot. */
  readonly host: string;
  readonly port: number;
}

export interface SentRequest extends HostPort {
  readonly method: string;
  readonly path: string;
}

/** Node's connect request, which gets its destination right after it is made (lib/net.js `internalConnect`). */
interface ConnectRequest {
  readonly address?: unknown;
  readonly port?: unknown;
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'https:': 443, 'http:': 80 };

/** `host` as a comparable name: lower case, the FQDN dot dropped, IPv6 brackets dropped. */
export function hostKey(host: string): string {
  return host.toLowerCase().replace(/\.$/, '').replace(/^\[(.*)\]$/, '$1');
}

function hostPort(hostname: string, port: string | number, protocol: string): HostPort {
  return { host: hostKey(hostname), port: port === '' || port === undefined ? DEFAULT_PORTS[protocol] ?? 0 : Number(port) };
}

/** Where the hooks below record what the observed work does. */
interface Sink {
  readonly connects: ConnectRequest[];
  readonly connections: HostPort[];
  readonly requests: SentRequest[];
}

// Work is told apart by its async context: a lease renewal in the background, or a stand-in's own database connection
// while it serves the request, is not counted against the attempt that runs meanwhile.
const storage = new AsyncLocalStorage<Sink>();

/** The sockets, connections and requests of the pieces of work observed into it (e.g. the steps of one scenario). */
export class NetworkLog {
  readonly #sink: Sink = { connects: [], connections: [], requests: [] };
  #observed = 0;

  /** How many pieces of work were observed into this log. */
  get observed(): number {
    return this.#observed;
  }

  get sockets(): readonly OpenedSocket[] {
    return this.#sink.connects.map((request) => ({ address: String(request.address), port: Number(request.port) }));
  }

  get connections(): readonly HostPort[] {
    return [...this.#sink.connections];
  }

  get requests(): readonly SentRequest[] {
    return [...this.#sink.requests];
  }

  /** Runs `work`, recording into this log what it (and only it) opens and sends. */
  async observe<T>(work: () => Promise<T>): Promise<T> {
    this.#observed += 1;
    startObserving();
    try {
      return await storage.run(this.#sink, work);
    } finally {
      stopObserving();
    }
  }
}

// async_hooks, not the `net.client.socket` diagnostics channel: Node 20 publishes that one only from `net.connect`,
// not for the TLS sockets undici opens with `tls.connect`.
// The connect request's address and port are set just after the hook hears of it: it is kept, and read when asked.
const hook: AsyncHook = createHook({
  init(_id, type, _trigger, resource) {
    if (type === 'TCPCONNECTWRAP') storage.getStore()?.connects.push(resource as ConnectRequest);
  },
});

// undici's documented channels give the name each connection is for: two instances behind one ingress share an address.
function onBeforeConnect(message: unknown): void {
  const { connectParams } = message as { connectParams: { hostname: string; port: string; protocol: string } };
  storage.getStore()?.connections.push(hostPort(connectParams.hostname, connectParams.port, connectParams.protocol));
}

function onSendHeaders(message: unknown): void {
  const sink = storage.getStore();
  if (sink === undefined) return;
  const { request } = message as { request: { origin: string | URL; method: string; path: string } };
  const origin = new URL(String(request.origin));
  sink.requests.push({ ...hostPort(origin.hostname, origin.port, origin.protocol), method: request.method, path: request.path });
}

// Hooks cost something on every async operation: they are on only while some work is observed.
let observers = 0;

function startObserving(): void {
  if (observers++ > 0) return;
  hook.enable();
  subscribe('undici:client:beforeConnect', onBeforeConnect);
  subscribe('undici:client:sendHeaders', onSendHeaders);
}

function stopObserving(): void {
  if (--observers > 0) return;
  hook.disable();
  unsubscribe('undici:client:beforeConnect', onBeforeConnect);
  unsubscribe('undici:client:sendHeaders', onSendHeaders);
}
