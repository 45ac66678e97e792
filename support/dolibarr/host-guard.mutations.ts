import { failing, replaceExport, type FenceMutation } from '../mutations/mutation';
import { OFF_SANDBOX_FEATURES } from '../mutations/reach';
import * as guard from './host-guard';

/**
 * Breaks of the host-guard's policy (host-guard.ts): the allow-list widened from the sandbox host to its whole
 * domain, the wildcard an operator might write to "allow the ERP's hosts".
 */

/** The policy as a `*.<domain>` allow-list would apply it to `host`: any name under the domain passes as the sandbox's. */
function widened(policy: guard.HostPolicy, target: unknown): guard.HostPolicy {
  const domain = policy.host.slice(policy.host.indexOf('.') + 1);
  let host: string;
  try {
    host = new URL(target instanceof URL ? target.href : String(target)).hostname.replace(/\.$/, '');
  } catch {
    return policy;
  }
  return host.endsWith(`.${domain}`) ? { ...policy, host } : policy;
}

export const allowListWidenedToDomain: FenceMutation = {
  name: 'host-guard-allows-domain',
  gate: 'host-guard',
  reaches: OFF_SANDBOX_FEATURES,
  breaks: 'the host-guard allows *.arcodange.lab instead of erp-sandbox.arcodange.lab alone',
  apply: () => {
    replaceExport(guard, 'checkTarget', (check) => (policy, target) => check(widened(policy, target), target));
    replaceExport(guard, 'checkDispatchTarget', (check) => (policy, origin, path) => check(widened(policy, origin), origin, path));
  },
  expect: () => [
    // Let through: the request leaves for prod (which answers), or for a name nothing resolves.
    ...failing(
      /to be an instance of HostGuardRefusal/,
      "the write tooling refuses prod's host, before any connection",
      "the write tooling refuses prod's host on 443, before any connection",
      "the write tooling refuses prod's host with a trailing dot, before any connection",
      "the write tooling refuses prod's host in capitals, before any connection",
      "the write tooling refuses prod's host under the sandbox's name, before any connection",
      'the write tooling refuses a longer name ending like it, before any connection',
      'the write tooling refuses a name starting with it, before any connection',
      "the agent's tooling cannot send the same write to prod itself: the only path to prod is promote",
    ),
    // Still refused, but only by the literal-spelling check: the guard no longer names the host WHATWG would connect to.
    ...failing(/the refused host and reason .*host-guard refused host "еrp-sandbox/, 'the write tooling refuses a Cyrillic е for the e, before any connection'),
  ],
};
