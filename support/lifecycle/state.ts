import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { InstanceNames } from '../naming';
import type { Endpoint, Login } from '../postgres/cluster';
import { connect, withClient } from '../postgres/connect';
import { READ_ONLY_SESSION } from './golden';
import { snapshotProgress } from './progress';
import { entriesOf, takeSnapshot, type Snapshot, type SnapshotEntry, type SnapshotSessions } from './snapshot';

let taken = 0;

/**
 * The state of an instance's database as its owner role holds it, read through a member login in a
 * read-only session. With `workDir`, row images are kept so a later diff can name rows. Large tables are
 * hashed on one session per core, all reading the same MVCC snapshot.
 */
export function stateOf(endpoint: Endpoint, login: Login, names: InstanceNames, workDir?: string, everySecond?: (line: string) => void): Promise<Snapshot> {
  return stateWithRowsIn(endpoint, login, names, workDir ? join(workDir, 'snapshots', `${names.instance}-${++taken}`) : undefined, everySecond);
}

/** The same, its row images (if `rowsDir` is given) written exactly there, e.g. beside a snapshot file. */
export function stateWithRowsIn(endpoint: Endpoint, login: Login, names: InstanceNames, rowsDir: string | undefined, everySecond?: (line: string) => void): Promise<Snapshot> {
  return withClient(
    endpoint,
    login,
    names.database,
    (client) =>
      takeSnapshot(client, {
        ownerRole: names.ownerRole,
        rowsDir,
        parallel: snapshotSessions(endpoint, login, names),
        ...(everySecond ? { onTable: snapshotProgress(names.database, everySecond) } : {}),
      }),
    { options: READ_ONLY_SESSION },
  );
}

/** The entries `keys` names (entriesOf), as stateOf's snapshot would hold them, read through a member login in a read-only session. */
export function entriesIn(endpoint: Endpoint, login: Login, names: InstanceNames, keys: readonly string[]): Promise<Map<string, SnapshotEntry>> {
  return withClient(endpoint, login, names.database, (client) => entriesOf(client, names.ownerRole, keys), { options: READ_ONLY_SESSION });
}

/** One read-only session per core for a snapshot's large tables, as the same login. */
export function snapshotSessions(endpoint: Endpoint, login: Login, names: InstanceNames): SnapshotSessions {
  return { sessions: availableParallelism(), connect: () => connect(endpoint, login, names.database, { options: READ_ONLY_SESSION }) };
}
