#!/usr/bin/env node
// powerpost-analytics: look up post analytics from a terminal or a script. `--help` for usage.
// The API key comes from POWERPOST_API_KEY only: flags end up in shell history and `ps`.
import { readFileSync } from 'node:fs';
import { PowerPost, isPowerPostError } from '../dist/index.js';

const USAGE = `Usage: powerpost-analytics <post_item_id>... [options]
       powerpost-analytics proxy [--port N] [--base-path PATH] [--allow-origin ORIGIN] [--allow-anonymous]
       powerpost-analytics record <post_item_id>... [--ids-file FILE] [--store URL] [--every DURATION]
       powerpost-analytics history <post_item_id> [--store URL] [--json | --csv]

Options:
  --json              print one JSON document (stable, for jq) instead of a table
  --base-url URL      API base URL (default: POWERPOST_BASE_URL, else https://powerpost.ai)
  --workspace ID      workspace id (default: POWERPOST_WORKSPACE_ID)
  --timeout MS        per-attempt timeout in milliseconds (default 30000)
  --concurrency N     requests in flight for several ids (default 4)
  --verbose           log every request, retry and wait to stderr (never the key)
  --help, --version

The API key is read from POWERPOST_API_KEY only (never a flag).
Exit codes: 0 all items ok, 1 some items failed, 2 usage or configuration error.
'powerpost-analytics proxy --help' describes the proxy server; 'record --help' and 'history --help'
snapshot history (a growth curve from an API that keeps only the latest number).`;

function version() {
  const url = new URL('../package.json', import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')).version;
}

function usageError(message) {
  process.stderr.write(`powerpost-analytics: ${message}\nRun 'powerpost-analytics --help' for usage.\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { ids: [], json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usageError(`${a} needs a value`);
      return argv[++i];
    };
    const number = (name) => {
      const v = value();
      if (!/^\d+$/.test(v)) usageError(`${name} needs a whole number, got ${JSON.stringify(v)}`);
      return Number(v);
    };
    if (a === '--') { o.ids.push(...argv.slice(i + 1)); break; }
    if (a === '--help' || a === '-h') { process.stdout.write(USAGE + '\n'); process.exit(0); }
    else if (a === '--version' || a === '-V') { process.stdout.write(version() + '\n'); process.exit(0); }
    else if (a === '--json') o.json = true;
    else if (a === '--verbose') o.verbose = true;
    else if (a === '--base-url') o.baseUrl = value();
    else if (a === '--workspace') o.workspaceId = value();
    else if (a === '--timeout') o.timeoutMs = number('--timeout');
    else if (a === '--concurrency') o.concurrency = number('--concurrency');
    else if (a === '--api-key' || a.startsWith('--api-key=')) usageError('the API key is read from POWERPOST_API_KEY only, never from a flag (flags end up in shell history and ps)');
    else if (a.startsWith('--')) usageError(`unknown option ${a}`);
    else o.ids.push(a);
  }
  if (o.ids.length === 0) usageError('give at least one post item id');
  return o;
}

function age(iso, now = Date.now()) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return 'just now';
  const [n, unit] = s < 3600 ? [Math.floor(s / 60), 'minute'] : s < 86400 ? [Math.floor(s / 3600), 'hour'] : [Math.floor(s / 86400), 'day'];
  return `${n} ${unit}${n === 1 ? '' : 's'} ago`;
}

function errorJson(e) {
  const out = { name: e.name, kind: e.kind, message: e.message };
  for (const k of ['status', 'code', 'requestId', 'retryAfterMs', 'path', 'expected', 'received']) if (e[k] !== undefined) out[k] = e[k];
  return out;
}

function errorLine(id, e) {
  const bits = [e.status, e.code].filter((x) => x !== undefined).join(' ');
  const req = e.requestId ? ` [request ${e.requestId}]` : '';
  return `powerpost-analytics: ${id}: ${e.name}${bits ? ` (${bits})` : ''}: ${e.message}${req}\n`;
}

function table(rows) {
  const header = ['POST ITEM', 'PLATFORM', 'STATUS', 'VIEWS', 'LIKES', 'COMMENTS', 'FETCHED'];
  const numeric = new Set([3, 4, 5]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (r) => r.map((cell, c) => (numeric.has(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

async function main() {
  if (process.argv[2] === 'proxy') {
    const { runProxy } = await import('./proxy-command.mjs');
    return runProxy(process.argv.slice(3), (message) => {
      process.stderr.write(`powerpost-analytics proxy: ${message}\nRun 'powerpost-analytics proxy --help' for usage.\n`);
      process.exit(2);
    });
  }
  if (process.argv[2] === 'record' || process.argv[2] === 'history') {
    const command = process.argv[2];
    const { runRecord, runHistory } = await import('./history-command.mjs');
    return (command === 'record' ? runRecord : runHistory)(process.argv.slice(3), (message) => {
      process.stderr.write(`powerpost-analytics ${command}: ${message}\nRun 'powerpost-analytics ${command} --help' for usage.\n`);
      process.exit(2);
    });
  }
  const o = parseArgs(process.argv.slice(2));
  let client;
  try {
    // Debug lines go to stderr, so --json output on stdout stays one document.
    const stderr = (line) => process.stderr.write(`${line}\n`);
    const verbose = o.verbose ? { logLevel: 'debug', logger: { error: stderr, warn: stderr, info: stderr, debug: stderr } } : {};
    client = new PowerPost({ baseUrl: o.baseUrl, workspaceId: o.workspaceId, timeoutMs: o.timeoutMs, ...verbose });
  } catch (e) {
    usageError(isPowerPostError(e) ? e.message : String(e));
  }
  const results = await client.getPostItemAnalyticsBatch(o.ids, { concurrency: o.concurrency });
  let failed = false;
  let badInput = false;
  for (const r of results) {
    if (r.ok) continue;
    failed = true;
    if (r.error.kind === 'invalid_argument') badInput = true;
    process.stderr.write(errorLine(r.postItemId, r.error));
  }
  if (o.json) {
    const doc = {
      results: results.map((r) => (r.ok ? { postItemId: r.postItemId, ok: true, analytics: r.analytics } : { postItemId: r.postItemId, ok: false, error: errorJson(r.error) })),
      rateLimit: client.rateLimit,
    };
    process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
  } else {
    const rows = results.filter((r) => r.ok).map(({ analytics: a }) => {
      const m = a.metrics;
      const n = (x) => x.toLocaleString('en-US');
      return [a.post_item_id, a.platform, a.status, m ? n(m.views) : '-', m ? n(m.likes) : '-', m ? n(m.comments) : '-',
        m ? `${m.fetched_at} (${age(m.fetched_at)})` : 'not polled yet'];
    });
    if (rows.length) process.stdout.write(table(rows));
  }
  process.exitCode = badInput ? 2 : failed ? 1 : 0;
}

main().catch((e) => {
  process.stderr.write(`powerpost-analytics: ${isPowerPostError(e) ? `${e.name}: ${e.message}` : e && e.stack ? e.stack : e}\n`);
  process.exitCode = isPowerPostError(e) && e.kind === 'invalid_argument' ? 2 : 1;
});
