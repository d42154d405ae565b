// Observability (issue #32), from the packed package with the real OpenTelemetry SDK
// (@opentelemetry/sdk-trace-base's in-memory exporter, @opentelemetry/sdk-metrics, the exact
// versions of the root's lock file): a lookup's span, its retry and wait events, a 404, a cache
// hit, a batch's parent, the traceparent the dev server received, the proxy's SERVER span
// continuing a caller's trace, metrics, the TracingChannel, the key in nothing exported, the
// proxy CLI exporting OTLP/HTTP to a local receiver, and tracing off importing nothing in Node,
// Deno, Bun and workerd. Registered by package.test.mjs, which owns the package.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { installLockedPackages } from './proxy.mjs';
import { buildWorker } from './workerd.mjs';

const KEY = 'pp_test_sk_local_dev';

/** The lookup script: runs every case against API with the SDK's in-memory exporters; prints JSON. */
const LOOKUPS = `
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import dc from 'node:diagnostics_channel';
import { PowerPost, NotFoundError } from 'powerpost-analytics';

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
const meterProvider = new MeterProvider({ readers: [reader] });
const { API, TAG } = process.env;
const opts = { apiKey: '${KEY}', workspaceId: 'ws_local_dev', baseUrl: API, maxRetryWaitMs: 5000 };
const pp = new PowerPost({ ...opts, tracerProvider, meterProvider, cache: true });
const ids = { ok: 'gen-ok-' + TAG, retry: 'flaky-503-1-' + TAG, wait: 'flaky-429-1-' + TAG, missing: 'missing-' + TAG };
const out = { errors: {} };

// Inside the app's own span: the lookup is its child.
const app = tracerProvider.getTracer('app');
await app.startActiveSpan('app work', async (span) => { await pp.getPostItemAnalytics(ids.ok); span.end(); });
await pp.getPostItemAnalytics(ids.ok); // a cache hit
await pp.getPostItemAnalytics(ids.retry);
await pp.getPostItemAnalytics(ids.wait);
try { await pp.getPostItemAnalytics(ids.missing); } catch (e) { out.errors.missing = e.name; }
const batch = await pp.getPostItemAnalyticsBatch(['gen-b1-' + TAG, 'gen-b2-' + TAG, 'gen-b1-' + TAG]);
out.batchOk = batch.every((r) => r.ok);

// The TracingChannel, with a client that has no OpenTelemetry at all.
const seen = [];
const channel = dc.tracingChannel('powerpost-analytics:lookup');
const record = (name) => (ctx) => seen.push({ name, id: ctx.postItemId, error: ctx.error?.name, errorIsClass: ctx.error instanceof NotFoundError,
  result: ctx.result?.post_item_id ?? (Array.isArray(ctx.result) ? 'array' : undefined), attempts: ctx.attempts, status: ctx.status });
channel.subscribe({ start: record('start'), end: record('end'), asyncStart: record('asyncStart'), asyncEnd: record('asyncEnd'), error: record('error') });
const plain = new PowerPost(opts);
await plain.getPostItemAnalytics('gen-chan-' + TAG);
await plain.getPostItemAnalytics('missing-chan-' + TAG).catch(() => {});
await plain.getPostItemAnalyticsBatch(['gen-chan-b-' + TAG, 'missing-chan-b-' + TAG]);
seen.push({ name: 'batch resolved' });
out.channel = seen;

// A provider that throws: the lookup goes on, unobserved.
const broken = new PowerPost({ ...opts, tracerProvider: { getTracer() { throw new Error('broken provider'); } } });
out.brokenProvider = (await broken.getPostItemAnalytics('gen-broken-' + TAG)).post_item_id;

await reader.forceFlush();
out.spans = exporter.getFinishedSpans().map((s) => ({
  name: s.name, kind: s.kind, attributes: s.attributes, status: s.status.code, traceId: s.spanContext().traceId, spanId: s.spanContext().spanId,
  parent: s.parentSpanContext?.spanId ?? null, events: s.events.map((e) => ({ name: e.name, attributes: e.attributes })),
}));
out.metrics = metricExporter.getMetrics().flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics.map((m) => ({
  name: m.descriptor.name, unit: m.descriptor.unit,
  points: m.dataPoints.map((d) => ({ attributes: d.attributes, value: typeof d.value === 'object' ? d.value.count : d.value, boundaries: d.value?.buckets?.boundaries })),
}))));
out.ids = ids;
console.log(JSON.stringify(out));
`;

/** The proxy script: a proxy with its own provider, called with a caller's traceparent. */
const PROXIED = `
import http from 'node:http';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { createProxyHandler, toNodeListener } from 'powerpost-analytics/proxy';

const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
const meterProvider = new MeterProvider({ readers: [reader] });
const { API, TAG, TRACE, PARENT } = process.env;
const handler = createProxyHandler({ apiKey: '${KEY}', workspaceId: 'ws_local_dev', baseUrl: API, basePath: '/pp', allowAnonymous: true,
  tracerProvider, meterProvider });
const server = http.createServer(toNodeListener(handler));
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = 'http://127.0.0.1:' + server.address().port + '/pp/api/v1/post-items/';
// As a page would send it: its own trace context, and headers the proxy must not pass on.
const headers = { traceparent: '00-' + TRACE + '-' + PARENT + '-01', tracestate: 'app=1', baggage: 'user=alice', 'x-custom': 'c' };
const answers = [];
for (const id of ['gen-px-' + TAG, 'missing-px-' + TAG]) {
  const r = await fetch(base + encodeURIComponent(id) + '/analytics', { headers });
  answers.push(r.status);
}
// A method the conventions do not name: the span says _OTHER (a caller cannot choose span names).
answers.push((await fetch(base + 'gen-px-m/analytics', { method: 'PROPFIND' })).status);
await reader.forceFlush();
server.close();
console.log(JSON.stringify({
  answers,
  spans: exporter.getFinishedSpans().map((s) => ({ name: s.name, kind: s.kind, attributes: s.attributes, status: s.status.code,
    traceId: s.spanContext().traceId, spanId: s.spanContext().spanId, parent: s.parentSpanContext?.spanId ?? null,
    traceState: s.spanContext().traceState?.serialize() ?? null })),
  metrics: metricExporter.getMetrics().flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics.map((m) => ({
    name: m.descriptor.name, points: m.dataPoints.map((d) => ({ attributes: d.attributes, value: typeof d.value === 'object' ? d.value.count : d.value })) })))),
}));
`;

/** Tracing off, then on with a provider: whether `@opentelemetry/api` (a stub that counts) was imported. */
const OFF = `
import { PowerPost } from 'powerpost-analytics';
import { createProxyHandler } from 'powerpost-analytics/proxy';
const env = globalThis.process?.env ?? { API: globalThis.Deno?.env.get('API') };
const opts = { apiKey: '${KEY}', workspaceId: 'ws_local_dev', baseUrl: env.API };
const imported = () => globalThis.__ppOtelImports ?? 0;
const out = {};
const pp = new PowerPost(opts);
out.lookup = (await pp.getPostItemAnalytics('gen-off')).post_item_id;
await pp.getPostItemAnalyticsBatch(['gen-off-1', 'gen-off-2']);
const proxy = createProxyHandler({ ...opts, allowAnonymous: true });
out.proxied = (await proxy(new Request('http://x/api/v1/post-items/gen-off-p/analytics'))).status;
out.offImports = imported();
// The control: asked for (a provider passed), the same code does import it.
const provider = { getTracer: () => ({ startSpan: () => { throw new Error('not used'); } }) };
await new PowerPost({ ...opts, tracerProvider: provider }).getPostItemAnalytics('gen-on');
out.onImports = imported();
console.log(JSON.stringify(out));
`;

/** A stand-in `@opentelemetry/api` that only counts its imports (it has no API: the package then goes on without). */
const STUB = 'globalThis.__ppOtelImports = (globalThis.__ppOtelImports ?? 0) + 1;\nexport const marker = true;\n';

const WORKER = `
import { getPostItemAnalytics } from 'powerpost-analytics';
import { createProxyHandler } from 'powerpost-analytics/proxy';
export default {
  async fetch(request, env) {
    const opts = { apiKey: '${KEY}', workspaceId: 'ws_local_dev', baseUrl: env.API };
    const out = {};
    out.lookup = (await getPostItemAnalytics('gen-wk', opts)).post_item_id;
    const proxy = createProxyHandler({ ...opts, allowAnonymous: true });
    out.proxied = (await proxy(new Request('http://x/api/v1/post-items/gen-wk-p/analytics'))).status;
    out.offImports = globalThis.__ppOtelImports ?? 0;
    const provider = { getTracer: () => ({ startSpan: () => { throw new Error('not used'); } }) };
    const traced = createProxyHandler({ ...opts, allowAnonymous: true, tracerProvider: provider });
    out.tracedStatus = (await traced(new Request('http://x/api/v1/post-items/gen-wk-q/analytics'))).status;
    out.onImports = globalThis.__ppOtelImports ?? 0;
    return Response.json(out);
  },
};
`;

/** One OTLP/HTTP receiver on loopback: every POST body, by path. */
function otlpReceiver() {
  const bodies = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      bodies.push({ path: req.url, body, type: req.headers['content-type'] });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}`, bodies, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  })));
}

const lastLine = (out) => JSON.parse(out.trim().split('\n').pop());

/**
 * Registers the tests. `ctx`: project, work, root, startDevServer (getters where set in
 * before()), NODES, runScript, run, sh, bin.
 */
export function registerTelemetryTests(test, ctx) {
  let upstream;
  const setUp = async () => {
    installLockedPackages(ctx);
    upstream ??= await ctx.startDevServer({ port: 0 });
    return upstream;
  };
  const write = (name, text) => {
    const file = path.join(ctx.project, name);
    fs.writeFileSync(file, text);
    return file;
  };
  const received = async (api, id) => (await (await fetch(`${api.url}/__dev/requests?id=${encodeURIComponent(id)}`)).json()).requests;

  let lookups;
  const runLookups = async () => {
    const api = await setUp();
    lookups ??= { tag: `t${Date.now()}`, api };
    lookups.out ??= lastLine(await ctx.runScript(ctx.NODES[20], write('otel-lookups.mjs', LOOKUPS), { env: { API: api.url, TAG: lookups.tag } }));
    return lookups;
  };
  const spansOf = (out, id) => out.spans.filter((s) => s.attributes['powerpost.post_item_id'] === id);

  test('telemetry: a lookup is one CLIENT span named by the template, with the semantic conventions\' attributes, under the active span', async () => {
    const { out, api } = await runLookups();
    const [first] = spansOf(out, out.ids.ok);
    assert.ok(first, 'the lookup made a span');
    assert.equal(first.name, 'GET /api/v1/post-items/{post_item_id}/analytics', 'named by the template, never the raw path');
    assert.equal(first.kind, 2, 'SpanKind.CLIENT');
    const { port } = new URL(api.url);
    assert.deepEqual(first.attributes, {
      'http.request.method': 'GET', 'server.address': '127.0.0.1', 'server.port': Number(port),
      'url.full': `${api.url}/api/v1/post-items/${out.ids.ok}/analytics`,
      'url.template': '/api/v1/post-items/{post_item_id}/analytics', 'powerpost.post_item_id': out.ids.ok,
      'powerpost.cache': 'miss', 'powerpost.rate_limit.remaining': first.attributes['powerpost.rate_limit.remaining'], 'http.response.status_code': 200,
    });
    assert.equal(typeof first.attributes['powerpost.rate_limit.remaining'], 'number');
    assert.equal(first.status, 0, 'UNSET on success');
    const appSpan = out.spans.find((s) => s.name === 'app work');
    assert.equal(first.parent, appSpan.spanId, 'the lookup is a child of the span active where it was called');
    assert.equal(first.traceId, appSpan.traceId);
    // The W3C trace context went upstream with the request: the lookup's trace and span.
    const [request] = await received(api, out.ids.ok);
    assert.equal(request.traceparent, `00-${first.traceId}-${first.spanId}-01`);
  });

  test('telemetry: a retry after a 503 and a wait for a 429 are span events with http.request.resend_count and what asked for the wait', async () => {
    const { out, api } = await runLookups();
    const [retried] = spansOf(out, out.ids.retry);
    assert.equal(retried.attributes['http.request.resend_count'], 1);
    assert.equal(retried.attributes['http.response.status_code'], 200);
    const names = retried.events.map((e) => e.name);
    assert.deepEqual(names, ['powerpost.wait', 'powerpost.retry']);
    assert.equal(retried.events[0].attributes['powerpost.wait.reason'], 'backoff', 'a 503 without Retry-After: backoff');
    assert.ok(retried.events[0].attributes['powerpost.wait.ms'] > 0);
    assert.equal(retried.events[1].attributes['http.request.resend_count'], 1);
    const [waited] = spansOf(out, out.ids.wait);
    const wait = waited.events.find((e) => e.name === 'powerpost.wait');
    assert.equal(wait.attributes['powerpost.wait.reason'], 'retry_after', 'the 429 named its wait in Retry-After');
    assert.ok(wait.attributes['powerpost.wait.ms'] >= 500 && wait.attributes['powerpost.wait.ms'] <= 1500, `waited ${wait.attributes['powerpost.wait.ms']} ms for Retry-After: 1`);
    assert.equal(waited.attributes['http.request.resend_count'], 1);
    // Each attempt carried the same trace context.
    const attempts = await received(api, out.ids.retry);
    assert.equal(attempts.length, 2, 'the 503 and the retry reached the dev server');
    for (const r of attempts) assert.equal(r.traceparent, `00-${retried.traceId}-${retried.spanId}-01`);
  });

  test('telemetry: a 404 sets error.type to the error class and the error status; a cache hit makes no request and says so', async () => {
    const { out } = await runLookups();
    assert.equal(out.errors.missing, 'NotFoundError');
    const [missing] = spansOf(out, out.ids.missing);
    assert.equal(missing.attributes['error.type'], 'NotFoundError');
    assert.equal(missing.attributes['http.response.status_code'], 404);
    assert.equal(missing.status, 2, 'SpanStatusCode.ERROR');
    const hit = spansOf(out, out.ids.ok).find((s) => s.attributes['powerpost.cache'] === 'hit');
    assert.ok(hit, 'the second lookup of the id was a cache hit');
    assert.equal(hit.attributes['http.response.status_code'], undefined, 'no request, so no status');
    assert.equal(hit.status, 0);
  });

  test('telemetry: a batch is a parent span over its lookups, a duplicate id looked up once', async () => {
    const { out } = await runLookups();
    const parent = out.spans.find((s) => s.name === 'PowerPost getPostItemAnalyticsBatch');
    assert.ok(parent, 'the batch made a span');
    assert.equal(parent.attributes['powerpost.batch.size'], 3);
    const children = out.spans.filter((s) => s.parent === parent.spanId);
    assert.deepEqual(children.map((s) => s.attributes['powerpost.post_item_id']).sort(), [`gen-b1-${lookups.tag}`, `gen-b2-${lookups.tag}`]);
    assert.ok(children.every((s) => s.traceId === parent.traceId && s.name === 'GET /api/v1/post-items/{post_item_id}/analytics'));
    assert.ok(out.batchOk);
  });

  test('telemetry: metrics: http.client.request.duration per attempt, lookups by cache result, requests, the rate limit left', async () => {
    const { out } = await runLookups();
    const metric = (name) => out.metrics.find((m) => m.name === name);
    const duration = metric('http.client.request.duration');
    assert.equal(duration.unit, 's');
    assert.deepEqual(duration.points[0].boundaries, [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10], 'the convention\'s buckets');
    const by = (m, attrs) => m.points.filter((p) => Object.entries(attrs).every(([k, v]) => p.attributes[k] === v)).reduce((n, p) => n + p.value, 0);
    assert.ok(by(duration, { 'http.response.status_code': 200, 'http.request.method': 'GET', 'server.address': '127.0.0.1' }) >= 5);
    assert.equal(by(duration, { 'http.response.status_code': 503, 'error.type': 'ServerError' }), 1);
    assert.equal(by(duration, { 'http.response.status_code': 429, 'error.type': 'RateLimitError' }), 1);
    assert.equal(by(duration, { 'http.response.status_code': 404, 'error.type': 'NotFoundError' }), 1);
    const lookupsMetric = metric('powerpost.client.lookups');
    assert.equal(by(lookupsMetric, { 'powerpost.cache': 'hit' }), 1);
    assert.ok(by(lookupsMetric, { 'powerpost.cache': 'miss' }) >= 5);
    const requests = metric('powerpost.client.requests');
    assert.equal(requests.points.reduce((n, p) => n + p.value, 0), duration.points.reduce((n, p) => n + p.value, 0), 'one request counted per attempt');
    const remaining = metric('powerpost.rate_limit.remaining');
    assert.equal(remaining.points.length, 1);
    assert.ok(remaining.points[0].value > 0 && remaining.points[0].value < 1000, `X-RateLimit-Remaining ${remaining.points[0].value}`);
  });

  test('telemetry: a tracer provider that throws does not break a lookup', async () => {
    const { out } = await runLookups();
    assert.equal(out.brokenProvider, `gen-broken-${lookups.tag}`);
  });

  test('telemetry: the key is in no span, event or metric attribute; no header value is', async () => {
    const { out } = await runLookups();
    const text = JSON.stringify({ spans: out.spans, metrics: out.metrics, channel: out.channel });
    assert.ok(text.length > 1000, 'there is something to search');
    for (const secret of [KEY, 'ws_local_dev', 'x-api-key', 'req_']) assert.ok(!text.includes(secret), `${secret} appears in the telemetry`);
  });

  test('telemetry: the powerpost-analytics:lookup TracingChannel publishes each lookup\'s start, end and error without OpenTelemetry', async () => {
    const { out } = await runLookups();
    const ofId = (id) => out.channel.filter((e) => e.id === id).map((e) => e.name);
    assert.deepEqual(ofId(`gen-chan-${lookups.tag}`), ['start', 'end', 'asyncStart', 'asyncEnd']);
    assert.deepEqual(ofId(`missing-chan-${lookups.tag}`), ['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
    const error = out.channel.find((e) => e.id === `missing-chan-${lookups.tag}` && e.name === 'error');
    assert.equal(error.error, 'NotFoundError');
    assert.ok(error.errorIsClass, 'the error is the package\'s NotFoundError');
    const done = out.channel.find((e) => e.id === `gen-chan-${lookups.tag}` && e.name === 'asyncEnd');
    assert.equal(done.result, `gen-chan-${lookups.tag}`);
    assert.equal(done.status, 200);
    assert.equal(done.attempts, 1);
    assert.deepEqual(ofId(`gen-chan-b-${lookups.tag}`), ['start', 'end', 'asyncStart', 'asyncEnd'], 'a batch\'s lookups too');
    assert.deepEqual(ofId(`missing-chan-b-${lookups.tag}`), ['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
    const resolved = out.channel.findIndex((e) => e.name === 'batch resolved');
    const ended = out.channel.findIndex((e) => e.id === `gen-chan-b-${lookups.tag}` && e.name === 'asyncEnd');
    assert.ok(ended >= 0 && ended < resolved, 'each batch lookup ends when it ends, not when the batch does');
    assert.equal(out.channel.find((e) => e.id === `missing-chan-b-${lookups.tag}` && e.name === 'error').error, 'NotFoundError');
  });

  test('telemetry through the proxy: the caller\'s traceparent continues in the proxy\'s SERVER span, its lookup is a child, and the trace reaches PowerPost; nothing else is passed on', async () => {
    const api = await setUp();
    const tag = `px${Date.now()}`;
    const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
    const PARENT = '00f067aa0ba902b7';
    const out = lastLine(await ctx.runScript(ctx.NODES[20], write('otel-proxy.mjs', PROXIED), { env: { API: api.url, TAG: tag, TRACE, PARENT } }));
    assert.deepEqual(out.answers, [200, 404, 405]);
    const other = out.spans.find((s) => s.kind === 1 && s.attributes['http.request.method'] === '_OTHER');
    assert.ok(other, 'the PROPFIND request\'s span');
    assert.equal(other.name, '_OTHER');
    assert.equal(other.attributes['http.request.method_original'], 'PROPFIND');
    const servers = out.spans.filter((s) => s.kind === 1 && s !== other);
    assert.equal(servers.length, 2, 'one SERVER span a request');
    for (const s of servers) {
      assert.equal(s.traceId, TRACE, 'the caller\'s trace continues');
      assert.equal(s.parent, PARENT);
      assert.equal(s.traceState, 'app=1');
      assert.equal(s.name, 'GET /pp/api/v1/post-items/{post_item_id}/analytics');
      assert.equal(s.attributes['http.route'], '/pp/api/v1/post-items/{post_item_id}/analytics');
      assert.equal(s.attributes['http.request.method'], 'GET');
      assert.equal(s.attributes['url.scheme'], 'http');
      assert.match(s.attributes['url.path'], /^\/pp\/api\/v1\/post-items\/(gen|missing)-px-/);
    }
    assert.deepEqual(servers.map((s) => s.attributes['http.response.status_code']).sort(), [200, 404]);
    const client = out.spans.find((s) => s.kind === 2 && s.attributes['powerpost.post_item_id'] === `gen-px-${tag}`);
    const server = servers.find((s) => s.attributes['http.response.status_code'] === 200);
    assert.equal(client.parent, server.spanId, 'the lookup is the SERVER span\'s child');
    const [request] = await received(api, `gen-px-${tag}`);
    assert.equal(request.traceparent, `00-${TRACE}-${client.spanId}-01`, 'the trace reached PowerPost, from the lookup span');
    assert.ok(!request.headerNames.includes('baggage') && !request.headerNames.includes('x-custom'), `passed on: ${request.headerNames}`);
    const serverDuration = out.metrics.find((m) => m.name === 'http.server.request.duration');
    const routed = serverDuration.points.filter((p) => p.attributes['http.request.method'] === 'GET');
    assert.deepEqual(routed.map((p) => p.attributes['http.response.status_code']).sort(), [200, 404]);
    assert.ok(routed.every((p) => p.attributes['http.route'] === '/pp/api/v1/post-items/{post_item_id}/analytics'));
    assert.ok(!JSON.stringify(out).includes(KEY), 'the key is in no span or metric');
  });

  test('telemetry: the proxy CLI exports OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT with OTEL_SERVICE_NAME', async () => {
    const api = await setUp();
    const receiver = await otlpReceiver();
    const env = {
      ...process.env, POWERPOST_API_KEY: api.apiKey, POWERPOST_WORKSPACE_ID: api.workspaceId, POWERPOST_BASE_URL: api.url,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_SERVICE_NAME: 'pp-proxy-under-test',
      OTEL_METRIC_EXPORT_INTERVAL: '60000',
    };
    const bin = path.join(ctx.project, 'node_modules', 'powerpost-analytics', 'bin', 'powerpost-analytics.mjs');
    const child = spawn(ctx.NODES[20], [bin, 'proxy', '--port', '0', '--allow-anonymous'], { env, cwd: ctx.project, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise((r) => child.once('exit', (code) => r(code)));
    try {
      const url = await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL in 30 s:\n${output}`)), 30_000);
        const poll = setInterval(() => {
          const m = /listening on (http:\/\/\S+)/.exec(output);
          if (m) { clearTimeout(timer); clearInterval(poll); resolve(m[1]); }
        }, 50);
      });
      assert.match(output, /exporting OpenTelemetry traces and metrics to http:\/\/127\.0\.0\.1:\d+\//);
      const id = `gen-otlp-${Date.now()}`;
      assert.equal((await fetch(`${url}/api/v1/post-items/${id}/analytics`)).status, 200);
      // SIGTERM: the CLI flushes what it has before it exits.
      child.kill('SIGTERM');
      assert.equal(await exited, 0, output);
      const traces = receiver.bodies.filter((b) => b.path === '/v1/traces').map((b) => b.body).join('\n');
      assert.ok(traces.includes('pp-proxy-under-test'), `OTEL_SERVICE_NAME in the resource:\n${traces.slice(0, 400)}`);
      assert.ok(traces.includes('GET /api/v1/post-items/{post_item_id}/analytics'), 'the SERVER and lookup spans were exported');
      assert.ok(traces.includes(id), 'the lookup span names its id');
      const metrics = receiver.bodies.filter((b) => b.path === '/v1/metrics').map((b) => b.body).join('\n');
      assert.ok(metrics.includes('http.server.request.duration') && metrics.includes('http.client.request.duration'), 'metrics exported at shutdown');
      assert.ok(!traces.includes(api.apiKey) && !metrics.includes(api.apiKey), 'the key is in nothing exported');
      assert.ok(!traces.includes('process.command_args') && !metrics.includes('process.command_args'), 'the command line (a --redis URL can hold a password) is not exported');
    } finally {
      child.kill('SIGKILL');
      await receiver.close();
    }
  });

  test('telemetry: the README\'s Node setup (NodeSDK, OTLP from OTEL_* variables) exports the lookup\'s span', async () => {
    const api = await setUp();
    const readme = fs.readFileSync(path.join(ctx.root, 'README.md'), 'utf8');
    const block = /```js otel\n([\s\S]*?)```/.exec(readme);
    assert.ok(block, 'README.md has a ```js otel block');
    const receiver = await otlpReceiver();
    try {
      await ctx.runScript(ctx.NODES[20], write('readme-otel.mjs', block[1]), {
        env: { POWERPOST_API_KEY: api.apiKey, POWERPOST_WORKSPACE_ID: api.workspaceId, POWERPOST_BASE_URL: api.url,
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' },
      });
      const traces = receiver.bodies.filter((b) => b.path === '/v1/traces').map((b) => b.body).join('\n');
      assert.ok(traces.includes('"dashboard"'), 'the service name the snippet gives');
      assert.ok(traces.includes('GET /api/v1/post-items/{post_item_id}/analytics') && traces.includes('550e8400-e29b-41d4-a716-446655440000'));
    } finally {
      await receiver.close();
    }
  });

  test('telemetry: the optional import of @opentelemetry/api is left to the runtime by webpack and Vite in every entry that has it; the browser entries have none', () => {
    const dist = path.join(ctx.project, 'node_modules', 'powerpost-analytics', 'dist');
    for (const f of ['node.js', 'node.cjs', 'proxy.js', 'proxy.cjs', 'proxy-workerd.js']) {
      const text = fs.readFileSync(path.join(dist, f), 'utf8');
      assert.match(text, /import\(\/\* webpackIgnore: true \*\/ \/\* @vite-ignore \*\/ [\w$]+\)/, `${f}: the import keeps its comments`);
      assert.equal(text.split('import(').length - 1, 1, `${f}: one dynamic import`);
    }
    for (const f of ['index.js', 'index.cjs', 'slim.js', 'workerd.js']) {
      assert.ok(!fs.readFileSync(path.join(dist, f), 'utf8').includes('@opentelemetry'), `${f} (browser and Workers entries) carries no telemetry`);
    }
  });

  // ---- Tracing off: no import of @opentelemetry/api anywhere -----------------------------------
  let offDir;
  const offProject = () => {
    if (offDir) return offDir;
    offDir = fs.mkdtempSync(path.join(ctx.work, 'otel-off-'));
    fs.writeFileSync(path.join(offDir, 'package.json'), JSON.stringify({ name: 'otel-off', private: true, type: 'module' }));
    const pkg = path.join(ctx.project, 'node_modules', 'powerpost-analytics');
    fs.mkdirSync(path.join(offDir, 'node_modules'), { recursive: true });
    fs.cpSync(pkg, path.join(offDir, 'node_modules', 'powerpost-analytics'), { recursive: true });
    const stub = path.join(offDir, 'node_modules', '@opentelemetry', 'api');
    fs.mkdirSync(stub, { recursive: true });
    fs.writeFileSync(path.join(stub, 'package.json'), JSON.stringify({ name: '@opentelemetry/api', version: '1.9.0', type: 'module', exports: { '.': './index.js' } }));
    fs.writeFileSync(path.join(stub, 'index.js'), STUB);
    fs.writeFileSync(path.join(offDir, 'off.mjs'), OFF);
    return offDir;
  };
  const assertOff = (out, label) => {
    assert.equal(out.proxied, 200, `${label}: the proxy answered`);
    assert.equal(out.offImports, 0, `${label}: @opentelemetry/api was imported with tracing off`);
    assert.equal(out.onImports, 1, `${label}: the control: with a provider it is imported (once)`);
  };

  test('telemetry off: Node imports no @opentelemetry/api (a counting stand-in is installed), and does once asked', async () => {
    const api = await setUp();
    const dir = offProject();
    const r = await ctx.run(ctx.NODES[20], [path.join(dir, 'off.mjs')], { cwd: dir, env: { ...process.env, API: api.url } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '', 'nothing printed (no warning about OpenTelemetry)');
    const out = lastLine(r.stdout);
    assert.equal(out.lookup, 'gen-off');
    assertOff(out, 'Node');
  });

  test('telemetry off: Bun and Deno import no @opentelemetry/api either', async () => {
    const api = await setUp();
    const dir = offProject();
    const bun = lastLine(await ctx.runScript(ctx.bin('bun'), path.join(dir, 'off.mjs'), { cwd: dir, env: { API: api.url } }));
    assert.equal(bun.lookup, 'gen-off');
    assertOff(bun, 'Bun');
    const deno = lastLine(await ctx.runScript(ctx.bin('deno'), path.join(dir, 'off.mjs'), {
      cwd: dir,
      args: ['run', '--quiet', '--node-modules-dir=manual', '--allow-net=127.0.0.1', '--allow-read', '--allow-env'],
      env: { API: api.url, DENO_NO_UPDATE_CHECK: '1', DENO_DIR: path.join(ctx.work, 'deno-cache') },
    }));
    assert.equal(deno.lookup, 'gen-off');
    assertOff(deno, 'Deno');
  });

  test('telemetry off: a Cloudflare Worker (workerd) imports no @opentelemetry/api', async () => {
    const api = await setUp();
    const dir = offProject();
    const wdir = path.join(dir, 'worker');
    const port = 20000 + Math.floor(Math.random() * 20000);
    await buildWorker({ dir: wdir, source: WORKER, wasmFrom: path.join(dir, 'node_modules', 'powerpost-analytics', 'dist', 'powerpost_analytics_proxy_bg.wasm'),
      port, bindings: { API: api.url }, extraModules: [{ name: '@opentelemetry/api', file: path.join(dir, 'node_modules', '@opentelemetry', 'api', 'index.js') },
        { name: './powerpost_analytics_bg.wasm', file: path.join(dir, 'node_modules', 'powerpost-analytics', 'dist', 'powerpost_analytics_bg.wasm'), wasm: true }] });
    const child = spawn(ctx.bin('workerd'), ['serve', 'config.capnp'], { cwd: wdir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stderr.on('data', (d) => (output += d));
    try {
      let out;
      for (let i = 0; i < 200 && !out; i++) {
        out = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.json(), () => undefined);
        if (!out) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(out, `workerd answered:\n${output}`);
      assert.equal(out.lookup, 'gen-wk');
      assert.equal(out.tracedStatus, 200);
      assertOff(out, 'workerd');
    } finally {
      child.kill('SIGKILL');
    }
  });

  return { close: async () => { await upstream?.close(); } };
}
