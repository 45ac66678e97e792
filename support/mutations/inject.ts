/**
 * Installs one fence mutation in a gate run's process: loaded by the mutation runner with `node --require`, before
 * the CLI, with the mutation named by ERP_REHEARSAL_MUTATION. Nothing else loads this file. A mutation breaks a fence,
 * which only a throwaway cluster may see broken: the process refuses to build a live target from then on, whatever
 * its command line asks.
 */
import { loadConfig } from '../config';
import * as live from '../targets/live';
import { mutationNamed } from './catalogue';
import { replaceExport } from './mutation';
import { MUTATION_VARIABLE } from './variable';

const name = process.env[MUTATION_VARIABLE];
if (name) {
  const config = loadConfig();
  if (config.target !== 'hermetic') throw new Error(`${MUTATION_VARIABLE} is set: fence mutations run on the hermetic target only, not on ${config.target}`);
  replaceExport(live, 'buildLiveTarget', () => async () => {
    throw new Error(`fence mutation ${name} is installed in this process: it may not build a live target`);
  });
  mutationNamed(name).apply({ prod: config.prod, sandbox: config.sandbox, layout: config.layout });
  // This process keeps TypeScript's output, which the mutation needs; the commands its scenarios start carry no
  // mutation, so they take the faster transpiler (bin/register.js), as in any gate run.
  delete process.env.ERP_REHEARSAL_TRANSPILER;
  process.stderr.write(`[mutation] ${name} installed: the gates run with this fence broken\n`);
}
