import type { RecordedOperation } from './changeset';
import { firstNotSent, lastRecorded, movedSince, type JournalState, type RelationHashes } from './journal';
import { PromotionRefused } from './refusal';
import { IdMap, remapOperation, type ReplayRequest } from './replay-plan';

/**
 * Picking an unfinished promotion up from its journal, never replaying blindly. The check that prod still matches the
 * journal is prod's content hash of each relation the changeset changes, recorded after every operation that reached
 * prod and compared with prod's now: equal, prod holds exactly what the journal says reached it and nothing else
 * changed in those relations since — one read of prod, whatever the operations were. Reading the created objects back
 * through Dolibarr would prove only the first half, with a request to prod per object. The same comparison settles the
 * operation that was in flight: prod unchanged since the last one sent, it did not reach prod.
 */

/** An operation of an earlier run that reached prod, as it was sent, and prod's answer. */
export interface SentOperation extends ReplayRequest {
  readonly answer: unknown;
}

/** Where a resumed replay continues: the operation index (0-based), the id map rebuilt from prod's answers. */
export interface ResumePlan {
  readonly from: number;
  readonly ids: IdMap;
  readonly sent: readonly SentOperation[];
}

export interface ResumeRequest {
  /** `--resume`: continue; without it, say what the journal holds and refuse. */
  readonly resume: boolean;
  /** How the operator reruns it, for the message (the changeset's path). */
  readonly changesetPath: string;
  readonly journalPath: string;
}

const step = (index: number, operations: readonly unknown[]) => `operation ${index + 1}/${operations.length}`;

/**
 * What the journal says of each operation, checked against prod's hashes now, and the plan to continue; throws
 * PromotionRefused (nothing sent) without --resume, or when prod does not match the journal.
 */
export function resumeFromJournal(state: JournalState, operations: readonly RecordedOperation[], now: RelationHashes, request: ResumeRequest): ResumePlan {
  const ids = new IdMap();
  const sent: SentOperation[] = [];
  const lines: string[] = [];
  const from = firstNotSent(state) - 1;
  for (const [index, operation] of operations.entries()) {
    const remapped = remapOperation(operation, ids);
    if (index < from) {
      const answer = state.sent.get(index + 1);
      ids.recordCreation(operation, answer);
      sent.push({ ...remapped, answer });
      lines.push(`reached prod: ${step(index, operations)} ${remapped.method} ${remapped.path} → ${JSON.stringify(answer)}`);
    } else if (index > from || state.inDoubt?.operation !== index + 1) {
      lines.push(`not sent: ${step(index, operations)} ${remapped.method} ${remapped.path}`);
    }
  }
  const recorded = lastRecorded(state);
  const moved = recorded === undefined ? undefined : movedSince(recorded, now);
  const since = from === 0 ? 'before the first write' : `after operation ${from}`;
  if (state.inDoubt) {
    const doubt = `in doubt: ${step(state.inDoubt.operation - 1, operations)} ${state.inDoubt.method} ${state.inDoubt.path} was being sent when the promotion ended`;
    lines.splice(from, 0, moved?.length === 0
      ? `${doubt}; prod's relations are as the journal recorded them ${since}, so it did not reach prod`
      : `${doubt}; prod's relations are not as the journal recorded them ${since}${moved ? ` (${moved.join(', ')})` : ''}: it may have reached prod — check prod for it`);
  }
  const how = state.ended === undefined ? 'the process died during it' : `it ${state.ended}`;
  const summary = `${from} of ${operations.length} operation(s) reached prod (journal ${request.journalPath})`;
  if (!request.resume) {
    throw new PromotionRefused(
      'unfinished promotion',
      `an earlier promotion of this changeset did not finish (${how}): ${summary}. Nothing was sent now; never promote it afresh: run rehearse promote ${request.changesetPath} --resume to check prod against the journal and send only what did not reach it`,
      lines,
    );
  }
  if (moved === undefined) {
    throw new PromotionRefused(
      'prod moved since the journal',
      `the journal has prod's answer to operation ${from} but not prod's state after it (the process died in between): nothing proves prod holds only what the journal says; compare prod with the changeset by hand`,
      lines,
    );
  }
  if (moved.length > 0) {
    throw new PromotionRefused(
      'prod moved since the journal',
      `prod's relations that the changeset changes are not as the journal recorded them ${since}: ${moved.join(', ')}; nothing was sent — find out what changed prod before finishing by hand`,
      lines,
    );
  }
  return { from, ids, sent };
}
