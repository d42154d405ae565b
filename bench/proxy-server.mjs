// The proxy as `make bench` runs it: its own Node process (node --expose-gc) serving through
// toNodeListener either the built package's powerpost-analytics/proxy (BENCH_HANDLER unset),
// mounted at /direct (no cache; maxConcurrentUpstream raised so that the comparison with the
// hand-written handler measures the work, not the queue), /guarded (the defaults: 8 upstream at
// once, a queue of 256) and /cached (cache: true), or (BENCH_HANDLER=handwritten) the
// hand-written contender, bench/handwritten-proxy.mjs, at /direct. Upstream from POWERPOST_*
// variables. /__stats answers this process's CPU time and heap (/__stats?gc: after a GC), so the
// bench can charge each server's own work per call.
import http from 'node:http';
import { pathToFileURL } from 'node:url';

const { createProxyHandler, toNodeListener } = await import(pathToFileURL(process.env.PROXY_ENTRY).href);
const common = { allowAnonymous: true, maxRetries: 0, callerLimit: false };
let mounts;
if (process.env.BENCH_HANDLER === 'handwritten') {
  const { createHandwrittenHandler } = await import('./handwritten-proxy.mjs');
  mounts = { '/direct/': toNodeListener(createHandwrittenHandler({ basePath: '/direct' })) };
} else {
  mounts = {
    '/direct/': toNodeListener(createProxyHandler({ ...common, basePath: '/direct', maxConcurrentUpstream: 1024 })),
    '/guarded/': toNodeListener(createProxyHandler({ ...common, basePath: '/guarded' })),
    '/cached/': toNodeListener(createProxyHandler({ ...common, basePath: '/cached', cache: { maxEntries: 100_000 } })),
  };
}
const server = http.createServer((req, res) => {
  if (req.url === '/__stats' || req.url === '/__stats?gc') {
    if (req.url.endsWith('?gc')) globalThis.gc?.();
    const { user, system } = process.cpuUsage();
    res.writeHead(200, { 'content-type': 'application/json' });
    const { heapUsed, rss } = process.memoryUsage();
    return res.end(JSON.stringify({ cpuUs: user + system, heap: heapUsed, rss }));
  }
  const mount = Object.keys(mounts).find((m) => req.url.startsWith(m)) ?? '/direct/';
  return mounts[mount](req, res);
});
server.keepAliveTimeout = 5000;
// An exit of its own on SIGINT, so that `node --cpu-prof` writes the profile (bench/proxy.mjs --cpu-prof).
process.on('SIGINT', () => process.exit(0));
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
