import { diffSnapshots } from '../lifecycle/diff';
import { ROWS_DIR } from '../lifecycle/golden-dir';
import { goldenState } from '../lifecycle/snapshot-file';
import { describeDrift, sessionsBlockingReset } from '../lifecycle/reset';
import { stateOf } from '../lifecycle/state';
import { withClient } from '../postgres/connect';
import type { MintLedger } from '../vault/ledger';
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

export async function sandboxStatus(target: Target, options: { readonly ledger?: MintLedger; readonly maxGoldenAgeHours?: number; readonly now?: Date } = {}): Promise<SandboxStatus> {
  const now = options.now ?? new Date();
  const { golden, sandbox } = target;
  const lines: StatusLine[] = [];
  const goldenAge = (now.getTime() - Date.parse(golden.manifest.createdAt)) / 3_600_000;
  const goldenText = `the golden ${golden.manifest.root} of ${golden.manifest.database}, made ${golden.manifest.createdAt} (${age(golden.manifest.createdAt, now)} ago)`;
  lines.push(options.maxGoldenAgeHours !== undefined && goldenAge > options.maxGoldenAgeHours
    ? problem(`${goldenText}, is older than ${options.maxGoldenAgeHours} h: make it again (rehearse golden)`)
    : ok(goldenText));

  const login = await target.minter.mint(sandbox);
  try {
    const endpoint = target.endpointFor(sandbox.database);
    const state = await stateOf(endpoint, login, sandbox);
    if (state.root === golden.manifest.root) {
      lines.push(ok(`the sandbox is at the golden's content hash ${state.root}`));
    } else {
      const diff = await diffSnapshots(goldenState(golden.manifest, golden.dir, ROWS_DIR), state);
      const changed = diff.changes.map((change) => change.name);
      lines.push(problem(
        `the sandbox is not at the golden's content hash (${state.root}; ${changed.length} relation(s) differ: ${changed.slice(0, 5).join(', ')}${changed.length > 5 ? ', …' : ''}): ` +
          'rehearse diff golden sandbox shows how; rehearse reset puts the golden back',
      ));
    }
    lines.push(state.drift.length === 0
      ? ok(`no drift: everything in ${sandbox.database} is owned by ${sandbox.ownerRole} or is the provisioner's`)
      : problem(`drift a reset cannot see, so it refuses: ${describeDrift(state.drift).join('; ')} — drop it as its owner (whatever made it must SET ROLE ${sandbox.ownerRole} first)`));

    const sessions = await withClient(endpoint, login, sandbox.database, sessionsBlockingReset);
    const preCommand = target.config.reset.preCommand;
    if (sessions.length === 0) lines.push(ok(`no other session uses ${sandbox.database}`));
    else if (preCommand) lines.push(ok(`${sessions.length} other session(s) use ${sandbox.database}; the pre-reset command clears them before a reset: ${sessions.join('; ')}`));
    else lines.push(problem(`${sessions.length} other session(s) use ${sandbox.database}, so a reset would refuse: ${sessions.join('; ')} — stop them, or set ERP_REHEARSAL_PRE_RESET_COMMAND (e.g. scale Dolibarr to 0)`));

    if (options.ledger) {
      const outstanding = options.ledger.outstanding();
      const present = new Set(outstanding.length === 0 ? [] : await withClient(endpoint, login, sandbox.database, async (client) =>
        (await client.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolname = ANY($1)', [outstanding.map((entry) => entry.username)])).rows.map((row) => row.rolname)));
      // Our own login of this status run is in the ledger and present: not a leftover.
      const left = outstanding.filter((entry) => present.has(entry.username) && entry.username !== login.user);
      options.ledger.forget(outstanding.filter((entry) => !present.has(entry.username)).map((entry) => entry.username));
      lines.push(left.length === 0
        ? ok('no login role minted by the harness is left in the cluster')
        : problem(`login role(s) minted by the harness and not revoked are still in the cluster (a run in progress, or one that died): ${left.map((entry) => `${entry.username} (${entry.instance}, minted ${entry.mintedAt}, lease ${entry.leaseId})`).join('; ')} — revoke each lease (vault lease revoke LEASE_ID)`));
    }
  } finally {
    await target.minter.revoke(login);
  }
  return { lines, healthy: lines.every((line) => line.ok) };
}
