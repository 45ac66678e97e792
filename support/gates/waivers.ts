import { readFileSync } from 'node:fs';
import type { Waiver } from './outcomes';
import { tally, type GateReport, type ScenarioVerdict } from './report';

/**
 * Waivers: an operator who must live with a known failure for a while writes it down in a JSON file, with a
 * justification, an owner and an expiry date (waivers.example.json). The file is validated before the run starts; after
 * it, a failed scenario covered by a valid waiver is reported as waived, never as passed.
 */

export interface WaiverSet {
  /** The file the waivers came from, for messages. */
  readonly file: string;
  readonly waivers: readonly Waiver[];
}

/** The waiver file cannot be used; `problems` holds one line each. */
export class WaiverFileError extends Error {
  override readonly name = 'WaiverFileError';
  constructor(readonly file: string, readonly problems: readonly string[]) {
    super(problems.map((problem) => `waivers ${file}: ${problem}`).join('\n'));
  }
}

const TOP_LEVEL = new Set(['waivers', 'about']);
const FIELDS = new Set(['scenario', 'justification', 'expires', 'owner']);

/** Reads and validates a waiver file; throws WaiverFileError with every problem at once (the run does not start). */
export function loadWaivers(file: string): WaiverSet {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new WaiverFileError(file, [`cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`]);
  }
  return parseWaivers(text, file);
}

export function parseWaivers(text: string, file: string): WaiverSet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new WaiverFileError(file, [`is not JSON: ${(error as Error).message}`]);
  }
  if (!isObject(parsed)) throw new WaiverFileError(file, ['must be an object {"waivers": [...]}']);
  const problems: string[] = [];
  for (const key of Object.keys(parsed)) {
    if (!TOP_LEVEL.has(key)) problems.push(`unknown field "${key}" (allowed: ${[...TOP_LEVEL].join(', ')})`);
  }
  const list = parsed['waivers'];
  if (!Array.isArray(list)) {
    problems.push('"waivers" must be a list');
    throw new WaiverFileError(file, problems);
  }
  const waivers: Waiver[] = [];
  const seen = new Map<string, number>();
  list.forEach((entry: unknown, index) => {
    const where = `waiver ${index + 1}`;
    if (!isObject(entry)) {
      problems.push(`${where}: must be an object with scenario, justification, expires and owner`);
      return;
    }
    const named = typeof entry['scenario'] === 'string' && entry['scenario'].trim() !== '' ? `${where} ("${entry['scenario']}")` : where;
    const before = problems.length;
    for (const key of Object.keys(entry)) {
      if (!FIELDS.has(key)) problems.push(`${named}: unknown field "${key}" (allowed: ${[...FIELDS].join(', ')})`);
    }
    const text = (key: string, required: boolean): string | undefined => {
      const value = entry[key];
      if (value === undefined && !required) return undefined;
      if (typeof value !== 'string' || value.trim() === '') {
        problems.push(`${named}: ${value === undefined ? `missing ${key}` : `${key} must be a non-empty string`}`);
        return undefined;
      }
      return value;
    };
    // The exact scenario name as Cucumber prints it (a Scenario Outline row's with its placeholders filled in).
    const scenario = text('scenario', true);
    const justification = text('justification', true);
    const expires = text('expires', true);
    const owner = text('owner', false);
    if (expires !== undefined && !isCalendarDate(expires)) problems.push(`${named}: expires "${expires}" is not a date YYYY-MM-DD`);
    if (scenario !== undefined) {
      const first = seen.get(scenario);
      if (first !== undefined) problems.push(`${named}: waives the same scenario as waiver ${first}`);
      else seen.set(scenario, index + 1);
    }
    if (problems.length === before) {
      waivers.push({ scenario: scenario!, justification: justification!, expires: expires!, ...(owner === undefined ? {} : { owner }) });
    }
  });
  if (problems.length > 0) throw new WaiverFileError(file, problems);
  return { file, waivers };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCalendarDate(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return false;
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return date.toISOString().slice(0, 10) === text;
}

/** Today as YYYY-MM-DD in UTC. */
export function today(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}

/** A waiver is valid through its expiry date (UTC) and expired from the day after. */
export function isExpired(waiver: Waiver, on: string): boolean {
  return waiver.expires < on;
}

function by(waiver: Waiver): string {
  return waiver.owner === undefined ? '' : ` (owner ${waiver.owner})`;
}

/**
 * The report with the waivers applied: failed scenarios named by a valid waiver become `waived`; every expired
 * waiver is a run error and leaves its scenario failed; waivers that matched no failing scenario are listed (which is
 * not a failure).
 */
export function applyWaivers(report: GateReport, set: WaiverSet | undefined, on: string = today()): GateReport {
  if (!set || set.waivers.length === 0) return report;
  const runErrors = [...report.runErrors];
  const unused: Waiver[] = [...report.unusedWaivers];
  let scenarios: readonly ScenarioVerdict[] = report.scenarios;
  for (const waiver of set.waivers) {
    const matches = scenarios.filter((scenario) => scenario.scenario === waiver.scenario && scenario.outcome === 'failed');
    if (isExpired(waiver, on)) {
      runErrors.push(
        `waiver expired on ${waiver.expires}: "${waiver.scenario}"${by(waiver)} in ${set.file}` +
          `${matches.length > 0 ? ' — the scenario still fails and counts as failed' : ''}; fix the gap, or renew the waiver with a new justification`,
      );
      continue;
    }
    if (matches.length === 0) {
      unused.push(waiver);
      continue;
    }
    scenarios = scenarios.map((scenario) => (matches.includes(scenario) ? { ...scenario, outcome: 'waived', waiver } : scenario));
  }
  return tally(scenarios, runErrors, unused);
}
