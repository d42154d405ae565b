// Snapshot history end to end (issue #28), from the packed package against the dev server's
// simulated days, counted at the dev server: the recorder's cost over 30 days, two recorders
// sharing a real redis-server, redis-server killed and started again mid-run, the CLI killed
// with SIGKILL and run again over SQLite, and the proxy's history route under the lookup's rules.
// Registered by package.test.mjs, which owns the package.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { installLockedPackages, freePort, startRedis } from './proxy.mjs';

const KEY = 'pp_test_sk_local_dev';
const WS = 'ws_local_dev';
const REEL = '550e8400-e29b-41d4-a716-446655440000'; // skips a day three days after start-up
const TIKTOK = '6f1c2b7e-8a43-4d2c-9e15-3b7d0c9a1f22'; // corrected downwards four days after start-up
const FACEBOOK = '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d'; // its 90 days are over: complete
const DRAFT = '1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a'; // no metrics: records nothing
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A recorder loop: `recordSnapshots(IDS)` every PASS_MS until RUN_MS is over; prints what it kept. */
const RECORDER = `import { PowerPost } from 'powerpost-analytics';
const ids = JSON.parse(process.env.IDS);
const day = Number(process.env.DAY_MS);
let store;
if (process.env.STORE) store = await (await import('powerpost-analytics/stores')).openHistoryStore(process.env.STORE);
const warnings = [];
const logger = { error: (l) => warnings.push(l), warn: (l) => warnings.push(l), info() {}, debug() {} };
const client = new PowerPost({ apiKey: '${KEY}', workspaceId: '${WS}', baseUrl: process.env.API, logger,
  history: store ? { store, snapshotIntervalMs: day } : { snapshotIntervalMs: day } });
const end = Date.now() + Number(process.env.RUN_MS);
const totals = { passes: 0, recorded: 0, errors: [], lastPassAt: 0 };
process.stdout.write('started\\n');
while (Date.now() < end) {
  totals.lastPassAt = Date.now();
  const s = await client.recordSnapshots(ids, { maxRetries: 0 });
  totals.passes++;
  totals.recorded += s.recorded;
  totals.errors.push(...s.errors.map((e) => e.postItemId + ': ' + e.error.message));
  await new Promise((r) => setTimeout(r, Number(process.env.PASS_MS)));
}
// The store may have failed last: give the backlog its chance, as the next pass would.
for (let i = 0; i < 100 && (await client.recordSnapshots([], {})).pending; i++) await new Promise((r) => setTimeout(r, 100));
const histories = {};
for (const id of ids) histories[id] = await client.getPostItemHistory(id);
process.stdout.write(JSON.stringify({ totals, histories, warnings }) + '\\n');
await store?.close?.();
`;

const lastLine = (out) => JSON.parse(out.trim().split('\n').pop());

/** What the dev server says it took for `id`, and how many requests it saw for it. */
async function serverSide(upstream, id) {
  const taken = await (await fetch(`${upstream.url}/__dev/history?id=${encodeURIComponent(id)}`)).json();
  const { count } = await (await fetch(`${upstream.url}/__dev/requests?id=${encodeURIComponent(id)}`)).json();
  return { taken, count };
}

/**
 * The snapshots the dev server took from the recorder's first look to `end`: from the first one
 * recorded (checked to be no older than the one current at `start`, when the recorder was started).
 */
function takenWhileRecording(taken, got, start, end) {
  const all = taken.snapshots;
  const currentAtStart = all.filter((s) => Date.parse(s.fetched_at) <= start).pop();
  assert.ok(got.length > 0, 'something was recorded');
  const first = Date.parse(got[0].fetched_at);
  assert.ok(!currentAtStart || first >= Date.parse(currentAtStart.fetched_at), `the first snapshot recorded is not older than the one current at the start (${got[0].fetched_at})`);
  return all.filter((s) => Date.parse(s.fetched_at) >= first && Date.parse(s.fetched_at) <= end);
}

/** A redis-server that keeps its data across a kill. */
const startDurableRedis = (dir, port) => startRedis(dir, port, { durable: true });

function killByPid(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    process.kill(child.pid, 'SIGKILL');
  });
}

/** Starts `node script` in the consumer project; resolves once it printed "started". */
function startChild(ctx, node, script, env) {
  const child = spawn(node, [script], { cwd: ctx.project, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const started = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${path.basename(script)} did not start in 60 s\n${err}`)), 60_000);
    child.stdout.on('data', () => { if (out.includes('started\n')) { clearTimeout(timer); resolve(); } });
    child.once('exit', (c) => { clearTimeout(timer); reject(new Error(`${path.basename(script)} exited ${c}\n${err}`)); });
  });
  const done = new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${path.basename(script)} hung\n${err}`)); }, 180_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`${path.basename(script)} exited ${code}\n${err}\n${out}`));
      resolve(JSON.parse(out.trim().split('\n').pop()));
    });
  });
  return { child, started, done, stderr: () => err };
}

export function registerHistoryTests(test, ctx) {
  const write = (name, text) => {
    const file = path.join(ctx.project, name);
    fs.writeFileSync(file, text);
    return file;
  };
  const tmp = (name) => fs.mkdtempSync(path.join(ctx.work, `${name}-`));

  test('history: a recorder run every 20 ms over 30 simulated days spends one request per snapshot, plus the documented late and weekly checks (counted at the dev server)', async () => {
    const DAY = 250;
    const RUN = 30 * DAY;
    const upstream = await ctx.startDevServer({ port: 0, dayMs: DAY });
    try {
      const ids = ['gen-rec1', 'gen-rec2', REEL, TIKTOK, FACEBOOK, DRAFT];
      const start = Date.now();
      const { totals, histories } = await ctx.runScript(ctx.NODES[20], write('hist-recorder.mjs', RECORDER), {
        env: { API: upstream.url, IDS: JSON.stringify(ids), DAY_MS: String(DAY), RUN_MS: String(RUN), PASS_MS: '20' },
      }).then(lastLine);
      const end = totals.lastPassAt;
      assert.deepEqual(totals.errors, []);
      assert.ok(totals.passes >= 100, `the recorder ran often (${totals.passes} passes)`);
      const lateCheckMs = DAY / 24; // an hour of a 24 h day
      for (const id of ['gen-rec1', 'gen-rec2', TIKTOK]) {
        const { taken, count } = await serverSide(upstream, id);
        const got = histories[id].snapshots;
        const want = takenWhileRecording(taken, got, start, end);
        assert.deepEqual(got, want, `${id}: every snapshot taken while it ran, once each, as taken`);
        assert.ok(got.length >= 28, `${id}: about 30 days recorded (${got.length})`);
        assert.equal(count, got.length, `${id}: exactly one upstream request per snapshot (${count} requests, ${got.length} snapshots)`);
      }
      const tiktok = histories[TIKTOK];
      assert.ok(tiktok.gains.some((g) => g.views < 0), 'a correction downwards is kept as a negative gain');
      assert.equal(tiktok.gains.length, tiktok.snapshots.length - 1);
      // The reel: PowerPost skipped a day, so while it was late the recorder looked again once per late-check spacing.
      const reel = await serverSide(upstream, REEL);
      const reelGot = histories[REEL];
      const skippedWhileRunning = reel.taken.skipped.filter((s) => Date.parse(s.due) > start && Date.parse(s.due) < end);
      assert.equal(skippedWhileRunning.length, 1, `the dev server skipped one day of the reel while it ran: ${JSON.stringify(reel.taken.skipped)}`);
      assert.deepEqual(reelGot.gaps.map((g) => Date.parse(g.expected_at)), skippedWhileRunning.map((s) => Date.parse(s.due)), 'the gap, at its expected time');
      const lateBound = reelGot.snapshots.length + Math.ceil(DAY / lateCheckMs) + 1;
      assert.ok(reel.count >= reelGot.snapshots.length && reel.count <= lateBound,
        `reel: ${reel.count} requests for ${reelGot.snapshots.length} snapshots (at most one more per ${lateCheckMs} ms while PowerPost was late: ${lateBound})`);
      // Complete: asked again at most once a (simulated) week.
      const fb = await serverSide(upstream, FACEBOOK);
      assert.equal(histories[FACEBOOK].complete, true, 'a series past its 90 days is complete');
      assert.equal(histories[FACEBOOK].snapshots.length, 1);
      const weekly = 1 + Math.ceil((end - start) / (7 * DAY));
      assert.ok(fb.count >= 1 && fb.count <= weekly, `complete series: ${fb.count} requests over ${end - start} ms (at most ${weekly})`);
      assert.deepEqual(histories[DRAFT].snapshots, [], 'an item without metrics records nothing');
    } finally {
      await upstream.close();
    }
  });

  test('history: two recorder processes sharing a real redis-server record each snapshot once', async () => {
    installLockedPackages(ctx);
    const DAY = 300;
    const upstream = await ctx.startDevServer({ port: 0, dayMs: DAY });
    const redis = await startDurableRedis(tmp('redis-two'), await freePort());
    try {
      const ids = ['gen-two1', 'gen-two2', TIKTOK];
      const script = write('hist-recorder.mjs', RECORDER);
      const env = { API: upstream.url, IDS: JSON.stringify(ids), DAY_MS: String(DAY), RUN_MS: String(12 * DAY), PASS_MS: '15', STORE: redis.url };
      const start = Date.now();
      const [a, b] = [startChild(ctx, ctx.NODES[20], script, env), startChild(ctx, ctx.NODES[22], script, env)];
      const [ra, rb] = await Promise.all([a.done, b.done]);
      const end = Math.min(ra.totals.lastPassAt, rb.totals.lastPassAt);
      // The raw series, as the store holds it.
      const raw = await ctx.runScript(ctx.NODES[20], write('hist-raw.mjs', `import { openHistoryStore } from 'powerpost-analytics/stores';
const s = await openHistoryStore(process.env.STORE);
const out = {};
for (const id of JSON.parse(process.env.IDS)) out[id] = await s.list('powerpost-analytics/history/v1 ' + process.env.API + ' ${WS} ' + id);
await s.close();
process.stdout.write(JSON.stringify(out));`), { env }).then(JSON.parse);
      for (const id of ids) {
        const { taken } = await serverSide(upstream, id);
        const want = takenWhileRecording(taken, ra.histories[id].snapshots, start, end);
        const times = raw[id].map((t) => JSON.parse(t).fetched_at);
        assert.equal(new Set(times).size, times.length, `${id}: each snapshot stored once (${times.length} entries)`);
        assert.deepEqual(times.sort().filter((t) => Date.parse(t) <= end), want.map((s) => s.fetched_at), `${id}: every snapshot taken while they ran`);
        assert.deepEqual(ra.histories[id].snapshots.filter((s) => Date.parse(s.fetched_at) <= end), want);
        const upTo = (h) => h.snapshots.filter((s) => Date.parse(s.fetched_at) <= end);
        assert.deepEqual(upTo(rb.histories[id]), upTo(ra.histories[id]), 'both see the same series');
      }
    } finally {
      await killByPid(redis.child);
      await upstream.close();
    }
  });

  test('history: redis-server killed mid-run and started again: nothing recorded is lost, and what was fetched meanwhile is written once it is back', async () => {
    installLockedPackages(ctx);
    const DAY = 400;
    const upstream = await ctx.startDevServer({ port: 0, dayMs: DAY });
    const dir = tmp('redis-kill');
    const port = await freePort();
    let redis = await startDurableRedis(dir, port);
    try {
      const ids = ['gen-kill1', TIKTOK];
      const env = { API: upstream.url, IDS: JSON.stringify(ids), DAY_MS: String(DAY), RUN_MS: String(14 * DAY), PASS_MS: '20', STORE: redis.url };
      const start = Date.now();
      const rec = startChild(ctx, ctx.NODES[20], write('hist-recorder.mjs', RECORDER), env);
      await rec.started;
      await sleep(4 * DAY);
      await killByPid(redis.child);
      const downFrom = Date.now();
      await sleep(4 * DAY); // four days without a store: the snapshots wait in the recorder's memory
      redis = await startDurableRedis(dir, port);
      const downTo = Date.now();
      const result = await rec.done;
      const end = result.totals.lastPassAt;
      const whileDown = (s) => Date.parse(s.fetched_at) > downFrom && Date.parse(s.fetched_at) < downTo;
      for (const id of ids) {
        const { taken } = await serverSide(upstream, id);
        const want = takenWhileRecording(taken, result.histories[id].snapshots, start, end);
        assert.ok(want.filter(whileDown).length >= 3, `${id}: days passed while Redis was down`);
        assert.deepEqual(result.histories[id].snapshots, want, `${id}: every snapshot, those fetched while Redis was down included`);
      }
      // And they are in Redis itself, not only in the recorder's memory: a fresh reader sees them.
      const reader = await ctx.runScript(ctx.NODES[20], write('hist-read.mjs', `import { PowerPost } from 'powerpost-analytics';
import { openHistoryStore } from 'powerpost-analytics/stores';
const store = await openHistoryStore(process.env.STORE);
const c = new PowerPost({ apiKey: '${KEY}', workspaceId: '${WS}', baseUrl: process.env.API, history: { store, snapshotIntervalMs: Number(process.env.DAY_MS) } });
const out = {};
for (const id of JSON.parse(process.env.IDS)) out[id] = (await c.getPostItemHistory(id)).snapshots;
await store.close();
process.stdout.write(JSON.stringify(out));`), { env }).then(JSON.parse);
      for (const id of ids) assert.deepEqual(reader[id], result.histories[id].snapshots, `${id}: in Redis after the outage`);
      const failures = result.warnings.filter((w) => /history store failed/.test(w));
      assert.equal(failures.length, 1, `one warning for the outage:\n${result.warnings.join('\n')}`);
    } finally {
      await killByPid(redis.child);
      await upstream.close();
    }
  });

  test('history: the CLI recorder killed with SIGKILL and run again loses nothing in SQLite (Node 24)', async () => {
    // Long enough days that two CLI starts fit in one.
    const DAY = 1500;
    const upstream = await ctx.startDevServer({ port: 0, dayMs: DAY });
    const db = path.join(tmp('cli-sqlite'), 'history.sqlite');
    const cli = path.join(ctx.project, 'node_modules', 'powerpost-analytics', 'bin', 'powerpost-analytics.mjs');
    const env = { ...process.env, POWERPOST_API_KEY: KEY, POWERPOST_WORKSPACE_ID: WS, POWERPOST_BASE_URL: upstream.url };
    const ids = ['gen-cli1', 'gen-cli2'];
    const history = async (id) => {
      const r = await ctx.run(ctx.NODES[24], [cli, 'history', id, '--store', `sqlite:${db}`, '--snapshot-interval', `${DAY}ms`, '--json'], { env, cwd: ctx.project });
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /ExperimentalWarning|key/i);
      return JSON.parse(r.stdout).snapshots.map((s) => s.fetched_at);
    };
    try {
      const recorded = { n: 0 };
      const child = spawn(ctx.NODES[24], [cli, 'record', ...ids, '--store', `sqlite:${db}`, '--every', '30ms', '--snapshot-interval', `${DAY}ms`, '--json'],
        { cwd: ctx.project, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the recorder printed fewer than 6 new snapshots in 60 s\n${err}\n${out}`)), 60_000);
        child.stdout.on('data', (d) => {
          out += d;
          recorded.n = out.trim().split('\n').filter(Boolean).reduce((n, l) => n + JSON.parse(l).recorded, 0);
          if (recorded.n >= 6 && child.exitCode === null) { clearTimeout(timer); process.kill(child.pid, 'SIGKILL'); resolve(); }
        });
        child.once('exit', (c, s) => { if (s !== 'SIGKILL') { clearTimeout(timer); reject(new Error(`exited ${c}\n${err}`)); } });
      });
      await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', r)));
      const after = { [ids[0]]: await history(ids[0]), [ids[1]]: await history(ids[1]) };
      const kept = after[ids[0]].length + after[ids[1]].length;
      assert.ok(kept >= recorded.n, `every snapshot a pass reported recorded is in SQLite after the kill (${kept} >= ${recorded.n})`);
      // Run again, just after a day began (gen- items' days start at multiples of DAY): one pass;
      // what was there stays, and the new ones join it.
      await sleep(DAY + (DAY - (Date.now() % DAY)) + 50);
      const again = await ctx.run(ctx.NODES[24], [cli, 'record', ...ids, '--store', `sqlite:${db}`, '--snapshot-interval', `${DAY}ms`], { env, cwd: ctx.project });
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /2 looked up, 0 not due, 2 new snapshots/);
      for (const id of ids) {
        const now = await history(id);
        assert.deepEqual(now.slice(0, after[id].length), after[id], `${id}: nothing lost`);
        assert.equal(now.length, after[id].length + 1, `${id}: the new snapshot joined`);
      }
      // A pass right after costs nothing: nothing is due.
      const { count: before } = await serverSide(upstream, ids[0]);
      const idle = await ctx.run(ctx.NODES[24], [cli, 'record', ...ids, '--store', `sqlite:${db}`, '--snapshot-interval', `${DAY}ms`], { env, cwd: ctx.project });
      assert.equal(idle.code, 0, idle.stderr);
      assert.equal((await serverSide(upstream, ids[0])).count, before, 'an item fetched less than a day ago costs nothing');
      // Node 20 has no node:sqlite: a clear error, exit 2.
      const old = await ctx.run(ctx.NODES[20], [cli, 'record', ids[0], '--store', `sqlite:${db}`], { env, cwd: ctx.project });
      assert.equal(old.code, 2);
      assert.match(old.stderr, /Node 22\.\d+ or newer.*redis:\/\//s);
      // A failing id and an invalid one: exit 1, the others recorded.
      // Real days here: PowerPost's 404 is asked again after an hour, not after 1/24 of a simulated day.
      const mixedArgs = [cli, 'record', 'gen-cli3', 'fault-404-html', 'x'.repeat(300), '--store', `sqlite:${db}`];
      const mixed = await ctx.run(ctx.NODES[24], mixedArgs, { env, cwd: ctx.project });
      assert.equal(mixed.code, 1, mixed.stderr);
      assert.match(mixed.stdout, /2 looked up, 0 not due, 1 new snapshot, 2 failed/);
      assert.match(mixed.stderr, /InvalidArgumentError/);
      const r3 = await ctx.run(ctx.NODES[24], [cli, 'history', 'gen-cli3', '--store', `sqlite:${db}`, '--json'], { env, cwd: ctx.project });
      assert.equal(JSON.parse(r3.stdout).snapshots.length, 1, r3.stderr);
      // PowerPost's 404 holds until the next check: a pass right after does not ask again.
      const { count: asked } = await serverSide(upstream, 'fault-404-html');
      const again404 = await ctx.run(ctx.NODES[24], mixedArgs, { env, cwd: ctx.project });
      assert.equal(again404.code, 1, again404.stderr);
      assert.equal((await serverSide(upstream, 'fault-404-html')).count, asked, 'a 404 id is not asked again before its next check');
      // Interrupted (a cron job's timeout): not a success.
      const hung = spawn(ctx.NODES[24], [cli, 'record', 'fault-hang', '--store', `sqlite:${db}`, '--snapshot-interval', `${DAY}ms`], { cwd: ctx.project, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let hungErr = '';
      hung.stderr.on('data', (d) => (hungErr += d));
      await sleep(1500);
      hung.kill('SIGTERM');
      const hungCode = await new Promise((r) => hung.once('exit', (c) => r(c)));
      assert.equal(hungCode, 130, hungErr);
      assert.match(hungErr, /interrupted/);
      assert.ok(![old, mixed, again].some((r) => `${r.stdout}${r.stderr}`.includes(KEY)), 'the key is never printed');
    } finally {
      await upstream.close();
    }
  });

  test('history: the proxy route …/analytics/history: the lookup\'s id rules, methods, CORS, authorize; 404 without history; never upstream; the browser client reads it', async () => {
    const upstream = await ctx.startDevServer({ port: 0, dayMs: 200 });
    const dist = (f) => import(path.join(ctx.project, 'node_modules', 'powerpost-analytics', 'dist', f));
    const { createProxyHandler } = await dist('proxy.js');
    const { PowerPost } = await dist('index.js');
    const { memoryHistoryStore } = await dist('stores.js');
    const base = { apiKey: KEY, workspaceId: WS, baseUrl: upstream.url, basePath: '/pp', logLevel: 'off' };
    const store = memoryHistoryStore();
    const history = { store, snapshotIntervalMs: 200 };
    let allow = true;
    const handler = createProxyHandler({ ...base, history, allowedOrigins: ['https://app.example'],
      authorize: (req) => { if (req.headers.get('x-boom')) throw new Error('boom'); return allow; } });
    const plain = createProxyHandler({ ...base, allowAnonymous: true });
    const requests = async () => (await (await fetch(`${upstream.url}/__dev/requests`)).json()).count;
    const call = (h, pathname, init = {}) => h(new Request(`http://proxy.test${pathname}`, init));
    try {
      // Two lookups a day apart through the proxy record two snapshots.
      assert.equal((await call(handler, `/pp/api/v1/post-items/gen-route/analytics`)).status, 200);
      await sleep(250);
      assert.equal((await call(handler, `/pp/api/v1/post-items/gen-route/analytics`)).status, 200);
      const before = await requests();
      const ok = await call(handler, '/pp/api/v1/post-items/gen-route/analytics/history');
      assert.equal(ok.status, 200);
      assert.match(ok.headers.get('cache-control'), /private/);
      assert.equal(ok.headers.get('x-powerpost-snapshot-interval-ms'), '200');
      const body = await ok.json();
      assert.deepEqual(Object.keys(body), ['post_item_id', 'snapshots', 'gains', 'gaps', 'complete']);
      assert.equal(body.snapshots.length, 2);
      assert.equal(body.gains.length, 1);
      const head = await call(handler, '/pp/api/v1/post-items/gen-route/analytics/history', { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(await head.text(), '');
      const rows = [
        ['a%2Fb', 404], ['%2e%2e', 404], ['x%00', 404], ['%zz', 404], ['a%25b', 404], ['x'.repeat(257), 404],
      ];
      for (const [id, status] of rows) {
        const r = await call(handler, `/pp/api/v1/post-items/${id}/analytics/history`);
        assert.equal(r.status, status, id);
        assert.equal((await r.json()).error.code, 'NOT_FOUND', id);
      }
      for (const tail of ['/analytics/history/', '/analytics/historyx', '/analytics/history/x', '/history']) {
        assert.equal((await call(handler, `/pp/api/v1/post-items/gen-route${tail}`)).status, 404, tail);
      }
      for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
        const r = await call(handler, '/pp/api/v1/post-items/gen-route/analytics/history', { method });
        assert.equal(r.status, 405, method);
        assert.match(r.headers.get('allow'), /GET, HEAD/);
      }
      const cross = await call(handler, '/pp/api/v1/post-items/gen-route/analytics/history', { headers: { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' } });
      assert.equal(cross.status, 403);
      const cors = await call(handler, '/pp/api/v1/post-items/gen-route/analytics/history', { headers: { 'sec-fetch-site': 'cross-site', origin: 'https://app.example' } });
      assert.equal(cors.status, 200);
      assert.equal(cors.headers.get('access-control-allow-origin'), 'https://app.example');
      assert.match(cors.headers.get('access-control-expose-headers'), /x-powerpost-snapshot-interval-ms/);
      const pre = await call(handler, '/pp/api/v1/post-items/gen-route/analytics/history', { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' } });
      assert.equal(pre.status, 204);
      allow = false;
      assert.equal((await call(handler, '/pp/api/v1/post-items/gen-route/analytics/history')).status, 401);
      allow = true;
      const boom = await call(handler, '/pp/api/v1/post-items/gen-route/analytics/history', { headers: { 'x-boom': '1' } });
      assert.equal(boom.status, 500);
      assert.doesNotMatch(await boom.text(), /boom/);
      const none = await call(plain, '/pp/api/v1/post-items/gen-route/analytics/history');
      assert.equal(none.status, 404);
      const noneBody = await none.json();
      assert.equal(noneBody.error.code, 'NOT_FOUND');
      assert.match(noneBody.error.message, /keeps no snapshot history/);
      assert.equal(await requests(), before, 'no history request, refused or answered, reached the upstream');
      // The browser client in proxy mode (no key) reads it through a real HTTP server.
      const { toNodeListener } = await dist('proxy.js');
      const server = http.createServer(toNodeListener(handler));
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      try {
        const client = new PowerPost({ baseUrl: `http://127.0.0.1:${server.address().port}/pp` });
        const h = await client.getPostItemHistory('gen-route');
        assert.deepEqual(h, body);
        const missing = await client.getPostItemHistory('gen-never').catch((e) => e);
        assert.deepEqual(missing.snapshots, [], 'an item never recorded has an empty history');
        const bad = await client.getPostItemHistory('').catch((e) => e);
        assert.equal(bad.name, 'InvalidArgumentError');
        const plainServer = http.createServer(toNodeListener(plain));
        await new Promise((r) => plainServer.listen(0, '127.0.0.1', r));
        try {
          const e = await new PowerPost({ baseUrl: `http://127.0.0.1:${plainServer.address().port}/pp` }).getPostItemHistory('gen-route').catch((x) => x);
          assert.equal(e.name, 'NotFoundError');
          assert.match(e.message, /keeps no snapshot history/);
        } finally {
          plainServer.close();
        }
      } finally {
        server.closeAllConnections();
        server.close();
      }
      // A server that echoes the key into a history body: the error quotes the value, never the key.
      const echo = http.createServer((req, res) => {
        const key = req.headers['x-api-key'];
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(req.url.includes('echo-id')
          ? JSON.stringify({ post_item_id: `id ${key}`, snapshots: [], gains: [], gaps: [], complete: false })
          : `{"post_item_id":"${req.url.split('/')[4]}","snapshots":[{"fetched_at":"${key.replace(/p/g, '\\u0070')}","views":1,"likes":1,"comments":1}],"gains":[],"gaps":[],"complete":false}`);
      });
      await new Promise((r) => echo.listen(0, '127.0.0.1', r));
      try {
        const keyed = new PowerPost({ apiKey: 'pp_live_sk_ECHOCANARY_0123456789', baseUrl: `http://127.0.0.1:${echo.address().port}` });
        for (const id of ['echo-id', 'echo-time']) {
          const e = await keyed.getPostItemHistory(id).catch((x) => x);
          assert.equal(e.name, 'InvalidResponseError', `${id}: ${e.message}`);
          const surfaces = JSON.stringify([e.message, e.received, e.expected, e.path, String(e.body ?? ''), e.stack]);
          assert.ok(!surfaces.includes('ECHOCANARY'), `${id}: the key is on the error: ${surfaces.slice(0, 300)}`);
        }
      } finally {
        echo.close();
      }
      const stored = await store.list(`powerpost-analytics/history/v1 ${upstream.url} ${WS} gen-route`);
      assert.equal(stored.length, 2);
      const text = JSON.stringify(stored) + JSON.stringify(body);
      assert.ok(!text.includes(KEY), 'the key is in no stored value and no answer');
    } finally {
      await upstream.close();
    }
  });
}
