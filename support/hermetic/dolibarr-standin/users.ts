/** `/users/info` (api_users.class.php): the authenticated user itself, never its key. */
import { RIGHT } from './auth';
import type { Call } from './call';
import { denied, fail } from './errors';

const US = 'api_users.class.php';

export function usersInfo(call: Call): unknown {
  const { user } = call;
  if (call.method !== 'GET') throw fail(405, US);
  if (!user.admin && !user.rights.has(RIGHT.userLire) && !user.rights.has(RIGHT.userSelfCreer)) {
    throw denied(call.profile, US, 'Not allowed');
  }
  return {
    id: String(user.id), login: user.login, admin: user.admin ? '1' : '0', entity: String(user.entity), statut: '1', status: '1',
    lastname: user.lastname, firstname: user.firstname, email: user.email,
  };
}
