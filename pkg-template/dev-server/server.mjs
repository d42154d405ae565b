// powerpost-dev-server: a zero-dependency local PowerPost API for
// GET /api/v1/post-items/{post_item_id}/analytics — for offline development, demos, tests and
// benchmarks. It answers exactly as the PowerPost docs describe, plus reserved "fault" ids that
// reproduce what real networks do (see FAULTS below and the package README).
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';

export const DEFAULT_API_KEY = 'pp_test_sk_local_dev';
export const DEFAULT_WORKSPACE_ID = 'ws_local_dev';
export const OTHER_WORKSPACE_ID = 'ws_someone_else';
export const NO_SCOPE_API_KEY = 'pp_test_sk_no_analytics_scope';

const DAY = 86_400_000;
const iso = (ms) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
/** fetched_at as PowerPost writes it: whole seconds, or milliseconds when a simulated day is not a whole number of seconds. */
const stamp = (ms, dayMs) => (dayMs % 1000 === 0 ? iso(ms) : new Date(ms).toISOString());
/** PowerPost stops polling an item this many snapshots after it was posted. */
export const SNAPSHOTS = 90;

/**
 * The embedded sample dataset: several platforms and statuses. Times are relative to start-up.
 * Posted items carry `postedAt` and gain one snapshot per day (`dayMs`, real days by default);
 * `metrics` are those of the snapshot current at `now`, so the numbers at start-up do not depend on dayMs.
 */
export function sampleData(now = Date.now(), dayMs = DAY) {
  // PowerPost polls at 09:00 UTC on real days; on simulated days at the same phase of the day.
  const phase = (9 * 3_600_000) % dayMs;
  const lastPoll = Math.floor((now - phase) / dayMs) * dayMs + phase;
  // `n` days ago: the item's n-th snapshot is the one due at the last poll.
  const posted = (n, metrics, extra = {}) => {
    const at = lastPoll - n * dayMs;
    const day = currentDay(at, now, dayMs, new Set(extra.skippedDays));
    return { status: 'posted', postedAt: stamp(at, dayMs), metrics: { ...metrics, fetched_at: stamp(at + day * dayMs, dayMs) }, ...extra };
  };
  return [
    // A gap three days after start-up: PowerPost skips day 15 (the API keeps answering day 14).
    { workspace_id: DEFAULT_WORKSPACE_ID, post_item_id: '550e8400-e29b-41d4-a716-446655440000', post_type: 'instagram-reel', platform: 'instagram',
      ...posted(12, { views: 12450, likes: 890, comments: 42 }, { skippedDays: [15] }) },
    // A correction downwards four days after start-up: on day 12 views and likes are lower than on day 11.
    { workspace_id: DEFAULT_WORKSPACE_ID, post_item_id: '6f1c2b7e-8a43-4d2c-9e15-3b7d0c9a1f22', post_type: 'tiktok-video', platform: 'tiktok',
      ...posted(8, { views: 98213, likes: 7301, comments: 512 }, { correctedDays: [12] }) },
    // PowerPost is late with this one: the snapshot due at the last poll (day 5) was skipped, so
    // at start-up the API answers day 4's, a day old.
    { workspace_id: DEFAULT_WORKSPACE_ID, post_item_id: '0b9e4d1a-5c6f-4e8b-a2d3-7f1e9c8b6a54', post_type: 'youtube-short', platform: 'youtube',
      ...posted(5, { views: 4310, likes: 233, comments: 19 }, { skippedDays: [5] }) },
    // A platform that does not report comments: the API returns 0 for it. Its 90 days end 6 days after start-up.
    { workspace_id: DEFAULT_WORKSPACE_ID, post_item_id: 'c3d2e1f0-1a2b-4c3d-8e4f-5a6b7c8d9e0f', post_type: 'pinterest-pin', platform: 'pinterest',
      ...posted(84, { views: 2750, likes: 61, comments: 0 }) },
    // Posted 120 days ago: tracking ended after 90 days, so fetched_at is frozen.
    { workspace_id: DEFAULT_WORKSPACE_ID, post_item_id: '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d', post_type: 'facebook-post', platform: 'facebook',
      ...posted(120, { views: 50210, likes: 1204, comments: 87 }) },
    { workspace_id: DEFAULT_WORKSPACE_ID, post_item_id: '1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a', post_type: 'linkedin-post', platform: 'linkedin', status: 'draft', metrics: null },
    { workspace_id: DEFAULT_WORKSPACE_ID, post_item_id: '7e6d5c4b-3a2f-4e1d-9c8b-7a6f5e4d3c2b', post_type: 'x-post', platform: 'x', status: 'posting', metrics: null },
    { workspace_id: DEFAULT_WORKSPACE_ID, post_item_id: 'f0e1d2c3-b4a5-4968-8776-655443322110', post_type: 'threads-post', platform: 'threads', status: 'failed', metrics: null },
    // Belongs to another workspace: answers 404 in the default one.
    { workspace_id: OTHER_WORKSPACE_ID, post_item_id: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d', post_type: 'instagram-post', platform: 'instagram',
      ...posted(3, { views: 10, likes: 1, comments: 0 }) },
  ];
}

// --- Simulated days ------------------------------------------------------------------------------
// An item with `postedAt` gains snapshot k (k = 1..90) at postedAt + k * dayMs, except on its
// `skippedDays`; the API answers the latest snapshot taken. Counts follow an increasing curve
// (its shape from a hash of the id) scaled so that the snapshot current at start-up carries the
// item's given metrics; on a `correctedDays` day views and likes go down versus the day before.

/** The latest snapshot taken by `t` (0: none yet). */
function currentDay(postedAt, t, dayMs, skipped) {
  for (let k = Math.min(SNAPSHOTS, Math.floor((t - postedAt) / dayMs)); k >= 1; k--) if (!skipped.has(k)) return k;
  return 0;
}

/** The growth curve of an item: increasing in k, its shape from the id. */
function curve(id) {
  const tau = 6 + (hash(id) % 20);
  return (k) => 1 - Math.exp(-k / tau) + k / 200;
}

/** The simulation of a posted item with `postedAt` (null for an item that does not change). */
function simulate(item, start, dayMs) {
  if (item.postedAt === undefined || item.postedAt === null || !item.metrics) return null;
  const postedAt = typeof item.postedAt === 'number' ? item.postedAt : Date.parse(item.postedAt);
  if (!Number.isFinite(postedAt)) throw new TypeError(`item ${item.post_item_id}: postedAt is not a time: ${JSON.stringify(item.postedAt)}`);
  const skipped = new Set(item.skippedDays ?? []);
  const g = curve(item.post_item_id);
  const base = Math.max(1, currentDay(postedAt, start, dayMs, skipped));
  const counts = [null];
  for (let k = 1; k <= SNAPSHOTS; k++) {
    const scale = (v) => Math.round((v * g(k)) / g(base));
    counts.push(k === base ? { ...item.metrics } : { views: scale(item.metrics.views), likes: scale(item.metrics.likes), comments: scale(item.metrics.comments) });
  }
  for (const c of item.correctedDays ?? []) {
    const before = counts[c - 1];
    if (!before || c === base) continue; // the given metrics stay as given
    const down = (v) => (v > 0 ? v - Math.max(1, Math.round(v * 0.03)) : v);
    counts[c] = { views: down(before.views), likes: down(before.likes), comments: before.comments };
  }
  return { postedAt, skipped, corrected: new Set(item.correctedDays ?? []), count: (k) => counts[k] };
}

/** A `gen-<tag>` item: posted a day before start-up (its first snapshot at start-up's midnight on real days). */
function simulateGenerated(id, start, dayMs) {
  const h = hash(id);
  const g = curve(id);
  const first = { views: 1000 + (h % 100000), likes: h % 5000, comments: h % 300 };
  const scale = (v, k) => Math.round((v * g(k)) / g(1));
  return { postedAt: Math.floor(start / dayMs) * dayMs - dayMs, skipped: new Set(), corrected: new Set(),
    count: (k) => ({ views: scale(first.views, k), likes: scale(first.likes, k), comments: scale(first.comments, k) }) };
}

/** Counts and fetched_at of snapshot `k`. */
function snapshot(sim, k, dayMs) {
  const c = sim.count(k);
  return { fetched_at: stamp(sim.postedAt + k * dayMs, dayMs), views: c.views, likes: c.likes, comments: c.comments };
}

/** What the API answers at `t` for a simulated item. */
function metricsAt(sim, t, dayMs) {
  const k = currentDay(sim.postedAt, t, dayMs, sim.skipped);
  if (k === 0) return null;
  const { fetched_at, views, likes, comments } = snapshot(sim, k, dayMs);
  return { views, likes, comments, fetched_at };
}

/** `/__dev/history`: every snapshot taken by `t`, the days skipped and corrected so far. */
function historyAt(sim, t, dayMs) {
  const days = Math.min(SNAPSHOTS, Math.floor((t - sim.postedAt) / dayMs));
  const snapshots = [];
  const skipped = [];
  for (let k = 1; k <= days; k++) {
    if (sim.skipped.has(k)) skipped.push({ day: k, due: stamp(sim.postedAt + k * dayMs, dayMs) });
    else snapshots.push(snapshot(sim, k, dayMs));
  }
  return { postedAt: stamp(sim.postedAt, dayMs), snapshots, skipped, corrected: [...sim.corrected].filter((k) => k <= days && !sim.skipped.has(k)).sort((a, b) => a - b),
    complete: days >= SNAPSHOTS };
}

/** Reserved ids, documented in the README: each reproduces one real-world failure. */
export const FAULTS = {
  'fault-500': 'HTTP 500 with the JSON error envelope (INTERNAL_ERROR)',
  'fault-502-html': 'HTTP 502 with an HTML page, as a proxy sends it',
  'fault-503-empty': 'HTTP 503 with an empty body',
  'fault-invalid-json': '200 with a body that is not JSON',
  'fault-wrong-shape': '200 with metrics.views as the string "12"',
  'fault-missing-counts': '200 with metrics that omit likes and comments',
  'fault-mismatch': '200 about a different post_item_id',
  'fault-truncated': '200 whose JSON body is cut off (the response itself ends cleanly)',
  'fault-reset': 'the connection is reset before any response',
  'fault-reset-mid-body': 'headers and half the body, then the connection is reset',
  'fault-hang': 'never answers',
  'fault-slow-<ms>': 'answers normally after <ms> milliseconds',
  'fault-slow-body-<ms>': 'sends headers at once, then the body after <ms> milliseconds',
  'fault-huge': '200 with a 2 MiB body and a Content-Length',
  'fault-huge-chunked': '200 with a 2 MiB body, chunked (no Content-Length)',
  'fault-endless': '200 with a body that never ends',
  'fault-redirect': '302 to another origin (option redirectTo)',
  'fault-length-short': 'Content-Length says 400 bytes, 40 arrive, then the connection closes',
  'fault-length-long': 'Content-Length says 20 bytes, a longer body is sent',
  'fault-429': '429 with Retry-After: 1 and body retryAfter, every time',
  'fault-429-long': '429 with Retry-After: 3600',
  'fault-429-disagree': '429 whose Retry-After header (1) and body retryAfter (3600) disagree, every time',
  'fault-set-cookie-<status>': '<status> (200 with an item, or the JSON error envelope) that also sets two cookies (Set-Cookie)',
  'fault-404-html': '404 with an HTML body',
  'flaky-<status>-<n>-<tag>': 'the first <n> requests for this id answer <status> (JSON envelope; 429 adds Retry-After: 1), later ones succeed',
  'flaky-reset-<n>-<tag>': 'the first <n> requests for this id reset the connection, later ones succeed',
  'flaky-ratelimit-<n>-<tag>': 'the first <n> requests answer 429 with X-RateLimit-Remaining: 0 and a reset 1 s ahead, no Retry-After',
  'fault-echo-key-<status>': 'echoes the request\'s API key, as a careless server or proxy might: <status> (200, 3xx or an error) '
    + 'with the key in the body (the error message and code, or post_item_id for 200), in x-request-id, www-authenticate and '
    + 'x-echo-api-key, and for 3xx in the Location; accepts any key',
  'gen-<tag>': 'a generated posted item (any tag), for batches and benchmarks',
  '<fault>--<tag>': 'any fault-… id with a --<tag> suffix (letters, digits and spaces) behaves as <fault> with its own request counter',
};

const CODES = { 400: 'VALIDATION_ERROR', 401: 'INVALID_API_KEY', 402: 'INSUFFICIENT_CREDITS', 403: 'FORBIDDEN', 404: 'NOT_FOUND',
  408: 'REQUEST_TIMEOUT', 409: 'ALREADY_PUBLISHED', 422: 'PLATFORM_NOT_CONNECTED', 429: 'RATE_LIMIT_EXCEEDED', 500: 'INTERNAL_ERROR',
  502: 'BAD_GATEWAY', 503: 'SERVICE_UNAVAILABLE', 504: 'GATEWAY_TIMEOUT' };

function hash(s) {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

function generated(id, now) {
  const h = hash(id);
  return { post_item_id: id, post_type: 'tiktok-video', platform: 'tiktok', status: 'posted',
    metrics: { views: 1000 + (h % 100000), likes: h % 5000, comments: h % 300, fetched_at: iso(Math.floor(now / DAY) * DAY) } };
}

const MIME = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.wasm': 'application/wasm', '.svg': 'image/svg+xml', '.png': 'image/png' };

/**
 * Starts the server. Options: port (0 = any free port), host, apiKey, workspaceId, data (array of items,
 * each with workspace_id), rateLimit (requests per window), rateWindowMs, staticDirs ({urlPrefix: dir}), log,
 * dayMs (how long a simulated day lasts; real days by default).
 * Resolves to { url, port, close() }.
 */
export function startDevServer(options = {}) {
  const apiKey = options.apiKey ?? DEFAULT_API_KEY;
  const workspaceId = options.workspaceId ?? DEFAULT_WORKSPACE_ID;
  const dayMs = options.dayMs ?? DAY;
  if (!Number.isSafeInteger(dayMs) || dayMs < 1) return Promise.reject(new TypeError(`dayMs must be a whole number of milliseconds >= 1, got ${dayMs}`));
  const start = Date.now();
  const items = new Map((options.data ?? sampleData(start, dayMs)).map((it) => [it.post_item_id, it]));
  let sims; // post_item_id -> its simulated days (items without postedAt have none)
  try {
    sims = new Map([...items].map(([id, it]) => [id, simulate(it, start, dayMs)]));
  } catch (e) {
    return Promise.reject(e);
  }
  const genSim = (id) => simulateGenerated(id, start, dayMs);
  const limit = options.rateLimit ?? 1000;
  const windowMs = options.rateWindowMs ?? 60_000;
  const staticDirs = options.staticDirs ?? {};
  const redirectTo = options.redirectTo ?? 'http://127.0.0.1:9/steal-the-key';
  const log = options.log ?? (() => {});
  const counters = new Map(); // id -> requests seen
  const received = []; // what arrived, for tests (never the key)
  let windowStart = Date.now();
  let used = 0;
  let inFlight = 0; // API requests not yet answered (or given up on), and the most seen at once
  let peakInFlight = 0;
  const sockets = new Set();

  const server = http.createServer((req, res) => {
    const requestId = 'req_' + randomUUID().replace(/-/g, '').slice(0, 20);
    const origin = req.headers.origin;
    const cors = {
      'access-control-allow-origin': origin || '*',
      'vary': 'Origin',
      'access-control-allow-methods': 'GET, OPTIONS',
      'access-control-allow-headers': 'x-api-key, x-workspace-id, authorization, accept, content-type',
      'access-control-expose-headers': 'x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset, retry-after, x-request-id',
      'access-control-max-age': '600',
    };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors);
      return res.end();
    }
    const url = new URL(req.url, 'http://localhost');
    if (url.pathname.startsWith('/__dev/')) return control(req, res, url, cors);
    for (const [prefix, dir] of url.pathname.startsWith('/api/') ? [] : Object.entries(staticDirs)) {
      if (url.pathname === prefix.replace(/\/$/, '') || url.pathname.startsWith(prefix.endsWith('/') ? prefix : prefix + '/')) {
        return serveStatic(res, dir, url.pathname.slice(prefix.replace(/\/$/, '').length) || '/', cors);
      }
    }
    const m = /^\/api\/v1\/post-items\/([^/]+)\/analytics$/.exec(req.url.split('?')[0]);
    const now = Date.now();
    if (now - windowStart >= windowMs) { windowStart = now; used = 0; }
    const reset = Math.ceil((windowStart + windowMs) / 1000);
    const base = { ...cors, 'x-request-id': requestId, 'x-ratelimit-limit': String(limit), 'cache-control': 'no-store' };
    const rate = () => ({ ...base, 'x-ratelimit-remaining': String(Math.max(0, limit - used)), 'x-ratelimit-reset': String(reset) });
    const json = (status, body, extra = {}) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { ...rate(), 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...extra });
      res.end(text);
    };
    const fail = (status, message, code = CODES[status], extra = {}, bodyExtra = {}) => json(status, { error: { message, code }, ...bodyExtra }, extra);

    let id;
    try { id = m ? decodeURIComponent(m[1]) : undefined; } catch { id = undefined; }
    const headerKey = req.headers['x-api-key'] ?? (/^Bearer (.+)$/.exec(req.headers.authorization ?? '') || [])[1];
    const entry = { method: req.method, path: req.url, id: id ?? null, at: Date.now(), status: null,
      workspaceId: req.headers['x-workspace-id'] ?? null, hasApiKey: headerKey !== undefined, accept: req.headers.accept ?? null,
      origin: origin ?? null, headerNames: Object.keys(req.headers).sort(), traceparent: req.headers.traceparent ?? null };
    received.push(entry);
    res.on('finish', () => { entry.status = res.statusCode; });
    // The client went away before the response was complete (an abort, a timeout, a cancelled future).
    res.on('close', () => { inFlight--; if (!res.writableFinished) entry.closedEarly = true; });
    peakInFlight = Math.max(peakInFlight, ++inFlight);
    if (received.length > 10_000) received.splice(0, received.length - 10_000);
    if (id !== undefined) counters.set(id, (counters.get(id) ?? 0) + 1);
    log(`${req.method} ${req.url}`);

    if (!m || req.method !== 'GET') return fail(404, `No route for ${req.method} ${url.pathname}`, 'NOT_FOUND');
    if (id === undefined || id === '') return fail(400, 'post_item_id is not a valid path segment', 'VALIDATION_ERROR');
    // `fault-x--tag` is `fault-x` with a counter of its own (counters are per id).
    const fault = id.startsWith('fault-') ? id.replace(/--[A-Za-z0-9 ]+$/, '') : id;
    const echo = /^fault-echo-key-(\d{3})$/.exec(fault);
    if (echo) return echoKey(res, Number(echo[1]), headerKey ?? '', rate(), id, now);
    if (headerKey === undefined) return fail(401, 'Missing API key: send the x-api-key header', 'INVALID_API_KEY');
    if (headerKey !== apiKey && headerKey !== NO_SCOPE_API_KEY) return fail(401, 'Invalid API key', 'INVALID_API_KEY');
    if (headerKey === NO_SCOPE_API_KEY) return fail(403, 'This API key is missing the scope analytics:read', 'INSUFFICIENT_SCOPE');
    const ws = req.headers['x-workspace-id'];
    if (!ws) return fail(400, 'Missing X-Workspace-Id header', 'VALIDATION_ERROR');
    if (ws !== workspaceId) return fail(403, 'This workspace does not belong to your account', 'FORBIDDEN');

    used += 1;
    if (used > limit) {
      const retryAfter = Math.max(1, reset - Math.floor(now / 1000));
      return fail(429, 'Rate limit exceeded', 'RATE_LIMIT_EXCEEDED', { 'retry-after': String(retryAfter) }, { retryAfter });
    }
    const count = counters.get(id);
    const ok = (item) => json(200, item);

    if (id.startsWith('gen-')) return ok({ ...generated(id, now), metrics: metricsAt(genSim(id), now, dayMs) });
    const flaky = /^flaky-(\d{3}|reset|ratelimit)-(\d+)-/.exec(id);
    if (flaky) {
      const [, what, n] = flaky;
      if (count <= Number(n)) {
        if (what === 'reset') return req.socket.destroy();
        if (what === 'ratelimit') {
          return fail(429, 'Rate limit exceeded', 'RATE_LIMIT_EXCEEDED',
            { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.ceil(now / 1000) + 1) });
        }
        const status = Number(what);
        return status === 429
          ? fail(429, 'Rate limit exceeded', 'RATE_LIMIT_EXCEEDED', { 'retry-after': '1' }, { retryAfter: 1 })
          : fail(status, `Simulated ${status}`);
      }
      return ok(generated(id, now));
    }
    const slow = /^fault-slow-(body-)?(\d+)$/.exec(fault);
    if (slow) {
      const ms = Math.min(Number(slow[2]), 120_000);
      const text = JSON.stringify(generated(id, now));
      if (slow[1]) {
        res.writeHead(200, { ...rate(), 'content-type': 'application/json' });
        res.write(text.slice(0, 10));
        const t = setTimeout(() => res.end(text.slice(10)), ms);
        res.on('close', () => clearTimeout(t));
        return;
      }
      const t = setTimeout(() => ok(generated(id, now)), ms);
      res.on('close', () => clearTimeout(t));
      return;
    }
    switch (fault) {
      case 'fault-500': return fail(500, 'Internal error', 'INTERNAL_ERROR');
      case 'fault-502-html': {
        res.writeHead(502, { ...rate(), 'content-type': 'text/html' });
        return res.end('<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>');
      }
      case 'fault-404-html': {
        res.writeHead(404, { ...rate(), 'content-type': 'text/html' });
        return res.end('<!doctype html><title>Not Found</title><h1>Not Found</h1>');
      }
      case 'fault-503-empty': res.writeHead(503, { ...rate(), 'content-length': '0' }); return res.end();
      case 'fault-invalid-json': res.writeHead(200, { ...rate(), 'content-type': 'application/json' }); return res.end('{"post_item_id": fault-invalid-json}');
      case 'fault-wrong-shape': return ok({ ...generated(id, now), metrics: { ...generated(id, now).metrics, views: '12' } });
      case 'fault-missing-counts': { const g = generated(id, now); return ok({ ...g, metrics: { views: g.metrics.views, fetched_at: g.metrics.fetched_at } }); }
      case 'fault-mismatch': return ok(generated('some-other-item', now));
      case 'fault-truncated': {
        const text = JSON.stringify(generated(id, now));
        res.writeHead(200, { ...rate(), 'content-type': 'application/json' });
        return res.end(text.slice(0, Math.floor(text.length / 2)));
      }
      case 'fault-reset': return req.socket.destroy();
      case 'fault-reset-mid-body': {
        const text = JSON.stringify(generated(id, now));
        res.writeHead(200, { ...rate(), 'content-type': 'application/json', 'content-length': String(text.length) });
        res.write(text.slice(0, 20));
        setTimeout(() => req.socket.destroy(), 20);
        return;
      }
      case 'fault-hang': return; // never answers; the socket closes when the client gives up
      case 'fault-huge':
      case 'fault-huge-chunked': {
        const size = 2 * 1024 * 1024;
        const headers = { ...rate(), 'content-type': 'application/json' };
        if (fault === 'fault-huge') headers['content-length'] = String(size);
        res.writeHead(200, headers);
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        let sent = 0;
        const pump = () => {
          while (sent < size) {
            sent += chunk.length;
            if (!res.write(chunk)) return res.once('drain', pump);
          }
          res.end();
        };
        res.on('error', () => {});
        return pump();
      }
      case 'fault-endless': {
        res.writeHead(200, { ...rate(), 'content-type': 'application/json' });
        res.write('{"post_item_id":"fault-endless","padding":"');
        const t = setInterval(() => res.write('x'.repeat(1024)), 10);
        res.on('close', () => clearInterval(t));
        return;
      }
      case 'fault-redirect':
        res.writeHead(302, { ...rate(), location: redirectTo });
        return res.end();
      case 'fault-length-short':
      case 'fault-length-long': {
        // Raw HTTP on the socket: Node's response API refuses to lie about lengths.
        const text = JSON.stringify(generated(id, now));
        const declared = fault === 'fault-length-short' ? 400 : 20;
        const head = `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${declared}\r\n`
          + Object.entries(cors).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n';
        req.socket.write(head + (fault === 'fault-length-short' ? text.slice(0, 40) : text));
        setTimeout(() => req.socket.destroy(), 20);
        return;
      }
      case 'fault-429': return fail(429, 'Rate limit exceeded', 'RATE_LIMIT_EXCEEDED', { 'retry-after': '1' }, { retryAfter: 1 });
      case 'fault-429-long': return fail(429, 'Rate limit exceeded', 'RATE_LIMIT_EXCEEDED', { 'retry-after': '3600' }, { retryAfter: 3600 });
      case 'fault-429-disagree': return fail(429, 'Rate limit exceeded', 'RATE_LIMIT_EXCEEDED', { 'retry-after': '1' }, { retryAfter: 3600 });
    }
    const cookie = /^fault-set-cookie-(\d{3})$/.exec(fault);
    if (cookie) {
      // A server (or a load balancer in front of it) that sets cookies: a proxy must not pass them on.
      const status = Number(cookie[1]);
      const cookies = { 'set-cookie': ['upstream_session=SET-COOKIE-CANARY; Path=/; HttpOnly', 'lb=SET-COOKIE-CANARY-2; Path=/'] };
      return status === 200 ? json(200, generated(id, now), cookies) : fail(status, `Simulated ${status}`, CODES[status], cookies);
    }
    const item = items.get(id);
    if (!item || (item.workspace_id ?? DEFAULT_WORKSPACE_ID) !== ws) return fail(404, 'Post item not found', 'NOT_FOUND');
    const { workspace_id: _ws, postedAt: _p, skippedDays: _s, correctedDays: _c, ...body } = item;
    const sim = sims.get(id);
    return ok(sim ? { ...body, metrics: metricsAt(sim, now, dayMs) } : body);
  });

  /** `fault-echo-key-<status>`: the key that arrived, everywhere a server could put it. */
  function echoKey(res, status, key, headers, id, now) {
    const echoed = { ...headers, 'x-request-id': `req_${key}`, 'www-authenticate': `Bearer realm="powerpost", error="invalid_token", key="${key}"`,
      'x-echo-api-key': key, 'content-type': 'application/json' };
    if (status === 429) echoed['retry-after'] = '3600';
    if (status >= 300 && status < 400) echoed.location = `http://127.0.0.1:9/login?api_key=${encodeURIComponent(key)}&raw=${key}`;
    const body = status >= 200 && status < 300
      ? { ...generated(id, now), post_item_id: key }
      : { error: { message: `The API key ${key} was rejected (${key})`, code: `BAD_KEY_${key}` }, ...(status === 429 ? { retryAfter: 3600 } : {}) };
    const text = JSON.stringify(body);
    res.writeHead(status, { ...echoed, 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  function control(req, res, url, cors) {
    const send = (body) => { res.writeHead(200, { ...cors, 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
    if (url.pathname === '/__dev/requests') {
      const id = url.searchParams.get('id');
      const list = id === null ? received : received.filter((r) => r.id === id);
      return send({ count: id === null ? received.length : (counters.get(id) ?? 0), peakInFlight, requests: list.slice(-200) });
    }
    if (url.pathname === '/__dev/reset') {
      counters.clear(); received.length = 0; used = 0; windowStart = Date.now(); peakInFlight = inFlight;
      return send({ ok: true });
    }
    if (url.pathname === '/__dev/info') {
      const postedAt = Object.fromEntries([...sims].map(([id, sim]) => [id, sim ? stamp(sim.postedAt, dayMs) : null]));
      return send({ apiKey, workspaceId, faults: FAULTS, items: [...items.keys()], dayMs, postedAt });
    }
    if (url.pathname === '/__dev/history') {
      // What PowerPost has taken so far for one item, to compare with what a recorder kept.
      const id = url.searchParams.get('id') ?? '';
      const sim = id.startsWith('gen-') ? genSim(id) : sims.get(id);
      const now = Date.now();
      if (sim) return send({ post_item_id: id, dayMs, ...historyAt(sim, now, dayMs) });
      const item = items.get(id);
      if (!item) { res.writeHead(404, { ...cors, 'content-type': 'application/json' }); return res.end(JSON.stringify({ error: { message: 'no such item', code: 'NOT_FOUND' } })); }
      const { views, likes, comments, fetched_at } = item.metrics ?? {};
      return send({ post_item_id: id, dayMs, postedAt: null, snapshots: item.metrics ? [{ fetched_at, views, likes, comments }] : [], skipped: [], corrected: [], complete: false });
    }
    res.writeHead(404, cors); res.end();
  }

  function serveStatic(res, dir, rel, cors) {
    const root = path.resolve(dir);
    let file = path.resolve(root, '.' + decodeURIComponent(rel));
    if (file !== root && !file.startsWith(root + path.sep)) { res.writeHead(403); return res.end(); }
    try { if (fs.statSync(file).isDirectory()) file = path.join(file, 'index.html'); } catch { /* 404 below */ }
    fs.readFile(file, (err, data) => {
      if (err) { res.writeHead(404, { 'content-type': 'text/plain' }); return res.end('not found'); }
      res.writeHead(200, { ...cors, 'content-type': MIME[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
      res.end(data);
    });
  }

  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  server.keepAliveTimeout = 5000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      const { port } = server.address();
      const host = options.host ?? '127.0.0.1';
      resolve({
        url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
        port,
        apiKey,
        workspaceId,
        close: () => new Promise((done) => { for (const s of sockets) s.destroy(); server.close(() => done()); }),
      });
    });
  });
}
