// The proxy guards what it spends, the key's rate limit (issue #29), from the packed package:
// its smaller holes (TRACE's Allow, a client leaving during authorize, credentials in a quoted
// baseUrl), and the standalone CLI's /healthz and graceful shutdown with clients holding
// connections. Requests go over loopback HTTP to the dev server, which counts what reached it.
// Registered by package.test.mjs, which owns the package.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { installLockedPackages, rawRequest, readmeRedisStore, startHost, startRedis } from './proxy.mjs';

const analytics = (base, id) => `${base}/api/v1/post-items/${encodeURIComponent(id)}/analytics`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits until `check()` is truthy, polling, for at most `ms` (generous: never a tight timing). */
async function eventually(check, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(50);
  }
}

/** A raw socket to `url`'s host: `send(text)`, `received()`, `closed` (a promise). */
function rawSocket(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => resolve(handle));
    let data = '';
    const closed = new Promise((r) => socket.once('close', r));
    const handle = { socket, closed, send: (t) => socket.write(t), received: () => data };
    socket.setEncoding('utf8');
    socket.on('data', (d) => (data += d));
    socket.once('error', (e) => reject(e));
  });
}

/**
 * Registers the tests with `test`. `ctx`: project, here, startDevServer (getters where set in
 * before()), NODES, run.
 */
export function registerProxyGuardTests(test, ctx) {
  let upstream;
  const children = new Set();
  const setUp = async () => {
    upstream ??= await ctx.startDevServer({ port: 0 });
    return upstream;
  };
  const pkgFile = (...p) => path.join(ctx.project, 'node_modules', 'powerpost-analytics', ...p);
  const loadProxy = () => import(pkgFile('dist', 'proxy.js'));
  const cliEnv = (extra = {}) => ({
    ...process.env, POWERPOST_API_KEY: upstream.apiKey, POWERPOST_WORKSPACE_ID: upstream.workspaceId, POWERPOST_BASE_URL: upstream.url, ...extra,
  });
  const seen = async (id, api = upstream) => (await (await fetch(`${api.url}/__dev/requests?id=${encodeURIComponent(id)}`)).json());

  /** Starts `powerpost-analytics proxy args…`; resolves { url, child, output(), exit } once it listens. */
  const startCli = (args, env = cliEnv()) => new Promise((resolve, reject) => {
    const child = spawn(ctx.NODES[20], [pkgFile('bin', 'powerpost-analytics.mjs'), 'proxy', '--port', '0', ...args],
      { env, cwd: ctx.project, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    const exit = new Promise((r) => child.once('exit', (code, signal) => { children.delete(child); r({ code, signal, at: Date.now() }); }));
    const timer = setTimeout(() => reject(new Error(`the CLI printed no URL in 30 s:\n${out}`)), 30_000);
    child.stderr.on('data', (d) => (out += d));
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) { clearTimeout(timer); resolve({ url: m[1], origin: new URL(m[1]).origin, child, output: () => out, exit }); }
    });
    exit.then(({ code }) => { clearTimeout(timer); reject(new Error(`the CLI exited ${code}:\n${out}`)); });
  });

  /** A Node host (proxy-host.mjs) mounting `mounts` in front of `api`; stopped by the caller. */
  const host = (api, mounts, { redis } = {}) => {
    for (const f of ['proxy-host.mjs', 'proxy-mounts.mjs']) fs.copyFileSync(path.join(ctx.here, f), path.join(ctx.project, f));
    const env = { ...process.env, PROXY_SPEC: JSON.stringify({ mounts, redis: Boolean(redis) }), POWERPOST_API_KEY: api.apiKey, POWERPOST_WORKSPACE_ID: api.workspaceId,
      POWERPOST_BASE_URL: api.url, ...(redis ? { REDIS_URL: redis.url } : {}) };
    return startHost(ctx.NODES[20], ['proxy-host.mjs'], { env, cwd: ctx.project, what: 'Node host' });
  };

  test('proxy guard + Redis: at the rate limit one instance stops, writes the pause to the README store, and the other stops too until the reset', async () => {
    fs.writeFileSync(path.join(ctx.project, 'redis-store.mjs'), readmeRedisStore(ctx.root));
    installLockedPackages(ctx);
    const redis = await startRedis(fs.mkdtempSync(path.join(ctx.work, 'redis-')));
    // A budget of 10 requests per 5 s window: the 10th answer says X-RateLimit-Remaining: 0.
    const api = await ctx.startDevServer({ port: 0, rateLimit: 10, rateWindowMs: 5000 });
    const mounts = { '/pp': { allowAnonymous: true, cache: true, maxRetries: 0 } };
    const hosts = [await host(api, mounts, { redis }), await host(api, mounts, { redis })];
    try {
      await fetch(`${api.url}/__dev/reset`);
      // One at a time, alternating: the 10th lookup (instance 2) spends the budget; instance 1,
      // which never saw that answer, must not ask PowerPost either.
      const answers = [];
      for (let i = 0; i < 16; i++) answers.push(await rawRequest(hosts[i % 2].url, 'GET', analytics('/pp', `gen-limit-${i}`)));
      const upstreamSaw = async () => (await (await fetch(`${api.url}/__dev/requests`)).json()).requests.filter((r) => r.path.startsWith('/api/'));
      const saw = await upstreamSaw();
      assert.deepEqual(answers.slice(0, 10).map((a) => a.status), Array(10).fill(200), answers.slice(0, 10).map((a) => a.body.slice(0, 80)).join('\n'));
      assert.equal(saw.length, 10, `upstream requests during the pause: ${saw.map((r) => `${r.id} ${r.status}`).join(', ')}`);
      assert.ok(saw.every((r) => r.status === 200), 'PowerPost never answered 429: nobody asked past the budget');
      for (const [i, a] of answers.slice(10).entries()) {
        assert.equal(a.status, 429, `lookup ${10 + i} (instance ${(10 + i) % 2 + 1}): ${a.body}`);
        assert.equal(JSON.parse(a.body).error.code, 'RATE_LIMIT_EXCEEDED');
        assert.ok(Number(a.headers['retry-after']) >= 1 && Number(a.headers['retry-after']) <= 7, `Retry-After ${a.headers['retry-after']}`);
        assert.equal(a.headers['x-ratelimit-remaining'], '0');
      }
      // A cache hit is still served during the pause.
      const hit = await rawRequest(hosts[1].url, 'GET', analytics('/pp', 'gen-limit-0'));
      assert.equal(hit.status, 200, hit.body);
      // Past the reset both ask again.
      await sleep(Math.max(...answers.slice(10).map((a) => Number(a.headers['retry-after']))) * 1000 + 1000);
      const after = await Promise.all(hosts.map((h, i) => rawRequest(h.url, 'GET', analytics('/pp', `gen-after-${i}`))));
      assert.deepEqual(after.map((a) => a.status), [200, 200], after.map((a) => a.body).join('\n'));
      assert.equal((await upstreamSaw()).length, 12);
    } finally {
      for (const h of hosts) await h.stop();
      redis.child.kill('SIGKILL');
      await api.close();
    }
  });
  /** What the proxy answered: 200s, and refusals that say when to come back. */
  const tally = (answers) => {
    const out = { ok: 0, busy: 0, other: [] };
    for (const a of answers) {
      const code = a.status >= 400 ? (() => { try { return JSON.parse(a.body).error.code; } catch { return undefined; } })() : undefined;
      if (a.status === 200) out.ok++;
      else if (a.status === 503 && code === 'PROXY_BUSY' && Number(a.headers['retry-after']) >= 1 && a.headers['cache-control'] === 'no-store') out.busy++;
      else out.other.push(`${a.status} ${code ?? ''} retry-after ${a.headers?.['retry-after']} ${String(a.body).slice(0, 120)}`);
    }
    return out;
  };

  test('proxy guard: 2,000 concurrent lookups of distinct ids never have more than maxConcurrentUpstream (8) upstream at once, counted at the dev server; each is answered 200 or 503 PROXY_BUSY with Retry-After', async (t0) => {
    const api = await ctx.startDevServer({ port: 0 });
    const h = await host(api, { '/open': { allowAnonymous: true, callerLimit: false, maxRetries: 0 } });
    try {
      const ids = Array.from({ length: 2000 }, (_, i) => `fault-slow-50--d${i}`);
      const answers = await Promise.all(ids.map((id) => rawRequest(h.url, 'GET', analytics('/open', id)).catch((e) => ({ status: 'no answer', body: String(e) }))));
      const { peakInFlight, count } = await (await fetch(`${api.url}/__dev/requests`)).json();
      const t = tally(answers);
      assert.deepEqual(t.other, [], 'every lookup answered 200 or 503 PROXY_BUSY with Retry-After');
      assert.ok(peakInFlight >= 1 && peakInFlight <= 8, `at most 8 upstream requests at once; the dev server saw ${peakInFlight}`);
      assert.ok(t.ok >= 8 + 256, `${t.ok} answered, ${t.busy} refused as busy`);
      assert.equal(count, t.ok, 'one upstream request per answered lookup, none for a refused one');
      t0.diagnostic(`upstream at once: ${peakInFlight}; answered ${t.ok}, refused as busy ${t.busy}`);
    } finally {
      await h.stop();
      await api.close();
    }
  });

  test('proxy guard: maxConcurrentUpstream and maxQueue are options (2 and 4: 20 lookups at once, at most 2 upstream, the rest queued or refused), checked when the proxy is created', async () => {
    const api = await ctx.startDevServer({ port: 0 });
    const h = await host(api, { '/small': { allowAnonymous: true, callerLimit: false, maxRetries: 0, maxConcurrentUpstream: 2, maxQueue: 4 } });
    try {
      const ids = Array.from({ length: 20 }, (_, i) => `fault-slow-2000--s${i}`);
      const t = tally(await Promise.all(ids.map((id) => rawRequest(h.url, 'GET', analytics('/small', id)))));
      const { peakInFlight, count } = await (await fetch(`${api.url}/__dev/requests`)).json();
      assert.deepEqual(t.other, []);
      assert.ok(peakInFlight <= 2, `peak ${peakInFlight}`);
      assert.ok(t.ok >= 6 && t.busy >= 1 && t.ok + t.busy === 20, `${t.ok} answered, ${t.busy} busy`);
      assert.equal(count, t.ok);
      // Twenty lookups of one id are one upstream request, whatever the slots.
      await fetch(`${api.url}/__dev/reset`);
      const same = tally(await Promise.all(Array.from({ length: 20 }, () => rawRequest(h.url, 'GET', analytics('/small', 'fault-slow-300--same')))));
      assert.equal(same.ok, 20);
      assert.equal((await seen('fault-slow-300--same', api)).count, 1);
    } finally {
      await h.stop();
      await api.close();
    }
    const { createProxyHandler } = await loadProxy();
    for (const [options, pattern] of [[{ maxConcurrentUpstream: 0 }, /maxConcurrentUpstream. must be a whole number from 1/], [{ maxQueue: -1 }, /maxQueue. must be a whole number from 0/],
      [{ maxQueue: '8' }, /maxQueue. must be a number/], [{ maxconcurrentupstream: 4 }, /did you mean .maxConcurrentUpstream./]]) {
      assert.throws(() => createProxyHandler({ allowAnonymous: true, apiKey: 'k', baseUrl: 'http://127.0.0.1:9', ...options }),
        (e) => e.name === 'InvalidArgumentError' && pattern.test(e.message), JSON.stringify(options));
    }
  });

  test('proxy guard: created without the key (a build without secrets), it answers 500 PROXY_MISCONFIGURED logged once, serves once the key is set; x-powerpost-cache only with a cache', async () => {
    await setUp();
    const script = path.join(ctx.project, 'proxy-no-key.mjs');
    fs.writeFileSync(script, `import { createProxyHandler } from 'powerpost-analytics/proxy';
const lines = [];
const logger = Object.fromEntries(['error', 'warn', 'info', 'debug'].map((level) => [level, (line) => lines.push([level, line])]));
const thrown = (options) => { try { createProxyHandler(options); return null; } catch (e) { return e.name + ': ' + e.message; } };
// What is code, not environment, still fails at once.
const refused = [thrown({ allowAnonymus: true }), thrown({ basePath: '/x' }), thrown({ allowAnonymous: true, baseUrl: 'ftp://x' })];
const plain = createProxyHandler({ basePath: '/pp', allowAnonymous: true, logger });
const cached = createProxyHandler({ basePath: '/pp', allowAnonymous: true, cache: true });
const url = (id) => 'http://h/pp/api/v1/post-items/' + id + '/analytics';
const before = [];
for (const id of ['gen-a', 'gen-b', 'gen-c']) {
  const r = await plain(new Request(url(id)));
  before.push([r.status, (await r.json()).error?.code, r.headers.get('cache-control')]);
}
process.env.POWERPOST_API_KEY = process.env.KEY_LATER;
const later = await plain(new Request(url('gen-a')));
const withCache = await cached(new Request(url('gen-a')));
const again = await cached(new Request(url('gen-a')));
console.log(JSON.stringify({ refused, before, lines, later: [later.status, later.headers.get('x-powerpost-cache')],
  cached: [withCache.status, withCache.headers.get('x-powerpost-cache'), again.headers.get('x-powerpost-cache')] }));
`);
    const r = await ctx.run(ctx.NODES[20], [script], { env: cliEnv({ POWERPOST_API_KEY: '', KEY_LATER: upstream.apiKey }), cwd: ctx.project });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop());
    assert.match(out.refused[0], /^InvalidArgumentError: .*did you mean .allowAnonymous./);
    assert.match(out.refused[1], /^InvalidArgumentError: .*authorize/);
    assert.match(out.refused[2], /^InvalidArgumentError: .*baseUrl/);
    assert.deepEqual(out.before, Array(3).fill([500, 'PROXY_MISCONFIGURED', 'no-store']));
    assert.equal(out.lines.length, 1, `logged once: ${JSON.stringify(out.lines)}`);
    assert.equal(out.lines[0][0], 'error');
    assert.match(out.lines[0][1], /not configured.*No API key for the proxy/);
    assert.deepEqual(out.later, [200, null], 'served once the key is there; no cache, no x-powerpost-cache');
    assert.deepEqual(out.cached, [200, 'miss', 'hit']);
    assert.ok(!r.stdout.includes(upstream.apiKey) && !r.stderr.includes(upstream.apiKey));
  });

  test('CLI proxy: caches by default (50 lookups of an id, 1 upstream request; a 404 kept 60 s, 1 for 50 lookups of an unknown id), --no-cache asks every time, --redis shares the cache', async () => {
    const api = await ctx.startDevServer({ port: 0 });
    const env = { ...process.env, POWERPOST_API_KEY: api.apiKey, POWERPOST_WORKSPACE_ID: api.workspaceId, POWERPOST_BASE_URL: api.url };
    const count = async (id) => (await seen(id, api)).count;
    const many = async (urls, id, n) => {
      const out = [];
      for (let i = 0; i < n; i++) out.push(await rawRequest(urls[i % urls.length], 'GET', analytics('', id)));
      return out;
    };
    const started = [];
    let redis;
    try {
      const cached = await startCli(['--allow-anonymous', '--caller-limit', '0'], env);
      started.push(cached);
      const known = await many([cached.url], '550e8400-e29b-41d4-a716-446655440000', 50);
      assert.deepEqual([...new Set(known.map((a) => a.status))], [200]);
      assert.equal(await count('550e8400-e29b-41d4-a716-446655440000'), 1, 'one upstream request for 50 lookups');
      assert.equal(known[49].headers['x-powerpost-cache'], 'hit');
      const unknown = await many([cached.url], 'nope-unknown', 50);
      for (const a of unknown) {
        assert.equal(a.status, 404);
        assert.deepEqual([JSON.parse(a.body).error.code, JSON.parse(a.body).error.message, a.headers['cache-control']], ['NOT_FOUND', 'Post item not found', 'no-store']);
      }
      assert.equal(unknown[49].headers['x-powerpost-cache'], 'hit');
      assert.equal(await count('nope-unknown'), 1, 'a 404 is kept: one upstream request for 50 lookups of an unknown id');

      const plain = await startCli(['--allow-anonymous', '--no-cache', '--caller-limit', '0'], env);
      started.push(plain);
      await many([plain.url], 'gen-nocache', 10);
      await many([plain.url], 'nope-nocache', 10);
      assert.deepEqual([await count('gen-nocache'), await count('nope-nocache')], [10, 10], '--no-cache asks every time');

      installLockedPackages(ctx);
      redis = await startRedis(fs.mkdtempSync(path.join(ctx.work, 'redis-')));
      const shared = [await startCli(['--allow-anonymous', '--redis', redis.url], env), await startCli(['--allow-anonymous', '--redis', redis.url], env)];
      started.push(...shared);
      const both = await many(shared.map((c) => c.url), 'gen-redis-shared', 20);
      assert.deepEqual([...new Set(both.map((a) => a.status))], [200]);
      assert.equal(await count('gen-redis-shared'), 1, 'two CLI proxies sharing Redis: one upstream request');
    } finally {
      for (const c of started) c.child.kill('SIGKILL');
      redis?.child.kill('SIGKILL');
      await api.close();
    }
  });

  test('proxy guard: the caller limit is on for an open proxy (the CLI: 60 a minute per client address, then 429 CALLER_LIMIT_EXCEEDED with Retry-After, before anything is asked upstream)', async () => {
    const api = await ctx.startDevServer({ port: 0 });
    const env = { ...process.env, POWERPOST_API_KEY: api.apiKey, POWERPOST_WORKSPACE_ID: api.workspaceId, POWERPOST_BASE_URL: api.url };
    const cli = await startCli(['--allow-anonymous', '--no-cache'], env);
    try {
      const answers = [];
      for (let i = 0; i < 65; i++) answers.push(await rawRequest(cli.url, 'GET', analytics('', `gen-caller-${i}`)));
      assert.deepEqual(answers.slice(0, 60).map((a) => a.status), Array(60).fill(200));
      for (const a of answers.slice(60)) {
        assert.equal(a.status, 429, a.body);
        assert.equal(JSON.parse(a.body).error.code, 'CALLER_LIMIT_EXCEEDED');
        assert.ok(Number(a.headers['retry-after']) >= 1 && Number(a.headers['retry-after']) <= 60, `Retry-After ${a.headers['retry-after']}`);
      }
      assert.equal((await (await fetch(`${api.url}/__dev/requests`)).json()).count, 60, 'nothing asked upstream past the limit');
    } finally {
      cli.child.kill('SIGKILL');
      await api.close();
    }
  });

  test('proxy guard: the caller limit is off with authorize; callerLimit { perMinute, key } counts what key names; callerLimit: false turns it off', async () => {
    await setUp();
    const { createProxyHandler, toNodeListener } = await loadProxy();
    const common = { apiKey: upstream.apiKey, workspaceId: upstream.workspaceId, baseUrl: upstream.url, cache: true };
    const servers = [];
    const serve = async (options) => {
      const server = http.createServer(toNodeListener(createProxyHandler({ ...common, ...options })));
      servers.push(server);
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      return { url: `http://127.0.0.1:${server.address().port}` };
    };
    const statuses = async (url, n, headers = {}) => {
      const out = [];
      for (let i = 0; i < n; i++) out.push((await rawRequest(url, 'GET', analytics('', 'gen-callers'), headers)).status);
      return out;
    };
    try {
      const withAuthorize = await serve({ authorize: () => true });
      const open = await serve({ allowAnonymous: true, callerLimit: false });
      const byUser = await serve({ allowAnonymous: true, callerLimit: { perMinute: 3, key: (request) => request.headers.get('x-user') ?? undefined } });
      assert.deepEqual(await statuses(withAuthorize.url, 70), Array(70).fill(200), 'off with authorize');
      assert.deepEqual(await statuses(open.url, 70), Array(70).fill(200), 'callerLimit: false');
      assert.deepEqual(await statuses(byUser.url, 4, { 'x-user': 'ann' }), [200, 200, 200, 429], 'three a minute for ann');
      assert.deepEqual(await statuses(byUser.url, 2, { 'x-user': 'bob' }), [200, 200], 'bob is another caller');
      assert.deepEqual(await statuses(byUser.url, 5), Array(5).fill(200), 'a request key names no caller for is not counted');
    } finally {
      for (const server of servers) { server.closeAllConnections(); server.close(); }
    }
    for (const [options, pattern] of [[{ callerLimit: true }, /callerLimit. must be false or/], [{ callerLimit: { perMinute: 0 } }, /perMinute. must be a whole number from 1/],
      [{ callerLimit: { perminute: 5 } }, /did you mean .perMinute./], [{ callerLimit: { key: 'ip' } }, /key. must be a function/]]) {
      assert.throws(() => createProxyHandler({ ...common, allowAnonymous: true, ...options }), (e) => e.name === 'InvalidArgumentError' && pattern.test(e.message), JSON.stringify(options));
    }
  });

  test('proxy guard: TRACE through toNodeListener is a 405 whose Allow lists OPTIONS when allowedOrigins adds it', async () => {
    await setUp();
    for (const [args, allow] of [[['--allow-origin', 'https://site.example'], 'GET, HEAD, OPTIONS'], [[], 'GET, HEAD']]) {
      const cli = await startCli(['--allow-anonymous', ...args]);
      try {
        for (const method of ['TRACE', 'POST']) {
          const res = await rawRequest(cli.url, method, analytics('', 'gen-trace'));
          assert.equal(res.status, 405, `${method} ${args}: ${res.body}`);
          assert.equal(res.headers.allow, allow, `${method} with ${args.join(' ') || 'no allowed origin'}`);
          assert.equal(JSON.parse(res.body).error.code, 'METHOD_NOT_ALLOWED');
        }
      } finally {
        cli.child.kill('SIGKILL');
      }
    }
  });

  test('proxy guard: a client that leaves while authorize is pending is logged at debug level, not as an error answered 500', async () => {
    await setUp();
    const { createProxyHandler, toNodeListener } = await loadProxy();
    const lines = [];
    const logger = Object.fromEntries(['error', 'warn', 'info', 'debug'].map((level) => [level, (line) => lines.push({ level, line })]));
    let asked = 0;
    const handler = createProxyHandler({
      apiKey: upstream.apiKey, workspaceId: upstream.workspaceId, baseUrl: upstream.url, logLevel: 'debug', logger,
      authorize: () => { asked++; return new Promise(() => {}); },
    });
    const server = http.createServer(toNodeListener(handler));
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    try {
      const s = await rawSocket(`http://127.0.0.1:${server.address().port}`);
      s.send(`GET ${analytics('', 'gen-leaves')} HTTP/1.1\r\nHost: x\r\n\r\n`);
      await eventually(() => asked === 1, 10_000, 'authorize was called');
      s.socket.destroy();
      const said = await eventually(() => lines.find((l) => /closed the connection/.test(l.line)), 8_000, 'a line about the client leaving')
        .catch((e) => { throw new Error(`${e.message}; the log said ${JSON.stringify(lines)}`); });
      assert.equal(said.level, 'debug', JSON.stringify(said));
      assert.match(said.line, /authorize\(\) was pending; nothing was answered/);
      await sleep(200);
      assert.deepEqual(lines.filter((l) => l.level === 'error' || /answered 500/.test(l.line)), [], 'no error, no "answered 500"');
      assert.equal((await seen('gen-leaves')).count, 0, 'nothing forwarded');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  test('proxy guard: a start-up error quotes no credentials of POWERPOST_BASE_URL', async () => {
    await setUp();
    const r = await ctx.run(ctx.NODES[20], [pkgFile('bin', 'powerpost-analytics.mjs'), 'proxy', '--allow-anonymous', '--port', '0'],
      { env: cliEnv({ POWERPOST_BASE_URL: 'https://svc:s3cr3t@api.example.com' }), cwd: ctx.project });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /credentials in the URL are not allowed/);
    assert.ok(!`${r.stdout}${r.stderr}`.includes('s3cr3t'), r.stderr);
  });

  test('CLI proxy: /healthz, and SIGTERM with clients holding connections: answers in flight finish, idle ones close, then it exits', async () => {
    await setUp();
    const cli = await startCli(['--allow-anonymous', '--base-path', '/pp']);
    try {
      const health = await rawRequest(cli.origin, 'GET', '/healthz');
      assert.equal(health.status, 200, health.body);
      assert.deepEqual(JSON.parse(health.body), { status: 'ok' });
      assert.equal((await rawRequest(cli.origin, 'GET', '/pp/healthz')).status, 404, 'only outside basePath');
      // One client idles on a kept-alive connection after an answer; one connected and never
      // says anything; one connected and has not asked yet; one has a slow lookup in flight.
      const idle = await rawSocket(cli.origin);
      idle.send(`GET ${analytics('/pp', 'gen-idle')} HTTP/1.1\r\nHost: x\r\n\r\n`);
      await eventually(() => /^HTTP\/1\.1 200[\s\S]*"post_item_id"[\s\S]*\r\n0\r\n\r\n$/.test(idle.received()), 10_000, 'the idle client got its whole answer');
      const silent = await rawSocket(cli.origin);
      const late = await rawSocket(cli.origin);
      const slowId = 'fault-slow-1500--shutdown';
      const busy = await rawSocket(cli.origin);
      busy.send(`GET ${analytics('/pp', slowId)} HTTP/1.1\r\nHost: x\r\n\r\n`);
      await eventually(async () => (await seen(slowId)).count === 1, 10_000, 'the slow lookup reached upstream');
      const signalled = Date.now();
      cli.child.kill('SIGTERM');
      await idle.closed; // at once: nothing in flight there
      // The client that had not asked yet asks now: the proxy is stopping.
      late.send('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      const { code, at } = await Promise.race([cli.exit, sleep(20_000).then(() => ({ code: 'still running 20 s after SIGTERM' }))]);
      assert.equal(code, 0, cli.output());
      await Promise.all([late.closed, busy.closed, silent.closed]);
      assert.match(busy.received(), /^HTTP\/1\.1 200 [\s\S]*"post_item_id":"fault-slow-1500--shutdown"[\s\S]*\r\n0\r\n\r\n$/, 'the lookup in flight was answered whole');
      assert.match(late.received(), /^HTTP\/1\.1 503 [\s\S]*"status":"stopping"/, `/healthz once stopping:\n${late.received()}`);
      assert.ok(at - signalled < 18_000, `exited ${at - signalled} ms after SIGTERM (grace 10 s)`);
      assert.ok(!cli.output().includes(upstream.apiKey));
    } finally {
      cli.child.kill('SIGKILL');
    }
  });

  test('CLI proxy: a second SIGTERM exits at once, without waiting for the grace period', async () => {
    await setUp();
    const cli = await startCli(['--allow-anonymous']);
    try {
      const hung = await rawSocket(cli.origin);
      hung.send(`GET ${analytics('', 'fault-hang--twice')} HTTP/1.1\r\nHost: x\r\n\r\n`);
      await eventually(async () => (await seen('fault-hang--twice')).count === 1, 10_000, 'the hung lookup reached upstream');
      cli.child.kill('SIGTERM');
      await sleep(300);
      assert.equal(cli.child.exitCode, null, 'still finishing the answer in flight after the first signal');
      const second = Date.now();
      cli.child.kill('SIGTERM');
      const { at } = await Promise.race([cli.exit, sleep(20_000).then(() => ({ at: Infinity }))]);
      assert.ok(at - second < 5_000, `exited ${at - second} ms after the second signal (the grace period is 10 s)`);
    } finally {
      cli.child.kill('SIGKILL');
    }
  });

  return {
    async close() {
      for (const c of children) c.kill('SIGKILL');
      await upstream?.close();
    },
  };
}
