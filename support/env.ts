/** The environment as the configuration reads it: `process.env`, or any record in tests. */
export type EnvRecord = Readonly<Record<string, string | undefined>>;

/** The trimmed value of `name`, or undefined when it is unset or blank (blank means "use the default"). */
export function setting(env: EnvRecord, name: string): string | undefined {
  const raw = Object.prototype.hasOwnProperty.call(env, name) ? env[name] : undefined;
  if (typeof raw !== 'string') return undefined;
  const trimmed = raw.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** Names whose values are secrets: their values never appear in a configuration message. */
export const SECRET_NAME = /(?:TOKEN|JWT|PASSWORD|PASSWD|SECRET|API_?KEY)$/i;

/** Shorter values would blank out ordinary words of the messages; real secrets are much longer. */
const MIN_REDACTED_LENGTH = 4;

/**
 * Replaces, in every message, each value of a secret-named variable of `env` (VAULT_TOKEN, ERP_REHEARSAL_VAULT_JWT,
 * …) by `[secret NAME]`: the last guard, for a secret pasted into the wrong variable and echoed with it.
 */
export function redactSecrets(messages: readonly string[], env: EnvRecord): string[] {
  const secrets = Object.entries(env)
    .filter((entry): entry is [string, string] => SECRET_NAME.test(entry[0]) && typeof entry[1] === 'string')
    .flatMap(([name, value]) => [value, value.trim()].map((text) => [name, text] as const))
    .filter(([, text]) => text.length >= MIN_REDACTED_LENGTH)
    .sort((a, b) => b[1].length - a[1].length);
  return messages.map((message) => secrets.reduce((text, [name, secret]) => text.split(secret).join(`[secret ${name}]`), message));
}
