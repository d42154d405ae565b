// Logging (#18): the lines for a success, a 429 with Retry-After then success, a timeout, an
// abort, a batch pause and a too-long server wait, checked by content; levels; a throwing
// logger; and a canary key through every level and error path that must never appear. No
// imports: it receives the package namespace and the URLs of loopback dev servers.
export async function runLogging(pp, { baseUrl, limitedUrl, canaryUrl, canaryKey }) {
  const results = [];
  const check = (name, ok, detail = '') => results.push({ name, ok: !!ok, detail: ok ? '' : String(detail) });
  const lines = [];
  const logger = Object.fromEntries(['error', 'warn', 'info', 'debug'].map((level) => [level, (m) => lines.push([level, m])]));
  const take = () => lines.splice(0);
  const show = (ls) => JSON.stringify(ls);
  const auth = { apiKey: 'pp_test_sk_local_dev', workspaceId: 'ws_local_dev' };
  const opts = { ...auth, baseUrl, logLevel: 'debug', logger };
  const client = new pp.PowerPost(opts);
  const tag = `log${Date.now()}${Math.floor(Math.random() * 1e6)}`;
  const SAMPLE = '550e8400-e29b-41d4-a716-446655440000';
  const swallow = (p) => p.then(() => undefined, (e) => e);

  await client.getPostItemAnalytics(SAMPLE);
  let l = take();
  check('success: one debug line with method, path, status, duration, post item and request id', l.length === 1 && l[0][0] === 'debug' &&
    new RegExp(`^powerpost-analytics: GET /api/v1/post-items/${SAMPLE}/analytics -> 200 in \\d+ ms \\(post item ${SAMPLE}, request [^,)]+, attempt 1\\)$`).test(l[0][1]), show(l));

  await client.getPostItemAnalytics(`flaky-429-1-${tag}`);
  l = take();
  const retry = l.find(([level, m]) => level === 'info' && /retrying/.test(m));
  check('429 with Retry-After: the attempt, its body, the retry with reason, wait and source, then the success', l.length === 4 &&
    /-> 429 in \d+ ms/.test(l[0][1]) && /response body: \{"error"/.test(l[1][1]) &&
    retry && /post item flaky-429-1-\S+: retrying in 1 s \(the Retry-After header\) after HTTP 429 RATE_LIMIT_EXCEEDED, request [^;]+; attempt 2 of 3/.test(retry[1]) &&
    /-> 200 in \d+ ms .*attempt 2\)$/.test(l[3][1]), show(l));

  await swallow(client.getPostItemAnalytics('fault-hang', { timeoutMs: 150, maxRetries: 0 }));
  l = take();
  check('timeout: an info line saying so, with the time and the attempt', l.length === 1 && l[0][0] === 'info' &&
    /GET \/api\/v1\/post-items\/fault-hang\/analytics timed out after \d+ ms \(post item fault-hang, attempt 1\): The request timed out after 150 ms/.test(l[0][1]), show(l));

  const controller = new AbortController();
  const aborted = swallow(client.getPostItemAnalytics('fault-hang', { signal: controller.signal }));
  setTimeout(() => controller.abort(), 50);
  await aborted;
  l = take();
  check('abort: an info line saying the caller aborted', l.length === 1 && l[0][0] === 'info' && /was aborted by the caller's AbortSignal/.test(l[0][1]), show(l));

  const limited = new pp.PowerPost({ ...opts, baseUrl: limitedUrl, maxRetryWaitMs: 5000 });
  await limited.getPostItemAnalyticsBatch(Array.from({ length: 14 }, (_, i) => `gen-${tag}-${i}`), { concurrency: 4 });
  l = take();
  check('batch pause: an info line for the pause every request shares', l.some(([level, m]) => level === 'info' &&
    /^powerpost-analytics: batch: every request waits \d+(\.\d)? (ms|s) \((X-RateLimit-Reset|the Retry-After header|the body's retryAfter)\) after a 429 for post item gen-/.test(m)),
  show(l.filter(([lv]) => lv !== 'debug')));

  const long = await swallow(new pp.PowerPost({ ...opts, maxRetryWaitMs: 1000 }).getPostItemAnalytics('fault-429-long'));
  l = take();
  check('a server wait longer than maxRetryWaitMs: a warn line saying what to raise', long instanceof pp.RateLimitError &&
    l.some(([level, m]) => level === 'warn' && /not retried: the server asked to wait 60 min \(the Retry-After header\), longer than maxRetryWaitMs \(1 s\)/.test(m)), show(l));

  // Levels: warn by default, off is silent.
  const quiet = new pp.PowerPost({ ...auth, baseUrl, logger });
  await quiet.getPostItemAnalytics(SAMPLE);
  await swallow(quiet.getPostItemAnalytics(`flaky-429-1-${tag}-b`));
  await swallow(new pp.PowerPost({ ...auth, baseUrl, logger, maxRetryWaitMs: 1000 }).getPostItemAnalytics('fault-429-long'));
  l = take();
  check('default level warn: only the warning', l.length === 1 && l[0][0] === 'warn', show(l));
  await swallow(new pp.PowerPost({ ...auth, baseUrl, logger, logLevel: 'off', maxRetryWaitMs: 1000 }).getPostItemAnalytics('fault-429-long'));
  check('logLevel off: nothing', take().length === 0);
  let badLevel;
  try { new pp.PowerPost({ ...auth, baseUrl, logLevel: 'verbose' }); } catch (e) { badLevel = e; }
  check('an unknown level is an InvalidArgumentError', badLevel instanceof pp.InvalidArgumentError && /logLevel/.test(badLevel.message), badLevel && badLevel.message);
  const throwing = { error() { throw new Error('x'); }, warn() { throw new Error('x'); }, info() { throw new Error('x'); }, debug() { throw new Error('x'); } };
  const survived = await new pp.PowerPost({ ...auth, baseUrl, logLevel: 'debug', logger: throwing }).getPostItemAnalytics(SAMPLE).then((r) => r.metrics.views, (e) => e);
  check('a logger that throws cannot break a lookup', survived === 12450, survived);

  // The canary key through every level and path: never in a line, not even a prefix of it.
  const canary = new pp.PowerPost({ baseUrl: canaryUrl, apiKey: canaryKey, workspaceId: 'ws_local_dev', logLevel: 'debug', logger, maxRetries: 1, maxRetryWaitMs: 20, timeoutMs: 300 });
  const paths = ['does-not-exist', 'fault-500', 'fault-502-html', 'fault-invalid-json', 'fault-wrong-shape', 'fault-truncated', 'fault-mismatch',
    'fault-reset', 'fault-hang', 'fault-redirect', 'fault-429-long', ...[200, 302, 400, 401, 403, 404, 429, 500, 503].map((s) => `fault-echo-key-${s}`)];
  for (const id of paths) await swallow(canary.getPostItemAnalytics(id));
  await swallow(canary.getPostItemAnalyticsBatch(paths.slice(0, 6)));
  l = take();
  const all = l.map(([, m]) => m).join('\n');
  check('the canary run logged at every level it reaches', l.some(([lv]) => lv === 'debug') && l.some(([lv]) => lv === 'info') && l.some(([lv]) => lv === 'warn'), show(l.map(([lv]) => lv)));
  check('the key is in no log line, not even its first 24 characters', !all.includes(canaryKey.slice(0, 24)), all.split('\n').find((m) => m.includes(canaryKey.slice(0, 24))));
  check('the echoed key shows as [redacted]', all.includes('[redacted]'), all.slice(0, 300));
  return results;
}
