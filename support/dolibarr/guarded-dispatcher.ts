/**
 * The only way the Dolibarr write tooling reaches the network: an undici Agent composed with the host-guard
 * interceptor, so every dispatch (the first request, and every redirect hop when redirects are followed) passes
 * `checkDispatchTarget` on the origin undici will connect to before it is dispatched: a refused request never opens a
 * socket, nor even resolves the name.
 */
import { Agent, Dispatcher, interceptors } from 'undici';
import { HostGuardRefusal, HostPolicy, checkDispatchTarget } from './host-guard';

export interface GuardedDispatcherOptions {
  /**
   * Absent or false: never followed. A request asking for `maxRedirections > 0` is refused, and any 3xx answer with a
   * `Location`, to any method, becomes a 'redirect' refusal naming its host: a redirect is never mistaken for a success.
   * True: each hop goes through the guard again, and a refused hop's message says it was a redirect hop.
   */
  readonly followRedirects?: boolean;
  /** Maximum hops when following redirects (default 5). */
  readonly maxRedirections?: number;
  readonly connect?: Agent.Options['connect'];
}

const kFirstTarget = Symbol('host-guard first target');

type GuardedOpts = Dispatcher.DispatchOptions & { [kFirstTarget]?: string; maxRedirections?: number };

function fail(handler: Dispatcher.DispatchHandler, error: Error): boolean {
  // As undici's own interceptors do (dns): report through the handler, no controller, no socket.
  if (handler.onResponseError) {
    handler.onResponseError(null as unknown as Dispatcher.DispatchController, error);
    return true;
  }
  throw error;
}

/** The guard interceptor. `refuseRedirects`: surface any 3xx-with-Location as a refusal. */
export function hostGuardInterceptor(policy: HostPolicy, refuseRedirects: boolean): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) =>
    function hostGuard(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
      const o = opts as GuardedOpts;
      let target: URL;
      try {
        target = checkDispatchTarget(policy, o.origin, o.path);
      } catch (error) {
        if (error instanceof HostGuardRefusal && o[kFirstTarget] !== undefined) {
          const hop = new HostGuardRefusal(
            policy,
            error.reason,
            error.refusedHost,
            error.target,
            `redirect hop from ${o[kFirstTarget]} refused: ${error.message}`,
          );
          return fail(handler, hop);
        }
        return fail(handler, error as Error);
      }
      if (refuseRedirects && o.maxRedirections != null && o.maxRedirections !== 0) {
        return fail(
          handler,
          new HostGuardRefusal(policy, 'redirect', target.hostname, target.href, 'this dispatcher never follows redirects (maxRedirections must be 0)'),
        );
      }
      const inner: GuardedOpts = o[kFirstTarget] === undefined ? { ...o, [kFirstTarget]: target.href } : o;
      return dispatch(inner, refuseRedirects ? new RefuseRedirectHandler(policy, target, handler) : handler);
    };
}

/** Forwards everything, except that a 3xx answer with a Location header becomes a 'redirect' refusal. */
class RefuseRedirectHandler implements Dispatcher.DispatchHandler {
  #refused = false;

  constructor(
    private readonly policy: HostPolicy,
    private readonly target: URL,
    private readonly handler: Dispatcher.DispatchHandler,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.handler.onRequestStart?.(controller, context);
  }

  onRequestUpgrade(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>, socket: import('node:stream').Duplex): void {
    this.handler.onRequestUpgrade?.(controller, statusCode, headers, socket);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>, statusMessage?: string): void {
    const location = headers['location'];
    if (statusCode >= 300 && statusCode < 400 && location !== undefined) {
      const where = Array.isArray(location) ? location.join(', ') : location;
      let host = where;
      try {
        host = new URL(where, this.target).hostname;
      } catch {
        // keep the raw Location
      }
      this.#refused = true;
      const refusal = new HostGuardRefusal(
        this.policy,
        'redirect',
        host,
        where,
        `${this.target.href} answered ${statusCode} redirecting to ${JSON.stringify(where)}; redirects are never followed by the write tooling`,
      );
      this.handler.onResponseError?.(controller, refusal);
      controller.abort(refusal);
      return;
    }
    this.handler.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.#refused) this.handler.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Dispatcher.DispatchController, trailers: Record<string, string | string[] | undefined>): void {
    if (!this.#refused) this.handler.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    if (!this.#refused) this.handler.onResponseError?.(controller, error);
  }
}

/**
 * An undici Dispatcher whose every request (and every redirect hop when `followRedirects`) passes the
 * host-guard before any connection.
 */
export function guardedDispatcher(policy: HostPolicy, options: GuardedDispatcherOptions = {}): Dispatcher {
  const agent = new Agent(options.connect === undefined ? {} : { connect: options.connect });
  if (!options.followRedirects) {
    return agent.compose(hostGuardInterceptor(policy, true));
  }
  const maxRedirections = options.maxRedirections ?? 5;
  // compose(a, b, c) builds c(b(a(agent.dispatch))): the last one is the outermost.
  return agent.compose(
    hostGuardInterceptor(policy, false), // inner: re-checks every hop the redirect handler dispatches
    interceptors.redirect({ maxRedirections }),
    hostGuardInterceptor(policy, false), // outer: the first request, before the redirect machinery
  );
}
