/**
 * Errors of the Dolibarr write tooling (support/dolibarr/client.ts).
 *
 * Every error carries the HTTP status (0 when there was no HTTP answer), Dolibarr's own message (the
 * `error.message` of its `{"error":{"code":n,"message":"…"}}` body, kept verbatim except that the API key is
 * redacted if a server ever echoed it), the method and the request path (never the key: it only travels in the
 * `DOLAPIKEY` header).
 */

export class DolibarrError extends Error {
  override name = 'DolibarrError';
  readonly status: number;
  readonly dolibarrMessage: string;
  readonly method: string;
  readonly path: string;

  constructor(status: number, dolibarrMessage: string, method: string, path: string, options?: { cause?: unknown }) {
    super(
      `Dolibarr ${method} ${path} → ${status === 0 ? 'no answer' : status}${dolibarrMessage === '' ? '' : `: ${dolibarrMessage}`}`,
      options,
    );
    this.status = status;
    this.dolibarrMessage = dolibarrMessage;
    this.method = method;
    this.path = path;
  }
}

/** 401: no key, or a key Dolibarr does not know (unknown, disabled user, validity dates). */
export class DolibarrAuthenticationError extends DolibarrError {
  override name = 'DolibarrAuthenticationError';
}

/**
 * A known key whose user lacks the right, refused by Dolibarr's permission model: 403 (`Forbidden: Insuffisant
 * rights`), or on 19 a 401 told from an unknown key by its message (`Unauthorized: Insuffisant rights`).
 */
export class DolibarrPermissionError extends DolibarrError {
  override name = 'DolibarrPermissionError';
}

/** 404 on a single object (lists answer 404 when empty; the client turns that into `[]`). */
export class DolibarrNotFoundError extends DolibarrError {
  override name = 'DolibarrNotFoundError';
}

/** An answer that is not what the API promises: non-JSON 200 (API module disabled), a non-id POST answer, … */
export class DolibarrUnexpectedResponse extends DolibarrError {
  override name = 'DolibarrUnexpectedResponse';
}

/** No HTTP answer within `timeoutMs` (status 0). Never retried: the bound on a call stays `timeoutMs`. */
export class DolibarrTimeoutError extends DolibarrError {
  override name = 'DolibarrTimeoutError';
}

/** No HTTP answer at all: connection refused/reset, TLS failure, … (status 0; `cause` is undici's error). */
export class DolibarrNetworkError extends DolibarrError {
  override name = 'DolibarrNetworkError';
}

/**
 * An answer that is not the API's JSON: Dolibarr's technical-error page (HTTP 202, while its database is unreachable),
 * a proxy's page, plain text. The API cannot be used through it, so it counts as the target not being reached
 * (`unreachable`, support/gates/outcomes.ts). Its message is one line: who answered, the status, what it likely means.
 */
export class DolibarrUnavailable extends DolibarrError {
  override name = 'DolibarrUnavailable';
  readonly unreachable = true;

  /** `line` is the whole message, e.g. "Dolibarr at HOST answered an error page, status 202: its database may be unreachable". */
  constructor(status: number, line: string, method: string, path: string) {
    super(status, line, method, path);
    this.message = line;
  }
}
