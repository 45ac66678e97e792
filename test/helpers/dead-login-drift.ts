/**
 * Test only (test/kill-points.test.ts): a harness that makes drift and is then killed. Built as a live run builds its
 * target (the live environment of the kill points' stack), it mints a sandbox login through Vault — noted in the
 * ledger as the harness notes every login — makes a table as that login without SET ROLE (drift the owner role's
 * DROP OWNED leaves, and that keeps Vault from dropping the login), says so, and waits to be SIGKILLed.
 */
import { loadConfig } from '../../support/config';
import { withClient } from '../../support/postgres/connect';
import { buildLiveTarget } from '../../support/targets/live';

export const DRIFT_TABLE = 'kill_points_drift';

async function main(): Promise<void> {
  const target = await buildLiveTarget(loadConfig(), (line) => process.stderr.write(`${line}\n`));
  const { sandbox } = target;
  const login = await target.minter.mint(sandbox);
  await withClient(target.endpointFor(sandbox.database), login, sandbox.database, (client) => client.query(`CREATE TABLE public.${DRIFT_TABLE} (id integer)`));
  process.stdout.write(`drift made by ${login.user}\n`);
  await new Promise(() => undefined);
}

if (require.main === module) {
  main().catch((error: Error) => {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 1;
  });
}
