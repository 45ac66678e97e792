import {
  describeMirror,
  missingFromSandbox,
  mirrorObjects,
  probeCatalogue,
  runControl,
  runMirror,
  withoutMirror,
  type Credential,
  type Form,
  type Probe,
  type ProbeContext,
  type ProbeCredentials,
} from '../postgres/probes';
import type { Endpoint, Login } from '../postgres/cluster';
import { userLookupSignature } from '../postgres/provision';
import { NotApplicable, requireOnTarget } from '../not-applicable';
import { resetTargetSandbox } from './reset';
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

/** The credentials of the positive controls, as a report names them. */
const CREDENTIAL_NAMES: Record<Credential, string> = {
  sandbox: 'the sandbox login',
  'prod owner': "prod's owner role",
  'credentials editor': "Vault's database engine (credentials_editor)",
  provisioner: 'the provisioner',
};

/**
 * The credentials a probe and its positive control run under. Those the target does not hold (live: prod's owner,
 * Vault's database-engine login, the provisioner) make whatever needs them not applicable, with the reason. Without
 * a sandbox login, they serve positive controls only: whatever needs the sandbox login fails, saying so.
 */
export function probeCredentials(target: Target, sandbox: Login | undefined, prodOwner: Login | undefined): ProbeCredentials {
  const missing = (credential: Credential) => `the ${target.kind} target holds no credential of ${CREDENTIAL_NAMES[credential]}, which this needs`;
  return {
    get sandbox() {
      if (!sandbox) throw new Error('these probe credentials name no sandbox login: mint one and name it, for anything but the positive controls');
      return sandbox;
    },
    get prodOwner() {
      return requireOnTarget(prodOwner, missing('prod owner'));
    },
    get credentialsEditor() {
      return requireOnTarget(target.credentialsEditor, missing('credentials editor'));
    },
    get provisioner() {
      return requireOnTarget(target.provisioner, missing('provisioner'));
    },
  };
}

/**
 * What proves a probe's attempt sound on a target. A hermetic target holds every entitled credential, so it runs the
 * positive control itself — and the mirror too, so every mirror is proven on every run. Any other target holds only
 * the sandbox's identity: the mirror alone, and for a probe without one, nothing.
 */
export function positiveProofs(target: Target): { readonly control: boolean; readonly mirror: true } {
  return { control: target.kind === 'hermetic', mirror: true };
}

export interface PositiveProof {
  readonly succeeded: boolean;
  /** One line per proof that ran (or stood aside), for the evidence. */
  readonly lines: readonly string[];
}

/**
 * Runs the probe's positive proofs the target calls for (positiveProofs): the control as the credential entitled to
 * the attempt, the mirror as the sandbox login on the sandbox's own object. Throws NotApplicable when none can run:
 * a target without the entitled credential, for a probe without a mirror (with the probe's own reason why).
 */
export async function provePositive(target: Target, endpoint: Endpoint, probe: Probe, credentials: ProbeCredentials): Promise<PositiveProof> {
  const context = probeContext(target);
  const proofs = positiveProofs(target);
  const entitled = CREDENTIAL_NAMES[probe.control.credential];
  const lines: string[] = [];
  let succeeded = true;
  if (proofs.control) {
    const control = await proveControl(endpoint, probe, credentials, context);
    lines.push(control.line);
    succeeded &&= control.succeeded;
  }
  if (probe.mirror.kind === 'none') {
    if (!proofs.control) {
      throw new NotApplicable(`no mirror on the sandbox's own objects — ${probe.mirror.why}; and the positive control needs ${entitled}, which the ${target.kind} target does not hold`);
    }
    lines.push(`no mirror on the sandbox's own objects: ${probe.mirror.why}`);
  } else {
    const mirror = await runMirror(endpoint, probe, credentials, context);
    lines.push(mirror.succeeded ? `mirror on ${context.sandbox.database} as the sandbox login: succeeded — ${mirror.sql ?? 'connecting'}` : describeMirror(mirror));
    succeeded &&= mirror.succeeded;
  }
  return { succeeded, lines };
}

/** Runs the probe's positive control as the credential entitled to it: whether it succeeded, and a line of evidence. */
async function proveControl(endpoint: Endpoint, probe: Probe, credentials: ProbeCredentials, context: ProbeContext): Promise<{ readonly succeeded: boolean; readonly line: string }> {
  const control = await runControl(endpoint, probe, credentials, context);
  const answer = control.succeeded ? 'succeeded' : `FAILED — ${control.sqlstate ?? ''} ${control.message ?? ''}`.trim();
  return { succeeded: control.succeeded, line: `positive control as ${CREDENTIAL_NAMES[probe.control.credential]}: ${answer}` };
}

export interface UnmirroredProof {
  /** One line per probe: its attempt, its control's statement, as whom it ran, and how it ended. */
  readonly lines: readonly string[];
  /** The lines of the controls that did not succeed: each such probe proves nothing. */
  readonly failed: readonly string[];
}

/**
 * Runs the positive control of every attempt nothing of the sandbox's is entitled to (the catalogue's probes without a
 * mirror), each as the credential entitled to it: the only proof that their refusals are fences and not malformed
 * statements. Only a target holding those credentials runs them (positiveProofs); any other throws NotApplicable,
 * naming the attempts and the credentials it lacks.
 */
export async function proveUnmirroredControls(target: Target, endpoint: Endpoint, credentials: ProbeCredentials): Promise<UnmirroredProof> {
  const context = probeContext(target);
  const probes = withoutMirror(probeCatalogue(context));
  if (probes.length === 0) throw new Error('every probe of the catalogue has a mirror: no positive control is left to prove apart, so drop this step');
  if (!positiveProofs(target).control) {
    const entitled = [...new Set(probes.map((probe) => CREDENTIAL_NAMES[probe.control.credential]))];
    throw new NotApplicable(
      `nothing of the sandbox's is entitled to ${probes.map((probe) => `"${probe.attempt}"`).join(', ')}, so no mirror shows them sound; ` +
        `their positive controls need ${entitled.join(' or ')}, and the ${target.kind} target holds only the sandbox's identity ` +
        '(their exact refusals and live forms run on it all the same)',
    );
  }
  const lines: string[] = [];
  const failed: string[] = [];
  for (const probe of probes) {
    const control = await proveControl(endpoint, probe, credentials, context);
    const line = `${probe.attempt}: ${probe.control.statement} — ${control.line}`;
    lines.push(line);
    if (!control.succeeded) failed.push(line);
  }
  return { lines, failed };
}

/**
 * Makes sure the sandbox holds the objects the probes' mirrors aim at (Dolibarr's, which the golden restores); returns
 * a line of evidence when it had to reset the sandbox for that, else nothing. A sandbox holding none of them (one never reset, as a fresh hermetic sandbox is) is reset to the golden
 * with `login`; one holding some but not all is left alone and this throws, naming what is missing: the golden itself
 * lacks what a mirror aims at.
 */
export async function ensureMirrorObjects(target: Target, login: Login): Promise<string | undefined> {
  const context = probeContext(target);
  const wanted = mirrorObjects(probeCatalogue(context));
  const endpoint = target.endpointFor(target.sandbox.database);
  const missing = await missingFromSandbox(endpoint, login, context, wanted);
  if (missing.length === 0) return undefined;
  if (missing.length < wanted.length) {
    throw new Error(
      `the sandbox holds some of the objects the probes' mirrors aim at but not ${missing.join(', ')}: ` +
        'its Dolibarr schema is not the one the mirrors were written for; aim those mirrors at objects the golden holds',
    );
  }
  await resetTargetSandbox(target, login);
  const stillMissing = await missingFromSandbox(endpoint, login, context, wanted);
  if (stillMissing.length > 0) {
    throw new Error(`the golden holds no ${stillMissing.join(', ')}, which the probes' mirrors aim at: aim those mirrors at objects the golden holds`);
  }
  return `the sandbox held none of what the mirrors aim at, so it was reset to the golden: it now holds ${wanted.join(', ')}`;
}
