import type { Form, ProbeContext, ProbeCredentials } from '../postgres/probes';
import type { Login } from '../postgres/cluster';
import { userLookupSignature } from '../postgres/provision';
import { requireOnTarget } from '../not-applicable';
import type { Target } from './target';

/** The probes' view of a target: the names they aim at, where user_lookup lives. */
export function probeContext(target: Target): ProbeContext {
  return { prod: target.prod, sandbox: target.sandbox, userLookup: userLookupSignature(target.config.layout) };
}

/**
 * Which form of each probe runs. The target decides, nothing else: a hermetic target takes the real
 * attempt (DROP DATABASE erp included); any other target gets only the forms that cannot change prod.
 */
export function probeForm(target: Target): Form {
  return target.kind === 'hermetic' ? 'hermetic' : 'live';
}

/**
 * The credentials a probe and its positive control run under. Those the target does not hold (live: prod's owner,
 * Vault's database-engine login, the provisioner) make whatever needs them not applicable, with the reason.
 */
export function probeCredentials(target: Target, sandbox: Login, prodOwner: Login | undefined): ProbeCredentials {
  const missing = (what: string) => `the ${target.kind} target holds no credential of ${what}, which this needs`;
  return {
    sandbox,
    get prodOwner() {
      return requireOnTarget(prodOwner, missing("prod's owner role"));
    },
    get credentialsEditor() {
      return requireOnTarget(target.credentialsEditor, missing("Vault's database engine (credentials_editor)"));
    },
    get provisioner() {
      return requireOnTarget(target.provisioner, missing('the provisioner'));
    },
  };
}
