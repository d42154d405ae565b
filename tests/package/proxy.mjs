// The proxy (`powerpost-analytics/proxy`, issue #23), from the packed package: hosted in Node
// 20/22/24 (http + toNodeListener), Deno, Bun and workerd, each sent the same table of requests
// over raw HTTP (paths exactly as written, so each runtime's own URL normalisation is tested) and
// each row checked at the response and at the dev server's log (what was forwarded, with which
// headers); a key-echoing upstream through every status; the browser client → proxy → dev server
// in pages of every engine; two proxy processes sharing the README's Redis store; redis-server
// killed mid-run. Registered by package.test.mjs, which owns the package and the browsers.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { buildWorker } from './workerd.mjs';
import { mendRows, checkClaims } from './proxy-mends.mjs';

const SESSION_OK = { 'x-app-session': 'ok' };
// What a browser (or an attacker) sends along; none of it may reach PowerPost.
const BROWSER_SENT = {
  cookie: 'session=abc; theme=dark',
  authorization: 'Bearer pp_live_sk_BROWSER_SENT_KEY',
  'x-api-key': 'pp_live_sk_BROWSER_SENT_KEY',
  'x-workspace-id': 'ws_browser_sent',
  'x-forwarded-for': '203.0.113.9',
  'x-forwarded-host': 'evil.example',
  forwarded: 'for=203.0.113.9;host=evil.example',
  referer: 'https://app.example/page',
};
const NEVER_FORWARDED = ['cookie', 'authorization', 'x-forwarded-for', 'x-forwarded-host', 'forwarded', 'referer', 'origin', 'x-app-session', 'sec-fetch-site'];

/** The proxies every host mounts (see proxy-host.mjs). */
export const MOUNTS = {
  '/pp': { authorize: true, cache: true, maxRetries: 0 },
  '/open': { allowAnonymous: true, maxRetries: 0, timeoutMs: 1500 },
  '/cors': { allowAnonymous: true, allowedOrigins: ['http://allowed.example'], maxRetries: 0 },
  '/down': { allowAnonymous: true, baseUrl: 'http://127.0.0.1:9', maxRetries: 0, timeoutMs: 2000 },
  // An upstream 429 pauses a proxy until the reset (#29): each 429 row has a proxy of its own.
  '/limit': { allowAnonymous: true, maxRetries: 0 },
  '/limit-echo': { allowAnonymous: true, maxRetries: 0 },
};

/** One raw HTTP request (the path is sent exactly as given). Resolves { status, headers, body }. */
export function rawRequest(base, method, rawPath, headers = {}) {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, method, path: rawPath, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, statusText: res.statusMessage, headers: res.headers, rawHeaders: res.rawHeaders, body }));
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${rawPath}: no answer in 30 s`)));
    req.on('error', reject);
    req.end();
  });
}

const analytics = (base, id) => `${base}/api/v1/post-items/${id}/analytics`;

/** The table: [name, method, path, headers, expectation]. `forwarded`: requests the dev server must see. */
function table(tag) {
  const gen = (name) => `gen-${name}-${tag}`;
  const notFound = { status: 404, code: 'NOT_FOUND', forwarded: 0 };
  const rows = [
    ['GET forwards with the server\'s key, nothing the browser sent, no query', 'GET', `${analytics('/pp', '550e8400-e29b-41d4-a716-446655440000')}?api_key=x&workspace=y`,
      SESSION_OK, { status: 200, forwarded: 1, item: '550e8400-e29b-41d4-a716-446655440000', cache: 'miss' }],
    ['the same again comes from the proxy\'s cache', 'GET', analytics('/pp', '550e8400-e29b-41d4-a716-446655440000'), SESSION_OK,
      { status: 200, forwarded: 0, item: '550e8400-e29b-41d4-a716-446655440000', cache: 'hit' }],
    ['HEAD forwards and answers without a body', 'HEAD', analytics('/pp', gen('head')), SESSION_OK, { status: 200, forwarded: 1, empty: true }],
    ['authorize false: 401, nothing forwarded', 'GET', analytics('/pp', gen('noauth')), {}, { status: 401, code: 'UNAUTHORIZED', forwarded: 0 }],
    ['authorize throws: 500 without its text, nothing forwarded', 'GET', analytics('/pp', gen('boom')), { 'x-app-session': 'boom' },
      { status: 500, code: 'INTERNAL_ERROR', forwarded: 0, absent: 'SECRET-THROW' }],
  ];
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
    rows.push([`${method}: 405 with Allow, nothing forwarded`, method, analytics('/pp', gen('m')), SESSION_OK, { status: 405, code: 'METHOD_NOT_ALLOWED', allow: 'GET, HEAD', forwarded: 0 }]);
  }
  const paths = [
    '/pp/api/v1/posts', '/pp/api/v1/post-items/x', '/pp/api/v1/post-items/x/analytics/more', '/pp/api/v1/post-items/x/analytics/',
    '/elsewhere/api/v1/post-items/x/analytics', '/api/v1/post-items/x/analytics', '/pp/api/v2/post-items/x/analytics',
    '/pp/api/v1/post-items/a%2Fb/analytics', '/pp/api/v1/post-items/a%2fb/analytics', '/pp/api/v1/post-items/a%5Cb/analytics',
    '/pp/api/v1/post-items/..%2F..%2Fw/analytics', '/pp/api/v1/post-items/%2e%2e/analytics', '/pp/api/v1/post-items/%2E/analytics',
    '/pp/api/v1/post-items/./analytics', '/pp/api/v1/post-items/../analytics', '/pp/api/v1/post-items/%252e%252e/analytics',
    '/pp/api/v1/post-items/%252Fx/analytics', '/pp/api/v1/post-items/x%2500/analytics', '/pp/api/v1/post-items/x%00/analytics',
    '/pp/api/v1/post-items/x%0D%0AX-Injected:%201/analytics', '/pp/api/v1/post-items/%zz/analytics', '/pp/api/v1/post-items/%ff%fe/analytics',
    `/pp/api/v1/post-items/${'a'.repeat(257)}/analytics`, '/pp//api/v1/post-items/x/analytics', '/pp/api/v1/post-items//analytics',
    '//pp/api/v1/post-items/x/analytics',
  ];
  for (const p of paths) rows.push([`404 for ${p.length > 60 ? `${p.slice(0, 57)}…` : p}`, 'GET', p, SESSION_OK, notFound]);
  // The history route (#28): the lookup's rules, and never upstream; these proxies keep no history.
  const history = (base, id) => `${analytics(base, id)}/history`;
  rows.push(
    ['history on a proxy without history: a 404 envelope, nothing forwarded', 'GET', history('/pp', gen('hist')), SESSION_OK,
      { ...notFound, message: /keeps no snapshot history/ }],
    ['history, authorize false: 401, nothing forwarded', 'GET', history('/pp', gen('hist')), {}, { status: 401, code: 'UNAUTHORIZED', forwarded: 0 }],
    ['history, POST: 405 with Allow, nothing forwarded', 'POST', history('/pp', gen('hist')), SESSION_OK, { status: 405, code: 'METHOD_NOT_ALLOWED', allow: 'GET, HEAD', forwarded: 0 }],
    ['history, a cross-site GET from another origin: 403, nothing forwarded', 'GET', history('/cors', gen('hist')),
      { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }, { status: 403, code: 'ORIGIN_NOT_ALLOWED', forwarded: 0, noCors: true }],
  );
  for (const id of ['a%2Fb', '%2e%2e', 'x%00', '%zz', 'a'.repeat(257)]) {
    rows.push([`404 for the history of ${id.length > 20 ? `${id.slice(0, 17)}…` : id}`, 'GET', history('/pp', id), SESSION_OK, notFound]);
  }
  rows.push(
    ['an id of 256 characters is an id', 'GET', analytics('/open', `gen-${'b'.repeat(252)}`), {}, { status: 200, forwarded: 1 }],
    ['an encoded space and non-ASCII id is one segment upstream', 'GET', analytics('/open', 'gen-%C3%A9t%C3%A9%20x'), {}, { status: 200, forwarded: 1, upstreamId: 'gen-été x' }],
    ['upstream 404 keeps status, code and message', 'GET', analytics('/open', `missing-${tag}`), {}, { status: 404, code: 'NOT_FOUND', message: 'Post item not found', forwarded: 1 }],
    ['a malformed upstream body is 502 INVALID_RESPONSE', 'GET', analytics('/open', `fault-invalid-json--${tag}`), {}, { status: 502, code: 'INVALID_RESPONSE', forwarded: 1 }],
    ['a wrong shape is 502 INVALID_RESPONSE naming the field', 'GET', analytics('/open', `fault-wrong-shape--${tag}`), {}, { status: 502, code: 'INVALID_RESPONSE', message: /metrics\.views/, forwarded: 1 }],
    ['an upstream 500 is passed on', 'GET', analytics('/open', `fault-500--${tag}`), {}, { status: 500, code: 'INTERNAL_ERROR', forwarded: 1 }],
    ['an upstream HTML 502 is passed on as JSON', 'GET', analytics('/open', `fault-502-html--${tag}`), {}, { status: 502, code: 'BAD_GATEWAY', forwarded: 1 }],
    ['an upstream 429 passes on Retry-After, retryAfter and the rate limit', 'GET', analytics('/limit', `fault-429--${tag}`), {},
      { status: 429, code: 'RATE_LIMIT_EXCEEDED', retryAfter: '1', rateLimit: true, forwarded: 1 }],
    ['an upstream redirect is not followed: 502', 'GET', analytics('/open', `fault-redirect--${tag}`), {}, { status: 502, code: 'UPSTREAM_UNAVAILABLE', forwarded: 1 }],
    ['an upstream that never answers: 504 UPSTREAM_TIMEOUT', 'GET', analytics('/open', `fault-hang--${tag}`), {}, { status: 504, code: 'UPSTREAM_TIMEOUT', forwarded: 1 }],
    ['an unreachable upstream: 502 UPSTREAM_UNAVAILABLE', 'GET', analytics('/down', gen('down')), {}, { status: 502, code: 'UPSTREAM_UNAVAILABLE', forwarded: 0 }],
    ['same-origin by default: no CORS headers for another origin', 'GET', analytics('/open', gen('origin')), { origin: 'https://evil.example' }, { status: 200, forwarded: 1, noCors: true }],
    ['CORS: a preflight from an allowed origin', 'OPTIONS', analytics('/cors', gen('pre')), { origin: 'http://allowed.example', 'access-control-request-method': 'GET' },
      { status: 204, forwarded: 0, acao: 'http://allowed.example' }],
    ['CORS: a preflight from another origin is refused', 'OPTIONS', analytics('/cors', gen('pre2')), { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
      { status: 403, forwarded: 0, noCors: true, vary: true }],
    ['CORS: a GET from an allowed origin', 'GET', analytics('/cors', gen('cors')), { origin: 'http://allowed.example', 'sec-fetch-site': 'cross-site' },
      { status: 200, forwarded: 1, acao: 'http://allowed.example' }],
    ['CORS: a cross-site GET from another origin is refused before anything is forwarded', 'GET', analytics('/cors', gen('cors2')),
      { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }, { status: 403, code: 'ORIGIN_NOT_ALLOWED', forwarded: 0, noCors: true }],
  );
  for (const status of [200, 301, 401, 404, 429, 500]) {
    rows.push([`a key-echoing upstream (${status}) leaks no key`, 'GET', analytics(status === 429 ? '/limit-echo' : '/open', `fault-echo-key-${status}--${tag}`), {}, { forwarded: 1, echo: true }]);
  }
  rows.push(...mendRows(tag));
  return rows;
}

/**
 * Sends every row of the table to the proxy at `proxyUrl` and checks the answer and what
 * `upstream` (the dev server) saw. Returns [{ name, ok, detail }].
 */
export async function runTable(proxyUrl, upstream, { key, workspaceId, tag }) {
  const results = [];
  const seen = async () => (await (await fetch(`${upstream.url}/__dev/requests`)).json()).requests;
  for (const [name, method, rawPath, headers, want] of table(tag)) {
    const problems = [];
    let res;
    try {
      await fetch(`${upstream.url}/__dev/reset`);
      res = await rawRequest(proxyUrl, method, rawPath, { ...BROWSER_SENT, ...headers });
      const forwarded = (await seen()).filter((r) => r.path.startsWith('/api/'));
      const h = res.headers;
      let body;
      try { body = res.body ? JSON.parse(res.body) : undefined; } catch { problems.push(`body is not JSON: ${res.body.slice(0, 80)}`); }
      if (want.status !== undefined && res.status !== want.status) problems.push(`status ${res.status}, expected ${want.status}: ${res.body.slice(0, 200)}`);
      if (forwarded.length !== want.forwarded) problems.push(`${forwarded.length} requests reached the upstream, expected ${want.forwarded}: ${forwarded.map((r) => r.path).join(', ')}`);
      for (const r of forwarded) {
        if (r.method !== 'GET') problems.push(`forwarded as ${r.method}`);
        if (r.path.includes('?')) problems.push(`query forwarded: ${r.path}`);
        if (!/^\/api\/v1\/post-items\/[^/]+\/analytics$/.test(r.path)) problems.push(`forwarded to ${r.path}`);
        const leaked = NEVER_FORWARDED.filter((n) => r.headerNames.includes(n));
        if (leaked.length) problems.push(`forwarded the browser's ${leaked.join(', ')}`);
        if (!want.echo && r.workspaceId !== workspaceId) problems.push(`upstream got workspace ${r.workspaceId}`);
        if (!r.hasApiKey) problems.push('upstream got no key');
        if (want.upstreamId && r.id !== want.upstreamId) problems.push(`upstream id ${JSON.stringify(r.id)}, expected ${JSON.stringify(want.upstreamId)}`);
      }
      const isError = res.status >= 400;
      if (res.status !== 204 && !want.empty && !(method === 'HEAD')) {
        if (!/^application\/json/.test(h['content-type'] ?? '')) problems.push(`content-type ${h['content-type']}`);
      }
      if (isError && want.status !== undefined) {
        if (!body || typeof body.error?.message !== 'string' || typeof body.error?.code !== 'string') problems.push(`not the API's error envelope: ${res.body.slice(0, 120)}`);
        if (h['cache-control'] !== 'no-store') problems.push(`cache-control ${h['cache-control']} on an error`);
      }
      if (want.code && body?.error?.code !== want.code) problems.push(`code ${body?.error?.code}, expected ${want.code}`);
      if (want.message && !(want.message instanceof RegExp ? want.message.test(body?.error?.message) : body?.error?.message === want.message)) {
        problems.push(`message ${JSON.stringify(body?.error?.message)}`);
      }
      if (want.allow && h.allow !== want.allow) problems.push(`Allow: ${h.allow}`);
      if (want.absent && res.body.includes(want.absent)) problems.push(`the body carries ${want.absent}`);
      if (want.item) {
        if (body?.post_item_id !== want.item || typeof body?.metrics?.views !== 'number') problems.push(`body ${res.body.slice(0, 120)}`);
        if (Object.keys(body ?? {}).sort().join() !== 'metrics,platform,post_item_id,post_type,status') problems.push(`fields ${Object.keys(body ?? {})}`);
      }
      if (res.status === 200) {
        const m = /^private, max-age=(\d+)$/.exec(h['cache-control'] ?? '');
        if (!m || Number(m[1]) > 86_400) problems.push(`cache-control ${h['cache-control']}`);
        if (want.forwarded && !/^req_/.test(h['x-request-id'] ?? '')) problems.push(`x-request-id ${h['x-request-id']}`);
        if (want.forwarded && !/^\d+$/.test(h['x-ratelimit-remaining'] ?? '')) problems.push('no x-ratelimit-remaining');
      }
      if (want.cache && h['x-powerpost-cache'] !== want.cache) problems.push(`x-powerpost-cache ${h['x-powerpost-cache']}`);
      if (want.empty && res.body !== '') problems.push(`HEAD answered a body of ${res.body.length} bytes`);
      if (want.retryAfter && (h['retry-after'] !== want.retryAfter || body?.retryAfter !== Number(want.retryAfter))) problems.push(`retry-after ${h['retry-after']} / ${body?.retryAfter}`);
      if (want.rateLimit && !['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'].every((n) => /^\d+$/.test(h[n] ?? ''))) problems.push('rate limit headers missing');
      const cors = Object.keys(h).filter((n) => n.startsWith('access-control-'));
      if (want.noCors && cors.length) problems.push(`CORS headers ${cors.join(', ')}`);
      if (want.acao && (h['access-control-allow-origin'] !== want.acao || !/Origin/.test(h.vary ?? ''))) problems.push(`ACAO ${h['access-control-allow-origin']}, Vary ${h.vary}`);
      if (want.vary && !/Origin/.test(h.vary ?? '')) problems.push(`Vary ${h.vary}`);
      if (h['set-cookie']) problems.push('set-cookie in the answer');
      if (want.echo) {
        const everything = [res.statusText, ...res.rawHeaders, res.body].join('\n');
        for (const needle of [key, key.slice(0, 12), encodeURIComponent(key)]) {
          if (everything.includes(needle)) problems.push(`the key (${needle.length} chars) is in the answer: ${everything.slice(0, 300)}`);
        }
        if (res.status < 400 && res.status !== 200) problems.push(`status ${res.status} passed on`);
      }
    } catch (e) {
      problems.push(`threw ${e && e.stack}`);
    }
    results.push({ name, ok: problems.length === 0, detail: problems.join('; ') || undefined });
  }
  return results;
}

/** A free loopback port. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

/** Starts `cmd args` (a proxy host); resolves { url, child, output() } once it prints {"port": N}. */
export function startHost(cmd, args, { env, cwd, what }) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${what}: no port after 60 s\n${out}\n${err}`)); }, 60_000);
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{"port"'));
      if (line) {
        clearTimeout(timer);
        const { port } = JSON.parse(line);
        resolve({ url: `http://127.0.0.1:${port}`, child, output: () => out + err, stop: () => stop(child) });
      }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${what} exited ${code}\n${out}\n${err}`)); });
  });
}

function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 3000).unref();
  });
}

/**
 * Starts Debian's redis-server on a loopback port (a free one unless given), without persistence,
 * or `durable`: an append-only file fsync'd on each write, so its data outlives a SIGKILL.
 */
export async function startRedis(dir, port, { durable = false } = {}) {
  port ??= await freePort();
  const persistence = durable ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  for (let i = 0; i < 100; i++) {
    const up = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.end(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (up) return { url: `redis://127.0.0.1:${port}`, pid: child.pid, child, log: () => log };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not start:\n${log}`);
}

/** The README's Redis store block (```js redis-store), as written. */
export function readmeRedisStore(root) {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const m = /```js redis-store\n([\s\S]*?)```/.exec(readme);
  assert.ok(m, 'the README has a ```js redis-store block');
  const code = m[1];
  assert.ok(code.trim().split('\n').length <= 15, `the README's Redis store is at most 15 lines (${code.trim().split('\n').length})`);
  return code;
}


/**
 * Installs the servers' packages (the root's locked dev tools) into the consumer project, all
 * at once: a later `npm install --no-save` would prune the earlier ones.
 */
export function installLockedPackages(ctx) {
  const names = ['express', 'hono', 'redis', ...OTEL_PACKAGES];
  if (names.every((n) => fs.existsSync(path.join(ctx.project, 'node_modules', n)))) return;
  const version = (n) => JSON.parse(fs.readFileSync(path.join(ctx.root, 'node_modules', n, 'package.json'), 'utf8')).version;
  // All of them again when one is missing: `--no-save` prunes what an earlier one installed.
  ctx.sh('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...names.map((n) => `${n}@${version(n)}`)], { cwd: ctx.project });
}

/** The OpenTelemetry packages the telemetry tests use (exact versions from the root's lock file). */
const OTEL_PACKAGES = ['@opentelemetry/api', '@opentelemetry/sdk-trace-base', '@opentelemetry/sdk-metrics', '@opentelemetry/sdk-node', '@opentelemetry/context-async-hooks'];

/**
 * Registers the proxy tests: Node ones with `test`, page ones with `browserTest`. `ctx`: project,
 * here, root, bin, NODES, work, startDevServer (getters where set in before()), pages (the page
 * server), runScript, assertAllPassed, runtimeVersion.
 */
export function registerProxyTests(test, browserTest, ctx) {
  let upstream;
  const hosts = [];
  const setUp = async () => {
    upstream ??= await ctx.startDevServer({ port: 0 });
    for (const f of ['proxy-host.mjs', 'proxy-mounts.mjs']) fs.copyFileSync(path.join(ctx.here, f), path.join(ctx.project, f));
    return upstream;
  };
  const hostEnv = (spec, extra = {}) => ({
    ...process.env, PROXY_SPEC: JSON.stringify(spec), POWERPOST_API_KEY: upstream.apiKey, POWERPOST_WORKSPACE_ID: upstream.workspaceId,
    POWERPOST_BASE_URL: upstream.url, ...extra,
  });
  const host = async (cmd, args, spec, what, extra) => {
    const h = await startHost(cmd, args, { env: hostEnv(spec, extra), cwd: ctx.project, what });
    hosts.push(h);
    return h;
  };
  /** The table against a running host; its output (logs) must not carry the key either. */
  const checkHost = async (label, h) => {
    const results = await runTable(h.url, upstream, { key: upstream.apiKey, workspaceId: upstream.workspaceId, tag: label.replace(/\W/g, '') });
    await h.stop();
    const output = h.output();
    results.push({ name: 'the host\'s log has no key', ok: !output.includes(upstream.apiKey), detail: output.slice(0, 400) });
    ctx.assertAllPassed(`proxy in ${label}`, results, 55);
  };

  for (const version of [20, 22, 24]) {
    test(`proxy in Node ${version} (http + toNodeListener): every refusal and upstream outcome, at the response and at the dev server's log`, async () => {
      await setUp();
      const h = await host(ctx.NODES[version], ['proxy-host.mjs'], { mounts: MOUNTS }, `Node ${version} host`);
      const node = JSON.parse(h.output().split('\n').find((l) => l.startsWith('{"port"'))).node;
      assert.match(node, new RegExp(`^v${version}\\.`), `the Node ${version} host ran Node ${node}`);
      await checkHost(`Node ${version}`, h);
    });
  }

  test('proxy in Bun (Bun.serve({ fetch: handler })): the same table', async () => {
    await setUp();
    await checkHost(`Bun ${ctx.runtimeVersion(ctx.bin('bun'), ['--version'])}`, await host(ctx.bin('bun'), ['proxy-host.mjs'], { mounts: MOUNTS }, 'Bun host'));
  });

  test('proxy in Deno (Deno.serve(handler)): the same table', async () => {
    await setUp();
    const args = ['run', '--quiet', '--node-modules-dir=manual', '--allow-net=127.0.0.1', '--allow-read', '--allow-env'];
    const h = await host(ctx.bin('deno'), [...args, 'proxy-host.mjs'], { mounts: MOUNTS }, 'Deno host',
      { DENO_NO_UPDATE_CHECK: '1', DENO_DIR: path.join(ctx.work, 'deno-cache') });
    await checkHost('Deno', h);
  });

  test('proxy in Cloudflare Workers (workerd, export default { fetch: handler }, the key from env bindings only): the same table', async () => {
    await setUp();
    const dir = path.join(ctx.project, 'proxy-worker');
    const port = await freePort();
    await buildWorker({
      dir, port,
      source: `
      import { createProxyHandler } from 'powerpost-analytics/proxy';
      import { mountProxies } from '../proxy-mounts.mjs';
      // No key at start-up: a Worker gets its variables with each request (env).
      const handler = mountProxies(createProxyHandler, ${JSON.stringify({ mounts: MOUNTS })});
      export default { fetch: (request, env) => new URL(request.url).pathname === '/__process-env'
        ? Response.json({ processEnvKey: globalThis.process?.env?.POWERPOST_API_KEY ?? null, envKey: typeof env.POWERPOST_API_KEY })
        : handler(request, env) };`,
      wasmFrom: path.join(ctx.project, 'node_modules', 'powerpost-analytics', 'dist', 'powerpost_analytics_proxy_bg.wasm'),
      bindings: { POWERPOST_API_KEY: upstream.apiKey, POWERPOST_WORKSPACE_ID: upstream.workspaceId, POWERPOST_BASE_URL: upstream.url },
      // The bindings only as `env`: workerd would also copy them into process.env, where the
      // proxy finds the key without ever reading the handler's second argument.
      compatibilityFlags: ['nodejs_compat_do_not_populate_process_env'],
    });
    const child = spawn(ctx.bin('workerd'), ['serve', 'config.capnp'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (d) => (log += d));
    child.stderr.on('data', (d) => (log += d));
    const h = { url: `http://127.0.0.1:${port}`, output: () => log, stop: () => stop(child) };
    hosts.push(h);
    for (let i = 0; i < 100; i++) {
      if (await new Promise((resolve) => { const s = net.connect(port, '127.0.0.1', () => { s.end(); resolve(true); }); s.on('error', () => resolve(false)); })) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const seen = await (await fetch(`${h.url}/__process-env`)).json();
    assert.deepEqual(seen, { processEnvKey: null, envKey: 'string' }, 'the key reaches the Worker only as env, its second argument');
    await checkHost(`workerd ${ctx.runtimeVersion(ctx.bin('workerd'), ['--version'])}`, h);
  });

  test('proxy options: no authorize without allowAnonymous, misspelt options, no key, not a Request (ESM and CommonJS)', async () => {
    await setUp();
    const check = `
      const results = [];
      const expect = (name, fn, pattern, kind = 'InvalidArgumentError') => {
        try { fn(); results.push({ name, ok: false, detail: 'did not throw' }); }
        catch (e) { results.push({ name, ok: e.name === kind && pattern.test(e.message) && pp.isPowerPostError(e), detail: e.name + ': ' + e.message }); }
      };
      expect('no authorize', () => pp.createProxyHandler({}), /open relay/);
      expect('allowAnonymous not a boolean', () => pp.createProxyHandler({ allowAnonymous: 'yes' }), /allowAnonymous. must be a boolean/);
      expect('misspelt allowAnonymus', () => pp.createProxyHandler({ allowAnonymus: true }), /did you mean .allowAnonymous./);
      expect('misspelt basepath', () => pp.createProxyHandler({ basepath: '/x', allowAnonymous: true }), /did you mean .basePath./);
      expect('timeout', () => pp.createProxyHandler({ timeout: 5, allowAnonymous: true }), /did you mean .timeoutMs./);
      expect('a browser-only option', () => pp.createProxyHandler({ dangerouslyAllowBrowser: true, allowAnonymous: true }), /not accepted here/);
      expect('authorize not a function', () => pp.createProxyHandler({ authorize: true }), /authorize. must be a function/);
      expect('a bad basePath', () => pp.createProxyHandler({ basePath: 'api', allowAnonymous: true }), /basePath/);
      expect('a wildcard origin', () => pp.createProxyHandler({ allowedOrigins: ['*'], allowAnonymous: true }), /allowedOrigins/);
      delete process.env.POWERPOST_API_KEY;
      results.push({ name: 'no key: created all the same (a build has no secrets)', ok: typeof pp.createProxyHandler({ allowAnonymous: true, baseUrl: 'http://127.0.0.1:9' }) === 'function' });
      const handler = pp.createProxyHandler({ allowAnonymous: true, apiKey: 'k', baseUrl: 'http://127.0.0.1:9' });
      try { await handler({ url: '/x' }); results.push({ name: 'not a Request', ok: false }); }
      catch (e) { results.push({ name: 'not a Request', ok: /toNodeListener/.test(e.message), detail: e.message }); }
      const res = await handler(new Request('http://h/nothing'));
      results.push({ name: 'a direct call answers', ok: res.status === 404 && (await res.json()).error.code === 'NOT_FOUND' });
      console.log(JSON.stringify(results));`;
    const esm = path.join(ctx.project, 'proxy-options.mjs');
    fs.writeFileSync(esm, `import * as pp from 'powerpost-analytics/proxy';
${check}`);
    const cjs = path.join(ctx.project, 'proxy-options.cjs');
    fs.writeFileSync(cjs, `const pp = require('powerpost-analytics/proxy');
(async () => {${check}})();`);
    for (const file of [esm, cjs]) {
      const out = await ctx.runScript(ctx.NODES[20], file, { env: { POWERPOST_API_KEY: '', POWERPOST_WORKSPACE_ID: '' } });
      ctx.assertAllPassed(`proxy options (${path.extname(file)})`, JSON.parse(out.trim().split('\n').pop()), 12);
    }
  });

  test('proxy: an authorize that never answers gets 500 after its 10 s, nothing forwarded', async () => {
    await setUp();
    const h = await host(ctx.NODES[20], ['proxy-host.mjs'], { mounts: { '/pp': { authorize: true } } }, 'Node host');
    try {
      await fetch(`${upstream.url}/__dev/reset`);
      const res = await rawRequest(h.url, 'GET', analytics('/pp', 'gen-hang'), { 'x-app-session': 'hang' });
      assert.equal(res.status, 500, res.body);
      assert.equal(JSON.parse(res.body).error.code, 'INTERNAL_ERROR');
      const seen = (await (await fetch(`${upstream.url}/__dev/requests`)).json()).requests.filter((r) => r.path.startsWith('/api/'));
      assert.equal(seen.length, 0);
      await h.stop();
      assert.match(h.output(), /authorize\(\) failed.*did not answer within 10 s/);
    } finally {
      await h.stop();
    }
  });

  test('proxy: 20 concurrent requests for one id make one upstream request', async () => {
    await setUp();
    const h = await host(ctx.NODES[20], ['proxy-host.mjs'], { mounts: { '/open': { allowAnonymous: true } } }, 'Node host');
    try {
      await fetch(`${upstream.url}/__dev/reset`);
      const id = 'fault-slow-300--together';
      const answers = await Promise.all(Array.from({ length: 20 }, () => rawRequest(h.url, 'GET', analytics('/open', id))));
      assert.deepEqual(answers.map((a) => a.status), Array(20).fill(200));
      const count = (await (await fetch(`${upstream.url}/__dev/requests?id=${id}`)).json()).count;
      assert.equal(count, 1, 'one upstream request for 20 concurrent lookups');
    } finally {
      await h.stop();
    }
  });

  const installLocked = () => installLockedPackages(ctx);

  test('proxy: the README\'s Express (Node) and Hono (Bun) setups serve the browser client and refuse the rest', async () => {
    await setUp();
    installLocked();
    fs.writeFileSync(path.join(ctx.project, 'express-app.mjs'), `import express from 'express';
import { createProxyHandler, toNodeListener } from 'powerpost-analytics/proxy';
const handler = createProxyHandler({ basePath: '/api/powerpost', allowAnonymous: true });
const server = express().use('/api/powerpost', toNodeListener(handler)).listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
`);
    fs.writeFileSync(path.join(ctx.project, 'hono-app.mjs'), `import { Hono } from 'hono';
import { createProxyHandler } from 'powerpost-analytics/proxy';
const handler = createProxyHandler({ basePath: '/api/powerpost', allowAnonymous: true });
const app = new Hono();
app.all('/api/powerpost/*', (c) => handler(c.req.raw));
const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: app.fetch });
console.log(JSON.stringify({ port: server.port }));
`);
    const { PowerPost } = await import(path.join(ctx.project, 'node_modules', 'powerpost-analytics', 'dist', 'index.js'));
    for (const [what, cmd, file] of [['Express', ctx.NODES[20], 'express-app.mjs'], ['Hono', ctx.bin('bun'), 'hono-app.mjs']]) {
      const h = await host(cmd, [file], { mounts: {} }, what);
      try {
        const item = await new PowerPost({ baseUrl: `${h.url}/api/powerpost` }).getPostItemAnalytics('550e8400-e29b-41d4-a716-446655440000');
        assert.equal(item.metrics.views, 12450, what);
        const other = await rawRequest(h.url, 'GET', '/api/powerpost/api/v1/posts', BROWSER_SENT);
        assert.equal(other.status, 404, `${what}: ${other.body}`);
        assert.equal(JSON.parse(other.body).error.code, 'NOT_FOUND');
        const post = await rawRequest(h.url, 'POST', analytics('/api/powerpost', 'gen-x'));
        assert.equal(post.status, 405, what);
        assert.equal(post.headers.allow, 'GET, HEAD');
      } finally {
        await h.stop();
      }
    }
  });

  /** Starts redis and `n` Node hosts sharing it through the README's store; a fresh upstream. */
  const redisSetUp = async (n, dir) => {
    await setUp();
    fs.writeFileSync(path.join(ctx.project, 'redis-store.mjs'), readmeRedisStore(ctx.root));
    installLocked(); // the client the README uses
    const redis = await startRedis(dir);
    const api = await ctx.startDevServer({ port: 0 });
    const spec = { redis: true, mounts: { '/pp': { allowAnonymous: true, callerLimit: false, cache: true, maxRetries: 0, logLevel: process.env.PP_PROXY_LOG ?? 'warn' } } };
    const env = { ...process.env, PROXY_SPEC: JSON.stringify(spec), REDIS_URL: redis.url, POWERPOST_API_KEY: api.apiKey,
      POWERPOST_WORKSPACE_ID: api.workspaceId, POWERPOST_BASE_URL: api.url };
    const started = [];
    for (let i = 0; i < n; i++) started.push(await startHost(ctx.NODES[20], ['proxy-host.mjs'], { env, cwd: ctx.project, what: `proxy ${i + 1}` }));
    const { PowerPost } = await import(path.join(ctx.project, 'node_modules', 'powerpost-analytics', 'dist', 'index.js'));
    return { redis, api, hosts: started, PowerPost };
  };
  const tearDown = async ({ redis, api, hosts: started }) => {
    for (const h of started) await h.stop();
    redis.child.kill('SIGKILL');
    await api.close();
  };
  /** `count` lookups of `ids` through the browser client at `baseUrl`, `inFlight` at a time. */
  const lookups = async (PowerPost, baseUrl, ids, count, inFlight, onEach = () => {}) => {
    const client = new PowerPost({ baseUrl, maxRetries: 0 });
    const outcomes = [];
    let next = 0;
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (next < count) {
        const id = ids[next++ % ids.length];
        try {
          const a = await client.getPostItemAnalytics(id);
          outcomes.push(a.post_item_id === id ? 'ok' : `wrong item ${a.post_item_id}`);
        } catch (e) {
          outcomes.push(`${e.name}: ${e.message}`);
        }
        await onEach(outcomes.length);
      }
    }));
    return outcomes;
  };

  test('proxy + Redis: two proxy processes sharing the README store serve 2 × 200 lookups of 20 ids with exactly 20 upstream requests', async () => {
    const dir = fs.mkdtempSync(path.join(ctx.work, 'redis-'));
    const run = await redisSetUp(2, dir);
    try {
      const ids = Array.from({ length: 20 }, (_, i) => `gen-shared-${i}`);
      // An id that spells an entry's key plus " claim" must not collide with that entry's claim.
      assert.deepEqual(await lookups(run.PowerPost, `${run.hosts[0].url}/pp`, ['gen-shared-3 claim'], 1, 1), ['ok']);
      const [a, b] = await Promise.all(run.hosts.map((h) => lookups(run.PowerPost, `${h.url}/pp`, ids, 200, 8)));
      assert.deepEqual([...a, ...b].filter((o) => o !== 'ok'), [], 'every lookup succeeded');
      assert.equal(a.length + b.length, 400);
      const seen = (await (await fetch(`${run.api.url}/__dev/requests`)).json()).requests.filter((r) => ids.includes(r.id));
      assert.equal(seen.length, 20, `upstream requests: ${seen.map((r) => r.id).sort().join(', ')}\n${run.hosts.map((h) => h.output()).join('\n')}`);
      assert.equal(new Set(seen.map((r) => r.id)).size, 20, 'one per id');
      await checkClaims({ hosts: run.hosts, api: run.api, redisUrl: run.redis.url, rawRequest, tag: Date.now().toString(36) });
      for (const h of run.hosts) assert.doesNotMatch(h.output(), /cache store failed/, 'the store never failed');
    } finally {
      await tearDown(run);
    }
  });

  test('proxy + Redis: redis-server killed mid-run, every lookup still succeeds and the proxy warns once', async () => {
    const dir = fs.mkdtempSync(path.join(ctx.work, 'redis-'));
    const run = await redisSetUp(1, dir);
    try {
      const ids = Array.from({ length: 20 }, (_, i) => `gen-killed-${i}`);
      let killed = false;
      const outcomes = await lookups(run.PowerPost, `${run.hosts[0].url}/pp`, ids, 200, 4, async (done) => {
        if (done >= 60 && !killed) {
          killed = true;
          process.kill(run.redis.pid, 'SIGKILL');
        }
      });
      assert.ok(killed, 'redis-server was killed mid-run');
      assert.deepEqual(outcomes.filter((o) => o !== 'ok'), [], 'every lookup succeeded');
      assert.equal(outcomes.length, 200);
      // Past the 5 s the proxy leaves a failed store alone: it tries Redis again, fails again,
      // and still says nothing more (one warning per outage).
      await new Promise((r) => setTimeout(r, 5500));
      const later = await lookups(run.PowerPost, `${run.hosts[0].url}/pp`, ids.map((id) => `${id}-later`), 40, 4);
      assert.deepEqual(later.filter((o) => o !== 'ok'), [], 'every later lookup succeeded');
      await new Promise((r) => setTimeout(r, 200));
      const warns = run.hosts[0].output().split('\n').filter((l) => /cache store failed/.test(l));
      assert.equal(warns.length, 1, `one warning:\n${run.hosts[0].output().slice(-2000)}`);
      assert.doesNotMatch(run.hosts[0].output(), new RegExp(run.api.apiKey), 'no key in the log');
    } finally {
      await tearDown(run);
    }
  });

  browserTest('proxy end to end: the browser client (baseUrl = the proxy) → the proxy → the dev server, no key in the page', async ({ engineName, runPage }) => {
    await setUp();
    const pagesOrigin = new URL(ctx.pages.url).origin;
    installLockedPackages(ctx);
    // The host has OpenTelemetry registered (PP_OTEL): a traced page's request continues upstream.
    const h = await host(ctx.NODES[20], ['proxy-host.mjs'], { mounts: { '/web': { allowAnonymous: true, allowedOrigins: [pagesOrigin], maxRetries: 0 } } }, 'Node host',
      { PP_OTEL: '1' });
    const traceId = `${engineName === 'chromium' ? 'c' : engineName === 'firefox' ? 'f' : 'e'}${'0af7651916cd43dd8448eb211c8031'}9`;
    try {
      fs.writeFileSync(path.join(ctx.project, `proxy-page-${engineName}.html`), `<!doctype html><meta charset="utf-8"><title>proxy</title>
<script type="module">
  import * as pp from './node_modules/powerpost-analytics/dist/index.js';
  const results = [];
  const check = (name, ok, detail) => results.push({ name, ok: !!ok, detail });
  (async () => {
    const client = new pp.PowerPost({ baseUrl: ${JSON.stringify(`${h.url}/web`)}, maxRetries: 0 });
    const a = await client.getPostItemAnalytics('550e8400-e29b-41d4-a716-446655440000');
    check('a posted item', a.metrics && a.metrics.views === 12450 && a.platform === 'instagram', JSON.stringify(a));
    check('the rate limit is readable cross-origin', client.rateLimit && client.rateLimit.limit === 1000, JSON.stringify(client.rateLimit));
    const failing = [['nope', 'NotFoundError', 'NOT_FOUND', 404], ['fault-invalid-json--web${engineName}', 'ServerError', 'INVALID_RESPONSE', 502],
      // Last: a 429 pauses the proxy until the reset.
      ['fault-429--web${engineName}', 'RateLimitError', 'RATE_LIMIT_EXCEEDED', 429]];
    const batch = await client.getPostItemAnalyticsBatch(['gen-a', 'gen-b', 'nope']);
    check('a batch', batch.map((r) => r.ok).join() === 'true,true,false', JSON.stringify(batch.map((r) => r.ok)));
    // A page traced by its own instrumentation sends its trace context to the proxy (a CORS
    // preflight asks for the header); the proxy continues that trace to PowerPost.
    const traced = await fetch(${JSON.stringify(`${h.url}/web/api/v1/post-items/gen-trace-${engineName}/analytics`)},
      { headers: { traceparent: '00-${traceId}-b7ad6b7169203331-01' } });
    check('a traced request through the proxy', traced.status === 200, String(traced.status));
    for (const [id, cls, code, status] of failing) {
      try { await client.getPostItemAnalytics(id); check(id, false, 'resolved'); }
      catch (e) { check(id, e.name === cls && e.code === code && e.status === status && /^req_/.test(e.requestId ?? 'req_') && (status !== 429 || e.retryAfterMs >= 1000), e.name + ' ' + e.code + ' ' + e.status + ' ' + e.message); }
    }
  })().then(() => { window.__results = results; }, (e) => { window.__results = [...results, { name: 'threw', ok: false, detail: String(e && e.stack || e) }]; });
</script>`);
      const html = fs.readFileSync(path.join(ctx.project, `proxy-page-${engineName}.html`), 'utf8');
      assert.ok(!html.includes(upstream.apiKey) && !html.includes('apiKey'), 'the page holds no key');
      await fetch(`${upstream.url}/__dev/reset`);
      const results = await runPage(`/proxy-page-${engineName}.html`);
      ctx.assertAllPassed(`proxy from a page (${engineName})`, results, 6);
      const seen = (await (await fetch(`${upstream.url}/__dev/requests`)).json()).requests.filter((r) => r.path.startsWith('/api/'));
      assert.ok(seen.length >= 6, `the proxy forwarded the page's lookups (${seen.length})`);
      const traced = seen.find((r) => r.id === `gen-trace-${engineName}`);
      assert.ok(traced, 'the traced request reached the dev server');
      assert.match(traced.traceparent ?? '', new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`), 'the page\'s trace id reached PowerPost through the proxy');
      for (const r of seen) {
        assert.equal(r.origin, null, 'no request reached the API from the page itself');
        assert.deepEqual(NEVER_FORWARDED.filter((n) => r.headerNames.includes(n)), [], `forwarded headers: ${r.headerNames}`);
        assert.equal(r.hasApiKey, true);
      }
    } finally {
      await h.stop();
    }
  });

  test('CLI: powerpost-analytics proxy serves the browser client, refuses an open start without --allow-anonymous and any --api-key flag', async () => {
    await setUp();
    const cli = path.join(ctx.project, 'node_modules', 'powerpost-analytics', 'bin', 'powerpost-analytics.mjs');
    const env = { ...process.env, POWERPOST_API_KEY: upstream.apiKey, POWERPOST_WORKSPACE_ID: upstream.workspaceId, POWERPOST_BASE_URL: upstream.url };
    const refused = await ctx.run(ctx.NODES[20], [cli, 'proxy', '--port', '0'], { env });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /open proxy.*--allow-anonymous/s);
    const flag = await ctx.run(ctx.NODES[20], [cli, 'proxy', '--allow-anonymous', '--api-key', upstream.apiKey], { env });
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /POWERPOST_API_KEY only/);
    const noKey = await ctx.run(ctx.NODES[20], [cli, 'proxy', '--allow-anonymous', '--port', '0'], { env: { ...env, POWERPOST_API_KEY: '' } });
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /No API key for the proxy/);
    const help = await ctx.run(ctx.NODES[20], [cli, 'proxy', '--help'], { env });
    assert.match(help.stdout, /Usage: powerpost-analytics proxy/);

    const child = spawn(ctx.NODES[20], [cli, 'proxy', '--port', '0', '--base-path', '/api/powerpost', '--allow-origin', 'https://site.example', '--allow-anonymous'],
      { env, cwd: ctx.project, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    try {
      const url = await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL in 30 s:\n${out}`)), 30_000);
        child.stdout.on('data', () => {
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m) { clearTimeout(timer); resolve(m[1]); }
        });
        child.once('exit', (c) => { clearTimeout(timer); reject(new Error(`exited ${c}:\n${out}`)); });
      });
      assert.match(url, /\/api\/powerpost$/);
      const { PowerPost } = await import(path.join(ctx.project, 'node_modules', 'powerpost-analytics', 'dist', 'index.js'));
      const item = await new PowerPost({ baseUrl: url }).getPostItemAnalytics('550e8400-e29b-41d4-a716-446655440000');
      assert.equal(item.metrics.views, 12450);
      const pre = await rawRequest(url, 'OPTIONS', '/api/powerpost/api/v1/post-items/x/analytics', { origin: 'https://site.example', 'access-control-request-method': 'GET' });
      assert.equal(pre.status, 204);
      assert.equal(pre.headers['access-control-allow-origin'], 'https://site.example');
      const other = await rawRequest(url, 'GET', '/api/v1/posts');
      assert.equal(other.status, 404);
      const code = await new Promise((resolve) => { child.once('exit', resolve); child.kill('SIGTERM'); });
      assert.equal(code, 0, 'stops cleanly on SIGTERM');
      assert.ok(!out.includes(upstream.apiKey), 'the key is never printed');
    } finally {
      child.kill('SIGKILL');
    }
  });

  browserTest('make demo: the demo page through the proxy holds no key, and every request it makes goes to its own origin', async ({ engineName }) => {
    // One simulated day a second: the reel's missing day and the tiktok's correction come within seconds.
    const child = spawn(process.execPath, [path.join(ctx.root, 'scripts', 'demo.mjs')], { cwd: ctx.root, env: { ...process.env, PORT: '0', DEMO_DAY_MS: '1000' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const page = await (await ctx.engine(engineName)).newPage({ width: 1100, height: 900 });
    try {
      const url = await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no page URL in 30 s:\n${out}`)), 30_000);
        child.stdout.on('data', () => {
          const m = /Demo page: (http:\/\/\S+)/.exec(out);
          if (m) { clearTimeout(timer); resolve(m[1]); }
        });
        child.once('exit', (c) => { clearTimeout(timer); reject(new Error(`demo exited ${c}:\n${out}`)); });
      });
      const upstreamUrl = /upstream: the dev server at (http:\/\/\S+)/.exec(out)[1];
      const { apiKey } = await (await fetch(`${upstreamUrl}/__dev/info`)).json();
      await page.goto(url);
      await page.waitFor(() => document.getElementById('ids').value !== '' && document.getElementById('baseUrl').value !== '', null, { what: 'the prefilled form' });
      assert.match(await page.evaluate(() => document.getElementById('baseUrl').value), /\/api\/powerpost$/);
      assert.equal(await page.evaluate(() => document.getElementById('apiKey').value), '');
      await page.click('#submit');
      await page.waitForSelector('[data-metric="views"]', { timeoutMs: 60_000 });
      // 12,450 at start-up, growing a little every simulated day since.
      const views = Number((await page.text('[data-metric="views"]')).replace(/[^0-9]/g, ''));
      assert.ok(views >= 12450 && views < 30000, `views: ${views}`);
      // Snapshot history: each posted item's curves grow a point per simulated day; the reel's
      // missing day is marked, and the tiktok's correction downwards.
      const reel = '[data-history="550e8400-e29b-41d4-a716-446655440000"]';
      await page.waitFor((sel) => {
        const card = document.querySelector(sel);
        return !!card && Number(card.dataset.snapshots) >= 5 && Number(card.dataset.gapCount) >= 1
          && !!document.querySelector('[data-history="6f1c2b7e-8a43-4d2c-9e15-3b7d0c9a1f22"] [data-correction]');
      }, reel, { timeoutMs: 60_000, what: 'the curves with a missing day and a correction' });
      const curves = await page.evaluate((sel) => [...document.querySelectorAll(`${sel} svg[data-curve]`)].map((s) => [s.dataset.curve, Number(s.dataset.points), Number(s.dataset.gaps)]), reel);
      assert.deepEqual(curves.map((c) => c[0]), ['views', 'likes', 'comments']);
      assert.ok(curves.every(([, points, gaps]) => points >= 5 && gaps >= 1), JSON.stringify(curves));
      const seen = await page.evaluate(() => ({
        html: document.documentElement.outerHTML,
        stored: JSON.stringify(localStorage),
        origins: [...new Set(performance.getEntriesByType('resource').map((e) => new URL(e.name).origin))],
        names: performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname),
      }));
      assert.ok(!seen.html.includes(apiKey) && !seen.stored.includes(apiKey), 'no key in the page or its storage');
      assert.deepEqual(seen.origins, [new URL(url).origin], 'every request went to the page\'s own server');
      assert.ok(seen.names.some((n) => n.startsWith('/api/powerpost/api/v1/post-items/')), `the lookup went to the proxy: ${seen.names}`);
      assert.ok(seen.names.some((n) => /\/analytics\/history$/.test(n)), 'the curves were read from the proxy\'s history route');
      assert.deepEqual((await page.problems()).pageErrors, []);
    } finally {
      await page.close();
      child.kill('SIGTERM');
    }
  });

  return {
    async close() {
      for (const h of hosts) await h.stop();
      await upstream?.close();
    },
  };
}
