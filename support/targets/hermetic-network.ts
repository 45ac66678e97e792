import type { LookupFunction } from 'node:net';
import type { HarnessConfig } from '../config';
import { createCertificateAuthority, type CertificateAuthority } from '../hermetic/certificates';
import { loopbackLookup } from '../hermetic/dns';

/**
 * HERMETIC: where the stand-ins live. Each service gets its own loopback address under its real host name, and one
 * CA made for the run signs their certificates; clients are handed `lookup` and `ca`, exactly the two things that
 * differ from live (where DNS and the homelab CA do this).
 */
export interface HermeticNetwork {
  readonly authority: CertificateAuthority;
  readonly lookup: LookupFunction;
  readonly vaultHost: string;
  readonly addresses: { readonly prod: string; readonly sandbox: string; readonly vault: string };
}

export async function hermeticNetwork(config: HarnessConfig): Promise<HermeticNetwork> {
  const addresses = { prod: '127.0.0.2', sandbox: '127.0.0.3', vault: '127.0.0.4' } as const;
  const vaultHost = `vault.${config.domain}`;
  return {
    authority: await createCertificateAuthority(),
    lookup: loopbackLookup(new Map([[config.prod.host, addresses.prod], [config.sandbox.host, addresses.sandbox], [vaultHost, addresses.vault]])),
    vaultHost,
    addresses,
  };
}
