import { diffSnapshots } from '../lifecycle/diff';
import { ROWS_DIR } from '../lifecycle/golden-dir';
import { goldenState } from '../lifecycle/snapshot-file';
import { finishKilledResets } from '../lifecycle/reset';
import { orphanedResetSessions, sessionsBlockingReset } from '../lifecycle/sandbox-sessions';
import { stateOf } from '../lifecycle/state';
import { withClient } from '../postgres/connect';
import { describeDrift, findDrift } from '../postgres/drift';
import { describeLeftovers, leftoverLogins, revokeLeftoverLogins, type LedgerSweep } from './leftovers';
import type { Target } from './target';

/**
 * `rehearse status`: is the sandbox fit for an agent's session? Each check is one line, `ok` or a problem with what to
 * do. Read as the sandbox's own identity, like everything else the agent's side does.
 */

export interface StatusLine {
  readonly ok: boolean;
  readonly text: string;
}

export interface SandboxStatus {
  readonly lines: readonly StatusLine[];
  readonly healthy: boolean;
}

const ok = (text: string): StatusLine => ({ ok: true, text });
const problem = (text: string): StatusLine => ({ ok: false, text });

function age(since: string, now: Date): string {
  const hours = (now.getTime() - Date.parse(since)) / 3_600_000;
  return hours < 48 ? `${hours.toFixed(1)} h` : `${(hours / 24).toFixed(1)} days`;
}

export interface StatusOptions {
  /** Live: the ledger of minted logins, whose leftovers in the cluster are named (support/targets/leftovers.ts). */
  readonly leftovers?: LedgerSweep;
  /** Revoke the leftover logins of runs not going on here (`rehearse status --revoke`), before naming what is left. */
  readonly revoke?: boolean;
  /** Where resets leave their marker: a killed reset's post-reset command runs first, and is said. */
  readonly stateDir?: string;
  readonly maxGoldenAgeHours?: number;
  readonly now?: Date;
}

const line = (entry: { readonly ok: boolean; readonly text: string }): StatusLine => (entry.ok ? ok(entry.text) : problem(entry.text));

export async function sandboxStatus(target: Target, options: StatusOptions = {}): Promise<SandboxStatus> {
  const now = options.now ?? new Date();
  const { golden, sandbox } = target;
  const lines: StatusLine[] = [];
  if (options.stateDir !== undefined) {
    const { postCommand } = target.config.reset;
    const killed = await finishKilledResets({
      stateDir: options.stateDir, database: sandbox.database, endpoint: target.endpointFor(sandbox.database), ...(postCommand === undefined ? {} : { postCommand }),
    }, target.progress);
    lines.push(...killed.map(line));
  }
  const goldenAge = (now.getTime() - Date.parse(golden.manifest.createdAt)) / 3_600_000;
  const goldenText = `the golden ${golden.manifest.root} of ${golden.manifest.database}, made ${golden.manifest.createdAt} (${age(golden.manifest.createdAt, now)} ago)`;
  lines.push(options.maxGoldenAgeHours !== undefined && goldenAge > options.maxGoldenAgeHours
    ? problem(`${goldenText}, is older than ${options.maxGoldenAgeHours} h: make it again (rehearse golden)`)
    : ok(goldenText));

  const login = await target.minter.mint(sandbox);
  try {
    const endpoint = target.endpointFor(sandbox.database);
    // Asked first, from the catalog: the session of a killed reset waits for (or holds) locks on every object of the
    // sandbox, and reading its rows would queue behind it until its lock_timeout.
    const orphans = await withClient(endpoint, login, sandbox.database, orphanedResetSessions);
    const state = orphans.length > 0 ? undefined : await stateOf(endpoint, login, sandbox);
    const drift = state?.drift ?? (await withClient(endpoint, login, sandbox.database, (client) => findDrift(client, { ownerRole: sandbox.ownerRole })));
    if (state === undefined) {
      lines.push(problem(`the sandbox's content is not hashed while a reset whose harness was killed holds its locks (below)`));
    } else if (state.root === golden.manifest.root) {
      lines.push(ok(`the sandbox is at the golden's content hash ${state.root}`));
    } else {
      const diff = await diffSnapshots(goldenState(golden.manifest, golden.dir, ROWS_DIR), state);
      const changed = diff.changes.map((change) => change.name);
      lines.push(problem(
        `the sandbox is not at the golden's content hash (${state.root}; ${changed.length} relation(s) differ: ${changed.slice(0, 5).join(', ')}${changed.length > 5 ? ', …' : ''}): ` +
          'rehearse diff golden sandbox shows how; rehearse reset puts the golden back',
      ));
    }
    lines.push(drift.length === 0
      ? ok(`no drift: everything in ${sandbox.database} is owned by ${sandbox.ownerRole} or is the provisioner's`)
      : problem(`drift a reset cannot see, so it refuses: ${describeDrift(drift).join('; ')} — drop it as its owner (whatever made it must SET ROLE ${sandbox.ownerRole} first; a dead harness login's: rehearse reset --drop-dead-drift)`));

    const sessions = await withClient(endpoint, login, sandbox.database, sessionsBlockingReset);
    const preCommand = target.config.reset.preCommand;
    if (sessions.length === 0) lines.push(ok(`no other session uses ${sandbox.database}`));
    else if (preCommand) lines.push(ok(`${sessions.length} other session(s) use ${sandbox.database}; the pre-reset command clears them before a reset: ${sessions.join('; ')}`));
    else lines.push(problem(`${sessions.length} other session(s) use ${sandbox.database}, so a reset would refuse: ${sessions.join('; ')} — stop them, or set ERP_REHEARSAL_PRE_RESET_COMMAND (e.g. scale Dolibarr to 0)`));
    if (orphans.length > 0) lines.push(problem(`${orphans.length} session(s) of a reset whose harness was killed still use ${sandbox.database}, so a reset would refuse: ${orphans.join('; ')}`));

    if (options.leftovers) {
      // This status run's own login is in the ledger too: leftoverLogins passes over it.
      if (options.revoke) lines.push(...(await revokeLeftoverLogins(options.leftovers, 'not in use', target.progress, login)).map(line));
      lines.push(...describeLeftovers(await leftoverLogins(options.leftovers, login)).map(line));
    }
  } finally {
    await target.minter.revoke(login);
  }
  return { lines, healthy: lines.every((line) => line.ok) };
}
