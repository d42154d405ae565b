// `powerpost-analytics proxy`: the proxy (powerpost-analytics/proxy) as a standalone Node server,
// for static sites that have no backend of their own. The key comes from POWERPOST_API_KEY only.
import http from 'node:http';
import { createProxyHandler, toNodeListener, isPowerPostError } from '../dist/proxy.js';

export const PROXY_USAGE = `Usage: powerpost-analytics proxy [options]

Runs the proxy: a page's client (baseUrl = http://HOST:PORT/BASE-PATH) looks up analytics through
it, and the key stays on this machine. It forwards only GET/HEAD BASE-PATH/api/v1/post-items/{id}/analytics.

Options:
  --port N              port to listen on (default 8787; 0 = any free port)
  --host HOST           address to listen on (default 127.0.0.1)
  --base-path PATH      where the proxy is mounted (default: the root)
  --allow-origin ORIGIN a site whose pages may call it (repeatable), e.g. https://site.example
  --allow-anonymous     required: anyone who can reach it may use it (there is no login here)
  --caller-limit N      lookups a minute from one client address (default 60; 0 = no limit)
  --no-cache            ask PowerPost every time (by default answers are cached in memory as the
                        snapshot rule allows, and a 404 for 60 s)
  --redis URL           cache in Redis instead, shared by every proxy using it (needs the redis
                        package: npm install redis)
  --verbose             log every request to stderr (never the key)
  --help

OpenTelemetry: with OTEL_EXPORTER_OTLP_ENDPOINT set (or the _TRACES_/_METRICS_ one), traces and
metrics are exported over OTLP, configured by the standard OTEL_* variables (OTEL_SERVICE_NAME,
default powerpost-analytics-proxy; OTEL_EXPORTER_OTLP_PROTOCOL; …). It needs the SDK next to the
package: npm install @opentelemetry/api @opentelemetry/sdk-node

GET /healthz answers 200 while the proxy serves and 503 once it is stopping. SIGTERM or SIGINT
stops accepting connections and gives answers in flight 10 s to finish before every connection
is closed; a second signal exits at once.

The API key is read from POWERPOST_API_KEY only (never a flag: flags show in ps); the workspace
from POWERPOST_WORKSPACE_ID, the API's address from POWERPOST_BASE_URL.`;

/** Parses the flags and starts the server; `fail(message)` is a usage error (exit 2). */
export async function runProxy(argv, fail) {
  const o = { port: 8787, host: '127.0.0.1', allowedOrigins: [], cache: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) fail(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--help' || a === '-h') { process.stdout.write(PROXY_USAGE + '\n'); process.exit(0); }
    else if (a === '--port') {
      const v = value();
      if (!/^\d+$/.test(v) || Number(v) > 65535) fail(`--port needs a port number, got ${JSON.stringify(v)}`);
      o.port = Number(v);
    } else if (a === '--host') o.host = value();
    else if (a === '--base-path') o.basePath = value();
    else if (a === '--allow-origin') o.allowedOrigins.push(value());
    else if (a === '--allow-anonymous') o.allowAnonymous = true;
    else if (a === '--verbose') o.verbose = true;
    else if (a === '--no-cache') o.cache = false;
    else if (a === '--caller-limit') {
      const v = value();
      if (!/^\d+$/.test(v) || Number(v) > 1_000_000) fail(`--caller-limit needs a number of lookups a minute, got ${JSON.stringify(v)}`);
      o.callerLimit = Number(v) === 0 ? false : { perMinute: Number(v) };
    }
    else if (a === '--redis') o.redis = value();
    else if (a === '--api-key' || a.startsWith('--api-key=')) fail('the API key is read from POWERPOST_API_KEY only, never from a flag (flags show in ps and shell history)');
    else fail(`unknown option ${a}`);
  }
  if (!o.allowAnonymous) {
    fail('refusing to start an open proxy: this command has no login, so anyone who can reach it could read your analytics '
      + 'and spend your API key\'s rate limit. Pass --allow-anonymous if that is what you want (keep --host 127.0.0.1, '
      + 'or list the sites that may use it with --allow-origin).');
  }
  // The handler itself waits for a key until its first request (a build has no secrets); a
  // server started without one is a mistake to say at once.
  if (!process.env.POWERPOST_API_KEY) fail('No API key for the proxy: set the POWERPOST_API_KEY environment variable.');
  if (o.redis && !o.cache) fail('--redis is a cache: it cannot go with --no-cache');
  const cache = o.redis ? { store: await redisStore(o.redis, fail) } : o.cache;
  const stderr = (line) => process.stderr.write(`${line}\n`);
  const telemetry = await startTelemetry(stderr);
  let handler;
  try {
    handler = createProxyHandler({
      basePath: o.basePath, allowAnonymous: o.allowAnonymous, allowedOrigins: o.allowedOrigins, ...(cache ? { cache } : {}),
      ...(o.callerLimit !== undefined ? { callerLimit: o.callerLimit } : {}),
      ...(o.verbose ? { logLevel: 'debug', logger: { error: stderr, warn: stderr, info: stderr, debug: stderr } } : {}),
    });
  } catch (e) {
    fail(isPowerPostError(e) ? e.message : String(e && e.message));
  }
  const listener = toNodeListener(handler);
  let stopping = false;
  const server = http.createServer((req, res) => {
    // A load balancer's probe: outside basePath, no upstream request, nothing secret in it.
    if (req.url === HEALTH_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
      const body = JSON.stringify({ status: stopping ? 'stopping' : 'ok' });
      res.writeHead(stopping ? 503 : 200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...(stopping ? { connection: 'close' } : {}) });
      return res.end(req.method === 'HEAD' ? undefined : body);
    }
    if (stopping) res.setHeader('connection', 'close');
    listener(req, res);
  });
  await new Promise((resolve, reject) => {
    server.once('error', (e) => reject(e));
    server.listen(o.port, o.host, resolve);
  }).catch((e) => fail(`cannot listen on ${o.host}:${o.port}: ${e.message}`));
  const { port } = server.address();
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  process.stdout.write(`powerpost-analytics proxy: listening on http://${host}:${port}${(o.basePath ?? '').replace(/\/$/, '')} (Ctrl-C stops)\n`);
  // The first signal stops accepting connections and closes the idle ones; answers in flight
  // get GRACE_MS to finish, then every connection is closed. A second signal exits at once.
  const stop = () => {
    if (stopping) process.exit(1);
    stopping = true;
    server.close(() => flush(telemetry).then(() => process.exit(0)));
    server.closeIdleConnections();
    const idle = setInterval(() => server.closeIdleConnections(), 100);
    setTimeout(() => {
      clearInterval(idle);
      server.closeAllConnections();
      flush(telemetry).then(() => process.exit(0));
    }, GRACE_MS).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** The OTLP endpoint variables: one of them set turns exporting on. */
const OTLP_ENDPOINTS = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT'];

/**
 * With an OTLP endpoint in the environment: the OpenTelemetry Node SDK (the user's optional
 * @opentelemetry/sdk-node), configured by the standard OTEL_* variables, registered globally so
 * the proxy's spans and metrics are exported. Not installed: one line saying what to install.
 */
async function startTelemetry(stderr) {
  const set = OTLP_ENDPOINTS.find((name) => process.env[name]);
  if (!set) return undefined;
  let NodeSDK;
  let resources;
  try {
    ({ NodeSDK, resources } = await import('@opentelemetry/sdk-node'));
  } catch {
    stderr(`powerpost-analytics proxy: ${set} is set, but the OpenTelemetry SDK is not installed, so nothing is exported: `
      + 'npm install @opentelemetry/api @opentelemetry/sdk-node');
    return undefined;
  }
  // OTEL_SERVICE_NAME, when set, names the service (the SDK reads it); otherwise this default.
  // Not the process detector unless asked for (OTEL_NODE_RESOURCE_DETECTORS): it exports the
  // command line, and a --redis URL can hold a password.
  const detectors = process.env.OTEL_NODE_RESOURCE_DETECTORS ? {} : { resourceDetectors: [resources.envDetector, resources.hostDetector, resources.osDetector] };
  const sdk = new NodeSDK({ ...detectors, ...(process.env.OTEL_SERVICE_NAME ? {} : { serviceName: 'powerpost-analytics-proxy' }) });
  sdk.start();
  // Where to: the endpoint without its credentials (a URL's userinfo, query or fragment).
  const to = (() => { try { const u = new URL(process.env[set]); return `${u.protocol}//${u.host}${u.pathname}`; } catch { return 'the configured endpoint'; } })();
  stderr(`powerpost-analytics proxy: exporting OpenTelemetry traces and metrics to ${to}`);
  return sdk;
}

/** Exports what is left (at most 5 s) before the process exits. */
function flush(sdk) {
  if (!sdk) return Promise.resolve();
  return Promise.race([sdk.shutdown().catch(() => {}), new Promise((r) => setTimeout(r, 5000).unref())]);
}

/** A cache store in Redis at `url` (the README's store), through the optional `redis` package. */
async function redisStore(url, fail) {
  let createClient;
  try {
    ({ createClient } = await import('redis'));
  } catch {
    fail('--redis needs the redis package next to powerpost-analytics: npm install redis');
  }
  // Fail fast while Redis is away: the proxy then works without it and warns once.
  const redis = createClient({ url, disableOfflineQueue: true });
  redis.on('error', () => {});
  await redis.connect().catch((e) => fail(`cannot reach Redis at --redis: ${e.message}`));
  return {
    get: (key) => redis.get(key),
    set: (key, value) => redis.set(key, value, { EX: 86_400 }),
    delete: (key) => redis.del(key),
    add: async (key, value) => (await redis.set(key, value, { NX: true, EX: 60 })) === 'OK',
  };
}

/** How long answers in flight may take to finish after SIGTERM or SIGINT. */
export const GRACE_MS = 10_000;
/** The health check's path, outside the base path (tests/readme_defaults.rs checks the README's). */
export const HEALTH_PATH = '/healthz';
