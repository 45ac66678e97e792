import { fixtureChunks, type FixtureOptions } from '../../fixtures/dolibarr';
import type { InstanceNames } from '../naming';
import type { Endpoint } from '../postgres/cluster';
import { ident, withClient } from '../postgres/connect';
import type { CredentialMinter } from '../postgres/minting';

export interface FixtureLoad {
  readonly chunks: number;
  readonly bytes: number;
}

/**
 * Loads the Dolibarr-shaped fixture into an instance's database the way the real install was made:
 * through a minted login role that `SET ROLE <owner role>`, so every object is owned by the owner role
 * and none by the ephemeral login (which is then revoked — a revocation that fails if it owns anything).
 * One transaction: a failed load leaves the database as it was.
 */
export async function loadFixtureAsOwner(
  endpoint: Endpoint,
  minter: CredentialMinter,
  names: InstanceNames,
  fixture: FixtureOptions,
): Promise<FixtureLoad> {
  const login = await minter.mint(names);
  const load = await withClient(endpoint, login, names.database, async (client) => {
    let chunks = 0;
    let bytes = 0;
    await client.query(`BEGIN; SET LOCAL ROLE ${ident(names.ownerRole)}`);
    try {
      for (const chunk of fixtureChunks(fixture)) {
        await client.query(chunk);
        chunks += 1;
        bytes += Buffer.byteLength(chunk);
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    }
    return { chunks, bytes };
  });
  await minter.revoke(login);
  return load;
}
