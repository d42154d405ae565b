// The proxy's JavaScript API, shared by its entries: `createProxyHandler` wraps the wasm
// ProxyHandler (every rule lives in the crate), and `toNodeListener` adapts a Fetch-API handler
// to Node's `http` (and so Express), which has no `Request`.

import { createError } from '../../js/errors.js';
import { observeRequest, telemetryOptions, telemetryWanted } from './telemetry.js';

const ALLOW = Symbol.for('powerpost-analytics/proxy.allow');
// Where the Request built here carries the client's address, for the proxy's caller limit.
const CLIENT_ADDRESS = Symbol.for('powerpost-analytics/proxy.client-address');

export function makeProxyApi(load, ProxyHandler) {
  /** `(request, env?) => Promise<Response>`; `env` is a Cloudflare Worker's bindings. */
  function createProxyHandler(options) {
    load();
    // `tracerProvider` and `meterProvider` are read here (./telemetry.js), the rest in the wasm.
    const [rest, telemetry] = telemetryOptions(options, createError);
    const proxy = new ProxyHandler(rest);
    // Next.js passes a context object and Workers their `env` as the second argument; only a
    // Worker's POWERPOST_* bindings are read from it.
    function powerpostProxy(request, env) {
      if (!telemetryWanted(telemetry)) return proxy.handle(request, env);
      return observeRequest(telemetry, request, (observer) => proxy.handle(request, env, observer));
    }
    // What toNodeListener's own 405 (TRACE, CONNECT: no Request can carry them) lists in Allow.
    Object.defineProperty(powerpostProxy, ALLOW, { value: proxy.allow });
    return powerpostProxy;
  }
  return { createProxyHandler, toNodeListener };
}

/**
 * `(req, res) => void` for `http.createServer` or Express: builds a `Request` from the method,
 * the raw URL and the headers (repeated ones kept), with a signal that fires when the client goes
 * away (the proxy then stops waiting for `authorize`), calls `handler`, and writes the `Response`
 * back, streamed. The `Host` header is used only
 * to build the URL; the handler does not trust it for anything else.
 */
export function toNodeListener(handler) {
  if (typeof handler !== 'function') {
    throw new TypeError(`toNodeListener(handler) takes the function createProxyHandler() returned, got ${handler === null ? 'null' : typeof handler}.`);
  }
  return function nodeListener(req, res, next) {
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort(new Error('the client closed the connection'));
    });
    let request;
    try {
      request = toRequest(req, controller.signal);
    } catch {
      // A method the Fetch API forbids (CONNECT, TRACE) or a target no URL can be made of.
      const json = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        return send(res, 405, { ...json, allow: handler[ALLOW] ?? 'GET, HEAD' },
          JSON.stringify({ error: { message: 'Method not allowed: this proxy answers only GET and HEAD.', code: 'METHOD_NOT_ALLOWED' } }));
      }
      return send(res, 400, json, JSON.stringify({ error: { message: 'Bad request target.', code: 'VALIDATION_ERROR' } }));
    }
    Promise.resolve()
      .then(() => handler(request))
      .then((response) => write(res, response, req.method === 'HEAD'))
      .catch((e) => {
        if (typeof next === 'function') return next(e);
        if (!res.headersSent) send(res, 500, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
          JSON.stringify({ error: { message: 'Internal error in the proxy.', code: 'INTERNAL_ERROR' } }));
        else res.destroy();
      });
  };
}

const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

function toRequest(req, signal) {
  const host = typeof req.headers.host === 'string' && HOST.test(req.headers.host) ? req.headers.host : 'localhost';
  const scheme = req.socket && req.socket.encrypted ? 'https' : 'http';
  // The raw target, as sent (Express's `originalUrl`: `app.use(path, …)` strips its mount path
  // from `url`): `new URL` normalises it the way every Fetch runtime does. An absolute-form
  // target keeps only its path.
  const raw = typeof req.originalUrl === 'string' ? req.originalUrl : req.url;
  const target = typeof raw === 'string' && raw.startsWith('/') ? raw : new URL(raw ?? '/', 'http://x').pathname;
  const headers = new Headers();
  const pairs = req.rawHeaders ?? [];
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    try {
      headers.append(pairs[i], pairs[i + 1]);
    } catch {
      // A header value the Fetch API refuses is dropped; the handler reads only a few headers.
    }
  }
  // Appended, not resolved: a target starting `//` keeps its empty segment, as in every Fetch runtime.
  const request = new Request(new URL(`${scheme}://${host}${target}`), {
    method: req.method,
    headers,
    signal,
  });
  const address = req.socket && req.socket.remoteAddress;
  if (typeof address === 'string') Object.defineProperty(request, CLIENT_ADDRESS, { value: address });
  return request;
}

function send(res, status, headers, body) {
  res.writeHead(status, headers);
  res.end(body);
}

async function write(res, response, head) {
  const headers = {};
  response.headers.forEach((value, name) => {
    if (name === 'set-cookie') return;
    headers[name] = value;
  });
  const cookies = typeof response.headers.getSetCookie === 'function' ? response.headers.getSetCookie() : [];
  if (cookies.length) headers['set-cookie'] = cookies;
  res.writeHead(response.status, headers);
  if (head || !response.body) return res.end();
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (res.destroyed) break;
      // Backpressure; a connection closed meanwhile ends the wait too.
      if (!res.write(value)) await new Promise((resolve) => { res.once('drain', resolve); res.once('close', resolve); });
    }
    res.end();
  } catch {
    res.destroy();
  } finally {
    reader.releaseLock?.();
  }
}
