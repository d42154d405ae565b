// `make demo`: the demo page (www/) served through the proxy, as a web app would run it. One
// server on loopback serves the page, the built package at /pkg/, and powerpost-analytics/proxy
// at /api/powerpost; the page holds no key and talks only to that server. The proxy's upstream is
// the dev server with its sample data (the key stays in this process). Prints one lookup through
// the proxy, the same through the CLI, then the page's URL; runs until Ctrl-C.
// Snapshot history: the dev server simulates days (DEMO_DAY_MS, default 3 s a day), the proxy
// records every snapshot it forwards, and a recorder asks for each posted sample item when its
// next snapshot is due, so the page draws the curves growing a point per simulated day.
// DEMO_EXIT_AFTER_LOOKUP=1 stops after the lookup (used by tests).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = path.join(root, 'pkg');
const load = (file) => import(pathToFileURL(path.join(pkg, file)).href);
const { startDevServer } = await load('dev-server/server.mjs');
const pp = await load('dist/index.js');
const { createProxyHandler, toNodeListener } = await load('dist/proxy.js');
const { openHistoryStore } = await load('dist/stores.js');

const BASE_PATH = '/api/powerpost';
const DAY_MS = Number(process.env.DEMO_DAY_MS ?? 3000);
const upstream = await startDevServer({ port: 0, dayMs: DAY_MS });
// One store for the proxy and the recorder (in memory: the demo keeps nothing on disk).
const history = { store: await openHistoryStore('memory:'), snapshotIntervalMs: DAY_MS };
const proxy = toNodeListener(createProxyHandler({
  apiKey: upstream.apiKey, workspaceId: upstream.workspaceId, baseUrl: upstream.url, basePath: BASE_PATH,
  // A local demo on loopback: no login (a real app passes `authorize`), and no caller limit:
  // its page redraws every history every simulated half day.
  allowAnonymous: true, callerLimit: false, cache: { snapshotIntervalMs: DAY_MS }, history,
}));
const info = await (await fetch(`${upstream.url}/__dev/info`)).json();
const historyItems = info.items.filter((id) => (info.postedAt ?? {})[id] && !id.startsWith('a1b2'));
// The recorder: what a cron job does hourly, here every quarter of a simulated day.
const recorder = new pp.PowerPost({ apiKey: upstream.apiKey, workspaceId: upstream.workspaceId, baseUrl: upstream.url, history, logLevel: 'error' });
const record = () => recorder.recordSnapshots(historyItems).catch((e) => console.error(`demo recorder: ${e.message}`));
await record();
const recording = setInterval(record, Math.max(100, DAY_MS / 4));
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.wasm': 'application/wasm' };
const site = http.createServer((req, res) => {
  const pathname = new URL(req.url ?? '/', 'http://x').pathname;
  if (pathname.startsWith(`${BASE_PATH}/`)) return proxy(req, res);
  if (pathname === '/demo.json') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ baseUrl: BASE_PATH, items: info.items, history: true, dayMs: DAY_MS, historyItems }));
  }
  const [dir, rel] = pathname.startsWith('/pkg/') ? [pkg, pathname.slice(4)] : [path.join(root, 'www'), pathname === '/' ? '/index.html' : pathname];
  let file;
  try {
    file = path.resolve(dir, `.${decodeURIComponent(rel)}`);
  } catch {
    res.writeHead(400);
    return res.end();
  }
  if (!file.startsWith(dir + path.sep)) { res.writeHead(403); return res.end(); }
  fs.readFile(file, (err, body) => {
    if (err) { res.writeHead(404, { 'content-type': 'text/plain' }); return res.end('not found'); }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
    res.end(body);
  });
});
const port = Number(process.env.PORT ?? 4010);
await new Promise((resolve) => {
  site.once('error', () => site.listen(0, '127.0.0.1', resolve)); // the port is taken: any free one
  site.listen(port, '127.0.0.1', resolve);
});
const url = `http://127.0.0.1:${site.address().port}`;
const close = async () => { clearInterval(recording); site.closeAllConnections(); await new Promise((r) => site.close(r)); await upstream.close(); };

const id = '550e8400-e29b-41d4-a716-446655440000';
// The browser's side: no key, the proxy as baseUrl.
const client = new pp.PowerPost({ baseUrl: `${url}${BASE_PATH}` });
let item;
try {
  item = await client.getPostItemAnalytics(id);
} catch (e) {
  console.error(`demo lookup failed: ${e.name}: ${e.message}`);
  await close();
  process.exit(1);
}
console.log(`powerpost-analytics demo — the page and the proxy at ${url}${BASE_PATH}; upstream: the dev server at ${upstream.url}\n`);
console.log(`GET ${BASE_PATH}/api/v1/post-items/${id}/analytics through the proxy (no key in the client):`);
console.log(JSON.stringify(item, null, 2));
console.log(`\nrate limit: ${JSON.stringify(client.rateLimit)}`);
// The same through the CLI, straight to the API. Spawned asynchronously: the servers live in this process.
console.log(`\n$ POWERPOST_API_KEY=… powerpost-analytics ${id} 6f1c2b7e-8a43-4d2c-9e15-3b7d0c9a1f22 1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a`);
// A CLI that hangs fails the demo after 30 s instead of stalling it.
const cliStatus = await new Promise((resolve) => {
  const child = spawn(process.execPath, [path.join(pkg, 'bin', 'powerpost-analytics.mjs'), id, '6f1c2b7e-8a43-4d2c-9e15-3b7d0c9a1f22', '1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a'], {
    stdio: 'inherit',
    env: { ...process.env, POWERPOST_API_KEY: upstream.apiKey, POWERPOST_WORKSPACE_ID: upstream.workspaceId, POWERPOST_BASE_URL: upstream.url },
  });
  const timer = setTimeout(() => { child.kill('SIGKILL'); resolve('hung'); }, 30_000);
  child.on('close', (code) => { clearTimeout(timer); resolve(code); });
});
if (cliStatus === 'hung') {
  console.error('demo: the CLI hung (killed after 30 s)');
  await close();
  process.exit(1);
}

console.log(`\nSnapshot history: one simulated day every ${DAY_MS / 1000} s (DEMO_DAY_MS); recorded for ${historyItems.length} items.`);
console.log(`\nDemo page: ${url}/   (through the proxy; Ctrl-C stops)`);
if (process.env.DEMO_EXIT_AFTER_LOOKUP) {
  await close();
} else {
  const stop = async () => { await close(); process.exit(0); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
