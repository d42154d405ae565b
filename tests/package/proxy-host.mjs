// Hosts powerpost-analytics/proxy for the package tests, in Node (http + toNodeListener), Deno
// (Deno.serve) or Bun (Bun.serve), as the README shows. PROXY_SPEC (JSON) says which proxies to
// mount (proxy-mounts.mjs); with `redis: true`, `cache: true` uses the README's Redis store
// (./redis-store.mjs, REDIS_URL). The key, workspace and upstream come from POWERPOST_*
// variables. Prints {"port": N} once listening.
import { createProxyHandler, toNodeListener } from 'powerpost-analytics/proxy';
import { mountProxies } from './proxy-mounts.mjs';

const env = (name) => (globalThis.Deno ? globalThis.Deno.env.get(name) : process.env[name]);
// PP_OTEL=1: an OpenTelemetry tracer provider registered globally, as an app's SDK would (the
// proxy then continues a caller's trace upstream).
if (env('PP_OTEL') === '1') {
  const { trace } = await import('@opentelemetry/api');
  const { BasicTracerProvider } = await import('@opentelemetry/sdk-trace-base');
  trace.setGlobalTracerProvider(new BasicTracerProvider());
}
const spec = JSON.parse(env('PROXY_SPEC') ?? '{"mounts":{"/":{"allowAnonymous":true}}}');
const store = spec.redis ? (await import('./redis-store.mjs')).store : undefined;
const handler = mountProxies(createProxyHandler, spec, store);

if (globalThis.Deno) {
  globalThis.Deno.serve({ port: 0, hostname: '127.0.0.1', onListen: ({ port }) => console.log(JSON.stringify({ port })) }, handler);
} else if (globalThis.Bun) {
  const server = globalThis.Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: handler });
  console.log(JSON.stringify({ port: server.port }));
} else {
  const http = await import('node:http');
  const server = http.createServer(toNodeListener(handler));
  server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port, node: process.version })));
}
