import type { Endpoint, Login } from '../postgres/cluster';
import { ident, withClient } from '../postgres/connect';
import type { InstanceNames } from '../naming';
import { cloneNames, MAINTENANCE_DATABASE } from '../naming/template-clone';

/**
 * What a clone reset that crashed leaves behind (template-clone.ts is not atomic), made with the clone login itself:
 * - `before the drop`: a whole `<sandbox>-next` beside the sandbox;
 * - `between the drop and the rename`: no sandbox, only `<sandbox>-next` (the sandbox renamed to it: the same shape).
 */
export type Interruption = 'before the drop' | 'between the drop and the rename';

export async function leaveInterruptedCloneReset(endpoint: Endpoint, login: Login, sandbox: InstanceNames, at: Interruption): Promise<void> {
  const names = cloneNames(sandbox);
  await withClient(endpoint, login, MAINTENANCE_DATABASE, async (client) => {
    await client.query(`SET ROLE ${ident(names.role)}`);
    if (at === 'before the drop') {
      await client.query(`CREATE DATABASE ${ident(names.nextDatabase)} OWNER ${ident(names.ownerRole)} TEMPLATE ${ident(names.goldenDatabase)}`);
    } else {
      await client.query(`ALTER DATABASE ${ident(names.sandboxDatabase)} RENAME TO ${ident(names.nextDatabase)}`);
    }
  });
}
