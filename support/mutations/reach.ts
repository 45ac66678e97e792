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

/** The write tooling's host-guard and redirects: every scenario that writes through it. */
export const WRITE_TOOLING_FEATURES: readonly string[] = [
  ...DOLIBARR_FEATURES,
  'features/reset-round-trip.feature',
  'features/operator-lifecycle.feature',
];
