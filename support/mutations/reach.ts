/**
 * What a broken fence can reach: the features whose scenarios exercise it. A mutation run is limited to those (the
 * control, every feature unmutated, proves the rest green); `rehearse mutations --everywhere` runs every feature for
 * every mutation, to check these sets themselves.
 */

/** Every feature: a break of the golden or of the restore is met by every scenario that resets, and nearly all do. */
export const EVERY_FEATURE: readonly string[] = [];

/**
 * A snapshot blind to part of the state (sequences, column defaults): the scenarios that move that part and check that
 * a hash or a diff sees it, and those that compare hashes two processes took (the operator's commands and `rehearse
 * record` hash in processes of their own). Elsewhere both sides of every comparison are equally blind, or nothing
 * moved.
 */
export const HASH_SEES_A_CHANGE_FEATURES: readonly string[] = [
  'features/agent-rehearsal.feature',
  'features/examples/rehearse-supplier-invoice.feature',
  'features/operator-lifecycle.feature',
  'features/reset-round-trip.feature',
];

/**
 * A drift check blind to what a login role made: the scenarios that make an object without SET ROLE, and those after
 * them (in the run's order) that reset a sandbox still holding it.
 */
export const DRIFT_FEATURES: readonly string[] = [
  'features/reset-round-trip.feature',
  'features/template-clone-reset.feature',
  'features/vault-fence.feature',
];

/**
 * The privileges of PostgreSQL's roles and Vault's roles and policies: the scenarios that ask what a credential may
 * do. The rest use credentials only for what they are granted, which a wider grant does not change.
 */
export const PRIVILEGE_FEATURES: readonly string[] = [
  'features/provisioning.feature',
  'features/no-superuser.feature',
  'features/prod-undroppable.feature',
  'features/vault-fence.feature',
  'features/template-clone-reset.feature',
  'features/golden-identity.feature',
];

/**
 * The sandbox identity's Vault policy: the scenarios that ask Vault, as that identity, for what the policy must refuse
 * (prod's credentials and configuration, promote's credential). Elsewhere the identity asks only for its own
 * credentials, which a wider policy still grants.
 */
export const SANDBOX_POLICY_FEATURES: readonly string[] = ['features/vault-fence.feature'];

/** The live forms of the fences' attempts: the scenarios that make the attempts. */
export const LIVE_FORM_FEATURES: readonly string[] = ['features/prod-undroppable.feature', 'features/golden-identity.feature'];

/** Prod's Dolibarr and the keys it knows: the scenarios that send anything to a Dolibarr. */
export const DOLIBARR_FEATURES: readonly string[] = [
  'features/prod-undroppable.feature',
  'features/host-guard.feature',
  'features/promotion-gate.feature',
  'features/agent-rehearsal.feature',
  'features/examples/rehearse-supplier-invoice.feature',
];

/**
 * The host-guard's allow-list: the scenarios that aim the write tooling at a host other than the sandbox's (the guard's
 * rows, the agent's tooling sent to prod, the gateway's transport meeting prod's name, promote's own aimed at prod).
 * A scenario that writes to the sandbox alone sends what a wider allow-list lets through anyway.
 */
export const OFF_SANDBOX_FEATURES: readonly string[] = [
  'features/host-guard.feature',
  'features/promotion-gate.feature',
  'features/agent-rehearsal.feature',
];

/** The write tooling's redirects: the scenarios in which a Dolibarr answers with one (the guard's, the gateway's). */
export const REDIRECT_FEATURES: readonly string[] = ['features/host-guard.feature', 'features/agent-rehearsal.feature'];
