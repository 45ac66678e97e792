import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HostGuardRefusal, HostPolicy, checkTarget, sandboxPolicy } from '../support/dolibarr/host-guard';
import { instanceNames } from '../support/naming';

// Property: whatever string checkTarget allows, WHATWG `new URL()` (what undici connects to) reads it as
// https, the sandbox host (one trailing dot removed, lowercased), port '' or the configured one, and no
// userinfo; and its port, when written, is written "443" or the configured port, digit for digit. Inputs come
// from a small seeded generator mutating the allowed URL with tricky characters.

const SANDBOX = instanceNames('erp', 'sandbox', 'arcodange.lab').host;
const PROD = instanceNames('erp', 'prod', 'arcodange.lab').host;
const BASE = `https://${SANDBOX}/api/index.php/supplierinvoices`;
const SEED = 0x5eed_0003;
const CASES = 1000;

/** mulberry32: a tiny deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const POOL = [
  '.', '..', '@', ':', '/', '//', '\\', '%', '%2e', '%2E', '%40', '%2F', '%00', '%65', '%2D', '#', '?', '[', ']', '-', '_',
  '\t', '\n', '\r', '\0', ' ', '\u00a0', '\u000b', '\u007f', '\u200b', '\u200c', '\u200d', '\u00ad', '\ufeff',
  '\u0435', '\u0430', '\uff0e', '\u3002', '\uff61', '\uff45', '\uff52', '\uff50', '\u212a', '\u0130', '\u2010',
  'x', 'e', 'E', '0', '1', 'xn--', 'evil.com', PROD, `${PROD}@`, '127.0.0.1', '0x7f.1', '2130706433', '[::1]',
  'http', 'https:', 'www.', ':443', ':444', ':8443', ':0', ':65536',
];
const USERINFO = ['u@', 'u:p@', '@', ':@', `${PROD}@`, `${SANDBOX}@`, 'a%40b@', `${SANDBOX}:443@`];
const PORTS = ['443', '0443', '00443', '444', '80', '0', '8443', '08443', '008443', '65535', '65536', '', '-1', '44 3', '443\n'];
const PATHS = ['/', `//${PROD}/x`, `/@${PROD}`, `?@${PROD}`, `#@${PROD}`, `\\@${PROD}`, `@${PROD}`, `.${PROD}`, '/%2e%2e/'];

function generate(rand: () => number): string[] {
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const out: string[] = [];
  for (let i = 0; i < CASES; i++) {
    let s = BASE;
    const steps = 1 + int(4);
    for (let k = 0; k < steps; k++) {
      const hostStart = s.indexOf('//') + 2;
      // half the edits aim at the scheme + authority, where they matter
      const at = rand() < 0.5 ? int(Math.min(s.length, hostStart + SANDBOX.length + 2) + 1) : int(s.length + 1);
      switch (int(8)) {
        case 0: s = s.slice(0, at) + pick(POOL) + s.slice(at); break; // insert
        case 1: s = s.slice(0, at) + pick(POOL) + s.slice(at + 1); break; // replace
        case 2: s = s.slice(0, at) + s.slice(at + 1 + int(2)); break; // delete one or two
        case 3: { // change case of one character, or of everything
          s = rand() < 0.2 ? (rand() < 0.5 ? s.toUpperCase() : s.toLowerCase())
            : s.slice(0, at) + (s[at] ?? '').toUpperCase() + s.slice(at + 1);
          break;
        }
        case 4: s = s.slice(0, hostStart) + pick(USERINFO) + s.slice(hostStart); break; // userinfo
        case 5: { // port after the host
          const end = s.indexOf('/', hostStart);
          const cut = end === -1 ? s.length : end;
          s = `${s.slice(0, cut)}:${pick(PORTS)}${s.slice(cut)}`;
          break;
        }
        case 6: { // path / query / fragment right after the authority
          const end = s.indexOf('/', hostStart);
          const cut = end === -1 ? s.length : end;
          s = s.slice(0, cut) + pick(PATHS) + s.slice(cut);
          break;
        }
        default: { // trailing dot(s) on the host
          const cut = hostStart + SANDBOX.length;
          s = s.slice(0, cut) + (rand() < 0.7 ? '.' : '..') + s.slice(cut);
        }
      }
    }
    out.push(s);
  }
  return out;
}

function assertInvariant(policy: HostPolicy, input: string): boolean {
  let returned: URL;
  try {
    returned = checkTarget(policy, input);
  } catch (error) {
    assert.ok(error instanceof HostGuardRefusal, `checkTarget threw a non-refusal for ${JSON.stringify(input)}: ${String(error)}`);
    assert.ok(typeof error.refusedHost === 'string');
    return false;
  }
  const url = new URL(input);
  const why = `allowed ${JSON.stringify(input)} parses to ${JSON.stringify(url.href)}`;
  assert.equal(url.protocol, 'https:', why);
  assert.equal(url.hostname.replace(/\.$/, '').toLowerCase(), policy.host, why);
  assert.ok(url.port === '' || url.port === String(policy.port), why);
  assert.equal(url.username, '', why);
  assert.equal(url.password, '', why);
  const authority = /^[a-z]+:\/\/([^/?#]*)/i.exec(input)?.[1] ?? '';
  const colon = authority.lastIndexOf(':');
  if (colon !== -1) {
    assert.ok(['443', String(policy.port)].includes(authority.slice(colon + 1)), `${why}, its port spelled ${JSON.stringify(authority.slice(colon))}`);
  }
  assert.equal(returned.href, url.href, 'checkTarget returns the URL WHATWG parses');
  // what undici.request(url) would dispatch: origin + path, on the same host
  assert.equal(new URL(`${url.origin}${url.pathname}${url.search}`).hostname, url.hostname, why);
  return true;
}

describe(`checkTarget property: ${CASES} seeded mutations of ${BASE}`, () => {
  for (const port of [443, 8443]) {
    it(`never allows a URL that WHATWG reads as another host, scheme, port or with userinfo (port ${port})`, () => {
      const policy = sandboxPolicy(SANDBOX, port);
      const inputs = generate(prng(SEED + port));
      let allowed = 0;
      for (const input of inputs) if (assertInvariant(policy, input)) allowed++;
      // the generator must exercise both sides of the guard
      assert.ok(allowed > CASES * 0.03, `only ${allowed} allowed`);
      assert.ok(allowed < CASES * 0.8, `${allowed} allowed`);
    });
  }

  it('is deterministic for the fixed seed', () => {
    assert.deepEqual(generate(prng(SEED)), generate(prng(SEED)));
  });
});
