/**
 * Settings that change how the server renders values, definitions and names. The caller's server, database and role
 * may set any of them; pinned, the same rows give the same text everywhere. search_path must be the same on both sides
 * because pg_get_*def and format_type qualify exactly the names it does not reach; jit is off because compiling a wide
 * row-hash expression costs more than it saves.
 */
const PINNED_SETTINGS: Readonly<Record<string, string>> = {
  DateStyle: 'ISO, YMD',
  TimeZone: 'UTC',
  IntervalStyle: 'postgres',
  extra_float_digits: '3',
  bytea_output: 'hex',
  search_path: 'public',
  standard_conforming_strings: 'on',
  quote_all_identifiers: 'off',
  lc_monetary: 'C',
  jit: 'off',
};

/** SET LOCAL of every pinned setting, in one round trip: every snapshot's session sends it once. */
export const PIN_SETTINGS_SQL = 'SELECT set_config(name, value, true) FROM unnest($1::text[], $2::text[]) AS s(name, value)';

/** PIN_SETTINGS_SQL's parameters. */
export const PIN_SETTINGS_PARAMS: readonly [string[], string[]] = [Object.keys(PINNED_SETTINGS), Object.values(PINNED_SETTINGS)];
