/**
 * The support code as a gate run loads it: Cucumber's own loading (`loadConfiguration` and `loadSupport` of a profile of
 * cucumber.js), so what the catalogue lists is exactly what a gate run can match.
 */
import type { ParameterType, ParameterTypeRegistry } from '@cucumber/cucumber-expressions';

/** The Cucumber profile whose support code the catalogue lists. */
export const PROFILE = 'default';

/** The parts of Cucumber's support code library the catalogue reads (the API types it as an opaque marker). */
export interface LoadedLibrary {
  readonly stepDefinitions: readonly {
    readonly keyword: string;
    readonly pattern: string | RegExp;
    readonly uri: string;
    readonly line: number;
    matchesStepName(text: string): boolean;
  }[];
  readonly parameterTypeRegistry: ParameterTypeRegistry & {
    lookupSource(parameterType: ParameterType<unknown>): { readonly uri: string; readonly line: number } | undefined;
  };
  readonly undefinedParameterTypes: readonly { readonly name: string; readonly expression: string }[];
}

const loaded = new Map<string, Promise<LoadedLibrary>>();

/**
 * The support code of the profile, loaded once per process: Node's module cache would leave a second load empty, since
 * the step files register their steps only when they are first required.
 */
export function loadLibrary(root: string): Promise<LoadedLibrary> {
  let library = loaded.get(root);
  if (!library) {
    library = (async () => {
      // Loaded on demand: Cucumber's API is slow to load, and only this needs it.
      const { loadConfiguration, loadSupport } = await import('@cucumber/cucumber/api');
      const environment = { cwd: root };
      const { runConfiguration } = await loadConfiguration({ profiles: [PROFILE] }, environment);
      const support = (await loadSupport(runConfiguration, environment)) as unknown as LoadedLibrary;
      if (support.undefinedParameterTypes.length > 0) {
        const missing = support.undefinedParameterTypes.map(({ name, expression }) => `{${name}} in "${expression}"`);
        throw new Error(`step expressions use parameter types nobody defined: ${missing.join('; ')} (define them in steps/parameter-types.ts)`);
      }
      return support;
    })();
    loaded.set(root, library);
  }
  return library;
}
