// The proxies a test host mounts, shared by proxy-host.mjs (Node, Deno, Bun) and the workerd
// worker: `spec.mounts` maps a base path to options; `authorize: true` uses the app check below,
// and `cache: true` the given store (the README's Redis store) when there is one.

/** What a mistaken check returns: truthy, but not `true` (proxy-mends.mjs's rows). */
const NOT_BOOLEAN = { 'returns-no': () => 'no', 'returns-1': () => 1, 'returns-object': () => ({}), 'resolves-yes': async () => 'yes' };

/** The app's own check: a session header; `boom` makes it throw (the text must never reach a browser), `hang` never answers. */
export function authorize(request) {
  const session = request.headers.get('x-app-session');
  if (session === 'boom') throw new Error('authorize exploded: SECRET-THROW-TEXT');
  if (session === 'hang') return new Promise(() => {}); // never settles
  if (Object.hasOwn(NOT_BOOLEAN, session ?? '')) return NOT_BOOLEAN[session]();
  return session === 'ok';
}

/** One handler routing by path prefix, like a framework's catch-all routes; the first proxy gets the rest. */
export function mountProxies(createProxyHandler, spec, store) {
  const mounts = Object.entries(spec.mounts).map(([basePath, { authorize: useAuthorize, cache, ...options }]) => [
    basePath,
    createProxyHandler({ ...options, basePath, ...(useAuthorize ? { authorize } : {}), ...(cache ? { cache: store ? { store } : cache } : {}) }),
  ]);
  return (request, env) => {
    const path = new URL(request.url).pathname;
    const found = mounts.find(([base]) => path.startsWith(`${base}/`)) ?? mounts[0];
    return found[1](request, env);
  };
}
