import { userInfo } from 'node:os';

/** Who is acting, for the audit and the changeset: the CI's actor when there is one, else the OS user. */
export function actor(env: NodeJS.ProcessEnv = process.env): string {
  return env.ERP_REHEARSAL_ACTOR || env.GITEA_ACTOR || env.GITHUB_ACTOR || userInfo().username;
}
