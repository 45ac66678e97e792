/**
 * HERMETIC: the per-run certificate authority. The live stack's hosts carry certificates of the homelab CA; the
 * hermetic stand-ins carry certificates of a CA made for this run only, so the clients verify TLS exactly as they
 * do live (no `rejectUnauthorized: false` anywhere). Made with openssl; nothing stays on disk: the CA's key lives in
 * this process only, and every server certificate gets its own key.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ServerCertificate {
  /** PEM key and certificate of one server, valid for the host names it was issued for. */
  readonly key: string;
  readonly cert: string;
}

export interface CertificateAuthority {
  /** PEM of the CA's certificate: what clients trust. */
  readonly ca: string;
  /** A server certificate for `hosts` (DNS subjectAltNames), signed by this CA, valid for two days. */
  issue(hosts: readonly string[]): Promise<ServerCertificate>;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  try {
    await run('openssl', args, { cwd: dir });
  } catch (error) {
    const { code, stderr } = error as { code?: unknown; stderr?: string };
    if (code === 'ENOENT') throw new Error('openssl is not installed: the hermetic target needs it to make its per-run CA (apt-get install openssl)');
    throw new Error(`openssl ${args[0]} failed: ${String(stderr ?? (error as Error).message).trim()}`);
  }
}

/** Runs `work` in a private temporary directory, removed afterwards whatever happens. */
async function inTempDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'erp-rehearsal-ca-'));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export async function createCertificateAuthority(): Promise<CertificateAuthority> {
  const { caKey, ca } = await inTempDir(async (dir) => {
    await openssl(dir, ['req', '-x509', ...EC, '-days', '2', '-subj', '/CN=erp-rehearsal per-run CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      '-keyout', 'ca.key', '-out', 'ca.pem']);
    return { caKey: await readFile(join(dir, 'ca.key'), 'utf8'), ca: await readFile(join(dir, 'ca.pem'), 'utf8') };
  });
  return {
    ca,
    issue: (hosts) => {
      if (hosts.length === 0 || hosts.some((host) => !/^[a-z0-9.-]+$/i.test(host))) {
        return Promise.reject(new TypeError(`issue: host names must be plain DNS names, got ${JSON.stringify(hosts)}`));
      }
      return inTempDir(async (dir) => {
        await writeFile(join(dir, 'ca.key'), caKey, { mode: 0o600 });
        await writeFile(join(dir, 'ca.pem'), ca);
        await openssl(dir, ['req', ...EC, '-subj', `/CN=${hosts[0]}`, '-keyout', 'server.key', '-out', 'server.csr']);
        await writeFile(join(dir, 'server.ext'), [
          'basicConstraints=critical,CA:FALSE',
          'keyUsage=critical,digitalSignature',
          'extendedKeyUsage=serverAuth',
          `subjectAltName=${hosts.map((host) => `DNS:${host}`).join(',')}`,
        ].join('\n'));
        await openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
          '-days', '2', '-extfile', 'server.ext', '-out', 'server.pem']);
        return { key: await readFile(join(dir, 'server.key'), 'utf8'), cert: await readFile(join(dir, 'server.pem'), 'utf8') };
      });
    },
  };
}
