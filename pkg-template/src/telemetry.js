// Observability for the Node entry and the proxy: OpenTelemetry spans and metrics, and the
// `powerpost-analytics:lookup` diagnostics_channel TracingChannel. The crate reports what happens
// in a lookup (src/observe.rs: one observer, its events); this file only turns those events into
// spans, metrics and channel messages.
//
// Nothing is loaded when nobody asks: `@opentelemetry/api` (an optional peer dependency) is
// imported only when a `tracerProvider` or `meterProvider` option is given or an OpenTelemetry
// API has registered its global object; the channel costs a `hasSubscribers` read. Otherwise a
// call goes straight to the wasm, as in the browser entries (which do not include this file).

/** Where a call's observer travels to the wasm (src/js.rs reads it). */
const OBSERVER = Symbol.for('powerpost-analytics/observer');
/** The global object every `@opentelemetry/api` copy registers (its `trace`, `metrics`, …). */
const OTEL_GLOBAL = Symbol.for('opentelemetry.js.api.1');
/** The instrumentation scope of our spans and metrics. */
const SCOPE = 'powerpost-analytics';
const CHANNEL = 'powerpost-analytics:lookup';
// A variable, not a literal: bundlers leave the import alone (the package is optional).
const API_MODULE = '@opentelemetry/api';
/** OpenTelemetry's recommended buckets for HTTP durations, in seconds. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
// W3C trace context: version 00 exactly; a later version's first four fields (never `ff`).
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
/** The methods the HTTP conventions name; any other is `_OTHER` (callers cannot make span names). */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);
/** Instruments and the last rate limit, once per MeterProvider (instances and one-off calls share them). */
const meters = new WeakMap();

let api; // undefined: not tried; null: not installed; else the module
let apiLoading;
let channel; // undefined: not looked up; null: none in this runtime

/** `@opentelemetry/api`, imported once; null when it is not installed. */
function loadApi() {
  if (api !== undefined) return api;
  apiLoading ??= import(/* webpackIgnore: true */ /* @vite-ignore */ API_MODULE).then(
    (m) => (api = m.trace ? m : (m.default?.trace ? m.default : null)),
    () => (api = null),
  );
  return apiLoading;
}

/** The TracingChannel, where the runtime has `diagnostics_channel` (Node, Bun, Deno). */
function lookupChannel() {
  if (channel === undefined) {
    channel = null;
    try {
      const dc = globalThis.process?.getBuiltinModule?.('node:diagnostics_channel');
      if (typeof dc?.tracingChannel === 'function') channel = dc.tracingChannel(CHANNEL);
    } catch {
      // No channel here: nothing to publish to.
    }
  }
  return channel;
}

function channelOn() {
  const c = lookupChannel();
  if (!c) return null;
  const on = c.hasSubscribers ?? ['start', 'end', 'asyncStart', 'asyncEnd', 'error'].some((n) => c[n].hasSubscribers);
  return on ? c : null;
}

/**
 * Splits the telemetry options (`tracerProvider`, `meterProvider`) off a client's or proxy's
 * options: `[the rest, the telemetry state]`. Anything that is not an options object is passed on
 * unchanged for the wasm to refuse.
 */
export function telemetryOptions(options, createError) {
  const state = { tracerProvider: undefined, meterProvider: undefined };
  if (options === null || typeof options !== 'object') return [options, state];
  let tracerProvider;
  let meterProvider;
  let rest;
  try {
    if (!('tracerProvider' in options) && !('meterProvider' in options)) return [options, state];
    ({ tracerProvider, meterProvider, ...rest } = options);
  } catch {
    // Options that throw when read (a hostile Proxy, a getter): the wasm reads them again and
    // reports that as the typed error it makes of any option it cannot read.
    return [options, state];
  }
  for (const [name, value, method] of [['tracerProvider', tracerProvider, 'getTracer'], ['meterProvider', meterProvider, 'getMeter']]) {
    if (value === undefined) continue;
    if (value === null || typeof value[method] !== 'function') {
      throw createError('invalid_argument', `Option \`${name}\` must be an OpenTelemetry ${name === 'tracerProvider' ? 'TracerProvider' : 'MeterProvider'} (an object with ${method}()), got ${value === null ? 'null' : typeof value}.`, {});
    }
  }
  state.tracerProvider = tracerProvider;
  state.meterProvider = meterProvider;
  return [rest, state];
}

/** Whether OpenTelemetry is asked for: a provider given, or an API registered globally. */
function otelWanted(state) {
  return state.tracerProvider !== undefined || state.meterProvider !== undefined || globalThis[OTEL_GLOBAL] !== undefined;
}

/** Whether a call must be observed; the API loaded when OpenTelemetry is wanted. */
function wanted(state) {
  return otelWanted(state) || channelOn() !== null;
}

/** What a call is observed with: the API (or null) and the channel (or null). */
async function tools(state) {
  const otel = otelWanted(state) ? await loadApi() : null;
  return { otel, ch: channelOn() };
}

function tracerOf(state, otel) {
  return (state.tracerProvider ?? otel.trace.getTracerProvider()).getTracer(SCOPE);
}

/**
 * The instruments of a MeterProvider, made once for it (a gauge callback per client would pile
 * up in the provider): shared by every client and proxy using it, with the last rate limit seen.
 */
function instrumentsOf(state, otel) {
  const provider = state.meterProvider ?? otel.metrics.getMeterProvider();
  let m = meters.get(provider);
  if (m) return m;
  const meter = provider.getMeter(SCOPE);
  const advice = { explicitBucketBoundaries: DURATION_BUCKETS };
  m = {
    remaining: undefined,
    duration: meter.createHistogram('http.client.request.duration', { description: 'Duration of HTTP client requests.', unit: 's', advice }),
    lookups: meter.createCounter('powerpost.client.lookups', { description: 'Lookups, by how the cache served them.', unit: '{lookup}' }),
    requests: meter.createCounter('powerpost.client.requests', { description: 'HTTP requests sent to the API (each attempt).', unit: '{request}' }),
    server: meter.createHistogram('http.server.request.duration', { description: 'Duration of HTTP server requests (the proxy).', unit: 's', advice }),
  };
  const gauge = meter.createObservableGauge('powerpost.rate_limit.remaining', {
    description: 'Requests left in the API key\'s rate-limit window, as the last response said (X-RateLimit-Remaining).',
    unit: '{request}',
  });
  const last = m;
  gauge.addCallback((result) => {
    if (last.remaining) result.observe(last.remaining.value, last.remaining.attributes);
  });
  meters.set(provider, m);
  return m;
}

/** Attributes without the unset ones. */
function attrs(o) {
  const out = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== null) out[k] = v;
  return out;
}

/** The W3C trace context of a span, as header pairs (none for an invalid span context). */
function traceHeaders(otel, span) {
  const sc = span?.spanContext();
  if (!sc || !otel.isSpanContextValid(sc)) return [];
  const flags = (sc.traceFlags & 0xff).toString(16).padStart(2, '0');
  const out = [['traceparent', `00-${sc.traceId}-${sc.spanId}-${flags}`]];
  const state = sc.traceState?.serialize();
  if (state) out.push(['tracestate', state]);
  return out;
}

/**
 * The observer the wasm calls for one call's lookups (src/js.rs `JsObserver`): spans under
 * `parent`, metrics, and TracingChannel messages. `onRoute` receives a proxy's route.
 */
function observer(state, { otel, ch }, parent, { onRoute, single } = {}) {
  const lookups = new Map();
  const tracer = otel && tracerOf(state, otel);
  const m = otel && instrumentsOf(state, otel);
  const handle = (e) => {
    if (e.type === 'route') return onRoute?.(e.route);
    if (e.type === 'lookup_start') {
      const rec = { id: e.post_item_id, attempts: 0, status: undefined, cache: undefined, server: attrs({ 'server.address': e.server_address, 'server.port': e.server_port }) };
      if (tracer) {
        rec.span = tracer.startSpan(`GET ${e.url_template}`, {
          kind: otel.SpanKind.CLIENT,
          attributes: attrs({ 'http.request.method': 'GET', ...rec.server, 'url.full': e.url_full, 'url.template': e.url_template, 'powerpost.post_item_id': e.post_item_id }),
        }, parent);
      }
      // A single call's context is published by tracePromise around the call itself.
      if (ch && !single) {
        rec.ctx = { postItemId: e.post_item_id };
        ch.start.publish(rec.ctx);
        ch.end.publish(rec.ctx);
      } else if (single) {
        rec.ctx = single;
      }
      lookups.set(e.lookup, rec);
      return;
    }
    const rec = lookups.get(e.lookup);
    if (!rec) return;
    switch (e.type) {
      case 'cache':
        rec.cache = e.result;
        rec.span?.setAttribute('powerpost.cache', e.result);
        break;
      case 'attempt_start':
        rec.attempts = e.attempt;
        if (e.attempt > 1) rec.span?.addEvent('powerpost.retry', { 'http.request.resend_count': e.attempt - 1 });
        break;
      case 'attempt_end': {
        rec.status = e.status ?? undefined;
        const errorType = e.error_type ?? (e.status >= 400 ? String(e.status) : undefined);
        if (m) {
          const a = attrs({ 'http.request.method': 'GET', ...rec.server, 'http.response.status_code': e.status, 'error.type': errorType });
          m.duration.record(e.duration_ms / 1000, a);
          m.requests.add(1, a);
        }
        if (e.rate_limit) {
          if (m) m.remaining = { value: e.rate_limit.remaining, attributes: rec.server };
          rec.span?.setAttribute('powerpost.rate_limit.remaining', e.rate_limit.remaining);
        }
        break;
      }
      case 'wait':
        rec.span?.addEvent('powerpost.wait', { 'powerpost.wait.ms': e.ms, 'powerpost.wait.reason': e.reason, 'http.request.resend_count': e.attempt - 1 });
        break;
      case 'lookup_end': {
        const status = e.status ?? rec.status;
        if (rec.ctx) Object.assign(rec.ctx, attrs({ attempts: rec.attempts, status, cache: rec.cache, errorType: e.error_type }));
        // A lookup of a batch or of the proxy ends here (a single call's, when its promise settles).
        if (ch && !single && rec.ctx) {
          const error = e.error_type ? Object.assign(new Error(`${e.error_type}${status ? ` (HTTP ${status})` : ''}`), { name: e.error_type, status }) : undefined;
          settleChannel(ch, rec.ctx, error, undefined);
        }
        if (rec.span) {
          if (status !== undefined) rec.span.setAttribute('http.response.status_code', status);
          if (rec.attempts > 1) rec.span.setAttribute('http.request.resend_count', rec.attempts - 1);
          if (e.error_type) {
            rec.span.setAttribute('error.type', e.error_type);
            rec.span.setStatus({ code: otel.SpanStatusCode.ERROR });
          }
          rec.span.end();
        }
        m?.lookups.add(1, attrs({ 'powerpost.cache': rec.cache ?? 'none', 'error.type': e.error_type }));
        break;
      }
      default:
    }
  };
  return {
    lookups,
    event(e) {
      try {
        handle(e);
      } catch {
        // An exporter's or subscriber's exception must not break a lookup.
      }
    },
    headers(lookup) {
      return otel ? traceHeaders(otel, lookups.get(lookup)?.span) : [];
    },
  };
}

/** `options` with `observer` attached for the wasm (a copy; the caller's object is untouched). */
function withObserver(options, obs) {
  if (options === undefined) return { [OBSERVER]: obs };
  if (options === null || typeof options !== 'object') return options;
  return { ...options, [OBSERVER]: obs };
}

/** Ends a TracingChannel context the way `tracePromise` does, for lookups started in the wasm. */
function settleChannel(ch, ctx, error, result) {
  if (!ch || !ctx) return;
  if (error !== undefined) {
    ctx.error = error;
    ch.error.publish(ctx);
  } else {
    ctx.result = result;
  }
  ch.asyncStart.publish(ctx);
  ch.asyncEnd.publish(ctx);
}

/** One lookup, observed: `call(options)` is the wasm call. */
async function observeLookup(state, postItemId, options, call) {
  let t;
  let obs;
  let ctx;
  try {
    t = await tools(state);
    if (!t.otel && !t.ch) return call(options);
    ctx = t.ch ? { postItemId } : undefined;
    obs = observer(state, t, t.otel?.context.active(), { single: ctx });
  } catch {
    // A provider that throws (getTracer, getMeter): the lookup goes on, unobserved.
    return call(options);
  }
  if (ctx) return t.ch.tracePromise(() => call(withObserver(options, obs)), ctx);
  return call(withObserver(options, obs));
}

/** A call over many ids, observed: one parent span (`name`) over its lookups. */
async function observeMany(state, name, ids, options, call) {
  let t;
  let span;
  let obs;
  try {
    t = await tools(state);
    if (!t.otel && !t.ch) return call(options);
    let parent = t.otel?.context.active();
    if (t.otel) {
      span = tracerOf(state, t.otel).startSpan(name, {
        kind: t.otel.SpanKind.INTERNAL,
        attributes: { 'powerpost.batch.size': Array.isArray(ids) ? ids.length : 0 },
      }, parent);
      parent = t.otel.trace.setSpan(parent, span);
    }
    obs = observer(state, t, parent);
  } catch {
    quietly(() => span?.end());
    return call(options);
  }
  try {
    return await call(withObserver(options, obs));
  } catch (e) {
    quietly(() => {
      span?.setAttribute('error.type', e?.name ?? 'Error');
      span?.setStatus({ code: t.otel.SpanStatusCode.ERROR });
    });
    throw e;
  } finally {
    quietly(() => span?.end());
  }
}

/** Runs `f`, dropping what it throws: an exporter or subscriber must not change a call's outcome. */
function quietly(f) {
  try {
    f();
  } catch {
    // dropped
  }
}

/**
 * The Node entry's API: the shared one (api.js) with each lookup observed when asked for.
 * `createError` makes the package's typed errors.
 */
export function withTelemetry({ PowerPost: Base, getPostItemAnalytics: getOnce, parsePostItemAnalytics }, createError) {
  class PowerPost extends Base {
    #telemetry;
    constructor(options) {
      const [rest, state] = telemetryOptions(options, createError);
      super(rest);
      this.#telemetry = state;
    }
    getPostItemAnalytics(postItemId, options) {
      if (!wanted(this.#telemetry)) return super.getPostItemAnalytics(postItemId, options);
      return observeLookup(this.#telemetry, postItemId, options, (o) => super.getPostItemAnalytics(postItemId, o));
    }
    getPostItemAnalyticsBatch(postItemIds, options) {
      if (!wanted(this.#telemetry)) return super.getPostItemAnalyticsBatch(postItemIds, options);
      return observeMany(this.#telemetry, 'PowerPost getPostItemAnalyticsBatch', postItemIds, options,
        (o) => super.getPostItemAnalyticsBatch(postItemIds, o));
    }
    recordSnapshots(postItemIds, options) {
      if (!wanted(this.#telemetry)) return super.recordSnapshots(postItemIds, options);
      return observeMany(this.#telemetry, 'PowerPost recordSnapshots', postItemIds, options,
        (o) => super.recordSnapshots(postItemIds, o));
    }
  }

  function getPostItemAnalytics(postItemId, options) {
    let rest;
    let state;
    try {
      [rest, state] = telemetryOptions(options, createError);
    } catch (e) {
      return Promise.reject(e);
    }
    if (!wanted(state)) return getOnce(postItemId, rest);
    return observeLookup(state, postItemId, rest, (o) => getOnce(postItemId, o));
  }

  return { PowerPost, getPostItemAnalytics, parsePostItemAnalytics };
}

/** The remote parent of a proxied request: its W3C `traceparent` (and `tracestate`). */
function remoteParent(otel, headers) {
  const active = otel.context.active();
  // A framework that made its own server span already continued the caller's trace.
  if (otel.trace.getSpan(active)) return active;
  const match = TRACEPARENT.exec(headers.get('traceparent') ?? '');
  if (!match || match[1] === 'ff' || (match[1] === '00' && match[5] !== undefined) || /^0+$/.test(match[2]) || /^0+$/.test(match[3])) return active;
  const ts = headers.get('tracestate');
  return otel.trace.setSpanContext(active, {
    traceId: match[2],
    spanId: match[3],
    traceFlags: parseInt(match[4], 16) & 1,
    isRemote: true,
    traceState: ts && typeof otel.createTraceState === 'function' ? otel.createTraceState(ts) : undefined,
  });
}

/**
 * The proxy's requests, observed: a SERVER span continuing the caller's trace, its route and
 * status, `http.server.request.duration`, and the lookup as its child. `handle(observer)` is the
 * wasm call; without telemetry it is called with none.
 */
export async function observeRequest(state, request, handle) {
  if (!wanted(state)) return handle(undefined);
  let t;
  let server;
  let obs;
  let route;
  let scheme;
  const raw = request.method;
  const method = METHODS.has(raw) ? raw : '_OTHER';
  const started = performance.now();
  try {
    t = await tools(state);
    if (!t.otel && !t.ch) return handle(undefined);
    let parent;
    if (t.otel) {
      const url = new URL(request.url);
      scheme = url.protocol.replace(':', '');
      const remote = remoteParent(t.otel, request.headers);
      server = tracerOf(state, t.otel).startSpan(method, {
        kind: t.otel.SpanKind.SERVER,
        attributes: attrs({ 'http.request.method': method, 'http.request.method_original': method === raw ? undefined : raw,
          'url.scheme': scheme, 'url.path': url.pathname }),
      }, remote);
      parent = t.otel.trace.setSpan(remote, server);
    }
    obs = observer(state, t, parent, {
      onRoute(r) {
        route = r;
        server?.updateName(`${method} ${r}`);
        server?.setAttribute('http.route', r);
      },
    });
  } catch {
    quietly(() => server?.end());
    return handle(undefined);
  }
  let status;
  let errorType;
  try {
    const response = await handle(obs);
    status = response.status;
    if (status >= 500) errorType = String(status);
    return response;
  } catch (e) {
    errorType = e?.name ?? 'Error';
    throw e;
  } finally {
    quietly(() => {
      if (server) {
        if (status !== undefined) server.setAttribute('http.response.status_code', status);
        if (errorType) {
          server.setAttribute('error.type', errorType);
          server.setStatus({ code: t.otel.SpanStatusCode.ERROR });
        }
        server.end();
      }
      if (t.otel) {
        instrumentsOf(state, t.otel).server.record((performance.now() - started) / 1000, attrs({
          'http.request.method': method, 'url.scheme': scheme, 'http.route': route, 'http.response.status_code': status, 'error.type': errorType,
        }));
      }
    });
  }
}

export { wanted as telemetryWanted };
