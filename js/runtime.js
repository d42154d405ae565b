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

/** @internal Timers for timeouts and retry waits, present in every runtime we support. */
export function startTimer(callback, ms) {
  return setTimeout(callback, ms);
}
export function stopTimer(handle) {
  clearTimeout(handle);
}

/**
 * @internal The response headers the client reads, in one call: a crossing per header (and a
 * string conversion per name) was a measurable part of a loopback request.
 * Lines: x-request-id, x-ratelimit-limit, -remaining, -reset, retry-after, location, content-length.
 */
export function responseMeta(headers) {
  const h = (name) => headers.get(name) ?? '';
  return [h('x-request-id'), h('x-ratelimit-limit'), h('x-ratelimit-remaining'), h('x-ratelimit-reset'),
    h('retry-after'), h('location'), h('content-length')].join('\n');
}
