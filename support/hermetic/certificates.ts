/**
 * HERMETIC: the per-run certificate authority. The live stack's hosts carry certificates of the homelab CA; the
 * hermetic stand-ins carry certificates of a CA made for this run only, so the clients verify TLS exactly as they
 * do live (no `rejectUnauthorized: false` anywhere). Made with openssl; nothing stays on disk, and the CA's own key
 * is discarded once the server certificate is signed.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ServerCertificate {
  /** PEM of the per-run CA: what clients trust. */
  readonly ca: string;
  /** PEM key and certificate of the server, valid for every host name given. */
  readonly key: string;
  readonly cert: string;
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

/** A fresh CA, and a server certificate it signed for `hosts` (DNS subjectAltNames), valid for two days. */
export async function perRunCertificate(hosts: readonly string[]): Promise<ServerCertificate> {
  if (hosts.length === 0 || hosts.some((host) => !/^[a-z0-9.-]+$/i.test(host))) {
    throw new TypeError(`perRunCertificate: host names must be plain DNS names, got ${JSON.stringify(hosts)}`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'erp-rehearsal-ca-'));
  try {
    await openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', '/CN=erp-rehearsal per-run CA', '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-keyout', 'ca.key', '-out', 'ca.pem']);
    await openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-subj', `/CN=${hosts[0]}`, '-keyout', 'server.key', '-out', 'server.csr']);
    await writeFile(join(dir, 'server.ext'), [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=${hosts.map((host) => `DNS:${host}`).join(',')}`,
    ].join('\n'));
    await openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
      '-days', '2', '-extfile', 'server.ext', '-out', 'server.pem']);
    const [ca, key, cert] = await Promise.all(['ca.pem', 'server.key', 'server.pem'].map((file) => readFile(join(dir, file), 'utf8')));
    return { ca: ca!, key: key!, cert: cert! };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
