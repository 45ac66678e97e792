import type { Endpoint, Login } from './cluster';
import { attemptAsClone, cloneAttempts, describeCloneOutcome } from './clone-fence';
import { describeGoldenOutcome, goldenAttempts, runGoldenAttempt } from './golden-fence';
import { describeOutcome, probeCatalogue, runProbe, type ProbeContext, type ProbeCredentials } from './probes';

/**
 * Everything the three fences send a live prod, in one run: every probe of the prod-undroppable catalogue as the
 * sandbox's login, every attempt of the golden identity's fence as a golden login, every attempt of the clone fence as a
 * clone login — each in its form safe for a live prod, whatever the target. What a watch of the lock queue sees meanwhile
 * is what a live run can do to prod's sessions.
 */

export interface LiveMatrixLogins {
  readonly sandbox: Login;
  /** Absent: the golden identity's fence is not run (a target without that identity). */
  readonly golden?: Login;
  /** Absent: the clone fence is not run (a target without the opt-in clone identity). */
  readonly clone?: Login;
}

/** Where each fence reaches the server: the probes the sandbox's server; the golden and clone fences by database. */
export interface LiveMatrixEndpoints {
  readonly probes: Endpoint;
  readonly golden: (database: string) => Endpoint;
  readonly clone: (database: string) => Endpoint;
}

export interface LiveMatrixRun {
  /** One line per attempt, as each fence describes its outcome. */
  readonly lines: readonly string[];
  /** Which fences ran, and which did not for want of a login. */
  readonly fences: readonly string[];
}

/** Credentials for live forms: the sandbox login alone (no live form needs a prod session or an entitled credential). */
function sandboxOnly(sandbox: Login): ProbeCredentials {
  const none = (what: string) => () => {
    throw new Error(`a live form needs no ${what}: only the sandbox's login`);
  };
  return {
    sandbox,
    get prodOwner() { return none("prod owner's login")(); },
    get credentialsEditor() { return none('credentials editor')(); },
    get provisioner() { return none('provisioner')(); },
  };
}

/** Runs every live form of the three fences, one after the other, with whatever outcome. */
export async function runLiveMatrix(endpoints: LiveMatrixEndpoints, logins: LiveMatrixLogins, context: ProbeContext): Promise<LiveMatrixRun> {
  const lines: string[] = [];
  const fences: string[] = [];
  const credentials = sandboxOnly(logins.sandbox);
  const probes = probeCatalogue(context);
  for (const probe of probes) lines.push(describeOutcome(await runProbe(endpoints.probes, probe, 'live', credentials, context)));
  fences.push(`prod-undroppable: ${probes.length} probes`);
  const names = { prod: context.prod, sandbox: context.sandbox };
  if (logins.golden) {
    const attempts = goldenAttempts(names);
    for (const attempt of attempts) lines.push(describeGoldenOutcome(await runGoldenAttempt(endpoints.golden, logins.golden, names, attempt, 'live')));
    fences.push(`golden identity: ${attempts.length} attempts`);
  } else {
    fences.push('golden identity: not run, no golden login');
  }
  if (logins.clone) {
    const attempts = cloneAttempts(names);
    for (const { attempt } of attempts) lines.push(describeCloneOutcome(await attemptAsClone(endpoints.clone, logins.clone, names, attempt, { itselfToo: false })));
    fences.push(`template clone: ${attempts.length} attempts`);
  } else {
    fences.push('template clone: not run, no clone login');
  }
  return { lines, fences };
}
