/** `/status` (api_status.class.php): the version the stand-in claims to be. */
import type { Call } from './call';
import { fail } from './errors';

export const DOLIBARR_VERSION = '20.0.2';

export function status(call: Call, production: boolean): unknown {
  if (call.method !== 'GET') throw fail(405, 'api_status.class.php');
  return {
    success: {
      code: 200, dolibarr_version: DOLIBARR_VERSION, access_locked: '0',
      environment: production ? 'production' : 'non-production',
    },
  };
}
