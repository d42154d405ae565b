// Values match types at run time (issue #33): every data type the package returns, and every
// error class's fields, taken from the real wasm (serde-wasm-bindgen with the package's own
// serializer settings, and src/js.rs's own objects) against the dev server, written out as
// TypeScript literals exactly as they are (a property that is absent is left out, one that is
// `undefined` is written `undefined`, non-enumerable ones included) and compiled against the
// package's declarations with `strict` and `exactOptionalPropertyTypes`, under node16 (ESM and
// CommonJS) and bundler resolution. So `null` vs `undefined` vs absent is pinned for every
// optional field: `x?: T` refuses a present `undefined` and a `null`, `x: T | null` refuses an
// absent field, and an undeclared field is an excess property. tsc alone cannot see this.
// Registered by package.test.mjs, which owns the package.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from './proxy.mjs';

/** Runs in the consumer project with the installed package: prints the TypeScript file's body. */
const COLLECT = String.raw`
import * as pp from 'powerpost-analytics';
import { init } from 'powerpost-analytics/slim';

const api = process.env.API;
const KEY = 'pp_test_sk_local_dev';
const WS = 'ws_local_dev';
const REEL = '550e8400-e29b-41d4-a716-446655440000';
const DRAFT = '1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a';
const quiet = { error() {}, warn() {}, info() {}, debug() {} };
const options = { apiKey: KEY, workspaceId: WS, baseUrl: api, maxRetries: 0, logger: quiet };
const samples = [];
const seenErrors = new Set();

/** A value as a TypeScript expression: own properties only, as they are. */
function literal(v) {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (['string', 'number', 'boolean'].includes(typeof v)) return JSON.stringify(v);
  if (Array.isArray(v)) return '[' + v.map(literal).join(', ') + ']';
  if (v instanceof Error) {
    // An error inside a result is checked as its own sample; here it stands as one of the package's.
    if (!pp.isPowerPostError(v)) throw new Error('not an error of the package: ' + v);
    error('nested in a result', v);
    return 'anError';
  }
  if (typeof v === 'object') {
    return '{ ' + Object.getOwnPropertyNames(v).map((k) => JSON.stringify(k) + ': ' + literal(v[k])).join(', ') + ' }';
  }
  throw new Error('a ' + typeof v + ' in a result');
}

function sample(type, label, value) {
  const text = literal(value); // first: the errors inside it are samples of their own
  samples.push('// ' + label + '\nexport const sample' + samples.length + ': ' + type + ' = ' + text + ';');
}

/** An error's own fields (not Error's own: message, stack, cause) against its class's declaration. */
function error(label, e) {
  if (seenErrors.has(e)) return;
  seenErrors.add(e);
  if (!pp.isPowerPostError(e)) throw new Error(label + ': not an error of the package: ' + (e && e.stack || e));
  const fields = {};
  for (const k of Object.getOwnPropertyNames(e)) if (!['message', 'stack', 'cause'].includes(k)) fields[k] = e[k];
  sample('Fields<' + e.name + '>', label + ' (' + e.name + ')', fields);
  if (e instanceof pp.ApiError && e.body !== null && typeof e.body === 'object') sample('ErrorEnvelope', label + ': its body', e.body);
}

async function rejection(label, promise) {
  try { await promise; } catch (e) { return error(label, e); }
  throw new Error(label + ': did not fail');
}

const client = new pp.PowerPost(options);
sample('RateLimit | null', 'rateLimit before any request', client.rateLimit);
sample('PostItemAnalytics', 'a posted item', await client.getPostItemAnalytics(REEL));
sample('RateLimit | null', 'rateLimit after a response', client.rateLimit);
sample('PostItemAnalytics', 'a draft (metrics null)', await client.getPostItemAnalytics(DRAFT));
sample('PostItemAnalytics', 'parsePostItemAnalytics', pp.parsePostItemAnalytics({ post_item_id: 'x', post_type: 't', platform: 'p',
  status: 'archived', metrics: { views: 1, likes: 2, comments: 3, fetched_at: '2026-01-01T00:00:00Z' } }));
const cached = new pp.PowerPost({ ...options, cache: true });
await cached.getPostItemAnalytics(REEL);
sample('PostItemAnalytics', 'served from the cache (cached: true)', await cached.getPostItemAnalytics(REEL));
sample('BatchResult[]', 'a batch with results and failures', await cached.getPostItemAnalyticsBatch([REEL, DRAFT, 'no-such-item', '']));

// History: a store that holds a series with a missing day (gains and gaps), and one that fails.
const texts = ['2026-04-01T09:00:00Z', '2026-04-02T09:00:00Z', '2026-04-04T09:00:00Z']
  .map((at, i) => JSON.stringify({ fetched_at: at, views: 100 - i, likes: i, comments: 0 }));
const records = new Map();
const store = { append: async () => true, list: async () => texts, get: async (k) => records.get(k) ?? null, set: async (k, v) => { records.set(k, v); } };
const recording = new pp.PowerPost({ ...options, history: { store } });
sample('PostItemHistory', 'a history with gains and a gap', await recording.getPostItemHistory(REEL));
sample('RecordSummary', 'a recording with an error', await recording.recordSnapshots([REEL, 'no-such-item', REEL]));
sample('RecordSummary', 'a recording that skips', await recording.recordSnapshots([REEL]));
const failing = { append: async () => true, list: () => { throw new Error('disk full'); }, get: () => null, set: () => undefined };
await rejection('a failing history store', new pp.PowerPost({ ...options, history: { store: failing } }).getPostItemHistory(REEL));

// Every error class, as the package makes it.
try { new pp.PowerPost({ timeoutMs: -1 }); throw new Error('accepted a negative timeout'); } catch (e) { error('a bad option', e); }
try { pp.parsePostItemAnalytics({ post_item_id: 5 }); throw new Error('parsed a bad value'); } catch (e) { error('parsePostItemAnalytics of a bad value', e); }
await rejection('a body of the wrong shape', client.getPostItemAnalytics('fault-wrong-shape'));
await rejection('a 404', client.getPostItemAnalytics('no-such-item'));
await rejection('a 429 with Retry-After', client.getPostItemAnalytics('fault-429'));
await rejection('a 500', client.getPostItemAnalytics('fault-500'));
await rejection('a 409', client.getPostItemAnalytics('fault-set-cookie-409'));
await rejection('a 401', new pp.PowerPost({ ...options, apiKey: 'pp_test_sk_wrong' }).getPostItemAnalytics(REEL));
await rejection('a 403', new pp.PowerPost({ ...options, workspaceId: 'ws_other' }).getPostItemAnalytics(REEL));
await rejection('a 400', new pp.PowerPost({ ...options, workspaceId: undefined }).getPostItemAnalytics(REEL));
await rejection('a redirect', client.getPostItemAnalytics('fault-redirect'));
await rejection('a refused connection', new pp.PowerPost({ ...options, baseUrl: process.env.CLOSED }).getPostItemAnalytics(REEL));
await rejection('a timeout', client.getPostItemAnalytics('fault-hang', { timeoutMs: 200 }));
await rejection('an abort', client.getPostItemAnalytics(REEL, { signal: AbortSignal.abort() }));
await rejection('bytes that are not the module', init(new Uint8Array([1, 2, 3])));
process.stdout.write(JSON.stringify(samples));
`;

const HEADER = `import type {
  PostItemAnalytics, RateLimit, BatchResult, PostItemHistory, RecordSummary, ErrorEnvelope,
  PowerPostError, InvalidArgumentError, ConnectionError, TimeoutError, RequestAbortedError, InvalidResponseError, ApiError,
  BadRequestError, AuthenticationError, PermissionDeniedError, NotFoundError, RateLimitError, ServerError, StoreError, WasmLoadError,
} from 'powerpost-analytics';

/** An error's own fields as declared: its class's properties less Error's (message, stack, cause, name). */
type Fields<E> = { [K in keyof E as K extends keyof Error ? never : K]: E[K] };
declare const anError: PowerPostError;
// Every class is used, so that an unused import is not what fails.
export type AllClasses = [InvalidArgumentError, ConnectionError, TimeoutError, RequestAbortedError, InvalidResponseError, ApiError,
  BadRequestError, AuthenticationError, PermissionDeniedError, NotFoundError, RateLimitError, ServerError, StoreError, WasmLoadError];
`;

export function registerTypesRuntimeTests(test, ctx) {
  test('Types at run time: every value the wasm returns (null, undefined, absent) matches the declarations (tsc, exactOptionalPropertyTypes; node16 ESM and CommonJS, bundler)', async () => {
    const { project, root, sh, runScript, api } = ctx;
    const closed = `http://127.0.0.1:${await freePort()}`;
    const collect = path.join(project, 'types-runtime-collect.mjs');
    fs.writeFileSync(collect, COLLECT);
    const samples = JSON.parse(await runScript(process.execPath, collect, { env: { API: api.url, CLOSED: closed } }));
    // Every kind of value made it: the results, the history, and one error of each class.
    const classes = ['InvalidArgumentError', 'ConnectionError', 'TimeoutError', 'RequestAbortedError', 'InvalidResponseError', 'ApiError',
      'BadRequestError', 'AuthenticationError', 'PermissionDeniedError', 'NotFoundError', 'RateLimitError', 'ServerError', 'StoreError', 'WasmLoadError'];
    for (const type of ['PostItemAnalytics', 'BatchResult[]', 'PostItemHistory', 'RecordSummary', 'RateLimit | null', 'ErrorEnvelope', ...classes.map((c) => `Fields<${c}>`)]) {
      assert.ok(samples.some((s) => s.includes(`: ${type} = `)), `a value of ${type} was checked`);
    }
    const body = HEADER + '\n' + samples.join('\n') + '\n';
    for (const ext of ['mts', 'cts', 'ts']) fs.writeFileSync(path.join(project, 'src', `types-runtime.${ext}`), body);
    for (const [mod, res, files] of [['node16', 'node16', ['src/types-runtime.mts', 'src/types-runtime.cts']], ['esnext', 'bundler', ['src/types-runtime.ts']]]) {
      const tsconfig = path.join(project, `tsconfig.runtime-${res}.json`);
      fs.writeFileSync(tsconfig, JSON.stringify({
        compilerOptions: { strict: true, exactOptionalPropertyTypes: true, noEmit: true, module: mod, moduleResolution: res, target: 'es2022',
          lib: ['es2022', 'dom'], types: [], skipLibCheck: false },
        files,
      }));
      try {
        sh(path.join(root, 'node_modules', '.bin', 'tsc'), ['-p', tsconfig], { cwd: project });
      } catch (e) {
        const numbered = body.split('\n').map((l, i) => `${String(i + 1).padStart(4)}  ${l}`).join('\n');
        assert.fail(`values the package returned do not match its declarations (${res}):\n${e.stdout}${e.stderr}\n${numbered}`);
      }
    }
    // The states that tell null, undefined and absent apart were among them.
    for (const state of ['"metrics": null', '"cached": true', '"postItemId": undefined', '"retryAfter": 1']) {
      assert.ok(body.includes(state), `a value with ${state} was checked`);
    }
    assert.ok(samples.some((s) => s.includes(': Fields<ApiError> = ') && !s.includes('"code"')), 'an ApiError without a code was checked');
  });
}
