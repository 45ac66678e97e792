/** Why promote refused: nothing was sent to prod. Each reason names what the operator does next. */
export type RefusalReason =
  | 'unreadable changeset'
  | 'edited after review'
  | 'no approval'
  | 'approval mismatch'
  | 'not confirmed'
  | 'not rehearsed on the sandbox'
  | 'no prod-write credential'
  | "the agent's key"
  | "the agent's identity"
  | 'unsupported operation'
  | 'not rehearsed from the golden'
  | 'not what its operations do'
  | 'conflict'
  | 'unfinished promotion'
  | 'prod moved since the journal'
  | 'nothing to resume';

export class PromotionRefused extends Error {
  override readonly name = 'PromotionRefused';
  constructor(
    readonly reason: RefusalReason,
    message: string,
    readonly details: readonly string[] = [],
  ) {
    super(details.length > 0 ? `${message}:\n${details.map((line) => `  - ${line}`).join('\n')}` : message);
  }
}
