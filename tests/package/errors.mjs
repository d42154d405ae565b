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

  // undici's MockAgent quotes the request headers, key included, when no mock matches: the
  // chain must say why, and carry no key. The caller passes undici and util.inspect (this runs
  // in Node only); without them these checks would not run, so that is a failure.
  check('the caller passed undici and util.inspect', undici && typeof undici.MockAgent === 'function' && typeof inspect === 'function',
    `undici: ${typeof undici}, inspect: ${typeof inspect}`);
  if (undici && typeof inspect === 'function') {
    const agent = new undici.MockAgent();
    agent.disableNetConnect();
    const previous = undici.getGlobalDispatcher();
    undici.setGlobalDispatcher(agent);
    const key = 'pp_live_sk_MOCKCANARY_0123456789';
    let mocked;
    try {
      mocked = await failure(new pp.PowerPost({ baseUrl: 'https://powerpost.ai', apiKey: key, workspaceId: 'ws_1', maxRetries: 0 }).getPostItemAnalytics('abc'));
    } finally {
      undici.setGlobalDispatcher(previous);
      await agent.close();
    }
    const shown = `${inspect(mocked, { depth: 10, showHidden: true })} ${JSON.stringify(chain(mocked).map((c) => [String(c), c.code]))}`;
    check('MockAgent with no match: ConnectionError whose cause chain names the mock error', mocked instanceof pp.ConnectionError &&
      chain(mocked).some((c) => /MockNotMatched|mock|Mock/.test(String(c.message) + String(c.code))), shown.slice(0, 400));
    check('… and the key is nowhere in it', !shown.includes('MOCKCANARY'), shown.slice(0, 400));
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
