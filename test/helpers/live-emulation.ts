import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { loadConfig } from '../../support/config';
import { AUDIT_LOG_LINE_PREFIX, type LoggedStatement } from '../../support/postgres/statement-audit';
import { withClient } from '../../support/postgres/connect';
import { buildHermeticTarget } from '../../support/targets/hermetic';
import { liveEnvironmentOf } from '../../support/targets/live-environment';
import type { Target } from '../../support/targets/target';

/**
 * The hermetic stack dressed as a live one: a hermetic target (cluster, Vault and Dolibarr stand-ins, golden) whose
 * server logs every statement sent to prod (`log_statement=all` on database erp, DDL everywhere), and the
 * environment a live run needs to reach it exactly as it reaches the real stack: Vault's address and CA, the
 * workloads' service-account tokens, the databases, the golden files, and name overrides instead of DNS
 * (support/targets/live-environment.ts).
 */
export interface EmulatedLiveStack {
  readonly target: Target;
  readonly env: Record<string, string>;
  /** The server log up to now: waits until a marker sent last is in the file, so nothing logged before is missing. */
  serverLog(): Promise<string>;
  /** Whether a logged statement is one of serverLog's markers (sent to prod by the cluster's superuser). */
  isMarker(statement: LoggedStatement): boolean;
  close(): Promise<void>;
}

const MARKER_QUERY = 'SELECT $1::text';

export async function emulatedLiveStack(): Promise<EmulatedLiveStack> {
  const dir = mkdtempSync(join(tmpdir(), 'erp-rehearsal-emulation-'));
  // As provisioned today: the sandbox login can connect to prod, so every probe's live form really reaches it and
  // the audit has them all to judge; the layout's known gaps are waived, as an operator would (waivers.example.json).
  const config = loadConfig({ ...process.env, ERP_REHEARSAL_PG_PROVIDER: 'local', ERP_REHEARSAL_TARGET: 'hermetic', ERP_REHEARSAL_LAYOUT: 'as-provisioned' });
  const target = await buildHermeticTarget(config, () => undefined, {
    serverSettings: { log_line_prefix: AUDIT_LOG_LINE_PREFIX, log_statement: 'ddl' },
  });
  try {
    const { cluster, prod } = target;
    await withClient(cluster!.endpoint, cluster!.superuser, 'postgres', (client) => client.query(`ALTER DATABASE "${prod.database}" SET log_statement = 'all'`));
    const example = JSON.parse(readFileSync(join(__dirname, '..', '..', 'waivers.example.json'), 'utf8')) as { waivers: { expires: string }[] };
    const expires = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    writeFileSync(join(dir, 'waivers.json'), JSON.stringify({ waivers: example.waivers.map((waiver) => ({ ...waiver, expires })) }));
    const env: Record<string, string> = { ...(await liveEnvironmentOf(target, dir)), ERP_REHEARSAL_WAIVERS: join(dir, 'waivers.json') };
    const logPath = cluster!.serverLogPath;
    if (!logPath) throw new Error('the live emulation reads the local server log: run it with the local provider');
    let markers = 0;
    return {
      target,
      env,
      async serverLog() {
        const marker = `erp-rehearsal log marker ${++markers}`;
        await withClient(cluster!.endpoint, cluster!.superuser, prod.database, (client) => client.query(MARKER_QUERY, [marker]));
        // The server's stderr reaches the file through this process's event loop: wait for the marker, bounded.
        for (const deadline = Date.now() + 15_000; Date.now() < deadline; ) {
          const log = readFileSync(logPath, 'utf8');
          if (log.includes(marker)) return log;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        throw new Error(`the server log never showed ${marker}`);
      },
      isMarker: (statement) => statement.user === cluster!.superuser.user && statement.text.startsWith(MARKER_QUERY),
      async close() {
        await target.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await target.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** For a `describe`: the stack is built before its tests and closed after them; the function returned gives it. */
export function sharedEmulatedLiveStack(): () => EmulatedLiveStack {
  let stack: EmulatedLiveStack | undefined;
  before(async () => {
    stack = await emulatedLiveStack();
  });
  after(async () => {
    await stack?.close();
  });
  return () => {
    if (!stack) throw new Error('the emulated live stack was not built: its before hook failed');
    return stack;
  };
}
