// The core scenario every runtime runs (Bun, Deno, workerd, a Web Worker): a posted item, a
// 404 as NotFoundError, a timeout as TimeoutError. No imports; it receives the package.
export async function runMini(pp, { baseUrl, browser = false }) {
  const results = [];
  const check = (name, ok, detail = '') => results.push({ name, ok: !!ok, detail: ok ? '' : String(detail) });
  const opts = { baseUrl, apiKey: 'pp_test_sk_local_dev', workspaceId: 'ws_local_dev', dangerouslyAllowBrowser: browser };
  const client = new pp.PowerPost(opts);
  try {
    const item = await client.getPostItemAnalytics('550e8400-e29b-41d4-a716-446655440000');
    check('posted item', item.status === 'posted' && item.metrics.views === 12450 && item.platform === 'instagram', JSON.stringify(item));
  } catch (e) {
    check('posted item', false, `${e.name}: ${e.message}`);
  }
  try {
    await client.getPostItemAnalytics('does-not-exist');
    check('404 → NotFoundError', false, 'no error');
  } catch (e) {
    check('404 → NotFoundError', e instanceof pp.NotFoundError && e.status === 404 && e.code === 'NOT_FOUND' && pp.isPowerPostError(e), `${e.name}: ${e.message}`);
  }
  const started = Date.now();
  try {
    await client.getPostItemAnalytics('fault-hang', { timeoutMs: 300, maxRetries: 0 });
    check('hang → TimeoutError', false, 'no error');
  } catch (e) {
    check('hang → TimeoutError', e instanceof pp.TimeoutError && e instanceof pp.ConnectionError && Date.now() - started < 5000, `${e.name}: ${e.message}`);
  }
  if (browser) {
    try {
      new pp.PowerPost({ ...opts, dangerouslyAllowBrowser: false });
      check('browser guard applies', false, 'no error');
    } catch (e) {
      check('browser guard applies', e instanceof pp.InvalidArgumentError && /dangerouslyAllowBrowser/.test(e.message), `${e.name}: ${e.message}`);
    }
  } else {
    let ok = true;
    try { new pp.PowerPost({ ...opts, dangerouslyAllowBrowser: false }); } catch (e) { ok = `${e.name}: ${e.message}`; }
    check('no browser guard on a server runtime', ok === true, ok);
  }
  return results;
}
