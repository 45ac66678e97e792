/**
 * Exact decimals for the domain assertions. Amounts come from PostgreSQL's `numeric` as text (Dolibarr's amounts are
 * numeric(24,8), its VAT rates numeric(7,4)), are held as a bigint count of 10⁻⁸ units, and go out as text again:
 * never a float, so a sum of a thousand lines is exact and "to the cent" means what it says.
 */

/** Decimal places held: Dolibarr's amounts are numeric(24,8). */
export const SCALE = 8;
const ONE = 10n ** BigInt(SCALE);
/** Units in one cent. */
export const CENT = ONE / 100n;

/** An exact decimal: a count of 10⁻⁸ units. */
export type Units = bigint;

export class DecimalError extends Error {
  override readonly name = 'DecimalError';
}

const DECIMAL = /^([+-])?(\d+)(?:\.(\d*))?$/;

/** `"37.50000000"`, `"-2.5"`, `"20"` → units. More than 8 decimals is refused unless the extra ones are zeros. */
export function parseDecimal(text: string): Units {
  const match = DECIMAL.exec(text.trim());
  if (!match) throw new DecimalError(`"${text}" is not a decimal number (digits, optionally a point and decimals, e.g. 37.50)`);
  const [, sign, whole, fraction = ''] = match;
  if (/[1-9]/.test(fraction.slice(SCALE))) throw new DecimalError(`"${text}" has more than ${SCALE} decimals`);
  const units = BigInt(whole!) * ONE + BigInt(fraction.slice(0, SCALE).padEnd(SCALE, '0'));
  return sign === '-' ? -units : units;
}

/** A JS number that is itself a short decimal (a unit price like 12.5 in a write's description) → units. */
export function decimalOfNumber(value: number): Units {
  if (!Number.isFinite(value)) throw new DecimalError(`${value} is not a finite number`);
  return parseDecimal(String(value));
}

/** Units → text with at least `minDecimals` decimals and no trailing zeros beyond: 37.5 → "37.50", 5.5 → "5.5" (0). */
export function formatDecimal(units: Units, minDecimals = 2): string {
  const negative = units < 0n;
  const magnitude = negative ? -units : units;
  const whole = magnitude / ONE;
  let fraction = (magnitude % ONE).toString().padStart(SCALE, '0');
  while (fraction.length > minDecimals && fraction.endsWith('0')) fraction = fraction.slice(0, -1);
  return `${negative ? '-' : ''}${whole}${fraction.length > 0 ? `.${fraction}` : ''}`;
}

/** n / d rounded half away from zero, as PHP's round() and PostgreSQL's round(numeric) do. */
export function roundDiv(n: bigint, d: bigint): bigint {
  if (d === 0n) throw new DecimalError('division by zero');
  const quotient = n / d;
  const remainder = n % d;
  const abs = (x: bigint) => (x < 0n ? -x : x);
  if (2n * abs(remainder) < abs(d)) return quotient;
  return quotient + ((n < 0n) === (d < 0n) ? 1n : -1n);
}

/** Rounded to the cent (half away from zero). */
export function toCents(units: Units): Units {
  return roundDiv(units, CENT) * CENT;
}

/** a × b rounded to the cent: a quantity times a unit price. */
export function productToCents(a: Units, b: Units): Units {
  return roundDiv(a * b, ONE * CENT) * CENT;
}

/** round(amount × percent / 100, 2): the VAT of an amount at a rate in percent. */
export function percentToCents(amount: Units, percent: Units): Units {
  return roundDiv(amount * percent, ONE * CENT * 100n) * CENT;
}

export function sum(values: Iterable<Units>): Units {
  let total = 0n;
  for (const value of values) total += value;
  return total;
}

export function abs(units: Units): Units {
  return units < 0n ? -units : units;
}

/** Equal once both are rounded to the cent. */
export function sameCents(a: Units, b: Units): boolean {
  return toCents(a) === toCents(b);
}

/** At most one cent apart. */
export function withinACent(a: Units, b: Units): boolean {
  return abs(a - b) <= CENT;
}

/** A VAT rate as people write it: `20`, `5.5`, `20 %` or `20%` → units (percent). */
export function parseRate(text: string): Units {
  return parseDecimal(text.trim().replace(/\s*%$/, ''));
}

/** A rate in percent as people read it: "20", "5.5", "0". */
export function formatRate(units: Units): string {
  return formatDecimal(units, 0);
}
