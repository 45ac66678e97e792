import type { WriteExchange } from '../dolibarr/client';
import { startGateway } from '../gateway/server';
import { stateOf } from '../lifecycle/state';
import type { Login } from '../postgres/cluster';
import type { MintedLogin } from '../postgres/minting';
import type { Changeset, RecordedOperation } from '../promote/changeset';
import { RehearsalRecording, type RecordingSite } from '../promote/record';
import { resetTargetSandbox } from './reset';
import type { Target } from './target';
import { agentWriteTooling } from './write-tooling';

/**
 * An agent's session recorded on a target (`rehearse record`): the sandbox optionally reset to the golden with the
 * agent's overlay, its state before, the recording gateway in front of the sandbox's Dolibarr with the agent's key
 * from the target, and, once the session is over, the state after and the changeset.
 */

export interface AgentRecordingOptions {
  readonly title: string;
  /** Who recorded it (OS user or CI actor). */
  readonly by: string;
  /** Reset the sandbox to the golden and apply the agent's overlay first. */
  readonly reset: boolean;
  readonly progress: (line: string) => void;
}

export interface AgentRecording {
  /** The gateway's URL: the agent's command's DOLIBARR_URL. */
  readonly url: string;
  /** The writes recorded so far. */
  readonly operations: readonly RecordedOperation[];
  /** What the gateway refused so far, a line each. */
  readonly refusals: readonly string[];
  /** Stops the gateway, takes the state after, and writes the changeset to `path`. */
  finish(path: string): Promise<Changeset>;
  /** Stops the gateway if still up and gives back the recording's sandbox login. Safe to call twice. */
  close(): Promise<void>;
}

/** Resets the target's sandbox to the golden with a sandbox login of its own, then applies the agent's overlay. */
export async function resetForRehearsal(target: Target, progress: (line: string) => void): Promise<void> {
  const login = await target.minter.mint(target.sandbox);
  try {
    await resetTargetSandbox(target, login, { progress });
    await target.dolibarr.applySandboxOverlay();
  } finally {
    await target.minter.revoke(login);
  }
}

/** Where a rehearsal is recorded on the target: its states read through `reader`, its writes sent by the agent's tooling. */
export function recordingSite(target: Target, reader: Login): RecordingSite {
  const { sandbox, prod } = target;
  return {
    sandbox,
    prod,
    sandboxState: () => stateOf(target.endpointFor(sandbox.database), reader, sandbox, target.workDir),
    tooling: (onWrite) => agentWriteTooling(target, { onWrite }),
  };
}

export async function startAgentRecording(target: Target, options: AgentRecordingOptions): Promise<AgentRecording> {
  const { sandbox, dolibarr } = target;
  const { progress } = options;
  if (options.reset) {
    progress(`resetting ${sandbox.database} to the golden ${target.golden.manifest.root.slice(0, 12)}, then the agent's overlay`);
    await resetForRehearsal(target, progress);
  }
  const reader: MintedLogin = await target.minter.mint(sandbox);
  let gateway: Awaited<ReturnType<typeof startGateway>> | undefined;
  let recording: RehearsalRecording | undefined;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await gateway?.close();
    await recording?.close();
    await target.minter.revoke(reader);
  };
  try {
    progress(`the sandbox's state before (${sandbox.database})`);
    recording = await RehearsalRecording.start(recordingSite(target, reader), { title: options.title, by: options.by });
    const recorder = recording;
    gateway = await startGateway({
      sandbox,
      url: dolibarr.sandbox.url,
      port: dolibarr.port,
      apiKey: dolibarr.keys.sandboxAgent.reveal(),
      ca: dolibarr.ca,
      ...(dolibarr.lookup ? { lookup: dolibarr.lookup } : {}),
      onWrite: (exchange: WriteExchange) => {
        recorder.recordWrite(exchange);
        progress(`recorded ${exchange.method} ${exchange.path} → ${exchange.status}`);
      },
      onRefusal: (line) => progress(`gateway refused ${line}`),
    });
  } catch (error) {
    await close();
    throw error;
  }
  const started = gateway;
  const recorder = recording;
  return {
    url: started.url,
    get operations() {
      return recorder.operations;
    },
    refusals: started.refusals,
    async finish(path) {
      await started.close();
      progress(`the sandbox's state after, and the diff`);
      return recorder.finish(path);
    },
    close,
  };
}
