// Errors keep what a person debugging needs (#19): the runtime's cause chain, the response's
// headers and body, and misspelt options named. No imports: it receives the package namespace
// and the URLs of loopback servers (the dev server, a closed port, a self-signed HTTPS server).
export async function runErrors(pp, { baseUrl, closedUrl, tlsUrl, undici, inspect }) {
  const results = [];
  const check = (name, ok, detail = '') => results.push({ name, ok: !!ok, detail: ok ? '' : String(detail) });
  const opts = { baseUrl, apiKey: 'pp_test_sk_local_dev', workspaceId: 'ws_local_dev', maxRetries: 0 };
  const failure = (p) => p.then((v) => new Error(`no error: ${JSON.stringify(v)}`), (e) => e);
  // Every link of `error.cause`, `error.cause.cause`, … (bounded: a cycle ends it).
  const chain = (e) => {
    const links = [];
    for (let c = e && e.cause; c !== undefined && c !== null && links.length < 10; c = c.cause) links.push(c);
    return links;
  };
  const codes = (e) => chain(e).map((c) => c.code).filter(Boolean);

  // --- The cause chain --------------------------------------------------------------------
  const refused = await failure(new pp.PowerPost({ ...opts, baseUrl: closedUrl }).getPostItemAnalytics('gen-x'));
  check('closed port → ConnectionError whose cause is what fetch rejected with', refused instanceof pp.ConnectionError &&
    refused.cause instanceof Error && refused.cause.name === 'TypeError', `${refused.name}: ${refused.message} / cause ${refused.cause}`);
  check('closed port → ECONNREFUSED reachable through cause', codes(refused).includes('ECONNREFUSED'), JSON.stringify(codes(refused)));
  check('the message still says what to do', /Could not reach the PowerPost API/.test(refused.message), refused.message);

  const tls = await failure(new pp.PowerPost({ ...opts, baseUrl: tlsUrl }).getPostItemAnalytics('gen-x'));
  check('self-signed HTTPS → ConnectionError with the TLS error in the chain', tls instanceof pp.ConnectionError &&
    codes(tls).some((c) => /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(c)), `${tls.name}: ${tls.message} / ${JSON.stringify(codes(tls))}`);

  const reset = await failure(new pp.PowerPost(opts).getPostItemAnalytics('fault-reset-mid-body'));
  check('reset mid-body → ConnectionError with the runtime\'s cause and its own cause', reset instanceof pp.ConnectionError &&
    reset.cause instanceof Error && chain(reset).length >= 2, `${reset.name}: ${reset.message} / ${chain(reset).map(String).join(' <- ')}`);

  const controller = new AbortController();
  const reason = new Error('user navigated away');
  const aborting = new pp.PowerPost(opts).getPostItemAnalytics('fault-hang', { signal: controller.signal });
  setTimeout(() => controller.abort(reason), 50);
  const aborted = await failure(aborting);
  check('abort → RequestAbortedError whose cause is the signal\'s reason', aborted instanceof pp.RequestAbortedError && aborted.cause === reason, `${aborted.name}: ${aborted.cause}`);

  // A reason whose getters throw: the call still settles, as RequestAbortedError.
  const hostileReason = Object.defineProperties(new Error('x'), {
    message: { get() { throw new Error('getter'); } }, name: { get() { throw new Error('getter'); } } });
  const c2 = new AbortController();
  const pending = new pp.PowerPost(opts).getPostItemAnalytics('fault-hang', { signal: c2.signal });
  setTimeout(() => c2.abort(hostileReason), 50);
  const settled = await Promise.race([failure(pending), new Promise((r) => setTimeout(() => r('hung'), 5000))]);
  check('an abort reason whose getters throw: the call still settles as RequestAbortedError', settled instanceof pp.RequestAbortedError, settled);

  // The key in the runtime's cause chain: a fetch that rejects quoting the request's headers,
  // as a careless dispatcher or outbound proxy agent might (the request reaches the dev server,
  // then fails as its response starts), and an abort reason that names the key. The raw chain
  // is checked to hold the key first, so "nowhere" can fail; then every surface of the error.
  // The caller passes undici (Node's fetch uses its global dispatcher) and util.inspect (this
  // runs in Node only); without them these checks would not run, so that is a failure.
  check('the caller passed undici and util.inspect', undici && typeof undici.Agent === 'function' && typeof inspect === 'function',
    `undici: ${typeof undici}, inspect: ${typeof inspect}`);
  if (undici && typeof inspect === 'function') {
    const shown = (x) => { try { return typeof x === 'string' ? x : `${inspect(x, { depth: 10, showHidden: true })} ${JSON.stringify(x)}`; } catch (e) { return `(threw ${e})`; } };
    // Everything the error shows: text, stack, inspect, JSON, each own property and each link of the chain.
    const surfaces = (e) => [String(e), e.stack, shown(e), ...Object.getOwnPropertyNames(e).map((n) => shown(e[n])),
      ...chain(e).flatMap((c) => [String(c), c.stack, c.code, shown(c)])].join('\n');
    // Where `needle` shows in `text` (the start of the text if nowhere).
    const around = (text, needle) => { const i = text.indexOf(needle); return i < 0 ? text.slice(0, 300) : `…${text.slice(Math.max(0, i - 250), i + needle.length + 60)}…`; };
    const key = 'pp_live_sk_CAUSECANARY_0123456789';
    const careless = new undici.Agent().compose((dispatch) => (options, handler) => {
      let failed = false;
      return dispatch(options, {
        onRequestStart: (c, context) => handler.onRequestStart?.(c, context),
        onResponseStart: (c) => {
          failed = true;
          c.abort(new Error(`refused by the outbound policy: ${options.method} ${options.path} sent headers ${JSON.stringify(options.headers)}`,
            { cause: Object.assign(new Error('the policy forbids x-api-key'), { code: `E_POLICY ${key}` }) }));
        },
        onResponseData: (c, chunk) => { if (!failed) handler.onResponseData?.(c, chunk); },
        onResponseEnd: (c, trailers) => { if (!failed) handler.onResponseEnd?.(c, trailers); },
        onResponseError: (c, e) => handler.onResponseError?.(c, e),
      });
    });
    const previous = undici.getGlobalDispatcher();
    undici.setGlobalDispatcher(careless);
    let raw;
    let quoted;
    try {
      raw = await failure(fetch(`${baseUrl}/api/v1/post-items/gen-x/analytics`, { headers: { 'x-api-key': key } }));
      quoted = await failure(new pp.PowerPost({ ...opts, apiKey: key }).getPostItemAnalytics('gen-x'));
    } finally {
      undici.setGlobalDispatcher(previous);
      await careless.close();
    }
    check('the raw chain of a fetch through that dispatcher holds the key (in a message and a code)',
      chain(raw).some((c) => String(c.message).includes(key)) && chain(raw).some((c) => String(c.code).includes(key)), shown(raw).slice(0, 400));
    check('… the lookup fails as a ConnectionError whose chain still says why, redacted', quoted instanceof pp.ConnectionError &&
      chain(quoted).some((c) => /outbound policy/.test(c.message) && c.message.includes('[redacted]')) &&
      chain(quoted).some((c) => c.code === 'E_POLICY [redacted]'), around(shown(quoted), '[cause]'));
    check('… and the key is nowhere in it', !surfaces(quoted).includes(key), around(surfaces(quoted), key));

    const byReason = new AbortController();
    const reasonWithKey = new Error(`signed out: the session held ${opts.apiKey}`, { cause: Object.assign(new Error('session store'), { code: `E_SESSION ${opts.apiKey}` }) });
    const pendingAbort = new pp.PowerPost(opts).getPostItemAnalytics('fault-hang', { signal: byReason.signal });
    setTimeout(() => byReason.abort(reasonWithKey), 50);
    const abortedWithKey = await failure(pendingAbort);
    check('an abort reason that names the key: its raw chain holds it', shown(reasonWithKey).includes(opts.apiKey) && chain(reasonWithKey).some((c) => String(c.code).includes(opts.apiKey)));
    check('… RequestAbortedError whose cause is a redacted copy of the reason', abortedWithKey instanceof pp.RequestAbortedError &&
      abortedWithKey.cause !== reasonWithKey && /signed out: the session held \[redacted\]/.test(String(abortedWithKey.cause && abortedWithKey.cause.message)) &&
      chain(abortedWithKey).some((c) => c.code === 'E_SESSION [redacted]'), around(shown(abortedWithKey), '[cause]'));
    check('… and the key is nowhere in it', !surfaces(abortedWithKey).includes(opts.apiKey), around(surfaces(abortedWithKey), opts.apiKey));
  }

  // --- The response on the error ----------------------------------------------------------
  const notFound = await failure(new pp.PowerPost(opts).getPostItemAnalytics('does-not-exist'));
  check('404 → headers (lower-case names) and the body as sent', notFound instanceof pp.NotFoundError &&
    notFound.headers && notFound.headers['x-request-id'] === notFound.requestId && /json/.test(notFound.headers['content-type']) &&
    notFound.body && notFound.body.error && notFound.body.error.code === 'NOT_FOUND', `${JSON.stringify(notFound.headers)} ${JSON.stringify(notFound.body)}`);
  check('the request key is not among the response headers', notFound.headers && !('x-api-key' in notFound.headers), JSON.stringify(notFound.headers));
  const limited = await failure(new pp.PowerPost(opts).getPostItemAnalytics('fault-429'));
  check('429 → Retry-After in headers and retryAfter in the body', limited instanceof pp.RateLimitError &&
    limited.headers['retry-after'] === '1' && limited.body.retryAfter === 1, `${JSON.stringify(limited.headers)} ${JSON.stringify(limited.body)}`);
  const server = await failure(new pp.PowerPost(opts).getPostItemAnalytics('fault-500'));
  check('500 → the error envelope as sent', server instanceof pp.ServerError && server.body.error.code === 'INTERNAL_ERROR' &&
    typeof server.body.error.message === 'string', JSON.stringify(server.body));
  const html = await failure(new pp.PowerPost(opts).getPostItemAnalytics('fault-502-html'));
  check('502 with HTML → the text of the body', html instanceof pp.ServerError && typeof html.body === 'string' && html.body.trimStart().startsWith('<'), JSON.stringify(html.body));
  const shape = await failure(new pp.PowerPost(opts).getPostItemAnalytics('fault-wrong-shape'));
  check('invalid response → headers and body too', shape instanceof pp.InvalidResponseError && shape.headers && shape.body &&
    typeof shape.body === 'object' && shape.headers['x-request-id'] === shape.requestId, `${JSON.stringify(shape.headers)} ${JSON.stringify(shape.body)}`);
  let parsed;
  try { pp.parsePostItemAnalytics({}); } catch (e) { parsed = e; }
  check('parsePostItemAnalytics errors have no response fields', parsed instanceof pp.InvalidResponseError && parsed.headers === undefined && parsed.body === undefined);

  // --- Misspelt options ---------------------------------------------------------------------
  const argError = async (name, fn, pattern) => {
    let e;
    try { await fn(); } catch (x) { e = x; }
    check(name, e instanceof pp.InvalidArgumentError && pattern.test(e.message), e ? `${e.name}: ${e.message}` : 'no error');
  };
  await argError('new PowerPost({ timeout }) → names timeoutMs', () => new pp.PowerPost({ ...opts, timeout: 5000 }), /"timeout".*`timeoutMs`/);
  await argError('new PowerPost({ baseURL }) → names baseUrl', () => new pp.PowerPost({ apiKey: opts.apiKey, workspaceId: opts.workspaceId, baseURL: baseUrl }), /"baseURL".*`baseUrl`/);
  await argError('new PowerPost({ api_key }) → names apiKey', () => new pp.PowerPost({ ...opts, api_key: 'x' }), /"api_key".*`apiKey`/);
  await argError('new PowerPost({ signal }) → per call', () => new pp.PowerPost({ ...opts, signal: new AbortController().signal }), /"signal".*per-call/);
  await argError('new PowerPost({ concurrency }) → a batch option', () => new pp.PowerPost({ ...opts, concurrency: 2 }), /"concurrency".*getPostItemAnalyticsBatch/);
  const client = new pp.PowerPost(opts);
  await argError('getPostItemAnalytics(id, { timeoutMS })', () => client.getPostItemAnalytics('gen-x', { timeoutMS: 10 }), /"timeoutMS".*`timeoutMs`/);
  await argError('getPostItemAnalytics(id, { apiKey }) → a client option', () => client.getPostItemAnalytics('gen-x', { apiKey: 'x' }), /"apiKey".*new PowerPost/);
  await argError('batch(ids, { concurency })', () => client.getPostItemAnalyticsBatch(['gen-x'], { concurency: 2 }), /"concurency".*`concurrency`/);
  await argError('one-off getPostItemAnalytics(id, { foo })', () => pp.getPostItemAnalytics('gen-x', { ...opts, foo: 1 }), /Unknown option "foo"; the options here are apiKey, /);
  const withSymbol = { ...opts, [Symbol('meta')]: 1 };
  const inherited = Object.assign(Object.create({ inheritedJunk: 1 }), opts);
  const okSymbol = await client.getPostItemAnalytics('gen-x', { [Symbol('meta')]: 1 }).then((r) => !!r, (e) => e.message);
  check('symbol keys and inherited properties are not options', new pp.PowerPost(withSymbol) && new pp.PowerPost(inherited) && okSymbol === true, okSymbol);
  return results;
}
