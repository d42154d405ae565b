// Compiled with `tsc --strict --noEmit` against the installed package, beside types-test.ts:
// the proxy entry's declarations (node16 ESM and CommonJS, bundler).
import {
  createProxyHandler, toNodeListener, isPowerPostError, InvalidArgumentError,
  type ProxyOptions, type ProxyHandler,
} from 'powerpost-analytics/proxy';

const store = { get: async (_k: string) => null, set: async (_k: string, _v: string) => {}, delete: async (_k: string) => {},
  add: async (_k: string, _v: string) => true };
const options: ProxyOptions = {
  basePath: '/api/powerpost', authorize: (request: Request) => request.headers.has('cookie'), allowedOrigins: ['https://app.example'],
  apiKey: 'k', workspaceId: 'w', baseUrl: 'https://powerpost.ai', timeoutMs: 10_000, maxRetries: 1, logLevel: 'info', cache: { store },
};
const handler: ProxyHandler = createProxyHandler(options);
const answered: Promise<Response> = handler(new Request('http://localhost/api/powerpost/api/v1/post-items/x/analytics'));
const withEnv: Promise<Response> = handler(new Request('http://localhost/'), { POWERPOST_API_KEY: 'k' });
const open: ProxyHandler = createProxyHandler({ allowAnonymous: true, authorize: async () => true });
const listener = toNodeListener(handler);
void answered; void withEnv; void open; void listener;

try {
  createProxyHandler({});
} catch (e) {
  if (e instanceof InvalidArgumentError && isPowerPostError(e)) {
    const kind: string = e.kind;
    void kind;
  }
}

// Wrong calls do not compile.
// @ts-expect-error authorize answers a boolean
createProxyHandler({ authorize: () => 'yes' });
// @ts-expect-error a browser-only option
createProxyHandler({ dangerouslyAllowBrowser: true });
// @ts-expect-error origins are a list
createProxyHandler({ allowedOrigins: 'https://app.example' });
// @ts-expect-error the handler takes a Request
handler('http://localhost/');

// The upstream guard's options (#29).
const guarded: ProxyHandler = createProxyHandler({ allowAnonymous: true, maxConcurrentUpstream: 4, maxQueue: 0, cacheNotFoundMs: 0 });
const limited: ProxyHandler = createProxyHandler({ allowAnonymous: true, callerLimit: { perMinute: 30, key: (r: Request) => r.headers.get('x-user') } });
const unlimited: ProxyHandler = createProxyHandler({ allowAnonymous: true, callerLimit: false });
void guarded; void limited; void unlimited;
// @ts-expect-error false or a limit, not true
createProxyHandler({ allowAnonymous: true, callerLimit: true });
// @ts-expect-error a count, not a string
createProxyHandler({ allowAnonymous: true, maxQueue: '8' });
