// Snapshot history's part of `make bench` (called by bench.mjs): what recording adds to a
// lookup's client CPU with the memory store (a client with `history: true` against one without,
// interleaved, in this process; the dev server runs in its own), and reading a 90-snapshot
// history through the proxy from a local redis-server (latency p50/p99 end to end, the answer's
// size). Returns a Markdown section.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

async function startRedis() {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-bench-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.end(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (up) return { url: `redis://127.0.0.1:${port}`, stop: () => { child.kill('SIGKILL'); fs.rmSync(dir, { recursive: true, force: true }); } };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('redis-server did not start');
}

/** `devServer` = { url, key, workspace }. */
export async function benchHistory({ pkg, devServer, quick }) {
  const load = (f) => import(pathToFileURL(path.join(pkg, 'dist', f)).href);
  const pp = await load('index.js');
  const opts = { apiKey: devServer.key, workspaceId: devServer.workspace, baseUrl: devServer.url };
  // 1. Recording's CPU: each lookup brings a new snapshot (distinct ids: the worst case, one
  //    append per lookup), interleaved in rounds so drift hits both alike.
  const rounds = quick ? 3 : 10;
  const perRound = quick ? 100 : 400;
  const plain = new pp.PowerPost(opts);
  const recording = new pp.PowerPost({ ...opts, history: true });
  const cost = { plain: [], recording: [] };
  let n = 0;
  for (let r = 0; r < rounds; r++) {
    for (const [name, client] of r % 2 ? [['recording', recording], ['plain', plain]] : [['plain', plain], ['recording', recording]]) {
      const t0 = cpuMs();
      for (let i = 0; i < perRound; i++) await client.getPostItemAnalytics(`gen-bench-${name}-${n++}`);
      // The background appends of this round finish before the clock stops.
      await new Promise((res) => setImmediate(res));
      cost[name].push((cpuMs() - t0) / perRound);
    }
  }
  const median = (xs) => pct(xs, 50);
  const plainCpu = median(cost.plain.slice(1));
  const recordingCpu = median(cost.recording.slice(1));
  const added = (recordingCpu / plainCpu - 1) * 100;

  // 2. Reading 90 snapshots through the proxy from Redis.
  const { createProxyHandler, toNodeListener } = await load('proxy.js');
  const { redisHistoryStore } = await load('stores.js');
  let reading = 'not measured: redis-server is not installed';
  let redis;
  try {
    redis = await startRedis();
  } catch { /* reported */ }
  if (redis) {
    const store = await redisHistoryStore(redis.url);
    const id = 'bench-history-90';
    const key = `powerpost-analytics/history/v1 ${devServer.url} ${devServer.workspace} ${id}`;
    const day = 86_400_000;
    const start = Date.parse('2026-01-01T09:00:00Z');
    for (let k = 0; k < 90; k++) {
      const at = start + k * day;
      await store.append(key, at, JSON.stringify({ fetched_at: new Date(at).toISOString().replace('.000Z', 'Z'), views: 1000 + k * 37, likes: 10 + k, comments: k >> 2 }));
    }
    const server = http.createServer(toNodeListener(createProxyHandler({ ...opts, allowAnonymous: true, callerLimit: false, history: { store }, logLevel: 'off' })));
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${server.address().port}/api/v1/post-items/${id}/analytics/history`;
    const calls = quick ? 200 : 1000;
    const lat = [];
    let bytes = 0;
    let snapshots = 0;
    for (let i = 0; i < calls + 50; i++) {
      const t = performance.now();
      const res = await fetch(url);
      const text = await res.text();
      if (i >= 50) lat.push(performance.now() - t);
      bytes = text.length;
      snapshots = JSON.parse(text).snapshots.length;
    }
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await store.close();
    redis.stop();
    reading = `${snapshots} snapshots, ${calls} sequential reads after 50 warm-up: p50 ${pct(lat, 50).toFixed(2)} ms, p99 ${pct(lat, 99).toFixed(2)} ms end to end (client, proxy and Redis on this machine); answer ${(bytes / 1024).toFixed(1)} KiB of JSON`;
  }
  const markdown = `## Snapshot history (#28)

| what | measured | budget |
|---|---|---|
| client CPU per lookup, no history | ${(plainCpu * 1000).toFixed(0)} µs | |
| client CPU per lookup, \`history: true\` (memory store; every lookup a new snapshot, so one append each) | ${(recordingCpu * 1000).toFixed(0)} µs (${added >= 0 ? '+' : ''}${added.toFixed(1)} %) | at most +5 % |
| reading a 90-day history through the proxy from a local Redis | ${reading} | reported |

Rounds of ${perRound} lookups, interleaved, the first round of each dropped as warm-up; the dev server in its own process.
`;
  return { markdown, added, reading };
}
