import { setWorldConstructor, World } from '@cucumber/cucumber';
import type { Client } from 'pg';
import { allInstances } from './config';
import type { InstanceNames } from './naming';
import { withClient } from './postgres/connect';
import type { MintedLogin } from './postgres/minting';
import type { Probe, ProbeOutcome } from './postgres/probes';
import type { FunctionIdentity } from './postgres/catalog';
import type { ResetResult } from './lifecycle/reset';
import type { Snapshot } from './lifecycle/snapshot';
import { stateOf } from './lifecycle/state';
import { expect } from 'chai';
import { CLAIM_MEDIA_TYPE, EVIDENCE_MEDIA_TYPE } from './gates/outcomes';
import { PROD_UNCHANGED } from './gates/claims';
import { goldenNames } from './naming/golden';
import { cloneNames } from './naming/template-clone';
import { NotApplicable, requireOnTarget } from './not-applicable';
import type { WrittenSupplierInvoice } from './erp/supplier-invoice';
import type { DolibarrClient } from './dolibarr/client';
import type { VaultSession } from './vault';
import type { WriteAttempt } from './dolibarr-fence/attempts';
import type { DolibarrAnswer } from './dolibarr-fence/unguarded';
import type { DolibarrProfile } from './dolibarr/versions';
import type { StandinCounts } from './dolibarr/sites';
import { NetworkLog } from './process/connections';
import type { ReadAttempt } from './vault-fence/reads';
import type { Promotion } from './promote/promote';
import type { Target } from './targets/target';
import type { HeldWrite } from './postgres/probes';
import type { WatchedLiveMatrix } from './targets/live-locks';
import type { GoldenAttemptOutcome } from './postgres/golden-fence';
import type { GoldenSessionWrite } from './targets/golden-identity';
import type { CloneAttemptOutcome } from './postgres/clone-fence';
import type { CloneResetResult } from './lifecycle/template-clone';
import type { VatPeriod, VatSummary } from './erp/assertions/vat-summary';
import { agentWriteTooling } from './targets/write-tooling';
import { liveEnvironmentOf } from './targets/live-environment';
import { commandWords, runRehearse, type CommandRun } from './operator/rehearse-command';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import type { TargetKind } from './targets/session';
import { NoTargetError } from './targets/no-target';

/** The login a scenario reads the sandbox's state with, apart from the ones its steps act as. */
const OBSERVER = 'observer';
const PROD_OBSERVER = 'prod observer';

export interface WorldParameters {
  readonly target: TargetKind;
}

/** Per-scenario state: the shared target, and what the scenario's steps produced so far. */
export class RehearsalWorld extends World<WorldParameters> {
  private shared?: Target;
  /** Names derived by the last naming step. */
  names?: InstanceNames;
  /** The error the last attempted action raised, for "Then … is refused" steps. */
  refusal?: Error;
  /** Login roles this scenario minted, by the label the scenario gave them. */
  readonly logins = new Map<string, MintedLogin>();
  /** The table of contents of the last archive a step made. */
  archive?: string[];
  /** States (of the sandbox, or of prod) recorded by label, for diffs and comparisons. */
  readonly states = new Map<string, Snapshot>();
  /** Why prod's state could not be recorded on this target, if it could not. */
  prodStateUnavailable?: string;
  /** What the last rehearsal write created. */
  written?: WrittenSupplierInvoice;
  /** Outcomes of the last reset(s): a result, or the error that stopped it. */
  resets: (ResetResult | Error)[] = [];
  /** The probe the scenario is running and its outcome. */
  probing?: { readonly label: string; readonly probe: Probe; readonly outcome: ProbeOutcome };
  /** Sessions a step holds open (e.g. standing for Dolibarr's); closed after the scenario. */
  readonly sessions: Client[] = [];
  /** The provisioner's user_lookup as noted before a reset. */
  userLookup?: FunctionIdentity;
  /** The Dolibarr URL the write tooling is configured with in this scenario (default: the sandbox's). */
  toolingUrl?: string;
  /** Write-tooling clients this scenario made; closed after it. */
  readonly toolings: DolibarrClient[] = [];
  /** Vault sessions this scenario opened (their leases are revoked after it); the one its steps act as. */
  readonly vaultSessions: VaultSession[] = [];
  vaultSession?: VaultSession;
  /** The Vault fence's last read: what Vault said the identity may do on the path, and (hermetic) the read's outcome. */
  vaultRead?: ReadAttempt;
  /** What this scenario's observed attempts opened and sent over the network (support/process/connections.ts). */
  readonly traffic = new NetworkLog();
  /** What the Dolibarr stand-ins had counted when the scenario started (hermetic only). */
  dolibarrBaseline?: { readonly prod: StandinCounts; readonly sandbox: StandinCounts };
  /** The last write sent to prod's Dolibarr without the host-guard, with the key it carried, and the answer. */
  /** The last write sent to prod's Dolibarr, its answer, and the version prod reported (once a step read it). */
  prodWrite?: { readonly attempt: WriteAttempt; readonly key: 'sandboxAgent' | 'prodAgent'; readonly answer: DolibarrAnswer; readonly profile?: DolibarrProfile };

  /** The changeset the scenario's rehearsal was recorded to, and the promote audit file of the scenario. */
  changesetPath?: string;
  auditPath?: string;
  /** The last review rendered: the terminal text (uncoloured) and the HTML page. */
  review?: { readonly text: string; readonly html: string };
  /** What the last promote returned, or the error it threw. */
  promotion?: Promotion | Error;
  /** The target promote runs against, when a step configured it differently (e.g. with the agent's identity). */
  promoteTarget?: Target;
  /** The operator's side of the scenario: where its commands run, with which environment, and the last one's run. */
  operator?: { readonly dir: string; readonly env: Readonly<Record<string, string | undefined>> };
  command?: CommandRun;
  /** The lock-watch scenario's prod write held open, and what the watch saw. */
  readonly lockWatch: { write?: HeldWrite; watched?: WatchedLiveMatrix } = {};
  /** The golden identity's last attempt and its write in its own session. */
  readonly goldenFence: { attempt?: GoldenAttemptOutcome; sessionWrite?: GoldenSessionWrite } = {};
  /** The template-clone steps' state: whether the sandbox must be put back after the scenario (a clone reset, an
   * interrupted one), the last clone reset's result or error, the sandbox database's ACL just before it, the last attempt. */
  readonly cloneReset: { putBack?: boolean; reset?: CloneResetResult | Error; aclBefore?: string | null; attempt?: CloneAttemptOutcome } = {};
  /** The VAT summaries the scenario noted, by the period as the feature named it. */
  readonly vatNotes = new Map<string, { readonly period: VatPeriod; readonly summary: VatSummary }>();
  /** What puts back what a step changed on the shared target; run after the scenario, last first. */
  readonly undo: (() => void | Promise<void>)[] = [];

  /** The run's target; a `@no-target` scenario gets none (the hooks give it only to scenarios that need it). */
  get target(): Target {
    if (!this.shared) throw new NoTargetError();
    return this.shared;
  }

  useTarget(target: Target): void {
    this.shared = target;
  }

  /**
   * Runs catalog questions in `database`, which any login connected to it may ask: in prod as the golden identity (the
   * one credential that reaches prod and only reads), in the sandbox as the scenario's observer, elsewhere as the
   * provisioner (hermetic only). Every target answers them alike.
   */
  async inspect<T>(database: string, question: (client: Client) => Promise<T>): Promise<T> {
    const { prod, sandbox } = this.target;
    if (database === sandbox.database) return this.inSandbox(question);
    const login = database === prod.database
      ? await this.goldenReader()
      : requireOnTarget(this.target.provisioner, `the ${this.target.kind} target reaches only ${prod.database} and ${sandbox.database}, not ${database}`);
    return withClient(this.target.endpointFor(database), login, database, question);
  }

  /**
   * Who counts as the provisioner, the owner of the infrastructure in the app databases: on a hermetic target its own
   * login; live, whoever the server holds as superuser (the factory's provisioner is the cluster's superuser).
   */
  async provisioners(): Promise<(role: string) => boolean> {
    const provisioner = this.target.provisioner;
    if (provisioner) return (role) => role === provisioner.user;
    const superusers = await this.inSharedCatalog(async (client) =>
      new Set((await client.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolsuper')).rows.map((row) => row.rolname)));
    return (role) => superusers.has(role);
  }

  /** The Vault role and auth method the target logs in with for the identity that minted `login`. */
  workloadRoleOf(login: MintedLogin): { readonly method: string; readonly role: string } {
    const { prod, sandbox } = this.target;
    const identities = [sandbox, prod, goldenNames(prod).minting, cloneNames(sandbox).minting];
    const names = identities.find((candidate) => candidate.instance === login.instance);
    if (!names) throw new Error(`login ${login.user} was minted for ${login.instance}, an identity this target does not know`);
    const { auth } = this.target.vault.identity(names);
    return { method: auth.method, role: 'role' in auth ? auth.role : '(token)' };
  }

  /** Runs `work` connected to `database` as a login role this scenario minted. */
  as<T>(label: string, database: string, work: (client: Client) => Promise<T>): Promise<T> {
    return withClient(this.target.endpointFor(database), this.login(label), database, work);
  }

  /** The sandbox's current state, read through a sandbox login of its own (minted on first use). */
  async sandboxState(keepRows = false): Promise<Snapshot> {
    const { sandbox, workDir } = this.target;
    const everySecond = this.target.config.progressEverySecond ? this.target.progress : undefined;
    return stateOf(this.target.endpointFor(sandbox.database), await this.observer(), sandbox, keepRows ? workDir : undefined, everySecond);
  }

  /** Runs `work` in the sandbox database as the scenario's observer. */
  async inSandbox<T>(work: (client: Client) => Promise<T>): Promise<T> {
    return withClient(this.target.endpointFor(this.target.sandbox.database), await this.observer(), this.target.sandbox.database, work);
  }

  /**
   * Questions about the cluster's shared catalogs (roles, memberships, databases), which every login may read: asked
   * as the scenario's observer, a sandbox login of its own, so they need nothing a live target lacks.
   */
  inSharedCatalog<T>(question: (client: Client) => Promise<T>): Promise<T> {
    return this.inSandbox(question);
  }

  /** The sandbox login the scenario reads the sandbox with (minted on first use). */
  private async observer(): Promise<MintedLogin> {
    if (!this.logins.has(OBSERVER)) this.logins.set(OBSERVER, await this.target.minter.mint(this.target.sandbox));
    return this.login(OBSERVER);
  }

  /**
   * Prod's state, read through the read-only golden identity (a login of its own, minted on first use), never a
   * credential that could write prod. On a live target, the run's recorded state: prod is hashed at most twice a run.
   */
  async prodState(): Promise<Snapshot> {
    if (this.target.prodWatch) return this.target.prodWatch.recorded();
    return stateOf(this.target.endpointFor(this.target.prod.database), await this.goldenReader(), this.target.prod);
  }

  /**
   * Prod's content hash is still `recorded`: compared now (hermetic), or claimed for the end of the run, where the
   * run's last hash of prod settles it (live: support/gates/claims.ts).
   */
  async expectProdUnchanged(recorded: Snapshot): Promise<void> {
    if (this.target.prodWatch) {
      this.attach(PROD_UNCHANGED, CLAIM_MEDIA_TYPE);
      this.evidence(`prod's content hash ${recorded.root} was recorded; the end of the run compares it with prod's last hash`);
      return;
    }
    expect((await this.prodState()).root, "prod's content hash").to.equal(recorded.root);
  }

  /** A login of the golden identity, which reads prod and nothing else (minted on first use). */
  private async goldenReader(): Promise<MintedLogin> {
    if (!this.logins.has(PROD_OBSERVER)) this.logins.set(PROD_OBSERVER, await this.target.minter.mint(goldenNames(this.target.prod).minting));
    return this.login(PROD_OBSERVER);
  }

  /**
   * Runs a `rehearse` command line as the operator would, in a directory of the scenario's own: against a hermetic
   * target, configured as the live target, so it reaches this stack the way it reaches the real one.
   */
  async operatorRuns(line: string): Promise<CommandRun> {
    const args = commandWords(line);
    if (this.target.kind === 'live' && args[0] === 'golden') {
      throw new NotApplicable('a live run never dumps prod: the weekly golden job makes the golden, with the golden identity');
    }
    const operator = await this.operatorSide();
    this.command = await runRehearse(args, { env: operator.env, cwd: operator.dir });
    return this.command;
  }

  /** The operator's commands from now on run with `name` set to `value`. */
  async operatorSets(name: string, value: string): Promise<void> {
    const operator = await this.operatorSide();
    this.operator = { dir: operator.dir, env: { ...operator.env, [name]: value } };
  }

  /** Where the operator's commands run and with which configuration: live, the run's own; hermetic, one reaching this stack as live. */
  private async operatorSide(): Promise<NonNullable<RehearsalWorld['operator']>> {
    if (!this.operator) {
      const dir = mkdtempSync(join(this.target.workDir, 'operator-'));
      this.operator = { dir, env: { ...process.env, ...(this.target.kind === 'hermetic' ? await liveEnvironmentOf(this.target, dir) : {}) } };
    }
    return this.operator;
  }

  /** The agent's write tooling: the guarded Dolibarr client, with the sandbox agent's key. */
  writeTooling(): DolibarrClient {
    const tooling = agentWriteTooling(this.target, this.toolingUrl === undefined ? {} : { url: this.toolingUrl });
    this.toolings.push(tooling);
    return tooling;
  }


  /** A line of evidence for the gate summary (a hash, a refusal with its SQLSTATE or HTTP status). */
  evidence(text: string): void {
    this.attach(text, EVIDENCE_MEDIA_TYPE);
  }

  /** The names of a provisioned instance, e.g. "erp-sandbox". */
  instance(instance: string): InstanceNames {
    const provisioned = allInstances(this.target.config);
    const names = provisioned.find((candidate) => candidate.instance === instance);
    if (!names) throw new Error(`instance "${instance}" is not provisioned on this target; it has: ${provisioned.map((known) => known.instance).join(', ')}`);
    return names;
  }

  login(label: string): MintedLogin {
    const login = this.logins.get(label);
    if (!login) throw new Error(`no login role "${label}" was minted in this scenario`);
    return login;
  }
}

setWorldConstructor(RehearsalWorld);
