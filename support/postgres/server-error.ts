/**
 * What PostgreSQL answered when it refused something: node-postgres's error carries the server's SQLSTATE (`code`)
 * and primary message. The fences compare both with what proves them.
 */
export interface ServerError {
  readonly code?: string;
  readonly message: string;
}

export function serverError(error: unknown): ServerError {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return { code: typeof code === 'string' ? code : undefined, message: typeof message === 'string' ? message : String(error) };
}

/** Whether `error` is the server's answer (a SQLSTATE), rather than the harness failing to reach the server at all. */
export function isServerAnswer(error: ServerError): boolean {
  return error.code !== undefined && /^[0-9A-Z]{5}$/.test(error.code);
}

/** Runs `work`: undefined when it succeeded, the server's error when it failed. */
export async function failureOf(work: () => Promise<unknown>): Promise<ServerError | undefined> {
  try {
    await work();
    return undefined;
  } catch (error) {
    return serverError(error);
  }
}
