import { ConfigError } from '../config';
import { isGreen, renderReport } from '../gates/report';
import { instanceNames, NamingError } from '../naming';
import { ClusterStartError, NoPostgresAvailableError } from '../postgres/cluster';
import { RevocationError } from '../postgres/minting';
import { interruptedBy, runTeardowns } from '../process/teardown';

const USAGE = `rehearse — prove that the ERP sandbox can never hurt production (ADR-0003)

Usage:
  rehearse [gates] [--profile NAME] [FEATURE_PATH...]
      Run the gates (every feature, or the given ones) against the target of the Cucumber profile
      (default: the hermetic target, a throwaway cluster the harness starts) and print the verdict.
  rehearse names APP [ENV] [--domain DOMAIN]
      Print every name ADR-0002's elision rule gives the instance (ENV defaults to prod).
  rehearse help

Exit status: 0 green, 1 a gate is red, 2 the run could not start (the message says what to do).
Configuration comes from ERP_REHEARSAL_* environment variables; see README.md.`;

/** Errors whose message is the whole story for the operator: no stack trace. */
const EXPECTED = [ConfigError, NoPostgresAvailableError, ClusterStartError, NamingError, RevocationError];

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  if (at < 0) return undefined;
  const [, value] = args.splice(at, 2);
  if (value === undefined || value.startsWith('--')) throw new UsageError(`${name} needs a value`);
  return value;
}

class UsageError extends Error {}

async function gates(args: string[]): Promise<number> {
  const profile = option(args, '--profile') ?? 'default';
  const unknown = args.find((arg) => arg.startsWith('--'));
  if (unknown) throw new UsageError(`unknown option ${unknown}`);
  const started = Date.now();
  const progress = (line: string) =>
    process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
  // Loaded on demand: Cucumber's API is most of the CLI's start-up time, and only this command needs it.
  const { runGates } = await import('../gates/run');
  const report = await runGates({ profile, paths: args, progress });
  process.stdout.write(`${renderReport(report)}\n`);
  return isGreen(report) ? 0 : 1;
}

function names(args: string[]): number {
  const domain = option(args, '--domain');
  const [app, env] = args;
  if (!app) throw new UsageError('names needs an APP');
  const derived = instanceNames(app, env, domain);
  for (const [key, value] of Object.entries(derived)) process.stdout.write(`${key.padEnd(10)} ${value}\n`);
  return 0;
}

export async function main(argv: readonly string[]): Promise<number> {
  const args = [...argv];
  const command = args[0] && !args[0].startsWith('--') && !args[0].includes('/') && !args[0].endsWith('.feature') ? args.shift()! : 'gates';
  try {
    switch (command) {
      case 'gates':
        return await gates(args);
      case 'names':
        return names(args);
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
    if (error instanceof UsageError) {
      process.stderr.write(`rehearse: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    if (EXPECTED.some((kind) => error instanceof kind)) {
      process.stderr.write(`rehearse: ${(error as Error).message}\n`);
      return 2;
    }
    throw error;
  } finally {
    await runTeardowns();
  }
}
