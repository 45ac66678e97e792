/** The deliberately broken goldens a gate resets from, by the name a feature gives their defect (faults.ts makes them). */
import { join } from 'node:path';
import { corruptedGolden, nameScopedGolden } from './faults';
import type { Golden } from './golden';

const DEFECTS: Record<string, (golden: Golden, dir: string) => Promise<Golden>> = {
  'its scope by table name': nameScopedGolden,
  'a corrupted archive entry': corruptedGolden,
};

/** A copy of `golden` with `defect`, made in a directory of its own under `workDir`; an unknown defect names the known ones. */
export async function brokenGolden(golden: Golden, workDir: string, defect: string): Promise<Golden> {
  const make = DEFECTS[defect];
  if (!make) throw new Error(`no golden defect "${defect}"; known: ${Object.keys(DEFECTS).join(', ')}`);
  return make(golden, join(workDir, 'faulty', defect.replace(/\W+/g, '-')));
}
