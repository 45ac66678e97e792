import { Formatter, type IFormatterOptions } from '@cucumber/cucumber';
import type { Envelope } from '@cucumber/messages';

/**
 * The gate run's terminal formatter (every profile of cucumber.js, through bin/progress-formatter.js): one character
 * per step as Cucumber's `progress` prints them, and nothing at the end. Cucumber's end-of-run dump would print the
 * layout's known gaps as failures with their stack traces; the harness prints, from the report, the failures that are
 * really failures, whole, then its summary (support/gates/failure-details.ts, report.ts).
 */

const CHARACTERS: Readonly<Record<string, string>> = { PASSED: '.', FAILED: 'F', SKIPPED: '-', UNDEFINED: 'U', PENDING: 'P', AMBIGUOUS: 'A', UNKNOWN: '?' };

export default class ProgressFormatter extends Formatter {
  static override readonly documentation = "One character per step, as Cucumber's progress formatter; no failure dump or summary at the end.";

  constructor(options: IFormatterOptions) {
    super(options);
    options.eventBroadcaster.on('envelope', (envelope: Envelope) => {
      if (envelope.testStepFinished) {
        const { status } = envelope.testStepFinished.testStepResult;
        this.log(this.colorFns.forStatus(status)(CHARACTERS[status] ?? '?'));
      } else if (envelope.testRunFinished) {
        this.log('\n');
      }
    });
  }
}
