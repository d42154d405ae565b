// Type declarations of powerpost-analytics: the API surface (functions, classes, options), by hand.
// The data types are generated from the Rust types into ./data.d.ts (src/ts.rs, `make types`).
import type { ErrorKind, PostItemAnalytics as PostItemAnalyticsData, PostItemHistory, RateLimit, RecordSummary, BatchResult } from './data.js';
export type {
  BatchResult, ErrorBody, ErrorEnvelope, ErrorKind, Gain, Gap, Metrics, PostItemHistory, PostStatus, RateLimit, RecordError,
  RecordSummary, Snapshot,
} from './data.js';

/** The analytics of one post item (field names as in the PowerPost API). */
export interface PostItemAnalytics extends PostItemAnalyticsData {
  /** `true` (non-enumerable) when the result was served from the client's cache. */
  readonly cached?: true;
}

/** Where the API lives and who you are. In Node, missing values come from POWERPOST_API_KEY, POWERPOST_WORKSPACE_ID and POWERPOST_BASE_URL. */
export interface ClientOptions {
  /** Secret API key (`pp_live_sk_…`), sent as `x-api-key`. Never put it in browser code; use proxy mode there. */
  apiKey?: string;
  /** Workspace id, sent as `X-Workspace-Id`. */
  workspaceId?: string;
  /** Default `https://powerpost.ai`. Any other URL (your own backend, or a relative path in a browser) is proxy mode: key and workspace may be omitted. */
  baseUrl?: string;
  /** Allow an `apiKey` in a browser or web worker, where every visitor can read it. */
  dangerouslyAllowBrowser?: boolean;
  /** Per-attempt timeout in ms, including reading the body. Default 30000. */
  timeoutMs?: number;
  /** Retries after the first attempt for connection failures, timeouts, 408, 429, 500, 502, 503, 504. Default 2. */
  maxRetries?: number;
  /** Longest wait sat out before a retry, in ms; a server asking for longer gets its RateLimitError at once. Default 60000. */
  maxRetryWaitMs?: number;
  /**
   * How much to log: `'warn'` by default (or `POWERPOST_LOG` where the environment is read).
   * `'info'` adds retries, waits, batch pauses, timeouts and aborts; `'debug'` every attempt and,
   * capped, the bodies of failed responses. The API key is never logged.
   */
  logLevel?: LogLevel;
  /** Where log lines go (default `console`): any object with these methods. */
  logger?: Logger;
  /**
   * The snapshot-aware cache, off by default. PowerPost polls metrics once a day, so a result
   * with metrics is served again until the later of `maxAgeMs` after it was fetched and
   * `fetched_at + snapshotIntervalMs`, never longer than 24 h; without metrics at most 60 s;
   * errors never. Entries are never shared across base URLs, workspaces or keys.
   */
  cache?: boolean | CacheConfig;
  /**
   * Snapshot history, off by default: every snapshot a lookup brings from the API (not from the
   * cache) is kept once, so `getPostItemHistory` can draw a growth curve from an API that keeps
   * only the latest number. `true` keeps it in memory for the client's life; `{ store }` keeps it
   * in SQLite, Redis (`powerpost-analytics/stores`) or a store of your own.
   */
  history?: boolean | HistoryConfig;
  /**
   * OpenTelemetry: the `TracerProvider` whose tracer records each lookup as a CLIENT span (default:
   * the globally registered one, when `@opentelemetry/api` is in use). Server runtimes only (the
   * `node` export condition: Node, Deno, Bun) and the proxy; the browser and Workers entries do not
   * carry telemetry and refuse the option (`InvalidArgumentError`, unknown option).
   */
  tracerProvider?: OpenTelemetryTracerProvider;
  /** OpenTelemetry: the `MeterProvider` for the client's metrics (default: the global one). */
  meterProvider?: OpenTelemetryMeterProvider;
}

/**
 * The part of `@opentelemetry/api`'s `TracerProvider` the package uses (structural, so the
 * package's types do not depend on `@opentelemetry/api`).
 */
export interface OpenTelemetryTracerProvider {
  getTracer(name: string, version?: string, options?: object): unknown;
}

/** The part of `@opentelemetry/api`'s `MeterProvider` the package uses. */
export interface OpenTelemetryMeterProvider {
  getMeter(name: string, version?: string, options?: object): unknown;
}

/** Options of snapshot history. */
export interface HistoryConfig {
  /** Where series are kept (default: memory). */
  store?: HistoryStore;
  /** How often PowerPost takes a snapshot. Default 86 400 000 (24 h); the dev server's `--day-ms`. */
  snapshotIntervalMs?: number;
  /** Snapshots kept in memory while the store fails, oldest dropped first (with a warning). Default 10 000. */
  maxPending?: number;
}

/**
 * Where series are kept. Each method may return a value or a promise; one that throws or rejects
 * is a store failure (snapshots then wait in memory). Keys hold no secret.
 */
export interface HistoryStore {
  /** Adds `snapshot` (JSON text) to series `key` unless it holds one at `at` (epoch ms of its `fetched_at`), atomically; true when it added. */
  append(key: string, at: number, snapshot: string): boolean | Promise<boolean>;
  /** Every snapshot of series `key` as given to `append`, in any order. */
  list(key: string): readonly string[] | Promise<readonly string[]>;
  /** A small record beside the series (when the item was last checked). */
  get(key: string): string | undefined | null | Promise<string | undefined | null>;
  set(key: string, value: string): unknown;
}

/** Options of `recordSnapshots`. */
export interface RecordOptions {
  /** Aborts the run (`RequestAbortedError`). */
  signal?: AbortSignal;
  timeoutMs?: number;
  maxRetries?: number;
  /** Lookups in flight at once. Default 4. */
  concurrency?: number;
}

/** Options of the client's cache. */
export interface CacheConfig {
  /** Entries kept in memory, least recently used out first. Default 1000. */
  maxEntries?: number;
  /** Default 3 600 000 (1 h). */
  maxAgeMs?: number;
  /** How often PowerPost takes a snapshot. Default 86 400 000 (24 h). */
  snapshotIntervalMs?: number;
  /** A persistent store used instead of memory (IndexedDB, a Workers KV namespace): values are JSON text, keys hold no secret. */
  store?: CacheStore;
}

/** Each method may return a value or a promise; one that throws or rejects only costs the cache. */
export interface CacheStore {
  get(key: string): string | undefined | null | Promise<string | undefined | null>;
  set(key: string, value: string): unknown;
  delete(key: string): unknown;
  /**
   * Optional, used by `powerpost-analytics/proxy`: store `value` only if `key` is absent,
   * atomically (Redis `SET NX`), saying whether it did. With it, of several proxy instances
   * missing one item at once exactly one asks PowerPost.
   */
  add?(key: string, value: string): boolean | Promise<boolean>;
}

export type LogLevel = 'off' | 'error' | 'warn' | 'info' | 'debug';
/** A log sink, e.g. `console` or a pino/winston logger. */
export interface Logger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

/** Per-call options. */
export interface RequestOptions {
  /** Aborts the request in flight and any retry wait at once (`RequestAbortedError`). */
  signal?: AbortSignal;
  /** Overrides the client's per-attempt timeout. */
  timeoutMs?: number;
  /** Overrides the client's retry count. */
  maxRetries?: number;
  /** How this call uses the client's cache, as in `fetch`: `'default'`, `'no-store'` or `'reload'`. */
  cache?: 'default' | 'no-store' | 'reload';
}

/** Options of a batch lookup. */
export interface BatchOptions extends RequestOptions {
  /** Requests in flight at once. Default 4. */
  concurrency?: number;
}

/** The `kind` of an error: one of the Rust crate's error kinds, or `'wasm_load'` (the wasm could not be loaded). */
export type PowerPostErrorKind = ErrorKind | 'wasm_load';

/** Base of every error this package throws. */
export declare class PowerPostError extends Error {
  readonly kind: PowerPostErrorKind;
  /** Whether the same request may succeed later. */
  readonly retryable: boolean;
  /** HTTP requests made (0 when nothing was sent). */
  readonly attempts: number;
  /** The post item the call was about, when known. */
  readonly postItemId: string | undefined;
}
/** Bad input or configuration, detected before anything is sent. */
export declare class InvalidArgumentError extends PowerPostError {
  readonly kind: 'invalid_argument';
}
/** `fetch` itself failed (DNS, refused, reset, TLS, CORS). */
export declare class ConnectionError extends PowerPostError {
  readonly kind: 'connection' | 'timeout';
  /**
   * What the runtime threw or rejected with, its own `cause` intact: in Node,
   * `TypeError: fetch failed` whose `cause.code` is `ECONNREFUSED`, `ENOTFOUND`,
   * `UNABLE_TO_VERIFY_LEAF_SIGNATURE`, …
   */
  readonly cause: unknown;
}
/** An attempt took longer than `timeoutMs`. */
export declare class TimeoutError extends ConnectionError {
  readonly kind: 'timeout';
}
/** The caller's AbortSignal fired. */
export declare class RequestAbortedError extends PowerPostError {
  readonly kind: 'aborted';
  /** The signal's `reason` when it has one, else what the runtime rejected with. */
  readonly cause: unknown;
}
/** The body was not JSON, or not the documented shape. */
export declare class InvalidResponseError extends PowerPostError {
  readonly kind: 'invalid_response';
  /** Where the first problem is: `metrics.views`, or `$` for the whole body. */
  readonly path: string;
  readonly expected: string;
  /** A short description of what was found (never the whole body). */
  readonly received: string;
  /** HTTP status of the response (absent for `parsePostItemAnalytics`). */
  readonly status?: number;
  /** `x-request-id`, when the response had one. */
  readonly requestId?: string;
  /** The response's headers, names in lower case (absent for `parsePostItemAnalytics`). */
  readonly headers?: Record<string, string>;
  /** The response body as sent: parsed when it is JSON, else the text (at most 8 KiB; absent for `parsePostItemAnalytics`). */
  readonly body?: unknown;
}
/** A non-2xx response. */
export declare class ApiError extends PowerPostError {
  readonly kind: 'api' | 'bad_request' | 'authentication' | 'permission_denied' | 'not_found' | 'rate_limit' | 'server';
  readonly status: number;
  /** The server's `error.code`, e.g. `NOT_FOUND` (absent when the body had none). */
  readonly code?: string;
  /** `x-request-id`: quote it to PowerPost support (absent when the response had none). */
  readonly requestId?: string;
  /** The response's `X-RateLimit-*` headers (absent unless it had all three). */
  readonly rateLimit?: RateLimit;
  /** The response's headers, names in lower case. */
  readonly headers: Record<string, string>;
  /**
   * The error body as sent: PowerPost's `{ error: { message, code } }` (an `ErrorEnvelope`) parsed
   * (with any field this package does not model), or the text of a body that is not JSON (at most 8 KiB).
   */
  readonly body: unknown;
}
export declare class BadRequestError extends ApiError {
  readonly kind: 'bad_request';
}
export declare class AuthenticationError extends ApiError {
  readonly kind: 'authentication';
}
export declare class PermissionDeniedError extends ApiError {
  readonly kind: 'permission_denied';
}
export declare class NotFoundError extends ApiError {
  readonly kind: 'not_found';
}
export declare class RateLimitError extends ApiError {
  readonly kind: 'rate_limit';
  /** How long the server asked to wait (absent when it did not say). */
  readonly retryAfterMs?: number;
}
export declare class ServerError extends ApiError {
  readonly kind: 'server';
}

/** The history store failed or did not answer in time (reading a history; lookups never fail because of it). */
export declare class StoreError extends PowerPostError {
  readonly kind: 'store';
}

/**
 * The wasm module could not be loaded: what arrived was not the module (a damaged embedded text,
 * an HTML page, a 404, a wrong MIME type, a re-encoded string) or it did not compile. The message
 * says what arrived and what to do. Thrown by `init()` of `/slim` and by the first call.
 */
export declare class WasmLoadError extends PowerPostError {
  readonly kind: 'wasm_load';
  /** The compile or fetch error behind it, when there was one. */
  readonly cause?: unknown;
  /** The URL fetched, when the wasm was fetched. */
  readonly url?: string;
  /** The HTTP status of that response. */
  readonly status?: number;
  /** Its Content-Type header. */
  readonly contentType?: string | null;
}

/** True for any error of this package, even from another copy of it. */
export declare function isPowerPostError(value: unknown): value is PowerPostError;

/** A client: configuration is checked once, rate-limit state is kept. */
export declare class PowerPost {
  constructor(options?: ClientOptions);
  getPostItemAnalytics(postItemId: string, options?: RequestOptions): Promise<PostItemAnalytics>;
  getPostItemAnalyticsBatch(postItemIds: readonly string[], options?: BatchOptions): Promise<BatchResult[]>;
  /**
   * The recorded history of one item: from the `history` store, or in proxy mode (a `baseUrl`
   * of your own, no `history`) from the proxy's `…/analytics/history` route.
   */
  getPostItemHistory(postItemId: string): Promise<PostItemHistory>;
  /**
   * Looks up the items whose next daily snapshot is due and records what is new (needs
   * `history`). Items fetched less than a snapshot interval ago cost nothing; one failing id is
   * in `errors`, not a rejection.
   */
  recordSnapshots(postItemIds: readonly string[], options?: RecordOptions): Promise<RecordSummary>;
  /** Empties the cache: memory, and what this client wrote to its store. */
  clearCache(): Promise<void>;
  /** From the last response that carried `X-RateLimit-*` headers. */
  readonly rateLimit: RateLimit | null;
}

/** One lookup with a one-off client. */
export declare function getPostItemAnalytics(postItemId: string, options?: Omit<ClientOptions, 'cache'> & Omit<RequestOptions, 'cache'>): Promise<PostItemAnalytics>;

/** Validates an already-parsed response body. Synchronous; throws InvalidResponseError. */
export declare function parsePostItemAnalytics(value: unknown, expectedPostItemId?: string): PostItemAnalytics;
