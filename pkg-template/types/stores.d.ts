// Types of `powerpost-analytics/stores`: history stores for Node and the CLI.

/**
 * Where the client keeps each item's snapshots (`history: { store }`). Each method may return its
 * value or a promise of it; throwing or rejecting is a store failure (the client keeps what it
 * could not write in memory and tries again later).
 */
export interface HistoryStore {
  /**
   * Adds `snapshot` (JSON text) to series `key` unless that series already holds one at `at`
   * (integer epoch ms of its fetched_at). Atomic: of concurrent writers of the same (key, at)
   * exactly one adds. Resolves true when it added.
   */
  append(key: string, at: number, snapshot: string): boolean | Promise<boolean>;
  /** Every snapshot of series `key`, as the JSON texts given to append, in any order ([] when none). */
  list(key: string): readonly string[] | Promise<readonly string[]>;
  /** A small record kept beside the series, or null/undefined when there is none. */
  get(key: string): string | null | undefined | Promise<string | null | undefined>;
  /** Stores a small record (last writer wins). */
  set(key: string, value: string): unknown;
}

/** A store of this package: a HistoryStore that can be closed. */
export interface ClosableHistoryStore extends HistoryStore {
  /** Releases the file or connection; calls after close() fail. Idempotent. */
  close(): void | Promise<void>;
}

/** A store whose methods return their values (SQLite and memory). */
export interface SyncHistoryStore extends ClosableHistoryStore {
  append(key: string, at: number, snapshot: string): boolean;
  list(key: string): string[];
  get(key: string): string | null;
  set(key: string, value: string): void;
  close(): void;
}

/** The Redis store: every method returns a promise, which rejects promptly while Redis is down. */
export interface RedisHistoryStore extends ClosableHistoryStore {
  append(key: string, at: number, snapshot: string): Promise<boolean>;
  list(key: string): Promise<string[]>;
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<void>;
  /** Closes the connection this store opened (a client passed in is left open). */
  close(): Promise<void>;
}

/** The SQLite store (synchronous underneath). */
export type SqliteHistoryStore = SyncHistoryStore;
/** The memory store: this process only, gone when it ends. */
export type MemoryHistoryStore = SyncHistoryStore;

/** A node-redis client (the `redis` package, 5 or newer), as far as the store uses it. */
export interface RedisClientLike {
  hSetNX(key: string, field: string, value: string): Promise<unknown>;
  hVals(key: string): Promise<string[]>;
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<unknown>;
}

export interface RedisHistoryStoreOptions {
  /** A call rejects when Redis has not answered within this many ms (default 5000). */
  timeoutMs?: number;
  /** Opening a URL rejects when Redis cannot be reached within this many ms (default 2000). */
  connectTimeoutMs?: number;
}

/**
 * A SQLite file through `node:sqlite` (Node 22.13 or newer; created when missing; `:memory:` for
 * none). Rejects on a Node without `node:sqlite`, naming the Node needed and the Redis option.
 */
export declare function sqliteHistoryStore(path: string): Promise<SqliteHistoryStore>;
/**
 * Redis through the optional peer dependency `redis` (`npm install redis`): a series is a hash
 * (`series:` + key, field at, HSETNX), a record a string (`record:` + key). Several processes and
 * machines can share one. Credentials in the URL never appear in an error.
 */
export declare function redisHistoryStore(urlOrClient: string | RedisClientLike, options?: RedisHistoryStoreOptions): Promise<RedisHistoryStore>;
/** A store in this process's memory. */
export declare function memoryHistoryStore(): MemoryHistoryStore;
/** A store from a spec: `sqlite:PATH`, `redis://…` / `rediss://…`, or `memory:`. */
export declare function openHistoryStore(spec: string): Promise<ClosableHistoryStore>;
/** `scheme://user:pass@host…` → `scheme://host…`: a URL as messages may show it. */
export declare function redactUrl(text: string): string;
