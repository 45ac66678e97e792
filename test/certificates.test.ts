import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { createCertificateAuthority } from '../support/hermetic/certificates';

describe('the per-run CA', () => {
  it('signs server certificates valid for the hosts given, and for nothing else', async () => {
    const authority = await createCertificateAuthority();
    const ca = new X509Certificate(authority.ca);
    const dolibarr = await authority.issue(['erp.arcodange.lab', 'erp-sandbox.arcodange.lab']);
    const vault = await authority.issue(['vault.arcodange.lab']);
    const server = new X509Certificate(dolibarr.cert);
    assert.equal(ca.ca, true);
    assert.equal(server.ca, false);
    assert.ok(server.verify(ca.publicKey), 'signed by the per-run CA');
    assert.ok(new X509Certificate(vault.cert).verify(ca.publicKey));
    assert.equal(server.checkHost('erp.arcodange.lab'), 'erp.arcodange.lab');
    assert.equal(server.checkHost('erp-sandbox.arcodange.lab'), 'erp-sandbox.arcodange.lab');
    assert.equal(server.checkHost('vault.arcodange.lab'), undefined);
    assert.equal(server.checkHost('evil.arcodange.lab'), undefined);
    assert.equal(server.checkIP('127.0.0.2'), undefined);
    assert.ok(server.checkPrivateKey(createPrivateKey(dolibarr.key)));
    assert.notEqual(dolibarr.key, vault.key, 'each server has its own key');
  });

  it('refuses names that are not plain DNS names', async () => {
    const authority = await createCertificateAuthority();
    await assert.rejects(authority.issue(['erp.arcodange.lab/CN=evil']), TypeError);
    await assert.rejects(authority.issue([]), TypeError);
  });

  it('is a new CA every run', async () => {
    const [a, b] = await Promise.all([createCertificateAuthority(), createCertificateAuthority()]);
    assert.notEqual(a.ca, b.ca);
  });
});
