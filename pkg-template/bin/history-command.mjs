// `powerpost-analytics record` and `powerpost-analytics history`: snapshot history from a terminal
// or a cron job. The rules (what is due, what is new, gains and gaps) are the crate's; this file
// only parses flags, opens the store and prints.
import { readFileSync } from 'node:fs';
import { PowerPost, isPowerPostError } from '../dist/index.js';
import { openHistoryStore, redactUrl } from '../dist/stores.js';

export const DEFAULT_STORE = 'sqlite:powerpost-history.sqlite';

export const RECORD_USAGE = `Usage: powerpost-analytics record <post_item_id>... [options]

Looks up the items whose next daily snapshot is due and keeps each new snapshot once. An item
fetched less than a day ago costs nothing, so running it hourly (cron) spends one request per
item per snapshot, plus at most one an hour while PowerPost is late.

Options:
  --ids-file FILE          more ids, one per line (# comments and blank lines skipped)
  --store URL              sqlite:PATH (default ${DEFAULT_STORE}, in the working
                           directory; needs Node 22.13 or newer) or redis://HOST:PORT
  --every DURATION         run again every DURATION (e.g. 1h, 15m) until stopped; without it, one pass
  --snapshot-interval D    how often PowerPost takes a snapshot (default 24h)
  --base-url URL           API base URL (default: POWERPOST_BASE_URL, else https://powerpost.ai)
  --workspace ID           workspace id (default: POWERPOST_WORKSPACE_ID)
  --concurrency N          lookups in flight (default 4)
  --json                   print each pass's summary as one JSON line
  --verbose                log every request, retry and wait to stderr (never the key)

The API key is read from POWERPOST_API_KEY only.
Exit codes: 0 every id recorded (or not due), 1 an id failed or snapshots could not be written
(after the others were recorded), 2 usage or configuration error.
Cron, hourly: 0 * * * * cd /srv/analytics && powerpost-analytics record --ids-file ids.txt`;

export const HISTORY_USAGE = `Usage: powerpost-analytics history <post_item_id> [options]

Prints the recorded snapshots of one item, with each day's gain and the missing days.

Options:
  --store URL              as for record (default ${DEFAULT_STORE})
  --json                   the history as JSON: { post_item_id, snapshots, gains, gaps, complete }
  --csv                    one row per snapshot or missing day
  --snapshot-interval D    as for record (default 24h)
  --base-url URL, --workspace ID   as for record: they pick the series (one store holds several)`;

const UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `1h`, `15m`, `30s`, `500ms`, `1d` or a number of milliseconds; `undefined` when not one. */
export function parseDuration(text) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(String(text).trim());
  if (!m) return undefined;
  const ms = Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']);
  return ms >= 1 && Number.isSafeInteger(ms) ? ms : undefined;
}

function parse(argv, fail, { record }) {
  const o = { ids: [], store: DEFAULT_STORE, format: 'table' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => (i + 1 < argv.length ? argv[++i] : fail(`${a} needs a value`));
    const duration = () => {
      const v = value();
      return parseDuration(v) ?? fail(`${a} needs a duration such as 1h, 15m, 30s or 500ms, got ${JSON.stringify(v)}`);
    };
    if (a === '--help' || a === '-h') { process.stdout.write((record ? RECORD_USAGE : HISTORY_USAGE) + '\n'); process.exit(0); }
    else if (a === '--store') o.store = value();
    else if (a === '--snapshot-interval') o.interval = duration();
    else if (a === '--base-url') o.baseUrl = value();
    else if (a === '--workspace') o.workspaceId = value();
    else if (a === '--verbose') o.verbose = true;
    else if (a === '--json') o.format = 'json';
    else if (record && a === '--ids-file') o.idsFile = value();
    else if (record && a === '--every') o.every = duration();
    else if (record && a === '--concurrency') {
      const v = value();
      if (!/^\d+$/.test(v)) fail(`--concurrency needs a whole number, got ${JSON.stringify(v)}`);
      o.concurrency = Number(v);
    } else if (!record && a === '--csv') o.format = 'csv';
    else if (a === '--api-key' || a.startsWith('--api-key=')) fail('the API key is read from POWERPOST_API_KEY only, never from a flag');
    else if (a.startsWith('--')) fail(`unknown option ${a}`);
    else o.ids.push(a);
  }
  if (o.idsFile) {
    let text;
    try { text = readFileSync(o.idsFile, 'utf8'); } catch (e) { fail(`--ids-file ${o.idsFile}: ${e.code ?? e.message}`); }
    o.ids.push(...text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#')));
  }
  if (record && o.ids.length === 0) fail('give at least one post item id (or --ids-file)');
  if (!record && o.ids.length !== 1) fail('give exactly one post item id');
  return o;
}

/** The client over the store: a store that cannot be opened is a configuration error (exit 2). */
async function open(o, fail) {
  let store;
  try {
    store = await openHistoryStore(o.store);
  } catch (e) {
    fail(`--store ${describeStore(o.store)}: ${e && e.message ? e.message : e}`);
  }
  const stderr = (line) => process.stderr.write(`${line}\n`);
  const logger = { error: stderr, warn: stderr, info: stderr, debug: stderr };
  try {
    const client = new PowerPost({
      baseUrl: o.baseUrl, workspaceId: o.workspaceId, logger, ...(o.verbose ? { logLevel: 'debug' } : {}),
      history: { store, ...(o.interval ? { snapshotIntervalMs: o.interval } : {}) },
    });
    return { client, store };
  } catch (e) {
    await closeStore(store);
    fail(isPowerPostError(e) ? e.message : String(e));
  }
}

async function closeStore(store) {
  try { await store.close?.(); } catch { /* closing is best effort */ }
}

/** A store URL for messages: never the credentials of a redis:// URL. */
const describeStore = redactUrl;

function summaryLine(s) {
  const bits = [`${s.lookedUp.length} looked up`, `${s.skipped.length} not due`, `${s.recorded} new snapshot${s.recorded === 1 ? '' : 's'}`];
  if (s.pending) bits.push(`${s.pending} waiting for the store`);
  if (s.errors.length) bits.push(`${s.errors.length} failed`);
  return `powerpost-analytics record: ${new Date().toISOString()}: ${bits.join(', ')}\n`;
}

export async function runRecord(argv, fail) {
  const o = parse(argv, fail, { record: true });
  const { client, store } = await open(o, fail);
  let stopping = false;
  let wake;
  const controller = new AbortController();
  const stop = () => {
    // A second signal exits at once; the first ends the pass in flight and the loop.
    if (stopping) process.exit(130);
    stopping = true;
    controller.abort();
    wake?.();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  let status = 0;
  try {
    for (;;) {
      let s;
      try {
        s = await client.recordSnapshots(o.ids, { concurrency: o.concurrency, signal: controller.signal });
      } catch (e) {
        if (stopping && isPowerPostError(e) && e.kind === 'aborted') {
          // Interrupted: not a success (a cron job's timeout must not read as one).
          process.stderr.write('powerpost-analytics record: interrupted; the pass in flight was stopped\n');
          status = 130;
          break;
        }
        throw e;
      }
      for (const { postItemId, error } of s.errors) {
        process.stderr.write(`powerpost-analytics record: ${postItemId}: ${error.name}${error.status ? ` (${error.status})` : ''}: ${error.message}\n`);
      }
      if (o.format === 'json') {
        process.stdout.write(JSON.stringify({ ...s, errors: s.errors.map(({ postItemId, error }) => ({ postItemId, kind: error.kind, message: error.message })) }) + '\n');
      } else {
        process.stdout.write(summaryLine(s));
      }
      status = s.errors.length || s.pending ? 1 : 0;
      if (!o.every || stopping) break;
      await new Promise((resolve) => { wake = resolve; setTimeout(resolve, o.every); });
      if (stopping) break;
    }
  } finally {
    await closeStore(store);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  process.exitCode = status;
}

export async function runHistory(argv, fail) {
  const o = parse(argv, fail, { record: false });
  const { client, store } = await open(o, fail);
  let h;
  try {
    h = await client.getPostItemHistory(o.ids[0]);
  } finally {
    await closeStore(store);
  }
  if (o.format === 'json') {
    process.stdout.write(JSON.stringify(h, null, 2) + '\n');
    return;
  }
  // One row per snapshot and per missing day, in time order.
  const gains = new Map(h.gains.map((g) => [g.fetched_at, g]));
  const rows = [
    ...h.snapshots.map((s) => ({ at: s.fetched_at, s, g: gains.get(s.fetched_at) })),
    ...h.gaps.map((g) => ({ at: g.expected_at, missing: true })),
  ].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  if (o.format === 'csv') {
    const lines = ['fetched_at,views,likes,comments,views_gain,likes_gain,comments_gain,missing'];
    for (const r of rows) {
      lines.push(r.missing ? `${r.at},,,,,,,true` : [r.at, r.s.views, r.s.likes, r.s.comments, r.g?.views ?? '', r.g?.likes ?? '', r.g?.comments ?? '', 'false'].join(','));
    }
    process.stdout.write(lines.join('\n') + '\n');
    return;
  }
  const n = (x) => x.toLocaleString('en-US');
  const signed = (x) => (x === undefined ? '' : x >= 0 ? `+${n(x)}` : `-${n(-x)}`);
  const table = rows.map((r) => (r.missing
    ? [r.at, '-', '-', '-', 'missing: PowerPost took no snapshot, or none was recorded', '', '']
    : [r.at, n(r.s.views), n(r.s.likes), n(r.s.comments), signed(r.g?.views), signed(r.g?.likes), signed(r.g?.comments)]));
  const header = ['FETCHED', 'VIEWS', 'LIKES', 'COMMENTS', '+VIEWS', '+LIKES', '+COMMENTS'];
  const widths = header.map((x, c) => Math.max(x.length, ...table.map((r) => (r[4].startsWith('missing') && c === 4 ? 0 : r[c].length))));
  const line = (r) => r.map((cell, c) => (c === 0 || cell.startsWith('missing') ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd();
  process.stdout.write([line(header), ...table.map(line)].join('\n') + '\n');
  process.stdout.write(`${h.snapshots.length} snapshot${h.snapshots.length === 1 ? '' : 's'}, ${h.gaps.length} missing; ${h.complete ? 'complete (PowerPost stopped polling this item)' : 'still growing'}\n`);
}
