import { expect } from 'chai';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SECRET_NAME } from '../env';
import { readChangeset } from '../promote/changeset';
import { expandPlaceholders } from './placeholders';
import { promoteInScenario, type PromotionScenario } from './promotion';
import type { Target } from './target';

/**
 * The agent's rehearsal gate's side of a scenario (features/agent-rehearsal.feature): the `rehearse record` line that
 * runs one of the agent commands of features/agents/ from a sandbox reset to the golden, what the changeset it wrote
 * holds, its promotion, and where the agent's key must never be.
 */

const AGENTS = join(__dirname, '..', '..', 'features', 'agents');
/** The changeset `rehearse record` writes, in the operator's directory. */
export const RECORDED_CHANGESET = 'changeset.json';

/**
 * The `rehearse record` line for an agent command of features/agents/, e.g. `misbehave.sh prod https://{prod}:{port}`
 * (placeholders as in support/targets/placeholders.ts), recorded from a sandbox reset to the golden (with `reset`) or
 * as it is.
 */
export async function agentRecordLine(target: Target, command: string, reset: boolean): Promise<string> {
  const [script, ...args] = (await expandPlaceholders(target, command)).split(/\s+/);
  const path = join(AGENTS, script!);
  if (!existsSync(path)) throw new Error(`no agent command ${script} in features/agents/`);
  return `rehearse record --title "${command.replace(/"/g, "'")}" ${reset ? '--reset ' : ''}--out ${RECORDED_CHANGESET} -- ${[path, ...args].join(' ')}`;
}

/** The changeset the operator's `rehearse record` wrote in `dir`: its writes as `METHOD path → status`, and its file's mode. */
export function recordedWrites(dir: string): { readonly writes: readonly string[]; readonly mode: number } {
  const path = join(dir, RECORDED_CHANGESET);
  const { changeset, computed } = readChangeset(path);
  expect(computed, 'the changeset written matches its own digest').to.equal(changeset.digest);
  return { writes: changeset.operations.map((operation) => `${operation.method} ${operation.path} → ${operation.status}`), mode: statSync(path).mode & 0o777 };
}

/** Promotes the changeset the operator's `rehearse record` wrote in `dir`, approved with its digest, as the gate promotes. */
export async function promoteRecorded(scenario: PromotionScenario & { changesetPath?: string; auditPath?: string }, dir: string): Promise<void> {
  scenario.changesetPath = join(dir, RECORDED_CHANGESET);
  scenario.auditPath = join(dir, 'promote-audit.ndjson');
  await promoteInScenario(scenario, { approve: readChangeset(scenario.changesetPath).changeset.digest });
}

/**
 * Where the agent's key and the operator's secrets must never be: the environment the agent's command was given
 * (dumped to `environmentFile`), the changeset, and everything the command line printed. Returns what was checked.
 */
export function expectNoSecretReached(target: Target, dir: string, environmentFile: string, printed: string, operatorEnv: Readonly<Record<string, string | undefined>>): string {
  const environment = readFileSync(join(dir, environmentFile), 'utf8');
  expect(environment, "the agent's command's environment").to.match(/^DOLIBARR_URL=http:\/\/127\.0\.0\.1:\d+$/m);
  const secrets = new Map<string, string>([["the agent's sandbox key", target.dolibarr.keys.sandboxAgent.reveal()]]);
  for (const [name, value] of Object.entries(operatorEnv)) if (SECRET_NAME.test(name) && value && value.length >= 6) secrets.set(name, value);
  const places = { "the agent's command's environment": environment, 'the changeset': readFileSync(join(dir, RECORDED_CHANGESET), 'utf8'), "rehearse record's output": printed };
  for (const [place, text] of Object.entries(places)) {
    for (const [secret, value] of secrets) expect(text.includes(value), `${secret} in ${place}`).to.equal(false);
  }
  return `${secrets.size} secret(s) (${[...secrets.keys()].join(', ')}) absent from ${Object.keys(places).join(', ')}`;
}
