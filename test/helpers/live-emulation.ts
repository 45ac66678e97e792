import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { LookupFunction } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../support/config';
import { AUDIT_LOG_LINE_PREFIX } from '../../support/postgres/statement-audit';
import { withClient } from '../../support/postgres/connect';
import { buildHermeticTarget } from '../../support/targets/hermetic';
import type { Target } from '../../support/targets/target';

/**
 * The hermetic stack dressed as a live one: a hermetic target (cluster, Vault and Dolibarr stand-ins, golden) whose
 * server logs every statement sent to prod (`log_statement=all` on database erp, DDL everywhere), and the
 * environment a live run needs to reach it exactly as it reaches the real stack: Vault's address and CA, the
 * sandbox's service-account token, the databases, the golden files, and name overrides instead of DNS.
 */
export interface EmulatedLiveStack {
  readonly target: Target;
  readonly env: Record<string, string>;
  readonly logFile: string;
  close(): Promise<void>;
}

function resolve(lookup: LookupFunction, host: string): Promise<string> {
  return new Promise((done, fail) =>
    (lookup as unknown as (h: string, o: object, cb: (e: Error | null, a: string) => void) => void)(host, {}, (error, address) => (error ? fail(error) : done(address))));
}

export async function emulatedLiveStack(): Promise<EmulatedLiveStack> {
  const dir = mkdtempSync(join(tmpdir(), 'erp-rehearsal-emulation-'));
  chmodSync(dir, 0o777); // the server writes its log here, as the postgres OS user when the harness is root
  const config = loadConfig({ ...process.env, ERP_REHEARSAL_PG_PROVIDER: 'local', ERP_REHEARSAL_TARGET: 'hermetic' });
  const target = await buildHermeticTarget(config, () => undefined, {
    serverSettings: {
      logging_collector: 'on', log_directory: dir, log_filename: 'postgres.log', log_file_mode: '0644',
      log_line_prefix: AUDIT_LOG_LINE_PREFIX, log_statement: 'ddl',
    },
  });
  try {
    const { cluster, vault, dolibarr, golden, sandbox, prod } = target;
    await withClient(cluster!.endpoint, cluster!.superuser, 'postgres', (client) => client.query(`ALTER DATABASE "${prod.database}" SET log_statement = 'all'`));
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, vault.ca);
    const identity = vault.identity(sandbox);
    const tokenPath = identity.auth.method === 'kubernetes' ? identity.auth.tokenPath : undefined;
    if (!tokenPath) throw new Error('the hermetic sandbox identity is not a Kubernetes one');
    const vaultHost = new URL(vault.address).hostname;
    const hosts = [vaultHost, sandbox.host, prod.host];
    const addresses = await Promise.all(hosts.map((host) => resolve(vault.lookup!, host)));
    const { host, port } = cluster!.endpoint;
    const env: Record<string, string> = {
      ERP_REHEARSAL_TARGET: 'live',
      ERP_REHEARSAL_DOMAIN: config.domain,
      VAULT_ADDR: vault.address,
      VAULT_CACERT: caFile,
      ERP_REHEARSAL_VAULT_AUTH: 'kubernetes',
      ERP_REHEARSAL_VAULT_TOKEN_FILE: tokenPath,
      ERP_REHEARSAL_SANDBOX_DB_HOST: host, ERP_REHEARSAL_SANDBOX_DB_PORT: String(port), ERP_REHEARSAL_SANDBOX_DB_SSLMODE: 'disable',
      ERP_REHEARSAL_PROD_DB_HOST: host, ERP_REHEARSAL_PROD_DB_PORT: String(port), ERP_REHEARSAL_PROD_DB_SSLMODE: 'disable',
      ERP_REHEARSAL_GOLDEN_ARCHIVE: golden.archivePath,
      ERP_REHEARSAL_GOLDEN_LIST: golden.listPath,
      ERP_REHEARSAL_GOLDEN_MANIFEST: join(golden.dir, 'manifest.json'),
      ERP_REHEARSAL_DOLIBARR_CA: caFile,
      ERP_REHEARSAL_RESOLVE: hosts.map((name, at) => `${name}=${addresses[at]}`).join(','),
      ERP_REHEARSAL_REPORT_DIR: join(dir, 'reports'),
    };
    void dolibarr;
    return {
      target,
      env,
      logFile: join(dir, 'postgres.log'),
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
