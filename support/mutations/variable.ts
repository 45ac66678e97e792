/** The environment variable that names the mutation inject.ts installs in a gate run's process. */
export const MUTATION_VARIABLE = 'ERP_REHEARSAL_MUTATION';
