import { instanceNames, NamingError, type InstanceNames } from './index';

/**
 * The names ADR-0002's rule gives (app, env) under `domain`, or the rule's refusal of a bad coordinate, kept rather than
 * thrown so a scenario can check it; any other error is thrown.
 */
export function namesOrRefusal(app: string, env: string, domain: string): { readonly names: InstanceNames } | { readonly refusal: NamingError } {
  try {
    return { names: instanceNames(app, env, domain) };
  } catch (error) {
    if (!(error instanceof NamingError)) throw error;
    return { refusal: error };
  }
}
