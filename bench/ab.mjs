// An A/B of two built packages in one process, interleaved, for a change that must cost nothing
// per call (#31's allocator): `node --expose-gc bench/ab.mjs <pkg A> <pkg B> [rounds]`, each a
// directory as `make build` writes pkg/. Measures, for A and B alternately: a lookup against the
// dev server (client CPU and latency per call, medians), parsePostItemAnalytics (best of the
// rounds), a batch of 1,000 distinct ids (wall time per batch, median), and the memory check of
// `make bench` (100,000 mixed calls, 16 in flight: JS heap after GC and wasm memory, before and
// after). Prints a table; writes nothing.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { memoryCheck } from './memory.mjs';

const [dirA, dirB] = process.argv.slice(2, 4).map((d) => path.resolve(d));
if (!dirA || !dirB) throw new Error('usage: node --expose-gc bench/ab.mjs <pkg A> <pkg B> [rounds]');
const ROUNDS = Number(process.argv[4] ?? 5);
const KEY = 'pp_test_sk_local_dev';
const WS = 'ws_local_dev';
const ID = '550e8400-e29b-41d4-a716-446655440000';
const MEMORY_CALLS = 100_000;

const server = spawn(process.execPath, [path.join(dirA, 'bin', 'powerpost-dev-server.mjs'), '--port', '0', '--quiet', '--rate-limit', '1000000000'], { stdio: ['ignore', 'pipe', 'inherit'] });
const base = await new Promise((resolve, reject) => {
  server.stdout.once('data', (d) => resolve(String(d).trim()));
  server.once('exit', (c) => reject(new Error(`dev server exited ${c}`)));
});
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  const load = async (dir) => {
    const pp = await import(pathToFileURL(path.join(dir, 'dist', 'index.js')).href);
    return { pp, client: new pp.PowerPost({ baseUrl: base, apiKey: KEY, workspaceId: WS }) };
  };
  const sides = { A: await load(dirA), B: await load(dirB) };
  const names = Object.keys(sides);
  const stats = Object.fromEntries(names.map((n) => [n, { cpu: [], lat: [], parse: Infinity, batch: [] }]));

  // Lookups, call by call.
  for (const n of names) for (let i = 0; i < 300; i++) await sides[n].client.getPostItemAnalytics(ID);
  for (let i = 0; i < ROUNDS * 600; i++) {
    const n = names[i % 2];
    const u = process.cpuUsage();
    const t = performance.now();
    await sides[n].client.getPostItemAnalytics(ID);
    stats[n].lat.push(performance.now() - t);
    const used = process.cpuUsage(u);
    stats[n].cpu.push(used.user + used.system);
  }

  // parsePostItemAnalytics: best of ROUNDS × 100,000 calls each, alternating.
  const body = { post_item_id: ID, post_type: 'instagram-reel', platform: 'instagram', status: 'posted',
    metrics: { views: 12450, likes: 890, comments: 42, fetched_at: '2026-04-15T09:00:00Z' } };
  let sink = 0;
  for (let r = 0; r < ROUNDS; r++) {
    for (const n of r % 2 ? [...names].reverse() : names) {
      const { pp } = sides[n];
      const t = process.hrtime.bigint();
      for (let i = 0; i < 100_000; i++) sink += pp.parsePostItemAnalytics(body, ID).metrics.views;
      stats[n].parse = Math.min(stats[n].parse, Number(process.hrtime.bigint() - t) / 100_000);
    }
  }
  if (sink !== 12450 * 100_000 * ROUNDS * 2) throw new Error('parse results disagree');

  // A batch of 1,000 distinct generated ids (gen-<tag>), fresh ids each time.
  let tag = 0;
  for (let r = 0; r < ROUNDS * 2; r++) {
    for (const n of r % 2 ? [...names].reverse() : names) {
      const ids = Array.from({ length: 1000 }, () => `gen-ab${tag++}`);
      const t = performance.now();
      const out = await sides[n].client.getPostItemAnalyticsBatch(ids, { concurrency: 16 });
      if (r > 0) stats[n].batch.push(performance.now() - t); // the first round warms up
      if (out.length !== 1000 || !out.every((x) => x.ok)) throw new Error(`batch on ${n}: ${out.filter((x) => !x.ok).length} failed`);
    }
  }

  // Memory, as make bench checks it: one side after the other (the heap is the process's).
  const memory = {};
  for (const n of names) {
    const m = await memoryCheck(sides[n].pp, { baseUrl: base, apiKey: KEY, workspaceId: WS, calls: MEMORY_CALLS });
    memory[n] = { heap: (m.heap1 - m.heap0) / 2 ** 20, wasm0: m.wasm0, wasm1: m.wasm1 };
  }

  console.log(`A = ${dirA}\nB = ${dirB}\n`);
  console.log('| | lookup: client CPU (median) | lookup: latency (median) | parsePostItemAnalytics (best) | batch of 1,000 (median) | memory over 100,000 calls: JS heap | wasm memory |');
  console.log('|---|---|---|---|---|---|---|');
  for (const n of names) {
    const s = stats[n];
    const m = memory[n];
    console.log(`| ${n} | ${median(s.cpu)} µs | ${(median(s.lat) * 1000).toFixed(0)} µs | ${s.parse.toFixed(0)} ns | ${median(s.batch).toFixed(1)} ms | ${m.heap >= 0 ? '+' : ''}${m.heap.toFixed(2)} MiB | ${m.wasm0 / 1024} → ${m.wasm1 / 1024} KiB |`);
  }
} finally {
  server.kill();
}
