// Compiled with `tsc --strict --noEmit` against the installed package (node16 and bundler
// resolution). Every `@ts-expect-error` line must fail to compile, or tsc reports it unused.
import {
  PowerPost, getPostItemAnalytics, parsePostItemAnalytics, isPowerPostError,
  PowerPostError, NotFoundError, RateLimitError, InvalidResponseError, ConnectionError, TimeoutError, ApiError, WasmLoadError,
  type PostItemAnalytics, type Metrics, type RateLimit, type BatchResult, type ClientOptions,
} from 'powerpost-analytics';
import { init } from 'powerpost-analytics/slim';

const client = new PowerPost({ apiKey: 'k', workspaceId: 'w', baseUrl: 'http://127.0.0.1:1', timeoutMs: 1, maxRetries: 0, maxRetryWaitMs: 0 });
const p: Promise<PostItemAnalytics> = client.getPostItemAnalytics('id', { signal: new AbortController().signal, timeoutMs: 5 });
const q: Promise<PostItemAnalytics> = getPostItemAnalytics('id', { apiKey: 'k', signal: undefined });
const rl: RateLimit | null = client.rateLimit;
const batch: Promise<BatchResult[]> = client.getPostItemAnalyticsBatch(['a', 'b'], { concurrency: 2 });
const ready: Promise<void> = init();
void p; void q; void rl; void ready;
// OpenTelemetry providers, typed structurally (no dependency on @opentelemetry/api's types).
new PowerPost({ tracerProvider: { getTracer: () => ({}) }, meterProvider: { getMeter: (name: string) => ({ name }) } });
// @ts-expect-error a tracer provider has getTracer()
new PowerPost({ tracerProvider: {} });

async function use(): Promise<number> {
  const a = await client.getPostItemAnalytics('x');
  const m: Metrics | null = a.metrics;
  const status: string = a.status;
  void status;
  for (const r of await batch) {
    if (r.ok) {
      const v: number = r.analytics.post_item_id.length;
      void v;
    } else {
      const e: PowerPostError = r.error;
      void e;
    }
  }
  return m ? m.views + m.likes + m.comments + m.fetched_at.length : 0;
}
void use;

try {
  parsePostItemAnalytics({}, 'x');
} catch (e) {
  if (e instanceof NotFoundError) {
    const s: number = e.status;
    const c: string | undefined = e.code;
    const id: string | undefined = e.requestId;
    void s; void c; void id;
  }
  if (e instanceof RateLimitError) {
    const w: number | undefined = e.retryAfterMs;
    void w;
  }
  if (e instanceof InvalidResponseError) {
    const path: string = e.path;
    const received: string = e.received;
    void path; void received;
  }
  if (e instanceof WasmLoadError) {
    const kind: 'wasm_load' = e.kind;
    const url: string | undefined = e.url;
    const status: number | undefined = e.status;
    void kind; void url; void status;
  }
  if (e instanceof TimeoutError) {
    const c: ConnectionError = e;
    void c;
  }
  if (isPowerPostError(e)) {
    const k: 'invalid_argument' | 'connection' | 'timeout' | 'aborted' | 'invalid_response' | 'api' | 'bad_request'
      | 'authentication' | 'permission_denied' | 'not_found' | 'rate_limit' | 'server' | 'store' | 'wasm_load' = e.kind;
    const retry: boolean = e.retryable;
    const attempts: number = e.attempts;
    void k; void retry; void attempts;
  }
  const api: ApiError | undefined = e instanceof ApiError ? e : undefined;
  void api;
}

// Wrong calls do not compile.
// @ts-expect-error the id is a string
client.getPostItemAnalytics(42);
// @ts-expect-error unknown option
new PowerPost({ apikey: 'k' });
// @ts-expect-error timeoutMs is a number
new PowerPost({ timeoutMs: '5' });
// @ts-expect-error rateLimit is read-only
client.rateLimit = null;
// @ts-expect-error metrics may be null
function bad(a: PostItemAnalytics): number { return a.metrics.views; }
void bad;
// @ts-expect-error no any in results: a wrong field
function wrongField(a: PostItemAnalytics): string { return a.postItemId; }
void wrongField;
const opts: ClientOptions = {};
void opts;

// Snapshot history (#28).
import { StoreError, type PostItemHistory, type HistoryStore, type RecordSummary, type Snapshot, type Gain, type Gap } from 'powerpost-analytics';
const mine: HistoryStore = { append: async () => true, list: () => [], get: () => null, set: () => undefined };
const recording = new PowerPost({ history: { store: mine, snapshotIntervalMs: 1000, maxPending: 10 } });
const memoryOnly = new PowerPost({ history: true });
async function growth(): Promise<number> {
  const h: PostItemHistory = await recording.getPostItemHistory('id');
  const first: Snapshot | undefined = h.snapshots[0];
  const gain: Gain | undefined = h.gains[0];
  const gap: Gap | undefined = h.gaps[0];
  const done: boolean = h.complete;
  const s: RecordSummary = await memoryOnly.recordSnapshots(['a', 'b'], { signal: new AbortController().signal, concurrency: 2 });
  const failed: PowerPostError | undefined = s.errors[0]?.error;
  void failed; void done;
  return (first?.views ?? 0) + (gain?.views ?? 0) + (gap?.expected_at.length ?? 0) + s.recorded + s.pending + s.lookedUp.length + s.skipped.length;
}
void growth;
// @ts-expect-error a store needs append, list, get and set
new PowerPost({ history: { store: { get: () => null, set: () => undefined } } });
// @ts-expect-error recordSnapshots takes an array of ids
void memoryOnly.recordSnapshots('a');
// @ts-expect-error history is true or an object
new PowerPost({ history: 'yes' });
try { void 0; } catch (e) {
  if (e instanceof StoreError) {
    const k: 'store' = e.kind;
    void k;
  }
}

// The data types generated from the Rust types (#33) are exported by name, from ESM and CommonJS.
import type { ErrorEnvelope, ErrorKind, PostStatus, RecordError } from 'powerpost-analytics';
const envelope: ErrorEnvelope = { error: { message: 'Post item not found', code: 'NOT_FOUND' } };
const crateKind: ErrorKind = 'not_found';
const laterStatus: PostStatus = 'archived';
const recordError: RecordError | undefined = undefined;
void envelope; void crateKind; void laterStatus; void recordError;
// @ts-expect-error retryAfter is a number of seconds
const badEnvelope: ErrorEnvelope = { error: { message: 'm', code: 'X' }, retryAfter: '1' };
void badEnvelope;
// @ts-expect-error 'wasm_load' is the JS side's own kind, not the crate's
const notCrateKind: ErrorKind = 'wasm_load';
void notCrateKind;
