import { inspect } from 'node:util';

/**
 * A secret value (API key, password, token) that never prints itself: `String()`, template literals,
 * `JSON.stringify` and `util.inspect` all show `[secret <label>]`. Only `reveal()` hands out the value, at the
 * one place that must send it.
 */
export class Secret {
  readonly #value: string;

  constructor(readonly label: string, value: string) {
    if (typeof value !== 'string' || value === '') throw new TypeError(`secret ${label}: the value must be a non-empty string`);
    this.#value = value;
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
