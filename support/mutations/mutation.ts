import type { InstanceNames } from '../naming';
import type { Layout } from '../postgres/provision';

/**
 * A fence mutation: one deliberate break of one fence, and the scenarios of the gates that must turn red because of
 * it, each for the expected reason: a gate that stays green when its fence is broken is worse than no gate. Each is a
 * small function next to the fence it breaks (`<fence>.mutations.ts`) that wraps one exported function of the library,
 * as a real misconfiguration or regression would break it; nothing in the library knows about mutations.
 */

export interface MutationContext {
  readonly prod: InstanceNames;
  readonly sandbox: InstanceNames;
  /** The layout the gates run on: the hardened one, where every scenario passes unmutated. */
  readonly layout: Layout;
}

/** A scenario the break must turn red, and a pattern its failure message must match (the right reason). */
export interface ExpectedFailure {
  /** The scenario's name as the report shows it (Scenario Outline rows expanded). */
  readonly scenario: string;
  readonly reason: RegExp;
}

export interface FenceMutation {
  /** Short, unique, kebab-case: how the runner and the report name it. */
  readonly name: string;
  /** The ADR-0003 gate whose fence it breaks. */
  readonly gate: string;
  /** The break, in an operator's words. */
  readonly breaks: string;
  /**
   * The feature files whose scenarios exercise the broken fence (reach.ts); empty: every feature. The control run
   * proves every other scenario green on the same layout; `--everywhere` runs every feature anyway.
   */
  readonly reaches: readonly string[];
  /**
   * Installs the break in this process. Called once, before the target is built, only in a gate run the mutation
   * runner starts (inject.ts, through `node --require`) on the hermetic target.
   */
  readonly apply: (context: MutationContext) => void;
  /** Every scenario that must fail because of it; every other scenario must still pass. */
  readonly expect: (context: MutationContext) => readonly ExpectedFailure[];
}

/** One scenario per name, all failing for the same reason. */
export function failing(reason: RegExp, ...scenarios: readonly string[]): ExpectedFailure[] {
  return scenarios.map((scenario) => ({ scenario, reason }));
}

/**
 * Replaces `module[name]` with `wrap(original)` for the rest of the process. Every caller in the library reaches an
 * export through its module object (CommonJS, `(0, module.fn)(…)`), so the replacement is what they call from then
 * on. Throws if the export is missing or cannot be replaced, so a mutation that no longer fits the code it breaks
 * says so rather than silently breaking nothing.
 */
export function replaceExport<M extends object, K extends keyof M & string>(module: M, name: K, wrap: (original: M[K]) => M[K]): void {
  const descriptor = Object.getOwnPropertyDescriptor(module, name);
  if (descriptor?.get) throw new Error(`mutation: the export ${name} is a getter (SWC's CommonJS output): run with ERP_REHEARSAL_TRANSPILER=typescript (bin/register.js)`);
  if (!descriptor || typeof descriptor.value !== 'function') throw new Error(`mutation: ${name} is not an exported function of its module`);
  if (!descriptor.writable) throw new Error(`mutation: the export ${name} cannot be replaced`);
  (module as Record<string, unknown>)[name] = wrap(descriptor.value as M[K]);
}
