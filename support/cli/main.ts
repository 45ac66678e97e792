import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, TARGETS, type TargetName } from '../config';
import { EXIT, TargetUnreachableError } from '../gates/outcomes';
import { loadWaivers, WaiverFileError } from '../gates/waivers';
import { instanceNames, NamingError } from '../naming';
import { ClusterStartError, NoPostgresAvailableError } from '../postgres/cluster';
import { RevocationError } from '../postgres/minting';
import { interruptedBy, runTeardowns } from '../process/teardown';
import { redactWrites } from '../redaction';
import { VaultConfigError } from '../vault/config';
import { VaultError } from '../vault/errors';
import type { ResetChoice } from './lifecycle';

const USAGE = `rehearse — prove that the ERP sandbox can never hurt production (ADR-0003)

Usage:
  rehearse run [--target hermetic|live] [--tags EXPR] [--waivers FILE] [FEATURE_PATH...]
      Run the gates (every feature, or the given ones) against the target and print one line per gate.
      --target   hermetic (default; a throwaway cluster the harness starts) or live (the real erp-sandbox,
                 prod only as the thing that must refuse); default: ERP_REHEARSAL_TARGET, else hermetic
      --tags     a Cucumber tag expression selecting scenarios, e.g. '@fence and not @slow'
      --waivers  a waiver file (default: ERP_REHEARSAL_WAIVERS); see waivers.example.json
      --profile  a Cucumber profile of cucumber.js other than the target's own (default, live)
      --jobs     hermetic: processes to share the scenarios across, each on a target of its own (default: the
                 machine's cores; fewer when there are under 4 scenarios each); live: always 1
      Reports (html, junit, message) go to ERP_REHEARSAL_REPORT_DIR (default: reports/).
  rehearse gates [...]
      The same as "rehearse run --target hermetic".
  rehearse golden [--target hermetic|live] [--out DIR]
      Make the golden: prod dumped in a read-only session by the read-only golden identity (never a credential that
      can write prod), its content hash taken from the dump's own MVCC snapshot; golden.dump, golden.list,
      manifest.json and the row images (rows/) written to a temporary directory and swapped into DIR (default
      golden/) only once complete, so a failed or killed golden leaves the previous one intact. Prints the hash.
  rehearse reset [--target hermetic|live] [--mode atomic|parallel|clone] [--drop-dead-drift]
      Put the sandbox back to the golden, as the sandbox's own identity: the pre- and post-reset commands, the lock,
      session and drift checks; atomic (default: all or nothing), parallel (pg_restore --jobs, not atomic) or clone
      (the template-clone reset, with its own identity). Prints the content hash before and after, and the time.
      --drop-dead-drift: drop, as the sandbox's owner role, objects made by harness logins that are dead (a killed
      run's, or past their expiry), naming each, then revoke those logins; anyone else's drift still refuses.
      Exit 0 at the golden's hash, 1 refused or failed (atomic: the sandbox unchanged, and said so).
  rehearse snapshot [--target hermetic|live] [--out FILE]
      The sandbox's content hash and manifest, as the sandbox's identity; with --out, written to FILE (its row images
      in FILE.rows/ beside it) for a later diff.
  rehearse diff A B [--target hermetic|live] [--html FILE]
      What changed from A to B, row by row: each is a snapshot file, golden or sandbox (read now). On the terminal, and
      with --html as a page in the review's shape.
  rehearse status [--target hermetic|live] [--revoke]
      Is the sandbox fit for a session: at the golden's hash, no drift, no other session a reset would refuse for, the
      golden's age and hash, no login role minted by the harness left behind. One line per check, each problem with
      what to do. Exit 0 healthy, 1 not. A reset killed before its post-reset command: that command runs first.
      --revoke: also revoke the leftover logins of runs this machine cannot tell are over (another machine's).
  rehearse review CHANGESET [--html FILE]
      Show a rehearsal's changeset for review: its operations, the rows it changed by table (changed columns
      highlighted), and its digest; writes the same review as a self-contained HTML page (default: next to it).
  rehearse record --title TEXT [--reset] [--out FILE] [--target hermetic|live] -- COMMAND [ARGS...]
  rehearse record --title TEXT --serve [--reset] [--out FILE] [--target hermetic|live]
      Record an agent's session as a changeset: the sandbox's state before (after a reset to the golden and the agent's
      overlay with --reset), a recording gateway on 127.0.0.1 in front of the sandbox's Dolibarr, COMMAND run with
      DOLIBARR_URL (and DOLIBARR_API_URL, its /api/index.php) pointing at it and no key, then the state after, the diff
      and the changeset (default FILE: rehearsal.changeset.json, mode 0600), its review and digest on stdout. The gateway
      adds the agent's sandbox key itself, forwards to the sandbox alone, records every write, and refuses with
      Dolibarr's JSON error a request carrying its own DOLAPIKEY, a write promote could not replay, and a redirect out
      of the sandbox. --serve: no COMMAND; the gateway stays up for an interactive session until Ctrl-C, which writes
      the changeset (exit 130). Exit: COMMAND's status; 2 usage or configuration, 4 unreachable.
  rehearse promote CHANGESET [--approve DIGEST] [--target hermetic|live] [--resume]
      Replay a reviewed changeset on prod, under promote's own prod-write credential. Needs the digest you reviewed:
      typed at the prompt, or with --approve. Refused (exit 5) when the changeset was edited after review, not
      approved, not rehearsed on the sandbox, when prod changed since the rehearsal, or when the credential is missing
      or the agent's. Every attempt is appended to ERP_REHEARSAL_PROMOTE_AUDIT (default: reports/promote-audit.ndjson),
      and a replay once more before its first write. Each write to prod is journaled before and after it is sent, in
      promote-journal/ beside the audit; SIGINT or SIGTERM stops the replay between two writes (exit 130 or 143).
      After a crash, kill or stop, promote refuses the changeset (exit 5) naming what reached prod, what did not and
      the write in doubt; --resume checks that prod's rows are still as the journal left them (else refused, exit 5)
      and sends only what did not reach prod.
  rehearse mutations [--jobs N] [--everywhere] [NAME...]
      The fence mutation suite: a control run of every gate, then the gates once per mutation (all, or the named
      ones), each on a fresh hermetic target (hardened layout) with one fence broken, over the features the break can
      reach (--everywhere: every feature); every mutation must turn exactly its expected scenarios red. Writes mutations.md and mutations.json, and each run's reports and log, under
      ERP_REHEARSAL_REPORT_DIR/mutations/. --jobs: runs at a time (default: the machine's cores).
      Exit 0 when the control is green and every mutation is detected, 1 otherwise.
  rehearse bench [--scale N] [--rounds R] [--no-suite] [--progress] [--out DIR]
      The benchmark (a script, not a test): builds a hermetic target at fixture scale N (default 1; ≈ 1 GB of table
      data at 1150), then measures, alternating each pair over R rounds (default 5): the atomic reset vs raw
      pg_restore --single-transaction; the opt-in parallel reset vs raw pg_restore --jobs=2 and --jobs=1; the opt-in
      template-clone reset vs raw pg_restore; the snapshot hash vs raw COPY TO STDOUT; then the whole hermetic gate
      suite, cold (not with --no-suite). Prints the table with median and min–max, and writes it with the raw samples
      to DIR/bench-scale-N.md and .json (default DIR: ERP_REHEARSAL_REPORT_DIR/bench). Progress of resets and
      snapshots on a terminal, or with --progress.
  rehearse bench --table FILE.json...
      Several runs side by side (the README's table).
  rehearse names APP [ENV] [--domain DOMAIN]
      Print every name ADR-0002's elision rule gives the instance (ENV defaults to prod).
  rehearse steps [--markdown]
      Print the step catalogue: every step a feature may use, by step file, with what it does, an example from the
      shipped features and where it is defined, and the parameter types. --markdown prints it as docs/STEPS.md
      (npm run steps:docs rewrites that file).
  rehearse help

Exit status of run (the lifecycle commands: 0 done, 1 refused/failed/not healthy, 2 usage or configuration, 4 unreachable):
  0  every gate passed (waived failures and known gaps of the layout allowed)
  1  a gate failed (a failed scenario, an expired waiver, a run-level error, or no scenario ran)
  2  the run could not start: usage, configuration or waiver file (the message says what to do)
  3  nothing failed, but a scenario was not applicable on this target
  4  the target could not be reached (network, TLS or authentication)
Configuration comes from ERP_REHEARSAL_* environment variables; see README.md.`;

class UsageError extends Error {}

/** `rehearse promote` refused: nothing was sent to prod (the message says why and what to do). */
const PROMOTION_REFUSED = 5;

/** Errors whose message is the whole story for the operator: one line each, no stack trace, exit 2. */
const CANNOT_START = [ConfigError, NoPostgresAvailableError, ClusterStartError, NamingError, RevocationError, WaiverFileError, VaultConfigError, VaultError];

/**
 * How an error ends the process: its exit code and the lines to print, or undefined for an error nobody
 * expected (the caller shows its stack). The run's own GateRunError is matched by name, so this module need
 * not load Cucumber to know it.
 */
export function classify(error: unknown): { readonly code: number; readonly message: string } | undefined {
  if (error instanceof UsageError) return { code: EXIT.cannotStart, message: `${error.message}\n\n${USAGE}` };
  if (error instanceof TargetUnreachableError) {
    return {
      code: EXIT.unreachable,
      message: `${(error as Error).message} — check the address, the network, the CA and the credentials the configuration names, then rerun`,
    };
  }
  const name = (error as Error | undefined)?.name;
  // Matched by name, so this module need not load the promote or lifecycle libraries to know their errors.
  if (name === 'PromotionRefused') return { code: PROMOTION_REFUSED, message: `promote refused: ${(error as Error).message}` };
  if (name === 'LifecycleRefusal' || name === 'GoldenError') return { code: EXIT.failed, message: (error as Error).message };
  if (name === 'GoldenDirError' || name === 'GoldenFilesError' || name === 'StateFileError' || name === 'NoCloneIdentityError' || name === 'SandboxOverlayError') return { code: EXIT.cannotStart, message: (error as Error).message };
  if (name === 'ShardStartError') return { code: (error as { code: number }).code, message: (error as Error).message };
  if (CANNOT_START.some((kind) => error instanceof kind) || name === 'GateRunError' || name === 'ChangesetError' || name === 'JournalError' || name === 'MutationSuiteError') {
    return { code: EXIT.cannotStart, message: (error as Error).message };
  }
  return undefined;
}

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  if (at < 0) return undefined;
  const [, value] = args.splice(at, 2);
  if (value === undefined || value.startsWith('--')) throw new UsageError(`${name} needs a value`);
  if (args.includes(name)) throw new UsageError(`${name} is given twice`);
  return value;
}

/** Takes a flag without a value out of `args`; whether it was given. */
function flag(args: string[], name: string): boolean {
  const at = args.indexOf(name);
  if (at < 0) return false;
  args.splice(at, 1);
  if (args.includes(name)) throw new UsageError(`${name} is given twice`);
  return true;
}

function targetChoice(value: string, from: string): TargetName {
  if (!(TARGETS as readonly string[]).includes(value)) throw new UsageError(`${from} "${value}": use ${TARGETS.join(' or ')}`);
  return value as TargetName;
}

async function run(args: string[], fixedTarget?: TargetName): Promise<number> {
  const targetFlag = option(args, '--target');
  const profileFlag = option(args, '--profile');
  const tags = option(args, '--tags');
  const waiversFlag = option(args, '--waivers');
  const jobsFlag = option(args, '--jobs');
  const shard = option(args, '--shard');
  const unknown = args.find((arg) => arg.startsWith('--'));
  if (unknown) throw new UsageError(`unknown option ${unknown}`);
  if (fixedTarget && targetFlag && targetFlag !== fixedTarget) throw new UsageError(`"gates" runs the ${fixedTarget} target; use "run --target ${targetFlag}"`);
  const envTarget = process.env.ERP_REHEARSAL_TARGET?.trim();
  const target = targetFlag
    ? targetChoice(targetFlag, '--target')
    : fixedTarget ?? (envTarget ? targetChoice(envTarget, 'ERP_REHEARSAL_TARGET') : 'hermetic');
  const profile = profileFlag ?? (target === 'live' ? 'live' : 'default');
  const jobs = jobsFlag === undefined ? (target === 'live' || shard ? 1 : availableParallelism()) : wholeJobs(jobsFlag);
  if (target === 'live' && jobs > 1) throw new UsageError('--jobs: a live run is one process (there is one live sandbox); use --jobs 1');
  if (shard) joinRunner();

  // The configuration reads the target kind from the environment: the command line decides it.
  process.env.ERP_REHEARSAL_TARGET = target;
  // Validated before anything starts: a bad configuration or a malformed waiver stops the run at once. The report
  // directory (ERP_REHEARSAL_REPORT_DIR) and the waiver file (ERP_REHEARSAL_WAIVERS) come from the configuration,
  // so a `.env` file sets them too; --waivers wins.
  const config = loadConfig();
  const waiversFile = waiversFlag ?? config.waivers;
  const waivers = waiversFile === undefined ? undefined : loadWaivers(waiversFile);

  const started = Date.now();
  const progress = (line: string) =>
    process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
  // Loaded on demand: Cucumber's API is most of the CLI's start-up time, and only this command needs it.
  const { runGates } = await import('../gates/run');
  const { exitCodeOf, renderReport } = await import('../gates/report');
  const { renderFailures } = await import('../gates/failure-details');
  // Built, then its sandbox's Dolibarr asked whether it answers: an error page is exit 4 before any gate runs.
  const { openGateTarget } = await import('../targets/gate-target');
  const { report, targetSeconds, shards } = await runGates({ profile, target, paths: args, tags, reportDir: config.reports.dir, waivers, progress, open: openGateTarget, jobs });
  if (shard) {
    // A shard's runner merges its messages and prints the run's failures and summary; it needs only the build time.
    const { writeShardFile } = await import('../gates/shards');
    writeShardFile(config.reports.dir, targetSeconds);
    return exitCodeOf(report);
  }
  // The real failures whole (message and stack), then the summary with the run's times.
  const times = { ...(targetSeconds === undefined ? {} : { targetSeconds }), shards, totalSeconds: (Date.now() - started) / 1000 };
  process.stdout.write(`${renderFailures(report)}${renderReport(report, times)}\n`);
  return exitCodeOf(report);
}

function wholeJobs(value: string): number {
  const jobs = Number(value);
  if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`--jobs "${value}": use a whole number of processes, 1 or more`);
  return jobs;
}

/** A shard (`run --shard K/N`, started by a sharded run) stops, tearing its target down, when its runner is gone. */
function joinRunner(): void {
  if (!process.channel) throw new UsageError('--shard is for the processes a sharded run starts itself; use --jobs N');
  process.channel.unref();
  process.once('disconnect', () => {
    // Its output has nowhere to go any more: a write to the closed pipe must not crash the orderly stop.
    for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
    process.kill(process.pid, 'SIGTERM');
  });
}

async function reviewCommand(args: string[]): Promise<number> {
  const html = option(args, '--html');
  const unknown = args.find((arg) => arg.startsWith('--'));
  if (unknown) throw new UsageError(`unknown option ${unknown}`);
  if (args.length !== 1) throw new UsageError('review needs exactly one CHANGESET file');
  const { review } = await import('./promote');
  return review(args[0]!, html);
}

/** `record [options] -- COMMAND [ARGS...]`: the options before `--`, the agent's command after it. */
async function recordCommand(args: string[]): Promise<number> {
  const separator = args.indexOf('--');
  const command = separator < 0 ? [] : args.splice(separator).slice(1);
  const title = option(args, '--title');
  const out = option(args, '--out');
  const reset = flag(args, '--reset');
  const serve = flag(args, '--serve');
  const target = chooseTarget(args);
  noMore(args, 'record');
  if (title === undefined || title.trim() === '') throw new UsageError('record needs --title TEXT: what the agent rehearses, in a sentence');
  if (serve && command.length > 0) throw new UsageError('record --serve runs no command: give either --serve or -- COMMAND');
  if (!serve && command.length === 0) throw new UsageError('record needs the agent\'s command after --, e.g. rehearse record --title "…" -- ./agent.sh (or --serve)');
  const config = loadConfig();
  const { recordCommand: run } = await import('./record');
  return run({ title, reset, out: out ?? 'rehearsal.changeset.json', command, serve, target }, config, progressLine());
}

async function promoteCommand(args: string[]): Promise<number> {
  const approve = option(args, '--approve');
  const targetFlag = option(args, '--target');
  const resume = flag(args, '--resume');
  const unknown = args.find((arg) => arg.startsWith('--'));
  if (unknown) throw new UsageError(`unknown option ${unknown}`);
  if (args.length !== 1) throw new UsageError('promote needs exactly one CHANGESET file');
  const envTarget = process.env.ERP_REHEARSAL_TARGET?.trim();
  const target = targetFlag ? targetChoice(targetFlag, '--target') : envTarget ? targetChoice(envTarget, 'ERP_REHEARSAL_TARGET') : 'hermetic';
  process.env.ERP_REHEARSAL_TARGET = target;
  const config = loadConfig();
  const started = Date.now();
  const progress = (line: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
  const { promoteCommand: run } = await import('./promote');
  return run({ path: args[0]!, ...(approve === undefined ? {} : { approve }), target, ...(resume ? { resume } : {}) }, config, progress);
}

async function mutations(args: string[]): Promise<number> {
  const jobsFlag = option(args, '--jobs');
  const everywhere = flag(args, '--everywhere');
  const unknown = args.find((arg) => arg.startsWith('--'));
  if (unknown) throw new UsageError(`unknown option ${unknown}`);
  const jobs = jobsFlag === undefined ? availableParallelism() : wholeJobs(jobsFlag);
  process.env.ERP_REHEARSAL_TARGET = 'hermetic';
  const config = loadConfig();
  const { runMutationSuite, MutationSuiteError, selectMutations } = await import('../mutations/run');
  const { writeSuiteReport } = await import('../mutations/report-files');
  try {
    selectMutations(args);
  } catch (error) {
    if (error instanceof MutationSuiteError) throw new UsageError(error.message);
    throw error;
  }
  const reportDir = join(config.reports.dir, 'mutations');
  const started = Date.now();
  const progress = (line: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
  progress(`fence mutation suite: ${args.length || 'every'} mutation(s) and the control, ${jobs} at a time, ${everywhere ? 'every feature' : 'each over the features its break can reach'}, reports in ${reportDir}`);
  const results = await runMutationSuite({ names: args, jobs, everywhere, reportDir, progress, context: { prod: config.prod, sandbox: config.sandbox, layout: 'hardened' } });
  const { summary, holds } = writeSuiteReport(reportDir, results);
  process.stdout.write(`${summary}\n`);
  return holds ? EXIT.green : EXIT.failed;
}

async function bench(args: string[]): Promise<number> {
  if (args[0] === '--table') {
    if (args.length < 2) throw new UsageError('bench --table needs the JSON files of one or more runs');
    const { benchTable } = await import('./bench');
    return benchTable(args.slice(1));
  }
  const number = (flag: string, fallback: number, check: (n: number) => boolean, rule: string) => {
    const raw = option(args, flag);
    if (raw === undefined) return fallback;
    const parsed = Number(raw);
    if (!Number.isFinite(parsed) || !check(parsed)) throw new UsageError(`${flag} "${raw}": use ${rule}`);
    return parsed;
  };
  const scale = number('--scale', 1, (n) => n > 0, 'a number greater than 0, e.g. 1, 100 or 1150 (≈ 1 GB)');
  const rounds = number('--rounds', 5, (n) => Number.isInteger(n) && n >= 1, 'a whole number of rounds, 1 or more');
  const outFlag = option(args, '--out');
  const flags = ['--no-suite', '--progress'];
  const unknown = args.find((arg) => arg.startsWith('--') && !flags.includes(arg));
  if (unknown) throw new UsageError(`unknown option ${unknown}`);
  const stray = args.find((arg) => !arg.startsWith('--'));
  if (stray) throw new UsageError(`bench takes no argument, not "${stray}"`);
  process.env.ERP_REHEARSAL_TARGET = 'hermetic';
  const config = loadConfig();
  const { benchCommand } = await import('./bench');
  return benchCommand({
    scale,
    rounds,
    suite: !args.includes('--no-suite'),
    outDir: outFlag ?? join(config.reports.dir, 'bench'),
    progressEverySecond: args.includes('--progress') || process.stderr.isTTY === true,
  });
}

/** --target, else ERP_REHEARSAL_TARGET, else hermetic; the configuration reads it from the environment. */
function chooseTarget(args: string[]): TargetName {
  const targetFlag = option(args, '--target');
  const envTarget = process.env.ERP_REHEARSAL_TARGET?.trim();
  const target = targetFlag ? targetChoice(targetFlag, '--target') : envTarget ? targetChoice(envTarget, 'ERP_REHEARSAL_TARGET') : 'hermetic';
  process.env.ERP_REHEARSAL_TARGET = target;
  return target;
}

function noMore(args: string[], command: string, operands = 0): void {
  const unknown = args.find((arg) => arg.startsWith('--'));
  if (unknown) throw new UsageError(`unknown option ${unknown}`);
  if (args.length !== operands) throw new UsageError(operands === 0 ? `${command} takes no argument, not "${args[0]}"` : `${command} needs exactly ${operands} arguments`);
}

function progressLine(): (line: string) => void {
  const started = Date.now();
  return (line) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
}

/** golden, reset, snapshot, diff, status: the operator's lifecycle commands (support/cli/lifecycle.ts). */
async function lifecycle(command: 'golden' | 'reset' | 'snapshot' | 'diff' | 'status', args: string[]): Promise<number> {
  chooseTarget(args);
  const out = command === 'golden' || command === 'snapshot' ? option(args, '--out') : undefined;
  const mode = command === 'reset' ? option(args, '--mode') : undefined;
  const html = command === 'diff' ? option(args, '--html') : undefined;
  const dropDeadDrift = command === 'reset' && flag(args, '--drop-dead-drift');
  const revoke = command === 'status' && flag(args, '--revoke');
  noMore(args, command, command === 'diff' ? 2 : 0);
  if (dropDeadDrift && mode === 'clone') throw new UsageError('--drop-dead-drift goes with --mode atomic or parallel: the clone reset replaces the sandbox database whole');
  const lifecycleCommands = await import('./lifecycle');
  if (mode !== undefined && !(lifecycleCommands.RESET_MODES as readonly string[]).includes(mode)) {
    throw new UsageError(`--mode "${mode}": use ${lifecycleCommands.RESET_MODES.join(', ')}`);
  }
  const config = loadConfig(process.env, command === 'golden' ? { purpose: 'golden' } : {});
  const progress = progressLine();
  switch (command) {
    case 'golden':
      return lifecycleCommands.goldenCommand(out ?? 'golden', config, progress);
    case 'reset':
      return lifecycleCommands.resetCommand((mode ?? 'atomic') as ResetChoice, config, progress, { dropDeadDrift });
    case 'snapshot':
      return lifecycleCommands.snapshotCommand(out, config, progress);
    case 'diff':
      return lifecycleCommands.diffCommand(args[0]!, args[1]!, html, config, progress);
    case 'status':
      return lifecycleCommands.statusCommand(config, progress, { revoke });
  }
}

function names(args: string[]): number {
  const domain = option(args, '--domain');
  const [app, env] = args;
  if (!app) throw new UsageError('names needs an APP');
  const derived = instanceNames(app, env, domain);
  for (const [key, value] of Object.entries(derived)) process.stdout.write(`${key.padEnd(10)} ${value}\n`);
  return 0;
}

async function steps(args: string[]): Promise<number> {
  const markdown = args.includes('--markdown');
  const rest = args.filter((arg) => arg !== '--markdown');
  const unknown = rest.find((arg) => arg.startsWith('--'));
  if (unknown) throw new UsageError(`unknown option ${unknown}`);
  if (rest.length > 0) throw new UsageError(`steps takes no argument, not "${rest[0]}"`);
  const { stepCatalogue } = await import('../authoring/step-catalogue');
  const { renderMarkdown } = await import('../authoring/render-markdown');
  const { renderText } = await import('../authoring/render-text');
  const { shouldColour } = await import('../promote/review');
  const catalogue = await stepCatalogue();
  process.stdout.write(markdown ? renderMarkdown(catalogue) : renderText(catalogue, { colour: shouldColour(process.stdout, process.env) }));
  return 0;
}

export async function main(argv: readonly string[]): Promise<number> {
  // Everything the process prints goes through the redaction point (support/redaction.ts).
  redactWrites(process.stdout);
  redactWrites(process.stderr);
  const args = [...argv];
  const command = args[0] && !args[0].startsWith('--') && !args[0].includes('/') && !args[0].endsWith('.feature') ? args.shift()! : 'gates';
  try {
    switch (command) {
      case 'run':
        return await run(args);
      case 'gates':
        return await run(args, 'hermetic');
      case 'golden':
      case 'reset':
      case 'snapshot':
      case 'diff':
      case 'status':
        return await lifecycle(command, args);
      case 'review':
        return await reviewCommand(args);
      case 'record':
        return await recordCommand(args);
      case 'promote':
        return await promoteCommand(args);
      case 'mutations':
        return await mutations(args);
      case 'bench':
        return await bench(args);
      case 'names':
        return names(args);
      case 'steps':
        return await steps(args);
      case 'help':
        process.stdout.write(`${USAGE}\n`);
        return 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    const signal = interruptedBy();
    if (signal) {
      process.stderr.write(`rehearse: interrupted by ${signal}\n`);
      return signal === 'SIGINT' ? 130 : 143;
    }
    const known = classify(error);
    if (!known) throw error;
    process.stderr.write(`rehearse: ${known.message}\n`);
    return known.code;
  } finally {
    await runTeardowns();
  }
}
