// What the Rust side needs to know about the JavaScript runtime it runs in.

/** @internal True in a page or a web worker: places where an API key is visible to visitors. */
export function isBrowser() {
  const g = globalThis;
  if (typeof g.window !== 'undefined' && typeof g.document !== 'undefined') return true;
  // Web workers have WorkerGlobalScope; so do Cloudflare Workers, which run on a server.
  if (typeof g.WorkerGlobalScope !== 'undefined' && typeof g.importScripts !== 'undefined') return true;
  if (typeof g.WorkerGlobalScope !== 'undefined') {
    const ua = g.navigator && typeof g.navigator.userAgent === 'string' ? g.navigator.userAgent : '';
    return !ua.startsWith('Cloudflare-Workers');
  }
  return false;
}

/** @internal A `POWERPOST_*` variable from `process.env`, or undefined (also where reading is denied, as in Deno without --allow-env). */
export function readEnv(name) {
  try {
    const p = globalThis.process;
    const value = p && p.env ? p.env[name] : undefined;
    return typeof value === 'string' && value !== '' ? value : undefined;
  } catch {
    return undefined;
  }
}

// Timers and abort links live in JavaScript: a Rust callback for each would be a
// wasm-bindgen closure (a FinalizationRegistry entry and two allocations) on every request.

/** Runs `onTimeout` after `ms` and `onAbort` when `signal` fires; the result undoes both. */
function watch(ms, onTimeout, signal, onAbort) {
  const timer = setTimeout(onTimeout, ms);
  if (signal) signal.addEventListener('abort', onAbort);
  return () => {
    clearTimeout(timer);
    if (signal) signal.removeEventListener('abort', onAbort);
  };
}

/**
 * @internal Starts one attempt: an AbortController that the timeout and the caller's signal
 * abort (always with an Error: gloo-net expects fetch to reject with one, and a caller's
 * `abort('reason')` must not reach it), and the GET Request that gloo-net sends. One call
 * instead of a dozen boundary crossings; endAttempt clears the timer and the listener.
 */
export function beginAttempt(url, headers, signal, ms) {
  const controller = new AbortController();
  const attempt = { request: undefined, timedOut: false, controller, stop: undefined };
  attempt.stop = watch(ms, () => {
    attempt.timedOut = true;
    controller.abort(new Error('timed out'));
  }, signal, () => controller.abort(new Error('aborted by the caller')));
  try {
    // Redirects are surfaced as errors rather than followed with the key attached.
    attempt.request = new Request(url, { method: 'GET', headers, signal: controller.signal, redirect: 'manual' });
  } catch (e) {
    endAttempt(attempt, false);
    throw e;
  }
  return attempt;
}
/** @internal `cancel`: the Rust future was dropped mid-request, so the request is aborted too. */
export function endAttempt(attempt, cancel) {
  attempt.stop();
  if (cancel) attempt.controller.abort(new Error('cancelled: the request future was dropped'));
}

/**
 * @internal A promise that resolves after `ms`, or rejects as soon as `signal` fires. Its
 * `cancel()` clears the timer and the listener (the Rust future calls it when dropped).
 */
export function sleep(ms, signal) {
  let cancel;
  const promise = new Promise((resolve, reject) => {
    cancel = watch(ms, () => {
      cancel();
      resolve();
    }, signal, () => {
      cancel();
      reject(new Error('aborted by the caller'));
    });
  });
  promise.cancel = cancel;
  return promise;
}
/** @internal */
export function cancelSleep(promise) {
  promise.cancel();
}

/**
 * @internal Runs `run` in a promise reaction: the executor's wake-up. (Node's queueMicrotask
 * creates an AsyncResource per call; a reaction on a settled promise does not.)
 */
const settled = Promise.resolve();
export function schedule(run) {
  settled.then(run);
}

/**
 * @internal Reports `promise`'s outcome as `callback(slot, ok, value)`: one long-lived callback
 * for every await, instead of two wasm-bindgen closures per awaited promise.
 */
export function settle(promise, slot, callback) {
  promise.then((value) => callback(slot, true, value), (error) => callback(slot, false, error));
}

/**
 * @internal The status and the response headers the client reads, in one call: a crossing per
 * header (and a string conversion per name) was a measurable part of a loopback request.
 * Lines: status, x-request-id, x-ratelimit-limit, -remaining, -reset, retry-after, location,
 * content-length.
 */
export function responseMeta(response) {
  const headers = response.headers;
  const status = response.status;
  const h = (name) => headers.get(name) ?? '';
  // Retry-After and Location only mean something on a failure or a redirect.
  const failed = status < 200 || status > 299;
  return [String(status), h('x-request-id'), h('x-ratelimit-limit'), h('x-ratelimit-remaining'),
    h('x-ratelimit-reset'), failed ? h('retry-after') : '', failed ? h('location') : '', h('content-length')].join('\n');
}

/** @internal A validated result as a plain object; one object shape for every result. */
export function makeAnalytics(id, postType, platform, status, hasMetrics, views, likes, comments, fetchedAt) {
  return {
    post_item_id: id, post_type: postType, platform, status,
    metrics: hasMetrics ? { views, likes, comments, fetched_at: fetchedAt } : null,
  };
}
