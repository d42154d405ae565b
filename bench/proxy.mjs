// The proxy's part of `make bench` (called by bench.mjs): a lookup through the proxy against a
// direct lookup (added latency, and CPU per call in the proxy's own process), a cache hit
// through the proxy, and 2,000 requests at 50 concurrent (upstream requests counted at the dev
// server, p50/p99, the proxy's heap after GC across two such runs). Returns a Markdown section.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { entrySizes } from '../scripts/sizes.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

function startProxy(pkg, env) {
  const child = spawn(process.execPath, ['--expose-gc', path.join(here, 'proxy-server.mjs')], {
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
