import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GOLDEN_FORMAT, type Golden, type GoldenManifest } from '../../support/lifecycle/golden';

/**
 * A golden's three files as `rehearse golden` writes them — an archive (not a real one: for what is refused before
 * any restore), its list, a manifest of prod `erp` made now, with the files' checksums — in `dir`.
 */
export function writeFakeGolden(dir: string, manifestFields: Partial<GoldenManifest> = {}): Golden {
  mkdirSync(dir, { recursive: true });
  const archive = Buffer.from(`PGDMP${'x'.repeat(4096)}`);
  const list = '1; 2615 2200 SCHEMA - public erp_role\n';
  const sha256 = (content: Buffer | string) => createHash('sha256').update(content).digest('hex');
  const manifest: GoldenManifest = {
    format: GOLDEN_FORMAT, root: 'f'.repeat(64), database: 'erp', ownerRole: 'erp_role', serverVersion: '15.18', createdAt: new Date().toISOString(),
    restoredEntries: 1, files: { 'golden.dump': sha256(archive), 'golden.list': sha256(list) }, entries: [], ...manifestFields,
  };
  writeFileSync(join(dir, 'golden.dump'), archive);
  writeFileSync(join(dir, 'golden.list'), list);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return { dir, archivePath: join(dir, 'golden.dump'), listPath: join(dir, 'golden.list'), manifest };
}
