// The resilience fault matrix, run through the BUILT package against the dev server, in Node
// and in Chromium. Each row checks the error class and fields, how many requests the server
// actually received, and the elapsed time within generous bounds. Waits are kept short by
// configuring the client (timeoutMs, maxRetryWaitMs), never by weakening the logic.
// No imports: it receives the package namespace.

const KEY = 'pp_test_sk_local_dev';
const WS = 'ws_local_dev';

/** Statuses a retry cannot change: each is answered once, never asked again. */
export const NON_RETRYABLE = [[400, 'BadRequestError'], [401, 'AuthenticationError'], [402, 'ApiError'], [403, 'PermissionDeniedError'],
  [404, 'NotFoundError'], [409, 'ApiError'], [422, 'ApiError'], [501, 'ServerError']];

/** How many rows the matrix has: every one must run, every time (none may go missing silently). */
export const FAULT_ROW_COUNT = 16 + NON_RETRYABLE.length;

export async function runFaultMatrix(pp, { baseUrl, limitedUrl, browser = false }) {
  // The batch-of-50 row needs the rate-limited server: without it the matrix fails, not shrinks.
  if (!baseUrl || !limitedUrl) throw new Error(`runFaultMatrix needs baseUrl and limitedUrl (got ${baseUrl}, ${limitedUrl})`);
  const results = [];
  const tag = () => Math.random().toString(36).slice(2, 10);
  const opts = (extra = {}) => ({ baseUrl, apiKey: KEY, workspaceId: WS, dangerouslyAllowBrowser: browser, ...extra });
  const count = async (id, server = baseUrl) => (await (await fetch(`${server}/__dev/requests?id=${encodeURIComponent(id)}`)).json()).count;
  const abortAfter = (ms) => {
    const c = new AbortController();
    setTimeout(() => c.abort(), ms);
    return c.signal;
  };

  async function row(name, { id, options, call }, expect) {
    const started = Date.now();
    let value;
    let error;
    try {
      value = await (call ? call() : pp.getPostItemAnalytics(id, options));
    } catch (e) {
      error = e;
    }
    const elapsed = Date.now() - started;
    const problems = [];
    try {
      await expect({ value, error, elapsed, requests: id ? await count(id, options && options.baseUrl === limitedUrl ? limitedUrl : baseUrl) : undefined, problems });
    } catch (e) {
      problems.push(`check threw: ${e && e.stack ? e.stack : e}`);
    }
    results.push({ name, ok: problems.length === 0, detail: problems.join('; ') + (problems.length ? ` [elapsed ${elapsed} ms, error ${error && error.name}: ${error && error.message}]` : '') });
  }
  const want = (problems, cond, what) => { if (!cond) problems.push(what); };
  const errorIs = (problems, error, cls, kind) => {
    want(problems, error instanceof cls, `expected ${cls.name}, got ${error ? error.name : 'success'}`);
    if (error) want(problems, error.kind === kind, `kind ${error.kind} ≠ ${kind}`);
  };

  await row('refused connection: ConnectionError after retries', {
    id: undefined, options: undefined,
    call: () => pp.getPostItemAnalytics('gen-x', opts({ baseUrl: 'http://127.0.0.1:9', maxRetries: 1, maxRetryWaitMs: 100 })),
  }, ({ error, elapsed, problems }) => {
    errorIs(problems, error, pp.ConnectionError, 'connection');
    want(problems, error && error.attempts === 2 && error.retryable === true, `attempts ${error && error.attempts}`);
    want(problems, error && /after 2 attempts/.test(error.message), 'message says it was retried');
    want(problems, error && error.cause instanceof Error, 'cause is an Error');
    want(problems, elapsed < 5000, `elapsed ${elapsed}`);
  });

  // A per-run tag (`--tag`): the server's counter for this id starts at zero in every run.
  await row('reset mid-body: ConnectionError, retried', { id: `fault-reset-mid-body--${tag()}`, options: opts({ maxRetries: 1, maxRetryWaitMs: 100 }) },
    ({ error, requests, problems }) => {
      errorIs(problems, error, pp.ConnectionError, 'connection');
      want(problems, error && error.attempts === 2 && requests === 2, `attempts ${error && error.attempts}, server saw ${requests}`);
    });

  const hang = 'fault-hang';
  const hangBefore = await count(hang);
  await row('never-answering server: TimeoutError per attempt', { call: () => pp.getPostItemAnalytics(hang, opts({ timeoutMs: 300, maxRetries: 1, maxRetryWaitMs: 100 })) },
    async ({ error, elapsed, problems }) => {
      errorIs(problems, error, pp.TimeoutError, 'timeout');
      want(problems, error instanceof pp.ConnectionError, 'a TimeoutError is a ConnectionError');
      want(problems, error && error.attempts === 2, `attempts ${error && error.attempts}`);
      want(problems, (await count(hang)) - hangBefore === 2, 'server saw 2 requests');
      want(problems, elapsed >= 550 && elapsed < 5000, `elapsed ${elapsed}`);
    });

  await row('slow body: the timeout covers reading the body', { id: `fault-slow-body-3000`, options: opts({ timeoutMs: 300, maxRetries: 0 }) },
    ({ error, elapsed, problems }) => {
      errorIs(problems, error, pp.TimeoutError, 'timeout');
      want(problems, elapsed >= 250 && elapsed < 2500, `elapsed ${elapsed}`);
    });

  const html = 'fault-502-html';
  const htmlBefore = await count(html);
  await row('HTML 502: ServerError after maxRetries', { call: () => pp.getPostItemAnalytics(html, opts({ maxRetries: 2, maxRetryWaitMs: 50 })) },
    async ({ error, problems }) => {
      errorIs(problems, error, pp.ServerError, 'server');
      want(problems, error && error.status === 502 && error.attempts === 3, `status ${error && error.status} attempts ${error && error.attempts}`);
      want(problems, (await count(html)) - htmlBefore === 3, 'server saw 3 requests');
      want(problems, error && /HTML/.test(error.message) && /after 3 attempts/.test(error.message), error && error.message);
    });

  for (const [name, prefix, n] of [['503 then success', 'flaky-503-1-', 2], ['500 twice then success', 'flaky-500-2-', 3]]) {
    const id = prefix + tag();
    await row(name, { id, options: opts({ maxRetryWaitMs: 100 }) }, ({ value, error, requests, problems }) => {
      want(problems, !error && value && value.post_item_id === id, `got ${error && error.name}`);
      want(problems, requests === n, `server saw ${requests}, want ${n}`);
    });
  }

  const r429 = 'flaky-429-1-' + tag();
  await row('429 with Retry-After then success', { id: r429, options: opts({ maxRetryWaitMs: 5000 }) }, ({ value, error, requests, elapsed, problems }) => {
    want(problems, !error && value, `got ${error && error.name}`);
    want(problems, requests === 2, `server saw ${requests}`);
    want(problems, elapsed >= 900 && elapsed < 5000, `waited Retry-After: 1 (${elapsed} ms)`);
  });

  // The header and the body disagree (1 s and 3600 s): the header wins, so the client waits 1 s
  // and asks again. Reading only the body would throw at once (3600 s is over maxRetryWaitMs).
  const disagree = `fault-429-disagree--${tag()}`;
  await row('429 whose Retry-After header and body retryAfter disagree: the header wins', { id: disagree, options: opts({ maxRetries: 1, maxRetryWaitMs: 5000 }) },
    ({ error, requests, elapsed, problems }) => {
      errorIs(problems, error, pp.RateLimitError, 'rate_limit');
      want(problems, error && error.attempts === 2 && requests === 2, `attempts ${error && error.attempts}, server saw ${requests}: the 1 s of the header was not waited out`);
      want(problems, error && error.retryAfterMs === 1000, `retryAfterMs ${error && error.retryAfterMs}, want the header's 1000 (the body says 3 600 000)`);
      want(problems, elapsed >= 900 && elapsed < 5000, `waited the header's 1 s (${elapsed} ms)`);
    });

  // A status a retry cannot change is answered once: one attempt, retryable false, one request
  // at the server, although maxRetries allows two more (and the id would succeed next time).
  for (const [status, cls] of NON_RETRYABLE) {
    const id = `flaky-${status}-1-${tag()}`;
    await row(`${status}: not retried`, { id, options: opts({ maxRetries: 2, maxRetryWaitMs: 50 }) }, ({ error, requests, problems }) => {
      want(problems, error instanceof pp[cls] && error.name === cls && error.status === status, `expected ${cls} ${status}, got ${error ? `${error.name} ${error.status}` : 'success'}`);
      want(problems, error && error.attempts === 1 && error.retryable === false, `attempts ${error && error.attempts}, retryable ${error && error.retryable}`);
      want(problems, requests === 1, `server saw ${requests} requests`);
    });
  }

  const long = 'fault-429-long';
  const longBefore = await count(long);
  await row('429 with a wait over maxRetryWaitMs: thrown at once', { call: () => pp.getPostItemAnalytics(long, opts({ maxRetryWaitMs: 1000 })) },
    async ({ error, elapsed, problems }) => {
      errorIs(problems, error, pp.RateLimitError, 'rate_limit');
      want(problems, error && error.retryAfterMs === 3_600_000 && error.attempts === 1, `retryAfterMs ${error && error.retryAfterMs}`);
      want(problems, error && error.rateLimit && error.rateLimit.limit > 0, 'rateLimit on the error');
      want(problems, (await count(long)) - longBefore === 1, 'one request');
      want(problems, elapsed < 1000, `elapsed ${elapsed}`);
    });

  const reset = 'flaky-ratelimit-1-' + tag();
  await row('Remaining: 0 then reset: waits for X-RateLimit-Reset', { id: reset, options: opts({ maxRetryWaitMs: 5000 }) },
    ({ value, error, requests, elapsed, problems }) => {
      want(problems, !error && value, `got ${error && error.name}`);
      want(problems, requests === 2, `server saw ${requests}`);
      // The reset is 1–2 s ahead; the backoff without it would be 375–500 ms.
      want(problems, elapsed >= 900 && elapsed < 5000, `waited for X-RateLimit-Reset (${elapsed} ms)`);
    });

  const before = 'gen-abort-before-' + tag();
  await row('abort before send: nothing is sent', {
    id: before,
    call: () => { const c = new AbortController(); c.abort(); return pp.getPostItemAnalytics(before, opts({ signal: c.signal })); },
  }, ({ error, requests, problems }) => {
    errorIs(problems, error, pp.RequestAbortedError, 'aborted');
    want(problems, error && error.attempts === 0 && requests === 0, `attempts ${error && error.attempts}, server saw ${requests}`);
  });

  const during = 'fault-slow-body-5000';
  const duringBefore = await count(during);
  await row('abort during a request', { call: () => pp.getPostItemAnalytics(during, opts({ signal: abortAfter(150) })) },
    async ({ error, elapsed, problems }) => {
      errorIs(problems, error, pp.RequestAbortedError, 'aborted');
      want(problems, elapsed < 2000, `elapsed ${elapsed}`);
      want(problems, (await count(during)) - duringBefore === 1, 'one request');
    });

  const wait = 'fault-429';
  const waitBefore = await count(wait);
  await row('abort during a retry wait ends the wait at once', { call: () => pp.getPostItemAnalytics(wait, opts({ maxRetryWaitMs: 5000, signal: abortAfter(300) })) },
    async ({ error, elapsed, problems }) => {
      errorIs(problems, error, pp.RequestAbortedError, 'aborted');
      want(problems, error && error.attempts === 1, `attempts ${error && error.attempts}`);
      want(problems, elapsed < 900, `the 1 s wait was cut short (${elapsed} ms)`);
      want(problems, (await count(wait)) - waitBefore === 1, 'no request after the abort');
    });

  // A batch's pause is shared: a worker that finishes a success while another worker's 429
  // pause runs must not send its next request until the pause is over. Two workers: the first
  // gets a slow success (600 ms), the second a 429 with Retry-After: 1 at once, so the first
  // comes back in the middle of the second's pause. With a pause per worker it would send its
  // next id at once, about 400 ms before the pause ends.
  {
    const t = tag();
    const [slow, limitedOnce, next] = [`fault-slow-600--p${t}`, `flaky-429-1-p${t}`, `gen-pause-${t}`];
    const client = new pp.PowerPost({ ...opts({ maxRetries: 2, maxRetryWaitMs: 5000 }) });
    await row('batch: a worker back from a success mid-pause waits for the shared pause to end', {
      call: () => client.getPostItemAnalyticsBatch([slow, limitedOnce, next], { concurrency: 2 }),
    }, async ({ value, error, problems }) => {
      want(problems, !error && Array.isArray(value) && value.every((r) => r.ok), `got ${error ? error.name : JSON.stringify(value && value.map((r) => r.ok))}`);
      const seen = async (id) => (await (await fetch(`${baseUrl}/__dev/requests?id=${encodeURIComponent(id)}`)).json()).requests;
      const [slowLog, limitedLog, nextLog] = [await seen(slow), await seen(limitedOnce), await seen(next)];
      const pause = limitedLog.find((r) => r.status === 429);
      want(problems, slowLog.length === 1 && pause && limitedLog.length === 2 && nextLog.length === 1,
        `requests: ${slowLog.length} slow, ${limitedLog.map((r) => r.status)} limited, ${nextLog.length} next`);
      if (!pause || slowLog.length !== 1 || nextLog.length !== 1) return;
      // The setup held: the slow success ended (600 ms after it arrived) inside the pause.
      const slowDone = slowLog[0].at + 600;
      want(problems, slowDone > pause.at && slowDone < pause.at + 900,
        `the slow success did not end inside the pause (it ended ${slowDone - pause.at} ms after the 429): cannot tell`);
      // The pause ends 1 s after the client read the 429, which is after the server sent it; 50
      // ms of slack for timer and clock granularity. The worker's own next request is `next`.
      want(problems, nextLog[0].at >= pause.at + 950,
        `the worker back from the slow success sent its next request ${nextLog[0].at - pause.at} ms after the 429, inside the 1 s pause`);
    });
  }

  {
    await fetch(`${limitedUrl}/__dev/reset`);
    const t = tag();
    const ids = [];
    for (let i = 0; i < 50; i++) {
      if (i % 10 === 9) ids.push(`does-not-exist-${t}-${i}`);
      else if (i % 7 === 6) ids.push(ids[i - 3]); // duplicates
      // Slow answers (300 ms to 1.5 s): a worker busy with one is not in flight when a 429
      // arrives, and comes back during the pause. With one shared pause it waits; with a pause
      // per worker it would send (and meet another 429).
      else if (i % 8 === 3) ids.push(`fault-slow-${300 * (1 + Math.floor(i / 8))}--${t}s${i}`);
      else ids.push(`gen-${t}-${i}`);
    }
    const concurrency = 4;
    const client = new pp.PowerPost({ baseUrl: limitedUrl, apiKey: KEY, workspaceId: WS, dangerouslyAllowBrowser: browser, maxRetries: 5, maxRetryWaitMs: 5000 });
    await row('batch of 50 with duplicates and failures under a low rate limit', {
      call: () => client.getPostItemAnalyticsBatch(ids, { concurrency }),
    }, async ({ value, error, problems }) => {
      want(problems, !error && Array.isArray(value) && value.length === 50, `got ${error && error.name}`);
      if (!value) return;
      want(problems, value.every((r, i) => r.postItemId === ids[i]), 'results in input order');
      want(problems, value.every((r) => (r.postItemId.startsWith('does-not-exist') ? !r.ok && r.error instanceof pp.NotFoundError : r.ok && r.analytics.post_item_id === r.postItemId)),
        'failures reported per item, the rest succeed');
      const log = (await (await fetch(`${limitedUrl}/__dev/requests`)).json()).requests.filter((r) => r.id && r.id.includes(t));
      want(problems, log.length < 200, `the server log holds the whole run (${log.length} requests)`);
      const unique = new Set(ids).size;
      const answered = log.filter((r) => r.status !== 429);
      want(problems, answered.length === unique, `each unique id answered once: ${answered.length} vs ${unique}`);
      const limited = log.filter((r) => r.status === 429);
      want(problems, limited.length > 0, 'the low limit was hit');
      // One shared pause: after a 429 (Retry-After: 1 s here) no worker starts a request until
      // the wait is over. Requests already in flight may still arrive just after it (200 ms of
      // slack for a busy machine); anything later inside the second was started during the pause.
      const during = log.filter((r) => limited.some((l) => r.at > l.at + 200 && r.at < l.at + 900));
      want(problems, during.length === 0, `${during.length} request(s) started during a pause: ${during.map((r) => `${r.id} at +${r.at - limited[0].at} ms`).join(', ')}`);
      // And so the 429s come in bursts (a burst: 429s within 200 ms of its first), each of at
      // most one per worker — the requests in flight when the limit was hit.
      const bursts = limited.filter((l, i) => i === 0 || l.at - limited[i - 1].at > 200).length;
      want(problems, limited.length <= concurrency * bursts, `${limited.length} 429s in ${bursts} bursts (at most ${concurrency} each)`);
      want(problems, client.rateLimit && client.rateLimit.limit === 10, `rateLimit ${JSON.stringify(client.rateLimit)}`);
    });
  }
  return results;
}
