// The proxy as `make bench` runs it: its own Node process (node --expose-gc), the built package's
// powerpost-analytics/proxy through toNodeListener, mounted at /direct (no cache) and /cached
// (cache: true), upstream from POWERPOST_* variables. /__stats answers this process's CPU time
// and heap (/__stats?gc: after a GC), so the bench can charge the proxy's own work per call.
import http from 'node:http';
import { pathToFileURL } from 'node:url';

const { createProxyHandler, toNodeListener } = await import(pathToFileURL(process.env.PROXY_ENTRY).href);
const plain = toNodeListener(createProxyHandler({ basePath: '/direct', allowAnonymous: true, maxRetries: 0, callerLimit: false }));
const cached = toNodeListener(createProxyHandler({ basePath: '/cached', allowAnonymous: true, maxRetries: 0, callerLimit: false, cache: { maxEntries: 100_000 } }));
const server = http.createServer((req, res) => {
  if (req.url === '/__stats' || req.url === '/__stats?gc') {
    if (req.url.endsWith('?gc')) globalThis.gc?.();
    const { user, system } = process.cpuUsage();
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ cpuUs: user + system, heap: process.memoryUsage().heapUsed }));
  }
  return (req.url.startsWith('/cached/') ? cached : plain)(req, res);
});
server.keepAliveTimeout = 5000;
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
