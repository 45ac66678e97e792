/**
 * What a broken fence can reach: the features whose scenarios exercise it. A mutation run is limited to those (the
 * control, every feature unmutated, proves the rest green); `rehearse mutations --everywhere` runs every feature for
 * every mutation, to check these sets themselves.
 */

/** Every feature: a break of the lifecycle (golden, reset, snapshot) is met by every scenario that resets or hashes. */
export const EVERY_FEATURE: readonly string[] = [];

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
