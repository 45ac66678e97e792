/**
 * Whatever the harness starts, it stops: at the end of a run, on failure, and on SIGINT/SIGTERM.
 *
 * Each resource registers an async `stop` (the orderly path) and a synchronous `lastResort` (run from
 * the process 'exit' event, where nothing asynchronous can happen any more: kill a child, remove a
 * directory). Resources stop in reverse order of registration, like a stack of `finally` blocks.
 */

export interface Teardown {
  readonly name: string;
  stop(): Promise<void>;
  lastResort?(): void;
}

const stack: Teardown[] = [];
let signalsInstalled = false;
let draining: Promise<void> | undefined;
let interruption: NodeJS.Signals | undefined;

/** The signal that interrupted the run, if one did: errors after it are its consequence, not findings. */
export function interruptedBy(): NodeJS.Signals | undefined {
  return interruption;
}

export function registerTeardown(teardown: Teardown): () => void {
  installSignalHandlers();
  stack.push(teardown);
  return () => forget(teardown);
}

function forget(teardown: Teardown): void {
  const at = stack.indexOf(teardown);
  if (at >= 0) stack.splice(at, 1);
}

/**
 * Stops every registered resource, newest first; reports failures without stopping the rest. A resource
 * stays registered until its stop has finished, so a crash in the middle still reaches its last resort.
 */
export function runTeardowns(): Promise<void> {
  // The signal handler and the interrupted main flow may both ask: the second waits for the first.
  draining ??= drain().finally(() => (draining = undefined));
  return draining;
}

async function drain(): Promise<void> {
  for (const teardown of [...stack].reverse()) {
    // Its owner stopped it meanwhile (a build that failed under the signal stops what it started): not twice.
    if (!stack.includes(teardown)) continue;
    try {
      await teardown.stop();
    } catch (error) {
      process.stderr.write(`teardown of ${teardown.name} failed: ${(error as Error).message}\n`);
      teardown.lastResort?.();
    } finally {
      forget(teardown);
    }
  }
}

/** Who holds SIGINT/SIGTERM back now (holdSignals), and the signal held. */
let holder: ((signal: NodeJS.Signals) => void) | undefined;
let held: NodeJS.Signals | undefined;

/**
 * Until the returned release is called, SIGINT and SIGTERM do not stop the process: `onSignal` is told and the work
 * stops at a boundary of its own (promote, between two writes to prod). Released after a signal, the process stops as
 * that signal stops it.
 */
export function holdSignals(onSignal: (signal: NodeJS.Signals) => void): () => void {
  installSignalHandlers();
  holder = onSignal;
  return () => {
    holder = undefined;
    const signal = held;
    held = undefined;
    if (signal) stopOn(signal);
  };
}

function stopOn(signal: NodeJS.Signals): void {
  process.stderr.write(`\n${signal}: stopping what the harness started…\n`);
  void runTeardowns().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
}

function installSignalHandlers(): void {
  if (signalsInstalled) return;
  signalsInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const handler = () => {
      interruption = signal;
      if (!holder) return stopOn(signal);
      held ??= signal;
      holder(signal);
      process.once(signal, handler);
    };
    process.once(signal, handler);
  }
  process.once('exit', () => {
    for (const teardown of [...stack].reverse()) {
      try {
        teardown.lastResort?.();
      } catch {
        // Nothing more can be done while the process exits.
      }
    }
  });
}
