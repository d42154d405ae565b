// The bench's contender for the proxy (issue #29, item 9): what a developer would write instead of
// powerpost-analytics/proxy, as a Fetch-API handler for the same toNodeListener. It does the same
// job for a lookup: the method and path checks (the id once decoded: no `/`, `\`, `%`, control
// characters, `.` or `..`, at most 256 characters), fetch with the key and a timeout, JSON.parse,
// zod, the same headers passed on, Cache-Control from the snapshot rule, the API's error envelope.
// No queue, caller limit, pause or in-flight sharing: the guards are what the proxy adds.
import { analyticsSchema, errorSchema } from './zod-schema.mjs';

const PATH = /^\/api\/v1\/post-items\/([^/]+)\/analytics$/;
const PASSED = ['x-request-id', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'retry-after'];
const DAY_MS = 86_400_000;

/** `(request) => Promise<Response>` mounted at `basePath`, upstream and key from `env`. */
export function createHandwrittenHandler({ basePath, env = process.env, timeoutMs = 30_000 }) {
  const key = env.POWERPOST_API_KEY;
  const workspace = env.POWERPOST_WORKSPACE_ID;
  const upstream = (env.POWERPOST_BASE_URL ?? 'https://powerpost.ai').replace(/\/$/, '');
  const answer = (status, body, headers = {}) => new Response(JSON.stringify(body), {
    status, headers: { 'content-type': 'application/json; charset=utf-8', 'x-content-type-options': 'nosniff', 'cache-control': 'no-store', ...headers },
  });
  const refuse = (status, code, message, headers) => answer(status, { error: { message, code } }, headers);
  return async function handwrittenProxy(request) {
    if (request.method !== 'GET' && request.method !== 'HEAD') return refuse(405, 'METHOD_NOT_ALLOWED', 'Method not allowed.', { allow: 'GET, HEAD' });
    const { pathname } = new URL(request.url);
    const match = pathname.startsWith(basePath) ? PATH.exec(pathname.slice(basePath.length)) : null;
    let id;
    try {
      id = match && decodeURIComponent(match[1]);
    } catch {
      id = null;
    }
    // eslint-disable-next-line no-control-regex
    if (!id || id.length > 256 || id === '.' || id === '..' || /[/\\%\u0000-\u001f\u007f]/.test(id)) return refuse(404, 'NOT_FOUND', 'Not found.');
    let res;
    try {
      res = await fetch(`${upstream}/api/v1/post-items/${encodeURIComponent(id)}/analytics`, {
        headers: { 'x-api-key': key, 'x-workspace-id': workspace, accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      return e?.name === 'TimeoutError' ? refuse(504, 'UPSTREAM_TIMEOUT', 'PowerPost did not answer in time.') : refuse(502, 'UPSTREAM_UNAVAILABLE', 'PowerPost is unreachable.');
    }
    const passed = {};
    for (const name of PASSED) {
      const value = res.headers.get(name);
      if (value !== null) passed[name] = value;
    }
    let body;
    try {
      body = JSON.parse(await res.text());
    } catch {
      return refuse(502, 'INVALID_RESPONSE', 'PowerPost sent a body that is not JSON.', passed);
    }
    const checked = (res.ok ? analyticsSchema : errorSchema).safeParse(body);
    if (!checked.success) return refuse(502, 'INVALID_RESPONSE', 'PowerPost sent an unexpected body.', passed);
    if (!res.ok) return answer(res.status, checked.data, passed);
    // The snapshot rule: fresh until a day after fetched_at (at most a day; a minute without metrics).
    const fetched = checked.data.metrics && Date.parse(checked.data.metrics.fetched_at);
    const maxAge = fetched ? Math.max(0, Math.min(DAY_MS, fetched + DAY_MS - Date.now())) / 1000 : 60;
    return answer(200, checked.data, { ...passed, 'cache-control': `private, max-age=${Math.floor(maxAge)}` });
  };
}
