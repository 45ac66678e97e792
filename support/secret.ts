import { inspect } from 'node:util';
import { registerSecret } from './redaction';

/**
 * A secret value (API key, password, token) that never prints itself: `String()`, template literals,
 * `JSON.stringify` and `util.inspect` all show `[secret <label>]`. Only `reveal()` hands out the value, at the
 * one place that must send it.
 *
 * Making one registers its value with the redaction point (support/redaction.ts), so the value is also
 * replaced by `[redacted]` wherever it might still be printed or written to a report (values shorter than
 * 6 characters are not registered).
 */
export class Secret {
  readonly #value: string;

  /** `redact: false` for a value kept behind reveal() that is not itself a secret (e.g. a URL read from Vault's KV). */
  constructor(readonly label: string, value: string, options: { readonly redact?: boolean } = {}) {
    if (typeof value !== 'string' || value === '') throw new TypeError(`secret ${label}: the value must be a non-empty string`);
    this.#value = value;
    if (options.redact !== false) registerSecret(value);
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return `[secret ${this.label}]`;
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect.custom](): string {
    return this.toString();
  }
}
