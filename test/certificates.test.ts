import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { perRunCertificate } from '../support/hermetic/certificates';

describe('the per-run CA', () => {
  it('signs a server certificate valid for every host given, and for nothing else', async () => {
    const made = await perRunCertificate(['erp.arcodange.lab', 'erp-sandbox.arcodange.lab']);
    const ca = new X509Certificate(made.ca);
    const server = new X509Certificate(made.cert);
    assert.equal(ca.ca, true);
    assert.equal(server.ca, false);
    assert.ok(server.verify(ca.publicKey), 'signed by the per-run CA');
    assert.equal(server.checkHost('erp.arcodange.lab'), 'erp.arcodange.lab');
    assert.equal(server.checkHost('erp-sandbox.arcodange.lab'), 'erp-sandbox.arcodange.lab');
    assert.equal(server.checkHost('evil.arcodange.lab'), undefined);
    assert.equal(server.checkIP('127.0.0.2'), undefined);
    assert.ok(server.checkPrivateKey((await import('node:crypto')).createPrivateKey(made.key)));
  });

  it('refuses names that are not plain DNS names', async () => {
    await assert.rejects(perRunCertificate(['erp.arcodange.lab/CN=evil']), TypeError);
    await assert.rejects(perRunCertificate([]), TypeError);
  });

  it('makes a new CA every run', async () => {
    const [a, b] = await Promise.all([perRunCertificate(['a.example']), perRunCertificate(['a.example'])]);
    assert.notEqual(a.ca, b.ca);
  });
});
