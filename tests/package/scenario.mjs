// The package contract, checked against the dev server through the BUILT package. The same
// function runs in Node (CJS and ESM, Node 20/22/24) and in Chromium (Vite, webpack, slim).
// It takes the package namespace, so it has no imports of its own.
//
// Returns [{ name, ok, detail }]; the callers assert that every check passed.

export const SAMPLE = '550e8400-e29b-41d4-a716-446655440000';
export const KEY = 'pp_test_sk_local_dev';
export const WS = 'ws_local_dev';

export async function runScenario(pp, { baseUrl, browser = false, envDefaults = false, full = true }) {
  const results = [];
  const check = (name, cond, detail = '') => results.push({ name, ok: !!cond, detail: cond ? '' : String(detail) });
  const opts = { baseUrl, apiKey: KEY, workspaceId: WS, dangerouslyAllowBrowser: true };
  const fails = async (fn) => {
    try {
      await fn();
    } catch (e) {
      return e;
    }
    return undefined;
  };
  const noKey = (name, e, key) => {
    let inspected = '';
    try {
      inspected = JSON.stringify(e) + String(e && e.stack) + String(e && e.message) + String(e && e.cause && e.cause.message);
      // Every own property, objects (headers, body, rateLimit) as JSON rather than "[object Object]".
      for (const k of Object.getOwnPropertyNames(e || {})) inspected += typeof e[k] === 'object' && e[k] !== null ? JSON.stringify(e[k]) : String(e[k]);
    } catch (x) {
      inspected = 'inspection threw ' + x;
    }
    check(`${name}: the key appears nowhere in the error`, !inspected.includes(key), inspected.slice(0, 300));
  };
  const isoRe = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

  // --- success ---------------------------------------------------------------------------
  const client = new pp.PowerPost(opts);
  const item = await client.getPostItemAnalytics(SAMPLE);
  check('sample item: ids and platform', item.post_item_id === SAMPLE && item.post_type === 'instagram-reel' && item.platform === 'instagram', JSON.stringify(item));
  check('sample item: status and counts', item.status === 'posted' && item.metrics.views === 12450 && item.metrics.likes === 890 && item.metrics.comments === 42, JSON.stringify(item));
  check('sample item: fetched_at is RFC 3339', isoRe.test(item.metrics.fetched_at), item.metrics.fetched_at);
  check('result is a plain object with exactly the documented fields', Object.getPrototypeOf(item) === Object.prototype &&
    JSON.stringify(Object.keys(item)) === '["post_item_id","post_type","platform","status","metrics"]', Object.keys(item));
  check('rateLimit is read from the headers', client.rateLimit && client.rateLimit.limit > 0 && typeof client.rateLimit.reset === 'number', JSON.stringify(client.rateLimit));
  // What actually went over the wire: the two auth headers and Accept, no other custom header
  // (each would need the server's CORS approval in browsers).
  const seen = (await (await fetch(`${baseUrl}/__dev/requests?id=${SAMPLE}`)).json()).requests.pop();
  const custom = seen ? seen.headerNames.filter((h) => h.startsWith('x-')) : [];
  check('headers sent: x-api-key, x-workspace-id, accept: application/json, nothing else custom',
    seen && seen.hasApiKey && seen.workspaceId === WS && seen.accept === 'application/json' && custom.join() === 'x-api-key,x-workspace-id',
    JSON.stringify(seen));
  const one = await pp.getPostItemAnalytics(SAMPLE, opts);
  check('getPostItemAnalytics function works', one.metrics.views === 12450);
  const draft = await client.getPostItemAnalytics('1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a');
  check('draft: metrics null', draft.status === 'draft' && draft.metrics === null, JSON.stringify(draft));
  const partial = await client.getPostItemAnalytics('fault-missing-counts');
  check('missing counts are 0', partial.metrics.likes === 0 && partial.metrics.comments === 0 && partial.metrics.views > 0, JSON.stringify(partial));

  // --- the error table -------------------------------------------------------------------
  const nf = await fails(() => client.getPostItemAnalytics('does-not-exist'));
  check('404 → NotFoundError class chain', nf instanceof pp.NotFoundError && nf instanceof pp.ApiError && nf instanceof pp.PowerPostError && nf instanceof Error, nf);
  check('404 → name, kind, status, code', nf && nf.name === 'NotFoundError' && nf.kind === 'not_found' && nf.status === 404 && nf.code === 'NOT_FOUND', nf && [nf.name, nf.kind, nf.status, nf.code]);
  check('404 → requestId, postItemId, retryable, attempts', nf && /^req_/.test(nf.requestId) && nf.postItemId === 'does-not-exist' && nf.retryable === false && nf.attempts === 1, nf && [nf.requestId, nf.postItemId, nf.retryable, nf.attempts]);
  check('404 → message uses the server message and code', nf && nf.message.includes('Post item not found') && nf.message.includes('404') && nf.message.includes('NOT_FOUND'), nf && nf.message);
  // V8 starts every `stack` with "Name: message"; SpiderMonkey (Firefox) and JavaScriptCore
  // (WebKit) give only the frames, for their own errors too: there the stack must hold frames.
  const stacksNameTheClass = String(new Error('probe').stack).includes('Error: probe');
  check(stacksNameTheClass ? '404 → stack names the class' : '404 → stack holds the frames (this engine\'s stacks never name the class)',
    nf && typeof nf.stack === 'string' && (stacksNameTheClass ? nf.stack.includes('NotFoundError') : /\S+@\S+:\d+:\d+/.test(nf.stack)), nf && nf.stack);
  check('404 → rateLimit on the error', nf && nf.rateLimit && nf.rateLimit.limit > 0, nf && JSON.stringify(nf.rateLimit));
  check('isPowerPostError', pp.isPowerPostError(nf) && !pp.isPowerPostError(new Error('x')) && !pp.isPowerPostError(null) && !pp.isPowerPostError('x'));

  const badKey = 'pp_test_sk_WRONG_0123456789';
  const auth = await fails(() => pp.getPostItemAnalytics(SAMPLE, { ...opts, apiKey: badKey }));
  check('401 → AuthenticationError', auth instanceof pp.AuthenticationError && auth.kind === 'authentication' && auth.status === 401 && auth.code === 'INVALID_API_KEY', auth);
  noKey('401', auth, badKey);
  // The dev server's own 401 never repeats the key; `fault-echo-key-401` accepts any key and
  // puts it in its message, code, body, x-request-id and other headers, as a careless server
  // might. The error shows the server's words with the key taken out.
  const echoed = await fails(() => pp.getPostItemAnalytics('fault-echo-key-401', { ...opts, apiKey: badKey, maxRetries: 0 }));
  check('401 from a server echoing the key → AuthenticationError quoting it redacted', echoed instanceof pp.AuthenticationError &&
    /was rejected/.test(echoed.message) && echoed.message.includes('[redacted]') && /^req_\[redacted\]/.test(echoed.requestId) &&
    JSON.stringify(echoed.body).includes('[redacted]'), echoed && [echoed.name, echoed.message, echoed.requestId].join(' | '));
  noKey('401 echoing the key', echoed, badKey);
  const scope = await fails(() => pp.getPostItemAnalytics(SAMPLE, { ...opts, apiKey: 'pp_test_sk_no_analytics_scope' }));
  check('403 scope → PermissionDeniedError naming the scope', scope instanceof pp.PermissionDeniedError && scope.kind === 'permission_denied' && scope.code === 'INSUFFICIENT_SCOPE' && scope.message.includes('analytics:read'), scope);
  const ws = await fails(() => pp.getPostItemAnalytics(SAMPLE, { ...opts, workspaceId: 'ws_someone_else' }));
  check('403 workspace → PermissionDeniedError', ws instanceof pp.PermissionDeniedError && ws.code === 'FORBIDDEN', ws);
  if (!envDefaults) { // POWERPOST_WORKSPACE_ID would fill the gap
    const bad = await fails(() => pp.getPostItemAnalytics(SAMPLE, { baseUrl, apiKey: KEY, dangerouslyAllowBrowser: true }));
    check('400 (no workspace, proxy mode) → BadRequestError', bad instanceof pp.BadRequestError && bad.kind === 'bad_request' && bad.status === 400, bad);
  }
  const rl = await fails(() => pp.getPostItemAnalytics('fault-429-long', { ...opts, maxRetryWaitMs: 1000 }));
  check('429 → RateLimitError with retryAfterMs, thrown at once', rl instanceof pp.RateLimitError && rl.kind === 'rate_limit' && rl.retryAfterMs === 3600000 && rl.attempts === 1 && rl.retryable === true, rl && [rl.name, rl.retryAfterMs, rl.attempts]);
  const s500 = await fails(() => pp.getPostItemAnalytics('fault-500', { ...opts, maxRetries: 0 }));
  check('500 → ServerError, retryable', s500 instanceof pp.ServerError && s500.kind === 'server' && s500.status === 500 && s500.code === 'INTERNAL_ERROR' && s500.retryable === true, s500);
  const html = await fails(() => pp.getPostItemAnalytics('fault-502-html', { ...opts, maxRetries: 0 }));
  check('502 HTML → ServerError saying so', html instanceof pp.ServerError && html.status === 502 && /HTML/.test(html.message) && !html.message.includes('<'), html && html.message);
  const empty = await fails(() => pp.getPostItemAnalytics('fault-503-empty', { ...opts, maxRetries: 0 }));
  check('503 empty → ServerError saying so', empty instanceof pp.ServerError && /empty/.test(empty.message), empty && empty.message);
  const redirect = await fails(() => pp.getPostItemAnalytics('fault-redirect', opts));
  check('redirect → ApiError kind api, not followed', redirect instanceof pp.ApiError && redirect.kind === 'api' && /redirect/.test(redirect.message), redirect);

  const shape = await fails(() => pp.getPostItemAnalytics('fault-wrong-shape', opts));
  check('wrong shape → InvalidResponseError with path/expected/received/status', shape instanceof pp.InvalidResponseError && shape.kind === 'invalid_response' &&
    shape.path === 'metrics.views' && shape.expected === 'a non-negative integer' && shape.received === 'string "12"' && shape.status === 200 && shape.retryable === false,
  shape && [shape.path, shape.expected, shape.received, shape.status]);
  const notJson = await fails(() => pp.getPostItemAnalytics('fault-invalid-json', opts));
  check('invalid JSON → InvalidResponseError at $', notJson instanceof pp.InvalidResponseError && notJson.path === '$', notJson);
  const cut = await fails(() => pp.getPostItemAnalytics('fault-truncated', opts));
  check('truncated body → InvalidResponseError at $', cut instanceof pp.InvalidResponseError && cut.path === '$' && /cut off/.test(cut.received), cut && cut.received);
  const mismatch = await fails(() => pp.getPostItemAnalytics('fault-mismatch', opts));
  check('other item in body → InvalidResponseError at post_item_id', mismatch instanceof pp.InvalidResponseError && mismatch.path === 'post_item_id', mismatch);
  const huge = await fails(() => pp.getPostItemAnalytics('fault-huge-chunked', opts));
  check('body over 1 MiB → InvalidResponseError at $', huge instanceof pp.InvalidResponseError && huge.path === '$', huge);

  const short = await fails(() => pp.getPostItemAnalytics('fault-length-short', { ...opts, maxRetries: 0 }));
  check('Content-Length longer than the body → ConnectionError', short instanceof pp.ConnectionError, short);
  const long = await fails(() => pp.getPostItemAnalytics('fault-length-long', { ...opts, maxRetries: 0 }));
  check('body longer than Content-Length → an error, never a hang or a partial result',
    long instanceof pp.InvalidResponseError || long instanceof pp.ConnectionError, long);
  const refused = await fails(() => pp.getPostItemAnalytics(SAMPLE, { ...opts, baseUrl: 'http://127.0.0.1:9', maxRetries: 0 }));
  check('refused → ConnectionError with cause', refused instanceof pp.ConnectionError && refused.kind === 'connection' && refused.cause instanceof Error && refused.retryable === true, refused);
  noKey('connection', refused, KEY);
  const timeout = await fails(() => pp.getPostItemAnalytics('fault-hang', { ...opts, timeoutMs: 200, maxRetries: 0 }));
  check('hang → TimeoutError (a ConnectionError)', timeout instanceof pp.TimeoutError && timeout instanceof pp.ConnectionError && timeout.kind === 'timeout', timeout);
  const ctl = new AbortController();
  ctl.abort();
  const aborted = await fails(() => client.getPostItemAnalytics(SAMPLE, { signal: ctl.signal }));
  check('aborted signal → RequestAbortedError, nothing sent', aborted instanceof pp.RequestAbortedError && aborted.kind === 'aborted' && aborted.attempts === 0, aborted);

  // --- input rules -----------------------------------------------------------------------
  const argErr = async (name, fn, extra = () => true) => {
    const e = await fails(fn);
    check(`invalid argument: ${name}`, e instanceof pp.InvalidArgumentError && e.kind === 'invalid_argument' && e.attempts === 0 && extra(e), e);
    return e;
  };
  await argErr('non-string id', () => client.getPostItemAnalytics(42));
  await argErr('empty id', () => client.getPostItemAnalytics(''));
  await argErr('id over 256 chars', () => client.getPostItemAnalytics('a'.repeat(257)));
  await argErr('id with a control character', () => client.getPostItemAnalytics('a\nb'));
  await argErr('NaN timeout', () => client.getPostItemAnalytics(SAMPLE, { timeoutMs: NaN }));
  await argErr('non-integer retries', () => new pp.PowerPost({ ...opts, maxRetries: 1.5 }));
  await argErr('signal look-alike', () => client.getPostItemAnalytics(SAMPLE, { signal: { aborted: false } }));
  const nl = await argErr('key with a newline, not echoed', () => new pp.PowerPost({ ...opts, apiKey: KEY + '\n' }));
  noKey('newline key', nl, KEY);
  await argErr('javascript: base URL', () => new pp.PowerPost({ ...opts, baseUrl: 'javascript:alert(1)' }));
  await argErr('key over plain http to a non-loopback host', () => new pp.PowerPost({ ...opts, baseUrl: 'http://example.com' }), (e) => /clear text/.test(e.message));
  if (!envDefaults) await argErr('real API without key names the variable', () => new pp.PowerPost({ workspaceId: WS, dangerouslyAllowBrowser: true }), (e) => /apiKey/.test(e.message) && (browser || /POWERPOST_API_KEY/.test(e.message)));
  // A 404 alone proves nothing (an unencoded "../id" ends in "no route", a 404 too): the server
  // must have matched the route and decoded exactly "../id" from the one segment.
  const dotted = '../' + SAMPLE;
  const dottedLog = async () => (await (await fetch(`${baseUrl}/__dev/requests?id=${encodeURIComponent(dotted)}`)).json());
  const dottedBefore = (await dottedLog()).count;
  const seg = await fails(() => client.getPostItemAnalytics(dotted));
  const dottedAfter = await dottedLog();
  const dottedPath = dottedAfter.requests.length ? dottedAfter.requests[dottedAfter.requests.length - 1].path : 'none';
  check('"../id" stays one path segment: the server decoded "../id" from it (404, not the sample)',
    seg instanceof pp.NotFoundError && seg.postItemId === dotted && dottedAfter.count === dottedBefore + 1 && /^\/api\/v1\/post-items\/[^/]+\/analytics$/.test(dottedPath),
    `${seg && seg.name}; server saw ${dottedAfter.count - dottedBefore} request(s) for it, last path ${dottedPath}`);
  if (browser) {
    await argErr('browser guard: key without dangerouslyAllowBrowser', () => new pp.PowerPost({ baseUrl, apiKey: KEY, workspaceId: WS }),
      (e) => /dangerouslyAllowBrowser/.test(e.message) && !e.message.includes(KEY));
    const proxy = new pp.PowerPost({ baseUrl, workspaceId: WS });
    const px = await fails(() => proxy.getPostItemAnalytics(SAMPLE));
    check('browser proxy mode sends no key (server says 401)', px instanceof pp.AuthenticationError, px);
  } else {
    check('no browser guard outside browsers', !!new pp.PowerPost({ baseUrl, apiKey: KEY, workspaceId: WS }));
  }
  if (envDefaults) {
    const fromEnv = await new pp.PowerPost().getPostItemAnalytics(SAMPLE);
    check('options default from POWERPOST_* variables', fromEnv.metrics.views === 12450);
    const override = await fails(() => new pp.PowerPost({ apiKey: 'pp_test_sk_override' }).getPostItemAnalytics(SAMPLE));
    check('explicit options win over the environment', override instanceof pp.AuthenticationError, override);
  }

  // --- parsePostItemAnalytics ------------------------------------------------------------
  const body = { post_item_id: 'p1', post_type: 'tiktok-video', platform: 'tiktok', status: 'archived', extra: 1,
    metrics: { views: 5, likes: null, fetched_at: '2026-04-15T09:00:00+02:00', shares: 9 } };
  const parsed = pp.parsePostItemAnalytics(body, 'p1');
  check('parse: unknown status passes, null/missing counts are 0, extras dropped', parsed.status === 'archived' && parsed.metrics.likes === 0 &&
    parsed.metrics.comments === 0 && !('extra' in parsed) && !('shares' in parsed.metrics), JSON.stringify(parsed));
  const perr = await fails(() => pp.parsePostItemAnalytics({ ...body, metrics: { ...body.metrics, views: -1 } }));
  check('parse: negative count → InvalidResponseError', perr instanceof pp.InvalidResponseError && perr.path === 'metrics.views' && perr.received === 'number -1', perr);
  const pid = await fails(() => pp.parsePostItemAnalytics(body, 'p2'));
  check('parse: expected id mismatch', pid instanceof pp.InvalidResponseError && pid.path === 'post_item_id', pid);
  const proot = await fails(() => pp.parsePostItemAnalytics('nope'));
  check('parse: non-object root at $', proot instanceof pp.InvalidResponseError && proot.path === '$', proot);
  const ts = await fails(() => pp.parsePostItemAnalytics({ ...body, metrics: { ...body.metrics, fetched_at: '2026-04-15 09:00' } }));
  check('parse: fetched_at needs RFC 3339 with zone', ts instanceof pp.InvalidResponseError && ts.path === 'metrics.fetched_at', ts);
  const big = await fails(() => pp.parsePostItemAnalytics({ ...body, metrics: { ...body.metrics, views: 2 ** 53 } }));
  check('parse: counts above 2^53-1 rejected', big instanceof pp.InvalidResponseError, big);

  // --- batch -----------------------------------------------------------------------------
  if (full) {
    const ids = ['gen-b1', 'does-not-exist', 'gen-b1', SAMPLE];
    const batch = await client.getPostItemAnalyticsBatch(ids, { concurrency: 2 });
    check('batch: input order, duplicates at each position, per-item errors', batch.length === 4 && batch.map((b) => b.postItemId).join() === ids.join() &&
      batch[0].ok && batch[2].ok && !batch[1].ok && batch[1].error instanceof pp.NotFoundError && batch[3].analytics.metrics.views === 12450, JSON.stringify(batch));
    const badBatch = await fails(() => client.getPostItemAnalyticsBatch('gen-x'));
    check('batch: non-array → InvalidArgumentError', badBatch instanceof pp.InvalidArgumentError, badBatch);
    const zero = await fails(() => client.getPostItemAnalyticsBatch(['gen-x'], { concurrency: 0 }));
    check('batch: concurrency 0 → InvalidArgumentError', zero instanceof pp.InvalidArgumentError, zero);
  }

  // The module still works after all of the above.
  const last = await client.getPostItemAnalytics(SAMPLE);
  check('still works afterwards', last.metrics.views === 12450);
  return results;
}
