import { join } from 'node:path';
import type { InstanceNames } from '../naming';
import type { Endpoint, Login } from '../postgres/cluster';
import { withClient } from '../postgres/connect';
import { READ_ONLY_SESSION } from './golden';
import { takeSnapshot, type Snapshot } from './snapshot';

let taken = 0;

/**
 * The state of an instance's database as its owner role holds it, read through a member login in a
 * read-only session. With `workDir`, row images are kept so a later diff can name rows.
 */
export function stateOf(endpoint: Endpoint, login: Login, names: InstanceNames, workDir?: string): Promise<Snapshot> {
  const rowsDir = workDir ? join(workDir, 'snapshots', `${names.instance}-${++taken}`) : undefined;
  return withClient(
    endpoint,
    login,
    names.database,
    (client) => takeSnapshot(client, { ownerRole: names.ownerRole, rowsDir }),
    { options: READ_ONLY_SESSION },
  );
}
