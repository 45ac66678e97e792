/** `/status`: the version the stand-in answers as, with the fields that version's `/status` has. */
import type { Call } from './call';
import { fail } from './errors';

/**
 * The `success` object. `mainProd` is conf.php's `$dolibarr_main_prod = '1'`, which removes `environment` (23; no
 * version answers "production"). The timestamp fields' values were not recorded: they are the current time, in UTC.
 */
export function status(call: Call, mainProd: boolean): unknown {
  if (call.method !== 'GET') throw fail(405, 'api_status.class.php');
  const now = new Date();
  const values: Record<string, unknown> = {
    code: 200,
    dolibarr_version: call.profile.version.value,
    access_locked: '0',
    environment: 'non-production',
    timestamp_now_utc: Math.floor(now.getTime() / 1000),
    timestamp_php_tz: 'UTC',
    date_tz: now.toISOString().slice(0, 19).replace('T', ' '),
  };
  const fields = call.profile.statusFields.value.filter((field) => !(mainProd && field === 'environment'));
  return { success: Object.fromEntries(fields.map((field) => [field, values[field]])) };
}
