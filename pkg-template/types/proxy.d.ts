// Type declarations of powerpost-analytics/proxy: the server half of proxy mode.
import type { ClientOptions } from './index.js';

export {
  PowerPostError, InvalidArgumentError, ConnectionError, TimeoutError, RequestAbortedError, InvalidResponseError,
  ApiError, BadRequestError, AuthenticationError, PermissionDeniedError, NotFoundError, RateLimitError, ServerError,
  WasmLoadError, isPowerPostError,
} from './index.js';
export type { CacheConfig, CacheStore, ClientOptions, LogLevel, Logger, PowerPostErrorKind } from './index.js';

/**
 * Options of `createProxyHandler`: the client's (the key and workspace are the server's, from
 * these options or the POWERPOST_API_KEY / POWERPOST_WORKSPACE_ID variables, or in a Cloudflare
 * Worker its `env` bindings of those names; `baseUrl` is where the PowerPost API is) plus who may
 * call the proxy and where it is mounted. With a shared `cache.store` (Redis, a KV namespace),
 * several proxy instances make one upstream request per item per snapshot; a failing store costs
 * only the cache (lookups go on, and the proxy says so once at warn level).
 */
export interface ProxyOptions extends Omit<ClientOptions, 'dangerouslyAllowBrowser'> {
  /** Where the app mounts the proxy (`/api/powerpost`); the browser client's `baseUrl`. Default: the root. */
  basePath?: string;
  /** Who may call the proxy: `false` answers 401, a throw or rejection 500 (the text is only logged). */
  authorize?: (request: Request) => boolean | Promise<boolean>;
  /** Required (as `true`) when there is no `authorize`: an open proxy spends your key for anyone who finds it. */
  allowAnonymous?: boolean;
  /** Origins whose pages may call the proxy cross-origin (`https://app.example.com`). Default: same-origin only. */
  allowedOrigins?: string[];
  /**
   * At most this many requests to PowerPost at once, whoever calls (default 8, at least 1):
   * the key's rate limit is spent no faster. Lookups of one id share one request; cache hits take no slot.
   */
  maxConcurrentUpstream?: number;
  /**
   * At most this many lookups wait for an upstream slot (default 256), each for at most its
   * `timeoutMs`; past either, 503 `PROXY_BUSY` with `Retry-After`, without asking PowerPost.
   */
  maxQueue?: number;
  /**
   * With a `cache`, how long a 404 from PowerPost is answered from it (ms, default 60 000; 0: never),
   * so that a repeated unknown id does not reach upstream each time.
   */
  cacheNotFoundMs?: number;
  /**
   * At most `perMinute` lookups a minute from one caller (default 60), then 429
   * `CALLER_LIMIT_EXCEEDED` with `Retry-After`, counted before anything is asked of PowerPost. A
   * caller is its client address (known through `toNodeListener` and in Cloudflare Workers), or
   * what `key(request)` returns (anything but a string: not counted). On by default with
   * `allowAnonymous`, off with `authorize`; `false` turns it off.
   */
  callerLimit?: false | { perMinute?: number; key?: (request: Request) => string | null | undefined };
}

/** A Fetch-API handler. The second argument is ignored unless it holds a Worker's POWERPOST_* bindings. */
export type ProxyHandler = (request: Request, env?: unknown) => Promise<Response>;

/**
 * Creates the proxy: it answers only `GET`/`HEAD {basePath}/api/v1/post-items/{id}/analytics`
 * (404 for any other path, 405 for other methods), forwards nothing the browser sent, and returns
 * a validated body. Throws `InvalidArgumentError` for bad options and without `authorize` unless
 * `allowAnonymous: true`. The key is not needed to create it (a build has no secrets): it is read
 * at the first request, and until there is one requests are answered 500 `PROXY_MISCONFIGURED`
 * (the server's log says why, once).
 */
export declare function createProxyHandler(options?: ProxyOptions): ProxyHandler;

/** What `toNodeListener` reads of Node's `IncomingMessage` (Express's request is one). */
export interface NodeRequestLike {
  method?: string;
  url?: string;
  /** Express: the URL before a mount path was stripped. */
  originalUrl?: string;
  headers: Record<string, string | string[] | undefined>;
  rawHeaders?: string[];
}
/** What `toNodeListener` uses of Node's `ServerResponse` (Express's response is one). */
export interface NodeResponseLike {
  writeHead(status: number, headers?: Record<string, string | string[]>): unknown;
  write(chunk: Uint8Array): boolean;
  end(chunk?: string): unknown;
  on(event: 'close', listener: () => void): unknown;
  once(event: 'drain', listener: () => void): unknown;
  destroy(): unknown;
  readonly headersSent: boolean;
  readonly writableFinished: boolean;
}

/**
 * Node `http` / Express listener for a Fetch-API handler: `http.createServer(toNodeListener(handler))`
 * or `app.use('/api/powerpost', toNodeListener(handler))` (the full path, `originalUrl`, is matched
 * against `basePath`).
 */
export declare function toNodeListener(
  handler: (request: Request) => Response | Promise<Response>,
): (req: NodeRequestLike, res: NodeResponseLike, next?: (error: unknown) => void) => void;
