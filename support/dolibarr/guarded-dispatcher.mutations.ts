import { Agent, interceptors } from 'undici';
import { failing, replaceExport, type FenceMutation } from '../mutations/mutation';
import { REDIRECT_FEATURES } from '../mutations/reach';
import * as dispatcher from './guarded-dispatcher';

/**
 * Breaks of the guarded dispatcher (guarded-dispatcher.ts): redirects followed, with the guard checking the first
 * request only — the per-hop check is what this fence is.
 */

export const redirectsFollowedUnchecked: FenceMutation = {
  name: 'redirects-followed-unchecked',
  gate: 'host-guard',
  reaches: REDIRECT_FEATURES,
  breaks: 'the write tooling follows redirects, and the host-guard checks only the first request, not each hop',
  apply: () =>
    replaceExport(dispatcher, 'guardedDispatcher', () => (policy, options = {}) =>
      new Agent(options.connect === undefined ? {} : { connect: options.connect }).compose(
        interceptors.redirect({ maxRedirections: options.maxRedirections ?? 5 }),
        dispatcher.hostGuardInterceptor(policy, false),
      ),
    ),
  expect: () => failing(/redirect|HostGuardRefusal|connection/, 'a redirect from the sandbox to prod is refused, never followed'),
};
