/**
 * How Dolibarr's REST API answers, version by version, where the harness depends on it: one table, each entry with
 * its source — the version it was observed on (real installs: 20.0.2, then 19.0.2 and 23 develop), or "not verified" and why. The hermetic stand-in answers by it; the write tooling's client and the
 * fence's steps read a Dolibarr's `dolibarr_version` and expect by it. Nothing here sends anything.
 */

/** A value and where it comes from: "observed on …" or "not verified: …". */
export interface Sourced<T> {
  readonly value: T;
  readonly source: string;
}

const observed = <T>(value: T, versions: string): Sourced<T> => ({ value, source: `observed on ${versions}` });
const unverified = <T>(value: T, why: string): Sourced<T> => ({ value, source: `not verified: ${why}` });

/** The versions the stand-in can answer as (`ERP_REHEARSAL_DOLIBARR_VERSION`). */
export const DOLIBARR_PROFILES = ['19', '20', '23'] as const;
export type DolibarrProfileName = (typeof DOLIBARR_PROFILES)[number];

/**
 * The hermetic default: nothing in the factory's documents names the version it runs; the first real instance the
 * harness was built against was 20.0.2, and the fixture's `llx_const` says `MAIN_VERSION_LAST_INSTALL = 20.0.2`.
 */
export const DEFAULT_DOLIBARR_PROFILE: DolibarrProfileName = '20';

/** Where a version differs from another. */
export interface DolibarrProfile {
  readonly name: DolibarrProfileName;
  /** `dolibarr_version` in `/status`. */
  readonly version: Sourced<string>;
  /** The status a known key is refused with by the permission model (a right it lacks): its message starts with the status's reason. */
  readonly missingRightStatus: Sourced<401 | 403>;
  /** The detail of POST /supplierinvoices refused for want of right 1232 (the message is `<reason>: <detail>`). */
  readonly insufficientRights: Sourced<string>;
  /** How a create answers the new id: a bare JSON number, or a JSON string. */
  readonly createdId: Sourced<'number' | 'string'>;
  /** The line fields a supplier-invoice line's unit price is read from, first found first; any other field is ignored. */
  readonly linePriceFields: Sourced<readonly ('subprice' | 'pu_ht')[]>;
  /** The fields of `/status`'s `success` object. */
  readonly statusFields: Sourced<readonly string[]>;
  /** The 401 message when no key is presented. */
  readonly noKeyMessage: Sourced<string>;
  /** Whether `Authorization: Bearer <key>` (that header name, capitalised) is read as the key. */
  readonly bearer: Sourced<boolean>;
  /** The 404 message of an empty thirdparty list. */
  readonly noThirdparties: Sourced<string>;
  /** Words of the HTML page answered while its database is unreachable (the rest of the page was not recorded). */
  readonly databaseDownPage: Sourced<string>;
}

const OLD_NO_KEY = "Unauthorized: Failed to login to API. No parameter 'HTTP_DOLAPIKEY' on HTTP header (and no parameter DOLAPIKEY in URL).";
const STATUS_FIELDS_19 = ['code', 'dolibarr_version', 'access_locked'] as const;
const TECHNICAL_ERROR = 'Dolibarr has detected a technical error';

export const DOLIBARR_VERSIONS: Readonly<Record<DolibarrProfileName, DolibarrProfile>> = {
  '19': {
    name: '19',
    version: observed('19.0.2', '19.0.2'),
    missingRightStatus: observed(401, '19.0.2 (POST/PUT/DELETE /thirdparties, GET /thirdparties without 121, /users/info)'),
    insufficientRights: observed('Insuffisant rights', '19.0.2 (`Unauthorized: Insuffisant rights`)'),
    createdId: observed('string', '19.0.2 (`"4"`)'),
    linePriceFields: observed(['pu_ht'], '19.0.2 (lines sent with subprice only get totals of 0)'),
    statusFields: observed(STATUS_FIELDS_19, '19.0.2'),
    noKeyMessage: observed(OLD_NO_KEY, '19.0.2'),
    bearer: observed(false, '19.0.2'),
    noThirdparties: observed('Not Found: Thirdparties not found', '19.0.2'),
    databaseDownPage: observed('DolibarrHasDetectedError', '19.0.2'),
  },
  '20': {
    name: '20',
    version: observed('20.0.2', '20.0.2'),
    missingRightStatus: observed(403, '20.0.2'),
    insufficientRights: observed('Insuffisant rights', '20.0.2 (`Forbidden: Insuffisant rights`)'),
    createdId: observed('number', '20.0.2'),
    linePriceFields: unverified(['subprice', 'pu_ht'], "20.0.2's record has no line totals; taken as 23, which computes them from subprice"),
    statusFields: observed(
      [...STATUS_FIELDS_19, 'environment'],
      '20.0.2 (its record elides what follows environment; 23 adds timestamp_now_utc, timestamp_php_tz, date_tz)',
    ),
    noKeyMessage: observed(OLD_NO_KEY, '20.0.2'),
    bearer: unverified(false, "20.0.2's no-key message (observed) does not name Bearer; the message names it since the versions that read it (23)"),
    noThirdparties: observed('Not Found: Thirdparties not found', '20.0.2 (the reason; the prefix as 19.0.2 and 23 show it)'),
    databaseDownPage: unverified(TECHNICAL_ERROR, 'no 20 record of a database outage; taken as 23'),
  },
  '23': {
    name: '23',
    version: unverified('23.0.0-alpha', "the record of 23 (develop) does not give its dolibarr_version; a develop build's DOL_VERSION ends in -alpha"),
    missingRightStatus: observed(403, '23 (develop)'),
    insufficientRights: observed('Insufficiant rights', '23 (develop) (`Forbidden: Insufficiant rights`)'),
    createdId: observed('number', '23 (develop) (`4`)'),
    linePriceFields: observed(
      ['subprice', 'pu_ht'],
      '23 (develop) (subprice only, or both: totals computed; pu_ht alone, and which wins when both differ, were not recorded)',
    ),
    statusFields: observed([...STATUS_FIELDS_19, 'environment', 'timestamp_now_utc', 'timestamp_php_tz', 'date_tz'], '23 (develop)'),
    noKeyMessage: observed(
      "Unauthorized: Failed to login to API. Neither parameter 'HTTP_DOLAPIKEY' nor 'Authentication: Bearer' found on HTTP header (and no parameter DOLAPIKEY in URL).",
      "23 (develop) (the record quotes it from 'Neither'; the sentence before it is api_access.class.php's)",
    ),
    bearer: observed(true, '23 (develop), with the capitalised header name only'),
    noThirdparties: observed('Not Found: No third parties found', '23 (develop)'),
    databaseDownPage: observed(TECHNICAL_ERROR, '23 (develop)'),
  },
};

/** What every version answers alike, with its source. */
export const EVERY_VERSION = {
  unknownKey: observed(
    'Unauthorized: Error user not valid (not found with api key or bad status or bad validity dates) (conf->entity=1)',
    '20.0.2, 19.0.2 and 23 (develop), after about 1 s',
  ),
  thirdpartyNotFound: observed('Not Found: Thirdparty not found', '19.0.2 and 23 (develop)'),
  supplierInvoiceNotFound: observed('Not Found: Supplier invoice not found', '19.0.2 and 23 (develop)'),
  emptySupplierInvoiceList: observed('200 []', '19.0.2 and 23 (develop): only the thirdparty list answers 404 when empty'),
  unknownRoute: observed(
    { status: 501, text: 'API not found (failed to include API file)' },
    '19.0.2 and 23 (develop) with a valid key; api/index.php prints it as text, before any authentication',
  ),
  databaseError: observed(
    'Service Unavailable: Error when retrieve thirdparties : ',
    "19.0.2 and 23 (develop), followed by PostgreSQL's verbose text (ERROR:  <SQLSTATE>: …, LINE …, LOCATION: …)",
  ),
  databaseDown: observed({ status: 202, contentType: 'text/html' }, '19.0.2 and 23 (develop), with or without a key'),
  productionMode: observed(
    'API_PRODUCTION_MODE',
    "19.0.2 and 23 (develop): `debug` leaves error bodies only with this llx_const row at 1; $dolibarr_main_prod only removes environment from /status",
  ),
  permissionDetails: observed(['Not allowed'], '20.0.2, 19.0.2 and 23 (develop) on /users/info'),
  keyInQuery: observed(['DOLAPIKEY', 'api_key'], '20.0.2, 19.0.2 and 23 (develop), like the DOLAPIKEY header'),
  deleted: unverified({ success: { code: 200, message: 'Object deleted' } }, "no record of a delete's answer; the key the client needs is the 200"),
} as const;

/** Parses `ERP_REHEARSAL_DOLIBARR_VERSION`-style names; undefined for anything else. */
export function profileNamed(name: string): DolibarrProfile | undefined {
  return (DOLIBARR_PROFILES as readonly string[]).includes(name) ? DOLIBARR_VERSIONS[name as DolibarrProfileName] : undefined;
}

/**
 * What to expect of a Dolibarr that says it is `version` (its `/status` dolibarr_version): the observed version with the
 * same major, else the newest observed one older than it (21 and 22 were not observed: they are expected to answer as
 * 20), else the oldest (before 19, Dolibarr refused missing rights with 401 too). Undefined when it is not a version.
 */
export function profileOf(version: string): DolibarrProfile | undefined {
  const major = /^(\d+)\./.exec(version.trim())?.[1];
  if (major === undefined) return undefined;
  const known = DOLIBARR_PROFILES.map((name) => Number(name));
  const at = [...known].reverse().find((candidate) => candidate <= Number(major)) ?? known[0]!;
  return DOLIBARR_VERSIONS[String(at) as DolibarrProfileName];
}

/** The reason words of the two refusal statuses, as Restler prefixes messages. */
const REASON: Readonly<Record<401 | 403, string>> = { 401: 'Unauthorized', 403: 'Forbidden' };

/** What a rights check of `profile` answers: the status and `<reason>[: detail]`. */
export function missingRight(profile: DolibarrProfile, detail?: string): { status: 401 | 403; message: string } {
  const status = profile.missingRightStatus.value;
  return { status, message: detail === undefined ? REASON[status] : `${REASON[status]}: ${detail}` };
}

/** Who refused: authentication (no key, an unknown key, a disabled user) or the permission model (a right the user lacks). */
export type Refusal = 'authentication' | 'permission';

/** Details a rights check words, on any version (the 401 of 19 is told from an unknown key by them). */
const RIGHTS_DETAILS = new Set([
  ...EVERY_VERSION.permissionDetails.value,
  ...DOLIBARR_PROFILES.map((name) => DOLIBARR_VERSIONS[name].insufficientRights.value),
]);

/**
 * Which refusal a 401 or 403 is. 403 is the permission model on every version; a 401 is too when its message is one
 * a rights check words (`Unauthorized`, `Unauthorized: Insuffisant rights`, `Unauthorized: Access not allowed for
 * login …`: 19), unless `profile` says the version refuses missing rights with 403. Undefined for other statuses.
 */
export function refusalOf(status: number, message: string, profile?: DolibarrProfile): Refusal | undefined {
  if (status === 403) return 'permission';
  if (status !== 401) return undefined;
  if (profile !== undefined && profile.missingRightStatus.value !== 401) return 'authentication';
  if (message === REASON[401]) return 'permission';
  const detail = message.startsWith(`${REASON[401]}: `) ? message.slice(REASON[401].length + 2) : undefined;
  return detail !== undefined && (RIGHTS_DETAILS.has(detail) || detail.startsWith('Access not allowed for login ')) ? 'permission' : 'authentication';
}

/** Whether an HTML page is Dolibarr's technical-error page (what it answers, 202, while its database is unreachable). */
export function isDatabaseDownPage(text: string): boolean {
  return DOLIBARR_PROFILES.some((name) => text.includes(DOLIBARR_VERSIONS[name].databaseDownPage.value));
}
