import type { ParallelAssignmentValidator } from '@cucumber/cucumber/lib/support_code_library_builder/types';

/**
 * Scenarios that change what every scenario shares — the sandbox's rows (a reset, a rehearsed write), prod (a
 * promotion), Vault's KV, a stand-in's behaviour — carry the tag `@serial` (on their feature or themselves). When
 * Cucumber runs in parallel (`cucumber-js --parallel N`), each of them runs alone: a reset must not wipe a rehearsal
 * another worker is checking, on a live target whose one sandbox every worker shares. Scenarios without the tag
 * (they only read) run alongside each other.
 */

export const SERIAL_TAG = '@serial';

const isSerial = (tags: readonly { readonly name: string }[]) => tags.some((tag) => tag.name === SERIAL_TAG);

export const serialScenarios: ParallelAssignmentValidator = (pickle, running) =>
  isSerial(pickle.tags) ? running.length === 0 : !running.some((other) => isSerial(other.tags));
