/**
 * ACL policies with Vault's semantics (vault/acl.go; Vault's policy docs, "Priority matching"), given as rules or as
 * the HCL `path` blocks of the factory's own policy files.
 */

export const CAPABILITIES = ['create', 'read', 'update', 'patch', 'delete', 'list', 'sudo', 'deny'] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** Pattern → capabilities. */
export type PolicyRules = Readonly<Record<string, readonly Capability[]>>;

/** Rules, or HCL text with `path` blocks. */
export type PolicyDocument = PolicyRules | string;

/** Vault's built-in `default` policy (vault/policy_store.go), without the identity-templated entity paths. */
export const DEFAULT_POLICY: PolicyRules = {
  'auth/token/lookup-self': ['read'],
  'auth/token/renew-self': ['update'],
  'auth/token/revoke-self': ['update'],
  'sys/capabilities-self': ['update'],
  'sys/internal/ui/resultant-acl': ['read'],
  'sys/renew': ['update'],
  'sys/leases/renew': ['update'],
  'sys/leases/lookup': ['update'],
  'cubbyhole/*': ['create', 'read', 'update', 'delete', 'list'],
  'sys/wrapping/wrap': ['update'],
  'sys/wrapping/lookup': ['update'],
  'sys/wrapping/unwrap': ['update'],
};

export class PolicyError extends TypeError {
  override readonly name = 'PolicyError';
}

function checkCapabilities(policy: string, pattern: string, capabilities: readonly unknown[]): Capability[] {
  const out: Capability[] = [];
  for (const capability of capabilities) {
    if (!(CAPABILITIES as readonly unknown[]).includes(capability)) {
      throw new PolicyError(`policy ${policy}: path ${JSON.stringify(pattern)} has unknown capability ${JSON.stringify(capability)}; use ${CAPABILITIES.join(', ')}`);
    }
    out.push(capability as Capability);
  }
  return out;
}

function checkPattern(policy: string, pattern: string): void {
  const star = pattern.indexOf('*');
  if (star !== -1 && star !== pattern.length - 1) {
    throw new PolicyError(`policy ${policy}: path ${JSON.stringify(pattern)} may hold "*" only at its end`);
  }
}

/** Parses the HCL subset: `path "<pattern>" { capabilities = ["…", …] }` blocks; hash, double-slash and block comments. */
export function parseHclPolicy(policy: string, text: string): PolicyRules {
  const source = text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/(^|[^:"])(#|\/\/)[^\n]*/g, '$1');
  const block = /path\s+"([^"]*)"\s*\{\s*capabilities\s*=\s*\[([^\]]*)\]\s*\}/g;
  const rules: Record<string, Capability[]> = {};
  let rest = source;
  for (const match of source.matchAll(block)) {
    const pattern = match[1]!;
    const items = match[2]!.split(',').map((item) => item.trim()).filter((item) => item !== '');
    const capabilities = items.map((item) => {
      const quoted = /^"([^"]*)"$/.exec(item);
      if (quoted === null) throw new PolicyError(`policy ${policy}: capability ${item} of path ${JSON.stringify(pattern)} is not a quoted string`);
      return quoted[1];
    });
    rules[pattern] = [...(rules[pattern] ?? []), ...checkCapabilities(policy, pattern, capabilities)];
    rest = rest.replace(match[0], ' ');
  }
  if (rest.trim() !== '') {
    throw new PolicyError(`policy ${policy}: only path "…" { capabilities = [ … ] } blocks are supported; cannot read ${JSON.stringify(rest.trim().slice(0, 60))}`);
  }
  return normalizePolicy(policy, rules);
}

export function normalizePolicy(policy: string, document: PolicyDocument): PolicyRules {
  if (typeof document === 'string') return parseHclPolicy(policy, document);
  if (document === null || typeof document !== 'object') throw new PolicyError(`policy ${policy}: give rules { "<path>": [capabilities] } or HCL text`);
  const rules: Record<string, Capability[]> = {};
  for (const [pattern, capabilities] of Object.entries(document)) {
    if (!Array.isArray(capabilities)) throw new PolicyError(`policy ${policy}: path ${JSON.stringify(pattern)} needs a list of capabilities`);
    checkPattern(policy, pattern);
    rules[pattern] = checkCapabilities(policy, pattern, capabilities);
  }
  return rules;
}

interface Rule {
  readonly pattern: string;
  readonly capabilities: ReadonlySet<Capability>;
}

const firstWildcard = (pattern: string): number => {
  const positions = [pattern.indexOf('+'), pattern.indexOf('*')].filter((position) => position !== -1);
  return positions.length === 0 ? Infinity : Math.min(...positions);
};

const plusCount = (pattern: string): number => pattern.split('/').filter((segment) => segment === '+').length;

/**
 * True when `a` has a lower priority than `b`, in Vault's documented ordering: a later first wildcard, no trailing `*`,
 * fewer `+`, longer, then lexicographically greater wins.
 */
function lowerPriority(a: string, b: string): boolean {
  const wa = firstWildcard(a);
  const wb = firstWildcard(b);
  if (wa !== wb) return wa < wb;
  const ga = a.endsWith('*');
  const gb = b.endsWith('*');
  if (ga !== gb) return ga;
  const pa = plusCount(a);
  const pb = plusCount(b);
  if (pa !== pb) return pa > pb;
  if (a.length !== b.length) return a.length < b.length;
  return a < b;
}

function matches(pattern: string, path: string): boolean {
  const glob = pattern.endsWith('*');
  const body = glob ? pattern.slice(0, -1) : pattern;
  if (!body.includes('+')) return glob ? path.startsWith(body) : path === body;
  const patternSegments = body.split('/');
  const pathSegments = path.split('/');
  if (!glob && patternSegments.length !== pathSegments.length) return false;
  if (glob && pathSegments.length < patternSegments.length) return false;
  for (let i = 0; i < patternSegments.length; i++) {
    const segment = patternSegments[i]!;
    const last = i === patternSegments.length - 1;
    if (glob && last) {
      const remainder = pathSegments.slice(i).join('/');
      if (segment === '+') return true;
      return remainder.startsWith(segment);
    }
    if (segment !== '+' && segment !== pathSegments[i]) return false;
  }
  return true;
}

/** The merged ACL of a set of policies: capabilities unioned per pattern, `deny` winning over everything on it. */
export class Acl {
  private readonly rules: Rule[];
  readonly root: boolean;

  constructor(policies: readonly PolicyRules[], root = false) {
    this.root = root;
    const merged = new Map<string, Set<Capability>>();
    for (const policy of policies) {
      for (const [pattern, capabilities] of Object.entries(policy)) {
        const set = merged.get(pattern) ?? new Set<Capability>();
        for (const capability of capabilities) set.add(capability);
        merged.set(pattern, set);
      }
    }
    this.rules = [...merged].map(([pattern, capabilities]) => ({
      pattern,
      capabilities: capabilities.has('deny') ? new Set<Capability>(['deny']) : capabilities,
    }));
  }

  /**
   * The capabilities of the rule that decides `path`, or none (denied): an exact pattern wins, otherwise the matching
   * pattern of highest priority alone decides; `root` allows everything.
   */
  capabilitiesOf(path: string): ReadonlySet<Capability> {
    if (this.root) return new Set<Capability>(CAPABILITIES.filter((capability) => capability !== 'deny'));
    const exact = this.rules.find((rule) => !rule.pattern.includes('+') && !rule.pattern.endsWith('*') && rule.pattern === path);
    if (exact !== undefined) return exact.capabilities;
    let best: Rule | undefined;
    for (const rule of this.rules) {
      if (!(rule.pattern.includes('+') || rule.pattern.endsWith('*'))) continue;
      if (!matches(rule.pattern, path)) continue;
      if (best === undefined || lowerPriority(best.pattern, rule.pattern)) best = rule;
    }
    return best?.capabilities ?? new Set<Capability>();
  }

  /**
   * What sys/capabilities-self answers for `path` (vault/acl.go `Capabilities`, sorted by vault/capabilities.go): `root`
   * alone for a root token, `deny` alone where `deny` decides or nothing is granted, else the granted names, sorted.
   */
  capabilityNames(path: string): string[] {
    if (this.root) return ['root'];
    const granted = this.capabilitiesOf(path);
    if (granted.has('deny') || granted.size === 0) return ['deny'];
    return [...granted].sort();
  }

  /** Whether `capability` (and `sudo`, for a root-protected path) is granted on `path`; `deny` refuses all. */
  allows(path: string, capability: Capability, sudo = false): boolean {
    if (this.root) return true;
    const capabilities = this.capabilitiesOf(path);
    if (capabilities.has('deny')) return false;
    return capabilities.has(capability) && (!sudo || capabilities.has('sudo'));
  }
}

/** The policy store: named policies (plus `default`), compiled into an ACL per token. */
export class PolicyStore {
  private readonly policies = new Map<string, PolicyRules>();

  constructor(documents: Readonly<Record<string, PolicyDocument>> = {}) {
    this.policies.set('default', DEFAULT_POLICY);
    for (const [name, document] of Object.entries(documents)) {
      if (name === 'root') throw new PolicyError('policy root is built in and cannot be defined');
      if (!/^[A-Za-z0-9_.@-]+$/.test(name)) throw new PolicyError(`policy name ${JSON.stringify(name)}: use letters, digits and - _ . @`);
      this.policies.set(name, normalizePolicy(name, document));
    }
  }

  /** As Vault: unknown policy names are ignored; `root` grants everything. */
  acl(names: readonly string[]): Acl {
    if (names.includes('root')) return new Acl([], true);
    return new Acl(names.map((name) => this.policies.get(name)).filter((rules): rules is PolicyRules => rules !== undefined));
  }
}
