// History stores (`powerpost-analytics/stores`, issue #28) and the dev server's simulated days,
// from the packed package: SQLite in Node 22 and 24 (and its refusal in Node 20), a process
// killed with SIGKILL right after acknowledged appends, Redis shared by two processes, Redis
// killed and started again under a live store, credentials in store URLs, and the dev server's
// days (one snapshot per day, a gap, a correction downwards, the 90-day end) against an oracle.
// Registered by package.test.mjs, which owns the package.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { installLockedPackages, startRedis, freePort } from './proxy.mjs';

const SECRET = 'pw-S3CRET-never-shown';
// Keys as the crate builds them and keys that a careless store would merge or mangle.
const KEYS = ['powerpost:history:v1|http://127.0.0.1:4010|ws_local_dev|550e8400-e29b-41d4-a716-446655440000',
  'é/ü', 'e\u0301', '\u00e9', '😀 \u{1F600}', 'a\u0000b', 'a', 'A', ' a', '日本語のキー', 'x'.repeat(9 * 1024) + 'ü'];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The SQLite checks, as a script run by each Node (prints { version, results }). */
const SQLITE_SCRIPT = `import { sqliteHistoryStore, openHistoryStore } from 'powerpost-analytics/stores';
const KEYS = ${JSON.stringify(KEYS)};
const results = [];
const check = (name, ok, detail) => results.push({ name, ok: !!ok, detail: ok ? undefined : JSON.stringify(detail) });
const throws = (fn) => { try { fn(); return undefined; } catch (e) { return e; } };
let s = await openHistoryStore('sqlite:' + process.env.DB);
check('append adds once per (key, at): true, then false even with other text', s.append('k', 1000, '{"v":1}') === true && s.append('k', 1000, '{"v":2}') === false);
check('another at of the same key adds', s.append('k', 2000, '{"v":3}') === true);
check('list: each snapshot as given, once', JSON.stringify(s.list('k').slice().sort()) === JSON.stringify(['{"v":1}', '{"v":3}']), s.list('k'));
check('list of an unknown key is []', Array.isArray(s.list('nothing')) && s.list('nothing').length === 0);
check('get of an unknown record is null', s.get('nothing') === null);
s.set('k', 'first'); s.set('k', 'second');
check('set then get: the last writer wins; a record beside a series of the same key leaves the series alone',
  s.get('k') === 'second' && s.list('k').length === 2, [s.get('k'), s.list('k')]);
KEYS.forEach((key, i) => s.append(key, 1000, 'snap-' + i));
KEYS.forEach((key, i) => s.set(key, 'rec-' + i));
const lists = KEYS.map((key) => s.list(key));
check('unicode, NUL, case, normalisation and 9 KiB keys are distinct series, unmangled',
  lists.every((l, i) => l.length === 1 && l[0] === 'snap-' + i) && KEYS.every((key, i) => s.get(key) === 'rec-' + i), lists.map((l) => l.length));
check('a bad at or snapshot is a TypeError (a store failure), nothing written',
  throws(() => s.append('bad', 1.5, 'x')) instanceof TypeError && throws(() => s.append('bad', 1, {})) instanceof TypeError && s.list('bad').length === 0);
check('ats far apart and negative are kept exactly', s.append('far', 2 ** 52, 'a') && s.append('far', -5, 'b') && s.list('far').length === 2);
s.close(); s.close();
s = await sqliteHistoryStore(process.env.DB);
check('reopened: everything is still there', s.list('k').length === 2 && s.get('k') === 'second' && KEYS.every((key, i) => s.list(key)[0] === 'snap-' + i));
s.close();
// The store drops node:sqlite's own warning only: the application's warnings still print.
process.emitWarning('a warning of the application', 'ExperimentalWarning');
process.stdout.write(JSON.stringify({ version: process.version, results }));
`;

/** Appends until killed, printing each acknowledged at. */
const KILL_SCRIPT = `import { sqliteHistoryStore } from 'powerpost-analytics/stores';
const s = await sqliteHistoryStore(process.env.DB);
for (let at = 0; ; at++) {
  if (s.append('killed-series', at, JSON.stringify({ at }))) process.stdout.write(at + '\\n');
  if (at % 10 === 0) await new Promise((r) => setImmediate(r));
}
`;

const LIST_SCRIPT = `import { sqliteHistoryStore } from 'powerpost-analytics/stores';
const s = await sqliteHistoryStore(process.env.DB);
process.stdout.write(JSON.stringify(s.list(process.env.KEY).map((t) => JSON.parse(t).at)));
s.close();
`;

/** One of two writers of the same snapshots: waits for "go" on stdin, then appends all at once. */
const WRITER_SCRIPT = `import { openHistoryStore } from 'powerpost-analytics/stores';
const KEYS = ${JSON.stringify(KEYS)};
const s = await openHistoryStore(process.env.STORE);
process.stdout.write('ready\\n');
await new Promise((r) => process.stdin.once('data', r));
const added = [];
await Promise.all(KEYS.flatMap((key, k) => Array.from({ length: 30 }, async (_, at) => {
  if (await s.append(key, at, JSON.stringify({ at, writer: process.env.WRITER }))) added.push([k, at]);
})));
process.stdout.write(JSON.stringify({ added }) + '\\n');
await s.close();
`;

/** Prints every series of KEYS in the store. */
const READER_SCRIPT = `import { openHistoryStore } from 'powerpost-analytics/stores';
const s = await openHistoryStore(process.env.STORE);
const lists = [];
for (const key of ${JSON.stringify(KEYS)}) lists.push(await s.list(key));
process.stdout.write(JSON.stringify(lists));
await s.close();
`;

/** A store that lives through a Redis outage: told "down" and "up" on stdin, reports each step. */
const OUTAGE_SCRIPT = `import { openHistoryStore } from 'powerpost-analytics/stores';
import readline from 'node:readline';
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const say = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const s = await openHistoryStore(process.env.REDIS_URL);
await s.append('outage', 1, 'one');
say({ step: 'ready' });
await lines.next();
const outcomes = [];
for (let round = 0; round < 2; round++) {
  for (const [name, fn] of [['append', () => s.append('outage', 2, 'two')], ['list', () => s.list('outage')], ['get', () => s.get('outage')], ['set', () => s.set('outage', 'x')]]) {
    const t0 = Date.now();
    try {
      await fn();
      outcomes.push({ name, round, ok: true, ms: Date.now() - t0 });
    } catch (e) {
      outcomes.push({ name, round, ok: false, ms: Date.now() - t0, isError: e instanceof Error, message: String(e.message), stack: String(e.stack) });
    }
  }
  await new Promise((r) => setTimeout(r, 1500)); // the second round while it keeps reconnecting
}
say({ step: 'down', outcomes });
await lines.next();
const t0 = Date.now();
let added;
let failures = 0;
while (Date.now() - t0 < 20000) {
  try { added = await s.append('outage', 3, 'three'); break; } catch { failures++; await new Promise((r) => setTimeout(r, 200)); }
}
say({ step: 'up', added, failures, ms: Date.now() - t0, list: await s.list('outage'), record: await s.set('outage', 'back').then(() => s.get('outage')) });
await s.close();
process.stdin.destroy();
`;

export function registerHistoryStoreTests(test, ctx) {
  const write = (name, text) => {
    const file = path.join(ctx.project, name);
    fs.writeFileSync(file, text);
    return file;
  };
  const tmp = (name) => fs.mkdtempSync(path.join(ctx.work, `${name}-`));
  const stores = () => import(path.join(ctx.project, 'node_modules', 'powerpost-analytics', 'dist', 'stores.js'));
  const env = (extra) => ({ ...process.env, ...extra });

  for (const version of [22, 24]) {
    test(`history stores: SQLite in Node ${version}: once per (key, at), list, get/set, unicode keys, reopened; no ExperimentalWarning`, async () => {
      const script = write('hist-sqlite.mjs', SQLITE_SCRIPT);
      const db = path.join(tmp('sqlite'), 'history.db');
      const r = await ctx.run(ctx.NODES[version], [script], { env: env({ DB: db }), cwd: ctx.project });
      assert.equal(r.code, 0, r.stderr);
      const { version: ran, results } = JSON.parse(r.stdout);
      assert.match(ran, new RegExp(`^v${version}\\.`));
      ctx.assertAllPassed(`SQLite in Node ${version}`, results, 9);
      assert.doesNotMatch(r.stderr, /SQLite/, `node:sqlite's warning is not printed:\n${r.stderr}`);
      assert.match(r.stderr, /ExperimentalWarning: a warning of the application/, 'other warnings still print');
    });
  }

  test('history stores: SQLite from require() (Node 22); Node 20 rejects naming the Node needed and the Redis option', async () => {
    const dir = tmp('sqlite-cjs');
    const cjs = write('hist-sqlite.cjs', `const { openHistoryStore } = require('powerpost-analytics/stores');
openHistoryStore('sqlite:' + process.env.DB).then((s) => {
  const out = [s.append('k', 1, 'a'), s.append('k', 1, 'b'), s.list('k')];
  s.close();
  process.stdout.write(JSON.stringify(out));
}, (e) => { process.stdout.write(JSON.stringify({ error: e.message, isError: e instanceof Error })); });`);
    const r22 = await ctx.run(ctx.NODES[22], [cjs], { env: env({ DB: path.join(dir, 'a.db') }), cwd: ctx.project });
    assert.equal(r22.code, 0, r22.stderr);
    assert.deepEqual(JSON.parse(r22.stdout), [true, false, ['a']]);
    assert.doesNotMatch(r22.stderr, /Warning/, r22.stderr);
    const r20 = await ctx.run(ctx.NODES[20], [cjs], { env: env({ DB: path.join(dir, 'b.db') }), cwd: ctx.project });
    assert.equal(r20.code, 0, r20.stderr);
    const { error, isError } = JSON.parse(r20.stdout);
    assert.ok(isError, 'rejects with an Error');
    assert.match(error, /Node 22\.13 or newer/, error);
    assert.match(error, new RegExp(`this is Node ${process.version.replace(/\./g, '\\.')}`), error);
    assert.match(error, /--store redis:\/\/host:port/, error);
    assert.ok(!fs.existsSync(path.join(dir, 'b.db')), 'no file created');
  });

  test('history stores: SQLite: a process SIGKILLed right after acknowledged appends loses none of them', async () => {
    const db = path.join(tmp('sqlite-kill'), 'history.db');
    const script = write('hist-kill.mjs', KILL_SCRIPT);
    const child = spawn(ctx.NODES[24], [script], { cwd: ctx.project, env: env({ DB: db }), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const acked = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`fewer than 300 appends acknowledged in 60 s\n${err}`)); }, 60_000);
      child.stdout.on('data', (d) => {
        out += d;
        const lines = out.split('\n').slice(0, -1);
        if (lines.length >= 300 && child.exitCode === null) {
          child.kill('SIGKILL'); // at once, while it is appending
          clearTimeout(timer);
          resolve(lines.map(Number));
        }
      });
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`exited ${code} before it was killed\n${err}`)); });
    });
    const signal = await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(child.signalCode) : child.once('exit', (_c, s) => resolve(s))));
    assert.equal(signal, 'SIGKILL');
    const stored = JSON.parse(await ctx.runScript(ctx.NODES[22], write('hist-list.mjs', LIST_SCRIPT), { env: { DB: db, KEY: 'killed-series' } }));
    const have = new Set(stored);
    const lost = acked.filter((at) => !have.has(at));
    assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged appends lost`);
    assert.equal(have.size, stored.length, 'each at once');
  });

  /**
   * Two processes (Node `runtimes`) append the same snapshots to the store `spec` at once (11
   * keys × 30 ats, released together); each must be added by exactly one of them, and the text
   * kept must be that writer's.
   */
  const sameSnapshotsTwice = async (spec, runtimes) => {
    const script = write('hist-writer.mjs', WRITER_SCRIPT);
    const writers = runtimes.map((version, i) => {
      const name = `writer ${i + 1} (Node ${version})`;
      const child = spawn(ctx.NODES[version], [script], { cwd: ctx.project, env: env({ STORE: spec, WRITER: name }), stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      const line = (n) => new Promise((resolve, reject) => {
        const look = () => { const lines = out.split('\n'); if (lines.length > n) resolve(lines[n - 1]); };
        child.stdout.on('data', (d) => { out += d; look(); });
        child.once('exit', (code) => reject(new Error(`${name} exited ${code}\n${out}\n${err}`)));
        look();
      });
      return { name, child, line, stderr: () => err };
    });
    const ready = await Promise.all(writers.map((w) => w.line(1)));
    assert.deepEqual(ready, ['ready', 'ready']);
    const done = writers.map((w) => w.line(2));
    for (const w of writers) w.child.stdin.end('go\n');
    const winner = new Map();
    for (const [i, l] of (await Promise.all(done)).entries()) {
      for (const [k, at] of JSON.parse(l).added) {
        const id = `${k}/${at}`;
        assert.ok(!winner.has(id), `(${JSON.stringify(KEYS[k]).slice(0, 40)}, ${at}) added by both writers`);
        winner.set(id, writers[i].name);
      }
    }
    assert.equal(winner.size, KEYS.length * 30, 'every snapshot added by exactly one writer');
    const lists = JSON.parse(await ctx.runScript(ctx.NODES[runtimes[0]], write('hist-reader.mjs', READER_SCRIPT), { env: { STORE: spec } }));
    for (const [k, texts] of lists.entries()) {
      const listed = texts.map((t) => JSON.parse(t));
      assert.deepEqual(listed.map((x) => x.at).sort((x, y) => x - y), Array.from({ length: 30 }, (_, i) => i), `series ${k}: each at once`);
      for (const x of listed) assert.equal(x.writer, winner.get(`${k}/${x.at}`), 'the stored snapshot is the one whose append said true');
    }
    for (const w of writers) assert.equal(w.stderr(), '', `${w.name}: nothing on stderr`);
  };

  test('history stores: SQLite: two processes (Node 22 and 24) appending the same snapshots to one file store each once', async () => {
    await sameSnapshotsTwice(`sqlite:${path.join(tmp('sqlite-shared'), 'history.db')}`, [22, 24]);
  });

  test('history stores: Redis: two processes appending the same snapshots concurrently store each once; records', async () => {
    installLockedPackages(ctx);
    const redis = await startRedis(tmp('redis'));
    try {
      await sameSnapshotsTwice(redis.url, [20, 20]);
      const { openHistoryStore } = await stores();
      const store = await openHistoryStore(redis.url);
      try {
        assert.equal(await store.get('nothing'), null);
        await store.set(KEYS[1], 'r1');
        await store.set(KEYS[1], 'r2');
        assert.equal(await store.get(KEYS[1]), 'r2', 'last writer wins');
        assert.equal((await store.list(KEYS[1])).length, 30, 'a record beside a series of the same key leaves it alone');
      } finally {
        await store.close();
      }
    } finally {
      redis.child.kill('SIGKILL');
    }
  });

  test('history stores: Redis killed: calls reject within ~2 s (no hang, no crash); started again on its port: the same store works', async () => {
    installLockedPackages(ctx);
    const port = await freePort();
    let redis = await startRedis(tmp('redis'), port);
    const url = `redis://default:${SECRET}@127.0.0.1:${port}`; // the default user takes any password
    const child = spawn(ctx.NODES[20], [write('hist-outage.mjs', OUTAGE_SCRIPT)], { cwd: ctx.project, env: env({ REDIS_URL: url }), stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
    const step = (name) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${name}" from the store's process in 60 s\n${out}\n${err}`)), 60_000);
      const look = () => {
        const line = out.split('\n').find((l) => l.startsWith(`{"step":"${name}"`));
        if (line) { clearTimeout(timer); resolve(JSON.parse(line)); }
      };
      child.stdout.on('data', (d) => { out += d; look(); });
      exited.then((code) => { clearTimeout(timer); reject(new Error(`the store's process exited ${code}\n${out}\n${err}`)); });
      look();
    });
    try {
      await step('ready');
      process.kill(redis.pid, 'SIGKILL');
      await new Promise((r) => (redis.child.exitCode !== null || redis.child.signalCode !== null ? r() : redis.child.once('exit', r)));
      child.stdin.write('down\n');
      const { outcomes } = await step('down');
      assert.equal(outcomes.length, 8);
      for (const o of outcomes) {
        assert.equal(o.ok, false, `${o.name} (round ${o.round}) rejected while Redis was down`);
        assert.ok(o.isError, `${o.name}: an Error`);
        assert.ok(o.ms < 3000, `${o.name} (round ${o.round}) rejected after ${o.ms} ms`);
        assert.ok(!o.stack.includes(SECRET) && !o.stack.includes('default:'), `${o.name}: no credentials in ${o.stack}`);
      }
      redis = await startRedis(tmp('redis'), port);
      child.stdin.write('up\n');
      const up = await step('up');
      assert.equal(up.added, true, `the same store appends again once Redis is back (${up.failures} failures first, ${up.ms} ms)`);
      assert.deepEqual(up.list, ['three'], 'the new Redis (no persistence) holds what was written after it came back');
      assert.equal(up.record, 'back');
      assert.equal(await exited, 0, `the process ends by itself after close()\n${err}`);
      assert.equal(err, '', 'nothing on stderr: no unhandled error event or rejection');
      assert.ok(!out.includes(SECRET));
    } finally {
      child.kill('SIGKILL');
      redis.child.kill('SIGKILL'); // no-op when the test already stopped it
    }
  });

  test('history stores: a Redis URL\'s credentials never show in an error; bad specs name the accepted forms; no redis package says npm install redis', async () => {
    installLockedPackages(ctx);
    const { openHistoryStore, redisHistoryStore, memoryHistoryStore } = await stores();
    const failure = async (spec) => {
      const t0 = Date.now();
      try {
        await openHistoryStore(spec);
      } catch (e) {
        return { e, ms: Date.now() - t0 };
      }
      assert.fail(`${spec.replace(SECRET, '***')} opened`);
    };
    const closed = await freePort(); // nothing listens there
    const down = await failure(`redis://alice:${SECRET}@127.0.0.1:${closed}`);
    assert.ok(down.e instanceof Error);
    assert.match(down.e.message, new RegExp(`cannot connect to redis://127\\.0\\.0\\.1:${closed}`), down.e.message);
    assert.ok(down.ms < 5000, `opening an unreachable Redis rejected after ${down.ms} ms`);
    for (const spec of [`redis://alice:${SECRET}@[not-a-host`, `rediss://alice:${SECRET}@127.0.0.1:${closed}`, `mysql://alice:${SECRET}@db/x`, `sqlite`, '']) {
      const { e } = await failure(spec);
      const text = `${e.message}\n${e.stack}\n${JSON.stringify(e)}`;
      assert.ok(!text.includes(SECRET) && !text.includes('alice'), `no credentials: ${text}`);
      if (!spec.startsWith('redis')) assert.match(e.message, /sqlite:PATH, redis:\/\/host:port .*memory:/, e.message);
    }
    const m = await openHistoryStore('memory:');
    assert.deepEqual([m.append('k', 1, 'a'), m.append('k', 1, 'b'), m.list('k'), m.get('k')], [true, false, ['a'], null]);
    assert.equal(typeof memoryHistoryStore, 'function');
    await assert.rejects(redisHistoryStore(42), /redis:\/\/ URL or a node-redis client/);
    // The same module where no `redis` package can be found.
    const alone = path.join(tmp('no-redis'), 'stores.mjs');
    fs.copyFileSync(path.join(ctx.project, 'node_modules', 'powerpost-analytics', 'dist', 'stores.js'), alone);
    const isolated = await import(alone);
    await assert.rejects(isolated.openHistoryStore(`redis://alice:${SECRET}@127.0.0.1:${closed}`), (e) => {
      assert.match(e.message, /npm install redis/);
      assert.ok(!e.message.includes(SECRET));
      return true;
    });
  });

  test('history stores: TypeScript (node16, ESM and CommonJS) types the subpath; a store is a HistoryStore', () => {
    const body = `const s: HistoryStore = memoryHistoryStore();
const sync: boolean = memoryHistoryStore().append('k', 1, '{}');
async function f(): Promise<void> {
  const opening: Promise<SqliteHistoryStore> = sqliteHistoryStore('h.db');
  const sq = await opening;
  const listed: string[] = sq.list('k');
  const r = await redisHistoryStore('redis://127.0.0.1:6379', { timeoutMs: 1000 });
  const added: boolean = await r.append('k', 1, '{}');
  const any = await openHistoryStore('memory:');
  await any.close();
  // @ts-expect-error at is a number
  sq.append('k', '1', '{}');
  void [listed, added, s, sync];
}
void f;
`;
    write('stores-types.mts', `import { memoryHistoryStore, sqliteHistoryStore, redisHistoryStore, openHistoryStore, type HistoryStore, type SqliteHistoryStore } from 'powerpost-analytics/stores';\n${body}`);
    write('stores-types.cts', `import { memoryHistoryStore, sqliteHistoryStore, redisHistoryStore, openHistoryStore, type HistoryStore, type SqliteHistoryStore } from 'powerpost-analytics/stores';\n${body}`);
    const tsconfig = write('tsconfig.stores.json', JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, module: 'node16', moduleResolution: 'node16', target: 'es2022', lib: ['es2022'], types: [], skipLibCheck: false },
      files: ['stores-types.mts', 'stores-types.cts'],
    }));
    try {
      ctx.sh(path.join(ctx.root, 'node_modules', '.bin', 'tsc'), ['-p', tsconfig], { cwd: ctx.project });
    } catch (e) {
      assert.fail(`tsc failed:\n${e.stdout}${e.stderr}`);
    }
  });

  test('dev server: simulated days (dayMs 200): one snapshot per day, the gap, the correction, fetched_at stops after 90 days; default dayMs answers today\'s numbers', async () => {
    const DAY_MS = 200;
    const server = await ctx.startDevServer({ port: 0, dayMs: DAY_MS });
    const IG = '550e8400-e29b-41d4-a716-446655440000';
    const TT = '6f1c2b7e-8a43-4d2c-9e15-3b7d0c9a1f22';
    const PIN = 'c3d2e1f0-1a2b-4c3d-8e4f-5a6b7c8d9e0f';
    const GEN = 'gen-days';
    try {
      const info = await (await fetch(`${server.url}/__dev/info`)).json();
      assert.equal(info.dayMs, DAY_MS);
      assert.deepEqual(Object.keys(info.postedAt), info.items, '/__dev/info: postedAt for each item');
      assert.equal(info.postedAt['1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a'], null, 'a draft has none');
      const get = async (id) => {
        const t0 = Date.now();
        const body = await (await fetch(`${server.url}/api/v1/post-items/${id}/analytics`, { headers: { 'x-api-key': server.apiKey, 'x-workspace-id': server.workspaceId } })).json();
        return { t0, t1: Date.now(), metrics: body.metrics };
      };
      const history = async (id) => (await fetch(`${server.url}/__dev/history?id=${encodeURIComponent(id)}`)).json();
      const ids = [IG, TT, PIN, GEN];
      const posted = Object.fromEntries(ids.map((id) => [id, Date.parse(info.postedAt[id] ?? '')]));
      posted[GEN] = Date.parse((await history(GEN)).postedAt);
      // The oracle: the day a request answers lies between the days current when it left and
      // when it came back (a skipped day answers the day before); never past 90.
      const day = (id, t, skipped) => {
        for (let k = Math.min(90, Math.floor((t - posted[id]) / DAY_MS)); k >= 1; k--) if (!skipped.includes(k)) return k;
        return 0;
      };
      const seen = Object.fromEntries(ids.map((id) => [id, []]));
      const until = Date.now() + 9 * DAY_MS + 500; // past the gap (day 15) and the correction (day 12)
      while (Date.now() < until) {
        for (const id of ids) seen[id].push(await get(id));
        await sleep(20);
      }
      const histories = Object.fromEntries(await Promise.all(ids.map(async (id) => [id, await history(id)])));
      const skippedOf = (id) => histories[id].skipped.map((s) => s.day);
      assert.deepEqual(skippedOf(IG), [15], 'the instagram reel skipped day 15 (the gap)');
      assert.deepEqual(histories[TT].corrected, [12], 'the tiktok video was corrected on day 12');
      for (const id of ids) {
        const h = histories[id];
        const days = h.snapshots.map((s) => (Date.parse(s.fetched_at) - posted[id]) / DAY_MS);
        assert.ok(days.every(Number.isInteger), `${id}: each fetched_at is postedAt + k days (${days.slice(0, 3)})`);
        const expected = Array.from({ length: days[days.length - 1] }, (_, i) => i + 1).filter((k) => !skippedOf(id).includes(k));
        assert.deepEqual(days, expected, `${id}: one snapshot per day, in order, none on a skipped day`);
        assert.match(h.snapshots[0].fetched_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'milliseconds when a day is not whole seconds');
        for (const r of seen[id]) {
          const k = r.metrics ? (Date.parse(r.metrics.fetched_at) - posted[id]) / DAY_MS : 0;
          const lo = day(id, r.t0, skippedOf(id));
          const hi = day(id, r.t1, skippedOf(id));
          assert.ok(k >= lo && k <= hi, `${id}: a request between day ${lo} and ${hi} answered day ${k}`);
          if (k > 0) assert.deepEqual(r.metrics, { ...h.snapshots.find((s) => s.fetched_at === r.metrics.fetched_at), fetched_at: r.metrics.fetched_at },
            `${id}: the API answered the snapshot /__dev/history lists`);
        }
        const counts = h.snapshots.map((s) => s.views);
        for (let i = 1; i < counts.length; i++) {
          const corrected = id === TT && days[i] === 12;
          if (corrected) {
            assert.ok(h.snapshots[i].views < h.snapshots[i - 1].views && h.snapshots[i].likes < h.snapshots[i - 1].likes, 'day 12: views and likes go down');
          } else {
            assert.ok(counts[i] > counts[i - 1], `${id}: views grow from day ${days[i - 1]} to ${days[i]} (${counts[i - 1]} → ${counts[i]})`);
            assert.ok(h.snapshots[i].likes >= h.snapshots[i - 1].likes && h.snapshots[i].comments >= h.snapshots[i - 1].comments, `${id}: likes and comments never go down`);
          }
        }
      }
      // The gap as a client sees it: asked during day 15, the API answered day 14.
      const due15 = posted[IG] + 15 * DAY_MS;
      const during = seen[IG].filter((r) => r.t0 >= due15 && r.t1 < due15 + DAY_MS);
      assert.ok(during.length > 0, 'requests were made during day 15');
      for (const r of during) assert.equal(r.metrics.fetched_at, histories[IG].snapshots.find((s) => Date.parse(s.fetched_at) === posted[IG] + 14 * DAY_MS).fetched_at);
      assert.ok(seen[TT].some((r) => r.metrics && Date.parse(r.metrics.fetched_at) === posted[TT] + 12 * DAY_MS), 'the corrected day was answered');
      // The 90 days: the pinterest pin (posted 84 days before start-up) is complete; fetched_at stops.
      assert.equal(histories[PIN].complete, true);
      assert.equal(histories[PIN].snapshots.length, 90);
      const last = histories[PIN].snapshots[89].fetched_at;
      assert.equal(Date.parse(last), posted[PIN] + 90 * DAY_MS);
      const after = seen[PIN].filter((r) => r.t0 >= posted[PIN] + 91 * DAY_MS);
      assert.ok(after.length > 5 && after.every((r) => r.metrics.fetched_at === last), 'after day 90 the API answers day 90');
      assert.equal(histories[GEN].snapshots[0].fetched_at, new Date(posted[GEN] + DAY_MS).toISOString(), 'a gen- item: first snapshot a day after posting');
    } finally {
      await server.close();
    }
    // Real days (the default): the numbers existing tests and the README use, at the times they had.
    const real = await ctx.startDevServer({ port: 0 });
    try {
      const DAY = 86_400_000;
      const now = Date.now();
      const nine = Math.floor(now / DAY) * DAY + 9 * 3_600_000;
      const lastPoll = nine <= now ? nine : nine - DAY;
      const iso = (ms) => new Date(ms).toISOString().replace('.000Z', 'Z');
      const want = {
        '550e8400-e29b-41d4-a716-446655440000': [12450, 890, 42, lastPoll], '6f1c2b7e-8a43-4d2c-9e15-3b7d0c9a1f22': [98213, 7301, 512, lastPoll],
        '0b9e4d1a-5c6f-4e8b-a2d3-7f1e9c8b6a54': [4310, 233, 19, lastPoll - DAY], 'c3d2e1f0-1a2b-4c3d-8e4f-5a6b7c8d9e0f': [2750, 61, 0, lastPoll],
        '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d': [50210, 1204, 87, lastPoll - 30 * DAY],
      };
      for (const [id, [views, likes, comments, at]] of Object.entries(want)) {
        const body = await (await fetch(`${real.url}/api/v1/post-items/${id}/analytics`, { headers: { 'x-api-key': real.apiKey, 'x-workspace-id': real.workspaceId } })).json();
        assert.deepEqual(body.metrics, { views, likes, comments, fetched_at: iso(at) }, id);
        assert.deepEqual(Object.keys(body).sort(), ['metrics', 'platform', 'post_item_id', 'post_type', 'status'], `${id}: no simulation fields in the body`);
      }
      const gen = await (await fetch(`${real.url}/api/v1/post-items/gen-real/analytics`, { headers: { 'x-api-key': real.apiKey, 'x-workspace-id': real.workspaceId } })).json();
      assert.equal(gen.metrics.fetched_at, iso(Math.floor(Date.now() / DAY) * DAY), 'gen- items: polled at midnight UTC');
      assert.equal((await (await fetch(`${real.url}/__dev/info`)).json()).dayMs, DAY);
    } finally {
      await real.close();
    }
  });

  test('powerpost-dev-server bin: --day-ms sets the simulated day (in --help; 0 refused)', async () => {
    const bin = path.join(ctx.project, 'node_modules', '.bin', 'powerpost-dev-server');
    const help = await ctx.run(process.execPath, [bin, '--help'], { env: process.env, cwd: ctx.project });
    assert.match(help.stdout, /--day-ms N/);
    const zero = await ctx.run(process.execPath, [bin, '--day-ms', '0'], { env: process.env, cwd: ctx.project });
    assert.equal(zero.code, 2);
    assert.match(zero.stderr, /--day-ms needs a whole number >= 1/);
    const child = spawn(process.execPath, [bin, '--port', '0', '--day-ms', '250', '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no URL in 30 s')), 30_000);
        child.stdout.once('data', (d) => { clearTimeout(timer); resolve(String(d).trim()); });
      });
      assert.equal((await (await fetch(`${url}/__dev/info`)).json()).dayMs, 250);
    } finally {
      child.kill('SIGKILL');
    }
  });
}
