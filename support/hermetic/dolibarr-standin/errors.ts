/**
 * Dolibarr's API errors as Restler words them: `{"error":{"code":<n>,"message":"<reason>[: detail]"}}`, where
 * `source` is the PHP file the real one names in its `debug` object.
 */

export const REASONS: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  409: 'Conflict', 500: 'Internal Server Error', 503: 'Service Unavailable',
};

/** A Restler RestException: `message` is the full `error.message` of the body. */
export class ApiError extends Error {
  constructor(readonly code: number, message: string, readonly source: string) {
    super(message);
  }
}

/** `Forbidden`, `Forbidden: <detail>`, `Bad Request: <detail>`… as Restler words them. */
export const fail = (code: number, source: string, detail?: string): ApiError =>
  new ApiError(code, detail === undefined ? REASONS[code]! : `${REASONS[code]}: ${detail}`, source);

/** Messages the facts show without the reason prefix (lists' and objects' "not found"). */
export const notFound = (message: string, source: string): ApiError => new ApiError(404, message, source);

/** The 401 detail when no key is presented (facts table). */
export const NO_KEY = "Failed to login to API. No parameter 'HTTP_DOLAPIKEY' on HTTP header (and no parameter DOLAPIKEY in URL).";
/** The 401 detail for an unknown key or a disabled user (facts table). */
export const BAD_KEY = 'Error user not valid (not found with api key or bad status or bad validity dates) (conf->entity=1)';
