/**
 * A session's identity: the login (the configured token as is, or a Kubernetes or JWT login), who Vault says the token
 * is, and the token's renewal while it is renewable.
 */
import { readFile } from 'node:fs/promises';
import { registerSecret } from '../redaction';
import { Secret } from '../secret';
import { isDuration, isObject, type SessionContext } from './calls';
import type { VaultConfig } from './config';
import { VaultAuthenticationError, VaultError, VaultUnexpectedResponse } from './errors';
import { Renewal } from './renewal';

/** Who the session is, from `auth/token/lookup-self`. */
export interface VaultIdentity {
  readonly method: 'token' | 'kubernetes' | 'jwt';
  readonly displayName: string;
  readonly policies: readonly string[];
  /** Seconds left at login; 0 for a token that never expires. */
  readonly ttlSeconds: number;
  readonly renewable: boolean;
  readonly expiresAt?: Date;
}

export type TokenEvent =
  | { readonly kind: 'logged-in'; readonly identity: VaultIdentity }
  | { readonly kind: 'token-renewed'; readonly ttlSeconds: number; readonly expiresAt: Date }
  | { readonly kind: 'token-renewal-failed'; readonly error: VaultError; readonly retryAt?: Date }
  | { readonly kind: 'token-expiring'; readonly expiresAt: Date; readonly reason: string };

export interface LoginOptions {
  readonly autoRenew: boolean;
  readonly renewAt: number;
  readonly emit: (event: TokenEvent) => void;
}

const LOOKUP_SELF_PATH = 'auth/token/lookup-self';
const RENEW_SELF_PATH = 'auth/token/renew-self';

export class VaultLogin {
  readonly #config: VaultConfig;
  readonly #context: SessionContext;
  readonly #options: LoginOptions;
  #identity: VaultIdentity | undefined;
  #loggingIn: Promise<VaultIdentity> | undefined;
  #tokenExpiresAt: Date | undefined;
  #renewal: Renewal | undefined;

  constructor(config: VaultConfig, context: SessionContext, options: LoginOptions) {
    this.#config = config;
    this.#context = context;
    this.#options = options;
    const auth = config.auth;
    if (auth.method === 'token') context.transport.addSecret(auth.token.reveal());
    if (auth.method === 'jwt' && auth.token !== undefined) context.transport.addSecret(auth.token.reveal());
  }

  get identity(): VaultIdentity | undefined {
    return this.#identity;
  }

  /** The path a login calls first. */
  get path(): string {
    const auth = this.#config.auth;
    return auth.method === 'token' ? LOOKUP_SELF_PATH : `auth/${auth.mount}/login`;
  }

  /** Logs in, once at a time: concurrent callers share the login under way. */
  login(): Promise<VaultIdentity> {
    this.#loggingIn ??= this.#login().finally(() => (this.#loggingIn = undefined));
    return this.#loggingIn;
  }

  stopRenewal(): void {
    this.#renewal?.stop();
  }

  async #login(): Promise<VaultIdentity> {
    const auth = this.#config.auth;
    const transport = this.#context.transport;
    if (auth.method === 'token') {
      transport.useToken(auth.token);
    } else {
      const path = this.path;
      const jwt = auth.method === 'jwt' && auth.token !== undefined ? auth.token.reveal() : await this.#readJwt(auth.tokenPath!, path);
      transport.addSecret(jwt);
      transport.useToken(undefined);
      const args = { role: auth.role, jwt, mount_point: auth.mount };
      const body = await refusalIsAuthentication(() =>
        transport.call('POST', path, 'write', (client) => (auth.method === 'kubernetes' ? client.kubernetesLogin(args) : client.jwtLogin(args))));
      const granted = isObject(body) ? body['auth'] : undefined;
      const clientToken = isObject(granted) ? granted['client_token'] : undefined;
      if (typeof clientToken !== 'string' || clientToken === '') {
        transport.useToken(undefined);
        throw new VaultUnexpectedResponse(200, ['login answer without auth.client_token'], 'POST', path);
      }
      transport.useToken(new Secret('Vault token', clientToken));
    }
    const looked = await refusalIsAuthentication(() =>
      transport.call('GET', LOOKUP_SELF_PATH, 'read', (client) => client.tokenLookupSelf()));
    const data = isObject(looked) ? looked['data'] : undefined;
    if (!isObject(data) || !isDuration(data['ttl'])) {
      throw new VaultUnexpectedResponse(200, ['lookup-self answer without data.ttl'], 'GET', LOOKUP_SELF_PATH);
    }
    const ttl = data['ttl'];
    const policies = Array.isArray(data['policies']) ? data['policies'].filter((p): p is string => typeof p === 'string') : [];
    const renewable = data['renewable'] === true;
    const identity: VaultIdentity = {
      method: auth.method,
      displayName: typeof data['display_name'] === 'string' ? data['display_name'] : '',
      policies: Object.freeze(policies),
      ttlSeconds: ttl,
      renewable,
      ...(ttl > 0 ? { expiresAt: new Date(Date.now() + ttl * 1000) } : {}),
    };
    this.#identity = Object.freeze(identity);
    this.#options.emit({ kind: 'logged-in', identity: this.#identity });
    this.#renewal?.stop();
    this.#renewal = undefined;
    this.#tokenExpiresAt = identity.expiresAt;
    if (this.#options.autoRenew && renewable && ttl > 0) {
      this.#renewal = this.#tokenRenewal(ttl);
      this.#renewal.start();
    }
    return this.#identity;
  }

  /** POST auth/token/renew-self at the session's fraction of the token's TTL, until Vault stops extending it. */
  #tokenRenewal(ttlSeconds: number): Renewal {
    const { transport, closed } = this.#context;
    const emit = this.#options.emit;
    const renewal: Renewal = new Renewal({
      renewAt: this.#options.renewAt,
      automatic: true,
      grantedSeconds: ttlSeconds,
      send: async () => {
        try {
          const body = await transport.call('POST', RENEW_SELF_PATH, 'write', (client) => client.tokenRenewSelf());
          const auth = isObject(body) ? body['auth'] : undefined;
          if (!isObject(auth) || !isDuration(auth['lease_duration'])) {
            throw new VaultUnexpectedResponse(200, ['renew-self answer without auth.lease_duration'], 'POST', RENEW_SELF_PATH);
          }
          return { durationSeconds: auth['lease_duration'], renewable: auth['renewable'] !== false };
        } catch (raw) {
          throw transport.translate(raw, 'POST', RENEW_SELF_PATH);
        }
      },
      expiresAt: () => this.#tokenExpiresAt,
      current: () => this.#renewal === renewal,
      closed,
      renewed: (grant) => {
        this.#tokenExpiresAt = grant.expiresAt;
        emit({ kind: 'token-renewed', ttlSeconds: grant.durationSeconds, expiresAt: grant.expiresAt });
      },
      failed: (error, retryAt) => emit({ kind: 'token-renewal-failed', error, ...(retryAt === undefined ? {} : { retryAt }) }),
      stopped: (expiresAt, reason) => emit({ kind: 'token-expiring', expiresAt, reason }),
    });
    return renewal;
  }

  async #readJwt(file: string, path: string): Promise<string> {
    const what = this.#config.auth.method === 'kubernetes' ? 'the service-account token' : 'the JWT';
    let text: string;
    try {
      text = (await readFile(file, 'utf8')).trim();
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw new VaultAuthenticationError(0, [`cannot read ${what} from ${file}${typeof code === 'string' ? ` (${code})` : ''}`], 'POST', path);
    }
    if (text === '') throw new VaultAuthenticationError(0, [`${what} file ${file} is empty`], 'POST', path);
    // Registered the moment it is read. The whole token is enough: a JWT's header and payload alone authenticate nobody.
    registerSecret(text);
    return text;
  }
}

/** Any HTTP refusal during login (400, 401, 403…) is an authentication failure; no answer stays VaultUnreachable. */
async function refusalIsAuthentication<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof VaultError && error.status >= 400 && !(error instanceof VaultAuthenticationError)) {
      throw new VaultAuthenticationError(error.status, error.errors, error.method, error.path);
    }
    throw error;
  }
}
