import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { knownSupplierInvoice, writeSupplierInvoice } from '../erp/supplier-invoice';
import { NotApplicable } from '../not-applicable';
import type { NetworkLog } from '../process/connections';
import type { AuditRecord } from '../promote/audit';
import { readChangeset, type Changeset } from '../promote/changeset';
import { promoterNames } from '../naming/promoter';
import { promote, type PromoteOptions, type Promotion } from '../promote/promote';
import { RehearsalRecording } from '../promote/record';
import { promoteTargetOf } from './dress-rehearsal';
import { withdrawPromotion } from './promotion-faults';
import { recordingSite, resetForRehearsal } from './record';
import type { Target } from './target';

/**
 * The promotion gate's side of a scenario: the agent's rehearsal, recorded once per run from the golden; each
 * scenario's own copy of the changeset and its own promote audit file; and promote attempts made as the gate makes
 * them, their network traffic observed so that "prod's Dolibarr saw no connection" holds on any target.
 *
 * Where the gate may promote at all: a live run holds no promote identity (the nightly configures no
 * ERP_REHEARSAL_PROMOTE_TOKEN_FILE), so promote cannot obtain the prod-write credential there whatever its earlier
 * checks do, and the refusals that come before the credential are safe to prove live. A live run that holds promote's
 * identity could write prod: the gate does not promote there.
 */

/** Who the promotion gate is, in the promote audit. */
export const GATE_ACTOR = 'the promotion gate';

/** What a scenario of the promotion gate keeps: the World's fields of the same names. */
export interface PromotionScenario {
  readonly target: Target;
  changesetPath?: string;
  auditPath?: string;
  /** What the last promote returned, or the error it threw. */
  promotion?: Promotion | Error;
  /** The target promote runs against, when a step configured it otherwise (e.g. with the agent's identity). */
  promoteTarget?: Target;
  readonly undo: (() => void | Promise<void>)[];
  readonly traffic: NetworkLog;
}

/** Throws NotApplicable on a live target that holds promote's identity: there, promote could write prod. */
export function requireGateCannotWriteProd(target: Target): void {
  if (target.kind === 'live' && target.vault.promoter !== undefined) {
    throw new NotApplicable(
      `this live run holds promote's own identity (ERP_REHEARSAL_PROMOTE_TOKEN_FILE, Vault role ${promoterNames(target.prod).vaultRole}), so a promotion could write prod: ` +
        'only a human promotes, with rehearse promote; run the gates without that token',
    );
  }
}

/**
 * Records the agent's write of a supplier invoice with `lines` lines on the target's sandbox as a changeset at `path`:
 * the states are read through a sandbox login of the recording's own, the write sent through the agent's write tooling.
 */
async function recordRehearsal(target: Target, lines: number, path: string): Promise<void> {
  const reader = await target.minter.mint(target.sandbox);
  try {
    const recording = await RehearsalRecording.start(recordingSite(target, reader), {
      title: `a supplier invoice with ${lines} lines for a new thirdparty`,
      by: 'the agent',
    });
    try {
      await writeSupplierInvoice(recording.tooling(), knownSupplierInvoice(lines));
      await recording.finish(path);
    } finally {
      await recording.close();
    }
  } finally {
    await target.minter.revoke(reader);
  }
}

/** Resets the sandbox to the golden with the agent's overlay, and records the agent's write. */
async function recordFromGolden(target: Target, lines: number): Promise<string> {
  await resetForRehearsal(target, () => undefined);
  const path = join(target.workDir, `rehearsal-${lines}-lines.changeset.json`);
  await recordRehearsal(target, lines, path);
  return path;
}

// One recording per target and invoice size, shared by the run's scenarios: it lives as long as the target does.
const recordings = new WeakMap<Target, Map<number, Promise<string>>>();

function recordedOnce(target: Target, lines: number): Promise<string> {
  let byLines = recordings.get(target);
  if (!byLines) recordings.set(target, (byLines = new Map()));
  if (!byLines.has(lines)) byLines.set(lines, recordFromGolden(target, lines));
  return byLines.get(lines)!;
}

/**
 * Gives the scenario its own copy of the run's rehearsal of a supplier invoice with `lines` lines (recorded at the
 * first call) and an audit file of its own, in a directory of its own; returns the changeset.
 */
export async function rehearsalForScenario(scenario: PromotionScenario, lines: number): Promise<Changeset> {
  const { target } = scenario;
  requireGateCannotWriteProd(target);
  const recorded = await recordedOnce(target, lines);
  const dir = mkdtempSync(join(target.workDir, 'promotion-'));
  scenario.changesetPath = join(dir, 'changeset.json');
  scenario.auditPath = join(dir, 'promote-audit.ndjson');
  copyFileSync(recorded, scenario.changesetPath);
  return scenarioChangeset(scenario);
}

/** The scenario's changeset as its file holds it now. */
export function scenarioChangeset(scenario: PromotionScenario): Changeset {
  if (scenario.changesetPath === undefined) throw new Error("no rehearsal was recorded for this scenario: start it with the agent's rehearsal step");
  return readChangeset(scenario.changesetPath).changeset;
}

/**
 * Promotes the scenario's changeset as `rehearse promote` would with that approval, its traffic observed; the outcome
 * (the promotion, or the error promote threw) is kept on the scenario, and a promotion's rows are taken back from prod
 * after it.
 */
export async function promoteInScenario(scenario: PromotionScenario, approval: Pick<PromoteOptions, 'approve' | 'confirm'>): Promise<void> {
  const { target, changesetPath, auditPath } = scenario;
  requireGateCannotWriteProd(target);
  if (changesetPath === undefined || auditPath === undefined) throw new Error("no rehearsal was recorded for this scenario: start it with the agent's rehearsal step");
  try {
    const promotion = await scenario.traffic.observe(() =>
      promote(promoteTargetOf(scenario.promoteTarget ?? target), { changesetPath, auditPath, ...approval, who: GATE_ACTOR }));
    scenario.promotion = promotion;
    scenario.undo.push(() => withdrawPromotion(target, promotion));
  } catch (error) {
    scenario.promotion = error as Error;
  }
}

/** The scenario's promote audit trail, one record per attempt, oldest first. */
export function scenarioAudit(scenario: PromotionScenario): AuditRecord[] {
  if (scenario.auditPath === undefined) throw new Error("no rehearsal was recorded for this scenario: start it with the agent's rehearsal step");
  return readFileSync(scenario.auditPath, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as AuditRecord);
}
