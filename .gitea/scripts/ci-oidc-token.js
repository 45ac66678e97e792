#!/usr/bin/env node
// @ts-check
'use strict';
/*
 * The job's OIDC token for Vault's JWT auth, shared by the workflows that log in to Vault: requested for the audience
 * VAULT_ADDR (what the JWT roles bind), masked in the job's log before anything could print it, and handed to the
 * following steps as ERP_REHEARSAL_VAULT_JWT through GITHUB_ENV. Needs `permissions: id-token: write`.
 */
const { appendFile } = require('node:fs/promises');

/**
 * @param {NodeJS.ProcessEnv} env
 * @returns {Promise<number>} the exit status
 */
async function main(env) {
  const { ACTIONS_ID_TOKEN_REQUEST_URL: url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: bearer, VAULT_ADDR: audience, GITHUB_ENV: envFile } = env;
  if (!url || !bearer) {
    process.stderr.write('no OIDC token can be requested in this job: give it `permissions: id-token: write`\n');
    return 2;
  }
  if (!audience || !envFile) {
    process.stderr.write('VAULT_ADDR (the token\'s audience) and GITHUB_ENV must be set\n');
    return 2;
  }
  const response = await fetch(`${url}&audience=${encodeURIComponent(audience)}`, { headers: { Authorization: `bearer ${bearer}` } });
  if (!response.ok) {
    process.stderr.write(`the CI refused an OIDC token (HTTP ${response.status}): is OIDC enabled for Actions on this Gitea?\n`);
    return 1;
  }
  const { value } = /** @type {{ value?: unknown }} */ (await response.json());
  if (typeof value !== 'string' || value === '' || /\s/.test(value)) {
    process.stderr.write('the CI answered without an OIDC token\n');
    return 1;
  }
  process.stdout.write(`::add-mask::${value}\n`);
  await appendFile(envFile, `ERP_REHEARSAL_VAULT_JWT=${value}\n`, { mode: 0o600 });
  return 0;
}

main(process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`cannot obtain the CI's OIDC token: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
