// The proxy's part of `make bench` (called by bench.mjs): a lookup through the proxy against a
// direct lookup (added latency, and CPU per call in the proxy's own process), a cache hit
// through the proxy, and 2,000 requests at 50 concurrent (upstream requests counted at the dev
// server, p50/p99, the proxy's heap after GC across two such runs). Returns a Markdown section.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { entrySizes } from '../scripts/sizes.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

function startProxy(pkg, env, nodeArgs = []) {
  const child = spawn(process.execPath, ['--expose-gc', ...nodeArgs, path.join(here, 'proxy-server.mjs')], {
    env: { ...process.env, ...env, PROXY_ENTRY: path.join(pkg, 'dist', 'proxy.js') }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve({ url: `http://127.0.0.1:${JSON.parse(String(d)).port}`, child }));
    child.once('exit', (c) => reject(new Error(`bench proxy exited ${c}`)));
  });
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const us = (ms) => `${(ms * 1000).toFixed(0)} µs`;

/** `devServer` = { url, key, workspace }. */
export async function benchProxy({ pkg, devServer, quick }) {
  const calls = quick ? 300 : 2000;
  const pp = await import(pathToFileURL(path.join(pkg, 'dist', 'index.js')).href);
  const proxy = await startProxy(pkg, { POWERPOST_API_KEY: devServer.key, POWERPOST_WORKSPACE_ID: devServer.workspace, POWERPOST_BASE_URL: devServer.url });
  const stats = async (gc = false) => (await fetch(`${proxy.url}/__stats${gc ? '?gc' : ''}`)).json();
  // Per id: the dev server counts every id's requests (its request log keeps only the last 10 000).
  const upstreamCount = async (ids) => {
    let n = 0;
    for (const id of ids) n += (await (await fetch(`${devServer.url}/__dev/requests?id=${encodeURIComponent(id)}`)).json()).count;
    return n;
  };
  try {
    const direct = new pp.PowerPost({ baseUrl: devServer.url, apiKey: devServer.key, workspaceId: devServer.workspace, maxRetries: 0 });
    const viaProxy = new pp.PowerPost({ baseUrl: `${proxy.url}/direct`, maxRetries: 0 });
    const viaCache = new pp.PowerPost({ baseUrl: `${proxy.url}/cached`, maxRetries: 0 });
    const ID = '550e8400-e29b-41d4-a716-446655440000';
    const rows = [['direct: client → dev server', direct], ['through the proxy (no cache): client → proxy → dev server', viaProxy], ['through the proxy, a cache hit', viaCache]];
    for (const [, c] of rows) for (let i = 0; i < 200; i++) await c.getPostItemAnalytics(ID); // warm-up
    // Call by call, interleaved; the proxy's CPU is read around each contender's own calls.
    const times = rows.map(() => []);
    const proxyCpu = rows.map(() => 0);
    for (let i = 0; i < calls; i++) {
      for (const [j, [, c]] of rows.entries()) {
        const before = j === 0 ? 0 : (await stats()).cpuUs;
        const t = performance.now();
        await c.getPostItemAnalytics(ID);
        times[j].push(performance.now() - t);
        if (j > 0) proxyCpu[j] += (await stats()).cpuUs - before;
      }
    }
    // The /__stats call itself costs the proxy process a little: measured alone and subtracted.
    let statsCost = 0;
    for (let i = 0; i < 200; i++) { const a = (await stats()).cpuUs; statsCost += (await stats()).cpuUs - a; }
    statsCost /= 200;
    const latencyRows = rows.map(([name], j) => ({
      name, median: pct(times[j], 50), p99: pct(times[j], 99), proxyCpu: j === 0 ? undefined : Math.max(0, proxyCpu[j] / calls - statsCost),
    }));

    // 2,000 requests at 50 concurrent over 100 ids, cache on, twice: upstream count, latency, heap.
    const load = async (tag) => {
      const client = new pp.PowerPost({ baseUrl: `${proxy.url}/cached`, maxRetries: 0 });
      const ids = Array.from({ length: 100 }, (_, i) => `gen-bench-${tag}-${i}`);
      const lat = [];
      let next = 0;
      let failed = 0;
      const t0 = performance.now();
      await Promise.all(Array.from({ length: 50 }, async () => {
        while (next < calls) {
          const id = ids[next++ % ids.length];
          const t = performance.now();
          try { await client.getPostItemAnalytics(id); } catch { failed++; }
          lat.push(performance.now() - t);
        }
      }));
      const seconds = (performance.now() - t0) / 1000;
      return { upstream: await upstreamCount(ids), p50: pct(lat, 50), p99: pct(lat, 99), rps: calls / seconds, failed };
    };
    const heap0 = (await stats(true)).heap;
    const first = await load('a');
    const heap1 = (await stats(true)).heap;
    const second = await load('b');
    const heap2 = (await stats(true)).heap;
    const proxyEntry = entrySizes(pkg).proxy;
    const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
    const mib = (n) => `${(n / 2 ** 20).toFixed(2)} MiB`;
    const [d, p, h] = latencyRows;
    return { proxyEntry, markdown: `## The proxy (\`powerpost-analytics/proxy\`)

The browser client's lookup direct and through the proxy (a separate Node process: \`toNodeListener\`,
\`maxRetries: 0\`), interleaved call by call, ${calls} calls each after 200 warm-up calls; the proxy's
CPU is its process's own time around each call (less what reading it costs).

| path | median | p99 | proxy CPU per call |
|---|---|---|---|
${latencyRows.map((r) => `| ${r.name} | ${us(r.median)} | ${us(r.p99)} | ${r.proxyCpu === undefined ? '–' : `${r.proxyCpu.toFixed(0)} µs`} |`).join('\n')}

The proxy adds **${us(p.median - d.median)}** to a lookup's median (${us(p.p99 - d.p99)} at p99) and costs
**${p.proxyCpu.toFixed(0)} µs** of its own CPU per forwarded call; a cache hit through it takes ${us(h.median)} end to end and
${h.proxyCpu.toFixed(0)} µs of proxy CPU.

${calls.toLocaleString('en-US')} requests at 50 concurrent over 100 ids through the proxy with \`cache: true\`, run twice with fresh ids:

| run | upstream requests | p50 | p99 | req/s | failed | proxy heap after GC |
|---|---|---|---|---|---|---|
| 1 | ${first.upstream} | ${us(first.p50)} | ${us(first.p99)} | ${first.rps.toFixed(0)} | ${first.failed} | ${mib(heap0)} → ${mib(heap1)} |
| 2 | ${second.upstream} | ${us(second.p50)} | ${us(second.p99)} | ${second.rps.toFixed(0)} | ${second.failed} | ${mib(heap1)} → ${mib(heap2)} |

${first.upstream === 100 && second.upstream === 100 ? 'One upstream request per id' : 'Upstream requests per run above'} (100 ids, ${calls.toLocaleString('en-US')} requests a run), concurrent requests for one id
sharing one; the proxy's heap after GC moved by ${mib(heap2 - heap1)} from the first run to the second (its cache holds
100 more entries; flat is within about 1 MiB here).

Server side, the proxy entry (\`dist/proxy.js\`, its own wasm build, embedded) is ${kib(proxyEntry)} gzipped;
the browser entries do not carry it.
` };
  } finally {
    proxy.child.kill();
  }
}

/** Calls `fn(i)` for i in 0..n with `inFlight` at once; resolves the latencies (ms) and the wall time. */
async function inFlightRun(n, inFlight, fn) {
  const lat = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < n) {
      const i = next++;
      const t = performance.now();
      await fn(i);
      lat.push(performance.now() - t);
    }
  }));
  return { lat, ms: performance.now() - t0 };
}

/**
 * Issue #29, item 9: the proxy against a hand-written Fetch-API handler doing the same job
 * (bench/handwritten-proxy.mjs), each in its own process behind the same toNodeListener, the
 * proxy's maxConcurrentUpstream raised. First `calls` sequential lookups of one id interleaved
 * call by call (latency, and each process's CPU over its own calls), then `calls` lookups of
 * distinct ids 32 in flight, in rounds alternating which server goes first (req/s, CPU per call).
 * `cpuProf`: a directory for `node --cpu-prof` profiles of both servers.
 */
export async function benchContender({ pkg, devServer, quick, cpuProf, against }) {
  const calls = quick ? 300 : 2000;
  const rounds = 4;
  const env = { POWERPOST_API_KEY: devServer.key, POWERPOST_WORKSPACE_ID: devServer.workspace, POWERPOST_BASE_URL: devServer.url };
  const prof = (name) => (cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${cpuProf}`, `--cpu-prof-name=${name}.cpuprofile`] : []);
  const servers = [
    ['powerpost-analytics/proxy', await startProxy(pkg, env, prof('proxy'))],
    against
      ? [`the proxy of ${against}`, await startProxy(against, env, prof('against'))]
      : ['hand-written: fetch + JSON.parse + zod', await startProxy(pkg, { ...env, BENCH_HANDLER: 'handwritten' }, prof('handwritten'))],
  ];
  const cpuUs = async (s) => (await (await fetch(`${s.url}/__stats`)).json()).cpuUs;
  const lookup = async (s, id) => {
    const res = await fetch(`${s.url}/direct/api/v1/post-items/${encodeURIComponent(id)}/analytics`);
    const text = await res.text();
    if (res.status !== 200) throw new Error(`bench: ${res.status} ${text.slice(0, 200)}`);
    return text;
  };
  try {
    const ID = '550e8400-e29b-41d4-a716-446655440000';
    // Same answer from both (the snapshot rule's max-age aside, which moves with the clock).
    const [a, b] = await Promise.all(servers.map(([, s]) => lookup(s, ID)));
    if (a !== b) throw new Error(`bench: the two servers answer differently:\n${a}\n${b}`);
    for (const [, s] of servers) for (let i = 0; i < 300; i++) await lookup(s, `gen-warm-${i % 50}`);
    const seq = servers.map(() => ({ lat: [], cpu: 0 }));
    const before = await Promise.all(servers.map(([, s]) => cpuUs(s)));
    for (let i = 0; i < calls; i++) {
      for (let k = 0; k < servers.length; k++) {
        const j = (i + k) % servers.length; // who goes first alternates
        const t = performance.now();
        await lookup(servers[j][1], ID);
        seq[j].lat.push(performance.now() - t);
      }
    }
    const after = await Promise.all(servers.map(([, s]) => cpuUs(s)));
    seq.forEach((r, j) => (r.cpu = (after[j] - before[j]) / calls));
    const par = servers.map(() => ({ lat: [], ms: 0, cpu: 0 }));
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < servers.length; k++) {
        const j = (r + k) % servers.length;
        const s = servers[j][1];
        const c0 = await cpuUs(s);
        const run = await inFlightRun(calls / rounds, 32, (i) => lookup(s, `gen-par-${j}-${r}-${i}`));
        par[j].cpu += (await cpuUs(s)) - c0;
        par[j].ms += run.ms;
        par[j].lat.push(...run.lat);
      }
    }
    const rows = servers.map(([name], j) => ({
      name, median: pct(seq[j].lat, 50), p99: pct(seq[j].lat, 99), cpu: seq[j].cpu,
      p50at32: pct(par[j].lat, 50), rps: calls / (par[j].ms / 1000), cpuAt32: par[j].cpu / calls,
    }));
    const [p, h] = rows;
    const ratios = { latency: p.median / h.median, cpu: p.cpu / h.cpu, cpuAt32: p.cpuAt32 / h.cpuAt32, rps: p.rps / h.rps };
    const ok = (v, budget, atMost = true) => `${v.toFixed(2)}× ${(atMost ? v <= budget : v >= budget) ? '✅' : '❌'} (budget ${atMost ? '≤' : '≥'} ${budget.toFixed(2)}×)`;
    return { rows, ratios, markdown: `### The proxy against a hand-written handler (#29)

What a developer would write instead (\`bench/handwritten-proxy.mjs\`: the path and id checks, \`fetch\` with the
key and a timeout, \`JSON.parse\`, zod, the same headers passed on, \`Cache-Control\` from the snapshot rule), in
the same \`toNodeListener\`, each server in its own process, the proxy without a cache and with
\`maxConcurrentUpstream: 1024\` (the comparison measures the work, not the queue). ${calls} lookups of one id
interleaved call by call (median, p99, each process's CPU over its own calls), then ${calls} lookups of
distinct ids 32 in flight, in ${rounds} rounds alternating which server goes first.

| server | median | p99 | CPU per call | p50 at 32 in flight | req/s at 32 | CPU per call at 32 |
|---|---|---|---|---|---|---|
${rows.map((r) => `| ${r.name} | ${us(r.median)} | ${us(r.p99)} | ${r.cpu.toFixed(0)} µs | ${us(r.p50at32)} | ${r.rps.toFixed(0)} | ${r.cpuAt32.toFixed(0)} µs |`).join('\n')}

The proxy against it: median latency ${ok(ratios.latency, 1.05)}, CPU per forwarded call ${ok(ratios.cpu, 1.05)}
(${ratios.cpuAt32.toFixed(2)}× at 32 in flight), req/s at 32 in flight ${ok(ratios.rps, 0.9, false)}.
` };
  } finally {
    // SIGINT, so that --cpu-prof writes its profile on the way out.
    await Promise.all(servers.map(([, s]) => new Promise((r) => { s.child.once('exit', r); s.child.kill(cpuProf ? 'SIGINT' : 'SIGTERM'); })));
  }
}

/**
 * Issue #29, item 10: 2,000 lookups of distinct ids at once through the proxy with its defaults
 * (maxConcurrentUpstream 8, maxQueue 256, no cache): the most upstream requests in flight at
 * once (counted at the dev server), the answers (200, or 503 PROXY_BUSY), p50/p99 of each, and
 * the proxy process's heap after GC and RSS around it.
 */
export async function benchConcurrentIds({ pkg, devServer, quick }) {
  const n = quick ? 500 : 2000;
  const proxy = await startProxy(pkg, { POWERPOST_API_KEY: devServer.key, POWERPOST_WORKSPACE_ID: devServer.workspace, POWERPOST_BASE_URL: devServer.url });
  const stats = async (gc = false) => (await fetch(`${proxy.url}/__stats${gc ? '?gc' : ''}`)).json();
  try {
    for (let i = 0; i < 200; i++) await (await fetch(`${proxy.url}/guarded/api/v1/post-items/gen-warm-${i}/analytics`)).text();
    const runs = [];
    for (const tag of ['a', 'b']) {
      const before = await stats(true);
      await fetch(`${devServer.url}/__dev/reset`);
      const answers = await Promise.all(Array.from({ length: n }, async (_, i) => {
        const t = performance.now();
        try {
          const res = await fetch(`${proxy.url}/guarded/api/v1/post-items/fault-slow-20--c${tag}${i}/analytics`);
          await res.text();
          return { status: res.status, retryAfter: res.headers.get('retry-after'), ms: performance.now() - t };
        } catch {
          return { status: 'no answer', ms: performance.now() - t };
        }
      }));
      const peak = await stats();
      const { peakInFlight, count } = await (await fetch(`${devServer.url}/__dev/requests`)).json();
      const after = await stats(true);
      const of = (st) => answers.filter((a) => a.status === st).map((a) => a.ms);
      runs.push({ tag, peakInFlight, count, ok: of(200), busy: of(503), busyWithRetryAfter: answers.filter((a) => a.status === 503 && Number(a.retryAfter) >= 1).length,
        other: answers.length - of(200).length - of(503).length, before, peak, after });
    }
    const mib = (x) => `${(x / 2 ** 20).toFixed(2)} MiB`;
    const lat = (xs) => (xs.length ? `${pct(xs, 50).toFixed(0)} / ${pct(xs, 99).toFixed(0)} ms` : '–');
    return { runs, markdown: `### ${n.toLocaleString('en-US')} lookups of distinct ids at once (#29)

All sent at once to the proxy with its defaults (\`maxConcurrentUpstream\` 8, \`maxQueue\` 256, no cache,
\`callerLimit: false\`: one client address), twice with fresh ids; each upstream answer takes 20 ms (the dev server's \`fault-slow-20\` ids). Upstream
requests counted at the dev server. The heap's second reading still holds the ${n.toLocaleString('en-US')} clients' idle
keep-alive connections; flat from the first run to the second is the check.

| run | most upstream at once | upstream requests | 200 (p50 / p99) | 503 \`PROXY_BUSY\` (p50 / p99) | with \`Retry-After\` | other | proxy heap after GC | RSS |
|---|---|---|---|---|---|---|---|---|
${runs.map((r, i) => `| ${i + 1} | ${r.peakInFlight} | ${r.count} | ${r.ok.length} (${lat(r.ok)}) | ${r.busy.length} (${lat(r.busy)}) | ${r.busyWithRetryAfter} | ${r.other} | ${mib(r.before.heap)} → ${mib(r.after.heap)} | ${mib(r.before.rss)} → ${mib(r.peak.rss)} |`).join('\n')}
` };
  } finally {
    proxy.child.kill();
  }
}

// `node --expose-gc bench/proxy.mjs [contender|ids] [--quick] [--cpu-prof DIR] [--pkg DIR]
// [--against DIR]`: only these parts, with their own dev server (make bench runs all of it).
// `--against` puts another built package's proxy in the contender's place: an A/B of two builds.
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const arg = (name) => (args.includes(name) ? path.resolve(args[args.indexOf(name) + 1]) : undefined);
  const pkg = arg('--pkg') ?? path.join(here, '..', 'pkg');
  const server = spawn(process.execPath, [path.join(pkg, 'bin', 'powerpost-dev-server.mjs'), '--port', '0', '--quiet', '--rate-limit', '1000000000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve) => server.stdout.once('data', (d) => resolve(String(d).trim())));
  const opts = { pkg, devServer: { url, key: 'pp_test_sk_local_dev', workspace: 'ws_local_dev' }, quick: args.includes('--quick'), cpuProf: arg('--cpu-prof'), against: arg('--against') };
  try {
    if (!args.includes('ids')) console.log((await benchContender(opts)).markdown);
    if (!args.includes('contender')) console.log((await benchConcurrentIds(opts)).markdown);
  } finally {
    server.kill();
  }
}
