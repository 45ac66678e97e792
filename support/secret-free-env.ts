import { SECRET_NAME, type EnvRecord } from './env';
import { containsSecret } from './redaction';

/**
 * The environment of a command the operator configures (the pre- and post-reset commands): the harness's own minus
 * what holds its secrets — every variable whose name says it holds one (VAULT_TOKEN, ERP_REHEARSAL_VAULT_JWT,
 * ERP_REHEARSAL_<IDENTITY>_VAULT_JWT and _TOKEN, PGPASSWORD, … — env.ts SECRET_NAME) and every variable whose
 * value holds a secret registered with the redaction point (a URL with a password in it). Such a command needs its
 * own credentials (a kubeconfig, a service account), never the harness's.
 */
export function environmentWithoutSecrets(env: EnvRecord = process.env): NodeJS.ProcessEnv {
  const kept: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || SECRET_NAME.test(name) || containsSecret(value)) continue;
    kept[name] = value;
  }
  return kept;
}
