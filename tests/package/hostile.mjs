// Hostile JavaScript values at every export, and secret hygiene on every error path. No imports:
// it receives the package namespace and util.inspect (Node only).

/** Valid ids that only arrive as themselves if they are percent-encoded as one path segment. */
export const IDS_NEEDING_ENCODING = ['a/b', '../x', 'x/../y', 'a?b=c', 'a#b', 'a b', 'a%2Fb', '%2e%2e', '..%2F', '\\x', 'é/ü', 'a;b', 'a+b&c'];

export async function runHostile(pp, { baseUrl, canaryUrl, canaryKey, inspect, encodingTag = 'enc-' }) {
  const results = [];
  const check = (name, ok, detail = '') => results.push({ name, ok: !!ok, detail: ok ? '' : String(detail) });
  const opts = { baseUrl, apiKey: 'pp_test_sk_local_dev', workspaceId: 'ws_local_dev' };
  const throwing = new Proxy({}, { get() { throw new Error('trap'); }, has() { throw new Error('trap'); }, ownKeys() { throw new Error('trap'); } });
  const getterThrows = Object.defineProperty({}, 'apiKey', { get() { throw new Error('getter'); }, enumerable: true });
  const huge = 'x'.repeat(100 * 1024 * 1024);
  const lookalike = { aborted: false, reason: undefined, addEventListener() {}, removeEventListener() {}, throwIfAborted() {} };
  const hostile = [undefined, null, 0, -1, NaN, Infinity, 42n, true, Symbol('s'), () => 1, [], {}, throwing, getterThrows, huge, lookalike, new Date(0), /x/];
  const label = (v) => { try { return typeof v === 'string' ? `string(${v.length})` : typeof v === 'symbol' ? 'symbol' : v === throwing ? 'throwing proxy' : v === getterThrows ? 'throwing getter' : Object.prototype.toString.call(v); } catch { return '?'; } };
  const expectArgErr = async (name, fn) => {
    try {
      await fn();
      check(name, false, 'no error');
    } catch (e) {
      check(name, e instanceof pp.InvalidArgumentError && e.kind === 'invalid_argument', `${e && e.name}: ${e && e.message}`);
    }
  };

  const client = new pp.PowerPost(opts);
  for (const v of hostile) {
    if (typeof v !== 'string') {
      await expectArgErr(`getPostItemAnalytics(${label(v)})`, () => pp.getPostItemAnalytics(v, opts));
      await expectArgErr(`client.getPostItemAnalytics(${label(v)})`, () => client.getPostItemAnalytics(v));
      if (!Array.isArray(v)) await expectArgErr(`batch(${label(v)})`, () => client.getPostItemAnalyticsBatch(v)); // [] is a valid empty batch
      await expectArgErr(`batch([${label(v)}])`, () => client.getPostItemAnalyticsBatch([v]));
    }
    if (v !== undefined && v !== null && !(typeof v === 'object' && !Array.isArray(v) && v !== throwing && v !== getterThrows && !(v instanceof Date) && !(v instanceof RegExp) && v !== lookalike)) {
      await expectArgErr(`new PowerPost(${label(v)})`, () => new pp.PowerPost(v));
    }
    for (const key of ['apiKey', 'workspaceId', 'baseUrl', 'timeoutMs', 'maxRetries', 'maxRetryWaitMs', 'dangerouslyAllowBrowser']) {
      if (v === undefined) continue;
      if (key === 'apiKey' && v === huge) continue; // checked below with its own expectation
      if ((key === 'dangerouslyAllowBrowser' && v === true) || (['timeoutMs', 'maxRetries', 'maxRetryWaitMs'].includes(key) && v === 0)) continue;
      await expectArgErr(`option ${key}: ${label(v)}`, () => new pp.PowerPost({ ...opts, [key]: v }));
    }
    if (v !== undefined) await expectArgErr(`request option signal: ${label(v)}`, () => client.getPostItemAnalytics('gen-x', { signal: v }));
    if (v !== undefined) await expectArgErr(`expectedPostItemId: ${label(v)}`, () => pp.parsePostItemAnalytics({}, v));
    // Objects (even hostile ones) fail at their first field; anything else at the root.
    const isObject = typeof v === 'object' && v !== null && !Array.isArray(v);
    try {
      pp.parsePostItemAnalytics(v);
      check(`parsePostItemAnalytics(${label(v)})`, false, 'no error');
    } catch (e) {
      check(`parsePostItemAnalytics(${label(v)})`, e instanceof pp.InvalidResponseError && e.path === (isObject ? 'post_item_id' : '$'), `${e && e.name}: ${e && e.message}`);
    }
  }
  await expectArgErr('100 MB apiKey', () => new pp.PowerPost({ ...opts, apiKey: huge }));
  await expectArgErr('100 MB id', () => client.getPostItemAnalytics(huge));
  await expectArgErr('100 MB id in a batch', () => client.getPostItemAnalyticsBatch(['gen-x', huge]));
  await expectArgErr('100 MB id with options that fail first', () => pp.getPostItemAnalytics(huge, { ...opts, timeoutMs: -1 }));
  for (const url of ['javascript:alert(1)', 'file:///etc/passwd', 'data:text/plain,x', 'ftp://x', 'http://user:pw@127.0.0.1:1']) {
    await expectArgErr(`baseUrl ${url}`, () => new pp.PowerPost({ ...opts, baseUrl: url }));
  }
  try {
    pp.parsePostItemAnalytics({ post_item_id: 'p', post_type: huge, platform: 'x', status: 's', metrics: null });
    check('100 MB string field → InvalidResponseError', false, 'accepted');
  } catch (e) {
    check('100 MB string field → InvalidResponseError', e instanceof pp.InvalidResponseError && e.path === 'post_type' && e.message.length < 500, e && e.message.slice(0, 200));
  }
  try {
    pp.parsePostItemAnalytics(Object.defineProperty({}, 'post_item_id', { get() { throw new Error('x'); }, enumerable: true }));
    check('throwing getter in a body → InvalidResponseError', false, 'accepted');
  } catch (e) {
    check('throwing getter in a body → InvalidResponseError', e instanceof pp.InvalidResponseError && e.path === 'post_item_id', `${e && e.name}: ${e && e.message}`);
  }
  const item = await client.getPostItemAnalytics('550e8400-e29b-41d4-a716-446655440000');
  check('the module still works after all of it', item.metrics.views === 12450);
  // WebAssembly memory never shrinks: had any 100 MB string been copied in, it would show here.
  // The hook must exist: without it this check would silently vanish.
  if (typeof pp.__wasmMemoryBytes === 'function') {
    const bytes = pp.__wasmMemoryBytes();
    check('no hostile string was copied into wasm memory', bytes < 16 * 2 ** 20, `${bytes} bytes`);
  } else {
    check('no hostile string was copied into wasm memory', false, `__wasmMemoryBytes is not exported (${typeof pp.__wasmMemoryBytes})`);
  }

  // Ids that need encoding reach the server as one segment: the caller compares what it decoded.
  for (const suffix of IDS_NEEDING_ENCODING) {
    const id = encodingTag + suffix;
    try {
      await client.getPostItemAnalytics(id);
      check(`${JSON.stringify(id)} → 404`, false, 'no error');
    } catch (e) {
      check(`${JSON.stringify(id)} → 404 about that id`, e instanceof pp.NotFoundError && e.postItemId === id, `${e && e.name}: ${e && e.message}`);
    }
  }

  // Secret hygiene: a recognisable key through every error path; it must appear nowhere.
  // `needles`: the key, and for a long key also its first 24 characters (a shortened key leaks too).
  const leaks = (e, needles = [canaryKey]) => {
    const seen = new Set();
    const parts = [];
    const walk = (x, depth) => {
      if (x === null || x === undefined || depth > 4 || seen.has(x)) return;
      if (typeof x !== 'object') { parts.push(String(x)); return; }
      seen.add(x);
      for (const k of Object.getOwnPropertyNames(x)) { try { walk(x[k], depth + 1); } catch { /* getter */ } }
      for (const k of ['message', 'stack', 'name', 'cause']) { try { walk(x[k], depth + 1); } catch { /* */ } }
    };
    walk(e, 0);
    try { parts.push(JSON.stringify(e)); } catch { /* */ }
    if (inspect) parts.push(inspect(e, { showHidden: true, depth: 6 }));
    parts.push(String(e));
    const text = parts.join('\n');
    return needles.some((n) => text.includes(n));
  };
  const canary = new pp.PowerPost({ baseUrl: canaryUrl, apiKey: canaryKey, workspaceId: 'ws_local_dev', maxRetries: 1, maxRetryWaitMs: 20, timeoutMs: 300 });
  const paths = ['does-not-exist', 'fault-500', 'fault-502-html', 'fault-503-empty', 'fault-invalid-json', 'fault-wrong-shape', 'fault-truncated',
    'fault-mismatch', 'fault-reset', 'fault-reset-mid-body', 'fault-hang', 'fault-huge', 'fault-endless', 'fault-redirect', 'fault-429-long',
    'fault-404-html', 'fault-length-short', 'fault-length-long', '', 'a\nb'];
  for (const id of paths) {
    try {
      await canary.getPostItemAnalytics(id);
      check(`canary ${JSON.stringify(id)} fails`, false, 'no error');
    } catch (e) {
      check(`key absent from the error of ${JSON.stringify(id)}`, pp.isPowerPostError(e) && !leaks(e), `${e && e.name}: ${e && e.message}`);
    }
  }
  // A real 403: the canary key is valid on its server, the workspace is not.
  const otherWs = new pp.PowerPost({ baseUrl: canaryUrl, apiKey: canaryKey, workspaceId: 'ws_someone_else', maxRetries: 0 });
  try {
    await otherWs.getPostItemAnalytics('550e8400-e29b-41d4-a716-446655440000');
    check('key absent from a 403', false, 'no error: the server did not answer 403');
  } catch (e) {
    check('key absent from a 403', e instanceof pp.PermissionDeniedError && e.status === 403 && e.code === 'FORBIDDEN' && !leaks(e), `${e && e.name} ${e && e.status}: ${e && e.message}`);
  }
  // A server that echoes the key it received (body, x-request-id, other headers, Location):
  // everything the package passes on must have it removed. First, that the server does echo it.
  const raw = await fetch(`${canaryUrl}/api/v1/post-items/fault-echo-key-401/analytics`, { headers: { 'x-api-key': canaryKey, 'x-workspace-id': 'ws_local_dev' } });
  const rawText = await raw.text();
  check('fault-echo-key echoes the key in its body and x-request-id', rawText.includes(canaryKey) && (raw.headers.get('x-request-id') || '').includes(canaryKey), rawText);
  const echo = { 200: pp.InvalidResponseError, 302: pp.ApiError, 400: pp.BadRequestError, 401: pp.AuthenticationError, 403: pp.PermissionDeniedError,
    404: pp.NotFoundError, 429: pp.RateLimitError, 500: pp.ServerError, 503: pp.ServerError };
  // A key longer than the 40 characters an error quotes of a value: a quoted, shortened copy
  // would escape a search for the whole key.
  const longKey = `pp_live_sk_CANARYLONG_${'9e7c5a3f1d'.repeat(5)}`;
  const longClient = new pp.PowerPost({ baseUrl: canaryUrl, apiKey: longKey, workspaceId: 'ws_local_dev', maxRetries: 1, maxRetryWaitMs: 20, timeoutMs: 300 });
  for (const [client, key, needles] of [[canary, 'key', [canaryKey]], [longClient, 'long key', [longKey, longKey.slice(0, 24)]]]) {
    for (const [status, cls] of Object.entries(echo)) {
      const id = `fault-echo-key-${status}`;
      try {
        await client.getPostItemAnalytics(id);
        check(`${id} fails`, false, 'no error');
      } catch (e) {
        const where = [];
        for (const k of Object.getOwnPropertyNames(e).concat('message', 'stack', 'requestId', 'code', 'received')) {
          try { if (needles.some((n) => String(e[k]).includes(n))) where.push(k); } catch { /* getter */ }
        }
        const leaked = leaks(e, needles);
        check(`${key} absent from every surface of the ${status} that echoes it`, e instanceof cls && !leaked,
          `${e && e.name} (want ${cls.name}); key found in: ${[...new Set(where)].join(', ') || (leaked ? 'JSON/inspect' : 'nowhere')}`);
        // The server's words were used (redacted), not dropped.
        if (status !== '200' && status !== '302') check(`${key}, ${id}: the server's message is shown, redacted`, e && /was rejected/.test(e.message) && /redacted/.test(e.message), e && e.message);
      }
    }
  }
  for (const [name, make] of [
    ['key with a newline', () => new pp.PowerPost({ ...opts, apiKey: canaryKey + '\n' })],
    ['key in the browser-less http check', () => new pp.PowerPost({ baseUrl: 'http://example.com', apiKey: canaryKey })],
    ['key with a space', () => new pp.PowerPost({ ...opts, apiKey: canaryKey.replace('_', ' ') })],
  ]) {
    try { make(); check(name, false, 'no error'); } catch (e) { check(`key absent: ${name}`, e instanceof pp.InvalidArgumentError && !leaks(e) && !e.message.includes(canaryKey.replace('_', ' ')), e && e.message); }
  }
  check('key absent from inspect(client)', typeof inspect === 'function' && !inspect(canary, { showHidden: true, depth: 6 }).includes(canaryKey),
    typeof inspect === 'function' ? 'the key is in inspect(client)' : 'util.inspect was not passed: this check and the inspect part of every leak search did not run');
  return results;
}
