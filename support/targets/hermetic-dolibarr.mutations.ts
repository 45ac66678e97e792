import { grantApiAccess, RIGHT } from '../hermetic/dolibarr-standin/server';
import { AGENT_PROMOTIONS } from '../lifecycle/reset.mutations';
import { withClient } from '../postgres/connect';
import { failing, replaceExport, type FenceMutation } from '../mutations/mutation';
import { DOLIBARR_FEATURES } from '../mutations/reach';
import * as hermeticDolibarr from './hermetic-dolibarr';

/**
 * Breaks of Dolibarr's own fence on prod (hermetic-dolibarr.ts): the rights and keys prod's users hold. Each is done
 * the way an administrator would do it by mistake, in prod's database, through a prod login.
 */

/** A member of staff of the fixture (users 1, 2 and 3 are the admin, the agent and promote's user). */
const STAFF_USER = 'user004';

/**
 * What reached prod through the broken fence is still there when the promotion gate runs: its promotions find prod's
 * thirdparties changed since the rehearsal started, and refuse them as a conflict (the agent's rehearsals' too).
 */
const PROD_CHANGED_UNDER_PROMOTION = failing(
  /PromotionRefused: prod's rows that the rehearsal changed have changed since it started/,
  "reviewed, approved by its digest, replayed on prod: prod's diff is the rehearsed diff",
  'the digest typed at the prompt approves it too',
  ...AGENT_PROMOTIONS,
);

const PROD_WRITE_REFUSED = /expected (200|201)|to equal 40[13]|HTTP 40[13]|refuses/;

export const prodAgentWritesThirdparties: FenceMutation = {
  name: 'prod-agent-writes-thirdparties',
  gate: 'prod-undroppable',
  reaches: DOLIBARR_FEATURES,
  breaks: "prod's ai_agent is given thirdparty create/modify and delete rights besides its read-only ones",
  apply: () =>
    replaceExport(hermeticDolibarr, 'installProdAgentKey', (install) => async (endpoint, minter, prod) => {
      const identity = await install(endpoint, minter, prod);
      const login = await minter.mint(prod);
      try {
        await withClient(endpoint, login, prod.database, (client) =>
          client.query(
            `INSERT INTO llx_user_rights (entity, fk_user, fk_id) SELECT 1, rowid, r FROM llx_user, unnest($1::int[]) AS r WHERE login = 'ai_agent'`,
            [[RIGHT.societeCreer, RIGHT.societeSupprimer]],
          ),
        );
      } finally {
        await minter.revoke(login);
      }
      return identity;
    }),
  expect: () => [
    ...failing(
      PROD_WRITE_REFUSED,
      "prod's own read-only agent key cannot create a thirdparty through prod's Dolibarr",
      "prod's own read-only agent key cannot update a thirdparty through prod's Dolibarr",
      "prod's own read-only agent key cannot delete a thirdparty through prod's Dolibarr",
    ),
    ...PROD_CHANGED_UNDER_PROMOTION,
  ],
};

export const sandboxKeyValidOnProd: FenceMutation = {
  name: 'sandbox-key-valid-on-prod',
  gate: 'prod-undroppable',
  reaches: DOLIBARR_FEATURES,
  breaks: "the sandbox agent's API key is also the key of a prod user with thirdparty and supplier-invoice write rights",
  apply: () =>
    replaceExport(hermeticDolibarr, 'startHermeticDolibarr', (start) => async (config, network, endpoint, minter, identity) => {
      const started = await start(config, network, endpoint, minter, identity);
      try {
        const login = await minter.mint(config.prod);
        try {
          await withClient(endpoint, login, config.prod.database, (client) =>
            grantApiAccess(client, {
              instanceId: identity.prodInstanceId,
              login: STAFF_USER,
              apiKey: identity.sandboxAgentKey.reveal(),
              rights: hermeticDolibarr.SANDBOX_AGENT_RIGHTS,
            }),
          );
        } finally {
          await minter.revoke(login);
        }
      } catch (error) {
        await started.close(); // the target's build stops what it started, not what this wrapper started
        throw error;
      }
      return started;
    }),
  expect: () => [
    ...failing(
      PROD_WRITE_REFUSED,
      "a key prod has never seen cannot create a thirdparty through prod's Dolibarr",
      "a key prod has never seen cannot create a supplier invoice through prod's Dolibarr",
    ),
    ...PROD_CHANGED_UNDER_PROMOTION,
  ],
};
