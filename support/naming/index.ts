/**
 * ADR-0002's elision rule: one (app, env, domain) coordinate gives every name of an instance.
 *
 * env defaults to `prod`, and `prod` elides: the prod instance's names are byte-identical to the
 * single-env convention (`erp`, `erp_role`, `postgres/creds/erp`, `erp.arcodange.lab`). Any other env
 * takes the kebab-case `<app>-<env>` suffix everywhere, except the PostgreSQL owner role, which stays
 * snake-case as `<app>_<env>_role`.
 */

export const PROD_ENV = 'prod';

export interface InstanceNames {
  readonly app: string;
  readonly env: string;
  /** The instance id: `<app>` for prod, `<app>-<env>` otherwise. */
  readonly instance: string;
  readonly database: string;
  readonly ownerRole: string;
  /** Vault dynamic database credentials path. */
  readonly credsPath: string;
  /** Vault KV v2 configuration path. */
  readonly kvPath: string;
  /** Kubernetes namespace and ServiceAccount. */
  readonly namespace: string;
  /** Vault Kubernetes auth role. */
  readonly vaultRole: string;
  /** The CI JWT role, shared by every env of an app. */
  readonly ciJwtRole: string;
  /** Internal DNS host. */
  readonly host: string;
}

export class NamingError extends Error {
  override readonly name = 'NamingError';
}

// Kebab-case identifier: lowercase letters and digits in groups joined by single hyphens.
const KEBAB = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
// A DNS name: dot-separated labels of letters, digits and inner hyphens, lowercase.
const DOMAIN = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;
// PostgreSQL truncates identifiers longer than this, which would silently merge two names.
const MAX_IDENTIFIER = 63;

function checkCoordinate(kind: 'app' | 'env', value: string): void {
  if (value.length === 0) {
    throw new NamingError(`${kind} is empty: give a kebab-case name such as ${kind === 'app' ? '"erp"' : '"sandbox"'}`);
  }
  if (!KEBAB.test(value)) {
    const hint = /[A-Z]/.test(value)
      ? 'uppercase is not allowed'
      : value.includes('_')
        ? 'underscores are not allowed (the owner role gets its underscores from the rule itself)'
        : 'use lowercase letters, digits and single inner hyphens, starting with a letter';
    throw new NamingError(`${kind} "${value}" is not kebab-case: ${hint}`);
  }
}

function checkEnv(env: string): void {
  checkCoordinate('env', env);
  if (env !== PROD_ENV && (env.startsWith(`${PROD_ENV}-`) || env.endsWith(`-${PROD_ENV}`))) {
    throw new NamingError(
      `env "${env}" looks like prod with a suffix: prod is spelled exactly "${PROD_ENV}" (and elides); ` +
        'name a non-prod env without "prod" in it, e.g. "sandbox" or "staging"',
    );
  }
}

/** Every derived name of the instance (app, env) under domain. Throws NamingError on bad input. */
export function instanceNames(app: string, env: string = PROD_ENV, domain = 'arcodange.lab'): InstanceNames {
  checkCoordinate('app', app);
  checkEnv(env);
  if (!DOMAIN.test(domain)) {
    throw new NamingError(`domain "${domain}" is not a lowercase DNS name such as "arcodange.lab"`);
  }
  const prod = env === PROD_ENV;
  const instance = prod ? app : `${app}-${env}`;
  // Exactly as postgres/iac renders it: hyphens inside app or env are kept (`dance-lessons-coach_role`).
  const ownerRole = prod ? `${app}_role` : `${app}_${env}_role`;
  for (const [what, name] of [['database', instance], ['owner role', ownerRole]] as const) {
    if (name.length > MAX_IDENTIFIER) {
      throw new NamingError(`${what} "${name}" is longer than PostgreSQL's ${MAX_IDENTIFIER}-character limit`);
    }
  }
  return {
    app,
    env,
    instance,
    database: instance,
    ownerRole,
    credsPath: `postgres/creds/${instance}`,
    kvPath: `kvv2/${instance}/config`,
    namespace: instance,
    vaultRole: instance,
    ciJwtRole: `gitea_cicd_${app}`,
    host: `${instance}.${domain}`,
  };
}
