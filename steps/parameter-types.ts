import { defineParameterType } from '@cucumber/cucumber';
import { instanceNames, NamingError, PROD_ENV } from '../support/naming';

// The domain's parameter types: a step written with one of them gets a checked value, and a feature that gives a bad
// one fails at that step with a message that says what is wrong and how to write it, instead of failing later (or
// passing) on a typo. Each one's regexp is broad on purpose — wide enough that a bad value still reaches the
// transformer and gets its message, rather than leaving the step undefined. None is offered in snippets (Cucumber
// keeps suggesting {string} and {int}: swap in the typed one by hand; docs/STEPS.md lists them).
//
// The quoted ones match the double-quoted form only, like "erp-sandbox"; the step receives the text inside the quotes.
// A regexp here must not be the exact source of a capture group in a regular-expression step, or Cucumber would
// transform that group with it: hence [0-9]+ rather than \d+ for {http status}.

/** The error a transformer throws for a bad value, which fails the step: `"<value>" is not <what>: <why>`. */
function refuse(value: string, what: string, why: string): Error {
  return new Error(`"${value}" is not ${what}: ${why}`);
}

const QUOTED = /"([^"]*)"/;

/**
 * An instance name, quoted, e.g. "erp-sandbox"; the step gets the name without its quotes.
 *
 * ADR-0002: an instance is `<app>` for prod and `<app>-<env>` for any other env. Checked with the naming rule
 * (kebab-case, PostgreSQL's length limit); whether the target provisioned it is checked by the steps that use it.
 *
 * @example "erp-sandbox"
 */
defineParameterType({
  name: 'instance',
  regexp: QUOTED,
  useForSnippets: false,
  transformer: (name: string | undefined) => checkInstance(name ?? ''),
});

function checkInstance(name: string): string {
  const why = "an instance is named <app> for prod and <app>-<env> otherwise (ADR-0002), e.g. \"erp\" or \"erp-sandbox\"";
  if (name === '') throw refuse(name, 'an instance name', `it is empty; ${why}`);
  if (name.includes('_')) {
    const meant = name.replace(/_role$/, '').replace(/_/g, '-');
    throw refuse(name, 'an instance name', `underscores belong to owner roles, not to instances (did you mean "${meant}"?); ${why}`);
  }
  if (/[A-Z]/.test(name)) throw refuse(name, 'an instance name', `uppercase is not allowed (did you mean "${name.toLowerCase()}"?); ${why}`);
  try {
    // Every instance name is also a prod app's: the rule's checks of an app are the ones an instance name must pass.
    instanceNames(name, PROD_ENV);
  } catch (error) {
    if (!(error instanceof NamingError)) throw error;
    throw refuse(name, 'an instance name', `${error.message.replace(`app "${name}" `, 'it ')}; ${why}`);
  }
  return name;
}

/**
 * A PostgreSQL owner role, quoted, e.g. "erp_sandbox_role"; the step gets the role without its quotes.
 *
 * ADR-0002: an owner role is `<app>_role` for prod and `<app>_<env>_role` for any other env. Checked with the naming
 * rule: the role must be the one the rule gives its instance (so not "erp_prod_role": prod elides).
 *
 * @example "erp_sandbox_role"
 */
defineParameterType({
  name: 'owner role',
  regexp: QUOTED,
  useForSnippets: false,
  transformer: (role: string | undefined) => checkOwnerRole(role ?? ''),
});

function checkOwnerRole(role: string): string {
  const why = 'an owner role is <app>_role for prod and <app>_<env>_role otherwise (ADR-0002), e.g. "erp_role" or "erp_sandbox_role"';
  const parts = role.split('_');
  if (parts.length < 2 || parts.length > 3 || parts.at(-1) !== 'role') throw refuse(role, 'an owner role', why);
  const [app, env = PROD_ENV] = parts.slice(0, -1) as [string, string?];
  let expected: string;
  try {
    expected = instanceNames(app, env).ownerRole;
  } catch (error) {
    if (!(error instanceof NamingError)) throw error;
    throw refuse(role, 'an owner role', `${error.message}; ${why}`);
  }
  if (expected !== role) throw refuse(role, 'an owner role', `prod elides: prod's owner role is "${expected}"; ${why}`);
  return role;
}

// A DNS label: lowercase letters, digits and inner hyphens, at most 63 characters.
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * A DNS host name, quoted and lowercase, e.g. "erp-sandbox.arcodange.lab"; the step gets it without its quotes.
 *
 * Dot-separated labels of lowercase letters, digits and inner hyphens; no trailing dot; not an IP address.
 *
 * @example "erp-sandbox.arcodange.lab"
 */
defineParameterType({
  name: 'host',
  regexp: QUOTED,
  useForSnippets: false,
  transformer: (host: string | undefined) => checkHost(host ?? ''),
});

function checkHost(host: string): string {
  const not = (why: string) => refuse(host, 'a host name', why);
  if (host === '') throw not('it is empty; write a lowercase DNS name such as "erp-sandbox.arcodange.lab"');
  if (/[A-Z]/.test(host)) throw not(`uppercase is not allowed: write it lowercase, "${host.toLowerCase()}"`);
  if (host.endsWith('.')) throw not(`a trailing dot is not allowed: write "${host.replace(/\.+$/, '')}"`);
  if (/^[0-9.]+$/.test(host) || /^\[?[0-9a-f]*:[0-9a-f:]*\]?$/.test(host)) throw not('an IP address is not a host name');
  if (/[/:@]/.test(host)) throw not('a host name has no scheme, user, port or path: write the name alone, e.g. "erp-sandbox.arcodange.lab"');
  if (host.length > 253) throw not('a host name is at most 253 characters');
  const bad = host.split('.').find((label) => !LABEL.test(label));
  if (bad !== undefined) {
    throw not(`${bad === '' ? 'an empty label' : `label "${bad}"`} is not lowercase letters, digits and inner hyphens (1 to 63 characters)`);
  }
  return host;
}

/**
 * A PostgreSQL SQLSTATE error code, unquoted, e.g. 42501 (insufficient privilege); the step gets it as text.
 *
 * Five digits or uppercase letters.
 *
 * @example 42501
 */
defineParameterType({
  name: 'sqlstate',
  regexp: /[0-9A-Za-z]+/,
  useForSnippets: false,
  transformer: (code: string) => checkSqlstate(code),
});

function checkSqlstate(code: string): string {
  if (/^[0-9A-Za-z]{5}$/.test(code) && code !== code.toUpperCase()) throw refuse(code, 'a SQLSTATE', `SQLSTATEs are written in uppercase: ${code.toUpperCase()}`);
  if (!/^[0-9A-Z]{5}$/.test(code)) throw refuse(code, 'a SQLSTATE', 'a SQLSTATE is five digits or uppercase letters, e.g. 42501');
  return code;
}

/**
 * An HTTP status code, unquoted, e.g. 403; the step gets it as a number.
 *
 * A whole number from 100 to 599.
 *
 * @example 403
 */
defineParameterType({
  name: 'http status',
  regexp: /[0-9]+/,
  useForSnippets: false,
  transformer: (status: string) => checkHttpStatus(status),
});

function checkHttpStatus(status: string): number {
  if (!/^[1-5][0-9]{2}$/.test(status)) throw refuse(status, 'an HTTP status', 'an HTTP status is a whole number from 100 to 599, e.g. 403');
  return Number(status);
}

/**
 * An amount of money in euros, unquoted, e.g. 12.50 or 12.50 €; the step gets a whole number of cents (1250).
 *
 * An optional minus, whole euros, at most two decimals after a dot, and optionally " €": 12.50, 7, -3.20 €. No
 * thousands separator, no decimal comma. Cents, so that no amount is ever rounded by floating point.
 *
 * @example 12.50 €
 */
defineParameterType({
  name: 'amount',
  regexp: /-?[0-9]+(?:[.,][0-9]+)?(?: ?€)?/,
  useForSnippets: false,
  transformer: (amount: string) => checkAmount(amount),
});

function checkAmount(amount: string): number {
  const not = (why: string) => refuse(amount, 'an amount', `${why}; write euros with at most two decimals after a dot, optionally followed by " €", e.g. 12.50 or 12.50 €`);
  if (amount.includes(',')) throw not('the decimal separator is a dot, not a comma');
  if (amount.endsWith('€') && !amount.endsWith(' €')) throw not('put a space before the euro sign');
  const parsed = /^(-?)([0-9]+)(?:\.([0-9]+))?(?: €)?$/.exec(amount);
  if (!parsed) throw not('it is not a number of euros');
  const [, sign, euros, decimals = ''] = parsed as unknown as [string, string, string, string?];
  if (decimals.length > 2) throw not('more than two decimals is less than a cent');
  const cents = Number(euros) * 100 + Number(decimals.padEnd(2, '0'));
  if (!Number.isSafeInteger(cents)) throw not('it is too large');
  return sign === '-' && cents !== 0 ? -cents : cents;
}
