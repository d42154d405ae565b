// The error classes of powerpost-analytics. The Rust side creates them through `createError`,
// and the package entries re-export this same module, so `instanceof` works for users.

// A registry-wide symbol, so `isPowerPostError` recognises errors from another copy of the
// package (two versions in one bundle, a worker and its page).
const BRAND = Symbol.for('powerpost-analytics.error');

export class PowerPostError extends Error {
  constructor(message, fields) {
    super(message, fields && fields.cause !== undefined ? { cause: fields.cause } : undefined);
    this.kind = 'unknown';
    this.retryable = false;
    this.attempts = 0;
    this.postItemId = undefined;
    if (fields) {
      for (const key of Object.keys(fields)) {
        if (key !== 'cause' && fields[key] !== undefined) this[key] = fields[key];
      }
    }
  }
}
export class InvalidArgumentError extends PowerPostError {}
export class ConnectionError extends PowerPostError {}
export class TimeoutError extends ConnectionError {}
export class RequestAbortedError extends PowerPostError {}
export class InvalidResponseError extends PowerPostError {}
export class ApiError extends PowerPostError {}
export class BadRequestError extends ApiError {}
export class AuthenticationError extends ApiError {}
export class PermissionDeniedError extends ApiError {}
export class NotFoundError extends ApiError {}
export class RateLimitError extends ApiError {}
export class ServerError extends ApiError {}
/** The history store failed or did not answer in time (reading a history). */
export class StoreError extends PowerPostError {}
/** The wasm module could not be loaded: what arrived was not the module, or it did not compile. */
export class WasmLoadError extends PowerPostError {}

const CLASSES = {
  invalid_argument: InvalidArgumentError,
  connection: ConnectionError,
  timeout: TimeoutError,
  aborted: RequestAbortedError,
  invalid_response: InvalidResponseError,
  api: ApiError,
  bad_request: BadRequestError,
  authentication: AuthenticationError,
  permission_denied: PermissionDeniedError,
  not_found: NotFoundError,
  rate_limit: RateLimitError,
  server: ServerError,
  store: StoreError,
  wasm_load: WasmLoadError,
};

// Names are set explicitly: minifiers rename classes, and `name` must stay the class name.
for (const [name, cls] of Object.entries({
  PowerPostError, InvalidArgumentError, ConnectionError, TimeoutError, RequestAbortedError,
  InvalidResponseError, ApiError, BadRequestError, AuthenticationError, PermissionDeniedError,
  NotFoundError, RateLimitError, ServerError, StoreError, WasmLoadError,
})) {
  Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true });
  Object.defineProperty(cls, 'name', { value: name, configurable: true });
}
Object.defineProperty(PowerPostError.prototype, BRAND, { value: true });

export function isPowerPostError(value) {
  try {
    return typeof value === 'object' && value !== null && value[BRAND] === true;
  } catch {
    return false; // a hostile proxy
  }
}

/** @internal Called from Rust: `fields` is a plain object of the error's extra fields. */
export function createError(kind, message, fields) {
  const cls = CLASSES[kind] || PowerPostError;
  const error = new cls(message, fields);
  error.kind = kind;
  return error;
}
