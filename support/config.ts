import { DEFAULT_SEED } from '../fixtures/dolibarr';
import { instanceNames, NamingError, PROD_ENV, type InstanceNames } from './naming';
import type { ProviderChoice } from './postgres/provider';
import { LAYOUTS, type Layout } from './postgres/provision';

/**
 * The harness's configuration, read from the environment once at start-up. Every bad or missing
 * value is reported at once, one line each, before anything is started.
 */

export interface Application {
  readonly name: string;
  readonly envs: readonly string[];
}

export interface HarnessConfig {
  readonly target: 'hermetic';
  readonly domain: string;
  /** Applications × envs the hermetic cluster is provisioned with, like postgres/iac's tfvars. */
  readonly applications: readonly Application[];
  /** The instance the gates protect (prod) and the one they rehearse in (sandbox). */
  readonly prod: InstanceNames;
  readonly sandbox: InstanceNames;
  readonly postgres: {
    readonly provider: ProviderChoice;
    readonly image: string;
    readonly bindir?: string;
    readonly osUser: string;
  };
  readonly fixture: { readonly seed: number; readonly scale: number };
  /** The hermetic cluster's layout: the factory's as provisioned today, or hardened. */
  readonly layout: Layout;
  readonly reset: {
    /** Shell command run before each reset (e.g. scale Dolibarr to 0); none by default. */
    readonly preCommand?: string;
    /** Shell command run after each reset, whatever its outcome; none by default. */
    readonly postCommand?: string;
    /** How long a reset waits for another one before giving up. */
    readonly lockTimeoutMs: number;
  };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`The configuration is not usable:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}

/** `erp:prod,sandbox webapp` → [{erp, [prod, sandbox]}, {webapp, [prod]}] (envs default to prod, as in tfvars). */
export function parseApplications(spec: string): Application[] {
  return spec
    .split(/\s+/)
    .filter(Boolean)
    .map((entry) => {
      const [name, envs] = entry.split(':', 2) as [string, string | undefined];
      return { name, envs: envs === undefined ? [PROD_ENV] : envs.split(',') };
    });
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): HarnessConfig {
  const problems: string[] = [];
  const value = (name: string, fallback: string) => {
    const raw = env[name];
    return raw === undefined || raw.trim() === '' ? fallback : raw.trim();
  };

  const target = value('ERP_REHEARSAL_TARGET', 'hermetic');
  if (target !== 'hermetic') {
    problems.push(`ERP_REHEARSAL_TARGET="${target}": only "hermetic" is available in this version`);
  }

  const provider = value('ERP_REHEARSAL_PG_PROVIDER', 'auto');
  if (!['auto', 'local', 'container'].includes(provider)) {
    problems.push(`ERP_REHEARSAL_PG_PROVIDER="${provider}": use auto, local or container`);
  }

  const number = (name: string, fallback: number, check: (n: number) => boolean, rule: string) => {
    const raw = value(name, String(fallback));
    const parsed = Number(raw);
    if (!Number.isFinite(parsed) || !check(parsed)) {
      problems.push(`${name}="${raw}": must be ${rule}`);
      return fallback;
    }
    return parsed;
  };
  const scale = number('ERP_REHEARSAL_FIXTURE_SCALE', 1, (n) => n > 0, 'a number greater than 0');
  const seed = number('ERP_REHEARSAL_FIXTURE_SEED', DEFAULT_SEED, Number.isSafeInteger, 'an integer');
  const layout = value('ERP_REHEARSAL_LAYOUT', 'as-provisioned');
  if (!LAYOUTS.includes(layout as Layout)) problems.push(`ERP_REHEARSAL_LAYOUT="${layout}": use ${LAYOUTS.join(' or ')}`);
  const lockTimeout = number('ERP_REHEARSAL_RESET_LOCK_TIMEOUT_S', 60, (n) => n > 0, 'a number of seconds greater than 0');

  const domain = value('ERP_REHEARSAL_DOMAIN', 'arcodange.lab');
  const app = value('ERP_REHEARSAL_APP', 'erp');
  const sandboxEnv = value('ERP_REHEARSAL_SANDBOX_ENV', 'sandbox');
  const applications = parseApplications(value('ERP_REHEARSAL_APPLICATIONS', `${app}:${PROD_ENV},${sandboxEnv}`));

  let prod: InstanceNames | undefined;
  let sandbox: InstanceNames | undefined;
  for (const application of applications) {
    for (const envName of application.envs) {
      try {
        const names = instanceNames(application.name, envName, domain);
        if (application.name === app && envName === PROD_ENV) prod = names;
        if (application.name === app && envName === sandboxEnv) sandbox = names;
      } catch (error) {
        if (!(error instanceof NamingError)) throw error;
        problems.push(`ERP_REHEARSAL_APPLICATIONS: ${error.message}`);
      }
    }
  }
  if (!prod || !sandbox) {
    problems.push(
      `ERP_REHEARSAL_APPLICATIONS must provision app "${app}" with envs "${PROD_ENV}" and "${sandboxEnv}" ` +
        `(ERP_REHEARSAL_APP / ERP_REHEARSAL_SANDBOX_ENV name the pair the gates use)`,
    );
  }

  // A bad domain fails every instance the same way: say it once.
  if (problems.length > 0) throw new ConfigError([...new Set(problems)]);
  return {
    target: 'hermetic',
    domain,
    applications,
    prod: prod!,
    sandbox: sandbox!,
    postgres: {
      provider: provider as ProviderChoice,
      image: value('ERP_REHEARSAL_PG_IMAGE', 'postgres:15'),
      bindir: env.ERP_REHEARSAL_PG_BINDIR?.trim() || undefined,
      osUser: value('ERP_REHEARSAL_PG_OS_USER', 'postgres'),
    },
    fixture: { seed, scale },
    layout: layout as Layout,
    reset: {
      preCommand: env.ERP_REHEARSAL_PRE_RESET_COMMAND?.trim() || undefined,
      postCommand: env.ERP_REHEARSAL_POST_RESET_COMMAND?.trim() || undefined,
      lockTimeoutMs: lockTimeout * 1000,
    },
  };
}

/** Every instance the configured applications × envs give, in order. */
export function allInstances(config: HarnessConfig): InstanceNames[] {
  return config.applications.flatMap((application) =>
    application.envs.map((envName) => instanceNames(application.name, envName, config.domain)),
  );
}
