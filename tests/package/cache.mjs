// The snapshot-aware cache (#15), in Node and in browsers: a simulated dashboard, then each
// rule (expiry by fetched_at and by maxAgeMs, null metrics, errors, reload, no-store, eviction,
// workspace and key isolation through a shared store, in-flight sharing, batches, clearCache),
// counted at the dev server. No imports: it receives the package namespace and the URLs.
export async function runCache(pp, { baseUrl, store }) {
  const results = [];
  const check = (name, ok, detail = '') => results.push({ name, ok: !!ok, detail: ok ? '' : String(detail) });
  const auth = { baseUrl, apiKey: 'pp_test_sk_local_dev', workspaceId: 'ws_local_dev', maxRetries: 0, dangerouslyAllowBrowser: true };
  const served = async () => (await (await fetch(`${baseUrl}/__dev/requests`)).json()).count;
  const counting = async (fn) => { const before = await served(); await fn(); return (await served()) - before; };
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const tag = `c${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const DAY = 86_400_000;
  const DRAFT = '1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a';

  // --- A dashboard: 100 posts, opened 10 times --------------------------------------------
  const ids = Array.from({ length: 100 }, (_, i) => `gen-${tag}-${i}`);
  const dashboard = async (client) => counting(async () => {
    for (let load = 0; load < 10; load++) {
      const rows = await client.getPostItemAnalyticsBatch(ids, { concurrency: 8 });
      if (!rows.every((r) => r.ok)) throw new Error(`a row failed: ${JSON.stringify(rows.find((r) => !r.ok))}`);
    }
  });
  const withCache = await dashboard(new pp.PowerPost({ ...auth, cache: true }));
  const without = await dashboard(new pp.PowerPost(auth));
  check('dashboard of 100 posts opened 10 times: 100 requests with the cache', withCache === 100, withCache);
  check('… and 1000 without it (off by default)', without === 1000, without);

  // --- Marked as cached, invisibly ----------------------------------------------------------
  const client = new pp.PowerPost({ ...auth, cache: true });
  const first = await client.getPostItemAnalytics(`gen-${tag}-mark`);
  const second = await client.getPostItemAnalytics(`gen-${tag}-mark`);
  check('a result from the cache says so: cached === true, not enumerable', first.cached === undefined && second.cached === true &&
    !Object.keys(second).includes('cached') && !JSON.stringify(second).includes('cached') && second.metrics.views === first.metrics.views,
    `${first.cached} ${second.cached} ${Object.keys(second)}`);

  // --- The rule -------------------------------------------------------------------------------
  // Expiry by fetched_at: gen- items were polled at today's midnight (UTC), so with
  // snapshotIntervalMs = (now - midnight) + WINDOW they are fresh until about WINDOW ms from now,
  // whatever maxAgeMs says. Two lookups 150 ms apart (past maxAgeMs) must share one request; a
  // third after the window must ask again. The window is wide (a busy machine or a browser can
  // take seconds over two lookups); if the first two still outlast it, the check fails saying so
  // instead of passing unchecked. The rules below, up to eviction, run while the window lasts.
  const WINDOW = 2000;
  const midnight = Math.floor(Date.now() / DAY) * DAY;
  const snapshot = new pp.PowerPost({ ...auth, cache: { maxAgeMs: 50, snapshotIntervalMs: Date.now() - midnight + WINDOW } });
  const t0 = Date.now();
  const snapId = `gen-${tag}-snap`;
  const snapFirst = await counting(async () => { await snapshot.getPostItemAnalytics(snapId); await sleep(150); await snapshot.getPostItemAnalytics(snapId); });
  const snapEarly = Date.now() - t0;

  const byAge = new pp.PowerPost({ ...auth, cache: { maxAgeMs: 150, snapshotIntervalMs: 0 } });
  const ageId = `gen-${tag}-age`;
  let n = await counting(async () => { await byAge.getPostItemAnalytics(ageId); await byAge.getPostItemAnalytics(ageId); });
  await sleep(250);
  n += await counting(() => byAge.getPostItemAnalytics(ageId));
  check('expiry by maxAgeMs (snapshot rule off): cached, then asked again after maxAgeMs', n === 2, n);

  const drafts = new pp.PowerPost({ ...auth, cache: { maxAgeMs: 200 } });
  n = await counting(async () => { await drafts.getPostItemAnalytics(DRAFT); await drafts.getPostItemAnalytics(DRAFT); });
  await sleep(300);
  n += await counting(() => drafts.getPostItemAnalytics(DRAFT));
  check('null metrics: kept briefly (at most 60 s, here maxAgeMs 200 ms), then asked again', n === 2, n);

  n = await counting(async () => {
    for (let i = 0; i < 2; i++) await client.getPostItemAnalytics('does-not-exist').catch(() => {});
  });
  check('errors are never cached', n === 2, n);

  const reloadId = `gen-${tag}-reload`;
  n = await counting(async () => { await client.getPostItemAnalytics(reloadId); await client.getPostItemAnalytics(reloadId, { cache: 'reload' }); });
  const afterReload = await client.getPostItemAnalytics(reloadId);
  check("cache: 'reload' asks the network and stores the result", n === 2 && afterReload.cached === true, `${n} ${afterReload.cached}`);

  const noStoreId = `gen-${tag}-nostore`;
  n = await counting(async () => {
    const a = await client.getPostItemAnalytics(noStoreId, { cache: 'no-store' });
    const b = await client.getPostItemAnalytics(noStoreId);
    if (a.cached || b.cached) throw new Error('served from the cache');
  });
  check("cache: 'no-store' neither reads nor writes the cache", n === 2, n);
  let badMode;
  try { await client.getPostItemAnalytics('gen-x', { cache: 'force-cache' }); } catch (e) { badMode = e; }
  check('an unknown cache mode is an InvalidArgumentError', badMode instanceof pp.InvalidArgumentError && /'default', 'no-store' or 'reload'/.test(badMode.message), badMode && badMode.message);

  const small = new pp.PowerPost({ ...auth, cache: { maxEntries: 2 } });
  const [a, b, c] = ['a', 'b', 'c'].map((x) => `gen-${tag}-lru-${x}`);
  await small.getPostItemAnalytics(a); await small.getPostItemAnalytics(b);
  await small.getPostItemAnalytics(a); // a is now the most recently used
  await small.getPostItemAnalytics(c); // evicts b
  n = await counting(async () => { await small.getPostItemAnalytics(a); await small.getPostItemAnalytics(c); });
  const m2 = await counting(() => small.getPostItemAnalytics(b));
  check('bounded: the least recently used entry goes first', n === 0 && m2 === 1, `${n} ${m2}`);

  await sleep(Math.max(0, WINDOW + 300 - (Date.now() - t0)));
  const snapLater = await counting(() => snapshot.getPostItemAnalytics(snapId));
  check('expiry by fetched_at: past maxAgeMs but before fetched_at + snapshotIntervalMs still cached, after it asked again',
    snapEarly < WINDOW - 200 && snapFirst === 1 && snapLater === 1,
    snapEarly < WINDOW - 200 ? `requests: ${snapFirst} for the two lookups inside the window, ${snapLater} after it`
      : `cannot tell: the first two lookups took ${snapEarly} ms, longer than the ${WINDOW} ms window (less 200 ms of margin)`);

  // The age rule again, with the entries in a store: read back from it, an entry's age is
  // computed again, and a stale one is a miss there too.
  const byAgeStored = new pp.PowerPost({ ...auth, cache: { maxAgeMs: 150, snapshotIntervalMs: 0, store: store() } });
  const storedAgeId = `gen-${tag}-age-store`;
  const lookedUp = [];
  n = await counting(async () => { for (let i = 0; i < 2; i++) lookedUp.push(await byAgeStored.getPostItemAnalytics(storedAgeId)); });
  await sleep(250);
  n += await counting(async () => { lookedUp.push(await byAgeStored.getPostItemAnalytics(storedAgeId)); });
  check('expiry by maxAgeMs with cache: { store }: served from the store, then asked again after maxAgeMs',
    n === 2 && lookedUp.map((r) => r.cached).join() === ',true,', `${n} requests; cached: ${lookedUp.map((r) => r.cached).join()}`);

  // --- In flight, batches, clearCache ----------------------------------------------------------
  const flightId = `gen-${tag}-flight`;
  let views;
  n = await counting(async () => {
    const all = await Promise.all(Array.from({ length: 5 }, () => client.getPostItemAnalytics(flightId)));
    views = new Set(all.map((r) => r.metrics.views)).size;
  });
  check('concurrent lookups of the same id share one request', n === 1 && views === 1, n);
  const cachedId = `gen-${tag}-mark`;
  const freshId = `gen-${tag}-batch-new`;
  let rows;
  n = await counting(async () => { rows = await client.getPostItemAnalyticsBatch([cachedId, freshId, cachedId]); });
  check('a batch asks the network only for the ids not in the cache', n === 1 && rows[0].analytics.cached === true && rows[1].analytics.cached === undefined, `${n}`);
  await client.clearCache();
  n = await counting(() => client.getPostItemAnalytics(cachedId));
  check('clearCache() empties it', n === 1, n);

  // --- A shared store: isolation, and no key in it ---------------------------------------------
  const shared = store();
  const one = new pp.PowerPost({ ...auth, cache: { store: shared } });
  const isoId = `gen-${tag}-iso`;
  await one.getPostItemAnalytics(isoId);
  const again = await new pp.PowerPost({ ...auth, cache: { store: shared } }).getPostItemAnalytics(isoId);
  check('a store shares entries between clients of the same base URL, workspace and key', again.cached === true, again.cached);
  const otherWs = await new pp.PowerPost({ ...auth, workspaceId: 'ws_someone_else', cache: { store: shared } }).getPostItemAnalytics(isoId).catch((e) => e);
  check('… never across workspaces', otherWs instanceof pp.PermissionDeniedError || otherWs instanceof pp.NotFoundError, otherWs && (otherWs.name || otherWs.cached));
  const otherKey = await new pp.PowerPost({ ...auth, apiKey: 'pp_test_sk_another_key', cache: { store: shared } }).getPostItemAnalytics(isoId).catch((e) => e);
  check('… never across API keys', otherKey instanceof pp.AuthenticationError, otherKey && (otherKey.name || otherKey.cached));
  const otherBase = await new pp.PowerPost({ ...auth, baseUrl: baseUrl.replace('127.0.0.1', 'localhost'), cache: { store: shared } }).getPostItemAnalytics(isoId);
  check('… never across base URLs', otherBase.cached === undefined, otherBase.cached);
  const dump = JSON.stringify(await shared.dump());
  check('the store holds no key, not even as a cache key', dump.length > 100 && !dump.includes('pp_test_sk_local_dev') && !dump.includes('pp_test_sk_another_key'), dump.slice(0, 200));
  await one.clearCache();
  const cleared = await new pp.PowerPost({ ...auth, cache: { store: shared } }).getPostItemAnalytics(isoId);
  check("clearCache() deletes what the client wrote to its store", cleared.cached === undefined, cleared.cached);
  // A store that never answers costs a miss, not a lookup that never ends.
  const never = { get: () => new Promise(() => {}), set: () => new Promise(() => {}), delete: () => new Promise(() => {}) };
  const stuck = new pp.PowerPost({ ...auth, cache: { store: never } });
  const started = Date.now();
  const answered = await Promise.race([stuck.getPostItemAnalytics(`gen-${tag}-stuck`).then((r) => r.metrics.views, (e) => e),
    sleep(8000).then(() => 'hung')]);
  const again2 = await Promise.race([stuck.getPostItemAnalytics(`gen-${tag}-stuck`).then((r) => r.metrics.views, (e) => e), sleep(8000).then(() => 'hung')]);
  check('a store whose get and set never settle: lookups still answer (from the network)', typeof answered === 'number' && typeof again2 === 'number' && Date.now() - started < 8000, `${answered} ${again2}`);
  let badStore;
  try { new pp.PowerPost({ ...auth, cache: { store: {} } }); } catch (e) { badStore = e; }
  check('a store without get/set/delete is an InvalidArgumentError', badStore instanceof pp.InvalidArgumentError, badStore && badStore.message);
  let oneOff;
  try { await pp.getPostItemAnalytics('gen-x', { ...auth, cache: true }); } catch (e) { oneOff = e; }
  check('the one-off function refuses cache, saying to keep a client', oneOff instanceof pp.InvalidArgumentError && /new PowerPost\(\{ cache: true \}\)/.test(oneOff.message), oneOff && oneOff.message);
  return results;
}

/** An async in-memory store, as a KV namespace behaves (values are strings). */
export function memoryStore() {
  const map = new Map();
  return {
    async get(key) { return map.get(key); },
    async set(key, value) { map.set(key, value); },
    async delete(key) { map.delete(key); },
    async dump() { return [...map]; },
  };
}
