// `powerpost-analytics/stores`: history stores for Node (and the CLI): SQLite through node:sqlite,
// Redis through the optional `redis` package, and memory. Each is an object with append / list /
// get / set (the HistoryStore interface, types/stores.d.ts) that the client calls for
// `history: { store }`. Not part of the browser entries: nothing here is imported by index.js.

// node:sqlite arrived in 22.5 behind --experimental-sqlite and is unflagged since 22.13 and 23.4.
const SQLITE_NODE = 'Node 22.13 or newer (22.5 to 22.12 and 23.0 to 23.3 with --experimental-sqlite)';
const FORMS = 'sqlite:PATH, redis://host:port (or rediss://…), or memory:';

/** `scheme://user:pass@host…` without its user and password: what messages may show of a URL. */
export function redactUrl(text) {
  // Up to the last @ before the path: a password may hold an @ of its own.
  return String(text).replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/?#\s]*@/gi, '$1');
}

/** Arguments are checked here so that every store fails the same way on a bad call. */
function checkKey(key) {
  if (typeof key !== 'string') throw new TypeError(`history store: key must be a string, got ${typeof key}`);
}
function checkAppend(key, at, snapshot) {
  checkKey(key);
  if (!Number.isSafeInteger(at)) throw new TypeError(`history store: at must be an integer (epoch ms), got ${at}`);
  if (typeof snapshot !== 'string') throw new TypeError(`history store: snapshot must be a string, got ${typeof snapshot}`);
}
function checkValue(value) {
  if (typeof value !== 'string') throw new TypeError(`history store: value must be a string, got ${typeof value}`);
}

/** A store in this process's memory (tests, examples, short scripts): gone when the process ends. */
export function memoryHistoryStore() {
  const series = new Map(); // key -> Map(at -> snapshot)
  const records = new Map();
  return {
    append(key, at, snapshot) {
      checkAppend(key, at, snapshot);
      let s = series.get(key);
      if (!s) series.set(key, (s = new Map()));
      if (s.has(at)) return false;
      s.set(at, snapshot);
      return true;
    },
    list(key) {
      checkKey(key);
      return [...(series.get(key)?.values() ?? [])];
    },
    get(key) {
      checkKey(key);
      return records.get(key) ?? null;
    },
    set(key, value) {
      checkKey(key);
      checkValue(value);
      records.set(key, value);
    },
    close() {},
  };
}

/**
 * Loads node:sqlite (only when a SQLite store is opened). Node 22 warns that SQLite is
 * experimental on load: that one warning is dropped (the store is the supported use), any other
 * passes. getBuiltinModule loads synchronously, so the filter is in place for that load only.
 */
async function loadSqlite() {
  // Runtimes without getBuiltinModule (Deno, Bun) get the module the usual way, if they have it.
  if (typeof process.getBuiltinModule !== 'function') return import('node:sqlite').catch(() => undefined);
  const emit = process.emitWarning;
  process.emitWarning = function (warning, ...rest) {
    const type = typeof rest[0] === 'string' ? rest[0] : rest[0]?.type ?? warning?.name;
    const text = typeof warning === 'string' ? warning : warning?.message;
    if (type === 'ExperimentalWarning' && /\bSQLite\b/.test(String(text))) return undefined;
    return emit.call(this, warning, ...rest);
  };
  try {
    return process.getBuiltinModule('node:sqlite');
  } catch {
    return undefined;
  } finally {
    process.emitWarning = emit;
  }
}

/**
 * A SQLite file (created when missing) through node:sqlite: one row per (key, at), written
 * before append resolves, in WAL mode, so a process killed right after loses nothing
 * acknowledged. Several processes may share the file (a write waits up to 5 s for another's lock).
 */
export async function sqliteHistoryStore(path) {
  if (typeof path !== 'string' || path === '') throw new TypeError('sqliteHistoryStore: path must be a non-empty string (a file, or :memory:)');
  const sqlite = await loadSqlite();
  if (!sqlite?.DatabaseSync) {
    const version = globalThis.process?.version ?? 'unknown';
    throw new Error(`powerpost-analytics: the SQLite history store needs node:sqlite: ${SQLITE_NODE}; this is Node ${version}. `
      + 'Run a newer Node, or keep history in Redis instead: --store redis://host:port (redisHistoryStore() in code).');
  }
  const db = new sqlite.DatabaseSync(path);
  try {
    // NORMAL with WAL: each commit is in the WAL file before run() returns, so a killed process
    // loses nothing it acknowledged (only a power cut can lose the last commits).
    db.exec(`PRAGMA busy_timeout = 1000;
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = NORMAL;
      CREATE TABLE IF NOT EXISTS powerpost_history (key TEXT NOT NULL, at INTEGER NOT NULL, snapshot TEXT NOT NULL, PRIMARY KEY (key, at)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS powerpost_history_records (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;`);
  } catch (e) {
    db.close();
    throw e;
  }
  const insert = db.prepare('INSERT OR IGNORE INTO powerpost_history (key, at, snapshot) VALUES (?, ?, ?)');
  const select = db.prepare('SELECT snapshot FROM powerpost_history WHERE key = ? ORDER BY at');
  const read = db.prepare('SELECT value FROM powerpost_history_records WHERE key = ?');
  const write = db.prepare('INSERT INTO powerpost_history_records (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
  let open = true;
  return {
    append(key, at, snapshot) {
      checkAppend(key, at, snapshot);
      return Number(insert.run(key, at, snapshot).changes) === 1;
    },
    list(key) {
      checkKey(key);
      return select.all(key).map((row) => row.snapshot);
    },
    get(key) {
      checkKey(key);
      return read.get(key)?.value ?? null;
    },
    set(key, value) {
      checkKey(key);
      checkValue(value);
      write.run(key, value);
    },
    close() {
      if (open) db.close();
      open = false;
    },
  };
}

/** Loads the optional `redis` peer dependency (only when a Redis store is opened). */
async function loadRedis() {
  try {
    return await import('redis');
  } catch (e) {
    if (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') {
      throw new Error('powerpost-analytics: the Redis history store needs the `redis` package (an optional peer dependency): npm install redis');
    }
    throw e;
  }
}

/** The error a Redis store rejects with: its message without any URL credentials, the original's code. */
function storeError(what, e, secrets) {
  let message = redactUrl(e?.message ?? String(e));
  for (const s of secrets) if (s) message = message.split(s).join('***');
  const err = new Error(`redis history store: ${what}: ${message}`);
  if (e?.code !== undefined) err.code = e.code;
  return err;
}

/**
 * A Redis store: a series is a hash (`series:` + key, field at → snapshot; HSETNX adds once,
 * whichever process gets there first), a record a string (`record:` + key). Given a URL, it
 * connects (rejecting after `connectTimeoutMs` when Redis cannot be reached) and owns the client:
 * while Redis is down each call rejects at once (no offline queue) and the client reconnects in
 * the background (at least every second), so the same store works again once Redis is back.
 * Given a node-redis client, it uses that client as it is set up and close() leaves it open.
 */
export async function redisHistoryStore(urlOrClient, { timeoutMs = 5000, connectTimeoutMs = 2000 } = {}) {
  let client;
  let owned = false;
  const secrets = [];
  if (typeof urlOrClient === 'string') {
    let url;
    try {
      url = new URL(urlOrClient);
    } catch {
      // Not echoed: an unparsable URL cannot be trusted to show its credentials where redactUrl looks.
      throw new TypeError('redisHistoryStore: not a valid URL (expected redis://host:port or rediss://host:port)');
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new TypeError(`redisHistoryStore: expected redis:// or rediss://, got ${url.protocol}//`);
    for (const part of [url.username, url.password]) {
      secrets.push(part);
      try { secrets.push(decodeURIComponent(part)); } catch { /* kept encoded only */ }
    }
    const shown = redactUrl(url.href);
    const { createClient } = await loadRedis();
    client = createClient({
      url: urlOrClient,
      disableOfflineQueue: true,
      socket: { connectTimeout: connectTimeoutMs, reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 1000) },
    });
    owned = true;
    // Without a listener an 'error' event (Redis went away) would end the process.
    client.on('error', () => {});
    let timer;
    try {
      await Promise.race([
        client.connect(),
        new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no connection within ${connectTimeoutMs} ms`)), connectTimeoutMs); }),
      ]);
    } catch (e) {
      await Promise.resolve(client.destroy ? client.destroy() : client.disconnect()).catch(() => {});
      throw storeError(`cannot connect to ${shown}`, e, secrets);
    } finally {
      clearTimeout(timer);
    }
  } else if (urlOrClient && typeof urlOrClient.hSetNX === 'function') {
    client = urlOrClient;
  } else {
    throw new TypeError('redisHistoryStore: expected a redis:// URL or a node-redis client');
  }
  /** One command, rejecting after timeoutMs if Redis accepted it and never answered. */
  const call = async (what, run) => {
    let timer;
    try {
      return await Promise.race([
        run(),
        new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs); }),
      ]);
    } catch (e) {
      throw storeError(what, e, secrets);
    } finally {
      clearTimeout(timer);
    }
  };
  let closed = false;
  return {
    async append(key, at, snapshot) {
      checkAppend(key, at, snapshot);
      const added = await call('append', () => client.hSetNX(`series:${key}`, String(at), snapshot));
      return added === 1 || added === true;
    },
    async list(key) {
      checkKey(key);
      return call('list', () => client.hVals(`series:${key}`));
    },
    async get(key) {
      checkKey(key);
      return (await call('get', () => client.get(`record:${key}`))) ?? null;
    },
    async set(key, value) {
      checkKey(key);
      checkValue(value);
      await call('set', () => client.set(`record:${key}`, value));
    },
    async close() {
      if (closed || !owned) return;
      closed = true;
      // A clean QUIT when connected; otherwise (Redis down) just drop the socket and stop reconnecting.
      try {
        if (client.isReady) await (client.close ? client.close() : client.quit());
        else await (client.destroy ? client.destroy() : client.disconnect());
      } catch {
        await Promise.resolve(client.destroy ? client.destroy() : client.disconnect()).catch(() => {});
      }
    },
  };
}

/** A store from a spec: `sqlite:PATH`, `redis://…` / `rediss://…`, or `memory:`. */
export async function openHistoryStore(spec) {
  if (typeof spec !== 'string') throw new TypeError(`openHistoryStore: expected a string (${FORMS})`);
  if (spec === 'memory:') return memoryHistoryStore();
  if (spec.startsWith('sqlite:')) {
    if (spec.length === 'sqlite:'.length) throw new TypeError('openHistoryStore: sqlite: needs a file path, as in sqlite:history.db');
    return sqliteHistoryStore(spec.slice('sqlite:'.length));
  }
  if (/^rediss?:\/\//i.test(spec)) return redisHistoryStore(spec);
  throw new TypeError(`openHistoryStore: unknown store ${JSON.stringify(redactUrl(spec))}: use ${FORMS}`);
}
