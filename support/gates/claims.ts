import type { ProdSettlement } from '../targets/prod-watch';
import { tally, type GateReport, type ScenarioVerdict } from './report';

/**
 * Claims only the end of the run can settle: on a live target "prod's content hash is unchanged" is judged by the
 * run's second and last hash of prod (support/targets/prod-watch.ts). The step attaches the claim (CLAIM_MEDIA_TYPE)
 * and passes; here the claim is settled, and a scenario whose claim fails is failed, with what moved.
 */

/** The one claim there is today. */
export const PROD_UNCHANGED = "prod's content hash is unchanged at the end of the run";

/**
 * The report with every claimed scenario settled by `settlement`: undefined when the run recorded nothing of prod, an
 * Error when the last hash could not be taken — a claim that cannot be settled is a failed claim.
 */
export function settleClaims(report: GateReport, settlement: ProdSettlement | Error | undefined): GateReport {
  if (!report.scenarios.some((scenario) => scenario.claims.length > 0)) return report;
  if (settlement === undefined || settlement instanceof Error) {
    const why = settlement ? `prod's content hash could not be read at the end of the run: ${settlement.message}` : 'the run recorded no hash of prod to compare with';
    const scenarios = report.scenarios.map((scenario): ScenarioVerdict =>
      scenario.claims.includes(PROD_UNCHANGED) && scenario.outcome === 'passed'
        ? { ...scenario, status: 'FAILED', outcome: 'failed', problem: `failed at "${PROD_UNCHANGED}": ${why}`, detail: why }
        : scenario);
    return tally(scenarios, report.runErrors, report.unusedWaivers);
  }
  const unchanged = settlement.before === settlement.after;
  const scenarios = report.scenarios.map((scenario): ScenarioVerdict => {
    if (!scenario.claims.includes(PROD_UNCHANGED)) return scenario;
    if (unchanged) {
      return { ...scenario, evidence: [...scenario.evidence, `prod's content hash at the end of the run: ${settlement.after}, the one recorded`] };
    }
    if (scenario.outcome !== 'passed') return scenario;
    const detail = `prod's content hash changed during the run: ${settlement.before} → ${settlement.after}; changed: ${settlement.changed.join(', ') || 'no relation named'}`;
    return { ...scenario, status: 'FAILED', outcome: 'failed', problem: `failed at "${PROD_UNCHANGED}": ${detail}`, detail };
  });
  return tally(scenarios, report.runErrors, report.unusedWaivers);
}
