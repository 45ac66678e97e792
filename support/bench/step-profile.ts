/**
 * Where a gate run's time went: the total time of each step definition (and hook) over the run, read from
 * the run's Cucumber messages (NDJSON). What the benchmark shows when the suite is over its goal.
 */
import type { Envelope } from '@cucumber/messages';

export interface StepCost {
  /** The step definition's expression, or `hook <file>:<line>`. */
  readonly step: string;
  readonly runs: number;
  readonly seconds: number;
}

export interface StepProfile {
  /** Sum of every step's and hook's duration. */
  readonly stepSeconds: number;
  readonly scenarios: number;
  /** Most expensive first. */
  readonly steps: readonly StepCost[];
}

export function stepProfile(ndjson: string): StepProfile {
  const names = new Map<string, string>();
  const stepDefinitionOf = new Map<string, string>();
  const costs = new Map<string, { runs: number; seconds: number }>();
  let stepSeconds = 0;
  let scenarios = 0;
  for (const line of ndjson.split('\n')) {
    if (line.trim() === '') continue;
    const envelope = JSON.parse(line) as Envelope;
    if (envelope.stepDefinition) names.set(envelope.stepDefinition.id, envelope.stepDefinition.pattern.source);
    if (envelope.hook) {
      const where = envelope.hook.sourceReference;
      names.set(envelope.hook.id, `hook ${envelope.hook.name ?? `${where.uri}:${where.location?.line ?? '?'}`}`);
    }
    if (envelope.testCase) {
      for (const step of envelope.testCase.testSteps) stepDefinitionOf.set(step.id, step.stepDefinitionIds?.[0] ?? step.hookId ?? '');
    }
    if (envelope.testCaseFinished && !envelope.testCaseFinished.willBeRetried) scenarios += 1;
    if (envelope.testStepFinished) {
      const { seconds, nanos } = envelope.testStepFinished.testStepResult.duration;
      const elapsed = seconds + nanos / 1e9;
      stepSeconds += elapsed;
      const step = names.get(stepDefinitionOf.get(envelope.testStepFinished.testStepId) ?? '') ?? 'undefined step';
      const cost = costs.get(step) ?? { runs: 0, seconds: 0 };
      cost.runs += 1;
      cost.seconds += elapsed;
      costs.set(step, cost);
    }
  }
  const steps = [...costs].map(([step, cost]) => ({ step, ...cost })).sort((a, b) => b.seconds - a.seconds);
  return { stepSeconds, scenarios, steps };
}
