import { probeCatalogue, type Fence } from '../postgres/probes';
import { userLookupSignature } from '../postgres/provision';
import type { ExpectedFailure, MutationContext } from './mutation';

/**
 * The rows of the prod-undroppable probe matrix a broken fence must turn red: exactly the probes whose `covers`
 * claims that fence (the claim test/probes-cluster.test.ts checks probe by probe; here the whole gate run must
 * agree). A probe that is no longer refused says ALLOWED or WRONG REASON, naming the fence that did not hold.
 */
export function probeScenarios(context: MutationContext, fence: Fence): ExpectedFailure[] {
  return probeCatalogue({ prod: context.prod, sandbox: context.sandbox, userLookup: userLookupSignature(context.layout) })
    .filter((probe) => probe.covers.includes(fence))
    .map((probe) => ({ scenario: `the sandbox credential cannot ${probe.attempt}`, reason: /ALLOWED|WRONG REASON/ }));
}
