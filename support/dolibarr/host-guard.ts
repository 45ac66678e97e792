/**
 * The host-guard of the Dolibarr write tooling: it refuses every target but https to exactly the sandbox host of the
 * naming rule (ASCII case-insensitive, one trailing dot tolerated, nothing else), on port 443 or the configured one
 * written literally (no port, or `:443`, or the configured port in decimal without leading zeros), with no userinfo
 * and no IP literal, so that no spelling of a URL takes the tooling anywhere else.
 */

export interface HostPolicy {
  /** The sandbox host, lowercase ASCII, e.g. `erp-sandbox.arcodange.lab`. */
  readonly host: string;
  /** The allowed port besides 443 (443 by default). */
  readonly port: number;
}

export type RefusalReason = 'scheme' | 'userinfo' | 'ip literal' | 'host' | 'port' | 'malformed' | 'redirect';

const DEFAULT_PORT = 443;

/** Printable, single-line rendering of untrusted text for messages. */
function show(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}

export class HostGuardRefusal extends Error {
  override readonly name = 'HostGuardRefusal';
  readonly reason: RefusalReason;
  /** The host that was refused, as parsed when it could be, else as written ('' when there is none). */
  readonly refusedHost: string;
  /** The target as given (string form). */
  readonly target: string;

  constructor(policy: HostPolicy, reason: RefusalReason, refusedHost: string, target: string, why: string) {
    super(
      `host-guard refused host ${show(refusedHost)} (${reason}): ${why}; ` +
        `the write tooling only talks to https://${policy.host}${policy.port === DEFAULT_PORT ? '' : ` (port 443 or ${policy.port})`} ` +
        `without userinfo — target was ${show(target)}`,
    );
    this.reason = reason;
    this.refusedHost = refusedHost;
    this.target = target;
  }
}

// A lowercase ASCII DNS name of at least two labels; the last label is not numeric (WHATWG would read an
// all-numeric last label as an IPv4 address).
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** The policy for the sandbox host (from `instanceNames(app, env, domain).host`). Throws on a bad policy. */
export function sandboxPolicy(host: string, port: number = DEFAULT_PORT): HostPolicy {
  if (typeof host !== 'string' || !DNS_NAME.test(host)) {
    throw new TypeError(
      `host-guard policy: host ${show(String(host))} is not a lowercase ASCII DNS name of two labels or more ` +
        '(no wildcard, no trailing dot, no port, no scheme)',
    );
  }
  const last = host.slice(host.lastIndexOf('.') + 1);
  if (/^(?:\d+|0x[0-9a-f]*)$/.test(last)) {
    throw new TypeError(`host-guard policy: host ${show(host)} would parse as an IPv4 address`);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TypeError(`host-guard policy: port ${show(String(port))} is not an integer in 1..65535`);
  }
  return Object.freeze({ host, port });
}

function asciiLower(text: string): string {
  // Never String#toLowerCase: it maps non-ASCII letters (e.g. U+212A KELVIN SIGN) onto ASCII ones.
  return text.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

function stripOneDot(host: string): string {
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

// Refused anywhere in a target: WHATWG strips or rewrites them, while other parsers (logs, proxies, legacy
// `url.parse`) read them differently.
const FORBIDDEN_ANYWHERE = /[\u0000-\u0020\u007f\\]/;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
const IPV4_PARSED = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/**
 * The port spellings accepted after a ":": 443 and the configured port in canonical decimal. WHATWG also reads ":",
 * ":0443" or ":00443" as an allowed port while other parsers (logs, proxies, legacy `url.parse`) may not, so, like the
 * host, the port must be written literally; omitting it (port 443) is always accepted.
 */
function literalPorts(policy: HostPolicy): readonly string[] {
  return [...new Set([String(DEFAULT_PORT), String(policy.port)])];
}

/**
 * Throws HostGuardRefusal unless `target` (an absolute URL string, or a URL) is allowed by the policy.
 * Returns the parsed URL that will be used. Both the URL as WHATWG `new URL()` parses it (what undici connects to)
 * and the raw authority must spell the sandbox host literally: what WHATWG would normalise into it (percent-encoding,
 * full-width letters or dots, IDNA mappings, soft hyphens) is refused, and so is a port spelled otherwise than
 * `literalPorts` (":", ":0443"), so a parser differential can only make the guard refuse more.
 */
export function checkTarget(policy: HostPolicy, target: string | URL): URL {
  const raw = target instanceof URL ? target.href : target;
  const refuse = (reason: RefusalReason, host: string, why: string): never => {
    throw new HostGuardRefusal(policy, reason, host, String(raw), why);
  };
  if (typeof raw !== 'string' || raw.length === 0) {
    return refuse('malformed', '', 'the target is empty or not a string');
  }
  const bad = FORBIDDEN_ANYWHERE.exec(raw);
  if (bad) {
    const what = bad[0] === '\\' ? 'a backslash' : `control or whitespace character U+${bad[0].charCodeAt(0).toString(16).padStart(4, '0')}`;
    return refuse('malformed', guessHost(raw), `the target contains ${what}`);
  }
  const scheme = SCHEME.exec(raw);
  if (!scheme) {
    return refuse('scheme', guessHost(raw), 'the target has no scheme (relative or scheme-relative URL)');
  }
  if (asciiLower(scheme[1]!) !== 'https') {
    return refuse('scheme', guessHost(raw), `scheme "${scheme[1]}:" is not https`);
  }
  const rest = raw.slice(scheme[0].length);
  if (!rest.startsWith('//') || rest.startsWith('///')) {
    return refuse('malformed', guessHost(raw), 'an https URL must have exactly two slashes before the host');
  }
  const authority = /^[^/?#]*/.exec(rest.slice(2))![0];
  if (authority.includes('@')) {
    return refuse('userinfo', withoutPort(authority.slice(authority.lastIndexOf('@') + 1)), 'userinfo ("user:password@") is not allowed');
  }
  if (authority.startsWith('[')) {
    return refuse('ip literal', authority.replace(/\](?::\d*)?$/, ']'), 'IPv6 literals are not allowed');
  }
  const colon = authority.lastIndexOf(':');
  const rawHost = colon === -1 ? authority : authority.slice(0, colon);
  const rawPort = colon === -1 ? '' : authority.slice(colon + 1);
  if (!/^\d*$/.test(rawPort)) {
    return refuse('malformed', rawHost, `port ${show(rawPort)} is not a number`);
  }
  if (rawPort !== '' && Number(rawPort) > 65535) {
    return refuse('port', rawHost, `port ${rawPort} is out of range`);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refuse('malformed', rawHost, 'WHATWG URL parsing fails');
  }
  // From here on, the parsed URL: what undici will connect to.
  if (url.protocol !== 'https:') {
    return refuse('scheme', url.hostname, `scheme "${url.protocol}" is not https`);
  }
  if (url.username !== '' || url.password !== '') {
    return refuse('userinfo', url.hostname, 'userinfo ("user:password@") is not allowed');
  }
  if (url.hostname.startsWith('[') || IPV4_PARSED.test(url.hostname)) {
    const spelled = rawHost === url.hostname ? '' : ` (written ${show(rawHost)})`;
    return refuse('ip literal', url.hostname, `IP literals are not allowed${spelled}`);
  }
  const parsedHost = stripOneDot(url.hostname);
  const spelledHost = stripOneDot(asciiLower(rawHost));
  if (parsedHost !== policy.host) {
    return refuse('host', url.hostname, `host is not the sandbox host ${policy.host}`);
  }
  if (spelledHost !== policy.host) {
    return refuse(
      'host',
      rawHost,
      `host is spelled ${show(rawHost)}, which WHATWG normalises to ${url.hostname}, but only the literal ASCII spelling is accepted`,
    );
  }
  if (url.port !== '' && url.port !== String(policy.port)) {
    return refuse('port', url.hostname, `port ${url.port} is neither 443 nor ${policy.port}`);
  }
  if (colon !== -1 && !literalPorts(policy).includes(rawPort)) {
    return refuse(
      'port',
      url.hostname,
      `port is spelled ${show(`:${rawPort}`)}, which WHATWG reads as ${url.port === '' ? `the default port ${DEFAULT_PORT}` : `port ${url.port}`}, ` +
        `but only the literal decimal spelling is accepted: write ${literalPorts(policy).map((p) => `":${p}"`).join(' or ')}, or no port`,
    );
  }
  return url;
}

/**
 * Checks a request as undici dispatches it: `origin` is what the connection goes to, `path` the request
 * target sent on it. The origin must be a bare origin (no path, query or fragment, as undici's own
 * `parseOrigin`), the path must be origin-form (start with "/"), so a path such as `//evil.example/x` or
 * `@prod` can never change the host. Returns `new URL(origin + path)` — undici's own composition — whose
 * host is asserted to be the origin's.
 */
export function checkDispatchTarget(policy: HostPolicy, origin: unknown, path: unknown): URL {
  const originText = typeof origin === 'string' ? origin : origin instanceof URL ? origin.href : '';
  const originUrl = checkTarget(policy, originText);
  const refuse = (reason: RefusalReason, why: string): never => {
    throw new HostGuardRefusal(policy, reason, originUrl.hostname, `${originText} + ${String(path)}`, why);
  };
  if (originUrl.pathname !== '/' || originUrl.search !== '' || originUrl.hash !== '') {
    return refuse('malformed', 'the dispatch origin carries a path, query or fragment');
  }
  if (typeof path !== 'string' || !path.startsWith('/') || /[\u0000-\u0020\u007f]/.test(path)) {
    return refuse('malformed', `request path ${show(String(path))} is not an origin-form path starting with "/"`);
  }
  const full = new URL(`${originUrl.origin}${path}`);
  if (full.host !== originUrl.host) {
    return refuse('host', 'the request path would change the host'); // unreachable for a "/" path; kept as an assertion
  }
  return full;
}

/** Best-effort host of an unparseable or refused target, for the refusal message only. */
function guessHost(raw: string): string {
  try {
    return new URL(raw).hostname;
  } catch {
    const m = /^(?:[A-Za-z][A-Za-z0-9+.-]*:)?[\\/]*([^/\\?#]*)/.exec(raw);
    const authority = m?.[1] ?? '';
    return withoutPort(authority.slice(authority.lastIndexOf('@') + 1));
  }
}

/** `host:port` → `host` (an IPv6 literal keeps its brackets). */
function withoutPort(authority: string): string {
  return authority.replace(/^(\[[^\]]*\]|[^:]*):\d*$/, '$1');
}
