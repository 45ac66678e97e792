import { resolve } from 'node:path';
import { DEFAULT_SEED } from '../fixtures/dolibarr/seed';
import { redactSecrets, setting, type EnvRecord } from './env';
import { withEnvFile } from './config/env-file';
import { fileProblem, nodeFiles, type ConfigFiles } from './config/files';
import { parseGoldenSourceConfig, parseLiveConfig, type GoldenSourceConfig, type LiveConfig, type LivePurpose } from './config/live';
import { instanceNames, NamingError, PROD_ENV, type InstanceNames } from './naming';
import type { ProviderChoice } from './postgres/provider';
import { LAYOUTS, type Layout } from './postgres/provision';
import { DEFAULT_DOLIBARR_PROFILE, DOLIBARR_PROFILES, type DolibarrProfileName } from './dolibarr/versions';

export { parseEnvFile, withEnvFile, ENV_FILE_VARIABLE, type EnvFileContent, type EnvWithFile } from './config/env-file';
export { nodeFiles, type ConfigFiles } from './config/files';
export { redactSecrets, type EnvRecord } from './env';
export {
  DEFAULT_DB_PORT,
  DEFAULT_GOLDEN_MAX_AGE_HOURS,
  DEFAULT_SSLMODE,
  parseGoldenSourceConfig,
  parseLiveConfig,
  parseResolve,
  SSL_MODES,
  VAULT_AUTH_METHODS,
  type DatabaseAddress,
  type GoldenSourceConfig,
  type LiveConfig,
  type LivePurpose,
  type LiveResult,
  type LiveSources,
  type SslMode,
  type VaultAuthMethod,
} from './config/live';

/**
 * The harness's configuration, read from the environment (completed by an optional `.env` file) once at
 * start-up. Every bad or missing value is reported at once, one line each, before anything is started.
 * `.env.example` documents every variable.
 */

export interface Application {
  readonly name: string;
  readonly envs: readonly string[];
}

export const TARGETS = ['hermetic', 'live'] as const;
export type TargetName = (typeof TARGETS)[number];

export interface HarnessConfig {
  /** hermetic: a throwaway stack the harness starts; live: the real Vault, databases and Dolibarr (see `live`). */
  readonly target: TargetName;
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
  /** The Dolibarr version the hermetic stand-ins answer as (support/dolibarr/versions.ts); a live Dolibarr says its own. */
  readonly dolibarrVersion: DolibarrProfileName;
  readonly reset: {
    /** Shell command run before each reset (e.g. scale Dolibarr to 0); none by default. */
    readonly preCommand?: string;
    /** Shell command run after each reset, whatever its outcome; none by default. */
    readonly postCommand?: string;
    /** How long a reset waits for another one before giving up. */
    readonly lockTimeoutMs: number;
  };
  /** Where the run's reports go (relative to the working directory unless absolute). */
  readonly reports: { readonly dir: string };
  /** A progress line a second from long resets and snapshots: on a terminal by default, quiet in CI logs. */
  readonly progressEverySecond: boolean;
  /** The waiver file (absolute path, checked readable; its content is validated by the waivers module). */
  readonly waivers?: string;
  /** Present exactly when target is live (and the purpose is the gates'). */
  readonly live?: LiveConfig;
  /** Present exactly when target is live and the purpose is the golden job's (`rehearse golden`). */
  readonly goldenSource?: GoldenSourceConfig;
}

/** A configuration of the live target: `live` is there. */
export type LiveHarnessConfig = HarnessConfig & { readonly target: 'live'; readonly live: LiveConfig };

export function isLive(config: HarnessConfig): config is LiveHarnessConfig {
  return config.target === 'live' && config.live !== undefined;
}

export interface ConfigSources {
  /** The file reads the configuration makes (.env, CA files, golden manifest, readability checks); the real file system by default. */
  readonly files?: ConfigFiles;
  /** Where `./.env` is looked for and relative paths start from; process.cwd() by default. */
  readonly cwd?: string;
  /** What a live command needs: every gate's settings (default), or only the golden job's. */
  readonly purpose?: LivePurpose;
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

/**
 * Reads and validates the configuration: `env` (process.env by default) over the optional `.env` file. Throws
 * ConfigError listing every problem. Given `sources.files`, it touches neither the file system nor process.env.
 */
export function loadConfig(env: EnvRecord = process.env, sources: ConfigSources = {}): HarnessConfig {
  const files = sources.files ?? nodeFiles;
  const cwd = sources.cwd ?? process.cwd();
  const withFile = withEnvFile(env, files, cwd);
  const problems: string[] = [...withFile.problems];
  try {
    return readConfig(withFile.env, files, cwd, problems, sources.purpose ?? 'gates');
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(redactSecrets(error.problems, withFile.env));
    throw error;
  }
}

function readConfig(env: EnvRecord, files: ConfigFiles, cwd: string, problems: string[], purpose: LivePurpose): HarnessConfig {
  const value = (name: string, fallback: string) => setting(env, name) ?? fallback;

  const target = value('ERP_REHEARSAL_TARGET', 'hermetic');
  if (!(TARGETS as readonly string[]).includes(target)) {
    problems.push(`ERP_REHEARSAL_TARGET="${target}": use ${TARGETS.join(' or ')}`);
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
  const dolibarrVersion = value('ERP_REHEARSAL_DOLIBARR_VERSION', DEFAULT_DOLIBARR_PROFILE);
  if (!(DOLIBARR_PROFILES as readonly string[]).includes(dolibarrVersion)) {
    problems.push(`ERP_REHEARSAL_DOLIBARR_VERSION="${dolibarrVersion}": use ${DOLIBARR_PROFILES.join(', ')} (the Dolibarr versions the hermetic stand-ins answer as)`);
  }
  const lockTimeout = number('ERP_REHEARSAL_RESET_LOCK_TIMEOUT_S', 60, (n) => n > 0, 'a number of seconds greater than 0');

  // Naming: the domain, the app and the sandbox env each said once, under their own variable.
  const domain = value('ERP_REHEARSAL_DOMAIN', 'arcodange.lab');
  const app = value('ERP_REHEARSAL_APP', 'erp');
  const sandboxEnv = value('ERP_REHEARSAL_SANDBOX_ENV', 'sandbox');
  const namingBefore = problems.length;
  const naming = (name: string, check: () => unknown) => {
    try {
      check();
    } catch (error) {
      if (!(error instanceof NamingError)) throw error;
      problems.push(`${name}: ${error.message}`);
    }
  };
  naming('ERP_REHEARSAL_DOMAIN', () => instanceNames('erp', PROD_ENV, domain));
  naming('ERP_REHEARSAL_APP', () => instanceNames(app));
  naming('ERP_REHEARSAL_SANDBOX_ENV', () => instanceNames('erp', sandboxEnv));
  if (sandboxEnv === PROD_ENV) {
    problems.push(`ERP_REHEARSAL_SANDBOX_ENV="${sandboxEnv}": the sandbox must not be prod; name the rehearsal env, e.g. "sandbox"`);
  }
  const namingOk = problems.length === namingBefore;

  const applications = parseApplications(value('ERP_REHEARSAL_APPLICATIONS', `${app}:${PROD_ENV},${sandboxEnv}`));
  let prod: InstanceNames | undefined;
  let sandbox: InstanceNames | undefined;
  if (namingOk) {
    for (const application of applications) {
      for (const envName of application.envs) {
        naming('ERP_REHEARSAL_APPLICATIONS', () => {
          const names = instanceNames(application.name, envName, domain);
          if (application.name === app && envName === PROD_ENV) prod = names;
          if (application.name === app && envName === sandboxEnv) sandbox = names;
        });
      }
    }
    if (!prod || !sandbox) {
      problems.push(
        `ERP_REHEARSAL_APPLICATIONS must provision app "${app}" with envs "${PROD_ENV}" and "${sandboxEnv}" ` +
          `(ERP_REHEARSAL_APP / ERP_REHEARSAL_SANDBOX_ENV name the pair the gates use)`,
      );
    }
  }

  // Both targets: reports and waivers.
  const reportDir = value('ERP_REHEARSAL_REPORT_DIR', 'reports');
  const progress = value('ERP_REHEARSAL_PROGRESS', 'auto');
  if (!['auto', 'on', 'off'].includes(progress)) problems.push(`ERP_REHEARSAL_PROGRESS="${progress}": use auto (on a terminal), on or off`);
  const waiversGiven = setting(env, 'ERP_REHEARSAL_WAIVERS');
  let waivers: string | undefined;
  if (waiversGiven !== undefined) {
    waivers = resolve(cwd, waiversGiven);
    try {
      files.checkReadable(waivers);
    } catch (error) {
      problems.push(`ERP_REHEARSAL_WAIVERS="${waiversGiven}": the waiver file ${fileProblem(error)}; point it at the waiver file, or unset it`);
    }
  }

  // Live only: hermetic runs ignore every live setting.
  let live: LiveConfig | undefined;
  let goldenSource: GoldenSourceConfig | undefined;
  if (target === 'live') {
    const sources = { env, files, cwd, ...(namingOk && sandbox ? { sandbox } : {}), ...(namingOk && prod ? { prod } : {}) };
    if (purpose === 'golden') {
      const result = parseGoldenSourceConfig(sources);
      problems.push(...result.problems);
      goldenSource = result.goldenSource;
    } else {
      const result = parseLiveConfig(sources);
      problems.push(...result.problems);
      live = result.live;
    }
  }

  if (problems.length > 0) throw new ConfigError([...new Set(problems)]);
  return {
    target: target as TargetName,
    domain,
    applications,
    prod: prod!,
    sandbox: sandbox!,
    postgres: {
      provider: provider as ProviderChoice,
      image: value('ERP_REHEARSAL_PG_IMAGE', 'postgres:15'),
      bindir: setting(env, 'ERP_REHEARSAL_PG_BINDIR'),
      osUser: value('ERP_REHEARSAL_PG_OS_USER', 'postgres'),
    },
    fixture: { seed, scale },
    layout: layout as Layout,
    dolibarrVersion: dolibarrVersion as DolibarrProfileName,
    reset: {
      preCommand: setting(env, 'ERP_REHEARSAL_PRE_RESET_COMMAND'),
      postCommand: setting(env, 'ERP_REHEARSAL_POST_RESET_COMMAND'),
      lockTimeoutMs: lockTimeout * 1000,
    },
    reports: { dir: reportDir },
    progressEverySecond: progress === 'on' || (progress === 'auto' && process.stderr.isTTY === true),
    ...(waivers === undefined ? {} : { waivers }),
    ...(live === undefined ? {} : { live }),
    ...(goldenSource === undefined ? {} : { goldenSource }),
  };
}

/** Every instance the configured applications × envs give, in order. */
export function allInstances(config: HarnessConfig): InstanceNames[] {
  return config.applications.flatMap((application) =>
    application.envs.map((envName) => instanceNames(application.name, envName, config.domain)),
  );
}
