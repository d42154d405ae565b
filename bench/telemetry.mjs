// Observability's part of `make bench` (called by bench.mjs, issue #32): what a lookup costs in
// client CPU and latency with the Node entry and tracing off, against the build without the
// observer (the default entry: what Node ran before #32), and with OpenTelemetry on (a real SDK:
// spans through a SimpleSpanProcessor to an exporter that drops them, metrics into a
// MeterProvider with a reader). Interleaved call by call, after warm-up; the dev server runs in
// its own process. Returns a Markdown section.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

/** `devServer` = { url, key, workspace }; `sizes` = entrySizes(pkg); `before` = the browser entries' sizes before #32. */
export async function benchTelemetry({ pkg, devServer, quick, sizes, before }) {
  const load = (f) => import(pathToFileURL(path.join(pkg, 'dist', f)).href);
  const [browserBuild, nodeBuild] = [await load('index.js'), await load('node.js')];
  const { BasicTracerProvider, SimpleSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  const { MeterProvider, PeriodicExportingMetricReader, InMemoryMetricExporter, AggregationTemporality } = await import('@opentelemetry/sdk-metrics');
  const dropped = { export: (spans, done) => done({ code: 0 }), shutdown: async () => {} };
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(dropped)] });
  const reader = new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const opts = { apiKey: devServer.key, workspaceId: devServer.workspace, baseUrl: devServer.url };
  const id = '550e8400-e29b-41d4-a716-446655440000';
  const contenders = {
    'without the observer (the default entry\'s build, as before #32)': new browserBuild.PowerPost(opts),
    'Node entry, tracing off': new nodeBuild.PowerPost(opts),
    'Node entry, OpenTelemetry on (spans and metrics)': new nodeBuild.PowerPost({ ...opts, tracerProvider, meterProvider }),
  };
  const names = Object.keys(contenders);
  const cpu = Object.fromEntries(names.map((n) => [n, []]));
  const lat = Object.fromEntries(names.map((n) => [n, []]));
  for (const c of Object.values(contenders)) for (let i = 0; i < 200; i++) await c.getPostItemAnalytics(id);
  const calls = quick ? 300 : 3000;
  for (let i = 0; i < calls; i++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(i + k) % names.length];
      const u = process.cpuUsage();
      const t = performance.now();
      await contenders[name].getPostItemAnalytics(id);
      lat[name].push(performance.now() - t);
      const d = process.cpuUsage(u);
      cpu[name].push(d.user + d.system);
    }
  }
  await reader.shutdown();
  const base = pct(cpu[names[0]], 50);
  const rows = names.map((n) => {
    const c = pct(cpu[n], 50);
    const rel = n === names[0] ? '' : ` (${c >= base ? '+' : ''}${((c / base - 1) * 100).toFixed(1)} %)`;
    return `| ${n} | ${c} µs${rel} | ${pct(lat[n], 50).toFixed(3)} ms | ${pct(lat[n], 99).toFixed(3)} ms |`;
  });
  const kb = (b) => `${(b / 1024).toFixed(1)} KiB (${b} B)`;
  const same = (now, then) => (now === then ? 'unchanged' : `${now - then >= 0 ? '+' : ''}${now - then} B`);
  return { markdown: `## Observability (#32)

Client CPU (median, process.cpuUsage around each call) and latency per lookup, ${calls} calls each, interleaved call by call against the dev server:

| contender | client CPU | p50 | p99 |
|---|---|---|---|
${rows.join('\n')}

The browser entries do not carry the observer or the OpenTelemetry adapter (the Node entry and the proxy are separate builds):
default ${kb(sizes.default)} (${same(sizes.default, before.default)} against ${before.default} B before #32), slim ${kb(sizes.slim)} (${same(sizes.slim, before.slim)} against ${before.slim} B).
The proxy carries both: ${kb(sizes.proxy)} (${same(sizes.proxy, before.proxy)} against ${before.proxy} B).

` };
}
