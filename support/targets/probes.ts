import type { Form, ProbeContext, ProbeCredentials } from '../postgres/probes';
import type { Login } from '../postgres/cluster';
import { userLookupSignature } from '../postgres/provision';
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

/** The credentials a probe and its positive control run under. */
export function probeCredentials(target: Target, sandbox: Login, prodOwner: Login): ProbeCredentials {
  return { sandbox, prodOwner, credentialsEditor: target.credentialsEditor, provisioner: target.provisioner };
}
