/**
 * The template-clone feature's scenarios, by what a break of another fence does to them (features/template-clone-reset.feature).
 * No mutation of its own: the clone role's fences are broken by the provisioning and Vault mutations.
 */

/** The template-clone reset's scenarios that clone the golden database (features/template-clone-reset.feature). */
export const CLONE_RESETS = [
  "a clone reset brings a written sandbox back to the golden's content hash",
  'a clone reset refuses while another session uses the sandbox, and names it',
  'a clone reset interrupted before the drop is repaired by the next one',
  'a clone reset interrupted between the drop and the rename is repaired by the next one',
];

