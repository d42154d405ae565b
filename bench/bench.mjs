// `make bench`: this package against what a JS developer would write instead, side by side in
// one process, interleaved, with warm-up. It reports; it does not fail on noise. Writes
// BENCHMARKS.md. Contenders: the floor (fetch + res.json()), a robust JS stack (fetch with an
// AbortController timeout + res.json() + a zod 4 schema), client.getPostItemAnalytics, the
// stack floor of #13: a wasm module on the same crates (gloo-net fetch, JSON.parse,
// serde-wasm-bindgen into the same structs) doing the least work, built exactly as the package,
// and a cache hit. Kept to these five (#24): with a dozen contenders interleaved call by call,
// each call runs with colder CPU caches and the deltas between contenders read 1.5-2.5x larger.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { buildWasm } from '../scripts/wasm-build.mjs';
import { entrySizes } from '../scripts/sizes.mjs';
import { memoryCheck } from './memory.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = path.join(root, 'pkg');
const QUICK = process.env.BENCH_QUICK === '1';
const ROUNDS = QUICK ? 3 : 10;
const PER_ROUND = QUICK ? 100 : 400;
const MEMORY_CALLS = QUICK ? 10_000 : 100_000;

// The stack floor (bench/floor), built with the package's own build steps; its glue minified
// as the package's entries are.
const floorOut = path.join(root, 'target', 'floor-out');
const floorBuild = buildWasm({ crateDir: path.join(root, 'bench', 'floor'), outDir: floorOut, outName: 'floor' });
const floorJs = (await esbuild.build({ stdin: { contents: floorBuild.glueText, resolveDir: floorOut, loader: 'js' }, bundle: true,
  minify: true, format: 'esm', platform: 'neutral', target: 'es2022', write: false, logLevel: 'warning' })).outputFiles[0].text;
fs.writeFileSync(path.join(floorOut, 'floor.min.mjs'), floorJs);
const floorModule = await import(pathToFileURL(path.join(floorOut, 'floor.min.mjs')).href);
floorModule.initSync({ module: floorBuild.wasmBytes });
const gzip = (bytes) => zlib.gzipSync(bytes, { level: 9 }).length;
const floorSize = { wasm: gzip(floorBuild.wasmBytes), js: gzip(Buffer.from(floorJs)) };

// The dev server in its own process, so it does not share this event loop.
const server = spawn(process.execPath, [path.join(pkg, 'bin', 'powerpost-dev-server.mjs'), '--port', '0', '--quiet', '--rate-limit', '1000000000'], { stdio: ['ignore', 'pipe', 'inherit'] });
const base = await new Promise((resolve, reject) => {
  server.stdout.once('data', (d) => resolve(String(d).trim()));
  server.once('exit', (c) => reject(new Error(`dev server exited ${c}`)));
});
const KEY = 'pp_test_sk_local_dev';
const WS = 'ws_local_dev';
const ID = '550e8400-e29b-41d4-a716-446655440000';
const headers = { 'x-api-key': KEY, 'x-workspace-id': WS, accept: 'application/json' };
const url = `${base}/api/v1/post-items/${ID}/analytics`;

const pp = await import(pathToFileURL(path.join(pkg, 'dist', 'index.js')).href);
const { analyticsSchema: schema } = await import('./zod-schema.mjs');

const client = new pp.PowerPost({ baseUrl: base, apiKey: KEY, workspaceId: WS });
// The snapshot-aware cache: after the first call every call is a hit (the sample's fetched_at
// keeps it fresh), so this row is what a hit costs next to the network rows above.
const cachedClient = new pp.PowerPost({ baseUrl: base, apiKey: KEY, workspaceId: WS, cache: { maxAgeMs: 24 * 3_600_000 } });
const contenders = {
  'floor: fetch + res.json()': async () => (await fetch(url, { headers })).json(),
  'robust JS: fetch + AbortController timeout + json + zod': async () => {
    const c = new AbortController();
    const t = setTimeout(() => c.abort(), 30_000);
    try {
      const res = await fetch(url, { headers, signal: c.signal });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return schema.parse(await res.json());
    } finally {
      clearTimeout(t);
    }
  },
  'powerpost-analytics: client.getPostItemAnalytics': () => client.getPostItemAnalytics(ID),
  'stack floor (wasm: gloo-net fetch + JSON.parse + serde-wasm-bindgen)': () => floorModule.getPostItemAnalytics(url, KEY, WS),
  'powerpost-analytics, cache hit (cache: true)': () => cachedClient.getPostItemAnalytics(ID),
};
const MINE = 2; // index of this package among the contenders
const STACK_FLOOR = 3;
const CACHE_HIT = 4;

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

async function latency(concurrency) {
  const lat = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
  const cpu = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
  const wall = Object.fromEntries(Object.keys(contenders).map((k) => [k, 0]));
  const count = Object.fromEntries(Object.keys(contenders).map((k) => [k, 0]));
  for (const fn of Object.values(contenders)) for (let i = 0; i < 200; i++) await fn(); // warm-up
  if (concurrency === 1) {
    // Sequential: alternate contenders call by call, so drift on a shared machine hits all alike.
    const names = Object.keys(contenders);
    for (let i = 0; i < ROUNDS * PER_ROUND; i++) {
      for (let k = 0; k < names.length; k++) {
        const name = names[(i + k) % names.length];
        const u = process.cpuUsage();
        const t = performance.now();
        await contenders[name]();
        const d = performance.now() - t;
        const used = process.cpuUsage(u);
        lat[name].push(d);
        cpu[name].push(used.user + used.system);
        wall[name] += d;
        count[name] += 1;
      }
    }
    return names.map((name) => ({ name, median: pct(lat[name], 50), p99: pct(lat[name], 99), rps: (count[name] / wall[name]) * 1000, cpu: pct(cpu[name], 50) }));
  }
  const names = Object.keys(contenders);
  for (let r = 0; r < ROUNDS; r++) {
    // Each round starts with the next contender, so no one always runs first (or last).
    for (let k = 0; k < names.length; k++) {
      const name = names[(r + k) % names.length];
      const fn = contenders[name];
      const started = performance.now();
      let left = PER_ROUND;
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (left-- > 0) {
          const t = performance.now();
          await fn();
          lat[name].push(performance.now() - t);
        }
      }));
      wall[name] += performance.now() - started;
      count[name] += PER_ROUND;
    }
  }
  return Object.keys(contenders).map((name) => ({ name, median: pct(lat[name], 50), p99: pct(lat[name], 99), rps: (count[name] / wall[name]) * 1000 }));
}

function validationNs() {
  const body = { post_item_id: ID, post_type: 'instagram-reel', platform: 'instagram', status: 'posted',
    metrics: { views: 12450, likes: 890, comments: 42, fetched_at: '2026-04-15T09:00:00Z' } };
  const hand = (v) => {
    const str = (x) => typeof x === 'string' && x.length > 0;
    const cnt = (x) => (x == null ? 0 : Number.isSafeInteger(x) && x >= 0 ? x : (() => { throw new Error('bad count'); })());
    if (!v || typeof v !== 'object' || !str(v.post_item_id) || !str(v.post_type) || !str(v.platform) || typeof v.status !== 'string') throw new Error('bad');
    const m = v.metrics;
    if (m !== null && (typeof m !== 'object' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i.test(m.fetched_at))) throw new Error('bad');
    return { post_item_id: v.post_item_id, post_type: v.post_type, platform: v.platform, status: v.status,
      metrics: m && { views: cnt(m.views), likes: cnt(m.likes), comments: cnt(m.comments), fetched_at: m.fetched_at } };
  };
  const fns = { 'parsePostItemAnalytics (this package)': (v) => pp.parsePostItemAnalytics(v, ID), 'zod 4 schema.parse': (v) => schema.parse(v), 'hand-written check': hand };
  const N = QUICK ? 20_000 : 200_000;
  const out = {};
  // Every result feeds a sink that is read afterwards, so V8 cannot drop a call whose result
  // is unused (the hand-written check has no side effects and could otherwise vanish).
  let sink = 0;
  const names = Object.keys(fns);
  for (const fn of Object.values(fns)) for (let i = 0; i < 20_000; i++) sink += fn(body).metrics.views;
  for (let r = 0; r < 5; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(r + k) % names.length];
      const fn = fns[name];
      const t = process.hrtime.bigint();
      for (let i = 0; i < N; i++) sink += fn(body).metrics.views;
      const ns = Number(process.hrtime.bigint() - t) / N;
      out[name] = Math.min(out[name] ?? Infinity, ns);
    }
  }
  if (sink !== 12450 * (20_000 + 5 * N) * names.length) throw new Error(`validators disagree (sink ${sink})`);
  return out;
}

function coldStart() {
  // Fresh processes, interleaved (empty, package, zod, empty, …) so that drift on a shared
  // machine hits all three alike; the medians are compared. Each reads the clock before it
  // touches `process.stdout`, whose first use sets up the stream (milliseconds).
  const once = (code) => execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: root, encoding: 'utf8' });
  const entry = pathToFileURL(path.join(pkg, 'dist', 'index.js')).href;
  const emptyFile = path.join(os.tmpdir(), 'powerpost-empty.mjs');
  fs.writeFileSync(emptyFile, 'export const x = 1;\n');
  const codes = {
    empty: `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(emptyFile).href)}); const d = performance.now() - t; process.stdout.write(String(d));`,
    pkg: `const t = performance.now(); const m = await import(${JSON.stringify(entry)}); m.parsePostItemAnalytics({post_item_id:'x',post_type:'t',platform:'p',status:'draft',metrics:null}); const d = performance.now() - t; process.stdout.write(String(d));`,
    zod: `const t = performance.now(); await import('zod'); const d = performance.now() - t; process.stdout.write(String(d));`,
  };
  // Where the time goes: the same start-up in its own processes, in three steps timed apart —
  // the import, loading the wasm (decode, compile, instantiate: the internal hook the memory
  // reading uses), the first call. The empty module is imported first, so that the module
  // loader's own start-up is not counted. Prints [import, load, first call].
  const parts = `await import(${JSON.stringify(pathToFileURL(emptyFile).href)});
    const t0 = performance.now(); const m = await import(${JSON.stringify(entry)}); const t1 = performance.now();
    m.__wasmMemoryBytes(); const t2 = performance.now();
    m.parsePostItemAnalytics({post_item_id:'x',post_type:'t',platform:'p',status:'draft',metrics:null});
    const t3 = performance.now(); process.stdout.write(JSON.stringify([t1 - t0, t2 - t1, t3 - t2]));`;
  const samples = { empty: [], pkg: [], zod: [], extra: [], import: [], load: [], call: [] };
  for (let i = 0; i < (QUICK ? 5 : 25); i++) {
    for (const k of Object.keys(codes)) samples[k].push(Number(once(codes[k])));
    // The package's cost beyond the empty module next to it: pairs cancel slow drift.
    samples.extra.push(samples.pkg[i] - samples.empty[i]);
    const [imp, load, call] = JSON.parse(once(parts));
    samples.import.push(imp);
    samples.load.push(load);
    samples.call.push(call);
  }
  const med = (k) => pct(samples[k], 50);
  return { empty: med('empty'), pkg: med('pkg'), zod: med('zod'), extra: med('extra'),
    parts: { import: med('import'), load: med('load'), call: med('call') } };
}

function sizes() {
  return { ...entrySizes(pkg),
    zod: zlib.gzipSync(execFileSync(path.join(root, 'node_modules', '.bin', 'esbuild'), ['--bundle', '--minify', '--format=esm', '--log-level=error'],
      { cwd: root, input: "export { z } from 'zod';" })).length };
}

try {
  console.log(`bench: dev server ${base}; ${ROUNDS} rounds × ${PER_ROUND} calls per contender${QUICK ? ' (quick)' : ''}`);
  const seq = await latency(1);
  const c16 = await latency(16);
  const val = validationNs();
  const cold = coldStart();
  const mem = await memoryCheck(pp, { baseUrl: base, apiKey: KEY, workspaceId: WS, calls: MEMORY_CALLS });
  const size = sizes();
  const proxyBench = await import('./proxy.mjs');
  const proxyArgs = { pkg, devServer: { url: base, key: KEY, workspace: WS }, quick: QUICK };
  const proxy = await proxyBench.benchProxy(proxyArgs);
  const contender = await proxyBench.benchContender(proxyArgs);
  const manyIds = await proxyBench.benchConcurrentIds(proxyArgs);
  const history = await (await import('./history.mjs')).benchHistory({ pkg, devServer: { url: base, key: KEY, workspace: WS }, quick: QUICK });
  // The entries' sizes at c56efbf, before the observer (#32), for the comparison.
  const telemetry = await (await import('./telemetry.mjs')).benchTelemetry({ pkg, devServer: { url: base, key: KEY, workspace: WS }, quick: QUICK,
    sizes: size, before: { default: 105_411, slim: 94_635, proxy: 148_350 } });
  const floor1 = seq[0];
  const robust1 = seq[1];
  const mine1 = seq[MINE];
  const stack1 = seq[STACK_FLOOR];
  const parseUs = val['parsePostItemAnalytics (this package)'] / 1000;
  const zodUs = val['zod 4 schema.parse'] / 1000;
  const fmtMs = (x) => `${(x * 1000).toFixed(0)} µs`;
  // Binary units throughout: KiB and MiB, budgets included.
  const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
  const mib = (n) => `${(n / 2 ** 20).toFixed(2)} MiB`;
  const status = (ok) => (ok ? '✅' : '❌');
  // The per-call budgets of #24 (back to the stack floor), all ratios or differences within
  // this one run; the sizes and the cold start of #31 (every feature included; the size gate,
  // tests/size, holds the entries to their checked-in budgets in make test).
  const stackFloorSize = floorSize.wasm + floorSize.js;
  const budgets = [
    ['client CPU per call, package − stack floor ≤ +25 µs', mine1.cpu - stack1.cpu, 25],
    ['median latency at concurrency 1 ≤ 1.30× raw fetch', mine1.median / floor1.median, 1.3],
    ['throughput at 16 in flight ≥ 0.80× raw fetch', c16[MINE].rps / c16[0].rps, 0.8, true],
    ['parsePostItemAnalytics ≤ 4× zod 4 on the same object (×)', parseUs / zodUs, 4],
    ['cold start beyond an empty module ≤ +8 ms', cold.extra, 8],
    ['default entry gzipped ≤ 83 KiB (KiB)', size.default / 1024, 83],
    ['slim entry gzipped ≤ 75 KiB (KiB)', size.slim / 1024, 75],
    ['proxy entry gzipped ≤ 111 KiB (KiB)', size.proxy / 1024, 111],
    ['proxy median latency ≤ 1.05× a hand-written handler (#29)', contender.ratios.latency, 1.05],
    ['proxy CPU per forwarded call ≤ 1.05× a hand-written handler (#29)', contender.ratios.cpu, 1.05],
    ['proxy req/s at 32 in flight ≥ 0.90× a hand-written handler (#29)', contender.ratios.rps, 0.9, true],
    ['JS heap growth ≤ 1 MiB over the memory run (flat)', (mem.heap1 - mem.heap0) / 2 ** 20, 1],
    ['wasm memory growth after warm-up = 0 (flat)', mem.wasm1 - mem.wasm0, 0],
  ];
  const cpu = os.cpus()[0];
  const md = `# Benchmarks

Generated by \`make bench\` (\`node bench/bench.mjs\`) on ${new Date().toISOString().slice(0, 10)}.
Machine: ${cpu ? cpu.model : 'unknown CPU'}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}; Node ${process.version}.
Method: the dev server in a separate process on loopback (keep-alive); all contenders in this one process after 200 warm-up calls each (the ${seq.length} in the table below, and no more: more contenders interleaved call by call inflate the deltas between them); at concurrency 1 they alternate call by call, at 16 they alternate in ${ROUNDS} rounds of ${PER_ROUND} calls, each round starting with the next contender. On this shared 2-core machine medians move by about ±10 % between runs, so ratios within 0.1 of a budget are not conclusive. A benchmark reports; it does not fail CI.

## Latency per call (${ROUNDS * PER_ROUND} calls each)

| contender | concurrency 1: median | p99 | req/s | client CPU per call (median) | concurrency 16: median | p99 | req/s |
|---|---|---|---|---|---|---|---|
${seq.map((s, i) => `| ${s.name} | ${fmtMs(s.median)} | ${fmtMs(s.p99)} | ${s.rps.toFixed(0)} | ${s.cpu} µs | ${fmtMs(c16[i].median)} | ${fmtMs(c16[i].p99)} | ${c16[i].rps.toFixed(0)} |`).join('\n')}

Ratios: sequential median vs floor **${(mine1.median / floor1.median).toFixed(3)}×**, vs robust JS **${(mine1.median / robust1.median).toFixed(3)}×**, vs the stack floor **${(mine1.median / stack1.median).toFixed(3)}×**; req/s at 16 vs floor **${(c16[MINE].rps / c16[0].rps).toFixed(3)}×** (the stack floor ${(c16[STACK_FLOOR].rps / c16[0].rps).toFixed(3)}×). Client CPU per call (this process only, the server runs in another): the robust JS stack adds ${robust1.cpu - floor1.cpu} µs to the floor, the stack floor (the same crates doing the least work) ${stack1.cpu - floor1.cpu} µs, the package ${mine1.cpu - floor1.cpu} µs, so the package's own work costs ${mine1.cpu - stack1.cpu} µs per call over the stack floor. A cache hit: median ${fmtMs(seq[CACHE_HIT].median)} and ${seq[CACHE_HIT].cpu} µs of client CPU, against ${fmtMs(mine1.median)} and ${mine1.cpu} µs for a request.

## Validation alone (ns per call, best of 5)

| validator | ns/call |
|---|---|
${Object.entries(val).map(([k, v]) => `| ${k} | ${v.toFixed(0)} |`).join('\n')}

parsePostItemAnalytics takes **${(parseUs / zodUs).toFixed(1)}×** what zod 4 takes on the same object.

## Cold start (fresh Node processes, interleaved, median of ${QUICK ? 5 : 25})

| what | ms |
|---|---|
| import an empty module | ${cold.empty.toFixed(2)} |
| import powerpost-analytics + first parsePostItemAnalytics | ${cold.pkg.toFixed(2)} (+${cold.extra.toFixed(2)}: median of the differences between back-to-back pairs) |
| import zod | ${cold.zod.toFixed(2)} |

Where the package's start-up goes (its own processes, three steps timed apart after an empty
module was imported; medians): importing the entry ${cold.parts.import.toFixed(2)} ms (reading and parsing the JS
and the embedded bytes), loading the wasm ${cold.parts.load.toFixed(2)} ms (decoding the bytes, compiling — Node 20's V8
validates the whole module up front and compiles each function on its first call —, instantiating),
the first call ${cold.parts.call.toFixed(2)} ms (mostly compiling the functions it touches; a second call takes about 0.1 ms).

## Memory (${mem.calls.toLocaleString('en-US')} mixed calls: success, invalid body, 404; 16 in flight)

| | before | after | growth |
|---|---|---|---|
| JS heap after GC | ${mib(mem.heap0)} | ${mib(mem.heap1)} | ${mib(mem.heap1 - mem.heap0)} |
| wasm linear memory | ${kib(mem.wasm0)} | ${kib(mem.wasm1)} | ${mem.wasm1 - mem.wasm0} bytes |

## Download size (gzip -9)

| what | size |
|---|---|
| default entry (\`dist/index.js\`, wasm embedded) | ${kib(size.default)} |
| slim (\`dist/slim.js\` + \`.wasm\`) | ${kib(size.slim)} (wasm ${kib(size.slimWasm)}) |
| the stack floor (\`bench/floor\`: wasm + minified glue, the same build) | ${kib(stackFloorSize)} (wasm ${kib(floorSize.wasm)}) — the slim entry is **${(size.slim / stackFloorSize).toFixed(2)}×** it |
| zod 4 (for scale: \`export { z }\`, bundled and minified) | ${kib(size.zod)} |
| server side: the proxy entry (\`dist/proxy.js\`, its own wasm build embedded; not in the browser entries) | ${kib(proxy.proxyEntry)} |

${proxy.markdown}
${contender.markdown}
${manyIds.markdown}
${history.markdown}
${telemetry.markdown}
## Budgets

| budget | measured | |
|---|---|---|
${budgets.map(([name, v, limit, atLeast]) => `| ${name} | ${typeof v === 'number' ? v.toFixed(3) : v} | ${status(atLeast ? v >= limit : v <= limit)} |`).join('\n')}
`;
  fs.writeFileSync(path.join(root, 'BENCHMARKS.md'), md + fs.readFileSync(path.join(root, 'bench', 'NOTES.md'), 'utf8'));
  console.log(md);
} finally {
  server.kill();
}
